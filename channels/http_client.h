/*
 * The shared HTTP client: libcurl's multi interface driven by a libevent
 * loop (curl's hiperfifo pattern). One client serves every HTTP driver on
 * an event base (web hooks, and the voice, sms and fax gateways), so they
 * share one connection cache, one DNS cache and one set of timers.
 *
 * A caller submits a request and gets a handle; the completion comes
 * exactly once, on the loop's thread, never from inside a call into this
 * module. Connections are kept alive and reused. A host (scheme and
 * authority of the URL) runs at most max_host_connections requests at a
 * time; the rest wait their turn in order, and their timeout runs while
 * they wait. Everything here runs on the loop's thread only.
 */
#ifndef POCALERT_HTTP_CLIENT_H
#define POCALERT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>

/* Response bytes kept for the completion when the request names no limit. */
#define HTTP_CLIENT_MAX_RESPONSE (64 * 1024)
/* Request headers a caller may add (not counting the client's own). */
#define HTTP_CLIENT_MAX_HEADERS 16

struct http_client;
struct http_request;

/* What went wrong below HTTP, so drivers need not know libcurl's codes. */
enum http_error {
	HTTP_ERR_NONE = 0,  /* the transfer completed */
	HTTP_ERR_CANCELLED, /* withdrawn by http_client_cancel() */
	HTTP_ERR_TIMEOUT,   /* the request's timeout passed */
	HTTP_ERR_CONNECT,   /* refused, reset, unreachable, TLS failure */
	HTTP_ERR_RESOLVE,   /* the host name did not resolve */
	HTTP_ERR_URL,	    /* malformed URL or a scheme other than http(s) */
	HTTP_ERR_OTHER,	    /* anything else libcurl reported */
	HTTP_ERR_REFUSED,   /* the address policy refused the destination */
};

/*
 * Where a request may connect, checked on the address the host name
 * resolved to, as the socket is opened (so DNS cannot swap a private
 * address in after a check of the name), and on the URL's host as
 * written (numeric forms other than dotted decimal, such as 2130706433,
 * 0x7f.1 or 0177.0.0.1, are refused: they exist to slip past checks).
 */
enum http_addr_policy {
	/*
	 * Public unicast addresses and loopback (this machine, which the
	 * operator runs, and the tests' servers). Refused: private
	 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
	 * (169.254/16 where cloud metadata lives, fe80::/10), shared
	 * 100.64/10, unspecified (0.0.0.0/8, ::), multicast, broadcast
	 * and reserved ranges, also when mapped into IPv6.
	 */
	HTTP_ADDR_PUBLIC = 0,
	/* Private and link-local allowed too (`allow_private = true`). */
	HTTP_ADDR_PRIVATE_OK,
};

/*
 * Checks one address (struct sockaddr_in or _in6) against policy.
 * Returns 0 when allowed, -EACCES with a reason in why otherwise.
 */
struct sockaddr;
int http_addr_check(const struct sockaddr *sa, enum http_addr_policy policy,
		    char *why, size_t whysz);

/*
 * Checks the host of url as written: a host that is a number in any form
 * other than four dotted decimal parts without leading zeros is refused
 * (-EACCES, reason in why); so is a literal address the policy refuses.
 * Names are left to the connect-time check. Returns 0 or -EACCES.
 */
int http_url_check(const char *url, enum http_addr_policy policy, char *why,
		   size_t whysz);

/*
 * Hides secret-looking text in s (NUL-terminated, changed in place):
 * the value after a word such as token, secret, password, key, auth,
 * signature or bearer, and any run of 24 or more characters of the
 * base64/hex alphabets, each become "[hidden]". For text from a far
 * side that goes to logs and the timeline (an internal service's error
 * page may echo credentials). The result is never longer than s.
 */
void http_redact_secrets(char *s);

/*
 * A request as the caller describes it; the client copies what it keeps.
 * method NULL means POST with a body and GET without. headers is a
 * NULL-terminated array of "Name: value" lines (at most
 * HTTP_CLIENT_MAX_HEADERS, no CR or LF), or NULL.
 */
struct http_request_spec {
	const char *method;	    /* "POST", "GET", "PUT", ... or NULL */
	const char *url;	    /* http:// or https:// only */
	const char *const *headers; /* see above; may be NULL */
	const void *body;	    /* request body, may be NULL */
	size_t body_len;
	long timeout_ms;      /* from submit to answer, all included; > 0 */
	const char *username; /* HTTP Basic auth when not NULL */
	const char *password;
	size_t max_response; /* body bytes kept; 0: HTTP_CLIENT_MAX_RESPONSE */
	enum http_addr_policy addr_policy; /* where it may connect */
};

/* How a request ended; valid only during the completion. */
struct http_response {
	enum http_error error; /* HTTP_ERR_NONE when a response came whole */
	int status;	       /* HTTP status code; 0 when no response came */
	const char *reason;    /* status line's reason phrase, "" when none */
	const char *body;      /* the first bytes of the body, NUL-terminated */
	size_t body_len;       /* bytes in body (up to the request's limit) */
	bool body_truncated;   /* the body was longer than the limit */
	int retry_after;       /* Retry-After in seconds from now, -1 if none */
	const char *error_text; /* libcurl's words on the error, "" if none */
	struct http_request *request; /* for http_response_header() */
};

/*
 * Completion of a request: called exactly once per successful
 * http_client_submit() unless the request is aborted, on the loop's
 * thread. The request handle is dead once this is called.
 */
typedef void (*http_done_fn)(void *arg, const struct http_response *res);

/*
 * The client of this event base, created on first use. Each call takes a
 * reference that the caller gives back with http_client_put(). The
 * connection limit per host is the largest any caller asked for
 * (max_host_connections > 0; 0 leaves it as it is). Every reference must
 * be given back before the base is freed. Returns NULL when out of memory
 * or when libcurl cannot start.
 */
struct http_client *http_client_get(struct event_base *base,
				    long max_host_connections);

/*
 * Gives back a reference from http_client_get(). The last one frees the
 * client and closes its connections; requests still outstanding then are
 * aborted without completion (a caller bug, logged). NULL is a no-op.
 */
void http_client_put(struct http_client *c);

/*
 * Starts a request: copies the spec's strings and body, so they need not
 * outlive the call. Returns 0 and sets *ret_req (may be NULL when the
 * caller never cancels) to a handle that stays valid until done is
 * called; or -EINVAL for a bad spec (no URL, too many headers, CR or LF in
 * a header) or -ENOMEM, and then done is never called.
 */
int http_client_submit(struct http_client *c,
		       const struct http_request_spec *spec, http_done_fn done,
		       void *arg, struct http_request **ret_req);

/*
 * Withdraws a request whose completion has not been called: its transfer
 * stops now, and its completion comes later on the loop with
 * HTTP_ERR_CANCELLED. Cancelling twice is harmless.
 */
void http_client_cancel(struct http_request *req);

/*
 * Drops a request whose completion has not been called, at once and
 * without calling it: for owners shutting down that report for
 * themselves.
 */
void http_client_abort(struct http_request *req);

/* Requests submitted whose completion has not been called. */
size_t http_client_in_flight(const struct http_client *c);

/*
 * The value of the response header name (case-insensitive; the last one
 * when repeated), or NULL. Only during the completion; the string belongs
 * to the client.
 */
const char *http_response_header(const struct http_response *res,
				 const char *name);

/*
 * Parses a Retry-After value: delay-seconds or an HTTP-date (IMF-fixdate,
 * RFC 850 or asctime form), against now. Returns the seconds to wait (0
 * for a date in the past) or -1 when the value is neither.
 */
int http_parse_retry_after(const char *value, time_t now);

#endif

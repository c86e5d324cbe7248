/*
 * The client behind trusted proxies: see client_addr.h. First the
 * network list (parse, match), then the two header syntaxes, then the
 * walk from the nearest hop outwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include "dispatcher/http/client_addr.h"

/* Parses addr into family and 16 bytes; v4-mapped IPv6 becomes IPv4. */
static bool ip_parse(const char *addr, int *family, uint8_t ip[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	memset(ip, 0, 16);
	if (inet_pton(AF_INET, addr, ip) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, addr, ip) != 1)
		return false;
	*family = AF_INET6;
	if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
		memmove(ip, ip + 12, 4);
		memset(ip + 4, 0, 12);
		*family = AF_INET;
	}
	return true;
}

int addr_nets_parse(const char *const *items, size_t n, struct addr_nets *out,
		    const char **ret_bad)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof(*out->v));
	if (out->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct addr_net *a = &out->v[i];
		char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
		long bits;

		if (snprintf(buf, sizeof(buf), "%s", items[i]) >=
		    (int)sizeof(buf))
			goto bad;
		slash = strchr(buf, '/');
		if (slash != NULL)
			*slash = '\0';
		if (!ip_parse(buf, &a->family, a->ip))
			goto bad;
		a->prefix = a->family == AF_INET ? 32 : 128;
		if (slash != NULL) {
			errno = 0;
			bits = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end != '\0' || bits < 0 ||
			    bits > a->prefix)
				goto bad;
			a->prefix = (int)bits;
		}
		out->n++;
		continue;
bad:
		if (ret_bad != NULL)
			*ret_bad = items[i];
		addr_nets_free(out);
		return -EINVAL;
	}
	return 0;
}

void addr_nets_free(struct addr_nets *nets)
{
	free(nets->v);
	nets->v = NULL;
	nets->n = 0;
}

bool addr_nets_match(const struct addr_nets *nets, const char *addr)
{
	uint8_t ip[16];
	int family;

	if (nets == NULL || addr == NULL || !ip_parse(addr, &family, ip))
		return false;
	for (size_t i = 0; i < nets->n; i++) {
		const struct addr_net *a = &nets->v[i];
		int full = a->prefix / 8, rest = a->prefix % 8;

		if (a->family != family || memcmp(a->ip, ip, (size_t)full))
			continue;
		if (rest == 0 || ((a->ip[full] ^ ip[full]) &
				  (0xff << (8 - rest)) & 0xff) == 0)
			return true;
	}
	return false;
}

/* Copies s[0..len) without surrounding blanks into out (size outlen). */
static void trimmed(const char *s, size_t len, char *out, size_t outlen)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= outlen)
		len = 0; /* too long to be an address: junk */
	memcpy(out, s, len);
	out[len] = '\0';
}

/*
 * The address in one Forwarded element ("for=192.0.2.1;proto=https",
 * "for=\"[2001:db8::1]:4711\""), in place in hop. Empty when none.
 */
static void forwarded_for(char *hop)
{
	char *p = hop, *v = NULL;

	while (p != NULL && *p != '\0') {
		char *semi = strchr(p, ';');

		if (semi != NULL)
			*semi = '\0';
		p += strspn(p, " \t");
		if (strncasecmp(p, "for=", 4) == 0)
			v = p + 4;
		p = semi ? semi + 1 : NULL;
	}
	if (v == NULL) {
		hop[0] = '\0';
		return;
	}
	if (*v == '"') {
		char *q = strchr(++v, '"');

		if (q != NULL)
			*q = '\0';
	}
	if (*v == '[') {
		char *q = strchr(++v, ']');

		if (q != NULL)
			*q = '\0';
	} else if (strchr(v, ':') == strrchr(v, ':') && strchr(v, ':')) {
		*strchr(v, ':') = '\0'; /* "192.0.2.1:4711" */
	}
	memmove(hop, v, strlen(v) + 1);
}

/* The address in one X-Forwarded-For hop: "[v6]:port", "v4:port" too. */
static void xff_hop(char *hop)
{
	if (hop[0] == '[') {
		char *q = strchr(hop, ']');

		if (q != NULL)
			*q = '\0';
		memmove(hop, hop + 1, strlen(hop));
	} else if (strchr(hop, ':') == strrchr(hop, ':') && strchr(hop, ':')) {
		*strchr(hop, ':') = '\0';
	}
}

/* Writes addr canonical into out; false when it is not an address. */
static bool canonical(const char *addr, char out[INET6_ADDRSTRLEN])
{
	uint8_t ip[16];
	int family;

	if (!ip_parse(addr, &family, ip))
		return false;
	return inet_ntop(family, ip, out, INET6_ADDRSTRLEN) != NULL;
}

void client_address(const struct addr_nets *trusted, const char *peer,
		    const char *forwarded, const char *xff,
		    char out[INET6_ADDRSTRLEN])
{
	const char *list = forwarded != NULL ? forwarded : xff;
	char cur[INET6_ADDRSTRLEN];
	size_t end;

	if (!canonical(peer ? peer : "", cur))
		snprintf(cur, sizeof(cur), "%s", "unknown");
	if (list == NULL || !addr_nets_match(trusted, cur))
		goto out;
	/* From the right: each hop was added by the one after it. */
	end = strlen(list);
	while (end > 0) {
		const char *start = list + end;
		char hop[INET6_ADDRSTRLEN + 64];

		while (start > list && start[-1] != ',')
			start--;
		trimmed(start, (size_t)(list + end - start), hop, sizeof(hop));
		if (forwarded != NULL)
			forwarded_for(hop);
		else
			xff_hop(hop);
		if (!canonical(hop, cur))
			break; /* cur stays the last hop we could read */
		if (!addr_nets_match(trusted, cur))
			break;
		end = (size_t)(start - list);
		if (end > 0)
			end--; /* the ',' */
	}
out:
	memcpy(out, cur, INET6_ADDRSTRLEN);
}

/*
 * Who the client of a request is, when a reverse proxy stands in front:
 * the socket's peer is then the proxy, and the client is named in the
 * Forwarded (RFC 7239) or X-Forwarded-For header the proxy adds. Those
 * headers are believed only from peers in the `trusted_proxies` list;
 * anyone else could write them. Pure functions, no HTTP: the listener
 * hands in the header values.
 */
#ifndef POCALERT_CLIENT_ADDR_H
#define POCALERT_CLIENT_ADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A list of networks: addresses with a prefix length. */
struct addr_nets {
	struct addr_net {
		int family;	/* AF_INET or AF_INET6 */
		uint8_t ip[16]; /* 4 bytes used for AF_INET */
		int prefix;	/* bits that must match */
	} * v;			/* owned */
	size_t n;
};

/*
 * Parses items ("192.0.2.1", "10.0.0.0/8", "2001:db8::/32") into out
 * (addr_nets_free()). Returns 0, -EINVAL with *ret_bad naming the item
 * that does not parse, or -ENOMEM.
 */
int addr_nets_parse(const char *const *items, size_t n, struct addr_nets *out,
		    const char **ret_bad);

void addr_nets_free(struct addr_nets *nets);

/* Whether addr (textual; v4-mapped IPv6 counts as IPv4) is in nets. */
bool addr_nets_match(const struct addr_nets *nets, const char *addr);

/*
 * The client's address: peer itself unless peer is in trusted; then the
 * hops the proxies recorded are read from the right (the nearest hop
 * first) and the first that is not a trusted proxy is the client.
 * forwarded (the Forwarded headers, joined with ",") is read when not
 * NULL, else xff (X-Forwarded-For, joined likewise). A hop that is not
 * an address ("unknown", junk) ends the walk at the hop before it, so a
 * client cannot hide behind junk. out gets a canonical address.
 */
void client_address(const struct addr_nets *trusted, const char *peer,
		    const char *forwarded, const char *xff,
		    char out[INET6_ADDRSTRLEN]);

#endif

/*
 * proxy.h - HAProxy's PROXY protocol (versions 1 and 2), read once before
 * the greeting under --proxy-protocol.
 *
 * proxy_parse() is pure: it looks at the octets read so far and says
 * whether they are a whole header (and which address it names), a
 * header still incomplete (and how many more octets certainly belong
 * to it), or no header at all (and why).  proxy_read() reads one header
 * from a descriptor, never an octet past it, within a time bound.
 * proxy_client() is what smtpd.c calls: it reads, logs, and puts the
 * header's source address in place of the launcher's.
 */
#ifndef PIPESMTPD_PROXY_H
#define PIPESMTPD_PROXY_H

#include <netinet/in.h>
#include <stddef.h>

#define PROXY_V1_MAX	107		/* a v1 line, CRLF included */
#define PROXY_V2_FIXED	16		/* signature, command, family, len */
#define PROXY_MAX	(PROXY_V2_FIXED + 65535) /* the longest header */
#define PROXY_TIMEOUT	5		/* seconds for the whole header (at
					   most --timeout) */

struct config;

enum proxy_status {
	PROXY_NEED,		/* incomplete: need more octets */
	PROXY_DONE,		/* a whole, valid header */
	PROXY_BAD		/* not a valid header: why says what */
};

/* What proxy_parse() found. */
struct proxy_header {
	size_t need;		/* NEED: octets certainly still header (>= 1) */
	size_t len;		/* DONE: octets of the header */
	int version;		/* DONE: 1 or 2 */
	int local;		/* DONE: no address given (v1 UNKNOWN, v2
				   LOCAL, an unspecified or unix family):
				   keep the launcher's */
	char addr[INET6_ADDRSTRLEN]; /* DONE, !local: source address,
				   canonical (inet_ntop) */
	unsigned port;		/* DONE, !local: source port */
	const char *why;	/* BAD (and proxy_read's -1): the reason */
};

enum proxy_status proxy_parse(const unsigned char *buf, size_t len,
    struct proxy_header *h);
int proxy_read(int fd, int timeout_ms, unsigned char *buf, size_t cap,
    struct proxy_header *h);
int proxy_client(struct config *cfg, int fd);

#endif

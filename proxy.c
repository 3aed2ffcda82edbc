/*
 * proxy.c - one HAProxy PROXY protocol header, version 1 or 2, read from
 * the balancer before the greeting (--proxy-protocol).
 *
 * Entry points: proxy_parse(), a pure parser over the octets read so
 * far; proxy_read(), which reads exactly one header from a descriptor;
 * proxy_client(), which smtpd.c calls once before session_run(): it
 * reads the header, logs it, and makes its source address the client
 * address for the whole session.
 *
 * The reader never consumes an octet past the header, so the first SMTP
 * command stays in the descriptor for the session: on a socket it peeks
 * and then takes exactly the header's octets; on anything else it reads
 * only octets that proxy_parse() says are certainly header.  Nothing
 * here replies to the client: a bad, late or missing header closes the
 * connection before any greeting.  No name is ever looked up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "deadline.h"
#include "log.h"
#include "proxy.h"

#define V1_MIN		15	/* "PROXY UNKNOWN\r\n": the shortest header */
#define V1_FIELD	46	/* longest v1 address field we look at, +1 */
#define V2_LOCAL	0x0	/* v2 commands */
#define V2_PROXY	0x1
#define V2_STREAM	0x1	/* v2 transport: SOCK_STREAM */
#define V2_INET		0x1	/* v2 families */
#define V2_INET6	0x2
#define PEEK_MAX	4096	/* one look at what the balancer sent */

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1_sig[] = "PROXY ";

/* address block size of each v2 family: unspec, inet, inet6, unix */
static const size_t v2_addr_size[4] = { 0, 12, 36, 216 };

/* bad - the verdict for octets that are no valid header */
static enum proxy_status
bad(struct proxy_header *h, const char *why)
{
	h->why = why;
	return PROXY_BAD;
}

/* more - the verdict for an incomplete header: n more octets are
 * certainly part of it, so a reader may take them without looking */
static enum proxy_status
more(struct proxy_header *h, size_t n)
{
	h->need = n;
	return PROXY_NEED;
}

/* v1_field - the next space-separated field of a v1 line into out: not
 * empty, shorter than cap; *p moves past it and one space after it */
static int
v1_field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *sp = memchr(s, ' ', (size_t)(end - s));
	size_t n = (size_t)((sp != NULL ? sp : end) - s);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = sp != NULL ? sp + 1 : end;
	return 0;
}

/* v1_port - a v1 port: decimal, 0 to 65535, no leading zero */
static int
v1_port(const char *s, unsigned *port)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* v1_addr - a v1 address of the family the line announced, in the
 * canonical form the specification requires (IPv4: four decimal numbers
 * without leading zeros), parsed into a (16 octets) */
static int
v1_addr(int af, const char *s, unsigned char *a)
{
	const char *ok = af == AF_INET ? "0123456789." :
	    "0123456789abcdefABCDEF:.";
	size_t i;

	if (s[strspn(s, ok)] != '\0')
		return -1;
	if (af == AF_INET)
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] == '0' && (i == 0 || s[i - 1] == '.') &&
			    s[i + 1] >= '0' && s[i + 1] <= '9')
				return -1;	/* octal-looking */
	return inet_pton(af, s, a) == 1 ? 0 : -1;
}

/* v1_tcp - the fields after "PROXY TCP4 " or "PROXY TCP6 ": source and
 * destination address, source and destination port, single spaces */
static enum proxy_status
v1_tcp(int af, const char *p, const char *end, struct proxy_header *h)
{
	char src[V1_FIELD], dst[V1_FIELD], sport[8], dport[8];
	unsigned char a[16], b[16];
	unsigned dp;

	if (memchr(p, '\0', (size_t)(end - p)) != NULL)
		return bad(h, "v1: NUL in the line");
	if (v1_field(&p, end, src, sizeof(src)) == -1 ||
	    v1_field(&p, end, dst, sizeof(dst)) == -1 ||
	    v1_field(&p, end, sport, sizeof(sport)) == -1 ||
	    v1_field(&p, end, dport, sizeof(dport)) == -1 || p != end ||
	    end[-1] == ' ')
		return bad(h, "v1: not four fields separated by single spaces");
	if (v1_addr(af, src, a) == -1)
		return bad(h, "v1: bad source address");
	if (v1_addr(af, dst, b) == -1)
		return bad(h, "v1: bad destination address");
	if (v1_port(sport, &h->port) == -1 || v1_port(dport, &dp) == -1)
		return bad(h, "v1: bad port");
	if (address_ip_text(af, a, h->addr, sizeof(h->addr)) == -1)
		return bad(h, "v1: bad source address");
	return PROXY_DONE;
}

/* v1_line - a complete v1 line (without its CRLF) */
static enum proxy_status
v1_line(const char *line, size_t n, struct proxy_header *h)
{
	const char *p = line + 6, *end = line + n;
	size_t rest = n - 6;

	if (rest >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (rest == 7 || p[7] == ' ')) {
		h->local = 1;	/* the rest of the line is to be ignored */
		return PROXY_DONE;
	}
	if (rest >= 5 && memcmp(p, "TCP4 ", 5) == 0)
		return v1_tcp(AF_INET, p + 5, end, h);
	if (rest >= 5 && memcmp(p, "TCP6 ", 5) == 0)
		return v1_tcp(AF_INET6, p + 5, end, h);
	return bad(h, "v1: protocol is not TCP4, TCP6 or UNKNOWN");
}

/* parse_v1 - "PROXY ... CRLF", at most 107 octets; only CRLF ends it */
static enum proxy_status
parse_v1(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	size_t look = len < PROXY_V1_MAX ? len : PROXY_V1_MAX, i;

	if (memcmp(buf, v1_sig, len < 6 ? len : 6) != 0)
		return bad(h, "not a PROXY header");
	for (i = 0; i < look; i++)
		if (buf[i] == '\r' || buf[i] == '\n')
			break;
	if (i == look) {	/* no line end yet: it needs CR and LF */
		if (len + 2 > PROXY_V1_MAX)
			return bad(h, "v1: no CRLF within 107 octets");
		return more(h, len < V1_MIN ? V1_MIN - len : 2);
	}
	if (buf[i] == '\n')
		return bad(h, "v1: bare LF");
	if (i + 2 > PROXY_V1_MAX)
		return bad(h, "v1: no CRLF within 107 octets");
	if (i + 1 == len)
		return more(h, 1);
	if (buf[i + 1] != '\n')
		return bad(h, "v1: bare CR");
	if (i < 6)
		return bad(h, "not a PROXY header");
	h->version = 1;
	h->len = i + 2;
	return v1_line((const char *)buf, i, h);
}

/* v2_tlvs_ok - the octets after the addresses are whole TLVs: a type,
 * a two-octet length, that many octets; none runs past the header */
static int
v2_tlvs_ok(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t vlen;

		if (n < 3)
			return 0;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > n - 3)
			return 0;
		p += 3 + vlen;
		n -= 3 + vlen;
	}
	return 1;
}

/* v2_address - a PROXY command's address block: the source address and
 * port for TCP over IPv4 or IPv6; any other valid combination (an
 * unspecified family or transport, UDP, unix sockets) carries no client
 * address we could use, so the launcher's stays (the specification's
 * fallback to UNSPEC) */
static enum proxy_status
v2_address(const unsigned char *blk, size_t n, unsigned fam,
    unsigned proto, struct proxy_header *h)
{
	size_t asize = v2_addr_size[fam], alen = fam == V2_INET ? 4 : 16;

	if (n < asize)
		return bad(h, "v2: address block shorter than its family");
	if (fam != 0 && !v2_tlvs_ok(blk + asize, n - asize))
		return bad(h, "v2: a TLV runs past the header");
	if ((fam != V2_INET && fam != V2_INET6) || proto != V2_STREAM) {
		h->local = 1;
		return PROXY_DONE;
	}
	h->port = (unsigned)blk[2 * alen] << 8 | blk[2 * alen + 1];
	if (address_ip_text(fam == V2_INET ? AF_INET : AF_INET6, blk, h->addr,
	    sizeof(h->addr)) == -1)
		return bad(h, "v2: bad source address");
	return PROXY_DONE;
}

/* parse_v2 - the 16-octet fixed part, then exactly its length more */
static enum proxy_status
parse_v2(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	unsigned cmd, fam, proto;
	size_t total;

	if (memcmp(buf, v2_sig, len < 12 ? len : 12) != 0)
		return bad(h, "not a PROXY header");
	if (len < PROXY_V2_FIXED)
		return more(h, PROXY_V2_FIXED - len);
	if (buf[12] >> 4 != 2)
		return bad(h, "v2: version is not 2");
	cmd = buf[12] & 0xf;
	fam = buf[13] >> 4;
	proto = buf[13] & 0xf;
	if (cmd != V2_LOCAL && cmd != V2_PROXY)
		return bad(h, "v2: command is neither LOCAL nor PROXY");
	if (cmd == V2_PROXY && (fam > 3 || proto > 2))
		return bad(h, "v2: unknown family or transport");
	total = PROXY_V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (len < total)
		return more(h, total - len);
	h->version = 2;
	h->len = total;
	if (cmd == V2_LOCAL) {	/* the balancer's own connection: its
				   address block, if any, is ignored */
		h->local = 1;
		return PROXY_DONE;
	}
	return v2_address(buf + PROXY_V2_FIXED, total - PROXY_V2_FIXED, fam,
	    proto, h);
}

/* proxy_parse - what the first len octets of a connection are: a whole
 * header (h->len octets of them, the rest is the client's), the start
 * of one (h->need more octets are certainly header), or no header */
enum proxy_status
proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	memset(h, 0, sizeof(*h));
	if (len > 0 && buf[0] == v2_sig[0])
		return parse_v2(buf, len, h);
	return parse_v1(buf, len, h);
}

/* take - read n octets that are known to be there (just peeked) */
static ssize_t
take(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* next_octets - more of the header after the have octets in buf: on a
 * socket, peek at what has arrived and take only what is header (all of
 * it while the header is incomplete, exactly its end once it is whole);
 * on a pipe or file, read only the octets proxy_parse() said are
 * certainly header.  Octets of a bad header are peeked, not taken: the
 * connection is closed anyway.  Returns octets added, 0 at EOF, -1. */
static ssize_t
next_octets(int fd, unsigned char *buf, size_t have, size_t cap,
    const struct proxy_header *h, int *notsock)
{
	size_t room = cap - have;
	struct proxy_header seen;
	ssize_t n = -1;

	if (!*notsock) {
		n = recv(fd, buf + have, room < PEEK_MAX ? room : PEEK_MAX,
		    MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			*notsock = 1;
	}
	if (*notsock)
		return read(fd, buf + have, h->need < room ? h->need : room);
	if (n <= 0)
		return n;
	switch (proxy_parse(buf, have + (size_t)n, &seen)) {
	case PROXY_BAD:
		return n;
	case PROXY_DONE:
		return take(fd, buf + have, seen.len - have);
	default:
		return take(fd, buf + have, (size_t)n);
	}
}

/* give_up - proxy_read's failure, with its reason */
static int
give_up(struct proxy_header *h, const char *why)
{
	h->why = why;
	return -1;
}

/* proxy_read - one header from fd into buf (cap octets, PROXY_MAX for
 * every legal header) within timeout_ms; 0 with h filled in (and
 * exactly h->len octets consumed), or -1 with h->why */
int
proxy_read(int fd, int timeout_ms, unsigned char *buf, size_t cap,
    struct proxy_header *h)
{
	long long end = deadline_in_ms(timeout_ms);
	size_t have = 0;
	int notsock = 0;

	for (;;) {
		enum proxy_status st = proxy_parse(buf, have, h);
		ssize_t n;
		int r;

		if (st == PROXY_DONE)
			return have == h->len ? 0 :
			    give_up(h, "read past the header (internal)");
		if (st == PROXY_BAD)
			return -1;
		if (have == cap)
			return give_up(h, "header longer than the buffer");
		r = deadline_poll(fd, POLLIN, end);
		if (r <= 0)
			return give_up(h, r == 0 ? "no complete header in time" :
			    "cannot wait for the header");
		n = next_octets(fd, buf, have, cap, h, &notsock);
		if (n == 0)
			return give_up(h, have == 0 ? "closed before any header" :
			    "closed inside the header");
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return give_up(h, "cannot read the header");
		if (n > 0)
			have += (size_t)n;
	}
}

/* proxy_client - under --proxy-protocol, before the greeting: read the
 * balancer's header and make its source address the client address
 * (and the host name unknown: the launcher's names the balancer).
 * UNKNOWN, LOCAL and address-less families keep the launcher's.  -1:
 * no valid header in time, logged; the caller closes without a word. */
int
proxy_client(struct config *cfg, int fd)
{
	static unsigned char buf[PROXY_MAX];
	static char addr[INET6_ADDRSTRLEN];
	unsigned secs = cfg->timeout < PROXY_TIMEOUT ? cfg->timeout :
	    PROXY_TIMEOUT;
	struct proxy_header h;

	if (proxy_read(fd, (int)secs * 1000, buf, sizeof(buf), &h) == -1) {
		log_warn("proxy from %s[%s]: refused: %s; closed without a "
		    "greeting", cfg->client_host, cfg->client_ip, h.why);
		return -1;
	}
	if (h.local) {
		log_info("proxy v%d from %s[%s]: no client address, the "
		    "launcher's is kept", h.version, cfg->client_host,
		    cfg->client_ip);
		return 0;
	}
	log_info("proxy v%d from %s[%s]: client [%s]:%u", h.version,
	    cfg->client_host, cfg->client_ip, h.addr, h.port);
	memcpy(addr, h.addr, sizeof(addr));
	cfg->client_ip = addr;
	cfg->client_host = "unknown";
	return 0;
}

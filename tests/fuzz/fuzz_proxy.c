/*
 * fuzz_proxy.c - libFuzzer target: the PROXY protocol header.
 *
 * Each input is parsed by proxy_parse() whole and at prefixes.  A whole
 * header (DONE) lies within the input, ends in CRLF within 107 octets
 * for v1, names a canonical address (inet_pton then inet_ntop gives it
 * back) or none, and parses the same from its own octets alone; every
 * shorter prefix asks for more (NEED) without asking past the header's
 * end.  A verdict of DONE or BAD at a prefix never changes with more
 * octets.  Small inputs also go through proxy_read() on a socketpair
 * and on a pipe: it agrees with the parser and leaves exactly the
 * octets after the header unread.  Any failed check aborts, which
 * libFuzzer reports.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"
#include "tests/fuzz/fuzz.h"

#define READ_MAX	2048	/* inputs this small also go to the reader */

static unsigned char rbuf[PROXY_MAX];

/* canonical - addr is what inet_ntop writes for it */
static int
canonical(const char *addr)
{
	unsigned char a[16];
	char back[INET6_ADDRSTRLEN];
	int af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, addr, a) != 1 ||
	    inet_ntop(af, a, back, sizeof(back)) == NULL)
		return 0;
	if (af == AF_INET6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)
	    == 0)
		return 0;	/* mapped addresses are given as IPv4 */
	return strcmp(addr, back) == 0;
}

/* check_done - a whole header */
static void
check_done(const uint8_t *data, size_t size, const struct proxy_header *h)
{
	struct proxy_header again;
	size_t k, step;

	FUZZ_CHECK(h->len > 0 && h->len <= size && h->len <= PROXY_MAX);
	FUZZ_CHECK(h->version == 1 || h->version == 2);
	if (h->version == 1) {
		FUZZ_CHECK(h->len <= PROXY_V1_MAX);
		FUZZ_CHECK(memcmp(data, "PROXY ", 6) == 0);
		FUZZ_CHECK(memcmp(data + h->len - 2, "\r\n", 2) == 0);
		FUZZ_CHECK(memchr(data, '\n', h->len - 1) == NULL);
	} else {
		FUZZ_CHECK(h->len >= PROXY_V2_FIXED);
	}
	if (h->local)
		FUZZ_CHECK(h->addr[0] == '\0');
	else
		FUZZ_CHECK(canonical(h->addr) && h->port <= 65535);
	FUZZ_CHECK(proxy_parse(data, h->len, &again) == PROXY_DONE);
	FUZZ_CHECK(again.len == h->len && again.local == h->local &&
	    strcmp(again.addr, h->addr) == 0 && again.port == h->port);
	step = h->len > 512 ? h->len / 97 + 1 : 1;
	for (k = 0; k < h->len; k += step) {
		FUZZ_CHECK(proxy_parse(data, k, &again) == PROXY_NEED);
		FUZZ_CHECK(again.need >= 1 && k + again.need <= h->len);
	}
}

/* check_prefixes - DONE and BAD at a prefix stay so at the whole */
static void
check_prefixes(const uint8_t *data, size_t size, enum proxy_status st,
    const struct proxy_header *h)
{
	size_t cut[2] = { size / 2, size > 0 ? size - 1 : 0 }, i;

	for (i = 0; i < 2; i++) {
		struct proxy_header p;
		enum proxy_status ps = proxy_parse(data, cut[i], &p);

		if (ps == PROXY_BAD)
			FUZZ_CHECK(st == PROXY_BAD);
		if (ps == PROXY_DONE)
			FUZZ_CHECK(st == PROXY_DONE && h->len == p.len);
		if (ps == PROXY_NEED)
			FUZZ_CHECK(p.need >= 1);
	}
}

/* check_reader - proxy_read over a socketpair (sock) or a pipe agrees
 * with the parser and takes exactly the header */
static void
check_reader(const uint8_t *data, size_t size, enum proxy_status st,
    const struct proxy_header *h, int sock)
{
	struct proxy_header r;
	char left[READ_MAX];
	size_t have = 0;
	ssize_t n;
	int fds[2], ok;

	FUZZ_CHECK((sock ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0, fds) : pipe2(fds, O_CLOEXEC)) == 0);
	FUZZ_CHECK(size == 0 || write(fds[1], data, size) == (ssize_t)size);
	FUZZ_CHECK(close(fds[1]) == 0);
	ok = proxy_read(fds[0], 1000, rbuf, sizeof(rbuf), &r) == 0;
	FUZZ_CHECK(ok == (st == PROXY_DONE));
	if (ok) {
		FUZZ_CHECK(r.len == h->len && strcmp(r.addr, h->addr) == 0);
		while ((n = read(fds[0], left + have, sizeof(left) - have)) > 0)
			have += (size_t)n;
		FUZZ_CHECK(have == size - h->len);
		FUZZ_CHECK(memcmp(left, data + h->len, have) == 0);
	}
	FUZZ_CHECK(close(fds[0]) == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h;
	enum proxy_status st;

	if (size > PROXY_MAX + 64)
		return 0;
	st = proxy_parse(data, size, &h);
	if (st == PROXY_DONE)
		check_done(data, size, &h);
	else if (st == PROXY_NEED)
		FUZZ_CHECK(h.need >= 1 && size + h.need <= PROXY_MAX);
	else
		FUZZ_CHECK(h.why != NULL);
	check_prefixes(data, size, st, &h);
	if (size <= READ_MAX) {
		check_reader(data, size, st, &h, 1);
		check_reader(data, size, st, &h, 0);
	}
	return 0;
}

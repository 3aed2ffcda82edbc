/*
 * unit_proxy.c - proxy.h: the PROXY protocol parser, the reader and the
 * identity it hands on.
 *
 * The parser: every valid v1 and v2 form gives its header length and
 * canonical source address (or "keep the launcher's"); every malformed
 * field is refused; and for every valid header, every prefix of it asks
 * for more octets without ever asking past the header's end (which is
 * what lets the reader never consume a client octet).  The reader, over
 * a socketpair and a pipe, whole and an octet at a time: it leaves the
 * first SMTP command in the descriptor, and gives up on a late,
 * truncated or missing header.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "proxy.h"
#include "unit.h"

#define SIG	"\r\n\r\n\0\r\nQUIT\n"	/* v2 signature, 12 octets */
#define EHLO	"EHLO client.example\r\n"

static unsigned char rbuf[PROXY_MAX];

/* v2 - a v2 header into out: command byte, family byte, the address
 * block (n octets); returns its length */
static size_t
v2(unsigned char *out, int vc, int fam, const void *blk, size_t n)
{
	memcpy(out, SIG, 12);
	out[12] = (unsigned char)vc;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(n >> 8);
	out[15] = (unsigned char)(n & 0xff);
	if (n > 0)
		memcpy(out + 16, blk, n);
	return 16 + n;
}

/* inet4 - the v2 address block of TCP over IPv4: 192.0.2.7:40000 to
 * 198.51.100.1:25, then extra (TLV) octets */
static size_t
inet4(unsigned char *blk, const void *extra, size_t n)
{
	static const unsigned char a[12] = { 192, 0, 2, 7, 198, 51, 100, 1,
	    0x9c, 0x40, 0, 25 };

	memcpy(blk, a, 12);
	if (n > 0)
		memcpy(blk + 12, extra, n);
	return 12 + n;
}

/* inet6 - the v2 address block of TCP over IPv6 from src, port 2525 */
static size_t
inet6(unsigned char *blk, const unsigned char src[16])
{
	memset(blk, 0, 36);
	memcpy(blk, src, 16);
	blk[31] = 1;		/* destination ::1 */
	blk[32] = 0x09;
	blk[33] = 0xdd;		/* source port 2525 */
	blk[35] = 25;
	return 36;
}

/* prefixes_safe - every proper prefix of a valid header of total octets
 * asks for more, and never for an octet past the header */
static void
prefixes_safe(const unsigned char *buf, size_t total)
{
	struct proxy_header h;
	size_t k;

	for (k = 0; k < total; k++) {
		ck_assert_msg(proxy_parse(buf, k, &h) == PROXY_NEED,
		    "prefix %zu of %zu not NEED (%s)", k, total,
		    h.why ? h.why : "");
		ck_assert_uint_ge(h.need, 1);
		ck_assert_msg(k + h.need <= total, "prefix %zu asks %zu of "
		    "%zu", k, h.need, total);
	}
}

/* done - a valid header followed by a command: DONE, its own length */
static struct proxy_header
done(const void *hdr, size_t len)
{
	static unsigned char buf[PROXY_MAX + 64];
	struct proxy_header h;

	ck_assert_uint_le(len, PROXY_MAX);
	memcpy(buf, hdr, len);
	memcpy(buf + len, EHLO, strlen(EHLO));
	ck_assert_msg(proxy_parse(buf, len + strlen(EHLO), &h) == PROXY_DONE,
	    "not DONE: %s", h.why ? h.why : "");
	ck_assert_uint_eq(h.len, len);
	prefixes_safe(buf, len);
	return h;
}

/* refused - a malformed header, whole or with more after it: BAD */
static void
refused(const void *hdr, size_t len, const char *why)
{
	struct proxy_header h;

	ck_assert_msg(proxy_parse(hdr, len, &h) == PROXY_BAD,
	    "accepted: %.*s", (int)len, (const char *)hdr);
	ck_assert_ptr_nonnull(h.why);
	ck_assert_msg(strstr(h.why, why) != NULL, "reason '%s', want '%s'",
	    h.why, why);
}

START_TEST(test_v1_tcp4)
{
	const char *l = "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n";
	struct proxy_header h = done(l, strlen(l));

	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.local, 0);
	ck_assert_str_eq(h.addr, "192.0.2.7");
	ck_assert_uint_eq(h.port, 51234);
	l = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	h = done(l, strlen(l));
	ck_assert_str_eq(h.addr, "255.255.255.255");
	ck_assert_uint_eq(h.port, 65535);
	l = "PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n";
	h = done(l, strlen(l));
	ck_assert_str_eq(h.addr, "0.0.0.0");
	ck_assert_uint_eq(h.port, 0);
}
END_TEST

START_TEST(test_v1_tcp6)
{
	const char *l = "PROXY TCP6 2001:DB8:0:0:0:0:0:0007 ::1 2525 25\r\n";
	struct proxy_header h = done(l, strlen(l));

	ck_assert_int_eq(h.local, 0);
	ck_assert_str_eq(h.addr, "2001:db8::7");	/* canonical */
	ck_assert_uint_eq(h.port, 2525);
	l = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	ck_assert_uint_eq(strlen(l), 104);
	h = done(l, strlen(l));
	ck_assert_str_eq(h.addr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* an IPv4-mapped source is the IPv4 client it is */
	l = "PROXY TCP6 ::ffff:192.0.2.7 ::1 1 25\r\n";
	h = done(l, strlen(l));
	ck_assert_str_eq(h.addr, "192.0.2.7");
}
END_TEST

START_TEST(test_v1_unknown)
{
	char l[128];
	struct proxy_header h = done("PROXY UNKNOWN\r\n", 15);

	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.local, 1);
	ck_assert_str_eq(h.addr, "");
	/* the rest of an UNKNOWN line is ignored, up to 107 octets */
	h = done("PROXY UNKNOWN whatever 1 2\r\n", 28);
	ck_assert_int_eq(h.local, 1);
	memset(l, 'x', sizeof(l));
	memcpy(l, "PROXY UNKNOWN ", 14);
	memcpy(l + 105, "\r\n", 2);
	h = done(l, 107);
	ck_assert_int_eq(h.local, 1);
	memcpy(l + 105, "xx\r\n", 4);	/* 108 octets: too long */
	refused(l, 109, "107");
	refused(l, 108, "107");
	refused(l, 107, "107");		/* no CRLF where it must be */
}
END_TEST

START_TEST(test_v1_malformed)
{
	static const struct { const char *in, *why; } t[] = {
		{ "EHLO client.example\r\n", "not a PROXY" },
		{ "proxy TCP4 192.0.2.7 198.51.100.1 1 25\r\n", "not a PROXY" },
		{ "PROXY\r\n", "not a PROXY" },
		{ "PROXY  TCP4 192.0.2.7 198.51.100.1 1 25\r\n", "protocol" },
		{ "PROXY TCP5 192.0.2.7 198.51.100.1 1 25\r\n", "protocol" },
		{ "PROXY tcp4 192.0.2.7 198.51.100.1 1 25\r\n", "protocol" },
		{ "PROXY UNKNOWNX\r\n", "protocol" },
		{ "PROXY TCP4\r\n", "protocol" },
		{ "PROXY \r\n", "protocol" },
		{ "PROXY TCP4 192.0.2.7  198.51.100.1 1 25\r\n", "single" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 25 \r\n", "single" },
		{ "PROXY TCP4  192.0.2.7 198.51.100.1 1 25\r\n", "single" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n", "single" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 25 9\r\n", "single" },
		{ "PROXY TCP4 192.0.2.7\t198.51.100.1 1 25\r\n", "single" },
		{ "PROXY TCP4 192.0.2.07 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 010.0.2.7 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 192.0.2 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 192.0.2.256 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 192.0.2.7. 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 ::1 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP4 host.example 198.51.100.1 1 25\r\n", "source" },
		{ "PROXY TCP6 192.0.2.7 ::1 1 25\r\n", "source" },
		{ "PROXY TCP6 2001:db8::7::1 ::1 1 25\r\n", "source" },
		{ "PROXY TCP6 2001:db8::7%eth0 ::1 1 25\r\n", "source" },
		{ "PROXY TCP6 [2001:db8::7] ::1 1 25\r\n", "source" },
		{ "PROXY TCP4 192.0.2.7 198.51.100 1 25\r\n", "destination" },
		{ "PROXY TCP6 ::1 192.0.2.7 1 25\r\n", "destination" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 99999\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 025 25\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 00\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 +1 25\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1a 25\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 123456\r\n", "port" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 25\n", "bare LF" },
		{ "PROXY TCP4 192.0.2.7 198.51.100.1 1 25\rX\n", "bare CR" },
		{ "PROXY TCP4 192.0.2.7\n198.51.100.1 1 25\r\n", "bare LF" },
		{ "PROXY UNKNOWN\n", "bare LF" },
		{ "PROXY UNKNOWN\r\r\n", "bare CR" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		refused(t[i].in, strlen(t[i].in), t[i].why);
	/* a NUL inside a field never cuts it short */
#define NUL_LINE(lit) refused(lit, sizeof(lit) - 1, "NUL")
	NUL_LINE("PROXY TCP4 192.0.2.7\0 198.51.100.1 1 25\r\n");
	NUL_LINE("PROXY TCP4 1.2.3.4\0x 198.51.100.1 1 25\r\n");
	NUL_LINE("PROXY TCP4 1.2.3.4 5.6.7.8 1\0 25\r\n");
#undef NUL_LINE
}
END_TEST

START_TEST(test_v1_too_long)
{
	char l[200];

	/* 105 octets with no line end yet: CRLF could still fit */
	memset(l, '1', sizeof(l));
	memcpy(l, "PROXY TCP6 ", 11);
	{
		struct proxy_header h;

		ck_assert_int_eq(proxy_parse((unsigned char *)l, 105, &h),
		    PROXY_NEED);
		ck_assert_uint_eq(h.need, 2);
	}
	refused(l, 106, "107");		/* CRLF no longer fits */
	refused(l, 200, "107");
	memcpy(l + 106, "\r\n", 2);	/* the line end as octets 107-108 */
	refused(l, 108, "107");
	refused(l, 107, "107");
}
END_TEST

START_TEST(test_v2_inet)
{
	unsigned char hdr[256], blk[64];
	struct proxy_header h;
	size_t n;

	n = v2(hdr, 0x21, 0x11, blk, inet4(blk, NULL, 0));
	h = done(hdr, n);
	ck_assert_uint_eq(n, 28);
	ck_assert_int_eq(h.version, 2);
	ck_assert_int_eq(h.local, 0);
	ck_assert_str_eq(h.addr, "192.0.2.7");
	ck_assert_uint_eq(h.port, 40000);
}
END_TEST

START_TEST(test_v2_inet6)
{
	static const unsigned char doc[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
	static const unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff, 192, 0, 2, 9 };
	unsigned char hdr[256], blk[64];
	struct proxy_header h;
	size_t n;

	n = v2(hdr, 0x21, 0x21, blk, inet6(blk, doc));
	h = done(hdr, n);
	ck_assert_uint_eq(n, 52);
	ck_assert_str_eq(h.addr, "2001:db8::7");
	ck_assert_uint_eq(h.port, 2525);
	h = done(hdr, v2(hdr, 0x21, 0x21, blk, inet6(blk, mapped)));
	ck_assert_str_eq(h.addr, "192.0.2.9");
}
END_TEST

START_TEST(test_v2_local_and_unspec)
{
	unsigned char hdr[512], blk[300];
	struct proxy_header h;

	/* LOCAL: a health check; the launcher's address stays */
	h = done(hdr, v2(hdr, 0x20, 0x00, NULL, 0));
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(h.version, 2);
	ck_assert_uint_eq(h.len, 16);
	/* LOCAL ignores the family and any block, but skips all of it */
	memset(blk, 0xee, sizeof(blk));
	h = done(hdr, v2(hdr, 0x20, 0xff, blk, 40));
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 56);
	h = done(hdr, v2(hdr, 0x20, 0x11, blk, inet4(blk, NULL, 0)));
	ck_assert_int_eq(h.local, 1);
	ck_assert_str_eq(h.addr, "");
	/* PROXY with an unspecified family or transport, UDP, or a unix
	 * socket: no address to use; the launcher's stays */
	h = done(hdr, v2(hdr, 0x21, 0x00, blk, 7));
	ck_assert_int_eq(h.local, 1);
	h = done(hdr, v2(hdr, 0x21, 0x10, blk, inet4(blk, NULL, 0)));
	ck_assert_int_eq(h.local, 1);
	h = done(hdr, v2(hdr, 0x21, 0x12, blk, inet4(blk, NULL, 0)));
	ck_assert_int_eq(h.local, 1);
	memset(blk, 0, sizeof(blk));
	h = done(hdr, v2(hdr, 0x21, 0x31, blk, 216));
	ck_assert_int_eq(h.local, 1);
	h = done(hdr, v2(hdr, 0x21, 0x32, blk, 216));
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(test_v2_tlvs_skipped)
{
	/* ALPN "smtp", an empty NOOP, an authority of 11 octets */
	static const unsigned char tlv[] = { 0x01, 0, 4, 's', 'm', 't', 'p',
	    0x04, 0, 0, 0x02, 0, 11, 'm', 'x', '.', 'e', 'x', 'a', 'm', 'p',
	    'l', 'e', '.' };
	static unsigned char hdr[PROXY_MAX], blk[PROXY_MAX];
	struct proxy_header h;
	size_t n;

	n = v2(hdr, 0x21, 0x11, blk, inet4(blk, tlv, sizeof(tlv)));
	h = done(hdr, n);
	ck_assert_uint_eq(h.len, 16 + 12 + sizeof(tlv));
	ck_assert_str_eq(h.addr, "192.0.2.7");
	/* the longest header there is: one NOOP TLV fills the length */
	memset(blk, 0, sizeof(blk));
	inet4(blk, NULL, 0);
	blk[12] = 0x04;
	blk[13] = (65535 - 15) >> 8;
	blk[14] = (65535 - 15) & 0xff;
	n = v2(hdr, 0x21, 0x11, blk, 65535);
	ck_assert_uint_eq(n, PROXY_MAX);
	ck_assert_int_eq(proxy_parse(hdr, n, &h), PROXY_DONE);
	ck_assert_uint_eq(h.len, PROXY_MAX);
	ck_assert_str_eq(h.addr, "192.0.2.7");
}
END_TEST

START_TEST(test_v2_malformed)
{
	static const unsigned char lie[] = { 0x01, 0, 9, 's', 'm', 't', 'p' };
	static const unsigned char stub[] = { 0x04, 0 };
	unsigned char hdr[512], blk[300];
	size_t n;

	n = v2(hdr, 0x11, 0x11, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "version");
	n = v2(hdr, 0x31, 0x11, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "version");
	n = v2(hdr, 0x22, 0x11, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "command");
	n = v2(hdr, 0x2f, 0x11, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "command");
	n = v2(hdr, 0x21, 0x41, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "family");
	n = v2(hdr, 0x21, 0x13, blk, inet4(blk, NULL, 0));
	refused(hdr, n, "family");
	/* address blocks shorter than the family says */
	refused(hdr, v2(hdr, 0x21, 0x11, blk, 11), "shorter");
	refused(hdr, v2(hdr, 0x21, 0x21, blk, 35), "shorter");
	refused(hdr, v2(hdr, 0x21, 0x31, blk, 215), "shorter");
	/* TLVs whose lengths lie */
	refused(hdr, v2(hdr, 0x21, 0x11, blk, inet4(blk, lie, sizeof(lie))),
	    "TLV");
	refused(hdr, v2(hdr, 0x21, 0x11, blk, inet4(blk, stub, 2)), "TLV");
	/* a wrong signature octet, anywhere in the twelve */
	for (n = 0; n < 12; n++) {
		v2(hdr, 0x21, 0x11, blk, inet4(blk, NULL, 0));
		hdr[n] ^= 0x20;
		refused(hdr, 28, "not a PROXY");
		refused(hdr, n + 1, "not a PROXY");	/* as soon as seen */
	}
}
END_TEST

START_TEST(test_v2_truncated)
{
	unsigned char hdr[512], blk[64];
	struct proxy_header h;
	size_t n;

	/* a length that promises more than came: the parser waits for it,
	 * asking exactly the rest (the reader's clock ends the wait) */
	n = v2(hdr, 0x21, 0x11, blk, inet4(blk, NULL, 0));
	hdr[15] = 40;
	ck_assert_int_eq(proxy_parse(hdr, n, &h), PROXY_NEED);
	ck_assert_uint_eq(h.need, 16 + 40 - n);
	hdr[14] = 0xff;
	hdr[15] = 0xff;
	ck_assert_int_eq(proxy_parse(hdr, n, &h), PROXY_NEED);
	ck_assert_uint_eq(h.need, PROXY_MAX - n);
	/* nothing yet: the shortest header's worth is safe to read */
	ck_assert_int_eq(proxy_parse(hdr, 0, &h), PROXY_NEED);
	ck_assert_uint_eq(h.need, 15);
}
END_TEST

/* pair - a connected socketpair or a pipe: [0] to read, [1] to write */
static void
pair(int fds[2], int sock)
{
	if (sock)
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0, fds), 0);
	else
		ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
}

/* put - all of s into fd */
static void
put(int fd, const void *s, size_t n)
{
	ck_assert_int_eq(write(fd, s, n), (ssize_t)n);
}

/* puts_fd - the text s into fd */
static void
puts_fd(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

/* rest - what is left in fd after the header (the writer has closed) */
static char *
rest(int fd)
{
	static char buf[256];
	size_t have = 0;
	ssize_t n;

	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return buf;
}

/* trickle - a child writes s one octet every ms milliseconds, then
 * closes; returns its pid */
static pid_t
trickle(int fd, const void *s, size_t n, long ms)
{
	pid_t pid = fork();
	size_t i;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	for (i = 0; i < n; i++) {
		struct timespec t = { 0, ms * 1000000L };

		if (write(fd, (const char *)s + i, 1) != 1)
			_exit(1);
		nanosleep(&t, NULL);
	}
	_exit(0);
}

/* read_leaves_rest - header then EHLO: the reader takes the header and
 * leaves the command, whole or trickled, on a socket or a pipe */
static void
read_leaves_rest(const void *hdr, size_t n, const char *addr, int sock,
    int slow)
{
	unsigned char in[256];
	struct proxy_header h;
	int fds[2], status;
	pid_t pid = -1;

	memcpy(in, hdr, n);
	memcpy(in + n, EHLO, strlen(EHLO));
	pair(fds, sock);
	if (slow) {
		pid = trickle(fds[1], in, n + strlen(EHLO), 1);
	} else {
		put(fds[1], in, n + strlen(EHLO));
	}
	ck_assert_int_eq(close(fds[1]), 0);
	ck_assert_msg(proxy_read(fds[0], 5000, rbuf, sizeof(rbuf), &h) == 0,
	    "proxy_read: %s", h.why);
	ck_assert_str_eq(h.addr, addr);
	ck_assert_uint_eq(h.len, n);
	ck_assert_str_eq(rest(fds[0]), EHLO);
	close(fds[0]);
	if (pid > 0) {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(status, 0);
	}
}

START_TEST(test_read_exactly_the_header)
{
	static const char *v1 = "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n";
	unsigned char hdr[256], blk[64];
	size_t n = v2(hdr, 0x21, 0x11, blk, inet4(blk, "\x04\0\x02zz", 5));
	int sock, slow;

	for (sock = 0; sock < 2; sock++)
		for (slow = 0; slow < 2; slow++) {
			read_leaves_rest(v1, strlen(v1), "192.0.2.7", sock,
			    slow);
			read_leaves_rest(hdr, n, "192.0.2.7", sock, slow);
			read_leaves_rest("PROXY UNKNOWN\r\n", 15, "", sock,
			    slow);
		}
}
END_TEST

/* read_fails - proxy_read on what fds[0] holds: -1 with why */
static void
read_fails(int fd, int ms, const char *why)
{
	struct proxy_header h;

	ck_assert_int_eq(proxy_read(fd, ms, rbuf, sizeof(rbuf), &h), -1);
	ck_assert_msg(strstr(h.why, why) != NULL, "reason '%s', want '%s'",
	    h.why, why);
}

START_TEST(test_read_gives_up)
{
	struct timespec t0, t1;
	int fds[2], sock;
	long ms;

	for (sock = 0; sock < 2; sock++) {
		/* late: half a header, then nothing */
		pair(fds, sock);
		put(fds[1], "PROXY TCP4 192.0.2.7", 20);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		read_fails(fds[0], 300, "in time");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ck_assert_int_ge(ms, 290);
		ck_assert_int_lt(ms, 3000);
		close(fds[1]);
		close(fds[0]);
		/* truncated: the balancer went away inside it */
		pair(fds, sock);
		put(fds[1], "\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x0c\xc0", 17);
		close(fds[1]);
		read_fails(fds[0], 1000, "closed inside");
		close(fds[0]);
		/* nothing at all */
		pair(fds, sock);
		close(fds[1]);
		read_fails(fds[0], 1000, "closed before");
		close(fds[0]);
		/* a client that talks SMTP straight away */
		pair(fds, sock);
		put(fds[1], EHLO, strlen(EHLO));
		read_fails(fds[0], 1000, "not a PROXY");
		close(fds[1]);
		close(fds[0]);
	}
}
END_TEST

START_TEST(test_client_identity)
{
	struct config cfg;
	int fds[2];

	config_defaults(&cfg);
	cfg.client_ip = "127.0.0.1";
	cfg.client_host = "balancer.example";
	pair(fds, 1);
	puts_fd(fds[1], "PROXY TCP6 2001:db8::7 ::1 1 25\r\n");
	ck_assert_int_eq(proxy_client(&cfg, fds[0]), 0);
	ck_assert_str_eq(cfg.client_ip, "2001:db8::7");
	ck_assert_str_eq(cfg.client_host, "unknown");
	puts_fd(fds[1], "PROXY UNKNOWN\r\n");
	cfg.client_ip = "127.0.0.1";
	cfg.client_host = "balancer.example";
	ck_assert_int_eq(proxy_client(&cfg, fds[0]), 0);
	ck_assert_str_eq(cfg.client_ip, "127.0.0.1");
	ck_assert_str_eq(cfg.client_host, "balancer.example");
	puts_fd(fds[1], "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n");
	ck_assert_int_eq(proxy_client(&cfg, fds[0]), -1);
	ck_assert_str_eq(cfg.client_ip, "127.0.0.1");
	close(fds[0]);
	close(fds[1]);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *p = tcase_create("parse"), *r = tcase_create("read");

	tcase_add_test(p, test_v1_tcp4);
	tcase_add_test(p, test_v1_tcp6);
	tcase_add_test(p, test_v1_unknown);
	tcase_add_test(p, test_v1_malformed);
	tcase_add_test(p, test_v1_too_long);
	tcase_add_test(p, test_v2_inet);
	tcase_add_test(p, test_v2_inet6);
	tcase_add_test(p, test_v2_local_and_unspec);
	tcase_add_test(p, test_v2_tlvs_skipped);
	tcase_add_test(p, test_v2_malformed);
	tcase_add_test(p, test_v2_truncated);
	tcase_add_test(r, test_read_exactly_the_header);
	tcase_add_test(r, test_read_gives_up);
	tcase_add_test(r, test_client_identity);
	tcase_set_timeout(r, 30);
	suite_add_tcase(s, p);
	suite_add_tcase(s, r);
	return s;
}

/*
 * e2e_proxy.c - --proxy-protocol (pipesmtpd(8), OPTIONS and CLIENT
 * IDENTITY): the PROXY header read before the greeting.
 *
 * The launcher's address (REMOTE_ADDR=127.0.0.1) stands for the
 * balancer's.  A v1 or v2 header makes its source address the client's
 * in %i, CLIENT_ADDRESS, Received and the log; UNKNOWN and LOCAL keep
 * the balancer's; a header split across writes, on a socket or a pipe,
 * is read whole, and the SMTP pipelined right behind it is still SMTP.
 * A bad, missing or late header closes the connection without a
 * greeting, delivers nothing and logs why with the balancer's address.
 */
#include <string.h>

#include "harness.h"

#define BALANCER	"REMOTE_ADDR=127.0.0.1"
#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
/* v2 PROXY TCP over IPv4: 192.0.2.7:40000 to 198.51.100.1:25, then an
 * ALPN TLV "smtp" */
#define V2_TCP4		V2_SIG "\x21\x11\x00\x13" "\xc0\x00\x02\x07" \
			"\xc6\x33\x64\x01" "\x9c\x40\x00\x19" \
			"\x01\x00\x04smtp"
/* v2 PROXY TCP over IPv6: 2001:db8::7:2525 to ::1:25 */
#define V2_TCP6		V2_SIG "\x21\x21\x00\x24" \
			"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07" \
			"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x09\xdd\x00\x19"
#define V2_LOCAL	V2_SIG "\x20\x00\x00\x00"
#define LIT(s)		s, sizeof(s) - 1

struct proxied {
	const char *hdr;
	size_t len;
	const char *ip;		/* %i, CLIENT_ADDRESS, client=[...] */
	const char *received;	/* the Received "(HOST [IP])" */
	const char *logged;	/* the proxy log line */
};

static const struct proxied proxied[] = {
	{ LIT("PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n"), "192.0.2.7",
	  "(unknown [192.0.2.7])",
	  "proxy v1 from unknown[127.0.0.1]: client [192.0.2.7]:51234" },
	{ LIT("PROXY TCP6 2001:DB8::0:7 ::1 2525 25\r\n"), "2001:db8::7",
	  "(unknown [IPv6:2001:db8::7])",
	  "proxy v1 from unknown[127.0.0.1]: client [2001:db8::7]:2525" },
	{ LIT(V2_TCP4), "192.0.2.7", "(unknown [192.0.2.7])",
	  "proxy v2 from unknown[127.0.0.1]: client [192.0.2.7]:40000" },
	{ LIT(V2_TCP6), "2001:db8::7", "(unknown [IPv6:2001:db8::7])",
	  "proxy v2 from unknown[127.0.0.1]: client [2001:db8::7]:2525" },
	{ LIT("PROXY UNKNOWN\r\n"), "127.0.0.1", "(unknown [127.0.0.1])",
	  "proxy v1 from unknown[127.0.0.1]: no client address" },
	{ LIT(V2_LOCAL), "127.0.0.1", "(unknown [127.0.0.1])",
	  "proxy v2 from unknown[127.0.0.1]: no client address" },
};

/* with_header - the header, then text */
static char *
with_header(const char *hdr, size_t len, const char *text, size_t *total)
{
	size_t n = strlen(text);
	char *s = h_repeat(" ", len + n);	/* a buffer the harness frees */

	memcpy(s, hdr, len);
	memcpy(s + len, text, n);
	*total = len + n;
	return s;
}

/* assert_identity - the one delivery names ip everywhere */
static void
assert_identity(const struct h_result *r, const struct proxied *c)
{
	const char *from = "Received: from " H_HELO " ";
	char *rec;

	ck_assert_str_eq(h_codes(r->out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_argv(h_dir, 1, 2), c->ip);
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), c->ip);
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(strncmp(rec + strlen(from), c->received,
	    strlen(c->received)) == 0, "Received '%s', want '%s'", rec,
	    c->received);
	ck_assert_msg(strstr(r->log, c->logged) != NULL, "log lacks '%s': "
	    "'%s'", c->logged, r->log);
	ck_assert_msg(strstr(r->log, h_strf("connect from unknown[%s]",
	    c->ip)) != NULL, "log: '%s'", r->log);
	ck_assert_msg(strstr(r->log, h_strf("client=[%s]", c->ip)) != NULL,
	    "log lacks client=[%s]: '%s'", c->ip, r->log);
}

START_TEST(test_identity)
{
	/* the whole session in one write: the header, then SMTP pipelined
	 * right behind it, which must reach the session untouched */
	const struct proxied *c = &proxied[_i];
	struct h_opts o = { .args = { "--proxy-protocol" },
	    .env = { BALANCER }, .cmd = { "--", H_RECORDER, h_dir, "%i" } };
	struct h_result r;
	size_t n;
	char *in = with_header(c->hdr, c->len, h_txn("<s@x.example>", H_MSG,
	    "<u@mx.example>", NULL), &n);

	h_runn(&r, &o, in, n);
	assert_identity(&r, c);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_launcher_host_dropped)
{
	/* the launcher's host name is the balancer's: not the client's */
	struct h_opts o = { .args = { "--proxy-protocol" },
	    .env = { "PROTO=TCP", "TCPREMOTEIP=127.0.0.1",
	    "TCPREMOTEHOST=balancer.example" },
	    .cmd = { "--", H_RECORDER, h_dir, "%i" } };
	struct proxied c = proxied[0];
	struct h_result r;
	size_t n;
	char *in = with_header(c.hdr, c.len, h_txn("<s@x.example>", H_MSG,
	    "<u@mx.example>", NULL), &n);

	c.logged = "proxy v1 from balancer.example[127.0.0.1]: client "
	    "[192.0.2.7]:51234";
	h_runn(&r, &o, in, n);
	assert_identity(&r, &c);
}
END_TEST

/* split_session - the header in pieces of step octets, a pause after
 * each, no greeting before the last; then the transaction */
static void
split_session(const struct proxied *c, size_t step, int pipes)
{
	struct h_opts o = { .args = { "--proxy-protocol" }, .pipes = pipes,
	    .env = { BALANCER }, .cmd = { "--", H_RECORDER, h_dir, "%i" } };
	struct h_proc p;
	struct h_result r;
	size_t off;

	h_start(&p, &o);
	for (off = 0; off < c->len; off += step) {
		size_t n = c->len - off < step ? c->len - off : step;

		h_send(&p, c->hdr + off, n);
		h_pause(&p, 10);
		ck_assert_msg(off + n == c->len || p.outlen == 0, "a reply before the whole header "
		    "(%zu of %zu): '%.*s'", off + n, c->len, (int)p.outlen,
		    p.out);
	}
	h_sends(&p, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	h_shut(&p);
	h_finish(&p, &r);
	assert_identity(&r, c);
}

START_TEST(test_split_header)
{
	split_session(&proxied[0], 7, 0);
	h_fresh();
	split_session(&proxied[2], 5, 0);
	h_fresh();
	split_session(&proxied[1], 1, 1);	/* a pipe: octet by octet */
	h_fresh();
	split_session(&proxied[3], 16, 1);
}
END_TEST

static const struct { const char *hdr; size_t len; const char *why; }
refusals[] = {
	{ LIT("EHLO client.example\r\n"), "not a PROXY header" },
	{ LIT("PROXY TCP4 192.0.2.07 198.51.100.1 1 25\r\n"), "source" },
	{ LIT("PROXY TCP4 192.0.2.7 198.51.100.1 1 25\n"), "bare LF" },
	{ LIT("PROXY TCP4 192.0.2.7 198.51.100.1 1 65536\r\n"), "port" },
	{ LIT("PROXY UNKNOWN ...................................................."
	    "..............................................\r\n"), "107" },
	{ LIT(V2_SIG "\x22\x11\x00\x00"), "command" },
	{ LIT(V2_SIG "\x21\x11\x00\x08" "\xc0\x00\x02\x07\0\0\0\0"),
	  "shorter" },
	{ LIT(V2_SIG "\x21\x11\x00\x0f" "\xc0\x00\x02\x07" "\xc6\x33\x64\x01"
	    "\x9c\x40\x00\x19" "\x01\x00\x09"), "TLV" },
};

START_TEST(test_refused)
{
	/* a bad header with a whole transaction behind it: no greeting, no
	 * reply at all, nothing delivered, the reason and the balancer's
	 * address logged, exit 0 */
	struct h_opts o = { .args = { "--proxy-protocol" },
	    .env = { BALANCER } };
	struct h_result r;
	size_t n;
	char *in = with_header(refusals[_i].hdr, refusals[_i].len,
	    h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL), &n);

	h_runn(&r, &o, in, n);
	ck_assert_msg(r.outlen == 0, "replied: '%s'", r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(strstr(r.log, "proxy from unknown[127.0.0.1]: "
	    "refused: ") != NULL, "log: '%s'", r.log);
	ck_assert_msg(strstr(r.log, refusals[_i].why) != NULL, "log lacks "
	    "'%s': '%s'", refusals[_i].why, r.log);
	ck_assert_msg(strstr(r.log, "connect from") == NULL, "a session "
	    "began: '%s'", r.log);
}
END_TEST

START_TEST(test_late_or_truncated)
{
	/* half a header, then silence: the bound (here --timeout 1, under
	 * the 5 s default) ends it without a greeting */
	struct h_opts o = { .args = { "--proxy-protocol", "--timeout", "1" },
	    .env = { BALANCER }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_sends(&p, "PROXY TCP4 192.0.2.7 198.51.");
	h_finish(&p, &r);
	ck_assert_msg(r.outlen == 0, "replied: '%s'", r.out);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_ge(r.ms, 900);
	ck_assert_int_lt(r.ms, h_scaled(5000));
	ck_assert_msg(strstr(r.log, "no complete header in time") != NULL,
	    "log: '%s'", r.log);
	/* the balancer goes away inside the header */
	h_fresh();
	o.keep_open = 0;
	h_runn(&r, &o, LIT(V2_SIG "\x21\x11\x00\x0c\xc0\x00"));
	ck_assert_int_eq(r.outlen, 0);
	ck_assert_msg(strstr(r.log, "closed inside the header") != NULL,
	    "log: '%s'", r.log);
	/* nothing at all (a bare TCP check) */
	h_fresh();
	h_run(&r, &o, "");
	ck_assert_int_eq(r.outlen, 0);
	ck_assert_msg(strstr(r.log, "closed before any header") != NULL,
	    "log: '%s'", r.log);
}
END_TEST

START_TEST(test_off_by_default)
{
	/* without the option a PROXY line is nothing but a bad command */
	struct h_opts o = { .env = { BALANCER } };
	struct h_result r;

	h_run(&r, &o, "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|500 5.5.1|221 2.0.0");
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = h_tcase("proxy");

	tcase_add_loop_test(tc, test_identity, 0,
	    sizeof(proxied) / sizeof(proxied[0]));
	tcase_add_test(tc, test_launcher_host_dropped);
	tcase_add_test(tc, test_split_header);
	tcase_add_loop_test(tc, test_refused, 0,
	    sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_test(tc, test_late_or_truncated);
	tcase_add_test(tc, test_off_by_default);
	suite_add_tcase(s, tc);
	return s;
}

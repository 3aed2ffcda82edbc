/*
 * e2e_protocol.c - the command set of pipesmtpd(8) PROTOCOL: greeting,
 * EHLO keywords, HELO, sequence errors, RSET, NOOP, VRFY, HELP, unknown
 * verbs, QUIT, case-insensitive verbs, over-long lines and NUL bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A whole session in, the reply codes out: one row per case. */
struct proto_case {
	const char *name;
	const char *input;
	const char *want;	/* h_codes() of the replies */
	int deliveries;
};

static const struct proto_case proto_cases[] = {
	{ "quit only", "QUIT\r\n", "220|221 2.0.0", 0 },
	{ "EOF only", "", "220", 0 },
	{ "MAIL before HELO", "MAIL FROM:<s@x.example>\r\nQUIT\r\n",
	  "220|503 5.5.1|221 2.0.0", 0 },
	{ "RCPT before MAIL", "EHLO c.example\r\nRCPT TO:<u@mx.example>\r\n"
	  "QUIT\r\n", "220|250|503 5.5.1|221 2.0.0", 0 },
	{ "DATA before MAIL", "EHLO c.example\r\nDATA\r\nQUIT\r\n",
	  "220|250|503 5.5.1|221 2.0.0", 0 },
	{ "DATA before RCPT", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "DATA\r\nQUIT\r\n", "220|250|250 2.1.0|503 5.5.1|221 2.0.0", 0 },
	{ "DATA after refused RCPT", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@elsewhere.example>\r\n"
	  "DATA\r\nQUIT\r\n",
	  "220|250|250 2.1.0|550 5.7.1|503 5.5.1|221 2.0.0", 0 },
	{ "nested MAIL", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "MAIL FROM:<t@x.example>\r\nQUIT\r\n",
	  "220|250|250 2.1.0|503 5.5.1|221 2.0.0", 0 },
	{ "NOOP", "NOOP\r\nNOOP with an argument\r\nQUIT\r\n",
	  "220|250 2.0.0|250 2.0.0|221 2.0.0", 0 },
	{ "RSET outside a transaction", "RSET\r\nQUIT\r\n",
	  "220|250 2.0.0|221 2.0.0", 0 },
	{ "VRFY", "VRFY postmaster\r\nQUIT\r\n", "220|252 2.0.0|221 2.0.0",
	  0 },
	{ "HELP", "HELP\r\nQUIT\r\n", "220|214 2.0.0|221 2.0.0", 0 },
	{ "lower-case verbs", "ehlo c.example\r\nmail from:<s@x.example>\r\n"
	  "rcpt to:<u@mx.example>\r\ndata\r\n" H_MSG ".\r\nquit\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0", 1 },
	{ "mixed-case verbs", "eHlO c.example\r\nMaIl FrOm:<s@x.example>\r\n"
	  "RcPt tO:<u@mx.example>\r\nDaTa\r\n" H_MSG ".\r\nQuIt\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0", 1 },
	{ "nothing after QUIT", "QUIT\r\nNOOP\r\nHELP\r\n", "220|221 2.0.0",
	  0 },
	{ "EHLO ends a transaction", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>\r\n"
	  "EHLO c.example\r\nDATA\r\nQUIT\r\n",
	  "220|250|250 2.1.0|250 2.1.5|250|503 5.5.1|221 2.0.0", 0 },
	{ "HELO name starting with '-'", "HELO -oQ\r\nEHLO -x\r\n"
	  "MAIL FROM:<s@x.example>\r\nQUIT\r\n",
	  "220|501 5.5.4|501 5.5.4|503 5.5.1|221 2.0.0", 0 },
	{ "HELO without a name", "HELO\r\nQUIT\r\n",
	  "220|501 5.5.4|221 2.0.0", 0 },
	{ "VRFY without an argument", "VRFY\r\nVRFY   \r\nQUIT\r\n",
	  "220|501 5.5.4|501 5.5.4|221 2.0.0", 0 },
	{ "BODY=BINARYMIME: known, not supported", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example> BODY=BINARYMIME\r\nQUIT\r\n",
	  "220|250|555 5.5.4|221 2.0.0", 0 },
	{ "BODY with a bad value", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example> BODY=9BIT\r\nQUIT\r\n",
	  "220|250|501 5.5.4|221 2.0.0", 0 },
	{ "trailing spaces after MAIL and RCPT", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>   \r\nRCPT TO:<u@mx.example>  \r\n"
	  "DATA\r\n" H_MSG ".\r\nQUIT\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0", 1 },
	{ "a RCPT parameter after spaces", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>   X=1\r\n"
	  "QUIT\r\n", "220|250|250 2.1.0|555 5.5.4|221 2.0.0", 0 },
	{ "an empty local part", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<\"\"@mx.example>\r\n"
	  "DATA\r\nQUIT\r\n",
	  "220|250|250 2.1.0|550 5.1.3|503 5.5.1|221 2.0.0", 0 },
};

START_TEST(test_proto_table)
{
	const struct proto_case *c = &proto_cases[_i];
	struct h_result r;
	char *codes;

	h_run(&r, NULL, c->input);
	codes = h_codes(r.out);
	ck_assert_msg(strcmp(codes, c->want) == 0, "%s: got '%s', want '%s'"
	    " (replies '%s')", c->name, codes, c->want, r.out);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(h_count(h_dir) == c->deliveries, "%s: %d deliveries",
	    c->name, h_count(h_dir));
}
END_TEST

START_TEST(test_greeting_exact)
{
	struct h_result r;
	char *l;

	h_run(&r, NULL, "QUIT\r\n");
	ck_assert_int_ge(h_nreplies(r.out), 1);
	l = h_line(r.out, 0);
	ck_assert_str_eq(l, "220 " H_HOST " ESMTP pipesmtpd");
	ck_assert_msg(strncmp(r.out, "220 " H_HOST " ESMTP pipesmtpd\r\n",
	    strlen("220 " H_HOST " ESMTP pipesmtpd\r\n")) == 0,
	    "greeting is not one CRLF line: '%s'", r.out);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

/* check_ehlo - the EHLO reply (the second reply): the host name first,
 * then each keyword pipesmtpd(8) lists exactly once, in any order */
static void
check_ehlo(const char *out, const char *size, const char *rcptmax)
{
	const char *p = strstr(out, "\r\n250");
	const char *want[] = { "PIPELINING", size, "8BITMIME",
	    "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", rcptmax, "PRDR" };
	const size_t nwant = sizeof(want) / sizeof(want[0]);
	char *lines[32];
	size_t n = 0, i, j;

	ck_assert_ptr_nonnull(p);
	p += 2;
	for (;;) {		/* the lines up to the final "250 " one */
		const char *e = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(e);
		ck_assert_uint_lt(n, 32);
		lines[n++] = h_strf("%.*s", (int)(e - p), p);
		if (strncmp(p, "250 ", 4) == 0)
			break;
		ck_assert_msg(strncmp(p, "250-", 4) == 0, "bad EHLO line '%s'",
		    lines[n - 1]);
		p = e + 2;
	}
	ck_assert_msg(strcmp(lines[0] + 4, H_HOST) == 0 ||
	    strncmp(lines[0] + 4, H_HOST " ", strlen(H_HOST) + 1) == 0,
	    "first EHLO line '%s'", lines[0]);
	for (i = 0; i < nwant; i++) {
		int found = 0;

		for (j = 1; j < n; j++)
			found += strcmp(lines[j] + 4, want[i]) == 0;
		ck_assert_msg(found == 1, "EHLO keyword '%s' %d times", want[i],
		    found);
	}
	for (j = 1; j < n; j++) {
		ck_assert_msg(strncmp(lines[j] + 4, "STARTTLS", 8) != 0,
		    "STARTTLS advertised");
		ck_assert_msg(strncmp(lines[j] + 4, "AUTH", 4) != 0,
		    "AUTH advertised");
	}
	ck_assert_uint_eq(n, nwant + 1);	/* nothing else */
}

START_TEST(test_ehlo_keywords)
{
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nQUIT\r\n");
	check_ehlo(r.out, "SIZE 10485760", "LIMITS RCPTMAX=100");
	ck_assert_str_eq(h_codes(r.out), "220|250|221 2.0.0");
}
END_TEST

START_TEST(test_ehlo_keywords_options)
{
	struct h_opts o = { .args = { "--max-size", "5000", "--max-rcpt",
	    "7" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
	check_ehlo(r.out, "SIZE 5000", "LIMITS RCPTMAX=7");
}
END_TEST

START_TEST(test_helo)
{
	struct h_result r;
	char *l;

	h_run(&r, NULL, "HELO c.example\r\nQUIT\r\n");
	l = h_line(r.out, 1);
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strncmp(l, "250 " H_HOST, 4 + strlen(H_HOST)) == 0,
	    "HELO reply '%s'", l);
	ck_assert_msg(strstr(r.out, "PIPELINING") == NULL,
	    "HELO answered with EHLO keywords");
}
END_TEST

START_TEST(test_unknown_verbs)
{
	static const char *const verbs[] = { "FOO", "XYZZY bar", "MAILFROM",
	    "EXPN list", "TURN", "ETRN x", "STARTTLS", "AUTH PLAIN" };
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		struct h_result r;
		char *in = h_strf("%s\r\nQUIT\r\n", verbs[i]), *l;

		h_run(&r, NULL, in);
		l = h_line(r.out, 1);
		ck_assert_msg(l != NULL && (strncmp(l, "500 5.5.", 8) == 0 ||
		    strncmp(l, "502 5.5.", 8) == 0), "'%s' got '%s'", verbs[i],
		    l ? l : "nothing");
		l = h_line(r.out, 2);
		ck_assert_msg(l != NULL && strncmp(l, "221 2.0.0", 9) == 0,
		    "session did not go on after '%s'", verbs[i]);
	}
}
END_TEST

START_TEST(test_rset_in_transaction)
{
	struct h_result r;
	char *want;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<first@mx.example>\r\nRSET\r\nDATA\r\n"
	    "MAIL FROM:<t@x.example>\r\nRCPT TO:<second@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	want = "220|250|250 2.1.0|250 2.1.5|250 2.0.0|503 5.5.1|250 2.1.0|"
	    "250 2.1.5|354|250 2.0.0|221 2.0.0";
	ck_assert_str_eq(h_codes(r.out), want);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "second@mx.example");
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), "t@x.example");
}
END_TEST

START_TEST(test_two_transactions)
{
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\nfirst\r\n.\r\n"
	    "MAIL FROM:<t@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nsecond\r\n.\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "first\n");
	ck_assert_str_eq(h_body(h_stdin(h_dir, 2, NULL)), "second\n");
	ck_assert_str_eq(h_env(h_dir, 2, "SENDER"), "t@x.example");
	ck_assert_str_ne(h_env(h_dir, 1, "QUEUE_ID"),
	    h_env(h_dir, 2, "QUEUE_ID"));
}
END_TEST

/* ---- line limits and NUL ---- */

START_TEST(test_line_2048_ok)
{
	/* exactly 2048 octets with the CRLF: still a command */
	char *pad = h_repeat("a", 2048 - 5 - 2);
	char *in = h_strf("NOOP %s\r\nQUIT\r\n", pad);
	struct h_result r;

	ck_assert_int_eq(strlen(in), 2048 + 6);
	h_run(&r, NULL, in);
	ck_assert_str_eq(h_codes(r.out), "220|250 2.0.0|221 2.0.0");
}
END_TEST

START_TEST(test_line_2049_refused)
{
	char *pad = h_repeat("a", 2049 - 5 - 2);
	char *in = h_strf("NOOP %s\r\nQUIT\r\n", pad);
	struct h_result r;

	h_run(&r, NULL, in);
	ck_assert_str_eq(h_codes(r.out), "220|500 5.5.2|221 2.0.0");
}
END_TEST

/* A command hidden in the tail of an over-long line is never executed;
 * each row is a tail and the length of padding before it. */
static const struct {
	const char *tail;
	size_t pad;
} long_cases[] = {
	{ "QUIT", 2048 },
	{ "QUIT", 2044 },
	{ "QUIT", 4096 },
	{ "QUIT", 70000 },
	{ "RCPT TO:<victim@mx.example>", 2048 },
	{ "RCPT TO:<victim@mx.example>", 3000 },
	{ "RCPT TO:<victim@mx.example>", 65536 - 10 },
	{ "RCPT TO:<victim@mx.example>", 200000 },
};

START_TEST(test_long_line_tail)
{
	char *pad = h_repeat("x", long_cases[_i].pad);
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nNOOP %s%s\r\nNOOP\r\nDATA\r\n"
	    H_MSG ".\r\nQUIT\r\n", pad, long_cases[_i].tail);
	struct h_result r;

	h_run(&r, NULL, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "500 5.5.2|250 2.0.0|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "ok@mx.example");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_long_line_split_writes)
{
	/* the long line arrives in pieces with pauses: one 500 only */
	struct h_proc p;
	struct h_result r;
	char *pad = h_repeat("y", 1500);

	h_start(&p, NULL);
	h_expect(&p, "220 ");
	h_sends(&p, "NOOP ");
	h_sends(&p, pad);
	h_pause(&p, 100);
	h_sends(&p, pad);
	h_pause(&p, 100);
	h_sends(&p, pad);
	h_sends(&p, "QUIT\r\n");
	h_expect(&p, "500 5.5.2");
	h_say(&p, "NOOP\r\n", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|500 5.5.2|250 2.0.0|221 2.0.0");
}
END_TEST

START_TEST(test_nul_in_command)
{
	static const char in[] = "EHLO c.example\r\nNOOP a\0b\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a\0b@mx.example>\r\n"
	    "RCPT TO:<ok@mx.example>\0 \r\nQUIT\0\r\nQUIT\r\n";
	struct h_result r;

	h_runn(&r, NULL, in, sizeof(in) - 1);
	ck_assert_str_eq(h_codes(r.out), "220|250|500 5.5.2|250 2.1.0|"
	    "500 5.5.2|500 5.5.2|500 5.5.2|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_enhanced_codes_everywhere)
{
	/* every 2xx/4xx/5xx reply but the greeting and HELO/EHLO carries
	 * an enhanced code of its own class */
	struct h_result r;
	int i, n;

	h_run(&r, NULL, "NOOP\r\nMAIL FROM:<s@x.example>\r\nEHLO c.example\r\n"
	    "FOO\r\nVRFY x\r\nHELP\r\nRSET\r\nMAIL FROM:<s@x.example> BAR\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<x@y.example>\r\n"
	    "RCPT TO:<a/b@mx.example>\r\nRCPT TO:<bad\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	n = h_nreplies(r.out);
	ck_assert_int_eq(n, 17);
	for (i = 0; i < n; i++) {
		char *l = h_line(r.out, i);

		if (i == 0 || i == 3 || l[0] == '3')
			continue;	/* greeting, EHLO, 354 */
		ck_assert_msg(strlen(l) > 9 && l[3] == ' ' && l[4] == l[0] &&
		    l[5] == '.', "reply %d without a matching enhanced code: "
		    "'%s'", i, l);
	}
}
END_TEST

START_TEST(test_lmtp_texts_name_lhlo)
{
	/* under --lmtp no reply text speaks of HELO or EHLO */
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "MAIL FROM:<s@x.example>\r\nLHLO -x\r\nLHLO\r\n"
	    "HELP\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|503 5.5.1|501 5.5.4|501 5.5.4|"
	    "214 2.0.0|221 2.0.0");
	ck_assert_str_eq(h_line(r.out, 1), "503 5.5.1 Send LHLO first");
	ck_assert_str_eq(h_line(r.out, 2), "501 5.5.4 Syntax: LHLO "
	    "hostname");
	ck_assert_msg(strstr(r.out, "HELO") == NULL &&
	    strstr(r.out, "EHLO") == NULL, "'%s'", r.out);
	/* and SMTP keeps its own words */
	h_fresh();
	h_run(&r, NULL, "MAIL FROM:<s@x.example>\r\nEHLO -x\r\nQUIT\r\n");
	ck_assert_str_eq(h_line(r.out, 1), "503 5.5.1 Send HELO/EHLO "
	    "first");
	ck_assert_str_eq(h_line(r.out, 2), "501 5.5.4 Syntax: EHLO "
	    "hostname");
}
END_TEST

START_TEST(test_error_limit_421_never_dropped)
{
	/* the replies of 507 pipelined HELOs ("250 mx.example", 16
	 * octets; not NOOPs, which would be junk) all but fill the reply
	 * buffer; the 421 after the reply that reaches --max-errors still
	 * follows it */
	struct h_opts o = { .args = { "--max-errors", "1" } };
	struct h_result r;
	int n;

	h_run(&r, &o, h_strf("%sFOO\r\nNOOP\r\n", h_repeat("HELO c\r\n",
	    507)));
	n = h_nreplies(r.out);
	ck_assert_int_eq(n, 510);
	ck_assert_str_eq(h_line(r.out, n - 2), "500 5.5.1 Command "
	    "unrecognized");
	ck_assert_str_eq(h_line(r.out, n - 1), "421 4.7.0 " H_HOST " Error: "
	    "too many errors");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

Suite *
protocol_suite(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = h_tcase("commands");

	tcase_add_loop_test(tc, test_proto_table, 0,
	    sizeof(proto_cases) / sizeof(proto_cases[0]));
	tcase_add_test(tc, test_greeting_exact);
	tcase_add_test(tc, test_ehlo_keywords);
	tcase_add_test(tc, test_ehlo_keywords_options);
	tcase_add_test(tc, test_helo);
	tcase_add_test(tc, test_unknown_verbs);
	tcase_add_test(tc, test_rset_in_transaction);
	tcase_add_test(tc, test_two_transactions);
	tcase_add_test(tc, test_enhanced_codes_everywhere);
	tcase_add_test(tc, test_lmtp_texts_name_lhlo);
	tcase_add_test(tc, test_error_limit_421_never_dropped);
	suite_add_tcase(s, tc);

	tc = h_tcase("lines");
	tcase_add_test(tc, test_line_2048_ok);
	tcase_add_test(tc, test_line_2049_refused);
	tcase_add_loop_test(tc, test_long_line_tail, 0,
	    sizeof(long_cases) / sizeof(long_cases[0]));
	tcase_add_test(tc, test_long_line_split_writes);
	tcase_add_test(tc, test_nul_in_command);
	suite_add_tcase(s, tc);
	return s;
}

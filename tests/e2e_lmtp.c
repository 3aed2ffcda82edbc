/*
 * e2e_lmtp.c - the lmtp suite: pipesmtpd --lmtp (RFC 2033).
 *
 * The greeting and LHLO (HELO, EHLO and PRDR refused), one reply per
 * accepted recipient after the data and no summary, message-wide
 * failures repeated once per recipient (RFC 2033 4.2), pipelined and
 * lock-step clients, BDAT under LMTP, the recipient limit and a
 * Delivered-To: loop.  Recipients' local parts choose the recorder's
 * behaviour (ok, exit75, exit67, dsn73, ...); everything delivered is
 * compared byte for byte.  The transaction builders (h_bdat, h_rcpts,
 * ...) are in tests/harness_txn.c.
 */
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

START_TEST(test_lmtp_greeting_lhlo)
{
	struct h_opts o = { .args = { "--lmtp", "--max-size", "123456",
	    "--max-rcpt", "7" } };
	static const char *const want[] = { "PIPELINING", "SIZE 123456",
	    "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING",
	    "LIMITS RCPTMAX=7" };
	struct h_result r;
	char *kw;
	size_t i;

	h_run(&r, &o, "LHLO c.example\r\nHELO c.example\r\n"
	    "EHLO c.example\r\nLHLO c.example\r\nQUIT\r\n");
	ck_assert_str_eq(h_line(r.out, 0), "220 " H_HOST " LMTP pipesmtpd");
	ck_assert_str_eq(h_codes(r.out),
	    "220|250|500 5.5.1|500 5.5.1|250|221 2.0.0");
	kw = h_keywords(r.out);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(kw, h_strf("|%s|", want[i])) != NULL,
		    "LHLO lacks '%s': '%s'", want[i], kw);
	ck_assert_msg(strstr(kw, "|PRDR|") == NULL, "LHLO advertises PRDR: "
	    "'%s'", kw);
	/* nothing else: the keywords and their count */
	{
		int n = 0;
		const char *p;

		for (p = kw + 1; (p = strchr(p, '|')) != NULL; p++)
			n++;
		ck_assert_msg(n == 7, "LHLO keywords: '%s'", kw);
	}
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_helo_ehlo_refused)
{
	/* HELO/EHLO are no greeting under LMTP: MAIL still needs LHLO */
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|500 5.5.1|503 5.5.1|"
	    "500 5.5.1|503 5.5.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_lmtp_prdr_refused)
{
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example> PRDR\r\n"
	    "MAIL FROM:<s@x.example> prdr\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|555 5.5.4|555 5.5.4|"
	    "250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

/* The per-recipient replies, over DATA and over BDAT LAST. */
START_TEST(test_lmtp_per_recipient)
{
	static const char *const rc[] = { "ok", "nobody@other.example",
	    "exit75", "exit67", "dsn73", NULL };
	static const char *const delivered[] = { "ok", "exit75", "exit67",
	    "dsn73" };
	struct h_opts o = { .args = { "--lmtp" } };
	const char *msg = "Subject: lmtp\r\n\r\nline\r\n..dot\r\n";
	struct h_result r;
	char *in, *l, *rec;
	int i;

	/* _i 0: DATA (dot-stuffed); 1: BDAT LAST (taken verbatim) */
	in = h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n%s%s"
	    "NOOP\r\nQUIT\r\n", h_rcpts(rc), _i == 0 ?
	    h_strf("DATA\r\n%s.\r\n", msg) : h_bdat(msg, 1));
	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|550 5.7.1|250 2.1.5|250 2.1.5|250 2.1.5|%s"
	    "250 2.0.0|451 4.3.0|550 5.1.1|550 5.2.2|"
	    "250 2.0.0|221 2.0.0", _i == 0 ? "354|" : ""));
	/* the refused recipient has no reply: the 4 after the data are the
	 * accepted ones', in RCPT order, then the NOOP's */
	l = h_line(r.out, _i == 0 ? 12 : 11);
	ck_assert_msg(strstr(l, "mailbox full") != NULL, "dsn73: '%s'", l);
	ck_assert_int_eq(h_count(h_dir), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(h_env(h_dir, i + 1, "RECIPIENT"),
		    h_strf("%s@mx.example", delivered[i]));
		ck_assert_str_eq(h_run_body(i + 1), _i == 0 ?
		    "Subject: lmtp\n\nline\n.dot\n" :
		    "Subject: lmtp\n\nline\n..dot\n");
		h_assert_size_env(i + 1);
	}
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(strstr(rec, " with LMTP ") != NULL, "'%s'", rec);
	ck_assert_msg(strstr(rec, "by " H_HOST " ") != NULL, "'%s'", rec);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_single_recipient_each_outcome)
{
	/* one recipient per transaction, several transactions */
	static const char *const cases[][2] = {
		{ "ok", "250 2.0.0" }, { "exit75", "451 4.3.0" },
		{ "exit71", "451 4.3.0" }, { "exit67", "550 5.1.1" },
		{ "exit68", "550 5.1.2" }, { "exit65", "550 5.6.0" },
		{ "exit73", "550 5.2.0" }, { "exit77", "550 5.7.0" },
		{ "exit78", "550 5.3.5" }, { "exit1", "550 5.3.0" },
		{ "dsn73", "550 5.2.2" }, { "dsn75", "451 4.2.2" },
		{ "crash", "451 4.3.0" },
	};
	struct h_opts o = { .args = { "--lmtp" } };
	char *in = h_strf("LHLO c.example\r\n");
	char *want = h_strf("220|250");
	struct h_result r;
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	for (i = 0; i < n; i++) {
		in = h_strf("%sMAIL FROM:<s@x.example>\r\nRCPT TO:<%s@"
		    "mx.example>\r\nDATA\r\n" H_MSG ".\r\n", in, cases[i][0]);
		want = h_strf("%s|250 2.1.0|250 2.1.5|354|%s", want,
		    cases[i][1]);
	}
	h_run(&r, &o, h_strf("%sQUIT\r\n", in));
	ck_assert_str_eq(h_codes(r.out), h_strf("%s|221 2.0.0", want));
	ck_assert_int_eq(h_count(h_dir), (int)n);
}
END_TEST

/* A message-wide failure: the same reply once per accepted recipient. */
struct lmtp_fail_case {
	const char *name;
	const char *opt[3];
	const char *msg;
	const char *want;
};

static const struct lmtp_fail_case lmtp_fail_cases[] = {
	{ "size", { "--max-size", "100" }, NULL, "552 5.3.4" },	/* 166 */
	{ "hops", { "--max-hops", "1" }, H_MSG_HOPS2, "554 5.4.6" },
	{ "bare LF", { "--strict-newlines" }, H_MSG_BARE_LF, "554 5.6.0" },
	{ "bare CR", { "--strict-newlines" }, "Subject: x\r\n\r\na\rb\r\n",
	  "554 5.6.0" },
};

START_TEST(test_lmtp_message_wide)
{
	const struct lmtp_fail_case *c = &lmtp_fail_cases[_i];
	static const char *const rc[] = { "a", "nobody@other.example",
	    "exit67", "b", NULL };
	const char *msg = c->msg != NULL ? c->msg :
	    h_strf("Subject: x\r\n\r\n%s\r\n", h_repeat("y", 150));
	int via;

	for (via = 0; via < 2; via++) {		/* DATA, BDAT + BDAT LAST */
		struct h_opts o = { .args = { "--lmtp", c->opt[0], c->opt[1],
		    c->opt[2] } };
		struct h_result r;
		char *in;

		h_fresh();
		in = h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n%s%s"
		    "NOOP\r\nQUIT\r\n", h_rcpts(rc), via == 0 ?
		    h_strf("DATA\r\n%s.\r\n", msg) : h_bdat_halves(msg));
		h_run(&r, &o, in);
		ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
		    "250 2.1.5|550 5.7.1|250 2.1.5|250 2.1.5|%s%s|%s|%s|"
		    "250 2.0.0|221 2.0.0", via == 0 ? "354|" : "250 2.0.0|",
		    c->want,
		    c->want, c->want)) == 0, "%s via %s: '%s'", c->name,
		    via == 0 ? "DATA" : "BDAT", h_codes(r.out));
		ck_assert_msg(h_count(h_dir) == 0, "%s: delivered", c->name);
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

START_TEST(test_lmtp_pipelined_group)
{
	/* LHLO, MAIL, RCPT x3, DATA, the message and QUIT in one write:
	 * every reply in order, without the client closing its side */
	struct h_opts o = { .args = { "--lmtp" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_sends(&p, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	for (i = 0; i < 11; i++)
		ck_assert_msg(h_reply(&p, h_scaled(5000)) != NULL,
		    "only %d replies: '%s'", i, p.out);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|354|250 2.0.0|451 4.3.0|550 5.1.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 3);
	for (i = 1; i <= 3; i++)
		ck_assert_str_eq(h_run_body(i), H_MSG_LF);
}
END_TEST

START_TEST(test_lmtp_lock_step)
{
	/* each recipient's reply is sent as soon as its delivery ended:
	 * a lock-step client reads them one by one after the dot */
	struct h_opts o = { .args = { "--lmtp" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 " H_HOST " LMTP");
	h_say(&p, "LHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<exit67@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<ok@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_sends(&p, H_MSG ".\r\n");
	h_expect(&p, "550 5.1.1");
	h_expect(&p, "250 2.0.0");
	h_pause(&p, 100);
	ck_assert_msg(p.outlen == p.seen, "a summary reply: '%s'",
	    p.out + p.seen);
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_lmtp_chunk_failure)
{
	/* a failure inside a non-LAST chunk is that chunk's one reply (the
	 * transaction has failed, RFC 3030); per-recipient replies are
	 * only for the end of the data */
	struct h_opts o = { .args = { "--lmtp", "--max-size", "50" } };
	struct h_result r;
	char *chunk = h_bdat(h_repeat("0123456789", 3), 0);

	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n%s%s"
	    "RSET\r\nNOOP\r\nQUIT\r\n", chunk, chunk));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.0.0|552 5.3.4|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* Spool failures under LMTP: refusing the DATA command is one reply
 * (there is no data yet); a failure of the message, after the dot or
 * at BDAT LAST, is repeated per recipient (pipesmtpd(8) "Failures of the whole
 * message": spool 452 4.3.1 / 451 4.3.0; RFC 2033 4.2, 4.3). */
static const struct {
	const char *name;
	int bad_spool;		/* else RLIMIT_FSIZE 65536 */
	int via;		/* 0 DATA, 1 BDAT LAST, 2 BDAT (not LAST) */
	const char *want;	/* the replies from the data on */
} lmtp_spool_cases[] = {
	{ "unusable spool, DATA", 1, 0, "451 4.3.0" },
	{ "unusable spool, BDAT LAST", 1, 1, "451 4.3.0|451 4.3.0" },
	{ "unusable spool, BDAT", 1, 2, "451 4.3.0" },
	{ "file-size limit, DATA", 0, 0, "354|452 4.3.1|452 4.3.1" },
	{ "file-size limit, BDAT LAST", 0, 1, "452 4.3.1|452 4.3.1" },
	{ "file-size limit, BDAT", 0, 2, "452 4.3.1" },
};

START_TEST(test_lmtp_spool_failure)
{
	struct h_opts o = { .args = { "--lmtp" } };
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	const char *msg = lmtp_spool_cases[_i].bad_spool ? H_MSG : big;
	struct h_result r;
	char *data, *got;

	if (lmtp_spool_cases[_i].bad_spool) {
		o.args[1] = "--spool";
		o.args[2] = h_subdir("nonexistent");
	} else {
		o.fsize = 65536;
	}
	data = lmtp_spool_cases[_i].via == 0 ? h_strf("DATA\r\n%s.\r\n",
	    msg) : h_bdat(msg, lmtp_spool_cases[_i].via == 1);
	if (lmtp_spool_cases[_i].via == 0 && lmtp_spool_cases[_i].bad_spool)
		data = h_strf("DATA\r\n");	/* the client waits for 354 */
	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n%s"
	    "RSET\r\nNOOP\r\nQUIT\r\n", data));
	got = h_codes(r.out);
	ck_assert_msg(strcmp(got, h_strf("220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|%s|250 2.0.0|250 2.0.0|221 2.0.0",
	    lmtp_spool_cases[_i].want)) == 0, "%s: '%s', want '...|%s|"
	    "250 2.0.0|250 2.0.0|221 2.0.0'", lmtp_spool_cases[_i].name, got,
	    lmtp_spool_cases[_i].want);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_rcpt_limit)
{
	/* a recipient over --max-rcpt was refused: no reply after data */
	struct h_opts o = { .args = { "--lmtp", "--max-rcpt", "2" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<exit67@mx.example>\r\n"
	    "RCPT TO:<c@mx.example>\r\nDATA\r\n" H_MSG ".\r\nNOOP\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|452 4.5.3|354|250 2.0.0|550 5.1.1|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_lmtp_bdat_last_no_rcpt)
{
	/* RFC 2033 4.3: BDAT LAST in a transaction without any accepted
	 * recipient returns zero replies; its octets are still consumed
	 * ("NOOP" inside them is never run) and nothing is delivered */
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@elsewhere.example>\r\nBDAT 6 LAST\r\nNOOP\r\n"
	    "MAIL FROM:<t@x.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.7.1|"
	    "250 2.1.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_lmtp_delivered_to_loop)
{
	/* --delivered-to: the looping recipient's own reply is a permanent
	 * per-recipient failure (550 5.4.6), the others are delivered */
	struct h_opts o = { .args = { "--lmtp", "--delivered-to" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nDelivered-To: b@mx.example\r\nSubject: x\r\n\r\nbody\r\n"
	    ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|250 2.0.0|550 5.4.6|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Return-Path: <s@x.example>\n"
	    "Delivered-To: a@mx.example\nReceived: ", 64) == 0, "'%s'", d);
	ck_assert_str_eq(h_body(d), "Delivered-To: b@mx.example\n"
	    "Subject: x\n\nbody\n");
}
END_TEST

/* ====================================================== suites ==== */

Suite *
lmtp_suite(void)
{
	Suite *s = suite_create("lmtp");
	TCase *tc = h_tcase("lmtp");

	tcase_add_test(tc, test_lmtp_greeting_lhlo);
	tcase_add_test(tc, test_lmtp_helo_ehlo_refused);
	tcase_add_test(tc, test_lmtp_prdr_refused);
	tcase_add_loop_test(tc, test_lmtp_per_recipient, 0, 2);
	tcase_add_test(tc, test_lmtp_single_recipient_each_outcome);
	tcase_add_loop_test(tc, test_lmtp_message_wide, 0,
	    sizeof(lmtp_fail_cases) / sizeof(lmtp_fail_cases[0]));
	tcase_add_test(tc, test_lmtp_pipelined_group);
	tcase_add_test(tc, test_lmtp_lock_step);
	tcase_add_test(tc, test_lmtp_chunk_failure);
	tcase_add_loop_test(tc, test_lmtp_spool_failure, 0,
	    sizeof(lmtp_spool_cases) / sizeof(lmtp_spool_cases[0]));
	tcase_add_test(tc, test_lmtp_rcpt_limit);
	tcase_add_test(tc, test_lmtp_delivered_to_loop);
	tcase_add_test(tc, test_lmtp_bdat_last_no_rcpt);
	suite_add_tcase(s, tc);
	return s;
}

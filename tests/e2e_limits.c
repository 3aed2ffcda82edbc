/*
 * e2e_limits.c - the session's limits (pipesmtpd(8) OPTIONS;
 * doc/design.md on bounded waits): --rcpt-check, --max-rcpt, --max-errors, --timeout,
 * --session-timeout, --greet-pause.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- --rcpt-check ---- */

START_TEST(test_rcpt_check)
{
	char *check = h_subdir("check");
	struct h_opts o = { .args = { "--rcpt-check",
	    h_strf("%s %s %%r %%u", H_RECORDER, check) } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\n"
	    "RCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<exit1@mx.example>\r\n"
	    "RCPT TO:<crash@mx.example>\r\n"
	    "RCPT TO:<\"john doe\"@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "550 5.1.1|450 4.2.1|451 4.3.0|451 4.3.0|250 2.1.5|354|250 2.0.0|"
	    "221 2.0.0");
	/* the check ran for each, with one word per placeholder */
	ck_assert_int_eq(h_count(check), 6);
	ck_assert_int_eq(h_argc(check, 6), 4);
	ck_assert_str_eq(h_argv(check, 6, 2), "john doe@mx.example");
	ck_assert_str_eq(h_argv(check, 6, 3), "john doe");
	ck_assert_str_eq(h_env(check, 2, "RECIPIENT"), "exit67@mx.example");
	ck_assert_str_eq(h_env(check, 2, "SENDER"), "s@x.example");
	/* only the accepted recipients were delivered */
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "ok@mx.example");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "john doe@mx.example");
}
END_TEST

START_TEST(test_rcpt_check_own_code)
{
	/* a refusal's own RFC 3463 code of the verdict's class speaks (a
	 * DNSBL's 5.7.1, not 5.1.1), its text follows; exit 75 stays 450
	 * whatever code it gives; a code of the other class is only text */
	char *check = h_subdir("check");
	struct h_opts o = { .args = { "--rcpt-check",
	    h_strf("%s %s", H_RECORDER, check) } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<dsn67@mx.example>\r\n"
	    "RCPT TO:<dsn75@mx.example>\r\n"
	    "RCPT TO:<dsn1@mx.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.2.2|"
	    "450 4.2.2|451 4.3.0|221 2.0.0");
	ck_assert_ptr_nonnull(strstr(r.out, "550 5.2.2 <dsn67@mx.example>: "
	    "Recipient address rejected: mailbox full\r\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "450 4.2.2 <dsn75@mx.example>: "
	    "Recipient address rejected: try later\r\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "451 4.3.0 <dsn1@mx.example>: "
	    "Recipient address rejected: 5.2.2 mailbox full\r\n"));
}
END_TEST

START_TEST(test_rcpt_check_missing)
{
	struct h_opts o = { .args = { "--rcpt-check",
	    "./tests/no-such-check %r" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|451 4.3.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* ---- --max-rcpt ---- */

START_TEST(test_max_rcpt)
{
	struct h_opts o = { .args = { "--max-rcpt", "2" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", "<c@mx.example>", "<d@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|452 4.5.3|452 4.5.3|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "b@mx.example");
}
END_TEST

START_TEST(test_max_rcpt_per_transaction)
{
	/* the count starts again with each transaction */
	struct h_opts o = { .args = { "--max-rcpt", "1" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "452 4.5.3|250 2.0.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

/* rcpts - n pipelined RCPT lines, r1@ .. rn@mx.example */
static char *
rcpts(int n)
{
	char *all = h_strf("%s", "");
	int i;

	for (i = 1; i <= n; i++)
		all = h_strf("%sRCPT TO:<r%d@mx.example>\r\n", all, i);
	return all;
}

START_TEST(test_max_rcpt_excess_not_errors)
{
	/* an MTA pipelines more recipients than --max-rcpt: each excess
	 * one gets 452 4.5.3 and none of them counts towards --max-errors,
	 * so the first recipient is delivered (RFC 5321 4.5.3.1.10) */
	struct h_opts o = { .args = { "--max-rcpt", "1" } };
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "%sDATA\r\n" H_MSG ".\r\nQUIT\r\n", rcpts(300)));
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5%s|354|250 2.0.0|221 2.0.0", h_repeat("|452 4.5.3",
	    299)));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "r1@mx.example");
	ck_assert_ptr_nonnull(strstr(r.log, "errors=0 "));
}
END_TEST

START_TEST(test_max_rcpt_overshoot_limit)
{
	/* past an overshoot of 1000 in one transaction the 452s count:
	 * with --max-errors 3 the 1003rd excess recipient ends it */
	struct h_opts o = { .args = { "--max-rcpt", "1", "--max-errors",
	    "3" } };
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "%s", rcpts(1004)));
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5%s|421 4.7.0", h_repeat("|452 4.5.3", 1003)));
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* ---- duplicate recipients ---- */

START_TEST(test_duplicates_delivered_once)
{
	/* 50 x one recipient, in every spelling of it, is one delivery;
	 * an +extension is another recipient.  Every RCPT gets its 250,
	 * and the reply counts the recipients that were delivered. */
	struct h_opts o = { .args = { "--max-rcpt", "100" } };
	struct h_result r;
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "%sRCPT TO:<VICTIM@MX.EXAMPLE>\r\n"
	    "RCPT TO:<@a.example,@b.example:victim@mx.example>\r\n"
	    "RCPT TO:<\"victim\"@mx.example>\r\n"
	    "RCPT TO:<Victim@Mx.Example>\r\n"
	    "RCPT TO:<victim+x@mx.example>\r\nRCPT TO:<other@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n",
	    h_repeat("RCPT TO:<victim@mx.example>\r\n", 50));
	int lines = 0;
	const char *l;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0%s|354|"
	    "250 2.0.0|221 2.0.0", h_repeat("|250 2.1.5", 56)));
	ck_assert_ptr_nonnull(strstr(r.out, "\r\n250 2.0.0 Ok: delivered to 3 "
	    "of 3 recipients, id="));
	ck_assert_int_eq(h_count(h_dir), 3);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "victim@mx.example");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "victim+x@mx.example");
	ck_assert_str_eq(h_env(h_dir, 3, "RECIPIENT"), "other@mx.example");
	/* the first has no "for" in Received: the message has 3 */
	ck_assert_ptr_null(strstr(h_stdin(h_dir, 1, NULL), "\tfor <"));
	for (l = r.log; (l = strstr(l, " to=<")) != NULL; l++)
		lines++;
	ck_assert_int_eq(lines, 3);
}
END_TEST

START_TEST(test_duplicates_per_recipient_replies)
{
	/* under LMTP and PRDR a duplicate RCPT gets the reply of its
	 * first, and the command runs once for it */
	int prdr;

	for (prdr = 0; prdr < 2; prdr++) {
		struct h_opts o = { .args = { prdr ? "--log-stderr" : "--lmtp" } };
		struct h_result r;

		h_fresh();
		h_run(&r, &o, h_strf("%s c.example\r\nMAIL FROM:<s@x.example>%s"
		    "\r\nRCPT TO:<exit67@mx.example>\r\n"
		    "RCPT TO:<EXIT67@mx.example>\r\nRCPT TO:<ok@mx.example>\r\n"
		    "RCPT TO:<exit67@MX.example>\r\nRCPT TO:<Ok@mx.example>\r\n"
		    "DATA\r\n" H_MSG ".\r\nQUIT\r\n", prdr ? "EHLO" : "LHLO",
		    prdr ? " PRDR" : ""));
		ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
		    "250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|354|%s"
		    "550 5.1.1|550 5.1.1|250 2.0.0|550 5.1.1|250 2.0.0|%s"
		    "221 2.0.0", prdr ? "353|" : "", prdr ? "250 2.0.0|" : ""));
		ck_assert_int_eq(h_count(h_dir), 2);
		if (prdr)
			ck_assert_ptr_nonnull(strstr(r.out, "delivered to 1 of 2 "
			    "recipients"));
	}
}
END_TEST

/* ---- --max-errors ---- */

struct errors_case {
	const char *max;
	const char *input;
	const char *want;
};

static const struct errors_case errors_cases[] = {
	{ "3", "FOO\r\nFOO\r\nFOO\r\nNOOP\r\nQUIT\r\n",
	  "220|500 5.5.1|500 5.5.1|500 5.5.1|421 4.7.0" },
	{ "1", "NOOP\r\nBAR\r\nNOOP\r\n", "220|250 2.0.0|500 5.5.1|421 4.7.0" },
	{ "3", "MAIL FROM:<s@x.example>\r\nEHLO -x\r\nEHLO c.example\r\n"
	  "NOOP\r\nRCPT TO:<u@mx.example>\r\nNOOP\r\nQUIT\r\n",
	  "220|503 5.5.1|501 5.5.4|250|250 2.0.0|503 5.5.1|421 4.7.0" },
	{ "4", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@other.example>\r\nRCPT TO:<a/b@mx.example>\r\n"
	  "RCPT TO:<bad\r\nRCPT TO:<u@mx.example> X=1\r\nRCPT TO:<u@mx.example>"
	  "\r\nQUIT\r\n",
	  "220|250|250 2.1.0|550 5.7.1|550 5.1.3|501 5.1.3|555 5.5.4|"
	  "421 4.7.0" },
	/* 452 4.5.3 beyond --max-rcpt is not an error (RFC 5321
	 * 4.5.3.1.10): only the two unknown commands count */
	{ "2", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	  "RCPT TO:<c@mx.example>\r\nFOO\r\nFOO\r\nNOOP\r\n",
	  "220|250|250 2.1.0|250 2.1.5|452 4.5.3|452 4.5.3|500 5.5.1|"
	  "500 5.5.1|421 4.7.0" },
};

START_TEST(test_max_errors)
{
	const struct errors_case *c = &errors_cases[_i];
	struct h_opts o = { .args = { "--max-errors", c->max, "--max-rcpt",
	    "1" } };
	struct h_result r;

	h_run(&r, &o, c->input);
	ck_assert_msg(strcmp(h_codes(r.out), c->want) == 0, "case %d: got "
	    "'%s'", _i, r.out);
	/* the 421 is the last thing said */
	ck_assert_msg(strstr(r.out, "421 4.7.0")[strcspn(strstr(r.out,
	    "421 4.7.0"), "\n") + 1] == '\0', "'%s'", r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_max_errors_closes)
{
	/* the connection closes at the 421 even while the client keeps
	 * its side open */
	struct h_opts o = { .args = { "--max-errors", "2" } };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "FOO\r\n", "500 ");
	h_sends(&p, "FOO\r\n");
	h_expect(&p, "500 ");
	h_expect(&p, "421 4.7.0");
	h_finish(&p, &r);	/* EOF without our shutdown */
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_lt(r.ms, h_scaled(5000));
}
END_TEST

START_TEST(test_max_errors_default)
{
	/* default 20 */
	char *foo = h_repeat("FOO\r\n", 25);
	struct h_result r;
	char *want = h_strf("220%s|421 4.7.0", h_repeat("|500 5.5.1", 20));

	h_run(&r, NULL, foo);
	ck_assert_str_eq(h_codes(r.out), want);
}
END_TEST

/* ---- junk commands (Postfix's smtpd_junk_command_limit) ---- */

/* junk_codes - n replies of 250 2.0.0 after the greeting, "|"-joined */
static char *
junk_codes(int n)
{
	return h_strf("220%s", h_repeat("|250 2.0.0", (size_t)n));
}

START_TEST(test_junk_limit)
{
	/* 100 NOOPs are free; the 101st counts, so with --max-errors 3 the
	 * 103rd is answered and followed by the 421 */
	struct h_opts o = { .args = { "--max-errors", "3" } };
	struct h_result r;

	h_run(&r, &o, h_strf("%sQUIT\r\n", h_repeat("NOOP\r\n", 102)));
	ck_assert_str_eq(h_codes(r.out), h_strf("%s|221 2.0.0",
	    junk_codes(102)));
	ck_assert_ptr_nonnull(strstr(r.log, " errors=2 "));
	h_run(&r, &o, h_strf("%sQUIT\r\n", h_repeat("NOOP\r\n", 104)));
	ck_assert_str_eq(h_codes(r.out), h_strf("%s|421 4.7.0",
	    junk_codes(103)));
	ck_assert_ptr_nonnull(strstr(r.log, " errors=3 messages=0 "
	    "end=errors"));
}
END_TEST

START_TEST(test_junk_kinds)
{
	/* NOOP, RSET, VRFY and HELP are all junk: 25 of each, then one
	 * more NOOP is the 101st; other commands are not */
	struct h_opts o = { .args = { "--max-errors", "1" } };
	struct h_result r;
	char *in = h_strf("EHLO c.example\r\n%s%s%s%sMAIL FROM:<s@x.example>"
	    "\r\nNOOP\r\nQUIT\r\n", h_repeat("NOOP\r\n", 25),
	    h_repeat("RSET\r\n", 25), h_repeat("VRFY u\r\n", 25),
	    h_repeat("HELP\r\n", 25));

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250%s%s%s|250 2.1.0|"
	    "250 2.0.0|421 4.7.0", h_repeat("|250 2.0.0", 50),
	    h_repeat("|252 2.0.0", 25), h_repeat("|214 2.0.0", 25)));
}
END_TEST

START_TEST(test_junk_reset_by_message)
{
	/* the count starts again after a message is accepted: a session
	 * that delivers mail is never cut, however many RSETs it sends */
	struct h_opts o = { .args = { "--max-errors", "1" } };
	struct h_result r;
	char *txn = h_strf("%sMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\n",
	    h_repeat("RSET\r\n", 60));
	char *in = h_strf("EHLO c.example\r\n%s%sQUIT\r\n",
	    h_repeat(h_strf("%s%s", h_repeat("NOOP\r\n", 40), txn), 5),
	    h_repeat("NOOP\r\n", 100));

	h_run(&r, &o, in);
	ck_assert_ptr_null(strstr(r.out, "421 "));
	ck_assert_int_eq(h_count(h_dir), 5);
	ck_assert_ptr_nonnull(strstr(r.log, " errors=0 messages=5\n"));
}
END_TEST

START_TEST(test_junk_not_reset_by_refusal)
{
	/* a message that is refused is not accepted: the count goes on */
	struct h_opts o = { .args = { "--max-errors", "1" } };
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\n%sMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\nDATA\r\n" H_MSG ".\r\n"
	    "NOOP\r\nQUIT\r\n", h_repeat("NOOP\r\n", 100)));
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250%s|250 2.1.0|"
	    "250 2.1.5|354|554 5.1.1|250 2.0.0|421 4.7.0",
	    h_repeat("|250 2.0.0", 100)));
}
END_TEST

/* ---- timeouts ---- */

START_TEST(test_idle_timeout)
{
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	long t;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	t = h_elapsed(&p);
	ck_assert_ptr_nonnull(h_reply(&p, h_scaled(4000)));
	ck_assert_msg(h_elapsed(&p) - t >= 900, "421 after %ld ms",
	    h_elapsed(&p) - t);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|421 4.4.2");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_lt(r.ms, h_scaled(5000));
}
END_TEST

START_TEST(test_idle_timeout_in_data)
{
	/* the half-sent message is never delivered */
	struct h_opts o = { .args = { "--timeout", "1" } };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nSubject: x\r\n\r\nhalf\r\n");
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "421 4.4.2");
	ck_assert_msg(r.ms >= 900, "421 after %ld ms", r.ms);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_slow_client_within_timeout)
{
	/* a pause shorter than --timeout never ends the session, however
	 * long the pauses add up to */
	struct h_opts o = { .args = { "--timeout", "1" } };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	for (i = 0; i < 4; i++) {
		h_pause(&p, 400);
		h_say(&p, "NOOP\r\n", "250 2.0.0");
	}
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_slow_line_cut)
{
	/* --timeout bounds a whole command line from its first octet: one
	 * octet every 300 ms does not hold the session */
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	long t;
	int i;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	t = h_elapsed(&p);
	for (i = 0; i < 20 && !p.out_eof; i++) {
		h_sends(&p, "N");
		h_pause(&p, 300);
	}
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|421 4.4.2");
	ck_assert_msg(r.ms - t < h_scaled(2500), "cut after %ld ms",
	    r.ms - t);
}
END_TEST

/* start_in_data - a server that has just said 354 to one recipient */
static void
start_in_data(struct h_proc *p, const struct h_opts *o)
{
	h_start(p, o);
	h_sends(p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n");
	h_expect(p, "220 ");
	h_expect(p, "250 ");
	h_expect(p, "250 2.1.0");
	h_expect(p, "250 2.1.5");
	h_expect(p, "354 ");
}

START_TEST(test_slow_data_cut)
{
	/* in DATA the deadline starts at --timeout and each read of N
	 * octets adds N / --min-data-rate seconds: a message trickling in
	 * at a few octets a second is cut, and not delivered */
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	long t;
	int i;

	start_in_data(&p, &o);
	t = h_elapsed(&p);
	for (i = 0; i < 40 && !p.out_eof; i++) {
		h_sends(&p, "xy");
		h_pause(&p, 200);
	}
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "421 4.4.2");
	ck_assert_msg(r.ms - t < h_scaled(2500), "cut after %ld ms",
	    r.ms - t);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_min_data_rate)
{
	/* a client at the rate keeps its message going past --timeout;
	 * with --min-data-rate 10 even 2 octets every 150 ms (13 a second)
	 * do, with 500 (the default) they would not */
	struct h_opts o = { .args = { "--timeout", "1", "--min-data-rate",
	    "10" } };
	struct h_proc p;
	struct h_result r;
	int i;

	start_in_data(&p, &o);
	for (i = 0; i < 10; i++) {	/* 1.5 s in all */
		h_sends(&p, "ab");
		h_pause(&p, 150);
	}
	h_say(&p, "\r\n.\r\n", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 ");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_stdin(h_dir, 1, NULL) + strlen(h_stdin(h_dir, 1,
	    NULL)) - 21, h_strf("%s\n", h_repeat("ab", 10)));
}
END_TEST

START_TEST(test_session_timeout)
{
	/* busy, but the whole session is limited */
	struct h_opts o = { .args = { "--session-timeout", "1", "--timeout",
	    "10" } };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	for (i = 0; i < 12 && !p.out_eof; i++) {
		h_sends(&p, "NOOP\r\n");
		h_pause(&p, 300);
	}
	h_finish(&p, &r);
	ck_assert_msg(strstr(r.out, "421 4.4.2") != NULL, "'%s'", r.out);
	ck_assert_msg(r.ms >= 900 && r.ms < h_scaled(3500), "ended after %ld ms",
	    r.ms);
	ck_assert_int_eq(r.code, 0);
	/* it was the last reply */
	ck_assert_msg(strncmp(h_line(r.out, h_nreplies(r.out) - 1),
	    "421 4.4.2", 9) == 0, "'%s'", r.out);
}
END_TEST

/* ---- --greet-pause ---- */

START_TEST(test_greet_pause_early_talker)
{
	struct h_opts o = { .args = { "--greet-pause", "1" },
	    .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\n");
	h_finish(&p, &r);	/* it closes: we never shut down */
	ck_assert_str_eq(h_codes(r.out), "554 5.5.1");
	ck_assert_ptr_null(strstr(r.out, "220"));
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_greet_pause_late_early_talker)
{
	/* talking half-way through the pause is still too early */
	struct h_opts o = { .args = { "--greet-pause", "1" } };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_pause(&p, 500);
	ck_assert_int_eq(p.outlen, 0);
	h_sends(&p, "EHLO c.example\r\n");
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "554 5.5.1");
}
END_TEST

START_TEST(test_greet_pause_polite)
{
	struct h_opts o = { .args = { "--greet-pause", "1" } };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	ck_assert_ptr_nonnull(h_reply(&p, h_scaled(4000)));
	ck_assert_msg(h_elapsed(&p) >= 900, "greeting after %ld ms",
	    h_elapsed(&p));
	ck_assert_msg(strncmp(p.out, "220 " H_HOST " ESMTP pipesmtpd\r\n",
	    strlen(H_HOST) + 22) == 0, "'%s'", p.out);
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<u@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_say(&p, H_MSG ".\r\n", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

Suite *
limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = h_tcase("recipients");

	tcase_add_test(tc, test_rcpt_check);
	tcase_add_test(tc, test_rcpt_check_own_code);
	tcase_add_test(tc, test_rcpt_check_missing);
	tcase_add_test(tc, test_max_rcpt);
	tcase_add_test(tc, test_max_rcpt_per_transaction);
	tcase_add_test(tc, test_max_rcpt_excess_not_errors);
	tcase_add_test(tc, test_max_rcpt_overshoot_limit);
	tcase_add_test(tc, test_duplicates_delivered_once);
	tcase_add_test(tc, test_duplicates_per_recipient_replies);
	tcase_add_loop_test(tc, test_max_errors, 0,
	    sizeof(errors_cases) / sizeof(errors_cases[0]));
	tcase_add_test(tc, test_max_errors_closes);
	tcase_add_test(tc, test_max_errors_default);
	tcase_add_test(tc, test_junk_limit);
	tcase_add_test(tc, test_junk_kinds);
	tcase_add_test(tc, test_junk_reset_by_message);
	tcase_add_test(tc, test_junk_not_reset_by_refusal);
	suite_add_tcase(s, tc);

	/* the timed tests in three cases, which the suite runs side by side */
	tc = h_tcase("time");
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_slow_client_within_timeout);
	tcase_add_test(tc, test_slow_line_cut);
	tcase_add_test(tc, test_session_timeout);
	suite_add_tcase(s, tc);

	tc = h_tcase("time in data");
	tcase_add_test(tc, test_idle_timeout_in_data);
	tcase_add_test(tc, test_slow_data_cut);
	tcase_add_test(tc, test_min_data_rate);
	suite_add_tcase(s, tc);

	tc = h_tcase("greet pause");
	tcase_add_test(tc, test_greet_pause_early_talker);
	tcase_add_test(tc, test_greet_pause_late_early_talker);
	tcase_add_test(tc, test_greet_pause_polite);
	suite_add_tcase(s, tc);
	return s;
}

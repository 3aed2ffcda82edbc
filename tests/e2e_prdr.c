/*
 * e2e_prdr.c - the prdr suite: MAIL ... PRDR (draft-hall-prdr).
 *
 * PRDR advertised, 353 after the data, one reply per recipient and a
 * final reply, for DATA and BDAT, pipelined and lock-step; message-wide
 * failures; PRDR only when the client asks for it; spool failures and a
 * Delivered-To: loop.  Recipients' local parts choose the recorder's
 * behaviour (ok, exit75, exit67, dsn73, ...).  The transaction builders
 * (h_bdat, h_rcpts, ...) are in tests/harness_txn.c.
 */
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

struct prdr_case {
	const char *rcpts[5];
	const char *each;	/* the per-recipient codes */
	const char *final;	/* the final reply's start */
};

static const struct prdr_case prdr_cases[] = {
	{ { "ok", "exit75", "exit67" }, "250 2.0.0|451 4.3.0|550 5.1.1",
	  "250 2.0.0" },
	{ { "exit67", "dsn73" }, "550 5.1.1|550 5.2.2", "554 5." },
	{ { "exit75", "exit67" }, "451 4.3.0|550 5.1.1", "451 4." },
	{ { "exit67", "exit75" }, "550 5.1.1|451 4.3.0", "451 4." },
	{ { "ok" }, "250 2.0.0", "250 2.0.0" },
	{ { "exit75" }, "451 4.3.0", "451 4." },
	{ { "exit67" }, "550 5.1.1", "554 5." },
	{ { "a", "b", "c" }, "250 2.0.0|250 2.0.0|250 2.0.0", "250 2.0.0" },
	{ { "exit67", "ok" }, "550 5.1.1|250 2.0.0", "250 2.0.0" },
	{ { "crash", "dsn75", "exit78" }, "451 4.3.0|451 4.2.2|550 5.3.5",
	  "451 4." },
};

/* prdr_check - the replies from the 353 on (at reply `at`) */
static void
prdr_check(const struct h_result *r, const struct prdr_case *c, int at,
    const char *what)
{
	int n = 0, i;
	char *codes = h_strf("%s", "");
	char *fin;

	while (n < 5 && c->rcpts[n] != NULL)
		n++;
	for (i = 0; i < n + 1; i++) {
		char *l = h_line(r->out, at + i);
		char *one = h_codes(h_strf("%s\r\n", l ? l : "?"));

		codes = h_strf("%s%s%s", codes, i ? "|" : "", one);
	}
	ck_assert_msg(strcmp(codes, h_strf("353|%s", c->each)) == 0,
	    "%s: '%s', want '353|%s'", what, codes, c->each);
	fin = h_line(r->out, at + n + 1);
	ck_assert_msg(fin != NULL && strncmp(fin, c->final,
	    strlen(c->final)) == 0, "%s: final '%s', want '%s...'", what,
	    fin ? fin : "nothing", c->final);
	/* then the NOOP's and QUIT's replies only */
	ck_assert_msg(h_nreplies(r->out) == at + n + 4, "%s: '%s'", what,
	    h_codes(r->out));
	ck_assert_msg(strncmp(h_line(r->out, at + n + 2), "250 2.0.0 ", 10) ==
	    0, "%s: '%s'", what, h_codes(r->out));
}

START_TEST(test_prdr_table)
{
	const struct prdr_case *c = &prdr_cases[_i];
	int n = h_nrcpts(c->rcpts), via, i;

	for (via = 0; via < 3; via++) {	/* DATA, BDAT LAST, BDAT + LAST */
		struct h_result r;
		const char *data = via == 0 ? "DATA\r\n" H_MSG ".\r\n" :
		    via == 1 ? h_bdat(H_MSG, 1) : h_strf("%s%s",
		    h_bdat("Subject: test\r\n", 0), h_bdat("\r\nHello.\r\n", 1));
		char *head;

		h_fresh();
		h_run(&r, NULL, h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example> PRDR\r\n%s%sNOOP\r\nQUIT\r\n",
		    h_rcpts(c->rcpts), data));
		head = h_strf("220|250|250 2.1.0%s%s",
		    h_repeat("|250 2.1.5", (size_t)n),
		    via == 0 ? "|354" : via == 2 ? "|250 2.0.0" : "");
		ck_assert_msg(strncmp(h_codes(r.out), head, strlen(head)) == 0,
		    "case %d via %d: '%s'", _i, via, h_codes(r.out));
		prdr_check(&r, c, 3 + n + (via != 1), h_strf("case %d via %d",
		    _i, via));
		ck_assert_int_eq(h_count(h_dir), n);
		for (i = 1; i <= n; i++) {
			ck_assert_str_eq(h_run_body(i), H_MSG_LF);
			ck_assert_str_eq(h_env(h_dir, i, "RECIPIENT"),
			    h_strf("%s@mx.example", c->rcpts[i - 1]));
		}
	}
}
END_TEST

START_TEST(test_prdr_lock_step)
{
	/* the 353 and each recipient's reply come as they are decided */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example> PRDR\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<ok@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<exit67@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_sends(&p, H_MSG ".\r\n");
	h_expect(&p, "353");
	h_expect(&p, "250 2.0.0");
	h_expect(&p, "550 5.1.1");
	h_expect(&p, "250 2.0.0");
	h_pause(&p, 100);
	ck_assert_int_eq(p.outlen, p.seen);
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_prdr_message_wide)
{
	/* a message-wide failure: one ordinary reply, no 353, nothing run */
	static const struct {
		const char *opt[3];
		const char *msg;
		const char *want;
	} cases[] = {
		{ { "--max-size", "80" }, NULL, "552 5.3.4" },	/* 116 */
		{ { "--max-hops", "1" }, H_MSG_HOPS2, "554 5.4.6" },
		{ { "--strict-newlines" }, H_MSG_BARE_LF, "554 5.6.0" },
	};
	size_t k;
	int via;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (via = 0; via < 2; via++) {
			struct h_opts o = { .args = { cases[k].opt[0],
			    cases[k].opt[1], cases[k].opt[2] } };
			const char *msg = cases[k].msg != NULL ? cases[k].msg :
			    h_strf("Subject: x\r\n\r\n%s\r\n",
			    h_repeat("z", 100));
			struct h_result r;
			char *got;

			h_fresh();
			h_run(&r, &o, h_strf("EHLO c.example\r\n"
			    "MAIL FROM:<s@x.example> PRDR\r\n"
			    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>"
			    "\r\n%sNOOP\r\nQUIT\r\n", via == 0 ?
			    h_strf("DATA\r\n%s.\r\n", msg) :
			    h_bdat_halves(msg)));
			got = h_codes(r.out);
			ck_assert_msg(strcmp(got, h_strf("220|250|250 2.1.0|"
			    "250 2.1.5|250 2.1.5|%s%s|250 2.0.0|221 2.0.0",
			    via == 0 ? "354|" : "250 2.0.0|", cases[k].want)) ==
			    0,
			    "case %zu via %s: '%s'", k, via ? "BDAT" : "DATA",
			    got);
			ck_assert_int_eq(h_count(h_dir), 0);
		}
}
END_TEST

START_TEST(test_prdr_only_when_asked)
{
	/* without the parameter: one summary reply; the parameter holds
	 * for its own transaction only; it combines with others */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\n"
	    "MAIL FROM:<s@x.example> SIZE=100 prdr BODY=8BITMIME\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\n"
	    "MAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\n"
	    "MAIL FROM:<s@x.example> PRDR\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<exit67@mx.example>\r\n"
	    "BDAT 3 LAST\r\nx\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|"
	    "250 2.1.0|250 2.1.5|250 2.1.5|354|353|250 2.0.0|451 4.3.0|"
	    "250 2.0.0|"
	    "250 2.1.0|250 2.1.5|250 2.1.5|250 2.1.5|354|451 4.3.0|"
	    "250 2.1.0|250 2.0.0|"
	    "250 2.1.0|250 2.1.5|554 5.1.1|221 2.0.0");
	ck_assert_msg(strstr(h_line(r.out, 15), "1 of 3") != NULL, "'%s'",
	    h_line(r.out, 15));
	ck_assert_int_eq(h_count(h_dir), 6);
}
END_TEST

START_TEST(test_prdr_advertised)
{
	struct h_result r;
	char *kw;

	h_run(&r, NULL, "EHLO c.example\r\nQUIT\r\n");
	kw = h_keywords(r.out);
	ck_assert_msg(strstr(kw, "|PRDR|") != NULL, "'%s'", kw);
	ck_assert_msg(strstr(kw, "|CHUNKING|") != NULL, "'%s'", kw);
}
END_TEST

START_TEST(test_prdr_spool_and_loop)
{
	/* PRDR: a spool failure of the message is one ordinary reply; a
	 * Delivered-To loop is one recipient's own 550 5.4.6 */
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	struct h_opts o1 = { .fsize = 65536 };
	struct h_opts o2 = { .args = { "--delivered-to" } };
	struct h_result r;

	h_run(&r, &o1, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example> PRDR"
	    "\r\nRCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n%s.\r\nQUIT\r\n", big));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|452 4.3.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);

	h_fresh();
	h_run(&r, &o2, "EHLO c.example\r\nMAIL FROM:<s@x.example> PRDR\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nDelivered-To: a@mx.example\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|353|550 5.4.6|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
}
END_TEST

/* ====================================================== suites ==== */

Suite *
prdr_suite(void)
{
	Suite *s = suite_create("prdr");
	TCase *tc = h_tcase("prdr");

	tcase_add_test(tc, test_prdr_advertised);
	tcase_add_loop_test(tc, test_prdr_table, 0,
	    sizeof(prdr_cases) / sizeof(prdr_cases[0]));
	tcase_add_test(tc, test_prdr_lock_step);
	tcase_add_test(tc, test_prdr_message_wide);
	tcase_add_test(tc, test_prdr_only_when_asked);
	tcase_add_test(tc, test_prdr_spool_and_loop);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e_jobs.c - the jobs suite: --jobs N, delivery commands run at once.
 *
 * Several commands of one transaction run together (the wall clock says
 * so), yet what the client and the log see stays in RCPT order: LMTP
 * replies and log lines when a later recipient ends first.  Every path
 * stays exact with --jobs 4: commands fed through their own pipes
 * (--delivered-to) while another does not read, timeouts, SIGCHLD
 * ignored at start, a background child holding the output, kill -9 of
 * the server mid-delivery (no 250), duplicates folded before they run.
 * Runs of the recorder may number their records in any order here: a
 * record is found by its RECIPIENT.
 */
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* slow_cmd - the recorder, after sleeping 1 s for recipients whose
 * local part starts with "slow" */
static void
slow_cmd(struct h_opts *o)
{
	o->cmd[0] = "/bin/sh";
	o->cmd[1] = "-c";
	o->cmd[2] = "case $RECIPIENT in slow*) sleep 1;; esac; "
	    "exec " H_RECORDER " \"$0\"";
	o->cmd[3] = h_dir;
}

/* record_of - the record whose RECIPIENT is rcpt, or 0 */
static int
record_of(const char *rcpt)
{
	int n, count = h_count(h_dir);

	for (n = 1; n <= count; n++)
		if (strcmp(h_env(h_dir, n, "RECIPIENT"), rcpt) == 0)
			return n;
	return 0;
}

/* logged_to - the to= addresses of the log's delivery lines, in order,
 * each followed by '|' */
static char *
logged_to(const char *log)
{
	char *all = h_strf("%s", "");
	const char *l;

	for (l = log; (l = strstr(l, " to=<")) != NULL; l++)
		all = h_strf("%s%.*s|", all, (int)strcspn(l + 5, ">"), l + 5);
	return all;
}

/* delay_of - the delay= of rcpt's delivery line, or -1 */
static double
delay_of(const char *log, const char *rcpt)
{
	const char *l = strstr(log, h_strf(" to=<%s>", rcpt));

	if (l == NULL || (l = strstr(l, "delay=")) == NULL)
		return -1;
	return atof(l + 6);
}

START_TEST(test_jobs_run_at_once)
{
	/* four commands of 1 s each end in about 1 s, not 4: 250 for all */
	struct h_opts o = { .args = { "--jobs", "4" } };
	struct h_result r;
	int i;

	slow_cmd(&o);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<slow1@mx.example>",
	    "<slow2@mx.example>", "<slow3@mx.example>", "<slow4@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 4);
	for (i = 1; i <= 4; i++)
		ck_assert_str_eq(h_body(h_stdin(h_dir, record_of(h_strf(
		    "slow%d@mx.example", i)), NULL)), H_MSG_LF);
	ck_assert_msg(r.ms >= 1000 && r.ms < 2600 + h_scaled(400) - 400,
	    "4 x 1 s with --jobs 4 took %ld ms", r.ms);
	ck_assert_str_eq(logged_to(r.log), "slow1@mx.example|"
	    "slow2@mx.example|slow3@mx.example|slow4@mx.example|");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_lmtp_order)
{
	/* the first recipient ends last: its reply still comes first, the
	 * others' after it in RCPT order, and the log lines too; a
	 * duplicate gets its first's reply and is delivered once */
	struct h_opts o = { .args = { "--lmtp", "--jobs", "4" } };
	struct h_result r;

	slow_cmd(&o);
	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<slow@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<SLOW@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\nDATA\r\n%s.\r\nQUIT\r\n",
	    H_MSG));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|"
	    "451 4.3.0|250 2.0.0|250 2.0.0|550 5.1.1|221 2.0.0");
	ck_assert_ptr_nonnull(strstr(h_line(r.out, 9), "<slow@mx.example>"));
	ck_assert_int_eq(h_count(h_dir), 4);
	ck_assert_str_eq(logged_to(r.log), "slow@mx.example|"
	    "exit75@mx.example|ok@mx.example|exit67@mx.example|");
	/* the later ones ended long before the first */
	ck_assert_msg(delay_of(r.log, "ok@mx.example") < 0.8, "%s", r.log);
	ck_assert_msg(delay_of(r.log, "slow@mx.example") >= 1.0, "%s", r.log);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_pipes_fed_at_once)
{
	/* --delivered-to: every command reads its own pipe; a message far
	 * larger than a pipe holds reaches every reader whole while one
	 * command sleeps before reading and another never reads */
	struct h_opts o = { .args = { "--delivered-to", "--jobs", "4",
	    "--max-size", "4000000" } };
	char *body = h_strf("Subject: big\r\n\r\n%s",
	    h_repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef"
	    "ghijklmnopqrstuv\r\n", 16000));
	const char *const fast[] = { "a@mx.example", "b@mx.example" };
	struct h_result r;
	size_t i;

	slow_cmd(&o);
	h_run(&r, &o, h_txn("<s@x.example>", body, "<slow@mx.example>",
	    "<noread@mx.example>", "<a@mx.example>", "<b@mx.example>",
	    NULL));
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|221 2.0.0") == 0,
	    "'%s' log '%s'", r.out, r.log);
	ck_assert_int_eq(h_count(h_dir), 4);
	for (i = 0; i < 2; i++) {
		int n = record_of(fast[i]);

		ck_assert_str_eq(h_header(h_stdin(h_dir, n, NULL),
		    "Delivered-To"), h_strf("Delivered-To: %s\n", fast[i]));
		ck_assert_uint_eq(strlen(h_body(h_stdin(h_dir, n, NULL))),
		    14 + 16000 * 69);
		ck_assert_msg(delay_of(r.log, fast[i]) < 0.8,
		    "%s stalled: %s", fast[i], r.log);
	}
	ck_assert_uint_eq(strlen(h_body(h_stdin(h_dir,
	    record_of("slow@mx.example"), NULL))), 14 + 16000 * 69);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_timeouts)
{
	/* two commands that hang are killed together at their timeout, not
	 * one after the other: 451 under SMTP, and the others delivered */
	struct h_opts o = { .args = { "--lmtp", "--jobs", "4",
	    "--delivery-timeout", "2" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<sleep1@mx.example>\r\nRCPT TO:<ok@mx.example>\r\n"
	    "RCPT TO:<sleep2@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|354|451 4.3.0|250 2.0.0|451 4.3.0|"
	    "221 2.0.0");
	ck_assert_ptr_nonnull(strstr(h_line(r.out, 7), "timed out"));
	ck_assert_msg(r.ms >= 2000 && r.ms < 3900 + h_scaled(400) - 400,
	    "two 2 s timeouts took %ld ms", r.ms);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_sigchld_bgchild)
{
	/* SIGCHLD ignored at start, and commands that leave a child holding
	 * their output: every exit 0 is seen, promptly */
	struct h_opts o = { .sigchld_ignored = _i, .args = { "--jobs", "4" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<bgchild1@mx.example>",
	    "<ok@mx.example>", "<bgchild2@mx.example>", "<exit0@mx.example>",
	    "<bgchild3@mx.example>", NULL));
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|"
	    "221 2.0.0") == 0, "'%s' log '%s'", r.out, r.log);
	ck_assert_int_eq(h_count(h_dir), 5);
	ck_assert_str_eq(h_body(h_stdin(h_dir, record_of("ok@mx.example"),
	    NULL)), H_MSG_LF);
	ck_assert_msg(r.ms < h_scaled(3000), "took %ld ms", r.ms);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_killed_mid_delivery)
{
	/* kill -9 of the server while its commands run: no 250, ever */
	struct h_opts o = { .args = { "--jobs", "4" } };
	struct h_proc p;
	struct h_result r;

	slow_cmd(&o);
	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<ok@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<slow@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<ok2@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_sends(&p, H_MSG ".\r\n");
	h_pause(&p, 500);
	ck_assert_int_eq(h_count(h_dir), 2);
	kill(p.pid, SIGKILL);
	h_finish(&p, &r);
	ck_assert_ptr_null(strstr(r.out, "\r\n250 2.0.0"));
	ck_assert_ptr_null(strstr(r.out, "\r\n250 2.6.0"));
	ck_assert_int_eq(r.code, -1);
}
END_TEST

START_TEST(test_jobs_duplicates_folded)
{
	/* duplicates and aliases are folded before anything runs: one
	 * command per mailbox even when they could all run at once */
	struct h_opts o = { .args = { "--jobs", "8" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<v@mx.example>",
	    "<V@MX.EXAMPLE>", "<\"v\"@mx.example>", "<w@mx.example>",
	    "<v@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(logged_to(r.log), "v@mx.example|w@mx.example|");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_jobs_as_recipient)
{
	/* --as-recipient with --jobs 4: each command, running beside the
	 * others, as its own recipient's account (root only) */
	static const char *const rcpts[][2] = {
		{ "nobody@mx.example", "nobody" },
		{ "nobody+a@mx.example", "nobody" },
		{ "postmaster@mx.example", "daemon" },
	};
	struct h_opts o = { .no_allow_root = 1, .args = { "--as-recipient",
	    "--postmaster", "daemon", "--jobs", "4" } };
	struct h_result r;
	char cwd[4096];
	size_t i;

	if (!h_root() || getpwnam("nobody") == NULL ||
	    getpwnam("nobody")->pw_uid < 1000 || getpwnam("daemon") == NULL)
		return;
	/* the command runs in the account's home (or /): a whole path */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	o.cmd[0] = "--";
	o.cmd[1] = h_strf("%s/%s", cwd, &H_RECORDER[2]);	/* past "./" */
	o.cmd[2] = h_dir;
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<nobody@mx.example>",
	    "<nobody+a@mx.example>", "<postmaster@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(3, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 3);
	for (i = 0; i < sizeof(rcpts) / sizeof(rcpts[0]); i++) {
		int n = record_of(rcpts[i][0]);
		char *ids = n > 0 ? h_file(h_dir, n, "ids", NULL) : NULL;

		ck_assert_msg(ids != NULL && strstr(ids, h_strf("uid %u\n",
		    (unsigned)getpwnam(rcpts[i][1])->pw_uid)) == ids,
		    "%s: ids '%s'", rcpts[i][0], ids ? ids : "none");
		ck_assert_str_eq(h_body(h_stdin(h_dir, n, NULL)), H_MSG_LF);
	}
	ck_assert_str_eq(logged_to(r.log), "nobody@mx.example|"
	    "nobody+a@mx.example|postmaster@mx.example|");
}
END_TEST

START_TEST(test_jobs_option)
{
	/* --jobs takes 1 to 64; anything else is a usage error */
	static const char *const bad[] = { "0", "65", "x", "-1" };
	struct h_opts o = { .args = { "--jobs", NULL } };
	struct h_result r;

	o.args[1] = bad[_i];
	h_run(&r, &o, "QUIT\r\n");
	ck_assert_int_eq(r.code, 64);
	ck_assert_ptr_nonnull(strstr(r.log, "jobs"));
}
END_TEST

Suite *
jobs_suite(void)
{
	Suite *s = suite_create("jobs");
	TCase *tc = h_tcase("jobs");

	tcase_add_test(tc, test_jobs_run_at_once);
	tcase_add_test(tc, test_jobs_lmtp_order);
	tcase_add_test(tc, test_jobs_pipes_fed_at_once);
	tcase_add_test(tc, test_jobs_timeouts);
	tcase_add_loop_test(tc, test_jobs_sigchld_bgchild, 0, 2);
	tcase_add_test(tc, test_jobs_killed_mid_delivery);
	tcase_add_test(tc, test_jobs_duplicates_folded);
	tcase_add_test(tc, test_jobs_as_recipient);
	tcase_add_loop_test(tc, test_jobs_option, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e_outcome.c - delivery outcomes (pipesmtpd(8) OUTCOMES): exit status
 * to reply, the command's own D.S.N code, signals, missing programs,
 * mixed recipients, the delivery timeout and its process group, commands
 * that do not read, that write much, or that leave a child behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* One recipient whose local part picks the recorder's behaviour. */
struct exit_case {
	const char *local;
	const char *want;	/* final reply "code dsn" */
	const char *text;	/* in the reply text, or NULL */
};

static const struct exit_case exit_cases[] = {
	{ "ok", "250 2.0.0", NULL },
	{ "exit0", "250 2.0.0", NULL },
	{ "exit75", "451 4.3.0", NULL },
	{ "exit71", "451 4.3.0", NULL },
	{ "exit67", "554 5.1.1", NULL },
	{ "exit68", "554 5.1.2", NULL },
	{ "exit65", "554 5.6.0", NULL },
	{ "exit73", "554 5.2.0", NULL },
	{ "exit77", "554 5.7.0", NULL },
	{ "exit74", "554 5.3.0", NULL },
	{ "exit64", "554 5.3.0", NULL },
	{ "exit66", "554 5.3.0", NULL },
	{ "exit69", "554 5.3.0", NULL },
	{ "exit70", "554 5.3.0", NULL },
	{ "exit72", "554 5.3.0", NULL },
	{ "exit76", "554 5.5.0", NULL },
	{ "exit78", "554 5.3.5", NULL },
	{ "exit1", "554 5.3.0", NULL },
	{ "exit99", "554 5.3.0", NULL },
	{ "exit255", "554 5.3.0", NULL },
	{ "dsn73", "554 5.2.2", "mailbox full" },
	{ "dsn67", "554 5.2.2", "mailbox full" },
	{ "dsn75", "451 4.2.2", "try later" },
	{ "dsn71", "451 4.2.2", "try later" },
	{ "crash", "451 4.3.0", NULL },
	{ "noread", "250 2.0.0", NULL },
	{ "spew", "250 2.0.0", NULL },
};

START_TEST(test_exit_table)
{
	const struct exit_case *c = &exit_cases[_i];
	struct h_result r;
	char *rcpt = h_strf("<%s@mx.example>", c->local), *l;

	h_run(&r, NULL, h_txn("<s@x.example>", H_MSG, rcpt, NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, c->want, strlen(c->want)) == 0
	    && l[strlen(c->want)] == ' ', "%s: got '%s', want '%s'", c->local,
	    l ? l : "nothing", c->want);
	if (c->text != NULL)
		ck_assert_msg(strstr(l, c->text) != NULL, "%s: '%s' lacks '%s'",
		    c->local, l, c->text);
	ck_assert_int_lt(strlen(l), 512);	/* output is never sent raw */
	ck_assert_int_eq(h_count(h_dir), 1);	/* it ran, once */
	l = h_line(r.out, 6);
	ck_assert_msg(l != NULL && strncmp(l, "221 2.0.0", 9) == 0,
	    "%s: the session did not go on", c->local);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_spew_no_deadlock)
{
	/* 4 MB on stdout and stderr while a 2 MB message waits on stdin */
	char *body = h_repeat("0123456789012345678901234567890123456789012345"
	    "67890123456789\r\n", 32768);
	struct h_result r;
	size_t len;

	h_run(&r, NULL, h_txn("<s@x.example>", body, "<spew@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	h_stdin(h_dir, 1, &len);
	ck_assert_str_eq(h_env(h_dir, 1, "SIZE"), h_strf("%zu", len));
	ck_assert_int_eq(strlen(h_body(h_stdin(h_dir, 1, NULL))),
	    32768 * 61);
	ck_assert_msg(strstr(r.out, "xxxxxxxx") == NULL, "command output "
	    "reached the client");
}
END_TEST

START_TEST(test_noread_large)
{
	/* a command that exits 0 without reading 2 MB has delivered */
	char *body = h_repeat("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl"
	    "mnopqrstuvwxyz\r\n", 32768);
	struct h_result r;

	h_run(&r, NULL, h_txn("<s@x.example>", body, "<noread@mx.example>",
	    "<after@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(2, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_ptr_null(h_file(h_dir, 1, "stdin", NULL));
	ck_assert_int_eq(strlen(h_body(h_stdin(h_dir, 2, NULL))), 32768 * 63);
}
END_TEST

START_TEST(test_bgchild_prompt)
{
	/* the reply waits for the exit, not for the pipe to close */
	struct h_result r;

	h_run(&r, NULL, h_txn("<s@x.example>", H_MSG, "<bgchild@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_msg(r.ms < h_scaled(5000), "the session took %ld ms", r.ms);
}
END_TEST

START_TEST(test_missing_program)
{
	static const char *const progs[] = { "./tests/no-such-program",
	    "no-such-program-anywhere", "/nonexistent/dir/prog",
	    "./tests" };
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct h_opts o = { .cmd = { "--", progs[i], h_dir } };
		struct h_result r;
		char *l;

		h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>",
		    NULL));
		l = h_line(r.out, 5);
		ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0,
		    "%s: '%s'", progs[i], l ? l : "nothing");
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

START_TEST(test_not_executable)
{
	char *path = h_subdir("notexec");
	struct h_opts o = { .cmd = { "--", path } };
	struct h_result r;
	FILE *f = fopen(path, "w");
	char *l;

	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	chmod(path, 0644);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	/* execve needs an x bit, even for root */
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0, "'%s'",
	    r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* Several recipients with mixed outcomes: one reply for all. */
struct mixed_case {
	const char *rcpts[5];
	const char *want;	/* "code dsn" */
	const char *count;	/* "delivered" count text in the reply */
};

static const struct mixed_case mixed_cases[] = {
	{ { "a", "b", "c" }, "250 2.0.0", NULL },
	{ { "a", "exit75", "b" }, "451 4.3.0", "2 of 3" },
	{ { "exit67", "exit75" }, "451 4.3.0", "0 of 2" },
	{ { "a", "exit67", "dsn75" }, "451 4.2.2", "1 of 3" },
	{ { "exit67", "a" }, "554 5.1.1", "1 of 2" },
	{ { "exit67", "dsn73" }, "554 5.1.1", "0 of 2" },
	{ { "dsn73", "exit67" }, "554 5.2.2", "0 of 2" },
	{ { "a", "exit77", "exit67", "b" }, "554 5.7.0", "2 of 4" },
	{ { "crash", "exit67" }, "451 4.3.0", "0 of 2" },
	{ { "exit65", "crash", "a" }, "451 4.3.0", "1 of 3" },
};

START_TEST(test_mixed)
{
	const struct mixed_case *c = &mixed_cases[_i];
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n");
	struct h_result r;
	char *l;
	int n, i;

	for (n = 0; n < 5 && c->rcpts[n] != NULL; n++) {
		char *t = h_strf("%sRCPT TO:<%s@mx.example>\r\n", in,
		    c->rcpts[n]);

		in = t;
	}
	in = h_strf("%sDATA\r\n" H_MSG ".\r\nQUIT\r\n", in);
	h_run(&r, NULL, in);
	l = h_line(r.out, 4 + n);
	ck_assert_msg(l != NULL && strncmp(l, c->want, strlen(c->want)) == 0,
	    "case %d: got '%s', want '%s'", _i, l ? l : "nothing", c->want);
	if (c->count != NULL)
		ck_assert_msg(strstr(l, c->count) != NULL, "case %d: '%s' does "
		    "not say '%s' recipients were delivered", _i, l, c->count);
	/* every recipient's command ran, in RCPT order */
	ck_assert_int_eq(h_count(h_dir), n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(h_env(h_dir, i + 1, "RECIPIENT"),
		    h_strf("%s@mx.example", c->rcpts[i]));
}
END_TEST

START_TEST(test_delivery_timeout)
{
	/* the command and its whole process group are killed: temporary */
	struct h_opts o = { .args = { "--delivery-timeout", "1" } };
	struct h_result r;
	char *gc, *l;
	long pid;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<sleep@mx.example>",
	    "<after@mx.example>", NULL));
	l = h_line(r.out, 6);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0, "'%s'",
	    r.out);
	ck_assert_msg(strstr(l, "1 of 2") != NULL, "'%s'", l);
	ck_assert_msg(r.ms >= 900 && r.ms < h_scaled(6000), "took %ld ms", r.ms);
	ck_assert_int_eq(h_count(h_dir), 2);
	gc = h_file(h_dir, 1, "grandchild", NULL);
	ck_assert_ptr_nonnull(gc);
	pid = strtol(gc, NULL, 10);
	ck_assert_int_gt(pid, 1);
	ck_assert_msg(h_dead((pid_t)pid, h_scaled(3000)), "grandchild %ld still runs",
	    pid);
}
END_TEST

START_TEST(test_outcome_not_an_error)
{
	/* outcome replies do not count towards --max-errors */
	struct h_opts o = { .args = { "--max-errors", "2" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<exit67@mx.example>\r\n"
	    "DATA\r\nx\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "DATA\r\nx\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<ok@mx.example>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|"
	    "250 2.1.0|250 2.1.5|354|554 5.1.1|"
	    "250 2.1.0|250 2.1.5|354|451 4.3.0|"
	    "250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
}
END_TEST

/* The command's own output: first line only, sanitised, cut to 200
 * characters; a leading code of the exit status's class replaces the
 * table's.  Each row is a shell script run as the delivery command. */
struct output_case {
	const char *script;
	const char *want;	/* "code dsn" of the reply */
	const char *has;	/* text the reply must contain, or NULL */
	const char *lacks;	/* text it must not contain, or NULL */
};

static const struct output_case output_cases[] = {
	{ "echo '5.2.2 mailbox full'; exit 73", "554 5.2.2", "mailbox full",
	  NULL },
	{ "echo '5.7.1 denied here' >&2; exit 77", "554 5.7.1", "denied here",
	  NULL },
	{ "echo '5.2.2 full'; exit 75", "451 4.3.0", NULL, NULL },
	{ "echo '4.2.2 later'; exit 73", "554 5.2.0", NULL, NULL },
	{ "echo '5.2.2 fine'; exit 0", "250 2.0.0", NULL, NULL },
	{ "echo '4.4.7 slow'; exit 71", "451 4.4.7", "slow", NULL },
	{ "echo 'first line'; echo 'second line'; exit 67", "554 5.1.1",
	  "first line", "second line" },
	{ "printf '\033[31mred\033[0m\tx\r\nsecond\n'; exit 65",
	  "554 5.6.0", "red", "\033" },
	{ "printf 'caf\303\251 \001\177 x\n'; exit 66", "554 5.3.0", "caf",
	  "\303" },
	{ "cat >/dev/null; kill -9 $$", "451 4.3.0", NULL, NULL },
	{ "kill -TERM $$", "451 4.3.0", NULL, NULL },
};

START_TEST(test_output_table)
{
	const struct output_case *c = &output_cases[_i];
	struct h_opts o = { .cmd = { "--", "/bin/sh", "-c", c->script,
	    "sh" } };
	struct h_result r;
	char *l;
	size_t i;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, c->want, strlen(c->want)) == 0 &&
	    l[strlen(c->want)] == ' ', "'%s': got '%s', want '%s'", c->script,
	    l ? l : "nothing", c->want);
	if (c->has != NULL)
		ck_assert_msg(strstr(l, c->has) != NULL, "'%s': '%s' lacks '%s'",
		    c->script, l, c->has);
	if (c->lacks != NULL)
		ck_assert_msg(strstr(l, c->lacks) == NULL, "'%s': '%s' has '%s'",
		    c->script, l, c->lacks);
	for (i = 0; l[i] != '\0'; i++)
		ck_assert_msg((unsigned char)l[i] >= 32 &&
		    (unsigned char)l[i] < 127, "'%s': raw octet in '%s'",
		    c->script, l);
	l = h_line(r.out, 6);
	ck_assert_msg(l != NULL && strncmp(l, "221 2.0.0", 9) == 0,
	    "'%s': the session did not go on", c->script);
}
END_TEST

START_TEST(test_output_cut)
{
	/* a 1000-character first line reaches the reply cut to 200 */
	struct h_opts o = { .cmd = { "--", "/bin/sh", "-c",
	    "cat >/dev/null; printf '5.2.2 '; i=0; while [ $i -lt 100 ]; do "
	    "printf 'abcdefghij'; i=$((i+1)); done; echo; exit 73", "sh" } };
	struct h_result r;
	char *l, *run;
	size_t n = 0;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(strncmp(l, "554 5.2.2 ", 10) == 0, "'%s'", l);
	run = strstr(l, "abcdefghij");
	ck_assert_ptr_nonnull(run);
	while (run[n] >= 'a' && run[n] <= 'j')
		n++;
	ck_assert_msg(n >= 150 && n <= 200, "%zu characters of output in "
	    "'%s'", n, l);
}
END_TEST

/* ---- inherited process state ---- */

/* How a launcher may start us: SIGCHLD ignored (bash, Python and Perl
 * wrappers do that), every signal blocked, or both. */
static const struct h_opts inherited_cases[] = {
	{ .sigchld_ignored = 1 },
	{ .sigmask_all = 1 },
	{ .sigchld_ignored = 1, .sigmask_all = 1 },
};

START_TEST(test_inherited_state)
{
	/* the check's exit codes and the delivery's exit 0 count as they
	 * would under a clean start, and promptly: not after the timeout */
	char *check = h_subdir("check");
	struct h_opts o = inherited_cases[_i];
	struct h_result r;

	o.args[0] = "--rcpt-check";
	o.args[1] = h_strf("%s %s %%r", H_RECORDER, check);
	o.args[2] = "--delivery-timeout";
	o.args[3] = "3";
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<exit67@mx.example>",
	    "<ok@mx.example>", "<exit75@mx.example>", NULL));
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|550 5.1.1|"
	    "250 2.1.5|450 4.2.1|354|250 2.0.0|221 2.0.0") == 0,
	    "case %d: '%s' log '%s'", _i, r.out, r.log);
	ck_assert_int_eq(h_count(check), 3);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "ok@mx.example");
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), H_MSG_LF);
	ck_assert_msg(r.ms < h_scaled(2500), "case %d took %ld ms", _i, r.ms);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

Suite *
outcome_suite(void)
{
	Suite *s = suite_create("outcome");
	TCase *tc = h_tcase("exit");

	tcase_add_loop_test(tc, test_exit_table, 0,
	    sizeof(exit_cases) / sizeof(exit_cases[0]));
	tcase_add_test(tc, test_missing_program);
	tcase_add_test(tc, test_not_executable);
	tcase_add_loop_test(tc, test_mixed, 0,
	    sizeof(mixed_cases) / sizeof(mixed_cases[0]));
	tcase_add_test(tc, test_outcome_not_an_error);
	tcase_add_loop_test(tc, test_output_table, 0,
	    sizeof(output_cases) / sizeof(output_cases[0]));
	tcase_add_test(tc, test_output_cut);
	suite_add_tcase(s, tc);

	tc = h_tcase("processes");
	tcase_add_test(tc, test_spew_no_deadlock);
	tcase_add_test(tc, test_noread_large);
	tcase_add_test(tc, test_bgchild_prompt);
	tcase_add_test(tc, test_delivery_timeout);
	suite_add_tcase(s, tc);

	tc = h_tcase("inherited");
	tcase_add_loop_test(tc, test_inherited_state, 0,
	    sizeof(inherited_cases) / sizeof(inherited_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

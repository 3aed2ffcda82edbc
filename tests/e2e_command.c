/*
 * e2e_command.c - the delivery command (pipesmtpd(8) SYNOPSIS,
 * PLACEHOLDERS, ENVIRONMENT): argv
 * placeholders, one word per template word, never a shell; the clean
 * environment with --env; PATH; the command's descriptors.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define IDENTITY "PROTO=TCP", "TCPREMOTEIP=192.0.2.7", \
	"TCPREMOTEHOST=h.example"

START_TEST(test_placeholders)
{
	struct h_opts o = {
		.cmd = { "--", H_RECORDER, h_dir, "%s", "%r", "%u", "%l", "%e",
		    "%d", "%i", "%h", "%q", "%%", "x%%y", "%l at %d", "<%r>",
		    "%%s", "plain", "" },
		.env = { IDENTITY },
	};
	static const char *const want[] = { "s@x.example",
	    "John Doe+Box@mx.example", "john doe", "John Doe+Box", "Box",
	    "mx.example", "192.0.2.7", "helo.example", NULL, "%", "x%y",
	    "John Doe+Box at mx.example", "<John Doe+Box@mx.example>", "%s",
	    "plain", "" };
	struct h_result r;
	char *qid;
	size_t i;

	h_run(&r, &o, "EHLO helo.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<\"John Doe+Box\"@MX.Example>\r\nDATA\r\n" H_MSG
	    ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	qid = h_env(h_dir, 1, "QUEUE_ID");
	ck_assert_ptr_nonnull(qid);
	ck_assert_int_eq(h_argc(h_dir, 1), 2 + 16);
	for (i = 0; i < 16; i++) {
		char *a = h_argv(h_dir, 1, (int)i + 2);

		ck_assert_msg(strcmp(a, want[i] ? want[i] : qid) == 0,
		    "argv[%zu] '%s', want '%s'", i + 2, a,
		    want[i] ? want[i] : qid);
	}
	ck_assert_msg(strstr(r.out, qid) != NULL, "%%q '%s' is not the "
	    "queue id of the reply '%s'", qid, r.out);
}
END_TEST

START_TEST(test_values_stay_one_word)
{
	/* spaces, quotes and shell syntax inside values never split a word
	 * nor reach a shell */
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "%l", "$(%l)",
	    "`id`", "a;b", "%r|cat", "$HOME", "*" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<\"a  b;c'\\\"d\"@mx.example>\r\nDATA\r\n" H_MSG
	    ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_argc(h_dir, 1), 9);
	ck_assert_str_eq(h_argv(h_dir, 1, 2), "a  b;c'\"d");
	ck_assert_str_eq(h_argv(h_dir, 1, 3), "$(a  b;c'\"d)");
	ck_assert_str_eq(h_argv(h_dir, 1, 4), "`id`");
	ck_assert_str_eq(h_argv(h_dir, 1, 5), "a;b");
	ck_assert_str_eq(h_argv(h_dir, 1, 6), "a  b;c'\"d@mx.example|cat");
	ck_assert_str_eq(h_argv(h_dir, 1, 7), "$HOME");
	ck_assert_str_eq(h_argv(h_dir, 1, 8), "*");
}
END_TEST

START_TEST(test_argv0_and_dashdash)
{
	/* options after "--" belong to the command */
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "--help",
	    "-v" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_argv(h_dir, 1, 0), H_RECORDER);
	ck_assert_str_eq(h_argv(h_dir, 1, 2), "--help");
	ck_assert_str_eq(h_argv(h_dir, 1, 3), "-v");
}
END_TEST

/* env_names - the variable names of run n, sorted, joined by spaces */
static char *
env_names(int n)
{
	char *f, *s = h_strf("%s", "");
	const char *names[64];
	size_t len, pos = 0, k = 0, i, j;

	f = h_file(h_dir, n, "env", &len);
	ck_assert_ptr_nonnull(f);
	while (pos < len && k < 64) {
		names[k++] = f + pos;
		pos += strlen(f + pos) + 1;
	}
	for (i = 1; i < k; i++)		/* insertion sort */
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (i = 0; i < k; i++) {
		char *t = h_strf("%s%s%.*s", s, i ? " " : "",
		    (int)strcspn(names[i], "="), names[i]);

		s = t;
	}
	return s;
}

START_TEST(test_environment)
{
	struct h_opts o = {
		.args = { "--env", "FOO=bar baz", "--env", "HOME", "--env",
		    "EMPTY=", "--env", "EQ=a=b" },
		.env = { IDENTITY, "PATH=/usr/bin:/bin:/opt/x", "HOME=/home/srv",
		    "LEAKME=secret", "LD_PRELOAD=/nonexistent.so", "IFS=x",
		    "REMOTE_ADDR=203.0.113.9", "TMPDIR=/tmp" },
	};
	struct h_result r;
	size_t len;

	h_run(&r, &o, "EHLO helo.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<User+Ext@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(env_names(1), "CLIENT_ADDRESS CLIENT_HELO DOMAIN "
	    "EMPTY EQ EXTENSION FOO HOME LOCAL ORIGINAL_RECIPIENT PATH QUEUE_ID "
	    "RECIPIENT SENDER SIZE");
	ck_assert_str_eq(h_env(h_dir, 1, "PATH"), "/usr/bin:/bin:/opt/x");
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), "s@x.example");
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "User+Ext@mx.example");
	ck_assert_str_eq(h_env(h_dir, 1, "ORIGINAL_RECIPIENT"),
	    "User+Ext@mx.example");		/* no --aliases: the same */
	ck_assert_str_eq(h_env(h_dir, 1, "LOCAL"), "user");
	ck_assert_str_eq(h_env(h_dir, 1, "EXTENSION"), "Ext");
	ck_assert_str_eq(h_env(h_dir, 1, "DOMAIN"), "mx.example");
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), "192.0.2.7");
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_HELO"), "helo.example");
	ck_assert_int_gt(strlen(h_env(h_dir, 1, "QUEUE_ID")), 0);
	h_stdin(h_dir, 1, &len);
	ck_assert_str_eq(h_env(h_dir, 1, "SIZE"), h_strf("%zu", len));
	ck_assert_str_eq(h_env(h_dir, 1, "FOO"), "bar baz");
	ck_assert_str_eq(h_env(h_dir, 1, "HOME"), "/home/srv");
	ck_assert_str_eq(h_env(h_dir, 1, "EMPTY"), "");
	ck_assert_str_eq(h_env(h_dir, 1, "EQ"), "a=b");
}
END_TEST

START_TEST(test_environment_minimal)
{
	/* without --env: exactly the documented variables */
	struct h_opts o = { .env = { "LEAKME=secret", "HOME=/root",
	    "SHELL=/bin/sh", "USER=root" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(env_names(1), "CLIENT_ADDRESS CLIENT_HELO DOMAIN "
	    "EXTENSION LOCAL ORIGINAL_RECIPIENT PATH QUEUE_ID RECIPIENT SENDER "
	    "SIZE");
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), "unknown");
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_HELO"), H_HELO);
	ck_assert_str_eq(h_env(h_dir, 1, "EXTENSION"), "");
}
END_TEST

START_TEST(test_default_path)
{
	/* a server without PATH gives /usr/local/bin:/usr/bin:/bin */
	struct h_opts o = { .no_path = 1 };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_env(h_dir, 1, "PATH"),
	    "/usr/local/bin:/usr/bin:/bin");
}
END_TEST

START_TEST(test_path_lookup)
{
	/* a bare command name is looked up in PATH */
	char cwd[4096];
	struct h_opts o = { .cmd = { "recorder", h_dir } };
	struct h_result r;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	o.env[0] = h_strf("PATH=/nonexistent:%s/tests:/usr/bin:/bin", cwd);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "PATH"), o.env[0] + 5);
}
END_TEST

START_TEST(test_only_fds_012)
{
	/* the command sees exactly 0, 1, 2, even when the server inherited
	 * more from its launcher */
	struct h_opts o = { .leak_fds = 1 };
	struct h_result r;
	int n;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(2, "250 2.0.0"));
	for (n = 1; n <= 2; n++)
		ck_assert_str_eq(h_file(h_dir, n, "fds", NULL), "0\n1\n2\n");
}
END_TEST

START_TEST(test_stdin_exact)
{
	/* what the command reads is exactly headers + message, to EOF */
	char *body = h_repeat("line of text\r\n", 50000);
	struct h_result r;
	size_t len;
	char *d, *want;

	h_run(&r, NULL, h_txn("<s@x.example>", body, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	d = h_stdin(h_dir, 1, &len);
	want = h_repeat("line of text\n", 50000);
	ck_assert_int_eq(strlen(h_body(d)), strlen(want));
	ck_assert_msg(strcmp(h_body(d), want) == 0, "body differs");
}
END_TEST

Suite *
command_suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = h_tcase("argv");

	tcase_add_test(tc, test_placeholders);
	tcase_add_test(tc, test_values_stay_one_word);
	tcase_add_test(tc, test_argv0_and_dashdash);
	tcase_add_test(tc, test_path_lookup);
	tcase_add_test(tc, test_only_fds_012);
	tcase_add_test(tc, test_stdin_exact);
	suite_add_tcase(s, tc);

	tc = h_tcase("environment");
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_environment_minimal);
	tcase_add_test(tc, test_default_path);
	suite_add_tcase(s, tc);
	return s;
}

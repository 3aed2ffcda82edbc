/*
 * unit_log.c - log_escape(): client bytes can never forge a log line nor
 * hold a delimiter of the field they are logged in; and the pid a stderr
 * line carries is the logging process's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

START_TEST(test_escape_printable_kept)
{
	char out[64];

	ck_assert_str_eq(log_escape("user@x.org", out, sizeof(out)),
	    "user@x.org");
	ck_assert_str_eq(log_escape("", out, sizeof(out)), "");
}
END_TEST

START_TEST(test_escape_no_controls)
{
	static const char *const inputs[] = {
		"a\r\nb", "a\nfake: line", "\x1b[2J", "\x7f\x80\xff", "tab\there",
	};
	char out[128];
	size_t i, j;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		const char *e = log_escape(inputs[i], out, sizeof(out));

		for (j = 0; e[j] != '\0'; j++)
			ck_assert_msg((unsigned char)e[j] >= 32 &&
			    (unsigned char)e[j] < 127, "input %zu: octet %d "
			    "in \"%s\"", i, (unsigned char)e[j], e);
		ck_assert_uint_gt(strlen(e), 0);
	}
}
END_TEST

struct escape_case {
	const char *in, *out;
};

static const struct escape_case escape_cases[] = {
	/* a quoted local part built to forge the fields after to=<...> */
	{ "\"v>, from=<boss@corp>, client=[10.1.1.1], status=sent (exit 0) "
	  "X=<\"@dom",
	  "\"v\\x3e\\x2c from=\\x3cboss@corp\\x3e\\x2c client=\\x5b"
	  "10.1.1.1\\x5d\\x2c status=sent \\x28exit 0\\x29 X=\\x3c\"@dom" },
	{ "<>[](),", "\\x3c\\x3e\\x5b\\x5d\\x28\\x29\\x2c" },
	{ "a\\b", "a\\x5cb" },
	{ "\\x3e", "\\x5cx3e" },	/* an escape cannot be faked */
	{ "a\r\nb", "a\\x0d\\x0ab" },
	{ "caf\xc3\xa9", "caf\\xc3\\xa9" },
	{ "SRS0=ab=cd=x.org=u@y.org", "SRS0=ab=cd=x.org=u@y.org" },
	{ "\"a b\"@x.org", "\"a b\"@x.org" },
	{ "4.2.2 mailbox full; try later", "4.2.2 mailbox full; try later" },
};

START_TEST(test_escape_table)
{
	const struct escape_case *c = &escape_cases[_i];
	char out[512];

	ck_assert_str_eq(log_escape(c->in, out, sizeof(out)), c->out);
}
END_TEST

START_TEST(test_escape_no_delimiters)
{
	/* no octet value survives as a field delimiter */
	char in[2], out[8];
	int ch;

	for (ch = 1; ch < 256; ch++) {
		in[0] = (char)ch;
		in[1] = '\0';
		log_escape(in, out, sizeof(out));
		ck_assert_msg(strpbrk(out, "<>[](),") == NULL &&
		    (strlen(out) == 1 || (out[0] == '\\' && out[1] == 'x')),
		    "octet %d escaped as '%s'", ch, out);
	}
}
END_TEST

START_TEST(test_escape_bounded)
{
	char out[8];
	const char *e;

	memset(out, 'Z', sizeof(out));
	e = log_escape("abcdefghijklmnop", out, 5);
	ck_assert_uint_le(strlen(e), 4);
	ck_assert_int_eq(out[5], 'Z');
	e = log_escape("\n\n\n\n", out, 6);
	ck_assert_uint_le(strlen(e), 5);
	ck_assert_int_eq(out[6], 'Z');
}
END_TEST

START_TEST(test_stderr_pid)
{
	/* a fork()ed child's lines carry its own pid, the parent's its own */
	char buf[1024], want[128];
	int p[2], saved = dup(2), status;
	pid_t child;
	ssize_t n;

	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], 2), 2);
	log_open(1);
	log_info("one");
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		log_info("two");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	log_info("three");
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "pipesmtpd[%ld]: one\n"
	    "pipesmtpd[%ld]: two\npipesmtpd[%ld]: three\n", (long)getpid(),
	    (long)child, (long)getpid());
	ck_assert_str_eq(buf, want);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, test_escape_printable_kept);
	tcase_add_test(tc, test_escape_no_controls);
	tcase_add_loop_test(tc, test_escape_table, 0,
	    (int)(sizeof(escape_cases) / sizeof(escape_cases[0])));
	tcase_add_test(tc, test_escape_no_delimiters);
	tcase_add_test(tc, test_escape_bounded);
	tcase_add_test(tc, test_stderr_pid);
	suite_add_tcase(s, tc);
	return s;
}

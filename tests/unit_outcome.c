/*
 * unit_outcome.c - outcomes (outcome.h), without a session: a wait
 * status through the exit-status table (the sysexits as Postfix's
 * pipe(8) maps them; real statuses from children the test forks), the
 * command's own words and the output sanitiser; and outcomes to reply
 * lines: the start every outcome has, 250 only when every delivery was
 * made (or, under PRDR, at least one), the class of the speaking
 * failure choosing 451, 550 or 554, and --rcpt-check's 450/451/550.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outcome.h"
#include "unit.h"

#ifndef W_EXITCODE
#define W_EXITCODE(ret, sig)	((ret) << 8 | (sig))
#endif

/* made - an outcome of class cls with this enhanced code and text */
static struct outcome
made(enum outcome_class cls, const char *dsn, const char *text)
{
	struct outcome o;

	outcome_init(&o);
	o.cls = cls;
	snprintf(o.dsn, sizeof(o.dsn), "%s", dsn);
	snprintf(o.text, sizeof(o.text), "%s", text);
	return o;
}

/* assert_reply - r is code, dsn and text */
static void
assert_reply(const struct outcome_reply *r, int code, const char *dsn,
    const char *text)
{
	ck_assert_int_eq(r->code, code);
	ck_assert_str_eq(r->dsn, dsn);
	ck_assert_str_eq(r->text, text);
}

START_TEST(test_init)
{
	/* even an outcome nobody filled in is a temporary failure */
	struct outcome o;

	memset(&o, 0x55, sizeof(o));
	outcome_init(&o);
	ck_assert_int_eq(o.cls, OUT_TEMP);
	ck_assert_str_eq(o.dsn, "4.3.0");
	ck_assert_str_eq(o.text, "not delivered");
	ck_assert_int_eq(o.status, OUTCOME_NOT_RUN);
	ck_assert_int_eq(OUT_TEMP, 0);		/* zeroed: not delivered */
}
END_TEST

/* One summary case: ok of all delivered, the speaker's class. */
static const struct summary_case {
	size_t ok, all;
	int prdr;
	enum outcome_class cls;
	int want_code;
	const char *want_dsn, *want_text;
} summary_cases[] = {
	{ 3, 3, 0, OUT_DELIVERED, 250, "2.0.0",
	    "Ok: delivered to 3 of 3 recipients, id=Q1" },
	{ 2, 3, 0, OUT_TEMP, 451, "4.2.2",
	    "<b@x.test>: mailbox full (delivered to 2 of 3 recipients, "
	    "id=Q1)" },
	{ 2, 3, 0, OUT_PERM, 554, "5.1.1",
	    "<b@x.test>: mailbox full (delivered to 2 of 3 recipients, "
	    "id=Q1)" },
	{ 0, 1, 0, OUT_TEMP, 451, "4.2.2",
	    "<b@x.test>: mailbox full (delivered to 0 of 1 recipients, "
	    "id=Q1)" },
	/* PRDR: the recipients have had their own replies */
	{ 1, 3, 1, OUT_PERM, 250, "2.0.0",
	    "Ok: delivered to 1 of 3 recipients, id=Q1" },
	{ 0, 3, 1, OUT_PERM, 554, "5.1.1",
	    "<b@x.test>: mailbox full (delivered to 0 of 3 recipients, "
	    "id=Q1)" },
	{ 0, 2, 1, OUT_TEMP, 451, "4.2.2",
	    "<b@x.test>: mailbox full (delivered to 0 of 2 recipients, "
	    "id=Q1)" },
};

START_TEST(test_summary)
{
	const struct summary_case *c = &summary_cases[_i];
	struct outcome o = made(c->cls, c->cls == OUT_PERM ? "5.1.1" :
	    c->cls == OUT_TEMP ? "4.2.2" : "2.0.0", "mailbox full");
	struct outcome_reply r;

	outcome_summary_reply(c->ok, c->all, c->prdr, &o, "b@x.test", "Q1",
	    &r);
	assert_reply(&r, c->want_code, c->want_dsn, c->want_text);
}
END_TEST

START_TEST(test_summary_never_250_short)
{
	/* one delivery short of all is never 250, whatever the speaker
	 * says: a speaker claiming delivery is still not all of them */
	struct outcome o = made(OUT_DELIVERED, "2.0.0", "");
	struct outcome_reply r;
	size_t all;

	for (all = 1; all < 50; all++) {
		outcome_summary_reply(all - 1, all, 0, &o, "a@x.test", "Q",
		    &r);
		ck_assert_int_ne(r.code, 250);
		ck_assert_int_eq(r.code / 100, 5);
	}
}
END_TEST

START_TEST(test_rcpt)
{
	struct outcome ok = made(OUT_DELIVERED, "2.1.5", "");
	struct outcome temp = made(OUT_TEMP, "4.3.0", "cannot run it");
	struct outcome perm = made(OUT_PERM, "5.1.1", "no such user");
	struct outcome_reply r;

	outcome_rcpt_reply(&ok, "a@x.test", "Q2", &r);
	assert_reply(&r, 250, "2.1.5", "<a@x.test>: delivered, id=Q2");
	outcome_rcpt_reply(&temp, "a@x.test", "Q2", &r);
	assert_reply(&r, 451, "4.3.0", "<a@x.test>: cannot run it, id=Q2");
	outcome_rcpt_reply(&perm, "a@x.test", "Q2", &r);
	assert_reply(&r, 550, "5.1.1", "<a@x.test>: no such user, id=Q2");
}
END_TEST

START_TEST(test_screen)
{
	struct outcome ok = made(OUT_DELIVERED, "2.1.5", "fine");
	struct outcome busy = made(OUT_TEMP, "4.2.1", "busy");
	struct outcome temp = made(OUT_TEMP, "4.3.0", "");
	struct outcome perm = made(OUT_PERM, "5.1.1", "unknown");
	struct outcome_reply r;

	outcome_screen_reply(&ok, "a@x.test", &r);
	ck_assert_int_eq(r.code, 0);
	outcome_screen_reply(&busy, "a@x.test", &r);
	assert_reply(&r, 450, "4.2.1",
	    "<a@x.test>: Recipient address rejected: busy");
	outcome_screen_reply(&temp, "a@x.test", &r);
	assert_reply(&r, 451, "4.3.0",
	    "<a@x.test>: Recipient address rejected");
	outcome_screen_reply(&perm, "a@x.test", &r);
	assert_reply(&r, 550, "5.1.1",
	    "<a@x.test>: Recipient address rejected: unknown");
	/* without the address, for a caller that writes it itself */
	outcome_screen_reply(&perm, NULL, &r);
	assert_reply(&r, 550, "5.1.1", "Recipient address rejected: unknown");
}
END_TEST

START_TEST(test_long_text_cut)
{
	/* a reply's text never overruns: the longest address and text */
	struct outcome o = made(OUT_TEMP, "4.3.0", "");
	char addr[600];
	struct outcome_reply r;

	memset(o.text, 'x', OUTCOME_TEXT_MAX);
	o.text[OUTCOME_TEXT_MAX] = '\0';
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	outcome_summary_reply(0, 1, 0, &o, addr, "Q3", &r);
	ck_assert_uint_lt(strlen(r.text), sizeof(r.text));
	ck_assert_int_eq(r.code, 451);
}
END_TEST

struct exit_case {
	int code;
	enum outcome_class cls;
	const char *dsn;
};

static const struct exit_case exit_cases[] = {
	{ 0, OUT_DELIVERED, "2.0.0" },
	{ 75, OUT_TEMP, "4.3.0" },
	{ 71, OUT_TEMP, "4.3.0" },
	{ 67, OUT_PERM, "5.1.1" },
	{ 68, OUT_PERM, "5.1.2" },
	{ 65, OUT_PERM, "5.6.0" },
	{ 73, OUT_PERM, "5.2.0" },
	{ 77, OUT_PERM, "5.7.0" },
	{ 74, OUT_PERM, "5.3.0" },
	{ 64, OUT_PERM, "5.3.0" },
	{ 66, OUT_PERM, "5.3.0" },
	{ 69, OUT_PERM, "5.3.0" },
	{ 70, OUT_PERM, "5.3.0" },
	{ 72, OUT_PERM, "5.3.0" },
	{ 76, OUT_PERM, "5.5.0" },
	{ 78, OUT_PERM, "5.3.5" },
	{ 1, OUT_PERM, "5.3.0" },
	{ 2, OUT_PERM, "5.3.0" },
	{ 63, OUT_PERM, "5.3.0" },
	{ 79, OUT_PERM, "5.3.0" },
	{ 100, OUT_PERM, "5.3.0" },
	{ 126, OUT_PERM, "5.3.0" },
	{ 127, OUT_PERM, "5.3.0" },
	{ 255, OUT_PERM, "5.3.0" },
};

/* map_status - a delivery command's wait status and output to an
 * outcome, as the deliverer maps them */
static void
map_status(int status, const char *output, size_t len, struct outcome *out)
{
	outcome_from_status(status, output, len, "delivery command", out);
}

START_TEST(test_exit_table)
{
	const struct exit_case *c = &exit_cases[_i];
	struct outcome out;
	int status = W_EXITCODE(c->code, 0);

	memset(&out, 0, sizeof(out));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == c->code);
	map_status(status, "", 0, &out);
	ck_assert_msg(out.cls == c->cls, "exit %d: class %d, want %d",
	    c->code, out.cls, c->cls);
	ck_assert_msg(strcmp(out.dsn, c->dsn) == 0, "exit %d: %s, want %s",
	    c->code, out.dsn, c->dsn);
	ck_assert_int_eq(out.status, status);
}
END_TEST

START_TEST(test_signals_are_temporary)
{
	static const int sigs[] = { SIGKILL, SIGTERM, SIGSEGV, SIGPIPE,
	    SIGABRT, SIGINT };
	struct outcome out;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		memset(&out, 0, sizeof(out));
		ck_assert(WIFSIGNALED(sigs[i]));
		map_status(sigs[i], "", 0, &out);
		ck_assert_msg(out.cls == OUT_TEMP, "signal %d: class %d",
		    sigs[i], out.cls);
		ck_assert_str_eq(out.dsn, "4.3.0");
		/* a permanent code in the output cannot make it permanent */
		map_status(sigs[i], "5.1.1 no such user\n", 19, &out);
		ck_assert_int_eq(out.cls, OUT_TEMP);
		ck_assert_str_eq(out.dsn, "4.3.0");
	}
}
END_TEST

/* child_status - a real wait status: a child that exits or is killed */
static int
child_status(int code, int sig)
{
	pid_t pid = fork();
	int status;

	ck_assert(pid >= 0);
	if (pid == 0) {
		if (sig != 0) {
			signal(sig, SIG_DFL);
			kill(getpid(), sig);
			pause();
		}
		_exit(code);
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	return status;
}

START_TEST(test_real_wait_statuses)
{
	struct outcome out;

	map_status(child_status(0, 0), "", 0, &out);
	ck_assert_int_eq(out.cls, OUT_DELIVERED);
	ck_assert_str_eq(out.dsn, "2.0.0");
	map_status(child_status(73, 0), "", 0, &out);
	ck_assert_int_eq(out.cls, OUT_PERM);
	ck_assert_str_eq(out.dsn, "5.2.0");
	map_status(child_status(75, 0), "", 0, &out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	map_status(child_status(0, SIGTERM), "", 0, &out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	map_status(child_status(0, SIGKILL), "", 0, &out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
}
END_TEST

struct output_case {
	int code;
	const char *output;
	enum outcome_class cls;
	const char *dsn;
	const char *text;	/* NULL: not checked */
};

static const struct output_case output_cases[] = {
	/* a code of the same class replaces the table's */
	{ 73, "5.2.2 mailbox full\n", OUT_PERM, "5.2.2", "mailbox full" },
	{ 73, "5.2.2 mailbox full", OUT_PERM, "5.2.2", "mailbox full" },
	{ 67, "5.1.1 no such user\nsecond line\n", OUT_PERM, "5.1.1",
	    "no such user" },
	{ 1, "5.7.1 policy says no\r\n", OUT_PERM, "5.7.1", "policy says no" },
	{ 75, "4.2.2 over quota\n", OUT_TEMP, "4.2.2", "over quota" },
	{ 71, "4.3.2 system not accepting\n", OUT_TEMP, "4.3.2",
	    "system not accepting" },
	{ 73, "5.10.123 three digits\n", OUT_PERM, "5.10.123",
	    "three digits" },
	/* a code of another class is only text */
	{ 75, "5.2.2 mailbox full\n", OUT_TEMP, "4.3.0",
	    "5.2.2 mailbox full" },
	{ 67, "4.2.2 over quota\n", OUT_PERM, "5.1.1", "4.2.2 over quota" },
	{ 0, "5.0.0 but exited 0\n", OUT_DELIVERED, "2.0.0", NULL },
	{ 0, "4.0.0 but exited 0\n", OUT_DELIVERED, "2.0.0", NULL },
	/* plain first lines, sanitised */
	{ 75, "try again later\nmore\n", OUT_TEMP, "4.3.0",
	    "try again later" },
	{ 1, "bad\x1b[31mthing\n", OUT_PERM, "5.3.0", "bad?[31mthing" },
	{ 1, "caf\xc3\xa9 closed\n", OUT_PERM, "5.3.0", "caf?? closed" },
	{ 77, "no\tperm\r\nX-Evil: 1\n", OUT_PERM, "5.7.0", "no?perm" },
	/* the code must be a code: no class digit, no dots, no space */
	{ 73, "52.2 full\n", OUT_PERM, "5.2.0", "52.2 full" },
	{ 73, "5.2 full\n", OUT_PERM, "5.2.0", "5.2 full" },
	{ 73, "5.2.2.1 full\n", OUT_PERM, "5.2.0", NULL },
	{ 73, "x5.2.2 full\n", OUT_PERM, "5.2.0", "x5.2.2 full" },
	{ 73, "5.a.2 full\n", OUT_PERM, "5.2.0", "5.a.2 full" },
	{ 73, "5.1234.2 full\n", OUT_PERM, "5.2.0", NULL },
};

START_TEST(test_output_table)
{
	const struct output_case *c = &output_cases[_i];
	struct outcome out;

	memset(&out, 0, sizeof(out));
	map_status(W_EXITCODE(c->code, 0), c->output, strlen(c->output),
	    &out);
	ck_assert_msg(out.cls == c->cls, "exit %d \"%s\": class %d, want %d",
	    c->code, c->output, out.cls, c->cls);
	ck_assert_msg(strcmp(out.dsn, c->dsn) == 0,
	    "exit %d \"%s\": code %s, want %s", c->code, c->output, out.dsn,
	    c->dsn);
	if (c->text != NULL)
		ck_assert_msg(strcmp(out.text, c->text) == 0,
		    "exit %d \"%s\": text \"%s\", want \"%s\"", c->code,
		    c->output, out.text, c->text);
}
END_TEST

START_TEST(test_output_cut_to_200)
{
	char output[1000];
	struct outcome out;
	size_t i;

	for (i = 0; i < sizeof(output); i++)
		output[i] = (char)('a' + i % 26);
	map_status(W_EXITCODE(1, 0), output, sizeof(output), &out);
	ck_assert_uint_eq(strlen(out.text), OUTCOME_TEXT_MAX);
	ck_assert(memcmp(out.text, output, OUTCOME_TEXT_MAX) == 0);
	/* a NUL in the output is sanitised, not an early end */
	map_status(W_EXITCODE(1, 0), "ab\0cd\n", 6, &out);
	ck_assert_str_eq(out.text, "ab?cd");
	/* only len octets are read */
	map_status(W_EXITCODE(1, 0), "abcdef", 3, &out);
	ck_assert_str_eq(out.text, "abc");
}
END_TEST

START_TEST(test_output_no_control_bytes)
{
	/* whatever the command prints, the text is printable ASCII */
	char output[300];
	struct outcome out;
	int round;
	size_t i;

	srand(7);
	for (round = 0; round < 500; round++) {
		size_t n = (size_t)rand() % sizeof(output);

		for (i = 0; i < n; i++)
			output[i] = (char)(rand() % 256);
		map_status(W_EXITCODE(1 + rand() % 100, 0), output, n, &out);
		ck_assert_uint_le(strlen(out.text), OUTCOME_TEXT_MAX);
		for (i = 0; out.text[i] != '\0'; i++)
			ck_assert_msg(out.text[i] >= 32 && out.text[i] < 127,
			    "round %d: octet %d in the text", round,
			    (unsigned char)out.text[i]);
		for (i = 0; out.dsn[i] != '\0'; i++)
			ck_assert(out.dsn[i] == '.' ||
			    (out.dsn[i] >= '0' && out.dsn[i] <= '9'));
	}
}
END_TEST

struct sanitise_case {
	const char *in;
	size_t len;
	size_t cap;
	const char *out;
};

#define LIT(x)	x, sizeof(x) - 1

static const struct sanitise_case sanitise_cases[] = {
	{ LIT("hello"), 64, "hello" },
	{ LIT("hello\nworld"), 64, "hello" },
	{ LIT("hello\r\nworld"), 64, "hello" },
	{ LIT("\nworld"), 64, "" },
	{ LIT(""), 64, "" },
	{ LIT("a\tb\x7f\x80\xff" "c"), 64, "a?b???c" },
	{ LIT("a\0b"), 64, "a?b" },
	{ LIT("\x1b[2J"), 64, "?[2J" },
	{ LIT("~ !\"#"), 64, "~ !\"#" },
	{ LIT("abcdef"), 4, "abc" },
	{ LIT("abcdef"), 7, "abcdef" },
	{ LIT("abcdef"), 6, "abcde" },
	{ LIT("abcdef"), 1, "" },
	{ LIT("\xff\xff\xff\xff"), 3, "??" },
};

START_TEST(test_sanitise_table)
{
	const struct sanitise_case *c = &sanitise_cases[_i];
	char out[128];
	size_t n;

	memset(out, 'Z', sizeof(out));
	n = outcome_sanitise(c->in, c->len, out, c->cap);
	ck_assert_msg(n == strlen(c->out), "case %d: length %zu, want %zu",
	    _i, n, strlen(c->out));
	ck_assert_msg(memcmp(out, c->out, n) == 0 && out[n] == '\0',
	    "case %d: \"%.*s\", want \"%s\"", _i, (int)n, out, c->out);
	ck_assert_msg(out[c->cap] == 'Z', "case %d: wrote past cap", _i);
}
END_TEST

START_TEST(test_sanitise_only_len)
{
	char out[16];

	memset(out, 'Z', sizeof(out));
	ck_assert_uint_eq(outcome_sanitise("abcdef", 2, out, sizeof(out)), 2);
	ck_assert_str_eq(out, "ab");
	ck_assert_uint_eq(outcome_sanitise("abc", 0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

Suite *
outcome_suite(void)
{
	Suite *s = suite_create("outcome");
	TCase *tc = tcase_create("replies");

	tcase_add_test(tc, test_init);
	tcase_add_loop_test(tc, test_summary, 0,
	    sizeof(summary_cases) / sizeof(summary_cases[0]));
	tcase_add_test(tc, test_summary_never_250_short);
	tcase_add_test(tc, test_rcpt);
	tcase_add_test(tc, test_screen);
	tcase_add_test(tc, test_long_text_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_loop_test(tc, test_exit_table, 0,
	    (int)(sizeof(exit_cases) / sizeof(exit_cases[0])));
	tcase_add_test(tc, test_signals_are_temporary);
	tcase_add_test(tc, test_real_wait_statuses);
	tcase_add_loop_test(tc, test_output_table, 0,
	    (int)(sizeof(output_cases) / sizeof(output_cases[0])));
	tcase_add_test(tc, test_output_cut_to_200);
	tcase_add_test(tc, test_output_no_control_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("sanitise");
	tcase_add_loop_test(tc, test_sanitise_table, 0,
	    (int)(sizeof(sanitise_cases) / sizeof(sanitise_cases[0])));
	tcase_add_test(tc, test_sanitise_only_len);
	suite_add_tcase(s, tc);
	return s;
}

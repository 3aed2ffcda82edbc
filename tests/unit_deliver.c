/*
 * unit_deliver.c - the delivery policy (deliver.h): placeholder
 * expansion and template checks, the exit-status table (the sysexits as
 * Postfix's pipe(8) maps them), the output sanitiser, how the end of a
 * run maps to an outcome, that an outcome starts as a failure, the
 * end-of-delivery deadline (alone and through a whole session), and
 * which accounts get mail.  The added headers are tested in
 * unit_received.c, the runner in unit_run.c.  No command is run here
 * except children forked by the test itself to produce real wait
 * statuses, /bin/sh one-liners run where SIGCHLD is ignored, so that
 * waitpid() fails, and the deadline tests' one-liners, which leave a
 * file behind to prove they ran.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "checks.h"
#include "command.h"
#include "config.h"
#include "deliver.h"
#include "deadline.h"
#include "jobs.h"
#include "log.h"
#include "run.h"
#include "session.h"
#include "support.h"
#include "unit.h"

#ifndef W_EXITCODE
#define W_EXITCODE(ret, sig)	((ret) << 8 | (sig))
#endif

static const struct command_vars vars = {
	.sender = "s@x.org",		/* %s */
	.rcpt = "Rcpt+Ext@mx.test",	/* %r */
	.user = "rcpt",			/* %u */
	.local = "Rcpt+Ext",		/* %l */
	.ext = "Ext",			/* %e */
	.domain = "mx.test",		/* %d */
	.ip = "192.0.2.1",		/* %i */
	.helo = "client.example",	/* %h */
	.queue_id = "Q1D",		/* %q */
};

struct expand_case {
	const char *tmpl;
	int want;		/* 0 or -1 */
	const char *out;
};

static const struct expand_case expand_cases[] = {
	{ "", 0, "" },
	{ "plain", 0, "plain" },
	{ "%s", 0, "s@x.org" },
	{ "%r", 0, "Rcpt+Ext@mx.test" },
	{ "%u", 0, "rcpt" },
	{ "%l", 0, "Rcpt+Ext" },
	{ "%e", 0, "Ext" },
	{ "%d", 0, "mx.test" },
	{ "%i", 0, "192.0.2.1" },
	{ "%h", 0, "client.example" },
	{ "%q", 0, "Q1D" },
	{ "%%", 0, "%" },
	{ "100%%", 0, "100%" },
	{ "%%s", 0, "%s" },
	{ "%%%s", 0, "%s@x.org" },
	{ "--to=%r", 0, "--to=Rcpt+Ext@mx.test" },
	{ "/var/mail/%u/%e", 0, "/var/mail/rcpt/Ext" },
	{ "%s%r%u%l%e%d%i%h%q%%", 0,
	    "s@x.orgRcpt+Ext@mx.testrcptRcpt+ExtExtmx.test192.0.2.1"
	    "client.exampleQ1D%" },
	{ "%u %u", 0, "rcpt rcpt" },
	{ "%x", -1, NULL },
	{ "a%Sb", -1, NULL },
	{ "abc%", -1, NULL },
	{ "%", -1, NULL },
	{ "%%%", -1, NULL },
	{ "ok%s then %z", -1, NULL },
};

START_TEST(test_expand_table)
{
	const struct expand_case *c = &expand_cases[_i];
	char out[512];
	int ret;

	memset(out, 'Z', sizeof(out));
	ret = command_expand(c->tmpl, &vars, out, sizeof(out));
	ck_assert_msg(ret == c->want, "expand(\"%s\") = %d, want %d", c->tmpl,
	    ret, c->want);
	if (c->want == 0)
		ck_assert_msg(strcmp(out, c->out) == 0,
		    "expand(\"%s\") = \"%s\", want \"%s\"", c->tmpl, out,
		    c->out);
}
END_TEST

START_TEST(test_expand_capacity)
{
	char out[64];
	size_t need = strlen("Rcpt+Ext@mx.test");

	ck_assert_int_eq(command_expand("abc", &vars, out, 4), 0);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(command_expand("abc", &vars, out, 3), -1);
	ck_assert_int_eq(command_expand("%r", &vars, out, need + 1), 0);
	ck_assert_str_eq(out, "Rcpt+Ext@mx.test");
	ck_assert_int_eq(command_expand("%r", &vars, out, need), -1);
	ck_assert_int_eq(command_expand("x%r", &vars, out, need + 1), -1);
	ck_assert_int_eq(command_expand("%%", &vars, out, 2), 0);
	ck_assert_str_eq(out, "%");
	ck_assert_int_eq(command_expand("%%", &vars, out, 1), -1);
	ck_assert_int_eq(command_expand("", &vars, out, 1), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_expand_values_verbatim)
{
	/* values are copied as they are: no re-expansion, no splitting */
	struct command_vars v = vars;
	char out[128];

	v.helo = "%s with spaces";
	v.sender = "";
	ck_assert_int_eq(command_expand("[%h][%s]", &v, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "[%s with spaces][]");
}
END_TEST

struct tmpl_case {
	const char *tmpl;
	int want;
};

static const struct tmpl_case tmpl_cases[] = {
	{ "", 1 }, { "plain", 1 }, { "%s", 1 }, { "%r", 1 }, { "%u", 1 },
	{ "%l", 1 }, { "%e", 1 }, { "%d", 1 }, { "%i", 1 }, { "%h", 1 },
	{ "%q", 1 }, { "%%", 1 }, { "100%%", 1 }, { "%%x", 1 },
	{ "--arg=%s%r%u%l%e%d%i%h%q%%", 1 },
	{ "%x", 0 }, { "%S", 0 }, { "%R", 0 }, { "%", 0 }, { "a%", 0 },
	{ "%%%", 0 }, { "%s%", 0 }, { "% s", 0 }, { "%1", 0 },
};

START_TEST(test_template_ok_table)
{
	const struct tmpl_case *c = &tmpl_cases[_i];

	ck_assert_msg(!!command_template_ok(c->tmpl) == c->want,
	    "command_template_ok(\"%s\") = %d, want %d", c->tmpl,
	    command_template_ok(c->tmpl), c->want);
}
END_TEST

START_TEST(test_vars_init)
{
	/* every placeholder from one builder: the recipient's parts, the
	 * null sender as --null-sender says, the client's address */
	struct address sender, rcpt;
	struct command_vars v;
	struct config cfg;
	size_t used;

	memset(&cfg, 0, sizeof(cfg));
	cfg.client_ip = "192.0.2.1";
	cfg.null_sender = "MAILER-DAEMON";
	ck_assert_int_eq(address_parse("<s@x.org>", 9, ADDR_ALLOW_NULL,
	    &sender, &used), ADDR_OK);
	ck_assert_int_eq(address_parse("<Rcpt+Ext@MX.test>", 18, 0, &rcpt,
	    &used), ADDR_OK);
	command_vars_init(&v, &cfg, &sender, &rcpt, "client.example", "Q1D",
	    NULL);
	ck_assert_str_eq(v.sender, vars.sender);
	ck_assert_str_eq(v.rcpt, vars.rcpt);
	ck_assert_str_eq(v.user, vars.user);
	ck_assert_str_eq(v.local, vars.local);
	ck_assert_str_eq(v.ext, vars.ext);
	ck_assert_str_eq(v.domain, vars.domain);
	ck_assert_str_eq(v.ip, vars.ip);
	ck_assert_str_eq(v.helo, vars.helo);
	ck_assert_str_eq(v.queue_id, vars.queue_id);
	ck_assert_int_eq(address_parse("<>", 2, ADDR_ALLOW_NULL, &sender,
	    &used), ADDR_OK);
	command_vars_init(&v, &cfg, &sender, &rcpt, "client.example", "Q1D",
	    NULL);
	ck_assert_str_eq(v.sender, "MAILER-DAEMON");
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

/* ---- how a run ended ---- */

struct end_case {
	struct run_end end;
	enum outcome_class cls, check_cls;	/* delivery; --rcpt-check */
	const char *dsn, *check_dsn;
	int status;				/* out.status */
	const char *text;			/* in out.text, or NULL */
};

#define EXITED(n)	W_EXITCODE(n, 0)

static const struct end_case end_cases[] = {
	/* reaped in time: the exit status decides */
	{ { EXITED(0), 1, 0, 0, 0 }, OUT_DELIVERED, OUT_DELIVERED, "2.0.0",
	  "2.1.5", EXITED(0), NULL },
	{ { EXITED(67), 1, 0, 0, 0 }, OUT_PERM, OUT_PERM, "5.1.1", "5.1.1",
	  EXITED(67), NULL },
	{ { EXITED(75), 1, 0, 0, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.2.1",
	  EXITED(75), NULL },
	{ { EXITED(1), 1, 0, 0, 0 }, OUT_PERM, OUT_TEMP, "5.3.0", "4.3.0",
	  EXITED(1), NULL },
	{ { SIGKILL, 1, 0, 0, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  SIGKILL, "signal 9" },
	{ { EXITED(0), 1, 0, 0, 1 }, OUT_TEMP, OUT_DELIVERED, "4.3.0",
	  "2.1.5", EXITED(0), "spool read error" },
	/* waitpid() failed: whatever the status field holds is not read */
	{ { 0, 0, ECHILD, 0, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  OUTCOME_UNSEEN, "cannot wait for delivery command" },
	{ { EXITED(67), 0, ECHILD, 0, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0",
	  "4.3.0", OUTCOME_UNSEEN, "No child processes" },
	{ { 0, 0, 0, 0, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  OUTCOME_UNSEEN, "not reaped" },
	/* timed out: killed and reaped, or killed and never seen again */
	{ { SIGKILL, 1, 0, 1, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  SIGKILL, "timed out" },
	{ { EXITED(0), 1, 0, 1, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  EXITED(0), "timed out" },
	{ { 0, 0, ECHILD, 1, 0 }, OUT_TEMP, OUT_TEMP, "4.3.0", "4.3.0",
	  OUTCOME_UNSEEN, "timed out and could not be reaped" },
};

/* map_end - how a run of a delivery command ended to an outcome, as the
 * deliverer maps it */
static void
map_end(const struct run_end *e, const char *output, size_t len,
    struct outcome *out)
{
	command_map_end(e, output, len, "delivery command", out);
}

START_TEST(test_end_table)
{
	const struct end_case *c = &end_cases[_i];
	struct outcome out;

	memset(&out, 0, sizeof(out));
	map_end(&c->end, "", 0, &out);
	ck_assert_msg(out.cls == c->cls && strcmp(out.dsn, c->dsn) == 0,
	    "case %d: class %d %s, want %d %s", _i, out.cls, out.dsn, c->cls,
	    c->dsn);
	ck_assert_int_eq(out.status, c->status);
	if (c->text != NULL)
		ck_assert_msg(strstr(out.text, c->text) != NULL, "case %d: "
		    "'%s' lacks '%s'", _i, out.text, c->text);
	memset(&out, 0, sizeof(out));
	checks_rcpt_verdict(&c->end, "", 0, &out);
	ck_assert_msg(out.cls == c->check_cls &&
	    strcmp(out.dsn, c->check_dsn) == 0, "case %d: check class %d %s, "
	    "want %d %s", _i, out.cls, out.dsn, c->check_cls, c->check_dsn);
}
END_TEST

/* ---- commands whose end the server cannot see ---- */

/* ms_since - milliseconds since t0 (a deadline_now() reading) */
static long
ms_since(long long t0)
{
	return (long)((deadline_now() - t0) / 1000);
}

/* A delivery of one spooled message to r@mx.test. */
struct run_fixture {
	struct config cfg;
	struct deliver_msg msg;
	struct address sender, rcpt;
};

/* run_setup - f ready to run /bin/sh -c script: the message in a spool */
static void
run_setup(struct run_fixture *f, char **argv, const char *script)
{
	static const char msg[] = "Subject: x\n\nhi\n";
	FILE *spool = tmpfile();
	size_t used;

	memset(f, 0, sizeof(*f));
	f->cfg.hostname = "mx.test";
	f->cfg.client_ip = "192.0.2.1";
	f->cfg.client_host = "unknown";
	f->cfg.null_sender = "";
	ck_assert_int_eq(address_parse("<s@x.org>", 9, ADDR_ALLOW_NULL,
	    &f->sender, &used), ADDR_OK);
	ck_assert_int_eq(address_parse("<r@mx.test>", 11, 0, &f->rcpt,
	    &used), ADDR_OK);
	f->msg.head.sender = &f->sender;
	f->msg.head.helo = "client.example";
	f->msg.head.with = "ESMTP";
	f->msg.head.queue_id = "QID1";
	f->msg.head.nrcpt = 1;
	f->msg.head.first = &f->rcpt;
	f->msg.head.arrival = time(NULL);
	ck_assert_ptr_nonnull(spool);
	ck_assert_uint_eq(fwrite(msg, 1, sizeof(msg) - 1, spool),
	    sizeof(msg) - 1);
	ck_assert_int_eq(fflush(spool), 0);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	f->cfg.command = argv;
	f->cfg.rcpt_check = argv;
	f->cfg.path = "/usr/bin:/bin";
	f->cfg.delivery_timeout = 2;
	f->msg.spool_fd = fileno(spool);	/* the test process ends it */
	f->msg.spool_len = sizeof(msg) - 1;
	f->msg.start = deadline_now();
	f->msg.deadline = deadline_in(60);
}

START_TEST(test_check_unreaped_fails_closed)
{
	/* SIGCHLD ignored: the kernel reaps the check and waitpid() fails.
	 * Its verdict is unknown, so the recipient is deferred at once,
	 * never accepted and never after the timeout */
	static const char *const scripts[] = { "exit 0", "exit 67" };
	struct run_fixture f;
	struct outcome out;
	long long t0;
	char *argv[4];
	size_t i;

	ck_assert(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		run_setup(&f, argv, scripts[i]);
		t0 = deadline_now();
		checks_rcpt(&f.cfg, &f.msg.head, &f.rcpt, &out);
		ck_assert_msg(out.cls == OUT_TEMP, "'%s': class %d", scripts[i],
		    out.cls);
		ck_assert_str_eq(out.dsn, "4.3.0");
		ck_assert_int_eq(out.status, OUTCOME_UNSEEN);
		ck_assert_msg(ms_since(t0) < 1000, "'%s': %ld ms", scripts[i],
		    ms_since(t0));
	}
}
END_TEST

START_TEST(test_delivery_unreaped_is_temporary)
{
	/* the same for a delivery: a temporary failure that says why, not
	 * "timed out" after the delivery timeout, and never "exit 0" */
	struct run_fixture f;
	struct outcome out;
	long long t0;
	char *argv[4];

	run_setup(&f, argv, "cat >/dev/null");
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_DELIVERED);	/* the control */
	ck_assert(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	t0 = deadline_now();
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_int_eq(out.status, OUTCOME_UNSEEN);
	ck_assert_msg(strstr(out.text, strerror(ECHILD)) != NULL, "'%s'",
	    out.text);
	ck_assert_msg(ms_since(t0) < 1000, "%ld ms", ms_since(t0));
}
END_TEST

/* ---- every outcome starts as a failure ---- */

START_TEST(test_outcome_starts_undelivered)
{
	/* an outcome no code path fills says "not delivered": neither its
	 * zero value nor the initialiser's is a delivery */
	struct outcome out;

	memset(&out, 0, sizeof(out));
	ck_assert_msg(out.cls != OUT_DELIVERED, "a zeroed outcome is "
	    "delivered");
	memset(&out, 'Z', sizeof(out));
	outcome_init(&out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_str_eq(out.text, "not delivered");
	ck_assert_int_eq(out.status, OUTCOME_NOT_RUN);
}
END_TEST

/* ---- the end-of-delivery deadline ---- */

/* A directory of marker files, and the log lines, of one test. */
struct marks {
	char dir[64];		/* the commands touch files here */
	FILE *log;		/* stderr while logging goes there */
	int saved;		/* the real stderr */
};

/* marks_start - an empty directory, and the log to a file */
static void
marks_start(struct marks *m)
{
	snprintf(m->dir, sizeof(m->dir), "/tmp/unit-deliver-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(m->dir));
	m->log = tmpfile();
	ck_assert_ptr_nonnull(m->log);
	m->saved = dup(2);
	ck_assert_int_ge(m->saved, 0);
	ck_assert_int_eq(dup2(fileno(m->log), 2), 2);
	log_open(1);
}

/* marks_log - everything logged so far; stderr is the real one again */
static char *
marks_log(struct marks *m)
{
	static char buf[8192];
	size_t n;

	ck_assert_int_eq(dup2(m->saved, 2), 2);
	rewind(m->log);
	n = fread(buf, 1, sizeof(buf) - 1, m->log);
	buf[n] = '\0';
	return buf;
}

/* marks_has - whether a command touched name */
static int
marks_has(const struct marks *m, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", m->dir, name);
	return access(path, F_OK) == 0;
}

/* marks_end - the directory and its files gone */
static void
marks_end(struct marks *m)
{
	static const char *const names[] = { "ran", "a", "b", "c" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dir, names[i]);
		unlink(path);
	}
	rmdir(m->dir);
	fclose(m->log);
	close(m->saved);
}

START_TEST(test_deadline_passed_not_run)
{
	/* once the end of all deliveries has passed, no command starts:
	 * the recipient fails temporarily, and the log line says why */
	struct run_fixture f;
	struct outcome out;
	struct marks m;
	char *argv[4], script[128], *log;

	marks_start(&m);
	/* it reads its input first: a command that exits without reading
	 * could make the runner's write raise SIGPIPE in this process */
	snprintf(script, sizeof(script), "cat >/dev/null && touch %s/ran",
	    m.dir);
	run_setup(&f, argv, script);
	f.msg.deadline = deadline_now() - DEADLINE_SECOND;
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	log = marks_log(&m);
	ck_assert_msg(!marks_has(&m, "ran"), "the command ran");
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_str_eq(out.text, "delivery time limit reached");
	ck_assert_int_eq(out.status, OUTCOME_NOT_RUN);
	ck_assert_msg(strstr(log, "QID1: to=<r@mx.test>, ") != NULL &&
	    strstr(log, "status=deferred (not run: delivery time limit "
	    "reached)\n") != NULL, "log: '%s'", log);
	/* the control: with time left the same command runs */
	f.msg.deadline = deadline_in(60);
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_DELIVERED);
	ck_assert(marks_has(&m, "ran"));
	marks_end(&m);
}
END_TEST

/* real_deliver - deliver_one() as the session's deliverer */
static void
real_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    const struct address *orig, struct outcome *out)
{
	(void)ctx;
	deliver_one(cfg, msg, rcpt, orig, out);
}

/* deadline_config - a session's configuration for the deadline tests:
 * mx.test's recipients, /bin/sh -c script as the command, the end of all
 * deliveries 1 s after the dot */
static void
deadline_config(struct config *cfg, char *script)
{
	static const char *domains[] = { "mx.test" };
	static char sh[] = "/bin/sh", c[] = "-c";
	static char *argv[4];

	argv[0] = sh;
	argv[1] = c;
	argv[2] = script;
	argv[3] = NULL;
	config_defaults(cfg);
	cfg->hostname = "mx.test";
	cfg->domains = domains;
	cfg->ndomains = 1;
	cfg->command = argv;
	cfg->client_ip = "192.0.2.1";
	cfg->client_host = "unknown";
	cfg->total_delivery_timeout = 1;
}

/* deadline_session - dialogue through a session under cfg and d; conn
 * holds the replies (support_conn_free() after) */
static void
deadline_session(const struct config *cfg, const char *dialogue,
    const struct session_deliverer *d, struct support_conn *conn)
{
	struct chat_io io;

	support_conn_start(conn, dialogue, strlen(dialogue), 0);
	support_conn_io(conn, &io);
	ck_assert_int_eq(session_run(cfg, &io, d), 0);
}

START_TEST(test_deadline_in_session)
{
	/* three recipients, the end of all deliveries 1 s after the dot:
	 * a is delivered, b's command outlives it and is killed, c's never
	 * starts; the reply is never 250 (under LMTP: 250, 451, 451) */
	static const char in[] = "%s c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\n"
	    "RCPT TO:<c@mx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"
	    "QUIT\r\n";
	struct session_deliverer d = { .deliver = real_deliver };
	char script[160], dialogue[512];
	struct support_conn conn;
	struct config cfg;
	struct marks m;
	char *log;
	int lmtp;

	for (lmtp = 0; lmtp < 2; lmtp++) {
		marks_start(&m);
		snprintf(script, sizeof(script), "touch %s/%%u; "
		    "[ %%u != b ] || exec sleep 5", m.dir);
		deadline_config(&cfg, script);
		cfg.lmtp = lmtp;
		snprintf(dialogue, sizeof(dialogue), in, lmtp ? "LHLO" :
		    "EHLO");
		deadline_session(&cfg, dialogue, &d, &conn);
		log = marks_log(&m);
		ck_assert_ptr_nonnull(conn.out.buf);
		if (lmtp)
			ck_assert_msg(strstr(conn.out.buf, "\r\n250 2.0.0 <a@"
			    "mx.test>: delivered") != NULL &&
			    strstr(conn.out.buf, "\r\n451 4.3.0 <b@mx.test>: "
			    "delivery command timed out") != NULL &&
			    strstr(conn.out.buf, "\r\n451 4.3.0 <c@mx.test>: "
			    "delivery time limit reached") != NULL,
			    "replies:\n%s", conn.out.buf);
		else
			ck_assert_msg(strstr(conn.out.buf, "\r\n451 4.3.0 <b@"
			    "mx.test>: delivery command timed out "
			    "(delivered to 1 of 3 recipients") != NULL,
			    "replies:\n%s", conn.out.buf);
		ck_assert_msg(strstr(conn.out.buf, "\r\n250 2.0.0 Ok: "
		    "delivered") == NULL, "replies:\n%s", conn.out.buf);
		ck_assert(marks_has(&m, "a") && marks_has(&m, "b"));
		ck_assert_msg(!marks_has(&m, "c"), "c's command ran");
		ck_assert_msg(strstr(log, "to=<c@mx.test>, ") != NULL &&
		    strstr(log, "status=deferred (not run: delivery time "
		    "limit reached)\n") != NULL, "log: '%s'", log);
		support_conn_free(&conn);
		marks_end(&m);
	}
}
END_TEST

/* real_deliver_all - jobs_deliver() as the session's --jobs deliverer */
static void
real_deliver_all(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct deliver_plan *p)
{
	(void)ctx;
	jobs_deliver(cfg, msg, p);
}

START_TEST(test_deadline_with_jobs)
{
	/* --jobs 2: a and b run at once and outlive the end of all
	 * deliveries (1 s), so both are killed; no slot is free before it,
	 * and after it c's command never starts; the reply is 451 */
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\n"
	    "RCPT TO:<c@mx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"
	    "QUIT\r\n";
	struct session_deliverer d = { .deliver = real_deliver,
	    .deliver_all = real_deliver_all };
	char script[160];
	struct support_conn conn;
	struct config cfg;
	struct marks m;
	char *log;

	marks_start(&m);
	snprintf(script, sizeof(script), "touch %s/%%u; "
	    "[ %%u = c ] || exec sleep 5", m.dir);
	deadline_config(&cfg, script);
	cfg.jobs = 2;
	deadline_session(&cfg, in, &d, &conn);
	log = marks_log(&m);
	ck_assert_ptr_nonnull(conn.out.buf);
	ck_assert_msg(strstr(conn.out.buf, "\r\n451 4.3.0 <a@mx.test>: "
	    "delivery command timed out (delivered to 0 of 3 recipients") !=
	    NULL, "replies:\n%s", conn.out.buf);
	ck_assert(marks_has(&m, "a") && marks_has(&m, "b"));
	ck_assert_msg(!marks_has(&m, "c"), "c's command ran");
	ck_assert_msg(strstr(log, "to=<c@mx.test>, ") != NULL &&
	    strstr(log, "status=deferred (not run: delivery time limit "
	    "reached)\n") != NULL, "log: '%s'", log);
	support_conn_free(&conn);
	marks_end(&m);
}
END_TEST

/* ---- --as-recipient: which accounts get mail ---- */

START_TEST(test_account_min_uid)
{
	/* uid 0 never under --as-recipient; below --min-uid only the
	 * --postmaster account */
	struct passwd *pw = getpwnam("daemon");
	struct config cfg;

	if (pw == NULL || pw->pw_uid == 0 || pw->pw_uid >= 1000)
		return;		/* no system account to try */
	memset(&cfg, 0, sizeof(cfg));
	cfg.as_recipient = 1;
	cfg.min_uid = 1000;
	cfg.postmaster = "nobody";
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_NONE);
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
	ck_assert_int_eq(account_find(&cfg, "no-such-account-unit", NULL),
	    ACCOUNT_NONE);
	cfg.postmaster = "daemon";
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_OK);
	cfg.postmaster = "root";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
	cfg.postmaster = "nobody";
	cfg.min_uid = pw->pw_uid;
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_OK);
	cfg.min_uid = 0;
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
}
END_TEST

START_TEST(test_account_root_postmaster)
{
	/* --local-users alone (commands run as the server's user): root can
	 * be the --postmaster account, as Debian's /etc/aliases expects */
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.local_users = 1;
	cfg.min_uid = 1000;
	cfg.postmaster = "root";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_OK);
	cfg.postmaster = "nobody";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
}
END_TEST

START_TEST(test_account_fills_ids)
{
	/* the ids, home and every group of the account, on the heap */
	struct passwd *pw = getpwnam("nobody");
	struct run_account acct;
	struct config cfg;
	gid_t groups[64];
	int n = 64;

	if (pw == NULL)
		return;
	memset(&cfg, 0, sizeof(cfg));
	ck_assert(getgrouplist("nobody", pw->pw_gid, groups, &n) >= 0);
	ck_assert_int_eq(account_find(&cfg, "nobody", &acct), ACCOUNT_OK);
	ck_assert_uint_eq(acct.uid, pw->pw_uid);
	ck_assert_uint_eq(acct.gid, pw->pw_gid);
	ck_assert_str_eq(acct.home, pw->pw_dir);
	ck_assert_int_eq(acct.ngroups, n);
	ck_assert(memcmp(acct.groups, groups, (size_t)n * sizeof(gid_t)) == 0);
	account_free(&acct);
	ck_assert_ptr_null(acct.groups);
}
END_TEST

Suite *
deliver_suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("expand");

	tcase_add_loop_test(tc, test_expand_table, 0,
	    (int)(sizeof(expand_cases) / sizeof(expand_cases[0])));
	tcase_add_test(tc, test_expand_capacity);
	tcase_add_test(tc, test_expand_values_verbatim);
	tcase_add_loop_test(tc, test_template_ok_table, 0,
	    (int)(sizeof(tmpl_cases) / sizeof(tmpl_cases[0])));
	tcase_add_test(tc, test_vars_init);
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

	tc = tcase_create("outcome");
	tcase_add_test(tc, test_outcome_starts_undelivered);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_deadline_passed_not_run);
	tcase_add_test(tc, test_deadline_in_session);
	tcase_add_test(tc, test_deadline_with_jobs);
	suite_add_tcase(s, tc);

	tc = tcase_create("accounts");
	tcase_add_test(tc, test_account_min_uid);
	tcase_add_test(tc, test_account_root_postmaster);
	tcase_add_test(tc, test_account_fills_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("end");
	tcase_add_loop_test(tc, test_end_table, 0,
	    (int)(sizeof(end_cases) / sizeof(end_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("unreaped");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_check_unreaped_fails_closed);
	tcase_add_test(tc, test_delivery_unreaped_is_temporary);
	suite_add_tcase(s, tc);
	return s;
}

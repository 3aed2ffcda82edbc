/*
 * unit_command.c - what to run (command.h): placeholder expansion and
 * the template checks, the one builder of the placeholder values, and
 * how the end of a run maps to an outcome, for a delivery and, on top
 * of it, for --rcpt-check's verdict (checks.h).  Pure: no command is
 * run here.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "address.h"
#include "checks.h"
#include "command.h"
#include "config.h"
#include "outcome.h"
#include "run.h"
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

Suite *
command_suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("expand");

	tcase_add_loop_test(tc, test_expand_table, 0,
	    (int)(sizeof(expand_cases) / sizeof(expand_cases[0])));
	tcase_add_test(tc, test_expand_capacity);
	tcase_add_test(tc, test_expand_values_verbatim);
	tcase_add_loop_test(tc, test_template_ok_table, 0,
	    (int)(sizeof(tmpl_cases) / sizeof(tmpl_cases[0])));
	tcase_add_test(tc, test_vars_init);
	suite_add_tcase(s, tc);

	tc = tcase_create("end");
	tcase_add_loop_test(tc, test_end_table, 0,
	    (int)(sizeof(end_cases) / sizeof(end_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e_options.c - the command line (pipesmtpd(8) OPTIONS, EXIT
 * STATUS): usage
 * errors exit 64 without a word of SMTP, uid 0 without --allow-root
 * exits 78, --help and --version, --user, and the process exit status of
 * orderly sessions; --as-recipient with the system's own accounts (root
 * only): --min-uid, a missing home, and which step of the switch failed.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Bad command lines: each row is the whole argument list ("@DIR" is the
 * test's record directory, so a wrong start would show as a record). */
static const char *const usage_cases[][8] = {
	{ "--bogus", "--", H_RECORDER, "@DIR" },
	{ "--log-stderr" },
	{ "--log-stderr", "--" },
	{ "--max-size", "lots", H_RECORDER, "@DIR" },
	{ "--max-size", "", H_RECORDER, "@DIR" },
	{ "--max-size", "-1", H_RECORDER, "@DIR" },
	{ "--max-size", "10k", H_RECORDER, "@DIR" },
	{ "--max-rcpt", "x", H_RECORDER, "@DIR" },
	{ "--max-errors", "3x", H_RECORDER, "@DIR" },
	{ "--timeout", "soon", H_RECORDER, "@DIR" },
	{ "--session-timeout", "1.5", H_RECORDER, "@DIR" },
	{ "--delivery-timeout", "-5", H_RECORDER, "@DIR" },
	{ "--max-hops", "many", H_RECORDER, "@DIR" },
	{ "--greet-pause", "x", H_RECORDER, "@DIR" },
	{ "--min-data-rate", "fast", H_RECORDER, "@DIR" },
	{ "--min-data-rate", "0", H_RECORDER, "@DIR" },
	{ "--hostname" },
	{ "--timeout" },
	{ "--max-size", "99999999999999999999999999", H_RECORDER, "@DIR" },
	{ "--lmtp-typo", H_RECORDER, "@DIR" },
	{ "--min-uid", "x", H_RECORDER, "@DIR" },
	{ "--min-uid", "-1", H_RECORDER, "@DIR" },
	{ "--min-uid", "", H_RECORDER, "@DIR" },
	{ "--min-uid", "1e3", H_RECORDER, "@DIR" },
	{ "--min-uid", "4294967295", H_RECORDER, "@DIR" },
	{ "--min-uid" },
};

START_TEST(test_usage_errors)
{
	struct h_opts o = { .bare = 1 };
	struct h_result r;
	int i, n = 0;

	if (h_root())		/* so that 78 cannot be the answer */
		o.args[n++] = "--allow-root";
	for (i = 0; i < 8 && usage_cases[_i][i] != NULL; i++)
		o.args[n++] = strcmp(usage_cases[_i][i], "@DIR") == 0 ? h_dir :
		    usage_cases[_i][i];
	h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
	ck_assert_msg(r.code == 64, "case %d (%s): exit %d", _i,
	    usage_cases[_i][0], r.code);
	ck_assert_msg(r.outlen == 0, "case %d: spoke on the socket: '%s'", _i,
	    r.out);
	ck_assert_msg(r.loglen > 0, "case %d: no usage message", _i);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_usage_errors_as_root_too)
{
	/* with --allow-root, a bad value is still 64 */
	struct h_opts o = { .args = { "--max-size", "lots" } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	ck_assert_int_eq(r.code, 64);
	ck_assert_int_eq(r.outlen, 0);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_root_needs_allow_root)
{
	struct h_opts o = { .no_allow_root = 1 };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	if (!h_root()) {
		/* not root: nothing to refuse */
		ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
		return;
	}
	ck_assert_int_eq(r.code, 78);
	ck_assert_msg(r.outlen == 0, "spoke SMTP: '%s'", r.out);
	ck_assert_msg(r.loglen > 0, "no message on stderr");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_help_version)
{
	static const char *const opts[] = { "--help", "--version" };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct h_opts o = { .bare = 1, .args = { opts[i] } };
		struct h_result r;

		h_run(&r, &o, "QUIT\r\n");
		ck_assert_msg(r.code == 0, "%s: exit %d", opts[i], r.code);
		ck_assert_msg(strstr(r.out, "220") == NULL, "%s spoke SMTP",
		    opts[i]);
		ck_assert_msg(r.outlen + r.loglen > 0, "%s printed nothing",
		    opts[i]);
	}
}
END_TEST

START_TEST(test_version_names_program)
{
	struct h_opts o = { .bare = 1, .args = { "--version" } };
	struct h_result r;

	h_run(&r, &o, "");
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(strstr(r.out, "pipesmtpd") != NULL ||
	    strstr(r.log, "pipesmtpd") != NULL, "'%s'", r.out);
}
END_TEST

START_TEST(test_user_nobody)
{
	struct passwd *pw = getpwnam("nobody");
	struct h_opts o = { .no_allow_root = 1, .args = { "--user",
	    "nobody" } };
	gid_t groups[64];
	int ngroups = 64, i;
	char *ids, *want;
	struct h_result r;

	if (!h_root() || pw == NULL)
		return;		/* only root can drop privileges */
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) == 0,
	    "'%s' log '%s'", r.out, r.log);
	ids = h_file(h_dir, 1, "ids", NULL);
	ck_assert_ptr_nonnull(ids);
	ck_assert(getgrouplist("nobody", pw->pw_gid, groups, &ngroups) >= 0);
	want = h_strf("uid %u\neuid %u\ngid %u\negid %u\ngroups",
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid,
	    (unsigned)pw->pw_gid);
	ck_assert_msg(strncmp(ids, want, strlen(want)) == 0, "ids '%s', want "
	    "'%s ...'", ids, want);
	for (i = 0; i < ngroups; i++)
		ck_assert_msg(strstr(ids + strlen(want), h_strf(" %u",
		    (unsigned)groups[i])) != NULL, "group %u missing: '%s'",
		    (unsigned)groups[i], ids);
	/* and no other group: root's groups are gone */
	{
		const char *p = ids + strlen(want);
		int n = 0;

		while ((p = strchr(p, ' ')) != NULL) {
			p++;
			n++;
		}
		ck_assert_msg(n <= ngroups, "extra groups: '%s'", ids);
	}
}
END_TEST

START_TEST(test_user_unknown)
{
	struct h_opts o = { .args = { "--user", "no-such-user-e2e" } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	ck_assert_msg(r.code == 78 || r.code == 64 || r.code == 75,
	    "exit %d", r.code);
	ck_assert_int_eq(r.outlen, 0);
}
END_TEST

START_TEST(test_exit_status_orderly)
{
	/* 0 for QUIT, EOF, a 421 */
	static const char *const inputs[] = { "QUIT\r\n", "", "NOOP\r\n",
	    "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n" };
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct h_result r;

		h_run(&r, NULL, inputs[i]);
		ck_assert_msg(r.code == 0, "input %zu: exit %d", i, r.code);
	}
}
END_TEST

START_TEST(test_default_hostname)
{
	/* --hostname defaults to the system's host name, --domain to it */
	char host[256] = "";
	struct h_opts o = { .bare = 1, .args = { "--log-stderr",
	    h_root() ? "--allow-root" : "--crlf" },
	    .cmd = { "--", H_RECORDER, h_dir } };
	struct h_result r;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@%s>\r\nRCPT TO:<u@" H_HOST ">\r\nQUIT\r\n", host));
	ck_assert_str_eq(h_line(r.out, 0), h_strf("220 %s ESMTP pipesmtpd",
	    host));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "550 5.7.1|221 2.0.0");
}
END_TEST

START_TEST(test_min_uid_values)
{
	/* the whole range is accepted, with or without --as-recipient */
	static const char *const values[] = { "0", "1000", "4294967294" };
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct h_opts o = { .args = { "--min-uid", values[i] } };
		struct h_result r;

		h_run(&r, &o, "QUIT\r\n");
		ck_assert_msg(r.code == 0, "--min-uid %s: exit %d", values[i],
		    r.code);
		ck_assert_str_eq(h_codes(r.out), "220|221 2.0.0");
	}
}
END_TEST

/* ---- --as-recipient with system accounts (root only) ---- */

/* low_uid - whether name is an account with a uid from 1 to 999 */
static int
low_uid(const char *name)
{
	struct passwd *pw = getpwnam(name);

	return pw != NULL && pw->pw_uid > 0 && pw->pw_uid < 1000;
}

/* rcpt_codes - the codes of EHLO, MAIL, one RCPT per name, QUIT */
static char *
rcpt_codes(struct h_opts *o, const char *const *names)
{
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n");
	struct h_result r;

	for (; *names != NULL; names++)
		in = h_strf("%sRCPT TO:<%s>\r\n", in, *names);
	h_run(&r, o, h_strf("%sQUIT\r\n", in));
	return h_codes(r.out);
}

START_TEST(test_min_uid_rcpt)
{
	/* system accounts (uid < 1000) are refused at RCPT unless they are
	 * the --postmaster account; --min-uid moves the line; uid 0 never */
	static const char *const names[] = { "daemon@" H_HOST, "bin@" H_HOST,
	    "nobody@" H_HOST, "root@" H_HOST, "Postmaster", NULL };
	struct h_opts o = { .no_allow_root = 1, .args = { "--as-recipient",
	    "--postmaster", "nobody" } };

	if (!h_root() || !low_uid("daemon") || !low_uid("bin") ||
	    getpwnam("nobody") == NULL || getpwnam("nobody")->pw_uid < 1000)
		return;
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "550 5.1.1|550 5.1.1|250 2.1.5|550 5.1.1|250 2.1.5|221 2.0.0");
	o.args[2] = "daemon";		/* postmaster: a system account */
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "250 2.1.5|550 5.1.1|250 2.1.5|550 5.1.1|250 2.1.5|221 2.0.0");
	o.args[2] = "nobody";
	o.args[3] = "--min-uid";
	o.args[4] = "0";
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|550 5.1.1|250 2.1.5|221 2.0.0");
	o.args[4] = "65535";	/* above nobody: the postmaster is exempt */
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "550 5.1.1|550 5.1.1|250 2.1.5|550 5.1.1|250 2.1.5|221 2.0.0");
}
END_TEST

START_TEST(test_local_users_rcpt)
{
	/* --local-users without --as-recipient: the command runs as the
	 * server's own user, but only accounts (uid >= --min-uid, or the
	 * --postmaster account) are accepted at RCPT; a typo beside a real
	 * recipient is refused on its own, and the rest is delivered with
	 * 250 */
	static const char *const names[] = { "nobody@" H_HOST,
	    "no-such-account-e2e@" H_HOST, "daemon@" H_HOST, "root@" H_HOST,
	    "Postmaster", NULL };
	struct h_opts o = { .args = { "--local-users", "--postmaster",
	    "nobody" } };
	struct h_result r;

	if (!low_uid("daemon") || getpwnam("nobody") == NULL ||
	    getpwnam("nobody")->pw_uid < 1000)
		return;
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "250 2.1.5|550 5.1.1|550 5.1.1|550 5.1.1|250 2.1.5|221 2.0.0");
	h_fresh();
	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<nobody@" H_HOST ">\r\n"
	    "RCPT TO:<nobdoy@" H_HOST ">\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "550 5.1.1|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "LOCAL"), "nobody");
}
END_TEST

START_TEST(test_local_users_needs_postmaster)
{
	/* postmaster must always reach someone (RFC 5321 4.5.1) */
	struct h_opts o = { .args = { "--local-users" } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	ck_assert_int_eq(r.code, 64);
	ck_assert_ptr_null(strstr(r.out, "220 "));
}
END_TEST

/* The account directory failing for nobody, after `after` good answers. */
static void
nss_fails(struct h_opts *o, const char *after)
{
	o->env[0] = "LD_PRELOAD=./tests/nssfail.so";
	o->env[1] = "PIPESMTPD_NSSFAIL_USER=nobody";
	o->env[2] = h_strf("PIPESMTPD_NSSFAIL_AFTER=%s", after);
}

START_TEST(test_lookup_error_rcpt)
{
	/* an LDAP or sssd outage is not "no such user": 451 4.3.0 at RCPT,
	 * under --local-users and --as-recipient alike; a real "no such
	 * entry" is still 550 5.1.1 */
	static const char *const names[] = { "nobody@" H_HOST,
	    "no-such-account-e2e@" H_HOST, NULL };
	struct h_opts o = { .args = { "--local-users", "--postmaster",
	    "daemon" } };
	struct h_result r;

	if (getpwnam("nobody") == NULL || getpwnam("nobody")->pw_uid < 1000)
		return;
	nss_fails(&o, "0");
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "451 4.3.0|550 5.1.1|221 2.0.0");
	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<nobody@" H_HOST ">\r\nQUIT\r\n");
	ck_assert_msg(strstr(r.out, "451 4.3.0 <nobody@" H_HOST ">: "
	    "Recipient address rejected: temporary lookup failure") != NULL,
	    "'%s'", r.out);
	ck_assert_msg(strstr(r.log, "Input/output error") != NULL, "'%s'",
	    r.log);
	if (!h_root())
		return;
	o.no_allow_root = 1;
	o.args[0] = "--as-recipient";
	ck_assert_str_eq(rcpt_codes(&o, names), "220|250|250 2.1.0|"
	    "451 4.3.0|550 5.1.1|221 2.0.0");
}
END_TEST

START_TEST(test_lookup_error_delivery)
{
	/* the directory answers at RCPT and fails at delivery: a temporary
	 * failure, never a bounce, and nothing is delivered */
	struct h_opts o = { .no_allow_root = 1, .args = { "--as-recipient",
	    "--postmaster", "daemon" } };
	struct h_result r;
	char *l;

	if (!h_root() || getpwnam("nobody") == NULL ||
	    getpwnam("nobody")->pw_uid < 1000)
		return;
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	nss_fails(&o, "1");
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<nobody@" H_HOST ">",
	    NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0 &&
	    strstr(l, "account lookup failed") != NULL, "'%s'", r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* What a delivery as nobody saw: its stdin, then cwd, HOME and uid. */
static const char whoami_script[] =
	"cat > \"$1/msg\" && { pwd; echo \"$HOME\"; id -u; } > \"$1/ids\"";

START_TEST(test_as_recipient_no_home)
{
	/* nobody's home (/nonexistent) is missing: the command runs in /
	 * with HOME still the account's, and a warning is logged */
	struct passwd *pw = getpwnam("nobody");
	struct h_opts o = { .no_allow_root = 1, .args = { "--as-recipient",
	    "--postmaster", "nobody" }, .cmd = { "--", "/bin/sh", "-c",
	    whoami_script, "sh", h_dir } };
	struct h_result r;
	struct stat st;
	char *home;

	if (!h_root() || pw == NULL || pw->pw_uid < 1000 ||
	    stat(pw->pw_dir, &st) == 0)
		return;
	home = h_strf("%s", pw->pw_dir);
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<nobody@" H_HOST ">",
	    NULL));
	ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) == 0,
	    "'%s' log '%s'", r.out, r.log);
	ck_assert_ptr_nonnull(h_read(h_subdir("msg"), NULL));
	ck_assert_str_eq(h_body(h_read(h_subdir("msg"), NULL)), H_MSG_LF);
	ck_assert_str_eq(h_read(h_subdir("ids"), NULL),
	    h_strf("/\n%s\n%u\n", home, (unsigned)pw->pw_uid));
	ck_assert_msg(strstr(r.log, h_strf("warning: account nobody: home "
	    "directory %s is missing", home)) != NULL, "'%s'", r.log);
}
END_TEST

/* Without a capability the switch needs, the failing step is named. */
struct step_case {
	const char *cap;	/* dropped from the bounding set */
	const char *text;	/* in the reply */
};

static const struct step_case step_cases[] = {
	{ "-setuid", "cannot run delivery command: setuid: Operation not "
	  "permitted" },
	{ "-setgid", "cannot run delivery command: setgroups: Operation not "
	  "permitted" },
};

START_TEST(test_as_recipient_steps)
{
	const struct step_case *c = &step_cases[_i];
	struct h_opts o = { .no_allow_root = 1, .wrap = { "setpriv",
	    "--bounding-set", c->cap }, .args = { "--as-recipient",
	    "--postmaster", "nobody" } };
	struct h_result r;
	char *l;

	if (!h_root() || getpwnam("nobody") == NULL ||
	    getpwnam("nobody")->pw_uid < 1000 ||
	    system("setpriv --bounding-set -setuid true 2>/dev/null") != 0)
		return;
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<nobody@" H_HOST ">",
	    NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0 &&
	    strstr(l, c->text) != NULL, "want '%s' in '%s'", c->text, r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_as_recipient_exec_step)
{
	/* a program root may run but the recipient may not */
	char *prog = h_subdir("prog");
	struct h_opts o = { .no_allow_root = 1, .args = { "--as-recipient",
	    "--postmaster", "nobody" }, .cmd = { "--", prog } };
	struct h_result r;
	FILE *f;
	char *l;

	if (!h_root() || getpwnam("nobody") == NULL ||
	    getpwnam("nobody")->pw_uid < 1000)
		return;
	f = fopen(prog, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(prog, 0700), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<nobody@" H_HOST ">",
	    NULL));
	l = h_line(r.out, 5);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0 &&
	    strstr(l, h_strf("cannot run delivery command: exec %s: "
	    "Permission denied", prog)) != NULL, "'%s'", r.out);
}
END_TEST

Suite *
options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = h_tcase("options");

	tcase_add_loop_test(tc, test_usage_errors, 0,
	    sizeof(usage_cases) / sizeof(usage_cases[0]));
	tcase_add_test(tc, test_usage_errors_as_root_too);
	tcase_add_test(tc, test_root_needs_allow_root);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_version_names_program);
	tcase_add_test(tc, test_user_nobody);
	tcase_add_test(tc, test_user_unknown);
	tcase_add_test(tc, test_exit_status_orderly);
	tcase_add_test(tc, test_default_hostname);
	tcase_add_test(tc, test_min_uid_values);
	suite_add_tcase(s, tc);

	tc = h_tcase("accounts");
	tcase_add_test(tc, test_min_uid_rcpt);
	tcase_add_test(tc, test_local_users_rcpt);
	tcase_add_test(tc, test_local_users_needs_postmaster);
	tcase_add_test(tc, test_lookup_error_rcpt);
	tcase_add_test(tc, test_lookup_error_delivery);
	tcase_add_test(tc, test_as_recipient_no_home);
	tcase_add_loop_test(tc, test_as_recipient_steps, 0,
	    sizeof(step_cases) / sizeof(step_cases[0]));
	tcase_add_test(tc, test_as_recipient_exec_step);
	suite_add_tcase(s, tc);
	return s;
}

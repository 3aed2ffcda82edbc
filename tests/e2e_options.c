/*
 * e2e_options.c - the command line (pipesmtpd(8) OPTIONS, EXIT
 * STATUS): usage errors exit 64, uid 0 without --allow-root exits 78,
 * and under a launcher either is logged and answered with one 421 (by
 * hand, from a terminal: the reason and usage on stderr); --help and
 * --version, --user, and the process exit status of orderly sessions;
 * --as-recipient with the system's own accounts (root only): --min-uid,
 * a missing home, and which step of the switch failed.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* The one line a client gets when the server cannot start. */
#define UNAVAILABLE	"421 4.3.0 " H_HOST " Service not available\r\n"

/* Bad command lines: each row is the whole argument list after
 * --hostname ("@DIR" is the test's record directory, so a wrong start
 * would show as a record) and what the failure's log line names. */
struct usage_case {
	const char *args[8];
	const char *why;
};

static const struct usage_case usage_cases[] = {
	{ { "--bogus", "--", H_RECORDER, "@DIR" },
	  "unknown option or missing value: --bogus" },
	{ { "--crlf" }, "no delivery command given" },
	{ { "--crlf", "--" }, "no delivery command given" },
	{ { "--max-size", "lots", H_RECORDER, "@DIR" },
	  "--max-size: bad value 'lots'" },
	{ { "--max-size", "", H_RECORDER, "@DIR" }, "--max-size: bad value" },
	{ { "--max-size", "-1", H_RECORDER, "@DIR" }, "--max-size: bad value" },
	{ { "--max-size", "10k", H_RECORDER, "@DIR" }, "--max-size: bad" },
	{ { "--max-rcpt", "x", H_RECORDER, "@DIR" }, "--max-rcpt: bad value" },
	{ { "--max-errors", "3x", H_RECORDER, "@DIR" }, "--max-errors: bad" },
	{ { "--timeout", "soon", H_RECORDER, "@DIR" }, "--timeout: bad value" },
	{ { "--session-timeout", "1.5", H_RECORDER, "@DIR" },
	  "--session-timeout: bad value" },
	{ { "--delivery-timeout", "-5", H_RECORDER, "@DIR" },
	  "--delivery-timeout: bad value" },
	{ { "--max-hops", "many", H_RECORDER, "@DIR" }, "--max-hops: bad" },
	{ { "--greet-pause", "x", H_RECORDER, "@DIR" }, "--greet-pause: bad" },
	{ { "--min-data-rate", "fast", H_RECORDER, "@DIR" },
	  "--min-data-rate: bad" },
	{ { "--min-data-rate", "0", H_RECORDER, "@DIR" },
	  "--min-data-rate: bad value '0' (a number from 1 to 1000000000)" },
	{ { "--hostname" }, "unknown option or missing value: --hostname" },
	{ { "--timeout" }, "unknown option or missing value: --timeout" },
	{ { "--max-size", "99999999999999999999999999", H_RECORDER, "@DIR" },
	  "--max-size: bad value" },
	{ { "--lmtp-typo", H_RECORDER, "@DIR" },
	  "unknown option or missing value: --lmtp-typo" },
	{ { "--min-uid", "x", H_RECORDER, "@DIR" }, "--min-uid: bad value" },
	{ { "--min-uid", "-1", H_RECORDER, "@DIR" }, "--min-uid: bad value" },
	{ { "--min-uid", "", H_RECORDER, "@DIR" }, "--min-uid: bad value" },
	{ { "--min-uid", "1e3", H_RECORDER, "@DIR" }, "--min-uid: bad value" },
	{ { "--min-uid", "4294967295", H_RECORDER, "@DIR" },
	  "--min-uid: bad value '4294967295' (a number from 0 to "
	  "4294967294)" },
	/* every numeric option's range, one past an end */
	{ { "--max-size", "0", H_RECORDER, "@DIR" }, "--max-size: bad value "
	  "'0' (a number from 1 to 4611686018427387903)" },
	{ { "--max-size", "4611686018427387904", H_RECORDER, "@DIR" },
	  "--max-size: bad value '4611686018427387904' (a number from 1 to "
	  "4611686018427387903)" },
	{ { "--max-rcpt", "100001", H_RECORDER, "@DIR" }, "--max-rcpt: bad "
	  "value '100001' (a number from 1 to 100000)" },
	{ { "--max-errors", "0", H_RECORDER, "@DIR" }, "--max-errors: bad "
	  "value '0' (a number from 1 to 100000)" },
	{ { "--timeout", "86401", H_RECORDER, "@DIR" }, "--timeout: bad "
	  "value '86401' (a number from 1 to 86400)" },
	{ { "--min-data-rate", "1000000001", H_RECORDER, "@DIR" },
	  "--min-data-rate: bad value '1000000001' (a number from 1 to "
	  "1000000000)" },
	{ { "--session-timeout", "0", H_RECORDER, "@DIR" },
	  "--session-timeout: bad value '0' (a number from 1 to 604800)" },
	{ { "--delivery-timeout", "86401", H_RECORDER, "@DIR" },
	  "--delivery-timeout: bad value '86401' (a number from 1 to "
	  "86400)" },
	{ { "--max-hops", "100001", H_RECORDER, "@DIR" }, "--max-hops: bad "
	  "value '100001' (a number from 0 to 100000)" },
	{ { "--greet-pause", "301", H_RECORDER, "@DIR" }, "--greet-pause: "
	  "bad value '301' (a number from 0 to 300)" },
	{ { "--min-uid" }, "unknown option or missing value: --min-uid" },
	{ { "--as-recipient", H_RECORDER, "@DIR" },
	  "--as-recipient needs --postmaster" },
	{ { "--env", "1X", H_RECORDER, "@DIR" }, "bad --env name: 1X" },
	{ { "--rcpt-check", "x %z", H_RECORDER, "@DIR" },
	  "unknown placeholder in --rcpt-check: %z" },
	{ { "--data-check", "x %z", H_RECORDER, "@DIR" },
	  "unknown placeholder in --data-check: %z" },
	{ { "--data-check", "x --to=%r", H_RECORDER, "@DIR" },
	  "per-recipient placeholder in --data-check: --to=%r" },
	{ { "--data-check", " ", H_RECORDER, "@DIR" },
	  "empty --data-check" },
	{ { "--authserv-id", "", H_RECORDER, "@DIR" },
	  "--authserv-id: bad value ''" },
	{ { "--authserv-id", "a;b", H_RECORDER, "@DIR" },
	  "--authserv-id: bad value 'a;b'" },
	{ { "--", H_RECORDER, "%z" }, "unknown placeholder in command: %z" },
};

/* put_args - up to max words of args into o's options from n on, "@DIR"
 * as the test's record directory; the new count */
static int
put_args(struct h_opts *o, int n, const char *const *args, int max)
{
	int i;

	for (i = 0; i < max && args[i] != NULL; i++)
		o->args[n++] = strcmp(args[i], "@DIR") == 0 ? h_dir : args[i];
	return n;
}

/* usage_opts - o with case c after --hostname (and --allow-root as
 * root, so that 78 cannot be the answer); log_first puts --log-stderr
 * before them all */
static void
usage_opts(struct h_opts *o, const struct usage_case *c, int log_first)
{
	int n = 0;

	memset(o, 0, sizeof(*o));
	o->bare = 1;
	if (log_first)
		o->args[n++] = "--log-stderr";
	o->args[n++] = "--hostname";
	o->args[n++] = H_HOST;
	if (h_root())
		o->args[n++] = "--allow-root";
	put_args(o, n, c->args, 8);
}

/* assert_unavailable - the client got the one 421 line and nothing else,
 * the exit code is code and nothing was delivered */
static void
assert_unavailable(const struct h_result *r, int code, const char *what)
{
	ck_assert_msg(r->code == code, "%s: exit %d, want %d", what, r->code,
	    code);
	ck_assert_msg(strcmp(r->out, UNAVAILABLE) == 0 &&
	    r->outlen == strlen(UNAVAILABLE), "%s: the client got '%s'", what,
	    r->out);
	ck_assert_int_eq(h_count(h_dir), 0);
}

START_TEST(test_usage_errors)
{
	/* under a launcher: one 421, and the usage text nowhere.  Without
	 * --log-stderr first the log is syslog, so stderr stays empty; with
	 * it, the log line names the failure */
	const struct usage_case *c = &usage_cases[_i];
	struct h_opts o;
	struct h_result r;
	int log_first;

	for (log_first = 0; log_first < 2; log_first++) {
		usage_opts(&o, c, log_first);
		h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
		assert_unavailable(&r, 64, c->args[0]);
		if (!log_first)
			ck_assert_msg(r.loglen == 0, "case %d: on stderr: "
			    "'%s'", _i, r.log);
		else
			ck_assert_msg(strstr(r.log, c->why) != NULL &&
			    strstr(r.log, "usage:") == NULL, "case %d: want "
			    "'%s' in the log '%s'", _i, c->why, r.log);
	}
}
END_TEST

START_TEST(test_usage_errors_as_root_too)
{
	/* with --allow-root, a bad value is still 64 */
	struct h_opts o = { .args = { "--max-size", "lots" } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 64, "--max-size lots");
	ck_assert_msg(strstr(r.log, "--max-size: bad value 'lots'") != NULL,
	    "'%s'", r.log);
}
END_TEST

START_TEST(test_bad_hostname)
{
	/* a bad --hostname is not the 421's: the system's name is */
	static const char *const names[] = { "", "-mx.example" };
	char host[256] = "";
	size_t i;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	for (i = 0; i < 2; i++) {
		struct h_opts o = { .bare = 1, .args = { "--log-stderr",
		    "--hostname", names[i], "--allow-root", "--", H_RECORDER,
		    h_dir } };
		struct h_result r;

		h_run(&r, &o, "QUIT\r\n");
		ck_assert_int_eq(r.code, 64);
		ck_assert_str_eq(r.out, h_strf("421 4.3.0 %s Service not "
		    "available\r\n", host));
		ck_assert_msg(strstr(r.log, "bad --hostname") != NULL, "'%s'",
		    r.log);
	}
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
	assert_unavailable(&r, 78, "root without --allow-root");
	ck_assert_msg(strstr(r.log, "delivery commands would run as root") !=
	    NULL, "'%s'", r.log);
}
END_TEST

START_TEST(test_drop_failure_tempfail)
{
	/* --user cannot be honoured (no CAP_SETGID left): a temporary
	 * failure, 75, answered and logged the same way */
	struct h_opts o = { .no_allow_root = 1, .wrap = { "setpriv",
	    "--bounding-set", "-setgid" }, .args = { "--user", "nobody" } };
	struct h_result r;

	if (!h_root() || getpwnam("nobody") == NULL ||
	    system("setpriv --bounding-set -setgid true 2>/dev/null") != 0)
		return;
	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 75, "--user nobody without CAP_SETGID");
	ck_assert_msg(strstr(r.log, "cannot start: cannot drop privileges to "
	    "nobody: Operation not permitted") != NULL, "'%s'", r.log);
}
END_TEST

START_TEST(test_drop_uid0_regained)
{
	/* setuid() that keeps the capabilities (the no_setuid_fixup
	 * secure bit): uid 0 could be taken back, so the drop did not
	 * happen: 70, answered and logged like every start-up failure */
	struct h_opts o = { .no_allow_root = 1, .wrap = { "setpriv",
	    "--securebits", "+no_setuid_fixup" }, .args = { "--user",
	    "nobody" } };
	struct h_result r;

	if (!h_root() || getpwnam("nobody") == NULL || system("setpriv "
	    "--securebits +no_setuid_fixup true 2>/dev/null") != 0)
		return;
	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 70, "--user nobody, uid 0 regained");
	ck_assert_msg(strstr(r.log, "cannot start: privileges not dropped to "
	    "nobody") != NULL, "'%s'", r.log);
}
END_TEST

/* Start-ups that cannot work, with fd 2 the client's socket as inetd
 * and xinetd make it: 64 and, as root, 78 (no --allow-root). */
static const char *const inetd_cases[][6] = {
	{ "--bogus", "--", H_RECORDER, "@DIR" },
	{ "--as-recipient", "--", H_RECORDER, "@DIR" },
	{ "--max-size", "lots", "--", H_RECORDER, "@DIR" },
	{ "--" },
	{ "--", H_RECORDER, "@DIR" },
};

START_TEST(test_inetd_stderr_is_socket)
{
	/* the usage text and the error go nowhere near the client: one 421
	 * line, whatever the failure */
	struct h_opts o = { .bare = 1, .stderr_sock = 1, .args = {
	    "--hostname", H_HOST } };
	struct h_result r;

	put_args(&o, 2, inetd_cases[_i], 6);
	if (_i == 4 && !h_root())
		return;		/* the 78 case: only root is refused */
	h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
	assert_unavailable(&r, _i == 4 ? 78 : 64, inetd_cases[_i][0]);
}
END_TEST

START_TEST(test_terminal_usage)
{
	/* run by hand (stdout a terminal): the reason and the usage text on
	 * stderr, nothing on the terminal's stdout, exit 64 */
	struct h_opts o = { .bare = 1, .tty_out = 1, .args = { "--hostname",
	    H_HOST, "--bogus", "--", H_RECORDER, h_dir } };
	struct h_result r;

	h_run(&r, &o, "");
	ck_assert_int_eq(r.code, 64);
	ck_assert_msg(r.outlen == 0, "on the terminal: '%s'", r.out);
	ck_assert_msg(strstr(r.log, "pipesmtpd: unknown option or missing "
	    "value: --bogus\nusage: pipesmtpd [options]") != NULL, "'%s'",
	    r.log);
	ck_assert_msg(strstr(r.log, "--postmaster USER") != NULL, "no usage "
	    "text: '%s'", r.log);
}
END_TEST

START_TEST(test_terminal_refusal)
{
	/* by hand as root without --allow-root: the reason on stderr, no
	 * usage text, nothing on stdout, exit 78 */
	struct h_opts o = { .bare = 1, .tty_out = 1, .args = { "--hostname",
	    H_HOST, "--", H_RECORDER, h_dir } };
	struct h_result r;

	if (!h_root())
		return;
	h_run(&r, &o, "");
	ck_assert_int_eq(r.code, 78);
	ck_assert_msg(r.outlen == 0, "on the terminal: '%s'", r.out);
	ck_assert_msg(strstr(r.log, "pipesmtpd: delivery commands would run "
	    "as root") != NULL, "'%s'", r.log);
	ck_assert_ptr_null(strstr(r.log, "usage:"));
}
END_TEST

START_TEST(test_startup_failure_syslog)
{
	/* without --log-stderr the failure goes to syslog: a socket of the
	 * test's own is /dev/log in the server's mount namespace */
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct h_opts o = { .bare = 1, .args = { "--hostname", H_HOST,
	    "--allow-root", "--bogus", "--", H_RECORDER, h_dir } };
	struct h_result r;
	char dgram[2048];
	ssize_t n;
	int s;

	if (!h_can_unshare())
		return;
	o.dev_log = h_subdir("log");
	ck_assert_uint_lt(strlen(o.dev_log), sizeof(a.sun_path));
	strcpy(a.sun_path, o.dev_log);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 64, "--bogus");
	ck_assert_msg(r.loglen == 0, "on stderr: '%s'", r.log);
	/* syslog() sent it before the exit the harness waited for */
	n = recv(s, dgram, sizeof(dgram) - 1, MSG_DONTWAIT);
	ck_assert_msg(n > 0, "nothing on /dev/log");
	dgram[n] = '\0';
	close(s);
	/* <19>: facility mail (2 * 8), priority err (3) */
	ck_assert_msg(strncmp(dgram, "<19>", 4) == 0 &&
	    strstr(dgram, " pipesmtpd[") != NULL &&
	    strstr(dgram, "unknown option or missing value: --bogus") != NULL,
	    "'%s'", dgram);
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

/* --user accounts: system accounts both, whatever --min-uid says */
static const char *const user_names[] = { "nobody", "mail" };

START_TEST(test_user_nobody)
{
	const char *name = user_names[_i];
	struct passwd *pw = getpwnam(name);
	struct h_opts o = { .no_allow_root = 1, .args = { "--user", name } };
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
	ck_assert(getgrouplist(name, pw->pw_gid, groups, &ngroups) >= 0);
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
	assert_unavailable(&r, 78, "--user no-such-user-e2e");
	ck_assert_msg(strstr(r.log, "--user: no such account: "
	    "no-such-user-e2e") != NULL, "'%s'", r.log);
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

/* The ends of every numeric option's range, each accepted. */
static const char *const numeric_ends[][2] = {
	{ "--max-size", "1" }, { "--max-size", "4611686018427387903" },
	{ "--max-rcpt", "1" }, { "--max-rcpt", "100000" },
	{ "--max-errors", "1" }, { "--max-errors", "100000" },
	{ "--timeout", "1" }, { "--timeout", "86400" },
	{ "--min-data-rate", "1" }, { "--min-data-rate", "1000000000" },
	{ "--session-timeout", "1" }, { "--session-timeout", "604800" },
	{ "--delivery-timeout", "1" }, { "--delivery-timeout", "86400" },
	{ "--max-hops", "0" }, { "--max-hops", "100000" },
	{ "--greet-pause", "0" },
};

START_TEST(test_numeric_ends)
{
	struct h_opts o = { .args = { numeric_ends[_i][0],
	    numeric_ends[_i][1] } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	ck_assert_msg(r.code == 0, "%s %s: exit %d", numeric_ends[_i][0],
	    numeric_ends[_i][1], r.code);
	ck_assert_str_eq(h_codes(r.out), "220|221 2.0.0");
}
END_TEST

START_TEST(test_max_size_wide)
{
	/* --max-size keeps all 64 bits: EHLO's SIZE says what was given */
	struct h_opts o = { .args = { "--max-size", "4611686018427387903" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
	ck_assert_msg(strstr(r.out, "250-SIZE 4611686018427387903\r\n") !=
	    NULL, "'%s'", r.out);
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
	/* postmaster must always reach someone (RFC 5321 4.5.1): a usage
	 * error, found before any other rule (as root, without
	 * --allow-root, the root rule would say 78) */
	struct h_opts o = { .no_allow_root = 1, .args = { "--local-users" } };
	struct h_result r;

	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 64, "--local-users");
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

START_TEST(test_lookup_error_startup)
{
	/* the directory failing for --user's or --postmaster's account at
	 * start-up is temporary (75), not "no such account" (78) */
	struct h_opts o = { .args = { "--local-users", "--postmaster",
	    "nobody" } };
	struct h_result r;

	if (getpwnam("nobody") == NULL || getpwnam("nobody")->pw_uid < 1000)
		return;
	nss_fails(&o, "0");
	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 75, "--postmaster nobody");
	ck_assert_msg(strstr(r.log, "--postmaster: account lookup failed: "
	    "nobody: Input/output error") != NULL, "'%s'", r.log);
	if (!h_root())
		return;
	o.no_allow_root = 1;
	o.args[0] = "--user";
	o.args[1] = "nobody";
	o.args[2] = NULL;
	h_run(&r, &o, "QUIT\r\n");
	assert_unavailable(&r, 75, "--user nobody");
	ck_assert_msg(strstr(r.log, "--user: account lookup failed: "
	    "nobody: Input/output error") != NULL, "'%s'", r.log);
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
	tcase_add_test(tc, test_bad_hostname);
	tcase_add_test(tc, test_root_needs_allow_root);
	tcase_add_test(tc, test_drop_failure_tempfail);
	tcase_add_test(tc, test_drop_uid0_regained);
	tcase_add_loop_test(tc, test_inetd_stderr_is_socket, 0,
	    sizeof(inetd_cases) / sizeof(inetd_cases[0]));
	tcase_add_test(tc, test_terminal_usage);
	tcase_add_test(tc, test_terminal_refusal);
	tcase_add_test(tc, test_startup_failure_syslog);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_version_names_program);
	tcase_add_loop_test(tc, test_user_nobody, 0,
	    sizeof(user_names) / sizeof(user_names[0]));
	tcase_add_test(tc, test_user_unknown);
	tcase_add_test(tc, test_exit_status_orderly);
	tcase_add_test(tc, test_default_hostname);
	tcase_add_test(tc, test_min_uid_values);
	tcase_add_loop_test(tc, test_numeric_ends, 0,
	    sizeof(numeric_ends) / sizeof(numeric_ends[0]));
	tcase_add_test(tc, test_max_size_wide);
	suite_add_tcase(s, tc);

	tc = h_tcase("accounts");
	tcase_add_test(tc, test_min_uid_rcpt);
	tcase_add_test(tc, test_local_users_rcpt);
	tcase_add_test(tc, test_local_users_needs_postmaster);
	tcase_add_test(tc, test_lookup_error_rcpt);
	tcase_add_test(tc, test_lookup_error_startup);
	tcase_add_test(tc, test_lookup_error_delivery);
	tcase_add_test(tc, test_as_recipient_no_home);
	tcase_add_loop_test(tc, test_as_recipient_steps, 0,
	    sizeof(step_cases) / sizeof(step_cases[0]));
	tcase_add_test(tc, test_as_recipient_exec_step);
	suite_add_tcase(s, tc);
	return s;
}

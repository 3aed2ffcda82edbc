/*
 * e2e_aliases.c - the aliases suite: --aliases FILE (pipesmtpd(8),
 * LOCAL RECIPIENTS).
 *
 * An alias delivers to each of its targets with a command run of its
 * own (%u, %r, %l, RECIPIENT, LOCAL and Delivered-To: name the target;
 * ORIGINAL_RECIPIENT, Received's "for" and the replies keep what the
 * client gave), lists, chains, the +extension carried over, targets
 * folded across RCPTs, per-RCPT replies under LMTP and PRDR that
 * aggregate the targets' outcomes, the bound on deliveries, and files
 * that refuse to start (exit 78, no SMTP).  Targets' names choose the
 * recorder's behaviour (ok, exit75, exit67, ...).
 */
#include <stdio.h>
#include <pwd.h>
#include <string.h>

#include "harness.h"

/* aliases_file - text as the test's aliases file; its path */
static char *
aliases_file(const char *text)
{
	char *path = h_subdir("aliases");
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* run_aliases - one session with --aliases over text, and more options */
static void
run_aliases(struct h_result *r, const char *text, const char *opt,
    const char *input)
{
	struct h_opts o = { .args = { "--aliases", aliases_file(text), opt },
	    .cmd = { "--", H_RECORDER, h_dir, "%u", "%r", "%l", "%e" } };

	h_run(r, &o, input);
}

/* assert_delivery - run n went to local@mx.example for orig */
static void
assert_delivery(int n, const char *user, const char *local,
    const char *ext, const char *orig)
{
	char *rcpt = h_strf("%s@mx.example", local);

	ck_assert_str_eq(h_env(h_dir, n, "RECIPIENT"), rcpt);
	ck_assert_str_eq(h_env(h_dir, n, "LOCAL"), user);
	ck_assert_str_eq(h_env(h_dir, n, "EXTENSION"), ext);
	ck_assert_str_eq(h_env(h_dir, n, "ORIGINAL_RECIPIENT"), orig);
	ck_assert_str_eq(h_argv(h_dir, n, 2), user);
	ck_assert_str_eq(h_argv(h_dir, n, 3), rcpt);
	ck_assert_str_eq(h_argv(h_dir, n, 4), local);
	ck_assert_str_eq(h_argv(h_dir, n, 5), ext);
}

START_TEST(test_alias_one_account)
{
	struct h_result r;

	run_aliases(&r, "# who reads what\ninfo: Alice\n", NULL,
	    h_txn("<s@x.example>", H_MSG, "<Info@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	assert_delivery(1, "alice", "alice", "", "Info@mx.example");
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), H_MSG_LF);
	ck_assert_msg(strstr(r.log, ": to=<alice@mx.example>, "
	    "orig_to=<Info@mx.example>, from=<s@x.example>") != NULL,
	    "log: '%s'", r.log);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_no_alias_unchanged)
{
	/* a recipient that is no alias: ORIGINAL_RECIPIENT is RECIPIENT,
	 * and the log line has no orig_to */
	struct h_result r;

	run_aliases(&r, "info: alice\n", NULL, h_txn("<s@x.example>", H_MSG,
	    "<Bob+x@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	assert_delivery(1, "bob", "Bob+x", "x", "Bob+x@mx.example");
	ck_assert_msg(strstr(r.log, "orig_to") == NULL, "log: '%s'", r.log);
	ck_assert_msg(strstr(r.log, ": to=<Bob+x@mx.example>, from=") != NULL,
	    "log: '%s'", r.log);
}
END_TEST

/* One RCPT, and the deliveries it makes: user, local part, extension. */
static const struct targets_case {
	const char *what;
	const char *text;		/* the aliases file */
	const char *rcpt;
	const char *orig;		/* ORIGINAL_RECIPIENT */
	const char *want[4][3];
} targets_cases[] = {
	{ "a list", "team: carol,\n  dave, erin\n", "<team@mx.example>",
	  "team@mx.example", { { "carol", "carol", "" },
	  { "dave", "dave", "" }, { "erin", "erin", "" } } },
	{ "a chain", "sales: eu, frank\neu: gina, hal\nhal: hal, ivan\n",
	  "<sales@mx.example>", "sales@mx.example", { { "gina", "gina", "" },
	  { "hal", "hal", "" }, { "ivan", "ivan", "" },
	  { "frank", "frank", "" } } },
	{ "the +extension carried over", "team: carol, dave\n",
	  "<Team+News@mx.example>", "Team+News@mx.example",
	  { { "carol", "carol+News", "News" },
	  { "dave", "dave+News", "News" } } },
	{ "a bare <Postmaster>", "postmaster: root-mail\nroot-mail: alice\n",
	  "<Postmaster>", "Postmaster@" H_HOST, { { "alice", "alice", "" } } },
};

START_TEST(test_alias_targets)
{
	const struct targets_case *c = &targets_cases[_i];
	struct h_result r;
	char *last;
	int n = 0;

	while (n < 4 && c->want[n][0] != NULL)
		n++;
	run_aliases(&r, c->text, NULL, h_txn("<s@x.example>", H_MSG, c->rcpt,
	    NULL));
	ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) == 0,
	    "%s: '%s'", c->what, r.out);
	last = h_line(r.out, 5);
	ck_assert_msg(strstr(last, h_strf("delivered to %d of %d recipients",
	    n, n)) != NULL, "%s: '%s'", c->what, last);
	ck_assert_int_eq(h_count(h_dir), n);
	while (n-- > 0)
		assert_delivery(n + 1, c->want[n][0], c->want[n][1],
		    c->want[n][2], c->orig);
}
END_TEST

START_TEST(test_alias_common_target)
{
	/* two RCPTs expanding to a common target, and that target asked
	 * for itself: one delivery each; the summary counts deliveries */
	struct h_result r;
	char *last;

	run_aliases(&r, "t1: a, b\nt2: B, c\n", NULL, h_txn("<s@x.example>",
	    H_MSG, "<t1@mx.example>", "<t2@mx.example>", "<b@mx.example>",
	    "<T1@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(4, "250 2.0.0"));
	last = h_line(r.out, 8);
	ck_assert_msg(strstr(last, "delivered to 3 of 3 recipients") != NULL,
	    "'%s'", last);
	ck_assert_int_eq(h_count(h_dir), 3);
	assert_delivery(1, "a", "a", "", "t1@mx.example");
	assert_delivery(2, "b", "b", "", "t1@mx.example");
	assert_delivery(3, "c", "c", "", "t2@mx.example");
}
END_TEST

/* The per-RCPT replies after the data: LMTP, or PRDR's. */
static const char per_rcpt_aliases[] =
    "both: ok1, ok2\n"
    "half: ok3, exit75\n"
    "perm: ok4, exit67\n"
    "mixed: exit67, exit75\n";

START_TEST(test_alias_per_rcpt_replies)
{
	/* _i 0: LMTP; 1: PRDR.  A duplicate RCPT gets its first's reply */
	struct h_result r;
	const char *rc = "RCPT TO:<both@mx.example>\r\n"
	    "RCPT TO:<half@mx.example>\r\nRCPT TO:<perm@mx.example>\r\n"
	    "RCPT TO:<mixed@mx.example>\r\nRCPT TO:<HALF@mx.example>\r\n";

	run_aliases(&r, per_rcpt_aliases, _i == 0 ? "--lmtp" : NULL,
	    h_strf("%s c.example\r\nMAIL FROM:<s@x.example>%s\r\n%s"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n", _i == 0 ? "LHLO" : "EHLO",
	    _i == 0 ? "" : " PRDR", rc));
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|250 2.1.5|%s|"
	    "250 2.0.0|451 4.3.0|550 5.1.1|451 4.3.0|451 4.3.0|%s221 2.0.0",
	    _i == 0 ? "354" : "354|353", _i == 0 ? "" : "250 2.0.0|"));
	/* each target once (mixed's are perm's and half's), the exit75
	 * one's failure spoken for half */
	ck_assert_int_eq(h_count(h_dir), 6);
	ck_assert_msg(strstr(h_line(r.out, 10 + _i), "<half@mx.example>") !=
	    NULL, "'%s'", h_line(r.out, 10 + _i));
}
END_TEST

START_TEST(test_alias_received_and_delivered_to)
{
	/* _i 0: the added headers spooled once; 1: --delivered-to, built
	 * per delivery.  "for" is the client's address either way */
	struct h_result r;
	const char *who[] = { "carol", "dave" };
	int i;

	run_aliases(&r, "team: carol, dave\n", _i ? "--delivered-to" : NULL,
	    h_txn("<s@x.example>", H_MSG, "<Team@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 2);
	for (i = 0; i < 2; i++) {
		char *in = h_stdin(h_dir, i + 1, NULL);
		char *rec = h_header(in, "Received"), *dt;

		ck_assert_msg(rec != NULL && strstr(rec, "\tfor "
		    "<Team@mx.example>;") != NULL, "'%s'", rec);
		dt = h_header(in, "Delivered-To");
		if (_i == 0) {
			ck_assert_ptr_null(dt);
			continue;
		}
		ck_assert_str_eq(dt, h_strf("Delivered-To: %s@mx.example\n",
		    who[i]));
	}
}
END_TEST

START_TEST(test_alias_delivery_bound)
{
	/* 10,000 deliveries in a transaction at most (--max-rcpt if it is
	 * larger): an RCPT past them gets 452 4.5.3, and the next
	 * transaction starts afresh */
	size_t cap = 2 * 6000 * 12 + 64, o, i;
	char *text = h_repeat(" ", cap), *in;
	struct h_result r;

	o = (size_t)snprintf(text, cap, "big1: a0");
	for (i = 1; i < 6000; i++)
		o += (size_t)snprintf(text + o, cap - o, ", a%zu", i);
	o += (size_t)snprintf(text + o, cap - o, "\nbig2: b0");
	for (i = 1; i < 6000; i++)
		o += (size_t)snprintf(text + o, cap - o, ", b%zu", i);
	snprintf(text + o, cap - o, "\n");
	in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<big1@mx.example>\r\nRCPT TO:<big2@mx.example>\r\n"
	    "RCPT TO:<one@mx.example>\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<big2@mx.example>\r\n"
	    "RSET\r\nQUIT\r\n");
	run_aliases(&r, text, NULL, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "452 4.5.3|250 2.1.5|250 2.0.0|250 2.1.0|250 2.1.5|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* Files that refuse to start, and a word of the reason. */
static const char *const bad_files[][2] = {
	{ "ok: a\nbad: |/usr/bin/procmail\n", ":2: " },
	{ "bad: /var/mail/bad\n", ":1: " },
	{ "bad: :include:/etc/list\n", ":1: " },
	{ "bad: bob@example.org\n", ":1: " },
	{ "a: b\nb: a\n", ":1: " },
	{ "a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\na8: a9\n"
	  "a9: a10\na10: a11\na11: x\n", ":1: " },
	{ NULL, "No such file" },
};

START_TEST(test_alias_bad_file)
{
	const char *text = bad_files[_i][0];
	struct h_opts o = { .args = { "--aliases", text ? aliases_file(text) :
	    h_subdir("missing") } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>", NULL));
	ck_assert_msg(r.code == 78, "case %d: exit %d", _i, r.code);
	/* no SMTP: only the start-up path's one 421 */
	ck_assert_msg(strcmp(r.out, "421 4.3.0 " H_HOST " Service not "
	    "available\r\n") == 0, "case %d spoke: '%s'", _i, r.out);
	ck_assert_msg(strstr(r.log, h_strf("%s%s", text ? o.args[1] : "",
	    bad_files[_i][1])) != NULL, "case %d log: '%s'", _i, r.log);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* ---- --aliases with --local-users: the targets must be accounts ---- */

/* nobody_ok - nobody is an account --local-users accepts by default */
static int
nobody_ok(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw != NULL && pw->pw_uid >= 1000;
}

START_TEST(test_alias_local_users)
{
	/* postmaster mapped by the file needs no --postmaster; an alias
	 * whose target is no account is refused at RCPT (550 5.1.1, and the
	 * log says the file is wrong), beside the others, which deliver */
	static const char text[] = "postmaster: nobody\nabuse: postmaster\n"
	    "stale: no-such-account-e2e\n";
	struct h_result r;

	if (!nobody_ok())
		return;
	run_aliases(&r, text, "--local-users", "EHLO c.example\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<Postmaster>\r\n"
	    "RCPT TO:<abuse@mx.example>\r\nRCPT TO:<stale@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|550 5.1.1|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);	/* nobody, once */
	ck_assert_str_eq(h_env(h_dir, 1, "LOCAL"), "nobody");
	ck_assert_msg(strstr(r.log, "warning: alias target "
	    "no-such-account-e2e is no account that can receive") != NULL,
	    "log: '%s'", r.log);
}
END_TEST

/* Start-ups that postmaster@ could not reach, and their exit codes. */
static const struct pm_case {
	const char *text;	/* the aliases file */
	const char *opt;	/* besides --local-users */
	int code;
	const char *log;
} pm_cases[] = {
	{ "info: nobody\n", NULL, 64, "--local-users needs --postmaster" },
	{ "postmaster: root\n", NULL, 78,
	  "postmaster's alias target: no such account: root" },
	{ "postmaster: nobody, no-such-account-e2e\n", NULL, 78,
	  "no such account: no-such-account-e2e" },
	{ "postmaster: root\n", "--postmaster=root", 0, NULL },
};

START_TEST(test_alias_postmaster_startup)
{
	const struct pm_case *c = &pm_cases[_i];
	struct h_opts o = { .args = { "--local-users", "--aliases",
	    aliases_file(c->text), c->opt } };
	struct h_result r;

	if (!nobody_ok())
		return;
	h_run(&r, &o, "QUIT\r\n");
	ck_assert_msg(r.code == c->code, "case %d: exit %d", _i, r.code);
	if (c->log == NULL) {
		ck_assert_str_eq(h_codes(r.out), "220|221 2.0.0");
		return;
	}
	ck_assert_str_eq(r.out, "421 4.3.0 " H_HOST " Service not "
	    "available\r\n");
	ck_assert_msg(strstr(r.log, c->log) != NULL, "case %d log: '%s'", _i,
	    r.log);
}
END_TEST

Suite *
aliases_suite(void)
{
	Suite *s = suite_create("aliases");
	TCase *tc = h_tcase("aliases");

	tcase_add_test(tc, test_alias_one_account);
	tcase_add_test(tc, test_no_alias_unchanged);
	tcase_add_loop_test(tc, test_alias_targets, 0,
	    sizeof(targets_cases) / sizeof(targets_cases[0]));
	tcase_add_test(tc, test_alias_common_target);
	tcase_add_loop_test(tc, test_alias_per_rcpt_replies, 0, 2);
	tcase_add_loop_test(tc, test_alias_received_and_delivered_to, 0, 2);
	tcase_add_test(tc, test_alias_delivery_bound);
	tcase_add_loop_test(tc, test_alias_bad_file, 0,
	    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, test_alias_local_users);
	tcase_add_loop_test(tc, test_alias_postmaster_startup, 0,
	    sizeof(pm_cases) / sizeof(pm_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

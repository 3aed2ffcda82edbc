/*
 * e2e_address.c - envelope addresses (pipesmtpd(8) PROTOCOL and
 * PLACEHOLDERS): what MAIL and RCPT accept, the reply to what they refuse, and
 * the internal form a delivery command sees in %r %l %u %e %d / RECIPIENT.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

#define ACCEPTED	"250 2.1.5"
#define CLASS5		"5"	/* any 5xx: the man page names no exact code */

struct rcpt_case {
	const char *rcpt;	/* the RCPT TO: argument */
	int utf8;		/* MAIL carries SMTPUTF8 */
	const char *want;	/* reply "code dsn", or CLASS5 */
	const char *r, *l, *u, *e, *d;	/* when accepted */
};

static const struct rcpt_case rcpt_cases[] = {
	{ "<user@mx.example>", 0, ACCEPTED,
	  "user@mx.example", "user", "user", "", "mx.example" },
	{ "<User+Ext@MX.Example>", 0, ACCEPTED,
	  "User+Ext@mx.example", "User+Ext", "user", "Ext", "mx.example" },
	{ "<user+a+b@mx.example>", 0, ACCEPTED,
	  "user+a+b@mx.example", "user+a+b", "user", "a+b", "mx.example" },
	{ "<\"john doe\"@mx.example>", 0, ACCEPTED,
	  "john doe@mx.example", "john doe", "john doe", "", "mx.example" },
	{ "<\"John Doe+Box\"@mx.example>", 0, ACCEPTED,
	  "John Doe+Box@mx.example", "John Doe+Box", "john doe", "Box",
	  "mx.example" },
	{ "<\"a\\\"b\\\\c\"@mx.example>", 0, ACCEPTED,
	  "a\"b\\c@mx.example", "a\"b\\c", "a\"b\\c", "", "mx.example" },
	{ "<\"jo\\hn\"@mx.example>", 0, ACCEPTED,
	  "john@mx.example", "john", "john", "", "mx.example" },
	{ "<\"John.Smith\"@mx.example>", 0, ACCEPTED,
	  "John.Smith@mx.example", "John.Smith", "john.smith", "",
	  "mx.example" },
	{ "<first.last@mx.example>", 0, ACCEPTED,
	  "first.last@mx.example", "first.last", "first.last", "",
	  "mx.example" },
	{ "<@relay.example,@r2.example:user@mx.example>", 0, ACCEPTED,
	  "user@mx.example", "user", "user", "", "mx.example" },
	{ "<@relay.example:user@mx.example>", 0, ACCEPTED,
	  "user@mx.example", "user", "user", "", "mx.example" },
	{ "<user@MX.EXAMPLE>", 0, ACCEPTED,
	  "user@mx.example", "user", "user", "", "mx.example" },
	{ "<postmaster@MX.example>", 0, ACCEPTED,
	  "postmaster@mx.example", "postmaster", "postmaster", "",
	  "mx.example" },
	{ "<\xc3\xbcser@mx.example>", 1, ACCEPTED,
	  "\xc3\xbcser@mx.example", "\xc3\xbcser", "\xc3\xbcser", "",
	  "mx.example" },
	/* not ours: this is not a relay */
	{ "<user@other.example>", 0, "550 5.7.1", 0, 0, 0, 0, 0 },
	{ "<user@sub.mx.example>", 0, "550 5.7.1", 0, 0, 0, 0, 0 },
	{ "<user@mx.example.evil>", 0, "550 5.7.1", 0, 0, 0, 0, 0 },
	{ "<postmaster@other.example>", 0, "550 5.7.1", 0, 0, 0, 0, 0 },
	{ "<user@[192.0.2.1]>", 0, "550 5.7.1", 0, 0, 0, 0, 0 },
	{ "<@mx.example:user@other.example>", 0, "550 5.7.1", 0, 0, 0, 0,
	  0 },
	/* valid but unsafe for a command */
	{ "<a/b@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<-x@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\".x\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"a/b\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"-rf\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"..\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"../etc\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"\\-x\"@mx.example>", 0, "550 5.1.3", 0, 0, 0, 0, 0 },
	/* syntax */
	{ "<.x@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<x.@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<a..b@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "user@mx.example", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<us er@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@mx.example", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@mx.example>junk", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@-mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@mx..example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user\x01@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"a\x01" "b\"@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<\"a\tb\"@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user\x7f@mx.example>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	{ "<user@mx.exa\x1bmple>", 0, "501 5.1.3", 0, 0, 0, 0, 0 },
	/* parameters */
	{ "<user@mx.example> FOO=bar", 0, "555 5.5.4", 0, 0, 0, 0, 0 },
	{ "<user@mx.example> NOTIFY=NEVER", 0, "555 5.5.4", 0, 0, 0, 0, 0 },
	/* UTF-8 only after SMTPUTF8 */
	{ "<\xc3\xbcser@mx.example>", 0, CLASS5, 0, 0, 0, 0, 0 },
	/* RFC 5321 4.5.3.1.3: a path is at most 256 octets */
	{ "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@mx.example>", 0, CLASS5, 0, 0, 0, 0, 0 },
};

/* check_reply - the RCPT reply (reply 3) against want */
static void
check_reply(const char *out, int n, const char *want, const char *what)
{
	char *l = h_line(out, n);

	ck_assert_msg(l != NULL, "%s: no reply %d in '%s'", what, n, out);
	if (strcmp(want, CLASS5) == 0)
		ck_assert_msg(l[0] == '5', "%s: got '%s', want a 5xx", what, l);
	else
		ck_assert_msg(strncmp(l, want, strlen(want)) == 0 &&
		    (l[strlen(want)] == ' ' || l[strlen(want)] == '\0'),
		    "%s: got '%s', want '%s'", what, l, want);
}

START_TEST(test_rcpt_table)
{
	const struct rcpt_case *c = &rcpt_cases[_i];
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "%r", "%l",
	    "%u", "%e", "%d" } };
	int ok = strcmp(c->want, ACCEPTED) == 0;
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>%s\r\n"
	    "RCPT TO:%s\r\n%sQUIT\r\n", c->utf8 ? " SMTPUTF8" : "", c->rcpt,
	    ok ? "DATA\r\n" H_MSG ".\r\n" : "");
	struct h_result r;

	h_run(&r, &o, in);
	check_reply(r.out, 3, c->want, c->rcpt);
	if (!ok) {
		ck_assert_int_eq(h_count(h_dir), 0);
		ck_assert_int_eq(h_nreplies(r.out), 5);
		return;
	}
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), c->r);
	ck_assert_str_eq(h_argv(h_dir, 1, 2), c->r);
	ck_assert_str_eq(h_argv(h_dir, 1, 3), c->l);
	ck_assert_str_eq(h_argv(h_dir, 1, 4), c->u);
	ck_assert_str_eq(h_env(h_dir, 1, "LOCAL"), c->u);
	ck_assert_str_eq(h_argv(h_dir, 1, 5), c->e);
	ck_assert_str_eq(h_env(h_dir, 1, "EXTENSION"), c->e);
	ck_assert_str_eq(h_argv(h_dir, 1, 6), c->d);
	ck_assert_str_eq(h_env(h_dir, 1, "DOMAIN"), c->d);
	ck_assert_int_eq(h_argc(h_dir, 1), 7);
}
END_TEST

struct mail_case {
	const char *mail;	/* the MAIL FROM: argument */
	const char *want;	/* reply "code dsn", or CLASS5 */
	const char *sender;	/* SENDER when accepted */
	const char *return_path;	/* the Return-Path: line */
};

static const struct mail_case mail_cases[] = {
	{ "<s@x.example>", "250 2.1.0", "s@x.example",
	  "Return-Path: <s@x.example>\n" },
	{ "<>", "250 2.1.0", "", "Return-Path: <>\n" },
	{ "<s@[192.0.2.1]>", "250 2.1.0", "s@[192.0.2.1]",
	  "Return-Path: <s@[192.0.2.1]>\n" },
	{ "<s@[IPv6:2001:db8::1]>", "250 2.1.0", "s@[IPv6:2001:db8::1]",
	  "Return-Path: <s@[IPv6:2001:db8::1]>\n" },
	{ "<@a.example,@b.example:s@x.example>", "250 2.1.0", "s@x.example",
	  "Return-Path: <s@x.example>\n" },
	{ "<\"john doe\"@x.example>", "250 2.1.0", "john doe@x.example",
	  "Return-Path: <\"john doe\"@x.example>\n" },
	{ "<s@x.example> SIZE=1000", "250 2.1.0", "s@x.example", NULL },
	{ "<s@x.example> SIZE=10485760", "250 2.1.0", "s@x.example", NULL },
	{ "<s@x.example> BODY=8BITMIME", "250 2.1.0", "s@x.example", NULL },
	{ "<s@x.example> BODY=7BIT", "250 2.1.0", "s@x.example", NULL },
	{ "<s@x.example> body=8bitmime size=20", "250 2.1.0", "s@x.example",
	  NULL },
	{ "<s@x.example> SMTPUTF8", "250 2.1.0", "s@x.example", NULL },
	{ "<s@x.example> BODY=8BITMIME SIZE=10 SMTPUTF8", "250 2.1.0",
	  "s@x.example", NULL },
	{ "<s\xc3\xbc@x.example> SMTPUTF8", "250 2.1.0",
	  "s\xc3\xbc@x.example", "Return-Path: <s\xc3\xbc@x.example>\n" },
	{ "<s@x.example> SIZE=10485761", "552 5.3.4", 0, 0 },
	{ "<s@x.example> SIZE=99999999999999", "552 5.3.4", 0, 0 },
	{ "<s@x.example> FOO=1", "555 5.5.4", 0, 0 },
	{ "<s@x.example> XFOO", "555 5.5.4", 0, 0 },
	{ "<s@x.example> RET=FULL", "555 5.5.4", 0, 0 },
	{ "<s@x.example> AUTH=<>", "555 5.5.4", 0, 0 },
	{ "<-s@x.example>", "553 5.1.7", 0, 0 },
	{ "<\"-s\"@x.example>", "553 5.1.7", 0, 0 },
	{ "<\"-oQ/tmp/x\"@x.example>", "553 5.1.7", 0, 0 },
	{ "<s@x.example", "501 5.1.7", 0, 0 },
	{ "s@x.example", "501 5.1.7", 0, 0 },
	{ "<s@>", "501 5.1.7", 0, 0 },
	{ "<s>", "501 5.1.7", 0, 0 },
	{ "<s@x.example>junk", "501 5.1.7", 0, 0 },
	{ "<s\x01@x.example>", "501 5.1.7", 0, 0 },
	{ "<s@[300.1.1.1]>", "501 5.1.7", 0, 0 },
	{ "<s@[192.0.2.1>", "501 5.1.7", 0, 0 },
	{ "<s@[IPv6:zz::1]>", "501 5.1.7", 0, 0 },
	{ "<s\xc3\xbc@x.example>", CLASS5, 0, 0 },
};

START_TEST(test_mail_table)
{
	const struct mail_case *c = &mail_cases[_i];
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "%s" } };
	int ok = c->sender != NULL;
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:%s\r\n%sQUIT\r\n",
	    c->mail, ok ? "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\n" :
	    "RCPT TO:<u@mx.example>\r\n");
	struct h_result r;
	char *d;

	h_run(&r, &o, in);
	check_reply(r.out, 2, c->want, c->mail);
	if (!ok) {
		/* refused: there is no transaction for the RCPT */
		check_reply(r.out, 3, "503 5.5.1", c->mail);
		ck_assert_int_eq(h_count(h_dir), 0);
		return;
	}
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_msg(strcasecmp(h_env(h_dir, 1, "SENDER"), c->sender) == 0,
	    "SENDER '%s', want '%s'", h_env(h_dir, 1, "SENDER"), c->sender);
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), h_argv(h_dir, 1, 2));
	d = h_stdin(h_dir, 1, NULL);
	if (c->return_path != NULL)
		ck_assert_msg(strncasecmp(d, c->return_path,
		    strlen(c->return_path)) == 0, "delivered '%.80s', want "
		    "'%s'", d, c->return_path);
	ck_assert_str_eq(h_body(d), H_MSG_LF);
}
END_TEST

START_TEST(test_null_sender_text)
{
	struct h_opts o = { .args = { "--null-sender", "MAILER-DAEMON" },
	    .cmd = { "--", H_RECORDER, h_dir, "%s" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, h_txn("<>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), "MAILER-DAEMON");
	ck_assert_str_eq(h_argv(h_dir, 1, 2), "MAILER-DAEMON");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Return-Path: <>\n", 16) == 0,
	    "Return-Path changed by --null-sender: '%.60s'", d);
}
END_TEST

START_TEST(test_null_sender_default_empty)
{
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "[%s]" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), "");
	ck_assert_str_eq(h_argv(h_dir, 1, 2), "[]");
}
END_TEST

/* --domain: repeatable, compared without case, replaces the hostname */
static const struct {
	const char *rcpt;
	const char *want;
	const char *domain;
} domain_cases[] = {
	{ "<u@a.example>", ACCEPTED, "a.example" },
	{ "<u@A.EXAMPLE>", ACCEPTED, "a.example" },
	{ "<u@b.example>", ACCEPTED, "b.example" },
	{ "<u@B.Example>", ACCEPTED, "b.example" },
	{ "<u@mx.example>", "550 5.7.1", NULL },
	{ "<u@c.example>", "550 5.7.1", NULL },
	{ "<u@x.a.example>", "550 5.7.1", NULL },
};

START_TEST(test_domains)
{
	struct h_opts o = { .args = { "--domain", "a.example", "--domain",
	    "B.EXAMPLE" } };
	int ok = domain_cases[_i].domain != NULL;
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:%s\r\n%sQUIT\r\n", domain_cases[_i].rcpt,
	    ok ? "DATA\r\n" H_MSG ".\r\n" : "");
	struct h_result r;

	h_run(&r, &o, in);
	check_reply(r.out, 3, domain_cases[_i].want, domain_cases[_i].rcpt);
	ck_assert_int_eq(h_count(h_dir), ok);
	if (ok)
		ck_assert_str_eq(h_env(h_dir, 1, "DOMAIN"),
		    domain_cases[_i].domain);
}
END_TEST

static const char *const postmaster_forms[] = {
	"<Postmaster>", "<postmaster>", "<POSTMASTER>"
};

START_TEST(test_bare_postmaster)
{
	/* accepted whatever --domain says; delivered as
	 * postmaster@HOSTNAME */
	struct h_opts o = { .args = { "--domain", "other.example" },
	    .cmd = { "--", H_RECORDER, h_dir, "%r", "%d", "%u" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, postmaster_forms[_i],
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_msg(strcasecmp(h_env(h_dir, 1, "RECIPIENT"),
	    "postmaster@" H_HOST) == 0, "RECIPIENT '%s'",
	    h_env(h_dir, 1, "RECIPIENT"));
	ck_assert_str_eq(h_argv(h_dir, 1, 2), h_env(h_dir, 1, "RECIPIENT"));
	ck_assert_str_eq(h_argv(h_dir, 1, 3), H_HOST);
	ck_assert_str_eq(h_argv(h_dir, 1, 4), "postmaster");
}
END_TEST

START_TEST(test_bare_other_user)
{
	/* only Postmaster may come without a domain */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<root>\r\nRCPT TO:<Postmaster >\r\nQUIT\r\n");
	check_reply(r.out, 3, "501 5.1.3", "<root>");
	check_reply(r.out, 4, "501 5.1.3", "<Postmaster >");
}
END_TEST

START_TEST(test_smtputf8_mixed_transaction)
{
	/* SMTPUTF8 on MAIL allows UTF-8 in both sender and recipient;
	 * a later transaction without it refuses them again */
	struct h_result r;
	char *l;

	h_run(&r, NULL, "EHLO c.example\r\n"
	    "MAIL FROM:<j\xc3\xb6rg@x.example> SMTPUTF8\r\n"
	    "RCPT TO:<\xc3\xa5sa@mx.example>\r\nDATA\r\n" H_MSG ".\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<\xc3\xa5sa@mx.example>\r\n"
	    "RSET\r\nQUIT\r\n");
	l = h_line(r.out, 7);
	ck_assert_msg(l != NULL && l[0] == '5', "UTF-8 RCPT without SMTPUTF8"
	    " got '%s'", l ? l : "nothing");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"),
	    "\xc3\xa5sa@mx.example");
	ck_assert_str_eq(h_env(h_dir, 1, "SENDER"), "j\xc3\xb6rg@x.example");
}
END_TEST

Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = h_tcase("rcpt");

	tcase_add_loop_test(tc, test_rcpt_table, 0,
	    sizeof(rcpt_cases) / sizeof(rcpt_cases[0]));
	tcase_add_loop_test(tc, test_domains, 0,
	    sizeof(domain_cases) / sizeof(domain_cases[0]));
	tcase_add_loop_test(tc, test_bare_postmaster, 0,
	    sizeof(postmaster_forms) / sizeof(postmaster_forms[0]));
	tcase_add_test(tc, test_bare_other_user);
	suite_add_tcase(s, tc);

	tc = h_tcase("mail");
	tcase_add_loop_test(tc, test_mail_table, 0,
	    sizeof(mail_cases) / sizeof(mail_cases[0]));
	tcase_add_test(tc, test_null_sender_text);
	tcase_add_test(tc, test_null_sender_default_empty);
	tcase_add_test(tc, test_smtputf8_mixed_transaction);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * unit_envelope.c - the HELO, MAIL and RCPT guards (envelope.h) as pure
 * verdicts, without a session: each refusal, the order they are checked
 * in, MAIL parameters only after EHLO, and the replies they map to.
 */
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "unit.h"

/* setup - the configuration the cases assume */
static void
setup(struct config *cfg)
{
	static const char *domains[] = { "mx.test" };

	config_defaults(cfg);
	cfg->hostname = "mx.test";
	cfg->domains = domains;
	cfg->ndomains = 1;
	cfg->max_size = 1000;
	cfg->max_rcpt = 2;
}

/* One MAIL case: the argument after the verb, EHLO or not. */
static const struct mail_case {
	const char *arg;
	int ehlo;
	enum envelope_verdict want;
} mail_cases[] = {
	{ "FROM:<s@x.org>", 0, ENV_OK },
	{ "FROM:<s@x.org>  ", 0, ENV_OK },
	{ "FROM:<s@x.org> SIZE=10", 0, ENV_NEED_EHLO },
	{ "FROM:<s@x.org> SMTPUTF8", 0, ENV_NEED_EHLO },
	{ "FROM:<s@x.org> SIZE=10", 1, ENV_OK },
	{ "FROM:<s@x.org> SIZE=1001", 1, ENV_SIZE_LIMIT },
	{ "FROM:<s@x.org> SIZE=1x", 1, ENV_SIZE_VALUE },
	{ "FROM:<s@x.org> BODY=BINARYMIME", 1, ENV_BODY_BINARY },
	{ "FROM:<s@x.org> BODY=9BIT", 1, ENV_BODY_VALUE },
	{ "FROM:<s@x.org> FOO", 1, ENV_MAIL_PARAM },
	{ "FROM:<j\xc3\xbc@x.org>", 1, ENV_UTF8 },
	{ "FROM:<j\xc3\xbc@x.org> SMTPUTF8", 1, ENV_OK },
	{ "FROM:<-s@x.org>", 1, ENV_SENDER_DASH },
	{ "FROM:<s@x.org", 1, ENV_SENDER_SYNTAX },
	{ "FROM:<s@x.org> SIZE=10", 0, ENV_NEED_EHLO },
	{ "TO:<s@x.org>", 1, ENV_MAIL_SYNTAX },
};

START_TEST(test_mail)
{
	const struct mail_case *c = &mail_cases[_i];
	struct envelope_mail m;
	struct config cfg;
	char arg[128];

	setup(&cfg);
	snprintf(arg, sizeof(arg), "%s", c->arg);
	ck_assert_msg(envelope_mail(&cfg, c->ehlo, arg, &m) == c->want,
	    "'%s' (ehlo %d): want %d", c->arg, c->ehlo, c->want);
}
END_TEST

/* One RCPT case: the argument, SMTPUTF8, RCPTs so far. */
static const struct rcpt_case {
	const char *arg;
	int smtputf8;
	size_t nrcpt;
	enum envelope_verdict want;
	const char *want_addr;
} rcpt_cases[] = {
	{ "TO:<a@mx.test>", 0, 0, ENV_OK, "a@mx.test" },
	{ "TO:<Postmaster>", 0, 0, ENV_OK, "Postmaster@mx.test" },
	{ "TO:<a@elsewhere.test>", 0, 0, ENV_RELAY, NULL },
	{ "TO:<-a@mx.test>", 0, 0, ENV_UNSAFE, NULL },
	{ "TO:<a@mx.test> NOTIFY=NEVER", 0, 0, ENV_RCPT_PARAM, NULL },
	{ "TO:<\xc3\xbc@mx.test>", 0, 0, ENV_UTF8, NULL },
	{ "TO:<\xc3\xbc@mx.test>", 1, 0, ENV_OK, "\xc3\xbc@mx.test" },
	/* the limit comes before the domain */
	{ "TO:<a@elsewhere.test>", 0, 2, ENV_RCPTS_MAX, NULL },
	{ "TO:<a@mx.test", 0, 0, ENV_RCPT_BAD, NULL },
	{ "FROM:<a@mx.test>", 0, 0, ENV_RCPT_SYNTAX, NULL },
};

START_TEST(test_rcpt)
{
	const struct rcpt_case *c = &rcpt_cases[_i];
	struct address a;
	struct config cfg;
	char arg[128];

	setup(&cfg);
	snprintf(arg, sizeof(arg), "%s", c->arg);
	ck_assert_msg(envelope_rcpt(&cfg, c->smtputf8, c->nrcpt, arg, &a) ==
	    c->want, "'%s': want %d", c->arg, c->want);
	if (c->want_addr != NULL)
		ck_assert_str_eq(a.addr, c->want_addr);
}
END_TEST

START_TEST(test_helo)
{
	ck_assert_int_eq(envelope_helo("client.example", 0, 0), ENV_OK);
	ck_assert_int_eq(envelope_helo("", 0, 0), ENV_HELO_SYNTAX);
	ck_assert_int_eq(envelope_helo("-x", 1, 0), ENV_EHLO_SYNTAX);
	ck_assert_int_eq(envelope_helo("a b", 1, 1), ENV_LHLO_SYNTAX);
	ck_assert_int_eq(envelope_helo("a\x7f", 0, 0), ENV_HELO_SYNTAX);
}
END_TEST

START_TEST(test_ehlo)
{
	/* SMTP with TLS to offer: every extension, STARTTLS last; LMTP
	 * without TLS: no PRDR (LMTP replies per recipient), no STARTTLS */
	static const char *const smtp[] = { "mx.test", "PIPELINING",
	    "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
	    "CHUNKING", "LIMITS RCPTMAX=2", "PRDR", "STARTTLS" };
	static const char *const lmtp[] = { "mx.test", "PIPELINING",
	    "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
	    "CHUNKING", "LIMITS RCPTMAX=2" };
	struct envelope_ehlo e;
	struct config cfg;
	size_t i;

	setup(&cfg);
	envelope_ehlo(&cfg, 1, &e);
	ck_assert_uint_eq(e.n, sizeof(smtp) / sizeof(smtp[0]));
	for (i = 0; i < e.n; i++)
		ck_assert_str_eq(e.line[i], smtp[i]);
	cfg.lmtp = 1;
	envelope_ehlo(&cfg, 0, &e);
	ck_assert_uint_eq(e.n, sizeof(lmtp) / sizeof(lmtp[0]));
	for (i = 0; i < e.n; i++)
		ck_assert_str_eq(e.line[i], lmtp[i]);
}
END_TEST

START_TEST(test_replies)
{
	/* every refusal has a reply whose enhanced code is of its class,
	 * except the three the session says from its stock table */
	enum envelope_verdict v;

	for (v = ENV_HELO_SYNTAX; v <= ENV_UNSAFE; v++) {
		const struct envelope_reply *r = envelope_reply(v);

		if (v == ENV_SIZE_LIMIT || v == ENV_UTF8 ||
		    v == ENV_RCPTS_MAX) {
			ck_assert_int_eq(r->code, 0);
			continue;
		}
		ck_assert_msg(r->code >= 500 && r->code < 600, "verdict %d",
		    v);
		ck_assert_int_eq(r->dsn[0] - '0', r->code / 100);
	}
	ck_assert_int_eq(envelope_reply(ENV_NEED_EHLO)->code, 555);
	ck_assert_str_eq(envelope_reply(ENV_NEED_EHLO)->dsn, "5.5.4");
	ck_assert_int_eq(envelope_reply(ENV_OK)->code, 0);
}
END_TEST

START_TEST(test_logged)
{
	/* a refusal of an address for what it is gets a reject line; one
	 * of the command's syntax or parameters does not */
	static const enum envelope_verdict logged[] = {
		ENV_SIZE_LIMIT, ENV_UTF8, ENV_SENDER_DASH, ENV_RCPTS_MAX,
		ENV_RELAY, ENV_UNSAFE
	};
	enum envelope_verdict v;
	size_t i, n = 0;

	for (i = 0; i < sizeof(logged) / sizeof(logged[0]); i++)
		ck_assert_msg(envelope_logged(logged[i]), "verdict %d",
		    logged[i]);
	for (v = ENV_OK; v <= ENV_UNSAFE; v++)
		n += envelope_logged(v) != 0;
	ck_assert_uint_eq(n, sizeof(logged) / sizeof(logged[0]));
	ck_assert(!envelope_logged(ENV_RCPT_BAD));
	ck_assert(!envelope_logged(ENV_MAIL_PARAM));
}
END_TEST

Suite *
envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("guards");

	tcase_add_loop_test(tc, test_mail, 0,
	    (int)(sizeof(mail_cases) / sizeof(mail_cases[0])));
	tcase_add_loop_test(tc, test_rcpt, 0,
	    (int)(sizeof(rcpt_cases) / sizeof(rcpt_cases[0])));
	tcase_add_test(tc, test_helo);
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_ehlo);
	tcase_add_test(tc, test_logged);
	suite_add_tcase(s, tc);
	return s;
}

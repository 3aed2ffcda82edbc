/*
 * unit_outcome.c - outcomes to reply lines (outcome.h), without a
 * session: the start every outcome has, 250 only when every delivery
 * was made (or, under PRDR, at least one), the class of the speaking
 * failure choosing 451, 550 or 554, and --rcpt-check's 450/451/550.
 */
#include <stdio.h>
#include <string.h>

#include "outcome.h"
#include "unit.h"

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
	return s;
}

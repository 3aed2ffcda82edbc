/*
 * unit_recipients.c - the transaction's recipient list (recipients.h):
 * duplicates by %r ignoring ASCII case, addresses as they went in, the
 * outcome a duplicate shares with its first, and a list of 100,000.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "recipients.h"
#include "unit.h"

/* parsed - an RCPT path parsed as the session parses it */
static struct address
parsed(const char *path)
{
	struct address a;
	size_t used;

	ck_assert_int_eq(address_parse(path, strlen(path), ADDR_ALLOW_UTF8,
	    &a, &used), ADDR_OK);
	return a;
}

START_TEST(test_duplicates)
{
	static const char *const paths[] = {
		"<victim@mx.test>", "<VICTIM@MX.TEST>", "<\"victim\"@mx.test>",
		"<@a.test,@b.test:victim@mx.test>", "<victim+x@mx.test>",
		"<Victim+X@mx.test>", "<other@mx.test>", "<victim@other.test>"
	};
	static const size_t first[] = { 0, 0, 0, 0, 4, 4, 6, 7 };
	struct recipients l;
	size_t i;

	recipients_init(&l);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct address a = parsed(paths[i]);

		ck_assert_int_eq(recipients_has(&l, &a), first[i] != i);
		ck_assert_int_eq(recipients_add(&l, &a), 0);
		ck_assert_msg(recipients_first(&l, i) == first[i], "%s: %zu",
		    paths[i], recipients_first(&l, i));
	}
	ck_assert_uint_eq(l.n, 8);
	ck_assert_uint_eq(l.unique, 4);
	recipients_free(&l);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(test_address_kept)
{
	/* every field as it went in, for a duplicate its first's; a user
	 * changed after parsing (--postmaster) stays changed */
	struct address a = parsed("<\"J. Doe@home+Box\"@Mx.Test>"), b;
	struct recipients l;

	snprintf(a.user, sizeof(a.user), "%s", "mapped");
	recipients_init(&l);
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	b = parsed("<\"j. doe@HOME+box\"@mx.test>");
	ck_assert_int_eq(recipients_add(&l, &b), 0);
	recipients_address(&l, 1, &b);
	ck_assert_str_eq(b.addr, "J. Doe@home+Box@mx.test");
	ck_assert_str_eq(b.local, "J. Doe@home+Box");
	ck_assert_str_eq(b.domain, "mx.test");
	ck_assert_str_eq(b.user, "mapped");
	ck_assert_str_eq(b.ext, "Box");
	ck_assert_int_eq(b.null, 0);
	a = parsed("<us\xc3\xa9r@mx.test>");
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	recipients_address(&l, 2, &b);
	ck_assert_str_eq(b.addr, "us\xc3\xa9r@mx.test");
	ck_assert_int_eq(b.utf8, 1);
	recipients_free(&l);
}
END_TEST

START_TEST(test_outcomes)
{
	struct deliver_outcome o = { OUT_PERM, "5.2.2", "mailbox full", 0 };
	struct recipients l;
	struct address a = parsed("<a@mx.test>");

	recipients_init(&l);
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	a = parsed("<b@mx.test>");
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	/* before any delivery nothing counts as delivered, and a reply
	 * made from it says so */
	recipients_outcome(&l, 0, &o);
	ck_assert_int_eq(o.cls, OUT_TEMP);
	ck_assert_str_eq(o.dsn, "4.3.0");
	ck_assert_str_eq(o.text, "not delivered");
	o = (struct deliver_outcome){ OUT_PERM, "5.2.2", "mailbox full", 0 };
	ck_assert_int_eq(recipients_set_outcome(&l, 0, &o), 0);
	o = (struct deliver_outcome){ OUT_DELIVERED, "2.0.0", "delivered", 0 };
	ck_assert_int_eq(recipients_set_outcome(&l, 2, &o), 0);
	recipients_outcome(&l, 1, &o);		/* the duplicate: its first's */
	ck_assert_int_eq(o.cls, OUT_PERM);
	ck_assert_str_eq(o.dsn, "5.2.2");
	ck_assert_str_eq(o.text, "mailbox full");
	recipients_outcome(&l, 2, &o);
	ck_assert_int_eq(o.cls, OUT_DELIVERED);
	ck_assert_str_eq(o.dsn, "2.0.0");
	ck_assert_str_eq(o.text, "");		/* no reply says it */
	recipients_free(&l);
}
END_TEST

START_TEST(test_many)
{
	/* 100,000 distinct recipients, then each again in upper case */
	struct recipients l;
	char path[64];
	size_t i;

	recipients_init(&l);
	for (i = 0; i < 200000; i++) {
		struct address a;

		snprintf(path, sizeof(path), i < 100000 ? "<r%zu@mx.test>" :
		    "<R%zu@MX.TEST>", i % 100000);
		a = parsed(path);
		ck_assert_int_eq(recipients_add(&l, &a), 0);
	}
	ck_assert_uint_eq(l.unique, 100000);
	ck_assert_uint_eq(recipients_first(&l, 199999), 99999);
	ck_assert_uint_eq(recipients_first(&l, 100000), 0);
	ck_assert_uint_eq(recipients_first(&l, 77777), 77777);
	recipients_free(&l);
}
END_TEST

Suite *
recipients_suite(void)
{
	Suite *s = suite_create("recipients");
	TCase *tc = tcase_create("list");

	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_address_kept);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_many);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * unit_recipients.c - the transaction's recipients and deliveries
 * (recipients.h): duplicate RCPTs by %r ignoring ASCII case, addresses
 * as they went in, targets shared between RCPTs and delivered once, the
 * verdict of an RCPT's deliveries and of all of them, the last RCPT
 * taken back, and a list of 100,000.
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

/* add_plain - an RCPT that is no alias: its one target is itself, as
 * the session adds it (a duplicate gets none) */
static void
add_plain(struct recipients *l, const char *path)
{
	struct address a = parsed(path);
	int dup = recipients_has(l, &a);

	ck_assert_int_eq(recipients_add(l, &a), 0);
	if (!dup)
		ck_assert_int_eq(recipients_add_target(l, &a), 0);
}

/* add_alias - an RCPT whose targets are names, at its domain, with its
 * extension, as --aliases gives them */
static void
add_alias(struct recipients *l, const char *path, const char *const *names)
{
	struct address a = parsed(path), t;

	ck_assert_int_eq(recipients_add(l, &a), 0);
	for (; *names != NULL; names++) {
		t = a;
		ck_assert_int_eq(address_retarget(&t, *names), 0);
		ck_assert_int_eq(recipients_add_target(l, &t), 0);
	}
}

/* target - delivery j's address */
static const char *
target(const struct recipients *l, size_t j)
{
	static struct address a;

	recipients_target(l, j, &a);
	return a.addr;
}

/* set - delivery j's outcome */
static void
set(struct recipients *l, size_t j, enum outcome_class cls,
    const char *dsn, const char *text)
{
	struct outcome o = { cls, "", "", 0 };

	snprintf(o.dsn, sizeof(o.dsn), "%s", dsn);
	snprintf(o.text, sizeof(o.text), "%s", text);
	ck_assert_int_eq(recipients_set_outcome(l, j, &o), 0);
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
		add_plain(&l, paths[i]);
		ck_assert_msg(recipients_first(&l, i) == first[i], "%s: %zu",
		    paths[i], recipients_first(&l, i));
	}
	ck_assert_uint_eq(l.n, 8);
	ck_assert_uint_eq(l.unique, 4);
	ck_assert_uint_eq(l.nd, 4);
	ck_assert_str_eq(target(&l, 3), "victim@other.test");
	ck_assert_uint_eq(recipients_targets_end(&l, 5), 2);
	recipients_free(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_uint_eq(l.nd, 0);
}
END_TEST

START_TEST(test_address_kept)
{
	/* every field as it went in, for a duplicate its first's; a user
	 * changed after parsing (--postmaster) stays changed in the
	 * delivery, and the RCPT keeps the client's */
	struct address a = parsed("<\"J. Doe@home+Box\"@Mx.Test>"), b;
	struct recipients l;

	recipients_init(&l);
	ck_assert_int_eq(recipients_add(&l, &a), 0);
	snprintf(a.user, sizeof(a.user), "%s", "mapped");
	ck_assert_int_eq(recipients_add_target(&l, &a), 0);
	b = parsed("<\"j. doe@HOME+box\"@mx.test>");
	ck_assert_int_eq(recipients_add(&l, &b), 0);
	recipients_address(&l, 1, &b);
	ck_assert_str_eq(b.addr, "J. Doe@home+Box@mx.test");
	ck_assert_str_eq(b.local, "J. Doe@home+Box");
	ck_assert_str_eq(b.domain, "mx.test");
	ck_assert_str_eq(b.user, "j. doe@home");
	ck_assert_str_eq(b.ext, "Box");
	ck_assert_int_eq(b.null, 0);
	recipients_target(&l, 0, &b);
	ck_assert_str_eq(b.addr, "J. Doe@home+Box@mx.test");
	ck_assert_str_eq(b.user, "mapped");
	add_plain(&l, "<us\xc3\xa9r@mx.test>");
	recipients_address(&l, 2, &b);
	ck_assert_str_eq(b.addr, "us\xc3\xa9r@mx.test");
	ck_assert_int_eq(b.utf8, 1);
	recipients_target(&l, 1, &b);
	ck_assert_int_eq(b.utf8, 1);
	recipients_free(&l);
}
END_TEST

START_TEST(test_targets_shared)
{
	/* two RCPTs that expand to a common target, and that target asked
	 * for itself: one delivery each, first asked first, each with the
	 * RCPT that first asked for it */
	static const char *const one[] = { "x", "y", NULL };
	static const char *const two[] = { "Y", "z", NULL };
	struct recipients l;
	struct address a;

	recipients_init(&l);
	add_alias(&l, "<list1+ext@mx.test>", one);
	add_alias(&l, "<list2+ext@mx.test>", two);
	add_plain(&l, "<y+ext@MX.test>");
	add_plain(&l, "<LIST1+ext@mx.test>");
	ck_assert_uint_eq(l.n, 4);
	ck_assert_uint_eq(l.unique, 3);
	ck_assert_uint_eq(l.nd, 3);
	ck_assert_str_eq(target(&l, 0), "x+ext@mx.test");
	ck_assert_str_eq(target(&l, 1), "y+ext@mx.test");
	ck_assert_str_eq(target(&l, 2), "z+ext@mx.test");
	recipients_target(&l, 1, &a);
	ck_assert_str_eq(a.user, "y");
	ck_assert_str_eq(a.ext, "ext");
	ck_assert_uint_eq(recipients_target_rcpt(&l, 1), 0);
	ck_assert_uint_eq(recipients_target_rcpt(&l, 2), 1);
	ck_assert_uint_eq(recipients_targets_end(&l, 0), 2);
	ck_assert_uint_eq(recipients_targets_end(&l, 1), 3);
	ck_assert_uint_eq(recipients_targets_end(&l, 2), 2);
	ck_assert_uint_eq(recipients_targets_end(&l, 3), 2);
	recipients_address(&l, 2, &a);
	ck_assert_str_eq(a.addr, "y+ext@mx.test");	/* as given */
	recipients_free(&l);
}
END_TEST

START_TEST(test_outcomes)
{
	struct outcome o;
	struct recipients l;
	size_t sp;

	recipients_init(&l);
	add_plain(&l, "<a@mx.test>");
	add_plain(&l, "<a@mx.test>");
	add_plain(&l, "<b@mx.test>");
	/* before any delivery nothing counts as delivered, and a reply
	 * made from it says so */
	recipients_outcome(&l, 0, &o);
	ck_assert_int_eq(o.cls, OUT_TEMP);
	ck_assert_str_eq(o.dsn, "4.3.0");
	ck_assert_str_eq(o.text, "not delivered");
	ck_assert_uint_eq(recipients_verdict(&l, RECIPIENTS_ALL, &sp), 0);
	set(&l, 0, OUT_PERM, "5.2.2", "mailbox full");
	set(&l, 1, OUT_DELIVERED, "2.0.0", "delivered");
	ck_assert_uint_eq(recipients_verdict(&l, 1, &sp), 0);
	ck_assert_uint_eq(sp, 0);		/* the duplicate: its first's */
	recipients_outcome(&l, sp, &o);
	ck_assert_int_eq(o.cls, OUT_PERM);
	ck_assert_str_eq(o.dsn, "5.2.2");
	ck_assert_str_eq(o.text, "mailbox full");
	ck_assert_uint_eq(recipients_verdict(&l, 2, &sp), 1);
	recipients_outcome(&l, sp, &o);
	ck_assert_int_eq(o.cls, OUT_DELIVERED);
	ck_assert_str_eq(o.dsn, "2.0.0");
	ck_assert_str_eq(o.text, "");		/* no reply says it */
	recipients_free(&l);
}
END_TEST

START_TEST(test_verdict)
{
	/* an RCPT's verdict: every target delivered, else its first
	 * temporary failure, else its first permanent one; the same over
	 * all deliveries */
	static const char *const t1[] = { "ok1", "perm1", "temp1", "temp2",
	    NULL };
	static const char *const t2[] = { "ok1", "perm2", "ok2", NULL };
	static const char *const t3[] = { "ok2", "ok3", NULL };
	struct recipients l;
	size_t sp;

	recipients_init(&l);
	add_alias(&l, "<one@mx.test>", t1);
	add_alias(&l, "<two@mx.test>", t2);
	add_alias(&l, "<three@mx.test>", t3);
	ck_assert_uint_eq(l.nd, 7);
	set(&l, 0, OUT_DELIVERED, "2.0.0", "");
	set(&l, 1, OUT_PERM, "5.1.1", "perm1");
	set(&l, 2, OUT_TEMP, "4.2.2", "temp1");
	set(&l, 3, OUT_TEMP, "4.3.0", "temp2");
	set(&l, 4, OUT_PERM, "5.2.2", "perm2");
	set(&l, 5, OUT_DELIVERED, "2.0.0", "");
	set(&l, 6, OUT_DELIVERED, "2.0.0", "");
	ck_assert_uint_eq(recipients_verdict(&l, 0, &sp), 1);
	ck_assert_uint_eq(sp, 2);
	ck_assert_uint_eq(recipients_verdict(&l, 1, &sp), 2);
	ck_assert_uint_eq(sp, 4);
	ck_assert_uint_eq(recipients_verdict(&l, 2, &sp), 2);
	ck_assert_uint_eq(sp, 5);
	ck_assert_uint_eq(recipients_verdict(&l, RECIPIENTS_ALL, &sp), 3);
	ck_assert_uint_eq(sp, 2);
	recipients_free(&l);
}
END_TEST

START_TEST(test_drop_last)
{
	/* the last RCPT taken back with the deliveries it alone asked for;
	 * the ones it shared stay, and everything is found as before */
	static const char *const list[] = { "r7", "new1", "new2", NULL };
	struct recipients l;
	char path[64];
	size_t i;

	recipients_init(&l);
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "<r%zu@mx.test>", i);
		add_plain(&l, path);
	}
	add_alias(&l, "<list@mx.test>", list);
	ck_assert_uint_eq(l.nd, 1002);
	recipients_drop_last(&l);
	ck_assert_uint_eq(l.n, 1000);
	ck_assert_uint_eq(l.unique, 1000);
	ck_assert_uint_eq(l.nd, 1000);
	for (i = 0; i < 1000; i++) {
		struct address a;

		snprintf(path, sizeof(path), "<R%zu@mx.test>", i);
		a = parsed(path);
		ck_assert_int_eq(recipients_has(&l, &a), 1);
	}
	/* a duplicate taken back changes nothing else */
	add_plain(&l, "<r5@mx.test>");
	recipients_drop_last(&l);
	ck_assert_uint_eq(l.n, 1000);
	ck_assert_uint_eq(l.nd, 1000);
	{
		struct address a = parsed("<list@mx.test>");

		ck_assert_int_eq(recipients_has(&l, &a), 0);
	}
	add_alias(&l, "<list@mx.test>", list);
	ck_assert_uint_eq(l.n, 1001);
	ck_assert_uint_eq(l.nd, 1002);
	ck_assert_str_eq(target(&l, 1000), "new1@mx.test");
	ck_assert_uint_eq(recipients_targets_end(&l, 1000), 1002);
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
		snprintf(path, sizeof(path), i < 100000 ? "<r%zu@mx.test>" :
		    "<R%zu@MX.TEST>", i % 100000);
		add_plain(&l, path);
	}
	ck_assert_uint_eq(l.unique, 100000);
	ck_assert_uint_eq(l.nd, 100000);
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
	tcase_add_test(tc, test_targets_shared);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_verdict);
	tcase_add_test(tc, test_drop_last);
	tcase_add_test(tc, test_many);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

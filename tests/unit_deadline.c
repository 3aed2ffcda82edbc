/*
 * unit_deadline.c - deadline.h: a deadline seconds ahead is that far on
 * the monotonic clock, and the time left until one is about that much,
 * 0 once it has passed, and capped.
 */
#include <limits.h>

#include "deadline.h"
#include "unit.h"

START_TEST(test_in_is_ahead)
{
	long long before = deadline_now();
	long long end = deadline_in(5);
	long long after = deadline_now();

	ck_assert(before <= after);
	ck_assert(end >= before + 5 * DEADLINE_SECOND);
	ck_assert(end <= after + 5 * DEADLINE_SECOND);
}
END_TEST

START_TEST(test_ms_left)
{
	int left = deadline_ms_left(deadline_in(10), INT_MAX);

	ck_assert_int_gt(left, 9000);
	ck_assert_int_le(left, 10000);
}
END_TEST

START_TEST(test_ms_left_passed)
{
	long long now = deadline_now();

	ck_assert_int_eq(deadline_ms_left(now, INT_MAX), 0);
	ck_assert_int_eq(deadline_ms_left(now - 1, INT_MAX), 0);
	ck_assert_int_eq(deadline_ms_left(now - 3600 * DEADLINE_SECOND,
	    INT_MAX), 0);
}
END_TEST

START_TEST(test_ms_left_capped)
{
	ck_assert_int_eq(deadline_ms_left(deadline_in(10), 500), 500);
	/* --session-timeout's largest value does not overflow an int */
	ck_assert_int_eq(deadline_ms_left(deadline_in(UINT_MAX), INT_MAX),
	    INT_MAX);
}
END_TEST

Suite *
deadline_suite(void)
{
	Suite *s = suite_create("deadline");
	TCase *tc = tcase_create("monotonic");

	tcase_add_test(tc, test_in_is_ahead);
	tcase_add_test(tc, test_ms_left);
	tcase_add_test(tc, test_ms_left_passed);
	tcase_add_test(tc, test_ms_left_capped);
	suite_add_tcase(s, tc);
	return s;
}

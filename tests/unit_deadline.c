/*
 * unit_deadline.c - deadline.h: a deadline seconds ahead is that far on
 * the monotonic clock, and the time left until one is about that much, 0
 * once it has passed, and capped.  deadline_poll() on a pipe: ready at
 * once, a hung-up writer or a closed descriptor is ready too, nothing
 * there waits until the deadline and not past it, and a signal neither
 * ends the wait nor starts it over.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "deadline.h"
#include "unit.h"

#define WAIT_MS		300	/* deadline_poll()'s waits under test */
#define SIGNAL_MS	200	/* when the signal interrupts one */

static int alarm_fd = -1;	/* where the SIGALRM handler writes, or -1 */

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

START_TEST(test_in_ms_is_ahead)
{
	long long before = deadline_now();
	long long end = deadline_in_ms(250);

	ck_assert(end >= before + DEADLINE_SECOND / 4);
	ck_assert(end <= deadline_now() + DEADLINE_SECOND / 4);
}
END_TEST

/* on_alarm - SIGALRM: interrupt the wait; write a byte if asked */
static void
on_alarm(int sig)
{
	int err = errno;

	(void)sig;
	if (alarm_fd >= 0 && write(alarm_fd, "x", 1) < 0)
		alarm_fd = -1;
	errno = err;
}

/* alarm_in - SIGALRM once, ms from now, with a handler that does not
 * restart system calls (poll() never restarts anyway) */
static void
alarm_in(int ms)
{
	struct itimerval it;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = ms * 1000;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* new_pipe - a pipe, both ends close-on-exec */
static void
new_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
}

START_TEST(test_poll_ready)
{
	int p[2];
	long long end;

	new_pipe(p);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	end = deadline_in_ms(WAIT_MS);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, end), 1);
	ck_assert(deadline_now() < end);
	/* what is there is there even once the deadline has passed */
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, deadline_now() - 1), 1);
	ck_assert_int_eq(deadline_poll(p[1], POLLOUT, end), 1);
}
END_TEST

START_TEST(test_poll_hangup_and_bad_fd)
{
	/* the writer gone, or a descriptor not open, is ready too: the
	 * read says which (EOF, EBADF) */
	int p[2];
	char c;

	new_pipe(p);
	ck_assert_int_eq(close(p[1]), 0);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, deadline_in_ms(WAIT_MS)),
	    1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, deadline_in_ms(WAIT_MS)),
	    1);
	ck_assert_int_eq(read(p[0], &c, 1), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_poll_times_out)
{
	int p[2];
	long long end;

	new_pipe(p);
	end = deadline_in_ms(WAIT_MS);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, end), 0);
	ck_assert(deadline_now() >= end);
	/* a deadline already passed: one look, no wait */
	end = deadline_now();
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, end - DEADLINE_SECOND),
	    0);
	ck_assert(deadline_now() < end + DEADLINE_SECOND / 10);
}
END_TEST

START_TEST(test_poll_signal_resumes)
{
	/* a signal at SIGNAL_MS: the wait goes on to the deadline, not
	 * WAIT_MS more (which would end at SIGNAL_MS + WAIT_MS) */
	int p[2];
	long long end;

	new_pipe(p);
	alarm_in(SIGNAL_MS);
	end = deadline_in_ms(WAIT_MS);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, end), 0);
	ck_assert(deadline_now() >= end);
	ck_assert_msg(deadline_now() < end + (SIGNAL_MS - 50) * 1000LL,
	    "waited %lld ms past the deadline",
	    (deadline_now() - end) / 1000);
}
END_TEST

START_TEST(test_poll_signal_then_ready)
{
	/* the signal's handler makes the pipe readable: the interrupted
	 * wait goes on and sees it */
	int p[2];
	long long end;

	new_pipe(p);
	alarm_fd = p[1];
	alarm_in(SIGNAL_MS / 4);
	end = deadline_in_ms(WAIT_MS);
	ck_assert_int_eq(deadline_poll(p[0], POLLIN, end), 1);
	ck_assert(deadline_now() < end);
	alarm_fd = -1;
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
	tcase_add_test(tc, test_in_ms_is_ahead);
	suite_add_tcase(s, tc);
	tc = tcase_create("poll");
	tcase_add_test(tc, test_poll_ready);
	tcase_add_test(tc, test_poll_hangup_and_bad_fd);
	tcase_add_test(tc, test_poll_times_out);
	tcase_add_test(tc, test_poll_signal_resumes);
	tcase_add_test(tc, test_poll_signal_then_ready);
	suite_add_tcase(s, tc);
	return s;
}

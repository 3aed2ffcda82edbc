/*
 * deadline.c - now, a deadline ahead of now, and the time left until one.
 *
 * Entry points: deadline_now(), deadline_in(), deadline_ms_left().  Time
 * limits (a command line, the data, the session, the deliveries) are
 * built here and nowhere else, so none is measured on another clock or
 * rounded another way.  The time left is rounded up: a wait of
 * deadline_ms_left() milliseconds never ends before the deadline, and 0
 * means the deadline has passed.
 */
#include <time.h>

#include "deadline.h"

/* deadline_now - CLOCK_MONOTONIC now, in microseconds.  clock_gettime()
 * cannot fail for a clock every supported system has and a valid
 * pointer; were it to, now would read as the clock's start. */
long long
deadline_now(void)
{
	struct timespec now = { 0, 0 };

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	return (long long)now.tv_sec * DEADLINE_SECOND + now.tv_nsec / 1000;
}

/* deadline_in - the deadline seconds from now */
long long
deadline_in(unsigned seconds)
{
	return deadline_now() + (long long)seconds * DEADLINE_SECOND;
}

/* deadline_ms_left - milliseconds from now until end, rounded up; 0 once
 * it has passed, and never more than cap */
int
deadline_ms_left(long long end, int cap)
{
	long long left = (end - deadline_now() + 999) / 1000;

	if (left < 0)
		return 0;
	return left > cap ? cap : (int)left;
}

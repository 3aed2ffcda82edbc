/*
 * deadline.h - deadlines on the monotonic clock, built one way.
 *
 * A deadline is a long long: microseconds of CLOCK_MONOTONIC, which a
 * change of the wall clock never moves.  deadline_in() makes one
 * seconds ahead, deadline_now() is the same clock's now (to compare or
 * to add to), and deadline_ms_left() turns one into what poll() takes.
 * Nothing here sleeps or waits.
 */
#ifndef PIPESMTPD_DEADLINE_H
#define PIPESMTPD_DEADLINE_H

#define DEADLINE_SECOND	1000000LL	/* a deadline's units in a second */

long long deadline_now(void);
long long deadline_in(unsigned seconds);
int deadline_ms_left(long long end, int cap);

#endif

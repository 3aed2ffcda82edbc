/*
 * deadline.h - deadlines on the monotonic clock, built one way.
 *
 * A deadline is a long long: microseconds of CLOCK_MONOTONIC, which a
 * change of the wall clock never moves.  deadline_in() makes one
 * seconds ahead (deadline_in_ms() milliseconds ahead), deadline_now() is
 * the same clock's now (to compare or to add to), and deadline_ms_left()
 * turns one into what poll() takes.  deadline_poll() is the one wait for
 * a descriptor: until it is ready or the deadline passes, whatever
 * signals arrive meanwhile.
 */
#ifndef PIPESMTPD_DEADLINE_H
#define PIPESMTPD_DEADLINE_H

#define DEADLINE_SECOND	1000000LL	/* a deadline's units in a second */

long long deadline_now(void);
long long deadline_in(unsigned seconds);
long long deadline_in_ms(int ms);
int deadline_ms_left(long long end, int cap);
int deadline_poll(int fd, short events, long long end);

#endif

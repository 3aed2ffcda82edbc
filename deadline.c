/*
 * deadline.c - now, a deadline ahead of now, and the time left until one.
 *
 * Entry points: deadline_now(), deadline_in(), deadline_in_ms(),
 * deadline_ms_left(), deadline_poll().  Time limits (a command line, the
 * data, the session, the deliveries) are built here and nowhere else, so
 * none is measured on another clock or rounded another way.  The time
 * left is rounded up: a wait of deadline_ms_left() milliseconds never
 * ends before the deadline, and 0 means the deadline has passed.  The
 * waits for one descriptor (the client in fdio.c, the balancer in
 * proxy.c, the TLS engine in tls.c) are all deadline_poll(), so a signal
 * never stretches one past its deadline or ends one early.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
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

/* deadline_in_ms - the deadline ms milliseconds from now */
long long
deadline_in_ms(int ms)
{
	return deadline_now() + (long long)ms * (DEADLINE_SECOND / 1000);
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

/* deadline_poll - wait until fd has one of events or end passes: 1 when
 * poll() reports it, or reports POLLHUP, POLLERR or POLLNVAL (the
 * caller's read or write then says which); 0 once end has passed; -1 on
 * an error.  A signal resumes the wait with the time left, never the
 * whole of it again.  fd is looked at once even when end has passed, so
 * what is already there is never reported as a timeout. */
int
deadline_poll(int fd, short events, long long end)
{
	struct pollfd p = { fd, events, 0 };

	for (;;) {
		int r = poll(&p, 1, deadline_ms_left(end, INT_MAX));

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -1;
	}
}

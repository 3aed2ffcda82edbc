/*
 * unit_fdio.c - fdio_init(): reads and writes on the launcher's
 * descriptors, over socketpairs, pipes and a regular file.
 *
 * What must hold whichever way a call is made: data that is there is
 * returned, a read with nothing to read waits its whole timeout and then
 * says CHAT_IO_TIMEOUT, EOF is 0, and a write to a peer that has
 * stopped reading gives up after write_ms instead of blocking.  The
 * remembered ENOTSOCK is checked through struct fdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "chat.h"
#include "unit.h"

#define BIG	(32 * 1024)	/* more than a streaming read */
#define WAIT_MS	200		/* timeouts under test */

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* put - all of len octets of c into fd */
static void
put(int fd, int c, size_t len)
{
	char buf[4096];

	memset(buf, c, sizeof(buf));
	while (len > 0) {
		ssize_t n = write(fd, buf, len < sizeof(buf) ? len :
		    sizeof(buf));

		ck_assert_msg(n > 0, "write: %s", strerror(errno));
		len -= (size_t)n;
	}
}

/* take_all - read exactly len octets through io, checking they are c */
static void
take_all(struct chat_io *io, int c, size_t len)
{
	static char buf[65536];

	while (len > 0) {
		ssize_t n = io->read(io->ctx, buf, sizeof(buf), 1000);
		ssize_t i;

		ck_assert_int_gt(n, 0);
		ck_assert_int_le(n, (ssize_t)len);
		for (i = 0; i < n; i++)
			ck_assert_int_eq(buf[i], c);
		len -= (size_t)n;
	}
}

/* assert_times_out - a read with nothing to read waits WAIT_MS */
static void
assert_times_out(struct chat_io *io)
{
	char buf[64];
	long t = now_ms();

	ck_assert_int_eq(io->read(io->ctx, buf, sizeof(buf), WAIT_MS),
	    CHAT_IO_TIMEOUT);
	ck_assert_int_ge(now_ms() - t, WAIT_MS - 20);
}

/* read_pair - an fd pair: a socketpair, or a pipe (fds[0] reads) */
static void
read_pair(int fds[2], int pipes)
{
	if (pipes) {
		ck_assert_int_eq(pipe(fds), 0);
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

START_TEST(test_read_interactive)
{
	/* small reads: data, a timeout, data again, EOF; on a socket or a
	 * pipe alike */
	struct fdio f = { .in = -1, .out = -1 };
	struct chat_io io;
	char buf[64];
	int fds[2];

	read_pair(fds, _i);
	f.in = fds[0];
	fdio_init(&io, &f);
	put(fds[1], 'a', 10);
	ck_assert_int_eq(io.read(io.ctx, buf, sizeof(buf), WAIT_MS), 10);
	assert_times_out(&io);
	put(fds[1], 'b', 3);
	ck_assert_int_eq(io.read(io.ctx, buf, sizeof(buf), WAIT_MS), 3);
	ck_assert_int_eq(buf[0], 'b');
	close(fds[1]);
	ck_assert_int_eq(io.read(io.ctx, buf, sizeof(buf), WAIT_MS), 0);
	close(fds[0]);
}
END_TEST

START_TEST(test_read_streaming)
{
	/* after a large read the next one is tried without waiting: it
	 * still returns what is there, still waits the whole timeout when
	 * nothing is, and still sees EOF */
	struct fdio f = { .in = -1, .out = -1 };
	struct chat_io io;
	static char buf[65536];
	int fds[2];
	ssize_t n;

	read_pair(fds, _i);
	f.in = fds[0];
	fdio_init(&io, &f);
	put(fds[1], 'x', BIG);
	take_all(&io, 'x', BIG);
	ck_assert_uint_ge(f.last_read, 16384);
	assert_times_out(&io);
	put(fds[1], 'y', BIG);
	take_all(&io, 'y', BIG);
	/* data that is there is read even with no time left, as poll with
	 * a timeout of 0 would report it */
	put(fds[1], 'z', 5);
	n = io.read(io.ctx, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(buf[4], 'z');
	ck_assert_int_eq(f.in_notsock, _i);
	close(fds[1]);
	n = io.read(io.ctx, buf, sizeof(buf), WAIT_MS);
	ck_assert_int_eq(n, 0);
	close(fds[0]);
}
END_TEST

START_TEST(test_read_file)
{
	/* stdin may be a regular file: read to its end, then EOF */
	struct fdio f = { .in = -1, .out = -1 };
	struct chat_io io;
	static char buf[65536];
	FILE *tmp = tmpfile();

	ck_assert_ptr_nonnull(tmp);
	f.in = fileno(tmp);
	put(f.in, 'q', BIG + 7);
	ck_assert_int_eq(lseek(f.in, 0, SEEK_SET), 0);
	fdio_init(&io, &f);
	take_all(&io, 'q', BIG + 7);
	ck_assert_int_eq(io.read(io.ctx, buf, sizeof(buf), WAIT_MS), 0);
	ck_assert_int_eq(f.in_notsock, 1);
	fclose(tmp);
}
END_TEST

START_TEST(test_write_stopped_reader)
{
	/* a peer that never reads: writes are taken until the socket or
	 * pipe is full, then one gives up after write_ms, not later */
	struct fdio f = { .in = -1, .out = -1, .write_ms = WAIT_MS };
	struct chat_io io;
	static char buf[8192];
	long t = 0;
	ssize_t n = 1;
	size_t total = 0;
	int fds[2], i;

	read_pair(fds, _i);
	f.out = fds[1];
	fdio_init(&io, &f);
	memset(buf, 'w', sizeof(buf));
	for (i = 0; i < 100000 && n > 0; i++) {
		t = now_ms();
		n = io.write(io.ctx, buf, sizeof(buf));
		if (n > 0)
			total += (size_t)n;
		if (_i == 1 && n > 0)
			ck_assert_int_le(n, PIPE_BUF);
	}
	ck_assert_int_eq(n, -1);
	ck_assert_int_ge(now_ms() - t, WAIT_MS - 20);
	ck_assert_int_lt(now_ms() - t, 2000);
	ck_assert_uint_gt(total, 0);
	ck_assert_int_eq(f.out_notsock, _i);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_write_reader_keeps_up)
{
	/* what is written arrives whole, in order, on either transport */
	struct fdio f = { .in = -1, .out = -1, .write_ms = WAIT_MS };
	struct chat_io io;
	struct chat_io rio;
	struct fdio rf = { .in = -1, .out = -1 };
	const char *msg = "250 2.0.0 Ok\r\n";
	char buf[64];
	int fds[2], i;

	read_pair(fds, _i);
	f.out = fds[1];
	rf.in = fds[0];
	fdio_init(&io, &f);
	fdio_init(&rio, &rf);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(io.write(io.ctx, msg, strlen(msg)),
		    (ssize_t)strlen(msg));
		ck_assert_int_eq(rio.read(rio.ctx, buf, sizeof(buf), 1000),
		    (ssize_t)strlen(msg));
		ck_assert(memcmp(buf, msg, strlen(msg)) == 0);
	}
	ck_assert_int_eq(f.out_notsock, _i);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_write_peer_gone)
{
	/* a socket whose peer has closed: an error, not SIGPIPE */
	struct fdio f = { .in = -1, .out = -1, .write_ms = WAIT_MS };
	struct chat_io io;
	int fds[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	f.out = fds[1];
	fdio_init(&io, &f);
	close(fds[0]);
	ck_assert_int_eq(io.write(io.ctx, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(fds[1]);
}
END_TEST

Suite *
fdio_suite(void)
{
	Suite *s = suite_create("fdio");
	TCase *tc = tcase_create("socket and pipe");

	/* loop index 0: a socketpair; 1: a pipe */
	tcase_add_loop_test(tc, test_read_interactive, 0, 2);
	tcase_add_loop_test(tc, test_read_streaming, 0, 2);
	tcase_add_test(tc, test_read_file);
	tcase_add_loop_test(tc, test_write_stopped_reader, 0, 2);
	tcase_add_loop_test(tc, test_write_reader_keeps_up, 0, 2);
	tcase_add_test(tc, test_write_peer_gone);
	suite_add_tcase(s, tc);
	return s;
}

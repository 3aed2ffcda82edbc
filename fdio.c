/*
 * fdio.c - reading and writing the client on the launcher's descriptors.
 *
 * Entry point: fdio_init(), which points a struct chat_io at fd_read()
 * and fd_write() over a struct fdio.  Every wait for the client is a
 * deadline_poll() (deadline.c), never a blocking read or write: the
 * launcher's descriptors are shared with it, so they cannot be made
 * non-blocking, and a client that stops reading or writing must not hold
 * the session past --timeout.  Each call below first tries what cannot
 * block when it is likely to succeed, so the common case costs one system
 * call instead of poll and then read or write.  A descriptor that turns
 * out not to be a socket (a pipe or a file: ENOTSOCK) is remembered and
 * gets plain poll and read or write.
 *
 * This module knows nothing of SMTP (no lines, no replies) and keeps no
 * deadline across calls: the session says how long each read may wait,
 * write_ms how long a write may.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deadline.h"
#include "fdio.h"
#include "chat.h"
#include "tls.h"

#define STREAM_READ	16384	/* a read this large: the client streams */

/* fd_read_try - while the client streams, a recv that cannot block: the
 * data is most likely there already; -1 with errno EAGAIN if not */
static ssize_t
fd_read_try(struct fdio *f, void *buf, size_t len)
{
	ssize_t n = recv(f->in, buf, len, MSG_DONTWAIT);

	if (n < 0 && errno == ENOTSOCK) {
		f->in_notsock = 1;
		errno = EAGAIN;
	} else if (n < 0 && errno == EINTR) {
		errno = EAGAIN;
	}
	return n;
}

/* fd_read - one read, waiting up to timeout_ms for the client.  A recv
 * is tried first only after a large read (DATA streaming in), so an
 * interactive client, whose next line is not there yet, pays no failed
 * call; data that is there is read whatever timeout_ms says, exactly as
 * poll would report it at once. */
static ssize_t
fd_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct fdio *f = ctx;
	ssize_t n = -1;

	if (f->last_read >= STREAM_READ && !f->in_notsock) {
		n = fd_read_try(f, buf, len);
		if (n < 0 && errno != EAGAIN)
			return -1;
	}
	while (n < 0) {
		int r = deadline_poll(f->in, POLLIN,
		    deadline_in_ms(timeout_ms));

		if (r < 0)
			return -1;
		if (r == 0)
			return CHAT_IO_TIMEOUT;
		n = read(f->in, buf, len);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
	}
	f->last_read = (size_t)n;
	return n;
}

/* fd_write - a send that cannot block first: the socket almost always
 * has room for a reply.  Only a full socket makes the server wait, and
 * never past write_ms, so a client that stops reading cannot hold the
 * session forever.  A pipe gets poll, then a write of at most PIPE_BUF
 * octets: that much fits once poll reports room, while a larger write
 * on a pipe that is not non-blocking would wait for the reader, past
 * write_ms and forever if it has stopped. */
static ssize_t
fd_write(void *ctx, const void *buf, size_t len)
{
	struct fdio *f = ctx;

	for (;;) {
		ssize_t n;

		if (!f->out_notsock) {
			n = send(f->out, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n >= 0)
				return n;
			if (errno == ENOTSOCK)
				f->out_notsock = 1;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (deadline_poll(f->out, POLLOUT,
		    deadline_in_ms(f->write_ms)) <= 0)
			return -1;
		if (f->out_notsock) {
			n = write(f->out, buf, len < PIPE_BUF ? len : PIPE_BUF);
			if (n >= 0 || (errno != EINTR && errno != EAGAIN))
				return n;
		}
	}
}

/* fd_starttls - TLS through the launcher's engine; from then on the
 * client is read and written on the engine's descriptors, which are
 * pipes (or are used as if they were) */
static int
fd_starttls(void *ctx, int timeout_ms, struct tls_info *info)
{
	struct fdio *f = ctx;

	if (tls_start(f->tls, f->in, timeout_ms, info) == -1)
		return -1;
	f->in = f->tls->rfd;
	f->out = f->tls->wfd;
	f->last_read = 0;
	f->in_notsock = 1;
	f->out_notsock = 1;
	return 0;
}

/* fdio_init - the session's I/O on f's descriptors */
void
fdio_init(struct chat_io *io, struct fdio *f)
{
	f->last_read = 0;
	f->in_notsock = 0;
	f->out_notsock = 0;
	io->read = fd_read;
	io->write = fd_write;
	io->starttls = f->tls != NULL ? fd_starttls : NULL;
	io->ctx = f;
}

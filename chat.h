/*
 * chat.h - talking to the client: the input and reply buffers, the
 * deadlines, and reads of a line or of message data within them.
 *
 * A struct chat sits on a struct chat_io (fdio.h gives the real one, on
 * the launcher's descriptors; the tests script one).  chat_reply()
 * buffers a reply line and chat_flush() writes the buffer
 * (chat_reply_unbuffered() writes one line at once, with no struct
 * chat: the one reply of a session that could not start); every read
 * flushes first, because the server is about to wait.  chat_line() is
 * one command line; chat_data() hands out the input as it is, for the
 * data machine to rewrite in place, and chat_take() consumes it.  This
 * module knows nothing of commands, transactions or error counts: that
 * is the session's.
 */
#ifndef PIPESMTPD_CHAT_H
#define PIPESMTPD_CHAT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "tls.h"

#define CHAT_IO_TIMEOUT	(-2)	/* io->read: nothing in time */

/* The input buffer, which DATA is also unstuffed in: large enough for
 * the largest read a Unix socket gives by default (about 214 KiB queued),
 * small enough that a 1 GiB message peaks within 256 KiB of a 1 KB one. */
#define CHAT_IN_MAX	(224 * 1024)
#define CHAT_LINE_MAX	2048	/* command line octets with CRLF */
#define CHAT_OUT_MAX	8192	/* pending replies */

/* The client's transport. */
struct chat_io {
	/* >0 octets read, 0 EOF, -1 error, CHAT_IO_TIMEOUT */
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout_ms);
	/* octets written (may be short), -1 error */
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
	/* NULL when STARTTLS cannot work; else start TLS: 0 with info's
	 * names, and read and write then carry the TLS stream; -1 with
	 * info->engine_status, and the session must end */
	int (*starttls)(void *ctx, int timeout_ms, struct tls_info *info);
	void *ctx;
};

/* How a read for a line or data ended. */
enum chat_read {
	CHAT_OK,
	CHAT_TOOLONG,		/* a line over CHAT_LINE_MAX, skipped */
	CHAT_EOF,
	CHAT_TIMEOUT,
	CHAT_ERROR		/* an I/O error, or the client is gone */
};

struct chat {
	const struct chat_io *io;
	unsigned timeout;		/* --timeout, seconds */
	unsigned min_data_rate;		/* --min-data-rate, octets/s */
	char in[CHAT_IN_MAX];		/* unread input is in[start, end) */
	size_t start, end;
	char out[CHAT_OUT_MAX];		/* replies not yet written */
	size_t outlen;
	int gone;			/* a write failed: client gone */
	long long session_end;		/* --session-timeout, a deadline */
	long long read_end;		/* the line's or the data's end */
};

void chat_init(struct chat *c, const struct chat_io *io,
    const struct config *cfg);
void chat_vreply(struct chat *c, int more, int code, const char *dsn,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void chat_reply(struct chat *c, int more, int code, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int chat_flush(struct chat *c);
int chat_reply_unbuffered(const struct chat_io *io, int code,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum chat_read chat_line(struct chat *c, char **line, size_t *len);
void chat_data_begin(struct chat *c);
enum chat_read chat_data(struct chat *c, char **p, size_t *n);
void chat_take(struct chat *c, size_t n);
enum chat_read chat_pregreet(struct chat *c, unsigned seconds);
int chat_tls_possible(const struct chat *c);
size_t chat_drop(struct chat *c);
int chat_starttls(struct chat *c, struct tls_info *info);

#endif

/*
 * chat.c - talking to the client: buffers, flushing, deadlines, reads.
 *
 * Entry points: chat_init(); chat_reply() and chat_flush() for what the
 * server says; chat_line(), chat_data() and chat_take() for what the
 * client sends; chat_pregreet() and chat_starttls() for the two moments
 * the session waits outside a command.
 *
 * One rule carries PIPELINING: replies are buffered and flushed only
 * when the server is about to wait for input (fill()), so a pipelining
 * client gets them in one write and a lock-step client never waits.
 * This module never parses a command, never counts an error and never
 * decides what to say: the session does.  It never polls or reads a
 * descriptor either: that is io's job.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "deadline.h"
#include "log.h"

#define REPLY_LINE_MAX	1024	/* one reply line with its CRLF */

/* chat_init - empty buffers on io; the session's deadline starts now */
void
chat_init(struct chat *c, const struct chat_io *io, const struct config *cfg)
{
	c->io = io;
	c->timeout = cfg->timeout;
	c->min_data_rate = cfg->min_data_rate;
	c->start = c->end = c->outlen = 0;
	c->gone = 0;
	c->session_end = deadline_in(cfg->session_timeout);
	c->read_end = c->session_end;
}

/* buffer_line - one whole reply line into the reply buffer, flushing
 * the buffer first when the line would not fit: no reply is ever
 * dropped */
static void
buffer_line(struct chat *c, const char *line, size_t n)
{
	if (c->outlen + n > sizeof(c->out))
		chat_flush(c);
	memcpy(c->out + c->outlen, line, n);
	c->outlen += n;
}

/* format_line - one reply line (more: '-' after the code) into line
 * (REPLY_LINE_MAX octets), cut to one line's length; its length.  A
 * code and an enhanced code of different classes are an internal
 * error, logged. */
static size_t __attribute__((format(printf, 5, 0)))
format_line(char *line, int more, int code, const char *dsn,
    const char *fmt, va_list ap)
{
	size_t cap = REPLY_LINE_MAX;
	int n, m;

	if (dsn != NULL && dsn[0] - '0' != code / 100)
		log_error("internal: reply %d with enhanced code %s", code,
		    dsn);
	n = snprintf(line, cap, "%d%c%s%s", code, more ? '-' : ' ',
	    dsn ? dsn : "", dsn ? " " : "");
	m = vsnprintf(line + n, cap - (size_t)n - 2, fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= cap - (size_t)n - 2)
		m = (int)(cap - (size_t)n - 3);	/* cut */
	n += m;
	line[n++] = '\r';
	line[n++] = '\n';
	return (size_t)n;
}

/* chat_vreply - format one reply line (format_line()) and buffer it */
void
chat_vreply(struct chat *c, int more, int code, const char *dsn,
    const char *fmt, va_list ap)
{
	char line[REPLY_LINE_MAX];

	buffer_line(c, line, format_line(line, more, code, dsn, fmt, ap));
}

/* chat_reply - chat_vreply() with its arguments */
void
chat_reply(struct chat *c, int more, int code, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	chat_vreply(c, more, code, dsn, fmt, ap);
	va_end(ap);
}

/* write_all - len octets through io; 0, or -1 when a write failed */
static int
write_all(const struct chat_io *io, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = io->write(io->ctx, buf + done, len - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* chat_flush - write every pending reply; 0, or -1 when a write failed
 * and the client is gone */
int
chat_flush(struct chat *c)
{
	if (write_all(c->io, c->out, c->outlen) == -1)
		c->gone = 1;
	c->outlen = 0;
	return c->gone ? -1 : 0;
}

/* chat_reply_unbuffered - one reply line written through io at once,
 * with no struct chat (the session could not allocate one); 0, or -1
 * when the write failed */
int
chat_reply_unbuffered(const struct chat_io *io, int code, const char *dsn,
    const char *fmt, ...)
{
	char line[REPLY_LINE_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = format_line(line, 0, code, dsn, fmt, ap);
	va_end(ap);
	return write_all(io, line, n);
}

/*
 * Deadlines.  --timeout bounds a whole command line from its first octet,
 * not each read, so a client sending an octet a second cannot hold the
 * session for an hour.  In DATA and BDAT the deadline starts --timeout
 * ahead and each read of N octets moves it N / --min-data-rate seconds
 * later, never more than --timeout ahead of now (Postfix's
 * smtpd_per_record_deadline and smtpd_min_data_rate).  --session-timeout
 * caps everything.  Deadlines are deadline.h's.
 */

/* restart_clock - the next read may wait at most --timeout from now */
static void
restart_clock(struct chat *c)
{
	c->read_end = deadline_in(c->timeout);
}

/* extend_clock - n octets of message data arrived: n / rate seconds
 * more, but never more than --timeout ahead */
static void
extend_clock(struct chat *c, size_t n)
{
	long long most = deadline_in(c->timeout);

	c->read_end += (long long)n * DEADLINE_SECOND / c->min_data_rate;
	if (c->read_end > most)
		c->read_end = most;
}

/* ms_left - how long the next read may wait: the read's deadline and
 * the session's, whichever comes first */
static int
ms_left(const struct chat *c)
{
	return deadline_ms_left(c->read_end < c->session_end ? c->read_end :
	    c->session_end, INT_MAX);
}

/* fill - flush replies (the server is about to wait), then read more */
static enum chat_read
fill(struct chat *c)
{
	ssize_t n;

	if (chat_flush(c) == -1)
		return CHAT_ERROR;
	if (c->start > 0) {
		memmove(c->in, c->in + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->in))
		return CHAT_OK;
	n = c->io->read(c->io->ctx, c->in + c->end, sizeof(c->in) - c->end,
	    ms_left(c));
	if (n == CHAT_IO_TIMEOUT)
		return CHAT_TIMEOUT;
	if (n == 0)
		return CHAT_EOF;
	if (n < 0)
		return CHAT_ERROR;
	c->end += (size_t)n;
	return CHAT_OK;
}

/* skip_line - discard the rest of an over-long line, up to its LF, so its
 * tail is never read as a command */
static enum chat_read
skip_line(struct chat *c)
{
	for (;;) {
		char *lf = memchr(c->in + c->start, '\n', c->end - c->start);
		enum chat_read r;

		if (lf != NULL) {
			c->start = (size_t)(lf - c->in) + 1;
			return CHAT_TOOLONG;
		}
		c->start = c->end;
		r = fill(c);
		if (r != CHAT_OK)
			return r;
	}
}

/* chat_line - the next command line, without its line end, within
 * --timeout of waiting for it and --timeout from its first octet */
enum chat_read
chat_line(struct chat *c, char **line, size_t *len)
{
	int begun = c->end > c->start;

	restart_clock(c);
	for (;;) {
		size_t avail = c->end - c->start;
		size_t look = avail < CHAT_LINE_MAX ? avail : CHAT_LINE_MAX;
		char *p = c->in + c->start;
		char *lf = memchr(p, '\n', look);
		enum chat_read r;

		if (lf != NULL) {
			*line = p;
			*len = (size_t)(lf - p);
			c->start += *len + 1;
			if (*len > 0 && p[*len - 1] == '\r')
				(*len)--;
			p[*len] = '\0';
			return CHAT_OK;
		}
		if (avail >= CHAT_LINE_MAX)
			return skip_line(c);
		r = fill(c);
		if (r != CHAT_OK)
			return r;
		if (!begun) {		/* its first octet is here */
			begun = 1;
			restart_clock(c);
		}
	}
}

/* chat_data_begin - message data starts: its deadline is --timeout
 * ahead, moved later by what arrives */
void
chat_data_begin(struct chat *c)
{
	restart_clock(c);
}

/* chat_data - the unread input in place (*p, *n > 0), reading more when
 * there is none; what arrives moves the data deadline */
enum chat_read
chat_data(struct chat *c, char **p, size_t *n)
{
	if (c->start == c->end) {
		enum chat_read r = fill(c);

		if (r != CHAT_OK)
			return r;
		extend_clock(c, c->end - c->start);
	}
	*p = c->in + c->start;
	*n = c->end - c->start;
	return CHAT_OK;
}

/* chat_take - n octets of what chat_data() handed out are consumed */
void
chat_take(struct chat *c, size_t n)
{
	c->start += n;
}

/* chat_pregreet - wait up to seconds before the greeting: CHAT_TIMEOUT
 * when the client kept quiet, CHAT_OK when it talked first (what it
 * said is thrown away), CHAT_EOF or CHAT_ERROR when it left */
enum chat_read
chat_pregreet(struct chat *c, unsigned seconds)
{
	char buf[512];
	ssize_t n = c->io->read(c->io->ctx, buf, sizeof(buf),
	    (int)seconds * 1000);

	if (n == CHAT_IO_TIMEOUT)
		return CHAT_TIMEOUT;
	return n > 0 ? CHAT_OK : n == 0 ? CHAT_EOF : CHAT_ERROR;
}

/* chat_tls_possible - whether io can start TLS */
int
chat_tls_possible(const struct chat *c)
{
	return c->io->starttls != NULL;
}

/* chat_drop - throw away all unread input; how many octets that was */
size_t
chat_drop(struct chat *c)
{
	size_t dropped = c->end - c->start;

	c->start = c->end = 0;
	return dropped;
}

/* chat_starttls - the TLS handshake through io, within --timeout: 0, or
 * -1 with info->engine_status */
int
chat_starttls(struct chat *c, struct tls_info *info)
{
	restart_clock(c);
	return c->io->starttls(c->io->ctx, ms_left(c), info);
}

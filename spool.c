/*
 * spool.c - the unlinked spool file and the scans of its header section.
 *
 * Entry points: spool_open(), spool_write(), spool_close(),
 * spool_scan_at(), spool_has_delivered_to(), spool_drop_fields().  The
 * file never has a name once spool_open() returns, is mode 0600 and
 * close-on-exec, so a crash leaves nothing behind and no delivery
 * command inherits it by accident.  The scans read
 * the spool with pread() through a fixed buffer: memory stays flat however
 * large the header section is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

#define SCAN_LINE_MAX	1024	/* header text kept per line for matching */
#define SQ_HEAD_MAX	1024	/* octets of a field a drop test sees */

/* open_tmpfile - an anonymous file in dir: O_TMPFILE where the file system
 * has it, else a named temporary unlinked at once */
static int
open_tmpfile(const char *dir)
{
	char path[4096];
	int fd, ret;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	ret = snprintf(path, sizeof(path), "%s/pipesmtpd.XXXXXX", dir);
	if (ret < 0 || (size_t)ret >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (unlink(path) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* spool_open - a fresh, empty, unlinked spool in dir */
int
spool_open(struct spool *sp, const char *dir)
{
	sp->len = 0;
	sp->err = 0;
	sp->fd = open_tmpfile(dir);
	if (sp->fd < 0) {
		sp->err = errno;
		return -1;
	}
	if (fchmod(sp->fd, 0600) == -1) {
		sp->err = errno;
		spool_close(sp);
		return -1;
	}
	return 0;
}

/* spool_write - append; the first error is latched and later writes are
 * skipped, so the reader can go on to the end of data and reply once */
int
spool_write(struct spool *sp, const void *buf, size_t len)
{
	const char *p = buf;

	if (sp->err != 0 || sp->fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(sp->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sp->err = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		sp->len += (unsigned long long)n;
	}
	return 0;
}

/* spool_close - drop the spool; its blocks are freed with the last fd */
void
spool_close(struct spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
}

/* struct line_reader - header lines of a spool, one at a time */
struct line_reader {
	int fd;
	unsigned long long len, off;	/* spool size, next read offset */
	char buf[8192];
	size_t pos, end;
	char line[SCAN_LINE_MAX + 1];	/* the line, cut to the limit */
	size_t llen;
};

/* next_line - read the next line (without its line end) into r->line;
 * 0 at the end of the spool, -1 on a read error */
static int
next_line(struct line_reader *r)
{
	int got = 0;

	r->llen = 0;
	for (;;) {
		if (r->pos == r->end) {
			ssize_t n;
			size_t want = sizeof(r->buf);

			if (r->off >= r->len)
				break;
			if (r->len - r->off < want)
				want = (size_t)(r->len - r->off);
			n = pread(r->fd, r->buf, want, (off_t)r->off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			r->off += (unsigned long long)n;
			r->pos = 0;
			r->end = (size_t)n;
		}
		got = 1;
		char ch = r->buf[r->pos++];
		if (ch == '\n')
			break;
		if (r->llen < SCAN_LINE_MAX)
			r->line[r->llen++] = ch;
	}
	if (r->llen > 0 && r->line[r->llen - 1] == '\r')
		r->llen--;
	r->line[r->llen] = '\0';
	return got;
}

/* header_value - the value of header `name` on this line, or NULL */
static const char *
header_value(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	return line + n + 1;
}

/* each_header - call fn on every header line (not continuations) until the
 * empty line that ends the header section; stop early when fn returns 1 */
static int
each_header(int fd, unsigned long long off, unsigned long long len,
    int (*fn)(const char *line, void *arg), void *arg)
{
	struct line_reader *r = calloc(1, sizeof(*r));
	int got, ret = 0;

	if (r == NULL)
		return -1;
	r->fd = fd;
	r->off = off;
	r->len = len;
	while ((got = next_line(r)) > 0 && r->llen > 0) {
		if (r->line[0] == ' ' || r->line[0] == '\t')
			continue;
		if (fn(r->line, arg)) {
			ret = 1;
			break;
		}
	}
	if (got < 0)
		ret = -1;
	free(r);
	return ret;
}

/* count_received - each_header callback for spool_scan_at */
static int
count_received(const char *line, void *arg)
{
	struct spool_headers *h = arg;

	if (header_value(line, "Received") != NULL)
		h->received++;
	return 0;
}

/* spool_scan_at - facts about the header section of the message that
 * starts at off (after the headers pipesmtpd itself wrote): the hop count */
int
spool_scan_at(int fd, unsigned long long off, unsigned long long len,
    struct spool_headers *h)
{
	memset(h, 0, sizeof(*h));
	return each_header(fd, off, len, count_received, h) < 0 ? -1 : 0;
}

/* match_delivered_to - each_header callback: Delivered-To: equals addr */
static int
match_delivered_to(const char *line, void *arg)
{
	const char *v = header_value(line, "Delivered-To");
	const char *addr = arg;
	size_t n;

	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == strlen(addr) && strncasecmp(v, addr, n) == 0;
}

/* spool_has_delivered_to - 1 if the message already went through addr */
int
spool_has_delivered_to(int fd, unsigned long long len, const char *addr)
{
	return each_header(fd, 0, len, match_delivered_to, (void *)addr);
}

/* struct squeeze - the spool rewritten in place: octets are read from
 * base + pos on, and the kept ones written back at wr, which never
 * passes what has been read; while nothing is dropped nothing is
 * written */
struct squeeze {
	int fd;
	unsigned long long len;		/* octets in the spool */
	unsigned long long base;	/* offset of in[0] */
	char in[16384];
	size_t pos, end;
	unsigned long long wr;		/* where out goes */
	char out[16384];
	size_t olen;
	int err;			/* an errno, or 0 */
};

/* sq_fill - at least want octets ahead in the buffer, unless the spool
 * ends first; -1 on a read error */
static int
sq_fill(struct squeeze *q, size_t want)
{
	while (q->end - q->pos < want && q->base + q->end < q->len) {
		size_t room;
		ssize_t n;

		memmove(q->in, q->in + q->pos, q->end - q->pos);
		q->base += q->pos;
		q->end -= q->pos;
		q->pos = 0;
		room = sizeof(q->in) - q->end;
		if (q->len - q->base - q->end < room)
			room = (size_t)(q->len - q->base - q->end);
		n = pread(q->fd, q->in + q->end, room,
		    (off_t)(q->base + q->end));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			q->err = n < 0 ? errno : EIO;
			return -1;
		}
		q->end += (size_t)n;
	}
	return 0;
}

/* sq_flush - write what is kept back at wr */
static int
sq_flush(struct squeeze *q)
{
	size_t done = 0;

	while (done < q->olen) {
		ssize_t n = pwrite(q->fd, q->out + done, q->olen - done,
		    (off_t)(q->wr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			q->err = n < 0 ? errno : EIO;
			return -1;
		}
		done += (size_t)n;
	}
	q->wr += done;
	q->olen = 0;
	return 0;
}

/* sq_line - take one line (to its LF, or the spool's end), kept or
 * not; -1 on an I/O error */
static int
sq_line(struct squeeze *q, int keep)
{
	for (;;) {
		char ch;

		if (sq_fill(q, 1) == -1)
			return -1;
		if (q->pos == q->end)
			return 0;
		ch = q->in[q->pos++];
		if (keep && q->olen == 0 && q->wr == q->base + q->pos - 1)
			q->wr++;		/* nothing dropped yet */
		else if (keep)
			q->out[q->olen++] = ch;
		if (q->olen == sizeof(q->out) && sq_flush(q) == -1)
			return -1;
		if (ch == '\n')
			return 0;
	}
}

/* sq_field - one header field at pos, its folded lines included: drop
 * decides from its first SQ_HEAD_MAX octets; 1 if dropped, 0 if
 * kept, -1 on an I/O error */
static int
sq_field(struct squeeze *q, int (*drop)(const char *field, size_t len,
    const void *arg), const void *arg)
{
	int gone;

	if (sq_fill(q, SQ_HEAD_MAX) == -1)
		return -1;
	gone = drop(q->in + q->pos, q->end - q->pos < SQ_HEAD_MAX ?
	    q->end - q->pos : SQ_HEAD_MAX, arg) != 0;
	do {
		if (sq_line(q, !gone) == -1 || sq_fill(q, 1) == -1)
			return -1;
	} while (q->pos < q->end && (q->in[q->pos] == ' ' ||
	    q->in[q->pos] == '\t'));
	return gone;
}

/* sq_rest - the body after the header section moved down to wr, the
 * spool cut there */
static int
sq_rest(struct squeeze *q)
{
	if (sq_flush(q) == -1)
		return -1;
	while (q->base + q->pos < q->len) {
		size_t n;

		if (sq_fill(q, 1) == -1)
			return -1;
		n = q->end - q->pos;
		if (n > sizeof(q->out) - q->olen)
			n = sizeof(q->out) - q->olen;
		memcpy(q->out + q->olen, q->in + q->pos, n);
		q->olen += n;
		q->pos += n;
		if (sq_flush(q) == -1)
			return -1;
	}
	if (ftruncate(q->fd, (off_t)q->wr) == -1) {
		q->err = errno;
		return -1;
	}
	return 0;
}

/* spool_drop_fields - remove from the header section that starts at off
 * every field drop() says to (it sees a field's first SQ_HEAD_MAX
 * octets, maybe more than the field), moving the rest of the spool down
 * in place; how many were removed, or -1 with sp->err on an I/O error.
 * Nothing is written when nothing is removed. */
int
spool_drop_fields(struct spool *sp, unsigned long long off,
    int (*drop)(const char *field, size_t len, const void *arg),
    const void *arg)
{
	struct squeeze *q = calloc(1, sizeof(*q));
	int n = 0, got = 0;

	if (q == NULL) {
		sp->err = ENOMEM;
		return -1;
	}
	q->fd = sp->fd;
	q->len = sp->len;
	q->base = q->wr = off;
	while (got >= 0 && sq_fill(q, 1) == 0 && q->pos < q->end &&
	    q->in[q->pos] != '\n' && q->in[q->pos] != '\r')
		n += got = sq_field(q, drop, arg);
	if (q->err == 0 && n > 0 && sq_rest(q) == 0)
		sp->len = q->wr;
	if (q->err != 0) {
		sp->err = q->err;
		n = -1;
	}
	free(q);
	return n;
}

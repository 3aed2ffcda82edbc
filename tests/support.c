/*
 * support.c - scripted I/O and a stub deliverer for session_run() in
 * tests: the client side (support_conn_*) and the deliverer side
 * (support_stub_*), as support.h describes.
 *
 * Entry points: support_conn_start(), support_conn_io(),
 * support_conn_free(), support_stub_start(), support_stub_deliverer(),
 * support_stub_free(), and the callbacks they install;
 * support_log_start() and support_log_end(); support_aliases().
 * Shared by the unit tests and the libFuzzer targets, so it never uses
 * the check library: what can only fail by running out of memory
 * aborts, and the rest is left to the test's check callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "aliases.h"
#include "support.h"

/* support_conn_start - a fresh client for in[0, n) fed in the given
 * chunks (0 whole, >0 fixed, <0 random sizes seeded by -chunk); a test
 * may adjust c->in and c->out before the session runs */
void
support_conn_start(struct support_conn *c, const char *in, size_t n,
    long chunk)
{
	memset(c, 0, sizeof(*c));
	c->in.in = in;
	c->in.n = n;
	c->in.chunk = chunk;
	c->in.seed = chunk < 0 ? (unsigned)-chunk : 1;
}

/* support_conn_io - the chat_io that reads and writes through c */
void
support_conn_io(struct support_conn *c, struct chat_io *io)
{
	io->read = support_conn_read;
	io->write = support_conn_write;
	io->starttls = c->tls.offer ? support_conn_starttls : NULL;
	io->ctx = c;
}

/* support_conn_read - the next chunk of the script, then EOF (or a
 * timeout, if the script says so) */
ssize_t
support_conn_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct support_conn *c = ctx;
	struct support_script *s = &c->in;
	size_t n, end = s->n;

	(void)timeout_ms;
	if (c->tls.at > 0 && !c->tls.started && c->tls.at < end)
		end = c->tls.at;
	if (s->reads++ == 0 && s->timeout_first)
		return CHAT_IO_TIMEOUT;
	if (s->pos >= end) {
		if (s->end_timeout)
			return CHAT_IO_TIMEOUT;
		s->eof = 1;
		return 0;
	}
	n = end - s->pos;
	if (s->chunk > 0 && (size_t)s->chunk < n)
		n = (size_t)s->chunk;
	else if (s->chunk < 0)
		n = 1 + (size_t)rand_r(&s->seed) % n;
	if (n > len)
		n = len;
	memcpy(buf, s->in + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* support_conn_write - append to the sink, at most max_write octets a
 * call; the buffer stays NUL-terminated */
ssize_t
support_conn_write(void *ctx, const void *buf, size_t len)
{
	struct support_sink *s = &((struct support_conn *)ctx)->out;

	if (s->max_write > 0 && len > s->max_write)
		len = s->max_write;
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			abort();
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->buf[s->len] = '\0';
	s->writes++;
	return (ssize_t)len;
}

/* support_conn_starttls - the scripted handshake: the rest of the
 * script is the TLS stream, or the handshake fails as an engine that
 * exits 98 (a TLS error) does */
int
support_conn_starttls(void *ctx, int timeout_ms, struct tls_info *info)
{
	struct support_conn *c = ctx;

	(void)timeout_ms;
	memset(info, 0, sizeof(*info));
	c->tls.started = 1;
	c->tls.replies_at = c->out.len;
	if (c->tls.at > c->in.pos)
		c->in.pos = c->tls.at;	/* cleartext never read: lost */
	if (c->tls.fail) {
		info->engine_status = 98 << 8;
		return -1;
	}
	snprintf(info->protocol, sizeof(info->protocol), "TLSv1.2");
	snprintf(info->cipher, sizeof(info->cipher), "%s",
	    "ECDHE-RSA-AES128-GCM-SHA256");
	return 0;
}

/* support_conn_free - the collected replies */
void
support_conn_free(struct support_conn *c)
{
	free(c->out.buf);
	c->out.buf = NULL;
}

/* support_stub_start - no calls yet, kept in calls[0, max); no check
 * and the default answers until the test sets them */
void
support_stub_start(struct support_stub *st, struct support_call *calls,
    size_t max)
{
	memset(st, 0, sizeof(*st));
	memset(calls, 0, max * sizeof(*calls));
	st->calls = calls;
	st->max = max;
}

/* support_stub_deliverer - the session_deliverer that calls st */
void
support_stub_deliverer(struct support_stub *st, struct session_deliverer *d)
{
	d->deliver = support_stub_deliver_all;
	d->account = support_stub_account;
	d->screen = support_stub_screen;
	d->check = NULL;	/* no --data-check */
	d->ctx = st;
}

/* read_spool - the whole spool into c->data, or NULL with errno */
static void
read_spool(const struct deliver_msg *msg, struct support_call *c)
{
	size_t got = 0;

	c->data = malloc((size_t)msg->spool_len + 1);
	if (c->data == NULL)
		return;
	while (got < msg->spool_len) {
		ssize_t n = pread(msg->spool_fd, c->data + got,
		    (size_t)msg->spool_len - got, (off_t)got);

		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			free(c->data);
			c->data = NULL;
			return;
		}
		got += (size_t)n;
	}
	c->data[got] = '\0';
	c->len = got;
}

/* record - what the session handed the deliverer for this recipient */
static void
record(const struct deliver_msg *msg, const struct address *rcpt,
    const struct address *orig, struct support_call *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->addr, sizeof(c->addr), "%s", rcpt->addr);
	snprintf(c->orig, sizeof(c->orig), "%s", orig->addr);
	snprintf(c->sender, sizeof(c->sender), "%s", msg->head.sender->addr);
	c->sender_null = msg->head.sender->null;
	snprintf(c->helo, sizeof(c->helo), "%s", msg->head.helo);
	snprintf(c->with, sizeof(c->with), "%s", msg->head.with);
	snprintf(c->queue_id, sizeof(c->queue_id), "%s", msg->head.queue_id);
	c->nrcpt = msg->head.nrcpt;
	if (msg->head.tls != NULL)
		snprintf(c->tls, sizeof(c->tls), "%s/%s",
		    msg->head.tls->protocol, msg->head.tls->cipher);
	c->body_off = (size_t)msg->body_off;
	read_spool(msg, c);
}

/* support_stub_deliver - record the call (kept while there is room),
 * let the test check it, and answer by the test's rule */
void
support_stub_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    const struct address *orig, struct outcome *out)
{
	struct support_stub *st = ctx;
	struct support_call spare, *c;

	c = st->ncalls < st->max ? &st->calls[st->ncalls] : &spare;
	record(msg, rcpt, orig, c);
	st->ncalls++;
	if (st->check != NULL)
		st->check(st, cfg, msg, rcpt, c);
	if (c == &spare)
		free(spare.data);
	outcome_init(out);
	if (st->answer != NULL) {
		st->answer(rcpt, out);
	} else {
		out->cls = OUT_DELIVERED;
		snprintf(out->dsn, sizeof(out->dsn), "2.0.0");
	}
}

/* support_stub_deliver_all - the deliverer's deliver: every delivery
 * of the plan in turn through support_stub_deliver(), each told as
 * jobs_deliver() tells it */
void
support_stub_deliver_all(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct deliver_plan *p)
{
	struct address rcpt, orig;
	struct outcome out;
	size_t j;

	for (j = 0; j < p->n; j++) {
		p->target(p->arg, j, &rcpt, &orig);
		support_stub_deliver(ctx, cfg, msg, &rcpt, &orig, &out);
		p->done(p->arg, j, &out);
	}
}

/* support_stub_account - the real account database's answer, as the
 * program's deliverer gives it (tests/nssfail.so can make it fail) */
int
support_stub_account(void *ctx, const struct config *cfg, const char *user)
{
	(void)ctx;
	return account_may_receive(cfg, user);
}

/* support_stub_screen - --rcpt-check by the test's rule, given the
 * placeholder values the command would get, or every recipient
 * accepted with 2.1.5 */
void
support_stub_screen(void *ctx, const struct config *cfg,
    const struct received_msg *m, const struct address *rcpt,
    struct outcome *out)
{
	struct support_stub *st = ctx;
	struct command_vars v;

	command_vars_init(&v, cfg, m->sender, rcpt, m->helo, m->queue_id,
	    m->tls);
	outcome_init(out);
	if (st->screen_answer != NULL) {
		st->screen_answer(&v, out);
	} else {
		out->cls = OUT_DELIVERED;
		snprintf(out->dsn, sizeof(out->dsn), "2.1.5");
	}
}

/* support_stub_free - the spool copies of the kept calls */
void
support_stub_free(struct support_stub *st)
{
	size_t i;

	for (i = 0; i < st->ncalls && i < st->max; i++) {
		free(st->calls[i].data);
		st->calls[i].data = NULL;
	}
}

/* support_log_start - stderr, where the unit tests log, to a file of
 * l's until support_log_end(); 0, or -1 (stderr left as it was) */
int
support_log_start(struct support_log *l)
{
	fflush(stderr);
	if ((l->file = tmpfile()) == NULL)
		return -1;
	if ((l->saved = dup(2)) == -1 || dup2(fileno(l->file), 2) == -1) {
		if (l->saved != -1)
			close(l->saved);
		fclose(l->file);
		return -1;
	}
	return 0;
}

/* support_log_end - stderr back, and what was logged meanwhile (the
 * first sizeof(l->text) - 1 octets) */
const char *
support_log_end(struct support_log *l)
{
	size_t n;

	fflush(stderr);
	if (dup2(l->saved, 2) == -1)
		abort();	/* the test's own stderr is lost */
	close(l->saved);
	rewind(l->file);
	n = fread(l->text, 1, sizeof(l->text) - 1, l->file);
	l->text[n] = '\0';
	fclose(l->file);
	return l->text;
}

/* support_aliases - the --aliases table text makes, through a file
 * that is gone again on return; NULL with the reason in err (cap
 * octets) */
struct aliases *
support_aliases(const char *text, char *err, size_t cap)
{
	char path[] = "/tmp/support-aliases.XXXXXX";
	struct aliases *al = NULL;
	size_t n = strlen(text);
	int fd = mkstemp(path), ok;

	if (fd == -1) {
		snprintf(err, cap, "mkstemp: %s", strerror(errno));
		return NULL;
	}
	ok = write(fd, text, n) == (ssize_t)n;
	if (close(fd) == -1 || !ok)
		snprintf(err, cap, "%s: cannot write", path);
	else if (aliases_load(path, &al, err, cap) == -1)
		al = NULL;
	unlink(path);
	return al;
}

/*
 * session.c - the SMTP protocol for one session.
 *
 * Entry point: session_run(), over the struct chat_io it is given
 * (fdio.c's on the launcher's descriptors; a script in the tests).
 * Data flows one way: chat.c reads lines, lines become commands,
 * commands build the transaction (envelope; a new RCPT's deliveries
 * come from accept.c), DATA and BDAT stream into the spool (intake.c),
 * and after the final dot finish.c has the deliverer run once per
 * recipient and reports the outcome.
 *
 * This module owns dispatch, the transaction, the refusals (whether
 * each is logged and counted, whichever module's verdict it says;
 * reject.c holds the stock replies and says them), and STARTTLS.  A
 * transaction is "in progress" exactly when s->txn is set; the one
 * place it is cleared is txn_reset().  Replies go through reply(),
 * which counts errors towards --max-errors; chat.c buffers them and
 * flushes before every wait, which is what PIPELINING needs.
 *
 * This module never runs a command and never opens a file: delivery is
 * the deliverer's job, the spool intake.c's.  It never polls, reads or
 * writes the client's descriptors either: that is chat.c's and io's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "address.h"
#include "envelope.h"
#include "finish.h"
#include "intake.h"
#include "log.h"
#include "outcome.h"
#include "received.h"
#include "recipients.h"
#include "reject.h"
#include "session.h"
#include "tls.h"

#define QUEUE_ID_MAX	32
/* 452 4.5.3 replies to recipients beyond --max-rcpt that are not errors
 * in one transaction (Postfix's smtpd_recipient_overshoot_limit) */
#define RCPT_OVERSHOOT	1000
/* junk commands (NOOP, RSET, VRFY, HELP) that are free since the last
 * message accepted; each one past them counts towards --max-errors
 * (Postfix's smtpd_junk_command_limit) */
#define JUNK_LIMIT	100

/* One transaction: MAIL to the reply after the data (or RSET). */
struct txn {
	struct address sender;
	int smtputf8;			/* MAIL had SMTPUTF8 */
	int prdr;			/* MAIL had PRDR */
	time_t arrival;			/* when the data began */
	struct recipients rcpts;	/* accepted, RCPT order, compact */
	unsigned overshoot;		/* RCPTs refused beyond --max-rcpt */
	char queue_id[QUEUE_ID_MAX];
	struct intake in;		/* the message: spool, latched error */
};

/* The whole connection. */
struct session {
	const struct config *cfg;
	const struct session_deliverer *del;
	struct chat chat;		/* the client: buffers, deadlines */
	char helo[ENVELOPE_HELO_MAX + 1];	/* last HELO/EHLO/LHLO name */
	int greeted;			/* 0, or 1 HELO, 2 EHLO/LHLO */
	int tls_on;			/* STARTTLS has succeeded */
	struct tls_info tls;		/* what the TLS engine reported */
	int closing;			/* QUIT, limit, timeout or I/O error */
	unsigned errors;		/* error replies so far */
	unsigned junk;			/* junk commands since the last
					   message accepted */
	unsigned relay;			/* RCPTs refused as relaying */
	const char *ended_by;		/* why the server ended it, for the
					   disconnect line: NULL, "timeout",
					   "pregreet", "errors" */
	unsigned long commands, messages, serial;
	char eod_id[QUEUE_ID_MAX];	/* the message whose end-of-data
					   reply is the last thing said */
	struct txn *txn;		/* set while a transaction runs */
	struct txn txn_mem;
};

/* Command table flags. */
#define CMD_SMTP	0x1	/* valid in SMTP mode */
#define CMD_LMTP	0x2	/* valid in LMTP mode */
#define CMD_BOTH	(CMD_SMTP | CMD_LMTP)
#define CMD_NOARG	0x4	/* takes no argument */
#define CMD_PRETLS	0x8	/* answered before TLS under --require-tls */
#define CMD_CHUNK	0x10	/* octets follow the line: the handler
				   refuses it itself, reading them */

struct command {
	const char *verb;
	void (*handler)(struct session *s, char *arg);
	unsigned flags;
};

/* ---- replies ---- */

/* ending - whether the session is over: QUIT, a limit, a timeout, or
 * the client gone (a write failed) */
static int
ending(const struct session *s)
{
	return s->closing || s->chat.gone;
}

/* flush - write every pending reply; a write failure ends the session */
static void
flush(struct session *s)
{
	if (chat_flush(&s->chat) == -1)
		s->closing = 1;		/* the client is gone */
}

/* count_error - one more error towards --max-errors; at the limit the
 * 421, after the reply just said (the protocol's policy: chat.c only
 * buffers) */
static void
count_error(struct session *s)
{
	if (ending(s))
		return;
	if (++s->errors >= s->cfg->max_errors) {
		s->closing = 1;		/* the 421 below must not recurse */
		s->ended_by = "errors";
		chat_reply(&s->chat, 0, 421, "4.7.0", "%s Error: too many "
		    "errors", s->cfg->hostname);
	}
}

/* vreply - one reply line; a 4xx or 5xx counts towards --max-errors
 * when count says so */
static void __attribute__((format(printf, 6, 0)))
vreply(struct session *s, int count, int more, int code, const char *dsn,
    const char *fmt, va_list ap)
{
	chat_vreply(&s->chat, more, code, dsn, fmt, ap);
	if (count && code >= 400)
		count_error(s);
}

/* reply - the one reply helper: code, enhanced code, text.  Returns 0 so
 * a guard can refuse and return in one statement. */
static int __attribute__((format(printf, 4, 5)))
reply(struct session *s, int code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, 1, 0, code, dsn, fmt, ap);
	va_end(ap);
	return 0;
}

/* reply_more - a line of a multi-line reply ('-' after the code) */
static void __attribute__((format(printf, 4, 5)))
reply_more(struct session *s, int code, const char *dsn, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, 0, 1, code, dsn, fmt, ap);
	va_end(ap);
}

/* reply_as - a reply counted as reply() (count 1), or one that never
 * counts towards --max-errors (0: the greeting, the 421s that end the
 * session).  Returns 0, as reply() does. */
static int __attribute__((format(printf, 5, 6)))
reply_as(struct session *s, int count, int code, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, count, 0, code, dsn, fmt, ap);
	va_end(ap);
	return 0;
}

/* reply_stock - a stock reply; count as reply_as().  Returns 0, as
 * reply() does. */
static int
reply_stock(struct session *s, int count, enum reject_stock r)
{
	const struct reject_stock_reply *st = reject_stock(r);

	return reply_as(s, count, st->code, st->dsn, "%s%s%s",
	    st->host ? s->cfg->hostname : "", st->host ? " " : "", st->text);
}

/* must_start_tls - --require-tls and TLS not yet started: every
 * command but NOOP, EHLO/LHLO, STARTTLS and QUIT is refused (RFC 3207
 * 4) */
static int
must_start_tls(const struct session *s)
{
	return s->cfg->require_tls && !s->tls_on;
}

/* reply_timeout - --timeout or --session-timeout ran out: the last
 * reply, and the reason the disconnect line gives */
static void
reply_timeout(struct session *s)
{
	s->ended_by = "timeout";
	reply_stock(s, 0, STOCK_TIMEOUT);
}

/* ---- transaction ---- */

/* txn_reset - the only place a transaction ends: RSET, HELO/EHLO, the end
 * of data, a failed DATA, the end of the session */
static void
txn_reset(struct session *s)
{
	struct txn *t = s->txn;

	if (t == NULL)
		return;
	intake_close(&t->in);
	recipients_free(&t->rcpts);
	memset(t, 0, sizeof(*t));
	intake_init(&t->in);
	s->txn = NULL;
}

/* txn_begin - a new transaction with a fresh queue id */
static struct txn *
txn_begin(struct session *s)
{
	struct txn *t = &s->txn_mem;
	struct timespec now;

	memset(t, 0, sizeof(*t));
	intake_init(&t->in);
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(t->queue_id, sizeof(t->queue_id), "%llX%05lX%lX%lu",
	    (unsigned long long)now.tv_sec, (unsigned long)now.tv_nsec / 10000,
	    (unsigned long)getpid(), ++s->serial);
	s->txn = t;
	return t;
}

/* ---- refusals: the reply and its reject line ---- */

/* refusal_where - where the session stands, as its reject lines say:
 * the client, its HELO name, the protocol, and the open transaction */
static void
refusal_where(const struct session *s, struct reject_where *w)
{
	w->client_host = s->cfg->client_host;
	w->client_ip = s->cfg->client_ip;
	w->helo = s->helo;
	w->proto = reject_proto(s->cfg->lmtp, s->greeted == 2);
	w->queue_id = s->txn != NULL ? s->txn->queue_id : NULL;
	w->sender = s->txn != NULL ? &s->txn->sender : NULL;
}

/* reject - refusal r: its reject line when logged says so, its reply
 * times times, counted towards --max-errors (once) when count says so.
 * Returns 0, as reply() does. */
static int
reject(struct session *s, const struct reject_refusal *r, int logged,
    int count, size_t times)
{
	struct reject_where w;

	refusal_where(s, &w);
	reject_say(&s->chat, logged ? &w : NULL, r, times);
	if (count)
		count_error(s);
	return 0;
}

/* refuse_rcpt - refuse rcpt with "<rcpt>: text", counted */
static int
refuse_rcpt(struct session *s, const struct address *rcpt, int code,
    const char *dsn, const char *text)
{
	struct reject_refusal r = { REJECT_RCPT, rcpt, 1, code, dsn, text };

	return reject(s, &r, 1, 1, 1);
}

/* refuse_stock - stock reply k as a refusal at stage at, of rcpt (NULL:
 * none); count as reply_as() */
static int
refuse_stock(struct session *s, enum reject_stage at,
    const struct address *rcpt, enum reject_stock k, int count)
{
	const struct reject_stock_reply *st = reject_stock(k);
	struct reject_refusal r = { at, rcpt, 0, st->code, st->dsn, st->text };

	return reject(s, &r, 1, count, 1);
}

/* refuse_message - message-wide failure err at stage at: its reject line
 * once (to= when the transaction has one recipient), its reply once, or
 * after the data under LMTP once per RCPT (RFC 2033 4.2); count as
 * reply_as() */
static void
refuse_message(struct session *s, enum reject_stage at, enum intake_err err,
    int count)
{
	const struct txn *t = s->txn;
	const struct reject_stock_reply *st = reject_stock(reject_intake(err));
	struct reject_refusal r = { at, NULL, 0, st->code, st->dsn, st->text };
	struct address only;

	if (t->rcpts.unique == 1) {
		recipients_address(&t->rcpts, 0, &only);
		r.rcpt = &only;
	}
	reject(s, &r, 1, count, at == REJECT_EOM && s->cfg->lmtp ?
	    t->rcpts.n : 1);
}

/* too_many_rcpts - 452 4.5.3 beyond --max-rcpt.  RFC 5321 4.5.3.1.10
 * expects a client to send the excess and retry it in a later
 * transaction, so these count as errors only past an absurd overshoot:
 * otherwise a long recipient list would end the session before its
 * first recipient is delivered, on every retry. */
static int
too_many_rcpts(struct session *s, const struct address *rcpt)
{
	return refuse_stock(s, REJECT_RCPT, rcpt, STOCK_RCPTS,
	    ++s->txn->overshoot > RCPT_OVERSHOOT);
}

/* refuse - the reply to an envelope guard's refusal at stage at, of a
 * (RCPT's address; NULL for HELO and MAIL), and its reject line when
 * envelope_logged() says so; a relay attempt is counted for the
 * disconnect line.  Returns 0, as reply() does. */
static int
refuse(struct session *s, enum envelope_verdict v, enum reject_stage at,
    const struct address *a)
{
	const struct envelope_reply *e = envelope_reply(v);
	const struct address *rcpt = envelope_logged(v) ? a : NULL;
	struct reject_refusal r = { at, rcpt, e->addr, e->code, e->dsn,
	    e->text };

	switch (v) {
	case ENV_SIZE_LIMIT:
		return refuse_stock(s, at, rcpt, STOCK_SIZE, 1);
	case ENV_UTF8:
		return refuse_stock(s, at, rcpt, STOCK_UTF8, 1);
	case ENV_RCPTS_MAX:
		return too_many_rcpts(s, rcpt);
	case ENV_RELAY:
		s->relay++;
		break;
	default:
		break;
	}
	return reject(s, &r, envelope_logged(v), 1, 1);
}

/* ---- commands ---- */

/* greet - the common part of HELO, EHLO and LHLO */
static int
greet(struct session *s, char *arg, int level)
{
	enum envelope_verdict v = envelope_helo(arg, level == 2,
	    s->cfg->lmtp);

	if (v != ENV_OK)
		return refuse(s, v, REJECT_MAIL, NULL);	/* never logged */
	txn_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", arg);
	s->greeted = level;
	return 1;
}

static void
cmd_helo(struct session *s, char *arg)
{
	if (greet(s, arg, 1))
		reply(s, 250, NULL, "%s", s->cfg->hostname);
}

static void
cmd_ehlo(struct session *s, char *arg)
{
	struct envelope_ehlo e;
	size_t i;

	if (!greet(s, arg, 2))
		return;
	/* STARTTLS when the launcher gave a TLS engine, until it is used */
	envelope_ehlo(s->cfg, chat_tls_possible(&s->chat) && !s->tls_on, &e);
	for (i = 0; i + 1 < e.n; i++)
		reply_more(s, 250, NULL, "%s", e.line[i]);
	reply(s, 250, NULL, "%s", e.line[e.n - 1]);
}

static void
cmd_mail(struct session *s, char *arg)
{
	struct envelope_mail m;
	enum envelope_verdict v;
	struct txn *t;

	if (!s->greeted) {
		reply(s, 503, "5.5.1", "Send %s first", s->cfg->lmtp ?
		    "LHLO" : "HELO/EHLO");
		return;
	}
	if (s->txn != NULL) {
		reply(s, 503, "5.5.1", "Nested MAIL command");
		return;
	}
	t = txn_begin(s);	/* a refused MAIL uses up its queue id too */
	v = envelope_mail(s->cfg, s->greeted == 2, arg, &m);
	t->sender = m.sender;	/* for the reject line's from= */
	if (v != ENV_OK) {
		refuse(s, v, REJECT_MAIL, NULL);
		txn_reset(s);
		return;
	}
	t->smtputf8 = m.smtputf8;
	t->prdr = m.prdr;
	reply(s, 250, "2.1.0", "Ok");
}

/* txn_facts - what the added headers say about the transaction's
 * message, but for its recipients (recipients_facts() adds them): the
 * one place these facts are gathered, for the block spooled ahead of
 * the message, for each delivery and for --rcpt-check alike */
static void
txn_facts(const struct session *s, const struct txn *t,
    struct received_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->sender = &t->sender;
	m->helo = s->helo;
	m->with = received_with(s->cfg->lmtp, s->greeted == 2, t->smtputf8,
	    s->tls_on);
	m->queue_id = t->queue_id;
	m->arrival = t->arrival;
	m->tls = s->tls_on ? &s->tls : NULL;
}

/* header_facts - txn_facts() with the recipients': first holds the
 * first RCPT, which m points at */
static void
header_facts(const struct session *s, const struct txn *t,
    struct received_msg *m, struct address *first)
{
	txn_facts(s, t, m);
	recipients_facts(&t->rcpts, m, first);
}

/* rcpt_accept - a recipient new to the transaction, to its deliveries
 * through accept.c.  1 when accepted; 0 and the reply said (accept.c
 * kept nothing of it) when not. */
static int
rcpt_accept(struct session *s, const struct address *rcpt)
{
	struct received_msg m;
	struct accept_job j = { s->cfg, s->del, &s->chat, &s->txn->rcpts,
	    s->txn->queue_id, &m };
	struct outcome_reply no;

	txn_facts(s, s->txn, &m);
	switch (accept_rcpt(&j, rcpt, &no)) {
	case ACCEPT_OK:
		return 1;
	case ACCEPT_REFUSED:
		return refuse_rcpt(s, rcpt, no.code, no.dsn, no.text);
	case ACCEPT_NOSPACE:
		return refuse_stock(s, REJECT_RCPT, rcpt, STOCK_NOSPACE, 1);
	case ACCEPT_TOO_MANY:
		break;
	}
	return too_many_rcpts(s, rcpt);
}

static void
cmd_rcpt(struct session *s, char *arg)
{
	struct address a;
	enum envelope_verdict v;

	if (s->txn == NULL || s->txn->in.bdat) {
		reply(s, 503, "5.5.1", s->txn == NULL ? "Need MAIL command" :
		    "RCPT after BDAT");
		return;
	}
	v = envelope_rcpt(s->cfg, s->txn->smtputf8, s->txn->rcpts.n, arg, &a);
	if (v != ENV_OK) {
		refuse(s, v, REJECT_RCPT, &a);
		return;
	}
	if (!recipients_has(&s->txn->rcpts, &a)) {
		if (!rcpt_accept(s, &a))
			return;
	} else if (recipients_add(&s->txn->rcpts, &a) == -1) {
		/* accepted before: delivered once, for both */
		refuse_stock(s, REJECT_RCPT, &a, STOCK_NOSPACE, 1);
		return;
	}
	reply(s, 250, "2.1.5", "Ok");
}

/* msg_describe - the spooled message as the deliverer sees it (its
 * deadline is finish.c's) */
static void
msg_describe(const struct session *s, const struct txn *t,
    struct deliver_msg *msg, struct address *first)
{
	memset(msg, 0, sizeof(*msg));
	msg->spool_fd = t->in.spool.fd;
	msg->spool_len = t->in.spool.len;
	msg->body_off = t->in.body_off;
	header_facts(s, t, &msg->head, first);
}

/* deliver_message - msg, whole and with no latched error, to
 * finish.c: --data-check, the deliveries and their replies; then the
 * session's counts: one more message tried, and junk commands free
 * again once the client got a 250 for it */
static void
deliver_message(struct session *s, struct txn *t, struct deliver_msg *msg)
{
	struct reject_where w;
	struct finish_job f = { s->cfg, s->del, &s->chat, &t->rcpts,
	    t->queue_id, s->cfg->lmtp ? FINISH_EACH : t->prdr ? FINISH_PRDR :
	    FINISH_ONE, &w };
	enum finish_end e;

	refusal_where(s, &w);
	e = finish_deliver(&f, msg);
	if (e != FINISH_REFUSED)
		s->messages++;
	if (e == FINISH_ACCEPTED)
		s->junk = 0;
}

/* finish_message - the whole message is in: refuse it as a whole (one
 * reply, repeated per recipient under LMTP: RFC 2033 4.2), or have
 * --data-check pass it and deliver it; either way the transaction ends
 * here.  Pending replies go first: none waits behind the check or the
 * deliveries (RFC 2920 3.2). */
static void
finish_message(struct session *s, struct txn *t)
{
	struct deliver_msg msg;
	struct address first;

	intake_end(&t->in, s->cfg, t->queue_id);
	flush(s);
	msg_describe(s, t, &msg, &first);
	if (t->in.err != INTAKE_OK)
		refuse_message(s, REJECT_EOM, t->in.err, 0);
	else
		deliver_message(s, t, &msg);
	snprintf(s->eod_id, sizeof(s->eod_id), "%s", t->queue_id);
	txn_reset(s);
}

/* open_message - the message's spool, its added headers saying when
 * the data began; the error latched and returned (intake_open()) */
static enum intake_err
open_message(struct session *s, struct txn *t)
{
	struct received_msg m;
	struct address first;

	t->arrival = time(NULL);
	header_facts(s, t, &m, &first);
	return intake_open(&t->in, s->cfg, &m, &first);
}

/* open_for_data - the spool for DATA; 0 (and the reply) if it failed */
static int
open_for_data(struct session *s, struct txn *t)
{
	enum intake_err err = open_message(s, t);

	if (err == INTAKE_OK)
		return 1;
	refuse_message(s, REJECT_DATA, err, 1);
	txn_reset(s);
	return 0;
}

/* data_guard - the guards shared by DATA and BDAT; the reason, or NULL */
static const char *
data_guard(const struct txn *t)
{
	if (t == NULL)
		return "Need MAIL command";
	if (t->rcpts.n == 0)
		return "Need RCPT command";
	return NULL;
}

/* input_lost - the client vanished or timed out inside a message: nothing
 * of it is delivered, and the session ends */
static void
input_lost(struct session *s, enum chat_read r)
{
	if (r == CHAT_TIMEOUT)
		reply_timeout(s);
	s->closing = 1;
	txn_reset(s);
}

static void
cmd_data(struct session *s, char *arg)
{
	struct txn *t = s->txn;
	const char *why = data_guard(t);
	enum chat_read r;

	(void)arg;
	if (why == NULL && t->in.bdat)
		why = "DATA after BDAT in one transaction";
	if (why != NULL) {
		reply(s, 503, "5.5.1", "%s", why);
		return;
	}
	if (!open_for_data(s, t))
		return;
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	r = intake_data(&t->in, &s->chat, s->cfg);
	if (r != CHAT_OK) {
		input_lost(s, r);
		return;
	}
	finish_message(s, t);
}

/* bdat_refused - BDAT out of sequence or before TLS under --require-tls,
 * answered no: its octets are consumed first, so the session stays in
 * step.  Under LMTP a BDAT LAST in a transaction without any accepted
 * recipient gets no reply at all (RFC 2033 4.3). */
static void
bdat_refused(struct session *s, const struct reject_stock_reply *no,
    unsigned long long n, int last)
{
	enum chat_read r = intake_chunk(NULL, &s->chat, s->cfg, n);

	if (r != CHAT_OK) {
		input_lost(s, r);
	} else if (s->cfg->lmtp && last && s->txn != NULL) {
		txn_reset(s);
	} else {
		reply(s, no->code, no->dsn, "%s", no->text);
	}
}

/* bdat_give_up - a chunk that will not be read leaves the stream out of
 * step: one 421 (none more if the refusal already reached the error
 * limit, which said 421 itself), and the input is as good as lost */
static void
bdat_give_up(struct session *s)
{
	if (!ending(s))
		reply_as(s, 0, 421, "4.5.0", "%s Error: lost sync with the "
		    "client", s->cfg->hostname);
	input_lost(s, CHAT_ERROR);
}

static void
cmd_bdat(struct session *s, char *arg)
{
	struct txn *t = s->txn;
	const char *why = data_guard(t);
	unsigned long long n;
	enum chat_read r;
	int last;

	if (!intake_bdat_args(arg, &n, &last)) {
		/* the chunk's end is unknown: the stream cannot be resynced */
		reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		bdat_give_up(s);
		return;
	}
	if (must_start_tls(s) || why != NULL) {
		const struct reject_stock_reply seq = { 503, "5.5.1", why, 0 };

		bdat_refused(s, must_start_tls(s) ?
		    reject_stock(STOCK_NEED_TLS) : &seq, n, last);
		return;
	}
	if (!t->in.bdat) {	/* a spool error is latched, replied below */
		intake_bdat_begin(&t->in, s->cfg);
		open_message(s, t);
	}
	r = intake_chunk(&t->in, &s->chat, s->cfg, n);
	if (r != CHAT_OK) {
		input_lost(s, r);
	} else if (last) {
		intake_chunk_last(&t->in, s->cfg);
		finish_message(s, t);
	} else if (t->in.err != INTAKE_OK) {
		/* RFC 3030: a failed chunk fails the transaction */
		refuse_message(s, REJECT_BDAT, t->in.err, 0);
		txn_reset(s);
	} else {
		reply(s, 250, "2.0.0", "%llu octets received", n);
	}
}

/* junk - after the reply to NOOP, RSET, VRFY or HELP: past JUNK_LIMIT of
 * them since the last message accepted, each counts as an error, so
 * that they cannot hold a session slot; mail delivered starts the
 * count again (deliver_message()) */
static void
junk(struct session *s)
{
	if (++s->junk > JUNK_LIMIT)
		count_error(s);
}

static void
cmd_rset(struct session *s, char *arg)
{
	(void)arg;
	txn_reset(s);
	reply(s, 250, "2.0.0", "Ok");
	junk(s);
}

static void
cmd_noop(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 250, "2.0.0", "Ok");
	junk(s);
}

static void
cmd_quit(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 221, "2.0.0", "Bye");
	s->closing = 1;
}

static void
cmd_vrfy(struct session *s, char *arg)
{
	if (*arg == '\0')
		reply(s, 501, "5.5.4", "Syntax: VRFY address");
	else
		reply(s, 252, "2.0.0", "Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	junk(s);
}

static void
cmd_help(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 214, "2.0.0", "Commands: %s MAIL RCPT DATA BDAT RSET "
	    "NOOP QUIT VRFY HELP", s->cfg->lmtp ? "LHLO" : "HELO EHLO");
	junk(s);
}

static void
cmd_unimplemented(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 502, "5.5.1", "Command not implemented");
}

static void
cmd_unknown(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 500, "5.5.1", "Command unrecognized");
}

/* handshake - after the 220: the TLS handshake, then a new session
 * inside it (RFC 3207 4.2).  Cleartext the client sent after STARTTLS
 * is dropped unread, so no command can be slipped in ahead of TLS and
 * answered inside it. */
static void
handshake(struct session *s)
{
	const struct config *cfg = s->cfg;
	size_t dropped = chat_drop(&s->chat);

	if (dropped > 0)
		log_warn("%zu octets pipelined after STARTTLS from %s[%s] "
		    "discarded", dropped, cfg->client_host, cfg->client_ip);
	if (chat_starttls(&s->chat, &s->tls) == -1) {
		/* nothing more can be said to the client */
		tls_log_failed(&s->tls, cfg->client_host, cfg->client_ip);
		s->closing = 1;
		return;
	}
	s->tls_on = 1;
	s->greeted = 0;
	s->helo[0] = '\0';
	tls_log_established(&s->tls, cfg->client_host, cfg->client_ip);
}

static void
cmd_starttls(struct session *s, char *arg)
{
	if (!chat_tls_possible(&s->chat)) {
		cmd_unimplemented(s, arg);
		return;
	}
	if (s->tls_on) {
		reply(s, 503, "5.5.1", "Error: TLS already active");
		return;
	}
	if (s->txn != NULL) {
		reply(s, 503, "5.5.1", "Error: MAIL transaction in progress");
		return;
	}
	reply(s, 220, "2.0.0", "Ready to start TLS");
	flush(s);
	if (!ending(s))
		handshake(s);
}

/* The command table; the last entry answers every unknown verb. */
static const struct command commands[] = {
	{ "HELO", cmd_helo, CMD_SMTP },
	{ "EHLO", cmd_ehlo, CMD_SMTP | CMD_PRETLS },
	{ "LHLO", cmd_ehlo, CMD_LMTP | CMD_PRETLS },
	{ "MAIL", cmd_mail, CMD_BOTH },
	{ "RCPT", cmd_rcpt, CMD_BOTH },
	{ "DATA", cmd_data, CMD_BOTH | CMD_NOARG },
	{ "RSET", cmd_rset, CMD_BOTH | CMD_NOARG },
	{ "NOOP", cmd_noop, CMD_BOTH | CMD_PRETLS },
	{ "QUIT", cmd_quit, CMD_BOTH | CMD_NOARG | CMD_PRETLS },
	{ "VRFY", cmd_vrfy, CMD_BOTH },
	{ "HELP", cmd_help, CMD_BOTH },
	{ "EXPN", cmd_unimplemented, CMD_BOTH },
	{ "TURN", cmd_unimplemented, CMD_BOTH },
	{ "ETRN", cmd_unimplemented, CMD_BOTH },
	{ "AUTH", cmd_unimplemented, CMD_BOTH },
	{ "STARTTLS", cmd_starttls, CMD_BOTH | CMD_NOARG | CMD_PRETLS },
	{ "BDAT", cmd_bdat, CMD_BOTH | CMD_CHUNK },
	{ NULL, cmd_unknown, CMD_BOTH }
};

/* dispatch - one command line: verb lookup, mode and argument guards */
static void
dispatch(struct session *s, char *line, size_t len)
{
	const struct command *c;
	size_t vlen = strcspn(line, " ");
	char *arg = line + vlen;

	if (memchr(line, '\0', len) != NULL) {
		reply(s, 500, "5.5.2", "Syntax error: NUL in command");
		return;
	}
	while (*arg == ' ')
		arg++;
	for (c = commands; c->verb != NULL; c++)
		if (strlen(c->verb) == vlen &&
		    strncasecmp(line, c->verb, vlen) == 0)
			break;
	if (c->verb != NULL &&
	    !(c->flags & (s->cfg->lmtp ? CMD_LMTP : CMD_SMTP)))
		c = &commands[sizeof(commands) / sizeof(commands[0]) - 1];
	if (must_start_tls(s) && !(c->flags & (CMD_PRETLS | CMD_CHUNK))) {
		reply_stock(s, 1, STOCK_NEED_TLS);
		return;
	}
	if ((c->flags & CMD_NOARG) && *arg != '\0') {
		reply(s, 501, "5.5.4", "Syntax: %s takes no argument",
		    c->verb);
		return;
	}
	c->handler(s, arg);
}

/* early_talker - --greet-pause: a client that speaks first is refused */
static int
early_talker(struct session *s)
{
	enum chat_read r;

	if (s->cfg->greet_pause == 0)
		return 0;
	r = chat_pregreet(&s->chat, s->cfg->greet_pause);
	if (r == CHAT_TIMEOUT)
		return 0;
	if (r == CHAT_OK) {
		s->ended_by = "pregreet";
		reply_as(s, 0, 554, "5.5.1", "%s Error: talked before the "
		    "greeting", s->cfg->hostname);
	}
	return 1;
}

/* serve - the command loop, until QUIT, EOF, a limit or a timeout */
static void
serve(struct session *s)
{
	while (!ending(s)) {
		char *line = NULL;
		size_t len = 0;
		enum chat_read r = chat_line(&s->chat, &line, &len);

		if (r == CHAT_EOF || r == CHAT_ERROR)
			break;
		s->eod_id[0] = '\0';	/* the client is still there */
		if (r == CHAT_TIMEOUT) {
			reply_timeout(s);
			break;
		}
		s->commands++;
		if (r == CHAT_TOOLONG)
			reply(s, 500, "5.5.2", "Line too long");
		else
			dispatch(s, line, len);
	}
}

/* disconnect_line - the session's last line: its counts, lost=1 when the
 * end-of-data reply may not have been read, relay=N and end=WHY when
 * the client earned them (pipesmtpd(8), LOGGING) */
static void
disconnect_line(const struct session *s)
{
	const struct config *cfg = s->cfg;
	char relay[32] = "";

	if (s->relay > 0)
		snprintf(relay, sizeof(relay), " relay=%u", s->relay);
	log_info("disconnect from %s[%s] commands=%lu errors=%u messages=%lu"
	    "%s%s%s%s", cfg->client_host, cfg->client_ip, s->commands,
	    s->errors, s->messages, s->eod_id[0] != '\0' ? " lost=1" : "",
	    relay, s->ended_by ? " end=" : "", s->ended_by ? s->ended_by : "");
}

/* no_session - the struct session, and the chat buffers in it, could
 * not be allocated: the reason logged, and one 421 written through io
 * at once (chat.c), so the sender keeps the mail.  The process exit status. */
static int
no_session(const struct config *cfg, const struct chat_io *io)
{
	log_error("cannot start: out of memory for the session from %s[%s]",
	    cfg->client_host, cfg->client_ip);
	(void)chat_reply_unbuffered(io, 421, "4.3.0", "%s Service not "
	    "available", cfg->hostname);
	return EX_TEMPFAIL;
}

/* session_run - one whole session; returns the process exit status */
int
session_run(const struct config *cfg, const struct chat_io *io,
    const struct session_deliverer *d)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return no_session(cfg, io);
	s->cfg = cfg;
	s->del = d;
	intake_init(&s->txn_mem.in);
	chat_init(&s->chat, io, cfg);
	log_info("connect from %s[%s]", cfg->client_host, cfg->client_ip);
	if (cfg->require_tls && !chat_tls_possible(&s->chat)) {
		/* a launcher without TLS: the sender keeps the mail */
		log_error("--require-tls, but the launcher gives no TLS "
		    "engine (SSLCTLFD, SSLREADFD, SSLWRITEFD)");
		reply_as(s, 0, 421, "4.7.0", "%s TLS required but not "
		    "available", cfg->hostname);
	} else if (!early_talker(s)) {
		reply_as(s, 0, 220, NULL, "%s %s pipesmtpd", cfg->hostname,
		    cfg->lmtp ? "LMTP" : "ESMTP");
		serve(s);
	}
	flush(s);
	txn_reset(s);
	if (s->eod_id[0] != '\0')
		log_info("%s: lost connection after end of data: the sender "
		    "may retry", s->eod_id);
	disconnect_line(s);
	free(s);
	return EX_OK;
}

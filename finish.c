/*
 * finish.c - one message after its final dot: --data-check, the
 * deliveries, and the replies they make.
 *
 * Entry point: finish_deliver().  --data-check runs once, through the
 * deliverer's check(); a refusal is one reject line (reject.c) and its
 * reply, repeated per RCPT under LMTP.  Then every delivery, in the
 * order first asked for, which is RCPT order; each outcome is kept in
 * the recipients, and under LMTP and PRDR each RCPT is answered as soon
 * as all its deliveries, and every earlier one, have ended.  No reply
 * here counts towards --max-errors, so they go through chat.c alone;
 * a failed write marks the client gone (chat.gone), which ends the
 * session.  This module never sees the session, runs a command or
 * decides what an outcome says: outcome.c makes the replies, and 250
 * means every delivery command exited 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "finish.h"
#include "log.h"
#include "outcome.h"

/* flush - write every pending reply, so none waits behind what
 * follows; a failed write sets chat.gone, which ends the session */
static void
flush(const struct finish_job *f)
{
	(void)chat_flush(f->chat);
}

/* reply_outcome - a reply an outcome made; never counted as an error */
static void
reply_outcome(const struct finish_job *f, const struct outcome_reply *r)
{
	chat_reply(f->chat, 0, r->code, r->dsn, "%s", r->text);
}

/* reply_rcpt - RCPT i's own reply (LMTP, PRDR), from the outcome that
 * speaks for its deliveries; a duplicate gets its first's */
static void
reply_rcpt(const struct finish_job *f, size_t i)
{
	struct outcome o;
	struct outcome_reply r;
	struct address a;
	size_t speaker;

	recipients_verdict(f->rcpts, i, &speaker);
	recipients_outcome(f->rcpts, speaker, &o);
	recipients_address(f->rcpts, i, &a);
	outcome_rcpt_reply(&o, a.addr, f->queue_id, &r);
	reply_outcome(f, &r);
}

/* reply_summary - the one SMTP reply (PRDR's final one) over every
 * delivery: after --aliases, each target once; the failure that speaks
 * is named by the RCPT that asked for it */
static void
reply_summary(const struct finish_job *f)
{
	size_t speaker;
	size_t ok = recipients_verdict(f->rcpts, RECIPIENTS_ALL, &speaker);
	struct outcome o;
	struct outcome_reply r;
	struct address a;

	recipients_outcome(f->rcpts, speaker, &o);
	recipients_address(f->rcpts, recipients_target_rcpt(f->rcpts,
	    speaker), &a);
	outcome_summary_reply(ok, f->rcpts->nd, f->mode == FINISH_PRDR, &o,
	    a.addr, f->queue_id, &r);
	reply_outcome(f, &r);
}

/* The replying side of one message's deliveries: each outcome kept,
 * each RCPT's reply (LMTP, PRDR) sent once its deliveries have ended. */
struct told {
	const struct finish_job *f;
	size_t i;			/* the next RCPT to reply to */
};

/* told_target - delivery j's address, and the RCPT that first asked
 * for it */
static void
told_target(void *arg, size_t j, struct address *rcpt, struct address *orig)
{
	struct told *w = arg;

	recipients_target(w->f->rcpts, j, rcpt);
	recipients_address(w->f->rcpts,
	    recipients_target_rcpt(w->f->rcpts, j), orig);
}

/* reply_ended - under LMTP and PRDR, the reply of every RCPT whose
 * deliveries are all among the first ndone, in RCPT order */
static void
reply_ended(struct told *w, size_t ndone)
{
	const struct finish_job *f = w->f;

	while (f->mode != FINISH_ONE && w->i < f->rcpts->n &&
	    recipients_targets_end(f->rcpts, w->i) <= ndone) {
		reply_rcpt(f, w->i++);
		flush(f);
	}
}

/* told_done - delivery j ended so (j and every earlier one have): its
 * outcome kept, the replies it completes sent */
static void
told_done(void *arg, size_t j, const struct outcome *out)
{
	struct told *w = arg;

	if (recipients_set_outcome(w->f->rcpts, j, out) == -1)
		log_error("%s: out of memory: a failure reply loses its "
		    "text", w->f->queue_id);
	reply_ended(w, j + 1);
}

/* make_deliveries - every delivery of msg, in the order first asked
 * for, which is RCPT order, through the deliverer (under --jobs up to
 * that many at once, told in that order); under LMTP
 * and PRDR each RCPT's reply is sent as soon as all of its deliveries,
 * and every earlier one, have ended.  Whether the client got a 250. */
static enum finish_end
make_deliveries(const struct finish_job *f, const struct deliver_msg *msg)
{
	struct told w = { f, 0 };
	struct deliver_plan p = { f->rcpts->nd, told_target, told_done, &w };
	size_t ok, speaker;

	if (f->mode == FINISH_PRDR) {
		chat_reply(f->chat, 0, 353, NULL, "PRDR content analysis "
		    "beginning");
		flush(f);
	}
	reply_ended(&w, 0);
	f->del->deliver(f->del->ctx, f->cfg, msg, &p);
	reply_ended(&w, p.n);
	if (f->mode != FINISH_EACH)
		reply_summary(f);
	/* accepted: 250 for every delivery (SMTP), or for one (LMTP, PRDR) */
	ok = recipients_verdict(f->rcpts, RECIPIENTS_ALL, &speaker);
	if (ok > 0 && (f->mode != FINISH_ONE || ok == f->rcpts->nd))
		return FINISH_ACCEPTED;
	return FINISH_TRIED;
}

/* rcpt_list - the client's RCPTs, each once, one a line (RECIPIENTS),
 * heap; NULL when memory ran out */
static char *
rcpt_list(const struct recipients *l)
{
	size_t i, cap = 1, o = 0;
	struct address a;
	char *list;

	for (i = 0; i < l->n; i++) {
		recipients_address(l, i, &a);
		cap += strlen(a.addr) + 1;
	}
	if ((list = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		if (recipients_first(l, i) != i)
			continue;	/* a duplicate */
		recipients_address(l, i, &a);
		o += (size_t)snprintf(list + o, cap - o, "%s%s",
		    o > 0 ? "\n" : "", a.addr);
	}
	list[o] = '\0';
	return list;
}

/* check_reject_line - --data-check refused the message: its reject
 * line, once (to= when the transaction has one recipient) */
static void
check_reject_line(const struct finish_job *f, const struct outcome *out)
{
	struct outcome_reply r;
	struct reject_refusal rf = { REJECT_EOM, NULL, 0, 0, NULL, NULL };
	struct address only;

	outcome_check_reply(out, f->queue_id, &r);
	rf.code = r.code;
	rf.dsn = r.dsn;
	rf.text = r.text;
	if (f->rcpts->unique == 1) {
		recipients_address(f->rcpts, 0, &only);
		rf.rcpt = &only;
	}
	reject_line(f->where, &rf);
}

/* message_checked - --data-check on msg, through the deliverer: 1 to go
 * on to the deliveries (c->fields then holds what it adds), else 0 and
 * its refusal said: once, or once per RCPT under LMTP */
static int
message_checked(const struct finish_job *f, const struct deliver_msg *msg,
    struct deliver_check *c)
{
	struct outcome out;
	struct outcome_reply r;
	struct address a;
	char *rcpts;
	size_t i;

	if (f->cfg->data_check == NULL || f->del->check == NULL)
		return 1;
	outcome_init(&out);	/* unfilled: not passed */
	if ((rcpts = rcpt_list(f->rcpts)) != NULL) {
		c->rcpts = rcpts;
		c->nrcpt = f->rcpts->unique;
		f->del->check(f->del->ctx, f->cfg, msg, c, &out);
		free(rcpts);
	} else {
		log_error("%s: out of memory: --data-check not run",
		    f->queue_id);
	}
	if (out.cls == OUT_DELIVERED)
		return 1;
	check_reject_line(f, &out);
	for (i = 0; i < (f->mode == FINISH_EACH ? f->rcpts->n : 1); i++) {
		recipients_address(f->rcpts, i, &a);
		if (f->mode == FINISH_EACH)
			outcome_rcpt_reply(&out, a.addr, f->queue_id, &r);
		else
			outcome_check_reply(&out, f->queue_id, &r);
		reply_outcome(f, &r);
	}
	return 0;
}

/* finish_deliver - msg, whole and with no latched error, at its final
 * dot: from now the check and every delivery have
 * total_delivery_timeout (msg's deadline); --data-check passes it (its
 * fields go into msg for every copy) or refuses it, then every delivery
 * and its replies.  How it ended, for the session's counts. */
enum finish_end
finish_deliver(const struct finish_job *f, struct deliver_msg *msg)
{
	struct deliver_check c = { NULL, 0, NULL, 0 };
	enum finish_end e = FINISH_REFUSED;

	msg->start = deadline_now();
	msg->deadline = msg->start + (long long)f->cfg->total_delivery_timeout
	    * DEADLINE_SECOND;

	if (message_checked(f, msg, &c)) {
		msg->fields = c.fields;
		msg->fieldslen = c.fieldslen;
		e = make_deliveries(f, msg);
	}
	free(c.fields);
	return e;
}

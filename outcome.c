/*
 * outcome.c - outcomes, and the replies they make.
 *
 * Entry points: outcome_init() (how every outcome starts), and the
 * four reply makers: outcome_rcpt_reply() (one RCPT's reply, LMTP and
 * PRDR), outcome_summary_reply() (the one SMTP reply, PRDR's final
 * one), outcome_screen_reply() (an RCPT refused by --rcpt-check) and
 * outcome_check_reply() (a message refused by --data-check).
 * Each fills a struct outcome_reply; the session sends it.
 *
 * The promise lives here: 250 to the end of data only when every
 * delivery is OUT_DELIVERED.  This module never sends, logs or runs
 * anything, and never decides which delivery speaks for an RCPT.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "outcome.h"

/* outcome_init - how every outcome starts: a temporary failure, "not
 * delivered", no command run.  Only a delivery command that exited 0
 * makes it a delivery. */
void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->cls = OUT_TEMP;
	snprintf(o->dsn, sizeof(o->dsn), "4.3.0");
	snprintf(o->text, sizeof(o->text), "not delivered");
	o->status = OUTCOME_NOT_RUN;
}

/* set_reply - r's code and enhanced code; its text is the caller's */
static void
set_reply(struct outcome_reply *r, int code, const char *dsn)
{
	r->code = code;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
}

/* outcome_rcpt_reply - one RCPT's own reply (LMTP, PRDR) from the
 * outcome that speaks for it: 250 if delivered, else 451 for a
 * temporary failure, 550 for a permanent one */
void
outcome_rcpt_reply(const struct outcome *o, const char *rcpt,
    const char *queue_id, struct outcome_reply *r)
{
	if (o->cls == OUT_DELIVERED) {
		set_reply(r, 250, o->dsn);
		snprintf(r->text, sizeof(r->text), "<%s>: delivered, id=%s",
		    rcpt, queue_id);
		return;
	}
	set_reply(r, o->cls == OUT_TEMP ? 451 : 550, o->dsn);
	snprintf(r->text, sizeof(r->text), "<%s>: %s, id=%s", rcpt, o->text,
	    queue_id);
}

/* outcome_summary_reply - the one SMTP reply over all deliveries, ok of
 * all delivered: 250 only if every one was; else 451 if the speaker (the
 * first temporary failure, else the first permanent one), asked for by
 * rcpt, failed temporarily, else 554.  Under PRDR the per-recipient
 * replies have spoken, so 250 means "at least one delivered". */
void
outcome_summary_reply(size_t ok, size_t all, int prdr,
    const struct outcome *speaker, const char *rcpt, const char *queue_id,
    struct outcome_reply *r)
{
	if (ok == all || (prdr && ok > 0)) {
		set_reply(r, 250, "2.0.0");
		snprintf(r->text, sizeof(r->text), "Ok: delivered to %zu of "
		    "%zu recipients, id=%s", ok, all, queue_id);
		return;
	}
	set_reply(r, speaker->cls == OUT_TEMP ? 451 : 554, speaker->dsn);
	snprintf(r->text, sizeof(r->text), "<%s>: %s (delivered to %zu of "
	    "%zu recipients, id=%s)", rcpt, speaker->text, ok, all, queue_id);
}

/* outcome_check_reply - --data-check's refusal of the whole message, as
 * one reply (SMTP, PRDR): 554 for a permanent one, else 451, with its
 * code and text */
void
outcome_check_reply(const struct outcome *o, const char *queue_id,
    struct outcome_reply *r)
{
	set_reply(r, o->cls == OUT_PERM ? 554 : 451, o->dsn);
	snprintf(r->text, sizeof(r->text), "Message not accepted: %s, id=%s",
	    o->text, queue_id);
}

/* screen_later - --rcpt-check said "try later" (exit 75), whatever code
 * its own words gave: 450, mailbox unavailable for now, not 451 */
static int
screen_later(const struct outcome *o)
{
	return strcmp(o->dsn, "4.2.1") == 0 || (o->status >= 0 &&
	    WIFEXITED(o->status) && WEXITSTATUS(o->status) == EX_TEMPFAIL);
}

/* outcome_screen_reply - --rcpt-check's verdict on rcpt: code 0 when it
 * accepted; else 550 for a permanent refusal, 450 for 4.2.1 (mailbox
 * busy), 451 for any other temporary one.  rcpt NULL: the text without
 * its "<rcpt>: ", for a caller that writes the address itself. */
void
outcome_screen_reply(const struct outcome *o, const char *rcpt,
    struct outcome_reply *r)
{
	if (o->cls == OUT_DELIVERED) {
		set_reply(r, 0, "");
		r->text[0] = '\0';
		return;
	}
	set_reply(r, o->cls == OUT_PERM ? 550 : screen_later(o) ? 450 : 451,
	    o->dsn);
	snprintf(r->text, sizeof(r->text), "%s%s%sRecipient address "
	    "rejected%s%s", rcpt ? "<" : "", rcpt ? rcpt : "",
	    rcpt ? ">: " : "", o->text[0] ? ": " : "", o->text);
}

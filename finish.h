/*
 * finish.h - after the final dot: --data-check, the deliveries, and the
 * replies they make.
 *
 * finish_deliver() takes one whole, spooled message with no latched
 * error (struct finish_job: the configuration, the deliverer, the
 * client, the transaction's recipients and queue id, how the outcome is
 * reported), has --data-check pass it, runs every delivery through the
 * deliverer's deliver() (one after another, or up to --jobs at once)
 * and says the replies: one (SMTP), one per RCPT as soon as its
 * deliveries have ended (LMTP, PRDR, and PRDR's final one).  None of
 * these replies counts towards --max-errors, so they go to chat.h
 * directly.  It returns what the session counts: whether the message
 * was tried, and whether the client got a 250 for it.  It never sees
 * the session, and never decides what a delivery's outcome is: the
 * deliverer does, and outcome.c turns outcomes into replies.
 */
#ifndef PIPESMTPD_FINISH_H
#define PIPESMTPD_FINISH_H

#include "chat.h"
#include "config.h"
#include "deliver.h"
#include "deliverer.h"
#include "recipients.h"
#include "reject.h"

/* How the outcome of a message is reported. */
enum finish_mode {
	FINISH_ONE,		/* SMTP: one reply for the transaction */
	FINISH_EACH,		/* LMTP: one reply per recipient */
	FINISH_PRDR		/* PRDR: 353, one per recipient, a final one */
};

/* How a message ended, as the session counts it. */
enum finish_end {
	FINISH_REFUSED,		/* --data-check refused it: none tried */
	FINISH_TRIED,		/* delivered, and no 250 for it */
	FINISH_ACCEPTED		/* a 250 for every delivery (SMTP), or
				   for one RCPT (LMTP, PRDR) */
};

/* One message after its final dot, as the session hands it over. */
struct finish_job {
	const struct config *cfg;
	const struct session_deliverer *del;
	struct chat *chat;		/* the client, for the replies */
	struct recipients *rcpts;	/* the transaction's: each
					   delivery's outcome kept there */
	const char *queue_id;
	enum finish_mode mode;
	const struct reject_where *where;	/* --data-check's reject
						   line */
};

enum finish_end finish_deliver(const struct finish_job *f,
    struct deliver_msg *msg);

#endif

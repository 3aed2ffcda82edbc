/*
 * accept.h - a new RCPT to the transaction's deliveries, or its
 * refusal.
 *
 * accept_rcpt() takes one valid RCPT address the transaction does not
 * hold yet (struct accept_job: the configuration, the deliverer, the
 * client, the transaction's recipients and queue id, and its header
 * facts) and goes from it to its deliveries: its local
 * part (%u) looked up in --aliases, the RCPT added to the recipients
 * with one delivery per target, each target's account checked through
 * the deliverer's account() under --local-users and --as-recipient,
 * within the bound on deliveries; then --rcpt-check through the
 * deliverer's screen(), the pending replies flushed first so that none
 * waits for it.  It returns a verdict, never a reply: the session says
 * the reply, logs the reject line and counts the error.  A refused RCPT
 * leaves nothing behind in the recipients.  It never sees the session.
 */
#ifndef PIPESMTPD_ACCEPT_H
#define PIPESMTPD_ACCEPT_H

#include "address.h"
#include "chat.h"
#include "config.h"
#include "deliverer.h"
#include "outcome.h"
#include "received.h"
#include "recipients.h"

/* What became of the RCPT. */
enum accept_verdict {
	ACCEPT_OK,		/* accepted: in the recipients, with its
				   deliveries */
	ACCEPT_REFUSED,		/* refused with the reply accept_rcpt()
				   filled, whose text follows "<rcpt>: " */
	ACCEPT_NOSPACE,		/* out of memory */
	ACCEPT_TOO_MANY		/* more deliveries than one transaction
				   may hold */
};

/* One RCPT, as the session hands it over. */
struct accept_job {
	const struct config *cfg;
	const struct session_deliverer *del;
	struct chat *chat;		/* the client: flushed before
					   --rcpt-check */
	struct recipients *rcpts;	/* the transaction's */
	const char *queue_id;		/* for the warnings logged */
	const struct received_msg *facts;	/* the transaction's header
					   facts for --rcpt-check; their
					   recipients' part is filled
					   here (recipients_facts()) */
};

enum accept_verdict accept_rcpt(const struct accept_job *j,
    const struct address *rcpt, struct outcome_reply *no);

#endif

/*
 * deliverer.h - what the session asks of the local system about a
 * recipient: struct session_deliverer.
 *
 * Delivery, the account test, --rcpt-check and --data-check, as
 * function pointers: smtpd.c fills them with deliver.h's, jobs.h's,
 * checks.h's and account.h's functions, the tests with a stub.  It is
 * a header of its own, with no code, so that the session (session.h),
 * a new RCPT (accept.h) and the end of a message (finish.h) share it
 * while accept.c and finish.c stay below the session.
 */
#ifndef PIPESMTPD_DELIVERER_H
#define PIPESMTPD_DELIVERER_H

#include "config.h"
#include "deliver.h"

/* Everything the session asks of the local system about a recipient;
 * a member left NULL (but deliver) is a check not made. */
struct session_deliverer {
	/* every delivery p names (one at a time, or up to --jobs at
	 * once), each outcome told to p->done in order */
	void (*deliver)(void *ctx, const struct config *cfg,
	    const struct deliver_msg *msg, const struct deliver_plan *p);
	/* --local-users, --as-recipient: whether user is an account that
	 * may receive: 1, 0 (no such account) or -1 (the lookup failed,
	 * errno says why) */
	int (*account)(void *ctx, const struct config *cfg, const char *user);
	/* --rcpt-check on rcpt, in the transaction m describes */
	void (*screen)(void *ctx, const struct config *cfg,
	    const struct received_msg *m, const struct address *rcpt,
	    struct outcome *out);
	/* --data-check on the whole message, before any delivery: c
	 * names the recipients and gets the header fields it adds */
	void (*check)(void *ctx, const struct config *cfg,
	    const struct deliver_msg *msg, struct deliver_check *c,
	    struct outcome *out);
	void *ctx;
};

#endif

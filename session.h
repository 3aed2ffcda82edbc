/*
 * session.h - one SMTP or LMTP session over injectable I/O.
 *
 * session_run() speaks the protocol until QUIT, EOF, a timeout or a
 * limit: dispatch, the transaction, DATA and BDAT intake, STARTTLS.  It
 * talks to the client through chat.h over a struct chat_io (fdio.h
 * gives the real one; tests script one), and asks the local system
 * about recipients only through a struct session_deliverer: delivery,
 * the account test, --rcpt-check and --data-check (smtpd.c gives the real one, over
 * deliver.h and account.h).  So the session never polls a descriptor,
 * runs a command or looks an account up, and the protocol can be tested
 * without a socket or a process.
 */
#ifndef PIPESMTPD_SESSION_H
#define PIPESMTPD_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "chat.h"
#include "config.h"
#include "deliver.h"
#include "tls.h"

/* Everything the session asks of the local system about a recipient;
 * a member left NULL (but deliver) is a check not made. */
struct session_deliverer {
	/* deliver to rcpt, which orig (the client's RCPT) asked for */
	void (*deliver)(void *ctx, const struct config *cfg,
	    const struct deliver_msg *msg, const struct address *rcpt,
	    const struct address *orig, struct outcome *out);
	/* --jobs above 1: every delivery p names, told to p->done in
	 * order; NULL: deliver for each in turn */
	void (*deliver_all)(void *ctx, const struct config *cfg,
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

int session_run(const struct config *cfg, const struct chat_io *io,
    const struct session_deliverer *d);

#endif

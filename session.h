/*
 * session.h - one SMTP or LMTP session over injectable I/O.
 *
 * session_run() speaks the protocol until QUIT, EOF, a timeout or a
 * limit: dispatch, the transaction, a new RCPT's deliveries (through
 * accept.h), DATA and BDAT (through intake.h), the end of a message
 * (through finish.h), STARTTLS.  It talks to the client through chat.h
 * over a struct chat_io (fdio.h gives the real one; tests script one),
 * and asks the local system about recipients only through a struct
 * session_deliverer (deliverer.h), which it hands to accept.h and
 * finish.h: delivery, the account test, --rcpt-check and --data-check
 * (smtpd.c gives the real one, over jobs.h, account.h and checks.h).
 * So the session never polls a descriptor, runs a command or looks an
 * account up, and the protocol can be tested without a socket or a
 * process.
 */
#ifndef PIPESMTPD_SESSION_H
#define PIPESMTPD_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "chat.h"
#include "config.h"
#include "deliverer.h"

int session_run(const struct config *cfg, const struct chat_io *io,
    const struct session_deliverer *d);

#endif

/*
 * session.h - one SMTP or LMTP session over injectable I/O.
 *
 * session_run() speaks the protocol until QUIT, EOF, a timeout or a limit.
 * It reads through io->read and writes through io->write, so tests can
 * script a dialogue; deliveries go through a deliverer whose default is
 * deliver_one(), so the protocol can be tested without running commands.
 */
#ifndef PIPESMTPD_SESSION_H
#define PIPESMTPD_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "deliver.h"

#define SESSION_IO_TIMEOUT	(-2)	/* io->read: nothing in time */

struct session_io {
	/* >0 octets read, 0 EOF, -1 error, SESSION_IO_TIMEOUT */
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout_ms);
	/* octets written (may be short), -1 error */
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
};

struct session_deliverer {
	void (*deliver)(void *ctx, const struct config *cfg,
	    const struct deliver_msg *msg, const struct address *rcpt,
	    struct deliver_outcome *out);
	void (*rcpt_check)(void *ctx, const struct config *cfg,
	    const struct deliver_vars *v, struct deliver_outcome *out);
	void *ctx;
};

int session_run(const struct config *cfg, const struct session_io *io,
    const struct session_deliverer *d);
/* Descriptors for session_fd_io(): the launcher's socket or pipes. */
struct session_fds {
	int in;			/* read side, normally 0 */
	int out;		/* write side, normally 1 */
	int write_ms;		/* longest wait for the client to read */
	/* the I/O functions' own state, cleared by session_fd_io() */
	size_t last_read;	/* octets the previous read returned */
	int in_notsock;		/* in is no socket: never recv on it */
	int out_notsock;	/* out is no socket: never send on it */
};

void session_fd_io(struct session_io *io, struct session_fds *f);
void session_default_deliverer(struct session_deliverer *d);

#endif

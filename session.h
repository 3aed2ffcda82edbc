/*
 * session.h - one SMTP or LMTP session over injectable I/O.
 *
 * session_run() speaks the protocol until QUIT, EOF, a timeout or a limit.
 * It reads through io->read and writes through io->write, so tests can
 * script a dialogue (fdio.h gives the real ones, on the launcher's
 * descriptors); deliveries go through a deliverer, deliver_one() in the
 * program, so the protocol can be tested without running commands.
 */
#ifndef PIPESMTPD_SESSION_H
#define PIPESMTPD_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "deliver.h"
#include "tls.h"

#define SESSION_IO_TIMEOUT	(-2)	/* io->read: nothing in time */

struct session_io {
	/* >0 octets read, 0 EOF, -1 error, SESSION_IO_TIMEOUT */
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout_ms);
	/* octets written (may be short), -1 error */
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
	/* NULL when STARTTLS cannot work; else start TLS: 0 with info's
	 * names, and read and write then carry the TLS stream; -1 with
	 * info->engine_status, and the session must end */
	int (*starttls)(void *ctx, int timeout_ms, struct tls_info *info);
	void *ctx;
};

struct session_deliverer {
	/* deliver to rcpt, which orig (the client's RCPT) asked for */
	void (*deliver)(void *ctx, const struct config *cfg,
	    const struct deliver_msg *msg, const struct address *rcpt,
	    const struct address *orig, struct deliver_outcome *out);
	void (*rcpt_check)(void *ctx, const struct config *cfg,
	    const struct deliver_vars *v, struct deliver_outcome *out);
	void *ctx;
};

int session_run(const struct config *cfg, const struct session_io *io,
    const struct session_deliverer *d);

#endif

/*
 * fdio.h - the session's transport: reads and writes on the launcher's
 * descriptors (a socket, pipes, or a file on stdin).
 *
 * fdio_init() fills a struct chat_io whose read waits for the client
 * at most the timeout the session passes, and whose write waits for the
 * client to read at most write_ms.  With tls set, it also offers
 * STARTTLS: after the handshake, in and out become the engine's.  The
 * protocol in session.c only ever sees that interface; this module only
 * ever moves octets.
 */
#ifndef PIPESMTPD_FDIO_H
#define PIPESMTPD_FDIO_H

#include <stddef.h>

struct chat_io;
struct tls_launcher;

/* The launcher's descriptors, and what the I/O functions learnt of them. */
struct fdio {
	int in;			/* read side, normally 0 */
	int out;		/* write side, normally 1 */
	int write_ms;		/* longest wait for the client to read */
	struct tls_launcher *tls;	/* UCSPI-TLS descriptors, or NULL */
	/* the I/O functions' own state, cleared by fdio_init() */
	size_t last_read;	/* octets the previous read returned */
	int in_notsock;		/* in is no socket: never recv on it */
	int out_notsock;	/* out is no socket: never send on it */
};

void fdio_init(struct chat_io *io, struct fdio *f);

#endif

/*
 * intake.h - the message as it comes in: DATA and BDAT into the spool.
 *
 * A struct intake is one message's spool and what is latched while it
 * streams in.  intake_open() creates the spool and, unless
 * --delivered-to makes them differ per recipient, writes the added
 * headers ahead of the message; intake_data() reads DATA to its final
 * dot, intake_chunk() one BDAT chunk (or throws one away), and
 * intake_end() makes the checks on the whole message (--max-hops,
 * --authserv-id).  An error is latched in err, the first one wins, and
 * the reader goes on to the end, so the session replies once and stays
 * in step.  This module never replies: which reply an error gets is the
 * session's choice.  It never sees the session or the transaction
 * either: it is given the client (struct chat), the configuration and
 * the facts its lines and headers need.
 */
#ifndef PIPESMTPD_INTAKE_H
#define PIPESMTPD_INTAKE_H

#include "address.h"
#include "chat.h"
#include "config.h"
#include "data.h"
#include "received.h"
#include "spool.h"

/* Message errors latched while the data streams in. */
enum intake_err {
	INTAKE_OK,
	INTAKE_ERR_SIZE,	/* over --max-size */
	INTAKE_ERR_NEWLINE,	/* bare CR or LF, --strict-newlines */
	INTAKE_ERR_HOPS,	/* over --max-hops */
	INTAKE_ERR_NOSPACE,	/* the spool's file system is full */
	INTAKE_ERR_SPOOL	/* any other spool failure */
};

/* One message coming in. */
struct intake {
	struct spool spool;
	unsigned long long body_off;	/* spool octets before the message */
	enum intake_err err;		/* the first error, latched */
	int bdat;			/* BDAT chunks are arriving */
	struct data_machine chunks;	/* BDAT: line ends across chunks */
	unsigned long long bdat_size;	/* BDAT octets received */
};

void intake_init(struct intake *in);
void intake_close(struct intake *in);
enum intake_err intake_open(struct intake *in, const struct config *cfg,
    const struct received_msg *m, const struct address *first);
enum chat_read intake_data(struct intake *in, struct chat *c,
    const struct config *cfg);
int intake_bdat_args(const char *arg, unsigned long long *n, int *last);
void intake_bdat_begin(struct intake *in, const struct config *cfg);
enum chat_read intake_chunk(struct intake *in, struct chat *c,
    const struct config *cfg, unsigned long long n);
void intake_chunk_last(struct intake *in, const struct config *cfg);
void intake_end(struct intake *in, const struct config *cfg,
    const char *queue_id);

#endif

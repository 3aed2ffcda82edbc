/*
 * deliver.h - delivery of one spooled message to one recipient.
 *
 * deliver_one() delivers to rcpt (an --aliases target, or the address
 * the client gave: orig) and expands the argv template, builds a clean environment,
 * has run.h's runner start the command (fork/exec, never a shell) with
 * the per-recipient headers and the spool on its stdin, and maps how it
 * ended to an outcome through the exit table.  deliver_rcpt_check() does
 * the same for the --rcpt-check command, deliver_data_check() for the
 * --data-check command, once per message, whose standard output becomes
 * header fields added to every copy.  It never writes to the SMTP
 * client: the session turns outcomes into replies.
 */
#ifndef PIPESMTPD_DELIVER_H
#define PIPESMTPD_DELIVER_H

#include <stddef.h>
#include <sys/types.h>

#include "address.h"
#include "config.h"
#include "outcome.h"
#include "received.h"

struct run_end;		/* run.h: how a run of a command ended */

/* One spooled message, as every recipient's delivery sees it. */
struct deliver_msg {
	int spool_fd;			/* unlinked spool, read with pread */
	unsigned long long spool_len;	/* octets in the spool */
	unsigned long long body_off;	/* >0: the spool starts with the
					   added headers, shared by every
					   recipient; the message follows */
	struct received_msg head;	/* sender, HELO, queue id...: what
					   the added headers say */
	const char *fields;		/* --data-check's header fields, for
					   right after Received: in every
					   copy; fieldslen octets */
	size_t fieldslen;
	long long start;		/* deadline_now() at the final dot */
	long long deadline;		/* the end of all, deadline.h */
};

/* The deliveries of one message, as deliver_all() asks about them. */
struct deliver_plan {
	size_t n;		/* deliveries, numbered from 0 */
	/* delivery j goes to rcpt, which orig (the client's RCPT) asked
	 * for */
	void (*target)(void *arg, size_t j, struct address *rcpt,
	    struct address *orig);
	/* delivery j ended so: told in order, as soon as j and every
	 * earlier one have ended */
	void (*done)(void *arg, size_t j, const struct outcome *out);
	void *arg;
};

/* What --data-check is given, and what it gives back. */
struct deliver_check {
	const char *rcpts;	/* RECIPIENTS: the client's RCPTs, each once,
				   one a line */
	size_t nrcpt;		/* RECIPIENT_COUNT */
	char *fields;		/* the header fields it added, with the
				   delivered line ends (heap), or NULL */
	size_t fieldslen;
};

void deliver_one(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig,
    struct outcome *out);
void deliver_all(const struct config *cfg, const struct deliver_msg *msg,
    const struct deliver_plan *p);
void deliver_rcpt_check(const struct config *cfg,
    const struct received_msg *m, const struct address *rcpt,
    struct outcome *out);
void deliver_data_check(const struct config *cfg,
    const struct deliver_msg *msg, struct deliver_check *c,
    struct outcome *out);
void deliver_map_check(const struct run_end *e, const char *output,
    size_t len, struct outcome *out);

#endif

/*
 * deliver.h - delivery of one spooled message to one recipient.
 *
 * deliver_one() delivers to rcpt (an --aliases target, or the address
 * the client gave: orig): it decides whether the command may run (a
 * loop, the account, the deadline), builds it with command.h (argv
 * expanded word by word, a clean environment), has run.h's runner
 * start it (fork/exec, never a shell) with the per-recipient headers
 * and the spool on its stdin (deliver_input()), maps how it ended to an
 * outcome and logs the delivery line.  deliver_begin(), deliver_end()
 * and deliver_line() are its three steps, for jobs.c to run several at
 * once.  It never writes to the SMTP client: the session turns
 * outcomes into replies.  deliverer.h (the session's side) includes
 * this header for the types it passes (struct deliver_msg,
 * deliver_plan, deliver_check: the last is checks.c's --data-check).
 */
#ifndef PIPESMTPD_DELIVER_H
#define PIPESMTPD_DELIVER_H

#include <stddef.h>
#include <sys/types.h>

#include "address.h"
#include "config.h"
#include "outcome.h"
#include "received.h"

struct run;		/* run.h: one command run */
struct deliver_held;	/* deliver.c: what a running delivery holds */

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

/* The deliveries of one message, as jobs_deliver() asks about them. */
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

/* One delivery under way, from deliver_begin() to deliver_end(): what
 * its command needs while it runs. */
struct deliver_job {
	struct address rcpt, orig;	/* to whom, for whom */
	char *head;			/* its added headers, heap */
	int hlen;			/* their length, 0, or -1 */
	struct run *r;			/* its run (run.h), inside held */
	struct deliver_held *held;	/* deliver.c's: the run, the
					   account, argv (heap) */
	struct outcome out;		/* how it ended, or why not run */
	int running;			/* started, not yet ended */
};

void deliver_one(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig,
    struct outcome *out);
void deliver_begin(const struct config *cfg, const struct deliver_msg *msg,
    struct deliver_job *d);
unsigned long long deliver_end(const struct deliver_msg *msg,
    struct deliver_job *d);
void deliver_line(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig,
    unsigned long long size, long long end, const struct outcome *out);
void deliver_input(const struct config *cfg, struct run *r,
    const struct deliver_msg *msg, const char *head, int hlen);

#endif

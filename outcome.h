/*
 * outcome.h - how a delivery, a check or any command ended, and the
 * reply lines outcomes make.
 *
 * Every outcome starts as outcome_init()'s temporary failure; only a
 * command seen to exit 0 makes one OUT_DELIVERED: outcome_from_status()
 * maps a wait status through the exit table (and --rcpt-check's verdict
 * is made on top of it).  The command's first output line, sanitised
 * (outcome_sanitise()), may give the text and its own RFC 3463 code
 * (outcome_own_words()).
 * outcome_rcpt_reply(), outcome_summary_reply(), outcome_screen_reply()
 * and outcome_check_reply() turn outcomes into the code, enhanced code
 * and text of a reply: pure functions, the one place where "250 only if
 * every delivery command exited 0" is decided.  This module never
 * sends a reply, runs a command or knows which delivery speaks for an
 * RCPT (recipients_verdict() does).
 */
#ifndef PIPESMTPD_OUTCOME_H
#define PIPESMTPD_OUTCOME_H

#include <stddef.h>

/* How a delivery ended.  The zero value is a temporary failure, so an
 * outcome that no code path filled in never reads as delivered. */
enum outcome_class {
	OUT_TEMP,		/* try again later: 4xx */
	OUT_PERM,		/* refused for good: 5xx */
	OUT_DELIVERED		/* the command exited 0: 2xx */
};

#define OUTCOME_TEXT_MAX	200	/* command text kept for replies */
#define OUTCOME_DSN_MAX		16	/* an RFC 3463 code and its NUL */
#define OUTCOME_REPLY_MAX	1024	/* a reply's text */

struct outcome {
	enum outcome_class cls;
	char dsn[OUTCOME_DSN_MAX];	/* RFC 3463 code, "4.3.0" */
	char text[OUTCOME_TEXT_MAX + 1];	/* sanitised, may be empty */
	int status;			/* wait status; OUTCOME_NOT_RUN,
					   OUTCOME_UNSEEN: none */
};

#define OUTCOME_NOT_RUN	(-1)	/* the command never started */
#define OUTCOME_UNSEEN	(-2)	/* it ran; how it ended is unknown */

/* A reply's parts, for the session's reply helper. */
struct outcome_reply {
	int code;			/* 0: no reply, accepted */
	char dsn[OUTCOME_DSN_MAX];
	char text[OUTCOME_REPLY_MAX];
};

void outcome_init(struct outcome *o);
void outcome_set(struct outcome *out, enum outcome_class cls,
    const char *dsn, const char *text);
size_t outcome_sanitise(const char *in, size_t len, char *out, size_t cap);
void outcome_own_words(struct outcome *out, const char *output,
    size_t len);
void outcome_from_status(int status, const char *output, size_t len,
    const char *what, struct outcome *out);
void outcome_how(const struct outcome *out, char *how, size_t cap);
void outcome_rcpt_reply(const struct outcome *o, const char *rcpt,
    const char *queue_id, struct outcome_reply *r);
void outcome_summary_reply(size_t ok, size_t all, int prdr,
    const struct outcome *speaker, const char *rcpt, const char *queue_id,
    struct outcome_reply *r);
void outcome_screen_reply(const struct outcome *o, const char *rcpt,
    struct outcome_reply *r);
void outcome_check_reply(const struct outcome *o, const char *queue_id,
    struct outcome_reply *r);

#endif

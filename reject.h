/*
 * reject.h - the reject line: one refusal of an address or a message,
 * logged in Postfix's shape (pipesmtpd(8), LOGGING).
 *
 * reject_line() writes the line from plain facts: where the session
 * stands (struct reject_where: the client, its HELO name, the protocol,
 * the open transaction's queue id and sender) and what was refused
 * (struct reject_refusal: the stage, the RCPT it names, the reply's
 * parts); every client value escaped.  reject_proto() names the
 * protocol as the line does.  reject_say() is a refusal said: its line
 * and its reply, through chat.h.  The stock replies (reject_stock()),
 * every message error's among them (reject_intake()), are here, once.
 * This module never counts an error or decides what is refused: the
 * session does.
 */
#ifndef PIPESMTPD_REJECT_H
#define PIPESMTPD_REJECT_H

#include "address.h"
#include "chat.h"
#include "intake.h"

/* Replies said in more than one place, and every message error's. */
enum reject_stock {
	STOCK_NOSPACE,		/* out of disk or memory */
	STOCK_LOCAL,		/* any other local failure */
	STOCK_SIZE,		/* over --max-size */
	STOCK_NEWLINE,		/* bare CR or LF, --strict-newlines */
	STOCK_HOPS,		/* over --max-hops */
	STOCK_UTF8,		/* a UTF-8 address without SMTPUTF8 */
	STOCK_RCPTS,		/* over --max-rcpt */
	STOCK_TIMEOUT,		/* --timeout or --session-timeout */
	STOCK_NEED_TLS		/* --require-tls, before STARTTLS */
};

/* A stock reply: code, enhanced code, text, and whether the text follows
 * the hostname. */
struct reject_stock_reply {
	int code;
	const char *dsn;
	const char *text;
	int host;
};

/* What a refusal answers, as its reject line names it (Postfix's). */
enum reject_stage {
	REJECT_MAIL,		/* MAIL */
	REJECT_RCPT,		/* RCPT */
	REJECT_DATA,		/* the DATA command itself */
	REJECT_BDAT,		/* a BDAT chunk before the last */
	REJECT_EOM		/* the whole message: after its end */
};

/* A refusal: its reply's parts, and what its reject line says. */
struct reject_refusal {
	enum reject_stage at;
	const struct address *rcpt;	/* to=<...>; NULL: none */
	int named;		/* the text follows "<rcpt>: " */
	int code;
	const char *dsn;
	const char *text;
};

/* Where the session stands when it refuses. */
struct reject_where {
	const char *client_host;	/* HOST[IP]: checked at start-up */
	const char *client_ip;
	const char *helo;		/* the client's HELO name, or "" */
	const char *proto;		/* reject_proto()'s */
	const char *queue_id;		/* the open transaction's, or NULL */
	const struct address *sender;	/* its sender (from=), or NULL */
};

const char *reject_proto(int lmtp, int ehlo);
void reject_line(const struct reject_where *w,
    const struct reject_refusal *r);
void reject_say(struct chat *c, const struct reject_where *w,
    const struct reject_refusal *r, size_t times);
const struct reject_stock_reply *reject_stock(enum reject_stock k);
enum reject_stock reject_intake(enum intake_err err);

#endif

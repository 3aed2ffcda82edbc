/*
 * reject.h - the reject line: one refusal of an address or a message,
 * logged in Postfix's shape (pipesmtpd(8), LOGGING).
 *
 * reject_line() writes the line from plain facts: where the session
 * stands (struct reject_where: the client, its HELO name, the protocol,
 * the open transaction's queue id and sender) and what was refused
 * (struct reject_refusal: the stage, the RCPT it names, the reply's
 * parts); every client value escaped.  reject_proto() names the
 * protocol as the line does.  This module never sends a reply, counts
 * an error or decides what is refused: the session does, and says the
 * reply itself.
 */
#ifndef PIPESMTPD_REJECT_H
#define PIPESMTPD_REJECT_H

#include "address.h"

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

#endif

/*
 * envelope.h - the guards of HELO, MAIL and RCPT: is this argument one
 * the session may accept?
 *
 * envelope_helo(), envelope_mail() and envelope_rcpt() look at a
 * command's argument (and the few facts of the session they need: did
 * it say EHLO, is the sender's SMTPUTF8 set, how many RCPTs so far) and
 * return a verdict; envelope_reply() gives a refusal's code, enhanced
 * code and text, envelope_logged() whether it refuses the address
 * itself (a reject line in the log) rather than the command's syntax.
 * envelope_ehlo() lists what the EHLO reply offers, the extensions
 * whose MAIL parameters envelope_mail() then accepts.  They never
 * reply, count, log or look anything up: the session acts on the
 * verdict.
 */
#ifndef PIPESMTPD_ENVELOPE_H
#define PIPESMTPD_ENVELOPE_H

#include <stddef.h>

#include "address.h"
#include "config.h"

#define ENVELOPE_HELO_MAX	255	/* longest HELO name accepted */

enum envelope_verdict {
	ENV_OK,
	ENV_HELO_SYNTAX,	/* HELO without a usable name */
	ENV_EHLO_SYNTAX,	/* EHLO ... */
	ENV_LHLO_SYNTAX,	/* LHLO ... */
	ENV_MAIL_SYNTAX,	/* no FROM: */
	ENV_SENDER_SYNTAX,	/* the path does not parse */
	ENV_NEED_EHLO,		/* MAIL parameters after a plain HELO */
	ENV_SIZE_VALUE,		/* SIZE= is not a number */
	ENV_SIZE_LIMIT,		/* SIZE= over --max-size: the session's
				   stock reply */
	ENV_BODY_BINARY,	/* BODY=BINARYMIME */
	ENV_BODY_VALUE,		/* any other BODY= we do not know */
	ENV_PRDR_LMTP,		/* PRDR under LMTP */
	ENV_MAIL_PARAM,		/* any other MAIL parameter */
	ENV_UTF8,		/* a UTF-8 address without SMTPUTF8: the
				   session's stock reply */
	ENV_SENDER_DASH,	/* a sender that would read as an option */
	ENV_RCPT_SYNTAX,	/* no TO: */
	ENV_RCPT_LENGTH,	/* the path is too long */
	ENV_RCPT_BAD,		/* the path does not parse */
	ENV_RCPT_PARAM,		/* any RCPT parameter */
	ENV_RCPTS_MAX,		/* --max-rcpt reached: the session's */
	ENV_RELAY,		/* not one of our domains */
	ENV_UNSAFE		/* address_unsafe() */
};

/* What MAIL asked for, once accepted. */
struct envelope_mail {
	struct address sender;
	int smtputf8;		/* SMTPUTF8 */
	int prdr;		/* PRDR */
};

/* The EHLO (LHLO) reply's lines: the hostname, then each extension. */
#define ENVELOPE_EHLO_MAX	10
struct envelope_ehlo {
	const char *line[ENVELOPE_EHLO_MAX];
	size_t n;
	char size[32];		/* "SIZE n", line[] points here */
	char limits[32];	/* "LIMITS RCPTMAX=n" */
};

/* A refusal's reply; addr: the text follows "<address>: ". */
struct envelope_reply {
	int code;
	const char *dsn;
	const char *text;
	int addr;
};

enum envelope_verdict envelope_helo(const char *arg, int ehlo, int lmtp);
enum envelope_verdict envelope_mail(const struct config *cfg, int ehlo,
    char *arg, struct envelope_mail *m);
enum envelope_verdict envelope_rcpt(const struct config *cfg, int smtputf8,
    size_t nrcpt, char *arg, struct address *a);
const struct envelope_reply *envelope_reply(enum envelope_verdict v);
int envelope_logged(enum envelope_verdict v);
void envelope_ehlo(const struct config *cfg, int starttls,
    struct envelope_ehlo *e);

#endif

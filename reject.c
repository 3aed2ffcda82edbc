/*
 * reject.c - the reject line of a refusal, in Postfix's shape.
 *
 * Entry points: reject_line(), reject_say(), reject_proto(), and the
 * stock replies: reject_stock(), reject_intake().  Every refusal of an
 * address or a message is logged here, once, so the line's shape (a
 * contract with log watchers such as examples/fail2ban) is written in
 * one place; the session's syntax and sequence errors are not
 * refusals and are not logged.  Every value a client chose (addresses,
 * the HELO name, a reply text that may quote a command's output) is
 * escaped on its way in.  This module never counts an error (whether
 * one counts is the session's to say) and never sees the session: it
 * is given the facts and the client (chat.c).
 */
#include <stdio.h>

#include "envelope.h"
#include "log.h"
#include "outcome.h"
#include "received.h"
#include "reject.h"

/* The stock replies.  Whether one counts towards --max-errors is up to
 * the place that says it, as for any reply. */
static const struct reject_stock_reply stock[] = {
	[STOCK_NOSPACE] =
	    { 452, "4.3.1", "Insufficient system storage", 0 },
	[STOCK_LOCAL] =
	    { 451, "4.3.0", "Local error in processing", 0 },
	[STOCK_SIZE] =
	    { 552, "5.3.4", "Message size exceeds fixed limit", 0 },
	[STOCK_NEWLINE] =
	    { 554, "5.6.0", "Message contains bare CR or bare LF", 0 },
	[STOCK_HOPS] =
	    { 554, "5.4.6", "Too many hops: mail loop?", 0 },
	[STOCK_UTF8] =
	    { 553, "5.6.7", "Non-ASCII addresses need SMTPUTF8", 0 },
	[STOCK_RCPTS] =
	    { 452, "4.5.3", "Too many recipients", 0 },
	[STOCK_TIMEOUT] =
	    { 421, "4.4.2", "Error: timeout exceeded", 1 },
	[STOCK_NEED_TLS] =
	    { 530, "5.7.0", "Must issue a STARTTLS command first", 0 }
};

/* reject_stock - stock reply k */
const struct reject_stock_reply *
reject_stock(enum reject_stock k)
{
	return &stock[k];
}

/* reject_intake - the stock reply to message error err (intake.h);
 * INTAKE_OK has none, and gets the local error's were it ever asked */
enum reject_stock
reject_intake(enum intake_err err)
{
	static const enum reject_stock reply[] = {
		[INTAKE_OK] = STOCK_LOCAL,
		[INTAKE_ERR_SIZE] = STOCK_SIZE,
		[INTAKE_ERR_NEWLINE] = STOCK_NEWLINE,
		[INTAKE_ERR_HOPS] = STOCK_HOPS,
		[INTAKE_ERR_NOSPACE] = STOCK_NOSPACE,
		[INTAKE_ERR_SPOOL] = STOCK_LOCAL
	};

	return reply[err];
}

/* reject_proto - the reject line's proto=: LMTP, ESMTP after EHLO, else
 * SMTP (as Postfix names them) */
const char *
reject_proto(int lmtp, int ehlo)
{
	if (lmtp)
		return "LMTP";
	return ehlo ? "ESMTP" : "SMTP";
}

/* reject_line - refusal r's log line, where w says: "QUEUEID: reject:
 * RCPT from HOST[IP]: CODE DSN <rcpt>: TEXT; from=<...> to=<...>
 * proto=ESMTP helo=<...>".  The queue id is the open transaction's,
 * NOQUEUE for a refused MAIL or outside one; from= while a transaction
 * is open, to= when r names a recipient, helo= once the client said
 * one; every client value escaped. */
void
reject_line(const struct reject_where *w, const struct reject_refusal *r)
{
	static const char *const stage[] = {
		[REJECT_MAIL] = "MAIL", [REJECT_RCPT] = "RCPT",
		[REJECT_DATA] = "DATA", [REJECT_BDAT] = "BDAT",
		[REJECT_EOM] = "END-OF-MESSAGE"
	};
	char path[RECEIVED_LOGGED_MAX], named[RECEIVED_LOGGED_MAX + 4];
	char from[RECEIVED_LOGGED_MAX + 8], to[RECEIVED_LOGGED_MAX + 8];
	char name[4 * ENVELOPE_HELO_MAX + 4], helo[4 * ENVELOPE_HELO_MAX + 12];
	char text[4 * OUTCOME_REPLY_MAX];

	named[0] = from[0] = to[0] = helo[0] = '\0';
	if (r->rcpt != NULL) {
		received_logged_path(r->rcpt, path, sizeof(path));
		snprintf(to, sizeof(to), " to=<%s>", path);
		if (r->named)
			snprintf(named, sizeof(named), "<%s>: ", path);
	}
	if (w->sender != NULL)
		snprintf(from, sizeof(from), " from=<%s>",
		    received_logged_path(w->sender, path, sizeof(path)));
	if (w->helo[0] != '\0')
		snprintf(helo, sizeof(helo), " helo=<%s>",
		    log_escape(w->helo, name, sizeof(name)));
	log_info("%s: reject: %s from %s[%s]: %d %s %s%s;%s%s proto=%s%s",
	    w->queue_id != NULL && r->at != REJECT_MAIL ? w->queue_id :
	    "NOQUEUE", stage[r->at], w->client_host, w->client_ip, r->code,
	    r->dsn, named, log_escape(r->text, text, sizeof(text)), from, to,
	    w->proto, helo);
}

/* reject_say - refusal r: its reject line where w says (NULL: none, for
 * a refusal that is not logged), then its reply times times (under LMTP
 * a message's refusal is repeated per RCPT: RFC 2033 4.2) */
void
reject_say(struct chat *c, const struct reject_where *w,
    const struct reject_refusal *r, size_t times)
{
	size_t i;

	if (w != NULL)
		reject_line(w, r);
	for (i = 0; i < times; i++) {
		if (r->named)
			chat_reply(c, 0, r->code, r->dsn, "<%s>: %s",
			    r->rcpt->addr, r->text);
		else
			chat_reply(c, 0, r->code, r->dsn, "%s", r->text);
	}
}

/*
 * reject.c - the reject line of a refusal, in Postfix's shape.
 *
 * Entry points: reject_line(), reject_proto().  Every refusal of an
 * address or a message is logged here, once, so the line's shape (a
 * contract with log watchers such as examples/fail2ban) is written in
 * one place; the session's syntax and sequence errors are not
 * refusals and are not logged.  Every value a client chose (addresses,
 * the HELO name, a reply text that may quote a command's output) is
 * escaped on its way in.  This module never sends a reply and never
 * sees the session: it is given the facts.
 */
#include <stdio.h>

#include "envelope.h"
#include "log.h"
#include "outcome.h"
#include "received.h"
#include "reject.h"

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

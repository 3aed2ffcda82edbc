/*
 * received.c - Return-Path, Delivered-To and Received for one recipient.
 *
 * Entry points: received_headers() (the added block), received_path()
 * (an address as RFC 5321 writes it), received_with() (the Received
 * line's protocol name) and received_fields() (the header fields
 * --data-check adds after them, checked).  Every value that came from
 * the client is made safe for a header first: addresses are quoted where RFC
 * 5321 needs it, and the HELO name loses anything that could end a line
 * or start a header of its own.  The block is built whole or not at all
 * (-1 when it does not fit).  This module never writes to a file or to
 * the client, and never decides where the block goes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "received.h"

#define HELO_TEXT_MAX	1024	/* the HELO name as Received shows it */

/* is_dot_string - whether a local part can be written without quotes */
static int
is_dot_string(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '.')
		return 0;
	for (p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '.' && (p[1] == '.' || p[1] == '\0'))
			return 0;
		if (ch <= 32 || ch == 127 || strchr("\"(),:;<>@[\\]", ch))
			return 0;
	}
	return 1;
}

/* received_path - an address as RFC 5321 writes it, quoted where needed */
void
received_path(const struct address *a, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	if (a->null || is_dot_string(a->local)) {
		snprintf(out, cap, "%s", a->addr);
		return;
	}
	out[o++] = '"';
	for (p = a->local; *p != '\0' && o + 4 < cap; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o] = '\0';
	snprintf(out + o, cap - o, "\"%s%s", a->domain[0] ? "@" : "",
	    a->domain);
}

/* received_logged_path - an address as a log line shows it: quoted where
 * RFC 5321 needs it, then escaped (log_escape()); out holds 4 octets per
 * octet of a RECEIVED_PATH_MAX path */
const char *
received_logged_path(const struct address *a, char *out, size_t cap)
{
	char path[RECEIVED_PATH_MAX];

	received_path(a, path, sizeof(path));
	return log_escape(path, out, cap);
}

/* clean_helo - the HELO text with nothing that could end a header line */
static void
clean_helo(const char *helo, char *out, size_t cap)
{
	size_t o = 0;

	for (; *helo != '\0' && o + 1 < cap; helo++) {
		unsigned char ch = (unsigned char)*helo;

		out[o++] = (ch > 32 && ch < 127) ? (char)ch : '?';
	}
	out[o] = '\0';
}

/* received_with - the Received "with" protocol name (RFC 3848, RFC
 * 6531) for a message received under LMTP or SMTP (after EHLO, or
 * plain HELO), with SMTPUTF8 or not, in TLS or not: an S at the end
 * says TLS, and under TLS it is ESMTPS after HELO too: RFC 3848 has no
 * name for SMTP with STARTTLS, which needs EHLO first */
const char *
received_with(int lmtp, int ehlo, int smtputf8, int tls)
{
	static const char *const names[2][2] = {
		{ "ESMTP", "ESMTPS" }, { "UTF8SMTP", "UTF8SMTPS" }
	};
	static const char *const lmtps[2][2] = {
		{ "LMTP", "LMTPS" }, { "UTF8LMTP", "UTF8LMTPS" }
	};

	smtputf8 = smtputf8 != 0;
	tls = tls != 0;
	if (lmtp)
		return lmtps[smtputf8][tls];
	if (!smtputf8 && !ehlo && !tls)
		return "SMTP";
	return names[smtputf8][tls];
}

/* received_headers - Return-Path, Delivered-To and Received for rcpt
 * (NULL: the block without Delivered-To, as --data-check reads it);
 * "for" names the one RCPT as the client gave it, m->first */
int
received_headers(const struct config *cfg, const struct received_msg *m,
    const struct address *rcpt, char *out, size_t cap)
{
	const char *nl = cfg->crlf ? "\r\n" : "\n";
	char sender[RECEIVED_PATH_MAX], to[RECEIVED_PATH_MAX];
	char helo[HELO_TEXT_MAX], ip[80], date[64];
	char forpart[2 * ADDR_PART_MAX + 32];
	char tls[3 * TLS_VALUE_MAX];
	struct tm tm;
	int ret, o = 0;

	received_path(m->sender, sender, sizeof(sender));
	to[0] = '\0';
	if (m->nrcpt == 1)
		received_path(m->first, to, sizeof(to));
	clean_helo(m->helo, helo, sizeof(helo));
	if (strcmp(cfg->client_ip, "unknown") == 0)
		ip[0] = '\0';
	else
		snprintf(ip, sizeof(ip), " [%s%s]", strchr(cfg->client_ip,
		    ':') ? "IPv6:" : "", cfg->client_ip);
	if (localtime_r(&m->arrival, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		return -1;
	if (!cfg->no_return_path)
		o = snprintf(out, cap, "Return-Path: <%s>%s", sender, nl);
	if (o >= 0 && (size_t)o < cap && cfg->delivered_to && rcpt != NULL)
		o += snprintf(out + o, cap - (size_t)o, "Delivered-To: %s%s",
		    rcpt->addr, nl);
	snprintf(forpart, sizeof(forpart), "%s\tfor <%s>", nl, to);
	tls[0] = '\0';
	if (m->tls != NULL)	/* as Postfix writes it */
		snprintf(tls, sizeof(tls), "%s\t(using %s with cipher %s)",
		    nl, m->tls->protocol, m->tls->cipher);
	if (o < 0 || (size_t)o >= cap)
		return -1;
	ret = snprintf(out + o, cap - (size_t)o,
	    "Received: from %s (%s%s)%s%s\tby %s (pipesmtpd) with %s id %s%s;"
	    " %s%s", helo, cfg->client_host, ip, tls, nl, cfg->hostname, m->with,
	    m->queue_id, m->nrcpt == 1 ? forpart : "", date, nl);
	if (ret < 0 || (size_t)ret >= cap - (size_t)o)
		return -1;
	return o + ret;
}


/* field_line - whether line (n octets, its line end removed) may be a
 * line of a header field: the first of a field ("name:", the name
 * printable ASCII without ':'), or a folded one (white space, then
 * something); the value holds no control but TAB (UTF-8 is fine, RFC
 * 6532) */
static int
field_line(const char *line, size_t n, int first)
{
	size_t i = 0, seen = 0;

	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		if (first)
			return 0;
	} else {
		while (i < n && line[i] > 32 && line[i] < 127 && line[i] != ':')
			i++;
		if (i == 0 || i == n || line[i] != ':')
			return 0;
	}
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 32 && ch != '\t') || ch == 127)
			return 0;
		seen |= ch != ' ' && ch != '\t';
	}
	return seen > 0;
}

/* received_fields - what --data-check wrote on stdout, as header fields
 * to add: RFC 5322 fields, folded lines allowed, each line ending in LF
 * or CRLF (the last may lack it), written to out with the line ends the
 * command gets (--crlf).  Its length, or -1 when anything in it is not
 * a header field or does not fit: never a header the check did not
 * mean. */
int
received_fields(const struct config *cfg, const char *in, size_t len,
    char *out, size_t cap)
{
	const char *nl = cfg->crlf ? "\r\n" : "\n";
	size_t o = 0, nllen = strlen(nl);
	const char *p = in, *end = in + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((lf != NULL ? lf : end) - p);

		if (n > 0 && p[n - 1] == '\r' && lf != NULL)
			n--;
		if (!field_line(p, n, p == in) || o + n + nllen > cap)
			return -1;
		memcpy(out + o, p, n);
		memcpy(out + o + n, nl, nllen);
		o += n + nllen;
		p = lf != NULL ? lf + 1 : end;
	}
	return o > (size_t)2147483647 ? -1 : (int)o;
}

/*
 * envelope.c - the guards of HELO, MAIL and RCPT, as verdicts.
 *
 * Entry points: envelope_helo(), envelope_mail(), envelope_rcpt(),
 * envelope_reply(), envelope_logged() and envelope_ehlo().  Each guard
 * checks in a fixed order and returns the first refusal, so a reply
 * never depends on more than the command and the facts passed in.  No
 * value that can reach a command's argv may start with '-': the HELO
 * name, the sender and (address_unsafe()) the recipient's local part
 * are refused here.
 *
 * This module never replies, counts errors, logs or looks a name up;
 * it writes only into the command line it is given (parameters are cut
 * apart in place) and into the caller's structs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"

/* Each refusal's reply; the session's stock replies are not here. */
static const struct envelope_reply replies[] = {
	[ENV_HELO_SYNTAX] = { 501, "5.5.4", "Syntax: HELO hostname", 0 },
	[ENV_EHLO_SYNTAX] = { 501, "5.5.4", "Syntax: EHLO hostname", 0 },
	[ENV_LHLO_SYNTAX] = { 501, "5.5.4", "Syntax: LHLO hostname", 0 },
	[ENV_MAIL_SYNTAX] =
	    { 501, "5.5.4", "Syntax: MAIL FROM:<address>", 0 },
	[ENV_SENDER_SYNTAX] = { 501, "5.1.7", "Bad sender address syntax", 0 },
	[ENV_NEED_EHLO] = { 555, "5.5.4", "MAIL parameters need EHLO", 0 },
	[ENV_SIZE_VALUE] = { 501, "5.5.4", "Bad SIZE value", 0 },
	[ENV_BODY_BINARY] =
	    { 555, "5.5.4", "BODY=BINARYMIME not supported", 0 },
	[ENV_BODY_VALUE] = { 501, "5.5.4", "Bad BODY value", 0 },
	[ENV_PRDR_LMTP] = { 555, "5.5.4",
	    "PRDR is for SMTP; LMTP replies per recipient anyway", 0 },
	[ENV_MAIL_PARAM] = { 555, "5.5.4", "Unsupported MAIL parameter", 0 },
	[ENV_SENDER_DASH] = { 553, "5.1.7", "Sender address rejected", 0 },
	[ENV_RCPT_SYNTAX] = { 501, "5.5.4", "Syntax: RCPT TO:<address>", 0 },
	[ENV_RCPT_LENGTH] =
	    { 501, "5.1.3", "Bad recipient address length", 0 },
	[ENV_RCPT_BAD] = { 501, "5.1.3", "Bad recipient address syntax", 0 },
	[ENV_RCPT_PARAM] = { 555, "5.5.4", "Unsupported RCPT parameter", 0 },
	[ENV_RELAY] = { 550, "5.7.1", "Relay access denied", 1 },
	[ENV_UNSAFE] = { 550, "5.1.3",
	    "Recipient address rejected: unsafe local part", 1 }
};

/* envelope_reply - verdict v's reply; code 0 for ENV_OK and for the
 * verdicts whose reply is the session's */
const struct envelope_reply *
envelope_reply(enum envelope_verdict v)
{
	static const struct envelope_reply none = { 0, NULL, "", 0 };

	if ((size_t)v >= sizeof(replies) / sizeof(replies[0]) ||
	    replies[v].code == 0)
		return &none;
	return &replies[v];
}

/* envelope_logged - whether verdict v refuses an address that parsed, for
 * what it is (size, SMTPUTF8, a leading '-', the recipient limit, relay,
 * an unsafe local part): those get a reject line, as Postfix logs its
 * restrictions; a syntax or parameter error does not */
int
envelope_logged(enum envelope_verdict v)
{
	switch (v) {
	case ENV_SIZE_LIMIT:
	case ENV_UTF8:
	case ENV_SENDER_DASH:
	case ENV_RCPTS_MAX:
	case ENV_RELAY:
	case ENV_UNSAFE:
		return 1;
	default:
		return 0;
	}
}

/* envelope_helo - a HELO name we can write into Received and hand to
 * argv: 1 to 255 octets, no controls or spaces, no leading '-' */
enum envelope_verdict
envelope_helo(const char *arg, int ehlo, int lmtp)
{
	size_t n = strlen(arg), i;
	enum envelope_verdict bad = !ehlo ? ENV_HELO_SYNTAX :
	    lmtp ? ENV_LHLO_SYNTAX : ENV_EHLO_SYNTAX;

	if (n == 0 || n > ENVELOPE_HELO_MAX || arg[0] == '-')
		return bad;
	for (i = 0; i < n; i++)
		if ((unsigned char)arg[i] <= 32 || arg[i] == 127)
			return bad;
	return ENV_OK;
}

/* path_arg - "FROM:" / "TO:" then optional spaces; NULL if missing */
static char *
path_arg(char *arg, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

/* size_param - SIZE=val: a number within --max-size */
static enum envelope_verdict
size_param(const struct config *cfg, const char *val)
{
	char *end;
	unsigned long long size;

	errno = 0;
	size = strtoull(val, &end, 10);
	if (*val < '0' || *val > '9' || *end != '\0' || errno != 0)
		return ENV_SIZE_VALUE;
	return size <= cfg->max_size ? ENV_OK : ENV_SIZE_LIMIT;
}

/* mail_param - one MAIL parameter, cut apart in place */
static enum envelope_verdict
mail_param(const struct config *cfg, char *p, struct envelope_mail *m)
{
	char *val = strchr(p, '=');

	if (val != NULL)
		*val++ = '\0';
	if (strcasecmp(p, "SIZE") == 0 && val != NULL)
		return size_param(cfg, val);
	if (strcasecmp(p, "BODY") == 0 && val != NULL) {
		if (strcasecmp(val, "7BIT") == 0 ||
		    strcasecmp(val, "8BITMIME") == 0)
			return ENV_OK;
		/* RFC 3030 BINARYMIME is a real value we do not offer */
		return strcasecmp(val, "BINARYMIME") == 0 ? ENV_BODY_BINARY :
		    ENV_BODY_VALUE;
	}
	if (strcasecmp(p, "SMTPUTF8") == 0 && val == NULL) {
		m->smtputf8 = 1;
		return ENV_OK;
	}
	if (strcasecmp(p, "PRDR") == 0 && val == NULL) {
		m->prdr = 1;
		return cfg->lmtp ? ENV_PRDR_LMTP : ENV_OK;
	}
	return ENV_MAIL_PARAM;
}

/* mail_params - every parameter after the path; RFC 5321 4.1.1.2: only
 * after EHLO, which is what offered them */
static enum envelope_verdict
mail_params(const struct config *cfg, int ehlo, char *p,
    struct envelope_mail *m)
{
	char *save = NULL, *tok;
	enum envelope_verdict v;

	if (!ehlo && p[strspn(p, " ")] != '\0')
		return ENV_NEED_EHLO;
	for (tok = strtok_r(p, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		if ((v = mail_param(cfg, tok, m)) != ENV_OK)
			return v;
	return ENV_OK;
}

/* envelope_mail - the guards of MAIL FROM (arg after the verb); ehlo:
 * the session said EHLO or LHLO.  ENV_OK and m filled, or the first
 * refusal. */
enum envelope_verdict
envelope_mail(const struct config *cfg, int ehlo, char *arg,
    struct envelope_mail *m)
{
	size_t used;
	char *p = path_arg(arg, "FROM:");
	enum envelope_verdict v;

	memset(m, 0, sizeof(*m));
	if (p == NULL)
		return ENV_MAIL_SYNTAX;
	if (address_parse(p, strlen(p), ADDR_ALLOW_NULL | ADDR_ALLOW_UTF8,
	    &m->sender, &used) != ADDR_OK ||
	    (p[used] != '\0' && p[used] != ' '))
		return ENV_SENDER_SYNTAX;
	if ((v = mail_params(cfg, ehlo, p + used, m)) != ENV_OK)
		return v;
	if (m->sender.utf8 && !m->smtputf8)
		return ENV_UTF8;
	if (m->sender.addr[0] == '-')
		return ENV_SENDER_DASH;
	return ENV_OK;
}

/* domain_ok - one of ours (--domain, or the hostname) */
static int
domain_ok(const struct config *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->ndomains; i++)
		if (address_domain_is(domain, cfg->domains[i]))
			return 1;
	return cfg->ndomains == 0 && address_domain_is(domain, cfg->hostname);
}

/* envelope_rcpt - the guards of RCPT TO (arg after the verb), in a
 * transaction with SMTPUTF8 (or not) and nrcpt RCPTs accepted so far.
 * ENV_OK and a filled (a bare postmaster gets the hostname), or the
 * first refusal. */
enum envelope_verdict
envelope_rcpt(const struct config *cfg, int smtputf8, size_t nrcpt,
    char *arg, struct address *a)
{
	size_t used;
	char *p = path_arg(arg, "TO:");
	enum address_error e;

	if (p == NULL)
		return ENV_RCPT_SYNTAX;
	e = address_parse(p, strlen(p), ADDR_ALLOW_PM | ADDR_ALLOW_UTF8, a,
	    &used);
	if (e != ADDR_OK || (p[used] != '\0' && p[used] != ' '))
		return e == ADDR_ERR_LENGTH ? ENV_RCPT_LENGTH : ENV_RCPT_BAD;
	if (p[used + strspn(p + used, " ")] != '\0')
		return ENV_RCPT_PARAM;
	if (a->utf8 && !smtputf8)
		return ENV_UTF8;
	if (nrcpt >= cfg->max_rcpt)
		return ENV_RCPTS_MAX;
	if (a->bare_postmaster)
		address_set_domain(a, cfg->hostname);
	else if (!domain_ok(cfg, a->domain))
		return ENV_RELAY;
	if (address_unsafe(a))
		return ENV_UNSAFE;
	return ENV_OK;
}

/* envelope_ehlo - the EHLO (LHLO) reply's lines for cfg: PRDR only
 * under SMTP (LMTP replies per recipient anyway), STARTTLS only when
 * starttls says it can be used now */
void
envelope_ehlo(const struct config *cfg, int starttls,
    struct envelope_ehlo *e)
{
	const char *all[] = {
		cfg->hostname, "PIPELINING", e->size, "8BITMIME",
		"ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", e->limits,
		cfg->lmtp ? NULL : "PRDR", starttls ? "STARTTLS" : NULL
	};
	size_t i;

	snprintf(e->size, sizeof(e->size), "SIZE %llu", cfg->max_size);
	snprintf(e->limits, sizeof(e->limits), "LIMITS RCPTMAX=%u",
	    cfg->max_rcpt);
	e->n = 0;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] != NULL)
			e->line[e->n++] = all[i];
}

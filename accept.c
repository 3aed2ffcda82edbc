/*
 * accept.c - one new RCPT to the transaction's deliveries.
 *
 * Entry point: accept_rcpt().  The RCPT's local part (%u) is looked up
 * in --aliases; the RCPT is added to the recipients, then one delivery
 * per target (each alias target made by address_retarget(), or the
 * address itself), each after its own account check through the
 * deliverer's account() and within the bound on deliveries (10,000, or
 * --max-rcpt if larger); then --rcpt-check runs on the address the
 * client gave, through the deliverer's screen(), with the replies so
 * far flushed first.  Any refusal takes the RCPT back whole
 * (recipients_drop_last()).  The reply to a refusal, its reject line
 * and its count are the session's: this module returns a verdict, and
 * logs only its own warnings (an alias target that is no account, a
 * failed account lookup).  It never sees the session.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accept.h"
#include "aliases.h"
#include "log.h"

/* deliveries one transaction may hold, unless --max-rcpt is larger: an
 * alias list of 1000 names is fine, a transaction without end is not */
#define DELIVERIES_MAX	10000

/* refused - the RCPT refused with code, dsn and text (which follows
 * "<rcpt>: " in the reply), into no */
static enum accept_verdict
refused(struct outcome_reply *no, int code, const char *dsn,
    const char *text)
{
	no->code = code;
	snprintf(no->dsn, sizeof(no->dsn), "%s", dsn);
	snprintf(no->text, sizeof(no->text), "%s", text);
	return ACCEPT_REFUSED;
}

/* rcpt_screened - --rcpt-check's verdict on rcpt, through the deliverer;
 * the refusal's reply into no */
static enum accept_verdict
rcpt_screened(const struct accept_job *j, const struct address *rcpt,
    struct outcome_reply *no)
{
	struct received_msg m;
	struct address first;
	struct outcome out;

	if (j->cfg->rcpt_check == NULL || j->del->screen == NULL)
		return ACCEPT_OK;
	m = *j->facts;
	recipients_facts(j->rcpts, &m, &first);	/* rcpt among them */
	outcome_init(&out);	/* unfilled: not accepted */
	/* the replies so far must not wait for it; a failed write sets
	 * chat.gone, which ends the session */
	(void)chat_flush(j->chat);
	j->del->screen(j->del->ctx, j->cfg, &m, rcpt, &out);
	outcome_screen_reply(&out, NULL, no);
	return no->code == 0 ? ACCEPT_OK : ACCEPT_REFUSED;
}

/* rcpt_account - --local-users (and --as-recipient): whether t, a delivery
 * of the client's rcpt (itself, or an --aliases target), is an account
 * that may receive (%u, or the --postmaster account for postmaster:
 * RFC 5321 4.5.1); if not, 550 5.1.1 for no such account, 451 4.3.0
 * when the lookup itself failed (a directory outage must not bounce
 * mail) */
static enum accept_verdict
rcpt_account(const struct accept_job *j, const struct address *rcpt,
    struct address *t, struct outcome_reply *no)
{
	const struct config *cfg = j->cfg;
	char user[4 * ADDR_PART_MAX + 4];

	if (cfg->postmaster != NULL && strcmp(t->user, "postmaster") == 0)
		snprintf(t->user, sizeof(t->user), "%s", cfg->postmaster);
	if (!cfg->local_users && !cfg->as_recipient)
		return ACCEPT_OK;
	if (j->del->account == NULL)
		return ACCEPT_OK;
	log_escape(t->user, user, sizeof(user));
	switch (j->del->account(j->del->ctx, cfg, t->user)) {
	case 1:
		return ACCEPT_OK;
	case 0:
		if (strcmp(t->user, rcpt->user) != 0)	/* the file is wrong */
			log_warn("%s: warning: alias target %s is no account "
			    "that can receive", j->queue_id, user);
		return refused(no, 550, "5.1.1", "Recipient address "
		    "rejected: no such user");
	default:
		log_warn("%s: account lookup for %s failed: %s",
		    j->queue_id, user, strerror(errno));
		return refused(no, 451, "4.3.0", "Recipient address "
		    "rejected: temporary lookup failure");
	}
}

/* delivery_bound - deliveries one transaction may hold */
static size_t
delivery_bound(const struct config *cfg)
{
	return cfg->max_rcpt > DELIVERIES_MAX ? cfg->max_rcpt : DELIVERIES_MAX;
}

/* rcpt_targets - the deliveries of rcpt, the last RCPT in the recipients:
 * each of its --aliases targets (x), or rcpt itself; each target
 * checked on its own */
static enum accept_verdict
rcpt_targets(const struct accept_job *j, const struct address *rcpt,
    const struct alias_targets *x, struct outcome_reply *no)
{
	enum accept_verdict v;
	struct address t;
	size_t i;

	for (i = 0; i < (x->n > 0 ? x->n : 1); i++) {
		t = *rcpt;
		if (x->n > 0 && address_retarget(&t, x->v[i]) == -1)
			return refused(no, 550, "5.1.3", "Recipient address "
			    "rejected: too long for its alias");
		if ((v = rcpt_account(j, rcpt, &t, no)) != ACCEPT_OK)
			return v;
		if (recipients_add_target(j->rcpts, &t) == -1)
			return ACCEPT_NOSPACE;
		if (j->rcpts->nd > delivery_bound(j->cfg))
			return ACCEPT_TOO_MANY;
	}
	return ACCEPT_OK;
}

/* accept_rcpt - rcpt, valid and new to the transaction, with its
 * deliveries; its reply, when ACCEPT_REFUSED, into no.  Any other
 * verdict than ACCEPT_OK leaves the recipients as they were. */
enum accept_verdict
accept_rcpt(const struct accept_job *j, const struct address *rcpt,
    struct outcome_reply *no)
{
	struct alias_targets x = { NULL, 0, 0 };
	enum accept_verdict v;

	if (aliases_lookup(j->cfg->aliases, rcpt->user,
	    delivery_bound(j->cfg), &x) == -1) {
		v = errno == E2BIG ? ACCEPT_TOO_MANY : ACCEPT_NOSPACE;
	} else if (recipients_add(j->rcpts, rcpt) == -1) {
		v = ACCEPT_NOSPACE;
	} else {
		v = rcpt_targets(j, rcpt, &x, no);
		if (v == ACCEPT_OK)
			v = rcpt_screened(j, rcpt, no);
		if (v != ACCEPT_OK)
			recipients_drop_last(j->rcpts);
	}
	aliases_targets_free(&x);
	return v;
}

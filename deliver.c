/*
 * deliver.c - one delivery: whether its command may run, what it
 * reads, how it ended, its log line.
 *
 * Entry points: deliver_one() (a delivery, start to end), its three
 * steps for jobs.c (deliver_begin(), deliver_end(), deliver_line()),
 * and deliver_input() (what a command reads on stdin, for checks.c
 * too).  Before a command runs this module refuses a Delivered-To loop,
 * a recipient with no usable account (--as-recipient, account.c) and a
 * message past its deadline; the added headers come from received.c,
 * the command is built and run by command.c.  One line is logged per
 * delivery, in Postfix's field order.  It never writes to the SMTP
 * client: it returns an outcome and the session replies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "account.h"
#include "command.h"
#include "deadline.h"
#include "deliver.h"
#include "log.h"
#include "received.h"
#include "run.h"
#include "spool.h"

/* deliver_line - the line administrators grep for, its fields in
 * Postfix's order (to=, orig_to=, ..., delay=, dsn=, status=);
 * orig_to=<...> when --aliases delivered to another address than the
 * client gave; end is when the delivery ended */
void
deliver_line(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig,
    unsigned long long size, long long end, const struct outcome *out)
{
	static const char *const status[] = {
		[OUT_DELIVERED] = "sent", [OUT_TEMP] = "deferred",
		[OUT_PERM] = "bounced"
	};
	char to[4 * RECEIVED_PATH_MAX], from[4 * RECEIVED_PATH_MAX];
	char given[4 * RECEIVED_PATH_MAX], orig_to[4 * RECEIVED_PATH_MAX + 16];
	char how[64], text[4 * OUTCOME_TEXT_MAX + 4];
	char tls[2 * TLS_VALUE_MAX + 8] = "";
	double delay;

	delay = (double)(end - msg->start) / DEADLINE_SECOND;
	outcome_how(out, how, sizeof(how));
	log_escape(out->text, text, sizeof(text));
	received_logged_path(rcpt, to, sizeof(to));
	received_logged_path(msg->head.sender, from, sizeof(from));
	orig_to[0] = '\0';
	if (strcmp(rcpt->addr, orig->addr) != 0)
		snprintf(orig_to, sizeof(orig_to), ", orig_to=<%s>",
		    received_logged_path(orig, given, sizeof(given)));
	if (msg->head.tls != NULL)
		snprintf(tls, sizeof(tls), ", tls=%s/%s",
		    msg->head.tls->protocol, msg->head.tls->cipher);
	log_info("%s: to=<%s>%s, from=<%s>, client=[%s]%s, size=%llu, "
	    "delay=%.2f, dsn=%s, status=%s (%s%s%s)", msg->head.queue_id, to,
	    orig_to, from, cfg->client_ip, tls, size, delay, out->dsn,
	    status[out->cls], how,
	    out->cls == OUT_DELIVERED ? "" : ": ",
	    out->cls == OUT_DELIVERED ? "" : text);
}

/* loop_refused - --delivered-to: the message already went through rcpt */
static int
loop_refused(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, struct outcome *out)
{
	if (!cfg->delivered_to ||
	    spool_has_delivered_to(msg->spool_fd, msg->spool_len,
	    rcpt->addr) != 1)
		return 0;
	outcome_set(out, OUT_PERM, "5.4.6", "mail loop: already delivered to "
	    "this recipient");
	return 1;
}

/* feed_command - build argv and environment into c, then start r, its
 * input set by deliver_input(); -1 (out says why) when it never started */
static int
feed_command(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig, struct run *r,
    struct command_line *c, struct outcome *out)
{
	struct command_vars v;
	char size[32];

	command_vars_init(&v, cfg, msg->head.sender, rcpt, msg->head.helo,
	    msg->head.queue_id, msg->head.tls);
	v.orig = orig->addr;
	snprintf(size, sizeof(size), "%llu",
	    (unsigned long long)r->headlen + r->spool_len);
	if (command_build(c, cfg, cfg->command, &v, (const char *const
	    [][2]){ { "SIZE", size }, { "HOME", r->acct ? r->acct->home :
	    NULL } }, 2, out) == 0 && command_start(r, c, out) == 0)
		return 0;
	return -1;
}

/* deliver_input - what a command reads on stdin, into r: the spool
 * itself when it holds the whole message as delivered (hlen 0), else a
 * pipe fed with head (hlen octets: the added headers, then any fields
 * --data-check added) and the message after the spool's shared
 * headers; and its deadline */
void
deliver_input(const struct config *cfg, struct run *r,
    const struct deliver_msg *msg, const char *head, int hlen)
{
	int whole = hlen == 0;

	r->input = whole ? RUN_IN_SPOOL : RUN_IN_PIPE;
	r->head = head;
	r->headlen = (size_t)hlen;
	r->spool_fd = msg->spool_fd;
	r->spool_off = whole ? 0 : msg->body_off;
	r->spool_len = msg->spool_len - r->spool_off;
	r->deadline = deadline_in(cfg->delivery_timeout);
	if (msg->deadline < r->deadline)
		r->deadline = msg->deadline;
}

/* note_home - --as-recipient: whether acct's home directory is missing
 * (nobody's /nonexistent), noted in acct: such an account still gets
 * its mail, the command runs in / with HOME still the home, and a
 * warning says so */
static void
note_home(struct run_account *acct, const char *user, const char *queue_id)
{
	char name[4 * ADDR_PART_MAX + 4], dir[4 * sizeof(acct->home)];
	struct stat st;

	acct->home_missing = stat(acct->home, &st) == -1 ?
	    errno == ENOENT || errno == ENOTDIR : !S_ISDIR(st.st_mode);
	if (acct->home_missing)
		log_warn("%s: warning: account %s: home directory %s is "
		    "missing; the delivery command runs in /", queue_id,
		    log_escape(user, name, sizeof(name)),
		    log_escape(acct->home, dir, sizeof(dir)));
}

/* recipient_account - --as-recipient: the account rcpt's command runs
 * as; 0, and out says why, when there is none (a bounce) or the lookup
 * failed (a temporary failure: a directory outage never bounces mail) */
static int
recipient_account(const struct config *cfg, const char *user,
    struct run_account *acct, struct outcome *out)
{
	char text[OUTCOME_TEXT_MAX + 1];

	switch (account_find(cfg, user, acct)) {
	case ACCOUNT_OK:
		return 1;
	case ACCOUNT_NONE:
		outcome_set(out, OUT_PERM, "5.1.1", "no such user");
		return 0;
	default:
		snprintf(text, sizeof(text), "account lookup failed: %s",
		    strerror(errno));
		outcome_set(out, OUT_TEMP, "4.3.0", text);
		return 0;
	}
}

/* refused - whether rcpt's command must not run at all: a loop, no
 * usable account (found into acct), headers that do not fit, no time
 * left; out says which */
static int
refused(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, int hlen, struct run_account *acct,
    struct outcome *out)
{
	if (loop_refused(cfg, msg, rcpt, out))
		return 1;
	if (cfg->as_recipient &&
	    !recipient_account(cfg, rcpt->user, acct, out))
		return 1;
	if (hlen < 0)
		outcome_set(out, OUT_TEMP, "4.3.0", "headers too long");
	else if (deadline_ms_left(msg->deadline, 1) == 0)
		outcome_set(out, OUT_TEMP, "4.3.0",
		    "delivery time limit reached");
	else
		return 0;
	return 1;
}

/* delivery_head - rcpt's added headers, then the fields --data-check
 * added, into head (cap octets); 0 when the spool holds them all
 * already (shared by every recipient, and no fields), else their
 * length, or -1 when they do not fit */
static int
delivery_head(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, char *head, size_t cap)
{
	int n;

	if (msg->body_off > 0 && msg->fieldslen == 0)
		return 0;
	n = received_headers(cfg, &msg->head, rcpt, head, cap);
	if (n < 0 || msg->fieldslen > cap - (size_t)n)
		return -1;
	if (msg->fieldslen > 0)	/* no fields: msg->fields may be NULL */
		memcpy(head + n, msg->fields, msg->fieldslen);
	return n + (int)msg->fieldslen;
}

/* What a delivery's command holds from deliver_begin() to
 * deliver_end(), in one allocation (zeroed: nothing to free yet). */
struct deliver_held {
	struct run r;			/* the command's run */
	struct run_account acct;	/* --as-recipient's account */
	struct command_line c;		/* its argv and environment */
};

/* deliver_begin - d's command started (d->running), or its outcome
 * decided without one: refused, or it could not start */
void
deliver_begin(const struct config *cfg, const struct deliver_msg *msg,
    struct deliver_job *d)
{
	size_t cap = RECEIVED_HEADERS_MAX + msg->fieldslen;
	struct deliver_held *h = calloc(1, sizeof(*h));

	outcome_init(&d->out);
	d->held = h;
	d->r = h != NULL ? &h->r : NULL;
	d->head = malloc(cap);
	d->hlen = -1;
	d->running = 0;
	if (d->head != NULL)
		d->hlen = delivery_head(cfg, msg, &d->rcpt, d->head, cap);
	if (h == NULL || d->head == NULL) {
		command_no_memory(&d->out);
	} else if (!refused(cfg, msg, &d->rcpt, d->hlen, &h->acct,
	    &d->out)) {
		if (cfg->as_recipient)
			note_home(&h->acct, d->rcpt.user, msg->head.queue_id);
		h->r.acct = cfg->as_recipient ? &h->acct : NULL;
		deliver_input(cfg, &h->r, msg, d->head, d->hlen);
		d->running = feed_command(cfg, msg, &d->rcpt, &d->orig, &h->r,
		    &h->c, &d->out) == 0;
	}
}

/* deliver_end - d's command ended (or never ran): its outcome mapped,
 * everything it held freed; the size its log line gives returned */
unsigned long long
deliver_end(const struct deliver_msg *msg, struct deliver_job *d)
{
	if (d->running && command_end(d->r, &d->out) == 0)
		command_map_end(&d->r->end, d->r->out, d->r->outlen,
		    "delivery command", &d->out);
	d->running = 0;
	if (d->held != NULL) {
		command_free(&d->held->c);
		account_free(&d->held->acct);
	}
	free(d->head);
	free(d->held);
	d->head = NULL;
	d->held = NULL;
	d->r = NULL;
	return (unsigned long long)(d->hlen > 0 ? d->hlen : 0) +
	    msg->spool_len - (d->hlen > 0 ? msg->body_off : 0);
}

/* deliver_one - run the command for one recipient of a spooled message:
 * rcpt, which orig (the client's RCPT) asked for */
void
deliver_one(const struct config *cfg, const struct deliver_msg *msg,
    const struct address *rcpt, const struct address *orig,
    struct outcome *out)
{
	struct deliver_job *d = malloc(sizeof(*d));
	unsigned long long size;

	if (d == NULL) {
		outcome_init(out);
		command_no_memory(out);
		deliver_line(cfg, msg, rcpt, orig, 0, deadline_now(), out);
		return;
	}
	d->rcpt = *rcpt;
	d->orig = *orig;
	deliver_begin(cfg, msg, d);
	if (d->running)
		run_wait(d->r);
	size = deliver_end(msg, d);
	*out = d->out;
	deliver_line(cfg, msg, rcpt, orig, size, deadline_now(), out);
	free(d);
}

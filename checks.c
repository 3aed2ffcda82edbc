/*
 * checks.c - the two checks: --rcpt-check and --data-check.
 *
 * Entry points: checks_rcpt() (the --rcpt-check command on one RCPT,
 * stdin /dev/null) and its verdict checks_rcpt_verdict() (pure: 0
 * accepts, 67 refuses, 75 defers, anything else and any end not seen
 * fails closed), checks_data() (the --data-check command, once per
 * message, on what every recipient would read: its exit status through
 * the exit table, its stdout kept apart and made the header fields to
 * add; one log line).  Both run with the server's own credentials,
 * built and run by command.c, never through a shell.  What a check
 * reads is deliver.c's (deliver_input()).  This module never writes to
 * the SMTP client: the session turns the outcome into a reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "checks.h"
#include "command.h"
#include "deadline.h"
#include "deliver.h"
#include "log.h"
#include "received.h"
#include "run.h"

/* checks_rcpt_verdict - the --rcpt-check verdict: exit 0 (EX_OK)
 * accepts, 67 (EX_NOUSER) is 5.1.1, 75 (EX_TEMPFAIL) is 4.2.1; anything
 * else, and any run whose exit was not seen, is 4.3.0: the check fails
 * closed */
void
checks_rcpt_verdict(const struct run_end *e, const char *output,
    size_t len, struct outcome *out)
{
	static const struct { int code; enum outcome_class cls;
	    const char *dsn; } verdicts[] = {
		{ EX_OK, OUT_DELIVERED, "2.1.5" },
		{ EX_NOUSER, OUT_PERM, "5.1.1" },
		{ EX_TEMPFAIL, OUT_TEMP, "4.2.1" },
	};
	size_t i;

	command_map_end(e, output, len, "delivery command", out);
	if (!e->reaped || e->timed_out || !WIFEXITED(e->status))
		return;
	out->cls = OUT_TEMP;
	snprintf(out->dsn, sizeof(out->dsn), "4.3.0");
	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (WEXITSTATUS(e->status) == verdicts[i].code) {
			out->cls = verdicts[i].cls;
			snprintf(out->dsn, sizeof(out->dsn), "%s",
			    verdicts[i].dsn);
		}
	/* a refusal's own code of the verdict's class speaks, as a
	 * delivery's does: a DNSBL says 5.7.1, not 5.1.1 */
	if (out->cls != OUT_DELIVERED)
		outcome_own_words(out, output, len);
}

/* checks_rcpt - run the --rcpt-check command for rcpt of the
 * transaction m describes; its verdict is checks_rcpt_verdict()'s */
void
checks_rcpt(const struct config *cfg, const struct received_msg *m,
    const struct address *rcpt, struct outcome *out)
{
	struct command_line c = { NULL, NULL, 0 };
	struct run *r = calloc(1, sizeof(*r));
	struct command_vars vars, *v = &vars;

	outcome_init(out);
	command_vars_init(v, cfg, m->sender, rcpt, m->helo, m->queue_id,
	    m->tls);
	if (r == NULL) {
		command_no_memory(out);
	} else if (command_build(&c, cfg, cfg->rcpt_check, v, NULL, 0,
	    out) == 0) {
		r->deadline = deadline_in(cfg->delivery_timeout);
		if (command_run(r, &c, out) == 0)
			checks_rcpt_verdict(&r->end, r->out, r->outlen, out);
	}
	command_free(&c);
	free(r);
}

/* check_line - --data-check's one log line: passed, rejected or
 * deferred, how it ended, and why */
static void
check_line(const struct config *cfg, const struct deliver_msg *msg,
    const struct outcome *out)
{
	static const char *const status[] = {
		[OUT_DELIVERED] = "passed", [OUT_TEMP] = "deferred",
		[OUT_PERM] = "rejected"
	};
	char word[4 * 256], how[64], text[4 * OUTCOME_TEXT_MAX + 4];

	outcome_how(out, how, sizeof(how));
	log_info("%s: data-check=%s, status=%s (%s%s%s)", msg->head.queue_id,
	    log_escape(cfg->data_check[0], word, sizeof(word)),
	    status[out->cls], how, out->cls == OUT_DELIVERED ? "" : ": ",
	    out->cls == OUT_DELIVERED ? "" :
	    log_escape(out->text, text, sizeof(text)));
}

/* check_fields - a check that exited 0: what it wrote on stdout made
 * the fields to add (c->fields), or, when that is not header fields
 * or more than RECEIVED_FIELDS_MAX, a temporary failure */
static void
check_fields(const struct config *cfg, const struct run_split *so,
    struct deliver_check *c, struct outcome *out)
{
	size_t cap = 2 * RECEIVED_FIELDS_MAX;	/* LF may become CRLF */
	int n = -1;

	c->fields = so->len > 0 ? malloc(cap) : NULL;
	if (so->len > 0 && c->fields == NULL) {
		outcome_set(out, OUT_TEMP, "4.3.0", "out of memory");
		return;
	}
	if (!so->over)
		n = received_fields(cfg, so->buf, so->len, c->fields, cap);
	if (n < 0) {
		outcome_set(out, OUT_TEMP, "4.3.0", "data check output is not "
		    "header fields");
		free(c->fields);
		c->fields = NULL;
		return;
	}
	c->fieldslen = (size_t)n;
}

/* check_run - build and run the --data-check command on msg, its
 * stdout kept apart in so; 0, or -1 (and out says why) when it never
 * ran */
static int
check_run(const struct config *cfg, const struct deliver_msg *msg,
    const struct deliver_check *c, struct run *r, struct outcome *out)
{
	struct command_line cl = { NULL, NULL, 0 };
	struct command_vars v;
	char head[RECEIVED_HEADERS_MAX], size[32], count[32];
	int hlen = 0, ret = -1;

	/* the spool's shared headers, or the block without Delivered-To */
	if (msg->body_off == 0)
		hlen = received_headers(cfg, &msg->head, NULL, head,
		    sizeof(head));
	if (hlen < 0) {
		outcome_set(out, OUT_TEMP, "4.3.0", "headers too long");
		return -1;
	}
	deliver_input(cfg, r, msg, head, hlen);
	command_vars_init(&v, cfg, msg->head.sender, NULL, msg->head.helo,
	    msg->head.queue_id, msg->head.tls);
	snprintf(size, sizeof(size), "%llu",
	    (unsigned long long)r->headlen + r->spool_len);
	snprintf(count, sizeof(count), "%zu", c->nrcpt);
	if (command_build(&cl, cfg, cfg->data_check, &v, (const char *const
	    [][2]){ { "SIZE", size }, { "RECIPIENTS", c->rcpts },
	    { "RECIPIENT_COUNT", count } }, 3, out) == 0 &&
	    command_run(r, &cl, out) == 0)
		ret = 0;
	command_free(&cl);
	return ret;
}

/* checks_data - run --data-check once on the whole message, with
 * the server's own credentials: its exit status through the exit table
 * (its stderr's first line the text), its stdout the header fields to
 * add to every copy (c->fields, the caller frees it); one log line */
void
checks_data(const struct config *cfg, const struct deliver_msg *msg,
    struct deliver_check *c, struct outcome *out)
{
	struct run *r = calloc(1, sizeof(*r));
	struct run_split so = { malloc(RECEIVED_FIELDS_MAX),
	    RECEIVED_FIELDS_MAX, 0, 0 };

	outcome_init(out);
	c->fields = NULL;
	c->fieldslen = 0;
	if (r == NULL || so.buf == NULL) {
		command_no_memory(out);
	} else {
		r->split = &so;
		if (check_run(cfg, msg, c, r, out) == 0) {
			command_map_end(&r->end, r->out, r->outlen,
			    "data check", out);
			if (out->cls == OUT_DELIVERED)
				check_fields(cfg, &so, c, out);
		}
	}
	check_line(cfg, msg, out);
	free(so.buf);
	free(r);
}

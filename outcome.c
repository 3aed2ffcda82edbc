/*
 * outcome.c - outcomes: how a command's end becomes one, and the
 * replies they make.
 *
 * Entry points: outcome_init() (how every outcome starts),
 * outcome_set() (a class, code and text), outcome_from_status() (a wait
 * status and the command's first output line through the exit table),
 * outcome_own_words() (that line as the text, and its own RFC 3463 code
 * of the outcome's class), outcome_sanitise() (the first line of output,
 * printable ASCII, cut), outcome_how() (how a command ended, as a log
 * line says it), and the four reply makers: outcome_rcpt_reply() (one
 * RCPT's reply, LMTP and PRDR), outcome_summary_reply() (the one SMTP
 * reply, PRDR's final one), outcome_screen_reply() (an RCPT refused by
 * --rcpt-check) and outcome_check_reply() (a message refused by
 * --data-check).  Each reply maker fills a struct outcome_reply; the
 * session sends it.
 *
 * The promise lives here: OUT_DELIVERED only from a wait status that
 * exited 0, and 250 to the end of data only when every delivery is
 * OUT_DELIVERED.  This module never sends, logs or runs anything, and
 * never decides which delivery speaks for an RCPT.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "outcome.h"

#define OTHER_EXIT	(-1)	/* the exit table's last row: any other */

/* The exit table: sysexits as Postfix's pipe(8) maps them. */
static const struct exit_map {
	int code;
	enum outcome_class cls;
	const char *dsn;
	const char *text;
} exit_table[] = {
	{ EX_OK, OUT_DELIVERED, "2.0.0", "delivered" },
	{ EX_TEMPFAIL, OUT_TEMP, "4.3.0", "temporary failure" },
	{ EX_OSERR, OUT_TEMP, "4.3.0", "operating system error" },
	{ EX_NOUSER, OUT_PERM, "5.1.1", "user unknown" },
	{ EX_NOHOST, OUT_PERM, "5.1.2", "host unknown" },
	{ EX_DATAERR, OUT_PERM, "5.6.0", "data format error" },
	{ EX_CANTCREAT, OUT_PERM, "5.2.0", "cannot create output" },
	{ EX_NOPERM, OUT_PERM, "5.7.0", "permission denied" },
	{ EX_IOERR, OUT_PERM, "5.3.0", "input/output error" },
	{ EX_USAGE, OUT_PERM, "5.3.0", "command line usage error" },
	{ EX_NOINPUT, OUT_PERM, "5.3.0", "cannot open input" },
	{ EX_UNAVAILABLE, OUT_PERM, "5.3.0", "service unavailable" },
	{ EX_SOFTWARE, OUT_PERM, "5.3.0", "internal software error" },
	{ EX_OSFILE, OUT_PERM, "5.3.0", "critical file missing" },
	{ EX_PROTOCOL, OUT_PERM, "5.5.0", "remote protocol error" },
	{ EX_CONFIG, OUT_PERM, "5.3.5", "configuration error" },
	{ OTHER_EXIT, OUT_PERM, "5.3.0", "delivery command failed" }
};

/* outcome_init - how every outcome starts: a temporary failure, "not
 * delivered", no command run.  Only a delivery command that exited 0
 * makes it a delivery. */
void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->cls = OUT_TEMP;
	snprintf(o->dsn, sizeof(o->dsn), "4.3.0");
	snprintf(o->text, sizeof(o->text), "not delivered");
	o->status = OUTCOME_NOT_RUN;
}

/* outcome_set - an outcome of class cls with this code and text */
void
outcome_set(struct outcome *out, enum outcome_class cls, const char *dsn,
    const char *text)
{
	out->cls = cls;
	snprintf(out->dsn, sizeof(out->dsn), "%s", dsn);
	snprintf(out->text, sizeof(out->text), "%s", text);
}

/* outcome_sanitise - the first line of in, printable ASCII only, cut */
size_t
outcome_sanitise(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < len && o + 1 < cap; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '\n' || ch == '\r')
			break;
		out[o++] = (ch >= 32 && ch < 127) ? (char)ch : '?';
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/* dsn_prefix - length of a leading "C.SSS.DDD " code of class cls, or 0 */
static size_t
dsn_prefix(const char *s, char cls)
{
	size_t i = 0, part, digits;

	if (s[0] != cls || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return (s[i] == '\0' || s[i] == ' ') ? i : 0;
}

/* outcome_own_words - the command's first output line becomes out's
 * text, and a leading RFC 3463 code of out's class replaces out's code */
void
outcome_own_words(struct outcome *out, const char *output, size_t len)
{
	static const char cls_digit[] = {
		[OUT_DELIVERED] = '2', [OUT_TEMP] = '4', [OUT_PERM] = '5'
	};
	char line[OUTCOME_TEXT_MAX + 1];
	size_t code;

	if (outcome_sanitise(output, len, line, sizeof(line)) == 0)
		return;
	code = dsn_prefix(line, cls_digit[out->cls]);
	if (code > 0) {
		memcpy(out->dsn, line, code);
		out->dsn[code] = '\0';
		while (line[code] == ' ')
			code++;
	}
	if (line[code] != '\0')
		snprintf(out->text, sizeof(out->text), "%s", line + code);
}

/* outcome_from_status - a wait status and the command's output to an
 * outcome, through the exit table; what names the command in the text
 * of a signal's */
void
outcome_from_status(int status, const char *output, size_t len,
    const char *what, struct outcome *out)
{
	const struct exit_map *m = exit_table;
	char line[OUTCOME_TEXT_MAX + 1];

	out->status = status;
	if (!WIFEXITED(status)) {
		snprintf(line, sizeof(line), "%s killed by signal %d", what,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		outcome_set(out, OUT_TEMP, "4.3.0", line);
		return;
	}
	while (m->code != OTHER_EXIT && m->code != WEXITSTATUS(status))
		m++;
	outcome_set(out, m->cls, m->dsn, m->text);
	outcome_own_words(out, output, len);
}

/* outcome_how - how a command ended, as a log line says it: "exit N",
 * "signal N", "exit status unknown" or "not run" */
void
outcome_how(const struct outcome *out, char *how, size_t cap)
{
	if (out->status >= 0 && WIFEXITED(out->status))
		snprintf(how, cap, "exit %d", WEXITSTATUS(out->status));
	else if (out->status >= 0 && WIFSIGNALED(out->status))
		snprintf(how, cap, "signal %d", WTERMSIG(out->status));
	else if (out->status == OUTCOME_UNSEEN)
		snprintf(how, cap, "exit status unknown");
	else
		snprintf(how, cap, "not run");
}

/* set_reply - r's code and enhanced code; its text is the caller's */
static void
set_reply(struct outcome_reply *r, int code, const char *dsn)
{
	r->code = code;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
}

/* outcome_rcpt_reply - one RCPT's own reply (LMTP, PRDR) from the
 * outcome that speaks for it: 250 if delivered, else 451 for a
 * temporary failure, 550 for a permanent one */
void
outcome_rcpt_reply(const struct outcome *o, const char *rcpt,
    const char *queue_id, struct outcome_reply *r)
{
	if (o->cls == OUT_DELIVERED) {
		set_reply(r, 250, o->dsn);
		snprintf(r->text, sizeof(r->text), "<%s>: delivered, id=%s",
		    rcpt, queue_id);
		return;
	}
	set_reply(r, o->cls == OUT_TEMP ? 451 : 550, o->dsn);
	snprintf(r->text, sizeof(r->text), "<%s>: %s, id=%s", rcpt, o->text,
	    queue_id);
}

/* outcome_summary_reply - the one SMTP reply over all deliveries, ok of
 * all delivered: 250 only if every one was; else 451 if the speaker (the
 * first temporary failure, else the first permanent one), asked for by
 * rcpt, failed temporarily, else 554.  Under PRDR the per-recipient
 * replies have spoken, so 250 means "at least one delivered". */
void
outcome_summary_reply(size_t ok, size_t all, int prdr,
    const struct outcome *speaker, const char *rcpt, const char *queue_id,
    struct outcome_reply *r)
{
	if (ok == all || (prdr && ok > 0)) {
		set_reply(r, 250, "2.0.0");
		snprintf(r->text, sizeof(r->text), "Ok: delivered to %zu of "
		    "%zu recipients, id=%s", ok, all, queue_id);
		return;
	}
	set_reply(r, speaker->cls == OUT_TEMP ? 451 : 554, speaker->dsn);
	snprintf(r->text, sizeof(r->text), "<%s>: %s (delivered to %zu of "
	    "%zu recipients, id=%s)", rcpt, speaker->text, ok, all, queue_id);
}

/* outcome_check_reply - --data-check's refusal of the whole message, as
 * one reply (SMTP, PRDR): 554 for a permanent one, else 451, with its
 * code and text */
void
outcome_check_reply(const struct outcome *o, const char *queue_id,
    struct outcome_reply *r)
{
	set_reply(r, o->cls == OUT_PERM ? 554 : 451, o->dsn);
	snprintf(r->text, sizeof(r->text), "Message not accepted: %s, id=%s",
	    o->text, queue_id);
}

/* screen_later - --rcpt-check said "try later" (exit 75), whatever code
 * its own words gave: 450, mailbox unavailable for now, not 451 */
static int
screen_later(const struct outcome *o)
{
	return strcmp(o->dsn, "4.2.1") == 0 || (o->status >= 0 &&
	    WIFEXITED(o->status) && WEXITSTATUS(o->status) == EX_TEMPFAIL);
}

/* outcome_screen_reply - --rcpt-check's verdict on rcpt: code 0 when it
 * accepted; else 550 for a permanent refusal, 450 for 4.2.1 (mailbox
 * busy), 451 for any other temporary one.  rcpt NULL: the text without
 * its "<rcpt>: ", for a caller that writes the address itself. */
void
outcome_screen_reply(const struct outcome *o, const char *rcpt,
    struct outcome_reply *r)
{
	if (o->cls == OUT_DELIVERED) {
		set_reply(r, 0, "");
		r->text[0] = '\0';
		return;
	}
	set_reply(r, o->cls == OUT_PERM ? 550 : screen_later(o) ? 450 : 451,
	    o->dsn);
	snprintf(r->text, sizeof(r->text), "%s%s%sRecipient address "
	    "rejected%s%s", rcpt ? "<" : "", rcpt ? rcpt : "",
	    rcpt ? ">: " : "", o->text[0] ? ": " : "", o->text);
}

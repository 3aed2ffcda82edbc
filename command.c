/*
 * command.c - what to run, and running it.
 *
 * Entry points: command_vars_init() (the placeholder values, the one
 * place they are put together), command_expand(), command_template_ok()
 * and command_template_message() (pure: the argv template),
 * command_build() (argv and the clean environment), command_free(),
 * command_start(), command_end() and command_run() (run.c's runner
 * started and finished, a failed step made an outcome),
 * command_no_memory() and command_map_end() (how a run ended, as an
 * outcome).  Every placeholder expands inside its own argv word, so a
 * value can never become two words; the environment is built clean:
 * PATH, the envelope's names, the caller's extra pairs, TLS, --env.
 * run.c starts, feeds, times and reaps the command; outcome.c maps its
 * wait status through the exit table.  This module never chooses what a
 * command reads, logs, or writes to the SMTP client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "run.h"
#include "tls.h"

#define VALUE_MAX	1024	/* longest placeholder value */

/* command_vars_init - the placeholder values for rcpt of a message from
 * sender (rcpt NULL: the message's alone, for --data-check, whose
 * recipient values stay NULL): the one place they are put together, for
 * the delivery command and the checks alike */
void
command_vars_init(struct command_vars *v, const struct config *cfg,
    const struct address *sender, const struct address *rcpt,
    const char *helo, const char *queue_id, const struct tls_info *tls)
{
	v->sender = sender->null ? cfg->null_sender : sender->addr;
	v->rcpt = rcpt != NULL ? rcpt->addr : NULL;
	v->orig = v->rcpt;
	v->user = rcpt != NULL ? rcpt->user : NULL;
	v->local = rcpt != NULL ? rcpt->local : NULL;
	v->ext = rcpt != NULL ? rcpt->ext : NULL;
	v->domain = rcpt != NULL ? rcpt->domain : NULL;
	v->ip = cfg->client_ip;
	v->helo = helo;
	v->queue_id = queue_id;
	v->tls = tls;
}

/* placeholder - the value of %c, or NULL for an unknown placeholder */
static const char *
placeholder(char c, const struct command_vars *v)
{
	switch (c) {
	case 's': return v->sender;
	case 'r': return v->rcpt;
	case 'u': return v->user;
	case 'l': return v->local;
	case 'e': return v->ext;
	case 'd': return v->domain;
	case 'i': return v->ip;
	case 'h': return v->helo;
	case 'q': return v->queue_id;
	case '%': return "%";
	default: return NULL;
	}
}

/* template_ok - 1 if tmpl uses only placeholders probe has values for */
static int
template_ok(const char *tmpl, const struct command_vars *probe)
{
	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl != '%')
			continue;
		if (placeholder(*++tmpl, probe) == NULL)
			return 0;
	}
	return 1;
}

/* command_template_ok - 1 if tmpl uses only known placeholders */
int
command_template_ok(const char *tmpl)
{
	static const struct command_vars probe = {
		.sender = "", .rcpt = "", .user = "", .local = "", .ext = "",
		.domain = "", .ip = "", .helo = "", .queue_id = ""
	};

	return template_ok(tmpl, &probe);
}

/* command_template_message - 1 if tmpl uses no placeholder of one
 * recipient's (%r %u %l %e %d): --data-check runs once for them all */
int
command_template_message(const char *tmpl)
{
	static const struct command_vars probe = {
		.sender = "", .ip = "", .helo = "", .queue_id = ""
	};

	return template_ok(tmpl, &probe);
}

/* command_expand - one argv word: placeholders replaced inside it */
int
command_expand(const char *tmpl, const struct command_vars *v, char *out,
    size_t cap)
{
	size_t o = 0;

	for (; *tmpl != '\0'; tmpl++) {
		const char *val = NULL;
		size_t n;

		if (*tmpl == '%') {
			val = placeholder(*++tmpl, v);
			if (val == NULL)
				return -1;
		}
		n = val != NULL ? strlen(val) : 1;
		if (o + n >= cap)
			return -1;
		memcpy(out + o, val != NULL ? val : tmpl, n);
		o += n;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* command_free - free what command_build() built, whole or in part */
void
command_free(struct command_line *c)
{
	size_t i;

	for (i = 0; c->argv != NULL && c->argv[i] != NULL; i++)
		free(c->argv[i]);
	for (i = 0; i < c->nenv; i++)
		free(c->envp[i]);
	free(c->argv);
	free(c->envp);
}

/* add_env - NAME=VALUE into the environment being built */
static int
add_env(struct command_line *c, const char *name, const char *value)
{
	if (asprintf(&c->envp[c->nenv], "%s=%s", name, value) < 0) {
		c->envp[c->nenv] = NULL;
		return -1;
	}
	c->nenv++;
	return 0;
}

/* build_env - the clean environment: PATH, the envelope's variables (a
 * recipient's only when v names one), each of more's NAME, VALUE pairs
 * that has a value (SIZE, HOME, RECIPIENTS...), the TLS names (with the
 * client certificate's subject when there is one), --env */
static int
build_env(struct command_line *c, const struct config *cfg,
    const struct command_vars *v, const char *const (*more)[2],
    size_t nmore)
{
	const char *names[] = { "SENDER", "RECIPIENT", "ORIGINAL_RECIPIENT",
	    "LOCAL", "EXTENSION", "DOMAIN", "CLIENT_ADDRESS", "CLIENT_HELO",
	    "QUEUE_ID" };
	const char *values[] = { v->sender, v->rcpt, v->orig, v->user,
	    v->ext, v->domain, v->ip, v->helo, v->queue_id };
	size_t nnames = sizeof(names) / sizeof(names[0]), i;
	int bad = 0;

	/* PATH, the names, more, the three TLS names, every --env entry,
	 * the NULL */
	c->envp = calloc(1 + nnames + nmore + 3 + cfg->nenv + 1,
	    sizeof(char *));
	if (c->envp == NULL)
		return -1;
	bad |= add_env(c, "PATH", cfg->path);
	for (i = 0; i < nnames; i++)
		if (values[i] != NULL)
			bad |= add_env(c, names[i], values[i]);
	for (i = 0; i < nmore; i++)
		if (more[i][1] != NULL)
			bad |= add_env(c, more[i][0], more[i][1]);
	if (v->tls != NULL) {
		bad |= add_env(c, "TLS_PROTOCOL", v->tls->protocol);
		bad |= add_env(c, "TLS_CIPHER", v->tls->cipher);
		if (v->tls->peer_subject[0] != '\0')
			bad |= add_env(c, "TLS_PEER_SUBJECT",
			    v->tls->peer_subject);
	}
	for (i = 0; i < cfg->nenv; i++) {
		const char *eq = strchr(cfg->env[i], '=');
		const char *own = eq ? NULL : getenv(cfg->env[i]);

		if (eq != NULL)
			bad |= (c->envp[c->nenv++] = strdup(cfg->env[i])) ==
			    NULL;
		else if (own != NULL)
			bad |= add_env(c, cfg->env[i], own);
	}
	return bad ? -1 : 0;
}

/* build_argv - each template word expanded on its own (E2BIG when a
 * value does not fit) */
static int
build_argv(struct command_line *c, char *const *tmpl,
    const struct command_vars *v)
{
	size_t n = 0, i;

	while (tmpl[n] != NULL)
		n++;
	c->argv = calloc(n + 1, sizeof(char *));
	if (c->argv == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		size_t cap = strlen(tmpl[i]) * VALUE_MAX + 2;

		c->argv[i] = malloc(cap);
		if (c->argv[i] == NULL)
			return -1;
		if (command_expand(tmpl[i], v, c->argv[i], cap) == -1) {
			errno = E2BIG;
			return -1;
		}
	}
	return 0;
}

/* resolve_argv0 - argv[0] as the path that will be executed */
static int
resolve_argv0(struct command_line *c, const char *path)
{
	char resolved[4096];
	char *copy;

	if (run_resolve(c->argv[0], path, resolved, sizeof(resolved)) == -1)
		return -1;
	copy = strdup(resolved);
	if (copy == NULL)
		return -1;
	free(c->argv[0]);
	c->argv[0] = copy;
	return 0;
}

/* launch_failed - an outcome for a command that never ran: the text
 * names the step that failed, what it failed on, and why */
static void
launch_failed(struct outcome *out, const char *step,
    const char *what, int err)
{
	char text[OUTCOME_TEXT_MAX + 1];

	snprintf(text, sizeof(text), "cannot run delivery command: %s%s%s: "
	    "%s", step, what != NULL ? " " : "", what != NULL ? what : "",
	    strerror(err));
	outcome_set(out, OUT_TEMP, "4.3.0", text);
	out->status = OUTCOME_NOT_RUN;
}

/* command_no_memory - the outcome of a command that never ran for want
 * of memory */
void
command_no_memory(struct outcome *out)
{
	launch_failed(out, run_step_name(RUN_STEP_MEMORY), NULL, ENOMEM);
}

/* command_build - argv, argv[0] found in PATH, and the environment
 * (build_env(): more are its extra pairs); -1, and out names the part
 * that failed, when they cannot be built */
int
command_build(struct command_line *c, const struct config *cfg,
    char *const *tmpl, const struct command_vars *v,
    const char *const (*more)[2], size_t nmore, struct outcome *out)
{
	errno = 0;
	if (build_argv(c, tmpl, v) == -1)
		launch_failed(out, "argv", NULL, errno ? errno : ENOMEM);
	else if (resolve_argv0(c, cfg->path) == -1)
		launch_failed(out, run_step_name(RUN_STEP_EXEC), c->argv[0],
		    errno);
	else if (build_env(c, cfg, v, more, nmore) == -1)
		launch_failed(out, "environment", NULL,
		    errno ? errno : ENOMEM);
	else
		return 0;
	return -1;
}

/* command_start - start one built command; -1 (and out says which step
 * failed) if it could not be started at all */
int
command_start(struct run *r, struct command_line *c, struct outcome *out)
{
	r->argv = c->argv;
	r->envp = c->envp;
	if (run_start(r) == -1) {
		launch_failed(out, run_step_name(r->failed.step),
		    run_step_object(r), r->failed.err);
		return -1;
	}
	return 0;
}

/* command_end - a started command that ended: finished, and -1 (out
 * says which step failed) if its own child code never reached it */
int
command_end(struct run *r, struct outcome *out)
{
	run_finish(r);
	if (r->failed.step != RUN_STEP_NONE) {
		launch_failed(out, run_step_name(r->failed.step),
		    run_step_object(r), r->failed.err);
		return -1;
	}
	return 0;
}

/* command_run - run one built command to its end; -1 (and out says
 * which step failed) if it could not be started at all */
int
command_run(struct run *r, struct command_line *c, struct outcome *out)
{
	if (command_start(r, c, out) == -1)
		return -1;
	run_wait(r);
	return command_end(r, out);
}

/* command_map_end - how a run of what ended to an outcome.  Only a
 * child that was reaped before the deadline has an exit status to map
 * (outcome_from_status()); one that timed out, or whose end waitpid()
 * could not see (a launcher left SIGCHLD ignored, say), is a temporary
 * failure: its status is never read as exit 0 */
void
command_map_end(const struct run_end *e, const char *output, size_t len,
    const char *what, struct outcome *out)
{
	char text[OUTCOME_TEXT_MAX + 1];

	if (e->reaped && !e->timed_out) {
		outcome_from_status(e->status, output, len, what, out);
		if (e->short_input && out->cls == OUT_DELIVERED)
			outcome_set(out, OUT_TEMP, "4.3.0",
			    "spool read error");
		return;
	}
	if (e->timed_out)
		snprintf(text, sizeof(text), "%s timed out%s", what,
		    e->reaped ? "" : " and could not be reaped");
	else
		snprintf(text, sizeof(text), "cannot wait for %s: %s", what,
		    e->wait_errno != 0 ? strerror(e->wait_errno) :
		    "not reaped");
	outcome_set(out, OUT_TEMP, "4.3.0", text);
	out->status = e->reaped ? e->status : OUTCOME_UNSEEN;
}

/*
 * command.h - what to run for a delivery or a check, and running it.
 *
 * command_vars_init() puts the placeholder values together (the one
 * place, for the delivery command and both checks); command_expand()
 * expands one argv word, command_template_ok() and
 * command_template_message() check a template at start-up.
 * command_build() makes argv (argv[0] found in PATH) and the clean
 * environment into a struct command_line; command_start(),
 * command_end() and command_run() have run.h's runner start it and
 * finish it, and command_map_end() maps how the run ended to an
 * outcome.  A command that could not be built or started is a
 * temporary failure whose text names the step.  This module never
 * decides what to run a command on (deliver.c, checks.c) and never
 * logs.
 */
#ifndef PIPESMTPD_COMMAND_H
#define PIPESMTPD_COMMAND_H

#include <stddef.h>

#include "address.h"
#include "config.h"
#include "outcome.h"

struct run;		/* run.h: one command run */
struct run_end;		/* run.h: how a run of a command ended */
struct tls_info;	/* tls.h: what the TLS engine reported */

/* Values the placeholders and the environment are made from. */
struct command_vars {
	const char *sender;	/* %s */
	const char *rcpt;	/* %r */
	const char *orig;	/* ORIGINAL_RECIPIENT: as the client gave
				   it, before --aliases */
	const char *user;	/* %u */
	const char *local;	/* %l */
	const char *ext;	/* %e */
	const char *domain;	/* %d */
	const char *ip;		/* %i */
	const char *helo;	/* %h */
	const char *queue_id;	/* %q */
	const struct tls_info *tls;	/* TLS_PROTOCOL, TLS_CIPHER,
				   TLS_PEER_SUBJECT; or NULL */
};

/* An expanded argv and environment, heap-allocated. */
struct command_line {
	char **argv;		/* argv[0] resolved in PATH */
	char **envp;
	size_t nenv;		/* entries of envp made so far */
};

void command_vars_init(struct command_vars *v, const struct config *cfg,
    const struct address *sender, const struct address *rcpt,
    const char *helo, const char *queue_id, const struct tls_info *tls);
int command_template_ok(const char *tmpl);
int command_template_message(const char *tmpl);
int command_expand(const char *tmpl, const struct command_vars *v,
    char *out, size_t cap);
int command_build(struct command_line *c, const struct config *cfg,
    char *const *tmpl, const struct command_vars *v,
    const char *const (*more)[2], size_t nmore, struct outcome *out);
void command_free(struct command_line *c);
void command_no_memory(struct outcome *out);
int command_start(struct run *r, struct command_line *c,
    struct outcome *out);
int command_end(struct run *r, struct outcome *out);
int command_run(struct run *r, struct command_line *c, struct outcome *out);
void command_map_end(const struct run_end *e, const char *output,
    size_t len, const char *what, struct outcome *out);

#endif

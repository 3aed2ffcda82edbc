/*
 * run.h - start, feed, time and reap one command.
 *
 * run_start() starts an argv (posix_spawn, or fork and execve when it
 * must switch accounts first; never a shell) in a process group of its
 * own; run_wait() (or run_watch() and run_advance() in the caller's
 * poll loop) feeds its stdin, keeps the first RUN_CAPTURE_MAX octets of
 * what it writes (and its stdout apart, when asked), kills the group at
 * the deadline and reaps it; run_finish() closes what is left.  It
 * reports how the run ended (struct run_end) or which start-up step
 * failed (struct run_report).  run_become() is the one account switch,
 * the command's and --user's (smtpd.c).  What to run, and what the end
 * means for a message, is the caller's business (command.c, deliver.c,
 * jobs.c, checks.c).
 */
#ifndef PIPESMTPD_RUN_H
#define PIPESMTPD_RUN_H

#include <stddef.h>
#include <poll.h>
#include <sys/types.h>

#define RUN_CAPTURE_MAX	4096	/* command output kept */
#define RUN_POLL_MAX	4	/* descriptors one run waits on */
#define RUN_JOBS_MAX	64	/* most runs at once (--jobs) */

struct run_live;	/* run.c: a started run's own side */

/* How one run of a command ended, as the runner saw it. */
struct run_end {
	int status;		/* wait status, valid only when reaped */
	int reaped;		/* waitpid() returned the child */
	int wait_errno;		/* waitpid() failed with this, or 0 */
	int timed_out;		/* killed at the deadline */
	int short_input;	/* the spool ended early */
};

/* The account a command runs as (--as-recipient), or the server
 * (--user: home unused). */
struct run_account {
	uid_t uid;
	gid_t gid;
	gid_t *groups;			/* supplementary groups, heap */
	int ngroups;
	char home[1024];
	int home_missing;		/* no directory there: run in / */
};

/* The steps of starting a command, named in the failure text. */
enum run_step {
	RUN_STEP_NONE,		/* it started */
	RUN_STEP_MEMORY,
	RUN_STEP_PIPE,		/* its stdin, output or status pipe */
	RUN_STEP_FORK,
	RUN_STEP_SPAWN,		/* posix_spawn(): fork and exec in one */
	RUN_STEP_DUP2,		/* fds 0, 1, 2 in the child */
	RUN_STEP_SETGROUPS,
	RUN_STEP_SETGID,
	RUN_STEP_SETUID,
	RUN_STEP_CHDIR,
	RUN_STEP_EXEC
};

/* Why a command did not start: the child writes it to the parent
 * through the close-on-exec status pipe (one write, atomic). */
struct run_report {
	int step;			/* enum run_step */
	int err;			/* errno */
};

/* What a command reads on stdin. */
enum run_input {
	RUN_IN_NULL,		/* /dev/null: --rcpt-check */
	RUN_IN_PIPE,		/* head, then the spool, through a pipe */
	RUN_IN_SPOOL		/* the spool itself from spool_off,
				   reopened read-only (no /proc:
				   RUN_IN_PIPE instead) */
};

/* A command's standard output kept apart from its standard error
 * (--data-check's header fields): the first cap octets. */
struct run_split {
	char *buf;
	size_t cap;
	size_t len;
	int over;			/* it wrote more than cap */
};

/* One command run: what goes in, what came out, how it ended. */
struct run {
	char *const *argv;		/* argv[0] already resolved */
	char *const *envp;
	enum run_input input;
	const struct run_account *acct;	/* NULL: the server's own ids */
	const char *head;		/* prepended headers */
	size_t headlen;
	int spool_fd;
	unsigned long long spool_off;	/* where its part of the spool starts */
	unsigned long long spool_len;	/* octets of the spool from there */
	long long deadline;		/* deadline_now() units */
	char out[RUN_CAPTURE_MAX];	/* first RUN_CAPTURE_MAX octets (of
					   stderr alone, with split) */
	size_t outlen;
	struct run_split *split;	/* NULL: stdout goes to out too */
	struct run_end end;		/* how it ended */
	struct run_report failed;	/* step RUN_STEP_NONE: it started */
	struct run_live *live;		/* started, not finished: heap */
};

int run_start(struct run *r);
nfds_t run_watch(const struct run *r, struct pollfd *fds, int *ms);
int run_advance(struct run *r, const struct pollfd *fds, nfds_t n);
void run_wait(struct run *r);
void run_finish(struct run *r);
int run_resolve(const char *name, const char *path, char *out, size_t cap);
enum run_step run_become(const struct run_account *a);
const char *run_step_name(enum run_step step);
const char *run_step_object(const struct run *r);

#endif

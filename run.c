/*
 * run.c - start, feed, time and reap one command.
 *
 * Entry points: run_start(), then run_wait() (or run_watch() and
 * run_advance() in the caller's own poll loop, as jobs.c does) until it
 * ends, then run_finish(); run_resolve() (argv[0] found in PATH),
 * run_become() (an account's ids, taken and checked: the command's child
 * and smtpd.c's --user both switch with it), run_step_name() and
 * run_step_object() (a failed start in words); its deadline is a
 * deadline.h one.  The command is started with posix_spawn(), or fork()
 * and execve() when it must switch accounts first, never through a shell,
 * in its own process group so a timeout kills its children too.  Its stdin
 * is /dev/null, the spool itself reopened read-only through /proc (headers
 * shared by all recipients are at its head), or a pipe fed with the
 * caller's headers and the spool from an offset; never a descriptor it
 * could write to or share an offset through.  Its stdout may be kept
 * apart from its stderr (struct run_split: --data-check's fields).  The
 * child's only descriptors are 0, 1 and 2 (everything else is
 * close-on-exec).  This module never decides what a run means: the
 * caller maps struct run_end to an outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "deadline.h"
#include "run.h"

static const char *const step_names[] = {
	"", "memory", "pipe", "fork", "spawn", "dup2", "setgroups", "setgid",
	"setuid", "chdir", "exec"
};

/* The parent's side of a started run: what it feeds, drains and
 * watches.  Per run: this (64 KiB buffer) and up to five descriptors. */
struct run_live {
	pid_t pid;
	int in_fd, out_fd;		/* -1 once closed */
	int split_fd;			/* stdout apart (run.split), or -1 */
	int exit_fd;			/* pidfd: readable at its exit, or -1 */
	int status_fd;			/* our child code's report, or -1 */
	unsigned long long sent;	/* octets of head + spool written */
	char buf[65536];
	size_t bpos, blen;
	int no_splice;			/* splice() refused: copy instead */
};

/* runnable - 0 if path is an executable regular file, else -1 and errno.
 * Checked before the spawn as well, because where posix_spawn cannot
 * report a failed exec the child's exit 127 would read as permanent. */
static int
runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return access(path, X_OK);
}

/* run_resolve - argv[0] as a path: PATH lookup for a bare name */
int
run_resolve(const char *name, const char *path, char *out, size_t cap)
{
	const char *p = path;
	int ret;

	if (strchr(name, '/') != NULL) {
		ret = snprintf(out, cap, "%s", name);
		if (ret < 0 || (size_t)ret >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return runnable(out);
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ":");

		ret = snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "./",
		    name);
		if (ret >= 0 && (size_t)ret < cap && runnable(out) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	errno = ENOENT;
	return -1;
}

/* child_fail - in the child: tell the parent which step failed and why
 * through the status pipe, and exit EX_TEMPFAIL: the administrator can
 * fix it before the sender retries */
static void __attribute__((noreturn))
child_fail(int status_fd, enum run_step step, int err)
{
	struct run_report rep = { step, err };

	if (write(status_fd, &rep, sizeof(rep)) < 0)
		_exit(EX_TEMPFAIL);
	_exit(EX_TEMPFAIL);
}

/* run_become - take account a's groups, gid and uid, in that order,
 * each checked, and uid 0 checked gone for good unless a is uid 0:
 * RUN_STEP_NONE, or the step that failed, with errno the call's error,
 * or 0 when the call succeeded but the ids are not a's (or uid 0 can be
 * taken back).  No allocation, no lock: safe in a child after fork(). */
enum run_step
run_become(const struct run_account *a)
{
	if (setgroups((size_t)a->ngroups, a->groups) == -1)
		return RUN_STEP_SETGROUPS;
	if (setgid(a->gid) == -1)
		return RUN_STEP_SETGID;
	errno = 0;
	if (getgid() != a->gid || getegid() != a->gid)
		return RUN_STEP_SETGID;
	if (setuid(a->uid) == -1)
		return RUN_STEP_SETUID;
	errno = 0;
	if (getuid() != a->uid || geteuid() != a->uid ||
	    (a->uid != 0 && setuid(0) != -1))
		return RUN_STEP_SETUID;
	return RUN_STEP_NONE;
}

/* switch_account - in the child: the account's ids (run_become()), a
 * wrong id reported as EPERM; then the home, or / when it is missing
 * (HOME still names it) */
static void
switch_account(const struct run_account *a, int status_fd)
{
	enum run_step step = run_become(a);

	if (step != RUN_STEP_NONE)
		child_fail(status_fd, step, errno != 0 ? errno : EPERM);
	if (chdir(a->home_missing ? "/" : a->home) == -1)
		child_fail(status_fd, RUN_STEP_CHDIR, errno);
}

/* child_exec - in the child: fds (stdout to stdout_fd, stderr to
 * out_fd), process group, signals, account, exec */
static void
child_exec(const struct run *r, int in_fd, int stdout_fd, int out_fd,
    int status_fd)
{
	sigset_t none;

	setpgid(0, 0);
	if (in_fd < 0)
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 ||
	    dup2(out_fd, 2) < 0)
		child_fail(status_fd, RUN_STEP_DUP2, errno);
	/* ignored signals survive exec: give the command the defaults */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (r->acct != NULL)
		switch_account(r->acct, status_fd);
	execve(r->argv[0], r->argv, r->envp);
	child_fail(status_fd, RUN_STEP_EXEC, errno);
}

/* input_done - stop feeding; a short spool must not count as delivered */
static void
input_done(struct run *r, struct run_live *p, int short_read)
{
	close(p->in_fd);
	p->in_fd = -1;
	if (short_read)
		r->end.short_input = 1;
}

/* refill - the next buffer of head or spool octets; -1 on a short spool */
static int
refill(struct run *r, struct run_live *p)
{
	unsigned long long off = p->sent, total = r->headlen + r->spool_len;
	size_t want = sizeof(p->buf);
	ssize_t n;

	p->bpos = 0;
	if (off < r->headlen) {
		p->blen = r->headlen - (size_t)off;
		memcpy(p->buf, r->head + off, p->blen);
		return 0;
	}
	if (total - off < want)
		want = (size_t)(total - off);
	n = pread(r->spool_fd, p->buf, want, (off_t)(r->spool_off + off -
	    r->headlen));
	p->blen = n > 0 ? (size_t)n : 0;
	return n > 0 ? 0 : -1;
}

/* splice_spool - spool to pipe inside the kernel: 1 moved (or refused:
 * p->no_splice tells), 0 would block, -1 the reader is gone, -2 the spool
 * is shorter than it should be */
static int
splice_spool(struct run *r, struct run_live *p)
{
	loff_t off = (loff_t)(r->spool_off + p->sent - r->headlen);
	unsigned long long left = r->headlen + r->spool_len - p->sent;
	ssize_t n = splice(r->spool_fd, &off, p->in_fd, NULL,
	    left < (1u << 20) ? (size_t)left : (1u << 20), SPLICE_F_NONBLOCK);

	if (n > 0)
		p->sent += (unsigned long long)n;
	else if (n < 0 && (errno == EINVAL || errno == ENOSYS))
		p->no_splice = 1;
	else if (n < 0 && errno == EAGAIN)
		return 0;
	else if (n < 0 && errno == EPIPE)
		return -1;
	else if (n == 0 || errno != EINTR)
		return -2;
	return 1;
}

/* pump_input - move head + spool into the command's stdin as far as the
 * pipe takes it.  EPIPE is not a failure: a command may stop reading. */
static void
pump_input(struct run *r, struct run_live *p)
{
	unsigned long long total = r->headlen + r->spool_len;

	while (p->in_fd >= 0) {
		ssize_t n;

		if (p->bpos == p->blen && p->sent >= total) {
			input_done(r, p, 0);
			return;
		}
		if (p->bpos == p->blen && p->sent >= r->headlen &&
		    !p->no_splice) {
			int moved = splice_spool(r, p);

			if (moved < 0)
				input_done(r, p, moved == -2);
			if (moved <= 0)
				return;
			continue;
		}
		if (p->bpos == p->blen && refill(r, p) == -1) {
			input_done(r, p, 1);
			return;
		}
		n = write(p->in_fd, p->buf + p->bpos, p->blen - p->bpos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {			/* EPIPE: it stopped reading */
			input_done(r, p, 0);
			return;
		}
		p->bpos += (size_t)n;
		p->sent += (unsigned long long)n;
	}
}

/* drain - read what *fd holds; keep the first cap octets in buf (*len)
 * and count in *over what did not fit; *fd is -1 once it is closed */
static void
drain(int *fd, char *buf, size_t cap, size_t *len, int *over)
{
	char tmp[8192];

	while (*fd >= 0) {
		ssize_t n = read(*fd, tmp, sizeof(tmp));
		size_t keep = cap - *len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(*fd);
			*fd = -1;
			return;
		}
		if ((size_t)n < keep)
			keep = (size_t)n;
		memcpy(buf + *len, tmp, keep);
		*len += keep;
		*over |= keep < (size_t)n;
	}
}

/* drain_output - read what the command wrote: its output (stderr alone
 * with a split) into out, its stdout into the split */
static void
drain_output(struct run *r, struct run_live *p)
{
	int over = 0;

	drain(&p->out_fd, r->out, RUN_CAPTURE_MAX, &r->outlen, &over);
	if (r->split != NULL)
		drain(&p->split_fd, r->split->buf, r->split->cap,
		    &r->split->len, &r->split->over);
}

/* child_fd - a descriptor that polls readable when the child exits
 * (pidfd_open, close-on-exec by birth), or -1 where there is none */
static int
child_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* wait_child - waitpid() for the child: 1 when it has ended (reaped, or
 * waitpid() failed: end.wait_errno says why), 0 while it runs.  A
 * failure other than EINTR ends the wait: under an ignored SIGCHLD the
 * kernel reaps the child itself and its status is lost, so the run has
 * no exit status to read, and the outcome says so */
static int
wait_child(struct run *r, pid_t pid, int flags)
{
	pid_t w;

	do
		w = waitpid(pid, &r->end.status, flags);
	while (w < 0 && errno == EINTR);
	if (w == pid)
		r->end.reaped = 1;
	else if (w < 0)
		r->end.wait_errno = errno;
	return w != 0;
}

/* kill_group - the deadline passed: the whole group dies, its own
 * children too, and the child is reaped */
static void
kill_group(struct run *r, pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	r->end.timed_out = 1;
	wait_child(r, pid, 0);
}

/* run_watch - the descriptors r waits on into fds (RUN_POLL_MAX at
 * most; their count returned), and *ms lowered to what r may wait:
 * its deadline, or a tick where there is no pidfd */
nfds_t
run_watch(const struct run *r, struct pollfd *fds, int *ms)
{
	const struct run_live *p = r->live;
	nfds_t n = 0;

	*ms = deadline_ms_left(r->deadline, *ms);
	if (p->out_fd >= 0)
		fds[n++] = (struct pollfd){ p->out_fd, POLLIN, 0 };
	if (p->split_fd >= 0)
		fds[n++] = (struct pollfd){ p->split_fd, POLLIN, 0 };
	if (p->in_fd >= 0)
		fds[n++] = (struct pollfd){ p->in_fd, POLLOUT, 0 };
	if (p->exit_fd >= 0)
		fds[n++] = (struct pollfd){ p->exit_fd, POLLIN, 0 };
	else if (*ms > 20)
		*ms = 20;	/* no pidfd: tick while it runs */
	return n;
}

/* run_advance - after a poll() over run_watch()'s fds (n of them):
 * feed stdin and drain output if any is ready, then see whether it
 * ended (not whether the pipe closed: a background child may keep it
 * open) or its deadline passed (the group is killed); 1 once it ended */
int
run_advance(struct run *r, const struct pollfd *fds, nfds_t n)
{
	struct run_live *p = r->live;
	nfds_t i;

	for (i = 0; i < n && fds[i].revents == 0; i++)
		;
	if (i < n) {
		drain_output(r, p);
		pump_input(r, p);
	}
	if (!wait_child(r, p->pid, WNOHANG)) {
		if (deadline_ms_left(r->deadline, 1) > 0)
			return 0;
		kill_group(r, p->pid);
	}
	drain_output(r, p);
	return 1;
}

/* run_wait - the parent's loop over one started run: poll, advance,
 * until it ends */
void
run_wait(struct run *r)
{
	struct pollfd fds[RUN_POLL_MAX];
	nfds_t n = 0;

	while (!run_advance(r, fds, n)) {
		int ms = 60000;

		n = run_watch(r, fds, &ms);
		if (poll(fds, n, ms) <= 0)
			n = 0;
	}
}

/* reopen_spool - the spool opened again through /proc: read-only, with
 * an offset of its own at 0, so nothing a command (or a child it leaves
 * behind) does to its stdin reaches another recipient's copy.  -1 where
 * /proc is missing (chroots, sandboxes) or names another file: never a
 * dup, whose offset would be shared and whose access is read-write */
static int
reopen_spool(int fd)
{
	char path[64];
	struct stat ours, theirs;
	int nfd, ret;

	ret = snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ret < 0 || (size_t)ret >= sizeof(path))
		return -1;
	nfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (nfd < 0)
		return -1;
	if (fstat(fd, &ours) == -1 || fstat(nfd, &theirs) == -1 ||
	    ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) {
		close(nfd);
		return -1;
	}
	return nfd;
}

/* close_all - close the descriptors that are open */
static void
close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* open_stdio - fds[0] the child's stdin (-1: /dev/null), fds[1] our end
 * of its stdin pipe, fds[2] our end of its output pipe, fds[3] its end,
 * fds[4] and fds[5] the exec status pipe of our own child code (posix_spawn
 * reports for itself), fds[6] and fds[7] its stdout's own pipe (with a
 * split); all close-on-exec from birth */
static int
open_stdio(struct run *r, int fds[8])
{
	int saved, i;

	for (i = 0; i < 8; i++)
		fds[i] = -1;
	if (r->acct != NULL && pipe2(fds + 4, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(fds + 2, O_CLOEXEC) == -1 ||
	    (r->split != NULL && pipe2(fds + 6, O_CLOEXEC) == -1))
		goto fail;
	if (r->input == RUN_IN_SPOOL &&
	    (fds[0] = reopen_spool(r->spool_fd)) >= 0 &&
	    lseek(fds[0], (off_t)r->spool_off, SEEK_SET) != -1)
		return 0;
	if (fds[0] >= 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	if (r->input == RUN_IN_SPOOL)
		r->input = RUN_IN_PIPE;	/* the spool, headers and all, piped */
	if (r->input == RUN_IN_PIPE && pipe2(fds, O_CLOEXEC) == 0)
		return 0;
	if (r->input == RUN_IN_NULL)
		return 0;
fail:
	saved = errno;
	close_all(fds, 8);
	errno = saved;
	return -1;
}

/* spawn - start the command without copying the server's address space
 * (posix_spawn, vfork-like on Linux), set up as child_exec() does: own
 * process group, fds 0, 1, 2 only, every signal at its default and none
 * blocked.  An exec failure comes back as the error. */
static pid_t
spawn(const struct run *r, int in_fd, int stdout_fd, int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	pid_t pid = -1;
	int err;

	if ((err = posix_spawn_file_actions_init(&fa)) != 0)
		goto out;
	if ((err = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	sigfillset(&all);
	sigemptyset(&none);
	err = in_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, in_fd, 0) :
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (err == 0)
		err = posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
	if (err == 0)
		err = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	if (err == 0)
		err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
		    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (err == 0)
		err = posix_spawnattr_setsigdefault(&at, &all);
	if (err == 0)
		err = posix_spawnattr_setsigmask(&at, &none);
	if (err == 0)
		err = posix_spawn(&pid, r->argv[0], &fa, &at, r->argv,
		    r->envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
out:
	errno = err;
	return err == 0 ? pid : -1;
}

/* start_failed - run_start() could not start the command: -1 */
static int
start_failed(struct run *r, enum run_step step, int err)
{
	r->failed.step = step;
	r->failed.err = err;
	return -1;
}

/* run_start - fork/exec with the chosen stdin and an output pipe, and
 * the first of its input fed; -1 when the command could not be started
 * (r->failed says where).  What it fills in (out, outlen, end, failed)
 * must start zeroed.  run_advance() it until it ends, then
 * run_finish(). */
int
run_start(struct run *r)
{
	/* malloc, not calloc: the 64 KiB buffer is only touched when a pipe
	 * must be fed by copying, not on every delivery */
	struct run_live *p = malloc(sizeof(*p));
	int fds[8], saved, stdout_fd;
	pid_t pid;

	if (p == NULL)
		return start_failed(r, RUN_STEP_MEMORY, ENOMEM);
	p->sent = 0;
	p->bpos = p->blen = 0;
	p->no_splice = 0;
	if (open_stdio(r, fds) == -1) {
		free(p);
		return start_failed(r, RUN_STEP_PIPE, errno);
	}
	stdout_fd = r->split != NULL ? fds[7] : fds[3];
	/* switching accounts needs our own child code; else the cheap path */
	pid = r->acct != NULL ? fork() : spawn(r, fds[0], stdout_fd, fds[3]);
	if (pid == 0)
		child_exec(r, fds[0], stdout_fd, fds[3], fds[5]);
	saved = errno;
	close_all((int []){ fds[0], fds[3], fds[5], fds[7] }, 4);
	p->in_fd = fds[1];
	p->out_fd = fds[2];
	p->split_fd = fds[6];
	p->status_fd = fds[4];
	if (pid < 0) {
		close_all((int []){ fds[1], fds[2], fds[4], fds[6] }, 4);
		free(p);
		return start_failed(r, r->acct != NULL ? RUN_STEP_FORK :
		    RUN_STEP_SPAWN, saved);
	}
	setpgid(pid, pid);	/* as the child does: no race with kill */
	p->pid = pid;
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	if (p->split_fd >= 0)
		fcntl(p->split_fd, F_SETFL, O_NONBLOCK);
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	r->live = p;
	pump_input(r, p);
	p->exit_fd = child_fd(pid);
	return 0;
}

/* run_finish - a run that ended: its start-up report read (the status
 * pipe holds one, or is empty), its descriptors closed, its memory
 * freed */
void
run_finish(struct run *r)
{
	struct run_live *p = r->live;

	if (p->status_fd < 0 || read(p->status_fd, &r->failed,
	    sizeof(r->failed)) != (ssize_t)sizeof(r->failed) ||
	    r->failed.step <= RUN_STEP_NONE || r->failed.step > RUN_STEP_EXEC)
		r->failed.step = RUN_STEP_NONE;
	close_all((int []){ p->in_fd, p->out_fd, p->split_fd, p->status_fd,
	    p->exit_fd }, 5);
	free(p);
	r->live = NULL;
}

/* run_step_name - the word for a start-up step in a failure text */
const char *
run_step_name(enum run_step step)
{
	return step_names[step];
}

/* run_step_object - what r's failed step failed on, for the text, or
 * NULL */
const char *
run_step_object(const struct run *r)
{
	if (r->failed.step == RUN_STEP_EXEC ||
	    r->failed.step == RUN_STEP_SPAWN)
		return r->argv[0];
	if (r->failed.step == RUN_STEP_CHDIR)
		return r->acct->home_missing ? "/" : r->acct->home;
	return NULL;
}

/*
 * harness.c - start ./pipesmtpd as inetd does and talk to it.
 *
 * Entry points: h_start()/h_send()/h_reply()/h_finish() for a dialogue,
 * h_run() for a whole scripted session, h_codes() to reduce replies to
 * "code enhanced-code" pairs, and readers of the recorder's files.
 *
 * Every wait is bounded: the client side is one poll() loop that writes
 * what is pending and reads replies and log at the same time, so a server
 * that stops reading cannot block a test, and a server that never ends is
 * killed at H_BOUND_MS and fails the test.  It never uses a TCP port.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

char h_dir[4096];
char h_base[4096];
const char *h_tcase_names[H_MAX_TCASES];
size_t h_ntcases;

/* ---- small things ---- */

/* Everything the h_ functions return is kept here and freed by
 * h_teardown(), so tests never free and sanitizer builds see no leaks. */
static void **arena;
static size_t narena, carena;

/* xrealloc - memory or a failed test */
static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	ck_assert_msg(q != NULL, "out of memory");
	return q;
}

/* keep - hand p to the arena */
static void *
keep(void *p)
{
	if (narena == carena) {
		carena = carena * 2 + 64;
		arena = xrealloc(arena, carena * sizeof(*arena));
	}
	arena[narena++] = p;
	return p;
}

/* arena_free - everything kept so far */
static void
arena_free(void)
{
	while (narena > 0)
		free(arena[--narena]);
	free(arena);
	arena = NULL;
	carena = 0;
}

/* h_strf - a formatted string, freed at teardown */
char *
h_strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0, "out of memory");
	return keep(s);
}

/* h_repeat - unit repeated times */
char *
h_repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit), i;
	char *s = xrealloc(NULL, n * times + 1);

	for (i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return keep(s);
}

/* h_scaled - a time limit stretched by PIPESMTPD_BOUND_SCALE (a whole
 * number, default 1), for servers run under a slow wrapper */
long
h_scaled(long ms)
{
	const char *e = getenv("PIPESMTPD_BOUND_SCALE");
	long k = e != NULL ? strtol(e, NULL, 10) : 1;

	return ms * (k > 1 ? k : 1);
}

/* h_root - whether the tests run as root (CI does) */
int
h_root(void)
{
	return geteuid() == 0;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- fixture ---- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* h_setup - a fresh record directory for the test */
void
h_setup(void)
{
	int n = snprintf(h_dir, sizeof(h_dir), "%s/t.XXXXXX",
	    h_base[0] ? h_base : "/tmp");

	ck_assert(n > 0 && (size_t)n < sizeof(h_dir));
	ck_assert_msg(mkdtemp(h_dir) != NULL, "mkdtemp: %s",
	    strerror(errno));
	chmod(h_dir, 0755);
}

/* h_nulltls - o runs the server under tests/nulltls, a UCSPI-TLS
 * launcher without the cryptography, whose engine takes the option opt
 * with val (or none) */
void
h_nulltls(struct h_opts *o, const char *opt, const char *val)
{
	int i = 0;

	o->wrap[i++] = H_NULLTLS;
	if (opt != NULL) {
		o->wrap[i++] = opt;
		o->wrap[i++] = val;
	}
	o->wrap[i++] = "--";
	o->wrap[i] = NULL;
}

/* h_fresh - an empty record directory again, inside one test */
void
h_fresh(void)
{
	if (h_dir[0] != '\0')
		nftw(h_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	h_setup();
}

/* h_teardown - remove it and free what the test got from h_ functions
 * (main removes h_base, so a failed test's records go too) */
void
h_teardown(void)
{
	if (h_dir[0] != '\0')
		nftw(h_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	h_dir[0] = '\0';
	arena_free();
}

/* h_tcase - a test case with the fixture and a bound above H_BOUND_MS;
 * its name listed in h_tcase_names */
TCase *
h_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	if (h_ntcases < H_MAX_TCASES)
		h_tcase_names[h_ntcases++] = name;

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 60);
	return tc;
}

/* ---- the server ---- */

static void
push_arg(const char **v, size_t *n, size_t cap, const char *s)
{
	ck_assert_msg(*n + 1 < cap, "too many arguments");
	v[(*n)++] = s;
	v[*n] = NULL;
}

/* build_argv - the test's wrapper words, the environment's
 * (PIPESMTPD_WRAPPER, split on spaces, e.g. "valgrind -q"), program, the
 * common options, the test's, the command */
static void
build_argv(const struct h_opts *o, const char **v, size_t cap)
{
	const char *wrap = getenv("PIPESMTPD_WRAPPER");
	char *copy, *save = NULL, *w;
	size_t n = 0, i;

	for (i = 0; i < 8 && o->wrap[i] != NULL; i++)
		push_arg(v, &n, cap, o->wrap[i]);
	if (wrap != NULL && wrap[0] != '\0') {
		copy = h_strf("%s", wrap);
		for (w = strtok_r(copy, " \t", &save); w != NULL;
		    w = strtok_r(NULL, " \t", &save))
			push_arg(v, &n, cap, w);
	}
	push_arg(v, &n, cap, H_BIN);
	if (!o->bare) {
		push_arg(v, &n, cap, "--log-stderr");
		push_arg(v, &n, cap, "--hostname");
		push_arg(v, &n, cap, H_HOST);
		if (h_root() && !o->no_allow_root)
			push_arg(v, &n, cap, "--allow-root");
	}
	for (i = 0; i < H_MAX_ARGS && o->args[i] != NULL; i++)
		push_arg(v, &n, cap, o->args[i]);
	if (o->cmd[0] != NULL) {
		for (i = 0; i < 24 && o->cmd[i] != NULL; i++)
			push_arg(v, &n, cap, o->cmd[i]);
	} else if (!o->bare) {
		push_arg(v, &n, cap, "--");
		push_arg(v, &n, cap, H_RECORDER);
		push_arg(v, &n, cap, h_dir);
	}
}

/* in_env - whether the test sets NAME itself */
static int
in_env(const struct h_opts *o, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < 24 && o->env[i] != NULL; i++)
		if (strncmp(o->env[i], name, n) == 0 && o->env[i][n] == '=')
			return 1;
	return 0;
}

/* build_env - PATH (unless told), sanitizer options (unless the test
 * sets its own), the test's */
static void
build_env(const struct h_opts *o, char **v, size_t cap)
{
	static const char *keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS" };
	size_t n = 0, i;
	int has_path = 0;

	for (i = 0; i < 24 && o->env[i] != NULL; i++)
		has_path |= strncmp(o->env[i], "PATH=", 5) == 0;
	if (!o->no_path && !has_path && getenv("PATH") != NULL)
		v[n++] = h_strf("PATH=%s", getenv("PATH"));
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (getenv(keep[i]) != NULL && !in_env(o, keep[i]))
			v[n++] = h_strf("%s=%s", keep[i], getenv(keep[i]));
	for (i = 0; i < 24 && o->env[i] != NULL && n + 1 < cap; i++)
		v[n++] = (char *)o->env[i];
	v[n] = NULL;
}

/* tcp_pair - a connected loopback TCP pair on an ephemeral port, as
 * inetd would accept it: sv[0] the client's end, sv[1] the server's */
static void
tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(l >= 0);
	ck_assert(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(listen(l, 1) == 0);
	ck_assert(getsockname(l, (struct sockaddr *)&a, &len) == 0);
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(sv[0] >= 0);
	ck_assert(connect(sv[0], (struct sockaddr *)&a, sizeof(a)) == 0);
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert(sv[1] >= 0);
	close(l);
}

/* limit_child - in the child before exec: the resource limits and
 * groups the test asked for */
static int
limit_child(const struct h_opts *o)
{
	static const gid_t extra[] = { 0, 4, 27 };
	struct rlimit rl = { 0, 0 };

	if (o->fsize > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)o->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			return -1;
	}
	if (o->nofile > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)o->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -1;
	}
	if (o->no_fork) {
		rl.rlim_cur = rl.rlim_max = 0;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			return -1;
	}
	if (o->extra_groups && geteuid() == 0 &&
	    setgroups(sizeof(extra) / sizeof(extra[0]), extra) == -1)
		return -1;
	return 0;
}

/* private_mount_ns - in the child: a mount namespace of its own, whose
 * mounts never propagate back; -1 if the system will not give one */
static int
private_mount_ns(void)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	return 0;
}

/* h_can_unshare - whether dev_log can work here: root, and a private
 * mount namespace to be had (a confined container may refuse it) */
int
h_can_unshare(void)
{
	int status;
	pid_t pid;

	if (!h_root())
		return 0;
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0)
		_exit(private_mount_ns() == 0 ? 0 : 1);
	ck_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* bind_onto - in the child: src bind-mounted over /dev/name, made */
static int
bind_onto(const char *src, const char *name)
{
	char dst[64];
	int fd;

	snprintf(dst, sizeof(dst), "/dev/%s", name);
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 || close(fd) == -1)
		return -1;
	return mount(src, dst, NULL, MS_BIND, NULL);
}

/* private_dev_log - in the child: a fresh /dev in a mount namespace of
 * its own, holding the devices a server may open and, as log, the
 * test's socket, so what it sends to syslog comes to the test */
static int
private_dev_log(const char *sock)
{
	static const char *const devs[] = { "null", "zero", "urandom" };
	int fd[3];
	char src[64];
	size_t i;

	if (private_mount_ns() == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "/dev/%s", devs[i]);
		if ((fd[i] = open(src, O_PATH | O_CLOEXEC)) < 0)
			return -1;
	}
	if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fd[i]);
		if (bind_onto(src, devs[i]) == -1)
			return -1;
	}
	return bind_onto(sock, "log");
}

/* tty_pair - out[0] our end of a pty (the master), out[1] the terminal
 * the server gets as its stdout, both close-on-exec */
static void
tty_pair(int out[2])
{
	ck_assert(openpty(&out[0], &out[1], NULL, NULL, NULL) == 0);
	ck_assert(fcntl(out[0], F_SETFD, FD_CLOEXEC) == 0);
	ck_assert(fcntl(out[1], F_SETFD, FD_CLOEXEC) == 0);
}

/* std_pipes - under pipes: sv[0] our write end of the server's stdin,
 * sv[1] its read end; out[0] our read end of its stdout, out[1] its
 * write end.  Under tty_out: sv the connection, out a pty.  Otherwise
 * sv is the connection and out repeats sv. */
static void
std_pipes(const struct h_opts *o, int sv[2], int out[2])
{
	int in[2];

	if (!o->pipes) {
		if (o->tcp)
			tcp_pair(sv);
		else
			ck_assert(socketpair(AF_UNIX, SOCK_STREAM |
			    SOCK_CLOEXEC, 0, sv) == 0);
		out[0] = sv[0];
		out[1] = sv[1];
		if (o->tty_out)
			tty_pair(out);
		return;
	}
	ck_assert(pipe2(in, O_CLOEXEC) == 0);
	ck_assert(pipe2(out, O_CLOEXEC) == 0);
	sv[0] = in[1];
	sv[1] = in[0];
	/* a write to a server that is gone: EPIPE, not this test's death */
	signal(SIGPIPE, SIG_IGN);
}

/* exec_server - in the child: in, out and err as fds 0, 1 and 2 and
 * nothing else open (but what leak_fds asks for), the limits and the
 * signal state the test asked for, then the server; never returns */
static void
exec_server(const struct h_opts *o, const char **argv, char **envp,
    int in, int out, int err)
{
	sigset_t all;
	int fd;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(o->stderr_sock ? in : err, 2) < 0)
		_exit(126);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	if (o->leak_fds) {	/* as a careless launcher might */
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 5) < 0 || dup2(fd, 9) < 0)
			_exit(126);
	}
	if (limit_child(o) == -1 ||
	    (o->dev_log != NULL && private_dev_log(o->dev_log) == -1))
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	if (o->sigchld_ignored && signal(SIGCHLD, SIG_IGN) == SIG_ERR)
		_exit(126);
	if (o->sigmask_all)
		sigfillset(&all);
	else
		sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* a wrapper is found in the harness's own PATH */
	execvpe(argv[0], (char *const *)argv, envp);
	_exit(127);
}

/* h_start - the server on a socketpair (or pipes) as fd 0 and 1, stderr
 * to a pipe */
void
h_start(struct h_proc *p, const struct h_opts *o)
{
	static const struct h_opts none;
	const char *argv[H_MAX_ARGS + 64];
	char *envp[40];
	int sv[2], out[2], ep[2];

	if (o == NULL)
		o = &none;
	memset(p, 0, sizeof(*p));
	p->out = xrealloc(NULL, 1);
	p->out[0] = '\0';
	p->log = xrealloc(NULL, 1);
	p->log[0] = '\0';
	build_argv(o, argv, sizeof(argv) / sizeof(argv[0]));
	build_env(o, envp, sizeof(envp) / sizeof(envp[0]));
	std_pipes(o, sv, out);
	ck_assert(pipe2(ep, O_CLOEXEC) == 0);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->bound_ms = h_scaled(o->timeout_ms > 0 ? o->timeout_ms :
	    H_BOUND_MS);
	p->pid = fork();
	ck_assert(p->pid >= 0);
	if (p->pid == 0)
		exec_server(o, argv, envp, sv[1], out[1], ep[1]);
	close(sv[1]);
	if (o->pipes || o->tty_out)
		close(out[1]);
	close(ep[1]);
	p->sock = sv[0];
	p->rd = out[0];
	p->pipes = o->pipes;
	p->split = o->pipes || o->tty_out;
	p->err = ep[0];
	fcntl(p->sock, F_SETFL, O_NONBLOCK);
	fcntl(p->rd, F_SETFL, O_NONBLOCK);
	fcntl(p->err, F_SETFL, O_NONBLOCK);
}

/* h_elapsed - milliseconds since the server started */
long
h_elapsed(const struct h_proc *p)
{
	return ms_since(&p->t0);
}

/* take - read what is there into a growing buffer; 1 at EOF */
static int
take(int fd, char **buf, size_t *len, size_t *cap)
{
	for (;;) {
		ssize_t n;

		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*buf = xrealloc(*buf, *cap + 1);
		}
		n = read(fd, *buf + *len, *cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;	/* EOF, or reset: the same to us */
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* reply_len - length of the first complete reply in s, or 0 */
static size_t
reply_len(const char *s, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t llen;

		if (nl == NULL)
			return 0;
		llen = (size_t)(nl - (s + pos)) + 1;
		if (llen < 5 || s[pos + 3] != '-')
			return pos + llen;	/* a final line */
		pos += llen;
	}
	return 0;
}

enum until { UNTIL_WRITTEN, UNTIL_REPLY, UNTIL_EOF, UNTIL_TIME };

static int
satisfied(const struct h_proc *p, enum until u)
{
	switch (u) {
	case UNTIL_WRITTEN:
		return 1;
	case UNTIL_REPLY:
		return reply_len(p->out + p->seen, p->outlen - p->seen) > 0;
	case UNTIL_EOF:
		return p->out_eof && p->err_eof;
	case UNTIL_TIME:
		return 0;
	}
	return 0;
}

/* io_write - as much of buf[done, len) as the server takes now; the new
 * done (all of it once the server has closed: that is fine) */
static size_t
io_write(struct h_proc *p, const char *buf, size_t len, size_t done)
{
	ssize_t n = p->pipes ? write(p->sock, buf + done, len - done) :
	    send(p->sock, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n > 0)
		return done + (size_t)n;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return len;
	return done;
}

/* io - write buf while reading replies and log, until `until` holds,
 * wait_ms pass or the session's bound is reached; 1 if it held */
static int
io(struct h_proc *p, const char *buf, size_t len, enum until u, long wait_ms)
{
	struct timespec t0;
	size_t done = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd f[3];
		long left = wait_ms - ms_since(&t0);
		long bound = p->bound_ms - h_elapsed(p);
		int nf = 0, ri = -1, wi = -1, ei = -1;

		if (done == len && satisfied(p, u))
			return 1;
		if (u == UNTIL_REPLY && p->out_eof && done == len)
			return 0;
		if (bound < left)
			left = bound;
		if (left <= 0)
			return 0;
		if (!p->out_eof) {
			ri = nf;
			f[nf++] = (struct pollfd){ p->rd, POLLIN, 0 };
		}
		if (done < len && ri >= 0 && !p->split) {
			wi = ri;		/* one socket both ways */
			f[wi].events |= POLLOUT;
		} else if (done < len) {
			wi = nf;
			f[nf++] = (struct pollfd){ p->sock, POLLOUT, 0 };
		}
		if (!p->err_eof) {
			ei = nf;
			f[nf++] = (struct pollfd){ p->err, POLLIN, 0 };
		}
		if (poll(f, (nfds_t)nf, (int)(left > 100 ? 100 : left)) < 0) {
			ck_assert_msg(errno == EINTR, "poll: %s",
			    strerror(errno));
			continue;
		}
		if (ri >= 0 && (f[ri].revents & (POLLIN | POLLHUP | POLLERR))
		    && !p->out_eof)
			p->out_eof = take(p->rd, &p->out, &p->outlen,
			    &p->outcap);
		if (ei >= 0 && f[ei].revents)
			p->err_eof = take(p->err, &p->log, &p->loglen,
			    &p->logcap);
		if (wi >= 0 && done < len &&
		    (f[wi].revents & (POLLOUT | POLLERR | POLLHUP)))
			done = io_write(p, buf, len, done);
	}
}

/* h_send - write all of buf (reading meanwhile); fails the test if the
 * server does not take it within the bound */
void
h_send(struct h_proc *p, const void *buf, size_t len)
{
	ck_assert_msg(io(p, buf, len, UNTIL_WRITTEN, p->bound_ms),
	    "the server did not read %zu bytes in time", len);
}

void
h_sends(struct h_proc *p, const char *s)
{
	h_send(p, s, strlen(s));
}

/* h_pause - let ms pass, still reading */
void
h_pause(struct h_proc *p, long ms)
{
	io(p, NULL, 0, UNTIL_TIME, ms);
}

/* h_reply - the next complete reply (all its lines), or NULL if none came
 * within ms; the caller frees it */
char *
h_reply(struct h_proc *p, long ms)
{
	size_t n;
	char *r;

	io(p, NULL, 0, UNTIL_REPLY, ms);
	n = reply_len(p->out + p->seen, p->outlen - p->seen);
	if (n == 0)
		return NULL;
	r = xrealloc(NULL, n + 1);
	memcpy(r, p->out + p->seen, n);
	r[n] = '\0';
	p->seen += n;
	return keep(r);
}

/* h_expect - the next reply, within 5 s, its final line starting with
 * prefix */
char *
h_expect(struct h_proc *p, const char *prefix)
{
	char *r = h_reply(p, h_scaled(5000)), *last;

	ck_assert_msg(r != NULL, "no reply in 5 s, wanted '%s'; got so far: "
	    "'%s'", prefix, p->out ? p->out : "");
	last = r + strlen(r) - 1;		/* at the final LF */
	while (last > r && last[-1] != '\n')
		last--;
	ck_assert_msg(strncmp(last, prefix, strlen(prefix)) == 0,
	    "wanted a reply '%s...', got '%s'", prefix, r);
	return r;
}

/* h_say - lock-step: one line, then its reply */
char *
h_say(struct h_proc *p, const char *line, const char *prefix)
{
	h_sends(p, line);
	return h_expect(p, prefix);
}

/* h_shut - the client is done writing */
void
h_shut(struct h_proc *p)
{
	if (!p->pipes) {
		shutdown(p->sock, SHUT_WR);
	} else if (p->sock >= 0) {
		close(p->sock);
		p->sock = -1;
	}
}

/* drop_wrapper_notes - under PIPESMTPD_WRAPPER, remove valgrind's own
 * notes ("--PID-- ...", such as its warning about a system call it does
 * not know) from the log; its error reports ("==PID== ...") stay */
static void
drop_wrapper_notes(char *log, size_t *len)
{
	size_t in = 0, out = 0;

	if (getenv("PIPESMTPD_WRAPPER") == NULL)
		return;
	while (in < *len) {
		char *nl = memchr(log + in, '\n', *len - in);
		size_t n = nl ? (size_t)(nl - (log + in)) + 1 : *len - in;
		size_t d = 2;

		while (d < n && isdigit((unsigned char)log[in + d]))
			d++;
		if (!(n > 4 && log[in] == '-' && log[in + 1] == '-' && d > 2 &&
		    d + 2 < n && log[in + d] == '-' && log[in + d + 1] == '-')) {
			memmove(log + out, log + in, n);
			out += n;
		}
		in += n;
	}
	*len = out;
	log[out] = '\0';
}

/* h_finish - read to EOF, reap with a bound (kill on overrun), result */
void
h_finish(struct h_proc *p, struct h_result *r)
{
	int reaped = 0, killed = 0;

	io(p, NULL, 0, UNTIL_EOF, p->bound_ms);
	for (;;) {
		pid_t w = waitpid(p->pid, &r->status, WNOHANG);

		if (w == p->pid) {
			reaped = 1;
			break;
		}
		if (h_elapsed(p) > p->bound_ms + 2000)
			break;
		h_pause(p, 10);
	}
	if (!reaped) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &r->status, 0);
		killed = 1;
	}
	io(p, NULL, 0, UNTIL_EOF, 200);
	if (p->sock >= 0)
		close(p->sock);
	if (p->split)
		close(p->rd);
	close(p->err);
	r->ms = h_elapsed(p);
	r->out = keep(p->out);
	r->outlen = p->outlen;
	drop_wrapper_notes(p->log, &p->loglen);
	r->log = keep(p->log);
	r->loglen = p->loglen;
	r->code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	p->out = p->log = NULL;
	ck_assert_msg(!killed, "the server did not end within %ld ms; "
	    "replies: '%s'; log: '%s'", p->bound_ms, r->out, r->log);
	/* 99 is no exit code of ours: it is valgrind's --error-exitcode
	 * (check-valgrind), so memory errors fail the test */
	ck_assert_msg(r->code != 99, "the server exited 99: memory errors "
	    "under PIPESMTPD_WRAPPER; log: '%s'", r->log);
}

/* h_runn - a whole session: the script, then EOF (unless keep_open) */
void
h_runn(struct h_result *r, const struct h_opts *o, const char *input,
    size_t len)
{
	struct h_proc p;

	h_start(&p, o);
	if (len > 0)
		h_send(&p, input, len);
	if (o == NULL || !o->keep_open)
		h_shut(&p);
	h_finish(&p, r);
}

void
h_run(struct h_result *r, const struct h_opts *o, const char *input)
{
	h_runn(r, o, input, strlen(input));
}

/* ---- replies ---- */

/* dsn_len - length of an RFC 3463 code at s ("4.3.0"), or 0 */
static size_t
dsn_len(const char *s)
{
	size_t i = 0, part;

	if (s[0] < '2' || s[0] > '5' || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		size_t d = 0;

		while (isdigit((unsigned char)s[i])) {
			i++;
			d++;
		}
		if (d < 1 || d > 3)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return (s[i] == ' ' || s[i] == '\r' || s[i] == '\n' ||
	    s[i] == '\0') ? i : 0;
}

/* next_final - the final line of the reply at *p (length in *len, line
 * end excluded), *p moved past the reply; NULL when none is complete */
static const char *
next_final(const char **p, size_t *len)
{
	size_t r = reply_len(*p, strlen(*p)), l;
	const char *last;

	if (r == 0)
		return NULL;
	last = *p + r - 1;		/* at its LF */
	while (last > *p && last[-1] != '\n')
		last--;
	l = (size_t)(*p + r - last);
	while (l > 0 && (last[l - 1] == '\n' || last[l - 1] == '\r'))
		l--;
	*len = l;
	*p += r;
	return last;
}

/* h_nreplies - the number of complete replies in out */
int
h_nreplies(const char *out)
{
	size_t len;
	int n = 0;

	while (next_final(&out, &len) != NULL)
		n++;
	return n;
}

/* h_line - reply n's final line without its line end, or NULL */
char *
h_line(const char *out, int n)
{
	const char *l;
	size_t len;

	while ((l = next_final(&out, &len)) != NULL)
		if (n-- == 0)
			return h_strf("%.*s", (int)len, l);
	return NULL;
}

/* h_codes - "220|250|250 2.1.0|...": each reply's code, and its enhanced
 * code when the final line carries one */
char *
h_codes(const char *out)
{
	char *s = keep(xrealloc(NULL, 16 * strlen(out) / 4 + 16));
	const char *l;
	size_t len, o = 0;

	/* a reply is at least 5 octets and adds at most 15 here */
	while ((l = next_final(&out, &len)) != NULL) {
		size_t d = len > 4 ? dsn_len(l + 4) : 0;

		if (o > 0)
			s[o++] = '|';
		memcpy(s + o, l, len < 3 ? len : 3);
		o += len < 3 ? len : 3;
		if (d > 0) {
			s[o++] = ' ';
			memcpy(s + o, l + 4, d);
			o += d;
		}
	}
	s[o] = '\0';
	return s;
}

/* ---- scripts ---- */

/* h_txn - EHLO, MAIL FROM:mail, RCPT TO: each of the NULL-terminated
 * recipients, DATA, body (ending in CRLF), the dot, QUIT */
char *
h_txn(const char *mail, const char *body, ...)
{
	char *s = h_strf("EHLO %s\r\nMAIL FROM:%s\r\n", H_HELO, mail), *t;
	const char *rcpt;
	va_list ap;

	va_start(ap, body);
	while ((rcpt = va_arg(ap, const char *)) != NULL) {
		t = h_strf("%sRCPT TO:%s\r\n", s, rcpt);
		s = t;
	}
	va_end(ap);
	t = h_strf("%sDATA\r\n%s.\r\nQUIT\r\n", s, body);
	return t;
}

/* h_want - the codes h_txn should give with nrcpt accepted recipients */
char *
h_want(int nrcpt, const char *final)
{
	char *r = h_repeat("|250 2.1.5", (size_t)nrcpt);
	char *s = h_strf("220|250|250 2.1.0%s|354|%s|221 2.0.0", r, final);

	return s;
}

/* header_end - past one header line and its continuation lines */
static const char *
header_end(const char *p)
{
	for (;;) {
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
			return p + strlen(p);
		p = nl + 1;
		if (*p != ' ' && *p != '\t')
			return p;
	}
}

/* h_body - the message as received: past the headers pipesmtpd added
 * (Return-Path, Delivered-To, the first Received) */
const char *
h_body(const char *d)
{
	if (strncmp(d, "Return-Path:", 12) == 0)
		d = header_end(d);
	if (strncmp(d, "Delivered-To:", 13) == 0)
		d = header_end(d);
	if (strncmp(d, "Received:", 9) == 0)
		d = header_end(d);
	return d;
}

/* h_header - the first "name:" header at a line start in d, with its
 * continuations and line ends, or NULL */
char *
h_header(const char *d, const char *name)
{
	const char *p = d;
	size_t n = strlen(name);

	while (*p != '\0' && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *e = header_end(p);

		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return h_strf("%.*s", (int)(e - p), p);
		p = e;
	}
	return NULL;
}

/* ---- records ---- */

/* h_subdir - a path inside the test's record directory */
char *
h_subdir(const char *name)
{
	return h_strf("%s/%s", h_dir, name);
}

/* h_count - how many runs the recorder made in dir */
int
h_count(const char *dir)
{
	struct stat st;
	int n;

	for (n = 0;; n++) {
		char *path = h_strf("%s/%d", dir, n + 1);
		int there = stat(path, &st) == 0;

		if (!there)
			return n;
	}
}

/* h_file - the whole file dir/n/name (NUL added), or NULL */
char *
h_file(const char *dir, int n, const char *name, size_t *len)
{
	return h_read(h_strf("%s/%d/%s", dir, n, name), len);
}

/* h_read - the whole file at path (NUL added), or NULL */
char *
h_read(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t got = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (cap - got < 65536) {
			cap = cap * 2 + 65536;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	if (len != NULL)
		*len = got;
	return keep(buf);
}

/* h_stdin - what run n read on stdin; fails the test if it is missing */
char *
h_stdin(const char *dir, int n, size_t *len)
{
	char *s = h_file(dir, n, "stdin", len);

	ck_assert_msg(s != NULL, "no stdin recorded for run %d", n);
	return s;
}

/* nth_string - the i-th NUL-terminated string of a file, or NULL */
static char *
nth_string(const char *dir, int n, const char *name, int i)
{
	size_t len, pos = 0;
	char *f = h_file(dir, n, name, &len), *s = NULL;
	int k = 0;

	if (f == NULL)
		return NULL;
	while (pos < len) {
		if (k++ == i) {
			s = h_strf("%s", f + pos);
			break;
		}
		pos += strlen(f + pos) + 1;
	}
	return s;
}

/* h_argv - argv[i] of run n, or NULL */
char *
h_argv(const char *dir, int n, int i)
{
	return nth_string(dir, n, "argv", i);
}

/* h_argc - argc of run n */
int
h_argc(const char *dir, int n)
{
	int i = 0;
	char *s;

	while ((s = h_argv(dir, n, i)) != NULL) {
		i++;
	}
	return i;
}

/* h_env - the value of NAME in run n's environment, or NULL */
char *
h_env(const char *dir, int n, const char *name)
{
	size_t nl = strlen(name);
	int i;
	char *s;

	for (i = 0; (s = nth_string(dir, n, "env", i)) != NULL; i++) {
		if (strncmp(s, name, nl) == 0 && s[nl] == '=') {
			char *v = h_strf("%s", s + nl + 1);

			return v;
		}
	}
	return NULL;
}

/* h_assert_log_clean - only printable ASCII and line ends in a log */
void
h_assert_log_clean(const char *log, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)log[i];

		ck_assert_msg(c == '\n' || (c >= 32 && c < 127),
		    "raw byte 0x%02x at %zu in the log: '%s'", c, i, log);
	}
}

/* h_dead - whether pid is gone (or a zombie) within ms */
int
h_dead(pid_t pid, long ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		char *path = h_strf("/proc/%ld/stat", (long)pid), buf[512];
		int fd = open(path, O_RDONLY), dead = 1;
		ssize_t n;

		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				char *rp;

				buf[n] = '\0';
				rp = strrchr(buf, ')');
				dead = rp != NULL && rp[1] == ' ' &&
				    (rp[2] == 'Z' || rp[2] == 'X');
			}
		}
		if (dead)
			return 1;
		usleep(20000);
	} while (ms_since(&t0) < ms);
	return 0;
}

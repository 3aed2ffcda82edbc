/*
 * tls.c - the UCSPI-TLS conversation with the launcher's TLS engine.
 *
 * Entry points: tls_from_env() (the descriptors, if the launcher gave
 * all three and they are a socketpair's end and two pipes, none of them
 * the client connection), tls_start() (one 'Y' on the control
 * descriptor: start TLS and report; then the report, read to its end:
 * NUL-terminated NAME=value strings closed by an empty one, each longer
 * than REPORT_MAX dropped whole) and tls_end() (close, then wait for
 * the engine); tls_log_failed() and tls_log_established() write the
 * handshake's log line.  The engine is our child from the start; it is
 * waited for only where no delivery command can be running (a failed
 * handshake, the end of the session), so waitpid(-1) takes nothing that
 * is not the engine's.  Every wait is bounded.
 *
 * This module knows nothing of SMTP and never reads or writes the
 * client: what comes from the engine is only ever a name or a status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "tls.h"

#define REPORT_MAX	4096	/* the longest report entry kept, NUL
				   included */
#define REAP_STEP_MS	10	/* between looks for the engine's end */

/* The kinds of descriptor a launcher passes. */
enum fd_kind {
	FD_CTL,			/* our end of a socketpair to the engine */
	FD_READ,		/* a pipe's read end */
	FD_WRITE		/* a pipe's write end */
};

/* env_number - a descriptor number from the environment's value s; -1
 * if absent or malformed */
static int
env_number(const char *s)
{
	char *end;
	long fd;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || fd > 65535)
		return -1;
	return (int)fd;
}

/* same_as_std - whether st is the file of fd 0, 1 or 2: the client
 * connection or the log */
static int
same_as_std(const struct stat *st)
{
	struct stat o;
	int i;

	for (i = 0; i < 3; i++)
		if (fstat(i, &o) == 0 && o.st_dev == st->st_dev &&
		    o.st_ino == st->st_ino)
			return 1;
	return 0;
}

/* socketpair_end - whether fd is an end of an unnamed local stream
 * socket pair, as a launcher makes for the control: never an accepted
 * connection (its own address is the listener's) nor a network one */
static int
socketpair_end(int fd, const struct stat *st)
{
	struct sockaddr_un a;
	socklen_t alen = sizeof(a), olen = sizeof(int);
	int domain, type;

	if (!S_ISSOCK(st->st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &olen) == -1 ||
	    domain != AF_UNIX)
		return 0;
	olen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&a,
	    &alen) == -1)
		return 0;
	return alen == sizeof(sa_family_t);
}

/* fd_unfit - why fd cannot be the launcher's descriptor of kind k, or
 * NULL when it can be: anything else (a file, the client connection, a
 * network socket) could let the client answer for the engine */
static const char *
fd_unfit(int fd, enum fd_kind k)
{
	struct stat st;
	int fl;

	if (fd < 0)
		return "is not a descriptor number";
	if (fd < 3)
		return "is one of fds 0-2 (the client connection, the log)";
	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return "is not open";
	if (same_as_std(&st))
		return "is the client connection or the log";
	if (S_ISREG(st.st_mode))
		return "is a regular file";
	if (k == FD_CTL)
		return socketpair_end(fd, &st) ? NULL : "is not a socketpair";
	if (!S_ISFIFO(st.st_mode))
		return "is not a pipe";
	if (k == FD_READ && (fl & O_ACCMODE) != O_RDONLY)
		return "is not a pipe's read end";
	if (k == FD_WRITE && (fl & O_ACCMODE) != O_WRONLY)
		return "is not a pipe's write end";
	return NULL;
}

/* unfit_logged - the first of the set's descriptors that is not the
 * launcher's, logged: 1, or 0 when all three are */
static int
unfit_logged(const char *const names[3], const int fds[3])
{
	static const enum fd_kind kind[] = { FD_CTL, FD_READ, FD_WRITE };
	const char *why = NULL;
	int i;

	for (i = 0; i < 3 && why == NULL; i++)
		why = fd_unfit(fds[i], kind[i]);
	if (why == NULL)
		return 0;
	i--;
	if (fds[i] < 0)
		log_error("UCSPI-TLS %s is not set or not a descriptor number: "
		    "STARTTLS not offered", names[i]);
	else
		log_error("UCSPI-TLS %s=%d %s: STARTTLS not offered",
		    names[i], fds[i], why);
	return 1;
}

/* tls_from_env - the launcher's descriptors: 1 when all three are
 * there and are what a launcher passes, 0 when none is named, -1
 * (the reason logged) otherwise.  The names leave the environment:
 * commands never learn them. */
int
tls_from_env(struct tls_launcher *t)
{
	static const char *const names[] = { "SSLCTLFD", "SSLREADFD",
	    "SSLWRITEFD" };
	int fds[3], i, seen = 0;

	for (i = 0; i < 3; i++) {
		seen += getenv(names[i]) != NULL;
		fds[i] = env_number(getenv(names[i]));
		unsetenv(names[i]);
	}
	t->ctl = t->rfd = t->wfd = -1;
	if (seen == 0)
		return 0;
	if (unfit_logged(names, fds))
		return -1;
	t->ctl = fds[0];
	t->rfd = fds[1];
	t->wfd = fds[2];
	return 1;
}

/* close_fd - close a descriptor if open, and forget it */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* wait_engine - wait for the engine at most timeout_ms: 1 with its wait
 * status, 0 when there is no child (ECHILD), -1 when none ended in time */
static int
wait_engine(int timeout_ms, int *status)
{
	long long end = deadline_in_ms(timeout_ms);
	struct timespec step = { 0, REAP_STEP_MS * 1000000L };

	for (;;) {
		pid_t p = waitpid(-1, status, WNOHANG);

		if (p > 0)
			return 1;
		if (p == -1 && errno != EINTR)
			return 0;
		if (deadline_now() >= end)
			return -1;
		nanosleep(&step, NULL);
	}
}

/* copy_value - a reported value, kept only in the characters a protocol
 * or cipher name is made of: it goes into headers and logs */
static void
copy_value(char *out, const char *in)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < TLS_VALUE_MAX; i++)
		out[i] = (strchr("-_.+/", in[i]) != NULL ||
		    (in[i] >= '0' && in[i] <= '9') ||
		    (in[i] >= 'A' && in[i] <= 'Z') ||
		    (in[i] >= 'a' && in[i] <= 'z')) ? in[i] : '?';
	out[i] = '\0';
}

/* copy_subject - a reported certificate subject, kept in printable
 * ASCII (controls and 8-bit made '?': it goes into the environment and
 * logs); one too long to keep whole is not kept at all */
static void
copy_subject(char *out, const char *in)
{
	size_t i, len = strlen(in);

	if (len >= TLS_SUBJECT_MAX)
		len = 0;
	for (i = 0; i < len; i++)
		out[i] = in[i] >= ' ' && in[i] <= '~' ? in[i] : '?';
	out[len] = '\0';
}

/* take_entry - one NAME=value string of the report: the ones kept */
static void
take_entry(const char *s, struct tls_info *info)
{
	if (strncmp(s, "SSL_PROTOCOL=", 13) == 0)
		copy_value(info->protocol, s + 13);
	else if (strncmp(s, "SSL_CIPHER=", 11) == 0)
		copy_value(info->cipher, s + 11);
	else if (strncmp(s, "SSL_PEER_CERT_SUBJECT=", 22) == 0)
		copy_subject(info->peer_subject, s + 22);
}

/* The report as it is read. */
struct report {
	char buf[REPORT_MAX];	/* the start of the unfinished entry */
	size_t len;		/* octets in buf */
	int skip;		/* inside an entry too long to keep: it is
				   dropped whole, up to its NUL */
};

/* report_add - n new octets at r->buf + r->len: each finished entry
 * taken, the unfinished one kept at the start of buf (or skipped when
 * it fills buf).  1 once the empty string that ends the report is
 * seen, 0 while more is to come. */
static int
report_add(struct report *r, size_t n, struct tls_info *info)
{
	size_t start = 0, end = r->len + n, i;

	for (i = r->len; i < end; i++) {
		if (r->buf[i] != '\0')
			continue;
		if (r->skip)
			r->skip = 0;
		else if (i == start)
			return 1;
		else
			take_entry(r->buf + start, info);
		start = i + 1;
	}
	r->len = r->skip ? 0 : end - start;
	memmove(r->buf, r->buf + start, r->len);
	if (r->len == sizeof(r->buf)) {
		r->skip = 1;
		r->len = 0;
	}
	return 0;
}

/* read_report - read the control descriptor until the report's empty
 * string: 0, or -1 on EOF (the handshake failed), an error or the end
 * of timeout_ms */
static int
read_report(int fd, int timeout_ms, struct tls_info *info)
{
	long long end = deadline_in_ms(timeout_ms);
	struct report r;

	r.len = 0;
	r.skip = 0;
	for (;;) {
		ssize_t n;

		if (deadline_poll(fd, POLLIN, end) <= 0)
			return -1;
		n = read(fd, r.buf + r.len, sizeof(r.buf) - r.len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		if (report_add(&r, (size_t)n, info))
			return 0;
	}
}

/* tls_start - ask the engine for TLS and read its report: 0, with
 * info's names set; or -1, with every descriptor closed and the
 * engine's status in info (the session cannot go on: the client is
 * mid-handshake).  On failure the connection conn is shut down first,
 * for every descriptor of it: an engine still waiting for a silent
 * client then reads its end and exits, and the client is not held. */
int
tls_start(struct tls_launcher *t, int conn, int timeout_ms,
    struct tls_info *info)
{
	ssize_t n;

	memset(info, 0, sizeof(*info));
	info->engine_status = -1;
	do
		n = write(t->ctl, "Y", 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && read_report(t->ctl, timeout_ms, info) == 0) {
		close_fd(&t->ctl);
		return 0;
	}
	close_fd(&t->ctl);
	close_fd(&t->rfd);
	close_fd(&t->wfd);
	shutdown(conn, SHUT_RDWR);	/* ENOTSOCK on pipes: nothing held */
	if (wait_engine(timeout_ms, &info->engine_status) != 1)
		info->engine_status = -1;
	return -1;
}

/* tls_end - the session is over: closing the write side makes the
 * engine end TLS (close_notify with -S), closing the control side tells
 * an engine never asked to exit; then it is waited for.  One still
 * there after timeout_ms is waiting on a client that does not close:
 * the connection conn is shut down under it, and it gets one more
 * second. */
void
tls_end(struct tls_launcher *t, int conn, int timeout_ms)
{
	int had = t->ctl >= 0 || t->wfd >= 0, status;

	close_fd(&t->wfd);
	close_fd(&t->rfd);
	close_fd(&t->ctl);
	if (!had || wait_engine(timeout_ms, &status) != -1)
		return;
	shutdown(conn, SHUT_RDWR);
	if (wait_engine(1000, &status) == -1)
		log_warn("TLS engine did not exit within %d ms", timeout_ms);
}

/* tls_log_failed - the handshake with the client at host[ip] failed:
 * the line that says how the engine ended (info->engine_status) */
void
tls_log_failed(const struct tls_info *info, const char *host,
    const char *ip)
{
	int st = info->engine_status;
	char how[48] = "exit status unknown";

	if (st != -1 && WIFEXITED(st))
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
	else if (st != -1 && WIFSIGNALED(st))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(st));
	log_info("STARTTLS from %s[%s] failed: TLS engine %s", host, ip, how);
}

/* tls_log_established - TLS with the client at host[ip]: protocol,
 * cipher and, when the engine verified a client certificate, its
 * subject (escaped: the client chose it) */
void
tls_log_established(const struct tls_info *info, const char *host,
    const char *ip)
{
	char esc[4 * TLS_SUBJECT_MAX], subject[sizeof(esc) + 16] = "";

	if (info->peer_subject[0] != '\0')
		snprintf(subject, sizeof(subject), ", subject=<%s>",
		    log_escape(info->peer_subject, esc, sizeof(esc)));
	log_info("TLS connection established from %s[%s]: %s with cipher "
	    "%s%s", host, ip, info->protocol, info->cipher, subject);
}

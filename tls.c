/*
 * tls.c - the UCSPI-TLS conversation with the launcher's TLS engine.
 *
 * Entry points: tls_from_env() (the descriptors, if the launcher gave
 * all three), tls_start() (one 'Y' on the control descriptor: start TLS
 * and report; then the report, read to its end: NUL-terminated
 * NAME=value strings closed by an empty one) and tls_end() (close, then
 * wait for the engine).  The engine is our child from the start; it is
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "tls.h"

#define REPORT_MAX	4096	/* the report's part that is kept */
#define REAP_STEP_MS	10	/* between looks for the engine's end */

/* env_fd - a descriptor number from the environment; -1 if absent,
 * malformed, one of 0-2 or not open */
static int
env_fd(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long fd;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || fd < 3 || fd > 65535 ||
	    fcntl((int)fd, F_GETFD) == -1)
		return -1;
	return (int)fd;
}

/* tls_from_env - the launcher's descriptors: 1 when all three are
 * there, 0 when none is, -1 (logged) when the set is broken.  The names
 * leave the environment: commands never learn them. */
int
tls_from_env(struct tls_launcher *t)
{
	const char *names[] = { "SSLCTLFD", "SSLREADFD", "SSLWRITEFD" };
	int *fds[] = { &t->ctl, &t->rfd, &t->wfd };
	int i, seen = 0, good = 0;

	for (i = 0; i < 3; i++) {
		seen += getenv(names[i]) != NULL;
		*fds[i] = env_fd(names[i]);
		good += *fds[i] != -1;
		unsetenv(names[i]);
	}
	if (good == 3)
		return 1;
	t->ctl = t->rfd = t->wfd = -1;
	if (seen == 0)
		return 0;
	log_error("UCSPI-TLS descriptors SSLCTLFD, SSLREADFD, SSLWRITEFD "
	    "incomplete or not open: STARTTLS not offered");
	return -1;
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

/* parse_report - the report's strings up to the empty one: 1 once it
 * has been seen, 0 while more is to come */
static int
parse_report(const char *buf, size_t len, struct tls_info *info)
{
	size_t i = 0;

	while (i < len) {
		const char *s = buf + i;
		const char *nul = memchr(s, '\0', len - i);

		if (nul == NULL)
			return 0;
		if (nul == s)
			return 1;
		if (strncmp(s, "SSL_PROTOCOL=", 13) == 0)
			copy_value(info->protocol, s + 13);
		else if (strncmp(s, "SSL_CIPHER=", 11) == 0)
			copy_value(info->cipher, s + 11);
		i = (size_t)(nul - buf) + 1;
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
	char buf[REPORT_MAX];
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (deadline_poll(fd, POLLIN, end) <= 0)
			return -1;
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		if (parse_report(buf, len, info))
			return 0;
		if (len == sizeof(buf))		/* a name too long to keep */
			len = 0;
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

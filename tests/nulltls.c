/*
 * nulltls.c - a UCSPI-TLS launcher for the end-to-end tests, without the
 * cryptography.
 *
 * Usage: nulltls [-f CODE] [-l MS] [-w] [-p SUBJECT] [-s] -- prog [arg ...]
 *
 * As s6-ucspitlsd does: a control socket and two pipes, the engine
 * forked as a child, prog exec'd in the parent with SSLCTLFD, SSLREADFD
 * and SSLWRITEFD set.  The engine waits for one octet on the control
 * socket: EOF (never asked) ends it; 'Y' gets the report
 * (SSL_PROTOCOL=NULLv1, SSL_CIPHER=NULL-RELAY-TEST, an empty string)
 * and then the "TLS" stream is the cleartext, relayed between the
 * connection on fds 0/1 and the pipes until prog closes its side.  -f
 * CODE: the handshake fails (the engine exits CODE, no report).  -l MS:
 * the engine closes fds 0-2 and lingers MS milliseconds before it exits,
 * so a test can tell whether prog waited for it.  -w: a handshake the
 * client must start: after 'Y' the engine waits for one octet from the
 * client (the "ClientHello", dropped) and exits 98 at its end instead.
 * -p SUBJECT: the report says the engine verified a client certificate
 * with this subject (SSL_PEER_CERT_SUBJECT).  -s: a misconfigured
 * launcher: no engine, the three variables name copies of the client
 * connection (fds 0 and 1) instead.  Every wait is bounded (60 s).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BOUND_MS	60000
static const char report[] = "SSL_PROTOCOL=NULLv1\0SSL_CIPHER=NULL-RELAY-TEST"
    "\0SSL_TLS_SNI_SERVERNAME\0";	/* then the subject, the empty one */
static const char *subject;		/* -p */

/* send_report - the handshake's report on ctl: 0, or -1 */
static int
send_report(int ctl)
{
	char buf[sizeof(report) + 4096];
	size_t len = sizeof(report) - 1;
	int n = 0;

	memcpy(buf, report, len);
	if (subject != NULL)
		n = snprintf(buf + len, sizeof(buf) - len,
		    "SSL_PEER_CERT_SUBJECT=%s", subject);
	if (n < 0 || (size_t)n + 2 > sizeof(buf) - len)
		return -1;
	len += (size_t)n + (subject != NULL);
	buf[len++] = '\0';
	return write(ctl, buf, len) == (ssize_t)len ? 0 : -1;
}

/* pump - one read from 'from', all of it written to 'to'; 0 at EOF */
static int
pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0;

	if (n <= 0)
		return 0;
	while (off < n) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

/* relay - the connection to the app (rd) and the app to the connection
 * (wr), until the app closes its writing side */
static void
relay(int rd, int wr)
{
	struct pollfd p[2] = { { 0, POLLIN, 0 }, { wr, POLLIN, 0 } };

	while (poll(p, 2, BOUND_MS) > 0) {
		if (p[0].revents && !pump(0, rd)) {
			close(rd);
			p[0].fd = -1;
		}
		if (p[1].revents && !pump(wr, 1))
			return;
	}
}

/* engine - the child: wait to be asked, then answer as the options say */
static void __attribute__((noreturn))
engine(int ctl, int rd, int wr, int fail, long linger_ms, int hello)
{
	char c;

	if (read(ctl, &c, 1) == 1 && c == 'Y') {
		if (fail >= 0)
			_exit(fail);
		if (hello && read(0, &c, 1) != 1)
			_exit(98);
		if (send_report(ctl) == -1)
			_exit(111);
		close(ctl);
		relay(rd, wr);
		shutdown(1, SHUT_WR);
	}
	close(0);	/* the connection and the log are prog's alone: */
	close(1);	/* the test sees their end only when prog exits, */
	close(2);	/* after the linger if prog waits for the engine */
	usleep((useconds_t)linger_ms * 1000);
	_exit(0);
}

/* setfd - NAME=fd into the environment */
static void
setfd(const char *name, int fd)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", fd);
	if (setenv(name, buf, 1) == -1)
		exit(111);
}

/* hand_out - prog run with the three descriptors named */
static void __attribute__((noreturn))
hand_out(int ctl, int rd, int wr, char **argv)
{
	setfd("SSLCTLFD", ctl);
	setfd("SSLREADFD", rd);
	setfd("SSLWRITEFD", wr);
	execvp(argv[0], argv);
	fprintf(stderr, "nulltls: %s: %s\n", argv[0], strerror(errno));
	exit(111);
}

/* give_connection - -s: copies of the client connection where the
 * engine's descriptors belong */
static void __attribute__((noreturn))
give_connection(char **argv)
{
	int ctl = dup(0), rd = dup(0), wr = dup(1);

	if (argv[0] == NULL || ctl == -1 || rd == -1 || wr == -1)
		exit(100);
	hand_out(ctl, rd, wr, argv);
}

int
main(int argc, char **argv)
{
	int sv[2], r[2], w[2], opt, fail = -1, hello = 0, conn = 0;
	long linger_ms = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "f:l:wp:s")) != -1) {
		if (opt == 'f')
			fail = atoi(optarg);
		else if (opt == 'l')
			linger_ms = atol(optarg);
		else if (opt == 'w')
			hello = 1;
		else if (opt == 'p')
			subject = optarg;
		else if (opt == 's')
			conn = 1;
		else
			return 100;
	}
	if (conn)
		give_connection(argv + optind);
	if (optind >= argc || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    pipe(r) == -1 || pipe(w) == -1)
		return 100;
	pid = fork();
	if (pid == -1)
		return 111;
	if (pid == 0) {
		close(sv[0]);
		close(r[0]);
		close(w[1]);
		engine(sv[1], r[1], w[0], fail, linger_ms, hello);
	}
	close(sv[1]);
	close(r[1]);
	close(w[0]);
	hand_out(sv[0], r[0], w[1], argv + optind);
}

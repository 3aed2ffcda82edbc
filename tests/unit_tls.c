/*
 * unit_tls.c - the UCSPI-TLS conversation (tls.h) with a forked stand-in
 * for the launcher's engine: the descriptors taken from the environment
 * (all three or none), the 'Y' request, the report read to its end in
 * any pieces and kept only in name characters, an entry too long to
 * keep dropped whole, the client certificate's subject kept in printable
 * ASCII, descriptors that are not the launcher's pipes (a socket, a
 * file, the client connection) refused with the reason logged, a
 * handshake that fails
 * (the engine's exit status is reported), one that never ends (bounded),
 * the engine reaped at the end whether or not TLS was asked for, and
 * the line each handshake's end logs.
 * Each test runs in its own process (check's fork mode), so waitpid(-1)
 * sees only the stand-in.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "support.h"
#include "tls.h"
#include "unit.h"

#define WAIT_MS	2000	/* generous: valgrind, a loaded machine */

/* The stand-in's script. */
struct engine {
	const char *report;	/* written after 'Y' arrives */
	size_t len;
	int piece;		/* >0: write it in pieces this large */
	int exit_code;		/* then exit with this */
	int hang;		/* 1: after 'Y', wait for the client's end and
				   exit 98; 2: the same at the end, unasked */
	int conn;		/* the connection (the engine's copy of it) */
};

/* engine_run - in the child: wait for one octet, answer by the script */
static void __attribute__((noreturn))
engine_run(int fd, const struct engine *e)
{
	char c;
	size_t off = 0;

	if (read(fd, &c, 1) != 1) {	/* EOF: never asked, exit 0 */
		while (e->hang == 2 && read(e->conn, &c, 1) > 0)
			;
		_exit(0);
	}
	if (c != 'Y')
		_exit(100);
	if (e->hang) {		/* a handshake the client never starts */
		while (read(e->conn, &c, 1) > 0)
			;
		_exit(98);
	}
	while (off < e->len) {
		size_t n = e->piece > 0 ? (size_t)e->piece : e->len - off;

		if (n > e->len - off)
			n = e->len - off;
		if (write(fd, e->report + off, n) != (ssize_t)n)
			_exit(111);
		off += n;
		usleep(1000);
	}
	_exit(e->exit_code);
}

/* launch - what s6-ucspitlsd does: a control socket and two pipes, the
 * engine forked with one end; t gets ours.  Returns the engine's pid. */
static pid_t
launch(const struct engine *e, struct tls_launcher *t)
{
	int sv[2], r[2], w[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(r), 0);
	ck_assert_int_eq(pipe(w), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		engine_run(sv[1], e);
	}
	close(sv[1]);
	close(r[1]);
	close(w[0]);
	t->ctl = sv[0];
	t->rfd = r[0];
	t->wfd = w[1];
	return pid;
}

/* set_env - the launcher's three variables from t's descriptors */
static void
set_env(const struct tls_launcher *t)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", t->ctl);
	setenv("SSLCTLFD", buf, 1);
	snprintf(buf, sizeof(buf), "%d", t->rfd);
	setenv("SSLREADFD", buf, 1);
	snprintf(buf, sizeof(buf), "%d", t->wfd);
	setenv("SSLWRITEFD", buf, 1);
}

/* no_child_left - the engine was reaped */
static void
no_child_left(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

/* assert_exited - a wait status that says: exited with code */
static void
assert_exited(int status, int code)
{
	ck_assert_msg(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == code, "status %d, want exit %d", status,
	    code);
}

#define REPORT	"SSL_PROTOCOL=TLSv1.2\0SSL_CIPHER=ECDHE-RSA-CHACHA20-POLY1305" \
	"\0SSL_TLS_SNI_SERVERNAME\0SSL_PEER_CERT_HASH\0\0"

START_TEST(test_env_all_or_none)
{
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t, got;

	unsetenv("SSLCTLFD");
	unsetenv("SSLREADFD");
	unsetenv("SSLWRITEFD");
	ck_assert_int_eq(tls_from_env(&got), 0);
	ck_assert_int_eq(got.ctl, -1);
	launch(&e, &t);
	set_env(&t);
	ck_assert_int_eq(tls_from_env(&got), 1);
	ck_assert_int_eq(got.ctl, t.ctl);
	ck_assert_int_eq(got.rfd, t.rfd);
	ck_assert_int_eq(got.wfd, t.wfd);
	ck_assert_ptr_null(getenv("SSLCTLFD"));	/* commands never see it */
	ck_assert_ptr_null(getenv("SSLWRITEFD"));
	set_env(&t);
	unsetenv("SSLREADFD");
	ck_assert_int_eq(tls_from_env(&got), -1);
	ck_assert_int_eq(got.ctl, -1);
	ck_assert_int_eq(got.wfd, -1);
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* Values that are not descriptors the launcher could have passed */
START_TEST(test_env_bad_values)
{
	static const char *const bad[] = { "", "x", "1", "0", "-5", "7x",
	    "99999999999", "1000" /* not open */ };
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t, got;
	size_t i;

	launch(&e, &t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_env(&t);
		setenv("SSLREADFD", bad[i], 1);
		ck_assert_msg(tls_from_env(&got) == -1, "SSLREADFD=\"%s\" "
		    "taken", bad[i]);
	}
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* The report, whole or an octet at a time: the names, nothing else */
START_TEST(test_start_reads_report)
{
	struct engine e = { REPORT, sizeof(REPORT) - 1, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;
	int rfd, wfd;

	e.piece = _i == 0 ? 0 : 1;
	launch(&e, &t);
	rfd = t.rfd;
	wfd = t.wfd;
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.protocol, "TLSv1.2");
	ck_assert_str_eq(info.cipher, "ECDHE-RSA-CHACHA20-POLY1305");
	ck_assert_int_eq(t.ctl, -1);		/* read to its end, closed */
	ck_assert_int_eq(t.rfd, rfd);
	ck_assert_int_eq(t.wfd, wfd);
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* What goes into Received and the log keeps name characters only */
START_TEST(test_start_values_cleaned)
{
	static const char report[] = "SSL_PROTOCOL=TLS v1.2\r\nX-Evil: 1\0"
	    "SSL_CIPHER=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA(x)\0\0";
	struct engine e = { report, sizeof(report) - 1, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;

	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.protocol, "TLS?v1.2??X-Evil??1");
	ck_assert_uint_eq(strlen(info.cipher), TLS_VALUE_MAX - 1);
	ck_assert_ptr_null(strchr(info.cipher, '('));
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* A failed handshake: EOF with no report, or a report cut short; the
 * engine's exit status is what the log will say */
START_TEST(test_start_fails)
{
	static const char cut[] = "SSL_PROTOCOL=TLSv1.2\0SSL_CIPH";
	struct engine e = { cut, _i == 0 ? 0 : sizeof(cut) - 1, 0, 98, 0,
	    -1 };
	struct tls_launcher t;
	struct tls_info info;

	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), -1);
	assert_exited(info.engine_status, 98);
	ck_assert_int_eq(t.ctl, -1);
	ck_assert_int_eq(t.rfd, -1);
	ck_assert_int_eq(t.wfd, -1);
	no_child_left();
}
END_TEST

/* A client silent after the 220: the report does not come in time, the
 * connection is shut down, so the engine waiting on it ends and is
 * reaped; the client is held no longer than the bound */
START_TEST(test_start_bounded)
{
	struct engine e = { NULL, 0, 0, 0, 1, -1 };
	struct tls_launcher t;
	struct tls_info info;
	int c[2];
	char octet;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
	e.conn = c[0];		/* shared by the engine and us, as fd 0 */
	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, c[0], 200, &info), -1);
	assert_exited(info.engine_status, 98);
	no_child_left();
	ck_assert_int_eq(read(c[1], &octet, 1), 0);	/* the client sees EOF */
}
END_TEST

/* Never asked: closing the control socket lets the engine exit, and it
 * is reaped */
START_TEST(test_end_reaps_unasked)
{
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t;

	launch(&e, &t);
	tls_end(&t, -1, WAIT_MS);
	ck_assert_int_eq(t.ctl, -1);
	ck_assert_int_eq(t.rfd, -1);
	ck_assert_int_eq(t.wfd, -1);
	no_child_left();
}
END_TEST

/* An engine held by a client that never closes: after the bound the
 * connection is shut down under it, and it is reaped */
START_TEST(test_end_shuts_stuck)
{
	struct engine e = { NULL, 0, 0, 0, 2, -1 };
	struct tls_launcher t;
	int c[2];
	char octet;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
	e.conn = c[0];
	launch(&e, &t);
	tls_end(&t, c[0], 200);
	no_child_left();
	ck_assert_int_eq(read(c[1], &octet, 1), 0);	/* the client sees EOF */
}
END_TEST

/* log_capture - from now on log lines go to a pipe; its read end */
static int
log_capture(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], 2), 2);
	close(p[1]);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	log_open(1);
	return p[0];
}

/* log_read - what was logged so far (static) */
static const char *
log_read(int fd)
{
	static char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* A descriptor that is not the launcher's: a regular file, a socket
 * where a pipe belongs, the client connection (fd 0, or a copy of it:
 * the client could answer the 'Y' and claim TLS), the log, a pipe the
 * wrong way round.  Not taken, and the log says which and why. */
START_TEST(test_env_not_launchers)
{
	static const struct { const char *name, *why; } want[] = {
		{ "SSLCTLFD", "is a regular file" },
		{ "SSLREADFD", "is not a pipe" },
		{ "SSLWRITEFD", "is not a pipe" },
		{ "SSLCTLFD", "is the client connection" },
		{ "SSLREADFD", "is the client connection" },
		{ "SSLCTLFD", "is one of fds 0-2" },
		{ "SSLWRITEFD", "is one of fds 0-2" },
		{ "SSLWRITEFD", "is not a pipe's write end" },
		{ "SSLCTLFD", "is not a socketpair" },
	};
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t, got;
	char file[] = "/tmp/unit_tls.XXXXXX", num[16], line[160];
	int conn[2], sv[2], p[2], lfd, fd = -1;
	const char *log;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	ck_assert_int_eq(dup2(conn[0], 0), 0);	/* the client connection */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(p), 0);
	launch(&e, &t);
	lfd = log_capture();
	switch (_i) {
	case 0:
		fd = mkstemp(file);
		ck_assert_int_ge(fd, 3);
		unlink(file);
		break;
	case 1: case 2:
		fd = sv[0];
		break;
	case 3: case 4:
		fd = dup(0);
		break;
	case 5:
		fd = 0;
		break;
	case 6:
		fd = 2;
		break;
	case 7:
		fd = p[0];
		break;
	case 8:
		fd = p[1];
		break;
	}
	set_env(&t);
	snprintf(num, sizeof(num), "%d", fd);
	setenv(want[_i].name, num, 1);
	ck_assert_int_eq(tls_from_env(&got), -1);
	ck_assert_int_eq(got.ctl, -1);
	ck_assert_int_eq(got.rfd, -1);
	ck_assert_int_eq(got.wfd, -1);
	ck_assert_ptr_null(getenv("SSLCTLFD"));
	log = log_read(lfd);
	snprintf(line, sizeof(line), "UCSPI-TLS %s=%d %s", want[_i].name, fd,
	    want[_i].why);
	ck_assert_msg(strstr(log, line) != NULL &&
	    strstr(log, ": STARTTLS not offered\n") != NULL, "want '%s' in "
	    "'%s'", line, log);
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* The launcher's own set, with the client connection a socket on fd 0
 * and 1: taken, and nothing logged */
START_TEST(test_env_launchers_taken)
{
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t, got;
	int conn[2], lfd;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	ck_assert_int_eq(dup2(conn[0], 0), 0);
	ck_assert_int_eq(dup2(conn[0], 1), 1);
	launch(&e, &t);
	lfd = log_capture();
	set_env(&t);
	ck_assert_int_eq(tls_from_env(&got), 1);
	ck_assert_str_eq(log_read(lfd), "");
	tls_end(&got, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* An entry longer than the reader keeps is dropped whole, wherever the
 * reads end: its tail is never taken for an entry of its own, and the
 * entries after it are read as they are */
START_TEST(test_start_long_entry_dropped)
{
	static const char *const lead[] = { "", "SSL_PROTOCOL=TLSv1.3" };
	char *report, *pad;
	size_t padlen = _i == 0 ? 4096 - 6 : _i == 1 ? 4096 - 6 - 21 : 5000;
	size_t len;
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;

	pad = malloc(padlen + 1);
	report = malloc(padlen + 256);
	ck_assert_ptr_nonnull(pad);
	ck_assert_ptr_nonnull(report);
	memset(pad, 'A', padlen);
	pad[padlen] = '\0';
	len = (size_t)sprintf(report, "%s", lead[_i % 2]);
	len += lead[_i % 2][0] != '\0';		/* its NUL */
	len += (size_t)sprintf(report + len, "X-PAD=%sSSL_PROTOCOL=STRADDLE",
	    pad) + 1;
	len += (size_t)sprintf(report + len, "SSL_CIPHER=AFTER") + 1;
	report[len++] = '\0';
	e.report = report;
	e.len = len;
	e.piece = _i == 3 ? 700 : 0;
	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.protocol, _i % 2 ? "TLSv1.3" : "");
	ck_assert_str_eq(info.cipher, "AFTER");
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
	free(pad);
	free(report);
}
END_TEST

/* An entry that straddles the end of the reader's buffer after entries
 * already read is kept whole */
START_TEST(test_start_entry_straddles)
{
	static char report[8192];
	size_t len = 0;
	struct engine e = { report, 0, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;

	memset(report, 'B', 4000);
	memcpy(report, "X-PAD=", 6);
	len = 4000;
	report[len++] = '\0';
	len += (size_t)sprintf(report + len, "SSL_PROTOCOL=TLSv1.3") + 1;
	len += (size_t)sprintf(report + len, "SSL_CIPHER=TLS_AES_256_GCM_"
	    "SHA384_AND_SOME_MORE_TO_REACH_PAST_THE_END_OF_4096") + 1;
	report[len++] = '\0';
	e.len = len;
	e.piece = _i == 0 ? 0 : 512;
	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.protocol, "TLSv1.3");
	ck_assert_str_eq(info.cipher, "TLS_AES_256_GCM_SHA384_AND_SOME_MORE_"
	    "TO_REACH_PAST_THE_END_OF_4");		/* cut to TLS_VALUE_MAX */
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* The verified client certificate's subject, as the engine reports it:
 * spaces, '=', ',' and '/' kept, controls and 8-bit made '?', one too
 * long to keep dropped whole; no subject reported, none kept */
START_TEST(test_start_peer_subject)
{
	static const struct { const char *report; size_t len;
	    const char *want; } cases[] = {
#define C(r, w)	{ r, sizeof(r) - 1, w }
		C("SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=X\0SSL_PEER_CERT_HASH="
		    "SHA256:ab01\0SSL_PEER_CERT_SUBJECT=/C=DE/O=Example, Inc."
		    "/CN=client.example\0\0",
		    "/C=DE/O=Example, Inc./CN=client.example"),
		C("SSL_PEER_CERT_SUBJECT=/CN=a\r\nX-Evil: 1\x80\xff\x7f\0\0",
		    "/CN=a??X-Evil: 1???"),
		C("SSL_PROTOCOL=TLSv1.3\0SSL_PEER_CERT_HASH\0"
		    "SSL_PEER_CERT_SUBJECT\0\0", ""),
		C("SSL_PEER_CERT_SUBJECT=/CN=first\0SSL_PEER_CERT_SUBJECT="
		    "/CN=second\0\0", "/CN=second"),
#undef C
	};
	char longer[TLS_SUBJECT_MAX + 64];
	struct engine e = { NULL, 0, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;
	size_t n;

	if (_i < 4) {
		e.report = cases[_i].report;
		e.len = cases[_i].len;
	} else {	/* one octet too long */
		n = (size_t)sprintf(longer, "SSL_PEER_CERT_SUBJECT=/CN=");
		memset(longer + n, 'x', TLS_SUBJECT_MAX - 4);
		n += TLS_SUBJECT_MAX - 4;
		longer[n++] = '\0';
		longer[n++] = '\0';
		e.report = longer;
		e.len = n;
	}
	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.peer_subject, _i < 4 ? cases[_i].want : "");
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* The longest subject kept: TLS_SUBJECT_MAX - 1 octets */
START_TEST(test_start_peer_subject_longest)
{
	char report[TLS_SUBJECT_MAX + 64], want[TLS_SUBJECT_MAX];
	struct engine e = { report, 0, 0, 0, 0, -1 };
	struct tls_launcher t;
	struct tls_info info;
	size_t n = (size_t)sprintf(report, "SSL_PEER_CERT_SUBJECT=");

	memset(want, 'y', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	memcpy(want, "/CN=", 4);
	n += (size_t)sprintf(report + n, "%s", want) + 1;
	report[n++] = '\0';
	e.len = n;
	launch(&e, &t);
	ck_assert_int_eq(tls_start(&t, -1, WAIT_MS, &info), 0);
	ck_assert_str_eq(info.peer_subject, want);
	tls_end(&t, -1, WAIT_MS);
	no_child_left();
}
END_TEST

/* One handshake's end, and the line it must log. */
static const struct log_case {
	int failed;			/* 1: tls_log_failed() */
	int engine_status;
	const char *subject;
	const char *want;
} log_cases[] = {
	{ 0, 0, "", "TLS connection established from h.example[192.0.2.1]: "
	  "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256" },
	/* the subject is the client's: escaped */
	{ 0, 0, "CN=a<b>,O=(x)\\", "TLS connection established from "
	  "h.example[192.0.2.1]: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256, "
	  "subject=<CN=a\\x3cb\\x3e\\x2cO=\\x28x\\x29\\x5c>" },
	{ 1, 98 << 8, "", "STARTTLS from h.example[192.0.2.1] failed: TLS "
	  "engine exit status 98" },
	{ 1, SIGKILL, "", "STARTTLS from h.example[192.0.2.1] failed: TLS "
	  "engine killed by signal 9" },
	{ 1, -1, "", "STARTTLS from h.example[192.0.2.1] failed: TLS engine "
	  "exit status unknown" },
};

START_TEST(test_log_lines)
{
	const struct log_case *c = &log_cases[_i];
	struct tls_info info = { "TLSv1.3", "TLS_AES_128_GCM_SHA256", "",
	    c->engine_status };
	struct support_log log;
	char want[1024];

	snprintf(info.peer_subject, sizeof(info.peer_subject), "%s",
	    c->subject);
	ck_assert_int_eq(support_log_start(&log), 0);
	if (c->failed)
		tls_log_failed(&info, "h.example", "192.0.2.1");
	else
		tls_log_established(&info, "h.example", "192.0.2.1");
	snprintf(want, sizeof(want), "pipesmtpd[%ld]: %s\n", (long)getpid(),
	    c->want);
	ck_assert_str_eq(support_log_end(&log), want);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("ucspi-tls");

	tcase_add_test(tc, test_env_all_or_none);
	tcase_add_test(tc, test_env_bad_values);
	tcase_add_loop_test(tc, test_env_not_launchers, 0, 9);
	tcase_add_test(tc, test_env_launchers_taken);
	tcase_add_loop_test(tc, test_start_long_entry_dropped, 0, 4);
	tcase_add_loop_test(tc, test_start_entry_straddles, 0, 2);
	tcase_add_loop_test(tc, test_start_peer_subject, 0, 5);
	tcase_add_test(tc, test_start_peer_subject_longest);
	tcase_add_loop_test(tc, test_start_reads_report, 0, 2);
	tcase_add_test(tc, test_start_values_cleaned);
	tcase_add_loop_test(tc, test_start_fails, 0, 2);
	tcase_add_test(tc, test_start_bounded);
	tcase_add_test(tc, test_end_reaps_unasked);
	tcase_add_test(tc, test_end_shuts_stuck);
	tcase_add_loop_test(tc, test_log_lines, 0,
	    (int)(sizeof(log_cases) / sizeof(log_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

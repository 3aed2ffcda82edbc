/*
 * unit_tls.c - the UCSPI-TLS conversation (tls.h) with a forked stand-in
 * for the launcher's engine: the descriptors taken from the environment
 * (all three or none), the 'Y' request, the report read to its end in
 * any pieces and kept only in name characters, a handshake that fails
 * (the engine's exit status is reported), one that never ends (bounded),
 * and the engine reaped at the end whether or not TLS was asked for.
 * Each test runs in its own process (check's fork mode), so waitpid(-1)
 * sees only the stand-in.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("ucspi-tls");

	tcase_add_test(tc, test_env_all_or_none);
	tcase_add_test(tc, test_env_bad_values);
	tcase_add_loop_test(tc, test_start_reads_report, 0, 2);
	tcase_add_test(tc, test_start_values_cleaned);
	tcase_add_loop_test(tc, test_start_fails, 0, 2);
	tcase_add_test(tc, test_start_bounded);
	tcase_add_test(tc, test_end_reaps_unasked);
	tcase_add_test(tc, test_end_shuts_stuck);
	suite_add_tcase(s, tc);
	return s;
}

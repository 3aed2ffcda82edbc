/*
 * e2e_transport.c - the launcher's descriptors as the server meets them:
 * a socket (inetd, systemd, tcpserver) or two pipes (a launcher that
 * hands over pipes), each with a client that streams a large message, a
 * lock-step client, and a client that stops reading its replies, which
 * must still see the session end within --timeout (pipesmtpd(8)
 * OPTIONS, --timeout; fdio.c's fd_write).  And a launcher that
 * leaves fd 0, 1 or 2 closed (smtpd.c's safe_fds).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The transports each test runs on: loop index 0 a socketpair, 1 pipes. */
static const char *const transport[] = { "socket", "pipes" };

static void
pick(struct h_opts *o, int i)
{
	o->pipes = i == 1;
}

START_TEST(test_large_message)
{
	/* a message far larger than one read, streamed, then a small one:
	 * both delivered intact, on either transport */
	const char *line = "0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789";
	struct h_opts o = { 0 };
	struct h_result r;
	size_t len;
	char *d, *want;

	pick(&o, _i);
	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n%s.\r\n"
	    "MAIL FROM:<t@x.example>\r\nRCPT TO:<v@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n",
	    h_repeat(h_strf("%s\r\n", line), 12000)));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(h_count(h_dir), 2);
	d = h_stdin(h_dir, 1, &len);
	want = h_repeat(h_strf("%s\n", line), 12000);
	ck_assert_int_eq(strlen(h_body(d)), strlen(want));
	ck_assert_msg(strcmp(h_body(d), want) == 0, "%s: body differs",
	    transport[_i]);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 2, NULL)), H_MSG_LF);
}
END_TEST

START_TEST(test_lock_step)
{
	/* one line at a time, each reply awaited: nothing waits for more
	 * input than the client has sent, on either transport */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	pick(&o, _i);
	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<u@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_say(&p, H_MSG ".\r\n", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

START_TEST(test_idle_timeout_after_streaming)
{
	/* after a large read the server tries a read that cannot block
	 * first; when nothing is there it still waits --timeout, no less */
	char *head = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n%s",
	    h_repeat("0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789\r\n", 4000));
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	long t;

	pick(&o, _i);
	h_start(&p, &o);
	h_send(&p, head, strlen(head));
	t = h_elapsed(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "421 4.4.2");
	ck_assert_msg(r.ms - t >= 900, "%s: 421 after %ld ms", transport[_i],
	    r.ms - t);
	ck_assert_int_lt(r.ms, h_scaled(5000));
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

/* feed - write as much of s as the server takes now, from *done on;
 * -1 once it can take nothing more (it is gone) */
static int
feed(struct h_proc *p, const char *s, size_t len, size_t *done)
{
	while (*done < len) {
		ssize_t n = p->pipes ? write(p->sock, s + *done, len - *done) :
		    send(p->sock, s + *done, len - *done,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			*done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
	*done = 0;		/* round again */
	return 0;
}

START_TEST(test_stopped_reader)
{
	/* a client that keeps sending commands but never reads a reply:
	 * once the replies fill the connection the server cannot write,
	 * and --timeout later it gives up and ends, exit 0 */
	char *cmds = h_repeat("EHLO c.example\r\n", 4096);
	size_t len = strlen(cmds), done = 0;
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	long bound = h_scaled(6000);

	pick(&o, _i);
	h_start(&p, &o);
	while (!h_dead(p.pid, 0) && h_elapsed(&p) < bound) {
		if (feed(&p, cmds, len, &done) < 0)
			break;
		usleep(10000);
	}
	ck_assert_msg(h_dead(p.pid, h_scaled(2000)), "%s: the server is still "
	    "running %ld ms after its replies stopped being read",
	    transport[_i], h_elapsed(&p));
	h_finish(&p, &r);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms >= 900, "%s: ended after %ld ms", transport[_i],
	    r.ms);
	ck_assert_msg(strstr(r.log, "disconnect from") != NULL, "%s: '%s'",
	    transport[_i], r.log);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* run_closed - the server with fd `closed` closed, the others pipes:
 * input on fd 0, fd 1 and fd 2 read into out (interleaved) */
static int
run_closed(int closed, const char *input, char *out, size_t cap)
{
	const char *argv[] = { H_BIN, "--log-stderr", "--hostname", H_HOST,
	    "--allow-root", "--", "/bin/true", NULL };
	int in[2], res[2], status, fd;
	size_t len = 0;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(res, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0 ||
		    dup2(res[1], 2) < 0)
			_exit(126);
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		close(closed);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	signal(SIGPIPE, SIG_IGN);
	if (write(in[1], input, strlen(input)) < 0)
		ck_assert_int_eq(errno, EPIPE);	/* it refused to start */
	close(in[1]);
	while (len + 1 < cap &&
	    (n = read(res[0], out + len, cap - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(res[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_closed_std_fds)
{
	/* no stdin or no stdout: a usage error, logged (here to stderr),
	 * before any SMTP; a client on stdout gets one 421 (no stdout: no
	 * answer), and the usage text is never written */
	static const char unavailable[] = "421 4.3.0 " H_HOST " Service not "
	    "available\r\n";
	char out[4096], *at;
	int fd;

	for (fd = 0; fd < 2; fd++) {
		ck_assert_int_eq(run_closed(fd, "QUIT\r\n", out, sizeof(out)),
		    64);
		ck_assert_msg(strstr(out, "stdin and stdout must be open") !=
		    NULL, "fd %d closed: '%s'", fd, out);
		at = strstr(out, "421 ");
		if (fd == 0)
			ck_assert_msg(at != NULL && strncmp(at, unavailable,
			    strlen(unavailable)) == 0 &&
			    strstr(at + 1, "421 ") == NULL, "fd 0 closed: "
			    "'%s'", out);
		else
			ck_assert_msg(at == NULL, "fd 1 closed: '%s'", out);
		ck_assert_ptr_null(strstr(out, "usage:"));
		ck_assert_ptr_null(strstr(out, "220 "));
	}
	/* no stderr: the session runs (fd 2 becomes /dev/null) */
	ck_assert_int_eq(run_closed(2, "QUIT\r\n", out, sizeof(out)), 0);
	ck_assert_str_eq(h_codes(out), "220|221 2.0.0");
}
END_TEST

Suite *
transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = h_tcase("socket and pipes");
	int n = (int)(sizeof(transport) / sizeof(transport[0]));

	tcase_add_loop_test(tc, test_large_message, 0, n);
	tcase_add_loop_test(tc, test_lock_step, 0, n);
	tcase_add_loop_test(tc, test_idle_timeout_after_streaming, 0, n);
	tcase_add_loop_test(tc, test_stopped_reader, 0, n);
	tcase_add_test(tc, test_closed_std_fds);
	suite_add_tcase(s, tc);
	return s;
}

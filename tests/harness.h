/*
 * harness.h - end-to-end tests: the built ./pipesmtpd over a socketpair.
 *
 * The server is started the way inetd starts it: one end of a
 * socketpair(AF_UNIX, SOCK_STREAM) as its fd 0 and fd 1, stderr to a pipe
 * (tests pass --log-stderr so its log can be asserted), nothing else open.
 * The test side writes its script poll-driven (reading replies and log
 * while it writes, so nothing can deadlock), reads until EOF under an
 * overall time bound and reaps the server with a bound too: an overrun
 * kills it and fails the test.  Deliveries go to tests/recorder, which
 * writes what each run received under a fresh record directory per test.
 *
 * The suite runs from the repository root (`./tests/e2e`).  With
 * PIPESMTPD_WRAPPER set (say "valgrind -q --error-exitcode=99") the
 * server runs under that command, and PIPESMTPD_BOUND_SCALE stretches
 * every time bound; an exit status of 99 fails the test.
 */
#ifndef PIPESMTPD_E2E_HARNESS_H
#define PIPESMTPD_E2E_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define H_BIN		"./pipesmtpd"
#define H_RECORDER	"./tests/recorder"
#define H_NULLTLS	"./tests/nulltls"	/* UCSPI-TLS, no crypto */
#define H_HOST		"mx.example"	/* --hostname of every test */
#define H_HELO		"client.example"
#define H_MSG		"Subject: test\r\n\r\nHello.\r\n"
#define H_MSG_LF	"Subject: test\n\nHello.\n"
#define H_MSG_HOPS2	"Received: from a.example\r\nReceived: from " \
			"b.example\r\nSubject: x\r\n\r\nbody\r\n"
#define H_MSG_BARE_LF	"Subject: x\r\n\r\nbare\nLF\r\n"
#define H_MAX_ARGS	48
#define H_BOUND_MS	20000		/* no session may take longer
					   (times PIPESMTPD_BOUND_SCALE) */
#define H_MAX_TCASES	128		/* test cases h_tcase() lists */

/* The record directory of the running test (made by the fixture). */
extern char h_dir[4096];
/* The directory every test's records live under (made by main). */
extern char h_base[4096];
/* The names of the test cases h_tcase() made, in order (main runs the
 * cases in parallel by them); past H_MAX_TCASES it stops counting. */
extern const char *h_tcase_names[H_MAX_TCASES];
extern size_t h_ntcases;

/* How to start one server. */
struct h_opts {
	const char *args[H_MAX_ARGS];	/* options, before the command */
	const char *cmd[24];		/* command; default recorder h_dir */
	const char *env[24];		/* server environment (with PATH) */
	const char *wrap[8];		/* argv words the server runs under
					   (before PIPESMTPD_WRAPPER's) */
	int bare;		/* no --log-stderr/--hostname/--allow-root */
	int no_allow_root;	/* omit --allow-root even as root */
	int no_path;		/* the server gets no PATH */
	int keep_open;		/* h_run: do not shut down the write side */
	int leak_fds;		/* the server inherits fds 5 and 9 too */
	int tcp;		/* a loopback TCP connection, not a socketpair */
	int pipes;		/* fd 0 and fd 1 are two pipes, not a socket */
	int stderr_sock;	/* fd 2 is the client's socket too, as inetd
				   makes it (the log pipe stays empty) */
	int tty_out;		/* fd 1 is a terminal (a pty), as when run
				   by hand; replies are what it shows */
	const char *dev_log;	/* as root: run it in a mount namespace of
				   its own where /dev/log is this socket */
	long fsize;		/* RLIMIT_FSIZE for the server, if > 0 */
	long nofile;		/* RLIMIT_NOFILE for the server, if > 0 */
	int no_fork;		/* RLIMIT_NPROC 0: it cannot fork (root is
				   exempt: pair it with --user) */
	int extra_groups;	/* as root: start it with supplementary
				   groups 0, 4 and 27 to be dropped */
	int timeout_ms;		/* overall bound; 0: H_BOUND_MS */
	int sigchld_ignored;	/* start it with SIGCHLD ignored, as some
				   script wrappers do */
	int sigmask_all;	/* start it with every signal blocked */
};

/* What one session produced. */
struct h_result {
	char *out;		/* every byte the server wrote, NUL added */
	size_t outlen;
	char *log;		/* its stderr, NUL added */
	size_t loglen;
	int status;		/* wait status */
	int code;		/* exit code, -1 if killed by a signal */
	long ms;		/* from start to exit */
};

/* A running server. */
struct h_proc {
	pid_t pid;
	int sock;		/* our end of the socketpair (under pipes: the
				   write end of the server's stdin) */
	int rd;			/* where replies come from: sock, or the read
				   end of the server's stdout */
	int pipes;		/* started with h_opts pipes */
	int split;		/* rd is not sock: replies come from a pipe
				   or a pty */
	int err;		/* read end of its stderr */
	int out_eof, err_eof;
	char *out;		/* replies so far */
	size_t outlen, outcap;
	size_t seen;		/* replies before this were returned */
	char *log;
	size_t loglen, logcap;
	struct timespec t0;	/* start, CLOCK_MONOTONIC */
	long bound_ms;
};

/* fixtures and test cases */
void h_setup(void);
void h_teardown(void);
void h_fresh(void);
TCase *h_tcase(const char *name);
int h_root(void);
long h_scaled(long ms);

/* sessions */
void h_nulltls(struct h_opts *o, const char *opt, const char *val);
int h_can_unshare(void);
void h_start(struct h_proc *p, const struct h_opts *o);
void h_send(struct h_proc *p, const void *buf, size_t len);
void h_sends(struct h_proc *p, const char *s);
void h_pause(struct h_proc *p, long ms);
char *h_reply(struct h_proc *p, long ms);
char *h_expect(struct h_proc *p, const char *prefix);
char *h_say(struct h_proc *p, const char *line, const char *prefix);
void h_shut(struct h_proc *p);
void h_finish(struct h_proc *p, struct h_result *r);
long h_elapsed(const struct h_proc *p);
void h_run(struct h_result *r, const struct h_opts *o, const char *input);
void h_runn(struct h_result *r, const struct h_opts *o, const char *input,
    size_t len);

/* replies */
char *h_codes(const char *out);
char *h_line(const char *out, int n);
int h_nreplies(const char *out);

/* text */
char *h_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *h_repeat(const char *unit, size_t times);
char *h_txn(const char *mail, const char *body, ...);
char *h_want(int nrcpt, const char *final);
const char *h_body(const char *delivered);
char *h_header(const char *delivered, const char *name);

/* per-recipient and chunked transactions (harness_txn.c) */
char *h_bdat(const char *data, int last);
char *h_bdat_halves(const char *data);
char *h_rcpts(const char *const *l);
int h_nrcpts(const char *const *l);
const char *h_run_body(int n);
void h_assert_size_env(int n);
char *h_keywords(const char *out);

/* records */
int h_count(const char *dir);
char *h_file(const char *dir, int n, const char *name, size_t *len);
char *h_read(const char *path, size_t *len);
char *h_env(const char *dir, int n, const char *name);
char *h_argv(const char *dir, int n, int i);
int h_argc(const char *dir, int n);
char *h_stdin(const char *dir, int n, size_t *len);
char *h_subdir(const char *name);
void h_assert_log_clean(const char *log, size_t len);
int h_dead(pid_t pid, long ms);

/* suites */
Suite *protocol_suite(void);
Suite *address_suite(void);
Suite *data_suite(void);
Suite *message_suite(void);
Suite *command_suite(void);
Suite *outcome_suite(void);
Suite *limits_suite(void);
Suite *session_suite(void);
Suite *options_suite(void);
Suite *lmtp_suite(void);
Suite *chunking_suite(void);
Suite *prdr_suite(void);
Suite *hostile_suite(void);
Suite *transport_suite(void);
Suite *tls_suite(void);
Suite *proxy_suite(void);
Suite *aliases_suite(void);
Suite *check_suite(void);
Suite *jobs_suite(void);

#endif

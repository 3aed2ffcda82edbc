/*
 * unit_deliver.c - one delivery (deliver.h) and the checks run like
 * one (checks.h): that an outcome starts as a failure, the
 * end-of-delivery deadline (alone, through a whole session, and under
 * --jobs through jobs.h), which accounts get mail (account.h), and
 * commands whose end the server cannot see.  Placeholders and how a
 * run's end maps to an outcome are tested in unit_command.c, the exit
 * table and the sanitiser in unit_outcome.c, the added headers in
 * unit_received.c, the runner in unit_run.c.  No command is run here
 * except /bin/sh one-liners run where SIGCHLD is ignored, so that
 * waitpid() fails, and the deadline tests' one-liners, which leave a
 * file behind to prove they ran.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "checks.h"
#include "command.h"
#include "config.h"
#include "deliver.h"
#include "deadline.h"
#include "jobs.h"
#include "log.h"
#include "run.h"
#include "session.h"
#include "support.h"
#include "unit.h"


/* ---- commands whose end the server cannot see ---- */

/* ms_since - milliseconds since t0 (a deadline_now() reading) */
static long
ms_since(long long t0)
{
	return (long)((deadline_now() - t0) / 1000);
}

/* A delivery of one spooled message to r@mx.test. */
struct run_fixture {
	struct config cfg;
	struct deliver_msg msg;
	struct address sender, rcpt;
};

/* run_setup - f ready to run /bin/sh -c script: the message in a spool */
static void
run_setup(struct run_fixture *f, char **argv, const char *script)
{
	static const char msg[] = "Subject: x\n\nhi\n";
	FILE *spool = tmpfile();
	size_t used;

	memset(f, 0, sizeof(*f));
	f->cfg.hostname = "mx.test";
	f->cfg.client_ip = "192.0.2.1";
	f->cfg.client_host = "unknown";
	f->cfg.null_sender = "";
	ck_assert_int_eq(address_parse("<s@x.org>", 9, ADDR_ALLOW_NULL,
	    &f->sender, &used), ADDR_OK);
	ck_assert_int_eq(address_parse("<r@mx.test>", 11, 0, &f->rcpt,
	    &used), ADDR_OK);
	f->msg.head.sender = &f->sender;
	f->msg.head.helo = "client.example";
	f->msg.head.with = "ESMTP";
	f->msg.head.queue_id = "QID1";
	f->msg.head.nrcpt = 1;
	f->msg.head.first = &f->rcpt;
	f->msg.head.arrival = time(NULL);
	ck_assert_ptr_nonnull(spool);
	ck_assert_uint_eq(fwrite(msg, 1, sizeof(msg) - 1, spool),
	    sizeof(msg) - 1);
	ck_assert_int_eq(fflush(spool), 0);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	f->cfg.command = argv;
	f->cfg.rcpt_check = argv;
	f->cfg.path = "/usr/bin:/bin";
	f->cfg.delivery_timeout = 2;
	f->msg.spool_fd = fileno(spool);	/* the test process ends it */
	f->msg.spool_len = sizeof(msg) - 1;
	f->msg.start = deadline_now();
	f->msg.deadline = deadline_in(60);
}

START_TEST(test_check_unreaped_fails_closed)
{
	/* SIGCHLD ignored: the kernel reaps the check and waitpid() fails.
	 * Its verdict is unknown, so the recipient is deferred at once,
	 * never accepted and never after the timeout */
	static const char *const scripts[] = { "exit 0", "exit 67" };
	struct run_fixture f;
	struct outcome out;
	long long t0;
	char *argv[4];
	size_t i;

	ck_assert(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		run_setup(&f, argv, scripts[i]);
		t0 = deadline_now();
		checks_rcpt(&f.cfg, &f.msg.head, &f.rcpt, &out);
		ck_assert_msg(out.cls == OUT_TEMP, "'%s': class %d", scripts[i],
		    out.cls);
		ck_assert_str_eq(out.dsn, "4.3.0");
		ck_assert_int_eq(out.status, OUTCOME_UNSEEN);
		ck_assert_msg(ms_since(t0) < 1000, "'%s': %ld ms", scripts[i],
		    ms_since(t0));
	}
}
END_TEST

START_TEST(test_delivery_unreaped_is_temporary)
{
	/* the same for a delivery: a temporary failure that says why, not
	 * "timed out" after the delivery timeout, and never "exit 0" */
	struct run_fixture f;
	struct outcome out;
	long long t0;
	char *argv[4];

	run_setup(&f, argv, "cat >/dev/null");
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_DELIVERED);	/* the control */
	ck_assert(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	t0 = deadline_now();
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_int_eq(out.status, OUTCOME_UNSEEN);
	ck_assert_msg(strstr(out.text, strerror(ECHILD)) != NULL, "'%s'",
	    out.text);
	ck_assert_msg(ms_since(t0) < 1000, "%ld ms", ms_since(t0));
}
END_TEST

/* ---- every outcome starts as a failure ---- */

START_TEST(test_outcome_starts_undelivered)
{
	/* an outcome no code path fills says "not delivered": neither its
	 * zero value nor the initialiser's is a delivery */
	struct outcome out;

	memset(&out, 0, sizeof(out));
	ck_assert_msg(out.cls != OUT_DELIVERED, "a zeroed outcome is "
	    "delivered");
	memset(&out, 'Z', sizeof(out));
	outcome_init(&out);
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_str_eq(out.text, "not delivered");
	ck_assert_int_eq(out.status, OUTCOME_NOT_RUN);
}
END_TEST

/* ---- the end-of-delivery deadline ---- */

/* A directory of marker files, and the log lines, of one test. */
struct marks {
	char dir[64];		/* the commands touch files here */
	FILE *log;		/* stderr while logging goes there */
	int saved;		/* the real stderr */
};

/* marks_start - an empty directory, and the log to a file */
static void
marks_start(struct marks *m)
{
	snprintf(m->dir, sizeof(m->dir), "/tmp/unit-deliver-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(m->dir));
	m->log = tmpfile();
	ck_assert_ptr_nonnull(m->log);
	m->saved = dup(2);
	ck_assert_int_ge(m->saved, 0);
	ck_assert_int_eq(dup2(fileno(m->log), 2), 2);
	log_open(1);
}

/* marks_log - everything logged so far; stderr is the real one again */
static char *
marks_log(struct marks *m)
{
	static char buf[8192];
	size_t n;

	ck_assert_int_eq(dup2(m->saved, 2), 2);
	rewind(m->log);
	n = fread(buf, 1, sizeof(buf) - 1, m->log);
	buf[n] = '\0';
	return buf;
}

/* marks_has - whether a command touched name */
static int
marks_has(const struct marks *m, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", m->dir, name);
	return access(path, F_OK) == 0;
}

/* marks_end - the directory and its files gone */
static void
marks_end(struct marks *m)
{
	static const char *const names[] = { "ran", "a", "b", "c" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dir, names[i]);
		unlink(path);
	}
	rmdir(m->dir);
	fclose(m->log);
	close(m->saved);
}

START_TEST(test_deadline_passed_not_run)
{
	/* once the end of all deliveries has passed, no command starts:
	 * the recipient fails temporarily, and the log line says why */
	struct run_fixture f;
	struct outcome out;
	struct marks m;
	char *argv[4], script[128], *log;

	marks_start(&m);
	/* it reads its input first: a command that exits without reading
	 * could make the runner's write raise SIGPIPE in this process */
	snprintf(script, sizeof(script), "cat >/dev/null && touch %s/ran",
	    m.dir);
	run_setup(&f, argv, script);
	f.msg.deadline = deadline_now() - DEADLINE_SECOND;
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	log = marks_log(&m);
	ck_assert_msg(!marks_has(&m, "ran"), "the command ran");
	ck_assert_int_eq(out.cls, OUT_TEMP);
	ck_assert_str_eq(out.dsn, "4.3.0");
	ck_assert_str_eq(out.text, "delivery time limit reached");
	ck_assert_int_eq(out.status, OUTCOME_NOT_RUN);
	ck_assert_msg(strstr(log, "QID1: to=<r@mx.test>, ") != NULL &&
	    strstr(log, "status=deferred (not run: delivery time limit "
	    "reached)\n") != NULL, "log: '%s'", log);
	/* the control: with time left the same command runs */
	f.msg.deadline = deadline_in(60);
	deliver_one(&f.cfg, &f.msg, &f.rcpt, &f.rcpt, &out);
	ck_assert_int_eq(out.cls, OUT_DELIVERED);
	ck_assert(marks_has(&m, "ran"));
	marks_end(&m);
}
END_TEST

/* real_deliver - jobs_deliver() as the session's deliverer (one at a
 * time under --jobs 1, up to N at once under --jobs N) */
static void
real_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct deliver_plan *p)
{
	(void)ctx;
	jobs_deliver(cfg, msg, p);
}

/* deadline_config - a session's configuration for the deadline tests:
 * mx.test's recipients, /bin/sh -c script as the command, the end of all
 * deliveries 1 s after the dot */
static void
deadline_config(struct config *cfg, char *script)
{
	static const char *domains[] = { "mx.test" };
	static char sh[] = "/bin/sh", c[] = "-c";
	static char *argv[4];

	argv[0] = sh;
	argv[1] = c;
	argv[2] = script;
	argv[3] = NULL;
	config_defaults(cfg);
	cfg->hostname = "mx.test";
	cfg->domains = domains;
	cfg->ndomains = 1;
	cfg->command = argv;
	cfg->client_ip = "192.0.2.1";
	cfg->client_host = "unknown";
	cfg->total_delivery_timeout = 1;
}

/* deadline_session - dialogue through a session under cfg, delivering
 * through jobs_deliver() as the program does; conn holds the replies
 * (support_conn_free() after) */
static void
deadline_session(const struct config *cfg, const char *dialogue,
    struct support_conn *conn)
{
	struct session_deliverer d = { .deliver = real_deliver };
	struct chat_io io;

	support_conn_start(conn, dialogue, strlen(dialogue), 0);
	support_conn_io(conn, &io);
	ck_assert_int_eq(session_run(cfg, &io, &d), 0);
}

START_TEST(test_deadline_in_session)
{
	/* three recipients, the end of all deliveries 1 s after the dot:
	 * a is delivered, b's command outlives it and is killed, c's never
	 * starts; the reply is never 250 (under LMTP: 250, 451, 451) */
	static const char in[] = "%s c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\n"
	    "RCPT TO:<c@mx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"
	    "QUIT\r\n";
	char script[160], dialogue[512];
	struct support_conn conn;
	struct config cfg;
	struct marks m;
	char *log;
	int lmtp;

	for (lmtp = 0; lmtp < 2; lmtp++) {
		marks_start(&m);
		snprintf(script, sizeof(script), "touch %s/%%u; "
		    "[ %%u != b ] || exec sleep 5", m.dir);
		deadline_config(&cfg, script);
		cfg.lmtp = lmtp;
		snprintf(dialogue, sizeof(dialogue), in, lmtp ? "LHLO" :
		    "EHLO");
		deadline_session(&cfg, dialogue, &conn);
		log = marks_log(&m);
		ck_assert_ptr_nonnull(conn.out.buf);
		if (lmtp)
			ck_assert_msg(strstr(conn.out.buf, "\r\n250 2.0.0 <a@"
			    "mx.test>: delivered") != NULL &&
			    strstr(conn.out.buf, "\r\n451 4.3.0 <b@mx.test>: "
			    "delivery command timed out") != NULL &&
			    strstr(conn.out.buf, "\r\n451 4.3.0 <c@mx.test>: "
			    "delivery time limit reached") != NULL,
			    "replies:\n%s", conn.out.buf);
		else
			ck_assert_msg(strstr(conn.out.buf, "\r\n451 4.3.0 <b@"
			    "mx.test>: delivery command timed out "
			    "(delivered to 1 of 3 recipients") != NULL,
			    "replies:\n%s", conn.out.buf);
		ck_assert_msg(strstr(conn.out.buf, "\r\n250 2.0.0 Ok: "
		    "delivered") == NULL, "replies:\n%s", conn.out.buf);
		ck_assert(marks_has(&m, "a") && marks_has(&m, "b"));
		ck_assert_msg(!marks_has(&m, "c"), "c's command ran");
		ck_assert_msg(strstr(log, "to=<c@mx.test>, ") != NULL &&
		    strstr(log, "status=deferred (not run: delivery time "
		    "limit reached)\n") != NULL, "log: '%s'", log);
		support_conn_free(&conn);
		marks_end(&m);
	}
}
END_TEST

START_TEST(test_deadline_with_jobs)
{
	/* --jobs 2: a and b run at once and outlive the end of all
	 * deliveries (1 s), so both are killed; no slot is free before it,
	 * and after it c's command never starts; the reply is 451 */
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\n"
	    "RCPT TO:<c@mx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"
	    "QUIT\r\n";
	char script[160];
	struct support_conn conn;
	struct config cfg;
	struct marks m;
	char *log;

	marks_start(&m);
	snprintf(script, sizeof(script), "touch %s/%%u; "
	    "[ %%u = c ] || exec sleep 5", m.dir);
	deadline_config(&cfg, script);
	cfg.jobs = 2;
	deadline_session(&cfg, in, &conn);
	log = marks_log(&m);
	ck_assert_ptr_nonnull(conn.out.buf);
	ck_assert_msg(strstr(conn.out.buf, "\r\n451 4.3.0 <a@mx.test>: "
	    "delivery command timed out (delivered to 0 of 3 recipients") !=
	    NULL, "replies:\n%s", conn.out.buf);
	ck_assert(marks_has(&m, "a") && marks_has(&m, "b"));
	ck_assert_msg(!marks_has(&m, "c"), "c's command ran");
	ck_assert_msg(strstr(log, "to=<c@mx.test>, ") != NULL &&
	    strstr(log, "status=deferred (not run: delivery time limit "
	    "reached)\n") != NULL, "log: '%s'", log);
	support_conn_free(&conn);
	marks_end(&m);
}
END_TEST

/* ---- --as-recipient: which accounts get mail ---- */

START_TEST(test_account_min_uid)
{
	/* uid 0 never under --as-recipient; below --min-uid only the
	 * --postmaster account */
	struct passwd *pw = getpwnam("daemon");
	struct config cfg;

	if (pw == NULL || pw->pw_uid == 0 || pw->pw_uid >= 1000)
		return;		/* no system account to try */
	memset(&cfg, 0, sizeof(cfg));
	cfg.as_recipient = 1;
	cfg.min_uid = 1000;
	cfg.postmaster = "nobody";
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_NONE);
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
	ck_assert_int_eq(account_find(&cfg, "no-such-account-unit", NULL),
	    ACCOUNT_NONE);
	cfg.postmaster = "daemon";
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_OK);
	cfg.postmaster = "root";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
	cfg.postmaster = "nobody";
	cfg.min_uid = pw->pw_uid;
	ck_assert_int_eq(account_find(&cfg, "daemon", NULL), ACCOUNT_OK);
	cfg.min_uid = 0;
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
}
END_TEST

START_TEST(test_account_root_postmaster)
{
	/* --local-users alone (commands run as the server's user): root can
	 * be the --postmaster account, as Debian's /etc/aliases expects */
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.local_users = 1;
	cfg.min_uid = 1000;
	cfg.postmaster = "root";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_OK);
	cfg.postmaster = "nobody";
	ck_assert_int_eq(account_find(&cfg, "root", NULL), ACCOUNT_NONE);
}
END_TEST

START_TEST(test_account_fills_ids)
{
	/* the ids, home and every group of the account, on the heap */
	struct passwd *pw = getpwnam("nobody");
	struct run_account acct;
	struct config cfg;
	gid_t groups[64];
	int n = 64;

	if (pw == NULL)
		return;
	memset(&cfg, 0, sizeof(cfg));
	ck_assert(getgrouplist("nobody", pw->pw_gid, groups, &n) >= 0);
	ck_assert_int_eq(account_find(&cfg, "nobody", &acct), ACCOUNT_OK);
	ck_assert_uint_eq(acct.uid, pw->pw_uid);
	ck_assert_uint_eq(acct.gid, pw->pw_gid);
	ck_assert_str_eq(acct.home, pw->pw_dir);
	ck_assert_int_eq(acct.ngroups, n);
	ck_assert(memcmp(acct.groups, groups, (size_t)n * sizeof(gid_t)) == 0);
	account_free(&acct);
	ck_assert_ptr_null(acct.groups);
}
END_TEST

Suite *
deliver_suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("outcome");

	tcase_add_test(tc, test_outcome_starts_undelivered);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_deadline_passed_not_run);
	tcase_add_test(tc, test_deadline_in_session);
	tcase_add_test(tc, test_deadline_with_jobs);
	suite_add_tcase(s, tc);

	tc = tcase_create("accounts");
	tcase_add_test(tc, test_account_min_uid);
	tcase_add_test(tc, test_account_root_postmaster);
	tcase_add_test(tc, test_account_fills_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreaped");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_check_unreaped_fails_closed);
	tcase_add_test(tc, test_delivery_unreaped_is_temporary);
	suite_add_tcase(s, tc);
	return s;
}

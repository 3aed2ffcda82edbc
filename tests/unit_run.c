/*
 * unit_run.c - the command runner (run.h): argv[0] found in PATH, the
 * three kinds of stdin (/dev/null, a pipe fed with a head and the spool,
 * the spool itself), the output kept up to RUN_CAPTURE_MAX, a spool that
 * ends early, a command that cannot start, and the deadline that kills
 * the command's whole process group.  The commands are /bin/sh
 * one-liners.  As root, in a forked child: the switch to the nobody
 * account (ids, groups, uid 0 gone for good), and a command whose
 * account switch could take uid 0 back never starts.
 */
#include <errno.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "run.h"
#include "unit.h"

static const char spool_text[] = "Subject: x\n\nhi\n";

/* A run of /bin/sh -c SCRIPT with the spool above. */
struct run_fixture {
	struct run run;
	char *argv[4];
	char *envp[2];
	FILE *spool;
};

/* sh_setup - f ready to run script with input in, within seconds */
static void
sh_setup(struct run_fixture *f, const char *script, enum run_input in,
    unsigned seconds)
{
	memset(f, 0, sizeof(*f));
	f->spool = tmpfile();
	ck_assert_ptr_nonnull(f->spool);
	ck_assert_uint_eq(fwrite(spool_text, 1, sizeof(spool_text) - 1,
	    f->spool), sizeof(spool_text) - 1);
	ck_assert_int_eq(fflush(f->spool), 0);
	f->argv[0] = "/bin/sh";
	f->argv[1] = "-c";
	f->argv[2] = (char *)script;
	f->envp[0] = "PATH=/usr/bin:/bin";
	f->run.argv = f->argv;
	f->run.envp = f->envp;
	f->run.input = in;
	f->run.spool_fd = fileno(f->spool);
	f->run.spool_len = sizeof(spool_text) - 1;
	f->run.deadline = deadline_in(seconds);
}

/* to_end - run_start(), run_wait(), run_finish(): one command to its
 * end, as the deliverer runs one; -1 when it could not be started */
static int
to_end(struct run *r)
{
	if (run_start(r) == -1)
		return -1;
	run_wait(r);
	run_finish(r);
	return 0;
}

/* sh_run - run it to its end; the output, NUL-terminated */
static const char *
sh_run(struct run_fixture *f)
{
	ck_assert_int_eq(to_end(&f->run), 0);
	ck_assert_int_eq(f->run.failed.step, RUN_STEP_NONE);
	ck_assert_int_lt(f->run.outlen, sizeof(f->run.out));
	f->run.out[f->run.outlen] = '\0';
	ck_assert_int_eq(fclose(f->spool), 0);
	return f->run.out;
}

/* exited - whether the run was reaped in time with exit code */
static int
exited(const struct run_fixture *f, int code)
{
	return f->run.end.reaped && !f->run.end.timed_out &&
	    WIFEXITED(f->run.end.status) &&
	    WEXITSTATUS(f->run.end.status) == code;
}

START_TEST(test_resolve)
{
	char out[256];

	ck_assert_int_eq(run_resolve("sh", "/nonexistent:/bin", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "/bin/sh");
	ck_assert_int_eq(run_resolve("/bin/sh", "", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/bin/sh");
	errno = 0;
	ck_assert_int_eq(run_resolve("no-such-command-unit", "/bin", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(run_resolve("/", "/bin", out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EACCES);		/* not a regular file */
	errno = 0;
	ck_assert_int_eq(run_resolve("/bin/sh", "/bin", out, 4), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

START_TEST(test_stdin_kinds)
{
	struct run_fixture f;

	sh_setup(&f, "cat", RUN_IN_NULL, 10);
	ck_assert_str_eq(sh_run(&f), "");
	ck_assert(exited(&f, 0));

	sh_setup(&f, "cat", RUN_IN_PIPE, 10);
	f.run.head = "Received: x\n";
	f.run.headlen = strlen(f.run.head);
	ck_assert_str_eq(sh_run(&f), "Received: x\nSubject: x\n\nhi\n");
	ck_assert(exited(&f, 0));
	ck_assert(!f.run.end.short_input);

	/* the spool itself: read-only, so a write to stdin fails */
	sh_setup(&f, "cat; { echo x >&0; } 2>/dev/null || echo read-only",
	    RUN_IN_SPOOL, 10);
	ck_assert_str_eq(sh_run(&f), "Subject: x\n\nhi\nread-only\n");
	ck_assert(exited(&f, 0));
}
END_TEST

START_TEST(test_status_and_capture)
{
	struct run_fixture f;

	sh_setup(&f, "echo to-stderr >&2; exit 67", RUN_IN_NULL, 10);
	ck_assert_str_eq(sh_run(&f), "to-stderr\n");
	ck_assert(exited(&f, 67));

	/* 10000 octets written, RUN_CAPTURE_MAX kept, the writer not
	 * blocked by the rest */
	sh_setup(&f, "i=0; while [ $i -lt 1000 ]; do echo 123456789; "
	    "i=$((i+1)); done", RUN_IN_NULL, 10);
	ck_assert_int_eq(to_end(&f.run), 0);
	ck_assert_uint_eq(f.run.outlen, RUN_CAPTURE_MAX);
	ck_assert(exited(&f, 0));
	ck_assert_int_eq(fclose(f.spool), 0);
}
END_TEST

START_TEST(test_short_spool)
{
	/* the spool ends before spool_len: the run says so */
	struct run_fixture f;

	sh_setup(&f, "cat >/dev/null", RUN_IN_PIPE, 10);
	f.run.spool_len += 100;
	sh_run(&f);
	ck_assert(exited(&f, 0));
	ck_assert(f.run.end.short_input);
}
END_TEST

START_TEST(test_cannot_start)
{
	struct run_fixture f;

	sh_setup(&f, "exit 0", RUN_IN_NULL, 10);
	f.argv[0] = "/nonexistent/command";
	ck_assert_int_eq(to_end(&f.run), -1);
	ck_assert_int_eq(f.run.failed.step, RUN_STEP_SPAWN);
	ck_assert_int_eq(f.run.failed.err, ENOENT);
	ck_assert_str_eq(run_step_name(f.run.failed.step), "spawn");
	ck_assert_str_eq(run_step_object(&f.run), "/nonexistent/command");
	ck_assert_int_eq(fclose(f.spool), 0);
}
END_TEST

/* nobody - the nobody account, its groups in groups (cap of them), as
 * a command would run as it; 0 if there is no such account */
static int
nobody(struct run_account *a, gid_t *groups, int cap)
{
	struct passwd *pw = getpwnam("nobody");

	memset(a, 0, sizeof(*a));
	if (pw == NULL)
		return 0;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	a->ngroups = cap;
	ck_assert_int_ge(getgrouplist("nobody", pw->pw_gid, groups,
	    &a->ngroups), 0);
	a->groups = groups;
	snprintf(a->home, sizeof(a->home), "/");
	return 1;
}

/* has_gid - whether gid is one of the n in list */
static int
has_gid(const gid_t *list, int n, gid_t gid)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i] == gid)
			return 1;
	return 0;
}

/* child_status - fork, run fn in the child, which exits with a status;
 * the exit status, or -1 if it did not exit */
static int
child_status(int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* become_nobody - as root: switch to nobody with run_become(); 0 when
 * every id and group is nobody's and uid 0 cannot be taken back, else
 * the number of the check that failed */
static int
become_nobody(void)
{
	gid_t want[64], got[64];
	struct run_account a;
	int n, i;

	if (!nobody(&a, want, 64))
		return 77;
	if (run_become(&a) != RUN_STEP_NONE)
		return 1;
	if (getuid() != a.uid || geteuid() != a.uid || getgid() != a.gid ||
	    getegid() != a.gid)
		return 2;
	n = getgroups(64, got);
	if (n != a.ngroups)
		return 3;
	for (i = 0; i < n; i++)
		if (!has_gid(want, n, got[i]))
			return 4;
	if (setuid(0) != -1 || errno != EPERM || getuid() != a.uid)
		return 5;
	return 0;
}

/* become_root_again - from nobody (as root: switched to first), asking
 * for uid 0 fails at the first step, setgroups, with EPERM: 0, or the
 * number of the check that failed */
static int
become_root_again(void)
{
	gid_t groups[64], root_group = 0;
	struct run_account a, root;
	enum run_step step;

	if (geteuid() == 0 && (!nobody(&a, groups, 64) ||
	    run_become(&a) != RUN_STEP_NONE))
		return 1;
	memset(&root, 0, sizeof(root));
	root.groups = &root_group;
	root.ngroups = 1;
	step = run_become(&root);
	if (step != RUN_STEP_SETGROUPS)
		return 2;
	if (errno != EPERM)
		return 3;
	return getuid() != 0 && geteuid() != 0 ? 0 : 4;
}

START_TEST(test_become_nobody)
{
	int st;

	if (geteuid() != 0)
		return;		/* only root switches accounts */
	st = child_status(become_nobody);
	ck_assert_msg(st == 0 || st == 77, "failed check %d", st);
}
END_TEST

START_TEST(test_become_refused)
{
	ck_assert_int_eq(child_status(become_root_again), 0);
}
END_TEST

/* run_keeping_caps - as root, with the secure bit that keeps the
 * capabilities through setuid(): a command as nobody, which could take
 * uid 0 back, must not start.  0 refused at setuid, 1 it started, 2
 * another failure, 77 the bit cannot be set here */
static int
run_keeping_caps(void)
{
	gid_t groups[64];
	struct run_account a;
	struct run_fixture f;

	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == -1)
		return 77;
	if (!nobody(&a, groups, 64))
		return 77;
	sh_setup(&f, "exit 0", RUN_IN_NULL, 10);
	f.run.acct = &a;
	to_end(&f.run);
	if (f.run.failed.step == RUN_STEP_NONE)
		return 1;
	return f.run.failed.step == RUN_STEP_SETUID ? 0 : 2;
}

START_TEST(test_account_uid0_regained)
{
	int st;

	if (geteuid() != 0)
		return;		/* only root switches accounts */
	st = child_status(run_keeping_caps);
	ck_assert_msg(st == 0 || st == 77, "child exit %d: %s", st,
	    st == 1 ? "started, uid 0 could be regained" : "wrong step");
}
END_TEST

/* gone - whether process pid has ended (a zombie counts): its /proc
 * entry is missing or in state Z or X; -1 without /proc */
static int
gone(long pid)
{
	char path[64], stat[256], *close_paren;
	FILE *fp;
	size_t n;

	if (access("/proc/self/stat", R_OK) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return 1;
	n = fread(stat, 1, sizeof(stat) - 1, fp);
	fclose(fp);
	stat[n] = '\0';
	close_paren = strrchr(stat, ')');
	return close_paren == NULL || close_paren[1] == '\0' ||
	    close_paren[2] == 'Z' || close_paren[2] == 'X';
}

START_TEST(test_deadline_kills_group)
{
	/* at the deadline the command is killed, and so is the child it
	 * left in the background: the whole process group */
	struct run_fixture f;
	long long t0, t1;
	long pid;
	int i, ended = 0;

	sh_setup(&f, "sleep 30 & echo $!; sleep 30", RUN_IN_NULL, 1);
	t0 = deadline_now();
	pid = strtol(sh_run(&f), NULL, 10);
	t1 = deadline_now();
	ck_assert(f.run.end.timed_out);
	ck_assert(f.run.end.reaped);
	ck_assert(WIFSIGNALED(f.run.end.status));
	ck_assert_int_lt(t1 - t0, 5 * DEADLINE_SECOND);
	ck_assert_int_gt(pid, 1);
	for (i = 0; i < 200 && (ended = gone(pid)) == 0; i++)
		usleep(10000);
	ck_assert_msg(ended != 0, "background child %ld still runs", pid);
}
END_TEST

Suite *
run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_stdin_kinds);
	tcase_add_test(tc, test_status_and_capture);
	tcase_add_test(tc, test_short_spool);
	tcase_add_test(tc, test_cannot_start);
	tcase_add_test(tc, test_deadline_kills_group);
	tcase_add_test(tc, test_account_uid0_regained);
	tcase_add_test(tc, test_become_nobody);
	tcase_add_test(tc, test_become_refused);
	suite_add_tcase(s, tc);
	return s;
}

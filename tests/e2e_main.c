/*
 * e2e_main.c - runs every end-to-end suite against the built ./pipesmtpd.
 *
 * Run from the repository root, as `make check` does.  One directory under
 * /tmp holds every test's records and is removed at the end, so even a
 * failed test (whose teardown does not run under CK_FORK) leaves nothing.
 * CK_RUN_SUITE and CK_RUN_CASE select a part, as check always allows.
 *
 * Most of the suite's time is spent waiting on the server's timeouts, so
 * the test cases run in PIPESMTPD_E2E_JOBS worker processes at once
 * (default E2E_JOBS), each taking the next test case from a queue.  Every
 * test keeps its own record directory, server and processes, so none
 * sees another.  The run is one process, as check alone makes it, when
 * PIPESMTPD_E2E_JOBS is 1, when the server runs under PIPESMTPD_WRAPPER
 * (valgrind wants the cores; PIPESMTPD_E2E_JOBS still overrides), and
 * when the run asks for what only one check runner gives: a selection
 * (CK_RUN_SUITE, CK_RUN_CASE, tags), no fork (CK_FORK=no), a verbosity
 * or a log file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define E2E_JOBS	4	/* workers when nothing says otherwise */
#define E2E_JOBS_MAX	16

static Suite *(*const suites[])(void) = {
	protocol_suite, address_suite, data_suite, message_suite,
	command_suite, outcome_suite, limits_suite, session_suite,
	options_suite, lmtp_suite, chunking_suite, prdr_suite,
	hostile_suite, transport_suite, tls_suite, proxy_suite,
	aliases_suite, check_suite, jobs_suite
};
#define NSUITES	(sizeof(suites) / sizeof(suites[0]))

/* One test case to run: which suite made it, and its name. */
struct unit {
	size_t suite;		/* index in suites[] */
	size_t tcase;		/* index in h_tcase_names[] */
};

/* What a worker reports for one test case. */
struct tally {
	int run;		/* tests run */
	int failures;		/* of them, assertions that failed */
	int errors;		/* of them, crashes, signals, timeouts */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* serial_only - whether the run asks for what one check runner gives */
static int
serial_only(void)
{
	static const char *const vars[] = { "CK_RUN_SUITE", "CK_RUN_CASE",
	    "CK_INCLUDE_TAGS", "CK_EXCLUDE_TAGS", "CK_VERBOSITY",
	    "CK_LOG_FILE_NAME", "CK_XML_LOG_FILE_NAME",
	    "CK_TAP_LOG_FILE_NAME" };
	const char *fork_mode = getenv("CK_FORK");
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]) != NULL)
			return 1;
	return fork_mode != NULL && strcmp(fork_mode, "no") == 0;
}

/* jobs - how many workers: PIPESMTPD_E2E_JOBS, else E2E_JOBS (1 under
 * PIPESMTPD_WRAPPER); 1 whenever serial_only() */
static int
jobs(void)
{
	const char *e = getenv("PIPESMTPD_E2E_JOBS");
	long n = getenv("PIPESMTPD_WRAPPER") != NULL ? 1 : E2E_JOBS;

	if (e != NULL && *e != '\0')
		n = strtol(e, NULL, 10);
	if (serial_only() || n < 1)
		return 1;
	return n > E2E_JOBS_MAX ? E2E_JOBS_MAX : (int)n;
}

/* run_serial - every suite in one check runner, check's own output */
static int
run_serial(void)
{
	SRunner *sr = srunner_create(suites[0]());
	size_t i;
	int failed;

	for (i = 1; i < NSUITES; i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

/* list_units - every suite's test cases, in order, as h_tcase() names
 * them while each suite is built; the count, -1 if there are too many */
static int
list_units(struct unit *u, size_t cap)
{
	size_t i, n = 0;

	h_ntcases = 0;
	for (i = 0; i < NSUITES; i++) {
		size_t from = h_ntcases;

		srunner_free(srunner_create(suites[i]()));	/* names it */
		if (h_ntcases == H_MAX_TCASES || h_ntcases - from > cap - n)
			return -1;
		for (; from < h_ntcases; from++)
			u[n++] = (struct unit){ i, from };
	}
	return (int)n;
}

/* say - one whole message to stdout in one write, so that the workers'
 * lines never mix (outside a test: no h_strf(), whose checks need one) */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	char s[8192];
	va_list ap;
	size_t len, off = 0;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (ret < 0)
		return;
	len = (size_t)ret < sizeof(s) ? (size_t)ret : sizeof(s) - 1;

	while (off < len) {
		ssize_t n = write(1, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* run_unit - one test case in a check runner of its own; its failures
 * printed as check prints them, less the test's name (the line names it) */
static struct tally
run_unit(const struct unit *u)
{
	SRunner *sr = srunner_create(suites[u->suite]());
	struct tally t = { 0, 0, 0 };
	TestResult **tr;
	int i;

	srunner_run(sr, NULL, h_tcase_names[u->tcase], CK_SILENT);
	t.run = srunner_ntests_run(sr);
	tr = srunner_failures(sr);
	for (i = 0; tr != NULL && i < srunner_ntests_failed(sr); i++) {
		int error = tr_rtype(tr[i]) == CK_ERROR;

		t.errors += error;
		t.failures += !error;
		say("%s:%d:%s:%s: %s\n", tr_lfile(tr[i]), tr_lno(tr[i]),
		    error ? "E" : "F", tr_tcname(tr[i]), tr_msg(tr[i]));
	}
	free(tr);
	srunner_free(sr);
	return t;
}

/* worker - take test cases from the queue until it is empty, a tally
 * for each to results */
static void __attribute__((noreturn))
worker(const struct unit *units, int queue, int results)
{
	unsigned char k;

	while (read(queue, &k, 1) == 1) {
		struct tally t = run_unit(&units[k]);

		if (write(results, &t, sizeof(t)) != (ssize_t)sizeof(t))
			_exit(2);
	}
	_exit(0);
}

/* start_workers - n workers on the queue; 0, or -1 if none started */
static int
start_workers(int n, const struct unit *units, int queue, int results,
    pid_t *pids)
{
	int i;

	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker(units, queue, results);
		if (pids[i] < 0)
			break;
	}
	return i > 0 ? 0 : -1;
}

/* collect - sum the tallies until every worker has closed results, then
 * reap them; 1 if all of them ended well */
static int
collect(int results, const pid_t *pids, int n, struct tally *sum)
{
	struct tally t;
	int i, ok = 1, status;
	ssize_t got;

	while ((got = read(results, &t, sizeof(t))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(t))
			return 0;
		sum->run += t.run;
		sum->failures += t.failures;
		sum->errors += t.errors;
	}
	for (i = 0; i < n && pids[i] > 0; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	return ok;
}

/* fill_queue - one octet per test case, the pipe then closed for
 * writing: the workers' reads of one octet each share the cases out */
static int
fill_queue(int q[2], int n)
{
	unsigned char k;

	if (pipe2(q, O_CLOEXEC) == -1)
		return -1;
	for (k = 0; k < n; k++)
		if (write(q[1], &k, 1) != 1)
			return -1;
	close(q[1]);
	return 0;
}

/* run_parallel - every test case once, across n workers; the summary
 * line is check's; the number of tests that did not pass, or -1 */
static int
run_parallel(int n)
{
	static struct unit units[H_MAX_TCASES];
	pid_t pids[E2E_JOBS_MAX] = { 0 };
	struct tally sum = { 0, 0, 0 };
	int nunits = list_units(units, H_MAX_TCASES), q[2], res[2], ok;

	if (nunits < 0 || fill_queue(q, nunits) == -1 ||
	    pipe2(res, O_CLOEXEC) == -1)
		return -1;
	say("Running %d test cases of %zu suites in %d jobs\n", nunits,
	    NSUITES, n);
	if (start_workers(n, units, q[0], res[1], pids) == -1)
		return -1;
	close(q[0]);
	close(res[1]);
	ok = collect(res[0], pids, n, &sum);
	say("%d%%: Checks: %d, Failures: %d, Errors: %d\n", sum.run > 0 ?
	    100 * (sum.run - sum.failures - sum.errors) / sum.run : 0,
	    sum.run, sum.failures, sum.errors);
	return ok && sum.run > 0 ? sum.failures + sum.errors : -1;
}

int
main(void)
{
	int failed, fd, n = jobs();

	/* fds 0-2 open, so a socketpair never lands on them */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	if (access("./pipesmtpd", X_OK) != 0 ||
	    access("./tests/recorder", X_OK) != 0) {
		fputs("e2e: run from the repository root after building "
		    "./pipesmtpd and ./tests/recorder\n", stderr);
		return 1;
	}
	snprintf(h_base, sizeof(h_base), "/tmp/pipesmtpd-e2e.XXXXXX");
	if (mkdtemp(h_base) == NULL) {
		perror("e2e: mkdtemp");
		return 1;
	}
	chmod(h_base, 0755);	/* --user tests: others must get through */
	failed = n > 1 ? run_parallel(n) : run_serial();
	if (failed < 0)
		fputs("e2e: the parallel run broke down\n", stderr);
	nftw(h_base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? 0 : 1;
}

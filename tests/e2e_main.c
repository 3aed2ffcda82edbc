/*
 * e2e_main.c - runs every end-to-end suite against the built ./pipesmtpd.
 *
 * Run from the repository root, as `make check` does.  One directory under
 * /tmp holds every test's records and is removed at the end, so even a
 * failed test (whose teardown does not run under CK_FORK) leaves nothing.
 * CK_RUN_SUITE and CK_RUN_CASE select a part, as check always allows.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

int
main(void)
{
	Suite *(*const suites[])(void) = {
		protocol_suite, address_suite, data_suite, message_suite,
		command_suite, outcome_suite, limits_suite, session_suite,
		options_suite, lmtp_suite, chunking_suite, prdr_suite,
		hostile_suite, transport_suite, tls_suite, proxy_suite,
		aliases_suite
	};
	SRunner *sr;
	size_t i;
	int failed, fd;

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
	sr = srunner_create(suites[0]());
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(h_base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? 0 : 1;
}

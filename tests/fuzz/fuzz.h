/*
 * fuzz.h - what every libFuzzer target in tests/fuzz shares: the two
 * entry points' prototypes, FUZZ_CHECK() (a failed check names itself,
 * its file and line, then aborts, which libFuzzer reports with the
 * input), and fuzz_keep_stderr() for LLVMFuzzerInitialize().  fuzz-run
 * closes fd 2 (-close_fd_mask=2) to silence the code under test, so
 * checks write to the stderr the target started with, fuzz_err.
 * Included once per target; nothing here is linked into pipesmtpd.
 */
#ifndef PIPESMTPD_TESTS_FUZZ_H
#define PIPESMTPD_TESTS_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) \
		fuzz_failed(#cond, __FILE__, __LINE__); \
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* stderr as it was at start */
static int fuzz_err = 2;

/* fuzz_failed - a check failed: say which, then abort */
static void __attribute__((noreturn, unused))
fuzz_failed(const char *cond, const char *file, int line)
{
	dprintf(fuzz_err, "%s: check failed: %s (line %d)\n", file, cond,
	    line);
	abort();
}

/* fuzz_keep_stderr - keep stderr for the checks before fuzz-run closes
 * fd 2 */
static void __attribute__((unused))
fuzz_keep_stderr(void)
{
	fuzz_err = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

#endif

/*
 * nssfail.c - an account directory that fails, for the tests (LD_PRELOAD).
 *
 * Stands in for an LDAP or sssd outage: a lookup of the account named by
 * PIPESMTPD_NSSFAIL_USER fails with EIO instead of answering, once
 * PIPESMTPD_NSSFAIL_AFTER (default 0) lookups of it have succeeded, so a
 * test can let the RCPT-time lookup through and fail the one at
 * delivery.  Every other name goes to the C library.  Both getpwnam()
 * and getpwnam_r() are covered; nothing else is touched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

typedef struct passwd *(*getpwnam_fn)(const char *);
typedef int (*getpwnam_r_fn)(const char *, struct passwd *, char *, size_t,
    struct passwd **);

/* failing - whether this lookup of name is one that fails */
static int
failing(const char *name)
{
	static unsigned long seen;
	const char *user = getenv("PIPESMTPD_NSSFAIL_USER");
	const char *after = getenv("PIPESMTPD_NSSFAIL_AFTER");

	if (user == NULL || name == NULL || strcmp(user, name) != 0)
		return 0;
	return seen++ >= (after != NULL ? strtoul(after, NULL, 10) : 0);
}

struct passwd *
getpwnam(const char *name)
{
	getpwnam_fn real;

	*(void **)&real = dlsym(RTLD_NEXT, "getpwnam");

	if (failing(name) || real == NULL) {
		errno = EIO;
		return NULL;
	}
	return real(name);
}

int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
    struct passwd **result)
{
	getpwnam_r_fn real;

	*(void **)&real = dlsym(RTLD_NEXT, "getpwnam_r");

	*result = NULL;
	if (failing(name) || real == NULL)
		return EIO;
	return real(name, pw, buf, len, result);
}

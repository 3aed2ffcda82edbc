/*
 * account.c - the account database, asked so that an outage is never
 * mistaken for "no such user".
 *
 * Entry points: account_find(), account_find_any() (the same without the
 * receiving rules, for --user), account_free().  getpwnam_r() tells "no
 * such entry" (0 and no result) apart from a failed lookup (an error
 * number); getpwnam() cannot, since its errno for "not found" differs
 * between systems.  The supplementary groups are read into a buffer that
 * grows to what the account has, so an account in many groups is delivered
 * like any other, never refused or cut short.  This module reads the
 * database and nothing else.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"

#define PWBUF_START	1024
#define PWBUF_MAX	(1024 * 1024)	/* a passwd entry larger is absurd */
#define GROUPS_START	64

/* lookup - getpwnam_r() with a buffer that grows on ERANGE; 0 with *pw
 * set, 0 with *pw NULL (no such entry), or -1 with errno set */
static int
lookup(const char *user, struct passwd *ent, char **buf, struct passwd **pw)
{
	size_t len = PWBUF_START;
	int err;

	*buf = NULL;
	for (;;) {
		char *b = realloc(*buf, len);

		if (b == NULL)
			return -1;
		*buf = b;
		err = getpwnam_r(user, ent, b, len, pw);
		if (err != ERANGE || len >= PWBUF_MAX)
			break;
		len *= 2;
	}
	if (err == 0)
		return 0;
	*pw = NULL;
	errno = err;
	return -1;
}

/* usable - any account without cfg (--user); else not uid 0, and not a
 * system account (uid below --min-uid) unless it is the --postmaster
 * account */
static int
usable(const struct config *cfg, const struct passwd *pw)
{
	if (cfg == NULL)
		return 1;
	if (pw->pw_uid == 0)
		return cfg->postmaster != NULL && !cfg->as_recipient &&
		    strcmp(pw->pw_name, cfg->postmaster) == 0;
	return pw->pw_uid >= cfg->min_uid || (cfg->postmaster != NULL &&
	    strcmp(pw->pw_name, cfg->postmaster) == 0);
}

/* read_groups - every supplementary group of pw, however many; -1 with
 * errno set when they cannot be read */
static int
read_groups(const struct passwd *pw, struct run_account *acct)
{
	int n = GROUPS_START, want;

	for (;;) {
		gid_t *g = realloc(acct->groups, (size_t)n * sizeof(*g));

		if (g == NULL)
			return -1;
		acct->groups = g;
		want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, g, &want) != -1)
			break;
		if (want <= n) {	/* not a size problem: a failure */
			errno = EIO;
			return -1;
		}
		n = want;
	}
	acct->ngroups = want;
	return 0;
}

/* find - user's account, usable() under cfg's rules, and (acct not
 * NULL) its ids, groups and home */
static enum account_verdict
find(const struct config *cfg, const char *user, struct run_account *acct)
{
	enum account_verdict v = ACCOUNT_ERROR;
	struct passwd ent, *pw;
	char *buf;
	int err;

	if (acct != NULL)
		memset(acct, 0, sizeof(*acct));
	if (lookup(user, &ent, &buf, &pw) == 0)
		v = pw != NULL && usable(cfg, pw) ? ACCOUNT_OK : ACCOUNT_NONE;
	if (v == ACCOUNT_OK && acct != NULL) {
		acct->uid = pw->pw_uid;
		acct->gid = pw->pw_gid;
		snprintf(acct->home, sizeof(acct->home), "%s", pw->pw_dir);
		if (read_groups(pw, acct) == -1)
			v = ACCOUNT_ERROR;
	}
	err = errno;
	free(buf);
	errno = err;
	return v;
}

/* account_find - whether user may receive mail, and (acct not NULL) the
 * ids, groups and home its commands run with; account_free() releases
 * acct whatever the verdict */
enum account_verdict
account_find(const struct config *cfg, const char *user,
    struct run_account *acct)
{
	return find(cfg, user, acct);
}

/* account_find_any - user's account whatever its uid (--user runs as
 * system accounts such as mail or nobody), with its ids and groups in
 * acct; account_free() releases acct whatever the verdict */
enum account_verdict
account_find_any(const char *user, struct run_account *acct)
{
	return find(NULL, user, acct);
}

/* account_free - what account_find() allocated */
void
account_free(struct run_account *acct)
{
	free(acct->groups);
	acct->groups = NULL;
	acct->ngroups = 0;
}

/* account_may_receive - account_find()'s verdict as the session's
 * deliverer gives it: 1 usable, 0 none, -1 the lookup failed (errno) */
int
account_may_receive(const struct config *cfg, const char *user)
{
	switch (account_find(cfg, user, NULL)) {
	case ACCOUNT_OK:
		return 1;
	case ACCOUNT_NONE:
		return 0;
	default:
		return -1;
	}
}

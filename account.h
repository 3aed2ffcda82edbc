/*
 * account.h - who may receive mail here: the account database's answer.
 *
 * account_find() looks a local name up (getpwnam_r, then its groups) and
 * says one of three things, because they call for different replies:
 * the account is usable (it exists, is not uid 0, and its uid is at least
 * --min-uid unless it is the --postmaster account); there is no such
 * usable account (a bounce: 550 5.1.1); or the lookup itself failed (NSS,
 * LDAP or sssd down: 451 4.3.0, never a bounce).  account_find_any()
 * is the same lookup for the account --user names, any uid allowed.
 */
#ifndef PIPESMTPD_ACCOUNT_H
#define PIPESMTPD_ACCOUNT_H

#include "config.h"
#include "run.h"

enum account_verdict {
	ACCOUNT_ERROR,		/* the lookup failed; errno says why */
	ACCOUNT_NONE,		/* no such usable account */
	ACCOUNT_OK
};

enum account_verdict account_find(const struct config *cfg,
    const char *user, struct run_account *acct);
enum account_verdict account_find_any(const char *user,
    struct run_account *acct);
void account_free(struct run_account *acct);
int account_may_receive(const struct config *cfg, const char *user);

#endif

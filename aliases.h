/*
 * aliases.h - the --aliases table: local names mapped to local names.
 *
 * aliases_load() reads an aliases(5) file once, at start-up, and refuses
 * anything pipesmtpd cannot honour safely (a command, a file, :include:,
 * an address with '@'), a name defined twice, a loop and a chain deeper
 * than ALIASES_DEPTH_MAX, naming FILE:LINE.  aliases_lookup() is then a
 * pure lookup: the final local names one name expands to, flattened, in
 * order, without duplicates.  Names are kept and compared in lower case.
 * Nothing here knows about SMTP, accounts or domains.
 */
#ifndef PIPESMTPD_ALIASES_H
#define PIPESMTPD_ALIASES_H

#include <stddef.h>

#define ALIASES_DEPTH_MAX	10	/* aliases in one chain, at most */
#define ALIASES_NAME_MAX	64	/* octets in a name (RFC 5321's local
					   part) */
#define ALIASES_ERR_MAX		4400	/* "FILE:LINE: reason", with a path
					   of up to PATH_MAX */

struct aliases;

/* One lookup's result: final local names, pointing into the table. */
struct alias_targets {
	const char **v;			/* in order, each once */
	size_t n, cap;
};

int aliases_load(const char *path, struct aliases **out, char *err,
    size_t cap);
int aliases_lookup(const struct aliases *al, const char *name, size_t max,
    struct alias_targets *t);
void aliases_targets_free(struct alias_targets *t);
void aliases_free(struct aliases *al);

#endif

/*
 * address.h - RFC 5321 envelope address parsing.
 *
 * address_parse() reads one "<path>" from a MAIL or RCPT argument and
 * produces the internal form: quotes of a quoted local part removed,
 * backslash escapes resolved, the local part's case kept, the domain in
 * lower case.  address_ip_text() writes a client's IP address the one way
 * it is shown everywhere.  It never allocates and never looks anything
 * up.
 */
#ifndef PIPESMTPD_ADDRESS_H
#define PIPESMTPD_ADDRESS_H

#include <stddef.h>

#define ADDR_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, with the brackets */
#define ADDR_PART_MAX	256	/* room for a local part or a domain */

#define ADDR_ALLOW_NULL	0x1	/* "<>" is acceptable (MAIL) */
#define ADDR_ALLOW_UTF8	0x2	/* SMTPUTF8 was given */
#define ADDR_ALLOW_PM	0x4	/* bare "<Postmaster>" (RCPT) */

struct address {
	char addr[2 * ADDR_PART_MAX + 2];	/* local@domain, "" for <> */
	char local[ADDR_PART_MAX + 1];		/* %l: internal form */
	char user[ADDR_PART_MAX + 1];		/* %u: lower, no +ext */
	char ext[ADDR_PART_MAX + 1];		/* %e: after the '+' */
	char domain[ADDR_PART_MAX + 1];		/* %d: lower case */
	int null;				/* the null path <> */
	int bare_postmaster;			/* <Postmaster>, no domain */
	int utf8;				/* has non-ASCII octets */
};

enum address_error {
	ADDR_OK = 0,
	ADDR_ERR_SYNTAX,	/* not an RFC 5321 path */
	ADDR_ERR_UTF8,		/* non-ASCII without SMTPUTF8 */
	ADDR_ERR_LENGTH		/* longer than RFC 5321 allows */
};

enum address_error address_parse(const char *s, size_t len, unsigned flags,
    struct address *a, size_t *used);
void address_set_domain(struct address *a, const char *domain);
int address_retarget(struct address *a, const char *name);
void address_join(struct address *a);
int address_lower(int ch);
int address_unsafe(const struct address *a);
int address_domain_is(const char *domain, const char *want);
int address_ip_text(int af, const unsigned char *a, char *out, size_t cap);

#endif

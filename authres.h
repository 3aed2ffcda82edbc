/*
 * authres.h - whose Authentication-Results: field this is (RFC 8601).
 *
 * authres_forged() tells, from the start of one header field, whether it
 * is an Authentication-Results: field that claims to come from the
 * authserv-id it is given (compared without case, through folding and
 * comments), or one whose authserv-id cannot be read at all: a field a
 * host must remove before anyone trusts it (RFC 8601 5).
 * authres_id_ok() tells whether an authserv-id can be ours (a token it
 * can read back).  Pure: no I/O, no allocation.
 */
#ifndef PIPESMTPD_AUTHRES_H
#define PIPESMTPD_AUTHRES_H

#include <stddef.h>

int authres_forged(const char *field, size_t len, const void *id);
int authres_id_ok(const char *id);

#endif

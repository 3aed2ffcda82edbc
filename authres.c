/*
 * authres.c - whose Authentication-Results: field this is (RFC 8601).
 *
 * Entry point: authres_forged().  It reads a field the way a lenient
 * reader would, so that nothing such a reader takes for our id stays:
 * the name without case and with white space before the colon (RFC 5322
 * obsolete syntax), then folding white space and nested comments, then
 * the authserv-id, a token or a quoted string (RFC 8601 2.2).  A field
 * whose id cannot be read within the octets it is given, or is not
 * followed by white space, a comment, ';' or the end of the field, may
 * claim anything, and counts as forged too.
 */
#include <string.h>
#include <strings.h>

#include "authres.h"

#define ID_MAX	256	/* an authserv-id, unquoted */

static const char name[] = "Authentication-Results";

/* field_len - where the field that starts at f ends within len octets:
 * at a line end followed by anything but folding white space */
static size_t
field_len(const char *f, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (f[i] == '\n' && f[i + 1] != ' ' && f[i + 1] != '\t')
			return i + 1;
	return len;
}

/* is_space - folding white space, line ends included */
static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip_cfws - past white space and comments (nested, with quoted
 * pairs) from p; NULL when a comment is still open at end */
static const char *
skip_cfws(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (depth > 0 && *p == '\\')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !is_space(*p))
			return p;
	}
	return depth == 0 ? end : NULL;
}

/* is_token - a character of an RFC 2045 token */
static int
is_token(char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* authres_id_ok - 1 if id can be our authserv-id: an RFC 2045 token
 * (quotes are not needed for a host name) that read_id() can hold */
int
authres_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	for (i = 0; i < n && is_token(id[i]); i++)
		;
	return n > 0 && n < ID_MAX && i == n;
}

/* read_id - the authserv-id at p into id (unquoted); the octet after
 * it, or NULL when there is none or it does not fit */
static const char *
read_id(const char *p, const char *end, char *id)
{
	size_t n = 0;

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && ++p == end)
				return NULL;
			if (n + 1 >= ID_MAX)
				return NULL;
			id[n++] = *p;
		}
		if (p++ == end)
			return NULL;
	} else {
		for (; p < end && is_token(*p); p++) {
			if (n + 1 >= ID_MAX)
				return NULL;
			id[n++] = *p;
		}
	}
	id[n] = '\0';
	return n > 0 ? p : NULL;
}

/* authres_forged - 1 if field (its first len octets; more may follow
 * it) is an Authentication-Results: field whose authserv-id is id,
 * without case, or cannot be read; else 0 */
int
authres_forged(const char *field, size_t len, const void *id)
{
	const char *p = field, *end = field + field_len(field, len), *after;
	size_t n = sizeof(name) - 1;
	char got[ID_MAX];

	if ((size_t)(end - p) < n || strncasecmp(p, name, n) != 0)
		return 0;
	for (p += n; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p == end || *p != ':')
		return 0;
	p = skip_cfws(p + 1, end);
	after = p != NULL ? read_id(p, end, got) : NULL;
	if (after == NULL || after == end ||
	    !(is_space(*after) || *after == '(' || *after == ';'))
		return 1;
	return strcasecmp(got, id) == 0;
}

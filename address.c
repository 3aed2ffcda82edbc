/*
 * address.c - RFC 5321 envelope paths to the internal address form.
 *
 * Entry points: address_parse(), address_set_domain(), address_unsafe(),
 * address_domain_is(), address_join() (local@domain again),
 * address_lower() (ASCII case, for whoever compares addresses) and
 * address_ip_text() (a client's IP address as it is shown).  The
 * parser walks the path once, left to right, writing the internal form
 * as it goes; every output is bounded by the fixed arrays of struct
 * address.  It never allocates, never looks up a name, and rejects every
 * control octet, so nothing it returns can carry a line end into a
 * header or a log.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"

struct cursor {
	const char *s;		/* the path text */
	size_t len;
	size_t pos;
	unsigned flags;
	int utf8;		/* non-ASCII seen */
	int bad_utf8;		/* non-ASCII without SMTPUTF8 */
};

/* peek - the next octet, or -1 at the end */
static int
peek(const struct cursor *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

/* address_lower - an ASCII upper-case letter in lower case, any other
 * octet as it is (no locale: UTF-8 octets pass unchanged) */
int
address_lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch + 'a' - 'A' : ch;
}

/* is_atext - RFC 5322 atext, ASCII part */
static int
is_atext(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch > 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* is_letdig - RFC 5321 Let-dig */
static int
is_letdig(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* utf8_len - length of the well-formed UTF-8 sequence at the cursor, 0 if
 * there is none (overlongs, surrogates and values past U+10FFFF refused) */
static size_t
utf8_len(const struct cursor *c)
{
	const unsigned char *p = (const unsigned char *)c->s + c->pos;
	size_t left = c->len - c->pos, n, i;
	unsigned long cp;

	if (left == 0 || p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (left < n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* take_utf8 - copy one UTF-8 character to out; 0 if there is none */
static int
take_utf8(struct cursor *c, char *out, size_t *olen, size_t cap)
{
	size_t n = utf8_len(c);

	if (n == 0 || *olen + n >= cap)
		return 0;
	if (!(c->flags & ADDR_ALLOW_UTF8))
		c->bad_utf8 = 1;
	c->utf8 = 1;
	memcpy(out + *olen, c->s + c->pos, n);
	*olen += n;
	c->pos += n;
	return 1;
}

/* put - append one octet to a bounded output */
static int
put(char *out, size_t *olen, size_t cap, int ch)
{
	if (*olen + 1 >= cap)
		return 0;
	out[(*olen)++] = (char)ch;
	return 1;
}

/* parse_dot_string - Dot-string: atoms separated by single dots */
static int
parse_dot_string(struct cursor *c, char *out, size_t *olen, size_t cap)
{
	int atom = 0;

	for (;;) {
		int ch = peek(c);

		if (ch >= 0 && is_atext(ch)) {
			if (!put(out, olen, cap, ch))
				return 0;
			c->pos++;
			atom = 1;
		} else if (ch >= 0x80) {
			if (!take_utf8(c, out, olen, cap))
				return 0;
			atom = 1;
		} else if (ch == '.' && atom) {
			if (!put(out, olen, cap, ch))
				return 0;
			c->pos++;
			atom = 0;
		} else {
			return atom;
		}
	}
}

/* parse_quoted - Quoted-string, unquoted and unescaped into out */
static int
parse_quoted(struct cursor *c, char *out, size_t *olen, size_t cap)
{
	c->pos++;			/* the opening quote */
	for (;;) {
		int ch = peek(c);

		if (ch == '"') {
			c->pos++;
			return 1;
		}
		if (ch == '\\') {
			c->pos++;
			ch = peek(c);
			if (ch < 32 || ch > 126 || !put(out, olen, cap, ch))
				return 0;
			c->pos++;
		} else if (ch >= 32 && ch <= 126) {
			if (!put(out, olen, cap, ch))
				return 0;
			c->pos++;
		} else if (ch >= 0x80) {
			if (!take_utf8(c, out, olen, cap))
				return 0;
		} else {
			return 0;	/* end, NUL or a control octet */
		}
	}
}

/* parse_subdomains - Domain: sub-domains of Let-dig [Ldh-str], lower case */
static int
parse_subdomains(struct cursor *c, char *out, size_t *olen, size_t cap)
{
	int label = 0, last = 0;

	for (;;) {
		int ch = peek(c);

		if (ch >= 0 && (is_letdig(ch) || (ch == '-' && label))) {
			ch = address_lower(ch);
			if (!put(out, olen, cap, ch))
				return 0;
			c->pos++;
			label = 1;
			last = ch;
		} else if (ch >= 0x80) {
			if (!take_utf8(c, out, olen, cap))
				return 0;
			label = 1;
			last = 'x';
		} else if (ch == '.' && label && last != '-') {
			if (!put(out, olen, cap, ch))
				return 0;
			c->pos++;
			label = 0;
		} else {
			return label && last != '-';
		}
	}
}

/* literal_ok - the inside of an address literal: IPv4, IPv6 or
 * General-address-literal (Standardized-tag ":" 1*dcontent) */
static int
literal_ok(const char *lit, size_t len)
{
	char buf[ADDR_PART_MAX + 1];
	unsigned char addr[16];
	size_t i;

	if (len == 0 || len > ADDR_PART_MAX || memchr(lit, '\0', len))
		return 0;
	memcpy(buf, lit, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		return 1;
	if (len > 5 && strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	for (i = 0; i < len && buf[i] != ':'; i++)
		if (!is_letdig((unsigned char)buf[i]) && buf[i] != '-')
			return 0;
	if (i == 0 || i + 1 >= len || buf[i - 1] == '-')
		return 0;
	for (i++; i < len; i++)
		if (buf[i] < 33 || buf[i] > 126 || buf[i] == '[' ||
		    buf[i] == '\\' || buf[i] == ']')
			return 0;
	return 1;
}

/* parse_literal - "[" ... "]" address literal, kept as written, lower case */
static int
parse_literal(struct cursor *c, char *out, size_t *olen, size_t cap)
{
	size_t start = c->pos + 1, end = start, i;

	while (end < c->len && c->s[end] != ']')
		end++;
	if (end >= c->len || !literal_ok(c->s + start, end - start))
		return 0;
	for (i = c->pos; i <= end; i++)
		if (!put(out, olen, cap, address_lower((unsigned char)c->s[i])))
			return 0;
	c->pos = end + 1;
	return 1;
}

/* skip_source_route - "@a,@b:" before the mailbox is accepted and ignored */
static int
skip_source_route(struct cursor *c)
{
	char scratch[ADDR_PART_MAX + 1];

	if (peek(c) != '@')
		return 1;
	for (;;) {
		size_t n = 0;

		if (peek(c) != '@')
			return 0;
		c->pos++;
		if (!parse_subdomains(c, scratch, &n, sizeof(scratch)))
			return 0;
		if (peek(c) == ':') {
			c->pos++;
			return 1;
		}
		if (peek(c) != ',')
			return 0;
		c->pos++;
	}
}

/* split_extension - %u (lower case, no +ext) and %e from the local part */
static void
split_extension(struct address *a)
{
	char *plus = a->local[0] ? strchr(a->local + 1, '+') : NULL;
	size_t n = plus ? (size_t)(plus - a->local) : strlen(a->local), i;

	for (i = 0; i < n; i++)
		a->user[i] = (char)address_lower(a->local[i]);
	a->user[n] = '\0';
	strcpy(a->ext, plus ? plus + 1 : "");
}

/* address_join - addr from local and domain: local@domain, or local
 * alone when there is no domain (a bare <Postmaster> before its domain
 * is set) */
void
address_join(struct address *a)
{
	if (a->domain[0] != '\0')
		snprintf(a->addr, sizeof(a->addr), "%s@%s", a->local,
		    a->domain);
	else
		snprintf(a->addr, sizeof(a->addr), "%s", a->local);
}

/* finish - build addr, user and ext once local and domain are known */
static void
finish(struct address *a)
{
	address_join(a);
	split_extension(a);
}

/* parse_mailbox - Local-part "@" (Domain / address-literal) */
static int
parse_mailbox(struct cursor *c, struct address *a)
{
	size_t llen = 0, dlen = 0;
	int ok;

	if (peek(c) == '"')
		ok = parse_quoted(c, a->local, &llen, sizeof(a->local));
	else
		ok = parse_dot_string(c, a->local, &llen, sizeof(a->local));
	a->local[llen] = '\0';
	if (!ok)
		return 0;
	if (peek(c) != '@') {
		/* "<Postmaster>" alone: RFC 5321 4.5.1 */
		if ((c->flags & ADDR_ALLOW_PM) && peek(c) == '>' &&
		    strcasecmp(a->local, "postmaster") == 0) {
			a->bare_postmaster = 1;
			return 1;
		}
		return 0;
	}
	c->pos++;
	if (peek(c) == '[')
		ok = parse_literal(c, a->domain, &dlen, sizeof(a->domain));
	else
		ok = parse_subdomains(c, a->domain, &dlen, sizeof(a->domain));
	a->domain[dlen] = '\0';
	return ok;
}

/* address_parse - parse "<path>" at s; *used is set past the '>' */
enum address_error
address_parse(const char *s, size_t len, unsigned flags, struct address *a,
    size_t *used)
{
	struct cursor c = { s, len, 0, flags, 0, 0 };

	memset(a, 0, sizeof(*a));
	if (peek(&c) != '<')
		return ADDR_ERR_SYNTAX;
	c.pos++;
	if (peek(&c) == '>') {
		if (!(flags & ADDR_ALLOW_NULL))
			return ADDR_ERR_SYNTAX;
		a->null = 1;
		*used = c.pos + 1;
		return ADDR_OK;
	}
	if (!skip_source_route(&c) || !parse_mailbox(&c, a) ||
	    peek(&c) != '>')
		return c.pos > ADDR_PATH_MAX ? ADDR_ERR_LENGTH :
		    ADDR_ERR_SYNTAX;
	c.pos++;
	if (c.pos > ADDR_PATH_MAX)
		return ADDR_ERR_LENGTH;
	if (c.bad_utf8)
		return ADDR_ERR_UTF8;
	a->utf8 = c.utf8;
	finish(a);
	*used = c.pos;
	return ADDR_OK;
}

/* address_set_domain - give a bare <Postmaster> its domain */
void
address_set_domain(struct address *a, const char *domain)
{
	size_t i;

	for (i = 0; domain[i] != '\0' && i < ADDR_PART_MAX; i++)
		a->domain[i] = (char)address_lower(domain[i]);
	a->domain[i] = '\0';
	finish(a);
}

/* address_retarget - a delivered to name instead, keeping its
 * +extension and domain: local "name+ext", user and addr to match.  -1
 * (a unchanged) when that local part would not fit. */
int
address_retarget(struct address *a, const char *name)
{
	char local[ADDR_PART_MAX + 1];
	int n = snprintf(local, sizeof(local), "%s%s%s", name,
	    a->ext[0] ? "+" : "", a->ext);
	const char *p;

	if (n < 0 || (size_t)n >= sizeof(local))
		return -1;
	memcpy(a->local, local, (size_t)n + 1);
	finish(a);
	a->utf8 = 0;
	for (p = a->addr; *p != '\0'; p++)
		a->utf8 |= (unsigned char)*p >= 0x80;
	return 0;
}

/* address_unsafe - a local part that must never reach a command: it could
 * be a path ('/'), a hidden or relative name ('.'), an option ('-'), or
 * an empty argv word ("") */
int
address_unsafe(const struct address *a)
{
	return a->local[0] == '\0' || strchr(a->local, '/') != NULL ||
	    a->local[0] == '-' ||
	    a->local[0] == '.' || a->ext[0] == '-';
}

/* address_domain_is - domains compare without ASCII case */
int
address_domain_is(const char *domain, const char *want)
{
	return strcasecmp(domain, want) == 0;
}

/* address_ip_text - a binary IPv4 or IPv6 address (af) as the client
 * address is written in %i, Received and the log: canonical text, an
 * IPv4-mapped IPv6 address as plain IPv4.  0, or -1 if it does not fit */
int
address_ip_text(int af, const unsigned char *a, char *out, size_t cap)
{
	if (af == AF_INET6 &&
	    memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		af = AF_INET;
		a += 12;
	}
	return inet_ntop(af, a, out, (socklen_t)cap) != NULL ? 0 : -1;
}

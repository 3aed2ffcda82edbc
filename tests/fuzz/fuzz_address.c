/*
 * fuzz_address.c - libFuzzer target: envelope paths and argv templates.
 *
 * Each input is parsed by address_parse() under all eight flag
 * combinations.  On ADDR_OK: `used` is within the input and ends at '>',
 * no internal form holds a control octet, addr is local@domain, %u and
 * %e are what split_extension promises, more flags never refuse what
 * fewer accepted, and the path written back (local part always quoted)
 * parses to the same internal form.  The same bytes, as a template, go
 * through command_expand(): it fails exactly when command_template_ok()
 * says no, and otherwise matches a reference expansion.  The SMTP
 * command lines around a path (MAIL/RCPT parameters) are fuzzed by
 * fuzz_session.c.  Any failed check aborts, which libFuzzer reports.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "command.h"
#include "tests/fuzz/fuzz.h"

/* no_controls - no octet below 32, no DEL */
static int
no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 32 || *s == 127)
			return 0;
	return 1;
}

/* has_high - any octet >= 0x80 */
static int
has_high(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* check_forms - the internal form of one accepted path */
static void
check_forms(const uint8_t *data, size_t size, unsigned flags,
    const struct address *a, size_t used)
{
	char want[sizeof(a->addr)];
	size_t i, ul;
	const char *plus;

	FUZZ_CHECK(used >= 2 && used <= size && used <= ADDR_PATH_MAX);
	FUZZ_CHECK(data[0] == '<' && data[used - 1] == '>');
	FUZZ_CHECK(no_controls(a->addr) && no_controls(a->local) &&
	    no_controls(a->user) && no_controls(a->ext) &&
	    no_controls(a->domain));
	/* utf8 speaks for the whole path, an ignored source route too */
	FUZZ_CHECK(a->utf8 == has_high((const char *)data, used));
	if (!(flags & ADDR_ALLOW_UTF8))
		FUZZ_CHECK(!a->utf8 && !has_high(a->addr, strlen(a->addr)));
	if (a->null) {
		FUZZ_CHECK((flags & ADDR_ALLOW_NULL) && used == 2);
		FUZZ_CHECK(a->addr[0] == '\0' && a->local[0] == '\0');
		return;
	}
	if (a->bare_postmaster) {
		FUZZ_CHECK(flags & ADDR_ALLOW_PM);
		FUZZ_CHECK(a->domain[0] == '\0' &&
		    strcmp(a->addr, a->local) == 0);
	} else {
		snprintf(want, sizeof(want), "%s@%s", a->local, a->domain);
		FUZZ_CHECK(strcmp(a->addr, want) == 0);
		FUZZ_CHECK(a->domain[0] != '\0');
	}
	for (i = 0; a->domain[i] != '\0'; i++)
		FUZZ_CHECK(a->domain[i] < 'A' || a->domain[i] > 'Z');
	/* %u: the local part before a '+' that is not its first octet,
	 * folded; %e: what follows that '+' */
	plus = a->local[0] ? strchr(a->local + 1, '+') : NULL;
	ul = plus ? (size_t)(plus - a->local) : strlen(a->local);
	FUZZ_CHECK(strlen(a->user) == ul);
	for (i = 0; i < ul; i++) {
		char c = a->local[i];

		FUZZ_CHECK(a->user[i] == ((c >= 'A' && c <= 'Z') ?
		    c + 'a' - 'A' : c));
	}
	FUZZ_CHECK(strcmp(a->ext, plus ? plus + 1 : "") == 0);
}

/* requote - "<" quoted-local "@" domain ">"; 0 if it would not fit */
static size_t
requote(const struct address *a, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;
	int n;

	out[o++] = '<';
	out[o++] = '"';
	for (p = a->local; *p != '\0'; p++) {
		if (o + 3 >= cap)
			return 0;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	n = snprintf(out + o, cap - o, "\"%s%s>", a->bare_postmaster ? "" :
	    "@", a->domain);
	if (n < 0 || (size_t)n >= cap - o)
		return 0;
	return o + (size_t)n;
}

/* check_requoted - the path written back parses to the same form */
static void
check_requoted(unsigned flags, const struct address *a)
{
	char path[4 * ADDR_PATH_MAX];
	struct address b;
	size_t n, used = 0;

	if (a->null)
		return;
	n = requote(a, path, sizeof(path));
	if (n == 0 || n > ADDR_PATH_MAX)
		return;			/* quoting made it too long */
	if (a->bare_postmaster) {
		/* RFC 5321 4.5.1 names the unquoted form only */
		n = (size_t)snprintf(path, sizeof(path), "<%s>", a->local);
	}
	FUZZ_CHECK(address_parse(path, n, flags, &b, &used) == ADDR_OK);
	FUZZ_CHECK(used == n);
	FUZZ_CHECK(strcmp(a->addr, b.addr) == 0 &&
	    strcmp(a->local, b.local) == 0 && strcmp(a->user, b.user) == 0 &&
	    strcmp(a->ext, b.ext) == 0 && strcmp(a->domain, b.domain) == 0);
	FUZZ_CHECK(b.utf8 == has_high(path, n) &&
	    a->bare_postmaster == b.bare_postmaster);
}

/* same_form - two parses agree */
static int
same_form(const struct address *a, const struct address *b)
{
	return strcmp(a->addr, b->addr) == 0 &&
	    strcmp(a->local, b->local) == 0 &&
	    strcmp(a->domain, b->domain) == 0 && a->null == b->null &&
	    a->bare_postmaster == b->bare_postmaster;
}

/* ref_value - the placeholder table, written out again */
static const char *
ref_value(char c, const struct command_vars *v)
{
	switch (c) {
	case 's': return v->sender;
	case 'r': return v->rcpt;
	case 'u': return v->user;
	case 'l': return v->local;
	case 'e': return v->ext;
	case 'd': return v->domain;
	case 'i': return v->ip;
	case 'h': return v->helo;
	case 'q': return v->queue_id;
	case '%': return "%";
	default: return NULL;
	}
}

/* ref_expand - the reference expansion into out (NULL: just measure);
 * its length up to the end or to the first unknown placeholder */
static size_t
ref_expand(const char *tmpl, const struct command_vars *v, char *out,
    int *ok)
{
	size_t o = 0, i;

	*ok = 1;
	for (i = 0; tmpl[i] != '\0'; i++) {
		const char *val = NULL;
		size_t n = 1;

		if (tmpl[i] == '%') {
			val = ref_value(tmpl[++i], v);
			if (val == NULL) {
				*ok = 0;	/* unknown, or '%' at the end */
				break;
			}
			n = strlen(val);
		}
		if (out != NULL)
			memcpy(out + o, val != NULL ? val : tmpl + i, n);
		o += n;
	}
	if (out != NULL)
		out[o] = '\0';
	return o;
}

/* check_expand - the bytes as an argv template: expanded exactly as the
 * reference does, into a buffer of exactly the right size; one octet
 * less is refused, never overrun */
static void
check_expand(const uint8_t *data, size_t size, const struct address *a)
{
	struct command_vars v = { .sender = "s@x.example", .rcpt = a->addr,
	    .user = a->user, .local = a->local, .ext = a->ext,
	    .domain = a->domain, .ip = "192.0.2.1", .helo = "helo.example",
	    .queue_id = "QID1" };
	char *tmpl = malloc(size + 1), *out, *ref;
	size_t o;
	int ok;

	FUZZ_CHECK(tmpl != NULL);
	memcpy(tmpl, data, size);
	tmpl[size] = '\0';
	o = ref_expand(tmpl, &v, NULL, &ok);
	ref = malloc(o + 1);
	out = malloc(o + 1);
	FUZZ_CHECK(ref != NULL && out != NULL);
	ref_expand(tmpl, &v, ref, &ok);
	FUZZ_CHECK(command_template_ok(tmpl) == ok);
	FUZZ_CHECK(command_expand(tmpl, &v, out, o + 1) == (ok ? 0 : -1));
	if (ok)
		FUZZ_CHECK(strcmp(out, ref) == 0);
	FUZZ_CHECK(command_expand(tmpl, &v, out, o) == -1);
	free(tmpl);
	free(out);
	free(ref);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct address none;
	struct address a[8];
	enum address_error e[8];
	size_t used[8];
	unsigned f, g;

	for (f = 0; f < 8; f++) {
		used[f] = (size_t)-1;
		e[f] = address_parse((const char *)data, size, f, &a[f],
		    &used[f]);
		FUZZ_CHECK(e[f] <= ADDR_ERR_LENGTH);
		if (e[f] == ADDR_ERR_UTF8)
			FUZZ_CHECK(!(f & ADDR_ALLOW_UTF8) &&
			    has_high((const char *)data, size));
		if (e[f] != ADDR_OK)
			continue;
		check_forms(data, size, f, &a[f], used[f]);
		check_requoted(f, &a[f]);
	}
	/* more flags never refuse what fewer accepted, nor read it apart */
	for (f = 0; f < 8; f++)
		for (g = 0; g < 8; g++)
			if ((f & g) == f && e[f] == ADDR_OK)
				FUZZ_CHECK(e[g] == ADDR_OK &&
				    used[g] == used[f] && same_form(&a[f],
				    &a[g]));
	check_expand(data, size, e[7] == ADDR_OK ? &a[7] : &none);
	return 0;
}

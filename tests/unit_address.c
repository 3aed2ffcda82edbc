/*
 * unit_address.c - address_parse() and its helpers against RFC 5321 and
 * the internal form of pipesmtpd(8) PLACEHOLDERS.
 *
 * The parser is table-driven here: each case is a path, the text that
 * follows it on the command line, the flags, and the wanted result and
 * fields.  Cases with embedded NUL octets or computed lengths have their
 * own tests below the table.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "unit.h"

#define N	ADDR_ALLOW_NULL
#define U	ADDR_ALLOW_UTF8
#define P	ADDR_ALLOW_PM

struct addr_case {
	const char *path;	/* the "<...>" text */
	const char *tail;	/* what follows it on the line, or NULL */
	unsigned flags;
	enum address_error want;
	const char *local;	/* NULL: not checked */
	const char *domain;
	const char *user;
	const char *ext;
	const char *addr;
	int want_null;
	int want_pm;		/* bare_postmaster */
	int want_utf8;
};

static const struct addr_case cases[] = {
	/* plain dot-strings; domain folded to lower case, local kept */
	{ "<user@example.com>", NULL, 0, ADDR_OK, "user", "example.com",
	    "user", "", "user@example.com", 0, 0, 0 },
	{ "<User.Name@Example.COM>", NULL, 0, ADDR_OK, "User.Name",
	    "example.com", "user.name", "", "User.Name@example.com", 0, 0, 0 },
	{ "<a@b>", NULL, 0, ADDR_OK, "a", "b", "a", "", "a@b", 0, 0, 0 },
	{ "<x!#$%&'*-/=?^_`{|}~y@mx.test>", NULL, 0, ADDR_OK,
	    "x!#$%&'*-/=?^_`{|}~y", "mx.test", NULL, "", NULL, 0, 0, 0 },
	{ "<a-b@a-b.example>", NULL, 0, ADDR_OK, "a-b", "a-b.example", "a-b",
	    "", "a-b@a-b.example", 0, 0, 0 },
	{ "<u@0.example.9>", NULL, 0, ADDR_OK, "u", "0.example.9", "u", "",
	    "u@0.example.9", 0, 0, 0 },
	/* recipient delimiter */
	{ "<User+Tag@example.com>", NULL, 0, ADDR_OK, "User+Tag",
	    "example.com", "user", "Tag", "User+Tag@example.com", 0, 0, 0 },
	{ "<a+b+c@x.org>", NULL, 0, ADDR_OK, "a+b+c", "x.org", "a", "b+c",
	    "a+b+c@x.org", 0, 0, 0 },
	{ "<+foo@x.org>", NULL, 0, ADDR_OK, "+foo", "x.org", "+foo", "",
	    "+foo@x.org", 0, 0, 0 },
	{ "<+foo+Bar@x.org>", NULL, 0, ADDR_OK, "+foo+Bar", "x.org", "+foo",
	    "Bar", "+foo+Bar@x.org", 0, 0, 0 },
	{ "<foo+@x.org>", NULL, 0, ADDR_OK, "foo+", "x.org", "foo", "",
	    "foo+@x.org", 0, 0, 0 },
	{ "<FOO.Bar+Baz.Q@X.ORG>", NULL, 0, ADDR_OK, "FOO.Bar+Baz.Q", "x.org",
	    "foo.bar", "Baz.Q", "FOO.Bar+Baz.Q@x.org", 0, 0, 0 },
	/* quoted local parts: quotes removed, escapes resolved, case kept */
	{ "<\"john doe\"@x.org>", NULL, 0, ADDR_OK, "john doe", "x.org",
	    "john doe", "", "john doe@x.org", 0, 0, 0 },
	{ "<\"John\"@x.org>", NULL, 0, ADDR_OK, "John", "x.org", "john", "",
	    "John@x.org", 0, 0, 0 },
	{ "<\"a\\\"b\\\\c\"@x.org>", NULL, 0, ADDR_OK, "a\"b\\c", "x.org",
	    NULL, "", "a\"b\\c@x.org", 0, 0, 0 },
	{ "<\"a@b\"@x.org>", NULL, 0, ADDR_OK, "a@b", "x.org", "a@b", "",
	    "a@b@x.org", 0, 0, 0 },
	{ "<\"\\a\\ b\"@x.org>", NULL, 0, ADDR_OK, "a b", "x.org", NULL, NULL,
	    "a b@x.org", 0, 0, 0 },
	{ "<\"a>b\"@x.org>", " SIZE=1", 0, ADDR_OK, "a>b", "x.org", NULL,
	    NULL, "a>b@x.org", 0, 0, 0 },
	{ "<\"Q+E x\"@x.org>", NULL, 0, ADDR_OK, "Q+E x", "x.org", "q", "E x",
	    "Q+E x@x.org", 0, 0, 0 },
	{ "<\"a..b.\"@x.org>", NULL, 0, ADDR_OK, "a..b.", "x.org", NULL, NULL,
	    NULL, 0, 0, 0 },
	/* the null path */
	{ "<>", NULL, N, ADDR_OK, "", "", NULL, NULL, "", 1, 0, 0 },
	{ "<>", " SIZE=10", N | U, ADDR_OK, NULL, NULL, NULL, NULL, "", 1, 0,
	    0 },
	{ "<>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL, 0, 0,
	    0 },
	{ "<>", NULL, P | U, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL, 0,
	    0, 0 },
	/* bare <Postmaster>, RCPT only */
	{ "<Postmaster>", NULL, P, ADDR_OK, "Postmaster", "", NULL, NULL,
	    NULL, 0, 1, 0 },
	{ "<postmaster>", NULL, P | U, ADDR_OK, "postmaster", "", NULL, NULL,
	    NULL, 0, 1, 0 },
	{ "<POSTMASTER>", " NOTIFY=NEVER", P, ADDR_OK, "POSTMASTER", "",
	    NULL, NULL, NULL, 0, 1, 0 },
	{ "<Postmaster>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<Postmaster>", NULL, N | U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<postmistress>", NULL, P, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<Postmaster@MX.Test>", NULL, P, ADDR_OK, "Postmaster", "mx.test",
	    "postmaster", "", "Postmaster@mx.test", 0, 0, 0 },
	{ "<Postmaster@mx.test>", NULL, 0, ADDR_OK, "Postmaster", "mx.test",
	    "postmaster", "", "Postmaster@mx.test", 0, 0, 0 },
	/* source routes are accepted and ignored */
	{ "<@a.example,@b.example:user@c.example>", NULL, 0, ADDR_OK, "user",
	    "c.example", "user", "", "user@c.example", 0, 0, 0 },
	{ "<@a.example:User@C.Example>", " X", 0, ADDR_OK, "User",
	    "c.example", "user", "", "User@c.example", 0, 0, 0 },
	/* address literals, kept as written but in lower case */
	{ "<user@[192.0.2.1]>", NULL, 0, ADDR_OK, "user", "[192.0.2.1]",
	    "user", "", "user@[192.0.2.1]", 0, 0, 0 },
	{ "<user@[IPv6:2001:DB8::1]>", NULL, 0, ADDR_OK, "user",
	    "[ipv6:2001:db8::1]", "user", "", "user@[ipv6:2001:db8::1]", 0, 0,
	    0 },
	{ "<user@[IPv6:::1]>", NULL, 0, ADDR_OK, "user", "[ipv6:::1]", NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<user@[IPv6:2001:db8::1::2]>", NULL, 0, ADDR_ERR_SYNTAX, NULL,
	    NULL, NULL, NULL, NULL, 0, 0, 0 },
	{ "<user@[IPv6:zz::1]>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<user@[300.1.1.1]>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<user@[1.2.3]>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@[]>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL,
	    0, 0, 0 },
	{ "<user@[192.0.2.1>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	/* dot-string errors */
	{ "<.user@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user.@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<us..er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<.@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL,
	    0, 0, 0 },
	{ "<us(er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<us,er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<us\"er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<us\\er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<a@b@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	/* domain errors */
	{ "<user@-x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x-.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x.org->", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x..org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@.x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x.org.>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x_y.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x/y.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL,
	    0, 0, 0 },
	{ "<@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL,
	    0, 0, 0 },
	{ "<user>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL, 0,
	    0, 0 },
	{ "<user>", NULL, P, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL, 0,
	    0, 0 },
	/* brackets, spaces, controls */
	{ "user@x.org", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x.org", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ " <user@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<", NULL, N, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL, 0, 0,
	    0 },
	{ "", NULL, N | U | P, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL, NULL,
	    0, 0, 0 },
	{ "<us er@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "< user@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x.org >", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user @x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<us\ter@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x\r\n.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<us\x7f" "er@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<us\x01" "er@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"us\ter\"@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"us\r\ner\"@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"a\\\tb\"@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"a\\\nb\"@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"a\x7f\"@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<\"unterminated@x.org>", NULL, 0, ADDR_ERR_SYNTAX, NULL, NULL,
	    NULL, NULL, NULL, 0, 0, 0 },
	/* UTF-8: only with SMTPUTF8, and only well formed */
	{ "<j\xc3\xbcrgen@x.org>", NULL, 0, ADDR_ERR_UTF8, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<j\xc3\xbcrgen@x.org>", NULL, U, ADDR_OK, "j\xc3\xbcrgen",
	    "x.org", NULL, "", "j\xc3\xbcrgen@x.org", 0, 0, 1 },
	{ "<user@b\xc3\xbc" "cher.example>", NULL, 0, ADDR_ERR_UTF8, NULL,
	    NULL, NULL, NULL, NULL, 0, 0, 0 },
	{ "<user@b\xc3\xbc" "cher.example>", NULL, U, ADDR_OK, "user",
	    "b\xc3\xbc" "cher.example", "user", "",
	    "user@b\xc3\xbc" "cher.example", 0, 0, 1 },
	{ "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.test>", NULL, U,
	    ADDR_OK, "\xe7\x94\xa8\xe6\x88\xb7", NULL, NULL, "", NULL, 0, 0,
	    1 },
	{ "<\"j\xc3\xbcrgen x\"@x.org>", NULL, U, ADDR_OK, "j\xc3\xbcrgen x",
	    "x.org", NULL, NULL, NULL, 0, 0, 1 },
	{ "<j\xc3rgen@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<j\xff" "x@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<j\xc0\xafx@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<j\xed\xa0\x80x@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL,
	    NULL, NULL, NULL, 0, 0, 0 },
	{ "<j\xbf" "x@x.org>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, 0 },
	{ "<user@x.\xc3>", NULL, U, ADDR_ERR_SYNTAX, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0 },
	{ "<user@x.org>", NULL, U, ADDR_OK, "user", "x.org", "user", "",
	    "user@x.org", 0, 0, 0 },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static const char *
err_name(enum address_error e)
{
	switch (e) {
	case ADDR_OK: return "ADDR_OK";
	case ADDR_ERR_SYNTAX: return "ADDR_ERR_SYNTAX";
	case ADDR_ERR_UTF8: return "ADDR_ERR_UTF8";
	case ADDR_ERR_LENGTH: return "ADDR_ERR_LENGTH";
	}
	return "?";
}

/* check_field - one wanted field, unless the case leaves it open */
static void
check_field(size_t i, const char *name, const char *got, const char *want)
{
	if (want == NULL)
		return;
	ck_assert_msg(strcmp(got, want) == 0,
	    "case %zu (%s): %s is \"%s\", want \"%s\"", i, cases[i].path, name,
	    got, want);
}

START_TEST(test_parse_table)
{
	const struct addr_case *c = &cases[_i];
	char line[1024];
	struct address a;
	size_t used = 9999;
	enum address_error e;

	snprintf(line, sizeof(line), "%s%s", c->path,
	    c->tail != NULL ? c->tail : "");
	e = address_parse(line, strlen(line), c->flags, &a, &used);
	ck_assert_msg(e == c->want, "case %d (%s, flags %u): got %s, want %s",
	    _i, c->path, c->flags, err_name(e), err_name(c->want));
	if (c->want != ADDR_OK)
		return;
	ck_assert_msg(used == strlen(c->path),
	    "case %d (%s): used %zu, want %zu", _i, c->path, used,
	    strlen(c->path));
	check_field((size_t)_i, "local", a.local, c->local);
	check_field((size_t)_i, "domain", a.domain, c->domain);
	check_field((size_t)_i, "user", a.user, c->user);
	check_field((size_t)_i, "ext", a.ext, c->ext);
	check_field((size_t)_i, "addr", a.addr, c->addr);
	ck_assert_msg(!!a.null == c->want_null, "case %d (%s): null %d",
	    _i, c->path, a.null);
	ck_assert_msg(!!a.bare_postmaster == c->want_pm,
	    "case %d (%s): bare_postmaster %d", _i, c->path,
	    a.bare_postmaster);
	ck_assert_msg(!!a.utf8 == c->want_utf8, "case %d (%s): utf8 %d",
	    _i, c->path, a.utf8);
}
END_TEST

/* parse_n - parse exactly n octets (they may contain NUL) */
static enum address_error
parse_n(const char *s, size_t n, unsigned flags)
{
	struct address a;
	size_t used;

	return address_parse(s, n, flags, &a, &used);
}

#define LIT(x)	{ x, sizeof(x) - 1 }

START_TEST(test_nul_is_syntax)
{
	static const struct {
		const char *s;
		size_t n;
	} inputs[] = {
		LIT("<us\0er@x.org>"), LIT("<user@x\0.org>"),
		LIT("<\"us\0er\"@x.org>"), LIT("<user@x.org\0>"),
		LIT("<\0>"), LIT("<user@[192.0.2.1\0]>"),
		LIT("<\"a\\\0\"@x.org>"), LIT("<\0user@x.org>"),
		LIT("<@a.ex\0ample:user@x.org>"),
	};
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		ck_assert_msg(parse_n(inputs[i].s, inputs[i].n, N | U | P) ==
		    ADDR_ERR_SYNTAX, "input %zu with NUL not a syntax error",
		    i);
}
END_TEST

START_TEST(test_len_bounds_input)
{
	struct address a;
	size_t used;

	/* the parser must stop at len, never at the NUL terminator */
	ck_assert_int_eq(address_parse("<user@x.org>", 11, 0, &a, &used),
	    ADDR_ERR_SYNTAX);
	ck_assert_int_eq(address_parse("<user@x.org>", 12, 0, &a, &used),
	    ADDR_OK);
	ck_assert_int_eq(address_parse("<>", 1, N, &a, &used),
	    ADDR_ERR_SYNTAX);
	ck_assert_int_eq(address_parse("<user@x.org>", 0, 0, &a, &used),
	    ADDR_ERR_SYNTAX);
}
END_TEST

/* make_path - "<" local "@" domain ">" of exactly total octets, with the
 * domain made of labels of at most 60 octets */
static void
make_path(char *out, size_t total, size_t llen)
{
	size_t dlen = total - 3 - llen, i, o = 0;

	out[o++] = '<';
	for (i = 0; i < llen; i++)
		out[o++] = 'l';
	out[o++] = '@';
	for (i = 0; i < dlen; i++)
		out[o++] = (i % 61 == 60 && i + 1 < dlen) ? '.' : 'd';
	out[o++] = '>';
	out[o] = '\0';
}

START_TEST(test_length_limit)
{
	char path[1200];
	struct address a;
	size_t used;

	make_path(path, 256, 64);
	ck_assert_uint_eq(strlen(path), 256);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_OK);
	ck_assert_uint_eq(used, 256);
	make_path(path, 257, 64);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_ERR_LENGTH);
	make_path(path, 400, 64);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_ERR_LENGTH);
	make_path(path, 1000, 300);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_ERR_LENGTH);
	/* a local part alone far past the limit */
	memset(path, 'a', 1100);
	path[0] = '<';
	memcpy(path + 1090, "@x.org>", 8);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_ERR_LENGTH);
}
END_TEST

START_TEST(test_length_limit_quoted)
{
	char path[600];
	struct address a;
	size_t used, o = 0, i;

	path[o++] = '<';
	path[o++] = '"';
	for (i = 0; i < 300; i++)
		path[o++] = 'q';
	memcpy(path + o, "\"@x.org>", 9);
	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_ERR_LENGTH);
}
END_TEST

START_TEST(test_set_domain)
{
	struct address a;
	size_t used;

	ck_assert_int_eq(address_parse("<Postmaster>", 12, P, &a, &used),
	    ADDR_OK);
	ck_assert_int_eq(a.bare_postmaster, 1);
	ck_assert_str_eq(a.local, "Postmaster");
	ck_assert_str_eq(a.domain, "");
	address_set_domain(&a, "mx.test");
	ck_assert_str_eq(a.domain, "mx.test");
	ck_assert_str_eq(a.local, "Postmaster");
	ck_assert_str_eq(a.user, "postmaster");
	ck_assert_str_eq(a.ext, "");
	ck_assert_str_eq(a.addr, "Postmaster@mx.test");
	ck_assert_int_eq(address_unsafe(&a), 0);
}
END_TEST

struct unsafe_case {
	const char *path;
	int want;
};

static const struct unsafe_case unsafe_cases[] = {
	{ "<user@x.org>", 0 },
	{ "<us-er@x.org>", 0 },
	{ "<us.er@x.org>", 0 },
	{ "<user+ext@x.org>", 0 },
	{ "<user+e-x@x.org>", 0 },
	{ "<user-@x.org>", 0 },
	{ "<a/b@x.org>", 1 },
	{ "<a/@x.org>", 1 },
	{ "<-x@x.org>", 1 },
	{ "<-@x.org>", 1 },
	{ "<x+-y@x.org>", 1 },
	{ "<x+-@x.org>", 1 },
	{ "<\".hidden\"@x.org>", 1 },
	{ "<\"..\"@x.org>", 1 },
	{ "<\"a/b\"@x.org>", 1 },
	{ "<\"a\\/b\"@x.org>", 1 },
	{ "<\"-f\"@x.org>", 1 },
	{ "<\"\\-f\"@x.org>", 1 },
	{ "<\"x+-y\"@x.org>", 1 },
	{ "<\"ok\"@x.org>", 0 },
	{ "<+-x@x.org>", 0 },	/* '+' at 0 is no delimiter: no ext */
};

START_TEST(test_unsafe_table)
{
	const struct unsafe_case *c = &unsafe_cases[_i];
	struct address a;
	size_t used;

	ck_assert_msg(address_parse(c->path, strlen(c->path), 0, &a, &used) ==
	    ADDR_OK, "%s does not parse", c->path);
	ck_assert_msg(!!address_unsafe(&a) == c->want,
	    "address_unsafe(%s) = %d, want %d", c->path, address_unsafe(&a),
	    c->want);
}
END_TEST

START_TEST(test_domain_is)
{
	ck_assert(address_domain_is("example.com", "example.com"));
	ck_assert(address_domain_is("Example.COM", "example.com"));
	ck_assert(address_domain_is("mx.test", "MX.TEST"));
	ck_assert(!address_domain_is("example.com", "example.org"));
	ck_assert(!address_domain_is("example.com", "example.co"));
	ck_assert(!address_domain_is("example.co", "example.com"));
	ck_assert(!address_domain_is("xexample.com", "example.com"));
	ck_assert(!address_domain_is("", "example.com"));
	ck_assert(address_domain_is("", ""));
}
END_TEST

START_TEST(test_reuse_clears_fields)
{
	struct address a;
	size_t used;

	ck_assert_int_eq(address_parse("<Long+Extension@a.example>", 26, 0,
	    &a, &used), ADDR_OK);
	ck_assert_str_eq(a.ext, "Extension");
	ck_assert_int_eq(address_parse("<b@c.example>", 13, 0, &a, &used),
	    ADDR_OK);
	ck_assert_str_eq(a.ext, "");
	ck_assert_str_eq(a.user, "b");
	ck_assert_str_eq(a.addr, "b@c.example");
	ck_assert_int_eq(address_parse("<>", 2, N, &a, &used), ADDR_OK);
	ck_assert_int_eq(a.null, 1);
	ck_assert_str_eq(a.addr, "");
	ck_assert_uint_eq(used, 2);
}
END_TEST

Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_table, 0, (int)NCASES);
	tcase_add_test(tc, test_nul_is_syntax);
	tcase_add_test(tc, test_len_bounds_input);
	tcase_add_test(tc, test_length_limit);
	tcase_add_test(tc, test_length_limit_quoted);
	tcase_add_test(tc, test_reuse_clears_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("helpers");
	tcase_add_test(tc, test_set_domain);
	tcase_add_loop_test(tc, test_unsafe_table, 0,
	    (int)(sizeof(unsafe_cases) / sizeof(unsafe_cases[0])));
	tcase_add_test(tc, test_domain_is);
	suite_add_tcase(s, tc);
	return s;
}

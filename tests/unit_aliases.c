/*
 * unit_aliases.c - the --aliases table (aliases.h): entries, lists,
 * continuation lines, comments, case, chains, self-reference, duplicates
 * folded; and every file pipesmtpd refuses (a command, a file,
 * :include:, an address, an unsafe name, a chain deeper than 10, a
 * loop, a name defined twice, a missing or unreadable file), each with
 * its FILE:LINE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "unit.h"

static char path[64];

/* write_file - text into a fresh temporary file, its name in path */
static void
write_file(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/unit-aliases.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* load_ok - the table from text, which must load */
static struct aliases *
load_ok(const char *text)
{
	struct aliases *al = NULL;
	char err[ALIASES_ERR_MAX];

	write_file(text, strlen(text));
	err[0] = '\0';
	ck_assert_msg(aliases_load(path, &al, err, sizeof(err)) == 0,
	    "refused: %s", err);
	unlink(path);
	ck_assert_ptr_nonnull(al);
	return al;
}

/* load_err - the message a file of len octets is refused with */
static const char *
load_errn(const char *text, size_t len)
{
	static char err[ALIASES_ERR_MAX];
	struct aliases *al = NULL;

	write_file(text, len);
	err[0] = '\0';
	ck_assert_msg(aliases_load(path, &al, err, sizeof(err)) == -1,
	    "accepted: '%s'", text);
	ck_assert_int_ne(errno, ENOMEM);
	ck_assert_ptr_null(al);
	unlink(path);
	return err;
}

static const char *
load_err(const char *text)
{
	return load_errn(text, strlen(text));
}

/* expands - name's targets joined with ' ', "-" if it is no alias */
static char *
expands(const struct aliases *al, const char *name)
{
	static char out[65536];
	struct alias_targets t = { NULL, 0, 0 };
	size_t i, o = 0;
	int r = aliases_lookup(al, name, 100000, &t);

	ck_assert_int_ge(r, 0);
	if (r == 0) {
		ck_assert_uint_eq(t.n, 0);
		aliases_targets_free(&t);
		return strcpy(out, "-");
	}
	out[0] = '\0';
	for (i = 0; i < t.n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
		    i ? " " : "", t.v[i]);
	aliases_targets_free(&t);
	return out;
}

/* at - the "FILE:LINE: " a refusal must begin with */
static char *
at(int line)
{
	static char want[128];

	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	return want;
}

/* assert_at - err names FILE:LINE and says why (a word of it) */
static void
assert_at(const char *err, int line, const char *word)
{
	ck_assert_msg(strncmp(err, at(line), strlen(at(line))) == 0,
	    "'%s' does not begin '%s'", err, at(line));
	ck_assert_msg(strstr(err, word) != NULL, "'%s' lacks '%s'", err,
	    word);
}

/* Files that load, and what names expand to ("-": no alias). */
static const struct expand_case {
	const char *what;
	const char *text;
	const char *want[6][2];		/* name, its targets */
} expand_cases[] = {
	{ "entries and lists",
	  "alice: bob\nteam: carol, dave,erin ,\tfrank\nsolo:x\n",
	  { { "alice", "bob" }, { "team", "carol dave erin frank" },
	    { "solo", "x" }, { "bob", "-" }, { "nobody", "-" },
	    { "", "-" } } },
	{ "continuation lines and comments",
	  "# the staff\nstaff: a,\n  b,\n# a comment inside the entry\n\n"
	  "\tc # the last one\n   # an indented comment\n"
	  "next:   # targets on the next line\n\td\r\ncrlf: e\r\n",
	  { { "staff", "a b c" }, { "next", "d" }, { "crlf", "e" },
	    { "#", "-" } } },
	{ "case: names compare without it, the table keeps lower case",
	  "Alice: Bob, CAROL\nbob: Dave\n",
	  { { "alice", "dave carol" }, { "ALICE", "dave carol" },
	    { "BOB", "dave" } } },
	{ "chains, and duplicates folded",
	  "a: b, x\nb: c, d\nc: e\ndup: y, z, y, Y\n"
	  "diamond: l, r\nl: w\nr: w, v\n",
	  { { "a", "e d x" }, { "b", "e d" }, { "dup", "y z" },
	    { "diamond", "w v" } } },
	{ "self-reference keeps the account: no loop",
	  "alice: alice, bob\nme: me\nup: Alice\nboth: alice, bob, both\n",
	  { { "alice", "alice bob" }, { "me", "me" }, { "up", "alice bob" },
	    { "both", "alice bob both" } } },
	{ "no entries at all: nothing is an alias",
	  "# nothing yet\n\n", { { "postmaster", "-" } } },
};

START_TEST(test_expand)
{
	const struct expand_case *c = &expand_cases[_i];
	struct aliases *al = load_ok(c->text);
	size_t i;

	for (i = 0; i < 6 && c->want[i][0] != NULL; i++)
		ck_assert_msg(strcmp(expands(al, c->want[i][0]),
		    c->want[i][1]) == 0, "%s: '%s' gives '%s', want '%s'",
		    c->what, c->want[i][0], expands(al, c->want[i][0]),
		    c->want[i][1]);
	aliases_free(al);
}
END_TEST

/* chain - n aliases a1: a2 ... an: final */
static char *
chain(int n)
{
	static char text[4096];
	size_t o = 0;
	int i;

	for (i = 1; i <= n; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    i < n ? "a%d: a%d\n" : "a%d: final\n", i, i + 1);
	return text;
}

START_TEST(test_depth)
{
	struct aliases *al = load_ok(chain(ALIASES_DEPTH_MAX));

	ck_assert_str_eq(expands(al, "a1"), "final");
	aliases_free(al);
	assert_at(load_err(chain(ALIASES_DEPTH_MAX + 1)), 1, "deeper than");
}
END_TEST

START_TEST(test_loops)
{
	assert_at(load_err("a: b\nb: c\nc: a\n"), 1, "loop");
	assert_at(load_err("ok: x\nb: x, c\nc: b\n"), 2, "loop");
	/* through a list, and a self-reference deeper down is no loop
	 * but a return to an earlier name is */
	assert_at(load_err("top: b\nb: b, top\n"), 1, "loop");
}
END_TEST

START_TEST(test_duplicate_names)
{
	const char *e = load_err("a: b\nc: d\nA: e\n");

	assert_at(e, 3, "line 1");
	ck_assert_msg(strstr(e, "'a'") != NULL, "'%s'", e);
}
END_TEST

/* Targets and names that are refused, each on line 2. */
static const struct refused_case {
	const char *line;
	const char *word;		/* in the reason */
} refused_cases[] = {
	{ "a: |/usr/bin/procmail\n", "command" },
	{ "a: b, \"|/bin/sh -c x\"\n", "quoted" },
	{ "a: /var/mail/a\n", "file" },
	{ "a: b, mail/a\n", "file" },
	{ "a: :include:/etc/mail/list\n", ":include:" },
	{ "a: :INCLUDE:/etc/mail/list\n", ":include:" },
	{ "a: bob@example.org\n", "@" },
	{ "a: b, @example.org\n", "@" },
	{ "a: -oQ/tmp\n", "'-'" },
	{ "a: .hidden\n", "'.'" },
	{ "a: b,, c\n", "empty" },
	{ "a: , c\n", "empty" },
	{ "a: bob+ext\n", "+" },
	{ "a: b\x01" "c\n", "control" },
	{ "a: b\x7f\n", "control" },
	{ "a: b:c\n", "':'" },
	{ "a: back\\slash\n", "quoted" },
	{ "a b: c\n", "white space" },
	{ "|a: c\n", "command" },
	{ "a+x: c\n", "+" },
	{ "a@x: c\n", "@" },
	{ ": c\n", "empty" },
	{ "a c\n", "':'" },
	{ "a:\n", "no target" },
	{ "a: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxx\n", "longer" },
};

START_TEST(test_refused)
{
	const struct refused_case *c = &refused_cases[_i];
	char *text = malloc(strlen(c->line) + 32);

	ck_assert_ptr_nonnull(text);
	sprintf(text, "first: ok\n%s", c->line);
	assert_at(load_err(text), 2, c->word);
	free(text);
}
END_TEST

START_TEST(test_refused_structure)
{
	/* a continuation with no entry to continue; an entry left without
	 * targets before the next; a NUL in a line */
	assert_at(load_err("  b\n"), 1, "continuation");
	assert_at(load_err("# x\n\n\tb, c\n"), 3, "continuation");
	assert_at(load_err("a:\nb: c\n"), 1, "no target");
	assert_at(load_err("a: # none\n\n# at all\n"), 1, "no target");
	assert_at(load_errn("a: b\nc: d\0e\n", 12), 2, "NUL");
}
END_TEST

START_TEST(test_missing_and_unreadable)
{
	struct aliases *al = NULL;
	char err[ALIASES_ERR_MAX];

	ck_assert_int_eq(aliases_load("/nonexistent/pipesmtpd/aliases", &al,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(al);
	ck_assert_msg(strcmp(err, "/nonexistent/pipesmtpd/aliases: "
	    "No such file or directory") == 0, "'%s'", err);
	/* a directory opens but cannot be read: root reads any file */
	ck_assert_int_eq(aliases_load("/tmp", &al, err, sizeof(err)), -1);
	ck_assert_int_ne(errno, ENOMEM);
	ck_assert_msg(strncmp(err, "/tmp: ", 6) == 0, "'%s'", err);
}
END_TEST

START_TEST(test_large_list_and_max)
{
	/* a list of 1000 names, on continuation lines; a lookup past its
	 * max is E2BIG, not a cut list */
	size_t cap = 1000 * 16 + 64, o, i;
	char *text = malloc(cap);
	struct alias_targets t = { NULL, 0, 0 };
	struct aliases *al;

	ck_assert_ptr_nonnull(text);
	o = (size_t)snprintf(text, cap, "big: u0");
	for (i = 1; i < 1000; i++)
		o += (size_t)snprintf(text + o, cap - o, ",\n u%zu", i);
	snprintf(text + o, cap - o, "\n");
	al = load_ok(text);
	free(text);
	ck_assert_int_eq(aliases_lookup(al, "big", 1000, &t), 1);
	ck_assert_uint_eq(t.n, 1000);
	ck_assert_str_eq(t.v[0], "u0");
	ck_assert_str_eq(t.v[999], "u999");
	aliases_targets_free(&t);
	ck_assert_int_eq(aliases_lookup(al, "big", 999, &t), -1);
	ck_assert_int_eq(errno, E2BIG);
	aliases_targets_free(&t);
	aliases_free(al);
}
END_TEST

Suite *
aliases_suite(void)
{
	Suite *s = suite_create("aliases");
	TCase *tc = tcase_create("aliases");

	tcase_add_loop_test(tc, test_expand, 0,
	    sizeof(expand_cases) / sizeof(expand_cases[0]));
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_loops);
	tcase_add_test(tc, test_duplicate_names);
	tcase_add_loop_test(tc, test_refused, 0,
	    sizeof(refused_cases) / sizeof(refused_cases[0]));
	tcase_add_test(tc, test_refused_structure);
	tcase_add_test(tc, test_missing_and_unreadable);
	tcase_add_test(tc, test_large_list_and_max);
	suite_add_tcase(s, tc);
	return s;
}

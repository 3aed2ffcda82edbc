/*
 * aliases.c - the --aliases file, read once, looked up at each RCPT.
 *
 * Entry points: aliases_load(), aliases_lookup(), aliases_targets_free(),
 * aliases_free().  The file is aliases(5)'s: "name: target, ...", a line
 * that begins with white space continues the entry before it, '#' starts
 * a comment.  Every name and target is kept once, in lower case, in a
 * sorted table (names[]); an entry's targets are indices into it, so a
 * lookup is a binary search and an expansion never compares strings.
 *
 * Nothing is dropped quietly: a target pipesmtpd cannot deliver safely
 * (a command, a file, :include:, an address with '@', anything that is
 * not a plain local name), a name defined twice, a loop or a chain
 * deeper than ALIASES_DEPTH_MAX refuses the whole file, naming FILE:LINE,
 * so the administrator hears of it at the first connection and not from
 * a lost message.  A target equal to the name being expanded ("alice:
 * alice, bob") is the account itself, as aliases(5) has it, not a loop.
 * This module reads one file and never looks an account up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "aliases.h"
#include "log.h"

#define DEPTH_BUSY	255	/* entry_depth(): on the path being checked */
#define FLAG_EMITTED	0x1	/* aliases_lookup(): a final name given */
#define FLAG_EXPANDED	0x2	/* aliases_lookup(): an alias expanded */

/* One name of the table: an alias, a final name, or both ("a: a"). */
struct alias_name {
	const char *name;		/* lower case, in strs[] */
	size_t entry;			/* its entry + 1; 0: no alias */
};

/* One "name: target, ..." entry. */
struct alias_entry {
	size_t name;			/* its name, an index in strs[] */
	size_t first, n;		/* its targets: strs[first..first+n) */
	unsigned long line;		/* where it begins in the file */
	unsigned char depth;		/* aliases deep, once checked */
};

struct aliases {
	char **strs;			/* every name and target, file order */
	size_t nstrs, scap;
	size_t *map;			/* strs[k] is names[map[k]] */
	struct alias_name *names;	/* sorted, each once */
	size_t nnames;
	struct alias_entry *entries;	/* file order */
	size_t nentries, ecap;
};

/* Loading: the table being built and where a refusal is written. */
struct load {
	struct aliases *al;
	const char *path;
	unsigned long line;		/* the line being read */
	char *err;
	size_t cap;
};

/* fail - a refusal: "FILE:LINE: reason" into the error buffer; -1 with
 * errno EINVAL */
static int __attribute__((format(printf, 3, 4)))
fail(struct load *ld, unsigned long line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ld->err, ld->cap, "%s:%lu: ", ld->path, line);
	if (n >= 0 && (size_t)n < ld->cap) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->cap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* sys_fail - the file could not be read, or memory ran out: "FILE:
 * error"; -1 with errno kept */
static int
sys_fail(struct load *ld)
{
	int e = errno;

	snprintf(ld->err, ld->cap, "%s: %s", ld->path, strerror(e));
	errno = e;
	return -1;
}

/* shown - a name as a refusal quotes it, escaped as a log line would */
static const char *
shown(const char *name, char *buf, size_t cap)
{
	return log_escape(name, buf, cap);
}

/* name_problem - why s cannot be an alias name or a target, or NULL */
static const char *
name_problem(const char *s)
{
	const unsigned char *p;

	if (*s == '\0')
		return "an empty name";
	if (strpbrk(s, "\"\\") != NULL)
		return "quoted names are not supported";
	if (*s == '|')
		return "a pipe to a command is not supported";
	if (strncasecmp(s, ":include:", 9) == 0)
		return ":include: is not supported";
	if (*s == '-' || *s == '.')
		return "a name may not start with '-' or '.'";
	if (strchr(s, '/') != NULL)
		return "delivery to a file is not supported";
	if (strchr(s, '@') != NULL)
		return "an address with @ is not supported: a target is a "
		    "local name";
	if (strchr(s, '+') != NULL)
		return "a +extension is not supported: the client's is "
		    "passed on";
	if (strchr(s, ':') != NULL)
		return "a ':' in a name";
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == ' ' || *p == '\t')
			return "white space in a name";
		else if (*p < 32 || *p == 127)
			return "a control character in a name";
	if (strlen(s) > ALIASES_NAME_MAX)
		return "a name longer than 64 octets";
	return NULL;
}

/* trim - s without the spaces and tabs around it */
static char *
trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s[n] = '\0';
	return s;
}

/* add_str - a lower-case copy of s at the end of strs[]; -1 (ENOMEM) */
static int
add_str(struct aliases *al, const char *s)
{
	size_t i, n = strlen(s);
	char *copy;

	if (al->nstrs == al->scap) {
		size_t cap = al->scap ? 2 * al->scap : 64;
		char **v = realloc(al->strs, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		al->strs = v;
		al->scap = cap;
	}
	if ((copy = malloc(n + 1)) == NULL)
		return -1;
	for (i = 0; i <= n; i++)
		copy[i] = (char)address_lower((unsigned char)s[i]);
	al->strs[al->nstrs++] = copy;
	return 0;
}

/* add_name - a checked name or target into the table */
static int
add_name(struct load *ld, const char *s, const char *what)
{
	const char *why = name_problem(s);
	char buf[4 * ALIASES_NAME_MAX + 4];

	if (why != NULL)
		return fail(ld, ld->line, "%s '%s': %s", what,
		    shown(s, buf, sizeof(buf)), why);
	return add_str(ld->al, s) == -1 ? sys_fail(ld) : 0;
}

/* add_targets - the comma-separated targets of one line, for the last
 * entry.  An empty one is refused, except after a comma that ends the
 * line (the list goes on below). */
static int
add_targets(struct load *ld, char *s)
{
	struct alias_entry *en = &ld->al->entries[ld->al->nentries - 1];

	for (;;) {
		char *comma = strchr(s, ','), *t;

		if (comma != NULL)
			*comma = '\0';
		t = trim(s);
		if (*t == '\0' && comma != NULL)
			return fail(ld, ld->line, "an empty target");
		if (*t != '\0') {
			if (add_name(ld, t, "target") == -1)
				return -1;
			en->n++;
		}
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

/* entry_done - the last entry has at least one target */
static int
entry_done(struct load *ld)
{
	const struct aliases *al = ld->al;
	const struct alias_entry *en;
	char buf[4 * ALIASES_NAME_MAX + 4];

	if (al->nentries == 0)
		return 0;
	en = &al->entries[al->nentries - 1];
	if (en->n > 0)
		return 0;
	return fail(ld, en->line, "alias '%s' has no target",
	    shown(al->strs[en->name], buf, sizeof(buf)));
}

/* add_entry - "name: targets": a new entry */
static int
add_entry(struct load *ld, char *s)
{
	struct aliases *al = ld->al;
	char *colon = strchr(s, ':');

	if (entry_done(ld) == -1)
		return -1;
	if (colon == NULL)
		return fail(ld, ld->line, "no ':' after the name");
	*colon = '\0';
	if (al->nentries == al->ecap) {
		size_t cap = al->ecap ? 2 * al->ecap : 32;
		struct alias_entry *v = realloc(al->entries, cap * sizeof(*v));

		if (v == NULL)
			return sys_fail(ld);
		al->entries = v;
		al->ecap = cap;
	}
	if (add_name(ld, trim(s), "name") == -1)
		return -1;
	al->entries[al->nentries++] = (struct alias_entry){
		.name = al->nstrs - 1, .first = al->nstrs, .line = ld->line };
	return add_targets(ld, colon + 1);
}

/* parse_line - one line of n octets: a comment or blank line is
 * skipped, one that begins with white space continues the entry */
static int
parse_line(struct load *ld, char *line, size_t n)
{
	size_t len;

	if (memchr(line, '\0', n) != NULL)
		return fail(ld, ld->line, "a NUL octet in the line");
	line[strcspn(line, "#\n")] = '\0';
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	if (line[strspn(line, " \t")] == '\0')
		return 0;
	if (line[0] != ' ' && line[0] != '\t')
		return add_entry(ld, line);
	if (ld->al->nentries == 0)
		return fail(ld, ld->line, "a continuation line with no entry "
		    "to continue");
	return add_targets(ld, line);
}

/* read_lines - every line of f into the table */
static int
read_lines(struct load *ld, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	while (r == 0 && (n = getline(&line, &cap, f)) != -1) {
		ld->line++;
		r = parse_line(ld, line, (size_t)n);
	}
	if (r == 0 && ferror(f))
		r = sys_fail(ld);
	free(line);
	return r == 0 ? entry_done(ld) : r;
}

/* cmp_str - qsort order of two strings */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cmp_key - bsearch order of a key and a name, without ASCII case (the
 * names are in lower case, so this is their sort order too) */
static int
cmp_key(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct alias_name *)elem)->name);
}

/* find - name's place in names[], or NULL */
static const struct alias_name *
find(const struct aliases *al, const char *name)
{
	return bsearch(name, al->names, al->nnames, sizeof(*al->names),
	    cmp_key);
}

/* sort_names - names[]: strs[] sorted, each name once; map[] */
static int
sort_names(struct aliases *al)
{
	char **sorted = calloc(al->nstrs + 1, sizeof(*sorted));
	size_t i;

	al->names = calloc(al->nstrs + 1, sizeof(*al->names));
	al->map = calloc(al->nstrs + 1, sizeof(*al->map));
	if (sorted == NULL || al->names == NULL || al->map == NULL) {
		free(sorted);
		return -1;
	}
	if (al->nstrs > 0)	/* an empty file has no strings at all */
		memcpy(sorted, al->strs, al->nstrs * sizeof(*sorted));
	qsort(sorted, al->nstrs, sizeof(*sorted), cmp_str);
	for (i = 0; i < al->nstrs; i++)
		if (al->nnames == 0 ||
		    strcmp(al->names[al->nnames - 1].name, sorted[i]) != 0)
			al->names[al->nnames++].name = sorted[i];
	free(sorted);
	for (i = 0; i < al->nstrs; i++)
		al->map[i] = (size_t)(find(al, al->strs[i]) - al->names);
	return 0;
}

/* index_names - the sorted table, each entry's name pointing at it; a
 * name defined twice is refused */
static int
index_names(struct load *ld)
{
	struct aliases *al = ld->al;
	char buf[4 * ALIASES_NAME_MAX + 4];
	size_t e;

	if (sort_names(al) == -1)
		return sys_fail(ld);
	for (e = 0; e < al->nentries; e++) {
		struct alias_name *n = &al->names[al->map[al->entries[e].name]];

		if (n->entry != 0)
			return fail(ld, al->entries[e].line, "alias '%s' is "
			    "defined again (first at line %lu)",
			    shown(n->name, buf, sizeof(buf)),
			    al->entries[n->entry - 1].line);
		n->entry = e + 1;
	}
	return 0;
}

/* child - the entry strs[k], a target of entry e, expands to (+ 1), or
 * 0 when it is final: no alias, or e's own name (the account) */
static size_t
child(const struct aliases *al, size_t e, size_t k)
{
	size_t c = al->names[al->map[k]].entry;

	return c != 0 && c - 1 != e ? c : 0;
}

/* too_deep - the refusal of a chain deeper than ALIASES_DEPTH_MAX */
static int
too_deep(struct load *ld, size_t e)
{
	const struct alias_entry *en = &ld->al->entries[e];
	char buf[4 * ALIASES_NAME_MAX + 4];

	return fail(ld, en->line, "alias '%s' nests deeper than %d aliases",
	    shown(ld->al->strs[en->name], buf, sizeof(buf)),
	    ALIASES_DEPTH_MAX);
}

/* entry_depth - how many aliases deep e's expansion goes (1: its targets
 * are all final), checked on the way down from root at level; -1 on a
 * loop or past ALIASES_DEPTH_MAX, so the recursion is bounded too */
static int
entry_depth(struct load *ld, size_t e, size_t root, unsigned level)
{
	struct alias_entry *en = &ld->al->entries[e];
	char buf[4 * ALIASES_NAME_MAX + 4];
	int most = 0, d;
	size_t k, c;

	if (en->depth == DEPTH_BUSY)
		return fail(ld, en->line, "alias '%s' is part of a loop",
		    shown(ld->al->strs[en->name], buf, sizeof(buf)));
	if (en->depth != 0)
		return en->depth;
	if (level > ALIASES_DEPTH_MAX)
		return too_deep(ld, root);
	en->depth = DEPTH_BUSY;
	for (k = en->first; k < en->first + en->n; k++) {
		if ((c = child(ld->al, e, k)) == 0)
			continue;
		if ((d = entry_depth(ld, c - 1, root, level + 1)) < 0)
			return -1;
		most = d > most ? d : most;
	}
	if (most + 1 > ALIASES_DEPTH_MAX)
		return too_deep(ld, e);
	en->depth = (unsigned char)(most + 1);
	return en->depth;
}

/* check_depths - every entry's chains: no loop, none too deep */
static int
check_depths(struct load *ld)
{
	size_t e;

	for (e = 0; e < ld->al->nentries; e++)
		if (entry_depth(ld, e, e, 1) < 0)
			return -1;
	return 0;
}

/* aliases_load - read and check path; 0 and *out, or -1 with the
 * refusal in err ("FILE:LINE: reason" or "FILE: error") and errno:
 * ENOMEM when memory ran out, else the file is to blame */
int
aliases_load(const char *path, struct aliases **out, char *err, size_t cap)
{
	struct load ld = { NULL, path, 0, err, cap };
	FILE *f;
	int r, e;

	*out = NULL;
	if ((ld.al = calloc(1, sizeof(*ld.al))) == NULL)
		return sys_fail(&ld);
	if ((f = fopen(path, "re")) == NULL) {
		r = sys_fail(&ld);
	} else {
		r = read_lines(&ld, f);
		fclose(f);	/* read only: nothing to lose */
	}
	if (r == 0)
		r = index_names(&ld);
	if (r == 0)
		r = check_depths(&ld);
	if (r == -1) {
		e = errno;
		aliases_free(ld.al);
		errno = e;
		return -1;
	}
	*out = ld.al;
	return 0;
}

/* add_final - one more final name; -1 with E2BIG past max, or ENOMEM */
static int
add_final(struct alias_targets *t, const char *name, size_t max)
{
	if (t->n >= max) {
		errno = E2BIG;
		return -1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		const char **v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = name;
	return 0;
}

/* expand - entry e's final names after those in t; an alias met twice
 * is expanded once and a final name given once (flags[], by name).  The
 * recursion is as deep as the chains, which aliases_load() bounded. */
static int
expand(const struct aliases *al, size_t e, unsigned char *flags, size_t max,
    struct alias_targets *t)
{
	const struct alias_entry *en = &al->entries[e];
	size_t k, c, p;

	for (k = en->first; k < en->first + en->n; k++) {
		p = al->map[k];
		if ((c = child(al, e, k)) != 0) {
			if (flags[p] & FLAG_EXPANDED)
				continue;
			flags[p] |= FLAG_EXPANDED;
			if (expand(al, c - 1, flags, max, t) == -1)
				return -1;
		} else if (!(flags[p] & FLAG_EMITTED)) {
			flags[p] |= FLAG_EMITTED;
			if (add_final(t, al->names[p].name, max) == -1)
				return -1;
		}
	}
	return 0;
}

/* aliases_lookup - the final local names name (any case) expands to, in
 * order, each once, into t (empty first; free it with
 * aliases_targets_free() whatever the result).  1 when name is an
 * alias, 0 when it is not (or al is NULL), -1 with errno E2BIG when
 * there are more than max names, or ENOMEM. */
int
aliases_lookup(const struct aliases *al, const char *name, size_t max,
    struct alias_targets *t)
{
	const struct alias_name *n;
	unsigned char *flags;
	int r;

	t->n = 0;
	if (al == NULL || (n = find(al, name)) == NULL || n->entry == 0)
		return 0;
	if ((flags = calloc(al->nnames, 1)) == NULL)
		return -1;
	flags[n - al->names] |= FLAG_EXPANDED;
	r = expand(al, n->entry - 1, flags, max, t);
	free(flags);
	return r == -1 ? -1 : 1;
}

/* aliases_targets_free - a lookup's list, emptied */
void
aliases_targets_free(struct alias_targets *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* aliases_free - the whole table */
void
aliases_free(struct aliases *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->nstrs; i++)
		free(al->strs[i]);
	free(al->strs);
	free(al->map);
	free(al->names);
	free(al->entries);
	free(al);
}

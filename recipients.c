/*
 * recipients.c - the accepted recipients of one transaction, compact and
 * without duplicates.
 *
 * Entry points: recipients_init(), recipients_add(), recipients_has(),
 * recipients_first(), recipients_address(), recipients_set_outcome(),
 * recipients_outcome(), recipients_free().  A unique entry holds its
 * address as one string, "local\0domain\0user\0ext\0"; an open-addressing
 * hash of the unique entries (ASCII case folded) finds a duplicate in
 * constant time, so 100,000 recipients cost no quadratic scan.  Why
 * duplicates matter: one RCPT repeated 50 times must not put a message
 * into one mailbox 50 times.  This module never replies and never logs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recipients.h"

/* One accepted RCPT. */
struct recipient {
	char *packed;			/* the address; NULL: a duplicate */
	char *text;			/* a failure's text, or NULL */
	size_t first;			/* the first entry with this address
					   (its own index when unique) */
	unsigned char cls;		/* enum deliver_class: OUT_TEMP until
					   an outcome is set */
	unsigned char utf8;		/* the address has non-ASCII octets */
	char dsn[DELIVER_DSN_MAX];	/* the outcome's enhanced code */
};

/* hash_parts - FNV-1a of local "@" domain, without ASCII case */
static size_t
hash_parts(const char *local, const char *domain)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = local; *p != '\0'; p++)
		h = (h ^ (uint32_t)address_lower((unsigned char)*p)) *
		    16777619u;
	h = (h ^ '@') * 16777619u;
	for (p = domain; *p != '\0'; p++)
		h = (h ^ (uint32_t)address_lower((unsigned char)*p)) *
		    16777619u;
	return h;
}

/* packed_next - the field after one in a packed address */
static const char *
packed_next(const char *field)
{
	return field + strlen(field) + 1;
}

/* same - whether a unique entry has this address, ignoring ASCII case */
static int
same(const struct recipient *e, const char *local, const char *domain)
{
	return strcasecmp(e->packed, local) == 0 &&
	    strcasecmp(packed_next(e->packed), domain) == 0;
}

/* slot_of - the slot that holds local@domain's entry, or the free slot
 * where it would go */
static size_t
slot_of(const struct recipients *l, const char *local, const char *domain)
{
	size_t mask = l->nslots - 1, k = hash_parts(local, domain) & mask;

	while (l->slots[k] != 0 && !same(&l->v[l->slots[k] - 1], local,
	    domain))
		k = (k + 1) & mask;
	return k;
}

/* rehash - twice the slots (at least 16), every unique entry in again;
 * the table stays at most half full, so every probe ends */
static int
rehash(struct recipients *l)
{
	size_t n = l->nslots ? 2 * l->nslots : 16, i;
	size_t *slots = calloc(n, sizeof(*slots)), *prev = l->slots;

	if (slots == NULL)
		return -1;
	l->slots = slots;
	l->nslots = n;
	for (i = 0; i < l->n; i++) {
		const char *p = l->v[i].packed;

		if (p != NULL)
			slots[slot_of(l, p, packed_next(p))] = i + 1;
	}
	free(prev);
	return 0;
}

/* pack - local, domain, user and ext as one string of four */
static char *
pack(const struct address *a)
{
	const char *f[] = { a->local, a->domain, a->user, a->ext };
	size_t len[4], total = 0, i;
	char *p, *o;

	for (i = 0; i < 4; i++)
		total += (len[i] = strlen(f[i])) + 1;
	if ((p = malloc(total)) == NULL)
		return NULL;
	for (o = p, i = 0; i < 4; o += len[i++] + 1)
		memcpy(o, f[i], len[i] + 1);
	return p;
}

/* grow - room for one more entry */
static int
grow(struct recipients *l)
{
	size_t cap = l->cap ? 2 * l->cap : 8;
	struct recipient *v;

	if (l->n < l->cap)
		return 0;
	if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	l->cap = cap;
	return 0;
}

/* recipients_init - an empty list */
void
recipients_init(struct recipients *l)
{
	memset(l, 0, sizeof(*l));
}

/* recipients_free - every entry gone; the list is empty again */
void
recipients_free(struct recipients *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].packed);
		free(l->v[i].text);
	}
	free(l->v);
	free(l->slots);
	recipients_init(l);
}

/* recipients_add - append an accepted recipient; a duplicate of an
 * earlier one is linked to it.  0, or -1 when out of memory (nothing
 * added). */
int
recipients_add(struct recipients *l, const struct address *a)
{
	struct recipient *e;
	size_t k;

	if (grow(l) == -1)
		return -1;
	if (2 * (l->unique + 1) > l->nslots && rehash(l) == -1)
		return -1;
	k = slot_of(l, a->local, a->domain);
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->cls = OUT_TEMP;		/* nothing is delivered yet */
	if (l->slots[k] != 0) {
		e->first = l->slots[k] - 1;
	} else {
		if ((e->packed = pack(a)) == NULL)
			return -1;
		e->first = l->n;
		e->utf8 = (unsigned char)a->utf8;
		l->slots[k] = l->n + 1;
		l->unique++;
	}
	l->n++;
	return 0;
}

/* recipients_has - whether a's address (ignoring ASCII case) is in */
int
recipients_has(const struct recipients *l, const struct address *a)
{
	return l->nslots > 0 && l->slots[slot_of(l, a->local, a->domain)] != 0;
}

/* recipients_first - the entry that is delivered for entry i: i itself,
 * or the earlier one it duplicates */
size_t
recipients_first(const struct recipients *l, size_t i)
{
	return l->v[i].first;
}

/* recipients_address - entry i's address (its first's, for a duplicate) */
void
recipients_address(const struct recipients *l, size_t i, struct address *a)
{
	const struct recipient *e = &l->v[l->v[i].first];
	const char *local = e->packed, *domain = packed_next(local);
	const char *user = packed_next(domain), *ext = packed_next(user);

	memset(a, 0, sizeof(*a));
	snprintf(a->local, sizeof(a->local), "%s", local);
	snprintf(a->domain, sizeof(a->domain), "%s", domain);
	snprintf(a->user, sizeof(a->user), "%s", user);
	snprintf(a->ext, sizeof(a->ext), "%s", ext);
	a->utf8 = e->utf8;
	address_join(a);
}

/* recipients_set_outcome - entry i's delivery outcome; the text is kept
 * only for a failure, the only reply that says it.  -1 when out of
 * memory: the outcome is kept without its text. */
int
recipients_set_outcome(struct recipients *l, size_t i,
    const struct deliver_outcome *o)
{
	struct recipient *e = &l->v[i];

	e->cls = (unsigned char)o->cls;
	snprintf(e->dsn, sizeof(e->dsn), "%s", o->dsn);
	free(e->text);
	e->text = NULL;
	if (o->cls == OUT_DELIVERED || o->text[0] == '\0')
		return 0;
	e->text = strdup(o->text);
	return e->text == NULL ? -1 : 0;
}

/* recipients_outcome - entry i's outcome (its first's, for a duplicate) */
void
recipients_outcome(const struct recipients *l, size_t i,
    struct deliver_outcome *o)
{
	const struct recipient *e = &l->v[l->v[i].first];

	deliver_outcome_init(o);
	if (e->dsn[0] == '\0')
		return;		/* never given one: not delivered */
	o->cls = (enum deliver_class)e->cls;
	snprintf(o->dsn, sizeof(o->dsn), "%s", e->dsn);
	snprintf(o->text, sizeof(o->text), "%s", e->text ? e->text : "");
}

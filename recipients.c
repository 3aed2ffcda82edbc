/*
 * recipients.c - the accepted recipients of one transaction and their
 * deliveries, compact and without duplicates.
 *
 * Entry points: recipients_init(), recipients_add(),
 * recipients_add_target(), recipients_drop_last(), recipients_has(),
 * recipients_first(), recipients_address(), recipients_targets_end(),
 * recipients_verdict(), recipients_target(), recipients_target_rcpt(),
 * recipients_set_outcome(), recipients_outcome(), recipients_free().
 * An address is held as one string, "local\0domain\0user\0ext\0"; two
 * open-addressing hashes (ASCII case folded), one of the unique RCPTs
 * and one of the deliveries, find a duplicate in constant time, so
 * 100,000 recipients cost no quadratic scan.  Why duplicates matter: one
 * RCPT repeated 50 times, or 50 aliases naming one account, must not put
 * a message into one mailbox 50 times.  This module never replies and
 * never logs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recipients.h"

#define NONE	((size_t)-1)	/* no such delivery */

/* One accepted RCPT. */
struct recipient {
	char *packed;			/* the address; NULL: a duplicate */
	uint32_t first;			/* the first RCPT with this address
					   (its own index when unique) */
	uint32_t link, nlink;		/* its deliveries: links[link..+n) */
	unsigned char utf8;		/* the address has non-ASCII octets */
};

/* One delivery: a target address, run once. */
struct delivery {
	char *packed;			/* the address; NULL: its RCPT's */
	char *text;			/* a failure's text, or NULL */
	uint32_t rcpt;			/* the RCPT it was first asked by */
	unsigned char cls;		/* enum outcome_class: OUT_TEMP until
					   an outcome is set */
	unsigned char utf8;		/* the address has non-ASCII octets */
	char dsn[OUTCOME_DSN_MAX];	/* the outcome's enhanced code */
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

/* rcpt_key - RCPT i's packed address, NULL for a duplicate */
static const char *
rcpt_key(const struct recipients *l, size_t i)
{
	return l->v[i].packed;
}

/* delivery_key - delivery j's packed address */
static const char *
delivery_key(const struct recipients *l, size_t j)
{
	const struct delivery *d = &l->d[j];

	return d->packed != NULL ? d->packed : l->v[d->rcpt].packed;
}

/* slot_of - the slot of h that holds local@domain's index, or the free
 * slot where it would go */
static size_t
slot_of(const struct recipients *l, const struct recipients_hash *h,
    const char *(*key)(const struct recipients *, size_t),
    const char *local, const char *domain)
{
	size_t mask = h->nslots - 1, k = hash_parts(local, domain) & mask;
	const char *p;

	while (h->slots[k] != 0) {
		p = key(l, h->slots[k] - 1);
		if (strcasecmp(p, local) == 0 &&
		    strcasecmp(packed_next(p), domain) == 0)
			break;
		k = (k + 1) & mask;
	}
	return k;
}

/* make_room - room in h for one more of count keyed entries: twice the
 * slots (at least 16), every entry in again, in index order.  The table
 * stays at most half full, so every probe ends. */
static int
make_room(struct recipients *l, struct recipients_hash *h,
    const char *(*key)(const struct recipients *, size_t), size_t count)
{
	struct recipients_hash old = *h;
	const char *p;
	size_t i;

	if (2 * (h->used + 1) <= h->nslots)
		return 0;
	h->nslots = old.nslots ? 2 * old.nslots : 16;
	if ((h->slots = calloc(h->nslots, sizeof(*h->slots))) == NULL) {
		*h = old;
		return -1;
	}
	for (i = 0; i < count; i++)
		if ((p = key(l, i)) != NULL)
			h->slots[slot_of(l, h, key, p, packed_next(p))] =
			    (uint32_t)i + 1;
	free(old.slots);
	return 0;
}

/* unslot - take index i, the last one put in, out of h.  With linear
 * probing no earlier entry's probe ever passed the slot of a later one,
 * so removing the latest entries first leaves the table as it was. */
static void
unslot(const struct recipients *l, struct recipients_hash *h,
    const char *(*key)(const struct recipients *, size_t), size_t i)
{
	const char *p = key(l, i);

	h->slots[slot_of(l, h, key, p, packed_next(p))] = 0;
	h->used--;
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

/* packed_is - whether a packed address holds exactly a's four fields */
static int
packed_is(const char *p, const struct address *a)
{
	const char *f[] = { a->local, a->domain, a->user, a->ext };
	size_t i;

	for (i = 0; i < 4; p = packed_next(p), i++)
		if (strcmp(p, f[i]) != 0)
			return 0;
	return 1;
}

/* unpack - a packed address into a */
static void
unpack(const char *p, int utf8, struct address *a)
{
	const char *domain = packed_next(p), *user = packed_next(domain);

	memset(a, 0, sizeof(*a));
	snprintf(a->local, sizeof(a->local), "%s", p);
	snprintf(a->domain, sizeof(a->domain), "%s", domain);
	snprintf(a->user, sizeof(a->user), "%s", user);
	snprintf(a->ext, sizeof(a->ext), "%s", packed_next(user));
	a->utf8 = utf8;
	address_join(a);
}

/* grown - v with room for entry n (of size octets each), or NULL */
static void *
grown(void *v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 8;

	if (n < *cap)
		return v;
	if ((v = realloc(v, c * size)) != NULL)
		*cap = c;
	return v;
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

	for (i = 0; i < l->n; i++)
		free(l->v[i].packed);
	for (i = 0; i < l->nd; i++) {
		free(l->d[i].packed);
		free(l->d[i].text);
	}
	free(l->v);
	free(l->d);
	free(l->links);
	free(l->rh.slots);
	free(l->dh.slots);
	recipients_init(l);
}

/* recipients_add - append an accepted RCPT.  A duplicate of an earlier
 * one is linked to it and shares its deliveries; a new one then gets
 * its own with recipients_add_target().  0, or -1 when out of memory
 * (nothing added). */
int
recipients_add(struct recipients *l, const struct address *a)
{
	struct recipient *e, *v;
	size_t k;

	if ((v = grown(l->v, &l->cap, l->n, sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	if (make_room(l, &l->rh, rcpt_key, l->n) == -1)
		return -1;
	k = slot_of(l, &l->rh, rcpt_key, a->local, a->domain);
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	if (l->rh.slots[k] != 0) {
		e->first = l->rh.slots[k] - 1;
	} else {
		if ((e->packed = pack(a)) == NULL)
			return -1;
		e->first = (uint32_t)l->n;
		e->link = (uint32_t)l->nlinks;
		e->utf8 = (unsigned char)a->utf8;
		l->rh.slots[k] = (uint32_t)l->n + 1;
		l->rh.used++;
		l->unique++;
	}
	l->n++;
	return 0;
}

/* new_delivery - delivery nd to a, first asked by the last RCPT, whose
 * own address it shares when they are the same */
static int
new_delivery(struct recipients *l, const struct address *a, size_t k)
{
	const struct recipient *r = &l->v[l->n - 1];
	struct delivery *d = &l->d[l->nd];

	memset(d, 0, sizeof(*d));
	if (!packed_is(r->packed, a) && (d->packed = pack(a)) == NULL)
		return -1;
	d->rcpt = (uint32_t)l->n - 1;
	d->cls = OUT_TEMP;		/* nothing is delivered yet */
	d->utf8 = (unsigned char)a->utf8;
	l->dh.slots[k] = (uint32_t)l->nd + 1;
	l->dh.used++;
	l->nd++;
	return 0;
}

/* recipients_add_target - the last RCPT (a new one) delivers to a too:
 * to the delivery already made for a's address, or to a new one.  Each
 * target once per RCPT.  0, or -1 when out of memory (the RCPT is then
 * as it was). */
int
recipients_add_target(struct recipients *l, const struct address *a)
{
	struct delivery *d;
	uint32_t *links;
	size_t k, j;

	if ((links = grown(l->links, &l->lcap, l->nlinks,
	    sizeof(*links))) == NULL)
		return -1;
	l->links = links;
	if ((d = grown(l->d, &l->dcap, l->nd, sizeof(*d))) == NULL)
		return -1;
	l->d = d;
	if (make_room(l, &l->dh, delivery_key, l->nd) == -1)
		return -1;
	k = slot_of(l, &l->dh, delivery_key, a->local, a->domain);
	j = l->dh.slots[k] != 0 ? l->dh.slots[k] - 1 : l->nd;
	if (j == l->nd && new_delivery(l, a, k) == -1)
		return -1;
	l->links[l->nlinks++] = (uint32_t)j;
	l->v[l->n - 1].nlink++;
	return 0;
}

/* recipients_drop_last - take the last RCPT back, with the deliveries
 * it alone asked for: one target of an alias was refused, or memory ran
 * out part of the way */
void
recipients_drop_last(struct recipients *l)
{
	struct recipient *r;
	struct delivery *d;

	if (l->n == 0)
		return;
	r = &l->v[l->n - 1];
	while (l->nd > 0 && l->d[l->nd - 1].rcpt == l->n - 1) {
		d = &l->d[l->nd - 1];
		unslot(l, &l->dh, delivery_key, l->nd - 1);
		free(d->packed);
		free(d->text);
		l->nd--;
	}
	if (r->packed != NULL) {
		unslot(l, &l->rh, rcpt_key, l->n - 1);
		free(r->packed);
		l->nlinks = r->link;
		l->unique--;
	}
	l->n--;
}

/* recipients_has - whether an RCPT with a's address (ignoring ASCII
 * case) was accepted */
int
recipients_has(const struct recipients *l, const struct address *a)
{
	return l->rh.nslots > 0 &&
	    l->rh.slots[slot_of(l, &l->rh, rcpt_key, a->local, a->domain)] !=
	    0;
}

/* recipients_first - the RCPT whose deliveries RCPT i shares: i itself,
 * or the earlier one it duplicates */
size_t
recipients_first(const struct recipients *l, size_t i)
{
	return l->v[i].first;
}

/* recipients_address - RCPT i's address as the client gave it (its
 * first's, for a duplicate) */
void
recipients_address(const struct recipients *l, size_t i, struct address *a)
{
	const struct recipient *e = &l->v[l->v[i].first];

	unpack(e->packed, e->utf8, a);
}

/* recipients_facts - the header facts' part the recipients give (l
 * holds one RCPT at least): the first RCPT, into first, which m points
 * at; and how many RCPTs there are, each once */
void
recipients_facts(const struct recipients *l, struct received_msg *m,
    struct address *first)
{
	recipients_address(l, 0, first);
	m->first = first;
	m->nrcpt = l->unique;
}

/* recipients_targets_end - one past the last delivery RCPT i asks for:
 * delivering in order up to there has delivered all of its targets */
size_t
recipients_targets_end(const struct recipients *l, size_t i)
{
	const struct recipient *e = &l->v[l->v[i].first];
	size_t end = 0, k;

	for (k = e->link; k < e->link + e->nlink; k++)
		if (l->links[k] + 1 > end)
			end = l->links[k] + 1;
	return end;
}

/* recipients_verdict - over RCPT i's deliveries (every delivery, for
 * RECIPIENTS_ALL): how many were delivered, and the one whose outcome
 * speaks for them all: the first temporary failure, else the first
 * permanent one, else the first */
size_t
recipients_verdict(const struct recipients *l, size_t i, size_t *speaker)
{
	const struct recipient *e = i == RECIPIENTS_ALL ? NULL :
	    &l->v[l->v[i].first];
	size_t n = e != NULL ? e->nlink : l->nd, ok = 0, k, j;
	size_t temp = NONE, perm = NONE;

	*speaker = NONE;
	for (k = 0; k < n; k++) {
		j = e != NULL ? l->links[e->link + k] : k;
		if (*speaker == NONE)
			*speaker = j;
		if (l->d[j].cls == OUT_DELIVERED)
			ok++;
		else if (l->d[j].cls == OUT_TEMP && temp == NONE)
			temp = j;
		else if (l->d[j].cls == OUT_PERM && perm == NONE)
			perm = j;
	}
	if (temp != NONE || perm != NONE)
		*speaker = temp != NONE ? temp : perm;
	return ok;
}

/* recipients_target - delivery j's address */
void
recipients_target(const struct recipients *l, size_t j, struct address *a)
{
	unpack(delivery_key(l, j), l->d[j].utf8, a);
}

/* recipients_target_rcpt - the RCPT that first asked for delivery j:
 * its address is the delivery's ORIGINAL_RECIPIENT */
size_t
recipients_target_rcpt(const struct recipients *l, size_t j)
{
	return l->d[j].rcpt;
}

/* recipients_set_outcome - delivery j's outcome; the text is kept only
 * for a failure, the only reply that says it.  -1 when out of memory:
 * the outcome is kept without its text. */
int
recipients_set_outcome(struct recipients *l, size_t j,
    const struct outcome *o)
{
	struct delivery *d = &l->d[j];

	d->cls = (unsigned char)o->cls;
	snprintf(d->dsn, sizeof(d->dsn), "%s", o->dsn);
	free(d->text);
	d->text = NULL;
	if (o->cls == OUT_DELIVERED || o->text[0] == '\0')
		return 0;
	d->text = strdup(o->text);
	return d->text == NULL ? -1 : 0;
}

/* recipients_outcome - delivery j's outcome */
void
recipients_outcome(const struct recipients *l, size_t j,
    struct outcome *o)
{
	const struct delivery *d = &l->d[j];

	outcome_init(o);
	if (d->dsn[0] == '\0')
		return;		/* never given one: not delivered */
	o->cls = (enum outcome_class)d->cls;
	snprintf(o->dsn, sizeof(o->dsn), "%s", d->dsn);
	snprintf(o->text, sizeof(o->text), "%s", d->text ? d->text : "");
}

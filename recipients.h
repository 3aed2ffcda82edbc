/*
 * recipients.h - the accepted recipients of one transaction.
 *
 * Each RCPT that got a 250 is one entry, in RCPT order.  An entry whose
 * address (%r) equals an earlier one's ignoring ASCII case is a
 * duplicate: it keeps no address of its own, is never delivered, and
 * takes its first's outcome, so 50 copies of one RCPT mean one delivery.
 * Entries are compact (the address as one short string, the outcome's
 * text only for a failure), so memory grows by about a hundred octets a
 * recipient, not by a struct address.
 */
#ifndef PIPESMTPD_RECIPIENTS_H
#define PIPESMTPD_RECIPIENTS_H

#include <stddef.h>

#include "address.h"
#include "deliver.h"

struct recipient;

struct recipients {
	struct recipient *v;		/* entries, RCPT order */
	size_t n, cap;
	size_t unique;			/* entries that are not duplicates */
	size_t *slots;			/* hash of unique entries: index + 1 */
	size_t nslots;			/* a power of two, or 0 */
};

void recipients_init(struct recipients *l);
void recipients_free(struct recipients *l);
int recipients_add(struct recipients *l, const struct address *a);
int recipients_has(const struct recipients *l, const struct address *a);
size_t recipients_first(const struct recipients *l, size_t i);
void recipients_address(const struct recipients *l, size_t i,
    struct address *a);
int recipients_set_outcome(struct recipients *l, size_t i,
    const struct deliver_outcome *o);
void recipients_outcome(const struct recipients *l, size_t i,
    struct deliver_outcome *o);

#endif

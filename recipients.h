/*
 * recipients.h - the accepted recipients of one transaction, and the
 * deliveries they make.
 *
 * Each RCPT that got a 250 is one RCPT entry, in RCPT order; each
 * delivers to one or more targets (itself, or what --aliases expands it
 * to).  Deliveries are kept apart from RCPTs: one per address, in the
 * order first asked for, so two RCPTs that expand to one target deliver
 * it once.  An RCPT whose address (%r) equals an earlier one's ignoring
 * ASCII case is a duplicate: it keeps no address of its own and shares
 * its first's deliveries, so 50 copies of one RCPT mean one delivery.
 * An RCPT's outcome is its deliveries' together (recipients_verdict()).
 *
 * Entries are compact: an address is one short string, and a delivery
 * to the address its RCPT gave (no alias) keeps none of its own; the
 * outcome's text is kept only for a failure.  Memory grows by about 140
 * octets a plain recipient, not by a struct address.
 */
#ifndef PIPESMTPD_RECIPIENTS_H
#define PIPESMTPD_RECIPIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "outcome.h"
#include "received.h"

#define RECIPIENTS_ALL	((size_t)-1)	/* recipients_verdict(): every
					   delivery, not one RCPT's */

struct recipient;
struct delivery;

/* A hash of addresses: slots hold an index + 1. */
struct recipients_hash {
	uint32_t *slots;
	size_t nslots;			/* a power of two, or 0 */
	size_t used;
};

struct recipients {
	struct recipient *v;		/* RCPT entries, RCPT order */
	size_t n, cap;
	size_t unique;			/* RCPTs that are not duplicates */
	struct delivery *d;		/* deliveries, first asked first */
	size_t nd, dcap;
	uint32_t *links;		/* each RCPT's deliveries, in turn */
	size_t nlinks, lcap;
	struct recipients_hash rh;	/* unique RCPTs by address */
	struct recipients_hash dh;	/* deliveries by address */
};

void recipients_init(struct recipients *l);
void recipients_free(struct recipients *l);
int recipients_has(const struct recipients *l, const struct address *a);
int recipients_add(struct recipients *l, const struct address *a);
int recipients_add_target(struct recipients *l, const struct address *a);
void recipients_drop_last(struct recipients *l);
size_t recipients_first(const struct recipients *l, size_t i);
void recipients_facts(const struct recipients *l, struct received_msg *m,
    struct address *first);
void recipients_address(const struct recipients *l, size_t i,
    struct address *a);
size_t recipients_targets_end(const struct recipients *l, size_t i);
size_t recipients_verdict(const struct recipients *l, size_t i,
    size_t *speaker);
void recipients_target(const struct recipients *l, size_t j,
    struct address *a);
size_t recipients_target_rcpt(const struct recipients *l, size_t j);
int recipients_set_outcome(struct recipients *l, size_t j,
    const struct outcome *o);
void recipients_outcome(const struct recipients *l, size_t j,
    struct outcome *o);

#endif

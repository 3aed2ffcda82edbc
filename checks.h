/*
 * checks.h - the --rcpt-check and --data-check commands.
 *
 * checks_rcpt() runs --rcpt-check for one RCPT and gives its verdict
 * (checks_rcpt_verdict(): accepted, refused, deferred; fails closed).
 * checks_data() runs --data-check once on the whole message: its exit
 * status through the exit table, its standard output the header fields
 * to add to every copy (struct deliver_check).  The session reaches
 * them only through struct session_deliverer's screen and check
 * (smtpd.c).  (Named checks, not check: tests/unit.h includes the check
 * library's <check.h>, which a check.h here would shadow.)
 */
#ifndef PIPESMTPD_CHECKS_H
#define PIPESMTPD_CHECKS_H

#include <stddef.h>

#include "address.h"
#include "config.h"
#include "deliver.h"
#include "outcome.h"
#include "received.h"

struct run_end;		/* run.h: how a run of a command ended */

void checks_rcpt(const struct config *cfg, const struct received_msg *m,
    const struct address *rcpt, struct outcome *out);
void checks_rcpt_verdict(const struct run_end *e, const char *output,
    size_t len, struct outcome *out);
void checks_data(const struct config *cfg, const struct deliver_msg *msg,
    struct deliver_check *c, struct outcome *out);

#endif

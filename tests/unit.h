/*
 * unit.h - the check suites of the unit tests, one per module.
 *
 * Each tests/unit_*.c file builds one suite from the public interface of
 * its module (address.h, command.h, data.h, deliver.h, received.h,
 * run.h, spool.h, session.h, fdio.h, deadline.h, log.h, recipients.h,
 * tls.h, proxy.h, aliases.h, outcome.h, envelope.h, reject.h,
 * accept.h; authres.h with spool.h; chat.h, intake.h and finish.h
 * through session.h; jobs.h, checks.h and account.h with deliver.h)
 * and the documented
 * behaviour; tests/unit_main.c runs them all.  No
 * test opens a network port or runs a delivery command (except /bin/sh
 * one-liners: in the run suite, and under an ignored SIGCHLD and for the
 * end-of-delivery deadline in the deliver suite): sessions run over
 * scripted I/O with a stub deliverer (the deadline's with the real one),
 * the descriptor I/O over socketpairs and pipes, and the TLS engine is a
 * forked stand-in.
 */
#ifndef PIPESMTPD_UNIT_H
#define PIPESMTPD_UNIT_H

#include <check.h>

Suite *address_suite(void);
Suite *command_suite(void);
Suite *data_suite(void);
Suite *deliver_suite(void);
Suite *received_suite(void);
Suite *run_suite(void);
Suite *spool_suite(void);
Suite *session_suite(void);
Suite *log_suite(void);
Suite *fdio_suite(void);
Suite *deadline_suite(void);
Suite *recipients_suite(void);
Suite *tls_suite(void);
Suite *proxy_suite(void);
Suite *aliases_suite(void);
Suite *outcome_suite(void);
Suite *envelope_suite(void);
Suite *reject_suite(void);
Suite *accept_suite(void);

#endif

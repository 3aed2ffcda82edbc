/*
 * unit_main.c - run every unit suite; exit status 1 if any test failed.
 *
 * CK_FORK (check's own variable) chooses fork mode; the default runs each
 * test in its own process, so one crash fails one test.
 */
#include <stdlib.h>

#include "log.h"
#include "unit.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	log_open(1);		/* sessions log to stderr, never to syslog */
	sr = srunner_create(address_suite());
	srunner_add_suite(sr, command_suite());
	srunner_add_suite(sr, data_suite());
	srunner_add_suite(sr, deliver_suite());
	srunner_add_suite(sr, received_suite());
	srunner_add_suite(sr, run_suite());
	srunner_add_suite(sr, spool_suite());
	srunner_add_suite(sr, session_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, fdio_suite());
	srunner_add_suite(sr, deadline_suite());
	srunner_add_suite(sr, recipients_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, proxy_suite());
	srunner_add_suite(sr, aliases_suite());
	srunner_add_suite(sr, outcome_suite());
	srunner_add_suite(sr, envelope_suite());
	srunner_add_suite(sr, reject_suite());
	srunner_add_suite(sr, accept_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

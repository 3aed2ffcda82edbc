/*
 * e2e_tls.c - STARTTLS (pipesmtpd(8) STARTTLS; doc/design.md on the
 * TLS engine) with the built binary under tests/nulltls, a UCSPI-TLS
 * launcher whose engine relays cleartext: the protocol and the process
 * handling are real, only the cryptography is missing (tests/
 * interop_tls.sh has the real engine).  What a command sees under TLS
 * and without it, the new session after the handshake, cleartext
 * pipelined after STARTTLS never answered, a failed handshake, the
 * engine waited for, --require-tls (530 to all but NOOP, EHLO, STARTTLS
 * and QUIT before TLS), a launcher that hands out the client connection
 * instead of its pipes, the client certificate's subject.
 */
#include <string.h>

#include "harness.h"

#define NULL_CIPHER	"NULLv1/NULL-RELAY-TEST"

/* starttls - greeting, EHLO offering STARTTLS, and the 220 */
static void
starttls(struct h_proc *p)
{
	char *r;

	h_expect(p, "220 ");
	r = h_say(p, "EHLO c.example\r\n", "250 ");
	ck_assert_msg(strstr(r, "250 STARTTLS\r\n") != NULL, "'%s'", r);
	h_say(p, "STARTTLS\r\n", "220 2.0.0 Ready to start TLS");
}

START_TEST(test_tls_delivery)
{
	/* the message, its Received line, the command's environment and
	 * descriptors, the log; and the engine waited for at the end */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	char *d, *kw;

	h_nulltls(&o, "-l", "300");
	h_start(&p, &o);
	starttls(&p);
	kw = h_say(&p, "EHLO inside.example\r\n", "250 ");
	ck_assert_msg(strstr(kw, "250-PIPELINING\r\n") != NULL &&
	    strstr(kw, "STARTTLS") == NULL, "'%s'", kw);
	h_sends(&p, "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|220 2.0.0|250|250 2.1.0|"
	    "250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "TLS_PROTOCOL"), "NULLv1");
	ck_assert_str_eq(h_env(h_dir, 1, "TLS_CIPHER"), "NULL-RELAY-TEST");
	ck_assert_ptr_null(h_env(h_dir, 1, "TLS_PEER_SUBJECT"));
	ck_assert_str_eq(h_file(h_dir, 1, "fds", NULL), "0\n1\n2\n");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strstr(d, "Received: from inside.example (unknown)\n"
	    "\t(using NULLv1 with cipher NULL-RELAY-TEST)\n\tby " H_HOST
	    " (pipesmtpd) with ESMTPS id ") != NULL, "'%s'", d);
	ck_assert_str_eq(h_body(d), H_MSG_LF);
	ck_assert_msg(strstr(r.log, "TLS connection established from "
	    "unknown[unknown]: NULLv1 with cipher NULL-RELAY-TEST") != NULL &&
	    strstr(r.log, ", tls=" NULL_CIPHER ", size=") != NULL, "%s",
	    r.log);
	ck_assert_msg(r.ms >= 300, "exit after %ld ms: the engine, which "
	    "lingers 300 ms, was not waited for", r.ms);
}
END_TEST

START_TEST(test_tls_not_asked)
{
	/* a client that never asks: the session is as without a launcher,
	 * and the engine's descriptors reach no command */
	struct h_opts o = { 0 };
	struct h_result r;
	char *d;

	h_nulltls(&o, "-l", "300");
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_ptr_null(h_env(h_dir, 1, "TLS_PROTOCOL"));
	ck_assert_ptr_null(h_env(h_dir, 1, "TLS_CIPHER"));
	ck_assert_ptr_null(h_env(h_dir, 1, "SSLCTLFD"));
	ck_assert_str_eq(h_file(h_dir, 1, "fds", NULL), "0\n1\n2\n");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strstr(d, " with ESMTP id ") != NULL &&
	    strstr(d, "(using") == NULL, "'%s'", d);
	ck_assert_ptr_null(strstr(r.log, "tls="));
	ck_assert_msg(r.ms >= 300, "exit after %ld ms: the engine, which "
	    "lingers 300 ms, was not waited for", r.ms);
}
END_TEST

START_TEST(test_tls_pipelined_dropped)
{
	/* RFC 3207 5: RSET and MAIL pipelined after STARTTLS in cleartext
	 * are never answered; the first reply inside TLS is EHLO's */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_nulltls(&o, NULL, NULL);
	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n",
	    "220 2.0.0");
	h_sends(&p, "EHLO c.example\r\nQUIT\r\n");
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|220 2.0.0|250|221 2.0.0");
	ck_assert_msg(strstr(r.log, "pipelined after STARTTLS") != NULL,
	    "%s", r.log);
}
END_TEST

START_TEST(test_tls_handshake_fails)
{
	/* the engine gives up (98, a TLS error): logged with its status,
	 * the session ends at once, nothing is delivered */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_nulltls(&o, "-f", "98");
	h_start(&p, &o);
	starttls(&p);
	h_sends(&p, "EHLO c.example\r\n" "MAIL FROM:<s@x.example>\r\n");
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|220 2.0.0");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_msg(strstr(r.log, "STARTTLS from unknown[unknown] failed: "
	    "TLS engine exit status 98") != NULL, "%s", r.log);
	ck_assert_msg(r.ms < h_scaled(5000), "exit after %ld ms", r.ms);
}
END_TEST

START_TEST(test_tls_required)
{
	/* --require-tls: MAIL only inside TLS; with no engine at all, a
	 * 421 (the sender keeps the mail) and an error in the log */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	o.args[0] = "--require-tls";
	h_nulltls(&o, NULL, NULL);
	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "530 5.7.0 Must issue a "
	    "STARTTLS command first");
	h_say(&p, "STARTTLS\r\n", "220 2.0.0");
	h_sends(&p, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);

	o.wrap[0] = NULL;
	o.keep_open = 0;
	h_fresh();
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), "421 4.7.0");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_msg(strstr(r.log, "--require-tls") != NULL, "%s", r.log);
}
END_TEST

START_TEST(test_tls_behind_proxy)
{
	/* --proxy-protocol in front of STARTTLS: the balancer's header
	 * names the client inside TLS too; a refused header ends the
	 * session at once, and the engine is still waited for */
	struct h_opts o = { .keep_open = 1, .args = { "--proxy-protocol" } };
	struct h_proc p;
	struct h_result r;
	char *d;

	h_nulltls(&o, "-l", "400");
	h_start(&p, &o);
	h_sends(&p, "PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\n");
	starttls(&p);
	h_sends(&p, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), "192.0.2.7");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strstr(d, "(unknown [192.0.2.7])\n\t(using NULLv1 "
	    "with cipher NULL-RELAY-TEST)\n") != NULL, "'%s'", d);

	h_fresh();
	o.keep_open = 0;
	h_run(&r, &o, "EHLO c.example\r\n");
	ck_assert_str_eq(r.out, "");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_msg(r.ms >= 400, "exit after %ld ms: the engine was not "
	    "waited for", r.ms);
}
END_TEST

START_TEST(test_tls_client_silent)
{
	/* a client silent after the 220: --timeout ends the wait for the
	 * handshake, the connection is closed for the engine too, and it
	 * is waited for: nothing is left holding the client */
	struct h_opts o = { .keep_open = 1, .args = { "--timeout", "1" } };
	struct h_proc p;
	struct h_result r;

	h_nulltls(&o, "-w", NULL);
	o.wrap[2] = "--";
	o.wrap[3] = NULL;
	h_start(&p, &o);
	starttls(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|220 2.0.0");
	ck_assert_msg(r.ms < h_scaled(8000), "closed after %ld ms", r.ms);
	ck_assert_msg(strstr(r.log, "STARTTLS from unknown[unknown] failed: "
	    "TLS engine exit status 98") != NULL, "%s", r.log);
}
END_TEST

START_TEST(test_tls_required_gate)
{
	/* --require-tls before TLS (RFC 3207 4): 530 5.7.0 to every command
	 * but NOOP, EHLO, STARTTLS and QUIT; a BDAT's chunk is read and
	 * dropped, so the stream stays in step.  Inside TLS a HELO session
	 * delivers, and Received says ESMTPS: TLS is in use */
	static const char *const want[] = { "220 ", "250 2.0.0", "250",
	    "530 5.7.0 Must issue a STARTTLS command first", "530 5.7.0",
	    "530 5.7.0", "530 5.7.0", "530 5.7.0", "530 5.7.0", "530 5.7.0",
	    "530 5.7.0", "530 5.7.0", "530 5.7.0", "530 5.7.0", "250 2.0.0",
	    "220 2.0.0" };
	struct h_opts o = { .keep_open = 1, .args = { "--require-tls" } };
	struct h_proc p;
	struct h_result r;
	size_t i;
	char *d;

	h_nulltls(&o, NULL, NULL);
	h_start(&p, &o);
	h_sends(&p, "NOOP\r\nEHLO c.example\r\nRSET\r\nVRFY u\r\nHELP\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nBDAT 5 LAST\r\nhelloRCPT\r\n"
	    "HELO c.example\r\nXYZZY\r\nEXPN x\r\nMAIL FROM:<s@x.example>\r\n"
	    "NOOP\r\nSTARTTLS\r\n");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		h_expect(&p, want[i]);
	h_sends(&p, "HELO inside.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250 2.0.0|250|530 5.7.0|530 5.7.0|"
	    "530 5.7.0|530 5.7.0|530 5.7.0|530 5.7.0|530 5.7.0|530 5.7.0|"
	    "530 5.7.0|530 5.7.0|530 5.7.0|250 2.0.0|220 2.0.0|250|250 2.1.0|"
	    "250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strstr(d, "\tby " H_HOST " (pipesmtpd) with ESMTPS id ")
	    != NULL, "'%s'", d);
	ck_assert_str_eq(h_body(d), H_MSG_LF);

	/* QUIT before TLS is answered */
	h_fresh();
	o.keep_open = 0;
	h_run(&r, &o, "EHLO c.example\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|221 2.0.0");
}
END_TEST

START_TEST(test_tls_launcher_gives_connection)
{
	/* a launcher that hands out the client connection itself as the
	 * three descriptors: the client could answer the 'Y' and claim TLS
	 * in cleartext.  No STARTTLS is offered and the log says why; under
	 * --require-tls the session is refused (the sender keeps the mail) */
	struct h_opts o = { 0 };
	struct h_result r;

	h_nulltls(&o, "-s", NULL);
	o.wrap[2] = "--";
	o.wrap[3] = NULL;
	h_run(&r, &o, "EHLO c.example\r\nSTARTTLS\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|502 5.5.1|221 2.0.0");
	ck_assert_ptr_null(strstr(r.out, "STARTTLS"));
	ck_assert_msg(strstr(r.log, "UCSPI-TLS SSLCTLFD=") != NULL &&
	    strstr(r.log, " is the client connection") != NULL &&
	    strstr(r.log, ": STARTTLS not offered") != NULL, "%s", r.log);

	h_fresh();
	o.args[0] = "--require-tls";
	o.keep_open = 1;
	h_run(&r, &o, "EHLO c.example\r\nSTARTTLS\r\n");
	ck_assert_str_eq(h_codes(r.out), "421 4.7.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_tls_peer_subject)
{
	/* the engine verified a client certificate: its subject goes to the
	 * command as TLS_PEER_SUBJECT (printable ASCII only) and onto the
	 * TLS log line, escaped */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_nulltls(&o, "-p", "/O=Example, Inc./CN=client\texample");
	h_start(&p, &o);
	starttls(&p);
	h_sends(&p, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "TLS_PEER_SUBJECT"),
	    "/O=Example, Inc./CN=client?example");
	ck_assert_msg(strstr(r.log, "TLS connection established from "
	    "unknown[unknown]: NULLv1 with cipher NULL-RELAY-TEST, "
	    "subject=</O=Example\\x2c Inc./CN=client?example>\n") != NULL,
	    "%s", r.log);
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = h_tcase("starttls");

	tcase_add_test(tc, test_tls_delivery);
	tcase_add_test(tc, test_tls_not_asked);
	tcase_add_test(tc, test_tls_pipelined_dropped);
	tcase_add_test(tc, test_tls_handshake_fails);
	tcase_add_test(tc, test_tls_client_silent);
	tcase_add_test(tc, test_tls_required);
	tcase_add_test(tc, test_tls_behind_proxy);
	tcase_add_test(tc, test_tls_required_gate);
	tcase_add_test(tc, test_tls_launcher_gives_connection);
	tcase_add_test(tc, test_tls_peer_subject);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * unit_reject.c - reject_line(): the exact line each refusal logs, in
 * Postfix's shape (pipesmtpd(8), LOGGING), and reject_proto();
 * reject_say() (the line once, the reply as often as asked) and the
 * stock replies.
 *
 * The unit tests log to stderr; tests/support.c's support_log catches
 * the line, which is compared whole after the "pipesmtpd[PID]: " prefix.
 * The cases are a table: where the session stands, what was refused,
 * and the line wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "reject.h"
#include "support.h"
#include "unit.h"

/* parsed - a path as RCPT or MAIL gives it, in the internal form */
static struct address
parsed(const char *path)
{
	struct address a;
	size_t used;

	ck_assert_int_eq(address_parse(path, strlen(path), ADDR_ALLOW_NULL |
	    ADDR_ALLOW_UTF8, &a, &used), ADDR_OK);
	return a;
}

/* One refusal and the line it must log. */
struct reject_case {
	const char *helo, *proto, *queue_id;
	const char *sender;		/* a path, or NULL: no transaction */
	enum reject_stage at;
	const char *rcpt;		/* a path, or NULL */
	int named, code;
	const char *dsn, *text, *want;
};

static const struct reject_case cases[] = {
	/* a refused MAIL: NOQUEUE though the transaction has its id */
	{ "c.example", "ESMTP", "1A2B3C", "<s@x.example>", REJECT_MAIL, NULL,
	  0, 552, "5.3.4", "Message size exceeds fixed limit",
	  "NOQUEUE: reject: MAIL from h.example[192.0.2.1]: 552 5.3.4 "
	  "Message size exceeds fixed limit; from=<s@x.example> proto=ESMTP "
	  "helo=<c.example>" },
	/* a refused RCPT, named in the text and in to= */
	{ "c.example", "ESMTP", "1A2B3C", "<s@x.example>", REJECT_RCPT,
	  "<r@other.example>", 1, 554, "5.7.1", "Relay access denied",
	  "1A2B3C: reject: RCPT from h.example[192.0.2.1]: 554 5.7.1 "
	  "<r@other.example>: Relay access denied; from=<s@x.example> "
	  "to=<r@other.example> proto=ESMTP helo=<c.example>" },
	/* outside a transaction, before any HELO: no from=, no helo= */
	{ "", "SMTP", NULL, NULL, REJECT_RCPT, "<r@mx.test>", 0, 452,
	  "4.3.1", "Insufficient system storage",
	  "NOQUEUE: reject: RCPT from h.example[192.0.2.1]: 452 4.3.1 "
	  "Insufficient system storage; to=<r@mx.test> proto=SMTP" },
	/* the whole message, no recipient named; the null sender */
	{ "c.example", "LMTP", "1A2B3C", "<>", REJECT_EOM, NULL, 0, 554,
	  "5.4.6", "Too many hops: mail loop?",
	  "1A2B3C: reject: END-OF-MESSAGE from h.example[192.0.2.1]: 554 "
	  "5.4.6 Too many hops: mail loop?; from=<> proto=LMTP "
	  "helo=<c.example>" },
	/* client bytes escaped: the HELO name, a quoted local part, and a
	 * command's text */
	{ "c<x>\x01", "ESMTP", "1A2B3C", "<\"a,b\"@x.example>", REJECT_BDAT,
	  NULL, 0, 451, "4.3.0", "said (no)\r\n",
	  "1A2B3C: reject: BDAT from h.example[192.0.2.1]: 451 4.3.0 "
	  "said \\x28no\\x29\\x0d\\x0a; from=<\"a\\x2cb\"@x.example> "
	  "proto=ESMTP helo=<c\\x3cx\\x3e\\x01>" },
	{ "c.example", "ESMTP", "1A2B3C", "<s@x.example>", REJECT_DATA, NULL,
	  0, 452, "4.3.1", "Insufficient system storage",
	  "1A2B3C: reject: DATA from h.example[192.0.2.1]: 452 4.3.1 "
	  "Insufficient system storage; from=<s@x.example> proto=ESMTP "
	  "helo=<c.example>" },
};

START_TEST(test_reject_lines)
{
	const struct reject_case *c = &cases[_i];
	struct address sender, rcpt;
	struct reject_where w = { "h.example", "192.0.2.1", c->helo, c->proto,
	    c->queue_id, NULL };
	struct reject_refusal r = { c->at, NULL, c->named, c->code, c->dsn,
	    c->text };
	struct support_log log;
	char want[2048];

	if (c->sender != NULL) {
		sender = parsed(c->sender);
		w.sender = &sender;
	}
	if (c->rcpt != NULL) {
		rcpt = parsed(c->rcpt);
		r.rcpt = &rcpt;
	}
	ck_assert_int_eq(support_log_start(&log), 0);
	reject_line(&w, &r);
	snprintf(want, sizeof(want), "pipesmtpd[%ld]: %s\n", (long)getpid(),
	    c->want);
	ck_assert_str_eq(support_log_end(&log), want);
}
END_TEST

START_TEST(test_reject_proto)
{
	ck_assert_str_eq(reject_proto(0, 0), "SMTP");
	ck_assert_str_eq(reject_proto(0, 1), "ESMTP");
	ck_assert_str_eq(reject_proto(1, 0), "LMTP");
	ck_assert_str_eq(reject_proto(1, 1), "LMTP");
}
END_TEST

START_TEST(test_reject_say)
{
	/* logged once, said three times (LMTP, a message's refusal per
	 * RCPT); not logged when where is NULL; named: "<rcpt>: text" */
	struct reject_where w = { "h.example", "192.0.2.1", "", "LMTP",
	    "1A2B3C", NULL };
	const struct reject_stock_reply *st = reject_stock(
	    reject_intake(INTAKE_ERR_SIZE));
	struct reject_refusal r = { REJECT_EOM, NULL, 0, st->code, st->dsn,
	    st->text };
	struct address rcpt = parsed("<r@mx.test>");
	struct support_conn conn;
	struct support_log log;
	struct chat_io io;
	struct chat *c = malloc(sizeof(*c));
	struct config cfg;
	char want[512];

	ck_assert_ptr_nonnull(c);
	config_defaults(&cfg);
	support_conn_start(&conn, "", 0, 0);
	support_conn_io(&conn, &io);
	chat_init(c, &io, &cfg);
	ck_assert_int_eq(support_log_start(&log), 0);
	reject_say(c, &w, &r, 3);
	r = (struct reject_refusal){ REJECT_RCPT, &rcpt, 1, 550, "5.1.1",
	    "no" };
	reject_say(c, NULL, &r, 1);
	snprintf(want, sizeof(want), "pipesmtpd[%ld]: 1A2B3C: reject: "
	    "END-OF-MESSAGE from h.example[192.0.2.1]: 552 5.3.4 Message "
	    "size exceeds fixed limit; proto=LMTP\n", (long)getpid());
	ck_assert_str_eq(support_log_end(&log), want);
	ck_assert_int_eq(chat_flush(c), 0);
	ck_assert_str_eq(conn.out.buf, "552 5.3.4 Message size exceeds fixed "
	    "limit\r\n552 5.3.4 Message size exceeds fixed limit\r\n552 "
	    "5.3.4 Message size exceeds fixed limit\r\n550 5.1.1 "
	    "<r@mx.test>: no\r\n");
	support_conn_free(&conn);
	free(c);
}
END_TEST

START_TEST(test_reject_intake)
{
	/* every message error's stock reply; a full disk is 452, any other
	 * spool failure 451 */
	ck_assert_int_eq(reject_stock(reject_intake(INTAKE_ERR_NOSPACE))->code,
	    452);
	ck_assert_int_eq(reject_stock(reject_intake(INTAKE_ERR_SPOOL))->code,
	    451);
	ck_assert_int_eq(reject_stock(reject_intake(INTAKE_ERR_HOPS))->code,
	    554);
	ck_assert_str_eq(reject_stock(reject_intake(INTAKE_ERR_NEWLINE))->dsn,
	    "5.6.0");
	ck_assert_str_eq(reject_stock(STOCK_TIMEOUT)->text,
	    "Error: timeout exceeded");
	ck_assert_int_eq(reject_stock(STOCK_TIMEOUT)->host, 1);
}
END_TEST

Suite *
reject_suite(void)
{
	Suite *s = suite_create("reject");
	TCase *tc = tcase_create("line");

	tcase_add_loop_test(tc, test_reject_lines, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_reject_proto);
	tcase_add_test(tc, test_reject_say);
	tcase_add_test(tc, test_reject_intake);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e_message.c - the message as delivered (pipesmtpd(8) "THE MESSAGE
 * AS DELIVERED"): Return-Path, Delivered-To and Received prepended in that
 * order and form, --no-return-path, --delivered-to and its loop check,
 * --crlf on every line end, LF by default, SIZE = the bytes on stdin.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define UCSPI_ENV { "PROTO=TCP", "TCPREMOTEIP=192.0.2.7", \
	"TCPREMOTEHOST=h.example" }

/* check_date - "; " then an RFC 5322 date and the line end, at the end
 * of a Received header */
static void
check_date(const char *received, const char *nl)
{
	regex_t re;
	char *pat = h_strf("; (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
	    "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
	    "[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}%s$", nl);

	ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, received, 0, NULL, 0) == 0,
	    "Received date: '%s'", received);
	regfree(&re);
}

/* the Received header up to its date, as pipesmtpd(8) shows it */
static char *
received_head(const char *helo, const char *client, const char *with,
    const char *qid, const char *rcpt, const char *nl)
{
	char *forpart = rcpt ? h_strf("%s\tfor <%s>", nl, rcpt) :
	    h_strf("%s", "");

	return h_strf("Received: from %s (%s)%s\tby " H_HOST " (pipesmtpd) "
	    "with %s id %s%s; ", helo, client, nl, with, qid, forpart);
}

START_TEST(test_prepended_exact)
{
	struct h_opts o = { .env = UCSPI_ENV };
	struct h_result r;
	char *d, *qid, *want, *rec;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	d = h_stdin(h_dir, 1, NULL);
	qid = h_env(h_dir, 1, "QUEUE_ID");
	ck_assert_ptr_nonnull(qid);
	ck_assert_int_gt(strlen(qid), 0);
	want = h_strf("Return-Path: <s@x.example>\n%s",
	    received_head(H_HELO, "h.example [192.0.2.7]", "ESMTP", qid,
	    "u@mx.example", "\n"));
	ck_assert_msg(strncmp(d, want, strlen(want)) == 0,
	    "delivered:\n%s\nwant it to start:\n%s", d, want);
	rec = h_header(d, "Received");
	check_date(rec, "\n");
	ck_assert_str_eq(h_body(d), H_MSG_LF);
	/* nothing else was added */
	ck_assert_int_eq(strlen(d), strlen("Return-Path: <s@x.example>\n") +
	    strlen(rec) + strlen(H_MSG_LF));
	/* the reply names the same queue id */
	ck_assert_msg(strstr(r.out, qid) != NULL, "queue id %s not in the "
	    "reply", qid);
}
END_TEST

START_TEST(test_received_several_recipients)
{
	/* "for" only when the transaction has one recipient */
	struct h_opts o = { .env = UCSPI_ENV };
	struct h_result r;
	int i;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(2, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 2);
	for (i = 1; i <= 2; i++) {
		char *d = h_stdin(h_dir, i, NULL);
		char *rec = h_header(d, "Received");
		char *want = received_head(H_HELO, "h.example [192.0.2.7]",
		    "ESMTP", h_env(h_dir, i, "QUEUE_ID"), NULL, "\n");

		ck_assert_ptr_nonnull(rec);
		ck_assert_msg(strncmp(rec, want, strlen(want)) == 0,
		    "Received '%s', want '%s'", rec, want);
		ck_assert_msg(strstr(rec, "for <") == NULL, "'for' with two "
		    "recipients: %s", rec);
		check_date(rec, "\n");
		ck_assert_str_eq(h_body(d), H_MSG_LF);
	}
	ck_assert_str_eq(h_env(h_dir, 1, "QUEUE_ID"),
	    h_env(h_dir, 2, "QUEUE_ID"));
}
END_TEST

/* "with": the protocol name of RFC 3848 / RFC 6531 */
static const struct {
	const char *greet;
	const char *mail;
	const char *rcpt;
	const char *with;
} with_cases[] = {
	{ "EHLO", "<s@x.example>", "<u@mx.example>", "ESMTP" },
	{ "HELO", "<s@x.example>", "<u@mx.example>", "SMTP" },
	{ "EHLO", "<s@x.example> SMTPUTF8", "<u@mx.example>", "UTF8SMTP" },
	{ "EHLO", "<s\xc3\xbc@x.example> SMTPUTF8", "<\xc3\xbc@mx.example>",
	  "UTF8SMTP" },
};

START_TEST(test_received_with)
{
	struct h_opts o = { .env = UCSPI_ENV };
	char *in = h_strf("%s helo.example\r\nMAIL FROM:%s\r\nRCPT TO:%s\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n", with_cases[_i].greet,
	    with_cases[_i].mail, with_cases[_i].rcpt);
	struct h_result r;
	char *rec, *want;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	want = received_head("helo.example", "h.example [192.0.2.7]",
	    with_cases[_i].with, h_env(h_dir, 1, "QUEUE_ID"),
	    h_env(h_dir, 1, "RECIPIENT"), "\n");
	ck_assert_msg(strncmp(rec, want, strlen(want)) == 0,
	    "Received '%s', want '%s'", rec, want);
}
END_TEST

START_TEST(test_received_unknown_client)
{
	/* no launcher identity over a socketpair: unknown */
	struct h_result r;
	char *rec;

	h_run(&r, NULL, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(strncmp(rec, "Received: from " H_HELO " (unknown",
	    strlen("Received: from " H_HELO " (unknown")) == 0,
	    "Received '%s'", rec);
}
END_TEST

START_TEST(test_no_return_path)
{
	struct h_opts o = { .args = { "--no-return-path" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Received: from ", 15) == 0, "starts '%.40s'",
	    d);
	ck_assert_ptr_null(h_header(d, "Return-Path"));
	ck_assert_str_eq(h_body(d), H_MSG_LF);
}
END_TEST

START_TEST(test_delivered_to)
{
	struct h_opts o = { .args = { "--delivered-to" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<User+x@MX.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Return-Path: <s@x.example>\n"
	    "Delivered-To: User+x@mx.example\nReceived: from ",
	    strlen("Return-Path: <s@x.example>\n"
	    "Delivered-To: User+x@mx.example\nReceived: from ")) == 0,
	    "delivered '%s'", d);
	ck_assert_str_eq(h_body(d), H_MSG_LF);
}
END_TEST

START_TEST(test_delivered_to_no_return_path_crlf)
{
	struct h_opts o = { .args = { "--delivered-to", "--no-return-path",
	    "--crlf" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Delivered-To: u@mx.example\r\nReceived: ",
	    strlen("Delivered-To: u@mx.example\r\nReceived: ")) == 0,
	    "delivered '%s'", d);
}
END_TEST

/* Delivered-To loops: the message already carries the header */
static const struct {
	const char *header;	/* in the message */
	int loop;		/* for u@mx.example */
} loop_cases[] = {
	{ "Delivered-To: u@mx.example", 1 },
	{ "Delivered-To: U@MX.EXAMPLE", 1 },
	{ "delivered-to:u@mx.example", 1 },
	{ "Delivered-To:   u@mx.example  ", 1 },
	{ "Delivered-To: other@mx.example", 0 },
	{ "Delivered-To: u@mx.example.org", 0 },
	{ "X-Delivered-To: u@mx.example", 0 },
};

START_TEST(test_delivered_to_loop)
{
	struct h_opts o = { .args = { "--delivered-to" } };
	char *msg = h_strf("Subject: x\r\n%s\r\n\r\nbody\r\n",
	    loop_cases[_i].header);
	struct h_result r;
	char *l;

	h_run(&r, &o, h_txn("<s@x.example>", msg, "<u@mx.example>", NULL));
	l = h_line(r.out, 5);
	if (loop_cases[_i].loop) {
		ck_assert_msg(strncmp(l, "554 5.4.6 ", 10) == 0, "'%s': '%s'",
		    loop_cases[_i].header, l);
		ck_assert_int_eq(h_count(h_dir), 0);
	} else {
		ck_assert_msg(strncmp(l, "250 2.0.0", 9) == 0, "'%s': '%s'",
		    loop_cases[_i].header, l);
		ck_assert_int_eq(h_count(h_dir), 1);
	}
}
END_TEST

START_TEST(test_delivered_to_loop_one_of_two)
{
	/* only the looping recipient is refused; its command never runs */
	struct h_opts o = { .args = { "--delivered-to" } };
	struct h_result r;
	char *l;

	h_run(&r, &o, h_txn("<s@x.example>", "Delivered-To: b@mx.example\r\n"
	    "Subject: x\r\n\r\nbody\r\n", "<a@mx.example>", "<b@mx.example>",
	    "<c@mx.example>", NULL));
	l = h_line(r.out, 7);
	ck_assert_msg(strncmp(l, "554 5.4.6 ", 10) == 0, "'%s'", l);
	ck_assert_msg(strstr(l, "2 of 3") != NULL, "count of delivered "
	    "recipients missing: '%s'", l);
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "c@mx.example");
}
END_TEST

START_TEST(test_delivered_to_loop_internal_form)
{
	/* the loop check compares internal forms: quotes and escapes gone */
	struct h_opts o = { .args = { "--delivered-to" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", "Delivered-To: John Doe@mx.example"
	    "\r\n\r\nbody\r\n", "<\"john\\ doe\"@MX.example>", NULL));
	ck_assert_msg(strncmp(h_line(r.out, 5), "554 5.4.6 ", 10) == 0, "'%s'",
	    r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_crlf_everywhere)
{
	struct h_opts o = { .args = { "--crlf" } };
	struct h_result r;
	size_t len, i;
	char *d, *size;

	h_run(&r, &o, h_txn("<s@x.example>", "Subject: x\r\n\r\na\nb\rc\r\n",
	    "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	d = h_stdin(h_dir, 1, &len);
	ck_assert_msg(strncmp(d, "Return-Path: <s@x.example>\r\nReceived: "
	    "from ", 39) == 0, "'%s'", d);
	for (i = 0; i < len; i++) {
		if (d[i] == '\n')
			ck_assert_msg(i > 0 && d[i - 1] == '\r', "bare LF at %zu "
			    "in '%s'", i, d);
		if (d[i] == '\r')
			ck_assert_msg(i + 1 < len && d[i + 1] == '\n',
			    "bare CR at %zu in '%s'", i, d);
	}
	ck_assert_ptr_nonnull(strstr(d, "\r\n\tby " H_HOST " (pipesmtpd)"));
	ck_assert_str_eq(h_body(d), "Subject: x\r\n\r\na\r\nb\r\nc\r\n");
	size = h_env(h_dir, 1, "SIZE");
	ck_assert_str_eq(size, h_strf("%zu", len));
}
END_TEST

START_TEST(test_lf_default)
{
	struct h_result r;
	size_t len;
	char *d;

	h_run(&r, NULL, h_txn("<s@x.example>", "Subject: x\r\n\r\na\r\nb\r\n",
	    "<u@mx.example>", NULL));
	d = h_stdin(h_dir, 1, &len);
	ck_assert_ptr_null(memchr(d, '\r', len));
	ck_assert_str_eq(h_body(d), "Subject: x\n\na\nb\n");
	ck_assert_str_eq(h_env(h_dir, 1, "SIZE"), h_strf("%zu", len));
}
END_TEST

START_TEST(test_size_env_large)
{
	/* SIZE is what the command reads, whatever the size of the message */
	char *line = h_repeat("z", 998);
	char *body = h_repeat(h_strf("%s\r\n", line), 1100);
	struct h_result r;
	size_t len;
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct h_opts o = { .args = { crlf ? "--crlf" : "--log-stderr",
		    "--delivered-to" } };

		h_fresh();
		h_run(&r, &o, h_txn("<s@x.example>", body, "<u@mx.example>",
		    NULL));
		ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
		h_stdin(h_dir, 1, &len);
		ck_assert_str_eq(h_env(h_dir, 1, "SIZE"), h_strf("%zu", len));
		ck_assert_int_eq(strlen(h_body(h_stdin(h_dir, 1, NULL))),
		    1100 * (999 + (size_t)crlf));
	}
}
END_TEST

START_TEST(test_large_bare_lf)
{
	/* 2 MiB of LF-only lines, many input buffers' worth.  Under --crlf
	 * each line end grows into CRLF, which cannot be written over its
	 * own input in place: every octet must still arrive, in order.  The
	 * last line follows a bare LF: its leading dot is stuffing */
	char *lines = h_repeat("0123456789abcdef0123456789abcdef.........\n",
	    50000);
	char *body = h_strf("Subject: lf\r\n\r\n%s.x\r\n", lines);
	struct h_result r;
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct h_opts o = { .args = { crlf ? "--crlf" : NULL } };
		char *want = crlf ? h_strf("Subject: lf\r\n\r\n%sx\r\n",
		    h_repeat("0123456789abcdef0123456789abcdef........."
		    "\r\n", 50000)) : h_strf("Subject: lf\n\n%sx\n", lines);
		size_t len;
		const char *d;

		h_fresh();
		h_run(&r, &o, h_txn("<s@x.example>", body, "<u@mx.example>",
		    NULL));
		ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
		d = h_stdin(h_dir, 1, &len);
		ck_assert_uint_eq(strlen(h_body(d)), strlen(want));
		ck_assert_msg(strcmp(h_body(d), want) == 0, "--crlf %d: the "
		    "message changed on the way", crlf);
		ck_assert_str_eq(h_env(h_dir, 1, "SIZE"), h_strf("%zu", len));
	}
}
END_TEST

START_TEST(test_helo_text_sanitised)
{
	/* whatever HELO name is accepted, it cannot start a header line */
	static const char *const names[] = { "a\rb", "a\013b",
	    "[192.0.2.1]", "x(y)z", "\xc3\xa9t\xc3\xa9" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *in = h_strf("EHLO %s\r\nEHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>\r\nDATA\r\n"
		    H_MSG ".\r\nEHLO %s\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n",
		    names[i], names[i]);
		struct h_result r;
		int n;

		h_fresh();
		h_run(&r, NULL, in);
		for (n = 1; n <= h_count(h_dir); n++) {
			char *d = h_stdin(h_dir, n, NULL);
			char *rec = h_header(d, "Received");
			size_t k;

			ck_assert_ptr_nonnull(rec);
			for (k = 0; rec[k] != '\0'; k++)
				ck_assert_msg(rec[k] != '\r' && (rec[k] != '\n' ||
				    rec[k + 1] == '\t' || rec[k + 1] == '\0'),
				    "HELO '%s' broke the header: '%s'", names[i],
				    rec);
			ck_assert_str_eq(h_body(d), H_MSG_LF);
		}
	}
}
END_TEST

Suite *
message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = h_tcase("headers");

	tcase_add_test(tc, test_prepended_exact);
	tcase_add_test(tc, test_received_several_recipients);
	tcase_add_loop_test(tc, test_received_with, 0,
	    sizeof(with_cases) / sizeof(with_cases[0]));
	tcase_add_test(tc, test_received_unknown_client);
	tcase_add_test(tc, test_no_return_path);
	tcase_add_test(tc, test_delivered_to);
	tcase_add_test(tc, test_delivered_to_no_return_path_crlf);
	tcase_add_loop_test(tc, test_delivered_to_loop, 0,
	    sizeof(loop_cases) / sizeof(loop_cases[0]));
	tcase_add_test(tc, test_delivered_to_loop_one_of_two);
	tcase_add_test(tc, test_delivered_to_loop_internal_form);
	tcase_add_test(tc, test_helo_text_sanitised);
	suite_add_tcase(s, tc);

	tc = h_tcase("line ends");
	tcase_add_test(tc, test_crlf_everywhere);
	tcase_add_test(tc, test_lf_default);
	tcase_add_test(tc, test_size_env_large);
	tcase_add_test(tc, test_large_bare_lf);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * unit_received.c - the header block pipesmtpd adds (received.h):
 * Return-Path, Delivered-To and Received as the man page shows them, at
 * a fixed time; the options that change them; CRLF line ends; a HELO
 * that tries to end a line or start a header of its own; a block that
 * does not fit, which is refused whole, never cut.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "config.h"
#include "received.h"
#include "unit.h"

/* The header fixture: the man page's Received example, at a fixed time. */
struct hdr_fixture {
	struct config cfg;
	struct received_msg msg;
	struct address sender, rcpt;
};

static void
hdr_setup(struct hdr_fixture *f)
{
	size_t used;

	memset(f, 0, sizeof(*f));
	setenv("TZ", "UTC", 1);
	tzset();
	f->cfg.hostname = "mx.test";
	f->cfg.client_ip = "192.0.2.1";
	f->cfg.client_host = "unknown";
	f->cfg.null_sender = "";
	ck_assert_int_eq(address_parse("<s@x.org>", 9, ADDR_ALLOW_NULL,
	    &f->sender, &used), ADDR_OK);
	ck_assert_int_eq(address_parse("<r@mx.test>", 11, 0, &f->rcpt,
	    &used), ADDR_OK);
	f->msg.sender = &f->sender;
	f->msg.helo = "client.example";
	f->msg.with = "ESMTP";
	f->msg.queue_id = "QID1";
	f->msg.nrcpt = 1;
	f->msg.first = &f->rcpt;
	f->msg.arrival = 1700000000;	/* Tue, 14 Nov 2023 22:13:20 +0000 */
}

/* starts - whether s begins with prefix */
static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define DATE	"Tue, 14 Nov 2023 22:13:20 +0000"

/* headers - received_headers into a large buffer; checks the length */
static int
headers(struct hdr_fixture *f, char *out, size_t cap)
{
	int n;

	memset(out, 'Z', cap);
	n = received_headers(&f->cfg, &f->msg, &f->rcpt, out, cap);
	if (n >= 0) {
		ck_assert_msg((size_t)n < cap, "length %d with cap %zu", n,
		    cap);
		ck_assert_msg(out[n] == '\0', "not NUL-terminated");
		ck_assert_uint_eq(strlen(out), (size_t)n);
	}
	return n;
}

START_TEST(test_headers_default)
{
	struct hdr_fixture f;
	char out[2048];

	hdr_setup(&f);
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
	    "Return-Path: <s@x.org>\n"
	    "Received: from client.example (unknown [192.0.2.1])\n"
	    "\tby mx.test (pipesmtpd) with ESMTP id QID1\n"
	    "\tfor <r@mx.test>; " DATE "\n");
}
END_TEST

START_TEST(test_headers_many_rcpts)
{
	struct hdr_fixture f;
	char out[2048];

	hdr_setup(&f);
	f.msg.nrcpt = 2;
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
	    "Return-Path: <s@x.org>\n"
	    "Received: from client.example (unknown [192.0.2.1])\n"
	    "\tby mx.test (pipesmtpd) with ESMTP id QID1; " DATE "\n");
	ck_assert_ptr_null(strstr(out, "for <"));
}
END_TEST

START_TEST(test_headers_tls)
{
	struct hdr_fixture f;
	struct tls_info tls = { "TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305", "",
	    0 };
	char out[2048];

	hdr_setup(&f);
	f.msg.with = "ESMTPS";
	f.msg.tls = &tls;
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
	    "Return-Path: <s@x.org>\n"
	    "Received: from client.example (unknown [192.0.2.1])\n"
	    "\t(using TLSv1.2 with cipher ECDHE-RSA-CHACHA20-POLY1305)\n"
	    "\tby mx.test (pipesmtpd) with ESMTPS id QID1\n"
	    "\tfor <r@mx.test>; " DATE "\n");
}
END_TEST

START_TEST(test_headers_options)
{
	struct hdr_fixture f;
	char out[2048];

	hdr_setup(&f);
	f.cfg.no_return_path = 1;
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_msg(starts(out, "Received: "), "\"%s\"", out);
	ck_assert_ptr_null(strstr(out, "Return-Path"));

	f.cfg.no_return_path = 0;
	f.cfg.delivered_to = 1;
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_msg(starts(out, "Return-Path: <s@x.org>\n"
	    "Delivered-To: r@mx.test\nReceived: from client.example "),
	    "\"%s\"", out);

	f.cfg.no_return_path = 1;
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_msg(starts(out, "Delivered-To: r@mx.test\nReceived: "),
	    "\"%s\"", out);

	f.cfg.no_return_path = 0;
	f.cfg.delivered_to = 0;
	f.msg.with = "UTF8SMTP";
	f.cfg.client_host = "client.example.net";
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "(client.example.net [192.0.2.1])") != NULL,
	    "\"%s\"", out);
	ck_assert_msg(strstr(out, " with UTF8SMTP id QID1") != NULL, "\"%s\"",
	    out);
}
END_TEST

START_TEST(test_headers_null_sender)
{
	struct hdr_fixture f;
	struct address null;
	char out[2048];
	size_t used;

	hdr_setup(&f);
	ck_assert_int_eq(address_parse("<>", 2, ADDR_ALLOW_NULL, &null,
	    &used), ADDR_OK);
	f.msg.sender = &null;
	f.cfg.null_sender = "MAILER-DAEMON";	/* never in Return-Path */
	ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
	ck_assert_msg(starts(out, "Return-Path: <>\n"), "\"%s\"", out);
}
END_TEST

START_TEST(test_headers_crlf)
{
	struct hdr_fixture f;
	char out[2048];
	int n, i, lines = 0;

	hdr_setup(&f);
	f.cfg.crlf = 1;
	f.cfg.delivered_to = 1;
	n = headers(&f, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (out[i] == '\n') {
			ck_assert_msg(i > 0 && out[i - 1] == '\r',
			    "bare LF at %d: \"%s\"", i, out);
			lines++;
		} else if (out[i] == '\r') {
			ck_assert_msg(out[i + 1] == '\n', "bare CR at %d", i);
		}
	}
	ck_assert_int_eq(lines, 5);
	ck_assert_msg(n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n',
	    "does not end in CRLF");
	ck_assert_msg(strstr(out, "\tfor <r@mx.test>; " DATE "\r\n") != NULL,
	    "\"%s\"", out);
}
END_TEST

/* each_line_is_ours - every line of the block starts a known header or
 * continues one with whitespace */
static void
each_line_is_ours(const char *out, const char *helo)
{
	const char *p = out;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		ck_assert_msg(strncmp(p, "Return-Path: ", 13) == 0 ||
		    strncmp(p, "Delivered-To: ", 14) == 0 ||
		    strncmp(p, "Received: ", 10) == 0 || *p == '\t' ||
		    *p == ' ', "HELO \"%s\" started a line: \"%s\"", helo, p);
		ck_assert_msg(nl != NULL, "unterminated line");
		ck_assert_msg(memchr(p, '\r', (size_t)(nl - p)) == NULL,
		    "HELO \"%s\": CR inside a line", helo);
		p = nl + 1;
	}
}

START_TEST(test_headers_helo_sanitised)
{
	static const char *const helos[] = {
		"evil\r\nX-Injected: yes", "evil\nX-Injected: yes",
		"evil\rX-Injected: yes", "evil\n\nbody", "\n", "a\013\014b",
		"\xc3\xa9\xff", "x\n\tfolded",
	};
	struct hdr_fixture f;
	char out[2048];
	size_t i, j;

	hdr_setup(&f);
	f.cfg.delivered_to = 1;
	for (i = 0; i < sizeof(helos) / sizeof(helos[0]); i++) {
		f.msg.helo = helos[i];
		ck_assert_int_gt(headers(&f, out, sizeof(out)), 0);
		each_line_is_ours(out, helos[i]);
		for (j = 0; out[j] != '\0'; j++)
			ck_assert_msg((unsigned char)out[j] < 127 &&
			    ((unsigned char)out[j] >= 32 || out[j] == '\t' ||
			    out[j] == '\n'), "HELO %zu: octet %d", i,
			    (unsigned char)out[j]);
		ck_assert_ptr_null(strstr(out, "\nX-Injected"));
	}
}
END_TEST

START_TEST(test_headers_do_not_fit)
{
	struct hdr_fixture f;
	char out[2048];
	int n;

	hdr_setup(&f);
	n = headers(&f, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(headers(&f, out, (size_t)n + 1), n);
	ck_assert_int_eq(received_headers(&f.cfg, &f.msg, &f.rcpt, out,
	    (size_t)n), -1);
	ck_assert_int_eq(received_headers(&f.cfg, &f.msg, &f.rcpt, out, 30),
	    -1);
	ck_assert_int_eq(received_headers(&f.cfg, &f.msg, &f.rcpt, out, 10),
	    -1);
	f.cfg.delivered_to = 1;
	ck_assert_int_eq(received_headers(&f.cfg, &f.msg, &f.rcpt, out, 40),
	    -1);
}
END_TEST

START_TEST(test_headers_long_helo_fits_or_fails)
{
	/* a 255-octet HELO: the block either fits whole or is refused */
	struct hdr_fixture f;
	char helo[256], out[4096];
	int n;

	hdr_setup(&f);
	memset(helo, 'h', 255);
	helo[255] = '\0';
	f.msg.helo = helo;
	n = headers(&f, out, sizeof(out));
	ck_assert_int_gt(n, 255);
	ck_assert_ptr_nonnull(strstr(out, helo));
	ck_assert_int_eq(received_headers(&f.cfg, &f.msg, &f.rcpt, out, 200),
	    -1);
}
END_TEST


/* ---- --data-check's fields (received_fields) ---- */

struct fields_case {
	const char *in;
	const char *want;	/* with LF line ends; NULL: refused */
};

static const struct fields_case fields_cases[] = {
	{ "", "" },
	{ "X-A: b\n", "X-A: b\n" },
	{ "X-A: b", "X-A: b\n" },
	{ "X-A: b\r\nX-B: c\r\n", "X-A: b\nX-B: c\n" },
	{ "X-A: a\n\tb\n  c\n", "X-A: a\n\tb\n  c\n" },
	{ "X-A:\n b\n", "X-A:\n b\n" },
	{ "X-A:\n", "X-A:\n" },
	{ "X-Spam: caf\xc3\xa9\n", "X-Spam: caf\xc3\xa9\n" },
	{ "X-A: b\n\n", NULL },
	{ "\n", NULL },
	{ "X-A: b\n\nX-B: c\n", NULL },
	{ " X-A: b\n", NULL },
	{ "X-A: b\n \n", NULL },
	{ "X-A: b\n\t\r\n", NULL },
	{ "X A: b\n", NULL },
	{ ": b\n", NULL },
	{ "X-A b\n", NULL },
	{ "X-\xc3\xa9: b\n", NULL },
	{ "X-A: b\rX-B: c\n", NULL },
	{ "X-A: b\r", NULL },
	{ "X-A: \x01\n", NULL },
	{ "X-A: \x7f\n", NULL },
	{ "spam detected\n", NULL },
};

START_TEST(test_fields_table)
{
	const struct fields_case *c = &fields_cases[_i];
	struct hdr_fixture f;
	char out[256];
	int n;

	hdr_setup(&f);
	n = received_fields(&f.cfg, c->in, strlen(c->in), out, sizeof(out));
	if (c->want == NULL) {
		ck_assert_msg(n == -1, "case %d: accepted", _i);
		return;
	}
	ck_assert_msg(n >= 0, "case %d: refused", _i);
	ck_assert_int_eq(n, (int)strlen(c->want));
	ck_assert_int_eq(memcmp(out, c->want, (size_t)n), 0);
}
END_TEST

START_TEST(test_fields_crlf_and_room)
{
	struct hdr_fixture f;
	char out[32];

	hdr_setup(&f);
	f.cfg.crlf = 1;
	ck_assert_int_eq(received_fields(&f.cfg, "X-A: b\n\tc\n", 10, out,
	    sizeof(out)), 12);
	ck_assert_int_eq(memcmp(out, "X-A: b\r\n\tc\r\n", 12), 0);
	/* what does not fit is refused whole */
	ck_assert_int_eq(received_fields(&f.cfg, "X-A: b\n\tc\n", 10, out,
	    11), -1);
	/* a NUL is a control like any other */
	ck_assert_int_eq(received_fields(&f.cfg, "X-A: b\0c\n", 9, out,
	    sizeof(out)), -1);
}
END_TEST

START_TEST(test_with)
{
	/* RFC 3848 and RFC 6531: S for TLS, ESMTPS after HELO in TLS too */
	ck_assert_str_eq(received_with(0, 0, 0, 0), "SMTP");
	ck_assert_str_eq(received_with(0, 1, 0, 0), "ESMTP");
	ck_assert_str_eq(received_with(0, 0, 0, 1), "ESMTPS");
	ck_assert_str_eq(received_with(0, 1, 0, 1), "ESMTPS");
	ck_assert_str_eq(received_with(0, 0, 1, 0), "UTF8SMTP");
	ck_assert_str_eq(received_with(0, 1, 1, 1), "UTF8SMTPS");
	ck_assert_str_eq(received_with(1, 1, 0, 0), "LMTP");
	ck_assert_str_eq(received_with(1, 1, 0, 1), "LMTPS");
	ck_assert_str_eq(received_with(1, 1, 1, 0), "UTF8LMTP");
	ck_assert_str_eq(received_with(1, 1, 1, 1), "UTF8LMTPS");
}
END_TEST

START_TEST(test_headers_without_rcpt)
{
	/* --data-check's block: no Delivered-To, the rest as delivered */
	struct hdr_fixture f;
	char with[RECEIVED_HEADERS_MAX], without[RECEIVED_HEADERS_MAX];
	int a, b;

	hdr_setup(&f);
	f.cfg.delivered_to = 1;
	a = received_headers(&f.cfg, &f.msg, &f.rcpt, with, sizeof(with));
	b = received_headers(&f.cfg, &f.msg, NULL, without, sizeof(without));
	ck_assert_int_gt(b, 0);
	ck_assert_int_eq(a, b + (int)strlen("Delivered-To: r@mx.test\n"));
	ck_assert_ptr_null(strstr(without, "Delivered-To"));
	ck_assert_str_eq(strstr(with, "Received:"), strstr(without,
	    "Received:"));
}
END_TEST

Suite *
received_suite(void)
{
	Suite *s = suite_create("received");
	TCase *tc = tcase_create("headers");

	tcase_add_test(tc, test_headers_default);
	tcase_add_test(tc, test_headers_many_rcpts);
	tcase_add_test(tc, test_headers_tls);
	tcase_add_test(tc, test_headers_options);
	tcase_add_test(tc, test_headers_null_sender);
	tcase_add_test(tc, test_headers_crlf);
	tcase_add_test(tc, test_headers_helo_sanitised);
	tcase_add_test(tc, test_headers_do_not_fit);
	tcase_add_test(tc, test_headers_long_helo_fits_or_fails);
	tcase_add_test(tc, test_headers_without_rcpt);
	tcase_add_test(tc, test_with);
	tcase_add_loop_test(tc, test_fields_table, 0,
	    (int)(sizeof(fields_cases) / sizeof(fields_cases[0])));
	tcase_add_test(tc, test_fields_crlf_and_room);
	suite_add_tcase(s, tc);
	return s;
}

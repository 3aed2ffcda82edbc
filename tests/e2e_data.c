/*
 * e2e_data.c - DATA (pipesmtpd(8) PROTOCOL): the end of data is
 * exactly CRLF "." CRLF, dot-unstuffing, bare CR / bare LF normalised (or
 * refused under --strict-newlines), a run of CRs before LF as one line
 * end, smuggling attempts, the size limit while streaming, --max-hops,
 * and an unusable spool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The data as the client sends it (up to, not including, the final
 * CRLF "." CRLF, which the test adds) and the message as the command
 * must receive it after the prepended headers (LF line ends). */
struct body_case {
	const char *name;
	const char *sent;
	const char *want;
	const char *want_crlf;	/* under --crlf */
};

static const struct body_case body_cases[] = {
	{ "plain", "Subject: x\r\n\r\nHello.\r\n", "Subject: x\n\nHello.\n",
	  "Subject: x\r\n\r\nHello.\r\n" },
	{ "stuffed dot", "a\r\n..\r\n..b\r\n...\r\n. \r\n.x\r\n",
	  "a\n.\n.b\n..\n \nx\n", "a\r\n.\r\n.b\r\n..\r\n \r\nx\r\n" },
	{ "stuffed dot first line", "..first\r\n", ".first\n",
	  ".first\r\n" },
	{ "dot inside a line", "a.b\r\n a .\r\n", "a.b\n a .\n",
	  "a.b\r\n a .\r\n" },
	{ "empty lines", "\r\n\r\n\r\n", "\n\n\n", "\r\n\r\n\r\n" },
	{ "bare LF", "a\nb\r\nc\nd\r\n", "a\nb\nc\nd\n",
	  "a\r\nb\r\nc\r\nd\r\n" },
	{ "bare CR", "a\rb\r\nc\rd\r\n", "a\nb\nc\nd\n",
	  "a\r\nb\r\nc\r\nd\r\n" },
	/* a run of CRs before LF is one line end; its CR LF is real, so
	 * the "." CRLF the test adds after "c\r\r\n" ends the data */
	{ "CR CR LF", "a\r\r\nb\r\nc\r\r\n", "a\nb\nc\n",
	  "a\r\nb\r\nc\r\n" },
	{ "CR runs keep the header block",
	  "Subject: a\r\r\nFrom: b\r\r\n\r\r\nbody\r\r\n",
	  "Subject: a\nFrom: b\n\nbody\n",
	  "Subject: a\r\nFrom: b\r\n\r\nbody\r\n" },
	{ "long CR run before LF", "a\r\r\r\r\r\r\r\r\r\nb\r\n", "a\nb\n",
	  "a\r\nb\r\n" },
	{ "CRs before text", "a\r\r\rb\r\n", "a\n\n\nb\n",
	  "a\r\n\r\n\r\nb\r\n" },
	/* after a normalised line end a leading dot is stuffing */
	{ "dot after bare LF", "a\n..b\r\n", "a\n.b\n", "a\r\n.b\r\n" },
	{ "dot after bare CR", "a\r..b\r\n", "a\n.b\n", "a\r\n.b\r\n" },
	{ "dot line after bare LF", "a\n.\r\nb\r\n", "a\n\nb\n",
	  "a\r\n\r\nb\r\n" },
	{ "dot after CR CR LF", "a\r\r\n..b\r\n", "a\n.b\n",
	  "a\r\n.b\r\n" },
	{ "LF CR", "a\n\rb\r\n", "a\n\nb\n", "a\r\n\r\nb\r\n" },
	{ "8-bit and control octets", "caf\xc3\xa9\r\nx\x01y\r\n",
	  "caf\xc3\xa9\nx\x01y\n", "caf\xc3\xa9\r\nx\x01y\r\n" },
	{ "long line", NULL, NULL, NULL },	/* built in the test */
};

START_TEST(test_body_table)
{
	const struct body_case *c = &body_cases[_i];
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct h_opts o = { .args = { crlf ? "--crlf" : "--log-stderr" } };
		char *sent = (char *)c->sent, *want = (char *)c->want;
		struct h_result r;
		size_t len;
		char *d;

		if (sent == NULL) {	/* a 100 000-octet line */
			char *x = h_repeat("x", 100000);

			sent = h_strf("%s\r\n", x);
			want = h_strf("%s%s", x, crlf ? "\r\n" : "\n");
		} else if (crlf) {
			want = (char *)c->want_crlf;
		}
		h_fresh();
		h_run(&r, &o, h_txn("<s@x.example>", sent, "<u@mx.example>",
		    NULL));
		ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) ==
		    0, "%s: %s", c->name, r.out);
		ck_assert_int_eq(h_count(h_dir), 1);
		d = h_stdin(h_dir, 1, &len);
		ck_assert_msg(strcmp(h_body(d), want) == 0, "%s%s: delivered "
		    "'%s', want '%s'", c->name, crlf ? " (--crlf)" : "",
		    h_body(d), want);
	}
}
END_TEST

/* Sequences that some server might take for the end of data, followed by
 * a second transaction hidden in the data.  Only CRLF "." CRLF ends it:
 * exactly one delivery, to the first recipient, carrying the text. */
static const char *const smuggle_ends[] = {
	"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r.\r\n",
	"\n.\r", "\r\n.\r\r\n", "\r\n\r.\r\n", "\n\n.\n\n", "\r\n.\x00\r\n",
	"\r\r.\r\n", "\n.\r\r\n", "\r\r\n.\r\r\n", "\r\r\r\n.\n", "\r\r\n.\r",
};

START_TEST(test_smuggling)
{
	static const char tail[] = "MAIL FROM:<evil@x.example>\r\n"
	    "RCPT TO:<victim@mx.example>\r\nDATA\r\nsmuggled\r\n";
	const char *end = smuggle_ends[_i];
	size_t elen = strcmp(end, "\r\n.\x00\r\n") == 0 ? 6 : strlen(end);
	char *in = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&in, &n);
	struct h_result r;
	size_t len;
	char *d;

	fputs("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nSubject: x\r\n\r\nhello", f);
	fwrite(end, 1, elen, f);
	fputs(tail, f);
	fputs(".\r\nQUIT\r\n", f);
	fclose(f);
	h_runn(&r, NULL, in, n);
	free(in);	/* open_memstream's, not the harness's */
	ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) == 0,
	    "end %d: replies '%s'", _i, r.out);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "u@mx.example");
	d = h_stdin(h_dir, 1, &len);
	ck_assert_msg(memmem(d, len, "smuggled\n", 9) != NULL &&
	    memmem(d, len, "RCPT TO:<victim@mx.example>\n", 28) != NULL,
	    "end %d: the hidden text is not in the message: '%s'", _i, d);
}
END_TEST

START_TEST(test_dot_needs_crlf_before)
{
	/* ".\r\n" right after DATA ends an empty message; "x.\r\n" does not
	 * end anything */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nx.\r\n.\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "x.\n");
}
END_TEST

START_TEST(test_empty_message)
{
	struct h_result r;

	h_run(&r, NULL, h_txn("<s@x.example>", "", "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "");
}
END_TEST

START_TEST(test_data_in_pieces)
{
	/* the end of data split over writes, with pauses between */
	static const char *const pieces[] = { "Subject: x\r\n\r\nab", "c\r",
	    "\n.", ".d\r\n", "\r", "\n", ".", "\r", "\n" };
	struct h_proc p;
	struct h_result r;
	size_t i;

	h_start(&p, NULL);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<u@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		h_sends(&p, pieces[i]);
		h_pause(&p, 30);
		ck_assert_msg(i + 1 == sizeof(pieces) / sizeof(pieces[0]) ||
		    p.outlen == p.seen, "a reply before the end of data");
	}
	h_expect(&p, "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_shut(&p);
	h_finish(&p, &r);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)),
	    "Subject: x\n\nabc\n.d\n\n");
}
END_TEST

START_TEST(test_cr_run_ends_data)
{
	/* "x" CR CR LF "." CRLF: the last CR LF is a real one, so the data
	 * ends there and the session goes on with the next command */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nx\r\r\n.\r\nNOOP\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "x\n");
}
END_TEST

START_TEST(test_cr_run_headers)
{
	/* headers with CR CR LF line ends stay headers: the hop count sees
	 * both Received: lines, a header check sees From: */
	static const char msg[] = "Received: from a by b; x\r\r\n"
	    "Received: from c by d; y\r\r\nFrom: <f@x.example>\r\r\n"
	    "\r\r\nbody\r\r\n";
	struct h_opts o = { .args = { "--max-hops", "1" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, h_txn("<s@x.example>", msg, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "554 5.4.6"));
	ck_assert_int_eq(h_count(h_dir), 0);
	h_fresh();
	h_run(&r, NULL, h_txn("<s@x.example>", msg, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	d = (char *)h_body(h_stdin(h_dir, 1, NULL));
	ck_assert_str_eq(d, "Received: from a by b; x\nReceived: from c by d; "
	    "y\nFrom: <f@x.example>\n\nbody\n");
	ck_assert_str_eq(h_header(d, "From"), "From: <f@x.example>\n");
}
END_TEST

START_TEST(test_cr_run_long)
{
	/* 300 000 CRs, more than an input block: counted, not buffered; one
	 * line end before LF, one each before text */
	char *crs = h_repeat("\r", 300000), *lfs;
	const char *d;
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct h_opts o = { .args = { crlf ? "--crlf" : "--log-stderr" } };
		const char *eol = crlf ? "\r\n" : "\n";
		struct h_result r;

		lfs = h_repeat(eol, 300000);
		h_fresh();
		h_run(&r, &o, h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n"
		    "DATA\r\na%s\nb\r\n.\r\n"
		    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
		    "DATA\r\na%sb\r\n.\r\nQUIT\r\n", crs, crs));
		ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
		    "354|250 2.0.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
		ck_assert_int_eq(h_count(h_dir), 2);
		/* lengths, not texts, in the messages: they are long */
		d = h_body(h_stdin(h_dir, 1, NULL));
		ck_assert_msg(strcmp(d, h_strf("a%sb%s", eol, eol)) == 0,
		    "%s: CRs before LF: %zu octets", crlf ? "--crlf" : "LF",
		    strlen(d));
		d = h_body(h_stdin(h_dir, 2, NULL));
		ck_assert_msg(strcmp(d, h_strf("a%sb%s", lfs, eol)) == 0,
		    "%s: CRs before text: %zu octets", crlf ? "--crlf" : "LF",
		    strlen(d));
	}
}
END_TEST

/* ---- --strict-newlines ---- */

static const char *const strict_bad[] = {
	"a\nb\r\n", "a\rb\r\n", "a\r\r\n", "\nx\r\n", "a\r\n\n.\nb\r\n",
	"S: a\r\r\nF: b\r\r\n\r\r\nbody\r\r\n", "a\r\n.\r\r\n",
};

START_TEST(test_strict_newlines)
{
	struct h_opts o = { .args = { "--strict-newlines" } };
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n%s.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<v@mx.example>\r\n"
	    "DATA\r\nclean\r\n.\r\nQUIT\r\n", strict_bad[_i]);
	struct h_result r;

	h_run(&r, &o, in);
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "354|554 5.6.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0") == 0,
	    "case %d: '%s'", _i, r.out);
	/* nothing of the refused message; the next one went through */
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "v@mx.example");
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "clean\n");
}
END_TEST

START_TEST(test_strict_newlines_clean)
{
	struct h_opts o = { .args = { "--strict-newlines" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", "a\r\n..b\r\n\r\nc\r\n",
	    "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "a\n.b\n\nc\n");
}
END_TEST

/* ---- size ---- */

START_TEST(test_size_boundary)
{
	/* counted as received: after unstuffing, CRLF as two octets, without
	 * the added headers: 100 passes, 101 does not */
	struct h_opts o = { .args = { "--max-size", "100" } };
	char *x98 = h_repeat("x", 98), *x97 = h_repeat("x", 97);
	char *in = h_strf("EHLO c.example\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n"
	    "DATA\r\n%s\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n%sy\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<c@mx.example>\r\n"
	    "DATA\r\n..%s\r\n.\r\n"
	    "MAIL FROM:<s@x.example> SIZE=100\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example> SIZE=101\r\nQUIT\r\n", x98, x98, x97);
	struct h_result r;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|"
	    "250 2.1.0|250 2.1.5|354|250 2.0.0|"
	    "250 2.1.0|250 2.1.5|354|552 5.3.4|"
	    "250 2.1.0|250 2.1.5|354|250 2.0.0|"
	    "250 2.1.0|250 2.0.0|552 5.3.4|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "c@mx.example");
}
END_TEST

START_TEST(test_size_streaming)
{
	/* far over the limit: read to the dot, refuse, go on */
	struct h_opts o = { .args = { "--max-size", "1000" } };
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\r\n", 40000);
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n%s.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nsmall\r\n.\r\nQUIT\r\n", big);
	struct h_result r;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "552 5.3.4|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_size_param_over_limit)
{
	struct h_opts o = { .args = { "--max-size", "1000" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example> SIZE=1001\r\n"
	    "MAIL FROM:<s@x.example> SIZE=1000\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|552 5.3.4|250 2.1.0|"
	    "221 2.0.0");
}
END_TEST

/* ---- --max-hops ---- */

START_TEST(test_max_hops)
{
	struct h_opts o = { .args = { "--max-hops", "2" } };
	static const char two[] = "Received: from a by b; x\r\n"
	    "received: from c\r\n\tby d; y\r\nSubject: two\r\n\r\n"
	    "Received: in the body does not count\r\n";
	static const char three[] = "Received: from a by b; x\r\n"
	    "Received: from c by d; y\r\nX-Other: z\r\n"
	    "RECEIVED: from e by f; z\r\nSubject: three\r\n\r\nbody\r\n";
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n%s.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n%s.\r\nQUIT\r\n", two, three);
	struct h_result r;
	char *d;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|554 5.4.6|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_ptr_nonnull(strstr(d, "Subject: two\n"));
}
END_TEST

START_TEST(test_max_hops_zero)
{
	struct h_opts o = { .args = { "--max-hops", "0" } };
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\nSubject: none\r\n\r\nx\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nReceived: from a by b; x\r\n\r\nx\r\n.\r\nQUIT\r\n");
	struct h_result r;

	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|554 5.4.6|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

START_TEST(test_max_hops_default)
{
	/* default 100: 100 pass, 101 are a loop */
	char *h100 = h_repeat("Received: from a by b; x\r\n", 100);
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n%s\r\nx\r\n.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n%sReceived: from a by b; x\r\n\r\nx\r\n.\r\nQUIT\r\n",
	    h100, h100);
	struct h_result r;

	h_run(&r, NULL, in);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|554 5.4.6|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
}
END_TEST

/* ---- the spool ---- */

START_TEST(test_spool_unusable)
{
	/* a missing directory, a file, a path through a file */
	char *file = h_subdir("plainfile");
	const char *spools[] = { h_subdir("nonexistent"), file,
	    h_strf("%s/below", file) };
	FILE *f = fopen(file, "w");
	struct h_opts o = { .args = { "--spool", spools[_i] } };
	struct h_result r;

	ck_assert_ptr_nonnull(f);
	fclose(f);
	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n"
	    "MAIL FROM:<s@x.example>\r\nRSET\r\nQUIT\r\n");
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "451 4.3.0|250 2.1.0|250 2.0.0|221 2.0.0") == 0, "spool %s: '%s'",
	    spools[_i], r.out);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_spool_leaves_nothing)
{
	/* the spool is unlinked: the spool directory stays empty */
	char *sp = h_subdir("spool");
	struct h_opts o = { .args = { "--spool", sp } };
	struct h_result r;
	char *probe;
	struct stat st;

	ck_assert_int_eq(mkdir(sp, 0700), 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(h_count(h_dir), 1);
	/* nothing named in it: rmdir succeeds only on an empty directory */
	ck_assert_int_eq(rmdir(sp), 0);
	probe = h_strf("%s", sp);
	ck_assert_int_ne(stat(probe, &st), 0);
}
END_TEST

START_TEST(test_spool_file_size_limit)
{
	/* over a file-size limit while spooling: 452 4.3.1, nothing
	 * delivered, the session goes on */
	struct h_opts o = { .fsize = 65536 };
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n%s.\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nsmall\r\n.\r\nQUIT\r\n", big));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "452 4.3.1|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

Suite *
data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc = h_tcase("body");

	tcase_add_loop_test(tc, test_body_table, 0,
	    sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_loop_test(tc, test_smuggling, 0,
	    sizeof(smuggle_ends) / sizeof(smuggle_ends[0]));
	tcase_add_test(tc, test_dot_needs_crlf_before);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_data_in_pieces);
	tcase_add_test(tc, test_cr_run_ends_data);
	tcase_add_test(tc, test_cr_run_headers);
	tcase_add_test(tc, test_cr_run_long);
	tcase_add_loop_test(tc, test_strict_newlines, 0,
	    sizeof(strict_bad) / sizeof(strict_bad[0]));
	tcase_add_test(tc, test_strict_newlines_clean);
	suite_add_tcase(s, tc);

	tc = h_tcase("limits");
	tcase_add_test(tc, test_size_boundary);
	tcase_add_test(tc, test_size_streaming);
	tcase_add_test(tc, test_size_param_over_limit);
	tcase_add_test(tc, test_max_hops);
	tcase_add_test(tc, test_max_hops_zero);
	tcase_add_test(tc, test_max_hops_default);
	tcase_add_test(tc, test_spool_unusable);
	tcase_add_test(tc, test_spool_leaves_nothing);
	tcase_add_test(tc, test_spool_file_size_limit);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e_chunking.c - the chunking suite: BDAT (RFC 3030).
 *
 * Chunk octets taken verbatim, line ends converted, sequence errors only
 * after the chunk is consumed, a malformed size closes the session, a
 * chunk over the size limit is read and discarded and the session goes
 * on, limits across chunks, chunks split across reads, disconnects.  The
 * LMTP and PRDR suites are in tests/e2e_lmtp.c and tests/e2e_prdr.c;
 * the transaction builders they share with this one (h_bdat, h_rcpts,
 * ...) in tests/harness_txn.c.  Recipients' local parts choose the
 * recorder's behaviour; everything delivered is compared byte for byte.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

/* ---- helpers ---- */

/* to_lf - the reference conversion: CRLF (with any run of CRs before
 * the LF), bare CR and bare LF each become one LF (the normalised line
 * ends) */
static char *
to_lf(const char *in, size_t n, size_t *outlen)
{
	char *out = h_strf("%*s", (int)n, "");
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\r') {
			size_t j = i;

			while (j < n && in[j] == '\r')
				j++;
			out[o++] = '\n';
			if (j < n && in[j] == '\n')
				i = j;	/* the whole run and its LF */
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Chunks sent and the message as delivered. */
struct chunk_case {
	const char *name;
	const char *chunks[5];	/* the last one goes with LAST */
	const char *want;	/* after the added headers, default */
	const char *want_crlf;	/* under --crlf */
};

static const struct chunk_case chunk_cases[] = {
	{ "one LAST chunk", { "Subject: x\r\n\r\nHello.\r\n" },
	  "Subject: x\n\nHello.\n", "Subject: x\r\n\r\nHello.\r\n" },
	{ "end-of-data and dots are data",
	  { "Subject: x\r\n\r\nline\r\n.\r\nQUIT\r\n..dots\r\n",
	    ".\r\n..\r\nend\r\n" },
	  "Subject: x\n\nline\n.\nQUIT\n..dots\n.\n..\nend\n",
	  "Subject: x\r\n\r\nline\r\n.\r\nQUIT\r\n..dots\r\n.\r\n..\r\n"
	  "end\r\n" },
	{ "a dot at the very start", { "..x\r\n.\r\n" }, "..x\n.\n",
	  "..x\r\n.\r\n" },
	{ "CRLF split between chunks", { "a\r", "\nb\r", "\n" }, "a\nb\n",
	  "a\r\nb\r\n" },
	{ "a line split between chunks", { "Subj", "ect: y\r\n\r\nbo", "dy",
	    "\r\n" }, "Subject: y\n\nbody\n", "Subject: y\r\n\r\nbody\r\n" },
	{ "empty chunks", { "", "a\r\n", "", "b\r\n", "" }, "a\nb\n",
	  "a\r\nb\r\n" },
	{ "CRLF split by an empty chunk", { "a\r", "", "\nb\r\n" },
	  "a\nb\n", "a\r\nb\r\n" },
	{ "BDAT 0 LAST alone", { "" }, "", "" },
	{ "no final line end", { "a\r\nno end" }, "a\nno end",
	  "a\r\nno end" },
	{ "bare LF normalised", { "a\nb\r\n", "c\n" }, "a\nb\nc\n",
	  "a\r\nb\r\nc\r\n" },
	{ "bare CR normalised", { "a\rb\r\r\rc\r\n" }, "a\nb\n\n\nc\n",
	  "a\r\nb\r\n\r\n\r\nc\r\n" },
	{ "CR CR LF is one line end", { "a\r\r\nb\r\r\r\n" }, "a\nb\n",
	  "a\r\nb\r\n" },
	{ "CR ending a chunk, CR next", { "a\r", "\r\nb\r\n" }, "a\nb\n",
	  "a\r\nb\r\n" },
	{ "CR runs across chunks keep the header block",
	  { "Subject: a\r\r", "\nFrom: b\r\r\n\r", "", "\r\nbody\r\r\n" },
	  "Subject: a\nFrom: b\n\nbody\n",
	  "Subject: a\r\nFrom: b\r\n\r\nbody\r\n" },
	{ "CRs across chunks before text", { "a\r", "\r", "\rb\r\n" },
	  "a\n\n\nb\n", "a\r\n\r\n\r\nb\r\n" },
	{ "CRs ending the message", { "a\r\r", "\r" }, "a\n\n\n",
	  "a\r\n\r\n\r\n" },
	{ "CR ending the message", { "a\r\nb\r" }, "a\nb\n", "a\r\nb\r\n" },
	{ "8-bit and NUL-free control octets", { "caf\xc3\xa9\r\n\x01\x7f"
	    "\r\n" }, "caf\xc3\xa9\n\x01\x7f\n", "caf\xc3\xa9\r\n\x01\x7f"
	  "\r\n" },
};

START_TEST(test_bdat_verbatim)
{
	const struct chunk_case *c = &chunk_cases[_i];
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct h_opts o = { .args = { crlf ? "--crlf" : NULL } };
		char *in = h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\n");
		char *want = h_strf("220|250|250 2.1.0|250 2.1.5");
		struct h_result r;
		int n, i;

		for (n = 0; n < 5 && c->chunks[n] != NULL; n++)
			;
		for (i = 0; i < n; i++) {
			in = h_strf("%s%s", in, h_bdat(c->chunks[i], i == n - 1));
			want = h_strf("%s|250 2.0.0", want);
		}
		h_fresh();
		h_run(&r, &o, h_strf("%sQUIT\r\n", in));
		ck_assert_msg(strcmp(h_codes(r.out), h_strf("%s|221 2.0.0",
		    want)) == 0, "%s: '%s'", c->name, r.out);
		/* each non-LAST chunk's reply counts its octets */
		for (i = 0; i + 1 < n; i++) {
			char *l = h_line(r.out, 4 + i);

			ck_assert_msg(strstr(l, h_strf(" %zu octets received",
			    strlen(c->chunks[i]))) != NULL,
			    "%s: chunk %d: '%s'", c->name, i, l);
		}
		ck_assert_int_eq(h_count(h_dir), 1);
		ck_assert_msg(strcmp(h_run_body(1), crlf ? c->want_crlf : c->want) ==
		    0, "%s%s: delivered '%s'", c->name, crlf ? " (--crlf)" :
		    "", h_run_body(1));
		h_assert_size_env(1);
		ck_assert_msg(strstr(h_header(h_stdin(h_dir, 1, NULL),
		    "Received"), " with ESMTP ") != NULL, "%s", c->name);
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

START_TEST(test_bdat_last_case)
{
	/* "last" in any case; several transactions in one session */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nBDAT 3 last\r\nab\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "BDAT 4 LaSt\r\ncd\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_run_body(1), "ab\n");
	ck_assert_str_eq(h_run_body(2), "cd\n");
}
END_TEST

/* --strict-newlines: a bare CR or LF fails the message; in a non-LAST
 * chunk, at that chunk's reply (RFC 3030: the transaction has failed) */
struct strict_case {
	const char *name;
	const char *chunks[4];
	const char *want;	/* the codes after the RCPT reply */
};

static const struct strict_case strict_cases[] = {
	{ "bare LF in LAST", { "a\r\nb\nc\r\n" }, "554 5.6.0" },
	{ "bare CR in LAST", { "a\rb\r\n" }, "554 5.6.0" },
	{ "bare LF in the last of several", { "a\r\n", "b\n" },
	  "250 2.0.0|554 5.6.0" },
	{ "CR ending the message", { "a\r\nb\r" }, "554 5.6.0" },
	{ "CR ending a chunk, no LF next", { "a\r", "b\r\n" },
	  "250 2.0.0|554 5.6.0" },
	{ "CR CR LF in LAST", { "a\r\r\nb\r\n" }, "554 5.6.0" },
	{ "CR | CR LF across chunks", { "a\r", "\r\nb\r\n" },
	  "250 2.0.0|554 5.6.0" },
	{ "bare LF in a non-LAST chunk", { "a\nb\r\n", "c\r\n" },
	  "554 5.6.0|503 5.5.1" },
	{ "CRLF split between chunks is fine", { "a\r", "\nb\r\n" },
	  "250 2.0.0|250 2.0.0" },
	{ "CRLF split by an empty chunk is fine", { "a\r", "", "\nb\r\n" },
	  "250 2.0.0|250 2.0.0|250 2.0.0" },
	{ "CR, empty LAST", { "a\r\nb\r", "" }, "250 2.0.0|554 5.6.0" },
	{ "all CRLF is fine", { "Subject: x\r\n\r\n", "y\r\n" },
	  "250 2.0.0|250 2.0.0" },
};

START_TEST(test_bdat_strict_newlines)
{
	const struct strict_case *c = &strict_cases[_i];
	struct h_opts o = { .args = { "--strict-newlines" } };
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\n");
	struct h_result r;
	int n, i, ok = strstr(c->want, "5.6.0") == NULL;

	for (n = 0; n < 4 && c->chunks[n] != NULL; n++)
		;
	for (i = 0; i < n; i++)
		in = h_strf("%s%s", in, h_bdat(c->chunks[i], i == n - 1));
	h_run(&r, &o, h_strf("%sNOOP\r\nQUIT\r\n", in));
	ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|%s|250 2.0.0|221 2.0.0", c->want)) == 0, "%s: '%s'",
	    c->name, h_codes(r.out));
	ck_assert_int_eq(h_count(h_dir), ok);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_bdat_then_data)
{
	/* DATA after a chunk is a sequence error that leaves the
	 * transaction as it was: the next chunk completes it */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nBDAT 5\r\nabc\r\nDATA\r\n"
	    "BDAT 5 LAST\r\ndef\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|503 5.5.1|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_run_body(1), "abc\ndef\n");
}
END_TEST

START_TEST(test_bdat_then_rcpt)
{
	/* RCPT after a chunk: 503, and the recipient is not added */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nBDAT 4\r\nab\r\n"
	    "RCPT TO:<b@mx.example>\r\nBDAT 0 LAST\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|503 5.5.1|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
	ck_assert_str_eq(h_run_body(1), "ab\n");
}
END_TEST

START_TEST(test_bdat_rset)
{
	/* RSET between chunks drops the chunks so far */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nBDAT 4\r\nab\r\nRSET\r\n"
	    "BDAT 4 LAST\r\ncd\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "BDAT 4 LAST\r\nef\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|250 2.0.0|503 5.5.1|250 2.1.0|250 2.1.5|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
	ck_assert_str_eq(h_run_body(1), "ef\n");
}
END_TEST

/* BDAT out of sequence: 503 only after the chunk's octets are consumed,
 * so commands inside the chunk are never executed. */
struct seq_case {
	const char *name;
	const char *before;	/* after the greeting */
	const char *codes;	/* their replies */
};

static const struct seq_case seq_cases[] = {
	{ "no HELO", "", "" },
	{ "no MAIL", "EHLO c.example\r\n", "|250" },
	{ "no RCPT", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n",
	  "|250|250 2.1.0" },
	{ "refused RCPT only", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@other.example>\r\n", "|250|250 2.1.0|550 5.7.1" },
	{ "after a finished transaction", "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>\r\n"
	  "BDAT 3 LAST\r\nok\n", "|250|250 2.1.0|250 2.1.5|250 2.0.0" },
	{ "after RSET", "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nRSET\r\n",
	  "|250|250 2.1.0|250 2.1.5|250 2.0.0" },
};

START_TEST(test_bdat_out_of_sequence)
{
	const struct seq_case *c = &seq_cases[_i];
	/* the chunk holds commands, the last one without its line end */
	const char *chunk = "QUIT\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n"
	    "RCPT TO:<evil@mx.example>\r\nDATA\r\nQUI";
	int last;

	for (last = 0; last < 2; last++) {
		struct h_result r;
		char *got;

		h_fresh();
		h_run(&r, NULL, h_strf("%s%sNOOP\r\nQUIT\r\n", c->before,
		    h_bdat(chunk, last)));
		got = h_codes(r.out);
		ck_assert_msg(strcmp(got, h_strf("220%s|503 5.5.1|250 2.0.0|"
		    "221 2.0.0", c->codes)) == 0, "%s%s: '%s'", c->name,
		    last ? " (LAST)" : "", got);
		ck_assert_int_eq(h_count(h_dir),
		    strstr(c->name, "finished") != NULL);
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

/* A size that is not a number: 501, then 421, and the connection closes
 * at once (the chunk's end is unknown). */
static const char *const bad_sizes[] = {
	"BDAT x", "BDAT -1", "BDAT 12abc", "BDAT", "BDAT +5", "BDAT 0x10",
	"BDAT five LAST", "BDAT  LAST",
};

START_TEST(test_bdat_bad_size)
{
	struct h_opts o = { .keep_open = 1, .timeout_ms = 5000 };
	struct h_result r;
	struct h_proc p;
	char *got, *l;

	h_start(&p, &o);
	h_sends(&p, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\n%s\r\nabcde\r\nNOOP\r\n"
	    "BDAT 0 LAST\r\nQUIT\r\n", bad_sizes[_i]));
	/* the client never closes: the server must */
	h_finish(&p, &r);
	got = h_codes(r.out);
	ck_assert_msg(strncmp(got, "220|250|250 2.1.0|250 2.1.5|501 5.5.4|"
	    "421 4.", strlen("220|250|250 2.1.0|250 2.1.5|501 5.5.4|421 4."))
	    == 0, "'%s': '%s'", bad_sizes[_i], got);
	ck_assert_msg(h_nreplies(r.out) == 6, "'%s': answered after the "
	    "421: '%s'", bad_sizes[_i], got);
	l = h_line(r.out, 5);
	ck_assert_msg(strstr(l, H_HOST) != NULL, "'%s'", l);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms < 3000, "closed after %ld ms", r.ms);
}
END_TEST

/* Chunks that take the message over --max-size 100: alone, or only
 * with the chunks before them; the refused chunk holds commands. */
static const struct over_case {
	const char *name;
	const char *first;	/* a chunk before it, or NULL */
	const char *size;	/* the refused chunk's size (and LAST) */
} over_cases[] = {
	{ "alone", NULL, "101" },
	{ "alone, LAST", NULL, "101 LAST" },
	{ "with an earlier chunk", "1234567890", "91" },
	{ "with an earlier chunk, LAST", "1234567890", "91 LAST" },
};

/* over_chunk - BDAT with the over_case's size, then that many octets:
 * commands that must never run, padded */
static char *
over_chunk(const struct over_case *c)
{
	const char *cmds = "QUIT\r\nMAIL FROM:<evil@x.example>\r\n"
	    "RCPT TO:<evil@mx.example>\r\nBDAT 3 LAST\r\nbad";
	size_t n = strtoul(c->size, NULL, 10);

	return h_strf("%sBDAT %s\r\n%s%s", c->first != NULL ?
	    h_bdat(c->first, 0) : "", c->size, cmds,
	    h_repeat("x", n - strlen(cmds)));
}

/* assert_only_small - of the whole session, only the message "small"
 * was delivered, once, to rcpt */
static void
assert_only_small(const char *rcpt)
{
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), rcpt);
	ck_assert_str_eq(h_run_body(1), "small\n");
}

START_TEST(test_bdat_chunk_over_max_size)
{
	/* RFC 3030 2: the chunk is read and discarded before its 552;
	 * the transaction fails, the session goes on, and the next
	 * transaction is delivered alone */
	const struct over_case *c = &over_cases[_i];
	struct h_opts o = { .args = { "--max-size", "100" } };
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\n%sNOOP\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<b@mx.example>\r\n%s"
	    "QUIT\r\n", over_chunk(c), h_bdat("small\r\n", 1)));
	ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|%s552 5.3.4|250 2.0.0|250 2.0.0|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|221 2.0.0", c->first != NULL ? "250 2.0.0|" : ""))
	    == 0, "%s: '%s'", c->name, h_codes(r.out));
	assert_only_small("b@mx.example");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_bdat_chunk_over_max_size_lmtp)
{
	/* under LMTP a refused LAST chunk is a message-wide failure: one
	 * 552 per recipient; a refused chunk before it, one 552 */
	const struct over_case *c = &over_cases[_i];
	struct h_opts o = { .args = { "--max-size", "100", "--lmtp" } };
	int last = strstr(c->size, "LAST") != NULL;
	struct h_result r;

	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n%s"
	    "NOOP\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<c@mx.example>\r\n"
	    "%sQUIT\r\n", over_chunk(c), h_bdat("small\r\n", 1)));
	ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|250 2.1.5|%s552 5.3.4|%s250 2.0.0|250 2.1.0|"
	    "250 2.1.5|250 2.0.0|221 2.0.0", c->first != NULL ?
	    "250 2.0.0|" : "", last ? "552 5.3.4|" : "")) == 0, "%s: '%s'",
	    c->name, h_codes(r.out));
	assert_only_small("c@mx.example");
}
END_TEST

START_TEST(test_bdat_huge_chunk_stalls)
{
	/* an 18-digit chunk size, then a client that stops sending: the
	 * chunk is read (never allocated) until the data deadline ends the
	 * session with 421 4.4.2; nothing delivered */
	static const char *const sizes[] = { "999999999999999999",
	    "999999999999999999 LAST" };
	struct h_opts o = { .args = { "--max-size", "100", "--timeout", "1" },
	    .keep_open = 1, .timeout_ms = 8000 };
	struct h_result r;
	struct h_proc p;

	h_start(&p, &o);
	h_sends(&p, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nBDAT %s\r\n%s", sizes[_i],
	    h_repeat("0123456789abcdef", 4096)));
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "421 4.4.2");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms >= 900 && r.ms < 4000, "took %ld ms", r.ms);
}
END_TEST

START_TEST(test_bdat_over_max_size_no_mail)
{
	/* a chunk over --max-size with no transaction is out of sequence:
	 * read, then 503, and the session goes on */
	struct h_opts o = { .args = { "--max-size", "10" } };
	struct h_result r;

	h_run(&r, &o, h_strf("EHLO c.example\r\nBDAT 12\r\nQUIT\r\nRSET\r\n"
	    "NOOP\r\nQUIT\r\n"));
	ck_assert_str_eq(h_codes(r.out), "220|250|503 5.5.1|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_bdat_bad_size_at_error_limit)
{
	/* the 501 that reaches --max-errors is followed by one 421 only */
	struct h_opts o = { .args = { "--max-errors", "1" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nBDAT lots\r\nNOOP\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|501 5.5.4|421 4.7.0");
}
END_TEST

START_TEST(test_bdat_size_limit)
{
	/* --max-size counts the octets of all chunks together; a chunk
	 * that goes over fails the transaction at its own reply */
	static const struct {
		const char *name;
		int n;
		size_t sizes[3];	/* the last one goes with LAST */
		const char *want;	/* the chunks' replies */
	} cases[] = {
		{ "60 + 60 LAST", 2, { 60, 60 }, "250 2.0.0|552 5.3.4" },
		{ "60 + 60 + 0 LAST", 3, { 60, 60, 0 },
		  "250 2.0.0|552 5.3.4|503 5.5.1" },
		{ "50 + 50 LAST, exactly the limit", 2, { 50, 50 },
		  "250 2.0.0|250 2.0.0" },
		{ "100 + 1 LAST", 2, { 100, 1 }, "250 2.0.0|552 5.3.4" },
		{ "100 + 1 + 0 LAST", 3, { 100, 1, 0 },
		  "250 2.0.0|552 5.3.4|503 5.5.1" },
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct h_opts o = { .args = { "--max-size", "100" } };
		char *in = h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n");
		int i, ok = strstr(cases[k].want, "5.") == NULL;
		struct h_result r;

		for (i = 0; i < cases[k].n; i++)
			in = h_strf("%s%s", in, h_bdat(h_strf("%.*s",
			    (int)cases[k].sizes[i], h_repeat("x", 200)),
			    i == cases[k].n - 1));
		h_fresh();
		h_run(&r, &o, h_strf("%sNOOP\r\nQUIT\r\n", in));
		ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
		    "250 2.1.5|250 2.1.5|%s|250 2.0.0|221 2.0.0",
		    cases[k].want)) == 0, "%s: '%s'", cases[k].name,
		    h_codes(r.out));
		ck_assert_int_eq(h_count(h_dir), ok ? 2 : 0);
		if (ok)
			ck_assert_str_eq(h_run_body(1), h_repeat("x", 100));
	}
}
END_TEST

START_TEST(test_bdat_hops)
{
	/* the Received: headers as received, across chunk boundaries */
	static const struct {
		const char *hops;
		const char *chunks[4];
		const char *want;	/* the LAST chunk's reply */
	} cases[] = {
		{ "1", { "Received: from a\r\nRec", "eived: from b\r\n"
		    "\r\nbody\r\n" }, "554 5.4.6" },
		{ "1", { "Received: from a\r", "\nReceived: from b\r\n\r\n",
		    "x\r\n" }, "554 5.4.6" },
		{ "2", { "Received: from a\r\nRec", "eived: from b\r\n"
		    "\r\nbody\r\n" }, "250 2.0.0" },
		{ "1", { "Received: from a\r\n\r\n", "Received: in the body"
		    "\r\n" }, "250 2.0.0" },
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct h_opts o = { .args = { "--max-hops", cases[k].hops } };
		char *in = h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\n");
		char *want = h_strf("220|250|250 2.1.0|250 2.1.5");
		struct h_result r;
		int n, i;

		for (n = 0; n < 4 && cases[k].chunks[n] != NULL; n++)
			;
		for (i = 0; i < n; i++) {
			in = h_strf("%s%s", in, h_bdat(cases[k].chunks[i],
			    i == n - 1));
			want = h_strf("%s|%s", want, i == n - 1 ?
			    cases[k].want : "250 2.0.0");
		}
		h_fresh();
		h_run(&r, &o, h_strf("%sQUIT\r\n", in));
		ck_assert_msg(strcmp(h_codes(r.out), h_strf("%s|221 2.0.0",
		    want)) == 0, "case %zu: '%s'", k, h_codes(r.out));
		ck_assert_int_eq(h_count(h_dir),
		    cases[k].want[0] == '2' ? 1 : 0);
	}
}
END_TEST

/* The BDAT command and its data in many writes with pauses between. */
#define SPLIT_D1	"Subject: split\r\n\r\nline\r\n.\r\n..two\r\n"
#define SPLIT_D2	"three\r\nfour\r\n"
#define SPLIT_WANT	"Subject: split\n\nline\n.\n..two\nthree\nfour\n"

/* split_marks - where test_bdat_split_reads ends its writes: cut[i] 'x'
 * ends one after octet i.  how 0: every octet alone; 1: a cut after
 * every CR (each CRLF split, the command's and the data's); 2: a cut
 * inside the verb, the size and before LAST; 3: the command alone, then
 * the data */
static char *
split_marks(const char *stream, size_t len, int how)
{
	char *cut = h_strf("%*s", (int)len, "");
	size_t i;

	for (i = 0; i < len; i++) {
		const char *bd = strstr(stream + i, "BDAT");

		switch (how) {
		case 0:
			cut[i] = 'x';
			break;
		case 1:
			if (stream[i] == '\r')
				cut[i] = 'x';
			break;
		case 2:
			if (bd == stream + i) {
				cut[i + 1] = 'x';	/* "BD" | "AT" */
				cut[i + 5] = 'x';	/* "BDAT 3" | "4" */
			}
			if (strncmp(stream + i, " LAST", 5) == 0)
				cut[i + 2] = 'x';	/* " L" | "AST" */
			break;
		default:
			if (bd == stream + i)	/* the command line alone */
				cut[strstr(stream + i, "\r\n") - stream + 1] =
				    'x';
			break;
		}
	}
	return cut;
}

START_TEST(test_bdat_split_reads)
{
	/* _i: the cuts split_marks() makes */
	char *stream = h_strf("%s%sQUIT\r\n", h_bdat(SPLIT_D1, 0),
	    h_bdat(SPLIT_D2, 1));
	size_t i, len = strlen(stream);
	char *cut = split_marks(stream, len, _i);
	int strict;

	for (strict = 0; strict < 2; strict++) {
		/* a CRLF split across reads is no bare CR, even when strict */
		struct h_opts o = { .args = { strict ? "--strict-newlines" :
		    NULL }, .keep_open = 1 };
		struct h_proc p;
		struct h_result r;
		size_t from = 0;

		h_fresh();
		h_start(&p, &o);
		h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\n");
		for (i = 0; i < len; i++)
			if (cut[i] == 'x' || i == len - 1) {
				h_send(&p, stream + from, i + 1 - from);
				from = i + 1;
				h_pause(&p, _i == 0 ? 3 : 40);
			}
		h_finish(&p, &r);
		ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|"
		    "250 2.1.5|250 2.0.0|250 2.0.0|221 2.0.0") == 0,
		    "split %d%s: '%s'", _i, strict ? " (strict)" : "",
		    h_codes(r.out));
		ck_assert_msg(strstr(h_line(r.out, 4), h_strf(" %zu octets",
		    strlen(SPLIT_D1))) != NULL, "'%s'", h_line(r.out, 4));
		ck_assert_int_eq(h_count(h_dir), 1);
		ck_assert_str_eq(h_run_body(1), SPLIT_WANT);
	}
}
END_TEST

START_TEST(test_bdat_lock_step)
{
	/* a client that waits for each chunk's reply: it is flushed while
	 * the server waits for the next chunk; data split mid-CRLF */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<u@mx.example>\r\n", "250 2.1.5");
	h_sends(&p, "BDAT 11\r\nab\r");
	h_pause(&p, 100);
	ck_assert_msg(p.outlen == p.seen, "a reply before the chunk is "
	    "whole: '%s'", p.out + p.seen);
	h_sends(&p, "\ncd\r\n");
	h_pause(&p, 50);
	ck_assert_int_eq(p.outlen, p.seen);
	h_say(&p, "ef\r", "250 2.0.0");
	h_sends(&p, "BDAT 3 LAST\r\n\n");
	h_pause(&p, 100);
	ck_assert_int_eq(p.outlen, p.seen);
	h_say(&p, "g\r", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_run_body(1), "ab\ncd\nef\ng\n");
}
END_TEST

/* large_data - total octets of lines of varying length, with
 * "\r\n.\r\n", ".." and "." lines */
static char *
large_data(size_t total)
{
	char *data = h_strf("%*s", (int)total, "");
	size_t i, at;

	for (i = 0, at = 0; at < total; i++) {
		char *line;
		size_t l;

		if (i % 7 == 0)
			line = h_strf("%s", ".\r\n");
		else if (i % 5 == 0)
			line = h_strf("..stuffed %zu\r\n", i);
		else
			line = h_strf("line %zu %.*s\r\n", i, (int)(i % 97),
			    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
			    "qrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn"
			    "opqrstuvwxyzabcdefgh");
		l = strlen(line);

		memcpy(data + at, line, l < total - at ? l : total - at);
		at += l;
	}
	data[total] = '\0';
	return data;
}

/* large_cuts - where each chunk of test_bdat_large ends (the last one
 * LAST); how many */
static size_t
large_cuts(const char *data, size_t total, int how, size_t *cuts)
{
	size_t ncuts = 0;

	if (how == 1) {
		cuts[ncuts++] = 1048576;
	} else if (how == 2) {
		const char *cr = memchr(data + 300000, '\r', total - 300000);

		ck_assert_ptr_nonnull(cr);
		cuts[ncuts++] = 1;
		cuts[ncuts++] = (size_t)(cr - data) + 1;	/* mid-CRLF */
		cuts[ncuts++] = 777777;
		cuts[ncuts++] = total;				/* empty LAST */
	}
	cuts[ncuts++] = total;
	return ncuts;
}

/* large_session - the dialogue that sends data in those chunks, and
 * the reply codes it must get */
static char *
large_session(const char *data, const size_t *cuts, size_t ncuts,
    char **codes)
{
	char *in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\n");
	size_t from = 0, k;

	*codes = h_strf("220|250|250 2.1.0|250 2.1.5");
	for (k = 0; k < ncuts; k++) {
		in = h_strf("%sBDAT %zu%s\r\n%.*s", in, cuts[k] - from,
		    k == ncuts - 1 ? " LAST" : "",
		    (int)(cuts[k] - from), data + from);
		*codes = h_strf("%s|250 2.0.0", *codes);
		from = cuts[k];
	}
	*codes = h_strf("%s|221 2.0.0", *codes);
	return h_strf("%sQUIT\r\n", in);
}

/* A large message in chunks cut at awkward places, delivered exactly. */
START_TEST(test_bdat_large)
{
	/* _i 0: one 1 MiB LAST chunk; 1: 1 MiB then a small LAST;
	 * 2: cuts right after a CR, at odd offsets, and an empty LAST */
	size_t total = _i == 0 ? 1048576 : 1048576 + 12345, len, wlen;
	char *data = large_data(total), *in, *want, *d, *codes;
	size_t cuts[8], ncuts = large_cuts(data, total, _i, cuts);
	int crlf;

	in = large_session(data, cuts, ncuts, &codes);
	for (crlf = 0; crlf < 3; crlf++) {	/* 2: --strict-newlines */
		struct h_opts o = { .args = { crlf == 1 ? "--crlf" :
		    crlf == 2 ? "--strict-newlines" : NULL } };
		struct h_result r;

		h_fresh();
		h_runn(&r, &o, in, strlen(in));
		ck_assert_str_eq(h_codes(r.out), codes);
		ck_assert_int_eq(h_count(h_dir), 1);
		d = h_stdin(h_dir, 1, &len);
		d = (char *)h_body(d);
		if (crlf == 1) {
			want = data;
			wlen = total;
		} else {
			want = to_lf(data, total, &wlen);
		}
		ck_assert_msg(strlen(d) == wlen, "case %d pass %d: %zu octets "
		    "delivered, want %zu", _i, crlf, strlen(d), wlen);
		ck_assert_msg(memcmp(d, want, wlen) == 0, "case %d pass %d: "
		    "the delivered message differs", _i, crlf);
		h_assert_size_env(1);
	}
}
END_TEST

START_TEST(test_bdat_pipelined_group)
{
	/* EHLO, MAIL, RCPT, RCPT, BDAT 10, BDAT 5 LAST, QUIT in one write */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "BDAT 10\r\nSubj:1\r\n\r\nBDAT 5 LAST\r\nxyz\r\nQUIT\r\n");
	for (i = 0; i < 8; i++)
		ck_assert_msg(h_reply(&p, h_scaled(5000)) != NULL,
		    "only %d replies: '%s'", i, p.out);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(h_run_body(1), "Subj:1\n\nxyz\n");
	ck_assert_str_eq(h_run_body(2), "Subj:1\n\nxyz\n");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "b@mx.example");
}
END_TEST

START_TEST(test_bdat_mixed_outcome)
{
	/* without PRDR, BDAT LAST gets the one SMTP summary reply */
	struct h_result r;

	h_run(&r, NULL, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit67@mx.example>\r\n%s"
	    "QUIT\r\n", h_bdat(H_MSG, 1)));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|554 5.1.1|221 2.0.0");
	ck_assert_msg(strstr(h_line(r.out, 5), "1 of 2") != NULL, "'%s'",
	    h_line(r.out, 5));
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

/* The client disappears inside a chunk (or between a BDAT command and
 * its data): nothing is delivered and the server ends at once. */
static const char *const bdat_cuts[] = {
	"BDAT 100\r\nSubject: x\r\n\r\nhalf",
	"BDAT 100 LAST\r\nSubject: x\r\n\r\nhalf",
	"BDAT 20 LAST\r\n0123456789012345678",	/* one octet short */
	"BDAT 20 LAST\r\n",
	"BDAT 20 LAST",				/* no line end */
	"BDAT 4\r\nab\r\nBDAT 10 LAST\r\nxy",	/* in the second chunk */
	"BDAT 4\r\nab\r\n",			/* after a whole chunk */
};

START_TEST(test_bdat_disconnect)
{
	int hard;

	for (hard = 0; hard < 2; hard++) {
		struct h_proc p;
		struct h_result r;

		h_fresh();
		h_start(&p, NULL);
		h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n");
		h_sends(&p, bdat_cuts[_i]);
		h_expect(&p, "220");
		h_expect(&p, "250");
		h_expect(&p, "250 2.1.0");
		h_expect(&p, "250 2.1.5");
		h_expect(&p, "250 2.1.5");
		if (strstr(bdat_cuts[_i], "ab\r\n") != NULL)
			h_expect(&p, "250 2.0.0");
		h_pause(&p, 50);
		if (hard)
			shutdown(p.sock, SHUT_RDWR);
		else
			h_shut(&p);
		h_finish(&p, &r);
		ck_assert_msg(h_count(h_dir) == 0, "cut %d: an incomplete "
		    "message was delivered", _i);
		ck_assert_int_eq(r.code, 0);
		ck_assert_msg(r.ms < 3000, "exit after %ld ms", r.ms);
	}
}
END_TEST

START_TEST(test_bdat_spool_failure)
{
	/* an unusable spool: 451 4.3.0 at the first chunk, after its octets
	 * (which hold commands) are consumed; the session goes on */
	struct h_opts o = { .args = { "--spool", h_subdir("nonexistent") } };
	int last;

	for (last = 0; last < 2; last++) {
		struct h_result r;

		h_fresh();
		o.args[1] = h_subdir("nonexistent");
		h_run(&r, &o, h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n%s"
		    "NOOP\r\nQUIT\r\n", h_bdat("QUIT\r\nRSET\r\n", last)));
		ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|"
		    "250 2.1.5|451 4.3.0|250 2.0.0|221 2.0.0") == 0, "%s: '%s'",
		    last ? "LAST" : "not LAST", h_codes(r.out));
		ck_assert_int_eq(h_count(h_dir), 0);
	}
}
END_TEST

START_TEST(test_bdat_file_size_limit)
{
	/* over a file-size limit while spooling a chunk: 452 4.3.1 */
	struct h_opts o = { .fsize = 65536 };
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	int last;

	for (last = 0; last < 2; last++) {
		struct h_result r;

		h_fresh();
		h_run(&r, &o, h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n%s"
		    "RSET\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<b@mx.example>\r\n%sQUIT\r\n", h_bdat(big, last),
		    h_bdat("small\r\n", 1)));
		ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|"
		    "250 2.1.5|452 4.3.1|250 2.0.0|250 2.1.0|250 2.1.5|"
		    "250 2.0.0|221 2.0.0") == 0, "%s: '%s'", last ? "LAST" :
		    "not LAST", h_codes(r.out));
		assert_only_small("b@mx.example");
	}
}
END_TEST

START_TEST(test_bdat_timeout)
{
	/* a client that stops inside a chunk: 421 4.4.2 after --timeout,
	 * nothing delivered, exit 0 */
	struct h_opts o = { .args = { "--timeout", "1" }, .keep_open = 1,
	    .timeout_ms = 8000 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nBDAT 4\r\nab\r\nBDAT 100 LAST\r\n"
	    "Subject: x\r\n\r\nhalf");
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|421 4.4.2");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms >= 900 && r.ms < 4000, "took %ld ms", r.ms);
}
END_TEST

/* ====================================================== suites ==== */

Suite *
chunking_suite(void)
{
	Suite *s = suite_create("chunking");
	TCase *tc = h_tcase("data");

	tcase_add_loop_test(tc, test_bdat_verbatim, 0,
	    sizeof(chunk_cases) / sizeof(chunk_cases[0]));
	tcase_add_test(tc, test_bdat_last_case);
	tcase_add_loop_test(tc, test_bdat_strict_newlines, 0,
	    sizeof(strict_cases) / sizeof(strict_cases[0]));
	tcase_add_test(tc, test_bdat_size_limit);
	tcase_add_loop_test(tc, test_bdat_chunk_over_max_size, 0,
	    sizeof(over_cases) / sizeof(over_cases[0]));
	tcase_add_loop_test(tc, test_bdat_chunk_over_max_size_lmtp, 0,
	    sizeof(over_cases) / sizeof(over_cases[0]));
	tcase_add_test(tc, test_bdat_over_max_size_no_mail);
	tcase_add_test(tc, test_bdat_bad_size_at_error_limit);
	tcase_add_test(tc, test_bdat_hops);
	tcase_add_test(tc, test_bdat_mixed_outcome);
	tcase_add_test(tc, test_bdat_spool_failure);
	tcase_add_test(tc, test_bdat_file_size_limit);
	suite_add_tcase(s, tc);

	tc = h_tcase("sequence");
	tcase_add_test(tc, test_bdat_then_data);
	tcase_add_test(tc, test_bdat_then_rcpt);
	tcase_add_test(tc, test_bdat_rset);
	tcase_add_loop_test(tc, test_bdat_out_of_sequence, 0,
	    sizeof(seq_cases) / sizeof(seq_cases[0]));
	tcase_add_loop_test(tc, test_bdat_bad_size, 0,
	    sizeof(bad_sizes) / sizeof(bad_sizes[0]));
	suite_add_tcase(s, tc);

	tc = h_tcase("io");
	tcase_add_loop_test(tc, test_bdat_split_reads, 0, 4);
	tcase_add_test(tc, test_bdat_lock_step);
	tcase_add_loop_test(tc, test_bdat_large, 0, 3);
	tcase_add_test(tc, test_bdat_pipelined_group);
	tcase_add_test(tc, test_bdat_timeout);
	tcase_add_loop_test(tc, test_bdat_huge_chunk_stalls, 0, 2);
	tcase_add_loop_test(tc, test_bdat_disconnect, 0,
	    sizeof(bdat_cuts) / sizeof(bdat_cuts[0]));
	suite_add_tcase(s, tc);
	return s;
}

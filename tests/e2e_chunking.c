/*
 * e2e_chunking.c - the per-recipient and chunked parts of the protocol
 * (DESIGN.md "Protocol"; "Details": LMTP per-recipient replies, PRDR,
 * BDAT data; "Outcomes"):
 *
 *   lmtp      --lmtp: the greeting, LHLO, one reply per accepted
 *             recipient after the data and no summary, message-wide
 *             failures repeated once per recipient (RFC 2033 4.2)
 *   chunking  BDAT (RFC 3030): chunk octets taken verbatim, line ends
 *             converted, sequence errors only after the chunk is
 *             consumed, a malformed size closes the session, limits
 *             across chunks, chunks split across reads, disconnects
 *   prdr      MAIL ... PRDR (draft-hall-prdr): 353, one reply per
 *             recipient, a final reply
 *
 * Recipients' local parts choose the recorder's behaviour (ok, exit75,
 * exit67, dsn73, ...); everything delivered is compared byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

/* ---- helpers ---- */

/* bdat - one BDAT command with its chunk (the size counted here) */
static char *
bdat(const char *data, int last)
{
	return h_strf("BDAT %zu%s\r\n%s", strlen(data), last ? " LAST" : "",
	    data);
}

/* bdat_halves - data in two chunks, the second one LAST: a message over
 * --max-size whose chunks are each within it (a chunk over it alone
 * ends the session) */
static char *
bdat_halves(const char *data)
{
	size_t half = strlen(data) / 2;

	return h_strf("%s%s", bdat(h_strf("%.*s", (int)half, data), 0),
	    bdat(data + half, 1));
}

/* rcpts - "RCPT TO:<l@mx.example>\r\n" for each local part of a
 * NULL-terminated list (an entry with '@' is used as it is) */
static char *
rcpts(const char *const *l)
{
	char *s = h_strf("%s", "");
	size_t i;

	for (i = 0; l[i] != NULL; i++)
		s = h_strf("%sRCPT TO:<%s%s>\r\n", s, l[i],
		    strchr(l[i], '@') != NULL ? "" : "@mx.example");
	return s;
}

/* nrcpts - the length of a NULL-terminated list */
static int
nrcpts(const char *const *l)
{
	int n = 0;

	while (l[n] != NULL)
		n++;
	return n;
}

/* body - what run n received after the headers pipesmtpd added */
static const char *
body(int n)
{
	return h_body(h_stdin(h_dir, n, NULL));
}

/* assert_size_env - SIZE is the length of what run n read */
static void
assert_size_env(int n)
{
	size_t len;

	h_stdin(h_dir, n, &len);
	ck_assert_str_eq(h_env(h_dir, n, "SIZE"), h_strf("%zu", len));
}

/* to_lf - the reference conversion: CRLF (with any run of CRs before
 * the LF), bare CR and bare LF each become one LF (DESIGN.md: normalised
 * line ends) */
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

/* keywords - "|KW|KW|...|" of the EHLO/LHLO reply (the second reply),
 * the host name line left out */
static char *
keywords(const char *out)
{
	const char *p = strstr(out, "\r\n250");
	char *s = h_strf("|");
	int first = 1;

	ck_assert_ptr_nonnull(p);
	for (p += 2;;) {
		const char *e = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(e);
		ck_assert_msg(strncmp(p, "250-", 4) == 0 ||
		    strncmp(p, "250 ", 4) == 0, "bad EHLO/LHLO line in '%s'",
		    out);
		if (!first)
			s = h_strf("%s%.*s|", s, (int)(e - p - 4), p + 4);
		first = 0;
		if (p[3] == ' ')
			return s;
		p = e + 2;
	}
}

#define MSG_HOPS2	"Received: from a.example\r\nReceived: from " \
			"b.example\r\nSubject: x\r\n\r\nbody\r\n"
#define MSG_BARE_LF	"Subject: x\r\n\r\nbare\nLF\r\n"

/* ======================================================== LMTP ==== */

START_TEST(test_lmtp_greeting_lhlo)
{
	struct h_opts o = { .args = { "--lmtp", "--max-size", "123456",
	    "--max-rcpt", "7" } };
	static const char *const want[] = { "PIPELINING", "SIZE 123456",
	    "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING",
	    "LIMITS RCPTMAX=7" };
	struct h_result r;
	char *kw;
	size_t i;

	h_run(&r, &o, "LHLO c.example\r\nHELO c.example\r\n"
	    "EHLO c.example\r\nLHLO c.example\r\nQUIT\r\n");
	ck_assert_str_eq(h_line(r.out, 0), "220 " H_HOST " LMTP pipesmtpd");
	ck_assert_str_eq(h_codes(r.out),
	    "220|250|500 5.5.1|500 5.5.1|250|221 2.0.0");
	kw = keywords(r.out);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(kw, h_strf("|%s|", want[i])) != NULL,
		    "LHLO lacks '%s': '%s'", want[i], kw);
	ck_assert_msg(strstr(kw, "|PRDR|") == NULL, "LHLO advertises PRDR: "
	    "'%s'", kw);
	/* nothing else: the keywords and their count */
	{
		int n = 0;
		const char *p;

		for (p = kw + 1; (p = strchr(p, '|')) != NULL; p++)
			n++;
		ck_assert_msg(n == 7, "LHLO keywords: '%s'", kw);
	}
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_helo_ehlo_refused)
{
	/* HELO/EHLO are no greeting under LMTP: MAIL still needs LHLO */
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "HELO c.example\r\nMAIL FROM:<s@x.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|500 5.5.1|503 5.5.1|"
	    "500 5.5.1|503 5.5.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_lmtp_prdr_refused)
{
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example> PRDR\r\n"
	    "MAIL FROM:<s@x.example> prdr\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|555 5.5.4|555 5.5.4|"
	    "250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

/* The per-recipient replies, over DATA and over BDAT LAST. */
START_TEST(test_lmtp_per_recipient)
{
	static const char *const rc[] = { "ok", "nobody@other.example",
	    "exit75", "exit67", "dsn73", NULL };
	static const char *const delivered[] = { "ok", "exit75", "exit67",
	    "dsn73" };
	struct h_opts o = { .args = { "--lmtp" } };
	const char *msg = "Subject: lmtp\r\n\r\nline\r\n..dot\r\n";
	struct h_result r;
	char *in, *l, *rec;
	int i;

	/* _i 0: DATA (dot-stuffed); 1: BDAT LAST (taken verbatim) */
	in = h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n%s%s"
	    "NOOP\r\nQUIT\r\n", rcpts(rc), _i == 0 ?
	    h_strf("DATA\r\n%s.\r\n", msg) : bdat(msg, 1));
	h_run(&r, &o, in);
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250|250 2.1.0|"
	    "250 2.1.5|550 5.7.1|250 2.1.5|250 2.1.5|250 2.1.5|%s"
	    "250 2.0.0|451 4.3.0|550 5.1.1|550 5.2.2|"
	    "250 2.0.0|221 2.0.0", _i == 0 ? "354|" : ""));
	/* the refused recipient has no reply: the 4 after the data are the
	 * accepted ones', in RCPT order, then the NOOP's */
	l = h_line(r.out, _i == 0 ? 12 : 11);
	ck_assert_msg(strstr(l, "mailbox full") != NULL, "dsn73: '%s'", l);
	ck_assert_int_eq(h_count(h_dir), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(h_env(h_dir, i + 1, "RECIPIENT"),
		    h_strf("%s@mx.example", delivered[i]));
		ck_assert_str_eq(body(i + 1), _i == 0 ?
		    "Subject: lmtp\n\nline\n.dot\n" :
		    "Subject: lmtp\n\nline\n..dot\n");
		assert_size_env(i + 1);
	}
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(strstr(rec, " with LMTP ") != NULL, "'%s'", rec);
	ck_assert_msg(strstr(rec, "by " H_HOST " ") != NULL, "'%s'", rec);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_single_recipient_each_outcome)
{
	/* one recipient per transaction, several transactions */
	static const char *const cases[][2] = {
		{ "ok", "250 2.0.0" }, { "exit75", "451 4.3.0" },
		{ "exit71", "451 4.3.0" }, { "exit67", "550 5.1.1" },
		{ "exit68", "550 5.1.2" }, { "exit65", "550 5.6.0" },
		{ "exit73", "550 5.2.0" }, { "exit77", "550 5.7.0" },
		{ "exit78", "550 5.3.5" }, { "exit1", "550 5.3.0" },
		{ "dsn73", "550 5.2.2" }, { "dsn75", "451 4.2.2" },
		{ "crash", "451 4.3.0" },
	};
	struct h_opts o = { .args = { "--lmtp" } };
	char *in = h_strf("LHLO c.example\r\n");
	char *want = h_strf("220|250");
	struct h_result r;
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	for (i = 0; i < n; i++) {
		in = h_strf("%sMAIL FROM:<s@x.example>\r\nRCPT TO:<%s@"
		    "mx.example>\r\nDATA\r\n" H_MSG ".\r\n", in, cases[i][0]);
		want = h_strf("%s|250 2.1.0|250 2.1.5|354|%s", want,
		    cases[i][1]);
	}
	h_run(&r, &o, h_strf("%sQUIT\r\n", in));
	ck_assert_str_eq(h_codes(r.out), h_strf("%s|221 2.0.0", want));
	ck_assert_int_eq(h_count(h_dir), (int)n);
}
END_TEST

/* A message-wide failure: the same reply once per accepted recipient. */
struct lmtp_fail_case {
	const char *name;
	const char *opt[3];
	const char *msg;
	const char *want;
};

static const struct lmtp_fail_case lmtp_fail_cases[] = {
	{ "size", { "--max-size", "100" }, NULL, "552 5.3.4" },	/* 166 */
	{ "hops", { "--max-hops", "1" }, MSG_HOPS2, "554 5.4.6" },
	{ "bare LF", { "--strict-newlines" }, MSG_BARE_LF, "554 5.6.0" },
	{ "bare CR", { "--strict-newlines" }, "Subject: x\r\n\r\na\rb\r\n",
	  "554 5.6.0" },
};

START_TEST(test_lmtp_message_wide)
{
	const struct lmtp_fail_case *c = &lmtp_fail_cases[_i];
	static const char *const rc[] = { "a", "nobody@other.example",
	    "exit67", "b", NULL };
	const char *msg = c->msg != NULL ? c->msg :
	    h_strf("Subject: x\r\n\r\n%s\r\n", h_repeat("y", 150));
	int via;

	for (via = 0; via < 2; via++) {		/* DATA, BDAT + BDAT LAST */
		struct h_opts o = { .args = { "--lmtp", c->opt[0], c->opt[1],
		    c->opt[2] } };
		struct h_result r;
		char *in;

		h_fresh();
		in = h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n%s%s"
		    "NOOP\r\nQUIT\r\n", rcpts(rc), via == 0 ?
		    h_strf("DATA\r\n%s.\r\n", msg) : bdat_halves(msg));
		h_run(&r, &o, in);
		ck_assert_msg(strcmp(h_codes(r.out), h_strf("220|250|250 2.1.0|"
		    "250 2.1.5|550 5.7.1|250 2.1.5|250 2.1.5|%s%s|%s|%s|"
		    "250 2.0.0|221 2.0.0", via == 0 ? "354|" : "250 2.0.0|",
		    c->want,
		    c->want, c->want)) == 0, "%s via %s: '%s'", c->name,
		    via == 0 ? "DATA" : "BDAT", h_codes(r.out));
		ck_assert_msg(h_count(h_dir) == 0, "%s: delivered", c->name);
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

START_TEST(test_lmtp_pipelined_group)
{
	/* LHLO, MAIL, RCPT x3, DATA, the message and QUIT in one write:
	 * every reply in order, without the client closing its side */
	struct h_opts o = { .args = { "--lmtp" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_sends(&p, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n");
	for (i = 0; i < 11; i++)
		ck_assert_msg(h_reply(&p, 5000) != NULL, "only %d replies: "
		    "'%s'", i, p.out);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|354|250 2.0.0|451 4.3.0|550 5.1.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 3);
	for (i = 1; i <= 3; i++)
		ck_assert_str_eq(body(i), H_MSG_LF);
}
END_TEST

START_TEST(test_lmtp_lock_step)
{
	/* each recipient's reply is sent as soon as its delivery ended:
	 * a lock-step client reads them one by one after the dot */
	struct h_opts o = { .args = { "--lmtp" }, .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 " H_HOST " LMTP");
	h_say(&p, "LHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<exit67@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<ok@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_sends(&p, H_MSG ".\r\n");
	h_expect(&p, "550 5.1.1");
	h_expect(&p, "250 2.0.0");
	h_pause(&p, 100);
	ck_assert_msg(p.outlen == p.seen, "a summary reply: '%s'",
	    p.out + p.seen);
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_lmtp_chunk_failure)
{
	/* a failure inside a non-LAST chunk is that chunk's one reply (the
	 * transaction has failed, RFC 3030); per-recipient replies are
	 * only for the end of the data */
	struct h_opts o = { .args = { "--lmtp", "--max-size", "50" } };
	struct h_result r;
	char *chunk = bdat(h_repeat("0123456789", 3), 0);

	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n%s%s"
	    "RSET\r\nNOOP\r\nQUIT\r\n", chunk, chunk));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.0.0|552 5.3.4|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

/* Spool failures under LMTP: refusing the DATA command is one reply
 * (there is no data yet); a failure of the message, after the dot or
 * at BDAT LAST, is repeated per recipient (DESIGN.md: spool 452 4.3.1 /
 * 451 4.3.0; RFC 2033 4.2, 4.3). */
static const struct {
	const char *name;
	int bad_spool;		/* else RLIMIT_FSIZE 65536 */
	int via;		/* 0 DATA, 1 BDAT LAST, 2 BDAT (not LAST) */
	const char *want;	/* the replies from the data on */
} lmtp_spool_cases[] = {
	{ "unusable spool, DATA", 1, 0, "451 4.3.0" },
	{ "unusable spool, BDAT LAST", 1, 1, "451 4.3.0|451 4.3.0" },
	{ "unusable spool, BDAT", 1, 2, "451 4.3.0" },
	{ "file-size limit, DATA", 0, 0, "354|452 4.3.1|452 4.3.1" },
	{ "file-size limit, BDAT LAST", 0, 1, "452 4.3.1|452 4.3.1" },
	{ "file-size limit, BDAT", 0, 2, "452 4.3.1" },
};

START_TEST(test_lmtp_spool_failure)
{
	struct h_opts o = { .args = { "--lmtp" } };
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	const char *msg = lmtp_spool_cases[_i].bad_spool ? H_MSG : big;
	struct h_result r;
	char *data, *got;

	if (lmtp_spool_cases[_i].bad_spool) {
		o.args[1] = "--spool";
		o.args[2] = h_subdir("nonexistent");
	} else {
		o.fsize = 65536;
	}
	data = lmtp_spool_cases[_i].via == 0 ? h_strf("DATA\r\n%s.\r\n",
	    msg) : bdat(msg, lmtp_spool_cases[_i].via == 1);
	if (lmtp_spool_cases[_i].via == 0 && lmtp_spool_cases[_i].bad_spool)
		data = h_strf("DATA\r\n");	/* the client waits for 354 */
	h_run(&r, &o, h_strf("LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n%s"
	    "RSET\r\nNOOP\r\nQUIT\r\n", data));
	got = h_codes(r.out);
	ck_assert_msg(strcmp(got, h_strf("220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|%s|250 2.0.0|250 2.0.0|221 2.0.0",
	    lmtp_spool_cases[_i].want)) == 0, "%s: '%s', want '...|%s|"
	    "250 2.0.0|250 2.0.0|221 2.0.0'", lmtp_spool_cases[_i].name, got,
	    lmtp_spool_cases[_i].want);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_lmtp_rcpt_limit)
{
	/* a recipient over --max-rcpt was refused: no reply after data */
	struct h_opts o = { .args = { "--lmtp", "--max-rcpt", "2" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<exit67@mx.example>\r\n"
	    "RCPT TO:<c@mx.example>\r\nDATA\r\n" H_MSG ".\r\nNOOP\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|452 4.5.3|354|250 2.0.0|550 5.1.1|250 2.0.0|"
	    "221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_lmtp_bdat_last_no_rcpt)
{
	/* RFC 2033 4.3: BDAT LAST in a transaction without any accepted
	 * recipient returns zero replies; its octets are still consumed
	 * ("NOOP" inside them is never run) and nothing is delivered */
	struct h_opts o = { .args = { "--lmtp" } };
	struct h_result r;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@elsewhere.example>\r\nBDAT 6 LAST\r\nNOOP\r\n"
	    "MAIL FROM:<t@x.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.7.1|"
	    "250 2.1.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_lmtp_delivered_to_loop)
{
	/* --delivered-to: the looping recipient's own reply is a permanent
	 * per-recipient failure (550 5.4.6), the others are delivered */
	struct h_opts o = { .args = { "--lmtp", "--delivered-to" } };
	struct h_result r;
	char *d;

	h_run(&r, &o, "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nDelivered-To: b@mx.example\r\nSubject: x\r\n\r\nbody\r\n"
	    ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|250 2.0.0|550 5.4.6|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "a@mx.example");
	d = h_stdin(h_dir, 1, NULL);
	ck_assert_msg(strncmp(d, "Return-Path: <s@x.example>\n"
	    "Delivered-To: a@mx.example\nReceived: ", 64) == 0, "'%s'", d);
	ck_assert_str_eq(h_body(d), "Delivered-To: b@mx.example\n"
	    "Subject: x\n\nbody\n");
}
END_TEST

/* ==================================================== CHUNKING ==== */

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
			in = h_strf("%s%s", in, bdat(c->chunks[i], i == n - 1));
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
		ck_assert_msg(strcmp(body(1), crlf ? c->want_crlf : c->want) ==
		    0, "%s%s: delivered '%s'", c->name, crlf ? " (--crlf)" :
		    "", body(1));
		assert_size_env(1);
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
	ck_assert_str_eq(body(1), "ab\n");
	ck_assert_str_eq(body(2), "cd\n");
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
		in = h_strf("%s%s", in, bdat(c->chunks[i], i == n - 1));
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
	ck_assert_str_eq(body(1), "abc\ndef\n");
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
	ck_assert_str_eq(body(1), "ab\n");
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
	ck_assert_str_eq(body(1), "ef\n");
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
		    bdat(chunk, last)));
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

START_TEST(test_bdat_chunk_over_max_size)
{
	/* a chunk whose size alone is over --max-size is never read: 552,
	 * then 421 and close at once, even with an 18-digit size and a
	 * client that keeps its side open */
	static const char *const sizes[] = { "101", "101 LAST",
	    "999999999999999999", "999999999999999999 LAST" };
	struct h_opts o = { .args = { "--max-size", "100" }, .keep_open = 1,
	    .timeout_ms = 5000 };
	struct h_result r;
	struct h_proc p;

	h_start(&p, &o);
	h_sends(&p, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nBDAT %s\r\nabc\r\nNOOP\r\n",
	    sizes[_i]));
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "552 5.3.4|421 4.5.0");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms < 3000, "closed after %ld ms", r.ms);
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
			in = h_strf("%s%s", in, bdat(h_strf("%.*s",
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
			ck_assert_str_eq(body(1), h_repeat("x", 100));
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
			in = h_strf("%s%s", in, bdat(cases[k].chunks[i],
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

START_TEST(test_bdat_split_reads)
{
	/* _i 0: every octet alone; 1: a cut after every CR (each CRLF
	 * split, the command's and the data's); 2: a cut inside the verb,
	 * the size and before LAST; 3: the command alone, then the data */
	char *stream = h_strf("%s%sQUIT\r\n", bdat(SPLIT_D1, 0),
	    bdat(SPLIT_D2, 1));
	size_t i, len = strlen(stream);
	char *cut;
	int strict;

	cut = h_strf("%*s", (int)len, "");
	for (i = 0; i < len; i++) {	/* cut[i] 'x': a write ends after i */
		const char *bd = strstr(stream + i, "BDAT");

		switch (_i) {
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
		ck_assert_str_eq(body(1), SPLIT_WANT);
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
	ck_assert_str_eq(body(1), "ab\ncd\nef\ng\n");
}
END_TEST

/* A large message in chunks cut at awkward places, delivered exactly. */
START_TEST(test_bdat_large)
{
	/* _i 0: one 1 MiB LAST chunk; 1: 1 MiB then a small LAST;
	 * 2: cuts right after a CR, at odd offsets, and an empty LAST */
	const size_t mib = 1048576;
	size_t total = _i == 0 ? mib : mib + 12345, len, wlen, i;
	char *data = h_strf("%*s", (int)total, ""), *in, *want, *d;
	size_t cuts[8], ncuts = 0, at;
	int crlf;

	/* lines of varying length, with "\r\n.\r\n", ".." and "." lines */
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
	if (_i == 1) {
		cuts[ncuts++] = mib;
	} else if (_i == 2) {
		char *cr = memchr(data + 300000, '\r', total - 300000);

		ck_assert_ptr_nonnull(cr);
		cuts[ncuts++] = 1;
		cuts[ncuts++] = (size_t)(cr - data) + 1;	/* mid-CRLF */
		cuts[ncuts++] = 777777;
		cuts[ncuts++] = total;				/* empty LAST */
	}
	cuts[ncuts++] = total;
	for (crlf = 0; crlf < 3; crlf++) {	/* 2: --strict-newlines */
		struct h_opts o = { .args = { crlf == 1 ? "--crlf" :
		    crlf == 2 ? "--strict-newlines" : NULL } };
		struct h_result r;
		size_t from = 0, k;
		char *codes = h_strf("220|250|250 2.1.0|250 2.1.5");

		in = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\n");
		for (k = 0; k < ncuts; k++) {
			in = h_strf("%sBDAT %zu%s\r\n%.*s", in, cuts[k] - from,
			    k == ncuts - 1 ? " LAST" : "",
			    (int)(cuts[k] - from), data + from);
			codes = h_strf("%s|250 2.0.0", codes);
			from = cuts[k];
		}
		in = h_strf("%sQUIT\r\n", in);
		h_fresh();
		h_runn(&r, &o, in, strlen(in));
		ck_assert_str_eq(h_codes(r.out), h_strf("%s|221 2.0.0", codes));
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
		assert_size_env(1);
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
		ck_assert_msg(h_reply(&p, 5000) != NULL, "only %d replies: "
		    "'%s'", i, p.out);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 2);
	ck_assert_str_eq(body(1), "Subj:1\n\nxyz\n");
	ck_assert_str_eq(body(2), "Subj:1\n\nxyz\n");
	ck_assert_str_eq(h_env(h_dir, 2, "RECIPIENT"), "b@mx.example");
}
END_TEST

START_TEST(test_bdat_mixed_outcome)
{
	/* without PRDR, BDAT LAST gets the one SMTP summary reply */
	struct h_result r;

	h_run(&r, NULL, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit67@mx.example>\r\n%s"
	    "QUIT\r\n", bdat(H_MSG, 1)));
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
		    "NOOP\r\nQUIT\r\n", bdat("QUIT\r\nRSET\r\n", last)));
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
		    "RCPT TO:<b@mx.example>\r\n%sQUIT\r\n", bdat(big, last),
		    bdat("small\r\n", 1)));
		ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|"
		    "250 2.1.5|452 4.3.1|250 2.0.0|250 2.1.0|250 2.1.5|"
		    "250 2.0.0|221 2.0.0") == 0, "%s: '%s'", last ? "LAST" :
		    "not LAST", h_codes(r.out));
		ck_assert_int_eq(h_count(h_dir), 1);
		ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
		ck_assert_str_eq(body(1), "small\n");
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

/* ======================================================== PRDR ==== */

struct prdr_case {
	const char *rcpts[5];
	const char *each;	/* the per-recipient codes */
	const char *final;	/* the final reply's start */
};

static const struct prdr_case prdr_cases[] = {
	{ { "ok", "exit75", "exit67" }, "250 2.0.0|451 4.3.0|550 5.1.1",
	  "250 2.0.0" },
	{ { "exit67", "dsn73" }, "550 5.1.1|550 5.2.2", "554 5." },
	{ { "exit75", "exit67" }, "451 4.3.0|550 5.1.1", "451 4." },
	{ { "exit67", "exit75" }, "550 5.1.1|451 4.3.0", "451 4." },
	{ { "ok" }, "250 2.0.0", "250 2.0.0" },
	{ { "exit75" }, "451 4.3.0", "451 4." },
	{ { "exit67" }, "550 5.1.1", "554 5." },
	{ { "a", "b", "c" }, "250 2.0.0|250 2.0.0|250 2.0.0", "250 2.0.0" },
	{ { "exit67", "ok" }, "550 5.1.1|250 2.0.0", "250 2.0.0" },
	{ { "crash", "dsn75", "exit78" }, "451 4.3.0|451 4.2.2|550 5.3.5",
	  "451 4." },
};

/* prdr_check - the replies from the 353 on (at reply `at`) */
static void
prdr_check(const struct h_result *r, const struct prdr_case *c, int at,
    const char *what)
{
	int n = 0, i;
	char *codes = h_strf("%s", "");
	char *fin;

	while (n < 5 && c->rcpts[n] != NULL)
		n++;
	for (i = 0; i < n + 1; i++) {
		char *l = h_line(r->out, at + i);
		char *one = h_codes(h_strf("%s\r\n", l ? l : "?"));

		codes = h_strf("%s%s%s", codes, i ? "|" : "", one);
	}
	ck_assert_msg(strcmp(codes, h_strf("353|%s", c->each)) == 0,
	    "%s: '%s', want '353|%s'", what, codes, c->each);
	fin = h_line(r->out, at + n + 1);
	ck_assert_msg(fin != NULL && strncmp(fin, c->final,
	    strlen(c->final)) == 0, "%s: final '%s', want '%s...'", what,
	    fin ? fin : "nothing", c->final);
	/* then the NOOP's and QUIT's replies only */
	ck_assert_msg(h_nreplies(r->out) == at + n + 4, "%s: '%s'", what,
	    h_codes(r->out));
	ck_assert_msg(strncmp(h_line(r->out, at + n + 2), "250 2.0.0 ", 10) ==
	    0, "%s: '%s'", what, h_codes(r->out));
}

START_TEST(test_prdr_table)
{
	const struct prdr_case *c = &prdr_cases[_i];
	int n = nrcpts(c->rcpts), via, i;

	for (via = 0; via < 3; via++) {	/* DATA, BDAT LAST, BDAT + LAST */
		struct h_result r;
		const char *data = via == 0 ? "DATA\r\n" H_MSG ".\r\n" :
		    via == 1 ? bdat(H_MSG, 1) : h_strf("%s%s",
		    bdat("Subject: test\r\n", 0), bdat("\r\nHello.\r\n", 1));
		char *head;

		h_fresh();
		h_run(&r, NULL, h_strf("EHLO c.example\r\n"
		    "MAIL FROM:<s@x.example> PRDR\r\n%s%sNOOP\r\nQUIT\r\n",
		    rcpts(c->rcpts), data));
		head = h_strf("220|250|250 2.1.0%s%s",
		    h_repeat("|250 2.1.5", (size_t)n),
		    via == 0 ? "|354" : via == 2 ? "|250 2.0.0" : "");
		ck_assert_msg(strncmp(h_codes(r.out), head, strlen(head)) == 0,
		    "case %d via %d: '%s'", _i, via, h_codes(r.out));
		prdr_check(&r, c, 3 + n + (via != 1), h_strf("case %d via %d",
		    _i, via));
		ck_assert_int_eq(h_count(h_dir), n);
		for (i = 1; i <= n; i++) {
			ck_assert_str_eq(body(i), H_MSG_LF);
			ck_assert_str_eq(h_env(h_dir, i, "RECIPIENT"),
			    h_strf("%s@mx.example", c->rcpts[i - 1]));
		}
	}
}
END_TEST

START_TEST(test_prdr_lock_step)
{
	/* the 353 and each recipient's reply come as they are decided */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_say(&p, "MAIL FROM:<s@x.example> PRDR\r\n", "250 2.1.0");
	h_say(&p, "RCPT TO:<ok@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "RCPT TO:<exit67@mx.example>\r\n", "250 2.1.5");
	h_say(&p, "DATA\r\n", "354");
	h_sends(&p, H_MSG ".\r\n");
	h_expect(&p, "353");
	h_expect(&p, "250 2.0.0");
	h_expect(&p, "550 5.1.1");
	h_expect(&p, "250 2.0.0");
	h_pause(&p, 100);
	ck_assert_int_eq(p.outlen, p.seen);
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_prdr_message_wide)
{
	/* a message-wide failure: one ordinary reply, no 353, nothing run */
	static const struct {
		const char *opt[3];
		const char *msg;
		const char *want;
	} cases[] = {
		{ { "--max-size", "80" }, NULL, "552 5.3.4" },	/* 116 */
		{ { "--max-hops", "1" }, MSG_HOPS2, "554 5.4.6" },
		{ { "--strict-newlines" }, MSG_BARE_LF, "554 5.6.0" },
	};
	size_t k;
	int via;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (via = 0; via < 2; via++) {
			struct h_opts o = { .args = { cases[k].opt[0],
			    cases[k].opt[1], cases[k].opt[2] } };
			const char *msg = cases[k].msg != NULL ? cases[k].msg :
			    h_strf("Subject: x\r\n\r\n%s\r\n",
			    h_repeat("z", 100));
			struct h_result r;
			char *got;

			h_fresh();
			h_run(&r, &o, h_strf("EHLO c.example\r\n"
			    "MAIL FROM:<s@x.example> PRDR\r\n"
			    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>"
			    "\r\n%sNOOP\r\nQUIT\r\n", via == 0 ?
			    h_strf("DATA\r\n%s.\r\n", msg) :
			    bdat_halves(msg)));
			got = h_codes(r.out);
			ck_assert_msg(strcmp(got, h_strf("220|250|250 2.1.0|"
			    "250 2.1.5|250 2.1.5|%s%s|250 2.0.0|221 2.0.0",
			    via == 0 ? "354|" : "250 2.0.0|", cases[k].want)) ==
			    0,
			    "case %zu via %s: '%s'", k, via ? "BDAT" : "DATA",
			    got);
			ck_assert_int_eq(h_count(h_dir), 0);
		}
}
END_TEST

START_TEST(test_prdr_only_when_asked)
{
	/* without the parameter: one summary reply; the parameter holds
	 * for its own transaction only; it combines with others */
	struct h_result r;

	h_run(&r, NULL, "EHLO c.example\r\n"
	    "MAIL FROM:<s@x.example> SIZE=100 prdr BODY=8BITMIME\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\n"
	    "MAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<ok@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\n"
	    "MAIL FROM:<s@x.example> PRDR\r\nRSET\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<exit67@mx.example>\r\n"
	    "BDAT 3 LAST\r\nx\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|"
	    "250 2.1.0|250 2.1.5|250 2.1.5|354|353|250 2.0.0|451 4.3.0|"
	    "250 2.0.0|"
	    "250 2.1.0|250 2.1.5|250 2.1.5|250 2.1.5|354|451 4.3.0|"
	    "250 2.1.0|250 2.0.0|"
	    "250 2.1.0|250 2.1.5|554 5.1.1|221 2.0.0");
	ck_assert_msg(strstr(h_line(r.out, 15), "1 of 3") != NULL, "'%s'",
	    h_line(r.out, 15));
	ck_assert_int_eq(h_count(h_dir), 6);
}
END_TEST

START_TEST(test_prdr_advertised)
{
	struct h_result r;
	char *kw;

	h_run(&r, NULL, "EHLO c.example\r\nQUIT\r\n");
	kw = keywords(r.out);
	ck_assert_msg(strstr(kw, "|PRDR|") != NULL, "'%s'", kw);
	ck_assert_msg(strstr(kw, "|CHUNKING|") != NULL, "'%s'", kw);
}
END_TEST

START_TEST(test_prdr_spool_and_loop)
{
	/* PRDR: a spool failure of the message is one ordinary reply; a
	 * Delivered-To loop is one recipient's own 550 5.4.6 */
	char *big = h_repeat("0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef\r\n", 4000);
	struct h_opts o1 = { .fsize = 65536 };
	struct h_opts o2 = { .args = { "--delivered-to" } };
	struct h_result r;

	h_run(&r, &o1, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example> PRDR"
	    "\r\nRCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\n%s.\r\nQUIT\r\n", big));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|452 4.3.1|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);

	h_fresh();
	h_run(&r, &o2, "EHLO c.example\r\nMAIL FROM:<s@x.example> PRDR\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "DATA\r\nDelivered-To: a@mx.example\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|353|550 5.4.6|250 2.0.0|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "b@mx.example");
}
END_TEST

/* ====================================================== suites ==== */

Suite *
lmtp_suite(void)
{
	Suite *s = suite_create("lmtp");
	TCase *tc = h_tcase("lmtp");

	tcase_add_test(tc, test_lmtp_greeting_lhlo);
	tcase_add_test(tc, test_lmtp_helo_ehlo_refused);
	tcase_add_test(tc, test_lmtp_prdr_refused);
	tcase_add_loop_test(tc, test_lmtp_per_recipient, 0, 2);
	tcase_add_test(tc, test_lmtp_single_recipient_each_outcome);
	tcase_add_loop_test(tc, test_lmtp_message_wide, 0,
	    sizeof(lmtp_fail_cases) / sizeof(lmtp_fail_cases[0]));
	tcase_add_test(tc, test_lmtp_pipelined_group);
	tcase_add_test(tc, test_lmtp_lock_step);
	tcase_add_test(tc, test_lmtp_chunk_failure);
	tcase_add_loop_test(tc, test_lmtp_spool_failure, 0,
	    sizeof(lmtp_spool_cases) / sizeof(lmtp_spool_cases[0]));
	tcase_add_test(tc, test_lmtp_rcpt_limit);
	tcase_add_test(tc, test_lmtp_delivered_to_loop);
	tcase_add_test(tc, test_lmtp_bdat_last_no_rcpt);
	suite_add_tcase(s, tc);
	return s;
}

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
	tcase_add_loop_test(tc, test_bdat_chunk_over_max_size, 0, 4);
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
	tcase_add_loop_test(tc, test_bdat_disconnect, 0,
	    sizeof(bdat_cuts) / sizeof(bdat_cuts[0]));
	suite_add_tcase(s, tc);
	return s;
}

Suite *
prdr_suite(void)
{
	Suite *s = suite_create("prdr");
	TCase *tc = h_tcase("prdr");

	tcase_add_test(tc, test_prdr_advertised);
	tcase_add_loop_test(tc, test_prdr_table, 0,
	    sizeof(prdr_cases) / sizeof(prdr_cases[0]));
	tcase_add_test(tc, test_prdr_lock_step);
	tcase_add_test(tc, test_prdr_message_wide);
	tcase_add_test(tc, test_prdr_only_when_asked);
	tcase_add_test(tc, test_prdr_spool_and_loop);
	suite_add_tcase(s, tc);
	return s;
}

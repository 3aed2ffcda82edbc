/*
 * unit_session.c - session_run() over scripted I/O with a stub deliverer.
 *
 * A dialogue goes in through a reader that hands out the script in
 * chunks of a chosen size (whole, fixed, or random from a fixed seed);
 * replies come out through a writer that appends to a buffer; and the
 * stub deliverer records each call - recipient, sender, and the spool
 * bytes it could read (all three in tests/support.c; the stub's rules
 * are here) - and fails or succeeds by recipient: the local
 * part "temp+DSN" fails temporarily and "perm+DSN" permanently with the
 * enhanced code spelled by DSN (temp+422 is 4.2.2); anything else is
 * delivered.  Replies are checked by prefix, line by line, so the test
 * names the code and enhanced code but not the human text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "aliases.h"
#include "command.h"
#include "config.h"
#include "deliver.h"
#include "session.h"
#include "support.h"
#include "unit.h"

#define LIT(x)	x, sizeof(x) - 1

/* ---- the stub deliverer's rules (tests/support.c runs it) ---- */

#define MAX_CALLS	16

/* stub_check - a call the run keeps, with a readable spool; the added
 * headers (shared by every recipient, with a Received line) are cut off,
 * so data and len are the message as received */
static void
stub_check(struct support_stub *st, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    struct support_call *c)
{
	(void)cfg;
	(void)rcpt;
	ck_assert_uint_le(st->ncalls, st->max);
	ck_assert_uint_le(msg->body_off, msg->spool_len);
	ck_assert_msg(c->data != NULL, "spool pread: %s", strerror(errno));
	if (c->body_off == 0)
		return;
	ck_assert_msg(strstr(c->data, "Received: from ") != NULL &&
	    strstr(c->data, "Received: from ") < c->data + c->body_off,
	    "no Received header before the message");
	memmove(c->data, c->data + c->body_off, c->len - c->body_off + 1);
	c->len -= c->body_off;
	c->body_off = 0;
}

/* stub_answer - "temp+DSN" fails temporarily, "perm+DSN" permanently,
 * with the enhanced code DSN spells; anything else is delivered */
static void
stub_answer(const struct address *rcpt, struct outcome *out)
{
	if (strcmp(rcpt->user, "temp") == 0 || strcmp(rcpt->user, "perm") == 0) {
		out->cls = rcpt->user[0] == 't' ? OUT_TEMP : OUT_PERM;
		snprintf(out->dsn, sizeof(out->dsn), "%c.%c.%c", rcpt->ext[0],
		    rcpt->ext[1], rcpt->ext[2]);
		snprintf(out->text, sizeof(out->text), "stub refuses %.150s",
		    rcpt->addr);
		out->status = (out->cls == OUT_TEMP ? 75 : 67) << 8;
	} else {
		out->cls = OUT_DELIVERED;
		snprintf(out->dsn, sizeof(out->dsn), "2.0.0");
		out->status = 0;
	}
}

/* ---- configuration and one run ---- */

static const char *domains[] = { "mx.test" };
static char cmd_true[] = "/bin/true";
static char *command[] = { cmd_true, NULL };

/* test_config - the configuration every test starts from: the real
 * defaults, our host name and domain, a command the stub never runs */
static void
test_config(struct config *cfg)
{
	config_defaults(cfg);
	cfg->hostname = "mx.test";
	cfg->domains = domains;
	cfg->ndomains = 1;
	cfg->command = command;
	cfg->client_ip = "192.0.2.1";
	cfg->client_host = "unknown";
}

struct run {
	struct support_conn conn;
	struct support_stub stub;
	struct support_call calls[MAX_CALLS];
	int ret;
};

/* start - a fresh run over in[0, n) fed in the given chunks; a test may
 * adjust r->conn before go() */
static void
start(struct run *r, const char *in, size_t n, long chunk)
{
	memset(r, 0, sizeof(*r));
	support_conn_start(&r->conn, in, n, chunk);
	support_stub_start(&r->stub, r->calls, MAX_CALLS);
	r->stub.check = stub_check;
	r->stub.answer = stub_answer;
}

/* go - the session itself, through the stub deliverer */
static void
go(const struct config *cfg, struct run *r)
{
	struct chat_io io;
	struct session_deliverer d;

	support_conn_io(&r->conn, &io);
	support_stub_deliverer(&r->stub, &d);
	r->ret = session_run(cfg, &io, &d);
	if (r->conn.out.buf == NULL)
		support_conn_write(&r->conn, "", 0);
}

/* run - start and go */
static void
run(const struct config *cfg, const char *in, size_t n, long chunk,
    struct run *r)
{
	start(r, in, n, chunk);
	go(cfg, r);
}

/* run_free - what the run's client and deliveries collected */
static void
run_free(struct run *r)
{
	support_stub_free(&r->stub);
	support_conn_free(&r->conn);
}

/* ---- checking replies ---- */

/* enhanced_ok - "D.SSS.DDD " right after "CCC " or "CCC-", same class */
static int
enhanced_ok(const char *line)
{
	const char *p = line + 4;
	int part, digits;

	if (p[0] != line[0] || p[1] != '.')
		return 0;
	p += 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part == 0 && *p++ != '.')
			return 0;
	}
	return *p == ' ' || *p == '\0';
}

/* Special entries of a wanted transcript. */
#define W_GREETING	"220 mx.test ESMTP pipesmtpd"	/* exact */
#define W_EHLO		"(EHLO)"	/* 250- lines, then one 250 line */
#define W_HELO		"(HELO)"	/* one 250 line, no enhanced code */

/* expect - the replies, line by line, begin with the wanted prefixes and
 * there are no others; every 2xx/4xx/5xx reply except the greeting and
 * the HELO/EHLO replies carries an enhanced code of its class */
static void
expect(const struct run *r, const char *const *want)
{
	const char *p = r->conn.out.buf, *end = r->conn.out.buf + r->conn.out.len;
	int w, line = 0;

	for (w = 0; want[w] != NULL; w++) {
		const char *eol;

		ck_assert_msg(p < end, "reply %d (%s) missing; transcript:\n%s",
		    line, want[w], r->conn.out.buf);
		eol = strstr(p, "\r\n");
		ck_assert_msg(eol != NULL, "reply %d not CRLF-terminated:\n%s",
		    line, r->conn.out.buf);
		if (strcmp(want[w], W_EHLO) == 0) {
			while (strncmp(p, "250-", 4) == 0) {
				p = strstr(p, "\r\n") + 2;
				line++;
				ck_assert_msg(p < end, "EHLO reply cut:\n%s",
				    r->conn.out.buf);
			}
			ck_assert_msg(strncmp(p, "250 ", 4) == 0,
			    "reply %d: want the EHLO reply:\n%s", line,
			    r->conn.out.buf);
			eol = strstr(p, "\r\n");
		} else if (strcmp(want[w], W_HELO) == 0) {
			ck_assert_msg(strncmp(p, "250 ", 4) == 0,
			    "reply %d: want the HELO reply:\n%s", line,
			    r->conn.out.buf);
		} else if (strcmp(want[w], W_GREETING) == 0 ||
		    strncmp(want[w], "220 mx.test", 11) == 0) {
			ck_assert_msg((size_t)(eol - p) == strlen(want[w]) &&
			    strncmp(p, want[w], strlen(want[w])) == 0,
			    "reply %d: want \"%s\":\n%s", line, want[w],
			    r->conn.out.buf);
		} else {
			ck_assert_msg(strncmp(p, want[w], strlen(want[w])) ==
			    0, "reply %d: want \"%s...\":\n%s", line, want[w],
			    r->conn.out.buf);
			if (strchr("245", p[0]) != NULL)
				ck_assert_msg(enhanced_ok(p), "reply %d has no "
				    "enhanced code of its class:\n%s", line,
				    r->conn.out.buf);
		}
		p = eol + 2;
		line++;
	}
	ck_assert_msg(p == end, "more replies than wanted after %d:\n%s",
	    line, r->conn.out.buf);
}

/* count_prefix - reply lines that begin with prefix */
static int
count_prefix(const struct run *r, const char *prefix)
{
	const char *p = r->conn.out.buf;
	int n = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return n;
}

/* normalise - replies with long alphanumeric runs that contain a digit
 * (queue ids, which differ from run to run) replaced by '#' */
static char *
normalise(const char *in)
{
	char *out = malloc(strlen(in) + 1);
	size_t o = 0;

	ck_assert_ptr_nonnull(out);
	while (*in != '\0') {
		size_t n = 0;
		int digit = 0;

		while ((in[n] >= '0' && in[n] <= '9') ||
		    (in[n] >= 'a' && in[n] <= 'z') ||
		    (in[n] >= 'A' && in[n] <= 'Z')) {
			digit |= in[n] >= '0' && in[n] <= '9';
			n++;
		}
		if (n >= 10 && digit) {
			out[o++] = '#';
			in += n;
		} else if (n > 0) {
			memcpy(out + o, in, n);
			o += n;
			in += n;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
	return out;
}

/* same_run - two runs of one dialogue gave the same replies and the same
 * deliveries */
static void
same_run(const struct run *a, const struct run *b, const char *how)
{
	char *na = normalise(a->conn.out.buf), *nb = normalise(b->conn.out.buf);
	size_t i;

	ck_assert_msg(strcmp(na, nb) == 0, "%s: replies differ:\n%s\n---\n%s",
	    how, a->conn.out.buf, b->conn.out.buf);
	free(na);
	free(nb);
	ck_assert_int_eq(a->ret, b->ret);
	ck_assert_msg(a->stub.ncalls == b->stub.ncalls, "%s: %zu deliveries, "
	    "want %zu", how, b->stub.ncalls, a->stub.ncalls);
	for (i = 0; i < a->stub.ncalls; i++) {
		ck_assert_str_eq(a->stub.calls[i].addr, b->stub.calls[i].addr);
		ck_assert_msg(a->stub.calls[i].len == b->stub.calls[i].len &&
		    memcmp(a->stub.calls[i].data, b->stub.calls[i].data,
		    a->stub.calls[i].len) == 0, "%s: spool of delivery %zu "
		    "differs", how, i);
	}
}

/* ---- the basic dialogue ---- */

static const char basic[] =
    "EHLO client.example\r\n"
    "MAIL FROM:<s@x.org>\r\n"
    "RCPT TO:<r@mx.test>\r\n"
    "DATA\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "..dot line\r\n"
    ".\tdot tab\r\n"
    "body\r\n"
    ".\r\n"
    "QUIT\r\n";

static const char basic_body[] =
    "Subject: hi\n\n.dot line\n\tdot tab\nbody\n";

static const char *const basic_want[] = {
	W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ", "250 2.0.0",
	"221 2.0.0", NULL
};

START_TEST(test_basic_transcript)
{
	struct config cfg;
	struct run r;
	struct support_call *c;

	test_config(&cfg);
	run(&cfg, LIT(basic), 0, &r);
	ck_assert_int_eq(r.ret, 0);
	ck_assert_msg(strncmp(r.conn.out.buf, "220 mx.test ESMTP pipesmtpd\r\n",
	    29) == 0, "greeting: %s", r.conn.out.buf);
	expect(&r, basic_want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	c = &r.stub.calls[0];
	ck_assert_str_eq(c->addr, "r@mx.test");
	ck_assert_str_eq(c->sender, "s@x.org");
	ck_assert_int_eq(c->sender_null, 0);
	ck_assert_str_eq(c->helo, "client.example");
	ck_assert_str_eq(c->with, "ESMTP");
	ck_assert_uint_eq(c->nrcpt, 1);
	ck_assert_msg(c->len == sizeof(basic_body) - 1 &&
	    memcmp(c->data, basic_body, c->len) == 0,
	    "spool \"%s\", want \"%s\"", c->data, basic_body);
	run_free(&r);
}
END_TEST

START_TEST(test_chunkings_agree)
{
	static const long chunks[] = { 1, 2, 3, 5, 7, 13, 64, 100, -1, -2,
	    -3, -4, -5, -6, -7, -8 };
	struct config cfg;
	struct run whole, r;
	size_t i;

	test_config(&cfg);
	run(&cfg, LIT(basic), 0, &whole);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char how[32];

		snprintf(how, sizeof(how), "chunk %ld", chunks[i]);
		run(&cfg, LIT(basic), chunks[i], &r);
		expect(&r, basic_want);
		same_run(&whole, &r, how);
		run_free(&r);
	}
	run_free(&whole);
}
END_TEST

START_TEST(test_one_byte_exact_bytes)
{
	/* no queue id can differ inside one dialogue that never reaches
	 * the end of data: the bytes must be identical */
	static const char in[] =
	    "EHLO client.example\r\nNOOP\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nRCPT TO:<x@other.example>\r\n"
	    "RSET\r\nVRFY r\r\nHELP\r\nQUIT\r\n";
	struct config cfg;
	struct run a, b;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &a);
	run(&cfg, LIT(in), 1, &b);
	ck_assert_uint_eq(a.conn.out.len, b.conn.out.len);
	ck_assert_msg(memcmp(a.conn.out.buf, b.conn.out.buf, a.conn.out.len) == 0,
	    "replies differ:\n%s\n---\n%s", a.conn.out.buf, b.conn.out.buf);
	run_free(&a);
	run_free(&b);
}
END_TEST

START_TEST(test_short_writes)
{
	struct config cfg;
	struct run whole, r;
	size_t max;

	test_config(&cfg);
	run(&cfg, LIT(basic), 0, &whole);
	for (max = 1; max <= 5; max += 2) {
		start(&r, LIT(basic), 0);
		r.conn.out.max_write = max;
		go(&cfg, &r);
		same_run(&whole, &r, "short writes");
		run_free(&r);
	}
	run_free(&whole);
}
END_TEST

START_TEST(test_greeting_then_eof)
{
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, "", 0, 0, &r);
	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.conn.out.buf, "220 mx.test ESMTP pipesmtpd\r\n");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_eof_without_quit)
{
	static const char *const want[] = { W_GREETING, W_EHLO, "250 2.1.0",
	    NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT("EHLO c\r\nMAIL FROM:<s@x.org>\r\n"), 0, &r);
	ck_assert_int_eq(r.ret, 0);
	expect(&r, want);
	/* a last line without its line end is not a command */
	run_free(&r);
	run(&cfg, LIT("EHLO c\r\nMAIL FROM:<s@x.org>\r\nQUIT"), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

/* ---- a session that cannot be allocated ---- */

/* The unit tests are linked with --wrap=calloc (Makefile), so every
 * calloc() of ours comes here first. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

static int calloc_fails;	/* the next calloc() returns NULL */

/* __wrap_calloc - calloc(), or once a failure when calloc_fails says */
void *
__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fails) {
		calloc_fails = 0;
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

START_TEST(test_no_memory)
{
	/* no struct session (the chat buffers are in it): the client still
	 * hears 421 4.3.0, the log says why, and the exit status is 75 */
	struct config cfg;
	struct support_log log;
	struct run r;
	const char *logged;

	test_config(&cfg);
	ck_assert_int_eq(support_log_start(&log), 0);
	start(&r, LIT("EHLO client.example\r\nQUIT\r\n"), 0);
	calloc_fails = 1;
	go(&cfg, &r);
	logged = support_log_end(&log);
	ck_assert_int_eq(calloc_fails, 0);
	ck_assert_int_eq(r.ret, EX_TEMPFAIL);
	ck_assert_str_eq(r.conn.out.buf,
	    "421 4.3.0 mx.test Service not available\r\n");
	ck_assert_int_eq(r.conn.in.reads, 0);
	ck_assert_msg(strstr(logged, "cannot start: out of memory for the "
	    "session from unknown[192.0.2.1]\n") != NULL, "log: %s", logged);
	ck_assert_uint_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_sequence_errors)
{
	static const char in[] =
	    "MAIL FROM:<s@x.org>\r\n"		/* before EHLO */
	    "RCPT TO:<r@mx.test>\r\n"
	    "DATA\r\n"
	    "EHLO c\r\n"
	    "RCPT TO:<r@mx.test>\r\n"		/* no MAIL */
	    "DATA\r\n"
	    "MAIL FROM:<s@x.org>\r\n"
	    "MAIL FROM:<s@x.org>\r\n"		/* nested */
	    "DATA\r\n"				/* no RCPT */
	    "RSET\r\n"
	    "RCPT TO:<r@mx.test>\r\n"		/* RSET ended it */
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, "503 5.5.1", "503 5.5.1", "503 5.5.1", W_EHLO,
		"503 5.5.1", "503 5.5.1", "250 2.1.0", "503 5.5.1",
		"503 5.5.1", "250 2.", "503 5.5.1", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_helo_resets_transaction)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\n"
	    "EHLO c\r\nDATA\r\nRCPT TO:<r@mx.test>\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", W_EHLO,
		"503 5.5.1", "503 5.5.1", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

/* ---- outcomes of the deliveries ---- */

struct outcome_case {
	const char *rcpts[5];
	const char *want;	/* the reply after the data */
};

static const struct outcome_case outcome_cases[] = {
	{ { "ok1" }, "250 2.0.0" },
	{ { "ok1", "ok2", "ok3" }, "250 2.0.0" },
	{ { "temp+422" }, "451 4.2.2" },
	{ { "perm+511" }, "554 5.1.1" },
	{ { "ok1", "perm+522", "temp+422", "temp+443" }, "451 4.2.2" },
	{ { "perm+522", "perm+511" }, "554 5.2.2" },
	{ { "ok1", "perm+511" }, "554 5.1.1" },
	{ { "perm+511", "temp+443" }, "451 4.4.3" },
	{ { "ok1", "temp+430", "ok2" }, "451 4.3.0" },
	{ { "perm+573", "ok2", "perm+511" }, "554 5.7.3" },
};

START_TEST(test_outcomes)
{
	const struct outcome_case *c = &outcome_cases[_i];
	const char *want[16];
	char in[1024];
	size_t n = 0, i, w = 0;
	struct config cfg;
	struct run r;

	want[w++] = W_GREETING;
	want[w++] = W_EHLO;
	want[w++] = "250 2.1.0";
	n += (size_t)sprintf(in + n, "EHLO c\r\nMAIL FROM:<s@x.org>\r\n");
	for (i = 0; i < 5 && c->rcpts[i] != NULL; i++) {
		n += (size_t)sprintf(in + n, "RCPT TO:<%s@mx.test>\r\n",
		    c->rcpts[i]);
		want[w++] = "250 2.1.5";
	}
	n += (size_t)sprintf(in + n, "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"
	    "NOOP\r\nQUIT\r\n");
	want[w++] = "354 ";
	want[w++] = c->want;
	want[w++] = "250 2.0.0";
	want[w++] = "221 2.0.0";
	want[w] = NULL;
	test_config(&cfg);
	run(&cfg, in, n, 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, (int)i);
	for (n = 0; n < i; n++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "%s@mx.test", c->rcpts[n]);
		ck_assert_str_eq(r.stub.calls[n].addr, addr);
		ck_assert_uint_eq(r.stub.calls[n].nrcpt, i);
		ck_assert_str_eq(r.stub.calls[n].data, "Subject: x\n\nbody\n");
	}
	run_free(&r);
}
END_TEST

START_TEST(test_pipelined_transactions)
{
	static const char in[] =
	    "EHLO c\r\n"
	    "MAIL FROM:<a@x.org>\r\nRCPT TO:<one@mx.test>\r\nDATA\r\n"
	    "first\r\n.\r\n"
	    "MAIL FROM:<>\r\nRCPT TO:<two@mx.test>\r\n"
	    "RCPT TO:<three@mx.test>\r\nDATA\r\n"
	    "second\r\n.\r\n"
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ",
		"250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354 ",
		"250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 3);
	ck_assert_str_eq(r.stub.calls[0].addr, "one@mx.test");
	ck_assert_str_eq(r.stub.calls[0].data, "first\n");
	ck_assert_str_eq(r.stub.calls[0].sender, "a@x.org");
	ck_assert_str_eq(r.stub.calls[1].addr, "two@mx.test");
	ck_assert_str_eq(r.stub.calls[1].data, "second\n");
	ck_assert_int_eq(r.stub.calls[1].sender_null, 1);
	ck_assert_str_eq(r.stub.calls[1].sender, "");
	ck_assert_str_eq(r.stub.calls[2].addr, "three@mx.test");
	ck_assert_uint_eq(r.stub.calls[2].nrcpt, 2);
	run_free(&r);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_max_errors)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "5", "5", "5", "421 4.7.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_errors = 3;
	run(&cfg, LIT("EHLO c\r\nFOO\r\nBAR\r\nBAZ\r\nNOOP\r\nQUIT\r\n"), 0,
	    &r);
	ck_assert_int_eq(r.ret, 0);
	expect(&r, want);
	ck_assert_int_eq(count_prefix(&r, "421 4.7.0"), 1);
	run_free(&r);
}
END_TEST

START_TEST(test_max_errors_mixed)
{
	/* 503, 501 and 550 all count; the third is followed by 421 */
	static const char in[] =
	    "MAIL FROM:<s@x.org>\r\n"
	    "EHLO -bad\r\n"
	    "EHLO c\r\n"
	    "MAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@other.example>\r\n"
	    "RCPT TO:<r@mx.test>\r\n"
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, "503 5.5.1", "501 5.5.4", W_EHLO, "250 2.1.0",
		"550 5.7.1", "421 4.7.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_errors = 3;
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_errors_below_limit)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "5", "5", "250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_errors = 3;
	run(&cfg, LIT("EHLO c\r\nFOO\r\nBAR\r\nNOOP\r\nQUIT\r\n"), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_outcome_replies_not_errors)
{
	/* failures after the data are outcomes, not client errors */
	static const char in[] =
	    "EHLO c\r\nFOO\r\n"
	    "MAIL FROM:<s@x.org>\r\nRCPT TO:<perm+511@mx.test>\r\n"
	    "DATA\r\nx\r\n.\r\n"
	    "MAIL FROM:<s@x.org>\r\nRCPT TO:<temp+422@mx.test>\r\n"
	    "DATA\r\nx\r\n.\r\n"
	    "NOOP\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "5", "250 2.1.0", "250 2.1.5", "354 ",
		"554 5.1.1", "250 2.1.0", "250 2.1.5", "354 ", "451 4.2.2",
		"250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_errors = 2;
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

/* long_input - "EHLO c" CRLF, a line of n 'A's, then rest */
static char *
long_input(size_t n, const char *before, const char *rest, size_t *len)
{
	size_t b = strlen(before), r = strlen(rest);
	char *in = malloc(8 + b + n + r + 2);

	ck_assert_ptr_nonnull(in);
	memcpy(in, "EHLO c\r\n", 8);
	memcpy(in + 8, before, b);
	memset(in + 8 + b, 'A', n);
	memcpy(in + 8 + b + n, rest, r);
	*len = 8 + b + n + r;
	return in;
}

START_TEST(test_long_line)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "500 5.5.2", "250 ", "221 2.0.0", NULL
	};
	static const long chunks[] = { 0, 1, 1000, 2047, 2048, 2049, -9 };
	size_t len, i;
	char *in = long_input(3000, "", "\r\nNOOP\r\nQUIT\r\n", &len);
	struct config cfg;
	struct run r;

	test_config(&cfg);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(&cfg, in, len, chunks[i], &r);
		expect(&r, want);
		ck_assert_int_eq(count_prefix(&r, "500"), 1);
		run_free(&r);
	}
	free(in);
}
END_TEST

START_TEST(test_very_long_line)
{
	/* longer than any input buffer, with CR and spaces inside */
	static const char *const want[] = {
		W_GREETING, W_EHLO, "500 5.5.2", "250 ", "221 2.0.0", NULL
	};
	size_t len, i;
	char *in = long_input(300000, "NOOP ", "\r\nNOOP\r\nQUIT\r\n", &len);
	struct config cfg;
	struct run r;

	for (i = 20; i < 300000; i += 4099)
		in[i] = (i / 4099) % 2 ? ' ' : '\r';
	test_config(&cfg);
	run(&cfg, in, len, 0, &r);
	expect(&r, want);
	run_free(&r);
	run(&cfg, in, len, 4096, &r);
	expect(&r, want);
	run_free(&r);
	free(in);
}
END_TEST

START_TEST(test_long_line_in_transaction)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "500 5.5.2", "250 2.1.5",
		"221 2.0.0", NULL
	};
	size_t len;
	char *in = long_input(3000, "MAIL FROM:<s@x.org>\r\nRCPT TO:<",
	    "@mx.test>\r\nRCPT TO:<r@mx.test>\r\nQUIT\r\n", &len);
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, in, len, 0, &r);
	expect(&r, want);
	run_free(&r);
	free(in);
}
END_TEST

START_TEST(test_line_limit_boundary)
{
	/* 2048 octets with the CRLF pass; 2049 are too long */
	static const char *const ok[] = {
		W_GREETING, W_EHLO, "250 ", "221 2.0.0", NULL
	};
	static const char *const bad[] = {
		W_GREETING, W_EHLO, "500 5.5.2", "221 2.0.0", NULL
	};
	size_t len;
	char *in;
	struct config cfg;
	struct run r;

	test_config(&cfg);
	in = long_input(2048 - 7, "NOOP ", "\r\nQUIT\r\n", &len);
	ck_assert_uint_eq(len, 8 + 2048 + 6);
	run(&cfg, in, len, 0, &r);
	expect(&r, ok);
	run_free(&r);
	run(&cfg, in, len, 1, &r);
	expect(&r, ok);
	run_free(&r);
	free(in);
	in = long_input(2048 - 6, "NOOP ", "\r\nQUIT\r\n", &len);
	run(&cfg, in, len, 0, &r);
	expect(&r, bad);
	run_free(&r);
	run(&cfg, in, len, 1, &r);
	expect(&r, bad);
	run_free(&r);
	free(in);
}
END_TEST

START_TEST(test_nul_in_line)
{
	static const char in[] =
	    "EHLO c\r\n"
	    "NOOP\0x\r\n"
	    "\0\r\n"
	    "MAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r\0@mx.test>\r\n"
	    "RCPT TO:<r@mx.test>\0\r\n"
	    "RCPT TO:<r@mx.test\0>\r\n"
	    "QUIT\0\r\n"
	    "RCPT TO:<r@mx.test>\r\n"
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "500 5.5.2", "500 5.5.2", "250 2.1.0",
		"500 5.5.2", "500 5.5.2", "500 5.5.2", "500 5.5.2",
		"250 2.1.5", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	run_free(&r);
	run(&cfg, LIT(in), 1, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_max_rcpt)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<a@mx.test>\r\n"
	    "RCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "250 2.1.5",
		"452 4.5.3", "354 ", "250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_rcpt = 2;
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 2);
	run_free(&r);
}
END_TEST

/* message_run - one transaction with this body (the final dot added) */
static void
message_run(const struct config *cfg, const char *body, struct run *r)
{
	char in[8192];
	int n = snprintf(in, sizeof(in), "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nDATA\r\n%s.\r\nNOOP\r\nQUIT\r\n", body);

	ck_assert(n > 0 && (size_t)n < sizeof(in));
	run(cfg, in, (size_t)n, 0, r);
}

/* want_after_data - greeting .. 354, then this reply, NOOP and QUIT */
static void
want_after_data(const struct run *r, const char *reply)
{
	const char *want[] = { W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5",
	    "354 ", reply, "250 2.0.0", "221 2.0.0", NULL };

	expect(r, want);
}

START_TEST(test_max_size)
{
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_size = 10;
	message_run(&cfg, "12345678\r\n", &r);	/* 10 octets */
	want_after_data(&r, "250 2.0.0");
	ck_assert_int_eq(r.stub.ncalls, 1);
	run_free(&r);
	message_run(&cfg, "..2345678\r\n", &r);	/* 10 after unstuffing */
	want_after_data(&r, "250 2.0.0");
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].data, ".2345678\n");
	run_free(&r);
	message_run(&cfg, "123456789\r\n", &r);	/* 11 */
	want_after_data(&r, "552 5.3.4");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
	message_run(&cfg, "1234567\r\n\r\n", &r);	/* 11 */
	want_after_data(&r, "552 5.3.4");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_max_hops)
{
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_hops = 2;
	message_run(&cfg, "Received: a\r\nreceived: b\r\nSubject: x\r\n\r\n"
	    "Received: body\r\n", &r);
	want_after_data(&r, "250 2.0.0");
	ck_assert_int_eq(r.stub.ncalls, 1);
	run_free(&r);
	message_run(&cfg, "Received: a\r\nReceived: b\r\nRECEIVED: c\r\n"
	    "\r\nbody\r\n", &r);
	want_after_data(&r, "554 5.4.6");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_bare_newlines)
{
	struct config cfg;
	struct run r;

	test_config(&cfg);
	message_run(&cfg, "a\nb\rc\r\n", &r);
	want_after_data(&r, "250 2.0.0");
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].data, "a\nb\nc\n");
	run_free(&r);
	cfg.strict_newlines = 1;
	message_run(&cfg, "a\nb\r\n", &r);
	want_after_data(&r, "554 5.6.0");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
	message_run(&cfg, "a\rb\r\n", &r);
	want_after_data(&r, "554 5.6.0");
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
	message_run(&cfg, "a\r\nb\r\n", &r);
	want_after_data(&r, "250 2.0.0");
	run_free(&r);
}
END_TEST

/* expect_every_split - in, fed whole and in 1-, 2- and 40-octet reads,
 * gets want each time, and delivers nothing (data NULL) or data once */
static void
expect_every_split(const struct config *cfg, const char *in, size_t n,
    const char *const *want, const char *data)
{
	static const long chunks[] = { 0, 1, 2, 40 };
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(cfg, in, n, chunks[i], &r);
		expect(&r, want);
		ck_assert_int_eq(r.stub.ncalls, data != NULL);
		if (data != NULL)
			ck_assert_str_eq(r.stub.calls[0].data, data);
		run_free(&r);
	}
}

START_TEST(test_error_order_fixed)
{
	/* a message both over the size limit and with a bare LF (under
	 * --strict-newlines) gets the same reply however it is split into
	 * reads: size first.  (Found by tests/fuzz/fuzz_session.)  BDAT
	 * in two chunks, each within the limit: only their sum crosses
	 * it. */
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nDATA\r\na\nbcdefghijklmnop\r\n.\r\n"
	    "MAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\n"
	    "BDAT 9\r\nabcdefghiBDAT 10 LAST\r\nj\nklmnop\r\nQUIT\r\n";
	const char *want[] = { W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5",
	    "354 ", "552 5.3.4", "250 2.1.0", "250 2.1.5", "250 2.0.0",
	    "552 5.3.4", "221 2.0.0", NULL };
	struct config cfg;

	test_config(&cfg);
	cfg.max_size = 10;
	cfg.strict_newlines = 1;
	expect_every_split(&cfg, in, sizeof(in) - 1, want, NULL);
}
END_TEST

START_TEST(test_bdat_over_size_discarded)
{
	/* a chunk over --max-size is read and thrown away (its commands
	 * never run) before its 552, however it is split into reads; the
	 * next transaction is delivered alone */
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nBDAT 12\r\nQUIT\r\nRSET\r\n"
	    "NOOP\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\n"
	    "BDAT 3 LAST\r\nabcQUIT\r\n";
	const char *want[] = { W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5",
	    "552 5.3.4", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0",
	    "221 2.0.0", NULL };
	struct config cfg;

	test_config(&cfg);
	cfg.max_size = 10;
	expect_every_split(&cfg, in, sizeof(in) - 1, want, "abc");
}
END_TEST

START_TEST(test_bdat_huge_size_times_out)
{
	/* an 18-digit size, a few octets, then silence: the data deadline
	 * ends it with 421 4.4.2, not a 552 before the chunk is read */
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nBDAT 999999999999999999 LAST\r\nabc";
	const char *want[] = { W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5",
	    "421 4.4.2", NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.max_size = 10;
	start(&r, LIT(in), 0);
	r.conn.in.end_timeout = 1;
	go(&cfg, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 0);
	ck_assert_int_eq(r.ret, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_crlf_spool)
{
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.crlf = 1;
	run(&cfg, LIT(basic), 0, &r);
	expect(&r, basic_want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].data,
	    "Subject: hi\r\n\r\n.dot line\r\n\tdot tab\r\nbody\r\n");
	run_free(&r);
}
END_TEST

START_TEST(test_spool_unusable)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\n"
	    "DATA\r\nNOOP\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "451 4.3.0",
		"250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.spool = "unit-no-such-spool-dir/really/not/there";
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

/* ---- incomplete data is never delivered ---- */

static const char *const eof_tails[] = {
	"Subject: x\r\n\r\nbody\r\n",
	"Subject: x\r\n\r\nbody\r\n.",
	"Subject: x\r\n\r\nbody\r\n.\r",
	"Subject: x\r\n\r\nbody\n.\n",
	"Subject: x\r\n\r\nbody\r\n.\n",
	"Subject: x\r\n\r\nbody\r.\r",
	"body",
	"",
};

START_TEST(test_eof_in_data)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ", NULL
	};
	char in[512];
	int n = snprintf(in, sizeof(in), "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nDATA\r\n%s", eof_tails[_i]);
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, in, (size_t)n, 0, &r);
	ck_assert_int_eq(r.ret, 0);
	expect(&r, want);
	ck_assert_msg(r.stub.ncalls == 0, "tail %d: delivered on EOF", _i);
	run_free(&r);
	run(&cfg, in, (size_t)n, 1, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_timeouts)
{
	static const char *const idle[] = {
		W_GREETING, W_EHLO, "421 4.4.2", NULL
	};
	static const char *const in_data[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ",
		"421 4.4.2", NULL
	};
	static const char data[] = "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nDATA\r\nSubject: x\r\n";
	struct config cfg;
	struct run r;

	test_config(&cfg);
	start(&r, LIT("EHLO c\r\n"), 0);
	r.conn.in.end_timeout = 1;
	go(&cfg, &r);
	ck_assert_int_eq(r.ret, 0);
	expect(&r, idle);
	run_free(&r);

	start(&r, LIT(data), 0);
	r.conn.in.end_timeout = 1;
	go(&cfg, &r);
	ck_assert_int_eq(r.ret, 0);
	expect(&r, in_data);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

/* ---- SMTP smuggling through a whole session ---- */

static const char *const smuggle_seqs[] = {
	"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r\n.\r", "\r\r\n",
	"\r\n\0.\r\n", "\r\n.\0\r\n", "\r\r\n.\n", "\r\n.\r\r\n",
};

static const size_t smuggle_lens[] = { 3, 4, 4, 3, 4, 3, 6, 6, 5, 6 };

START_TEST(test_smuggling)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ",
		"250 2.0.0", "221 2.0.0", NULL
	};
	static const char evil[] = "MAIL FROM:<e@x.org>\r\n"
	    "RCPT TO:<victim@mx.test>\r\nDATA\r\nevil\r\n.\r\nQUIT\r\n";
	char in[1024];
	size_t n = 0;
	struct config cfg;
	struct run r;

	n += (size_t)sprintf(in, "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<r@mx.test>\r\nDATA\r\nlegit");
	memcpy(in + n, smuggle_seqs[_i], smuggle_lens[_i]);
	n += smuggle_lens[_i];
	memcpy(in + n, evil, sizeof(evil) - 1);
	n += sizeof(evil) - 1;
	test_config(&cfg);
	run(&cfg, in, n, 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].addr, "r@mx.test");
	ck_assert_msg(memmem(r.stub.calls[0].data, r.stub.calls[0].len,
	    "RCPT TO:<victim@mx.test>", 24) != NULL,
	    "sequence %d: the smuggled commands are not content", _i);
	run_free(&r);
	run(&cfg, in, n, 1, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].addr, "r@mx.test");
	run_free(&r);
}
END_TEST

/* ---- commands one by one ---- */

struct cmd_case {
	const char *line;	/* sent inside a transaction (after MAIL) */
	const char *want;
};

static const struct cmd_case rcpt_cases[] = {
	{ "RCPT TO:<r@mx.test>", "250 2.1.5" },
	{ "RCPT TO:<R@MX.TEST>", "250 2.1.5" },
	{ "rcpt to:<r@mx.test>", "250 2.1.5" },
	{ "RCPT TO:<r+ext@mx.test>", "250 2.1.5" },
	{ "RCPT TO:<\"john doe\"@mx.test>", "250 2.1.5" },
	{ "RCPT TO:<Postmaster>", "250 2.1.5" },
	{ "RCPT TO:<postmaster>", "250 2.1.5" },
	{ "RCPT TO:<@relay.example:r@mx.test>", "250 2.1.5" },
	{ "RCPT TO:<r@other.example>", "550 5.7.1" },
	{ "RCPT TO:<r@mx.test.example>", "550 5.7.1" },
	{ "RCPT TO:<r@[192.0.2.1]>", "550 5.7.1" },
	{ "RCPT TO:<-r@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<\"a/b\"@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<a/b@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<r+-x@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<\".r\"@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<\"..\"@mx.test>", "550 5.1.3" },
	{ "RCPT TO:<r@@mx.test>", "501 5.1.3" },
	{ "RCPT TO:<r\x01@mx.test>", "501 5.1.3" },
	{ "RCPT TO:<r\x7f@mx.test>", "501 5.1.3" },
	{ "RCPT TO:<r\t@mx.test>", "501 5.1.3" },
	{ "RCPT TO:<\"r\x1b\"@mx.test>", "501 5.1.3" },
	{ "RCPT TO:<r@mx.test", "501 5.1.3" },
	{ "RCPT TO:r@mx.test", "501 5.1.3" },
	{ "RCPT TO:<>", "501 5.1.3" },
	{ "RCPT TO:<r@mx.test> FOO=bar", "555 5.5.4" },
	{ "RCPT TO:<j\xc3\xbc@mx.test>", "5" },
	{ "RCPT FROM:<r@mx.test>", "501 5." },
};

START_TEST(test_rcpt_cases)
{
	const struct cmd_case *c = &rcpt_cases[_i];
	const char *want[] = { W_GREETING, W_EHLO, "250 2.1.0", c->want,
	    "221 2.0.0", NULL };
	char in[512];
	int n = snprintf(in, sizeof(in), "EHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "%s\r\nQUIT\r\n", c->line);
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, in, (size_t)n, 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

static const struct cmd_case mail_cases[] = {
	{ "MAIL FROM:<s@x.org>", "250 2.1.0" },
	{ "mail from:<S@X.ORG>", "250 2.1.0" },
	{ "MAIL FROM:<>", "250 2.1.0" },
	{ "MAIL FROM:<@a.example:s@x.org>", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> SIZE=1000", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> SIZE=10485760", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> BODY=8BITMIME", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> BODY=7BIT SIZE=5", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> SMTPUTF8", "250 2.1.0" },
	{ "MAIL FROM:<j\xc3\xbc@x.org> SMTPUTF8", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> PRDR", "250 2.1.0" },
	{ "MAIL FROM:<s@x.org> SIZE=10485761", "552 5.3.4" },
	{ "MAIL FROM:<s@x.org> FOO=1", "555 5.5.4" },
	{ "MAIL FROM:<s@x.org> BAR", "555 5.5.4" },
	{ "MAIL FROM:<s@@x.org>", "501 5.1.7" },
	{ "MAIL FROM:<s\x01@x.org>", "501 5.1.7" },
	{ "MAIL FROM:<s@x.org", "501 5.1.7" },
	{ "MAIL FROM:<Postmaster>", "501 5.1.7" },
	{ "MAIL FROM:<-s@x.org>", "553 5.1.7" },
	{ "MAIL FROM:<\"-s\"@x.org>", "553 5.1.7" },
	{ "MAIL FROM:<j\xc3\xbc@x.org>", "5" },
	{ "MAIL TO:<s@x.org>", "501 5." },
};

START_TEST(test_mail_cases)
{
	const struct cmd_case *c = &mail_cases[_i];
	const char *want[] = { W_GREETING, W_EHLO, c->want, "221 2.0.0",
	    NULL };
	char in[512];
	int n = snprintf(in, sizeof(in), "EHLO c\r\n%s\r\nQUIT\r\n", c->line);
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, in, (size_t)n, 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_helo_names)
{
	static const char in[] =
	    "HELO -bad\r\nEHLO -bad\r\nHELO client.example\r\n"
	    "MAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\nDATA\r\nx\r\n.\r\n"
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, "501 5.5.4", "501 5.5.4", W_HELO, "250 2.1.0",
		"250 2.1.5", "354 ", "250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].with, "SMTP");
	ck_assert_str_eq(r.stub.calls[0].helo, "client.example");
	run_free(&r);
}
END_TEST

START_TEST(test_mail_params_need_ehlo)
{
	/* RFC 5321 4.1.1.2: parameters belong to the service extensions,
	 * which a plain HELO did not ask for: 555 5.5.4, and no
	 * transaction; the same parameters after EHLO are taken */
	static const char in[] =
	    "HELO c\r\nMAIL FROM:<s@x.org> SIZE=10\r\n"
	    "MAIL FROM:<s@x.org> BODY=8BITMIME\r\n"
	    "MAIL FROM:<s@x.org> SMTPUTF8\r\nRCPT TO:<r@mx.test>\r\n"
	    "MAIL FROM:<s@x.org>\r\nRSET\r\n"
	    "EHLO c\r\nMAIL FROM:<s@x.org> SIZE=10 BODY=8BITMIME\r\n"
	    "QUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_HELO, "555 5.5.4 MAIL parameters need EHLO",
		"555 5.5.4 MAIL parameters need EHLO",
		"555 5.5.4 MAIL parameters need EHLO",
		"503 5.5.1 Need MAIL command", "250 2.1.0", "250 2.0.0",
		W_EHLO, "250 2.1.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_with_utf8)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<j\xc3\xbc@x.org> SMTPUTF8\r\n"
	    "RCPT TO:<\xc3\xbc@mx.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ",
		"250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_str_eq(r.stub.calls[0].with, "UTF8SMTP");
	ck_assert_str_eq(r.stub.calls[0].addr, "\xc3\xbc@mx.test");
	run_free(&r);
}
END_TEST

START_TEST(test_postmaster_delivery)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<Postmaster>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.1.0", "250 2.1.5", "354 ",
		"250 2.0.0", "221 2.0.0", NULL
	};
	static const char *other[] = { "other.example" };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.domains = other;	/* "whatever --domain says" */
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 1);
	ck_assert_msg(strcasecmp(r.stub.calls[0].addr, "postmaster@mx.test") ==
	    0, "postmaster delivered as \"%s\"", r.stub.calls[0].addr);
	run_free(&r);
}
END_TEST

START_TEST(test_other_commands)
{
	static const char in[] =
	    "EHLO c\r\nNOOP\r\nnoop\r\nVRFY r\r\nHELP\r\nFOO bar\r\n"
	    "EXPN list\r\nRSET\r\nDATA x\r\nquit\r\n";
	static const char *const want[] = {
		W_GREETING, W_EHLO, "250 2.0.0", "250 2.0.0", "252 2.",
		"214 2.", "50", "50", "250 2.", "5", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_quit_stops_reading)
{
	static const char *const want[] = {
		W_GREETING, W_EHLO, "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT("EHLO c\r\nQUIT\r\nNOOP\r\nNOOP\r\n"), 0, &r);
	expect(&r, want);
	run_free(&r);
}
END_TEST

START_TEST(test_ehlo_keywords)
{
	static const char *const keywords[] = {
		"PIPELINING", "SIZE 10485760", "8BITMIME",
		"ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING",
		"LIMITS RCPTMAX=100", "PRDR",
	};
	char missing[256] = "";
	struct config cfg;
	struct run r;
	size_t i;

	test_config(&cfg);
	run(&cfg, LIT("EHLO c\r\nQUIT\r\n"), 0, &r);
	ck_assert_msg(strstr(r.conn.out.buf, "\r\n250-mx.test") != NULL,
	    "EHLO does not open with the hostname:\n%s", r.conn.out.buf);
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		char dash[64], space[64];

		snprintf(dash, sizeof(dash), "\r\n250-%s\r\n", keywords[i]);
		snprintf(space, sizeof(space), "\r\n250 %s\r\n", keywords[i]);
		if (strstr(r.conn.out.buf, dash) == NULL &&
		    strstr(r.conn.out.buf, space) == NULL) {
			strcat(missing, " ");
			strcat(missing, keywords[i]);
		}
	}
	ck_assert_msg(missing[0] == '\0', "EHLO does not advertise%s:\n%s",
	    missing, r.conn.out.buf);
	run_free(&r);
}
END_TEST

START_TEST(test_lmtp)
{
	static const char in[] =
	    "HELO c\r\nEHLO c\r\nLHLO c\r\nMAIL FROM:<s@x.org>\r\n"
	    "RCPT TO:<ok@mx.test>\r\nRCPT TO:<temp+422@mx.test>\r\n"
	    "RCPT TO:<perm+511@mx.test>\r\nRCPT TO:<ok2@mx.test>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n";
	static const char *const want[] = {
		"220 mx.test LMTP pipesmtpd", "500 5.5.1", "500 5.5.1",
		W_EHLO, "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.1.5",
		"250 2.1.5", "354 ", "250 2.0.0", "451 4.2.2", "550 5.1.1",
		"250 2.0.0", "221 2.0.0", NULL
	};
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.lmtp = 1;
	run(&cfg, LIT(in), 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.stub.ncalls, 4);
	ck_assert_str_eq(r.stub.calls[0].with, "LMTP");
	run_free(&r);
}
END_TEST

START_TEST(test_lmtp_message_error)
{
	/* a message-wide failure is repeated once per recipient; a BDAT
	 * LAST chunk over the limit is read first (its commands never
	 * run), and the session goes on */
	static const struct {
		const char *data;	/* after the two RCPTs */
		const char *want[4];	/* the replies to it */
	} cases[] = {
		{ "DATA\r\n0123456789\r\n.\r\n",
		  { "354 ", "552 5.3.4", "552 5.3.4", NULL } },
		{ "BDAT 12 LAST\r\nQUIT\r\nRSET\r\n",
		  { "552 5.3.4", "552 5.3.4", NULL } },
	};
	struct config cfg;
	struct run r;
	char in[256];
	size_t k, i;

	test_config(&cfg);
	cfg.lmtp = 1;
	cfg.max_size = 5;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *want[12] = { "220 mx.test LMTP pipesmtpd",
		    W_EHLO, "250 2.1.0", "250 2.1.5", "250 2.1.5" };
		int n = snprintf(in, sizeof(in), "LHLO c\r\n"
		    "MAIL FROM:<s@x.org>\r\nRCPT TO:<a@mx.test>\r\n"
		    "RCPT TO:<b@mx.test>\r\n%sNOOP\r\nQUIT\r\n",
		    cases[k].data);

		ck_assert(n > 0 && (size_t)n < sizeof(in));
		for (i = 0; cases[k].want[i] != NULL; i++)
			want[5 + i] = cases[k].want[i];
		want[5 + i] = "250 2.0.0";
		want[6 + i] = "221 2.0.0";
		run(&cfg, in, (size_t)n, 0, &r);
		expect(&r, want);
		ck_assert_int_eq(r.stub.ncalls, 0);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_early_talker)
{
	static const char *const normal[] = { W_GREETING, W_EHLO,
	    "221 2.0.0", NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.greet_pause = 1;
	start(&r, LIT("EHLO c\r\nQUIT\r\n"), 0);
	go(&cfg, &r);
	ck_assert_int_eq(r.ret, 0);
	ck_assert_msg(strncmp(r.conn.out.buf, "554 5.5.1", 9) == 0,
	    "early talker got:\n%s", r.conn.out.buf);
	ck_assert_ptr_null(strstr(r.conn.out.buf, "220 "));
	ck_assert_int_eq(count_prefix(&r, ""), 1);
	run_free(&r);

	start(&r, LIT("EHLO c\r\nQUIT\r\n"), 0);
	r.conn.in.timeout_first = 1;		/* the client waited */
	go(&cfg, &r);
	expect(&r, normal);
	run_free(&r);
}
END_TEST

/* ---- STARTTLS (a scripted engine: tests/support.c) ---- */

#define TLS_SEEN	"TLSv1.2/ECDHE-RSA-AES128-GCM-SHA256"

/* run_tls - a run whose launcher offers TLS; the client's octets from
 * tls_part on are sent inside TLS */
static void
run_tls(const struct config *cfg, const char *clear, const char *tls_part,
    long chunk, int fail, struct run *r)
{
	static char script[4096];

	snprintf(script, sizeof(script), "%s%s", clear, tls_part);
	start(r, script, strlen(script), chunk);
	r->conn.tls.offer = 1;
	r->conn.tls.fail = fail;
	r->conn.tls.at = strlen(clear);
	go(cfg, r);
}

/* ehlo_has - whether the first EHLO reply at or after offset lists kw */
static int
ehlo_has(const struct run *r, size_t offset, const char *kw)
{
	const char *p = strstr(r->conn.out.buf + offset, "250-");
	size_t n = strlen(kw);

	for (; p != NULL; p = strstr(p, "\r\n") + 2) {
		if (strncmp(p + 4, kw, n) == 0 && p[4 + n] == '\r')
			return 1;
		if (p[3] == ' ')
			return 0;
	}
	return 0;
}

START_TEST(test_starttls_not_offered)
{
	static const char *const want[] = { W_GREETING, W_EHLO,
	    "502 5.5.1", "221 2.0.0", NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run(&cfg, LIT("EHLO c.example\r\nSTARTTLS\r\nQUIT\r\n"), 0, &r);
	expect(&r, want);
	ck_assert(!ehlo_has(&r, 0, "STARTTLS"));
	run_free(&r);
}
END_TEST

/* The guards: an argument, a transaction in progress. */
START_TEST(test_starttls_refused)
{
	static const char *const want[] = { W_GREETING, W_EHLO,
	    "501 5.5.4", "250 2.1.0", "503 5.5.1", "250 2.0.0", "221 2.0.0",
	    NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run_tls(&cfg, "EHLO c.example\r\nSTARTTLS now\r\n"
	    "MAIL FROM:<s@x.org>\r\nSTARTTLS\r\nRSET\r\nQUIT\r\n", "", 0, 0,
	    &r);
	expect(&r, want);
	ck_assert(ehlo_has(&r, 0, "STARTTLS"));
	ck_assert_int_eq(r.conn.tls.started, 0);
	run_free(&r);
}
END_TEST

/* After the handshake: HELO again, no STARTTLS offered or taken, and
 * the message says how it came. */
START_TEST(test_starttls_new_session)
{
	static const char *const want[] = { W_GREETING, W_EHLO, "220 2.0.0",
	    "503 5.5.1", W_EHLO, "503 5.5.1", "250 2.1.0", "250 2.1.5",
	    "354", "250 2.0.0", "221 2.0.0", NULL };
	struct config cfg;
	struct run r;
	struct support_call *c;

	test_config(&cfg);
	run_tls(&cfg, "EHLO c.example\r\nSTARTTLS\r\n",
	    "MAIL FROM:<s@x.org>\r\nEHLO inside.example\r\nSTARTTLS\r\n"
	    "MAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\nDATA\r\n"
	    "Subject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n", 0, 0, &r);
	expect(&r, want);
	ck_assert(ehlo_has(&r, 0, "STARTTLS"));
	ck_assert(!ehlo_has(&r, r.conn.tls.replies_at, "STARTTLS"));
	ck_assert_int_eq(r.stub.ncalls, 1);
	c = &r.stub.calls[0];
	ck_assert_str_eq(c->helo, "inside.example");
	ck_assert_str_eq(c->with, "ESMTPS");
	ck_assert_str_eq(c->tls, TLS_SEEN);
	run_free(&r);
}
END_TEST

/* RFC 3207 5 (CVE-2011-0411): commands pipelined after STARTTLS in
 * cleartext are never answered, inside TLS or out, in any chunking. */
START_TEST(test_starttls_pipelined_dropped)
{
	static const char *const want[] = { W_GREETING, W_EHLO, "220 2.0.0",
	    W_EHLO, "221 2.0.0", NULL };
	static const long chunks[] = { 0, 1, 3, 7, -1, -2 };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run_tls(&cfg, "EHLO c.example\r\nSTARTTLS\r\nRSET\r\n"
	    "MAIL FROM:<evil@x.org>\r\n", "EHLO c.example\r\nQUIT\r\n",
	    chunks[_i], 0, &r);
	expect(&r, want);
	ck_assert_int_eq(r.conn.tls.started, 1);
	run_free(&r);
}
END_TEST

/* A failed handshake ends the session: nothing said, nothing delivered */
START_TEST(test_starttls_failed)
{
	static const char *const want[] = { W_GREETING, W_EHLO, "220 2.0.0",
	    NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	run_tls(&cfg, "EHLO c.example\r\nSTARTTLS\r\n",
	    "EHLO c.example\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@mx.test>\r\n"
	    "DATA\r\nbody\r\n.\r\nQUIT\r\n", 0, 1, &r);
	expect(&r, want);
	ck_assert_int_eq(r.ret, 0);
	ck_assert_int_eq(r.stub.ncalls, 0);
	run_free(&r);
}
END_TEST

/* --require-tls: MAIL waits for TLS; without a TLS engine, a 421 */
/* refuse_list - --rcpt-check refuses <list@mx.test>, accepts the rest */
static void
refuse_list(const struct command_vars *v, struct outcome *out)
{
	int no = strcmp(v->rcpt, "list@mx.test") == 0;

	out->cls = no ? OUT_PERM : OUT_DELIVERED;
	snprintf(out->dsn, sizeof(out->dsn), no ? "5.1.1" : "2.1.5");
}

START_TEST(test_aliases_rcpt_taken_back)
{
	/* an RCPT refused after its targets were added leaves nothing
	 * behind; each delivery gets the RCPT that first asked for it as
	 * orig, and one target shared by two RCPTs runs once */
	static const char *const want[] = { W_GREETING, W_EHLO, "250 2.1.0",
	    "550 5.1.1", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0",
	    "221 2.0.0", NULL };
	static const char in[] = "EHLO c.test\r\nMAIL FROM:<s@x.test>\r\n"
	    "RCPT TO:<list@mx.test>\r\nRCPT TO:<B@mx.test>\r\n"
	    "RCPT TO:<List2@mx.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n";
	char path[] = "/tmp/unit-session-aliases.XXXXXX", err[ALIASES_ERR_MAX];
	static char check_word[] = "check";
	char *check[] = { check_word, NULL };
	const char *text = "list: a, b\nlist2: b, c\n";
	struct aliases *al;
	struct config cfg;
	struct run r;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_msg(aliases_load(path, &al, err, sizeof(err)) == 0, "%s", err);
	unlink(path);
	test_config(&cfg);
	cfg.aliases = al;
	cfg.rcpt_check = check;
	start(&r, in, sizeof(in) - 1, 0);
	r.stub.screen_answer = refuse_list;
	go(&cfg, &r);
	expect(&r, want);
	ck_assert_uint_eq(r.stub.ncalls, 2);
	ck_assert_str_eq(r.calls[0].addr, "B@mx.test");
	ck_assert_str_eq(r.calls[0].orig, "B@mx.test");
	ck_assert_str_eq(r.calls[1].addr, "c@mx.test");
	ck_assert_str_eq(r.calls[1].orig, "List2@mx.test");
	ck_assert_uint_eq(r.calls[0].nrcpt, 2);
	run_free(&r);
	aliases_free(al);
}
END_TEST

START_TEST(test_require_tls)
{
	static const char *const want[] = { W_GREETING, W_EHLO, "530 5.7.0",
	    "220 2.0.0", W_HELO, "250 2.1.0", "221 2.0.0", NULL };
	static const char *const none[] = { "421 4.7.0", NULL };
	struct config cfg;
	struct run r;

	test_config(&cfg);
	cfg.require_tls = 1;
	run_tls(&cfg, "EHLO c.example\r\nMAIL FROM:<s@x.org>\r\nSTARTTLS\r\n",
	    "HELO c.example\r\nMAIL FROM:<s@x.org>\r\nQUIT\r\n", 0, 0, &r);
	expect(&r, want);
	run_free(&r);
	run(&cfg, LIT("EHLO c.example\r\nMAIL FROM:<s@x.org>\r\n"), 0, &r);
	expect(&r, none);
	run_free(&r);
}
END_TEST

/* The "with" names under TLS (RFC 3848, RFC 6531) */
START_TEST(test_starttls_with_names)
{
	static const struct { int lmtp; const char *helo, *mail, *with; }
	    cases[] = {
		{ 0, "HELO", "", "ESMTPS" },
		{ 0, "EHLO", " SMTPUTF8", "UTF8SMTPS" },
		{ 1, "LHLO", "", "LMTPS" },
		{ 1, "LHLO", " SMTPUTF8", "UTF8LMTPS" },
	};
	struct config cfg;
	struct run r;
	char tls_part[512];
	size_t i;

	test_config(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg.lmtp = cases[i].lmtp;
		snprintf(tls_part, sizeof(tls_part), "%s c.example\r\n"
		    "MAIL FROM:<s@x.org>%s\r\nRCPT TO:<r@mx.test>\r\nDATA\r\n"
		    "x\r\n.\r\nQUIT\r\n", cases[i].helo, cases[i].mail);
		run_tls(&cfg, cfg.lmtp ? "LHLO c.example\r\nSTARTTLS\r\n" :
		    "EHLO c.example\r\nSTARTTLS\r\n", tls_part, 0, 0, &r);
		ck_assert_int_eq(r.stub.ncalls, 1);
		ck_assert_str_eq(r.stub.calls[0].with, cases[i].with);
		run_free(&r);
	}
}
END_TEST

/* transcript_tcase - whole dialogues, however the bytes arrive */
static TCase *
transcript_tcase(void)
{
	TCase *tc = tcase_create("transcript");

	tcase_add_test(tc, test_basic_transcript);
	tcase_add_test(tc, test_chunkings_agree);
	tcase_add_test(tc, test_one_byte_exact_bytes);
	tcase_add_test(tc, test_short_writes);
	tcase_add_test(tc, test_greeting_then_eof);
	tcase_add_test(tc, test_eof_without_quit);
	tcase_add_test(tc, test_no_memory);
	tcase_add_test(tc, test_sequence_errors);
	tcase_add_test(tc, test_helo_resets_transaction);
	tcase_add_loop_test(tc, test_outcomes, 0,
	    (int)(sizeof(outcome_cases) / sizeof(outcome_cases[0])));
	tcase_add_test(tc, test_pipelined_transactions);
	tcase_add_test(tc, test_quit_stops_reading);
	tcase_add_test(tc, test_other_commands);
	tcase_add_test(tc, test_ehlo_keywords);
	return tc;
}

/* limits_tcase - errors, lengths, counts, sizes, hops and time */
static TCase *
limits_tcase(void)
{
	TCase *tc = tcase_create("limits");

	tcase_add_test(tc, test_max_errors);
	tcase_add_test(tc, test_max_errors_mixed);
	tcase_add_test(tc, test_errors_below_limit);
	tcase_add_test(tc, test_outcome_replies_not_errors);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_very_long_line);
	tcase_add_test(tc, test_long_line_in_transaction);
	tcase_add_test(tc, test_line_limit_boundary);
	tcase_add_test(tc, test_nul_in_line);
	tcase_add_test(tc, test_max_rcpt);
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_bdat_over_size_discarded);
	tcase_add_test(tc, test_bdat_huge_size_times_out);
	tcase_add_test(tc, test_error_order_fixed);
	tcase_add_test(tc, test_max_hops);
	tcase_add_test(tc, test_bare_newlines);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_early_talker);
	tcase_set_timeout(tc, 30);
	return tc;
}

/* data_tcase - the spool and the end of the data */
static TCase *
data_tcase(void)
{
	TCase *tc = tcase_create("data");

	tcase_add_test(tc, test_crlf_spool);
	tcase_add_test(tc, test_spool_unusable);
	tcase_add_loop_test(tc, test_eof_in_data, 0,
	    (int)(sizeof(eof_tails) / sizeof(eof_tails[0])));
	tcase_add_loop_test(tc, test_smuggling, 0,
	    (int)(sizeof(smuggle_seqs) / sizeof(smuggle_seqs[0])));
	return tc;
}

/* commands_tcase - MAIL, RCPT, HELO and LMTP one by one */
static TCase *
commands_tcase(void)
{
	TCase *tc = tcase_create("commands");

	tcase_add_loop_test(tc, test_rcpt_cases, 0,
	    (int)(sizeof(rcpt_cases) / sizeof(rcpt_cases[0])));
	tcase_add_loop_test(tc, test_mail_cases, 0,
	    (int)(sizeof(mail_cases) / sizeof(mail_cases[0])));
	tcase_add_test(tc, test_helo_names);
	tcase_add_test(tc, test_mail_params_need_ehlo);
	tcase_add_test(tc, test_with_utf8);
	tcase_add_test(tc, test_postmaster_delivery);
	tcase_add_test(tc, test_aliases_rcpt_taken_back);
	tcase_add_test(tc, test_lmtp);
	tcase_add_test(tc, test_lmtp_message_error);
	return tc;
}

/* starttls_tcase - STARTTLS through a scripted engine */
static TCase *
starttls_tcase(void)
{
	TCase *tc = tcase_create("starttls");

	tcase_add_test(tc, test_starttls_not_offered);
	tcase_add_test(tc, test_starttls_refused);
	tcase_add_test(tc, test_starttls_new_session);
	tcase_add_loop_test(tc, test_starttls_pipelined_dropped, 0, 6);
	tcase_add_test(tc, test_starttls_failed);
	tcase_add_test(tc, test_require_tls);
	tcase_add_test(tc, test_starttls_with_names);
	return tc;
}

Suite *
session_suite(void)
{
	Suite *s = suite_create("session");

	suite_add_tcase(s, transcript_tcase());
	suite_add_tcase(s, limits_tcase());
	suite_add_tcase(s, data_tcase());
	suite_add_tcase(s, commands_tcase());
	suite_add_tcase(s, starttls_tcase());
	return s;
}

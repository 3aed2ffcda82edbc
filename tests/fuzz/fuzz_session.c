/*
 * fuzz_session.c - libFuzzer target: a whole SMTP/LMTP session.
 *
 * Input: three octets of configuration, then the client's bytes.
 * Octet 0 picks options (LMTP, --crlf, --strict-newlines,
 * --delivered-to, --no-return-path, a --rcpt-check, a small --max-rcpt,
 * a small --max-size); octet 1 picks how the reader hands the bytes out
 * (0: all at once, else chunks of that many octets); octet 2 says
 * whether the launcher offers STARTTLS (bit 0) and whether the
 * handshake fails (bit 1).  Under STARTTLS the client's bytes after its
 * first STARTTLS line are what it sends inside TLS.  The session reads from
 * the buffer, writes to a sink, and delivers to a stub that runs
 * nothing (all three in tests/support.c; the checks and the stub's
 * answers are here).  It is run twice, once whole and once chunked, and
 * both runs must agree on every reply code and every delivery.
 *
 * Checked: a delivery happens only before the client's EOF, never more
 * transactions than the input holds end-of-data marks (LF "." CRLF,
 * as the data starts after the DATA line's LF; or a BDAT LAST); every
 * recipient is ours, safe and free of control octets; what is
 * delivered has only the line ends the options allow and fits
 * --max-size; every reply line is
 * "NNN" SP/"-" text CRLF, printable, with an enhanced code of the
 * reply's class; no descriptor is left open; a message received
 * after the handshake says so, one before it does not, and nothing is
 * delivered after a failed one.  No fork, no exec.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "session.h"
#include "tests/support.h"
#include "tests/fuzz/fuzz.h"

#define HOST		"mx.example"
#define MAX_CALLS	256

/* One run: the client (the fuzz bytes, handed out in chunks, then EOF;
 * and every reply byte), the stub's calls, and what the checks of a
 * delivery need to remember. */
struct fuzz_run {
	struct support_conn conn;
	struct support_stub stub;
	struct support_call calls[MAX_CALLS];
	char last_qid[64];			/* to count transactions */
	size_t transactions;
	size_t txn_first;			/* its first delivery */
};

/* ends_in - end-of-data marks in what the client has sent so far: an
 * upper bound on the transactions that may have been delivered */
static size_t
ends_in(const char *p, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		/* the data starts after the command's LF (CRLF or bare) */
		if (i + 4 <= n && memcmp(p + i, "\n.\r\n", 4) == 0)
			count++;
		else if (i + 4 <= n && strncasecmp(p + i, "LAST", 4) == 0)
			count++;
	}
	return count;
}

/* check_line_ends - LF only, or CRLF only, in what a command reads */
static void
check_line_ends(const char *d, size_t n, int crlf)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!crlf)
			FUZZ_CHECK(d[i] != '\r');
		else if (d[i] == '\r')
			FUZZ_CHECK(i + 1 < n && d[i + 1] == '\n');
		else if (d[i] == '\n')
			FUZZ_CHECK(i > 0 && d[i - 1] == '\r');
	}
}

/* check_rcpt - one delivery per recipient in a transaction (never one
 * %r twice, whatever case), and only safe recipients of ours */
static void
check_rcpt(struct fuzz_run *fr, const struct deliver_msg *msg,
    const struct address *rcpt)
{
	size_t i, n = fr->stub.ncalls - 1;	/* this call */

	if (strcmp(msg->head.queue_id, fr->last_qid) != 0) {
		fr->transactions++;
		fr->txn_first = n;
	}
	for (i = fr->txn_first; i < n && i < MAX_CALLS; i++)
		FUZZ_CHECK(strcasecmp(fr->calls[i].addr, rcpt->addr) != 0);
	snprintf(fr->last_qid, sizeof(fr->last_qid), "%s", msg->head.queue_id);
	FUZZ_CHECK(strcmp(rcpt->domain, HOST) == 0);
	FUZZ_CHECK(!address_unsafe(rcpt));
	for (i = 0; rcpt->addr[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)rcpt->addr[i] >= 32 &&
		    rcpt->addr[i] != 127);
}

/* check_call - the stub's check: a delivery before the client's EOF,
 * within the transactions the input holds, of a spool with only the
 * line ends the options allow and a body within --max-size */
static void
check_call(struct support_stub *st, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    struct support_call *c)
{
	struct fuzz_run *fr = st->ctx;
	unsigned long long body;

	FUZZ_CHECK(!fr->conn.in.eof);
	FUZZ_CHECK(!(fr->conn.tls.started && fr->conn.tls.fail));
	FUZZ_CHECK((c->tls[0] != '\0') == fr->conn.tls.started);
	FUZZ_CHECK(c->with[strlen(c->with) - 1] == 'S' ||
	    !fr->conn.tls.started);
	check_rcpt(fr, msg, rcpt);
	FUZZ_CHECK(fr->transactions <= ends_in(fr->conn.in.in,
	    fr->conn.in.pos));
	FUZZ_CHECK(msg->head.nrcpt >= 1 && msg->head.nrcpt <= cfg->max_rcpt);
	FUZZ_CHECK(c->data != NULL && msg->body_off <= msg->spool_len);
	check_line_ends(c->data, c->len, cfg->crlf);
	body = msg->spool_len - msg->body_off;
	if (!cfg->crlf || cfg->strict_newlines)
		FUZZ_CHECK(body <= cfg->max_size);
}

/* outcome - the stub's answer */
static void
outcome(struct outcome *out, enum outcome_class cls,
    const char *dsn, const char *text)
{
	out->status = 0;
	out->cls = cls;
	snprintf(out->dsn, sizeof(out->dsn), "%s", dsn);
	snprintf(out->text, sizeof(out->text), "%s", text);
}

/* answer - by the recipient's first octet: 't' temporary, 'p'
 * permanent, anything else delivered */
static void
answer(const struct address *rcpt, struct outcome *out)
{
	if (rcpt->local[0] == 't')
		outcome(out, OUT_TEMP, "4.2.2", "try later");
	else if (rcpt->local[0] == 'p')
		outcome(out, OUT_PERM, "5.2.2", "mailbox full");
	else
		outcome(out, OUT_DELIVERED, "2.0.0", "delivered");
}

/* screen_answer - --rcpt-check: 'x' unknown (67), 'y' try later (75),
 * else accept */
static void
screen_answer(const struct command_vars *v, struct outcome *out)
{
	if (v->local[0] == 'x')
		outcome(out, OUT_PERM, "5.1.1", "");
	else if (v->local[0] == 'y')
		outcome(out, OUT_TEMP, "4.2.1", "");
	else
		outcome(out, OUT_DELIVERED, "2.1.5", "");
}

/* check_replies - every line "NNN" SP/"-" text CRLF, printable (UTF-8
 * addresses may be echoed), an enhanced code of the reply's class; the
 * codes go to codes[] for the whole-versus-chunked comparison */
static size_t
check_replies(const char *p, size_t n, char *codes, size_t cap)
{
	size_t pos = 0, o = 0, i;

	while (pos < n) {
		const char *nl = memchr(p + pos, '\n', n - pos);
		size_t len;

		FUZZ_CHECK(nl != NULL);
		len = (size_t)(nl - (p + pos));
		FUZZ_CHECK(len >= 4 && p[pos + len - 1] == '\r');
		for (i = 0; i < 3; i++)
			FUZZ_CHECK(p[pos + i] >= '0' && p[pos + i] <= '9');
		FUZZ_CHECK(p[pos] >= '2' && p[pos] <= '5');
		FUZZ_CHECK(p[pos + 3] == ' ' || p[pos + 3] == '-');
		for (i = 4; i + 1 < len; i++)
			FUZZ_CHECK((unsigned char)p[pos + i] >= 32 &&
			    p[pos + i] != 127);
		if (len >= 9 && p[pos + 5] == '.' && p[pos + 4] >= '2' &&
		    p[pos + 4] <= '5')
			FUZZ_CHECK(p[pos + 4] == p[pos]);
		if (o + 5 < cap) {
			memcpy(codes + o, p + pos, 4);
			o += 4;
		}
		pos += len + 1;
	}
	codes[o] = '\0';
	return o;
}

/* tls_at - where the client's bytes inside TLS start: after its first
 * STARTTLS line (0: none); spaces before the line end are no argument,
 * as the session reads them */
static size_t
tls_at(const char *in, size_t n)
{
	size_t i, e;

	for (i = 0; i + 9 <= n; i++) {
		if (strncasecmp(in + i, "STARTTLS", 8) != 0)
			continue;
		for (e = i + 8; e < n && in[e] == ' '; e++)
			;
		if (e < n && in[e] == '\n')
			return e + 1;
		if (e + 1 < n && in[e] == '\r' && in[e + 1] == '\n')
			return e + 2;
	}
	return 0;
}

/* one_run - a session over the input; its codes and deliveries (the
 * caller frees them with support_stub_free) */
static void
one_run(const struct config *cfg, const char *in, size_t n, size_t chunk,
    unsigned tls, struct fuzz_run *fr, char *codes, size_t cap)
{
	struct chat_io io;
	struct session_deliverer del;
	int probe = dup(0), again;

	memset(fr, 0, sizeof(*fr));
	support_conn_start(&fr->conn, in, n, (long)chunk);
	fr->conn.tls.offer = tls & 1;
	fr->conn.tls.fail = (tls & 2) != 0;
	fr->conn.tls.at = (tls & 1) ? tls_at(in, n) : 0;
	support_conn_io(&fr->conn, &io);
	support_stub_start(&fr->stub, fr->calls, MAX_CALLS);
	fr->stub.check = check_call;
	fr->stub.answer = answer;
	fr->stub.screen_answer = screen_answer;
	fr->stub.ctx = fr;
	support_stub_deliverer(&fr->stub, &del);
	FUZZ_CHECK(probe >= 0);
	close(probe);
	FUZZ_CHECK(session_run(cfg, &io, &del) == EX_OK);
	if (fr->conn.tls.started && fr->conn.tls.fail)	/* nothing more */
		FUZZ_CHECK(fr->conn.out.len == fr->conn.tls.replies_at);
	check_replies(fr->conn.out.buf, fr->conn.out.len, codes, cap);
	support_conn_free(&fr->conn);
	/* the lowest free descriptor is the same: nothing was left open */
	again = dup(0);
	FUZZ_CHECK(again == probe);
	close(again);
}

/* same_body - delivery i of both runs: one recipient, one message */
static int
same_body(const struct fuzz_run *a, const struct fuzz_run *b, size_t i)
{
	const struct support_call *x = &a->calls[i], *y = &b->calls[i];

	return strcmp(x->addr, y->addr) == 0 &&
	    x->len - x->body_off == y->len - y->body_off &&
	    memcmp(x->data + x->body_off, y->data + y->body_off,
	    x->len - x->body_off) == 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	log_open(1);	/* stderr; fuzz-run passes -close_fd_mask=2 */
	return 0;
}

/* fuzz_config - the real defaults, and the options octet 0 chooses */
static void
fuzz_config(struct config *cfg, unsigned char opt)
{
	static char *cmd[] = { "true", NULL };
	static char *check[] = { "true", NULL };

	config_defaults(cfg);
	cfg->hostname = HOST;
	if (opt & 0x80) {
		cfg->max_size = 64;
		cfg->max_hops = 1;
	}
	if (opt & 0x40)
		cfg->max_rcpt = 2;
	cfg->lmtp = opt & 0x01;
	cfg->crlf = (opt & 0x02) != 0;
	cfg->strict_newlines = (opt & 0x04) != 0;
	cfg->delivered_to = (opt & 0x08) != 0;
	cfg->no_return_path = (opt & 0x10) != 0;
	cfg->rcpt_check = (opt & 0x20) ? check : NULL;
	cfg->command = cmd;
	cfg->client_ip = "192.0.2.1";
	cfg->client_host = "client.example";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_run whole, chunked;
	static char codes1[65536], codes2[65536];
	struct config cfg;
	size_t i;

	if (size < 3)
		return 0;
	fuzz_config(&cfg, data[0]);
	one_run(&cfg, (const char *)data + 3, size - 3, 0, data[2], &whole,
	    codes1, sizeof(codes1));
	if (data[1] == 0) {
		support_stub_free(&whole.stub);
		return 0;
	}
	one_run(&cfg, (const char *)data + 3, size - 3, data[1], data[2],
	    &chunked, codes2, sizeof(codes2));
	/* how the bytes arrive changes nothing the client or a command
	 * can see */
	if (strcmp(codes1, codes2) != 0)
		dprintf(fuzz_err, "fuzz_session: whole: %s\nfuzz_session: "
		    "chunked by %u: %s\n", codes1, data[1], codes2);
	FUZZ_CHECK(strcmp(codes1, codes2) == 0);
	FUZZ_CHECK(whole.stub.ncalls == chunked.stub.ncalls);
	for (i = 0; i < whole.stub.ncalls && i < MAX_CALLS; i++)
		FUZZ_CHECK(same_body(&whole, &chunked, i));
	support_stub_free(&whole.stub);
	support_stub_free(&chunked.stub);
	return 0;
}

/*
 * fuzz_session.c - libFuzzer target: a whole SMTP/LMTP session.
 *
 * Input: two octets of configuration, then the client's bytes.  Octet 0
 * picks options (LMTP, --crlf, --strict-newlines, --delivered-to,
 * --no-return-path, a --rcpt-check, a small --max-rcpt, a small
 * --max-size); octet 1 picks how the reader hands the bytes out (0: all
 * at once, else chunks of that many octets).  The session reads from
 * the buffer, writes to a sink, and delivers to a stub that runs
 * nothing.  It is run twice, once whole and once chunked, and both runs
 * must agree on every reply code and every delivery.
 *
 * Checked: a delivery happens only before the client's EOF, never more
 * transactions than the input holds end-of-data marks (LF "." CRLF,
 * as the data starts after the DATA line's LF; or a BDAT LAST); every
 * recipient is ours, safe and free of control octets; what is
 * delivered has only the line ends the options allow and fits
 * --max-size; every reply line is
 * "NNN" SP/"-" text CRLF, printable, with an enhanced code of the
 * reply's class; no descriptor is left open.  No fork, no exec.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "log.h"
#include "session.h"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		dprintf(fuzz_err, "fuzz_session: check failed: %s " \
		    "(line %d)\n", #cond, __LINE__); \
		abort(); \
	} \
} while (0)

#define HOST		"mx.example"
#define MAX_CALLS	256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* stderr as it was at start: fuzz-run closes fd 2 (-close_fd_mask=2) to
 * silence the server's log, and a failed check must still be seen */
static int fuzz_err = 2;

/* The client: the fuzz bytes, handed out in chunks, then EOF; and
 * every reply byte it got (session_io has one context for both). */
struct conn {
	const char *in;
	size_t n, pos;
	size_t chunk;		/* 0: everything at once */
	int eof;		/* EOF has been returned */
	char *out;
	size_t outlen, outcap;
};

/* What the stub saw: one entry per delivery. */
struct stub {
	const struct conn *c;
	size_t ncalls;
	unsigned long long bodies[MAX_CALLS];	/* FNV-1a of the message */
	char rcpts[MAX_CALLS][2 * ADDR_PART_MAX + 2];
	char last_qid[64];			/* to count transactions */
	size_t transactions;
	size_t txn_first;			/* its first delivery */
};

static ssize_t
fuzz_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct conn *c = ctx;
	size_t n = c->n - c->pos;

	(void)timeout_ms;
	if (n == 0) {
		c->eof = 1;
		return 0;
	}
	if (c->chunk > 0 && n > c->chunk)
		n = c->chunk;
	if (n > len)
		n = len;
	memcpy(buf, c->in + c->pos, n);
	c->pos += n;
	return (ssize_t)n;
}

static ssize_t
fuzz_write(void *ctx, const void *buf, size_t len)
{
	struct conn *c = ctx;

	if (c->outlen + len > c->outcap) {
		c->outcap = (c->outlen + len) * 2;
		c->out = realloc(c->out, c->outcap);
		FUZZ_CHECK(c->out != NULL);
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	return (ssize_t)len;
}

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

/* stub_deliver - record, check, and answer by the recipient's first
 * octet: 't' temporary, 'p' permanent, anything else delivered */
static int
stub_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    struct deliver_outcome *out)
{
	struct stub *st = ctx;
	char *d = malloc((size_t)msg->spool_len + 1);
	unsigned long long h = 1469598103934665603ULL, body;
	size_t got = 0, i;

	FUZZ_CHECK(!st->c->eof);
	if (strcmp(msg->queue_id, st->last_qid) != 0) {
		st->transactions++;
		st->txn_first = st->ncalls;
	}
	/* one delivery per recipient: never one %r twice, whatever case */
	for (i = st->txn_first; i < st->ncalls && i < MAX_CALLS; i++)
		FUZZ_CHECK(strcasecmp(st->rcpts[i], rcpt->addr) != 0);
	snprintf(st->last_qid, sizeof(st->last_qid), "%s", msg->queue_id);
	FUZZ_CHECK(st->transactions <= ends_in(st->c->in, st->c->pos));
	FUZZ_CHECK(msg->nrcpt >= 1 && msg->nrcpt <= cfg->max_rcpt);
	FUZZ_CHECK(strcmp(rcpt->domain, HOST) == 0);
	FUZZ_CHECK(!address_unsafe(rcpt));
	for (i = 0; rcpt->addr[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)rcpt->addr[i] >= 32 &&
		    rcpt->addr[i] != 127);
	FUZZ_CHECK(d != NULL && msg->body_off <= msg->spool_len);
	while (got < msg->spool_len) {
		ssize_t n = pread(msg->spool_fd, d + got,
		    (size_t)msg->spool_len - got, (off_t)got);

		FUZZ_CHECK(n > 0);
		got += (size_t)n;
	}
	check_line_ends(d, got, cfg->crlf);
	body = msg->spool_len - msg->body_off;
	if (!cfg->crlf || cfg->strict_newlines)
		FUZZ_CHECK(body <= cfg->max_size);
	for (i = (size_t)msg->body_off; i < got; i++)
		h = (h ^ (unsigned char)d[i]) * 1099511628211ULL;
	free(d);
	if (st->ncalls < MAX_CALLS) {
		st->bodies[st->ncalls] = h;
		snprintf(st->rcpts[st->ncalls], sizeof(st->rcpts[0]), "%s",
		    rcpt->addr);
	}
	st->ncalls++;
	memset(out, 0, sizeof(*out));
	out->status = 0;
	if (rcpt->local[0] == 't') {
		out->cls = OUT_TEMP;
		snprintf(out->dsn, sizeof(out->dsn), "4.2.2");
		snprintf(out->text, sizeof(out->text), "try later");
	} else if (rcpt->local[0] == 'p') {
		out->cls = OUT_PERM;
		snprintf(out->dsn, sizeof(out->dsn), "5.2.2");
		snprintf(out->text, sizeof(out->text), "mailbox full");
	} else {
		out->cls = OUT_DELIVERED;
		snprintf(out->dsn, sizeof(out->dsn), "2.0.0");
		snprintf(out->text, sizeof(out->text), "delivered");
	}
	return 0;
}

/* stub_rcpt_check - 'x' unknown (67), 'y' try later (75), else accept */
static int
stub_rcpt_check(void *ctx, const struct config *cfg,
    const struct deliver_vars *v, struct deliver_outcome *out)
{
	(void)ctx;
	(void)cfg;
	memset(out, 0, sizeof(*out));
	out->status = 0;
	out->cls = v->local[0] == 'x' ? OUT_PERM : v->local[0] == 'y' ?
	    OUT_TEMP : OUT_DELIVERED;
	snprintf(out->dsn, sizeof(out->dsn), "%s", v->local[0] == 'x' ?
	    "5.1.1" : v->local[0] == 'y' ? "4.2.1" : "2.1.5");
	return 0;
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

/* one_run - a session over the input; its codes and deliveries */
static void
one_run(const struct config *cfg, const char *in, size_t n, size_t chunk,
    struct stub *st, char *codes, size_t cap)
{
	struct conn c = { in, n, 0, chunk, 0, NULL, 0, 0 };
	struct session_io io = { fuzz_read, fuzz_write, &c };
	struct session_deliverer del = { stub_deliver, stub_rcpt_check, st };
	int probe = dup(0), again;

	memset(st, 0, sizeof(*st));
	st->c = &c;
	FUZZ_CHECK(probe >= 0);
	close(probe);
	FUZZ_CHECK(session_run(cfg, &io, &del) == EXIT_OK);
	check_replies(c.out, c.outlen, codes, cap);
	free(c.out);
	/* the lowest free descriptor is the same: nothing was left open */
	again = dup(0);
	FUZZ_CHECK(again == probe);
	close(again);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_err = fcntl(2, F_DUPFD_CLOEXEC, 3);
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
	static struct stub whole, chunked;
	static char codes1[65536], codes2[65536];
	struct config cfg;
	size_t i;

	if (size < 2)
		return 0;
	fuzz_config(&cfg, data[0]);
	one_run(&cfg, (const char *)data + 2, size - 2, 0, &whole, codes1,
	    sizeof(codes1));
	if (data[1] == 0)
		return 0;
	one_run(&cfg, (const char *)data + 2, size - 2, data[1], &chunked,
	    codes2, sizeof(codes2));
	/* how the bytes arrive changes nothing the client or a command
	 * can see */
	if (strcmp(codes1, codes2) != 0)
		dprintf(fuzz_err, "fuzz_session: whole: %s\nfuzz_session: "
		    "chunked by %u: %s\n", codes1, data[1], codes2);
	FUZZ_CHECK(strcmp(codes1, codes2) == 0);
	FUZZ_CHECK(whole.ncalls == chunked.ncalls);
	for (i = 0; i < whole.ncalls && i < MAX_CALLS; i++)
		FUZZ_CHECK(whole.bodies[i] == chunked.bodies[i] &&
		    strcmp(whole.rcpts[i], chunked.rcpts[i]) == 0);
	return 0;
}

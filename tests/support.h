/*
 * support.h - scripted I/O and a stub deliverer for session_run() in
 * tests (tests/unit_session.c, tests/fuzz/fuzz_session.c).
 *
 * A support_conn is the client: a script handed out in chunks (whole,
 * fixed, or random from a seed), optionally a timeout first or at the
 * end, and a sink that collects every reply byte.  A support_stub is
 * the deliverer: it reads the spool, records each call, lets the test
 * check the call and answers by the test's own rule; its account test
 * is the real account_find().  A support_log catches what is logged
 * (to stderr, as the unit tests log) between its start and its end;
 * support_aliases() loads an --aliases table from a test's text.
 * Nothing here forks, runs a command or depends on the check library: a
 * test asserts in its callbacks, so the same code serves libFuzzer
 * targets.
 */
#ifndef PIPESMTPD_TESTS_SUPPORT_H
#define PIPESMTPD_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "address.h"
#include "command.h"
#include "config.h"
#include "deliver.h"
#include "received.h"
#include "session.h"

/* The client's bytes; read by support_conn_read(). */
struct support_script {
	const char *in;
	size_t n, pos;
	long chunk;		/* 0 whole, >0 fixed, <0 random (seed) */
	unsigned seed;
	int timeout_first;	/* the first read times out */
	int end_timeout;	/* after the script: timeout, not EOF */
	int reads;
	int eof;		/* EOF has been returned */
};

/* Every reply byte, NUL-terminated; written by support_conn_write(). */
struct support_sink {
	char *buf;
	size_t len, cap;
	size_t max_write;	/* 0: take everything */
	int writes;
};

/* A scripted TLS engine: STARTTLS is offered when offer is set.  The
 * script's octets from at on are the client's inside TLS: no read
 * before the handshake gets past at, as a real client waits for the
 * 220 before its handshake. */
struct support_tls {
	int offer;		/* io->starttls is set */
	int fail;		/* the handshake fails */
	size_t at;		/* where the TLS stream starts (0: the
				   whole script is cleartext) */
	int started;		/* the handshake was asked for */
	size_t replies_at;	/* the sink's length when it was */
};

/* The chat_io context: one client, both directions. */
struct support_conn {
	struct support_script in;
	struct support_sink out;
	struct support_tls tls;
};

/* One delivery as the stub saw it. */
struct support_call {
	char addr[2 * ADDR_PART_MAX + 2];
	char orig[2 * ADDR_PART_MAX + 2];	/* ORIGINAL_RECIPIENT */
	char sender[2 * ADDR_PART_MAX + 2];
	int sender_null;
	char helo[512];
	char with[32];
	char queue_id[64];
	size_t nrcpt;
	char tls[2 * TLS_VALUE_MAX];	/* "protocol/cipher", or "" */
	char *data;		/* the spool as pread saw it, NUL-terminated;
				   NULL (errno set) if it could not be read */
	size_t len;
	size_t body_off;	/* where the message as received starts */
};

/* The deliverer: the test's part is check (look at a call; it may
 * change c) and the answers (out starts as outcome_init()'s
 * undelivered outcome). */
struct support_stub {
	struct support_call *calls;	/* the test's array */
	size_t max;			/* its size: later calls are checked
					   but not kept */
	size_t ncalls;			/* calls made, kept or not */
	void (*check)(struct support_stub *st, const struct config *cfg,
	    const struct deliver_msg *msg, const struct address *rcpt,
	    struct support_call *c);	/* or NULL */
	void (*answer)(const struct address *rcpt,
	    struct outcome *out);	/* NULL: all delivered */
	void (*screen_answer)(const struct command_vars *v,
	    struct outcome *out);	/* --rcpt-check; NULL: all
					   accepted */
	void *ctx;			/* the test's own */
};

/* The log lines written to stderr while it is caught. */
struct support_log {
	FILE *file;		/* stderr meanwhile */
	int saved;		/* the real stderr */
	char text[8192];	/* the lines, NUL-terminated */
};

void support_conn_start(struct support_conn *c, const char *in, size_t n,
    long chunk);
void support_conn_io(struct support_conn *c, struct chat_io *io);
ssize_t support_conn_read(void *ctx, void *buf, size_t len, int timeout_ms);
ssize_t support_conn_write(void *ctx, const void *buf, size_t len);
int support_conn_starttls(void *ctx, int timeout_ms, struct tls_info *info);
void support_conn_free(struct support_conn *c);

void support_stub_start(struct support_stub *st, struct support_call *calls,
    size_t max);
void support_stub_deliverer(struct support_stub *st,
    struct session_deliverer *d);
void support_stub_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct address *rcpt,
    const struct address *orig, struct outcome *out);
void support_stub_deliver_all(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct deliver_plan *p);
int support_stub_account(void *ctx, const struct config *cfg,
    const char *user);
void support_stub_screen(void *ctx, const struct config *cfg,
    const struct received_msg *m, const struct address *rcpt,
    struct outcome *out);
void support_stub_free(struct support_stub *st);

struct aliases *support_aliases(const char *text, char *err, size_t cap);

int support_log_start(struct support_log *l);
const char *support_log_end(struct support_log *l);

#endif

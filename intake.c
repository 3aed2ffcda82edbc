/*
 * intake.c - DATA and BDAT into the spool.
 *
 * Entry points: intake_init(), intake_close(), intake_open(),
 * intake_data(), intake_bdat_args(), intake_bdat_begin(),
 * intake_chunk(), intake_chunk_last(), intake_end().  The octets come
 * from chat.c's input buffer (chat_data()), which the data machine
 * (data.c) rewrites in place, and go to the spool (spool.c): memory
 * does not grow with the message.  Errors are latched in the order
 * size, line ends, spool, so the verdict does not depend on how the
 * client's bytes were split into reads.  This module never replies,
 * never counts an error and never knows the session: the caller turns
 * a latched error into its reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "intake.h"
#include "log.h"

/* intake_init - no message yet: no spool, nothing latched */
void
intake_init(struct intake *in)
{
	memset(in, 0, sizeof(*in));
	in->spool.fd = -1;
}

/* intake_close - the spool closed, and with it the unlinked file */
void
intake_close(struct intake *in)
{
	spool_close(&in->spool);
}

/* err_from - the message error for a spool errno */
static enum intake_err
err_from(int err)
{
	return (err == ENOSPC || err == EFBIG || err == EDQUOT) ?
	    INTAKE_ERR_NOSPACE : INTAKE_ERR_SPOOL;
}

/* open_spool - a new spool with the added headers at its head, unless
 * --delivered-to makes them differ per recipient: then every delivery
 * command can read the spool itself, with no copy */
static enum intake_err
open_spool(struct intake *in, const struct config *cfg,
    const struct received_msg *m, const struct address *first)
{
	char head[RECEIVED_HEADERS_MAX];
	int n;

	if (spool_open(&in->spool, cfg->spool) == -1) {
		log_error("%s: cannot create spool in %s: %s", m->queue_id,
		    cfg->spool, strerror(in->spool.err));
		return err_from(in->spool.err);
	}
	if (cfg->delivered_to)
		return INTAKE_OK;
	n = received_headers(cfg, m, first, head, sizeof(head));
	if (n < 0)
		return INTAKE_ERR_SPOOL;
	if (spool_write(&in->spool, head, (size_t)n) == -1)
		return err_from(in->spool.err);
	in->body_off = (unsigned long long)n;
	return INTAKE_OK;
}

/* intake_open - the spool for the message m describes (first: its
 * first RCPT), the error latched and returned */
enum intake_err
intake_open(struct intake *in, const struct config *cfg,
    const struct received_msg *m, const struct address *first)
{
	return in->err = open_spool(in, cfg, m, first);
}

/* store_piece - a data_sink: message octets to the spool, unless the
 * message has already failed */
static void
store_piece(void *ctx, const char *p, size_t n)
{
	struct intake *in = ctx;

	if (in->err == INTAKE_OK && spool_write(&in->spool, p, n) == -1)
		in->err = err_from(in->spool.err);
}

/* latch_verdict - size, then line ends, then the spool: whichever comes
 * first in this order wins, so the reply does not depend on how the
 * client's bytes were split into reads */
static void
latch_verdict(struct intake *in, const struct config *cfg,
    unsigned long long size, unsigned long long bare)
{
	if (size > cfg->max_size)
		in->err = INTAKE_ERR_SIZE;
	else if (bare > 0 && cfg->strict_newlines)
		in->err = INTAKE_ERR_NEWLINE;
}

/* intake_data - DATA: stream the data through the machine into the
 * spool, to its final dot; the machine works in the input buffer
 * itself */
enum chat_read
intake_data(struct intake *in, struct chat *c, const struct config *cfg)
{
	struct data_machine m;
	enum chat_read r;
	char *p;
	size_t n;

	data_init(&m, cfg->crlf, 0);
	chat_data_begin(c);
	for (;;) {
		if ((r = chat_data(c, &p, &n)) != CHAT_OK)
			return r;
		chat_take(c, data_run(&m, p, n, store_piece, in));
		latch_verdict(in, cfg, m.size, m.bare);
		if (m.state == DATA_END)
			return CHAT_OK;
	}
}

/* intake_bdat_args - "n" or "n LAST"; 0 when n is not a number */
int
intake_bdat_args(const char *arg, unsigned long long *n, int *last)
{
	size_t digits = strspn(arg, "0123456789");
	const char *rest = arg + digits;

	if (digits == 0 || digits > 18)
		return 0;
	*n = strtoull(arg, NULL, 10);
	while (*rest == ' ')
		rest++;
	*last = strcasecmp(rest, "LAST") == 0;
	return *rest == '\0' || *last;
}

/* intake_bdat_begin - the first chunk of the message: line ends are
 * converted across chunks from here on */
void
intake_bdat_begin(struct intake *in, const struct config *cfg)
{
	in->bdat = 1;
	data_init(&in->chunks, cfg->crlf, 1);
}

/* bdat_store - one piece of a chunk: counted, line ends converted in
 * place, spooled (RFC 3030: no unstuffing, no end-of-data scan).  Past
 * --max-size nothing more is kept: the rest of the chunk is discarded
 * and the chunk's reply is the 552. */
static void
bdat_store(struct intake *in, const struct config *cfg, char *p, size_t n)
{
	in->bdat_size += n;
	if (in->bdat_size > cfg->max_size)
		in->err = INTAKE_ERR_SIZE;	/* first, as for DATA */
	if (in->err != INTAKE_OK)
		return;
	data_run(&in->chunks, p, n, store_piece, in);
	latch_verdict(in, cfg, in->bdat_size, in->chunks.bare);
}

/* intake_chunk - exactly n octets of BDAT data, stored when in is set
 * and discarded otherwise (or once in has latched an error), so the
 * session stays in step either way.  A refused chunk is read too,
 * however large (RFC 3030 2: "accept and discard"): through the one
 * input buffer, within the data deadline, never allocated by its
 * size. */
enum chat_read
intake_chunk(struct intake *in, struct chat *c, const struct config *cfg,
    unsigned long long n)
{
	chat_data_begin(c);
	while (n > 0) {
		size_t take;
		char *p;
		enum chat_read r = chat_data(c, &p, &take);

		if (r != CHAT_OK)
			return r;
		if (take > n)
			take = (size_t)n;
		if (in != NULL)
			bdat_store(in, cfg, p, take);
		chat_take(c, take);
		n -= take;
	}
	return CHAT_OK;
}

/* intake_chunk_last - the last chunk has ended: CRs it ended with are
 * bare */
void
intake_chunk_last(struct intake *in, const struct config *cfg)
{
	data_finish(&in->chunks, store_piece, in);
	latch_verdict(in, cfg, in->bdat_size, in->chunks.bare);
}

/* check_hops - the mail-loop limit on Received: headers */
static void
check_hops(struct intake *in, const struct config *cfg)
{
	struct spool_headers h;

	if (in->err != INTAKE_OK)
		return;
	if (spool_scan_at(in->spool.fd, in->body_off, in->spool.len, &h) == -1)
		in->err = INTAKE_ERR_SPOOL;
	else if (h.received > cfg->max_hops)
		in->err = INTAKE_ERR_HOPS;
}

/* drop_forged - --authserv-id: the Authentication-Results: fields that
 * claim to be ours are removed from the message before the check and
 * the deliveries see it (RFC 8601 5) */
static void
drop_forged(struct intake *in, const struct config *cfg,
    const char *queue_id)
{
	int n;

	if (cfg->authserv_id == NULL || in->err != INTAKE_OK)
		return;
	n = spool_drop_fields(&in->spool, in->body_off, authres_forged,
	    cfg->authserv_id);
	if (n < 0) {
		log_error("%s: cannot rewrite the spool: %s", queue_id,
		    strerror(in->spool.err));
		in->err = INTAKE_ERR_SPOOL;
	} else if (n > 0) {
		log_info("%s: removed %d Authentication-Results: field%s "
		    "claiming authserv-id %s", queue_id, n, n > 1 ? "s" : "",
		    cfg->authserv_id);
	}
}

/* intake_end - the whole message is in (queue_id names it in the
 * log): the mail-loop limit, then --authserv-id's forged fields
 * removed; either may latch an error */
void
intake_end(struct intake *in, const struct config *cfg,
    const char *queue_id)
{
	check_hops(in, cfg);
	drop_forged(in, cfg, queue_id);
}

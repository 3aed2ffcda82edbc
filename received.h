/*
 * received.h - the header block pipesmtpd adds to a message.
 *
 * received_headers() writes, for one recipient, Return-Path (unless
 * --no-return-path), Delivered-To (with --delivered-to: the recipient
 * delivered to) and the Received line (its "for": the address the client
 * gave), with the line ends the command gets (--crlf).  The session calls
 * it once when the block is the same for every recipient and spools it
 * ahead of the message; deliver.c calls it per recipient otherwise.
 * received_with() names the protocol the Received line's "with" gives.
 * received_fields() checks what --data-check wrote and makes it the
 * fields added right after Received: in every copy.
 * received_path() writes an address as RFC 5321 does, for the headers;
 * received_logged_path() the same, escaped for a log line.  Nothing here
 * reads or writes a file.
 */
#ifndef PIPESMTPD_RECEIVED_H
#define PIPESMTPD_RECEIVED_H

#include <stddef.h>
#include <time.h>

#include "address.h"
#include "config.h"
#include "tls.h"

#define RECEIVED_HEADERS_MAX	8192	/* the added block, with its NUL */
#define RECEIVED_PATH_MAX	(2 * ADDR_PART_MAX + 8)	/* a quoted address */
#define RECEIVED_LOGGED_MAX	(4 * RECEIVED_PATH_MAX)	/* ... escaped */
#define RECEIVED_FIELDS_MAX	65536	/* --data-check's fields, as written */

/* What the added headers say about one message. */
struct received_msg {
	const struct address *sender;	/* internal form */
	const char *helo;		/* client's HELO/EHLO/LHLO name */
	const char *with;		/* SMTP, ESMTP, UTF8SMTP, LMTP... */
	const char *queue_id;
	size_t nrcpt;			/* RCPTs: "for <...>" if one */
	const struct address *first;	/* the first RCPT as the client
					   gave it, before --aliases */
	time_t arrival;			/* for the Received date */
	const struct tls_info *tls;	/* NULL when received without TLS */
};

const char *received_with(int lmtp, int ehlo, int smtputf8, int tls);
int received_headers(const struct config *cfg, const struct received_msg *m,
    const struct address *rcpt, char *out, size_t cap);
void received_path(const struct address *a, char *out, size_t cap);
const char *received_logged_path(const struct address *a, char *out,
    size_t cap);
int received_fields(const struct config *cfg, const char *in, size_t len,
    char *out, size_t cap);

#endif

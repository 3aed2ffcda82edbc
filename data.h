/*
 * data.h - the DATA byte machine: end-of-data detection, dot-unstuffing,
 * line-end normalisation and size counting, in one pass over whole buffers.
 *
 * It is pure: bytes in, bytes out, no I/O.  The end of data is found only
 * at CRLF "." CRLF; a bare CR or bare LF becomes a line end (or is
 * latched as an error under strict newlines) and never ends the data.
 */
#ifndef PIPESMTPD_DATA_H
#define PIPESMTPD_DATA_H

#include <stddef.h>

enum data_state {
	DATA_BOL,	/* after CRLF (or at the start) */
	DATA_MID,	/* inside a line */
	DATA_CR,	/* CR seen inside a line */
	DATA_DOT,	/* "." at the start of a line */
	DATA_DOTCR,	/* "." CR at the start of a line */
	DATA_END	/* CRLF "." CRLF seen */
};

struct data_machine {
	enum data_state state;
	int crlf;			/* emit CRLF, not LF, as line end */
	unsigned long long size;	/* octets as received (RFC 1870) */
	unsigned long long bare;	/* bare CR or bare LF seen */
};

/* Output room data_feed() needs for n input octets. */
#define DATA_OUT_ROOM(n)	(2 * (n) + 2)

void data_init(struct data_machine *m, int crlf);
size_t data_feed(struct data_machine *m, const char *in, size_t n,
    char *out, size_t *outlen);
void data_convert(const char *in, size_t n, int crlf, int *pending_cr,
    char *out, size_t *outlen, unsigned long long *bare);

#endif

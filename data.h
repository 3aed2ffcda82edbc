/*
 * data.h - the DATA byte machine: end-of-data detection, dot-unstuffing,
 * line-end normalisation and size counting, in one pass over whole buffers.
 *
 * It is pure: bytes in, bytes out, no I/O.  The end of data is found only
 * at CRLF "." CRLF; a bare CR or bare LF becomes a line end (or is
 * latched as an error under strict newlines) and never ends the data.
 * A run of CRs right before an LF is one line end.  A chunked machine
 * (BDAT, RFC 3030) converts line ends only: no unstuffing and no end of
 * data.
 */
#ifndef PIPESMTPD_DATA_H
#define PIPESMTPD_DATA_H

#include <stddef.h>

enum data_state {
	DATA_BOL,	/* after CRLF (or at the start) */
	DATA_BOL_BARE,	/* after a bare line end: a leading dot is
			   stuffing, but this line never ends the data */
	DATA_MID,	/* inside a line */
	DATA_CR,	/* a run of crs CRs, its next octet not yet seen
			   (it may have been at a chunk's end) */
	DATA_DOT,	/* "." at the start of a line */
	DATA_DOTCR,	/* "." CR at the start of a line */
	DATA_END	/* CRLF "." CRLF seen */
};

struct data_machine {
	enum data_state state;
	int crlf;			/* emit CRLF, not LF, as line end */
	int chunked;			/* BDAT: line ends only */
	unsigned long long size;	/* DATA: octets as received (RFC 1870) */
	unsigned long long bare;	/* bare CR or bare LF seen */
	unsigned long long crs;		/* DATA_CR: CRs of the run not yet
					   written (counted, never buffered) */
};

/* Where data_run() hands each piece of output. */
typedef void data_sink(void *ctx, const char *p, size_t n);

void data_init(struct data_machine *m, int crlf, int chunked);
size_t data_feed(struct data_machine *m, const char *in, size_t n,
    char *out, size_t room, size_t *outlen);
size_t data_run(struct data_machine *m, char *buf, size_t n,
    data_sink *sink, void *ctx);
void data_finish(struct data_machine *m, data_sink *sink, void *ctx);

#endif

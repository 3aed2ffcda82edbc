/*
 * data.c - the DATA byte machine.
 *
 * Entry points: data_init(), data_feed() for DATA (end-of-data scan,
 * dot-unstuffing, line-end normalisation, size), data_convert() for BDAT
 * chunks (line ends only).  Inside a line the machine does not look at
 * octets one by one: memchr() finds the next LF and the next CR over the
 * whole buffer, and the text between is copied in one piece.
 *
 * Why bare CR and bare LF matter: SMTP smuggling hides a second message
 * behind an end-of-data sequence that one server honours and another does
 * not (LF "." LF, CR "." CR, ...).  Here only CRLF "." CRLF ends the data,
 * and a line that began after a bare LF or bare CR is not a line that can
 * end it: its leading "." is content.
 */
#include <string.h>

#include "data.h"

/* put_eol - one normalised line end */
static size_t
put_eol(const struct data_machine *m, char *out)
{
	if (m->crlf) {
		out[0] = '\r';
		out[1] = '\n';
		return 2;
	}
	out[0] = '\n';
	return 1;
}

/* put_text - copy line content and count it */
static size_t
put_text(struct data_machine *m, const char *p, size_t n, char *out)
{
	memcpy(out, p, n);
	m->size += n;
	return n;
}

/* bare_eol - a bare CR or LF becomes a line end that cannot end the data */
static size_t
bare_eol(struct data_machine *m, char *out)
{
	m->bare++;
	m->size++;
	m->state = DATA_MID;
	return put_eol(m, out);
}

/* scan_mid - the common path: the rest of a line, up to a CR or LF */
static const char *
scan_mid(struct data_machine *m, const char *p, const char *end,
    char *out, size_t *o)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *lim = lf != NULL ? lf : end;
	const char *cr = memchr(p, '\r', (size_t)(lim - p));

	if (cr != NULL) {
		*o += put_text(m, p, (size_t)(cr - p), out + *o);
		m->state = DATA_CR;
		return cr + 1;
	}
	*o += put_text(m, p, (size_t)(lim - p), out + *o);
	if (lf == NULL)
		return end;
	*o += bare_eol(m, out + *o);
	return lf + 1;
}

/* data_init - a machine at the start of the data (a line start) */
void
data_init(struct data_machine *m, int crlf)
{
	memset(m, 0, sizeof(*m));
	m->state = DATA_BOL;
	m->crlf = crlf;
}

/* data_feed - consume input up to and including the end of data; out must
 * have DATA_OUT_ROOM(n) octets.  Returns the octets consumed. */
size_t
data_feed(struct data_machine *m, const char *in, size_t n, char *out,
    size_t *outlen)
{
	const char *p = in, *end = in + n;
	size_t o = 0;

	while (p < end && m->state != DATA_END) {
		switch (m->state) {
		case DATA_BOL:		/* a leading dot is stuffing or end */
			if (*p == '.') {
				m->state = DATA_DOT;
				p++;
			} else {
				m->state = DATA_MID;
			}
			break;
		case DATA_DOT:		/* the dot is dropped either way */
			if (*p == '\r') {
				m->state = DATA_DOTCR;
				p++;
			} else {
				m->state = DATA_MID;
			}
			break;
		case DATA_DOTCR:	/* "." CR LF ends; else a bare CR */
			if (*p == '\n') {
				m->state = DATA_END;
				p++;
			} else {
				o += bare_eol(m, out + o);
			}
			break;
		case DATA_CR:		/* CR LF is a line end; else bare */
			if (*p == '\n') {
				o += put_eol(m, out + o);
				m->size += 2;
				m->state = DATA_BOL;
				p++;
			} else {
				o += bare_eol(m, out + o);
			}
			break;
		case DATA_MID:
			p = scan_mid(m, p, end, out, &o);
			break;
		case DATA_END:
			break;
		}
	}
	*outlen = o;
	return (size_t)(p - in);
}

/* data_convert - line ends of a BDAT chunk: CRLF, bare CR and bare LF each
 * become one line end; a CR at the end of a chunk waits in *pending_cr for
 * the next one.  n == 0 means the last chunk has ended: a pending CR is a
 * bare CR.  out must have DATA_OUT_ROOM(n) octets. */
void
data_convert(const char *in, size_t n, int crlf, int *pending_cr,
    char *out, size_t *outlen, unsigned long long *bare)
{
	struct data_machine m;
	const char *p = in, *end = in + n;
	size_t o = 0;

	data_init(&m, crlf);
	if (*pending_cr && (n == 0 || *p != '\n'))
		(*bare)++;
	if (*pending_cr) {
		o += put_eol(&m, out);
		p += (n > 0 && *p == '\n');
		*pending_cr = 0;
	}
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *lim = lf != NULL ? lf : end;
		const char *cr = memchr(p, '\r', (size_t)(lim - p));
		const char *stop = cr != NULL ? cr : lim;

		memcpy(out + o, p, (size_t)(stop - p));
		o += (size_t)(stop - p);
		if (stop == end)
			break;
		if (cr != NULL && cr + 1 == end) {
			*pending_cr = 1;
			break;
		}
		if (cr == NULL || cr[1] != '\n')
			(*bare)++;
		o += put_eol(&m, out + o);
		p = (cr != NULL && cr[1] == '\n') ? cr + 2 : stop + 1;
	}
	*outlen = o;
}

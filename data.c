/*
 * data.c - the DATA byte machine.
 *
 * Entry points: data_init(), data_feed() (one pass into a given output),
 * data_run() (the session's path: a whole buffer, rewritten in place) and
 * data_finish() (CRs left at the end of the last BDAT chunk).  Inside a
 * line the machine does not look at octets one by one: memchr() finds the
 * next LF and the next CR over the whole buffer, and the text between is
 * moved in one piece.
 *
 * Why bare CR and bare LF matter: SMTP smuggling hides a second message
 * behind an end-of-data sequence that one server honours and another does
 * not (LF "." LF, CR "." CR, ...).  Here only CRLF "." CRLF ends the data,
 * and a line that began after a bare LF or bare CR is not a line that can
 * end it.  It is a data line all the same: a leading "." is stuffing and
 * is removed ("a" LF ".." "b" is delivered as "a", ".b").
 *
 * CR runs: some clients send CR CR LF for a line end.  A run of CRs right
 * before an LF is one line end; its last CR and the LF are a real CRLF,
 * so the next line is a line start where "." CRLF ends the data: the
 * octets CRLF "." CRLF are literally there, and the data ends exactly
 * where they first occur, nowhere else.  The run's other CRs count as
 * bare (refused under --strict-newlines) and as received octets.  CRs
 * followed by anything else are bare CRs, a line end each.  A run may be
 * megabytes long, so it is counted, not buffered, and its line ends are
 * written once its next octet is seen, as many at a time as fit.
 *
 * Why in place: without --crlf no step writes more octets than it has
 * consumed, so the output can overwrite the input it came from and go to
 * the spool from the input buffer itself: no second buffer to fill (flat
 * memory) and one copy fewer.  The rare step that would outgrow its input
 * (a line end that grows under --crlf, or line ends owed from the
 * previous buffer, such as the bare CRs of a run that ended there) makes
 * data_feed() stop; data_run() then takes a few kilobytes through a small
 * spill buffer, again until all is written, and goes back to working in
 * place.
 */
#include <string.h>

#include "data.h"

#define SPILL_MAX	16384	/* output of the steps that cannot be in place */

/* One data_feed() call: where output goes and how much fits. */
struct feed {
	struct data_machine *m;
	const char *in;		/* the call's input */
	char *out;		/* may be in itself */
	size_t room, o;		/* out's size, octets written */
};

/* limit - how far output may reach once the input up to after has been
 * consumed: in place it must never pass input that is still unread */
static size_t
limit(const struct feed *f, const char *after)
{
	size_t read;

	if (f->out != f->in)
		return f->room;
	read = (size_t)(after - f->in);
	return read < f->room ? read : f->room;
}

/* put_eol - one normalised line end; 0 when it does not fit */
static int
put_eol(struct feed *f, const char *after)
{
	size_t k = f->m->crlf ? 2 : 1;

	if (f->o + k > limit(f, after))
		return 0;
	if (f->m->crlf)
		f->out[f->o++] = '\r';
	f->out[f->o++] = '\n';
	return 1;
}

/* put_text - line content [p, stop), as much as fits; where it stopped */
static const char *
put_text(struct feed *f, const char *p, const char *stop)
{
	size_t n = (size_t)(stop - p), avail = limit(f, stop) - f->o;

	if (n > avail)
		n = avail;
	if (f->out + f->o != p)
		memmove(f->out + f->o, p, n);
	f->o += n;
	f->m->size += n;
	return p + n;
}

/* put_eols - up to want line ends, as many as fit; how many were put */
static unsigned long long
put_eols(struct feed *f, const char *after, unsigned long long want)
{
	size_t k = f->m->crlf ? 2 : 1, fit = (limit(f, after) - f->o) / k, i;

	if (fit > want)
		fit = (size_t)want;
	if (k == 1)
		memset(f->out + f->o, '\n', fit);
	for (i = 0; k == 2 && i < fit; i++)
		memcpy(f->out + f->o + 2 * i, "\r\n", 2);
	f->o += fit * k;
	return fit;
}

/* after_bare - the state after a bare line end: in DATA a line start
 * whose dot is stuffing but that cannot end the data */
static void
after_bare(struct data_machine *m)
{
	m->state = m->chunked ? DATA_MID : DATA_BOL_BARE;
}

/* bare_eol - a bare LF becomes a line end that cannot end the data */
static int
bare_eol(struct feed *f, const char *after)
{
	if (!put_eol(f, after))
		return 0;
	f->m->bare++;
	f->m->size++;
	after_bare(f->m);
	return 1;
}

/* bare_crs - a run of CRs followed by neither CR nor LF: each CR is a
 * bare line end, written as room allows; NULL when none fits */
static const char *
bare_crs(struct feed *f, const char *p)
{
	struct data_machine *m = f->m;
	unsigned long long n = put_eols(f, p, m->crs);

	if (n == 0)
		return NULL;
	m->crs -= n;
	m->bare += n;
	m->size += n;
	if (m->crs == 0)
		after_bare(m);
	return p;
}

/* line_end - after a CRLF: a line start, where a dot matters (DATA) */
static const char *
line_end(struct feed *f, const char *next, const char *end)
{
	f->m->state = (f->m->chunked || (next < end && *next != '.')) ?
	    DATA_MID : DATA_BOL;
	return next;
}

/* clean_lines - the common path: whole lines ending in CRLF with no other
 * CR or LF, each moved in one piece; stops at anything else, at a line
 * start with a dot, and where the output would not fit.  One room check
 * a line, not put_text() and put_eol() with one each: measured, the two
 * calls cost about a quarter more time in the machine. */
static const char *
clean_lines(struct feed *f, const char *p, const char *end)
{
	size_t k = f->m->crlf ? 2 : 1;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *cr;
		size_t n;

		if (lf == NULL || lf == p || lf[-1] != '\r')
			break;
		n = (size_t)(lf - 1 - p);
		cr = memchr(p, '\r', n);
		if (cr != NULL || f->o + n + k > limit(f, lf + 1))
			break;
		if (f->out + f->o != p)
			memmove(f->out + f->o, p, n);
		f->o += n;
		if (k == 2)
			f->out[f->o++] = '\r';
		f->out[f->o++] = '\n';
		f->m->size += n + 2;
		p = lf + 1;
		if (!f->m->chunked && (p == end || *p == '.')) {
			f->m->state = DATA_BOL;
			break;
		}
	}
	return p;
}

/* in_line - the rest of a line, up to a CR or LF; NULL when out of room
 * before any progress */
static const char *
in_line(struct feed *f, const char *p, const char *end)
{
	const char *lf, *lim, *cr, *stop, *q, *start = p;

	p = clean_lines(f, p, end);
	if (p == end || f->m->state != DATA_MID)
		return p;
	lf = memchr(p, '\n', (size_t)(end - p));
	lim = lf != NULL ? lf : end;
	cr = memchr(p, '\r', (size_t)(lim - p));
	stop = cr != NULL ? cr : lim;
	q = put_text(f, p, stop);
	if (q != stop)
		return q > start ? q : NULL;
	if (stop == end)
		return end;
	if (cr != NULL) {
		f->m->state = DATA_CR;
		f->m->crs = 1;
		return cr + 1;
	}
	if (bare_eol(f, lf + 1))
		return lf + 1;
	return q > start ? q : NULL;
}

/* after_cr - the octet after a run of CRs: another CR lengthens the run
 * (counted; nothing is written yet), LF makes the whole run one line end
 * ending in a real CRLF, anything else makes each CR a bare line end */
static const char *
after_cr(struct feed *f, const char *p, const char *end)
{
	struct data_machine *m = f->m;
	const char *q = p;

	if (*p == '\r') {
		while (q < end && *q == '\r')
			q++;
		m->crs += (unsigned long long)(q - p);
		return q;
	}
	if (*p != '\n')
		return bare_crs(f, p);
	if (!put_eol(f, p + 1))
		return NULL;
	m->bare += m->crs - 1;		/* the CRs before the CR of CRLF */
	m->size += m->crs + 1;
	m->crs = 0;
	return line_end(f, p + 1, end);
}

/* step - one move of the machine from p; NULL when out of room */
static const char *
step(struct feed *f, const char *p, const char *end)
{
	struct data_machine *m = f->m;

	switch (m->state) {
	case DATA_BOL:		/* a leading dot is stuffing or the end */
		m->state = *p == '.' ? DATA_DOT : DATA_MID;
		return *p == '.' ? p + 1 : p;
	case DATA_BOL_BARE:	/* a leading dot is stuffing, never the end */
		m->state = DATA_MID;
		return *p == '.' ? p + 1 : p;
	case DATA_DOT:		/* the dot is dropped either way */
		m->state = *p == '\r' ? DATA_DOTCR : DATA_MID;
		return *p == '\r' ? p + 1 : p;
	case DATA_DOTCR:	/* "." CR LF ends; else the CR starts a run */
		if (*p != '\n') {
			m->state = DATA_CR;
			m->crs = 1;
			return p;
		}
		m->state = DATA_END;
		return p + 1;
	case DATA_CR:
		return after_cr(f, p, end);
	case DATA_MID:
		return in_line(f, p, end);
	case DATA_END:
		break;
	}
	return NULL;
}

/* data_init - a machine at the start of the data (a line start) */
void
data_init(struct data_machine *m, int crlf, int chunked)
{
	memset(m, 0, sizeof(*m));
	m->state = chunked ? DATA_MID : DATA_BOL;
	m->crlf = crlf;
	m->chunked = chunked;
}

/* data_feed - consume input up to and including the end of data, writing
 * at most room octets to out.  out may be in itself: the machine then
 * never writes past the input it has consumed, and stops where a line end
 * would.  Returns the octets consumed; it stops early only at the end of
 * data or when the next output does not fit. */
size_t
data_feed(struct data_machine *m, const char *in, size_t n, char *out,
    size_t room, size_t *outlen)
{
	struct feed f = { m, in, out, room, 0 };
	const char *p = in, *end = in + n;

	while (p < end && m->state != DATA_END) {
		const char *q = step(&f, p, end);

		if (q == NULL)
			break;
		p = q;
	}
	*outlen = f.o;
	return (size_t)(p - in);
}

/* data_run - the machine over all of buf[0, n), rewriting it in place and
 * handing each piece of output to sink.  Returns the octets consumed: n,
 * unless the end of data came first. */
size_t
data_run(struct data_machine *m, char *buf, size_t n, data_sink *sink,
    void *ctx)
{
	char spill[SPILL_MAX];
	size_t done = 0;

	while (done < n && m->state != DATA_END) {
		char *p = buf + done, *out = p;
		size_t olen, used;

		used = data_feed(m, p, n - done, p, n - done, &olen);
		if (used == 0) {	/* a line end outgrows its input */
			out = spill;
			used = data_feed(m, p, n - done, spill, sizeof(spill),
			    &olen);
		}
		if (olen > 0)
			sink(ctx, out, olen);
		done += used;
	}
	return done;
}

/* data_finish - the end of the last BDAT chunk: CRs left waiting for an
 * LF are bare CRs, a line end each, handed to sink in pieces */
void
data_finish(struct data_machine *m, data_sink *sink, void *ctx)
{
	char out[SPILL_MAX];

	while (m->state == DATA_CR && m->crs > 0) {
		struct feed f = { m, NULL, out, sizeof(out), 0 };

		bare_crs(&f, NULL);
		sink(ctx, out, f.o);
	}
	if (m->state == DATA_CR)
		after_bare(m);
}

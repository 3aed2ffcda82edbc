/*
 * fuzz_data.c - libFuzzer target: the DATA machine and BDAT conversion.
 *
 * Input: four octets that choose two split points, then the data.  For
 * the DATA machine, in both line-end modes:
 *   - the end is found exactly where a naive scan finds the first
 *     CRLF "." CRLF (or "." CRLF at the very start), and nowhere else;
 *   - output, size and bare-line-end count equal a reference written
 *     line by line (a line ends at CRLF, at a run of CRs before LF, which
 *     is one line end with its extra CRs bare, at a bare CR or at a bare
 *     LF; every line's leading dot is stuffing; only a line after CRLF
 *     can end the data);
 *   - in LF mode the output holds no CR and is never longer than the
 *     input; under --crlf every CR is followed by LF and vice versa;
 *   - fed in three pieces at arbitrary points, the result is the same;
 *   - unstuffing a clean, properly stuffed input and stuffing the result
 *     again gives the input back; and any text stuffed, then fed, comes
 *     out unchanged.
 * For the chunked (BDAT) machine: the same against a byte reference
 * (and every octet counted), whole and in three pieces, CRs left at the
 * end finished as bare.  Pieces run in place through data_run(), as
 * the session runs them, and also through data_feed() into outputs of 2
 * to 7 octets; buffers have exact sizes, so AddressSanitizer sees any
 * write past them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "tests/fuzz/fuzz.h"

/* What one way of feeding produced. */
struct result {
	char *out;
	size_t outlen, cap;
	size_t used;
	int end;
	unsigned long long size, bare;
};

/* buf_put - append to a growing result buffer */
static void
buf_put(struct result *r, const char *p, size_t n)
{
	if (r->outlen + n + 1 > r->cap) {
		r->cap = 2 * (r->outlen + n + 1) + 64;
		r->out = realloc(r->out, r->cap);
		FUZZ_CHECK(r->out != NULL);
	}
	memcpy(r->out + r->outlen, p, n);
	r->outlen += n;
}

/* naive_end - octets up to and including the end of data, or 0 */
static size_t
naive_end(const char *p, size_t n)
{
	size_t j;

	if (n >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (j = 5; j <= n; j++)
		if (memcmp(p + j - 5, "\r\n.\r\n", 5) == 0)
			return j;
	return 0;
}

/* reference - the machine, written line by line instead of by state */
static void
reference(const char *p, size_t n, int crlf, struct result *r)
{
	size_t pos = 0;
	int eligible = 1;	/* this line follows CRLF (or the start) */

	memset(r, 0, sizeof(*r));
	while (pos < n) {
		size_t e = pos, run = 0, skip, term;
		int real;

		while (e < n && p[e] != '\r' && p[e] != '\n')
			e++;
		while (e + run < n && p[e + run] == '\r')
			run++;
		skip = e > pos && p[pos] == '.';	/* always stuffing */
		if (e == n || (run > 0 && e + run == n)) {
			/* unterminated: a final run of CRs is still pending */
			buf_put(r, p + pos + skip, e - pos - skip);
			r->size += e - pos - skip;
			r->used = n;
			return;
		}
		real = run > 0 && p[e + run] == '\n';	/* CR... LF */
		term = real ? run + 1 : 1;	/* else one bare CR or LF */
		if (eligible && real && run == 1 && e - pos == 1 &&
		    p[pos] == '.') {
			r->used = e + 2;
			r->end = 1;
			return;
		}
		buf_put(r, p + pos + skip, e - pos - skip);
		buf_put(r, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		r->size += e - pos - skip + term;
		r->bare += real ? run - 1 : 1;
		eligible = real;
		pos = e + term;
	}
	r->used = n;
}

/* sink - a data_sink appending to a result */
static void
sink(void *ctx, const char *p, size_t n)
{
	buf_put(ctx, p, n);
}

/* piece - one piece through m: data_run() in place on a copy of exactly
 * its size when room is 0, else data_feed() into an output of exactly
 * room octets until the piece is used up or the data ends.  Exact sizes,
 * so AddressSanitizer sees any write past them. */
static size_t
piece(struct data_machine *m, const char *p, size_t len, size_t room,
    struct result *r)
{
	char *buf = malloc(room > 0 ? room : len + 1);
	size_t used = 0;

	FUZZ_CHECK(buf != NULL);
	if (room == 0) {
		memcpy(buf, p, len);
		used = data_run(m, buf, len, sink, r);
	}
	while (room > 0 && used < len && m->state != DATA_END) {
		size_t olen = 0, u = data_feed(m, p + used, len - used, buf,
		    room, &olen);

		FUZZ_CHECK(u <= len - used && olen <= room);
		FUZZ_CHECK(u > 0 || olen > 0);
		buf_put(r, buf, olen);
		used += u;
	}
	free(buf);
	return used;
}

/* feed - the DATA machine over pieces [0,a) [a,b) [b,n), stopping at the
 * end; room as for piece() */
static void
feed(const char *p, size_t n, int crlf, size_t a, size_t b, size_t room,
    struct result *r)
{
	const size_t cut[4] = { 0, a, b, n };
	struct data_machine m;
	int i;

	memset(r, 0, sizeof(*r));
	data_init(&m, crlf, 0);
	for (i = 0; i < 3; i++) {
		size_t len = cut[i + 1] - cut[i], used;

		used = piece(&m, p + cut[i], len, room, r);
		if (r->used < cut[i])	/* it stopped early: nothing more */
			FUZZ_CHECK(m.state == DATA_END && used == 0);
		FUZZ_CHECK(used <= len);
		FUZZ_CHECK(used == len || m.state == DATA_END);
		r->used += used;
	}
	r->end = m.state == DATA_END;
	r->size = m.size;
	r->bare = m.bare;
}

/* same - two results agree in every field */
static int
same(const struct result *x, const struct result *y)
{
	return x->outlen == y->outlen && x->used == y->used &&
	    x->end == y->end && x->size == y->size && x->bare == y->bare &&
	    (x->outlen == 0 || memcmp(x->out, y->out, x->outlen) == 0);
}

/* restuff - lines of out (CRLF) with leading dots doubled, then the end */
static void
restuff(const struct result *x, struct result *r)
{
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	while (pos < x->outlen) {
		const char *nl = memchr(x->out + pos, '\n', x->outlen - pos);
		size_t len = nl ? (size_t)(nl - (x->out + pos)) + 1 :
		    x->outlen - pos;

		if (x->out[pos] == '.')
			buf_put(r, ".", 1);
		buf_put(r, x->out + pos, len);
		pos += len;
	}
	buf_put(r, ".\r\n", 3);
}

/* well_stuffed - no bare line ends, and every line that begins with a
 * dot begins with two, but the final "." CRLF */
static int
well_stuffed(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 0;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 0;
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '.' &&
		    i + 3 != n && (i + 1 == n || p[i + 1] != '.'))
			return 0;
	}
	return 1;
}

/* check_feed - data_feed() in one line-end mode */
static void
check_feed(const char *p, size_t n, int crlf, size_t a, size_t b)
{
	struct result whole, split, ref, back;
	size_t j = naive_end(p, n), i;

	feed(p, n, crlf, n, n, 0, &whole);
	reference(p, n, crlf, &ref);
	FUZZ_CHECK(whole.end == (j > 0));
	FUZZ_CHECK(whole.used == (j > 0 ? j : n));
	FUZZ_CHECK(same(&whole, &ref));
	FUZZ_CHECK(whole.size <= whole.used);
	for (i = 0; i < whole.outlen; i++) {
		if (!crlf)
			FUZZ_CHECK(whole.out[i] != '\r');
		else if (whole.out[i] == '\r')
			FUZZ_CHECK(i + 1 < whole.outlen &&
			    whole.out[i + 1] == '\n');
		else if (whole.out[i] == '\n')
			FUZZ_CHECK(i > 0 && whole.out[i - 1] == '\r');
	}
	if (!crlf)
		FUZZ_CHECK(whole.outlen <= whole.used &&
		    whole.outlen <= whole.size);
	feed(p, n, crlf, a, b, 0, &split);
	FUZZ_CHECK(same(&whole, &split));
	free(split.out);
	feed(p, n, crlf, a, b, 2 + (a ^ b) % 6, &split);
	FUZZ_CHECK(same(&whole, &split));
	if (crlf && whole.end && whole.bare == 0 &&
	    well_stuffed(p, whole.used)) {
		restuff(&whole, &back);
		FUZZ_CHECK(back.outlen == whole.used &&
		    memcmp(back.out, p, whole.used) == 0);
		free(back.out);
	}
	free(whole.out);
	free(split.out);
	free(ref.out);
}

/* check_stuffed - text made into lines, stuffed, fed: the text again */
static void
check_stuffed(const char *p, size_t n, int crlf)
{
	struct result in, want, got;
	size_t pos = 0;

	memset(&in, 0, sizeof(in));
	memset(&want, 0, sizeof(want));
	for (;;) {
		const char *nl = memchr(p + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - p) : n, first = pos, i;

		while (first < end && p[first] == '\r')
			first++;
		if (first < end && p[first] == '.')
			buf_put(&in, ".", 1);	/* the client's stuffing */
		for (i = pos; i < end; i++)
			if (p[i] != '\r') {
				buf_put(&in, p + i, 1);
				buf_put(&want, p + i, 1);
			}
		buf_put(&in, "\r\n", 2);
		buf_put(&want, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		if (nl == NULL)
			break;
		pos = end + 1;
	}
	buf_put(&in, ".\r\n", 3);
	feed(in.out, in.outlen, crlf, in.outlen / 2, in.outlen, 0, &got);
	FUZZ_CHECK(got.end && got.used == in.outlen && got.bare == 0);
	FUZZ_CHECK(got.outlen == want.outlen &&
	    memcmp(got.out, want.out, want.outlen) == 0);
	free(in.out);
	free(want.out);
	free(got.out);
}

/* convert - a chunked machine over pieces, then the last chunk's end;
 * room as for piece() */
static void
convert(const char *p, size_t n, int crlf, size_t a, size_t b, size_t room,
    struct result *r)
{
	const size_t cut[4] = { 0, a, b, n };
	struct data_machine m;
	int i;

	memset(r, 0, sizeof(*r));
	data_init(&m, crlf, 1);
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(piece(&m, p + cut[i], cut[i + 1] - cut[i], room,
		    r) == cut[i + 1] - cut[i]);
	data_finish(&m, sink, r);
	FUZZ_CHECK(m.state == DATA_MID && m.crs == 0);
	r->bare = m.bare;
	r->size = m.size;
	r->used = n;
}

/* check_convert - BDAT line ends against a byte reference */
static void
check_convert(const char *p, size_t n, int crlf, size_t a, size_t b)
{
	struct result whole, split, ref;
	size_t i;

	memset(&ref, 0, sizeof(ref));
	for (i = 0; i < n; i++) {
		size_t j = i;

		if (p[i] != '\r' && p[i] != '\n') {
			buf_put(&ref, p + i, 1);
			continue;
		}
		while (j < n && p[j] == '\r')
			j++;
		if (j > i && j < n && p[j] == '\n') {
			/* a run of CRs and its LF: one line end */
			ref.bare += j - i - 1;
			i = j;
		} else if (j > i) {
			/* CRs before anything else: a line end each */
			for (; i + 1 < j; i++) {
				ref.bare++;
				buf_put(&ref, crlf ? "\r\n" : "\n",
				    crlf ? 2 : 1);
			}
			ref.bare++;
		} else {
			ref.bare++;	/* bare LF */
		}
		buf_put(&ref, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
	}
	ref.used = n;
	ref.size = n;
	convert(p, n, crlf, n, n, 0, &whole);
	convert(p, n, crlf, a, b, (a ^ b) % 2 ? 0 : 2 + (a + b) % 6, &split);
	FUZZ_CHECK(same(&whole, &ref) && same(&split, &ref));
	if (!crlf)
		FUZZ_CHECK(whole.outlen <= n);
	free(whole.out);
	free(split.out);
	free(ref.out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 4;
	size_t n, a, b;
	int crlf;

	if (size < 4)
		return 0;
	n = size - 4;
	a = (data[0] | (size_t)data[1] << 8) % (n + 1);
	b = (data[2] | (size_t)data[3] << 8) % (n + 1);
	if (a > b) {
		size_t t = a;

		a = b;
		b = t;
	}
	for (crlf = 0; crlf < 2; crlf++) {
		check_feed(p, n, crlf, a, b);
		check_stuffed(p, n, crlf);
		check_convert(p, n, crlf, a, b);
	}
	return 0;
}

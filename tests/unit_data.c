/*
 * unit_data.c - the DATA byte machine (data.h), for DATA and for BDAT.
 *
 * Every input is fed whole, one octet at a time and in random splits from
 * fixed seeds, in place as the session does and through tiny separate
 * outputs, and all must agree on output, size, bare line ends and the
 * number of octets consumed.  The smuggling
 * cases check that only CRLF "." CRLF ends the data; the CR-run cases
 * that CRs right before LF make one line end, however many there are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "unit.h"

#define LIT(x)	x, sizeof(x) - 1

/* What feeding one input produced. */
struct fed {
	char *out;			/* malloc'd output */
	size_t outlen;
	size_t consumed;		/* octets data_feed() took */
	unsigned long long size, bare;
	enum data_state state;
};

/* collect - a data_sink appending to a struct fed */
static void
collect(void *ctx, const char *p, size_t n)
{
	struct fed *f = ctx;

	memcpy(f->out + f->outlen, p, n);
	f->outlen += n;
}

/* feed_piece - one piece through the machine: data_run() in place on a
 * copy of exactly its size (so the sanitizers see any overrun) when room
 * is 0, else data_feed() into an output of exactly room octets, called
 * until the piece is used up or the data ends */
static size_t
feed_piece(struct data_machine *m, struct fed *f, const char *in, size_t n,
    size_t room)
{
	char *buf = malloc(room > 0 ? room : n);
	size_t used = 0;

	if (buf == NULL)
		ck_abort_msg("out of memory");
	if (room == 0) {
		memcpy(buf, in, n);
		used = data_run(m, buf, n, collect, f);
	}
	while (room > 0 && used < n && m->state != DATA_END) {
		size_t olen = 99999, u;

		u = data_feed(m, in + used, n - used, buf, room, &olen);
		/* plain tests here: a passing ck_assert costs a system call */
		if (olen > room)
			ck_abort_msg("output overflow: %zu in %zu", olen, room);
		if (u == 0 && olen == 0)
			ck_abort_msg("no progress with room %zu", room);
		collect(f, buf, olen);
		used += u;
	}
	free(buf);
	return used;
}

/* finish - the end of the last BDAT chunk: line ends of a pending run */
static void
finish(struct data_machine *m, struct fed *f)
{
	data_finish(m, collect, f);
}

/* feed - run in through a fresh machine in chunks; chunk 0 means whole,
 * a negative chunk means random splits from seed -chunk (rand_r, so
 * the callers' own srand() sequences are left alone).  room as for
 * feed_piece().  Feeding stops at the end of data, as the session does.
 * A chunked (BDAT) machine is finished after the last piece; the state
 * is the one before that. */
static struct fed
feed_room(const char *in, size_t n, int crlf, int chunked, long chunk,
    size_t room)
{
	struct data_machine m;
	struct fed f;
	size_t pos = 0;
	unsigned seed = chunk < 0 ? (unsigned)-chunk : 0;

	memset(&f, 0, sizeof(f));
	f.out = malloc(2 * n + 3);
	if (f.out == NULL)
		ck_abort_msg("out of memory");
	data_init(&m, crlf, chunked);
	if (m.state != (chunked ? DATA_MID : DATA_BOL) || m.size != 0 ||
	    m.bare != 0)
		ck_abort_msg("data_init: state %d, size %llu, bare %llu",
		    m.state, m.size, m.bare);
	while (pos < n && m.state != DATA_END) {
		size_t want = n - pos, used;

		if (chunk > 0 && (size_t)chunk < want)
			want = (size_t)chunk;
		else if (chunk < 0)
			want = 1 + (size_t)rand_r(&seed) % want;
		used = feed_piece(&m, &f, in + pos, want, room);
		if (used > want)
			ck_abort_msg("consumed %zu of %zu", used, want);
		if (used != want && m.state != DATA_END)
			ck_abort_msg("stopped at %zu of %zu before the end of "
			    "data", used, want);
		pos += used;
	}
	f.consumed = pos;
	f.state = m.state;
	if (chunked)
		finish(&m, &f);
	f.size = m.size;
	f.bare = m.bare;
	f.out[f.outlen] = '\0';
	return f;
}

static struct fed
feed(const char *in, size_t n, int crlf, long chunk)
{
	return feed_room(in, n, crlf, 0, chunk, 0);
}

/* same - two feeds of one input agree in everything */
static void
same(const struct fed *a, const struct fed *b, const char *what, long how)
{
	if (a->outlen != b->outlen || memcmp(a->out, b->out, a->outlen) != 0)
		ck_abort_msg("%s: output differs fed whole and with chunk %ld",
		    what, how);
	if (a->consumed != b->consumed)
		ck_abort_msg("%s: consumed %zu whole, %zu with chunk %ld", what,
		    a->consumed, b->consumed, how);
	if (a->size != b->size)
		ck_abort_msg("%s: size %llu whole, %llu with chunk %ld", what,
		    a->size, b->size, how);
	if (a->bare != b->bare)
		ck_abort_msg("%s: bare %llu whole, %llu with chunk %ld", what,
		    a->bare, b->bare, how);
	if (a->state != b->state)
		ck_abort_msg("%s: state %d whole, %d with chunk %ld", what,
		    a->state, b->state, how);
}

/* every_way_mode - feed whole, byte by byte and in 20 random splits, in
 * place, then whole and split through outputs of 2 and 7 octets */
static struct fed
every_way_mode(const char *in, size_t n, int crlf, int chunked,
    const char *what)
{
	struct fed whole = feed_room(in, n, crlf, chunked, 0, 0), other;
	long how;

	for (how = 1; how <= 3; how++) {
		other = feed_room(in, n, crlf, chunked, how, 0);
		same(&whole, &other, what, how);
		free(other.out);
	}
	for (how = -1; how >= -20; how--) {
		other = feed_room(in, n, crlf, chunked, how, 0);
		same(&whole, &other, what, how);
		free(other.out);
	}
	/* into small separate outputs, as data_run() spills */
	for (how = 2; how <= 7; how += 5) {
		other = feed_room(in, n, crlf, chunked, 0, (size_t)how);
		same(&whole, &other, what, 100 + how);
		free(other.out);
		other = feed_room(in, n, crlf, chunked, -how, (size_t)how);
		same(&whole, &other, what, 200 + how);
		free(other.out);
	}
	return whole;
}

/* every_way - every_way_mode() for DATA */
static struct fed
every_way(const char *in, size_t n, int crlf, const char *what)
{
	return every_way_mode(in, n, crlf, 0, what);
}

/* printable - a C-escaped copy of a short buffer for messages */
static const char *
printable(const char *p, size_t n)
{
	static char buf[4][512];
	static int which;
	char *out = buf[which++ % 4];
	size_t o = 0, i;

	for (i = 0; i < n && o + 5 < sizeof(buf[0]); i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\r')
			o += (size_t)sprintf(out + o, "\\r");
		else if (ch == '\n')
			o += (size_t)sprintf(out + o, "\\n");
		else if (ch < 32 || ch >= 127)
			o += (size_t)sprintf(out + o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

struct data_case {
	const char *in;
	size_t n;
	int crlf;
	int want_end;
	const char *out;	/* wanted output */
	size_t outlen;
	size_t consumed;	/* 0: all of the input */
	unsigned long long size, bare;
};

static const struct data_case cases[] = {
	{ LIT("abc\r\n.\r\n"), 0, 1, LIT("abc\n"), 0, 5, 0 },
	{ LIT("abc\r\n.\r\n"), 1, 1, LIT("abc\r\n"), 0, 5, 0 },
	{ LIT(".\r\n"), 0, 1, LIT(""), 0, 0, 0 },
	{ LIT(".\r\n"), 1, 1, LIT(""), 0, 0, 0 },
	{ LIT("\r\n.\r\n"), 0, 1, LIT("\n"), 0, 2, 0 },
	{ LIT("\r\n\r\n.\r\n"), 1, 1, LIT("\r\n\r\n"), 0, 4, 0 },
	/* dot-unstuffing, size after unstuffing */
	{ LIT("..dot\r\n.\r\n"), 0, 1, LIT(".dot\n"), 0, 6, 0 },
	{ LIT("x\r\n..\r\n.\r\n"), 0, 1, LIT("x\n.\n"), 0, 6, 0 },
	{ LIT("...\r\n.\r\n"), 0, 1, LIT("..\n"), 0, 4, 0 },
	{ LIT(".x\r\n.\r\n"), 0, 1, LIT("x\n"), 0, 3, 0 },
	{ LIT("a.\r\n.b\r\n.\r\n"), 0, 1, LIT("a.\nb\n"), 0, 7, 0 },
	{ LIT("..\r\n..\r\n.\r\n"), 1, 1, LIT(".\r\n.\r\n"), 0, 6, 0 },
	/* what follows the end of data is not consumed */
	{ LIT("a\r\n.\r\nQUIT\r\n"), 0, 1, LIT("a\n"), 6, 3, 0 },
	{ LIT(".\r\n.\r\n"), 0, 1, LIT(""), 3, 0, 0 },
	{ LIT("a\r\n.\r\n\0"), 0, 1, LIT("a\n"), 6, 3, 0 },
	/* bare LF and bare CR: line ends that never end the data */
	{ LIT("a\nb\r\n.\r\n"), 0, 1, LIT("a\nb\n"), 0, 5, 1 },
	{ LIT("a\rb\r\n.\r\n"), 0, 1, LIT("a\nb\n"), 0, 5, 1 },
	{ LIT("a\nb\r\n.\r\n"), 1, 1, LIT("a\r\nb\r\n"), 0, 5, 1 },
	{ LIT("a\n\n\r\n.\r\n"), 0, 1, LIT("a\n\n\n"), 0, 5, 2 },
	/* after a bare line end a leading dot is stuffing, but that line
	 * never ends the data */
	{ LIT("a\n.\nb\r\n.\r\n"), 0, 1, LIT("a\n\nb\n"), 0, 6, 2 },
	{ LIT("a\n.\r\nb\r\n.\r\n"), 0, 1, LIT("a\n\nb\n"), 0, 7, 1 },
	{ LIT("a\n..b\r\n.\r\n"), 0, 1, LIT("a\n.b\n"), 0, 6, 1 },
	{ LIT("a\n..b\r\n.\r\n"), 1, 1, LIT("a\r\n.b\r\n"), 0, 6, 1 },
	{ LIT("a\r..b\r\n.\r\n"), 0, 1, LIT("a\n.b\n"), 0, 6, 1 },
	{ LIT("a\n.x\n..\n.\r\n"), 0, 0, LIT("a\nx\n.\n\n"), 0, 8, 3 },
	{ LIT("a\n.\r\n"), 0, 0, LIT("a\n\n"), 0, 4, 1 },
	{ LIT("a\r.\r\n"), 0, 0, LIT("a\n\n"), 0, 4, 1 },
	{ LIT("a\n."), 0, 0, LIT("a\n"), 0, 2, 1 },
	/* a run of CRs before LF is one line end, the extra CRs bare; its
	 * CR LF is a real CRLF: "." CRLF after it ends the data */
	{ LIT("a\r\r\n.\r\n"), 0, 1, LIT("a\n"), 0, 4, 1 },
	{ LIT("a\r\r\n.\r\n"), 1, 1, LIT("a\r\n"), 0, 4, 1 },
	{ LIT("x\r\r\r\r\n.\r\n"), 0, 1, LIT("x\n"), 0, 6, 3 },
	{ LIT("\r\r\n.\r\n"), 0, 1, LIT("\n"), 0, 3, 1 },
	{ LIT("S: a\r\r\nF: b\r\r\n\r\r\nbody\r\r\n.\r\n"), 0, 1,
	  LIT("S: a\nF: b\n\nbody\n"), 0, 24, 4 },
	{ LIT("S: a\r\r\nF: b\r\r\n\r\r\nbody\r\r\n.\r\n"), 1, 1,
	  LIT("S: a\r\nF: b\r\n\r\nbody\r\n"), 0, 24, 4 },
	{ LIT("a\r\r\n..b\r\r\n.\r\n"), 0, 1, LIT("a\n.b\n"), 0, 9, 2 },
	{ LIT("a\r\n.\r\r\n.\r\n"), 0, 1, LIT("a\n\n"), 0, 6, 1 },
	{ LIT("a\n.\r\r\n.\r\n"), 0, 1, LIT("a\n\n"), 0, 5, 2 },
	{ LIT(".\r\r\n.\r\n"), 0, 1, LIT("\n"), 0, 3, 1 },
	/* CRs not followed by LF: each a bare line end */
	{ LIT("x\r\r\ry\r\n.\r\n"), 0, 1, LIT("x\n\n\ny\n"), 0, 7, 3 },
	{ LIT("x\r\r\ry\r\n.\r\n"), 1, 1, LIT("x\r\n\r\n\r\ny\r\n"), 0, 7,
	  3 },
	{ LIT("a\r\n.\r\r.\r\n.\r\n"), 0, 1, LIT("a\n\n\n\n"), 0, 7, 2 },
	{ LIT("a\r\r\r\n\r\r.\r\n"), 0, 0, LIT("a\n\n\n\n"), 0, 9, 4 },
	/* a run still open at the end of the input: no output, not counted */
	{ LIT("a\r\r"), 0, 0, LIT("a"), 0, 1, 0 },
	{ LIT("a\r\r\r\n"), 0, 0, LIT("a\n"), 0, 5, 2 },
	{ LIT("a\r\n.\r\r"), 0, 0, LIT("a\n"), 0, 3, 0 },
	/* NUL and 8-bit octets are content */
	{ LIT("a\0b\r\n.\r\n"), 0, 1, LIT("a\0b\n"), 0, 5, 0 },
	{ LIT("\xff\xfe\r\n.\r\n"), 0, 1, LIT("\xff\xfe\n"), 0, 4, 0 },
	{ LIT("a\0\r\n.\r\n"), 0, 1, LIT("a\0\n"), 0, 4, 0 },
	/* no end of data yet */
	{ LIT("abc"), 0, 0, LIT("abc"), 0, 3, 0 },
	{ LIT("abc\r\n"), 0, 0, LIT("abc\n"), 0, 5, 0 },
	{ LIT("abc\r\n.x"), 0, 0, LIT("abc\nx"), 0, 6, 0 },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

START_TEST(test_table)
{
	const struct data_case *c = &cases[_i];
	struct fed f = every_way(c->in, c->n, c->crlf, printable(c->in, c->n));
	size_t want_used = c->consumed ? c->consumed : c->n;

	ck_assert_msg((f.state == DATA_END) == c->want_end,
	    "case %d \"%s\": end of data %d, want %d", _i,
	    printable(c->in, c->n), f.state == DATA_END, c->want_end);
	ck_assert_msg(f.outlen == c->outlen &&
	    memcmp(f.out, c->out, c->outlen) == 0,
	    "case %d \"%s\": output \"%s\", want \"%s\"", _i,
	    printable(c->in, c->n), printable(f.out, f.outlen),
	    printable(c->out, c->outlen));
	ck_assert_msg(f.consumed == want_used,
	    "case %d \"%s\": consumed %zu, want %zu", _i,
	    printable(c->in, c->n), f.consumed, want_used);
	ck_assert_msg(f.size == c->size, "case %d \"%s\": size %llu, want "
	    "%llu", _i, printable(c->in, c->n), f.size, c->size);
	ck_assert_msg(f.bare == c->bare, "case %d \"%s\": bare %llu, want "
	    "%llu", _i, printable(c->in, c->n), f.bare, c->bare);
	free(f.out);
}
END_TEST

/* Sequences that end the data on some servers but must not here. */
static const struct {
	const char *s;
	size_t n;
} smuggle[] = {
	{ LIT("\n.\n") }, { LIT("\n.\r\n") }, { LIT("\r\n.\n") },
	{ LIT("\r.\r") }, { LIT("\r\n.\r") }, { LIT("\r\r\n") },
	{ LIT("\r.\r\n") }, { LIT("\n.\r") }, { LIT("\r\n\0.\r\n") },
	{ LIT("\r\n.\0\r\n") }, { LIT("\r\n.\r\0\n") }, { LIT("\r\0\n.\r\n") },
	{ LIT("\r\r\n.\n") }, { LIT("\n\r\n.\n") }, { LIT("\r\n.\r\r\n") },
	{ LIT("\r\n .\r\n") }, { LIT("\r\n.\n\r\n") }, { LIT("\r\n\n.\r\n") },
	{ LIT("\r\n\r.\r\n") }, { LIT("\r\r.\r\n") }, { LIT("\n..\r\n") },
	{ LIT("\r\r\n.\r\r\n") }, { LIT("\r\r\r\n.\n") },
	{ LIT("\n.\r\r\n") }, { LIT("\r.\r\r\n") }, { LIT("\r\r\r.\r\n") },
	{ LIT("\r\r\n.\r\r.\r\n") }, { LIT("\n\r.\r\n") },
	{ LIT("\r\r\n\n.\r\n") }, { LIT("\r\n.\r\r") },
};

#define NSMUGGLE	(sizeof(smuggle) / sizeof(smuggle[0]))

START_TEST(test_smuggling_not_end)
{
	char in[256];
	size_t n = 0;
	struct fed f;

	memcpy(in + n, "a", 1);
	n += 1;
	memcpy(in + n, smuggle[_i].s, smuggle[_i].n);
	n += smuggle[_i].n;
	memcpy(in + n, "MAIL FROM:<evil@x.org>", 22);
	n += 22;
	f = every_way(in, n, 0, printable(in, n));
	ck_assert_msg(f.state != DATA_END, "\"%s\" ended the data",
	    printable(in, n));
	ck_assert_uint_eq(f.consumed, n);
	ck_assert_msg(f.outlen >= 22 && memcmp(f.out + f.outlen - 22,
	    "MAIL FROM:<evil@x.org>", 22) == 0,
	    "\"%s\": the smuggled command is not content: \"%s\"",
	    printable(in, n), printable(f.out, f.outlen));
	ck_assert_msg(f.outlen <= n, "LF mode output grew");
	free(f.out);

	/* the real end of data still works after it */
	memcpy(in + n, "\r\n.\r\nQUIT\r\n", 11);
	n += 11;
	f = every_way(in, n, 0, printable(in, n));
	ck_assert_msg(f.state == DATA_END, "\"%s\" did not end the data",
	    printable(in, n));
	ck_assert_uint_eq(f.consumed, n - 6);
	free(f.out);
}
END_TEST

/* real_end - offset just past the first CRLF "." CRLF (or "." CRLF at
 * the very start), 0 if there is none */
static size_t
real_end(const char *p, size_t n)
{
	size_t i;

	if (n >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

START_TEST(test_smuggle_as_whole_message)
{
	/* a message that is only the smuggling sequence, at the start */
	struct fed f = every_way(smuggle[_i].s, smuggle[_i].n, 0,
	    printable(smuggle[_i].s, smuggle[_i].n));
	int real = real_end(smuggle[_i].s, smuggle[_i].n) != 0;

	ck_assert_msg((f.state == DATA_END) == real, "\"%s\" at the start: "
	    "end %d", printable(smuggle[_i].s, smuggle[_i].n),
	    f.state == DATA_END);
	free(f.out);
}
END_TEST

START_TEST(test_random_line_ends)
{
	/* random mixes of CR, LF, '.', NUL and text: the data ends exactly
	 * where the octets first contain the real end-of-data sequence */
	static const char alphabet[] = { '\r', '\n', '.', '\0', 'x' };
	char in[64];
	int round;

	srand(1234);
	for (round = 0; round < 3000; round++) {
		size_t n = 1 + (size_t)rand() % sizeof(in), i, end;
		struct fed f;

		for (i = 0; i < n; i++)
			in[i] = alphabet[rand() % 5];
		end = real_end(in, n);
		f = every_way(in, n, 0, printable(in, n));
		ck_assert_msg((f.state == DATA_END) == (end != 0),
		    "\"%s\": end %d, want %d", printable(in, n),
		    f.state == DATA_END, end != 0);
		ck_assert_msg(f.consumed == (end ? end : n),
		    "\"%s\": consumed %zu, want %zu", printable(in, n),
		    f.consumed, end ? end : n);
		ck_assert_msg(f.outlen <= f.consumed, "\"%s\": LF output %zu > "
		    "input %zu", printable(in, n), f.outlen, f.consumed);
		ck_assert_msg(f.size <= f.consumed, "\"%s\": size %llu",
		    printable(in, n), f.size);
		free(f.out);
	}
}
END_TEST

/* random_line - a line without CR or LF, often starting with '.' */
static size_t
random_line(char *out, size_t max)
{
	static const char alphabet[] = ".....abcXYZ \t\0\x80\xff-:";
	size_t n = (size_t)rand() % max, i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
	return n;
}

START_TEST(test_round_trip)
{
	int round;

	srand(42 + (unsigned)_i);
	for (round = 0; round < 200; round++) {
		size_t nlines = (size_t)rand() % 40, i, w = 0, e = 0;
		char *wire = malloc(nlines * 140 + 8);
		char *want = malloc(nlines * 140 + 8);
		unsigned long long size = 0;
		struct fed f;
		int crlf = round % 2;

		for (i = 0; i < nlines; i++) {
			char line[128];
			size_t n = random_line(line, sizeof(line));

			if (n > 0 && line[0] == '.')
				wire[w++] = '.';	/* dot-stuffing */
			memcpy(wire + w, line, n);
			w += n;
			memcpy(wire + w, "\r\n", 2);
			w += 2;
			memcpy(want + e, line, n);
			e += n;
			if (crlf)
				want[e++] = '\r';
			want[e++] = '\n';
			size += n + 2;
		}
		memcpy(wire + w, ".\r\n", 3);
		w += 3;
		f = every_way(wire, w, crlf, "round trip");
		ck_assert_int_eq(f.state, DATA_END);
		ck_assert_uint_eq(f.consumed, w);
		ck_assert_msg(f.outlen == e && memcmp(f.out, want, e) == 0,
		    "round %d: content changed on the way", round);
		ck_assert_uint_eq(f.size, size);
		ck_assert_uint_eq(f.bare, 0);
		if (!crlf)
			ck_assert_uint_le(f.outlen, w);
		free(f.out);
		free(wire);
		free(want);
	}
}
END_TEST

START_TEST(test_feed_after_end)
{
	struct data_machine m;
	char out[16], in[] = "more\r\n";
	size_t olen = 7, used;

	data_init(&m, 0, 0);
	used = data_feed(&m, ".\r\n", 3, out, sizeof(out), &olen);
	ck_assert_uint_eq(used, 3);
	ck_assert_uint_eq(olen, 0);
	ck_assert_int_eq(m.state, DATA_END);
	olen = 7;
	used = data_feed(&m, in, 6, out, sizeof(out), &olen);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(olen, 0);
	ck_assert_uint_eq(data_run(&m, in, 6, NULL, NULL), 0);
	ck_assert_mem_eq(in, "more\r\n", 6);
	ck_assert_uint_eq(m.size, 0);
}
END_TEST

START_TEST(test_in_place_spill)
{
	/* under --crlf a bare LF grows into CRLF: in place it cannot be
	 * written over its own input, so data_run() spills it; the output
	 * is the same either way */
	static const char in[] = "\n\n\nab\nc\r\n..d\n\n\r\n.\r\n";
	struct fed f = every_way(in, sizeof(in) - 1, 1, "spill");

	ck_assert_int_eq(f.state, DATA_END);
	ck_assert_uint_eq(f.outlen, 21);
	ck_assert_mem_eq(f.out, "\r\n\r\n\r\nab\r\nc\r\n.d\r\n\r\n\r\n", 21);
	ck_assert_uint_eq(f.bare, 6);
	free(f.out);
}
END_TEST

START_TEST(test_large_message)
{
	/* a megabyte in one buffer and in 4096-octet pieces */
	size_t lines = 16384, i, n = 0;
	char *in = malloc(lines * 64 + 8);
	struct fed a, b;

	for (i = 0; i < lines; i++) {
		n += (size_t)sprintf(in + n, "%s%058zu\r\n",
		    i % 7 == 0 ? ".." : "", i);
	}
	memcpy(in + n, ".\r\n", 3);
	n += 3;
	a = feed(in, n, 0, 0);
	b = feed(in, n, 0, 4096);
	same(&a, &b, "large", 4096);
	ck_assert_int_eq(a.state, DATA_END);
	ck_assert_uint_eq(a.outlen, lines * 59 + (lines + 6) / 7);
	ck_assert_uint_eq(a.size, lines * 60 + (lines + 6) / 7);
	free(a.out);
	free(b.out);
	free(in);
}
END_TEST

/* with_eol - want with each LF made the line end of the mode */
static size_t
with_eol(const char *want, size_t n, int crlf, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (want[i] == '\n' && crlf)
			out[o++] = '\r';
		out[o++] = want[i];
	}
	return o;
}

/* BDAT: line ends only.  Each case is fed every way, then finished as
 * the last chunk; the wanted output has LF line ends (CRLF under --crlf) */
struct bdat_case {
	const char *in;
	size_t n;
	const char *out;
	size_t outlen;
	unsigned long long size, bare;
};

static const struct bdat_case bdat_cases[] = {
	{ LIT("a\r\nb\nc\rd"), LIT("a\nb\nc\nd"), 8, 2 },
	{ LIT("a\r\r\nb"), LIT("a\nb"), 5, 1 },
	{ LIT("\r\r\r\r\n"), LIT("\n"), 5, 3 },
	{ LIT("a\r\rb\r\r\n"), LIT("a\n\nb\n"), 7, 3 },
	{ LIT("a\n..b\r\n.\r\n"), LIT("a\n..b\n.\n"), 10, 1 },
	{ LIT("x\r\r\n.\r\n"), LIT("x\n.\n"), 7, 1 },
	{ LIT("\r\n\r\r\n\r\r\r\n"), LIT("\n\n\n"), 9, 3 },
	{ LIT("a\n\r\r\n"), LIT("a\n\n"), 5, 2 },
	{ LIT("S: a\r\r\nF: b\r\r\n\r\r\nbody\r\r\n"),
	  LIT("S: a\nF: b\n\nbody\n"), 24, 4 },
	/* a run left at the end of the last chunk: each CR is bare */
	{ LIT("a\r"), LIT("a\n"), 2, 1 },
	{ LIT("a\r\r\r"), LIT("a\n\n\n"), 4, 3 },
	{ LIT("a\r\n\r"), LIT("a\n\n"), 4, 1 },
};

#define NBDAT	(sizeof(bdat_cases) / sizeof(bdat_cases[0]))

START_TEST(test_bdat_table)
{
	const struct bdat_case *c = &bdat_cases[_i];
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		struct fed f = every_way_mode(c->in, c->n, crlf, 1,
		    printable(c->in, c->n));
		char want[256];
		size_t wn = with_eol(c->out, c->outlen, crlf, want);

		ck_assert_msg(f.outlen == wn && memcmp(f.out, want, wn) == 0,
		    "case %d \"%s\"%s: output \"%s\", want \"%s\"", _i,
		    printable(c->in, c->n), crlf ? " (crlf)" : "",
		    printable(f.out, f.outlen), printable(want, wn));
		ck_assert_uint_eq(f.consumed, c->n);
		ck_assert_int_ne(f.state, DATA_END);
		ck_assert_msg(f.size == c->size, "case %d: size %llu, want %llu",
		    _i, f.size, c->size);
		ck_assert_msg(f.bare == c->bare, "case %d: bare %llu, want %llu",
		    _i, f.bare, c->bare);
		free(f.out);
	}
}
END_TEST

/* check_run - in through a machine every way: want, size, bare */
static void
check_run(const char *in, size_t n, int crlf, int chunked,
    const char *want, size_t wn, unsigned long long size,
    unsigned long long bare, const char *what)
{
	struct fed f = every_way_mode(in, n, crlf, chunked, what);

	ck_assert_msg(f.outlen == wn && memcmp(f.out, want, wn) == 0,
	    "%s: %zu octets out, want %zu", what, f.outlen, wn);
	ck_assert_msg(f.size == size, "%s: size %llu, want %llu", what,
	    f.size, size);
	ck_assert_msg(f.bare == bare, "%s: bare %llu, want %llu", what,
	    f.bare, bare);
	ck_assert_int_eq(f.state == DATA_END, !chunked);
	free(f.out);
}

START_TEST(test_long_cr_run)
{
	/* a client may send any number of CRs: the machine counts them and
	 * writes their line ends once it knows what they are, in pieces
	 * that fit (more than the spill buffer holds), DATA and BDAT */
	const size_t run = 40000;
	int chunked = _i / 2, crlf = _i % 2;
	const char *eol = crlf ? "\r\n" : "\n";
	size_t k = crlf ? 2 : 1, n, wn, i;
	char *in = malloc(run + 16), *want = malloc(2 * run + 16);

	ck_assert(in != NULL && want != NULL);
	in[0] = 'a';
	memset(in + 1, '\r', run);

	/* then LF: one line end, the other CRs bare */
	n = 1 + run;
	memcpy(in + n, "\nb\r\n.\r\n", 7);
	n += chunked ? 4 : 7;
	wn = (size_t)sprintf(want, "a%sb%s", eol, eol);
	check_run(in, n, crlf, chunked, want, wn, 1 + run + 1 + 3, run - 1,
	    "CR run, LF");

	/* then text: each CR a line end of its own */
	n = 1 + run;
	memcpy(in + n, "b\r\n.\r\n", 6);
	n += chunked ? 3 : 6;
	want[0] = 'a';
	for (i = 0, wn = 1; i < run; i++, wn += k)
		memcpy(want + wn, eol, k);
	wn += (size_t)sprintf(want + wn, "b%s", eol);
	check_run(in, n, crlf, chunked, want, wn, 1 + run + 3, run,
	    "CR run, text");

	/* BDAT: the run ends the last chunk */
	if (chunked)
		check_run(in, 1 + run, crlf, 1, want, wn - 1 - k, 1 + run,
		    run, "CR run, finished");
	free(in);
	free(want);
}
END_TEST

/* convert_room - a chunked machine over pieces, in place (room 0) or
 * through an output of room octets; returns output, sets bare and
 * whether a CR is pending */
static size_t
convert_room(const char *const *pieces, const size_t *lens, size_t npieces,
    int crlf, char *out, unsigned long long *bare, int *pending, size_t room)
{
	struct data_machine m;
	struct fed f;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.out = out;
	data_init(&m, crlf, 1);
	ck_assert_int_eq(m.state, DATA_MID);
	for (i = 0; i < npieces; i++) {
		ck_assert(lens[i] <= 256);
		if (lens[i] == 0)
			continue;	/* an empty call is not a chunk */
		ck_assert_uint_eq(feed_piece(&m, &f, pieces[i], lens[i], room),
		    lens[i]);
		ck_assert_int_ne(m.state, DATA_END);
	}
	*pending = m.state == DATA_CR;
	*bare = m.bare;
	return f.outlen;
}

/* convert - convert_room() in place, checked against a 2-octet output */
static size_t
convert(const char *const *pieces, const size_t *lens, size_t npieces,
    int crlf, char *out, unsigned long long *bare, int *pending)
{
	char other[1024];
	unsigned long long other_bare;
	int other_pending;
	size_t n = convert_room(pieces, lens, npieces, crlf, out, bare,
	    pending, 0);

	ck_assert_uint_eq(convert_room(pieces, lens, npieces, crlf, other,
	    &other_bare, &other_pending, 2), n);
	ck_assert_mem_eq(other, out, n);
	ck_assert_uint_eq(other_bare, *bare);
	ck_assert_int_eq(other_pending, *pending);
	return n;
}

START_TEST(test_convert_basic)
{
	const char *p[1];
	size_t l[1], n;
	char out[256];
	unsigned long long bare;
	int pending;

	p[0] = "a\r\nb\nc\rd";
	l[0] = 8;
	n = convert(p, l, 1, 0, out, &bare, &pending);
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(out, "a\nb\nc\nd", 7);
	ck_assert_uint_eq(bare, 2);
	ck_assert_int_eq(pending, 0);

	n = convert(p, l, 1, 1, out, &bare, &pending);
	ck_assert_uint_eq(n, 10);
	ck_assert_mem_eq(out, "a\r\nb\r\nc\r\nd", 10);
	ck_assert_uint_eq(bare, 2);

	/* no unstuffing and no end-of-data scan in BDAT chunks */
	p[0] = "..x\r\n.\r\n..\r\n";
	l[0] = 12;
	n = convert(p, l, 1, 0, out, &bare, &pending);
	ck_assert_uint_eq(n, 9);
	ck_assert_mem_eq(out, "..x\n.\n..\n", 9);
	ck_assert_uint_eq(bare, 0);

	p[0] = "a\0b\r\n";
	l[0] = 5;
	n = convert(p, l, 1, 0, out, &bare, &pending);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(out, "a\0b\n", 4);
}
END_TEST

/* A CR at the end of a chunk, and what the next chunks make of it: the
 * first npieces of pieces converted; -1: not asserted. */
static const struct pending_case {
	const char *name;
	const char *pieces[3];
	size_t npieces;
	int crlf;
	const char *want;		/* NULL: not asserted */
	size_t want_n;
	long long want_bare;
	int want_pending;
} pending_cases[] = {
	{ "CR | LF: the CR waits", { "a\r", "\nb" }, 1, 0, "a", 1, -1, 1 },
	{ "CR | LF across chunks: one CRLF line end", { "a\r", "\nb" }, 2,
	  0, "a\nb", 3, 0, 0 },
	{ "CR | text: a bare CR", { "a\r", "b" }, 2, 1, "a\r\nb", 4, 1, 0 },
	{ "CR | CR LF: one run, one line end; the extra CR is bare",
	  { "a\r", "\r\nb" }, 2, 0, "a\nb", 3, 1, -1 },
	{ "CR | CR | LF", { "a\r", "\r", "\n" }, 3, 0, "a\n", 2, 1, 0 },
	{ "CR | CR: both wait", { "a\r", "\r", "b" }, 2, 0, NULL, 1, -1, 1 },
	{ "CR | CR | text: two bare CRs, written when the text comes",
	  { "a\r", "\r", "b" }, 3, 1, "a\r\n\r\nb", 6, 2, 0 },
};

START_TEST(test_convert_pending_cr)
{
	const struct pending_case *c = &pending_cases[_i];
	size_t l[3], n, i;
	char out[256];
	unsigned long long bare;
	int pending;

	for (i = 0; i < c->npieces; i++)
		l[i] = strlen(c->pieces[i]);
	n = convert(c->pieces, l, c->npieces, c->crlf, out, &bare, &pending);
	ck_assert_msg(n == c->want_n, "%s: %zu octets, want %zu", c->name, n,
	    c->want_n);
	if (c->want != NULL)
		ck_assert_msg(memcmp(out, c->want, n) == 0, "%s: output",
		    c->name);
	if (c->want_bare >= 0)
		ck_assert_msg(bare == (unsigned long long)c->want_bare,
		    "%s: %llu bare CRs", c->name, bare);
	if (c->want_pending >= 0)
		ck_assert_msg(pending == c->want_pending, "%s: pending %d",
		    c->name, pending);
}
END_TEST

START_TEST(test_convert_finish)
{
	/* the last chunk ended in CR: a bare CR, one line end */
	struct data_machine m;
	struct fed f;
	char buf[] = "a\r", out[8];

	data_init(&m, 1, 1);
	memset(&f, 0, sizeof(f));
	f.out = out;
	ck_assert_uint_eq(data_run(&m, buf, 2, collect, &f), 2);
	ck_assert_uint_eq(f.outlen, 1);
	ck_assert_int_eq(m.state, DATA_CR);
	finish(&m, &f);
	ck_assert_uint_eq(f.outlen, 3);
	ck_assert_mem_eq(out, "a\r\n", 3);
	ck_assert_uint_eq(m.bare, 1);
	ck_assert_int_eq(m.state, DATA_MID);
	finish(&m, &f);
	ck_assert_uint_eq(f.outlen, 3);
	data_init(&m, 0, 1);
	finish(&m, &f);
	ck_assert_uint_eq(f.outlen, 3);
	ck_assert_uint_eq(m.bare, 0);

	/* a run of CRs at the end: as many bare line ends */
	data_init(&m, 1, 1);
	memset(&f, 0, sizeof(f));
	f.out = out;
	memcpy(buf, "\r\r", 2);
	ck_assert_uint_eq(data_run(&m, buf, 2, collect, &f), 2);
	ck_assert_uint_eq(f.outlen, 0);
	finish(&m, &f);
	ck_assert_uint_eq(f.outlen, 4);
	ck_assert_mem_eq(out, "\r\n\r\n", 4);
	ck_assert_uint_eq(m.bare, 2);
	ck_assert_uint_eq(m.size, 2);
	ck_assert_int_eq(m.state, DATA_MID);
}
END_TEST

START_TEST(test_convert_every_split)
{
	static const char in[] = "x\r\ny\rz\n\r\r\nw\r\n\n.\r\n..end";
	size_t n = sizeof(in) - 1, cut, cut2, whole_n;
	char whole[256], out[256];
	unsigned long long whole_bare, bare;
	int pending;
	const char *p[3];
	size_t l[3];

	p[0] = in;
	l[0] = n;
	whole_n = convert(p, l, 1, 0, whole, &whole_bare, &pending);
	ck_assert_int_eq(pending, 0);
	ck_assert_uint_eq(whole_bare, 4);
	ck_assert_uint_eq(whole_n, 17);
	ck_assert_mem_eq(whole, "x\ny\nz\n\nw\n\n.\n..end", 17);
	for (cut = 0; cut <= n; cut++) {
		for (cut2 = cut; cut2 <= n; cut2++) {
			p[0] = in;
			l[0] = cut;
			p[1] = in + cut;
			l[1] = cut2 - cut;
			p[2] = in + cut2;
			l[2] = n - cut2;
			out[0] = '\0';
			ck_assert_uint_eq(convert(p, l, 3, 0, out, &bare,
			    &pending), whole_n);
			ck_assert_msg(memcmp(out, whole, whole_n) == 0,
			    "split at %zu, %zu differs", cut, cut2);
			ck_assert_uint_eq(bare, whole_bare);
			ck_assert_int_eq(pending, 0);
		}
	}
}
END_TEST

Suite *
data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc = tcase_create("feed");

	tcase_add_loop_test(tc, test_table, 0, (int)NCASES);
	tcase_add_loop_test(tc, test_smuggling_not_end, 0, (int)NSMUGGLE);
	tcase_add_loop_test(tc, test_smuggle_as_whole_message, 0,
	    (int)NSMUGGLE);
	tcase_add_test(tc, test_random_line_ends);
	tcase_add_loop_test(tc, test_round_trip, 0, 4);
	tcase_add_test(tc, test_feed_after_end);
	tcase_add_test(tc, test_in_place_spill);
	tcase_add_test(tc, test_large_message);
	tcase_add_loop_test(tc, test_bdat_table, 0, (int)NBDAT);
	tcase_add_loop_test(tc, test_long_cr_run, 0, 4);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("convert");
	tcase_add_test(tc, test_convert_basic);
	tcase_add_loop_test(tc, test_convert_pending_cr, 0,
	    (int)(sizeof(pending_cases) / sizeof(pending_cases[0])));
	tcase_add_test(tc, test_convert_finish);
	tcase_add_test(tc, test_convert_every_split);
	suite_add_tcase(s, tc);
	return s;
}

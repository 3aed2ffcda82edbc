/*
 * unit_spool.c - the unlinked spool file (spool.h) and the scans of its
 * header section: Received: hops and Delivered-To: loops; forged
 * Authentication-Results: fields (authres.h) removed in place.
 *
 * Each test works in its own fresh directory under $TMPDIR (or the
 * system's temporary directory) and removes it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authres.h"
#include "spool.h"
#include "unit.h"

static char dir[4096];

/* make_dir - a fresh, empty directory for one test */
static void
make_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	int ret;

	if (tmp == NULL || *tmp == '\0')
		tmp = P_tmpdir;
	ret = snprintf(dir, sizeof(dir), "%s/unit-spool.XXXXXX", tmp);
	ck_assert(ret > 0 && (size_t)ret < sizeof(dir));
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

/* entries - how many names the test directory holds (. and .. aside) */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
remove_dir(void)
{
	rmdir(dir);
}

/* spool_of - a spool holding text, for the scans */
static struct spool
spool_of(const char *text, size_t len)
{
	struct spool sp;

	ck_assert_int_eq(spool_open(&sp, dir), 0);
	ck_assert_int_eq(spool_write(&sp, text, len), 0);
	ck_assert_uint_eq(sp.len, len);
	return sp;
}

START_TEST(test_open_unlinked_private)
{
	struct spool sp;
	struct stat st;
	mode_t old;
	int flags;

	make_dir();
	old = umask(0);		/* the mode must not depend on the umask */
	ck_assert_int_eq(spool_open(&sp, dir), 0);
	umask(old);
	ck_assert_int_ge(sp.fd, 0);
	ck_assert_uint_eq(sp.len, 0);
	ck_assert_int_eq(sp.err, 0);
	ck_assert_int_eq(fstat(sp.fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_msg(st.st_nlink == 0, "spool has %lu links",
	    (unsigned long)st.st_nlink);
	ck_assert_msg((st.st_mode & 0777) == 0600, "mode %o",
	    (unsigned)(st.st_mode & 0777));
	ck_assert_uint_eq(st.st_size, 0);
	flags = fcntl(sp.fd, F_GETFD);
	ck_assert_msg(flags >= 0 && (flags & FD_CLOEXEC), "no FD_CLOEXEC");
	ck_assert_int_eq(entries(), 0);
	spool_close(&sp);
	ck_assert_int_eq(sp.fd, -1);
	spool_close(&sp);	/* twice is harmless */
	remove_dir();
}
END_TEST

START_TEST(test_write_appends)
{
	struct spool sp;
	char buf[64];
	struct stat st;

	make_dir();
	ck_assert_int_eq(spool_open(&sp, dir), 0);
	ck_assert_int_eq(spool_write(&sp, "hello", 5), 0);
	ck_assert_uint_eq(sp.len, 5);
	ck_assert_int_eq(spool_write(&sp, "", 0), 0);
	ck_assert_uint_eq(sp.len, 5);
	ck_assert_int_eq(spool_write(&sp, " wor\0ld", 7), 0);
	ck_assert_uint_eq(sp.len, 12);
	ck_assert_int_eq(fstat(sp.fd, &st), 0);
	ck_assert_int_eq(st.st_size, 12);
	ck_assert_int_eq(pread(sp.fd, buf, sizeof(buf), 0), 12);
	ck_assert_mem_eq(buf, "hello wor\0ld", 12);
	ck_assert_int_eq(entries(), 0);
	spool_close(&sp);
	remove_dir();
}
END_TEST

START_TEST(test_write_large)
{
	struct spool sp;
	char *big = malloc(3 << 20), *back = malloc(3 << 20);
	size_t i, n = 3 << 20;

	make_dir();
	for (i = 0; i < n; i++)
		big[i] = (char)(i * 7 + i / 4096);
	ck_assert_int_eq(spool_open(&sp, dir), 0);
	ck_assert_int_eq(spool_write(&sp, big, n / 3), 0);
	ck_assert_int_eq(spool_write(&sp, big + n / 3, n - n / 3), 0);
	ck_assert_uint_eq(sp.len, n);
	ck_assert_int_eq(pread(sp.fd, back, n, 0), (ssize_t)n);
	ck_assert(memcmp(big, back, n) == 0);
	spool_close(&sp);
	remove_dir();
	free(big);
	free(back);
}
END_TEST

START_TEST(test_two_spools_independent)
{
	struct spool a, b;
	char buf[8];

	make_dir();
	ck_assert_int_eq(spool_open(&a, dir), 0);
	ck_assert_int_eq(spool_open(&b, dir), 0);
	ck_assert_int_ne(a.fd, b.fd);
	ck_assert_int_eq(spool_write(&a, "AAAA", 4), 0);
	ck_assert_int_eq(spool_write(&b, "BB", 2), 0);
	ck_assert_int_eq(pread(a.fd, buf, sizeof(buf), 0), 4);
	ck_assert_int_eq(pread(b.fd, buf, sizeof(buf), 0), 2);
	ck_assert_int_eq(entries(), 0);
	spool_close(&a);
	spool_close(&b);
	remove_dir();
}
END_TEST

START_TEST(test_open_bad_dir)
{
	struct spool sp;
	char missing[4200];
	int ret;

	make_dir();
	ret = snprintf(missing, sizeof(missing), "%s/missing", dir);
	ck_assert(ret > 0 && (size_t)ret < sizeof(missing));
	ck_assert_int_eq(spool_open(&sp, missing), -1);
	ck_assert_int_lt(sp.fd, 0);
	ck_assert_int_ne(sp.err, 0);
	ck_assert_int_eq(spool_write(&sp, "x", 1), -1);
	spool_close(&sp);
	/* a file is not a directory */
	ret = snprintf(missing, sizeof(missing), "%s/file", dir);
	ck_assert(ret > 0 && (size_t)ret < sizeof(missing));
	ret = open(missing, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(ret, 0);
	close(ret);
	ck_assert_int_eq(spool_open(&sp, missing), -1);
	unlink(missing);
	remove_dir();
}
END_TEST

struct scan_case {
	const char *text;
	unsigned want;
};

static const struct scan_case scan_cases[] = {
	{ "", 0 },
	{ "\n", 0 },
	{ "Subject: x\n\nbody\n", 0 },
	{ "Received: a\n\nbody\n", 1 },
	{ "Received: a\nreceived: b\nRECEIVED:c\nReCeIvEd:\td\n\n", 4 },
	{ "X-Received: a\nReceived-SPF: pass\nSubject: Received: e\n\n", 0 },
	{ "Received: a\n\tReceived: continued\n Received: cont\n\n", 1 },
	{ "Received: a\nReceived: b\n\nReceived: in the body\n", 2 },
	{ "Received: a\r\nReceived: b\r\n\r\nReceived: c\r\n", 2 },
	{ "Received: no empty line\nReceived: at all", 2 },
	{ "\nReceived: after an empty first line\n", 0 },
	{ "Receivedx: a\nReceive: b\n\n", 0 },
};

START_TEST(test_scan_table)
{
	const struct scan_case *c = &scan_cases[_i];
	struct spool_headers h;
	struct spool sp;

	make_dir();
	sp = spool_of(c->text, strlen(c->text));
	memset(&h, 0xff, sizeof(h));
	ck_assert_int_eq(spool_scan_at(sp.fd, 0, sp.len, &h), 0);
	ck_assert_msg(h.received == c->want, "case %d: %u Received, want %u",
	    _i, h.received, c->want);
	spool_close(&sp);
	remove_dir();
}
END_TEST

START_TEST(test_scan_large_header_section)
{
	/* more header text than any one read buffer: 500 hops, a 20000
	 * octet header, then one more hop; the body holds many more */
	size_t cap = 500 * 128 + 20000 + 200 * 64 + 1024, n = 0, i;
	char *text = malloc(cap);
	struct spool_headers h;
	struct spool sp;

	for (i = 0; i < 500; i++)
		n += (size_t)sprintf(text + n, "Received: from host%zu by "
		    "relay%zu; Tue, 14 Nov 2023 22:13:20 +0000\n", i, i);
	n += (size_t)sprintf(text + n, "X-Long: ");
	memset(text + n, 'L', 20000);
	n += 20000;
	n += (size_t)sprintf(text + n, "\nReceived: last\n\n");
	for (i = 0; i < 200; i++)
		n += (size_t)sprintf(text + n, "Received: body %zu\n", i);
	ck_assert_uint_lt(n, cap);
	make_dir();
	sp = spool_of(text, n);
	ck_assert_int_eq(spool_scan_at(sp.fd, 0, sp.len, &h), 0);
	ck_assert_uint_eq(h.received, 501);
	/* a shorter len: only that much of the spool is the message (the
	 * first ten hop lines are 64 octets each) */
	ck_assert_int_eq(spool_scan_at(sp.fd, 0, 2 * 64, &h), 0);
	ck_assert_uint_eq(h.received, 2);
	spool_close(&sp);
	remove_dir();
	free(text);
}
END_TEST

struct dt_case {
	const char *text;
	const char *addr;
	int want;
};

static const struct dt_case dt_cases[] = {
	{ "Delivered-To: r@mx.test\n\n", "r@mx.test", 1 },
	{ "Delivered-To: R@MX.Test\nSubject: x\n\n", "r@mx.test", 1 },
	{ "Delivered-To: r@mx.test\n\n", "R@mx.TEST", 1 },
	{ "delivered-to: r@mx.test\n\n", "r@mx.test", 1 },
	{ "DELIVERED-TO:r@mx.test\n\n", "r@mx.test", 1 },
	{ "Delivered-To:   r@mx.test  \n\n", "r@mx.test", 1 },
	{ "Delivered-To:\tr@mx.test\t\n\n", "r@mx.test", 1 },
	{ "Delivered-To: r@mx.test\r\n\r\n", "r@mx.test", 1 },
	{ "Delivered-To: r@mx.test", "r@mx.test", 1 },
	{ "Subject: a\nDelivered-To: a@mx.test\nDelivered-To: r@mx.test\n\n",
	    "r@mx.test", 1 },
	{ "Delivered-To: other@mx.test\n\n", "r@mx.test", 0 },
	{ "Delivered-To: r@mx.test.example\n\n", "r@mx.test", 0 },
	{ "Delivered-To: xr@mx.test\n\n", "r@mx.test", 0 },
	{ "Delivered-To: r@mx.tes\n\n", "r@mx.test", 0 },
	{ "Delivered-To: <r@mx.test> and more\n\n", "r@mx.test", 0 },
	{ "X-Delivered-To: r@mx.test\n\n", "r@mx.test", 0 },
	{ "Subject: Delivered-To: r@mx.test\n\n", "r@mx.test", 0 },
	{ "Subject: x\n\nDelivered-To: r@mx.test\n", "r@mx.test", 0 },
	{ "Subject: x\r\n\r\nDelivered-To: r@mx.test\r\n", "r@mx.test", 0 },
	{ "Subject: x\n Delivered-To: r@mx.test\n\n", "r@mx.test", 0 },
	{ "", "r@mx.test", 0 },
	{ "Delivered-To: John Doe@mx.test\n\n", "john doe@mx.test", 1 },
};

START_TEST(test_delivered_to_table)
{
	const struct dt_case *c = &dt_cases[_i];
	struct spool sp;
	int got;

	make_dir();
	sp = spool_of(c->text, strlen(c->text));
	got = spool_has_delivered_to(sp.fd, sp.len, c->addr);
	ck_assert_msg(got == c->want, "case %d (%s): %d, want %d", _i,
	    c->addr, got, c->want);
	spool_close(&sp);
	remove_dir();
}
END_TEST


/* ---- forged Authentication-Results: (authres.h, spool_drop_fields) ---- */

struct ar_case {
	const char *field;
	int want;
};

static const struct ar_case ar_cases[] = {
	{ "Authentication-Results: mx.test; spf=pass\n", 1 },
	{ "authentication-results: MX.Test; spf=pass\n", 1 },
	{ "Authentication-Results : mx.test; none\n", 1 },
	{ "Authentication-Results: mx.test 1; dkim=pass\n", 1 },
	{ "Authentication-Results:\n\tmx.test;\n\tdkim=pass\n", 1 },
	{ "Authentication-Results: (a (b) c) mx.test (x); x\r\n", 1 },
	{ "Authentication-Results: \"mx.test\"; spf=pass\n", 1 },
	{ "Authentication-Results: \"mx.\\test\"; spf=pass\n", 1 },
	{ "Authentication-Results: mx.test\n", 1 },
	{ "Authentication-Results: ; spf=pass\n", 1 },	/* no id */
	{ "Authentication-Results:\nSubject: mx.test\n", 1 },	/* no id */
	{ "Authentication-Results: (open mx.test; x\n", 1 },
	{ "Authentication-Results: mx.test/x; spf=pass\n", 1 },
	{ "Authentication-Results: mx.test", 1 },	/* cut: who knows */
	{ "Authentication-Results: other.test; spf=pass\n", 0 },
	{ "Authentication-Results: mx.test.evil; spf=pass\n", 0 },
	{ "Authentication-Results: mx.tes; spf=pass\n", 0 },
	{ "Authentication-Results: \"other.test\"; x\n", 0 },
	{ "X-Authentication-Results: mx.test; spf=pass\n", 0 },
	{ "Authentication-Results-X: mx.test; spf=pass\n", 0 },
	{ "Subject: Authentication-Results: mx.test;\n", 0 },
	{ "Authentication-Results: other.test;\nX: mx.test;\n", 0 },
};

START_TEST(test_authres_table)
{
	const struct ar_case *c = &ar_cases[_i];

	ck_assert_msg(authres_forged(c->field, strlen(c->field), "mx.test") ==
	    c->want, "case %d: %s", _i, c->field);
}
END_TEST

START_TEST(test_authres_id_ok)
{
	/* a token of 1 to 255 octets; no space, tspecial or 8-bit octet */
	char longest[257];

	ck_assert(authres_id_ok("mx.example.org"));
	ck_assert(!authres_id_ok(""));
	ck_assert(!authres_id_ok("a;b"));
	ck_assert(!authres_id_ok("a b"));
	ck_assert(!authres_id_ok("\"mx\""));
	ck_assert(!authres_id_ok("mx\xc3\xa9"));
	memset(longest, 'a', 255);
	longest[255] = '\0';
	ck_assert(authres_id_ok(longest));
	longest[255] = 'a';
	longest[256] = '\0';
	ck_assert(!authres_id_ok(longest));
}
END_TEST

struct drop_case {
	const char *text;
	const char *want;
	int dropped;
};

static const struct drop_case drop_cases[] = {
	{ "Subject: x\n\nbody\n", "Subject: x\n\nbody\n", 0 },
	{ "Authentication-Results: mx.test; a\nSubject: x\n\nbody\n",
	  "Subject: x\n\nbody\n", 1 },
	{ "Subject: x\nAuthentication-Results: mx.test;\n a=b\n\n"
	  "Authentication-Results: mx.test; body\n",
	  "Subject: x\n\nAuthentication-Results: mx.test; body\n", 1 },
	{ "A: 1\r\nAuthentication-Results: mx.test; x\r\nB: 2\r\n"
	  "Authentication-Results: o.test; y\r\n"
	  "Authentication-Results: MX.TEST; z\r\n\r\nb\r\n",
	  "A: 1\r\nB: 2\r\nAuthentication-Results: o.test; y\r\n\r\nb\r\n",
	  2 },
	{ "Subject: x\nAuthentication-Results: mx.test; last\n",
	  "Subject: x\n", 1 },
	{ "Authentication-Results: mx.test; only", "", 1 },
	{ "", "", 0 },
};

START_TEST(test_drop_table)
{
	const struct drop_case *c = &drop_cases[_i];
	const char *head = "Return-Path: <s@x.test>\n";
	char *text, got[512];
	struct spool sp;
	size_t hlen = strlen(head);
	ssize_t n;

	ck_assert_int_ne(asprintf(&text, "%s%s", head, c->text), -1);
	make_dir();
	sp = spool_of(text, strlen(text));
	ck_assert_int_eq(spool_drop_fields(&sp, hlen, authres_forged,
	    "mx.test"), c->dropped);
	ck_assert_uint_eq(sp.len, hlen + strlen(c->want));
	n = pread(sp.fd, got, sizeof(got), 0);
	ck_assert_int_eq(n, (ssize_t)sp.len);	/* the file was cut too */
	got[n] = '\0';
	ck_assert_str_eq(got + hlen, c->want);
	ck_assert_int_eq(strncmp(got, head, hlen), 0);
	spool_close(&sp);
	remove_dir();
	free(text);
}
END_TEST

START_TEST(test_drop_large)
{
	/* fields and a body larger than every buffer, one in three forged */
	size_t cap = 4u << 20, n = 0, w = 0, i;
	char *text = malloc(cap), *want = malloc(cap), *got = malloc(cap);
	struct spool sp;

	ck_assert(text != NULL && want != NULL && got != NULL);
	for (i = 0; i < 3000; i++) {
		int len = sprintf(text + n, "Authentication-Results: %s; "
		    "n=%zu\n\t%0300zu\n", i % 3 ? "o.test" : "mx.test", i, i);

		if (i % 3) {
			memcpy(want + w, text + n, (size_t)len);
			w += (size_t)len;
		}
		n += (size_t)len;
	}
	for (i = 0; i < 20000; i++) {
		int len = sprintf(text + n, "%s%0100zu\n", i ? "" : "\n", i);

		memcpy(want + w, text + n, (size_t)len);
		w += (size_t)len;
		n += (size_t)len;
	}
	make_dir();
	sp = spool_of(text, n);
	ck_assert_int_eq(spool_drop_fields(&sp, 0, authres_forged, "mx.test"),
	    1000);
	ck_assert_uint_eq(sp.len, w);
	ck_assert_int_eq(pread(sp.fd, got, cap, 0), (ssize_t)w);
	ck_assert_int_eq(memcmp(got, want, w), 0);
	spool_close(&sp);
	remove_dir();
	free(text);
	free(want);
	free(got);
}
END_TEST

Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, test_open_unlinked_private);
	tcase_add_test(tc, test_write_appends);
	tcase_add_test(tc, test_write_large);
	tcase_add_test(tc, test_two_spools_independent);
	tcase_add_test(tc, test_open_bad_dir);
	suite_add_tcase(s, tc);
	tc = tcase_create("scan");
	tcase_add_loop_test(tc, test_scan_table, 0,
	    (int)(sizeof(scan_cases) / sizeof(scan_cases[0])));
	tcase_add_test(tc, test_scan_large_header_section);
	tcase_add_loop_test(tc, test_delivered_to_table, 0,
	    (int)(sizeof(dt_cases) / sizeof(dt_cases[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("authres");
	tcase_add_loop_test(tc, test_authres_table, 0,
	    (int)(sizeof(ar_cases) / sizeof(ar_cases[0])));
	tcase_add_test(tc, test_authres_id_ok);
	tcase_add_loop_test(tc, test_drop_table, 0,
	    (int)(sizeof(drop_cases) / sizeof(drop_cases[0])));
	tcase_add_test(tc, test_drop_large);
	suite_add_tcase(s, tc);
	return s;
}

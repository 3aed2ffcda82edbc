/*
 * harness_txn.c - the end-to-end tests' builders and readers for
 * transactions with per-recipient and chunked parts (tests/e2e_lmtp.c,
 * tests/e2e_chunking.c, tests/e2e_prdr.c).
 *
 * Entry points: h_bdat() and h_bdat_halves() write BDAT commands with
 * their chunks, h_rcpts() a run of RCPT commands, h_nrcpts() counts a
 * recipient list; h_run_body() and h_assert_size_env() read what a
 * delivery got, h_keywords() the EHLO/LHLO keywords.  Everything is
 * allocated from harness.c's per-test arena (h_strf); nothing here
 * starts a server or touches a socket.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* h_bdat - one BDAT command with its chunk (the size counted here) */
char *
h_bdat(const char *data, int last)
{
	return h_strf("BDAT %zu%s\r\n%s", strlen(data), last ? " LAST" : "",
	    data);
}

/* h_bdat_halves - data in two chunks, the second one LAST: a message
 * over --max-size whose chunks are each within it, so the limit is
 * crossed only by their sum */
char *
h_bdat_halves(const char *data)
{
	size_t half = strlen(data) / 2;

	return h_strf("%s%s", h_bdat(h_strf("%.*s", (int)half, data), 0),
	    h_bdat(data + half, 1));
}

/* h_rcpts - "RCPT TO:<l@mx.example>\r\n" for each local part of a
 * NULL-terminated list (an entry with '@' is used as it is) */
char *
h_rcpts(const char *const *l)
{
	char *s = h_strf("%s", "");
	size_t i;

	for (i = 0; l[i] != NULL; i++)
		s = h_strf("%sRCPT TO:<%s%s>\r\n", s, l[i],
		    strchr(l[i], '@') != NULL ? "" : "@" H_HOST);
	return s;
}

/* h_nrcpts - the length of a NULL-terminated list */
int
h_nrcpts(const char *const *l)
{
	int n = 0;

	while (l[n] != NULL)
		n++;
	return n;
}

/* h_run_body - what run n received after the headers pipesmtpd added */
const char *
h_run_body(int n)
{
	return h_body(h_stdin(h_dir, n, NULL));
}

/* h_assert_size_env - SIZE is the length of what run n read */
void
h_assert_size_env(int n)
{
	size_t len;

	h_stdin(h_dir, n, &len);
	ck_assert_str_eq(h_env(h_dir, n, "SIZE"), h_strf("%zu", len));
}

/* h_keywords - "|KW|KW|...|" of the EHLO/LHLO reply (the second reply),
 * the host name line left out */
char *
h_keywords(const char *out)
{
	const char *p = strstr(out, "\r\n250");
	char *s = h_strf("|");
	int first = 1;

	ck_assert_ptr_nonnull(p);
	for (p += 2;;) {
		const char *e = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(e);
		ck_assert_msg(strncmp(p, "250-", 4) == 0 ||
		    strncmp(p, "250 ", 4) == 0, "bad EHLO/LHLO line in '%s'",
		    out);
		if (!first)
			s = h_strf("%s%.*s|", s, (int)(e - p - 4), p + 4);
		first = 0;
		if (p[3] == ' ')
			return s;
		p = e + 2;
	}
}

/*
 * e2e_hostile.c - hostile clients and hostile conditions, against the
 * built server: smuggling attempts in every mode, values aimed at a
 * shell, a header or an option parser, binary noise; clients that
 * vanish at every stage, fork failure and descriptor exhaustion at
 * delivery time; the TLS engine among failing deliveries and a STARTTLS
 * flood; and what the delivery command and the spool are isolated
 * from.  What e2e_data.c, e2e_session.c, e2e_command.c and
 * e2e_options.c already cover is not repeated here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* ---- /proc ---- */

/* proc_read - the first cap-1 octets of /proc/PID/name, or -1 */
static ssize_t
proc_read(const char *pid, const char *name, char *buf, size_t cap)
{
	char *path = h_strf("/proc/%s/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* children_of - processes whose parent is pid; *zombies of them dead */
static int
children_of(pid_t pid, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	*zombies = 0;
	while ((e = readdir(d)) != NULL) {
		char buf[1024], *rp, state;
		long ppid;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    proc_read(e->d_name, "stat", buf, sizeof(buf)) <= 0 ||
		    (rp = strrchr(buf, ')')) == NULL ||
		    sscanf(rp + 1, " %c %ld", &state, &ppid) != 2 ||
		    ppid != (long)pid)
			continue;
		n++;
		*zombies += state == 'Z';
	}
	closedir(d);
	return n;
}

/* running_with - processes with needle among their arguments: a
 * delivery command of this test has h_dir in its argv */
static int
running_with(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char buf[8192];
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		len = proc_read(e->d_name, "cmdline", buf, sizeof(buf));
		if (len > 0 && memmem(buf, (size_t)len, needle,
		    strlen(needle)) != NULL)
			n++;
	}
	closedir(d);
	return n;
}

/* assert_no_leftovers - no delivery command of this test still runs */
static void
assert_no_leftovers(const char *what)
{
	int i;

	for (i = 0; i < 50 && running_with(h_dir) > 0; i++)
		usleep(20000);
	ck_assert_msg(running_with(h_dir) == 0, "%s: a delivery command "
	    "outlived the session", what);
}

/* ---- smuggling, in every mode ---- */

/* Ends some server might honour; only the last three hold no bare CR
 * or LF, so --strict-newlines accepts them as content. */
static const struct smuggle {
	const char *end;
	size_t len;
} smuggles[] = {
	{ "\n.\n", 3 }, { "\n.\r\n", 4 }, { "\r\n.\n", 4 },
	{ "\r.\r", 3 }, { "\r\n.\r", 4 }, { "\r.\r\n", 4 },
	{ "\r\n.\r\r\n", 6 }, { "\r\r\n.\r\r\n", 7 }, { "\n\n.\n\n", 5 },
	{ "\r\n\0.\r\n", 6 }, { "\r\n.\0\r\n", 6 }, { "\r\n\0.\0\r\n", 7 },
};

/* has_bare - a CR not before LF, or an LF not after CR */
static int
has_bare(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')) ||
		    (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')))
			return 1;
	return 0;
}

START_TEST(test_smuggling_modes)
{
	static const char tail[] = "MAIL FROM:<evil@x.example>\r\n"
	    "RCPT TO:<victim@mx.example>\r\nDATA\r\nsmuggled\r\n";
	const struct smuggle *sm = &smuggles[_i];
	const char *modes[] = { "--log-stderr", "--lmtp", "--strict-newlines" };
	int m;

	for (m = 0; m < 3; m++) {
		struct h_opts o = { .args = { modes[m] } };
		char *in = NULL, *d;
		size_t n = 0, len;
		FILE *f = open_memstream(&in, &n);
		struct h_result r;
		int refused = m == 2 && has_bare(sm->end, sm->len);

		h_fresh();
		fprintf(f, "%s c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\nDATA\r\nSubject: x\r\n\r\n"
		    "hello", m == 1 ? "LHLO" : "EHLO");
		fwrite(sm->end, 1, sm->len, f);
		fputs(tail, f);
		fputs(".\r\nQUIT\r\n", f);
		fclose(f);
		h_runn(&r, &o, in, n);
		free(in);
		ck_assert_msg(strcmp(h_codes(r.out), h_want(1, refused ?
		    "554 5.6.0" : "250 2.0.0")) == 0, "end %d, %s: '%s'", _i,
		    modes[m], r.out);
		ck_assert_int_eq(h_count(h_dir), refused ? 0 : 1);
		if (refused)
			continue;
		ck_assert_str_eq(h_env(h_dir, 1, "RECIPIENT"), "u@mx.example");
		d = h_stdin(h_dir, 1, &len);
		ck_assert_msg(memmem(d, len, "smuggled", 8) != NULL &&
		    memmem(d, len, "RCPT TO:<victim@mx.example>", 27) != NULL,
		    "end %d, %s: the hidden text is not content: '%s'", _i,
		    modes[m], d);
	}
}
END_TEST

START_TEST(test_smuggling_bdat)
{
	/* BDAT takes octets verbatim: an end-of-data sequence inside a
	 * chunk is content, in every form */
	static const char chunk[] = "Subject: x\r\n\r\nhello\r\n.\r\n"
	    "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@mx.example>\r\n"
	    "DATA\r\nsmuggled\n.\n\r.\r.\r\n";
	struct h_result r;
	size_t len;
	char *d;

	h_run(&r, NULL, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nBDAT %zu LAST\r\n%sQUIT\r\n",
	    sizeof(chunk) - 1, chunk));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	d = h_stdin(h_dir, 1, &len);
	ck_assert_str_eq(h_body(d), "Subject: x\n\nhello\n.\n"
	    "MAIL FROM:<evil@x.example>\nRCPT TO:<victim@mx.example>\n"
	    "DATA\nsmuggled\n.\n\n.\n.\n");
}
END_TEST

/* ---- values aimed at a shell, a header or an option parser ---- */

#define PWN "pipesmtpd-pwned"	/* what a shell would have created */

struct value_case {
	const char *script;	/* after the greeting; "@DIR" is h_dir */
	const char *want;	/* reply codes, QUIT's excepted */
	const char *s, *l, *h;	/* %s, %l, %h: if set, a message follows */
};

#define GO	"EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
#define TXN	"|250 2.1.0|250 2.1.5|354|250 2.0.0"

static const struct value_case value_cases[] = {
	/* HELO names: taken as they are, or refused; never run */
	{ "EHLO $(touch${IFS}@DIR/" PWN ")\r\n", "220|250" TXN, NULL, NULL,
	  "$(touch${IFS}@DIR/" PWN ")" },
	{ "EHLO `touch${IFS}@DIR/" PWN "`;a|b&c\r\n", "220|250" TXN, NULL,
	  NULL, "`touch${IFS}@DIR/" PWN "`;a|b&c" },
	{ "EHLO %@DIR%r%%'\"q\"'<x>\r\n", "220|250" TXN, NULL, NULL,
	  "%@DIR%r%%'\"q\"'<x>" },
	{ "EHLO a\nX-Injected: 1\r\n", "220|250|500 5.5.1" TXN, NULL, NULL,
	  "a" },
	{ "EHLO -oQ/tmp\r\n", "220|501 5.5.4", NULL, NULL, NULL },
	{ "EHLO --help\r\n", "220|501 5.5.4", NULL, NULL, NULL },
	{ "EHLO a\tb\r\n", "220|501 5.5.4", NULL, NULL, NULL },
	{ "EHLO a\rX-Injected: 1\r\n", "220|501 5.5.4", NULL, NULL, NULL },
	/* senders */
	{ "EHLO c.example\r\nMAIL FROM:<\"$(touch @DIR/" PWN ")\"@x.example>"
	  "\r\n", "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0",
	  "$(touch @DIR/" PWN ")@x.example", NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<\"`id`;a|b%@DIR\"@x.example>\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0",
	  "`id`;a|b%@DIR@x.example", NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<a@x.example>\nX-Injected: 1\r\n",
	  "220|250|250 2.1.0|500 5.5.1|250 2.1.5|354|250 2.0.0",
	  "a@x.example", NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<-oQ/tmp@x.example>\r\n",
	  "220|250|553 5.1.7", NULL, NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<\"--help\"@x.example>\r\n",
	  "220|250|553 5.1.7", NULL, NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<\"a\tb\"@x.example>\r\n",
	  "220|250|501 5.1.7", NULL, NULL, NULL },
	{ "EHLO c.example\r\nMAIL FROM:<\"a\rX-Injected: 1\"@x.example>\r\n",
	  "220|250|501 5.1.7", NULL, NULL, NULL },
	/* recipients */
	{ GO "RCPT TO:<\"$(touch " PWN ")\"@mx.example>\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0", NULL,
	  "$(touch " PWN ")", NULL },
	{ GO "RCPT TO:<\"`id`;a|b%r%%\"@mx.example>\r\n",
	  "220|250|250 2.1.0|250 2.1.5|354|250 2.0.0", NULL,
	  "`id`;a|b%r%%", NULL },
	{ GO "RCPT TO:<\"-oQ/tmp\"@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<\"--help\"@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<user+--help@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<\"a\tb\"@mx.example>\r\n",
	  "220|250|250 2.1.0|501 5.1.3", NULL, NULL, NULL },
	/* local parts a command could take for a path or an option */
	{ GO "RCPT TO:<\"../../etc/passwd\"@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<\"..\"@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<\".profile\"@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<a/b@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<-f@mx.example>\r\n",
	  "220|250|250 2.1.0|550 5.1.3", NULL, NULL, NULL },
	{ GO "RCPT TO:<..@mx.example>\r\n",
	  "220|250|250 2.1.0|501 5.1.3", NULL, NULL, NULL },
};

/* with_dir - s with every "@DIR" replaced by the record directory */
static char *
with_dir(const char *s)
{
	const char *at = strstr(s, "@DIR");

	if (at == NULL)
		return h_strf("%s", s);
	return h_strf("%.*s%s%s", (int)(at - s), s, h_dir, with_dir(at + 4));
}

/* complete - a value case's dialogue: when a message is to follow, the
 * MAIL and RCPT the script left out, and the message; then QUIT */
static char *
complete(const struct value_case *c, const char *script)
{
	if (c->s == NULL && c->l == NULL && c->h == NULL)
		return h_strf("%sQUIT\r\n", script);
	return h_strf("%s%s%sDATA\r\nSubject: v\r\n\r\nbody\r\n.\r\nQUIT\r\n",
	    script, strstr(script, "MAIL FROM:") ? "" :
	    "MAIL FROM:<s@x.example>\r\n", strstr(script, "RCPT TO:") ? "" :
	    "RCPT TO:<u@mx.example>\r\n");
}

/* check_headers - only the headers pipesmtpd adds, then the message's */
static void
check_headers(const char *d, const char *what)
{
	const char *p = d;

	while (*p != '\0' && *p != '\n') {
		ck_assert_msg(strncmp(p, "Return-Path: ", 13) == 0 ||
		    strncmp(p, "Received: ", 10) == 0 || *p == '\t' ||
		    strncmp(p, "Subject: v\n", 11) == 0, "%s: header line "
		    "'%.40s' in '%s'", what, p, d);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	ck_assert_msg(strstr(d, "\nX-Injected") == NULL, "%s: '%s'", what, d);
}

START_TEST(test_hostile_values)
{
	const struct value_case *c = &value_cases[_i];
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "%s", "%r",
	    "%l", "%u", "%e", "%h", "%d" } };
	char *script = with_dir(c->script);
	int delivered = c->s != NULL || c->l != NULL || c->h != NULL, i;
	struct h_result r;

	h_run(&r, &o, complete(c, script));
	ck_assert_msg(strcmp(h_codes(r.out), h_strf("%s|221 2.0.0",
	    c->want)) == 0, "case %d: '%s', want '%s|221 2.0.0'", _i,
	    h_codes(r.out), c->want);
	ck_assert_int_eq(access(h_subdir(PWN), F_OK), -1);
	ck_assert_int_eq(access(PWN, F_OK), -1);
	ck_assert_int_eq(h_count(h_dir), delivered);
	if (!delivered)
		return;
	/* one argv word per template word; none looks like an option */
	ck_assert_int_eq(h_argc(h_dir, 1), 9);
	for (i = 2; i < 9; i++)
		ck_assert_msg(h_argv(h_dir, 1, i)[0] != '-', "case %d: argv[%d] "
		    "'%s'", _i, i, h_argv(h_dir, 1, i));
	if (c->s != NULL)
		ck_assert_str_eq(h_argv(h_dir, 1, 2), with_dir(c->s));
	if (c->l != NULL)
		ck_assert_str_eq(h_argv(h_dir, 1, 4), with_dir(c->l));
	if (c->h != NULL)
		ck_assert_str_eq(h_argv(h_dir, 1, 7), with_dir(c->h));
	check_headers(h_stdin(h_dir, 1, NULL), h_strf("case %d", _i));
}
END_TEST

/* ---- binary noise ---- */

/* noise - n octets from a fixed-seed xorshift generator */
static char *
noise(unsigned seed, size_t n)
{
	char *s = h_repeat("x", n);
	unsigned x = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s[i] = (char)(x >> 11);
	}
	return s;
}

/* lf_form - octets with CRLF, bare CR and bare LF each made one LF */
static char *
lf_form(const char *p, size_t n, size_t *len)
{
	char *s = h_repeat("x", n);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		s[o++] = p[i] == '\r' ? '\n' : p[i];
	}
	*len = o;
	return s;
}

static const unsigned seeds[] = { 1, 42, 20261128 };

#define NOISE_LEN	(300 * 1024)

START_TEST(test_noise_commands)
{
	/* noise as commands: answered line by line, nothing delivered */
	struct h_opts o = { .args = { "--max-errors", "100000" } };
	struct h_result r;

	h_runn(&r, &o, noise(seeds[_i], NOISE_LEN), NOISE_LEN);
	ck_assert_msg(strncmp(r.out, "220 ", 4) == 0, "'%.100s'", r.out);
	ck_assert_int_gt(h_nreplies(r.out), 1);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(h_count(h_dir), 0);
	h_assert_log_clean(r.log, r.loglen);
}
END_TEST

START_TEST(test_noise_data)
{
	/* noise as a message that never ends: nothing delivered */
	struct h_opts o = { .args = { "--max-size", "100000000" } };
	char *head = "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\n";
	char *in = h_strf("%s%s", head, h_repeat("x", NOISE_LEN));
	struct h_result r;

	memcpy(in + strlen(head), noise(seeds[_i], NOISE_LEN), NOISE_LEN);
	ck_assert_ptr_null(memmem(in, strlen(head) + NOISE_LEN, "\n.\r\n", 4));
	h_runn(&r, &o, in, strlen(head) + NOISE_LEN);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(h_count(h_dir), 0);
}
END_TEST

START_TEST(test_noise_bdat)
{
	/* noise as one BDAT chunk: delivered once, every octet kept but
	 * for line ends */
	const char *head = h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nBDAT %d LAST\r\n", NOISE_LEN);
	char *n = noise(seeds[_i], NOISE_LEN), *want, *d;
	char *in = h_strf("%s%sQUIT\r\n", head, h_repeat("x", NOISE_LEN));
	size_t wlen, len;
	struct h_result r;

	memcpy(in + strlen(head), n, NOISE_LEN);
	h_runn(&r, NULL, in, strlen(head) + NOISE_LEN + 6);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 1);
	want = lf_form(n, NOISE_LEN, &wlen);
	d = h_stdin(h_dir, 1, &len);
	ck_assert_uint_ge(len, wlen);
	ck_assert_msg(memcmp(d + len - wlen, want, wlen) == 0,
	    "the delivered noise differs");
}
END_TEST

/* ---- the client goes away ---- */

START_TEST(test_disconnect_before_greeting)
{
	/* gone during --greet-pause: no reply, no wait for the pause */
	struct h_opts o = { .args = { "--greet-pause", "3" } };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	shutdown(p.sock, SHUT_RDWR);
	h_finish(&p, &r);
	ck_assert_int_eq(r.outlen, 0);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(r.ms < h_scaled(2500), "exit after %ld ms", r.ms);
}
END_TEST

static const char *const bdat_cuts[] = {
	"BDAT 100\r\n0123456789",
	"BDAT 10\r\n0123456789",
	"BDAT 10\r\n0123456789BDAT 5 LAST\r\nab",
	"BDAT 5 LAST\r\nabc",
	"BDAT 5 LAST\r\n",
	"BDAT 5 LA",
};

START_TEST(test_disconnect_mid_bdat)
{
	int hard;

	for (hard = 0; hard < 2; hard++) {
		struct h_proc p;
		struct h_result r;

		h_fresh();
		h_start(&p, NULL);
		h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n");
		h_sends(&p, bdat_cuts[_i]);
		h_expect(&p, "220");
		h_expect(&p, "250");
		h_expect(&p, "250 2.1.0");
		h_expect(&p, "250 2.1.5");
		h_expect(&p, "250 2.1.5");
		if (hard)
			shutdown(p.sock, SHUT_RDWR);
		else
			h_shut(&p);
		h_finish(&p, &r);
		ck_assert_msg(h_count(h_dir) == 0, "cut %d: an incomplete "
		    "message was delivered", _i);
		ck_assert_int_eq(r.code, 0);
		ck_assert_msg(r.ms < h_scaled(3000), "exit after %ld ms", r.ms);
	}
}
END_TEST

START_TEST(test_disconnect_after_dot)
{
	/* the whole message is in, the client leaves without waiting for
	 * the reply: delivered (a duplicate at worst, never a loss), the
	 * server ends at once, and nothing outlives the session */
	const char *const rcpts[] = { "a", "bgchild" };
	int i;

	for (i = 0; i < 4; i++) {
		struct h_proc p;
		struct h_result r;

		h_fresh();
		h_start(&p, NULL);
		h_expect(&p, "220 ");
		h_say(&p, "EHLO c.example\r\n", "250 ");
		h_say(&p, "MAIL FROM:<s@x.example>\r\n", "250 2.1.0");
		h_say(&p, h_strf("RCPT TO:<%s@mx.example>\r\n", rcpts[i / 2]),
		    "250 2.1.5");
		h_say(&p, "DATA\r\n", "354");
		h_sends(&p, i % 2 ? H_MSG ".\r\nQUIT\r\n" : H_MSG ".\r\n");
		shutdown(p.sock, SHUT_RDWR);
		h_finish(&p, &r);
		ck_assert_int_eq(h_count(h_dir), 1);
		if (i / 2 == 0)
			ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)),
			    H_MSG_LF);
		ck_assert_int_eq(r.code, 0);
		ck_assert_msg(r.ms < h_scaled(3000), "exit after %ld ms", r.ms);
		if (i / 2 == 0)
			assert_no_leftovers("after the dot");
	}
}
END_TEST

/* failing_deliveries - one message to recipients whose commands crash,
 * fail, leave a child behind, do not read, and succeed: 451 4.3.0 */
static void
failing_deliveries(struct h_proc *p)
{
	int n;

	h_sends(p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<crash@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "RCPT TO:<bgchild@mx.example>\r\nRCPT TO:<noread@mx.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n" H_MSG ".\r\n");
	h_expect(p, "250 ");
	h_expect(p, "250 2.1.0");
	for (n = 0; n < 5; n++)
		h_expect(p, "250 2.1.5");
	h_expect(p, "354");
	h_expect(p, "451 4.3.0");
}

START_TEST(test_no_zombies)
{
	/* after deliveries that crash, fail, or leave a child behind, the
	 * server has no child left, not even a zombie */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	int zombies, n;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	failing_deliveries(&p);
	n = children_of(p.pid, &zombies);
	ck_assert_msg(n == 0, "the server has %d children (%d zombies)", n,
	    zombies);
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 5);
}
END_TEST

START_TEST(test_tls_engine_kept)
{
	/* the TLS engine is a child, not a delivery: after deliveries that
	 * crash, fail, or leave a child behind, it is the one child left,
	 * alive; after a STARTTLS flood, 421 and the engine waited for */
	static const char flood_end[] = "|503 5.5.1|503 5.5.1|421 4.7.0";
	struct h_opts o = { .keep_open = 1, .args = { "--max-errors", "5" } };
	struct h_proc p;
	struct h_result r;
	int zombies, n;
	char *codes;

	h_nulltls(&o, "-l", "300");
	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "STARTTLS\r\n", "220 2.0.0");
	failing_deliveries(&p);
	n = children_of(p.pid, &zombies);
	ck_assert_msg(n == 1 && zombies == 0, "the server has %d children "
	    "(%d zombies): want the engine alone, alive", n, zombies);
	h_sends(&p, h_repeat("STARTTLS\r\n", 50));
	h_shut(&p);
	h_finish(&p, &r);
	codes = h_codes(r.out);
	ck_assert_str_eq(codes + strlen(codes) - strlen(flood_end),
	    flood_end);
	ck_assert_int_eq(h_count(h_dir), 5);
	ck_assert_msg(r.ms >= 300, "exit after %ld ms: the engine was not "
	    "waited for", r.ms);
}
END_TEST

/* ---- resources run out at delivery time ---- */

START_TEST(test_fork_failure)
{
	/* RLIMIT_NPROC 0 binds a non-root uid only: as root the server
	 * drops to nobody with --user.  (Not under a wrapper: valgrind
	 * 3.19 itself dies of SIGSEGV when its client's fork fails.  In
	 * a sanitizer build LeakSanitizer would need a process of its own
	 * at exit, so it is off here.) */
	struct h_opts o = { .no_fork = 1,
	    .env = { "ASAN_OPTIONS=detect_leaks=0" } };
	struct h_result r;
	char *l;

	if (getenv("PIPESMTPD_WRAPPER") != NULL)
		return;
	if (h_root()) {
		if (getpwnam("nobody") == NULL)
			return;
		o.no_allow_root = 1;
		o.args[0] = "--user";
		o.args[1] = "nobody";
		ck_assert_int_eq(chmod(h_dir, 01777), 0);
	}
	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n"
	    H_MSG ".\r\nNOOP\r\nQUIT\r\n"));
	l = h_line(r.out, 6);
	ck_assert_msg(l != NULL && strncmp(l, "451 4.3.0 ", 10) == 0,
	    "'%s' log '%s'", r.out, r.log);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|354|451 4.3.0|250 2.0.0|221 2.0.0");
	ck_assert_msg(strstr(l, "cannot run delivery command") != NULL, "'%s'",
	    l);
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_fd_exhaustion)
{
	/* four descriptors: 0-2 and the spool.  The session runs; the
	 * command's pipes cannot be made: 451, nothing delivered.  (Not
	 * under a wrapper such as valgrind, which needs its own.) */
	struct h_opts o = { .nofile = 4 };
	struct h_result r;

	if (getenv("PIPESMTPD_WRAPPER") != NULL)
		return;
	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n" H_MSG ".\r\nNOOP\r\n"
	    "QUIT\r\n"));
	ck_assert_msg(strcmp(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "451 4.3.0|250 2.0.0|221 2.0.0") == 0, "'%s' log '%s'", r.out,
	    r.log);
	ck_assert_ptr_nonnull(strstr(h_line(r.out, 5), "cannot run delivery "
	    "command"));
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_fd_scarce)
{
	/* a few more descriptors: each delivery either works or fails
	 * temporarily, and a 250 means it ran */
	long nofile = 5 + _i;
	struct h_opts o = { .nofile = nofile };
	struct h_result r;
	char *l;

	if (getenv("PIPESMTPD_WRAPPER") != NULL)
		return;
	h_run(&r, &o, h_strf("EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n"));
	l = h_line(r.out, 5);
	ck_assert_ptr_nonnull(l);
	if (strncmp(l, "250 ", 4) == 0)
		ck_assert_int_eq(h_count(h_dir), 1);
	else
		ck_assert_msg(strncmp(l, "451 4.3.0", 9) == 0 &&
		    h_count(h_dir) == 0, "nofile %ld: '%s'", nofile, l);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

/* ---- isolation ---- */

/* spool_fd - the server's descriptor for a file under dir that is
 * deleted; its mode in *mode.  -1 if there is none */
static int
spool_fd(pid_t pid, const char *dir, mode_t *mode)
{
	char *fds = h_strf("/proc/%ld/fd", (long)pid);
	DIR *d = opendir(fds);
	struct dirent *e;
	int found = -1;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL && found < 0) {
		char link[4096], *path = h_strf("%s/%s", fds, e->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		struct stat st;

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, dir, strlen(dir)) != 0 ||
		    link[strlen(dir)] != '/' ||
		    strstr(link, " (deleted)") == NULL ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		*mode = st.st_mode & 07777;
		found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* empty_dir - nothing but . and .. */
static int
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

START_TEST(test_spool_deleted_0600)
{
	/* while a command runs, the spool is an unlinked 0600 file that
	 * only the server's descriptor names; afterwards nothing is left */
	char *sp = h_subdir("spool"), *gc = h_strf("%s/1/grandchild", h_dir);
	struct h_opts o = { .keep_open = 1, .args = { "--spool", sp,
	    "--delivery-timeout", "2" } };
	struct h_proc p;
	struct h_result r;
	mode_t mode = 0;
	int i, fd;

	ck_assert_int_eq(mkdir(sp, 0755), 0);
	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<sleep@mx.example>\r\nDATA\r\n");
	h_expect(&p, "220 ");
	h_expect(&p, "250 ");
	h_expect(&p, "250 2.1.0");
	h_expect(&p, "250 2.1.5");
	h_expect(&p, "354");
	h_sends(&p, H_MSG ".\r\n");
	for (i = 0; i < 250 && access(gc, F_OK) != 0; i++)
		h_pause(&p, 20);
	ck_assert_msg(access(gc, F_OK) == 0, "the delivery did not start");
	fd = spool_fd(p.pid, sp, &mode);
	ck_assert_msg(fd >= 0, "no deleted spool file among the server's "
	    "descriptors");
	ck_assert_msg(mode == 0600, "spool mode %o", (unsigned)mode);
	ck_assert(empty_dir(sp));
	ck_assert_ptr_nonnull(h_reply(&p, h_scaled(10000)));	/* timed out */
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert(empty_dir(sp));
	ck_assert_int_eq(rmdir(sp), 0);
	assert_no_leftovers("spool");
}
END_TEST

START_TEST(test_user_drops_groups)
{
	/* started as root with supplementary groups 0, 4 and 27, --user
	 * nobody leaves the command nobody's uid, gid and groups only */
	struct passwd *pw = getpwnam("nobody");
	struct h_opts o = { .no_allow_root = 1, .extra_groups = 1,
	    .args = { "--user", "nobody" } };
	gid_t groups[64];
	int ngroups = 64, i;
	char *ids, *want, *g;
	struct h_result r;

	if (!h_root() || pw == NULL)
		return;
	ck_assert_int_eq(chmod(h_dir, 01777), 0);
	ck_assert(getgrouplist("nobody", pw->pw_gid, groups, &ngroups) >= 0);
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_msg(strcmp(h_codes(r.out), h_want(1, "250 2.0.0")) == 0,
	    "'%s' log '%s'", r.out, r.log);
	ids = h_file(h_dir, 1, "ids", NULL);
	ck_assert_ptr_nonnull(ids);
	want = h_strf("uid %u\neuid %u\ngid %u\negid %u\ngroups",
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid,
	    (unsigned)pw->pw_gid);
	ck_assert_msg(strncmp(ids, want, strlen(want)) == 0, "ids '%s'", ids);
	g = ids + strlen(want);
	for (i = 0; i < ngroups; i++) {
		char *one = h_strf(" %u", (unsigned)groups[i]);
		char *at = strstr(g, one);

		ck_assert_msg(at != NULL, "group %u missing: '%s'",
		    (unsigned)groups[i], ids);
	}
	/* exactly nobody's groups: count the words */
	for (i = 0; *g != '\0' && *g != '\n'; g++)
		i += *g == ' ';
	ck_assert_msg(i == ngroups, "groups '%s', want %d of them", ids,
	    ngroups);
}
END_TEST

/* ---- every recipient's own copy ---- */

/* The server with /proc unmounted (chroots and sandboxes lack it), in a
 * mount namespace of its own. */
#define NO_PROC	"unshare", "-m", "sh", "-c", \
	"umount -l /proc && exec \"$@\"", "sh"

/* no_proc_ok - whether this system lets us run a server without /proc;
 * says why not when it does not */
static int
no_proc_ok(void)
{
	if (!h_root()) {
		fputs("hostile/copies: not root: no /proc-less run\n", stderr);
		return 0;
	}
	if (getenv("PIPESMTPD_WRAPPER") != NULL) {
		fputs("hostile/copies: a wrapper (valgrind) needs /proc: no "
		    "/proc-less run\n", stderr);
		return 0;
	}
	if (system("unshare -m sh -c 'umount -l /proc && "
	    "! test -e /proc/self' 2>/dev/null") != 0) {
		fputs("hostile/copies: unshare -m or umount /proc failed: no "
		    "/proc-less run\n", stderr);
		return 0;
	}
	return 1;
}

/* Recipient a reads 7 octets, tries to write into its stdin, and leaves
 * a child that reads the rest a little later and then notes it is done;
 * b and c wait for that note (2 s at most), then read their own copies.
 * Each notes what it could do. */
static const char copy_script[] =
	"d=$1\n"
	"case $RECIPIENT in\n"
	"a@*)\n"
	"  dd bs=1 count=7 of=/dev/null 2>/dev/null\n"
	"  if { printf OVERWRITTEN >&0; } 2>/dev/null; then w=yes; "
	"else w=no; fi\n"
	"  echo $w > \"$d/a-wrote\"\n"
	"  (sleep 0.1; cat; : > \"$d/a-child-read\") <&0 >/dev/null 2>&1 &\n"
	"  exit 0 ;;\n"
	"*)\n"
	"  i=0\n"
	"  while [ ! -e \"$d/a-child-read\" ] && [ $i -lt 100 ]; do\n"
	"    sleep 0.02; i=$((i + 1))\n"
	"  done\n"
	"  if { printf OVERWRITTEN >&0; } 2>/dev/null; then w=yes; "
	"else w=no; fi\n"
	"  echo $w > \"$d/$RECIPIENT-wrote\"\n"
	"  cat > \"$d/$RECIPIENT-stdin\"\n"
	"  echo \"$SIZE\" > \"$d/$RECIPIENT-size\" ;;\n"
	"esac\n";

/* note - the file h_dir/name a command wrote (NUL added), or NULL */
static char *
note(const char *name, size_t *len)
{
	return h_read(h_subdir(name), len);
}

START_TEST(test_own_copy)
{
	/* with /proc and without it: no command can write to its stdin,
	 * and nothing one command (or a child it leaves) does to its stdin
	 * changes what the next recipient gets */
	const char *wrap[] = { NO_PROC, NULL };
	struct h_opts o = { .cmd = { "--", "/bin/sh", "-c", copy_script, "sh",
	    h_dir } };
	const char *rcpt[] = { "b@mx.example", "c@mx.example" };
	struct h_result r;
	size_t i, len;

	if (_i == 1 && !no_proc_ok())
		return;
	for (i = 0; _i == 1 && wrap[i] != NULL; i++)
		o.wrap[i] = wrap[i];
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", "<c@mx.example>", NULL));
	ck_assert_msg(strcmp(h_codes(r.out), h_want(3, "250 2.0.0")) == 0,
	    "'%s' log '%s'", r.out, r.log);
	ck_assert_str_eq(note("a-wrote", NULL), "no\n");
	ck_assert_msg(note("a-child-read", NULL) != NULL, "a's child did not "
	    "read its stdin before b and c read theirs");
	for (i = 0; i < 2; i++) {
		char *got = note(h_strf("%s-stdin", rcpt[i]), &len);

		ck_assert_msg(got != NULL, "%s got nothing", rcpt[i]);
		ck_assert_str_eq(note(h_strf("%s-wrote", rcpt[i]), NULL),
		    "no\n");
		ck_assert_msg(strncmp(got, "Return-Path: <s@x.example>\n"
		    "Received: from " H_HELO, 43) == 0 &&
		    strcmp(h_body(got), H_MSG_LF) == 0, "%s got '%s'", rcpt[i],
		    got);
		ck_assert_str_eq(note(h_strf("%s-size", rcpt[i]), NULL),
		    h_strf("%zu\n", len));
	}
}
END_TEST

Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = h_tcase("input");

	tcase_add_loop_test(tc, test_smuggling_modes, 0,
	    sizeof(smuggles) / sizeof(smuggles[0]));
	tcase_add_test(tc, test_smuggling_bdat);
	tcase_add_loop_test(tc, test_hostile_values, 0,
	    sizeof(value_cases) / sizeof(value_cases[0]));
	tcase_add_loop_test(tc, test_noise_commands, 0,
	    sizeof(seeds) / sizeof(seeds[0]));
	tcase_add_loop_test(tc, test_noise_data, 0,
	    sizeof(seeds) / sizeof(seeds[0]));
	tcase_add_loop_test(tc, test_noise_bdat, 0,
	    sizeof(seeds) / sizeof(seeds[0]));
	suite_add_tcase(s, tc);

	tc = h_tcase("faults");
	tcase_add_test(tc, test_disconnect_before_greeting);
	tcase_add_loop_test(tc, test_disconnect_mid_bdat, 0,
	    sizeof(bdat_cuts) / sizeof(bdat_cuts[0]));
	tcase_add_test(tc, test_disconnect_after_dot);
	tcase_add_test(tc, test_no_zombies);
	tcase_add_test(tc, test_tls_engine_kept);
	tcase_add_test(tc, test_fork_failure);
	tcase_add_test(tc, test_fd_exhaustion);
	tcase_add_loop_test(tc, test_fd_scarce, 0, 6);
	suite_add_tcase(s, tc);

	tc = h_tcase("isolation");
	tcase_add_test(tc, test_spool_deleted_0600);
	tcase_add_test(tc, test_user_drops_groups);
	suite_add_tcase(s, tc);

	tc = h_tcase("copies");
	tcase_add_loop_test(tc, test_own_copy, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

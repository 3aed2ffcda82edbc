/*
 * e2e_check.c - the once-per-message checks (pipesmtpd(8) CHECKS):
 * --data-check (its input, environment, header fields, exit statuses,
 * output that is not header fields, timeouts, LMTP and PRDR),
 * --authserv-id (forged Authentication-Results: removed), and replies
 * flushed before a check or a delivery makes the client wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define FIELDS_OUT	"printf 'X-Check: one\\nX-Folded: a\\n\\tb\\n'"
#define FIELDS		"X-Check: one\nX-Folded: a\n\tb\n"

/* check_script - a --data-check command: a script that records its run
 * with the recorder under h_dir/check (argv, environment, stdin), then
 * runs body */
static char *
check_script(const char *body)
{
	char *path = h_subdir("check.sh");
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s %s/check || exit 70\n%s\n", H_RECORDER,
	    h_dir, body);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* crlf - s with every LF made CRLF */
static char *
crlf(const char *s)
{
	char *out = h_strf("%s", "");

	for (; *s != '\0'; s++)
		out = h_strf("%s%s", out, *s == '\n' ? "\r\n" : h_strf("%c",
		    *s));
	return out;
}

/* after_received - what follows the Received: field of d */
static const char *
after_received(const char *d)
{
	char *rcv = h_header(d, "Received");

	ck_assert_ptr_nonnull(rcv);
	return strstr(d, rcv) + strlen(rcv);
}

/* The options the fields are checked under: the message as delivered
 * changes with each (pipesmtpd(8), THE MESSAGE AS DELIVERED). */
static const char *const field_cases[][2] = {
	{ NULL },
	{ "--delivered-to" },
	{ "--crlf" },
	{ "--no-return-path" },
};

START_TEST(test_fields_every_copy)
{
	const char *opt = field_cases[_i][0];
	int is_crlf = opt != NULL && strcmp(opt, "--crlf") == 0;
	const char *fields = is_crlf ? crlf(FIELDS) : FIELDS;
	const char *msg = is_crlf ? H_MSG : H_MSG_LF;
	char *check = h_subdir("check"), *script = check_script(FIELDS_OUT);
	struct h_opts o = { .args = { "--data-check", script, opt } };
	struct h_result r;
	char *in;
	size_t len;
	int n;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", "<c@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(3, "250 2.0.0"));
	/* once for the message, not once per recipient */
	ck_assert_int_eq(h_count(check), 1);
	ck_assert_int_eq(h_count(h_dir), 3);
	for (n = 1; n <= 3; n++) {
		in = h_stdin(h_dir, n, NULL);
		ck_assert_msg(strncmp(after_received(in), fields,
		    strlen(fields)) == 0, "%s: copy %d: '%s'", opt, n, in);
		ck_assert_str_eq(after_received(in) + strlen(fields), msg);
		ck_assert_int_eq(count(in, "X-Check:"), 1);
		ck_assert_int_eq(count(in, "X-Folded:"), 1);
		h_assert_size_env(n);
	}
	/* the check read the message as delivered, without the fields
	 * and without any per-recipient Delivered-To: */
	in = h_file(check, 1, "stdin", &len);
	ck_assert_ptr_nonnull(in);
	ck_assert_str_eq(after_received(in), msg);
	ck_assert_str_eq(h_header(in, "Received"),
	    h_header(h_stdin(h_dir, 1, NULL), "Received"));
	ck_assert_ptr_null(h_header(in, "Delivered-To"));
	ck_assert_int_eq(h_header(in, "Return-Path") != NULL, opt == NULL ||
	    strcmp(opt, "--no-return-path") != 0);
	ck_assert_str_eq(h_env(check, 1, "SIZE"), h_strf("%zu", len));
	ck_assert_int_eq(count(r.log, h_strf("data-check=%s, status=passed "
	    "(exit 0)", script)), 1);
}
END_TEST

START_TEST(test_environment)
{
	char *check = h_subdir("check"), *script = check_script("exit 0");
	struct h_opts o = { .args = { "--data-check", h_strf("%s %%s %%q "
	    "%%i", script), "--env", "EXTRA=x" } };
	struct h_result r;

	/* the client's RCPTs, each once, as the client gave them */
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<A@mx.example>",
	    "<b+ext@mx.example>", "<a@MX.example>", "<\"c d\"@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(4, "250 2.0.0"));
	ck_assert_int_eq(h_count(check), 1);
	ck_assert_str_eq(h_env(check, 1, "RECIPIENTS"), "A@mx.example\n"
	    "b+ext@mx.example\nc d@mx.example");
	ck_assert_str_eq(h_env(check, 1, "RECIPIENT_COUNT"), "3");
	ck_assert_str_eq(h_env(check, 1, "SENDER"), "s@x.example");
	ck_assert_str_eq(h_env(check, 1, "CLIENT_HELO"), H_HELO);
	ck_assert_str_eq(h_env(check, 1, "EXTRA"), "x");
	ck_assert_str_eq(h_env(check, 1, "QUEUE_ID"),
	    h_env(h_dir, 1, "QUEUE_ID"));
	ck_assert_ptr_nonnull(h_env(check, 1, "PATH"));
	ck_assert_ptr_null(h_env(check, 1, "RECIPIENT"));
	ck_assert_ptr_null(h_env(check, 1, "LOCAL"));
	ck_assert_ptr_null(h_env(check, 1, "DOMAIN"));
	ck_assert_int_eq(h_count(h_dir), 3);
}
END_TEST

/* A check's exit and standard error, and the reply they make. */
struct exit_case {
	const char *body;
	const char *want;	/* the reply to the data, "code dsn" */
	const char *text;	/* in the reply and the log */
	const char *status;	/* in the log line */
};

static const struct exit_case exit_cases[] = {
	{ "echo '5.7.1 spam detected' >&2; echo 'X-Not: used'; exit 65",
	  "554 5.7.1", "spam detected", "rejected (exit 65: spam detected)" },
	{ "exit 65", "554 5.6.0", "data format error",
	  "rejected (exit 65: data format error)" },
	{ "exit 75", "451 4.3.0", "temporary failure",
	  "deferred (exit 75: temporary failure)" },
	{ "echo '4.7.1 try later' >&2; exit 75", "451 4.7.1", "try later",
	  "deferred (exit 75: try later)" },
	{ "echo '4.7.1 wrong class' >&2; exit 77", "554 5.7.0",
	  "4.7.1 wrong class", "rejected (exit 77: 4.7.1 wrong class)" },
	{ "exit 1", "554 5.3.0", NULL, "rejected (exit 1:" },
	{ "kill -9 $$", "451 4.3.0", "killed by signal 9",
	  "deferred (signal 9:" },
	{ "printf 'not a header\\n'", "451 4.3.0", "not header fields",
	  "deferred (exit 0:" },
	{ "printf 'X-A: b\\n\\nbody\\n'", "451 4.3.0", NULL,
	  "deferred (exit 0:" },
	{ "printf ' X-A: b\\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "printf 'X A: b\\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "printf ': b\\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "printf 'X-A: b\\n \\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "printf 'X-A: b\\rX-B: c\\n'", "451 4.3.0", NULL,
	  "deferred (exit 0:" },
	{ "printf 'X-A: \\001\\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "printf 'X-A: b\\n\\n'", "451 4.3.0", NULL, "deferred (exit 0:" },
	{ "i=0; while [ $i -lt 1100 ]; do printf 'X-Long-Field: %060d\\n' "
	  "$i; i=$((i+1)); done", "451 4.3.0", NULL, "deferred (exit 0:" },
};

START_TEST(test_exit_table)
{
	const struct exit_case *c = &exit_cases[_i];
	char *check = h_subdir("check");
	struct h_opts o = { .args = { "--data-check",
	    check_script(c->body) } };
	struct h_result r;
	char *l;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    "<b@mx.example>", NULL));
	l = h_line(r.out, 6);
	ck_assert_msg(l != NULL && strncmp(l, c->want, strlen(c->want)) == 0
	    && l[strlen(c->want)] == ' ', "case %d: '%s', want '%s'", _i,
	    l ? l : "nothing", c->want);
	if (c->text != NULL)
		ck_assert_msg(strstr(l, c->text) != NULL, "case %d: '%s'", _i,
		    l);
	ck_assert_ptr_null(strstr(r.out, "X-Not"));
	ck_assert_int_eq(h_count(check), 1);
	ck_assert_int_eq(h_count(h_dir), 0);	/* nothing delivered */
	ck_assert_msg(count(r.log, "data-check=") == 1 && strstr(r.log,
	    h_strf("status=%s", c->status)) != NULL, "case %d: log '%s'", _i,
	    r.log);
	/* every refusal has its reject line, in Postfix's shape */
	ck_assert_msg(count(r.log, ": reject: END-OF-MESSAGE from "
	    "unknown[") == 1 && strstr(r.log, h_strf("]: %s ", c->want)) !=
	    NULL && strstr(r.log, "; from=<s@x.example> proto=ESMTP helo=<"
	    H_HELO ">") != NULL, "case %d: log '%s'", _i, r.log);
	ck_assert_int_eq(strncmp(h_line(r.out, 7), "221 2.0.0", 9), 0);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_fields_stderr_apart)
{
	/* stderr is never a header field, whatever it says */
	struct h_opts o = { .args = { "--data-check", check_script(
	    "echo 'X-From-Stderr: no' >&2; echo 'X-Ok: yes'") } };
	struct h_result r;
	char *in;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	in = h_stdin(h_dir, 1, NULL);
	ck_assert_str_eq(after_received(in), "X-Ok: yes\n" H_MSG_LF);
}
END_TEST

START_TEST(test_timeout)
{
	struct h_opts o = { .args = { "--data-check", check_script("sleep 10"),
	    "--delivery-timeout", "1" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<a@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|354|"
	    "451 4.3.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 0);
	ck_assert_ptr_nonnull(strstr(r.log, "status=deferred"));
	ck_assert_msg(r.ms < h_scaled(6000), "took %ld ms", r.ms);
}
END_TEST

/* A transaction in each mode that replies after the data, with the
 * replies it gets when the check adds FIELDS and when it refuses. */
struct mode_case {
	const char *opt;	/* --lmtp, or NULL */
	const char *txn;	/* the commands before the data */
	int bdat;		/* the data as two BDAT chunks */
	const char *passed;	/* the codes, the check passing */
	int delivered;		/* then deliveries */
	const char *refused;	/* the codes, the check refusing */
};

static const struct mode_case mode_cases[] = {
	/* a message-wide failure: one reply per RCPT (RFC 2033 4.2) */
	{ "--lmtp", "LHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	  "RCPT TO:<A@mx.example>\r\n", 0,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|250 2.1.5|354|250 2.0.0|"
	  "250 2.0.0|250 2.0.0|221 2.0.0", 2,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|250 2.1.5|354|550 5.7.1|"
	  "550 5.7.1|550 5.7.1|221 2.0.0" },
	/* under PRDR one ordinary reply, without 353, as for every
	 * message-wide failure (pipesmtpd(8), PRDR replies) */
	{ NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example> PRDR\r\n"
	  "RCPT TO:<a@mx.example>\r\nRCPT TO:<exit67@mx.example>\r\n", 0,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|354|353|250 2.0.0|"
	  "550 5.1.1|250 2.0.0|221 2.0.0", 2,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|354|554 5.7.1|221 2.0.0" },
	{ NULL, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n", 1,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|250 2.0.0|250 2.0.0|"
	  "221 2.0.0", 2,
	  "220|250|250 2.1.0|250 2.1.5|250 2.1.5|250 2.0.0|554 5.7.1|"
	  "221 2.0.0" },
};

START_TEST(test_modes)
{
	const struct mode_case *c = &mode_cases[_i];
	char *check = h_subdir("check");
	struct h_opts o = { .args = { "--data-check", check_script(
	    FIELDS_OUT), c->opt } };
	char *txn = h_strf("%s%sQUIT\r\n", c->txn, c->bdat ?
	    h_bdat_halves(H_MSG) : "DATA\r\n" H_MSG ".\r\n");
	struct h_result r;

	h_run(&r, &o, txn);
	ck_assert_str_eq(h_codes(r.out), c->passed);
	ck_assert_int_eq(h_count(h_dir), c->delivered);
	ck_assert_str_eq(after_received(h_stdin(h_dir, 1, NULL)),
	    FIELDS H_MSG_LF);
	check_script("echo '5.7.1 spam detected' >&2; exit 65");
	h_run(&r, &o, txn);
	ck_assert_str_eq(h_codes(r.out), c->refused);
	ck_assert_msg(count(r.out, "spam detected") == (c->opt ? 3 : 1),
	    "'%s'", r.out);
	ck_assert_int_eq(h_count(h_dir), c->delivered);	/* none more */
	ck_assert_int_eq(h_count(check), 2);
}
END_TEST

/* ---- --authserv-id ---- */

#define AR_MSG \
	"Authentication-Results: mx.example; spf=pass smtp.mailfrom=x\r\n" \
	"X-Authentication-Results: mx.example; kept\r\n" \
	"Authentication-Results: MX.EXAMPLE 1; dkim=pass\r\n" \
	"Authentication-Results: other.example; spf=fail\r\n" \
	"Authentication-Results:\r\n\t(forged) mx.Example;\r\n\tdmarc=pass\r\n" \
	"Subject: t\r\n" \
	"authentication-results : mx.example; none\r\n" \
	"Authentication-Results: mx.example.evil; spf=pass\r\n" \
	"Authentication-Results: (a (nested) comment) mx.example (x);\r\n" \
	" arc=pass\r\n" \
	"\r\n" \
	"Authentication-Results: mx.example; in the body\r\n"
#define AR_KEPT \
	"X-Authentication-Results: mx.example; kept\n" \
	"Authentication-Results: other.example; spf=fail\n" \
	"Subject: t\n" \
	"Authentication-Results: mx.example.evil; spf=pass\n" \
	"\n" \
	"Authentication-Results: mx.example; in the body\n"

static const char *const authserv_cases[][2] = {
	{ "--data-check", "@CHECK" },
	{ "--crlf" },
	{ "--delivered-to" },
};

START_TEST(test_authserv_id)
{
	const char *const *c = authserv_cases[_i];
	int is_crlf = c[0] != NULL && strcmp(c[0], "--crlf") == 0;
	const char *want = is_crlf ? crlf(AR_KEPT) : AR_KEPT;
	char *check = h_subdir("check");
	struct h_opts o = { .args = { "--authserv-id", "mx.example", c[0],
	    c[1] != NULL ? check_script("exit 0") : NULL } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", AR_MSG, "<a@mx.example>",
	    "<b@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(2, "250 2.0.0"));
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), want);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 2, NULL)), want);
	h_assert_size_env(1);
	if (c[1] != NULL)
		ck_assert_str_eq(h_body(h_file(check, 1, "stdin", NULL)),
		    want);
}
END_TEST

START_TEST(test_authserv_id_last_field)
{
	/* a message that is all header, the forged field last; and none
	 * removed without the option */
	struct h_opts o = { .args = { "--authserv-id", "mx.example" } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", "Subject: x\r\n"
	    "Authentication-Results: mx.example; spf=pass\r\n",
	    "<a@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "Subject: x\n");
	h_run(&r, NULL, h_txn("<s@x.example>", AR_MSG, "<b@mx.example>",
	    NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_int_eq(count(h_stdin(h_dir, 2, NULL),
	    "Authentication-Results: mx.example;"), 3);
}
END_TEST

/* ---- replies are never held behind slow work ---- */

/* reply_ms - a server started with o, greeted (EHLO), then each of the
 * lock-step lines with its 250, then pipelined in one write: how long
 * the first reply to it took, which must start with want */
static long
reply_ms(struct h_proc *p, const struct h_opts *o,
    const char *const *lockstep, const char *pipelined, const char *want)
{
	long t0;

	h_start(p, o);
	h_expect(p, "220");
	h_say(p, "EHLO c.example\r\n", "250");
	for (; *lockstep != NULL; lockstep++)
		h_say(p, *lockstep, "250");
	t0 = h_elapsed(p);
	h_sends(p, pipelined);
	h_expect(p, want);
	return h_elapsed(p) - t0;
}

START_TEST(test_flush_before_rcpt_check)
{
	static const char *const none[] = { NULL };
	struct h_opts o = { .args = { "--rcpt-check", check_script(
	    "sleep 1") } };
	struct h_proc p;
	struct h_result r;
	long ms;

	/* before the first check ends, not after the third (RFC 2920 3.2) */
	ms = reply_ms(&p, &o, none, "MAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
	    "RCPT TO:<c@mx.example>\r\n", "250 2.1.0");
	ck_assert_msg(ms < 800, "MAIL's reply took %ld ms", ms);
	h_sends(&p, "QUIT\r\n");
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "250 2.1.5|250 2.1.5|221 2.0.0");
}
END_TEST

START_TEST(test_flush_before_data_check)
{
	static const char *const envelope[] = { "MAIL FROM:<s@x.example>\r\n",
	    "RCPT TO:<a@mx.example>\r\n", NULL };
	struct h_opts o = { .args = { "--data-check", check_script(
	    "sleep 1") } };
	struct h_proc p;
	struct h_result r;
	long ms;

	/* the first chunk's reply does not wait for the check */
	ms = reply_ms(&p, &o, envelope, h_bdat_halves(H_MSG), "250 2.0.0");
	ck_assert_msg(ms < 800, "BDAT's reply took %ld ms", ms);
	h_expect(&p, "250 2.0.0");
	h_sends(&p, "QUIT\r\n");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 1);
}
END_TEST

Suite *
check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc = h_tcase("data_check");

	tcase_add_loop_test(tc, test_fields_every_copy, 0,
	    sizeof(field_cases) / sizeof(field_cases[0]));
	tcase_add_test(tc, test_environment);
	tcase_add_loop_test(tc, test_exit_table, 0,
	    sizeof(exit_cases) / sizeof(exit_cases[0]));
	tcase_add_test(tc, test_fields_stderr_apart);
	tcase_add_test(tc, test_timeout);
	tcase_add_loop_test(tc, test_modes, 0,
	    sizeof(mode_cases) / sizeof(mode_cases[0]));
	suite_add_tcase(s, tc);

	tc = h_tcase("authserv_id");
	tcase_add_loop_test(tc, test_authserv_id, 0,
	    sizeof(authserv_cases) / sizeof(authserv_cases[0]));
	tcase_add_test(tc, test_authserv_id_last_field);
	suite_add_tcase(s, tc);

	tc = h_tcase("flush");
	tcase_add_test(tc, test_flush_before_rcpt_check);
	tcase_add_test(tc, test_flush_before_data_check);
	suite_add_tcase(s, tc);
	return s;
}

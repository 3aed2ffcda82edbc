/*
 * e2e_session.c - the session as a whole: PIPELINING and lock-step
 * clients (pipesmtpd(8) PROTOCOL: flushing), a client that disappears,
 * the client's identity from the launcher (CLIENT IDENTITY), and the
 * log (LOGGING).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

/* ---- pipelining ---- */

START_TEST(test_pipeline_one_write)
{
	/* two transactions, RSET, NOOP, everything in one write */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	int i;

	h_start(&p, &o);
	h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<nobody@other.example>\r\n"
	    "RCPT TO:<b@mx.example>\r\nDATA\r\n" H_MSG ".\r\nNOOP\r\n"
	    "MAIL FROM:<t@x.example>\r\nRCPT TO:<c@mx.example>\r\nRSET\r\n"
	    "MAIL FROM:<t@x.example>\r\nRCPT TO:<d@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	/* all replies come without the client closing its side */
	for (i = 0; i < 17; i++)
		ck_assert_msg(h_reply(&p, h_scaled(5000)) != NULL, "only %d replies: "
		    "'%s'", i, p.out);
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|250 2.1.5|"
	    "550 5.7.1|250 2.1.5|354|250 2.0.0|250 2.0.0|250 2.1.0|250 2.1.5|"
	    "250 2.0.0|250 2.1.0|250 2.1.5|354|250 2.0.0|221 2.0.0");
	ck_assert_int_eq(h_count(h_dir), 3);
	ck_assert_str_eq(h_env(h_dir, 3, "RECIPIENT"), "d@mx.example");
}
END_TEST

START_TEST(test_pipeline_group_flushed)
{
	/* a group up to DATA gets all its replies while the client waits
	 * for the 354 before sending the message */
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	h_say(&p, "EHLO c.example\r\n", "250 ");
	h_sends(&p, "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@mx.example>\r\n"
	    "RCPT TO:<b@mx.example>\r\nDATA\r\n");
	h_expect(&p, "250 2.1.0");
	h_expect(&p, "250 2.1.5");
	h_expect(&p, "250 2.1.5");
	h_expect(&p, "354");
	h_sends(&p, H_MSG);
	h_pause(&p, 200);
	ck_assert_int_eq(p.outlen, p.seen);	/* nothing before the dot */
	h_say(&p, ".\r\n", "250 2.0.0");
	h_say(&p, "QUIT\r\n", "221 2.0.0");
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 2);
}
END_TEST

START_TEST(test_lock_step)
{
	/* every command's reply arrives before the next is sent, and
	 * exactly one reply per command */
	static const char *const steps[][2] = {
		{ "EHLO c.example\r\n", "250 " },
		{ "NOOP\r\n", "250 2.0.0" },
		{ "MAIL FROM:<s@x.example>\r\n", "250 2.1.0" },
		{ "RCPT TO:<bad@other.example>\r\n", "550 5.7.1" },
		{ "RCPT TO:<u@mx.example>\r\n", "250 2.1.5" },
		{ "RCPT TO:<v@mx.example>\r\n", "250 2.1.5" },
		{ "DATA\r\n", "354" },
		{ "Subject: x\r\n\r\nline one\r\n..dot\r\n.\r\n", "250 2.0.0" },
		{ "HELO again.example\r\n", "250 " },
		{ "MAIL FROM:<>\r\n", "250 2.1.0" },
		{ "RCPT TO:<w@mx.example>\r\n", "250 2.1.5" },
		{ "DATA\r\n", "354" },
		{ "x\r\n.\r\n", "250 2.0.0" },
		{ "VRFY u\r\n", "252 " },
		{ "RSET\r\n", "250 2.0.0" },
		{ "QUIT\r\n", "221 2.0.0" },
	};
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	size_t i;

	h_start(&p, &o);
	h_expect(&p, "220 ");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		h_say(&p, steps[i][0], steps[i][1]);
		h_pause(&p, 20);
		ck_assert_msg(p.outlen == p.seen, "extra output after '%s': "
		    "'%s'", steps[i][0], p.out + p.seen);
	}
	h_finish(&p, &r);
	ck_assert_int_eq(h_count(h_dir), 3);
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)),
	    "Subject: x\n\nline one\n.dot\n");
	ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	/* a client that writes one octet at a time */
	const char *in = "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nab\r\n.\r\nQUIT\r\n";
	struct h_opts o = { .keep_open = 1 };
	struct h_proc p;
	struct h_result r;
	size_t i;

	h_start(&p, &o);
	for (i = 0; in[i] != '\0'; i++) {
		h_send(&p, in + i, 1);
		if (in[i] == '\n')
			h_pause(&p, 5);
	}
	h_finish(&p, &r);
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_body(h_stdin(h_dir, 1, NULL)), "ab\n");
}
END_TEST

START_TEST(test_pipeline_many)
{
	/* far more pipelined commands than any buffer holds: every one is
	 * answered, in order (HELO: 20000 NOOPs would be junk) */
	char *noops = h_repeat("HELO c.example\r\n", 20000);
	char *txns = h_repeat("MAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<u@mx.example>\r\nDATA\r\nx\r\n.\r\n", 50);
	struct h_result r;

	h_run(&r, NULL, h_strf("EHLO c.example\r\n%s%sQUIT\r\n", noops,
	    txns));
	ck_assert_int_eq(h_nreplies(r.out), 2 + 20000 + 50 * 4 + 1);
	ck_assert_str_eq(h_codes(r.out), h_strf("220|250%s%s|221 2.0.0",
	    h_repeat("|250", 20000),
	    h_repeat("|250 2.1.0|250 2.1.5|354|250 2.0.0", 50)));
	ck_assert_int_eq(h_count(h_dir), 50);
}
END_TEST

/* ---- the client goes away ---- */

static const char *const cut_points[] = {
	"Subject: x\r\n\r\npartial",
	"Subject: x\r\n\r\nwhole line\r\n",
	"Subject: x\r\n\r\nline\r\n.",
	"Subject: x\r\n\r\nline\r\n.\r",
	"Subject: x\r\n\r\nline\n.\n",
	"Subject: x\r\n\r\nline\r\n..\r\n",
	"",
};

START_TEST(test_disconnect_mid_data)
{
	struct h_proc p;
	struct h_result r;
	int hard;

	for (hard = 0; hard < 2; hard++) {
		h_fresh();
		h_start(&p, NULL);
		h_sends(&p, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\n"
		    "DATA\r\n");
		h_sends(&p, cut_points[_i]);
		h_expect(&p, "220");
		h_expect(&p, "250");
		h_expect(&p, "250 2.1.0");
		h_expect(&p, "250 2.1.5");
		h_expect(&p, "250 2.1.5");
		h_expect(&p, "354");
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

START_TEST(test_disconnect_elsewhere)
{
	static const char *const cuts[] = { "", "EHLO c.example\r\n",
	    "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n",
	    "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.exa",
	    "EHLO c.example\r\nNOOP" };
	size_t i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct h_result r;

		h_run(&r, NULL, cuts[i]);
		ck_assert_int_eq(r.code, 0);
		ck_assert_int_eq(h_count(h_dir), 0);
		ck_assert_msg(r.ms < h_scaled(3000), "exit after %ld ms", r.ms);
	}
}
END_TEST

START_TEST(test_lost_reply_logged)
{
	/* a client that goes away right after the final dot may never see
	 * the 250, and may send the message again: the log says so, with
	 * the queue id, and the disconnect line counts it.  A QUIT (or any
	 * command) after the reply means it was read. */
	static const char *const ends[] = { "", "QUIT\r\n", "NOOP\r\n" };
	int hard, lmtp;
	size_t i;

	for (lmtp = 0; lmtp < 2; lmtp++)
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
	for (hard = 0; hard < (i == 0 ? 2 : 1); hard++) {
		struct h_opts o = { .args = { lmtp ? "--lmtp" : "--log-stderr" } };
		struct h_proc p;
		struct h_result r;
		char *id, *want;

		h_fresh();
		h_start(&p, &o);
		h_sends(&p, h_strf("%s c.example\r\nMAIL FROM:<s@x.example>\r\n"
		    "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\n%s",
		    lmtp ? "LHLO" : "EHLO", ends[i]));
		h_expect(&p, "220");
		h_expect(&p, "250");
		h_expect(&p, "250 2.1.0");
		h_expect(&p, "250 2.1.5");
		h_expect(&p, "354");	/* it has read the dot with these */
		if (hard)	/* the reply cannot even be written */
			shutdown(p.sock, SHUT_RDWR);
		else
			h_shut(&p);
		h_finish(&p, &r);
		ck_assert_msg(h_count(h_dir) == 1, "lmtp %d end %zu hard %d: "
		    "'%s' '%s'", lmtp, i, hard, r.out, r.log);
		id = h_env(h_dir, 1, "QUEUE_ID");
		want = h_strf("]: %s: lost connection after end of data: the "
		    "sender may retry\n", id);
		if (i == 0) {
			ck_assert_msg(strstr(r.log, want) != NULL, "lmtp %d hard "
			    "%d: '%s'", lmtp, hard, r.log);
			ck_assert_msg(strstr(r.log, " messages=1 lost=1\n") !=
			    NULL, "'%s'", r.log);
		} else {
			ck_assert_msg(strstr(r.log, "lost") == NULL, "after "
			    "'%s': '%s'", ends[i], r.log);
		}
		ck_assert_int_eq(r.code, 0);
	}
}
END_TEST

/* ---- the client's identity ---- */

struct identity_case {
	const char *env[4];
	const char *ip;		/* %i and CLIENT_ADDRESS */
	const char *received;	/* "(HOST [IP])" part, or NULL */
};

static const struct identity_case identity_cases[] = {
	{ { "PROTO=TCP", "TCPREMOTEIP=192.0.2.7", "TCPREMOTEHOST=h.example" },
	  "192.0.2.7", "(h.example [192.0.2.7])" },
	{ { "PROTO=TCP", "TCPREMOTEIP=192.0.2.8" },
	  "192.0.2.8", "(unknown [192.0.2.8])" },
	{ { "REMOTE_ADDR=198.51.100.9" }, "198.51.100.9",
	  "(unknown [198.51.100.9])" },
	{ { "PROTO=TCP", "TCPREMOTEIP=192.0.2.7", "REMOTE_ADDR=198.51.100.9" },
	  "192.0.2.7", NULL },
	{ { "PROTO=TCP6", "TCP6REMOTEIP=2001:db8::5",
	    "TCP6REMOTEHOST=v6.example" }, "2001:db8::5", NULL },
	{ { "REMOTE_ADDR=2001:db8::9" }, "2001:db8::9", NULL },
	{ { "PROTO=TCP" }, "unknown", NULL },
	{ { NULL }, "unknown", NULL },
};

START_TEST(test_identity)
{
	const struct identity_case *c = &identity_cases[_i];
	struct h_opts o = { .cmd = { "--", H_RECORDER, h_dir, "%i" } };
	struct h_result r;
	char *rec;
	int i;

	for (i = 0; i < 4 && c->env[i] != NULL; i++)
		o.env[i] = c->env[i];
	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_argv(h_dir, 1, 2), c->ip);
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), c->ip);
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_ptr_nonnull(rec);
	if (c->received != NULL)
		ck_assert_msg(strncmp(rec + strlen("Received: from " H_HELO " "),
		    c->received, strlen(c->received)) == 0, "Received '%s', "
		    "want '%s'", rec, c->received);
	else if (strcmp(c->ip, "unknown") != 0)
		ck_assert_msg(strstr(rec, c->ip) != NULL, "Received '%s' lacks"
		    " %s", rec, c->ip);
	ck_assert_msg(strstr(r.log, h_strf("client=[%s]", c->ip)) != NULL,
	    "log lacks client=[%s]: '%s'", c->ip, r.log);
}
END_TEST

START_TEST(test_identity_inetd)
{
	/* no launcher variables: getpeername(0) of an accepted TCP socket */
	struct h_opts o = { .tcp = 1, .cmd = { "--", H_RECORDER, h_dir,
	    "%i" } };
	struct h_result r;
	char *rec;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	ck_assert_str_eq(h_argv(h_dir, 1, 2), "127.0.0.1");
	ck_assert_str_eq(h_env(h_dir, 1, "CLIENT_ADDRESS"), "127.0.0.1");
	rec = h_header(h_stdin(h_dir, 1, NULL), "Received");
	ck_assert_msg(strncmp(rec, "Received: from " H_HELO
	    " (unknown [127.0.0.1])", strlen("Received: from " H_HELO
	    " (unknown [127.0.0.1])")) == 0, "'%s'", rec);
	ck_assert_ptr_nonnull(strstr(r.log, "client=[127.0.0.1]"));
}
END_TEST

/* ---- logging ---- */

/* log_match - whether a line of log matches the extended regex pat */
static int
log_match(const char *log, const char *pat)
{
	regex_t re;
	int ok;

	ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB |
	    REG_NEWLINE), 0);
	ok = regexec(&re, log, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

START_TEST(test_log_delivery_line)
{
	struct h_opts o = { .env = { "PROTO=TCP", "TCPREMOTEIP=192.0.2.7" } };
	struct h_result r;
	char *qid, *pat;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	qid = h_env(h_dir, 1, "QUEUE_ID");
	pat = h_strf("%s: to=<u@mx\\.example>, from=<s@x\\.example>, "
	    "client=\\[192\\.0\\.2\\.7\\], size=[0-9]+, delay=[0-9]+(\\.[0-9]+)?"
	    ", dsn=2\\.0\\.0, status=sent \\(exit 0\\)$", qid);
	ck_assert_msg(log_match(r.log, pat), "no delivery line /%s/ in '%s'",
	    pat, r.log);
	h_assert_log_clean(r.log, r.loglen);
}
END_TEST

START_TEST(test_log_failure_lines)
{
	struct h_result r;

	h_run(&r, NULL, h_txn("<>", H_MSG, "<exit75@mx.example>",
	    "<exit67@mx.example>", "<ok@mx.example>", NULL));
	ck_assert_msg(log_match(r.log, "to=<exit75@mx\\.example>, from=<>, "
	    "client=\\[unknown\\], size=[0-9]+, delay=[0-9.]+, dsn=4\\.[0-9]"
	    "\\.[0-9]+, status=deferred "), "'%s'", r.log);
	ck_assert_msg(log_match(r.log, "to=<exit67@mx\\.example>, .*, delay="
	    "[0-9.]+, dsn=5\\.1\\.1, status=bounced \\(exit 67: "), "'%s'",
	    r.log);
	ck_assert_msg(!log_match(r.log, "to=<exit75@mx\\.example>.*status="
	    "sent"), "a temporary failure logged as sent: '%s'", r.log);
	ck_assert_msg(!log_match(r.log, "to=<exit67@mx\\.example>.*status="
	    "sent"), "a permanent failure logged as sent: '%s'", r.log);
	ck_assert_msg(log_match(r.log, "to=<ok@mx\\.example>.*, dsn=2\\.0\\.0, "
	    "status=sent"),
	    "'%s'", r.log);
}
END_TEST

START_TEST(test_log_session_lines)
{
	/* one line at the start and one at the end of a session */
	struct h_result r;
	size_t i, lines = 0;

	h_run(&r, NULL, "NOOP\r\nQUIT\r\n");
	for (i = 0; i < r.loglen; i++)
		lines += r.log[i] == '\n';
	ck_assert_msg(lines == 2, "%zu log lines: '%s'", lines, r.log);
}
END_TEST

START_TEST(test_log_escaped)
{
	/* client octets never reach the log raw */
	static const char in[] = "EHLO c\x01\x1b[31m.example\r\n"
	    "EHLO c.example\r\nFOO \x1b]0;x\x07\r\n"
	    "MAIL FROM:<s\xc3\xbc\\\"@x.example> SMTPUTF8\r\n"
	    "MAIL FROM:<\"s\\\"\xc3\xbc\"@x.example> SMTPUTF8\r\n"
	    "RCPT TO:<\"a\\\\b\xc3\xa9\"@mx.example>\r\n"
	    "RCPT TO:<\"\x7f\"@mx.example>\r\nDATA\r\n" H_MSG ".\r\nQUIT\r\n";
	struct h_result r;

	h_runn(&r, NULL, in, sizeof(in) - 1);
	ck_assert_int_eq(h_count(h_dir), 1);
	h_assert_log_clean(r.log, r.loglen);
	ck_assert_ptr_null(strstr(r.log, "\x1b"));
}
END_TEST

/* count - occurrences of needle in the line of log that starts at line */
static int
count_in_line(const char *line, const char *needle)
{
	const char *end = strchr(line, '\n'), *p = line;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL && (end == NULL || p < end)) {
		n++;
		p += strlen(needle);
	}
	return n;
}

START_TEST(test_log_fields_not_forged)
{
	/* a quoted local part that spells out the fields after to=<...> is
	 * logged quoted and escaped: one to=, one from=, one client= */
	static const char forged[] = "\"v>, from=<boss@corp>, "
	    "client=[10.1.1.1], status=sent (exit 0) X=<\"";
	struct h_opts o = { .env = { "PROTO=TCP", "TCPREMOTEIP=192.0.2.7" } };
	struct h_result r;
	char *line, *want;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG,
	    h_strf("<%s@mx.example>", forged), NULL));
	ck_assert_str_eq(h_codes(r.out), h_want(1, "250 2.0.0"));
	want = h_strf("%s: to=<\"v\\x3e\\x2c from=\\x3cboss@corp\\x3e\\x2c "
	    "client=\\x5b10.1.1.1\\x5d\\x2c status=sent \\x28exit 0\\x29 "
	    "X=\\x3c\"@mx.example>, from=<s@x.example>, client=[192.0.2.7], ",
	    h_env(h_dir, 1, "QUEUE_ID"));
	line = strstr(r.log, want);
	ck_assert_msg(line != NULL, "no line with '%s' in '%s'", want, r.log);
	ck_assert_int_eq(count_in_line(line, "to=<"), 1);
	ck_assert_int_eq(count_in_line(line, "from=<"), 1);
	ck_assert_int_eq(count_in_line(line, "client=["), 1);
	ck_assert_msg(log_match(line, "^[^\n]*, dsn=2\\.0\\.0, status=sent "
	    "\\(exit 0\\)$"),
	    "'%s'", line);
	h_assert_log_clean(r.log, r.loglen);
}
END_TEST

START_TEST(test_log_output_escaped)
{
	/* the command's text cannot add a field or close the parenthesis */
	struct h_opts o = { .cmd = { "--", "/bin/sh", "-c", "cat >/dev/null; "
	    "echo 'full), to=<x@y>, client=[1.2.3.4], status=sent (exit 0'; "
	    "exit 73", "sh" } };
	struct h_result r;
	char *line;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<u@mx.example>", NULL));
	line = strstr(r.log, "to=<u@mx.example>");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(count_in_line(line, "to=<"), 1);
	ck_assert_int_eq(count_in_line(line, "client=["), 1);
	ck_assert_msg(log_match(line, "^to=<u@mx\\.example>, from=<s@x\\."
	    "example>, client=\\[unknown\\], size=[0-9]+, delay=[0-9.]+, "
	    "dsn=5\\.[0-9]\\.[0-9]+, status=bounced \\(exit 73: full\\\\x29\\\\x2c to=\\\\x3cx@y"
	    "\\\\x3e\\\\x2c client=\\\\x5b1\\.2\\.3\\.4\\\\x5d\\\\x2c "
	    "status=sent \\\\x28exit 0\\)$"), "'%s'", line);
}
END_TEST

START_TEST(test_log_syslog_default)
{
	/* without --log-stderr nothing goes to stderr, which may be the
	 * client's socket under inetd */
	struct h_opts o = { .bare = 1, .args = { "--hostname", H_HOST,
	    h_root() ? "--allow-root" : "--crlf" },
	    .cmd = { "--", H_RECORDER, h_dir } };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<exit75@mx.example>",
	    NULL));
	ck_assert_int_eq(h_count(h_dir), 1);
	ck_assert_msg(r.loglen == 0, "stderr: '%s'", r.log);
}
END_TEST

/* ---- reject lines, in Postfix's shape, for log watchers ---- */

/* The client identity of the reject tests: host and address as
 * tcpserver gives them. */
#define REJ_ENV	{ "PROTO=TCP", "TCPREMOTEIP=192.0.2.7", \
		  "TCPREMOTEHOST=relay.sender.example" }
#define REJ_FROM	"from relay.sender.example[192.0.2.7]: "

/* reject_id - the queue id field of the one log line that holds
 * ": reject: " + want and ends there; fails the test without one */
static char *
reject_id(const char *log, const char *want)
{
	const char *p = log, *start;
	char *needle = h_strf(": reject: %s\n", want);

	p = strstr(log, needle);
	ck_assert_msg(p != NULL, "no line '... reject: %s' in '%s'", want,
	    log);
	ck_assert_ptr_null(strstr(p + 1, needle));	/* only one */
	for (start = p; start > log && start[-1] != ' '; start--)
		continue;
	return h_strf("%.*s", (int)(p - start), start);
}

/* count_str - occurrences of needle in hay */
static int
count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

START_TEST(test_reject_envelope)
{
	/* MAIL and RCPT refusals, each one line; syntax errors and the
	 * accepted recipient none; the transaction's queue id once MAIL
	 * has opened one, NOQUEUE for a refused MAIL */
	struct h_opts o = { .env = REJ_ENV, .args = { "--max-size", "1000" } };
	struct h_result r;
	char *qid;

	h_run(&r, &o, "EHLO client.example\r\n"
	    "MAIL FROM:<s@x.example> SIZE=5000\r\n"
	    "MAIL FROM:<s@x.example\r\n"
	    "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@other.example>\r\n"
	    "RCPT TO:<-x@mx.example>\r\nRCPT TO:<bad\r\n"
	    "RCPT TO:<u@mx.example> X=1\r\nRCPT TO:<u@mx.example>\r\n"
	    "DATA\r\n" H_MSG ".\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|552 5.3.4|501 5.1.7|"
	    "250 2.1.0|550 5.7.1|550 5.1.3|501 5.1.3|555 5.5.4|250 2.1.5|354|"
	    "250 2.0.0|221 2.0.0");
	qid = h_env(h_dir, 1, "QUEUE_ID");
	ck_assert_str_eq(reject_id(r.log, "MAIL " REJ_FROM "552 5.3.4 Message "
	    "size exceeds fixed limit; from=<s@x.example> proto=ESMTP "
	    "helo=<client.example>"), "NOQUEUE");
	ck_assert_str_eq(reject_id(r.log, "RCPT " REJ_FROM "550 5.7.1 "
	    "<a@other.example>: Relay access denied; from=<s@x.example> "
	    "to=<a@other.example> proto=ESMTP helo=<client.example>"), qid);
	ck_assert_str_eq(reject_id(r.log, "RCPT " REJ_FROM "550 5.1.3 "
	    "<-x@mx.example>: Recipient address rejected: unsafe local part; "
	    "from=<s@x.example> to=<-x@mx.example> proto=ESMTP "
	    "helo=<client.example>"), qid);
	ck_assert_int_eq(count_str(r.log, ": reject: "), 3);
	h_assert_log_clean(r.log, r.loglen);
}
END_TEST

START_TEST(test_reject_unknown_user)
{
	/* --local-users: no such account; proto=SMTP after HELO */
	struct h_opts o = { .env = REJ_ENV, .args = { "--local-users",
	    "--postmaster", "nobody" } };
	struct h_result r;
	char *qid;

	h_run(&r, &o, "HELO client.example\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<nosuchuser4711@mx.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.1.1|"
	    "221 2.0.0");
	qid = reject_id(r.log, "RCPT " REJ_FROM "550 5.1.1 "
	    "<nosuchuser4711@mx.example>: Recipient address rejected: no such "
	    "user; from=<> to=<nosuchuser4711@mx.example> proto=SMTP "
	    "helo=<client.example>");
	ck_assert_msg(qid[0] != '\0' && strspn(qid, "0123456789ABCDEF") ==
	    strlen(qid), "queue id '%s'", qid);
}
END_TEST

START_TEST(test_reject_rcpt_check)
{
	/* --rcpt-check's refusals, permanent and temporary, as replied */
	struct h_opts o = { .env = REJ_ENV, .args = { "--rcpt-check",
	    h_strf("%s %s %%r", H_RECORDER, h_subdir("check")) } };
	struct h_result r;
	char *l67, *l75;

	h_run(&r, &o, "EHLO client.example\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<exit67@mx.example>\r\nRCPT TO:<exit75@mx.example>\r\n"
	    "QUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.1.1|"
	    "450 4.2.1|221 2.0.0");
	l67 = h_line(r.out, 3);
	l75 = h_line(r.out, 4);
	l67[strcspn(l67, "\r\n")] = '\0';
	l75[strcspn(l75, "\r\n")] = '\0';
	reject_id(r.log, h_strf("RCPT " REJ_FROM "%s; from=<s@x.example> "
	    "to=<exit67@mx.example> proto=ESMTP helo=<client.example>", l67));
	reject_id(r.log, h_strf("RCPT " REJ_FROM "%s; from=<s@x.example> "
	    "to=<exit75@mx.example> proto=ESMTP helo=<client.example>", l75));
}
END_TEST

/* A message-wide refusal and the reject line it must give. */
struct msg_reject_case {
	const char *args[4];
	const char *input;	/* after EHLO/LHLO */
	const char *line;	/* after ": reject: " */
};

static const struct msg_reject_case msg_reject_cases[] = {
	{ { "--max-size", "10" }, "MAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nDATA\r\n" H_MSG ".\r\n",
	  "END-OF-MESSAGE " REJ_FROM "552 5.3.4 Message size exceeds fixed "
	  "limit; from=<s@x.example> to=<u@mx.example> proto=ESMTP "
	  "helo=<client.example>" },
	{ { "--max-hops", "1" }, "MAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nRCPT TO:<v@mx.example>\r\nDATA\r\n"
	  H_MSG_HOPS2 ".\r\n",
	  "END-OF-MESSAGE " REJ_FROM "554 5.4.6 Too many hops: mail loop?; "
	  "from=<s@x.example> proto=ESMTP helo=<client.example>" },
	{ { "--strict-newlines" }, "MAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nBDAT 23 LAST\r\n" H_MSG_BARE_LF,
	  "END-OF-MESSAGE " REJ_FROM "554 5.6.0 Message contains bare CR or "
	  "bare LF; from=<s@x.example> to=<u@mx.example> proto=ESMTP "
	  "helo=<client.example>" },
	{ { "--max-size", "10" }, "MAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nBDAT 20\r\n01234567890123456789",
	  "BDAT " REJ_FROM "552 5.3.4 Message size exceeds fixed limit; "
	  "from=<s@x.example> to=<u@mx.example> proto=ESMTP "
	  "helo=<client.example>" },
	{ { "--lmtp", "--max-size", "10" }, "MAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<u@mx.example>\r\nRCPT TO:<v@mx.example>\r\nDATA\r\n"
	  H_MSG ".\r\n",
	  "END-OF-MESSAGE " REJ_FROM "552 5.3.4 Message size exceeds fixed "
	  "limit; from=<s@x.example> proto=LMTP helo=<client.example>" },
};

START_TEST(test_reject_message)
{
	const struct msg_reject_case *c = &msg_reject_cases[_i];
	struct h_opts o = { .env = REJ_ENV };
	struct h_result r;
	size_t i;

	for (i = 0; c->args[i] != NULL; i++)
		o.args[i] = c->args[i];
	h_run(&r, &o, h_strf("%s client.example\r\n%sQUIT\r\n",
	    c->args[0] != NULL && strcmp(c->args[0], "--lmtp") == 0 ?
	    "LHLO" : "EHLO", c->input));
	ck_assert_int_eq(h_count(h_dir), 0);
	reject_id(r.log, c->line);
	ck_assert_int_eq(count_str(r.log, ": reject: "), 1);
}
END_TEST

START_TEST(test_reject_escaped)
{
	/* the HELO name and a quoted local part that spell out fields are
	 * escaped: the line keeps one from=, one to=, one helo= */
	struct h_opts o = { .env = REJ_ENV };
	struct h_result r;
	char *qid;

	h_run(&r, &o, "EHLO c>;(x)[y]\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<\"a> from=<b@c> to=<d\"@other.example>\r\nQUIT\r\n");
	ck_assert_str_eq(h_codes(r.out), "220|250|250 2.1.0|550 5.7.1|"
	    "221 2.0.0");
	qid = reject_id(r.log, "RCPT " REJ_FROM "550 5.7.1 "
	    "<\"a\\x3e from=\\x3cb@c\\x3e to=\\x3cd\"@other.example>: Relay "
	    "access denied; from=<s@x.example> to=<\"a\\x3e from=\\x3cb@c\\x3e "
	    "to=\\x3cd\"@other.example> proto=ESMTP helo=<c\\x3e;\\x28x\\x29"
	    "\\x5by\\x5d>");
	ck_assert(qid[0] != '\0');
	h_assert_log_clean(r.log, r.loglen);
}
END_TEST

START_TEST(test_reject_none_clean)
{
	/* a clean session and a failed delivery log no reject line */
	struct h_opts o = { .env = REJ_ENV };
	struct h_result r;

	h_run(&r, &o, h_txn("<s@x.example>", H_MSG, "<ok@mx.example>",
	    "<exit75@mx.example>", "<exit1@mx.example>", NULL));
	ck_assert_int_eq(h_count(h_dir), 3);
	ck_assert_ptr_null(strstr(r.log, "reject"));
}
END_TEST

/* ---- why the session ended, for log watchers such as fail2ban ---- */

struct end_case {
	const char *args[4];
	int keep_open;		/* the server must end it on its own */
	const char *input;
	const char *want;	/* the disconnect line from "commands=" */
};

static const struct end_case end_cases[] = {
	{ { NULL }, 0, "EHLO c.example\r\nNOOP\r\nQUIT\r\n",
	  "commands=3 errors=0 messages=0" },
	{ { NULL }, 0, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<a@other.example>\r\nRCPT TO:<u@mx.example>\r\n"
	  "RCPT TO:<b@mx.example.evil>\r\nQUIT\r\n",
	  "commands=6 errors=2 messages=0 relay=2" },
	{ { "--max-errors", "2" }, 1, "FOO\r\nNOOP\r\nBAR\r\n",
	  "commands=3 errors=2 messages=0 end=errors" },
	{ { "--max-errors", "2" }, 1, "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<a@other.example>\r\n"
	  "RCPT TO:<b@other.example>\r\n",
	  "commands=4 errors=2 messages=0 relay=2 end=errors" },
	{ { "--greet-pause", "1" }, 1, "EHLO c.example\r\n",
	  "commands=0 errors=0 messages=0 end=pregreet" },
	{ { "--timeout", "1" }, 1, "EHLO c.example\r\n",
	  "commands=1 errors=0 messages=0 end=timeout" },
	{ { "--timeout", "1" }, 1, "EHLO c.example\r\n"
	  "MAIL FROM:<s@x.example>\r\nRCPT TO:<u@mx.example>\r\n"
	  "DATA\r\nSubject: x\r\n\r\nhalf",
	  "commands=4 errors=0 messages=0 end=timeout" },
	/* a delivery that fails is the command's doing, not the client's */
	{ { NULL }, 0, "EHLO c.example\r\nMAIL FROM:<s@x.example>\r\n"
	  "RCPT TO:<exit75@mx.example>\r\nDATA\r\n" H_MSG ".\r\n"
	  "QUIT\r\n", "commands=5 errors=0 messages=1" },
};

START_TEST(test_log_end_reason)
{
	const struct end_case *c = &end_cases[_i];
	struct h_opts o = { .keep_open = c->keep_open };
	struct h_result r;
	const char *line;
	size_t i;

	for (i = 0; c->args[i] != NULL; i++)
		o.args[i] = c->args[i];
	h_run(&r, &o, c->input);
	line = strstr(r.log, "]: disconnect from ");
	ck_assert_msg(line != NULL, "case %d: '%s'", _i, r.log);
	line = strstr(line, " commands=");
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strncmp(line + 1, c->want, strlen(c->want)) == 0 &&
	    line[1 + strlen(c->want)] == '\n', "case %d: want '%s', log '%s'",
	    _i, c->want, r.log);
	ck_assert_int_eq(r.code, 0);
}
END_TEST

Suite *
session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = h_tcase("pipelining");

	tcase_add_test(tc, test_pipeline_one_write);
	tcase_add_test(tc, test_pipeline_group_flushed);
	tcase_add_test(tc, test_lock_step);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_pipeline_many);
	suite_add_tcase(s, tc);

	tc = h_tcase("disconnect");
	tcase_add_loop_test(tc, test_disconnect_mid_data, 0,
	    sizeof(cut_points) / sizeof(cut_points[0]));
	tcase_add_test(tc, test_disconnect_elsewhere);
	tcase_add_test(tc, test_lost_reply_logged);
	suite_add_tcase(s, tc);

	tc = h_tcase("identity");
	tcase_add_loop_test(tc, test_identity, 0,
	    sizeof(identity_cases) / sizeof(identity_cases[0]));
	tcase_add_test(tc, test_identity_inetd);
	suite_add_tcase(s, tc);

	tc = h_tcase("logging");
	tcase_add_test(tc, test_log_delivery_line);
	tcase_add_test(tc, test_log_failure_lines);
	tcase_add_test(tc, test_log_session_lines);
	tcase_add_test(tc, test_log_escaped);
	tcase_add_test(tc, test_log_fields_not_forged);
	tcase_add_test(tc, test_log_output_escaped);
	tcase_add_test(tc, test_log_syslog_default);
	tcase_add_loop_test(tc, test_log_end_reason, 0,
	    sizeof(end_cases) / sizeof(end_cases[0]));
	suite_add_tcase(s, tc);

	tc = h_tcase("reject lines");
	tcase_add_test(tc, test_reject_envelope);
	tcase_add_test(tc, test_reject_unknown_user);
	tcase_add_test(tc, test_reject_rcpt_check);
	tcase_add_loop_test(tc, test_reject_message, 0,
	    sizeof(msg_reject_cases) / sizeof(msg_reject_cases[0]));
	tcase_add_test(tc, test_reject_escaped);
	tcase_add_test(tc, test_reject_none_clean);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * unit_accept.c - accept_rcpt(): a new RCPT to the transaction's
 * deliveries, or the verdict that refuses it.
 *
 * A stub deliverer answers the account test by local part: "gone" is
 * no such account (0), "broken" a failed lookup (-1, EIO), anything
 * else an account that may receive (1); it notes each user asked.  Its
 * --rcpt-check refuses "unwanted" with 550 5.7.1 and accepts the rest,
 * noting what the client had been sent when it ran.  Each test checks
 * the verdict, its reply, what the recipients hold afterwards (a
 * refused RCPT leaves nothing), and the warnings logged, whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "aliases.h"
#include "support.h"
#include "unit.h"

#define QUEUE_ID	"1A2B3C"
#define PENDING		"250 2.1.0 Ok\r\n"	/* a reply not yet sent */

/* One transaction's RCPTs through accept_rcpt(), and what the stub
 * deliverer and the client saw. */
struct fixture {
	struct config cfg;
	struct support_conn conn;	/* the client */
	struct chat_io io;
	struct chat *chat;
	struct session_deliverer del;
	struct recipients rcpts;
	struct address sender;
	struct aliases *al;
	char asked[256];		/* account(): each user and '|' */
	struct received_msg facts;	/* the transaction's, as the
					   session gives them */
	size_t nrcpt_at_screen;		/* RCPTs the facts counted then */
	char first_at_screen[2 * ADDR_PART_MAX + 2];	/* the first RCPT they named */
	int screens;			/* screen() calls */
	size_t sent_at_screen;		/* octets the client had then */
	struct outcome_reply no;
	struct support_log log;
};

static struct fixture f;

/* stub_account - account() by local part: "gone" 0, "broken" -1 with
 * EIO, anything else 1 */
static int
stub_account(void *ctx, const struct config *cfg, const char *user)
{
	size_t n = strlen(f.asked);

	(void)ctx;
	(void)cfg;
	snprintf(f.asked + n, sizeof(f.asked) - n, "%s|", user);
	if (strcmp(user, "gone") == 0)
		return 0;
	if (strcmp(user, "broken") == 0) {
		errno = EIO;
		return -1;
	}
	return 1;
}

/* stub_screen - --rcpt-check: "unwanted" refused for good, the rest
 * accepted */
static void
stub_screen(void *ctx, const struct config *cfg,
    const struct received_msg *m, const struct address *rcpt,
    struct outcome *out)
{
	(void)ctx;
	(void)cfg;
	ck_assert_str_eq(m->queue_id, QUEUE_ID);
	f.screens++;
	f.sent_at_screen = f.conn.out.len;
	f.nrcpt_at_screen = m->nrcpt;
	snprintf(f.first_at_screen, sizeof(f.first_at_screen), "%s",
	    m->first->addr);
	if (strcmp(rcpt->user, "unwanted") == 0) {
		out->cls = OUT_PERM;
		snprintf(out->dsn, sizeof(out->dsn), "5.7.1");
		snprintf(out->text, sizeof(out->text), "not here");
	} else {
		out->cls = OUT_DELIVERED;
		snprintf(out->dsn, sizeof(out->dsn), "2.1.5");
	}
}

/* parsed - a path as RCPT gives it, in the internal form */
static struct address
parsed(const char *path)
{
	struct address a;
	size_t used;

	ck_assert_int_eq(address_parse(path, strlen(path), 0, &a, &used),
	    ADDR_OK);
	return a;
}

/* start - a fresh transaction: the defaults with --local-users, the
 * aliases text makes (NULL: none), a reply pending for the client */
static void
start(const char *aliases)
{
	char err[ALIASES_ERR_MAX];

	memset(&f, 0, sizeof(f));
	config_defaults(&f.cfg);
	f.cfg.local_users = 1;
	if (aliases != NULL) {
		f.al = support_aliases(aliases, err, sizeof(err));
		ck_assert_msg(f.al != NULL, "%s", err);
		f.cfg.aliases = f.al;
	}
	support_conn_start(&f.conn, "", 0, 0);
	support_conn_io(&f.conn, &f.io);
	f.chat = malloc(sizeof(*f.chat));
	ck_assert_ptr_nonnull(f.chat);
	chat_init(f.chat, &f.io, &f.cfg);
	chat_reply(f.chat, 0, 250, "2.1.0", "Ok");
	f.del.account = stub_account;
	f.del.screen = stub_screen;
	recipients_init(&f.rcpts);
	f.sender = parsed("<s@x.test>");
	f.facts.sender = &f.sender;
	f.facts.helo = "c.test";
	f.facts.with = "ESMTP";
	f.facts.queue_id = QUEUE_ID;
}

/* start_checked - start(), with --rcpt-check */
static void
start_checked(const char *aliases)
{
	static char check_word[] = "check";
	static char *check[] = { check_word, NULL };

	start(aliases);
	f.cfg.rcpt_check = check;
}

/* finish - what start() took */
static void
finish(void)
{
	recipients_free(&f.rcpts);
	support_conn_free(&f.conn);
	free(f.chat);
	if (f.al != NULL)
		aliases_free(f.al);
}

/* offer_logged - accept_rcpt() on path, what it logged into *logged */
static enum accept_verdict
offer_logged(const char *path, const char **logged)
{
	struct accept_job j = { &f.cfg, &f.del, f.chat, &f.rcpts, QUEUE_ID,
	    &f.facts };
	struct address rcpt = parsed(path);
	enum accept_verdict v;

	ck_assert_int_eq(support_log_start(&f.log), 0);
	v = accept_rcpt(&j, &rcpt, &f.no);
	*logged = support_log_end(&f.log);
	return v;
}

/* offer - accept_rcpt() on path, which logs nothing */
static enum accept_verdict
offer(const char *path)
{
	const char *logged;
	enum accept_verdict v = offer_logged(path, &logged);

	ck_assert_str_eq(logged, "");
	return v;
}

/* log_line - one line as the unit tests log it */
static const char *
log_line(const char *text)
{
	static char line[512];

	snprintf(line, sizeof(line), "pipesmtpd[%ld]: %s\n", (long)getpid(),
	    text);
	return line;
}

/* refused_with - the verdict's reply is code, dsn and text */
static void
refused_with(int code, const char *dsn, const char *text)
{
	ck_assert_int_eq(f.no.code, code);
	ck_assert_str_eq(f.no.dsn, dsn);
	ck_assert_str_eq(f.no.text, text);
}

/* fill - n plain RCPTs offered, each accepted */
static void
fill(size_t n)
{
	char rcpt[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "<u%zu@mx.test>", i);
		ck_assert_int_eq(offer(rcpt), ACCEPT_OK);
	}
}

/* holds - the recipients hold n RCPTs and nd deliveries */
static void
holds(size_t n, size_t nd)
{
	ck_assert_uint_eq(f.rcpts.n, n);
	ck_assert_uint_eq(f.rcpts.nd, nd);
}

START_TEST(test_account_may_receive)
{
	/* the account test says yes: the RCPT and its one delivery kept;
	 * no --rcpt-check, so the pending reply is not flushed for it */
	struct address a;

	start(NULL);
	ck_assert_int_eq(offer("<Bob+x@mx.test>"), ACCEPT_OK);
	ck_assert_str_eq(f.asked, "bob|");	/* %u: lower case */
	holds(1, 1);
	recipients_target(&f.rcpts, 0, &a);
	ck_assert_str_eq(a.addr, "Bob+x@mx.test");
	ck_assert_int_eq(f.screens, 0);
	ck_assert_uint_eq(f.conn.out.len, 0);
	finish();
}
END_TEST

START_TEST(test_account_none)
{
	/* no such account: 550 5.1.1, nothing kept, no warning (the
	 * client's own name) */
	start(NULL);
	ck_assert_int_eq(offer("<a@mx.test>"), ACCEPT_OK);
	ck_assert_int_eq(offer("<gone@mx.test>"), ACCEPT_REFUSED);
	refused_with(550, "5.1.1", "Recipient address rejected: no such user");
	ck_assert_str_eq(f.asked, "a|gone|");
	holds(1, 1);
	finish();
}
END_TEST

START_TEST(test_account_lookup_fails)
{
	/* a failed lookup is temporary, and logged with its reason */
	const char *logged;

	start(NULL);
	ck_assert_int_eq(offer_logged("<broken@mx.test>", &logged),
	    ACCEPT_REFUSED);
	refused_with(451, "4.3.0", "Recipient address rejected: temporary "
	    "lookup failure");
	ck_assert_str_eq(logged, log_line(QUEUE_ID ": account lookup for "
	    "broken failed: Input/output error"));
	holds(0, 0);
	finish();
}
END_TEST

START_TEST(test_account_not_asked)
{
	/* without --local-users and --as-recipient no account is asked
	 * for; with --as-recipient alone it is */
	start(NULL);
	f.cfg.local_users = 0;
	ck_assert_int_eq(offer("<gone@mx.test>"), ACCEPT_OK);
	ck_assert_str_eq(f.asked, "");
	f.cfg.as_recipient = 1;
	ck_assert_int_eq(offer("<gone+x@mx.test>"), ACCEPT_REFUSED);
	ck_assert_str_eq(f.asked, "gone|");
	holds(1, 1);
	finish();
}
END_TEST

START_TEST(test_postmaster_account)
{
	/* postmaster is the --postmaster account's to receive; one that
	 * cannot is logged as a wrong alias target would be */
	const char *logged;

	start(NULL);
	f.cfg.postmaster = "gone";
	ck_assert_int_eq(offer_logged("<Postmaster@mx.test>", &logged),
	    ACCEPT_REFUSED);
	refused_with(550, "5.1.1", "Recipient address rejected: no such user");
	ck_assert_str_eq(logged, log_line(QUEUE_ID ": warning: alias target "
	    "gone is no account that can receive"));
	f.cfg.postmaster = "root";
	ck_assert_int_eq(offer("<postmaster@mx.test>"), ACCEPT_OK);
	ck_assert_str_eq(f.asked, "gone|root|");
	holds(1, 1);
	finish();
}
END_TEST

START_TEST(test_alias_targets)
{
	/* each target a delivery of its own, each asked for; a target
	 * shared with an earlier RCPT is one delivery; the RCPT's
	 * +extension goes with each target */
	struct address a;

	start("list: a, b\n");
	ck_assert_int_eq(offer("<b@mx.test>"), ACCEPT_OK);
	ck_assert_int_eq(offer("<list@mx.test>"), ACCEPT_OK);
	ck_assert_str_eq(f.asked, "b|a|b|");
	holds(2, 2);
	ck_assert_int_eq(offer("<list+x@mx.test>"), ACCEPT_OK);
	holds(3, 4);
	recipients_target(&f.rcpts, 2, &a);
	ck_assert_str_eq(a.addr, "a+x@mx.test");
	finish();
}
END_TEST

START_TEST(test_alias_target_no_account)
{
	/* a target that is no account refuses the whole RCPT, its other
	 * targets taken back too; the file is wrong, so it is logged */
	const char *logged;

	start("list: a, gone, c\n");
	ck_assert_int_eq(offer_logged("<list@mx.test>", &logged),
	    ACCEPT_REFUSED);
	refused_with(550, "5.1.1", "Recipient address rejected: no such user");
	ck_assert_str_eq(logged, log_line(QUEUE_ID ": warning: alias target "
	    "gone is no account that can receive"));
	ck_assert_str_eq(f.asked, "a|gone|");
	holds(0, 0);
	finish();
}
END_TEST

START_TEST(test_alias_too_long)
{
	/* a target whose local part, with the RCPT's +extension, would not
	 * fit an address (ADDR_PART_MAX): 550 5.1.3, nothing kept, the
	 * targets after it not asked for */
	char aliases[128], rcpt[ADDR_PART_MAX + 16];
	size_t ext = ADDR_PART_MAX - ALIASES_NAME_MAX;	/* one too many */

	snprintf(aliases, sizeof(aliases), "list: a, %0*d, b\n",
	    ALIASES_NAME_MAX, 0);
	snprintf(rcpt, sizeof(rcpt), "<list+%0*d@mx.test>", (int)ext, 0);
	start(aliases);
	ck_assert_int_eq(offer(rcpt), ACCEPT_REFUSED);
	refused_with(550, "5.1.3", "Recipient address rejected: too long for "
	    "its alias");
	ck_assert_str_eq(f.asked, "a|");
	holds(0, 0);
	/* one octet shorter fits */
	snprintf(rcpt, sizeof(rcpt), "<list+%0*d@mx.test>", (int)ext - 1, 0);
	ck_assert_int_eq(offer(rcpt), ACCEPT_OK);
	holds(1, 3);
	finish();
}
END_TEST

/* The bound on deliveries: --max-rcpt, and the deliveries the
 * transaction may hold (10,000, or --max-rcpt if larger). */
static const unsigned bounds[][2] = { { 100, 10000 }, { 10002, 10002 } };

START_TEST(test_deliveries_bound)
{
	/* up to the bound, each RCPT one delivery; one more is too many,
	 * and kept nowhere */
	size_t bound = bounds[_i][1];

	start(NULL);
	f.cfg.local_users = 0;
	f.cfg.max_rcpt = bounds[_i][0];
	fill(bound);
	ck_assert_int_eq(offer("<one.more@mx.test>"), ACCEPT_TOO_MANY);
	holds(bound, bound);
	finish();
}
END_TEST

/* list_of - an aliases entry "name: t0, t1, ..." of n targets */
static char *
list_of(const char *name, size_t n)
{
	size_t cap = strlen(name) + 16 + n * 12, len, i;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	len = (size_t)snprintf(s, cap, "%s: t0", name);
	for (i = 1; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, ", t%zu", i);
	snprintf(s + len, cap - len, "\n");
	return s;
}

START_TEST(test_alias_list_bound)
{
	/* a list longer than the bound is too many at once; one that
	 * passes it only with the deliveries before it is too, and its
	 * targets are taken back */
	char *aliases = list_of("huge", 10001);

	start(aliases);
	free(aliases);
	ck_assert_int_eq(offer("<huge@mx.test>"), ACCEPT_TOO_MANY);
	holds(0, 0);
	finish();
	aliases = list_of("pair", 2);
	start(aliases);
	free(aliases);
	f.cfg.local_users = 0;
	fill(9999);
	ck_assert_int_eq(offer("<pair@mx.test>"), ACCEPT_TOO_MANY);
	holds(9999, 9999);
	finish();
}
END_TEST

START_TEST(test_screen_refuses)
{
	/* --rcpt-check runs after the account test, on the RCPT as the
	 * client gave it, with the RCPT among the recipients, and only
	 * once the pending reply has been sent; its refusal takes the RCPT
	 * back */
	start_checked("unwanted: a\n");
	ck_assert_int_eq(offer("<unwanted@mx.test>"), ACCEPT_REFUSED);
	refused_with(550, "5.7.1", "Recipient address rejected: not here");
	ck_assert_str_eq(f.asked, "a|");
	ck_assert_int_eq(f.screens, 1);
	ck_assert_uint_eq(f.nrcpt_at_screen, 1);
	ck_assert_str_eq(f.first_at_screen, "unwanted@mx.test");
	ck_assert_uint_eq(f.sent_at_screen, strlen(PENDING));
	ck_assert_str_eq(f.conn.out.buf, PENDING);
	holds(0, 0);
	ck_assert_int_eq(offer("<b@mx.test>"), ACCEPT_OK);
	ck_assert_int_eq(f.screens, 2);
	holds(1, 1);
	finish();
}
END_TEST

START_TEST(test_screen_not_reached)
{
	/* an RCPT the account test refuses is never screened, and the
	 * pending reply waits in the buffer as before */
	start_checked(NULL);
	ck_assert_int_eq(offer("<gone@mx.test>"), ACCEPT_REFUSED);
	ck_assert_int_eq(f.screens, 0);
	ck_assert_uint_eq(f.conn.out.len, 0);
	finish();
}
END_TEST

Suite *
accept_suite(void)
{
	Suite *s = suite_create("accept");
	TCase *tc = tcase_create("verdicts");

	tcase_add_test(tc, test_account_may_receive);
	tcase_add_test(tc, test_account_none);
	tcase_add_test(tc, test_account_lookup_fails);
	tcase_add_test(tc, test_account_not_asked);
	tcase_add_test(tc, test_postmaster_account);
	tcase_add_test(tc, test_alias_targets);
	tcase_add_test(tc, test_alias_target_no_account);
	tcase_add_test(tc, test_alias_too_long);
	tcase_add_loop_test(tc, test_deliveries_bound, 0,
	    (int)(sizeof(bounds) / sizeof(bounds[0])));
	tcase_add_test(tc, test_alias_list_bound);
	tcase_add_test(tc, test_screen_refuses);
	tcase_add_test(tc, test_screen_not_reached);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * smtpd.c - pipesmtpd's set-up: options, defaults, the client's identity,
 * privileges and logging; then one session, wired together here: the
 * protocol (session.c) over the transport on fds 0 and 1 (fdio.c),
 * delivering by command (deliver.c; jobs.c under --jobs) after the
 * --rcpt-check and --data-check commands (checks.c).
 *
 * Entry point: main().  Order matters and is fixed: descriptors made safe,
 * inherited signal state undone, options parsed and checked (exit 64 on
 * any doubt), identity taken from the launcher, logging opened,
 * privileges dropped, the uid 0 rule enforced (exit 78), the --aliases
 * file read (exit 78 if it is refused), postmaster@ checked to reach an
 * account, and only then a byte read from the client.  Every failure on
 * the way leaves through startup_fail(), which never writes the client
 * more than one 421 line.  No DNS, no configuration file but --aliases,
 * no locale.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.h"
#include "address.h"
#include "aliases.h"
#include "authres.h"
#include "checks.h"
#include "command.h"
#include "config.h"
#include "deliver.h"
#include "fdio.h"
#include "jobs.h"
#include "log.h"
#include "proxy.h"
#include "run.h"
#include "session.h"
#include "tls.h"

#define MAX_UID		4294967294UL	/* (uid_t)-1 is no uid */

enum {
	OPT_HOSTNAME = 256, OPT_DOMAIN, OPT_MAX_SIZE, OPT_MAX_RCPT,
	OPT_MAX_ERRORS, OPT_TIMEOUT, OPT_MIN_DATA_RATE, OPT_SESSION_TIMEOUT,
	OPT_DELIVERY_TIMEOUT, OPT_JOBS, OPT_MAX_HOPS, OPT_SPOOL, OPT_RCPT_CHECK,
	OPT_CRLF, OPT_NO_RETURN_PATH, OPT_DELIVERED_TO, OPT_STRICT_NEWLINES,
	OPT_USER, OPT_ALLOW_ROOT, OPT_ENV, OPT_NULL_SENDER, OPT_GREET_PAUSE,
	OPT_LOG_STDERR, OPT_LMTP, OPT_AS_RECIPIENT, OPT_POSTMASTER,
	OPT_MIN_UID, OPT_LOCAL_USERS, OPT_REQUIRE_TLS, OPT_PROXY_PROTOCOL,
	OPT_ALIASES, OPT_DATA_CHECK, OPT_AUTHSERV_ID, OPT_HELP, OPT_VERSION
};

static const struct option options[] = {
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-rcpt", required_argument, NULL, OPT_MAX_RCPT },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "min-data-rate", required_argument, NULL, OPT_MIN_DATA_RATE },
	{ "session-timeout", required_argument, NULL, OPT_SESSION_TIMEOUT },
	{ "delivery-timeout", required_argument, NULL, OPT_DELIVERY_TIMEOUT },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "max-hops", required_argument, NULL, OPT_MAX_HOPS },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "rcpt-check", required_argument, NULL, OPT_RCPT_CHECK },
	{ "data-check", required_argument, NULL, OPT_DATA_CHECK },
	{ "authserv-id", required_argument, NULL, OPT_AUTHSERV_ID },
	{ "aliases", required_argument, NULL, OPT_ALIASES },
	{ "crlf", no_argument, NULL, OPT_CRLF },
	{ "no-return-path", no_argument, NULL, OPT_NO_RETURN_PATH },
	{ "delivered-to", no_argument, NULL, OPT_DELIVERED_TO },
	{ "strict-newlines", no_argument, NULL, OPT_STRICT_NEWLINES },
	{ "user", required_argument, NULL, OPT_USER },
	{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "null-sender", required_argument, NULL, OPT_NULL_SENDER },
	{ "greet-pause", required_argument, NULL, OPT_GREET_PAUSE },
	{ "log-stderr", no_argument, NULL, OPT_LOG_STDERR },
	{ "lmtp", no_argument, NULL, OPT_LMTP },
	{ "as-recipient", no_argument, NULL, OPT_AS_RECIPIENT },
	{ "postmaster", required_argument, NULL, OPT_POSTMASTER },
	{ "min-uid", required_argument, NULL, OPT_MIN_UID },
	{ "local-users", no_argument, NULL, OPT_LOCAL_USERS },
	{ "require-tls", no_argument, NULL, OPT_REQUIRE_TLS },
	{ "proxy-protocol", no_argument, NULL, OPT_PROXY_PROTOCOL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* An option whose value is a whole number in [min, max], stored in the
 * struct config member at offset, size octets wide (an unsigned, an
 * unsigned long or an unsigned long long). */
struct numeric_option {
	int id;				/* its OPT_ value */
	const char *name;		/* without the dashes */
	unsigned long long min, max;
	size_t offset, size;		/* the member it sets */
};

#define NUMERIC(id, name, min, max, member) { id, name, min, max, \
	offsetof(struct config, member), sizeof(((struct config *)0)->member) }

static const struct numeric_option numeric_options[] = {
	NUMERIC(OPT_MAX_SIZE, "max-size", 1, ULLONG_MAX / 4, max_size),
	NUMERIC(OPT_MAX_RCPT, "max-rcpt", 1, 100000, max_rcpt),
	NUMERIC(OPT_MAX_ERRORS, "max-errors", 1, 100000, max_errors),
	NUMERIC(OPT_TIMEOUT, "timeout", 1, 86400, timeout),
	NUMERIC(OPT_MIN_DATA_RATE, "min-data-rate", 1, 1000000000,
	    min_data_rate),
	NUMERIC(OPT_SESSION_TIMEOUT, "session-timeout", 1, 604800,
	    session_timeout),
	NUMERIC(OPT_DELIVERY_TIMEOUT, "delivery-timeout", 1, 86400,
	    delivery_timeout),
	NUMERIC(OPT_JOBS, "jobs", 1, RUN_JOBS_MAX, jobs),
	NUMERIC(OPT_MAX_HOPS, "max-hops", 0, 100000, max_hops),
	NUMERIC(OPT_GREET_PAUSE, "greet-pause", 0, 300, greet_pause),
	NUMERIC(OPT_MIN_UID, "min-uid", 0, MAX_UID, min_uid),
};

static const char usage_text[] =
"usage: pipesmtpd [options] [--] command [arg ...]\n"
"One SMTP session on stdin/stdout; command runs once per recipient.\n"
"  --hostname NAME          name in greeting, Received, logs\n"
"  --domain DOMAIN          accepted recipient domain (repeatable)\n"
"  --max-size BYTES         message size limit (10485760)\n"
"  --max-rcpt N             recipients per transaction (100)\n"
"  --max-errors N           error replies before 421 (20)\n"
"  --timeout SECONDS        limit for a command line, and DATA's (300)\n"
"  --min-data-rate OCTETS   octets/s that extend the DATA limit (500)\n"
"  --session-timeout SECONDS  limit for the whole session (3600)\n"
"  --delivery-timeout SECONDS limit per delivery command (300)\n"
"  --jobs N                 delivery commands run at once (1)\n"
"  --max-hops N             Received: headers allowed (100)\n"
"  --spool DIR              spool directory ($TMPDIR or /tmp)\n"
"  --rcpt-check COMMAND     run at RCPT: 0 accept, 67 550, 75 450\n"
"  --data-check COMMAND     run once per message before any delivery\n"
"  --authserv-id ID         remove Authentication-Results: claiming ID\n"
"  --aliases FILE           aliases(5) file: local parts to local names\n"
"  --crlf                   deliver with CRLF line ends\n"
"  --no-return-path         do not prepend Return-Path:\n"
"  --delivered-to           prepend Delivered-To:, refuse loops\n"
"  --strict-newlines        refuse bare CR or bare LF\n"
"  --user USER              drop to USER before reading input\n"
"  --allow-root             let delivery commands run as uid 0\n"
"  --as-recipient           run each command as the recipient's account\n"
"  --local-users            accept only accounts at RCPT (550 5.1.1)\n"
"  --postmaster USER        account that receives postmaster@\n"
"  --min-uid N              lowest uid that receives (1000)\n"
"  --env NAME[=VALUE]       pass a variable to the command (repeatable)\n"
"  --null-sender TEXT       %s and SENDER for <> (empty)\n"
"  --greet-pause SECONDS    wait before the greeting (0)\n"
"  --log-stderr             log to stderr instead of syslog\n"
"  --lmtp                   speak LMTP (RFC 2033): a reply per recipient\n"
"  --require-tls            530 to all but EHLO, NOOP, STARTTLS, QUIT before\n"
"                           TLS (private hops only)\n"
"  --proxy-protocol         read a PROXY header (v1/v2) from the balancer\n"
"  --help, --version\n"
"Placeholders: %s %r %u %l %e %d %i %h %q %%\n";

/* What startup_fail() may use of the options: set before the first is
 * read, so --hostname and --log-stderr count once they are parsed. */
static const struct config *startup_cfg;

/* system_hostname - the --hostname default: the system's host name (one
 * --hostname would refuse is localhost) */
static const char *
system_hostname(void)
{
	static char host[256];

	if (gethostname(host, sizeof(host) - 1) == -1 || host[0] == '\0' ||
	    host[0] == '-')
		snprintf(host, sizeof(host), "localhost");
	return host;
}

/* answer_unavailable - under a launcher, the client's one line before a
 * start-up failure closes the connection: 421, so the sender keeps the
 * mail.  The name is --hostname once parsed and checked, else the
 * system's; never anything the client sent. */
static int
answer_unavailable(void)
{
	const char *host = startup_cfg != NULL && startup_cfg->hostname !=
	    NULL ? startup_cfg->hostname : system_hostname();

	signal(SIGPIPE, SIG_IGN);	/* a client gone is EPIPE, not death */
	return dprintf(1, "421 4.3.0 %s Service not available\r\n", host);
}

/* startup_fail - the one way out before the session: exit with code
 * (64 usage, 78 configuration, 75 temporary, 70 internal).  By hand
 * (stdout a terminal) the reason goes to stderr, with the usage text for
 * 64.  Under a launcher stderr may be the client's socket (inetd): not a
 * byte goes there but the log's under --log-stderr; the client gets one
 * 421 (no stdout: /dev/null stands in, nobody hears it).  The reason is
 * logged unless it was a usage error typed at a terminal.  Nothing is
 * read from the client. */
static void __attribute__((noreturn, format(printf, 2, 3)))
startup_fail(int code, const char *fmt, ...)
{
	int by_hand = isatty(1), told = 1;
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
		snprintf(why, sizeof(why), "exit %d", code);
	va_end(ap);
	if (by_hand) {
		fprintf(stderr, "pipesmtpd: %s\n", why);
		if (code == EX_USAGE)
			fputs(usage_text, stderr);
	} else {
		told = answer_unavailable() >= 0;
	}
	if (!by_hand || code != EX_USAGE) {
		log_open(startup_cfg != NULL && startup_cfg->log_stderr);
		log_error("cannot start: %s%s", why, told ? "" :
		    " (the client was not told)");
	}
	exit(code);
}

/* number - a whole number in [min, max] or a usage error */
static unsigned long long
number(const char *opt, const char *s, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		startup_fail(EX_USAGE, "--%s: bad value '%s' (a number from "
		    "%llu to %llu)", opt, s, min, max);
	return v;
}

/* numeric_option - opt's row of numeric_options, or NULL */
static const struct numeric_option *
numeric_option(int opt)
{
	size_t i;

	for (i = 0; i < sizeof(numeric_options) / sizeof(numeric_options[0]);
	    i++)
		if (numeric_options[i].id == opt)
			return &numeric_options[i];
	return NULL;
}

/* store_number - v into the member of cfg that n names, at its width
 * (v is within n's range, which the member's type holds) */
static void
store_number(struct config *cfg, const struct numeric_option *n,
    unsigned long long v)
{
	char *member = (char *)cfg + n->offset;
	unsigned long ul = (unsigned long)v;
	unsigned u = (unsigned)v;

	if (n->size == sizeof(v))
		memcpy(member, &v, sizeof(v));
	else if (n->size == sizeof(ul))
		memcpy(member, &ul, sizeof(ul));
	else if (n->size == sizeof(u))
		memcpy(member, &u, sizeof(u));
	else
		startup_fail(EX_SOFTWARE, "--%s: no such width", n->name);
}

/* push - append to a growing array of strings */
static const char **
push(const char **list, size_t *n, const char *item)
{
	const char **l = realloc(list, (*n + 1) * sizeof(*l));

	if (l == NULL)
		startup_fail(EX_TEMPFAIL, "out of memory");
	l[(*n)++] = item;
	return l;
}

/* split_words - --rcpt-check and --data-check (opt): split on
 * whitespace before any expansion, so a placeholder value can never add
 * a word; once per message (per_message), no recipient's placeholder */
static char **
split_words(const char *s, const char *opt, int per_message)
{
	char *copy = strdup(s), *save = NULL, *w;
	const char **words = NULL;
	size_t n = 0;

	if (copy == NULL)
		startup_fail(EX_TEMPFAIL, "out of memory");
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (!command_template_ok(w))
			startup_fail(EX_USAGE, "unknown placeholder in %s: %s",
			    opt, w);
		if (per_message && !command_template_message(w))
			startup_fail(EX_USAGE, "per-recipient placeholder in "
			    "%s: %s", opt, w);
		words = push(words, &n, w);
	}
	if (n == 0) {
		free(copy);	/* nothing points into it: no leak at exit */
		startup_fail(EX_USAGE, "empty %s", opt);
	}
	words = push(words, &n, NULL);
	return (char **)words;
}

/* authserv_id - --authserv-id: one authres_id_ok() takes, or a usage
 * error */
static const char *
authserv_id(const char *id)
{
	if (!authres_id_ok(id))
		startup_fail(EX_USAGE, "--authserv-id: bad value '%s'", id);
	return id;
}

/* env_name_ok - NAME of --env NAME[=VALUE] */
static int
env_name_ok(const char *e)
{
	size_t n = strcspn(e, "="), i;

	if (n == 0 || (e[0] >= '0' && e[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((e[i] >= 'A' && e[i] <= 'Z') ||
		    (e[i] >= 'a' && e[i] <= 'z') ||
		    (e[i] >= '0' && e[i] <= '9') || e[i] == '_'))
			return 0;
	return 1;
}

/* set_option - one parsed option into the configuration: a numeric one
 * through numeric_options, the others here */
static void
set_option(struct config *cfg, int opt, const char *arg)
{
	const struct numeric_option *n = numeric_option(opt);

	if (n != NULL) {
		store_number(cfg, n, number(n->name, arg, n->min, n->max));
		return;
	}
	switch (opt) {
	case OPT_HOSTNAME:
		if (arg[0] == '\0' || arg[0] == '-')
			startup_fail(EX_USAGE, "bad --hostname: %s", arg);
		cfg->hostname = arg;
		break;
	case OPT_DOMAIN:
		cfg->domains = push(cfg->domains, &cfg->ndomains, arg);
		break;
	case OPT_SPOOL: cfg->spool = arg; break;
	case OPT_RCPT_CHECK:
		cfg->rcpt_check = split_words(arg, "--rcpt-check", 0);
		break;
	case OPT_DATA_CHECK:
		cfg->data_check = split_words(arg, "--data-check", 1);
		break;
	case OPT_AUTHSERV_ID: cfg->authserv_id = authserv_id(arg); break;
	case OPT_ALIASES: cfg->aliases_file = arg; break;
	case OPT_CRLF: cfg->crlf = 1; break;
	case OPT_NO_RETURN_PATH: cfg->no_return_path = 1; break;
	case OPT_DELIVERED_TO: cfg->delivered_to = 1; break;
	case OPT_STRICT_NEWLINES: cfg->strict_newlines = 1; break;
	case OPT_USER: cfg->user = arg; break;
	case OPT_ALLOW_ROOT: cfg->allow_root = 1; break;
	case OPT_ENV:
		if (!env_name_ok(arg))
			startup_fail(EX_USAGE, "bad --env name: %s", arg);
		cfg->env = push(cfg->env, &cfg->nenv, arg);
		break;
	case OPT_NULL_SENDER: cfg->null_sender = arg; break;
	case OPT_LOG_STDERR: cfg->log_stderr = 1; break;
	case OPT_LMTP: cfg->lmtp = 1; break;
	case OPT_REQUIRE_TLS: cfg->require_tls = 1; break;
	case OPT_AS_RECIPIENT: cfg->as_recipient = 1; break;
	case OPT_POSTMASTER: cfg->postmaster = arg; break;
	case OPT_LOCAL_USERS: cfg->local_users = 1; break;
	case OPT_PROXY_PROTOCOL: cfg->proxy_protocol = 1; break;
	case OPT_HELP: fputs(usage_text, stdout); exit(EX_OK);
	case OPT_VERSION:
		puts("pipesmtpd " PIPESMTPD_VERSION);
		exit(EX_OK);
	default: startup_fail(EX_USAGE, "unknown option %d", opt);
	}
}

/* parse_args - options, then the command template */
static void
parse_args(struct config *cfg, int argc, char **argv)
{
	int opt, i;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == '?')
			startup_fail(EX_USAGE, "unknown option or missing "
			    "value: %s", argv[optind - 1]);
		set_option(cfg, opt, optarg);
	}
	if (optind >= argc)
		startup_fail(EX_USAGE, "no delivery command given");
	cfg->command = argv + optind;
	for (i = optind; i < argc; i++)
		if (!command_template_ok(argv[i]))
			startup_fail(EX_USAGE, "unknown placeholder in command: "
			    "%s", argv[i]);
	if (cfg->hostname == NULL)
		cfg->hostname = system_hostname();
	/* postmaster@ must reach someone: --postmaster, or (checked once
	 * the file is read) an alias */
	if ((cfg->as_recipient || cfg->local_users) &&
	    cfg->postmaster == NULL && cfg->aliases_file == NULL)
		startup_fail(EX_USAGE, "%s needs --postmaster",
		    cfg->as_recipient ? "--as-recipient" : "--local-users");
	if (cfg->as_recipient && cfg->user != NULL)
		startup_fail(EX_USAGE, "--as-recipient needs root; --user "
		    "gives it up");
}

/* postmaster_account - one account postmaster@ reaches must be able to
 * receive (under --as-recipient, not uid 0); a failed lookup is
 * temporary, not a configuration refused */
static void
postmaster_account(const struct config *cfg, const char *user)
{
	enum account_verdict v = account_find(cfg, user, NULL);

	if (v == ACCOUNT_ERROR)
		startup_fail(EX_TEMPFAIL, "--postmaster: account lookup "
		    "failed: %s: %s", user, strerror(errno));
	if (v == ACCOUNT_NONE)
		startup_fail(EX_CONFIG, "%s: no such account%s: %s",
		    cfg->postmaster != NULL && strcmp(user, cfg->postmaster) == 0
		    ? "--postmaster" : "postmaster's alias target",
		    cfg->as_recipient ? ", or uid 0" : "", user);
}

/* check_postmaster - --local-users and --as-recipient: postmaster@
 * (RFC 5321 4.5.1) must reach accounts that can receive, through
 * --aliases or else --postmaster; neither is a usage error */
static void
check_postmaster(const struct config *cfg)
{
	struct alias_targets x = { NULL, 0, 0 };
	const char *mode = cfg->as_recipient ? "--as-recipient" :
	    "--local-users";
	size_t i;

	if (!cfg->local_users && !cfg->as_recipient)
		return;
	if (aliases_lookup(cfg->aliases, "postmaster", (size_t)-1, &x) == -1)
		startup_fail(EX_TEMPFAIL, "--aliases: postmaster: %s",
		    strerror(errno));
	for (i = 0; i < (x.n > 0 ? x.n : 1); i++) {
		const char *user = x.n > 0 ? x.v[i] : "postmaster";

		if (strcmp(user, "postmaster") == 0 && cfg->postmaster == NULL)
			startup_fail(EX_USAGE, "%s needs --postmaster (or "
			    "postmaster in --aliases)", mode);
		postmaster_account(cfg, strcmp(user, "postmaster") == 0 ?
		    cfg->postmaster : user);
	}
	aliases_targets_free(&x);
}

/* check_root_rule - nothing a client triggers may run as uid 0 unless
 * --allow-root says so; --as-recipient needs root and never runs as it */
static void
check_root_rule(const struct config *cfg)
{
	if (cfg->as_recipient) {
		if (geteuid() != 0)
			startup_fail(EX_CONFIG, "--as-recipient needs root");
		if (cfg->rcpt_check != NULL && !cfg->allow_root)
			startup_fail(EX_CONFIG, "--rcpt-check would run as "
			    "root; use --allow-root");
		if (cfg->data_check != NULL && !cfg->allow_root)
			startup_fail(EX_CONFIG, "--data-check would run as "
			    "root; use --allow-root");
		return;
	}
	if (geteuid() == 0 && !cfg->allow_root)
		startup_fail(EX_CONFIG, "delivery commands would run as root; "
		    "use --user or --allow-root");
}

/* load_aliases - --aliases: the file read and checked whole, with the
 * privileges the session runs with; a file that cannot be honoured is
 * refused (exit 78, naming FILE:LINE), memory running out is 75 */
static void
load_aliases(struct config *cfg)
{
	struct aliases *al;
	char err[ALIASES_ERR_MAX];

	if (cfg->aliases_file == NULL)
		return;
	if (aliases_load(cfg->aliases_file, &al, err, sizeof(err)) == -1)
		startup_fail(errno == ENOMEM ? EX_TEMPFAIL : EX_CONFIG,
		    "--aliases: %s", err);
	cfg->aliases = al;	/* kept until exit, as cfg is */
}

/* ip_text - a launcher-given address, checked and normalised, or NULL */
static const char *
ip_text(const char *s, char *out, size_t cap)
{
	unsigned char a[16];
	int af = AF_INET;

	if (s == NULL)
		return NULL;
	if (inet_pton(AF_INET, s, a) != 1) {
		af = AF_INET6;
		if (inet_pton(AF_INET6, s, a) != 1)
			return NULL;
	}
	return address_ip_text(af, a, out, cap) == 0 ? out : NULL;
}

/* host_text - a launcher-given host name, or NULL if it is not one */
static const char *
host_text(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 255)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-' || s[i] == '_'))
			return NULL;
	return s;
}

/* peer_ip - getpeername(0), as inetd hands over the socket */
static const char *
peer_ip(char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[INET6_ADDRSTRLEN];

	if (getpeername(0, (struct sockaddr *)&ss, &len) == -1)
		return NULL;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    buf, sizeof(buf));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    buf, sizeof(buf));
	else
		return NULL;
	return ip_text(buf, out, cap);
}

/* client_identity - UCSPI, then REMOTE_ADDR, then getpeername(0) */
static void
client_identity(struct config *cfg)
{
	static char ip[INET6_ADDRSTRLEN];
	const char *proto = getenv("PROTO"), *got = NULL, *host = NULL;
	char name[64];

	if (proto != NULL && strlen(proto) < 16 && host_text(proto)) {
		snprintf(name, sizeof(name), "%sREMOTEIP", proto);
		got = ip_text(getenv(name), ip, sizeof(ip));
		snprintf(name, sizeof(name), "%sREMOTEHOST", proto);
		host = got ? host_text(getenv(name)) : NULL;
	}
	if (got == NULL)
		got = ip_text(getenv("REMOTE_ADDR"), ip, sizeof(ip));
	if (got == NULL)
		got = peer_ip(ip, sizeof(ip));
	cfg->client_ip = got ? got : "unknown";
	cfg->client_host = host ? host : "unknown";
}

/* std_closed - which of fds 0, 1 and 2 are closed, as bits 1, 2 and 4.
 * One poll() asks for all three (a closed descriptor comes back
 * POLLNVAL, whatever it was asked); if poll itself fails, fcntl asks
 * each in turn. */
static unsigned
std_closed(void)
{
	struct pollfd p[3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 2, 0, 0 } };
	unsigned closed = 0;
	int fd, r;

	do
		r = poll(p, 3, 0);
	while (r < 0 && errno == EINTR);
	for (fd = 0; fd < 3; fd++)
		if (r < 0 ? fcntl(fd, F_GETFD) == -1 :
		    (p[fd].revents & POLLNVAL) != 0)
			closed |= 1u << fd;
	return closed;
}

/* safe_fds - 0, 1 and 2 open, a closed one as /dev/null (so nothing
 * opened later takes its number); everything inherited above them
 * close-on-exec, so a delivery command sees exactly 0, 1, 2.  Whether
 * stdin or stdout was missing: a usage error, reported once the options
 * say where */
static int
safe_fds(void)
{
	unsigned closed = std_closed();
	int fd;

	for (fd = 0; fd < 3; fd++)
		if ((closed & (1u << fd)) &&
		    open("/dev/null", O_RDWR) != fd)
			startup_fail(EX_TEMPFAIL, "cannot open /dev/null: %s",
			    strerror(errno));
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	return (closed & 3u) != 0;
}

/* drop_privileges - --user: the account's groups, gid and uid, in that
 * order, each verified and uid 0 verified gone (run_become()).  A lookup
 * or a call that fails is temporary; ids that are not the account's
 * after calls that succeeded are an internal failure. */
static void
drop_privileges(const struct config *cfg)
{
	struct run_account a;
	enum account_verdict v;
	enum run_step step = RUN_STEP_NONE;
	int err;

	if (cfg->user == NULL)
		return;
	v = account_find_any(cfg->user, &a);
	if (v == ACCOUNT_OK)
		step = run_become(&a);
	err = errno;
	account_free(&a);
	if (v == ACCOUNT_ERROR)
		startup_fail(EX_TEMPFAIL, "--user: account lookup failed: %s: "
		    "%s", cfg->user, strerror(err));
	if (v == ACCOUNT_NONE)
		startup_fail(EX_CONFIG, "--user: no such account: %s",
		    cfg->user);
	if (step != RUN_STEP_NONE && err != 0)
		startup_fail(EX_TEMPFAIL, "cannot drop privileges to %s: %s",
		    cfg->user, strerror(err));
	if (step != RUN_STEP_NONE)
		startup_fail(EX_SOFTWARE, "privileges not dropped to %s",
		    cfg->user);
}

/* default_signals - what a launcher left us is not what we run with:
 * every disposition back to its default and no signal blocked.  An
 * inherited ignored SIGCHLD would let the kernel reap delivery commands
 * before we could read their exit status.  SIGPIPE and SIGXFSZ are then
 * ignored, as we want them (EPIPE and EFBIG, not death).  One call per
 * signal sets it and returns what was there: handlers cannot survive an
 * exec, so one found is our own runtime's (a sanitizer's) and goes back. */
static void
default_signals(void)
{
	struct sigaction dfl, ign, old;
	sigset_t none;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	sigemptyset(&dfl.sa_mask);
	ign = dfl;
	dfl.sa_handler = SIG_DFL;
	ign.sa_handler = SIG_IGN;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, sig == SIGPIPE || sig == SIGXFSZ ? &ign :
		    &dfl, &old) == -1)
			continue;	/* not settable: nothing inherited */
		if (((old.sa_flags & SA_SIGINFO) != 0 ||
		    (old.sa_handler != SIG_IGN && old.sa_handler != SIG_DFL)) &&
		    sigaction(sig, &old, NULL) == -1)
			startup_fail(EX_TEMPFAIL, "cannot restore a signal "
			    "handler: %s", strerror(errno));
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		startup_fail(EX_TEMPFAIL, "cannot unblock signals: %s",
		    strerror(errno));
}

/* real_deliver - the session's deliverer: jobs_deliver() */
static void
real_deliver(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, const struct deliver_plan *p)
{
	(void)ctx;
	jobs_deliver(cfg, msg, p);
}

/* real_account - the session's account test: account_may_receive() */
static int
real_account(void *ctx, const struct config *cfg, const char *user)
{
	(void)ctx;
	return account_may_receive(cfg, user);
}

/* real_check - the session's --data-check: checks_data() */
static void
real_check(void *ctx, const struct config *cfg,
    const struct deliver_msg *msg, struct deliver_check *c,
    struct outcome *out)
{
	(void)ctx;
	checks_data(cfg, msg, c, out);
}

/* real_screen - the session's --rcpt-check: checks_rcpt() */
static void
real_screen(void *ctx, const struct config *cfg,
    const struct received_msg *m, const struct address *rcpt,
    struct outcome *out)
{
	(void)ctx;
	checks_rcpt(cfg, m, rcpt, out);
}

int
main(int argc, char **argv)
{
	/* static: the option lists it holds stay reachable until exit */
	static struct config cfg;
	struct fdio fds = { .in = 0, .out = 1 };
	struct tls_launcher tls;
	struct chat_io io;
	struct session_deliverer del = { real_deliver, real_account,
	    real_screen, real_check, NULL };
	int status, std_missing;

	startup_cfg = &cfg;
	std_missing = safe_fds();
	default_signals();
	config_defaults(&cfg);
	parse_args(&cfg, argc, argv);
	if (std_missing)
		startup_fail(EX_USAGE, "stdin and stdout must be open");
	client_identity(&cfg);
	log_open(cfg.log_stderr);
	drop_privileges(&cfg);
	check_root_rule(&cfg);
	load_aliases(&cfg);
	check_postmaster(&cfg);
	if (tls_from_env(&tls) == 1)
		fds.tls = &tls;
	fds.write_ms = (int)cfg.timeout * 1000;
	fdio_init(&io, &fds);
	status = EX_OK;
	/* a bad PROXY header is logged: no greeting, nothing read as SMTP */
	if (!cfg.proxy_protocol || proxy_client(&cfg, 0) == 0)
		status = session_run(&cfg, &io, &del);
	if (fds.tls != NULL)
		tls_end(&tls, 0, fds.write_ms);
	return status;
}

/*
 * config.h - the run-time configuration shared by all modules.
 *
 * smtpd.c fills one struct config from the command line and the launcher's
 * environment, starting from config_defaults() (config.c), as the tests
 * do; session.c and deliver.c only read it.  Nothing here is ever derived
 * from bytes the SMTP client sends.
 */
#ifndef PIPESMTPD_CONFIG_H
#define PIPESMTPD_CONFIG_H

#include <stddef.h>
#include <sysexits.h>

#define PIPESMTPD_VERSION "0.1.0"

/*
 * The process exits with these <sysexits.h> codes only: EX_OK (the
 * session ended), EX_USAGE (a bad option or value, a missing command),
 * EX_SOFTWARE (an internal inconsistency), EX_TEMPFAIL (a temporary
 * start-up failure) and EX_CONFIG (a configuration refused).
 */

struct aliases;		/* aliases.h */

struct config {
	const char *hostname;		/* greeting, Received, logs */
	const char **domains;		/* accepted recipient domains */
	size_t ndomains;
	unsigned long long max_size;	/* message size limit, octets */
	unsigned max_rcpt;		/* recipients per transaction */
	unsigned max_errors;		/* error replies before 421 */
	unsigned timeout;		/* seconds for a command line, and the
					   DATA/BDAT deadline's reach */
	unsigned min_data_rate;		/* octets a second that extend it */
	unsigned session_timeout;	/* seconds for the whole session */
	unsigned delivery_timeout;	/* seconds per delivery command */
	unsigned total_delivery_timeout; /* seconds for all deliveries */
	unsigned jobs;			/* delivery commands run at once */
	unsigned max_hops;		/* Received: headers allowed */
	int lmtp;			/* speak LMTP (RFC 2033) */
	const char *spool;		/* spool directory */
	char **rcpt_check;		/* split --rcpt-check words, or NULL */
	char **data_check;		/* split --data-check words, or NULL */
	const char *authserv_id;	/* --authserv-id, or NULL */
	const char *aliases_file;	/* --aliases FILE, or NULL */
	const struct aliases *aliases;	/* its table, read at start-up */
	int crlf;			/* deliver with CRLF line ends */
	int no_return_path;		/* omit Return-Path: */
	int delivered_to;		/* add Delivered-To:, refuse loops */
	int strict_newlines;		/* refuse bare CR / bare LF */
	const char *user;		/* --user account, or NULL */
	int allow_root;			/* let commands run as uid 0 */
	int as_recipient;		/* run as the recipient's account */
	int local_users;		/* accept only accounts at RCPT */
	const char *postmaster;		/* account for postmaster@ */
	unsigned long min_uid;		/* --as-recipient: lowest uid that
					   gets mail (but the postmaster) */
	const char **env;		/* --env NAME[=VALUE] entries */
	size_t nenv;
	const char *null_sender;	/* %s / SENDER for <> */
	unsigned greet_pause;		/* seconds before the greeting */
	int log_stderr;			/* log to stderr, not syslog */
	int require_tls;		/* MAIL only after STARTTLS */
	int proxy_protocol;		/* read a PROXY header first */
	char **command;			/* delivery argv template */
	const char *path;		/* PATH for commands */
	const char *client_ip;		/* "unknown" when not known */
	const char *client_host;	/* "unknown" when not known */
};

void config_defaults(struct config *cfg);

#endif

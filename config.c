/*
 * config.c - the documented default of every option.
 *
 * Entry point: config_defaults().  smtpd.c starts from it before reading
 * the command line; the tests start from it too and change only what a
 * case needs, so a default is written down once.  It reads TMPDIR and
 * PATH from the environment and nothing else; it never parses an option,
 * never looks a name up, and leaves the host name and the delivery
 * command unset (smtpd.c fills those in).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define TOTAL_DELIVERY	540	/* RFC 5321 4.5.3.2.6: 10 min, less margin */

/* config_defaults - every option's documented default; the host name's
 * is filled in by smtpd.c, and only if --hostname does not give one */
void
config_defaults(struct config *cfg)
{
	const char *tmp = getenv("TMPDIR");

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_size = 10485760;
	cfg->max_rcpt = 100;
	cfg->max_errors = 20;
	cfg->timeout = 300;
	cfg->min_data_rate = 500;
	cfg->session_timeout = 3600;
	cfg->delivery_timeout = 300;
	cfg->total_delivery_timeout = TOTAL_DELIVERY;
	cfg->jobs = 1;
	cfg->max_hops = 100;
	cfg->min_uid = 1000;	/* Debian's UID_MIN, Dovecot's first_valid_uid */
	cfg->spool = (tmp != NULL && tmp[0] == '/') ? tmp : "/tmp";
	cfg->null_sender = "";
	cfg->path = getenv("PATH") ? getenv("PATH") : DEFAULT_PATH;
}

/*
 * log.c - log lines to syslog (facility mail) or to stderr.
 *
 * Entry points: log_open(), log_info(), log_warn(), log_error(),
 * log_escape().  Under inetd and systemd stderr may be the client's
 * socket, so syslog is the default and stderr is only used when asked.
 * Every client-supplied value passes through log_escape() on its way
 * into a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int log_to_stderr;

/* log_open - choose the destination once, at start-up */
void
log_open(int use_stderr)
{
	log_to_stderr = use_stderr;
	if (!use_stderr)
		openlog("pipesmtpd", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_v - one line at the given priority */
static void __attribute__((format(printf, 2, 0)))
log_v(int prio, const char *fmt, va_list ap)
{
	char line[2048];
	int ret = vsnprintf(line, sizeof(line), fmt, ap);

	if (ret < 0)
		return;		/* nothing sensible to log */
	if (log_to_stderr)
		fprintf(stderr, "pipesmtpd[%ld]: %s\n", (long)getpid(), line);
	else
		syslog(prio, "%s", line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* log_escape - client bytes made printable and unable to end or add a
 * field: \xHH for controls, DEL, 8-bit, the backslash itself and the
 * delimiters of the fields they are logged in (to=<...>, client=[...],
 * the "," between fields, the status's "(...)"); the result is cut to
 * fit cap */
const char *
log_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap == 0)
		return "";
	for (; *in != '\0'; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch >= 32 && ch < 127 && strchr("\\<>[](),", ch) == NULL) {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)ch;
			continue;
		}
		if (o + 4 >= cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	out[o] = '\0';
	return out;
}

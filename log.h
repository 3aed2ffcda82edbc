/*
 * log.h - syslog (facility mail) or stderr logging.
 *
 * Every client-supplied string must pass through log_escape() before it
 * reaches a log line, so a client cannot forge log lines or fields:
 * controls, 8-bit, the backslash and any of <>[](), become \xHH.
 */
#ifndef PIPESMTPD_LOG_H
#define PIPESMTPD_LOG_H

#include <stddef.h>

void log_open(int use_stderr);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *log_escape(const char *in, char *out, size_t cap);

#endif

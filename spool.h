/*
 * spool.h - the unlinked, mode-0600 spool file that holds one message.
 *
 * The spool exists only as an open descriptor: it is unlinked from birth
 * (O_TMPFILE, or mkostemp and unlink), so nothing is left behind when the
 * process ends however it ends.  Errors are latched so that the DATA
 * reader can keep reading to the end and reply once.
 */
#ifndef PIPESMTPD_SPOOL_H
#define PIPESMTPD_SPOOL_H

#include <stddef.h>

struct spool {
	int fd;				/* -1 when closed */
	unsigned long long len;		/* octets written */
	int err;			/* first errno, 0 if none */
};

struct spool_headers {
	unsigned received;		/* Received: header count */
};

int spool_open(struct spool *sp, const char *dir);
int spool_write(struct spool *sp, const void *buf, size_t len);
void spool_close(struct spool *sp);
int spool_scan_at(int fd, unsigned long long off, unsigned long long len,
    struct spool_headers *h);
int spool_has_delivered_to(int fd, unsigned long long len, const char *addr);
int spool_drop_fields(struct spool *sp, unsigned long long off,
    int (*drop)(const char *field, size_t len, const void *arg),
    const void *arg);

#endif

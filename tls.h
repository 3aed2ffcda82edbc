/*
 * tls.h - STARTTLS through a UCSPI-TLS launcher.
 *
 * A launcher such as s6-ucspitlsd (or ucspi-ssl's sslserver -n) starts
 * its TLS engine as our child and passes three descriptors in
 * SSLCTLFD, SSLREADFD and SSLWRITEFD: the control end of a socketpair
 * and a pipe each way.  tls_from_env() takes them if they are that,
 * tls_start() asks the engine for TLS and reads its report, and
 * tls_end() closes them and waits for the engine; tls_log_failed() and
 * tls_log_established() log how the handshake went, for the client
 * named.  No TLS library is linked and no key is ever in this process.
 */
#ifndef PIPESMTPD_TLS_H
#define PIPESMTPD_TLS_H

#define TLS_VALUE_MAX	64	/* a protocol or cipher name, with NUL */
#define TLS_SUBJECT_MAX	512	/* a client certificate's subject, with NUL:
				   a longer one is not kept */

/* The launcher's descriptors; -1 where there is none. */
struct tls_launcher {
	int ctl;		/* control: the request, then the report */
	int rfd;		/* decrypted octets from the client */
	int wfd;		/* octets to encrypt for the client */
};

/* What the engine reported of the handshake. */
struct tls_info {
	char protocol[TLS_VALUE_MAX];	/* SSL_PROTOCOL, e.g. TLSv1.2 */
	char cipher[TLS_VALUE_MAX];	/* SSL_CIPHER */
	char peer_subject[TLS_SUBJECT_MAX];	/* SSL_PEER_CERT_SUBJECT, the
				   client certificate the engine verified, in
				   printable ASCII; "" when none */
	int engine_status;	/* after a failure: the engine's wait
				   status, or -1 when it was not seen */
};

int tls_from_env(struct tls_launcher *t);
int tls_start(struct tls_launcher *t, int conn, int timeout_ms,
    struct tls_info *info);
void tls_end(struct tls_launcher *t, int conn, int timeout_ms);
void tls_log_failed(const struct tls_info *info, const char *host,
    const char *ip);
void tls_log_established(const struct tls_info *info, const char *host,
    const char *ip);

#endif

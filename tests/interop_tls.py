#!/usr/bin/env python3
"""interop_tls.py - the scripted clients of tests/interop_tls.sh.

Usage: python3 tests/interop_tls.py SCENARIO PORT [LOCAL MESSAGE]

Each scenario talks to pipesmtpd under s6-ucspitlsd on 127.0.0.1:PORT,
checks every reply it depends on (exact codes and enhanced codes), and
prints "key: value" lines for the shell script to check further (the
cipher the client negotiated, whether STARTTLS was offered).  Any
deviation is one "error: ..." line and exit 1.  Every socket operation
is bounded (TIMEOUT seconds).  Certificates are never verified: the test
uses a throw-away self-signed one.

  smtplib    Python's smtplib: EHLO, starttls(), EHLO, one message
  sclient    openssl s_client -starttls smtp, the dialogue after the
             handshake scripted here (reply by reply), one message
  sclient-tls1_3, sclient-tls1_2
             the same, s_client limited to that protocol version
  old-tls1_1, old-tls1
             s_client -starttls smtp offering only that version (at
             OpenSSL's security level 0, which allows it): the server
             must refuse with a protocol_version alert
  cleartext  smtplib without STARTTLS: one message in cleartext
  require    --require-tls: MAIL first (530 5.7.0), then STARTTLS and
             one message
  pipelined  STARTTLS and RSET in one write; inside TLS the first reply
             must be the one to the new EHLO
  garbage    after "220 Ready to start TLS", text instead of a
             ClientHello; then wait for the server to close
  midshake   a real ClientHello, then hang up once the server answers
  stall      after "220 Ready to start TLS", nothing; then wait for the
             server to close
  idle       inside TLS, EHLO and then nothing: 421 4.4.2, then the close
"""
import select
import smtplib
import socket
import ssl
import subprocess
import sys
import time

TIMEOUT = 30
HELO = "client.test"
SENDER = "sender@example.org"
READY = "220 2.0.0 Ready to start TLS"


class Failed(Exception):
    """the dialogue went other than expected"""


def context():
    """a client TLS context that accepts the self-signed certificate"""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Conn:
    """SMTP over a socket that may be wrapped in TLS later; lines kept
    in a buffer, replies read whole"""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.buf = b""

    def line(self):
        """one line, CRLF removed; a line read byte by byte, so nothing
        after it leaves the kernel's buffer"""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1)
            if not chunk:
                raise Failed("connection closed; had %r" % self.buf)
            self.buf += chunk
        out, self.buf = self.buf.split(b"\n", 1)
        return out.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """the lines of one (multi-line) reply"""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def expect(self, command, want):
        """send command (if any) and require a reply starting with want"""
        if command is not None:
            self.send(command + "\r\n")
        got = self.reply()
        if not got[-1].startswith(want):
            raise Failed("%s: wanted %r, got %r" % (command, want, got))
        return got

    def starttls(self):
        """STARTTLS, its 220, and the handshake; returns the cipher"""
        self.expect("STARTTLS", READY)
        if self.buf:
            raise Failed("bytes after the 220: %r" % self.buf)
        self.sock = context().wrap_socket(self.sock)
        return self.sock.cipher()


def ehlo_offers_starttls(conn):
    """EHLO; True if the reply lists STARTTLS"""
    got = conn.expect("EHLO " + HELO, "250 ")
    return any(line[4:].upper() == "STARTTLS" for line in got)


def send_message(conn, local, message):
    """one transaction over conn, the message dot-stuffed here"""
    conn.expect("MAIL FROM:<%s>" % SENDER, "250 2.1.0")
    conn.expect("RCPT TO:<%s@mx.test>" % local, "250 2.1.5")
    conn.expect("DATA", "354 ")
    body = b"".join(b"." + l if l.startswith(b".") else l
                    for l in message.splitlines(True))
    conn.send(body.replace(b"\n", b"\r\n") + b".\r\n")
    conn.expect(None, "250 2.0.0")


def crlf(message):
    """the message with CRLF line ends: smtplib sends bytes as they are"""
    return message.replace(b"\n", b"\r\n")


def report_cipher(cipher):
    """the client's view of the session, for the shell to compare"""
    print("protocol: %s" % cipher[1])
    print("cipher: %s" % cipher[0])


def run_smtplib(port, local, message):
    """Python's smtplib with starttls()"""
    with smtplib.SMTP("127.0.0.1", port, HELO, TIMEOUT) as s:
        s.ehlo(HELO)
        print("starttls offered: %s" % s.has_extn("starttls"))
        code, text = s.starttls(context=context())
        if (code, text) != (220, b"2.0.0 Ready to start TLS"):
            raise Failed("starttls(): %d %r" % (code, text))
        s.ehlo(HELO)
        if s.has_extn("starttls"):
            raise Failed("STARTTLS still offered inside TLS")
        s.sendmail(SENDER, ["%s@mx.test" % local], crlf(message))
        report_cipher(s.sock.cipher())


def run_cleartext(port, local, message):
    """smtplib that never asks for TLS"""
    with smtplib.SMTP("127.0.0.1", port, HELO, TIMEOUT) as s:
        s.ehlo(HELO)
        print("starttls offered: %s" % s.has_extn("starttls"))
        s.sendmail(SENDER, ["%s@mx.test" % local], crlf(message))


def run_require(port, local, message):
    """--require-tls: refused in cleartext, accepted after STARTTLS"""
    conn = Conn(port)
    conn.expect(None, "220 ")
    print("starttls offered: %s" % ehlo_offers_starttls(conn))
    conn.expect("MAIL FROM:<%s>" % SENDER,
                "530 5.7.0 Must issue a STARTTLS command first")
    cipher = conn.starttls()
    conn.expect("EHLO " + HELO, "250 ")
    send_message(conn, local, message)
    conn.expect("QUIT", "221 ")
    report_cipher(cipher)


def run_pipelined(port):
    """STARTTLS\\r\\nRSET\\r\\n in one write (CVE-2011-0411 class)"""
    conn = Conn(port)
    conn.expect(None, "220 ")
    ehlo_offers_starttls(conn)
    conn.send("STARTTLS\r\nRSET\r\n")
    conn.expect(None, READY)
    try:
        conn.sock = context().wrap_socket(conn.sock)
    except ssl.SSLError as e:
        raise Failed("handshake after the pipelined RSET: %s" % e) from e
    conn.send("EHLO " + HELO + "\r\n")
    first = conn.reply()
    if first[0] != "250-mx.test":
        raise Failed("first reply inside TLS is not EHLO's: %r" % first)
    if any(line[4:].upper() == "STARTTLS" for line in first):
        raise Failed("STARTTLS offered again inside TLS: %r" % first)
    conn.expect("STARTTLS", "503 5.5.1")
    conn.expect("QUIT", "221 ")
    print("first reply inside TLS: %s" % first[0])


def wait_for_close(conn):
    """read until the server closes; how long it took and how much came"""
    start, got = time.monotonic(), 0
    while True:
        try:
            chunk = conn.sock.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        got += len(chunk)
    print("closed by server after %.1f s, %d bytes" %
          (time.monotonic() - start, got))


def ready_for_tls(port):
    """a connection just told "220 Ready to start TLS" by the server"""
    conn = Conn(port)
    conn.expect(None, "220 ")
    ehlo_offers_starttls(conn)
    conn.expect("STARTTLS", READY)
    return conn


def run_stall(port):
    """after "220 Ready to start TLS", silence; the client then stays"""
    wait_for_close(ready_for_tls(port))


def run_idle(port):
    """inside TLS, EHLO and then nothing: the server's 421, then its
    close (close_notify, or a bare end of the connection)"""
    conn = Conn(port)
    conn.expect(None, "220 ")
    ehlo_offers_starttls(conn)
    report_cipher(conn.starttls())
    conn.expect("EHLO " + HELO, "250 ")
    conn.expect(None, "421 4.4.2")
    wait_for_close(conn)


def run_garbage(port):
    """text where the ClientHello belongs; the client then stays"""
    conn = ready_for_tls(port)
    conn.send(b"EHLO this is not a TLS ClientHello\r\n" * 16)
    wait_for_close(conn)


def run_midshake(port):
    """ClientHello, the server's first answer, then hang up"""
    conn = ready_for_tls(port)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context().wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    conn.send(outgoing.read())
    answer = conn.sock.recv(4096)
    if not answer:
        raise Failed("no answer to the ClientHello")
    conn.sock.close()
    print("hung up after %d bytes of the server's handshake" % len(answer))


def sclient(port, *options):
    """the s_client -starttls smtp command line to 127.0.0.1:PORT"""
    return ["openssl", "s_client", "-starttls", "smtp", "-name", HELO,
            "-connect", "127.0.0.1:%d" % port, "-brief"] + list(options)


def run_sclient(port, local, message, *options):
    """openssl s_client -starttls smtp, the rest scripted reply by reply"""
    p = subprocess.Popen(
        sclient(port, "-crlf", "-nocommands", "-ign_eof", *options),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    out = PipeReader(p.stdout)
    try:
        # s_client sends EHLO and STARTTLS itself; the first line it
        # prints is the server's first reply inside TLS.
        for command, want in (("EHLO " + HELO, "250 "),
                              ("MAIL FROM:<%s>" % SENDER, "250 2.1.0"),
                              ("RCPT TO:<%s@mx.test>" % local, "250 2.1.5"),
                              ("DATA", "354 ")):
            p.stdin.write((command + "\n").encode())
            p.stdin.flush()
            out.expect(command, want)
        for l in message.splitlines(True):
            p.stdin.write(b"." + l if l.startswith(b".") else l)
        p.stdin.write(b".\n")
        p.stdin.flush()
        out.expect("end of data", "250 2.0.0")
        p.stdin.write(b"QUIT\n")
        p.stdin.close()
        out.expect("QUIT", "221 ")
        status = p.wait(TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read().decode("utf-8", "replace")
    if status != 0:
        raise Failed("s_client exited %d: %s" % (status, err))
    fields = dict(l.split(": ", 1) for l in err.splitlines() if ": " in l)
    report_cipher((fields.get("Ciphersuite", "?"),
                   fields.get("Protocol version", "?")))


def run_old(port, option):
    """s_client offering only an old protocol: refused by the server"""
    p = subprocess.run(
        sclient(port, option, "-cipher", "DEFAULT@SECLEVEL=0"),
        stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    err = p.stderr.decode("utf-8", "replace")
    # the alert names the server as the one refusing: a client that could
    # not offer the version would say "no protocols available"
    if p.returncode == 0 or "alert protocol version" not in err:
        raise Failed("s_client %s exited %d: %s" % (option, p.returncode, err))
    print("refused: %s" % err.strip().splitlines()[-1])


class PipeReader:
    """reply lines from a child's stdout, each wait bounded"""

    def __init__(self, pipe):
        self.pipe, self.buf = pipe, b""

    def line(self):
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.pipe], [], [], left)[0]:
                raise Failed("no reply within %d s; had %r" %
                             (TIMEOUT, self.buf))
            chunk = self.pipe.raw.read(4096)
            if not chunk:
                raise Failed("s_client ended; had %r" % self.buf)
            self.buf += chunk
        out, self.buf = self.buf.split(b"\n", 1)
        return out.rstrip(b"\r").decode("utf-8", "replace")

    def expect(self, command, want):
        got = [self.line()]
        while len(got[-1]) > 3 and got[-1][3] == "-":
            got.append(self.line())
        if not got[-1].startswith(want):
            raise Failed("%s: wanted %r, got %r" % (command, want, got))


def main():
    """run the scenario named by argv[1]"""
    name, port = sys.argv[1], int(sys.argv[2])
    with_message = {"smtplib": run_smtplib, "sclient": run_sclient,
                    "cleartext": run_cleartext, "require": run_require}
    for version in ("tls1_3", "tls1_2"):
        with_message["sclient-" + version] = \
            lambda p, l, m, v=version: run_sclient(p, l, m, "-" + v)
    bare = {"pipelined": run_pipelined, "garbage": run_garbage,
            "midshake": run_midshake, "stall": run_stall,
            "idle": run_idle,
            "old-tls1_1": lambda p: run_old(p, "-tls1_1"),
            "old-tls1": lambda p: run_old(p, "-tls1")}
    try:
        if name in with_message:
            with open(sys.argv[4], "rb") as f:
                with_message[name](port, sys.argv[3], f.read())
        else:
            bare[name](port)
    except (Failed, OSError, smtplib.SMTPException, ssl.SSLError,
            subprocess.TimeoutExpired) as e:
        print("error: %s: %s" % (type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

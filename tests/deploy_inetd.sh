#!/bin/sh
# deploy_inetd.sh - the INSTALLED pipesmtpd under openbsd-inetd in the
# foreground (-d), from the line in examples/inetd.conf with the service
# field turned into 127.0.0.1:PORT (a free port), the program path into the
# installed binary and the delivery command into procmail -m with a test
# rcfile; Python's smtplib as the client; procmail (with formail) writing
# an mbox, which is read back with Python's mailbox module.
#
# What it proves: inetd's argv (argv[0] "pipesmtpd", then the arguments)
# reaches pipesmtpd; it becomes "mail" (--user) before reading; the client
# address comes from getpeername(0): 127.0.0.1 in %i and in Received;
# smtplib's sendmail() and send_message() deliver, several recipients get
# one procmail run each; an SMTPUTF8 recipient (send_message switches to
# SMTPUTF8 by itself for a non-ASCII address) is delivered with the UTF-8
# address in %r and "with UTF8SMTP" in Received.
#
# openbsd-inetd and xinetd conflict as Debian packages.  The inetd binary
# is found as $INETD if set, else "inetd" in PATH (.ci/run unpacks
# openbsd-inetd's binary next to an installed xinetd).
#
# Needs root, openbsd-inetd, procmail.  Prints "deploy-inetd: N passed,
# M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=inetd
. tests/deploylib.sh

INETD=${INETD:-inetd}
need "$INETD" openbsd-inetd || finish
need procmail procmail || finish
need formail procmail || finish

if install_root; then
	pass "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install"
	finish
fi

mkdir "$tmp/pm"
chown mail "$tmp/pm"
cat > "$tmp/procmailrc" <<EOF
SHELL=/bin/sh
DEFAULT=$tmp/pm/mbox
:0fw
| formail -A "X-Client-IP: \$1" -A "X-Rcpt: \$2"
EOF
chmod 644 "$tmp/procmailrc"

port=$(free_port)
line=$(grep -v '^#' examples/inetd.conf | grep -v '^[ 	]*$')
set -f
# shellcheck disable=SC2086 # inetd.conf fields are blank-separated
set -- $line
set +f
if [ "$1 $2 $3 $4 $5 $7" = "smtp stream tcp nowait root pipesmtpd" ]; then
	pass "example inetd.conf: smtp stream tcp nowait root ... pipesmtpd"
else
	fail "example inetd.conf line: $line"
fi
shift 7
opts=$(printf '%s\n' "$*" | sed 's/ -- .*//')
printf '127.0.0.1:%s\tstream\ttcp\tnowait\troot\t%s\tpipesmtpd %s -- /usr/bin/procmail -m %s %%i %%r\n' \
	"$port" "$ibin" "$opts" "$tmp/procmailrc" > "$tmp/inetd.conf"

# -d: debug mode, in the foreground, messages on stderr
spawn timeout 120 "$INETD" -d "$tmp/inetd.conf" </dev/null >"$tmp/inetd.log" 2>&1
if wait_port "$port"; then
	pass "inetd listens on 127.0.0.1:$port"
else
	fail "inetd did not start"
	cat "$tmp/inetd.conf" "$tmp/inetd.log"
	finish
fi

timeout 120 python3 - "$port" "$tmp/pm/mbox" > "$tmp/client.out" 2>&1 <<'EOF'
import email.message, mailbox, smtplib, sys

port, mbox = int(sys.argv[1]), sys.argv[2]

def check(cond, name, detail=""):
    print(("ok - " if cond else "FAIL - ") + name + ("" if cond else ": " + detail))

try:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                      timeout=60) as c:
        code, _ = c.ehlo()
        check(code == 250 and c.has_extn("smtputf8") and c.has_extn("pipelining"),
              "smtplib: EHLO advertises SMTPUTF8 and PIPELINING",
              repr(c.esmtp_features))
        refused = c.sendmail("sender@example.net",
                             ["alice@example.org", "bob@example.org"],
                             b"From: sender@example.net\r\nSubject: one\r\n"
                             b"\r\nsent with sendmail()\r\n")
        check(refused == {}, "smtplib sendmail(): two recipients", repr(refused))
        m = email.message.EmailMessage()
        m["From"] = "sender@example.net"
        m["To"] = "carol@example.org"
        m["Subject"] = "two"
        m.set_content("sent with send_message()\n")
        refused = c.send_message(m)
        check(refused == {}, "smtplib send_message()", repr(refused))
        u = email.message.EmailMessage()
        u["From"] = "sender@example.net"
        u["To"] = "jösé@example.org"
        u["Subject"] = "utf-8 address"
        u.set_content("sent with SMTPUTF8\n")
        refused = c.send_message(u)
        check(refused == {}, "smtplib send_message() to jösé@example.org (SMTPUTF8)",
              repr(refused))
except Exception as e:
    check(False, "smtplib session", "%s: %s" % (type(e).__name__, e))

box = mailbox.mbox(mbox, create=False)
msgs = list(box)
check(len(msgs) == 4, "the mbox holds four messages", repr(len(msgs)))
by_rcpt = {}
for msg in msgs:
    raw = msg.as_bytes()
    rcpt = raw.split(b"\nX-Rcpt: ", 1)[-1].split(b"\n", 1)[0].decode("utf-8")
    by_rcpt[rcpt] = (msg, raw)
check(sorted(by_rcpt) == ["alice@example.org", "bob@example.org",
                          "carol@example.org", "jösé@example.org"],
      "one message per recipient, %r as sent", repr(sorted(by_rcpt)))
for rcpt, (msg, raw) in sorted(by_rcpt.items()):
    check(msg["X-Client-IP"] == "127.0.0.1", rcpt + ": %i is 127.0.0.1",
          repr(msg["X-Client-IP"]))
    check(b"Received: from client.test (unknown [127.0.0.1])\n" in raw,
          rcpt + ": Received names [127.0.0.1]", repr(raw[:300]))
    check(msg["Return-Path"] == "<sender@example.net>",
          rcpt + ": Return-Path", repr(msg["Return-Path"]))
a = by_rcpt.get("alice@example.org", (None, b""))[1]
check(b"sent with sendmail()" in a and b"with ESMTP id" in a,
      "sendmail() body, with ESMTP", repr(a[:400]))
c = by_rcpt.get("carol@example.org", (None, b""))[1]
check(b"sent with send_message()" in c and b"\tfor <carol@example.org>; " in c,
      "send_message() body, Received for <carol@example.org>", repr(c[:400]))
u = by_rcpt.get("jösé@example.org", (None, b""))[1]
check(b"sent with SMTPUTF8" in u and b"with UTF8SMTP id" in u and
      "\tfor <jösé@example.org>; ".encode() in u,
      "the UTF-8 recipient: with UTF8SMTP, for <jösé@example.org>",
      repr(u[:400]))
EOF
rc=$?
cat "$tmp/client.out"
passed=$((passed + $(grep -c '^ok - ' "$tmp/client.out")))
failed=$((failed + $(grep -c '^FAIL - ' "$tmp/client.out")))
[ "$rc" -eq 0 ] || fail "python client exited $rc"

if [ "$(stat -c %U "$tmp/pm/mbox" 2>/dev/null)" = mail ]; then
	pass "the mbox was written by mail (--user mail)"
else
	fail "mbox owner"
fi

finish

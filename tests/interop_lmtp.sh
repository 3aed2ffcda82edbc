#!/bin/sh
# interop_lmtp.sh - a real LMTP client (Python's smtplib.LMTP) against
# pipesmtpd --lmtp, launched per connection by systemd-socket-activate
# exactly as a systemd Accept=yes socket would launch it: once on a Unix
# domain socket, once on TCP loopback.
#
# What it proves: after the data, pipesmtpd sends one reply per accepted
# recipient, in RCPT order, each from that recipient's own delivery
# command (250 2.0.0 / 451 4.x.x / 550 5.x.x, with the command's own
# RFC 3463 code where it gave one), and no extra reply (the session is
# still in step afterwards); a recipient refused at RCPT gets no data
# reply; the delivered message carries "with LMTP".  It also checks that
# the example LMTP unit files parse.
#
# Python's smtplib.LMTP sends LHLO but its sendmail()/data() read only the
# first reply after the data (CPython has no per-recipient LMTP support),
# so the multi-recipient transactions below call data() and then read the
# remaining per-recipient replies with getreply(), as an LMTP client must.
#
# Needs: python3, systemd-socket-activate, timeout.  Run from anywhere:
#     sh tests/interop_lmtp.sh
# Prints one closing line "interop-lmtp: N passed, M failed" and exits
# non-zero if anything failed.

cd "$(dirname "$0")/.." || exit 1
SUITE=interop-lmtp
. tests/scriptlib.sh

need_tools python3 systemd-socket-activate timeout
build_bin
make_tmp interop-lmtp
mkdir "$tmp/out"

root_opt=
[ "$(id -u)" -eq 0 ] && root_opt=--allow-root

# The delivery command: saves the message as OUT/<local part>.eml and
# fails or succeeds according to the local part.
outcome_command "$tmp/deliver"

# Starts a launcher in the background; $1 is its log file, the rest its
# listen arguments.  The launcher's stderr, and so pipesmtpd's log
# (--log-stderr; --inetd puts the connection on stdin/stdout only), go to
# the log file.
launch() {
	log=$1
	shift
	spawn timeout 120 systemd-socket-activate --accept --inetd "$@" \
		"$bin" --lmtp --hostname mx.test --log-stderr $root_opt \
		-- "$tmp/deliver" "$tmp/out" %u \
		</dev/null >/dev/null 2>"$log"
}

sock=$tmp/lmtp.sock
launch "$tmp/unix.log" -l "$sock"

port=$(free_port)
launch "$tmp/tcp.log" -l "127.0.0.1:$port"

if wait_until test -S "$sock"; then
	pass "launcher created the Unix socket"
else
	fail "no Unix socket after 10 s"
	cat "$tmp/unix.log"
	finish
fi

timeout 120 python3 - "$tmp" "$port" > "$tmp/client.out" 2>&1 <<'EOF'
import os, smtplib, socket, sys, time

tmp, port = sys.argv[1], int(sys.argv[2])
out = os.path.join(tmp, "out")

def ok(name):
    print("ok - " + name)

def fail(name, detail=""):
    print("FAIL - " + name + (": " + detail if detail else ""))

def check(cond, name, detail=""):
    (ok if cond else fail)(name, *(() if cond else (detail,)))
    return cond

def connect(host, port=0):
    # The listener may exist a moment before it accepts: retry briefly.
    deadline = time.time() + 10
    while True:
        try:
            return smtplib.LMTP(host, port, local_hostname="client.test",
                                timeout=30)
        except (ConnectionRefusedError, FileNotFoundError):
            if time.time() > deadline:
                raise
            time.sleep(0.1)

def read(name):
    try:
        with open(os.path.join(out, name), "rb") as f:
            return f.read()
    except OSError:
        return None

def lmtp_transaction(c, sender, rcpts, msg):
    """MAIL, RCPT..., DATA, then one reply per accepted recipient."""
    code, text = c.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, text, sender)
    rcpt_replies, accepted = {}, []
    for r in rcpts:
        rcpt_replies[r] = c.rcpt(r)
        if rcpt_replies[r][0] == 250:
            accepted.append(r)
    data_replies = {}
    if accepted:
        data_replies[accepted[0]] = c.data(msg)
        for r in accepted[1:]:
            data_replies[r] = c.getreply()
    return rcpt_replies, accepted, data_replies

MSG = (b"From: sender@example.org\r\n"
       b"To: ok@mx.test\r\n"
       b"Subject: lmtp interop\r\n"
       b"\r\n"
       b"hello over LMTP\r\n"
       b".leading dot survives\r\n")

def per_recipient(label, c, suffix, client_ip):
    ok_r, temp_r, perm_r = ("ok%s@mx.test" % suffix, "temp%s@mx.test" % suffix,
                            "perm%s@mx.test" % suffix)
    stranger = "someone@elsewhere.test"
    rr, accepted, dr = lmtp_transaction(
        c, "sender@example.org", [ok_r, temp_r, stranger, perm_r], MSG)
    check(accepted == [ok_r, temp_r, perm_r],
          label + ": three RCPTs accepted", repr(rr))
    check(rr[stranger][0] == 550 and rr[stranger][1].startswith(b"5.7.1"),
          label + ": foreign domain refused at RCPT with 550 5.7.1",
          repr(rr[stranger]))
    code, text = dr.get(ok_r, (0, b""))
    check(code == 250 and text.startswith(b"2.0.0 <%s>" % ok_r.encode()),
          label + ": ok -> 250 2.0.0", repr((code, text)))
    code, text = dr.get(temp_r, (0, b""))
    check(code == 451 and text.startswith(b"4.2.2 <%s>" % temp_r.encode())
          and b"mailbox busy" in text,
          label + ": temp -> 451 4.2.2 with the command's text",
          repr((code, text)))
    code, text = dr.get(perm_r, (0, b""))
    check(code == 550 and text.startswith(b"5.1.1 <%s>" % perm_r.encode()),
          label + ": perm -> 550 5.1.1", repr((code, text)))
    ids = {t.rsplit(b"id=", 1)[-1] for _, t in dr.values()}
    check(len(ids) == 1 and len(dr) == 3,
          label + ": the three replies carry one queue id", repr(dr))
    # Exactly three replies: the next command gets its own reply.
    code, text = c.noop()
    check(code == 250 and text.startswith(b"2.0.0"),
          label + ": still in step after the per-recipient replies (NOOP)",
          repr((code, text)))
    eml = read("ok%s.eml" % suffix) or b""
    check(b"hello over LMTP\n" in eml, label + ": ok's message delivered",
          repr(eml[:300]))
    check(b"\n.leading dot survives\n" in eml,
          label + ": leading dot unstuffed exactly once")
    check(b"with LMTP id " in eml, label + ": Received says with LMTP",
          repr(eml[:300]))
    check(eml.startswith(b"Return-Path: <sender@example.org>\n"),
          label + ": Return-Path first", repr(eml[:80]))
    if client_ip:
        check(b"[%s]" % client_ip.encode() in eml.split(b"\n\n")[0],
              label + ": Received names the client address", repr(eml[:300]))
    check(read("temp%s.eml" % suffix) == eml,
          label + ": temp's command ran and read the same message")
    check(read("perm%s.eml" % suffix) == eml,
          label + ": perm's command ran and read the same message")
    check(read("ok%s.rcpt" % suffix) == ok_r.encode() + b"\n",
          label + ": RECIPIENT in the command's environment",
          repr(read("ok%s.rcpt" % suffix)))
    check(read("someone.eml") is None,
          label + ": nothing ran for the refused recipient")

def run(label, fn):
    try:
        fn()
    except Exception as e:  # a crash is a failure, not a stop
        fail(label, "%s: %s" % (type(e).__name__, e))

# --- Unix domain socket ------------------------------------------------
def unix_session():
    c = connect(os.path.join(tmp, "lmtp.sock"))
    code, text = c.docmd("EHLO", "client.test")
    check(code == 500 and text.startswith(b"5.5.1"),
          "unix: EHLO refused under LMTP with 500 5.5.1", repr((code, text)))
    code, text = c.ehlo()
    check(code == 250 and c.ehlo_msg == "lhlo",
          "unix: LHLO accepted", repr((code, text)))
    for ext in ("pipelining", "enhancedstatuscodes", "chunking", "8bitmime",
                "size", "limits"):
        check(c.has_extn(ext), "unix: LHLO advertises " + ext.upper(),
              repr(c.esmtp_features))
    check(c.esmtp_features.get("limits", "").upper() == "RCPTMAX=100",
          "unix: LIMITS RCPTMAX=100", repr(c.esmtp_features.get("limits")))
    per_recipient("unix", c, "", None)
    # A second transaction in the same session, one recipient, through
    # smtplib's own sendmail(): one reply is all LMTP gives it here.
    refused = c.sendmail("<>", ["OK-Second@MX.test"],
                         b"Subject: second\r\n\r\nsecond message\r\n")
    check(refused == {}, "unix: second transaction via sendmail()",
          repr(refused))
    eml = read("ok-second.eml") or b""
    check(b"second message" in eml and eml.startswith(b"Return-Path: <>\n"),
          "unix: second message delivered, null sender kept", repr(eml[:200]))
    check(read("ok-second.rcpt") == b"OK-Second@mx.test\n",
          "unix: %r keeps the local part's case, lowers the domain",
          repr(read("ok-second.rcpt")))
    code, text = c.quit()
    check(code == 221, "unix: QUIT", repr((code, text)))

def unix_greeting():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    deadline = time.time() + 10
    while True:
        try:
            s.connect(os.path.join(tmp, "lmtp.sock"))
            break
        except (ConnectionRefusedError, FileNotFoundError):
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    f = s.makefile("rb")
    line = f.readline()
    check(line == b"220 mx.test LMTP pipesmtpd\r\n",
          "unix: greeting 220 mx.test LMTP pipesmtpd", repr(line))
    s.sendall(b"QUIT\r\n")
    line = f.readline()
    check(line.startswith(b"221 "), "unix: QUIT right after the greeting",
          repr(line))
    s.close()

# --- TCP loopback -------------------------------------------------------
def tcp_session():
    c = connect("127.0.0.1", port)
    code, text = c.ehlo()
    check(code == 250, "tcp: LHLO accepted", repr((code, text)))
    per_recipient("tcp", c, "-tcp", "127.0.0.1")
    c.quit()

run("unix greeting", unix_greeting)
run("unix session", unix_session)
run("tcp session", tcp_session)
EOF
rc=$?
cat "$tmp/client.out"
n=$(grep -c '^ok - ' "$tmp/client.out")
passed=$((passed + n))
n=$(grep -c '^FAIL - ' "$tmp/client.out")
failed=$((failed + n))
[ "$rc" -eq 0 ] || fail "python client exited $rc"

# pipesmtpd's own log: one line per delivery, in the documented shape.
for r in ok temp perm; do
	case $r in
	ok) st=sent ;;
	temp) st=deferred ;;
	perm) st=bounced ;;
	esac
	if grep -q ": to=<$r@mx.test>, from=<sender@example.org>, .* status=$st " "$tmp/unix.log"; then
		pass "unix log: $r status=$st"
	else
		fail "unix log: no status=$st line for $r"
	fi
done
# relay=1: the RCPT to elsewhere.test, refused with 550 5.7.1
if [ "$(grep -c 'pipesmtpd.*: disconnect from ' "$tmp/unix.log")" -eq 2 ] &&
    grep -q 'disconnect from .* messages=2 relay=1$' "$tmp/unix.log"; then
	pass "unix log: two sessions, the second with two messages and one relay attempt"
else
	fail "unix log: sessions"
	cat "$tmp/unix.log"
fi
if grep -q 'connect from unknown\[127\.0\.0\.1\]' "$tmp/tcp.log"; then
	pass "tcp log: client 127.0.0.1 from getpeername"
else
	fail "tcp log: client address"
	cat "$tmp/tcp.log"
fi

# --- The example LMTP units --------------------------------------------
sock_unit=examples/pipesmtpd-lmtp.socket
svc_unit=examples/pipesmtpd-lmtp@.service
if grep -q '^ExecStart=[^ ]*pipesmtpd .*--lmtp' "$svc_unit" &&
    grep -q '^ListenStream=/run/pipesmtpd/lmtp.sock$' "$sock_unit" &&
    grep -q '^Accept=yes$' "$sock_unit"; then
	pass "example units: LMTP on /run/pipesmtpd/lmtp.sock, Accept=yes"
else
	fail "example units: ExecStart --lmtp / ListenStream / Accept"
fi
if grep '^ExecStart=' "$svc_unit" | grep -q '[^%]%[a-z]'; then
	fail "example service: a single % in ExecStart (systemd would expand it)"
else
	pass "example service: placeholders written as %%"
fi
verify_lmtp_units

finish

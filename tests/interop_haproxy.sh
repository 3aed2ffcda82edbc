#!/bin/sh
# interop_haproxy.sh - pipesmtpd --proxy-protocol behind a real HAProxy
# (Debian package haproxy), the way a site scales out: one balancer in
# front of two hosts that each run the same socket-activated pipesmtpd.
#
# Everything is on loopback and started by this script in the
# foreground, under timeout: HAProxy (mode tcp, balance roundrobin,
# option smtpchk with check-send-proxy every 200 ms) on 127.0.0.1 (and
# ::1 where the machine has it), and two backends, each
# systemd-socket-activate --accept --inetd running pipesmtpd
# --proxy-protocol; HAProxy reaches one with send-proxy-v2 and the other
# with send-proxy (v1).  The client (Python's smtplib) binds 127.0.0.2,
# so the client's address differs from the balancer's (127.0.0.1), which
# is all the backends see of the connection itself.
#
# What it proves: the health checks pass through the PROXY header (both
# servers L7OK); 100 sessions are split between the two backends; then
# one backend is stopped and 100 more sessions follow at once: HAProxy's
# check marks it DOWN, every later message reaches the other, and a
# session that failed meanwhile is retried by the client, as a sending
# MTA retries a refused or dropped connection (the retries are counted
# and printed).  Every one of the 200 messages is delivered exactly once,
# with %i, CLIENT_ADDRESS and Received naming 127.0.0.2 and the backend
# logs naming the client and the balancer.  Then an IPv6 client on ::1
# (skipped, with a message, only where ::1 cannot be bound).  The
# examples: examples/haproxy.cfg passes haproxy -c and carries the
# settings tested here; examples/pipesmtpd-proxy@.service runs
# --proxy-protocol and examples/pipesmtpd-proxy.socket admits only the
# balancers (systemd-analyze verify is tests/deploy_examples.sh's).
#
# Needs haproxy, python3, systemd-socket-activate, timeout.  A missing
# haproxy is a failure (with PIPESMTPD_DEV=1 a skip).  Prints one
# closing line "interop-haproxy: N passed, M failed".

cd "$(dirname "$0")/.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH

SUITE=interop-haproxy
. tests/scriptlib.sh

if ! command -v haproxy >/dev/null 2>&1; then
	if [ "${PIPESMTPD_DEV:-}" = 1 ]; then
		echo "SKIP - haproxy is not installed (Debian package: haproxy)"
		skipped=" haproxy"
		finish
	fi
	fail "haproxy is not installed: install the Debian package haproxy"
	finish
fi
need_tools python3 systemd-socket-activate timeout
build_bin
make_tmp interop-haproxy
mkdir "$tmp/out"

root_opt=
[ "$(id -u)" -eq 0 ] && root_opt=--allow-root

# The delivery command: one file per delivery, named by the backend,
# holding %i, CLIENT_ADDRESS and the message.
cat > "$tmp/deliver" <<'SH'
#!/bin/sh
out=$1 backend=$2 ip=$3
f=$(mktemp "$out/$backend.XXXXXX") || exit 75
{ printf 'ip=%s\nenv=%s\n' "$ip" "$CLIENT_ADDRESS"; cat; } > "$f" || exit 75
SH
chmod 755 "$tmp/deliver"

# backend NAME PORT - one host: pipesmtpd per connection on PORT
backend() {
	spawn timeout 120 systemd-socket-activate --accept --inetd \
		-l "127.0.0.1:$2" "$bin" --proxy-protocol --hostname mx.test \
		--log-stderr $root_opt -- "$tmp/deliver" "$tmp/out" "$1" %i \
		</dev/null >/dev/null 2>"$tmp/$1.log"
}

front=$(free_port)
b1=$(free_port)
b2=$(free_port)
backend b1 "$b1"
backend b2 "$b2"
b2_pid=$!	# timeout's pid: TERM stops that host's launcher

v6_bind=
if timeout 10 python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null; then
	v6_bind="	bind ipv6@::1:$front"
else
	echo "# ::1 cannot be bound here: the IPv6 client part is skipped"
fi

cat > "$tmp/haproxy.cfg" <<EOF
global
	stats socket $tmp/haproxy.sock level admin
	maxconn 200

defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	retries 1

frontend mx
	bind 127.0.0.1:$front
$v6_bind
	default_backend hosts

backend hosts
	balance roundrobin
	option smtpchk EHLO balancer.test
	default-server inter 200ms fall 2 rise 1
	server b1 127.0.0.1:$b1 send-proxy-v2 check check-send-proxy
	server b2 127.0.0.1:$b2 send-proxy check check-send-proxy
EOF

if timeout 30 haproxy -c -q -f "$tmp/haproxy.cfg" > "$tmp/check.out" 2>&1
then
	pass "haproxy -c accepts the configuration"
else
	fail "haproxy -c"
	cat "$tmp/check.out"
	finish
fi
# The example configuration: valid, and the settings tested here.
if timeout 30 haproxy -c -q -f examples/haproxy.cfg > "$tmp/example.out" 2>&1 &&
   grep -q '^[[:space:]]*mode tcp$' examples/haproxy.cfg &&
   grep -q '^[[:space:]]*option smtpchk' examples/haproxy.cfg &&
   grep -q 'send-proxy-v2 check check-send-proxy$' examples/haproxy.cfg; then
	pass "examples/haproxy.cfg: valid; mode tcp, smtpchk, send-proxy-v2, check-send-proxy"
else
	fail "examples/haproxy.cfg"
	cat "$tmp/example.out"
fi
if grep -q '^ExecStart=[^ ]*pipesmtpd --proxy-protocol ' \
    examples/pipesmtpd-proxy@.service &&
   grep -q '^IPAddressDeny=any$' examples/pipesmtpd-proxy.socket &&
   grep -q '^IPAddressAllow=.' examples/pipesmtpd-proxy.socket; then
	pass "examples/pipesmtpd-proxy.socket admits only the balancers; the service runs --proxy-protocol"
else
	fail "examples/pipesmtpd-proxy.socket / @.service"
fi

spawn timeout 120 haproxy -db -f "$tmp/haproxy.cfg" \
	</dev/null >"$tmp/haproxy.log" 2>&1

timeout 100 python3 - "$tmp" "$front" "$b2_pid" "${v6_bind:+v6}" \
	> "$tmp/client.out" 2>&1 <<'PY'
import os, signal, smtplib, socket, sys, time

tmp, front, b2_pid, v6 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4] == "v6"
out = os.path.join(tmp, "out")
retries = 0

def check(cond, name, detail=""):
    print(("ok - " if cond else "FAIL - ") + name +
          ("" if cond else (": " + detail if detail else "")))

def servers():
    """HAProxy's view: server name -> (status, check status)"""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(os.path.join(tmp, "haproxy.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError:
        return {}
    lines = data.decode().splitlines()
    head = lines[0].lstrip("# ").split(",")
    st, ck = head.index("status"), head.index("check_status")
    return {f[1]: (f[st], f[ck]) for f in (l.split(",") for l in lines[1:])
            if len(f) > ck and f[0] == "hosts" and f[1] in ("b1", "b2")}

def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False

def send(n, host="127.0.0.1", source="127.0.0.2"):
    """message n, retried on a refused or dropped connection as an MTA
    would (never after its 250)"""
    global retries
    msg = ("From: a@client.test\r\nTo: u@mx.test\r\nSubject: msg %d\r\n"
           "\r\nbody %d\r\n" % (n, n))
    for attempt in range(20):
        try:
            c = smtplib.SMTP(host, front, "client.test", timeout=10,
                             source_address=(source, 0))
        except (OSError, smtplib.SMTPException):
            retries += 1
            time.sleep(0.05)
            continue
        try:
            c.sendmail("a@client.test", ["u@mx.test"], msg)
        except (OSError, smtplib.SMTPException):
            retries += 1
            c.close()
            time.sleep(0.05)
            continue
        try:
            c.quit()
        except (OSError, smtplib.SMTPException):
            pass
        return True
    return False

def records():
    """message number -> [(backend, ip, env, received)]"""
    got = {}
    for name in os.listdir(out):
        with open(os.path.join(out, name)) as f:
            text = f.read()
        ip, env, rest = text.split("\n", 2)
        n = int(rest.split("Subject: msg ", 1)[1].split("\n", 1)[0])
        rec = rest.split("Received: ", 1)[1].split("\n", 1)[0]
        got.setdefault(n, []).append((name.split(".")[0], ip[3:], env[4:],
                                      rec))
    return got

up = wait_for(lambda: all(v == ("UP", "L7OK") for v in servers().values())
              and len(servers()) == 2, 20)
check(up, "both backends UP, SMTP health checks through the PROXY header "
      "(L7OK)", repr(servers()))

first = [n for n in range(1, 101) if not send(n)]
check(not first, "100 sessions through HAProxy", "unsent: %r" % first)
split = {}
for n, recs in records().items():
    for r in recs:
        split[r[0]] = split.get(r[0], 0) + 1
check(split.get("b1", 0) >= 25 and split.get("b2", 0) >= 25,
      "roundrobin split the first 100 between both backends",
      repr(split))
print("# first 100: b1 (send-proxy-v2) %d, b2 (send-proxy) %d" %
      (split.get("b1", 0), split.get("b2", 0)))

os.kill(b2_pid, signal.SIGTERM)         # one host goes away mid-run
before = retries
later = [n for n in range(101, 201) if not send(n)]
check(not later, "100 more sessions after b2 stopped", "unsent: %r" % later)
print("# client retries after b2 stopped: %d" % (retries - before))
down = wait_for(lambda: servers().get("b2", ("",))[0].startswith("DOWN")
                and servers().get("b1", ("",))[0] == "UP", 10)
check(down, "HAProxy's check marked b2 DOWN, b1 stays UP", repr(servers()))

got = records()
once = [n for n in range(1, 201) if len(got.get(n, [])) != 1]
check(not once and len(got) == 200, "all 200 messages delivered exactly "
      "once", "missing or duplicated: %r" % once[:20])
late = [n for n in range(101, 201) if got.get(n) and got[n][0][0] != "b1"]
check(not late, "every message after the stop reached b1", repr(late[:20]))
bad = [(n, r) for n in got for r in got[n] if r[1] != "127.0.0.2" or
       r[2] != "127.0.0.2" or "(unknown [127.0.0.2])" not in r[3]]
check(not bad, "%i, CLIENT_ADDRESS and Received name the client "
      "127.0.0.2, not the balancer", repr(bad[:3]))

if v6:
    base = len(os.listdir(out))
    v6sent = [n for n in range(201, 211)
              if not send(n, host="::1", source="::1")]
    got = records()
    v6bad = [n for n in range(201, 211) if len(got.get(n, [])) != 1 or
             got[n][0][1] != "::1" or got[n][0][2] != "::1" or
             "(unknown [IPv6:::1])" not in got[n][0][3]]
    check(not v6sent and not v6bad and len(os.listdir(out)) == base + 10,
          "IPv6 client on ::1: %i, CLIENT_ADDRESS ::1, Received "
          "[IPv6:::1]", "unsent %r, wrong %r" % (v6sent, v6bad))
PY
rc=$?
cat "$tmp/client.out"
passed=$((passed + $(grep -c '^ok - ' "$tmp/client.out")))
failed=$((failed + $(grep -c '^FAIL - ' "$tmp/client.out")))
[ "$rc" -eq 0 ] || fail "the client script exited $rc"

# The backends' logs: each header version seen, the client and the
# balancer named, no header refused, health checks answered.
if grep -q 'proxy v2 from unknown\[127.0.0.1\]: client \[127.0.0.2\]' \
    "$tmp/b1.log" &&
   grep -q 'proxy v1 from unknown\[127.0.0.1\]: client \[127.0.0.2\]' \
    "$tmp/b2.log"; then
	pass "backend logs: v2 on b1, v1 on b2, client 127.0.0.2 via 127.0.0.1"
else
	fail "backend logs lack the proxy lines"
	tail -5 "$tmp/b1.log" "$tmp/b2.log"
fi
if grep -q 'refused:' "$tmp/b1.log" "$tmp/b2.log"; then
	fail "a backend refused a header from HAProxy"
	grep 'refused:' "$tmp/b1.log" "$tmp/b2.log" | head -5
else
	pass "no header from HAProxy refused"
fi
if grep -q 'client=\[127.0.0.2\]' "$tmp/b1.log" &&
   ! grep 'client=\[' "$tmp/b1.log" "$tmp/b2.log" |
    grep -v 'client=\[127.0.0.2\]' | grep -qv 'client=\[::1\]'; then
	pass "delivery log lines name the client, never the balancer"
else
	fail "delivery log lines name someone else"
fi
finish

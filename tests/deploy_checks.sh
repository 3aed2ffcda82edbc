#!/bin/sh
# deploy_checks.sh - the recipes for a host on the open internet
# (doc/checks.md), each run for real against the INSTALLED pipesmtpd and
# the installed examples, with DNS from tests/dnslib.sh: Debian's dnsmasq
# on a 127.0.53.N address, seen through a private /etc/resolv.conf in a
# mount namespace (unshare) by every server started here.  Each server is
# tcpserver (ucspi-tcp) on a free port of 127.0.0.1, running pipesmtpd
# as nobody; a Python client binds 127.0.0.2 or 127.0.0.3 so the client
# addresses differ, and reads every reply.
#
# What it proves:
# - DNS: a name that exists only in the test zone resolves inside the
#   namespace, and the server's log shows the query; a name outside the
#   zones is refused (nothing is forwarded anywhere); the machine's own
#   /etc/resolv.conf is untouched.
# - Greylisting (examples/greylist-check, greylistd started here with its
#   own config, state and socket under tmp, retryMin 2 s; the client
#   greylist(1) reads the config bind-mounted over /etc/greylistd/config):
#   the first RCPT gets 450 4.2.1 and nothing is delivered; a retry
#   before the delay still 450; after it, accepted and delivered; the
#   triplet greylistd lists is the client's /24; with greylistd stopped
#   every RCPT, even a whitelisted triplet's, gets 451 4.3.0.
# - DNSBL in front (examples/tcpserver-rbl.run rewritten onto the test's
#   port and zone): a client from 127.0.0.2, listed in the zone, gets
#   rblsmtpd's 553 with the TXT record's text and pipesmtpd never runs;
#   a client from 127.0.0.3 is delivered.
# - DNSBL behind --proxy-protocol (examples/dnsbl-check through
#   --rcpt-check): through a real HAProxy (send-proxy) the listed
#   127.0.0.2 gets 550 with the list named and the unlisted 127.0.0.3 is
#   delivered, although pipesmtpd's peer is HAProxy; PROXY v1 headers
#   written by the client: a listed IPv6 address (nibble form) is
#   refused, an unlisted one delivered; a zone that fails (SERVFAIL)
#   gives 451 4.3.0.
# - DNS down (dnsmasq stopped): rblsmtpd -c answers 451 and dnsbl-check
#   451 4.3.0; neither lets the client through.
#
# Needs root, dnsmasq (dnsmasq-base), greylistd, ucspi-tcp, haproxy,
# python3, unshare and flock (util-linux).  Binds port 53 of a loopback
# address, so it runs under flock /tmp/pipesmtpd-deploy.lock.  Prints
# "deploy-checks: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH
NAME=checks
. tests/deploylib.sh
. tests/dnslib.sh

need tcpserver ucspi-tcp || finish
need rblsmtpd ucspi-tcp || finish
need greylistd greylistd || finish
need greylist greylistd || finish
need haproxy haproxy || finish

if install_root; then
	pass "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install"
	finish
fi
# the scripts as doc/checks.md installs them
ex=$tmp/root/usr/local/share/doc/pipesmtpd/examples
mkdir "$tmp/bin"
for f in greylist-check dnsbl-check; do
	install -m 755 "$ex/$f" "$tmp/bin/$f" || { fail "install $f"; finish; }
done

# The records: DNSBL zone zen.test lists 127.0.0.2 and 2001:db8::25;
# only.example.test exists nowhere else; broken.test fails.
dns_zone example.test
dns_a only.example.test 192.0.2.7
dns_zone zen.test
dns_listed zen.test 127.0.0.2 "blocked, see https://zen.test/query/127.0.0.2"
dns_listed zen.test 2001:db8::25 "blocked IPv6"
dns_broken broken.test
dns_start || finish

# Delivery: each recipient's message as rec/LOCAL.eml (tests/scriptlib.sh)
mkdir "$tmp/rec"
chown nobody:nogroup "$tmp/rec"
outcome_command "$tmp/deliver"

# --- DNS ---------------------------------------------------------------

before=$(cat /etc/resolv.conf)
got=$( (dns_run 20 getent hosts only.example.test) 2>&1)
if [ "$got" = "192.0.2.7       only.example.test" ] &&
    dns_queried only.example.test A; then
	pass "DNS: only.example.test resolves in the namespace; dnsmasq logged the query"
else
	fail "DNS: only.example.test: $got"
	cat "$dns_dir/log"
fi
if ( (dns_run 20 getent hosts www.debian.org) >/dev/null 2>&1) ||
    ! grep -q 'query\[A\] www.debian.org' "$dns_dir/log" ||
    ! grep -q 'config error is REFUSED' "$dns_dir/log" ||
    grep -q 'forwarded www.debian.org' "$dns_dir/log"; then
	fail "DNS: a name outside the zones"
	cat "$dns_dir/log"
else
	pass "DNS: a name outside the zones is refused by dnsmasq, forwarded nowhere"
fi
ns=$( (dns_run 20 cat /etc/resolv.conf) 2>&1)
if [ "$ns" = "nameserver $dns_ip
options timeout:1 attempts:2" ] && [ "$(cat /etc/resolv.conf)" = "$before" ]; then
	pass "DNS: the namespace's resolv.conf names $dns_ip only; the machine's is untouched"
else
	fail "DNS: resolv.conf: $ns"
fi

# client.py - one SMTP transaction from a source address; one line per
# reply: "greeting CODE ...", "MAIL ...", "RCPT <r> ...", "DATA ...",
# "END ..."; --proxy LINE sends a PROXY v1 header first
cat > "$tmp/client.py" <<'PY'
import socket, sys
args = sys.argv[1:]
proxy = None
if args[0] == "--proxy":
    proxy, args = args[1], args[2:]
src, port, sender, rcpts = args[0], int(args[1]), args[2], args[3:]
s = socket.create_connection(("127.0.0.1", port), 20, (src, 0))
f = s.makefile("rb")
def reply(what):
    lines = []
    while True:
        l = f.readline()
        if not l:
            print(what, "EOF"); sys.exit(0)
        lines.append(l.decode().rstrip("\r\n"))
        if l[3:4] != b"-":
            break
    print(what, lines[-1])
    return lines[-1][:1]
def cmd(what, line):
    s.sendall(line.encode() + b"\r\n")
    return reply(what)
if proxy:
    s.sendall(proxy.encode() + b"\r\n")
if reply("greeting") == "2" and cmd("EHLO", "EHLO client.test") == "2":
    if cmd("MAIL", "MAIL FROM:<%s>" % sender) == "2":
        ok = [r for r in rcpts if cmd("RCPT <%s>" % r, "RCPT TO:<%s>" % r) == "2"]
        if ok and cmd("DATA", "DATA") == "3":
            s.sendall(b"Subject: check\r\n\r\nchecked body\r\n.\r\n")
            reply("END")
    cmd("QUIT", "QUIT")
PY

# try SRC PORT [--proxy LINE] SENDER RCPT... - client.py; its lines to out
try() {
	if [ "$3" = --proxy ]; then
		timeout 60 python3 "$tmp/client.py" --proxy "$4" "$1" "$2" \
			"$5" "$6" > "$tmp/out" 2>&1
	else
		timeout 60 python3 "$tmp/client.py" "$@" > "$tmp/out" 2>&1
	fi
}

# replied LINE - the client saw LINE (a whole line)
replied() {
	grep -qxF "$1" "$tmp/out"
}

# delivered LOCAL - rec/LOCAL.eml holds the client's message
delivered() {
	grep -q '^checked body$' "$tmp/rec/$1.eml" 2>/dev/null
}

# serve PORT LOG ARGS... - tcpserver on 127.0.0.1:PORT running ARGS as
# nobody (group greylist), in the DNS namespace; its log to LOG
serve() {
	port=$1 log=$2
	shift 2
	spawn dns_run 300 tcpserver -v -H -R -l localhost \
		-u "$(id -u nobody)" -g "$(getent group greylist | cut -d: -f3)" \
		127.0.0.1 "$port" "$@" </dev/null >"$log" 2>&1
	wait_port "$port" || { fail "tcpserver on $port did not start"; cat "$log"; }
}

smtpd_args="$ibin --log-stderr --hostname mx.example.test --domain example.org"
deliver="$tmp/deliver $tmp/rec %l"

# --- greylisting -------------------------------------------------------

gl=$tmp/greylist
mkdir "$gl"
chown greylist:greylist "$gl"
cat > "$gl/config" <<EOF
[timeouts]
retryMin     = 2
retryMax     = 600
expire       = 3600
[socket]
path         = $gl/socket
mode         = 0660
[data]
update       = 600
statefile    = $gl/states
tripletfile  = $gl/triplets
savetriplets = true
EOF
dns_bind "$gl/config" /etc/greylistd/config
spawn timeout 300 setpriv --reuid=greylist --regid=greylist --init-groups \
	greylistd "$gl/config" </dev/null >"$gl/log" 2>&1
gl_pid=$!
if wait_until test -S "$gl/socket"; then
	pass "greylistd runs with its own config (socket under tmp)"
else
	fail "greylistd did not start"
	cat "$gl/log"
fi
gport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$gport" "$tmp/grey.log" $smtpd_args \
	--rcpt-check "$tmp/bin/greylist-check" -- $deliver

try 127.0.0.2 "$gport" sender@example.net ok1@example.org
if replied "RCPT <ok1@example.org> 450 4.2.1 <ok1@example.org>: Recipient address rejected: greylisted, please try again later" &&
    ! delivered ok1; then
	pass "greylist: the first attempt gets 450 4.2.1, nothing delivered"
else
	fail "greylist: first attempt"
	cat "$tmp/out" "$tmp/grey.log"
fi
try 127.0.0.2 "$gport" sender@example.net ok1@example.org
if replied "RCPT <ok1@example.org> 450 4.2.1 <ok1@example.org>: Recipient address rejected: greylisted, please try again later"; then
	pass "greylist: a retry before retryMin is still 450 4.2.1"
else
	fail "greylist: early retry"
	cat "$tmp/out"
fi
sleep 3
# another address of the same /24: the triplet is the network's
try 127.0.0.3 "$gport" sender@example.net ok1@example.org
if replied "RCPT <ok1@example.org> 250 2.1.5 Ok" &&
    grep -q '^END 250 2\.0\.0 ' "$tmp/out" && delivered ok1; then
	pass "greylist: the retry after retryMin is accepted and delivered"
else
	fail "greylist: retry after the delay"
	cat "$tmp/out" "$tmp/grey.log"
fi
listed=$( (dns_run 20 greylist list --white) 2>&1)
case $listed in
*"127.0.0.0/24 sender@example.net ok1@example.org"*)
	pass "greylist: greylistd's white list holds the /24 triplet" ;;
*)	fail "greylist list: $listed" ;;
esac
try 127.0.0.2 "$gport" sender@example.net ok2@example.org
if replied "RCPT <ok2@example.org> 450 4.2.1 <ok2@example.org>: Recipient address rejected: greylisted, please try again later"; then
	pass "greylist: another recipient is a new triplet: 450 4.2.1"
else
	fail "greylist: new triplet"
	cat "$tmp/out"
fi
kill "$gl_pid"
wait "$gl_pid" 2>/dev/null
rm -f "$tmp/rec/ok1.eml"
try 127.0.0.2 "$gport" sender@example.net ok1@example.org ok3@example.org
if replied "RCPT <ok1@example.org> 451 4.3.0 <ok1@example.org>: Recipient address rejected: greylisting unavailable, please try again later" &&
    replied "RCPT <ok3@example.org> 451 4.3.0 <ok3@example.org>: Recipient address rejected: greylisting unavailable, please try again later" &&
    ! delivered ok1 && ! delivered ok3; then
	pass "greylist: greylistd down: 451 4.3.0 for every RCPT, even a white triplet's"
else
	fail "greylist: greylistd down"
	cat "$tmp/out"
fi

finish

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
# - SpamAssassin (examples/spamc-check through --data-check, spamd
#   started here on a free port with Debian's rules, local tests only,
#   its own site configuration and home): GTUBE to two recipients gets
#   554 5.7.1 at the end of data and nothing is delivered; a clean
#   message to two recipients gets spamd's X-Spam-* fields once each,
#   right after Received:, in both copies; with spamd stopped, GTUBE and
#   the clean message alike get 451 4.3.0 (spamc -x: no silent pass).
# - SPF (examples/spf-check, python3-spf): spf.test allows 127.0.0.3:
#   a client there passes with one Received-SPF: Pass in each copy; one
#   at 127.0.0.4 gets 554 5.7.23 (RFC 7372); a domain whose DNS fails
#   gets 451 4.7.24 (temperror); the null sender is checked as the HELO
#   name's postmaster.
# - DKIM and DMARC (examples/dkim-check, python3-dkim and
#   python3-authheaders, --authserv-id): a message the test signs with
#   the key it publishes, carrying a forged Authentication-Results: with
#   the host's id, gets one Authentication-Results: with spf, dkim and
#   dmarc pass in each copy, the forged one removed (and logged); the
#   body changed after signing gives dkim=fail; from 127.0.0.4 as well,
#   dmarc=fail with the domain's reject policy.
# - DNS down (dnsmasq stopped): rblsmtpd -c answers 451 and dnsbl-check
#   451 4.3.0; neither lets the client through.
#
# Needs root, dnsmasq (dnsmasq-base), greylistd, ucspi-tcp, haproxy,
# spamd, spamc, python3-spf, python3-dkim, python3-authheaders, openssl,
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
need spamd spamd || finish
need spamc spamc || finish
for m in spf:python3-spf dkim:python3-dkim authheaders:python3-authheaders; do
	/usr/bin/python3 -c "import ${m%%:*}" 2>/dev/null ||
		need "python3-module-${m%%:*}" "${m#*:}" || finish
done
need openssl openssl || finish

if install_root; then
	pass "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install"
	finish
fi
# the scripts as doc/checks.md installs them
ex=$tmp/root/usr/local/share/doc/pipesmtpd/examples
mkdir "$tmp/bin"
for f in greylist-check dnsbl-check spamc-check spf-check dkim-check; do
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
# SPF: spf.test lets 127.0.0.3 send, nothing else; spfbroken.test fails.
# DKIM: dkim.test publishes the key the test signs with (selector sel),
# a DMARC policy of reject, and the same SPF record as spf.test.
dns_zone spf.test
dns_txt spf.test "v=spf1 ip4:127.0.0.3 -all"
dns_broken spfbroken.test
dns_zone dkim.test
timeout 60 openssl genrsa -out "$tmp/dkim.key" 2048 2>/dev/null &&
    dkimpub=$(timeout 20 openssl rsa -in "$tmp/dkim.key" -pubout -outform DER \
	2>/dev/null | base64 -w 0) && [ -n "$dkimpub" ] ||
	{ fail "openssl: no DKIM key"; finish; }
dns_txt sel._domainkey.dkim.test "v=DKIM1; k=rsa; p=$dkimpub"
dns_txt _dmarc.dkim.test "v=DMARC1; p=reject"
dns_txt dkim.test "v=spf1 ip4:127.0.0.3 -all"
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
# "END ..."; --proxy LINE sends a PROXY v1 header first.  The message is
# the file $CLIENT_MESSAGE if set (LF line ends), the EHLO name
# $CLIENT_EHLO (client.test otherwise)
cat > "$tmp/client.py" <<'PY'
import os, socket, sys
args = sys.argv[1:]
proxy = None
if args[0] == "--proxy":
    proxy, args = args[1], args[2:]
src, port, sender, rcpts = args[0], int(args[1]), args[2], args[3:]
s = socket.create_connection(("127.0.0.1", port),
                             int(os.environ.get("CLIENT_TIMEOUT", "20")), (src, 0))
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
message = b"Subject: check\r\n\r\nchecked body\r\n"
if os.environ.get("CLIENT_MESSAGE"):
    with open(os.environ["CLIENT_MESSAGE"], "rb") as m:
        lines = m.read().replace(b"\r\n", b"\n").split(b"\n")[:-1]
    message = b"".join(b"." * l.startswith(b".") + l + b"\r\n" for l in lines)
ehlo = os.environ.get("CLIENT_EHLO", "client.test")
if reply("greeting") == "2" and cmd("EHLO", "EHLO " + ehlo) == "2":
    if cmd("MAIL", "MAIL FROM:<%s>" % sender) == "2":
        ok = [r for r in rcpts if cmd("RCPT <%s>" % r, "RCPT TO:<%s>" % r) == "2"]
        if ok and cmd("DATA", "DATA") == "3":
            s.sendall(message + b".\r\n")
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


# --- DNSBL in front: rblsmtpd ------------------------------------------

run=examples/tcpserver-rbl.run
if grep -q '^exec tcpserver -v -R -c 40 -u "$MAILUID" -g "$MAILGID" 0 25 \\$' "$run" &&
    grep -q '^	rblsmtpd -c -b -r zen.spamhaus.org \\$' "$run" &&
    grep -q '^	/usr/local/sbin/pipesmtpd --log-stderr \\$' "$run" &&
    grep -q '^	--null-sender MAILER-DAEMON -- /usr/bin/procmail -f %s -d %u$' "$run"; then
	pass "$run: the lines this test rewrites are as expected"
else
	fail "$run changed: update this test"
	finish
fi
rport=$(free_port)
sed -e 's/id -u mail/id -u nobody/; s/id -g mail/id -g nobody/' \
	-e "s|-g \"\$MAILGID\" 0 25 |-g \"\$MAILGID\" -H -l localhost 127.0.0.1 $rport |" \
	-e 's|-r zen.spamhaus.org|-r zen.test|' \
	-e "s|/usr/local/sbin/pipesmtpd |$ibin |" \
	-e "s|-- /usr/bin/procmail -f %s -d %u|-- $deliver|" \
	"$run" > "$tmp/rbl.run"
spawn dns_run 300 sh "$tmp/rbl.run" </dev/null >"$tmp/rbl.log" 2>&1
wait_port "$rport" || { fail "the rblsmtpd run script did not start"; cat "$tmp/rbl.log"; }

try 127.0.0.2 "$rport" sender@example.net ok4@example.org
if replied "RCPT <ok4@example.org> 553 blocked, see https://zen.test/query/127.0.0.2" &&
    ! delivered ok4 && dns_queried 2.0.0.127.zen.test TXT &&
    grep -q '^rblsmtpd: 127\.0\.0\.2 pid [0-9]*: 553 blocked' "$tmp/rbl.log" &&
    ! grep -q 'pipesmtpd.*127\.0\.0\.2' "$tmp/rbl.log"; then
	pass "rblsmtpd: listed 127.0.0.2 gets 553 with the TXT text, logged; pipesmtpd never runs"
else
	fail "rblsmtpd: listed client"
	cat "$tmp/out" "$tmp/rbl.log"
fi
try 127.0.0.3 "$rport" sender@example.net ok4@example.org
if grep -q '^END 250 2\.0\.0 ' "$tmp/out" && delivered ok4 &&
    dns_queried 3.0.0.127.zen.test TXT; then
	pass "rblsmtpd: unlisted 127.0.0.3 is looked up and delivered"
else
	fail "rblsmtpd: unlisted client"
	cat "$tmp/out" "$tmp/rbl.log"
fi

# --- DNSBL behind --proxy-protocol: dnsbl-check -------------------------

pport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$pport" "$tmp/proxy.log" $smtpd_args --proxy-protocol \
	--rcpt-check "$tmp/bin/dnsbl-check zen.test" -- $deliver
bport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$bport" "$tmp/broken.log" $smtpd_args --proxy-protocol \
	--rcpt-check "$tmp/bin/dnsbl-check zen.test broken.test" -- $deliver
hport=$(free_port)
cat > "$tmp/haproxy.cfg" <<HAPROXY
global
	maxconn 100

defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s

frontend mx
	bind 127.0.0.1:$hport
	default_backend hosts

backend hosts
	server mx1 127.0.0.1:$pport send-proxy
HAPROXY
spawn timeout 300 haproxy -db -f "$tmp/haproxy.cfg" </dev/null \
	>"$tmp/haproxy.log" 2>&1
wait_port "$hport" || { fail "haproxy did not start"; cat "$tmp/haproxy.log"; }

try 127.0.0.2 "$hport" sender@example.net ok5@example.org
if replied "RCPT <ok5@example.org> 550 5.7.1 <ok5@example.org>: Recipient address rejected: client 127.0.0.2 is listed in zen.test" &&
    ! delivered ok5 &&
    grep -q 'proxy.*127\.0\.0\.2' "$tmp/proxy.log"; then
	pass "dnsbl-check behind HAProxy: listed 127.0.0.2 gets 550, nothing delivered"
else
	fail "dnsbl-check behind HAProxy: listed client"
	cat "$tmp/out" "$tmp/proxy.log"
fi
try 127.0.0.3 "$hport" sender@example.net ok5@example.org
if grep -q '^END 250 2\.0\.0 ' "$tmp/out" && delivered ok5 &&
    grep -q '^Received: from client.test (unknown \[127\.0\.0\.3\])$' \
    "$tmp/rec/ok5.eml" && dns_queried 3.0.0.127.zen.test A; then
	pass "dnsbl-check behind HAProxy: unlisted 127.0.0.3 looked up and delivered"
else
	fail "dnsbl-check behind HAProxy: unlisted client"
	cat "$tmp/out" "$tmp/proxy.log"
fi
v6listed=5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test
try 127.0.0.1 "$pport" --proxy "PROXY TCP6 2001:db8::25 2001:db8::1 40000 25" \
	sender@example.net ok6@example.org
if replied "RCPT <ok6@example.org> 550 5.7.1 <ok6@example.org>: Recipient address rejected: client 2001:db8::25 is listed in zen.test" &&
    ! delivered ok6 && dns_queried "$v6listed" A; then
	pass "dnsbl-check: listed IPv6 2001:db8::25 (nibble form) gets 550"
else
	fail "dnsbl-check: listed IPv6 client"
	cat "$tmp/out" "$tmp/proxy.log"
fi
try 127.0.0.1 "$pport" --proxy "PROXY TCP6 2001:db8::26 2001:db8::1 40000 25" \
	sender@example.net ok6@example.org
if grep -q '^END 250 2\.0\.0 ' "$tmp/out" && delivered ok6; then
	pass "dnsbl-check: unlisted IPv6 2001:db8::26 delivered"
else
	fail "dnsbl-check: unlisted IPv6 client"
	cat "$tmp/out" "$tmp/proxy.log"
fi
try 127.0.0.1 "$bport" --proxy "PROXY TCP4 192.0.2.9 127.0.0.1 40000 25" \
	sender@example.net ok7@example.org
if replied "RCPT <ok7@example.org> 451 4.3.0 <ok7@example.org>: Recipient address rejected: cannot check 192.0.2.9 in broken.test (Temporary failure in name resolution), please try again later" &&
    ! delivered ok7; then
	pass "dnsbl-check: a zone that fails (SERVFAIL) gives 451 4.3.0"
else
	fail "dnsbl-check: failing zone"
	cat "$tmp/out" "$tmp/broken.log"
fi

# send SRC PORT EHLO FILE SENDER RCPT... - try with the message FILE and
# the EHLO name given
send() {
	CLIENT_EHLO=$3 CLIENT_MESSAGE=$4 timeout 60 python3 "$tmp/client.py" \
		"$1" "$2" "$5" "$6" ${7:+"$7"} > "$tmp/out" 2>&1
}

# fields NAME FILE - how many header fields of FILE's header block are
# named NAME (case-insensitive)
fields() {
	sed '/^$/q' "$2" | grep -c -i "^$1:"
}

# after_received NAME FILE - the field after pipesmtpd's Received: (and
# its folded lines) is NAME
after_received() {
	awk -v name="$1" '
	r && !/^[ \t]/ { exit (tolower(substr($0, 1, length(name) + 1)) != tolower(name ":")) }
	/^Received: / { r = 1 }
	END { if (!r) exit 1 }' "$2"
}

# --- SpamAssassin: spamc-check through --data-check ----------------------

sa=$tmp/sa
mkdir "$sa" "$sa/site" "$sa/home"
chown nobody:nogroup "$sa/home"
# Debian's rules (GTUBE is one), its plugins, nothing from the network
cp /etc/spamassassin/*.pre "$sa/site/" || fail "no /etc/spamassassin/*.pre"
cat > "$sa/site/local.cf" <<EOF2
use_bayes 0
bayes_auto_learn 0
skip_rbl_checks 1
dns_available no
required_score 5.0
EOF2
saport=$(free_port)
spawn timeout 300 spamd -L -x -4 -i "127.0.0.1:$saport" -m 2 \
	--min-children=1 --max-spare=1 -C /usr/share/spamassassin \
	--siteconfigpath="$sa/site" -u nobody -g nogroup -H "$sa/home" \
	-s stderr </dev/null >"$sa/log" 2>&1
sa_pid=$!
i=0
until wait_port "$saport" || [ $((i += 1)) -ge 6 ]; do :; done
if wait_port "$saport"; then
	pass "spamd runs on 127.0.0.1:$saport, local tests only, its own config"
else
	fail "spamd did not start in 60 s"
	cat "$sa/log"
fi
sport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$sport" "$tmp/spam.log" $smtpd_args \
	--data-check "$tmp/bin/spamc-check -d 127.0.0.1 -p $saport" -- $deliver

printf 'From: <sender@example.net>\nTo: <ok9@example.org>\nSubject: gtube\n\nchecked body\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' \
	> "$tmp/gtube.eml"
cat > "$tmp/clean.eml" <<'EOF2'
From: Sender <sender@example.net>
To: <ok9@example.org>, <ok10@example.org>
Subject: lunch on Thursday
Date: Thu, 05 Dec 2024 10:00:00 +0000
Message-ID: <20241205100000.1234@mail.example.net>

Shall we meet at noon, as last week?
checked body
EOF2
send 127.0.0.3 "$sport" client.test "$tmp/gtube.eml" sender@example.net \
	ok9@example.org ok10@example.org
if grep -q '^END 554 5\.7\.1 Message not accepted: spam detected (score 10[0-9][0-9]\.[0-9], required 5\.0)' "$tmp/out" &&
    ! delivered ok9 && ! delivered ok10 &&
    grep -q 'data-check=.*status=rejected' "$tmp/spam.log"; then
	pass "spamc-check: GTUBE gets 554 5.7.1 at the end of data, nothing delivered"
else
	fail "spamc-check: GTUBE"
	cat "$tmp/out" "$tmp/spam.log" "$sa/log"
fi
send 127.0.0.3 "$sport" client.test "$tmp/clean.eml" sender@example.net \
	ok9@example.org ok10@example.org
ok=1
for r in ok9 ok10; do
	f=$tmp/rec/$r.eml
	delivered "$r" && [ "$(fields X-Spam-Status "$f")" = 1 ] &&
	    [ "$(fields X-Spam-Checker-Version "$f")" = 1 ] &&
	    grep -q '^X-Spam-Status: No, score=' "$f" &&
	    after_received X-Spam-Checker-Version "$f" || ok=
done
if [ -n "$ok" ] && grep -q '^END 250 2\.0\.0 Ok: delivered to 2 of 2 ' "$tmp/out"; then
	pass "spamc-check: a clean message gets spamd's X-Spam-* fields once, after Received:, in both copies"
else
	fail "spamc-check: clean message"
	cat "$tmp/out" "$tmp/rec/ok9.eml" "$tmp/rec/ok10.eml" "$tmp/spam.log"
fi
rm -f "$tmp/rec/ok9.eml" "$tmp/rec/ok10.eml"
kill "$sa_pid"
wait "$sa_pid" 2>/dev/null
send 127.0.0.3 "$sport" client.test "$tmp/gtube.eml" sender@example.net ok9@example.org
send_gtube=$(cat "$tmp/out")
send 127.0.0.3 "$sport" client.test "$tmp/clean.eml" sender@example.net ok9@example.org
if echo "$send_gtube" | grep -q '^END 451 4\.3\.0 Message not accepted: spam filter unavailable (spamc exit 69), please try again later' &&
    grep -q '^END 451 4\.3\.0 Message not accepted: spam filter unavailable' "$tmp/out" &&
    ! delivered ok9; then
	pass "spamc-check: spamd down: 451 4.3.0 for spam and clean alike, nothing passes unchecked"
else
	fail "spamc-check: spamd down"
	echo "$send_gtube"
	cat "$tmp/out" "$tmp/spam.log"
fi

# --- SPF: spf-check through --data-check --------------------------------

fport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$fport" "$tmp/spf.log" $smtpd_args \
	--data-check "$tmp/bin/spf-check mx.example.test" -- $deliver
send 127.0.0.3 "$fport" client.test "$tmp/clean.eml" sender@spf.test \
	ok11@example.org ok12@example.org
ok=1
for r in ok11 ok12; do
	f=$tmp/rec/$r.eml
	delivered "$r" && [ "$(fields Received-SPF "$f")" = 1 ] &&
	    after_received Received-SPF "$f" &&
	    grep -q '^Received-SPF: Pass (mx\.example\.test: domain of spf\.test designates 127\.0\.0\.3 as permitted sender)' "$f" &&
	    grep -q 'client-ip=127\.0\.0\.3;' "$f" || ok=
done
if [ -n "$ok" ] && dns_queried spf.test TXT; then
	pass "spf-check: 127.0.0.3 for spf.test passes, Received-SPF: Pass once in both copies"
else
	fail "spf-check: pass"
	cat "$tmp/out" "$tmp/rec/ok11.eml" "$tmp/spf.log"
fi
send 127.0.0.4 "$fport" client.test "$tmp/clean.eml" sender@spf.test ok13@example.org
if grep -q '^END 554 5\.7\.23 Message not accepted: SPF fail: sender@spf\.test is not allowed to send from 127\.0\.0\.4 ' "$tmp/out" &&
    ! delivered ok13; then
	pass "spf-check: 127.0.0.4 for spf.test fails: 554 5.7.23 (RFC 7372), nothing delivered"
else
	fail "spf-check: fail"
	cat "$tmp/out" "$tmp/spf.log"
fi
# pyspf retries a DNS server that does not answer for 20 s (RFC 7208 4.6.4)
CLIENT_TIMEOUT=50
export CLIENT_TIMEOUT
send 127.0.0.3 "$fport" client.test "$tmp/clean.eml" sender@spfbroken.test ok13@example.org
unset CLIENT_TIMEOUT
if grep -q '^END 451 4\.7\.24 Message not accepted: SPF temporary error' "$tmp/out" &&
    ! delivered ok13; then
	pass "spf-check: a domain whose DNS fails (SERVFAIL) gets 451 4.7.24 (temperror)"
else
	fail "spf-check: temperror"
	cat "$tmp/out" "$tmp/spf.log"
fi
send 127.0.0.4 "$fport" spf.test "$tmp/clean.eml" "" ok14@example.org
if grep -q '^END 554 5\.7\.23 Message not accepted: SPF fail: postmaster@spf\.test ' "$tmp/out" &&
    ! delivered ok14; then
	pass "spf-check: the null sender is checked as the HELO name's postmaster"
else
	fail "spf-check: null sender"
	cat "$tmp/out" "$tmp/spf.log"
fi

# --- DKIM and DMARC: dkim-check through --data-check --------------------

kport=$(free_port)
# shellcheck disable=SC2086 # word lists
serve "$kport" "$tmp/dkim.log" $smtpd_args --authserv-id mx.example.test \
	--data-check "$tmp/bin/dkim-check mx.example.test" -- $deliver
cat > "$tmp/unsigned.eml" <<'EOF2'
Authentication-Results: mx.example.test; dkim=pass header.d=dkim.test; dmarc=pass
From: Sender <sender@dkim.test>
To: <ok15@example.org>
Subject: signed
Date: Thu, 05 Dec 2024 10:00:00 +0000
Message-ID: <20241205100000.99@dkim.test>

checked body
EOF2
# sign: python3-dkim with the key published under sel._domainkey.dkim.test
timeout 30 /usr/bin/python3 - "$tmp" <<'PY' || fail "dkim.sign"
import dkim, sys
tmp = sys.argv[1]
msg = open(tmp + "/unsigned.eml", "rb").read()
key = open(tmp + "/dkim.key", "rb").read()
sig = dkim.sign(msg, b"sel", b"dkim.test", key,
                include_headers=[b"from", b"to", b"subject", b"date"])
open(tmp + "/signed.eml", "wb").write(sig.replace(b"\r\n", b"\n") + msg)
open(tmp + "/tampered.eml", "wb").write(sig.replace(b"\r\n", b"\n") +
    msg.replace(b"checked body", b"checked body\nand a line added"))
PY
send 127.0.0.3 "$kport" client.test "$tmp/signed.eml" sender@dkim.test \
	ok15@example.org ok16@example.org
ok=1
for r in ok15 ok16; do
	f=$tmp/rec/$r.eml
	delivered "$r" && [ "$(fields Authentication-Results "$f")" = 1 ] &&
	    after_received Authentication-Results "$f" &&
	    sed '/^$/q' "$f" | tr -d '\n' | grep -q \
	    '^.*Authentication-Results: mx\.example\.test;	spf=pass .*;	dkim=pass header\.d=dkim\.test[^;]*;	dmarc=pass .*header\.from=dkim\.test' ||
	    ok=
done
if [ -n "$ok" ] && dns_queried sel._domainkey.dkim.test TXT &&
    dns_queried _dmarc.dkim.test TXT &&
    grep -q 'removed 1 Authentication-Results: field claiming authserv-id' "$tmp/dkim.log"; then
	pass "dkim-check: a signed message: one Authentication-Results: mx.example.test with spf, dkim and dmarc pass, in both copies; the forged one removed"
else
	fail "dkim-check: signed message"
	cat "$tmp/out" "$tmp/rec/ok15.eml" "$tmp/dkim.log"
fi
send 127.0.0.3 "$kport" client.test "$tmp/tampered.eml" sender@dkim.test ok17@example.org
f=$tmp/rec/ok17.eml
if delivered ok17 && [ "$(fields Authentication-Results "$f")" = 1 ] &&
    sed '/^$/q' "$f" | tr -d '\n' | grep -q \
    'Authentication-Results: mx\.example\.test;	spf=pass .*;	dkim=fail header\.d=dkim\.test[^;]*;	dmarc=pass' &&
    ! grep -q 'dmarc=pass$' "$f"; then
	pass "dkim-check: a body changed after signing: dkim=fail (dmarc still passes by SPF), the forged pass gone"
else
	fail "dkim-check: tampered message"
	cat "$tmp/out" "$f" "$tmp/dkim.log"
fi
send 127.0.0.4 "$kport" client.test "$tmp/tampered.eml" sender@dkim.test ok18@example.org
f=$tmp/rec/ok18.eml
if delivered ok18 && [ "$(fields Authentication-Results "$f")" = 1 ] &&
    sed '/^$/q' "$f" | tr -d '\n' | grep -q \
    'Authentication-Results: mx\.example\.test;	spf=fail .*;	dkim=fail .*;	dmarc=fail .*policy\.dmarc=reject'; then
	pass "dkim-check: tampered and from a foreign address: spf, dkim and dmarc fail (policy reject recorded)"
else
	fail "dkim-check: dmarc fail"
	cat "$tmp/out" "$f" "$tmp/dkim.log"
fi

# --- DNS down ------------------------------------------------------------

dns_stop
try 127.0.0.3 "$rport" sender@example.net ok8@example.org
if grep -q '^RCPT <ok8@example.org> 451 ' "$tmp/out" && ! delivered ok8; then
	pass "DNS down: rblsmtpd -c fails closed (451)"
else
	fail "DNS down: rblsmtpd"
	cat "$tmp/out" "$tmp/rbl.log"
fi
try 127.0.0.1 "$pport" --proxy "PROXY TCP4 192.0.2.10 127.0.0.1 40000 25" \
	sender@example.net ok8@example.org
if replied "RCPT <ok8@example.org> 451 4.3.0 <ok8@example.org>: Recipient address rejected: cannot check 192.0.2.10 in zen.test (Temporary failure in name resolution), please try again later" &&
    ! delivered ok8; then
	pass "DNS down: dnsbl-check gives 451 4.3.0"
else
	fail "DNS down: dnsbl-check"
	cat "$tmp/out" "$tmp/proxy.log"
fi

finish

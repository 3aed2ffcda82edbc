#!/bin/sh
# deploy_tcpserver.sh - the INSTALLED pipesmtpd under ucspi-tcp's
# tcpserver, run by a script made from examples/tcpserver.run: the mail
# account in -u/-g becomes nobody/nogroup, "0 25" a free port on
# 127.0.0.1, the binary the installed one, and the delivery command the
# shell pipeline  /bin/sh -c '... cat >> "$1"' sh BOX %i.  -H and -l are
# added so that tcpserver makes no DNS lookups (this test stays on
# loopback).  msmtp is the client, with a temporary msmtprc (no auth, no
# TLS) and source_ip 127.0.0.2, so the client address is not simply the
# server's own.
#
# What it proves: tcpserver runs pipesmtpd as nobody:nogroup (no --user
# needed), the delivery command too; it sets PROTO=TCP and TCPREMOTEIP,
# which pipesmtpd takes as the client address: 127.0.0.2 in %i, in
# CLIENT_ADDRESS and in Received; without DNS tcpserver sets no
# TCPREMOTEHOST, so Received says "unknown" for the host name; msmtp's
# two recipients each get one copy in the mailbox; --log-stderr lines land
# in the run script's log (exec 2>&1) next to tcpserver's own -v lines.
#
# Then the per-source bound tcpserver itself lacks: in a network namespace
# of its own, with examples/nftables-per-source.nft loaded (port 25 made
# the test's port), the same tcpserver command line holds 10 sessions from
# 127.0.0.1, refuses an 11th from there, and still greets 127.0.0.2.
#
# Needs root, ucspi-tcp, msmtp, nftables (nft), unshare and nsenter.  Prints "deploy-tcpserver: N passed,
# M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=tcpserver
. tests/deploylib.sh

need tcpserver ucspi-tcp || finish
need msmtp msmtp || finish

if install_root; then
	pass "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install"
	finish
fi

# The record directory belongs to nobody, who runs the delivery command.
mkdir "$tmp/rec"
chown nobody:nogroup "$tmp/rec"

port=$(free_port)
run=examples/tcpserver.run
if grep -q '^exec tcpserver -v -R -c 40 -u "$MAILUID" -g "$MAILGID" 0 25 \\$' "$run" &&
    grep -q '^	/usr/local/sbin/pipesmtpd --log-stderr \\$' "$run" &&
    grep -q '^	--null-sender MAILER-DAEMON -- /usr/bin/procmail -f %s -d %u$' "$run"; then
	pass "example run script: the lines this test rewrites are as expected"
else
	fail "$run changed: update this test"
	finish
fi
# shellcheck disable=SC2016 # the inner sh expands "$1" and "$2"
pipeline='umask 077; echo "$2" >> "$1.ip"; env >> "$1.env"; cat >> "$1"'
sed -e 's/id -u mail/id -u nobody/; s/id -g mail/id -g nobody/' \
	-e "s|-g \"\$MAILGID\" 0 25 |-g \"\$MAILGID\" -H -l localhost 127.0.0.1 $port |" \
	-e "s|/usr/local/sbin/pipesmtpd |$ibin |" \
	-e "s|--null-sender MAILER-DAEMON -- /usr/bin/procmail -f %s -d %u|--null-sender MAILER-DAEMON --env TCPREMOTEIP --env TCPREMOTEHOST -- /bin/sh -c '$pipeline' sh $tmp/rec/box %i|" \
	"$run" > "$tmp/run"
if timeout 10 sh -n "$tmp/run"; then
	pass "the rewritten run script parses (sh -n)"
else
	fail "sh -n run"
	cat "$tmp/run"
fi

spawn timeout 120 sh "$tmp/run" </dev/null >"$tmp/run.log" 2>&1
if wait_port "$port"; then
	pass "tcpserver listens on 127.0.0.1:$port"
else
	fail "tcpserver did not start"
	cat "$tmp/run" "$tmp/run.log"
	finish
fi

cat > "$tmp/msmtprc" <<EOF
defaults
auth off
tls off
logfile $tmp/msmtp.log

account test
host 127.0.0.1
port $port
source_ip 127.0.0.2
domain client.test
from sender@example.net

account default : test
EOF
chmod 600 "$tmp/msmtprc"
printf '%s\n' "From: sender@example.net" "To: alice@example.org" \
	"Subject: msmtp through tcpserver" "" "hello from msmtp" > "$tmp/msg"
if timeout 60 msmtp -C "$tmp/msmtprc" alice@example.org Bob@example.org \
	< "$tmp/msg" > "$tmp/msmtp.out" 2>&1; then
	pass "msmtp: sent to two recipients"
else
	fail "msmtp exited non-zero"
	cat "$tmp/msmtp.out" "$tmp/msmtp.log" "$tmp/run.log"
fi
if grep -q 'smtpstatus=250 smtpmsg=.250 2\.0\.0 ' "$tmp/msmtp.log" &&
    grep -q 'recipients=alice@example.org,Bob@example.org' "$tmp/msmtp.log"; then
	pass "msmtp's log: 250 2.0.0 for both recipients"
else
	fail "msmtp's log"
	cat "$tmp/msmtp.log"
fi

box=$tmp/rec/box
n=$(grep -c '^hello from msmtp$' "$box" 2>/dev/null)
if [ "$n" = 2 ]; then
	pass "the shell pipeline appended two copies to the mailbox"
else
	fail "mailbox holds ${n:-no} copies"
fi
if [ "$(sort -u "$box.ip")" = 127.0.0.2 ]; then
	pass "%i is 127.0.0.2 (msmtp's source_ip) for both"
else
	fail "%i: $(cat "$box.ip" 2>/dev/null)"
fi
if [ "$(grep -c '^Received: from client.test (unknown \[127\.0\.0\.2\])$' "$box")" = 2 ]; then
	pass "Received: from client.test (unknown [127.0.0.2]), twice"
else
	fail "Received header"
	sed -n '1,6p' "$box"
fi
if grep -q '^TCPREMOTEIP=127\.0\.0\.2$' "$box.env" &&
    grep -q '^CLIENT_ADDRESS=127\.0\.0\.2$' "$box.env"; then
	pass "tcpserver set TCPREMOTEIP=127.0.0.2; CLIENT_ADDRESS=127.0.0.2"
else
	fail "TCPREMOTEIP / CLIENT_ADDRESS"
	cat "$box.env"
fi
if grep -q '^TCPREMOTEHOST=' "$box.env"; then
	fail "TCPREMOTEHOST is set although -H was given"
else
	pass "no TCPREMOTEHOST under -H (it needs DNS): the host name is 'unknown'"
fi
if [ "$(stat -c %U:%G "$box")" = nobody:nogroup ]; then
	pass "the delivery ran as nobody:nogroup (tcpserver -u/-g)"
else
	fail "mailbox owner $(stat -c %U:%G "$box")"
fi
if grep -q 'tcpserver: pid [0-9]* from 127\.0\.0\.2' "$tmp/run.log" &&
    grep -q 'pipesmtpd.*connect from unknown\[127\.0\.0\.2\]' "$tmp/run.log" &&
    grep -q 'to=<Bob@example.org>.*status=sent' "$tmp/run.log"; then
	pass "one log: tcpserver's -v lines and pipesmtpd's --log-stderr lines"
else
	fail "the run script's log"
	cat "$tmp/run.log"
fi

# ---- the per-source bound: examples/nftables-per-source.nft -----------------
need nft nftables || finish
ns=$tmp/netns-tcpserver
nsport=$(free_port)
sed "s/tcp dport 25 /tcp dport $nsport /" examples/nftables-per-source.nft \
	> "$tmp/per-source.nft"
if touch "$ns" && unshare --net="$ns" true &&
    nsenter --net="$ns" ip link set lo up &&
    nsenter --net="$ns" nft -f "$tmp/per-source.nft"; then
	pass "a network namespace with examples/nftables-per-source.nft (port $nsport)"
	sed -e "s|127.0.0.1 $port |127.0.0.1 $nsport |" \
		-e "s|^exec tcpserver|exec nsenter --net=$ns tcpserver|" \
		"$tmp/run" > "$tmp/run-ns"
	spawn timeout 120 sh "$tmp/run-ns" </dev/null >"$tmp/run-ns.log" 2>&1
	# shellcheck disable=SC2317 # called by wait_until
	ns_up() { nsenter --net="$ns" ss -ltn | grep -q ":$nsport "; }
	if wait_until ns_up; then
		per_source_ok "$nsport" 10 "tcpserver behind nftables-per-source.nft" \
			nsenter --net="$ns"
	else
		fail "tcpserver in the namespace did not start"
		cat "$tmp/run-ns.log"
	fi
else
	fail "cannot make a network namespace with the nftables example"
fi

finish

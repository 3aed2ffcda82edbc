#!/bin/sh
# interop_exim.sh - a real MTA (Exim 4, Debian package exim4-daemon-light)
# delivering to pipesmtpd, each message to three recipients whose delivery
# commands succeed (ok*), fail temporarily (temp*, "4.2.2 mailbox busy",
# exit 75) and fail permanently (perm*, exit 67).
#
#   prdr-bdat   SMTP to 127.0.0.1:PORT, PRDR negotiated, BDAT (Exim's
#               default when CHUNKING is offered)
#   prdr-data   the same with CHUNKING turned off in Exim: DATA
#   no-prdr     SMTP without PRDR: one reply for the whole transaction
#   lmtp        Exim's lmtp transport on a Unix socket (pipesmtpd --lmtp)
#   lmtp-cmd    Exim's lmtp transport starting pipesmtpd --lmtp itself as a
#               command (as the Exim user, no launcher)
#   max-rcpt    one message to 150 recipients, over SMTP to pipesmtpd
#               --max-rcpt 1 (a second port), every command succeeding
#
# What it proves: with PRDR (either data command) and with LMTP, Exim
# records exactly the per-recipient outcomes - "=>" delivered for ok, "=="
# deferred for temp, "**" bounced for perm - from one transaction (one
# pipesmtpd queue id for all three).  Without PRDR the single 451 makes
# Exim defer all three, so ok is never reported delivered on a 250 that
# was not true for every recipient (the duplicate later is the accepted
# price).  With --max-rcpt 1, Exim (which does not know LIMITS RCPTMAX)
# sends up to its max_rcpt of 100 recipients per transaction, pipelined,
# gets 250 for the first and 452 4.5.3 for the rest, and defers those
# ("=="); forced delivery runs (exim -M, bounded, stopped when one run
# delivers nothing) then deliver every recipient exactly once, with no
# 421 and no bounce.  pipesmtpd is launched per connection by
# systemd-socket-activate (--inetd), as inetd or a systemd Accept=yes
# socket would.
#
# How Exim runs here: a private configuration written into a temporary
# directory and given with -C.  Exim keeps root privilege for -C only for
# a caller that is root, and even then re-executing itself for delivery
# would lose it; deliver_drop_privilege makes it deliver as the Exim user
# throughout instead, which suits remote (smtp) and lmtp deliveries.  So
# the spool and log directories belong to the Exim user, and "exim -odi"
# receives the message and delivers it at once, in the foreground.
#
# Needs root (CI runs as root), exim4-daemon-light, python3,
# systemd-socket-activate, timeout.  Prints one closing line
# "interop-exim: N passed, M failed" and exits non-zero on any failure;
# a missing Exim is a failure, not a skip.

cd "$(dirname "$0")/.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH

SUITE=interop-exim
. tests/scriptlib.sh

exim=$(command -v exim4 || command -v exim)
if [ -z "$exim" ]; then
	fail "Exim is not installed: install the Debian package exim4-daemon-light"
	finish
fi
need_tools python3 systemd-socket-activate timeout
if [ "$(id -u)" -ne 0 ]; then
	fail "must run as root (Exim keeps the privilege it needs for -C only for root)"
	finish
fi
if timeout 30 "$exim" -bV 2>/dev/null | grep -q '^Support for:.* PRDR'; then
	pass "Exim is built with PRDR support"
else
	fail "this Exim ($exim) lacks PRDR support (exim -bV)"
fi

build_bin
# The Exim user must reach its spool, its log, the configuration and the
# LMTP socket in here (make_tmp makes it mode 755).
make_tmp interop-exim
mkdir "$tmp/out"

outcome_command "$tmp/deliver"

port=$(free_port)
port2=$(free_port)
sock=$tmp/lmtp.sock

# pipesmtpd's log (--log-stderr) goes to the launcher's stderr: --inetd
# puts the connection on stdin and stdout only.
spawn timeout 300 systemd-socket-activate --accept --inetd \
	-l "127.0.0.1:$port" \
	"$bin" --hostname mx.test --log-stderr --allow-root \
	-- "$tmp/deliver" "$tmp/out" %u \
	</dev/null >/dev/null 2>"$tmp/smtp.log"
spawn timeout 300 systemd-socket-activate --accept --inetd -l "$sock" \
	"$bin" --lmtp --hostname mx.test --log-stderr --allow-root \
	-- "$tmp/deliver" "$tmp/out" %u \
	</dev/null >/dev/null 2>"$tmp/lmtp.log"
# max-rcpt: each delivery a new file MANY/LOCAL.PID, so a duplicate shows.
mkdir "$tmp/many"
cat > "$tmp/count" <<'EOF'
#!/bin/sh
cat > "$1/$2.$$" || exit 75
EOF
chmod 755 "$tmp/count"
spawn timeout 300 systemd-socket-activate --accept --inetd \
	-l "127.0.0.1:$port2" \
	"$bin" --hostname mx.test --log-stderr --allow-root --max-rcpt 1 \
	-- "$tmp/count" "$tmp/many" %u \
	</dev/null >/dev/null 2>"$tmp/maxrcpt.log"

# Wait for the listeners: the Unix socket file, and TCP ports that
# accept (probed without connecting, so no session is started).
# shellcheck disable=SC2317 # called through wait_until
listening_all() {
	[ -S "$sock" ] && listening "$port" "$port2"
}
if wait_until listening_all; then
	pass "launchers listening on 127.0.0.1:$port and :$port2 and the Unix socket"
else
	fail "launchers not listening after 10 s"
	cat "$tmp/smtp.log" "$tmp/lmtp.log"
	finish
fi
# Exim's lmtp transport connects as the Exim user.
chmod 666 "$sock"

if ! private_exim; then
	fail "cannot find the Exim user (exim -bP exim_user)"
	finish
fi
# The lmtp-cmd scenario runs pipesmtpd and the delivery command as the
# Exim user: give it a copy of the binary it can reach and the output
# directory.
chown "$exim_user" "$tmp/out"
mkdir "$tmp/bin"
cp "$bin" "$tmp/bin/pipesmtpd"
chmod 755 "$tmp/bin" "$tmp/bin/pipesmtpd"

# The private configuration.  Routers are chosen by the envelope sender,
# which names the scenario; bounces (to example.org) are discarded.
conf=$tmp/exim.conf
cat > "$conf" <<EOF
$exim_main
log_selector = +received_recipients +smtp_protocol_error

begin routers

bounces:
  driver = redirect
  domains = example.org
  data = :blackhole:

via_lmtp:
  driver = accept
  senders = lmtp@example.org
  transport = lmtp_socket

via_lmtp_cmd:
  driver = accept
  senders = lmtp-cmd@example.org
  transport = lmtp_command

prdr_data:
  driver = manualroute
  senders = prdr-data@example.org
  route_list = * 127.0.0.1::$port
  self = send
  transport = smtp_prdr_data

no_prdr:
  driver = manualroute
  senders = no-prdr@example.org
  route_list = * 127.0.0.1::$port
  self = send
  transport = smtp_no_prdr

max_rcpt:
  driver = manualroute
  senders = max-rcpt@example.org
  route_list = * 127.0.0.1::$port2
  self = send
  transport = smtp_max_rcpt

prdr_bdat:
  driver = manualroute
  senders = prdr-bdat@example.org
  route_list = * 127.0.0.1::$port
  self = send
  transport = smtp_prdr_bdat

begin transports

# PRDR: offered by pipesmtpd, requested by Exim for messages with more
# than one recipient (hosts_try_prdr defaults to *; set here to be plain).
smtp_prdr_bdat:
$exim_smtp
  hosts_try_prdr = *
  hosts_avoid_tls = *
  connection_max_messages = 1

smtp_prdr_data:
$exim_smtp
  hosts_try_prdr = *
  hosts_try_chunking =
  hosts_avoid_tls = *
  connection_max_messages = 1

smtp_no_prdr:
$exim_smtp
  hosts_try_prdr =
  hosts_avoid_tls = *
  connection_max_messages = 1

# Exim's defaults (max_rcpt 100, PRDR), only the timeouts shortened.
smtp_max_rcpt:
$exim_smtp
  hosts_avoid_tls = *

lmtp_socket:
  driver = lmtp
  socket = $sock
  batch_max = 10
  user = $exim_user
  timeout = 60s

lmtp_command:
  driver = lmtp
  command = $tmp/bin/pipesmtpd --lmtp --hostname mx.test -- $tmp/deliver $tmp/out %u
  batch_max = 10
  user = $exim_user
  timeout = 60s

begin retry

*  *  F,1h,10m
EOF

if timeout 30 "$exim" -C "$conf" -bV > "$tmp/bV.out" 2>&1; then
	pass "private Exim configuration accepted"
else
	fail "private Exim configuration refused"
	cat "$tmp/bV.out"
	finish
fi

mainlog=$tmp/log/mainlog

# send SCENARIO SUFFIX: one message from SCENARIO@example.org to
# okSUFFIX, tempSUFFIX and permSUFFIX @mx.test, delivered in the
# foreground.
send() {
	printf '%s\n' \
		"From: $1@example.org" \
		"To: ok$2@mx.test, temp$2@mx.test, perm$2@mx.test" \
		"Subject: exim interop $1" \
		"" \
		"hello from exim, scenario $1" \
		".a line with a leading dot" > "$tmp/msg"
	timeout 120 "$exim" -C "$conf" -odi -oi -f "$1@example.org" \
		"ok$2@mx.test" "temp$2@mx.test" "perm$2@mx.test" \
		< "$tmp/msg" > "$tmp/exim-$1.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$1: exim accepted and ran the delivery"
	else
		fail "$1: exim exited $rc"
		cat "$tmp/exim-$1.out"
	fi
}

# logline MARK ADDR: Exim's main log line for that delivery outcome
# ("=> ADDR ..." for remote deliveries, "=> LOCALPART <ADDR> ..." for
# local ones such as lmtp).
logline() {
	grep -e " $1 $2 " -e " $1 [^ ]* <$2> " "$mainlog"
}

# expect NAME PATTERN LINE
expect() {
	if printf '%s\n' "$3" | grep -q -- "$2"; then
		pass "$1"
	else
		fail "$1: ${3:-no such line in the Exim main log}"
	fi
}

# The per-recipient outcomes of one scenario, and the pipesmtpd side.
per_recipient() {
	name=$1 n=$2 after=$3 plog=$4
	ok=ok$n@mx.test temp=temp$n@mx.test perm=perm$n@mx.test
	expect "$name: Exim delivered ok (=>) on its own 250" \
		"C=\"250 2\\.0\\.0 <$ok>: delivered, id=" "$(logline '=>' "$ok")"
	expect "$name: Exim deferred temp (==) on its own 451 4.2.2" \
		"$after: 451 4\\.2\\.2 <$temp>: mailbox busy, id=" \
		"$(logline '==' "$temp")"
	expect "$name: Exim bounced perm (**) on its own 550 5.1.1" \
		"$after: 550 5\\.1\\.1 <$perm>: user unknown, id=" \
		"$(logline '\*\*' "$perm")"
	# One transaction: the queue id of ok's reply is the one pipesmtpd
	# logged for all three recipients, and for no others.
	qid=$(logline '=>' "$ok" | sed -n 's/.*delivered, id=\([0-9A-Za-z]*\).*/\1/p')
	if [ -z "$plog" ]; then
		if [ -n "$qid" ] && [ "$(grep -c "id=$qid\"*\$" "$mainlog")" -eq 3 ]; then
			pass "$name: one queue id in all three replies ($qid)"
		else
			fail "$name: the three replies do not share one queue id"
		fi
	elif [ -n "$qid" ] &&
	    [ "$(grep -c "]: $qid: to=<" "$plog")" -eq 3 ] &&
	    grep -q "]: $qid: to=<$ok>, from=<$name@example.org>, .* status=sent " "$plog" &&
	    grep -q "]: $qid: to=<$temp>, .* status=deferred " "$plog" &&
	    grep -q "]: $qid: to=<$perm>, .* status=bounced " "$plog"; then
		pass "$name: pipesmtpd ran all three in one transaction ($qid)"
	else
		fail "$name: pipesmtpd's log does not show one transaction for the three"
		cat "$plog"
	fi
	eml=$tmp/out/ok$n.eml
	if [ -f "$eml" ] && grep -q "^hello from exim, scenario $name\$" "$eml" &&
	    grep -q '^\.a line with a leading dot$' "$eml" &&
	    grep -q "^Return-Path: <$name@example.org>\$" "$eml" &&
	    grep -q '^Received: from exim\.test ' "$eml" &&
	    grep -q 'by exim\.test with local' "$eml"; then
		pass "$name: message delivered intact with both trace headers"
	else
		fail "$name: delivered message"
		[ -f "$eml" ] && cat "$eml"
	fi
	if cmp -s "$tmp/out/temp$n.eml" "$eml" && cmp -s "$tmp/out/perm$n.eml" "$eml"; then
		pass "$name: temp's and perm's commands read the same message"
	else
		fail "$name: temp's or perm's command did not get the message"
	fi
}

# --- PRDR with BDAT -------------------------------------------------------
send prdr-bdat 1
expect "prdr-bdat: Exim used PRDR" " PRDR " "$(logline '=>' ok1@mx.test)"
per_recipient prdr-bdat 1 "PRDR error after BDAT [0-9]* LAST" "$tmp/smtp.log"
if grep -q 'with ESMTP id ' "$tmp/out/ok1.eml"; then
	pass "prdr-bdat: pipesmtpd's Received says with ESMTP"
else
	fail "prdr-bdat: Received header"
	cat "$tmp/out/ok1.eml"
fi

# --- PRDR with DATA ---------------------------------------------------------
send prdr-data 2
expect "prdr-data: Exim used PRDR" " PRDR " "$(logline '=>' ok2@mx.test)"
per_recipient prdr-data 2 "PRDR error after DATA" "$tmp/smtp.log"

# --- SMTP without PRDR: one reply for all ---------------------------------
send no-prdr 3
line=$(logline '==' ok3@mx.test)
expect "no-prdr: ok deferred too (451 for the whole transaction)" \
	"451 4\\.2\\.2 .*delivered to 1 of 3" "$line"
expect "no-prdr: temp deferred" "451 4\\.2\\.2" "$(logline '==' temp3@mx.test)"
expect "no-prdr: perm deferred with the rest" "451 4\\.2\\.2" \
	"$(logline '==' perm3@mx.test)"
if ! grep -q ' => ok3@mx.test ' "$mainlog" && ! grep -q ' \*\* perm3@mx.test ' "$mainlog"; then
	pass "no-prdr: nothing reported delivered or bounced on a single 451"
else
	fail "no-prdr: Exim saw a delivery or bounce without PRDR"
fi
if grep -q ": to=<ok3@mx.test>, .* status=sent " "$tmp/smtp.log"; then
	pass "no-prdr: ok's command did run (Exim will send it again: a duplicate, not a loss)"
else
	fail "no-prdr: pipesmtpd log for ok3"
fi

# --- LMTP over the Unix socket -----------------------------------------
send lmtp 4
per_recipient lmtp 4 "LMTP error after end of data" "$tmp/lmtp.log"
if grep -q 'with LMTP id ' "$tmp/out/ok4.eml"; then
	pass "lmtp: pipesmtpd's Received says with LMTP"
else
	fail "lmtp: Received header"
	cat "$tmp/out/ok4.eml"
fi

# --- LMTP with pipesmtpd as the transport's command -----------------------
send lmtp-cmd 5
per_recipient lmtp-cmd 5 "LMTP error after end of data" ""

# --- 150 recipients against --max-rcpt 1 ----------------------------------
many=
i=1
while [ "$i" -le 150 ]; do
	many="$many many$i@mx.test"
	i=$((i + 1))
done
printf '%s\n' "From: max-rcpt@example.org" "To: many@mx.test" \
	"Subject: exim interop max-rcpt" "" \
	"hello from exim, scenario max-rcpt" > "$tmp/msg"
# shellcheck disable=SC2086 # one argument per recipient
timeout 120 "$exim" -C "$conf" -odi -oi -f max-rcpt@example.org $many \
	< "$tmp/msg" > "$tmp/exim-max-rcpt.out" 2>&1
rc=$?
id=$(sed -n 's/^.* \([0-9A-Za-z]\{6\}-[0-9A-Za-z]\{6\}-[0-9A-Za-z]\{2\}\) <= max-rcpt@example\.org .*/\1/p' "$mainlog")
if [ "$rc" -eq 0 ] && [ -n "$id" ]; then
	pass "max-rcpt: exim accepted the message ($id) and ran the first delivery"
else
	fail "max-rcpt: exim exited $rc"
	cat "$tmp/exim-max-rcpt.out"
fi
# Forced delivery runs (-M ignores retry times) until Exim logs the
# message Completed, each bounded; stop after three runs in a row that
# deliver nothing, and after 300 runs in all.
runs=0 idle=0
before=$(find "$tmp/many" -type f | wc -l)
start=$(date +%s)
while [ -n "$id" ] && [ "$runs" -lt 300 ] && [ "$idle" -lt 3 ] &&
    ! grep -q " $id Completed\$" "$mainlog"; do
	timeout 120 "$exim" -C "$conf" -M "$id" >> "$tmp/exim-max-rcpt.out" 2>&1
	runs=$((runs + 1))
	now=$(find "$tmp/many" -type f | wc -l)
	if [ "$now" -gt "$before" ]; then
		idle=0
	else
		idle=$((idle + 1))
	fi
	before=$now
done
echo "# max-rcpt: $runs forced delivery runs after the first, $(($(date +%s) - start)) s"
if [ -n "$id" ] && ! timeout 30 "$exim" -C "$conf" -Mvh "$id" >/dev/null 2>&1; then
	pass "max-rcpt: the message left Exim's queue ($runs more runs)"
else
	fail "max-rcpt: the message is still on Exim's queue after $runs runs"
fi
# Every recipient: one file (one delivery command run), one "=>" in
# Exim's log, no bounce.
dup=0 lost=0 logged=0
i=1
while [ "$i" -le 150 ]; do
	n=$(find "$tmp/many" -name "many$i.*" | wc -l)
	[ "$n" -gt 1 ] && dup=$((dup + 1))
	[ "$n" -eq 0 ] && lost=$((lost + 1))
	[ "$(grep -c " => many$i@mx\\.test " "$mainlog")" -eq 1 ] ||
		logged=$((logged + 1))
	i=$((i + 1))
done
if [ "$dup" -eq 0 ] && [ "$lost" -eq 0 ]; then
	pass "max-rcpt: all 150 recipients delivered exactly once"
else
	fail "max-rcpt: $dup recipients delivered more than once, $lost never"
	grep ' == many' "$mainlog" | tail -n 3
fi
if [ "$logged" -eq 0 ]; then
	pass "max-rcpt: Exim logged each recipient delivered (=>) once"
else
	fail "max-rcpt: $logged recipients without exactly one => line in Exim's log"
fi
files=$(find "$tmp/many" -type f | wc -l)
if [ "$files" -gt 0 ] && [ "$(find "$tmp/many" -type f -exec grep -l -x \
    'hello from exim, scenario max-rcpt' {} + | wc -l)" -eq "$files" ]; then
	pass "max-rcpt: every delivery got the message"
else
	fail "max-rcpt: $files deliveries, not all with the message's body"
fi
n452=$(grep -c ' == many[0-9]*@mx\.test .* 452 4\.5\.3 ' "$mainlog")
if [ "$n452" -gt 0 ] &&
    ! grep -q -e ' \*\* many[0-9]*@mx\.test ' -e ' 421 ' "$mainlog"; then
	pass "max-rcpt: Exim deferred on 452 4.5.3 ($n452 times), never saw 421, bounced nothing"
else
	fail "max-rcpt: Exim's log: $n452 deferrals on 452 4.5.3, or a bounce or 421"
	grep -e ' \*\* many' -e ' 421 ' -e ' == many' "$mainlog" | head -n 5
fi
sessions=$(grep -c ']: disconnect from ' "$tmp/maxrcpt.log")
if [ "$sessions" -gt 0 ] &&
    [ "$(grep -c ']: disconnect from .* errors=0 messages=1$' "$tmp/maxrcpt.log")" -eq "$sessions" ]; then
	pass "max-rcpt: $sessions pipesmtpd sessions, each one message, no error counted"
else
	fail "max-rcpt: sessions in pipesmtpd's log"
	grep ']: disconnect from ' "$tmp/maxrcpt.log" | grep -v 'errors=0 messages=1$' | head -n 5
fi

# --- One session per message ---------------------------------------------
if [ "$(grep -c 'pipesmtpd\[[0-9]*\]: disconnect from unknown\[127\.0\.0\.1\] .* messages=1$' "$tmp/smtp.log")" -eq 3 ] &&
    [ "$(grep -c 'pipesmtpd\[[0-9]*\]: connect from ' "$tmp/smtp.log")" -eq 3 ]; then
	pass "smtp: three sessions from 127.0.0.1, one message each"
else
	fail "smtp: sessions in pipesmtpd's log"
	cat "$tmp/smtp.log"
fi
if [ "$(grep -c 'pipesmtpd\[[0-9]*\]: disconnect from .* messages=1$' "$tmp/lmtp.log")" -eq 1 ]; then
	pass "lmtp: one session, one message"
else
	fail "lmtp: sessions in pipesmtpd's log"
	cat "$tmp/lmtp.log"
fi
if [ -s "$tmp/log/paniclog" ]; then
	fail "Exim wrote a panic log"
	cat "$tmp/log/paniclog"
else
	pass "no Exim panic log"
fi

# --- The example unit files ----------------------------------------------
svc_unit=examples/pipesmtpd-lmtp@.service
sock_unit=examples/pipesmtpd-lmtp.socket
if grep -q '^ExecStart=[^ ]*pipesmtpd .*--lmtp' "$svc_unit" &&
    grep -q '^ListenStream=/run/pipesmtpd/lmtp.sock$' "$sock_unit" &&
    grep -q 'socket = /run/pipesmtpd/lmtp.sock' examples/exim-lmtp.txt &&
    grep -q 'hosts_try_prdr' examples/exim-prdr.txt &&
    grep -q 'lmtp:unix:/run/pipesmtpd/lmtp.sock' examples/postfix-lmtp.txt; then
	pass "examples: units and MTA snippets agree on LMTP and the socket"
else
	fail "examples: ExecStart --lmtp / socket path / PRDR snippet"
fi
verify_lmtp_units

if [ "$failed" -ne 0 ]; then
	echo "# Exim main log:"
	cat "$mainlog"
fi
finish

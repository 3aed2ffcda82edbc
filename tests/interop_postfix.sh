#!/bin/sh
# interop_postfix.sh - Postfix's smtp-source, a real parallel SMTP and
# LMTP sender, against pipesmtpd launched per connection by
# systemd-socket-activate (--accept --inetd) on 127.0.0.1, as inetd or a
# systemd Accept=yes socket would launch it.
#
#   many      1,000 messages, 10 sessions at a time, a new session for
#             every message (1,000 pipesmtpd processes)
#   big       500 messages x 5 recipients, 100 KB bodies, 10 sessions
#             that each send 50 messages (-d), delivered with --crlf
#   lmtp      100 messages x 5 recipients, 10 KB bodies, over LMTP (-L)
#             to pipesmtpd --lmtp: smtp-source reads one reply per
#             recipient after the data, so a missing or extra reply
#             stalls or fails it
#   maxrcpt   10 messages x 150 recipients in one session (-d -A) against
#             --max-rcpt 1: each message is delivered to its first
#             recipient, the 149 others get 452 4.5.3, and the session
#             never ends early (no 421, all ten messages in one session)
#
# Every delivery goes to a small shell command that appends one line to
# OUT/LOCAL.QUEUE_ID.PID: the names of the message's header fields up to
# the first empty line, then "body=ok" when the rest is byte for byte what
# smtp-source sent (its -l body: lines of 78 octets plus CRLF, the first
# octet of each a digit, then CRLF; without -l four "La de da" lines), or
# what cmp said.  smtp-source's -N numbers every recipient address
# uniquely, so each recipient of each message must show up exactly once,
# every message's recipients under one queue id, in the expected number of
# pipesmtpd sessions.
#
# smtp-source is in the Debian package postfix, which conflicts with
# exim4 (tests/interop_exim.sh): it is unpacked, not installed.
# SMTP_SOURCE names the binary (for an unpacked package,
# ROOT/usr/sbin/smtp-source; its libraries are then taken from
# ROOT/usr/lib/postfix).  Unset: an installed smtp-source, else the script
# fetches the package with "apt-get download postfix" and unpacks it with
# dpkg-deb into its temporary directory.  A missing smtp-source is a
# failure; with PIPESMTPD_DEV=1 the script prints SKIP and exits 0.
#
# Needs: python3, systemd-socket-activate, timeout, cmp.  Root is not
# needed.  Run from anywhere: sh tests/interop_postfix.sh.  Prints one
# closing line "interop-postfix: N passed, M failed" and exits non-zero
# on any failure.

cd "$(dirname "$0")/.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH

SUITE=interop-postfix
. tests/scriptlib.sh

need_tools python3 systemd-socket-activate timeout cmp
build_bin
make_tmp interop-postfix

root_opt=
[ "$(id -u)" -eq 0 ] && root_opt=--allow-root

# ---- smtp-source --------------------------------------------------------

# missing WHY: no smtp-source; a failure, or a skip for developers
missing() {
	if [ "${PIPESMTPD_DEV:-}" = 1 ]; then
		echo "SKIP - $1 (PIPESMTPD_DEV=1)"
		finish
	fi
	fail "$1"
	finish
}

ss=${SMTP_SOURCE:-}
if [ -z "$ss" ]; then
	ss=$(command -v smtp-source)
fi
if [ -z "$ss" ] && command -v apt-get >/dev/null 2>&1 &&
    command -v dpkg-deb >/dev/null 2>&1; then
	echo "# SMTP_SOURCE unset: fetching the Debian package postfix"
	mkdir "$tmp/postfix"
	if (cd "$tmp/postfix" && timeout 300 apt-get download postfix &&
	    dpkg-deb -x postfix_*.deb root) > "$tmp/postfix.log" 2>&1; then
		ss=$tmp/postfix/root/usr/sbin/smtp-source
	else
		cat "$tmp/postfix.log"
	fi
fi
if [ -z "$ss" ] || [ ! -x "$ss" ]; then
	missing "smtp-source not found: set SMTP_SOURCE to an unpacked Debian postfix package's usr/sbin/smtp-source (apt-get download postfix; dpkg-deb -x postfix_*.deb DIR)"
fi
# An unpacked package: its shared libraries are beside it, not installed.
libdir=${ss%/sbin/smtp-source}/lib/postfix
if [ "$libdir" != "$ss" ] && [ -d "$libdir" ]; then
	LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi
# It prints its usage (and exits 1) when given no arguments: that is
# enough to know it starts.
if timeout 30 "$ss" > "$tmp/usage" 2>&1 || grep -q 'usage:' "$tmp/usage"; then
	pass "smtp-source runs ($ss)"
else
	cat "$tmp/usage"
	missing "smtp-source ($ss) does not start (an unpacked package's own libraries are taken from ROOT/usr/lib/postfix; the system's from the Debian packages libdb5.3 libicu72 libnsl2)"
fi

# ---- the delivery command and the bodies --------------------------------

# The carriage return goes into the script as it is written, so that no
# delivery needs a subshell for it.
printf '#!/bin/sh\ncr="\r"\n' > "$tmp/deliver"
cat >> "$tmp/deliver" <<'EOF'
# deliver DIR WANT - one delivery: appends to DIR/LOCAL.QUEUE_ID.PID one
# line, the names of the header fields up to the first empty line, then
# "body=ok" when the rest is the file WANT byte for byte, else what cmp
# said.  The shell's read takes one line at a time, so cmp reads exactly
# what follows the empty line.
names=
while IFS= read -r line; do
	line=${line%"$cr"}
	case $line in
	'') break ;;
	[' 	']*) ;;
	*) names="$names${line%%:*} " ;;
	esac
done
rec=$1/$LOCAL.$QUEUE_ID.$$
printf '%s' "$names" >> "$rec" || exit 75
if cmp - "$2" >> "$rec" 2>&1; then
	echo body=ok >> "$rec" || exit 75
fi
exit 0
EOF
chmod 755 "$tmp/deliver"

# body LENGTH crlf|lf - what smtp-source -l LENGTH sends after the
# headers, as a delivery command gets it with or without --crlf: LENGTH
# octets of X, every 80 of them (but the last) ending in CRLF and
# starting with the digit (line number mod 10); then CRLF.
body() {
	python3 - "$1" "$2" <<'EOF'
import sys
n, ends = int(sys.argv[1]), sys.argv[2]
b = bytearray(b'X' * n)
for i in range(80, n, 80):
    b[i - 80] = ord(str(i // 80 % 10))
    b[i - 2:i] = b'\r\n'
b += b'\r\n'
if ends == 'lf':
    b = b.replace(b'\r\n', b'\n')
sys.stdout.buffer.write(b)
EOF
}
# without -l: four short lines
for i in 1 2 3 4; do
	echo "La de da de da $i."
done > "$tmp/want.many"
cp "$tmp/want.many" "$tmp/want.maxrcpt"
body 102400 crlf > "$tmp/want.big"
body 10240 lf > "$tmp/want.lmtp"

# ---- launchers -----------------------------------------------------------

# listen NAME [pipesmtpd option ...] - a launcher on a free loopback port
# (sets port); pipesmtpd logs to NAME.log and delivers to NAME.out
listen() {
	name=$1
	shift
	port=$(free_port)
	mkdir "$tmp/$name.out"
	spawn timeout 600 systemd-socket-activate --accept --inetd \
		-l "127.0.0.1:$port" \
		"$bin" --hostname mx.test --log-stderr $root_opt "$@" \
		-- "$tmp/deliver" "$tmp/$name.out" "$tmp/want.$name" \
		</dev/null >/dev/null 2>"$tmp/$name.log"
	# Wait for the listener, probed without connecting (no session).
	wait_until listening "$port" && return 0
	fail "$name: launcher not listening on 127.0.0.1:$port after 10 s"
	cat "$tmp/$name.log"
	return 1
}

# source NAME SECONDS smtp-source-option ... - run smtp-source against
# NAME's port, its output in NAME.ss; 0 when it exited 0
source_run() {
	name=$1 limit=$2
	shift 2
	start=$(date +%s)
	timeout "$limit" "$ss" -M client.test -f sender@client.test \
		-t rcpt@mx.test "$@" "127.0.0.1:$port" > "$tmp/$name.ss" 2>&1
	rc=$?
	echo "# $name: smtp-source $* took $(($(date +%s) - start)) s"
	if [ "$rc" -eq 0 ]; then
		pass "$name: smtp-source $* exited 0"
	else
		fail "$name: smtp-source $* exited $rc"
		tail -n 20 "$tmp/$name.ss"
	fi
	return "$rc"
}

# records NAME - every delivery's line as "LOCAL QUEUE_ID LINE", from the
# files NAME.out/LOCAL.QUEUE_ID.PID
records() {
	(cd "$tmp/$1.out" && find . -type f -exec awk '{
		n = split(FILENAME, p, "/")
		split(p[n], f, ".")
		print f[1] " " f[2] " " $0
	}' {} +)
}

# check_deliveries NAME MESSAGES RCPTS SESSIONS HEADERS - every recipient
# of every message delivered exactly once and intact
check_deliveries() {
	name=$1 msgs=$2 rcpts=$3 sessions=$4 headers=$5
	total=$((msgs * rcpts))
	records "$name" > "$tmp/$name.rec"
	n=$(wc -l < "$tmp/$name.rec" | tr -d ' ')
	# the recipient numbers smtp-source gave: TOTAL distinct, consecutive
	if [ "$n" -eq "$total" ] &&
	    sed 's/^\([0-9]*\)rcpt .*/\1/' "$tmp/$name.rec" | sort -n | awk -v t="$total" '
		$0 !~ /^[0-9]+$/ { bad = 1 }
		NR == 1 { first = $0 }
		NR > 1 && $0 != prev + 1 { bad = 1 }
		{ prev = $0 }
		END { exit bad || NR != t || prev - first + 1 != t }'; then
		pass "$name: $total deliveries, each recipient exactly once"
	else
		fail "$name: $n deliveries for $total recipients (duplicates or losses)"
		sed 's/^\([0-9]*rcpt\) .*/\1/' "$tmp/$name.rec" | sort | uniq -d | head -n 5
	fi
	if awk '{ print $2 }' "$tmp/$name.rec" | sort | uniq -c |
	    awk -v m="$msgs" -v r="$rcpts" '$1 != r { bad = 1 }
		END { exit bad || NR != m }'; then
		pass "$name: $msgs transactions (queue ids) of $rcpts recipients each"
	else
		fail "$name: recipients per queue id"
		awk '{ print $2 }' "$tmp/$name.rec" | sort | uniq -c | sort -n | head -n 5
	fi
	bad=$(cut -d ' ' -f 3- "$tmp/$name.rec" | grep -v -x -F "$headers body=ok" |
	    sort | uniq -c | head -n 5)
	if [ -z "$bad" ]; then
		pass "$name: every message intact (headers $headers; body byte for byte as sent)"
	else
		fail "$name: messages not as sent:"
		printf '%s\n' "$bad"
	fi
	log=$tmp/$name.log
	sent=$(grep -c ': to=<.*, status=sent ' "$log")
	other=$(grep ': to=<' "$log" | grep -c -v ', status=sent ')
	disc=$(grep -c ']: disconnect from ' "$log")
	nmsg=$(sed -n 's/.*]: disconnect from .* messages=\([0-9]*\)$/\1/p' "$log" |
	    awk '{ s += $1 } END { print s + 0 }')
	if [ "$sent" -eq "$total" ] && [ "$other" -eq 0 ] &&
	    [ "$disc" -eq "$sessions" ] && [ "$nmsg" -eq "$msgs" ]; then
		pass "$name: pipesmtpd logged $total sent in $sessions sessions, $msgs messages"
	else
		fail "$name: pipesmtpd logged $sent sent, $other other outcomes, $disc sessions, $nmsg messages (want $total, 0, $sessions, $msgs)"
		grep -v -e ', status=sent ' -e ']: connect from ' \
		    -e ']: disconnect from .* errors=0 ' -e '^Spawned ' \
		    -e '^Execing ' -e '^Connection from ' -e '^Child .* code 0$' \
		    -e '^Communication attempt' "$log" | head -n 20
	fi
}

# quiet NAME - smtp-source warned about nothing
quiet() {
	if grep -q 'warning\|fatal' "$tmp/$1.ss"; then
		fail "$1: smtp-source warned:"
		grep 'warning\|fatal' "$tmp/$1.ss" | sort | uniq -c | head -n 5
	else
		pass "$1: no warnings from smtp-source"
	fi
}

smtp_headers="Return-Path Received From To Date Message-Id"

# --- 1,000 messages, 10 at a time, one session each ----------------------
if listen many; then
	source_run many 300 -N -s 10 -m 1000
	quiet many
	check_deliveries many 1000 1 1000 "$smtp_headers"
fi

# --- 500 messages x 5 recipients x 100 KB, 10 sessions of 50 -------------
if listen big --crlf; then
	source_run big 300 -N -d -s 10 -m 500 -r 5 -l 102400
	quiet big
	check_deliveries big 500 5 10 "$smtp_headers"
fi

# --- LMTP: 100 messages x 5 recipients ------------------------------------
if listen lmtp --lmtp; then
	source_run lmtp 300 -L -N -s 10 -m 100 -r 5 -l 10240
	quiet lmtp
	check_deliveries lmtp 100 5 100 "$smtp_headers"
fi

# --- 150 recipients against --max-rcpt 1 ---------------------------------
# One session (-s 1 -d), so smtp-source's -v transcript is in order: the
# first RCPT after each MAIL must get 250 and be delivered once, every
# other RCPT 452 4.5.3, and nothing may get 421.
if listen maxrcpt --max-rcpt 1; then
	source_run maxrcpt 300 -v -A -N -d -s 1 -m 10 -r 150
	awk '
	/: MAIL FROM:/ { n = 0; next }
	/: RCPT TO:</ { r = $0; sub(/.*RCPT TO:</, "", r); sub(/>.*/, "", r); n++; next }
	/: <<< / && r != "" {
		c = $0; sub(/.*<<< /, "", c)
		if (n == 1 && c ~ /^250 /) print "first " r
		else if (n > 1 && c ~ /^452 4\.5\.3 /) print "452"
		else print "other " n " " r " " c
		r = ""
	}
	/<<< 421 / { print "421" }' "$tmp/maxrcpt.ss" > "$tmp/maxrcpt.replies"
	n452=$(grep -c -x 452 "$tmp/maxrcpt.replies")
	if [ "$n452" -eq 1490 ] && ! grep -q -e '^other' -e '^421' "$tmp/maxrcpt.replies"; then
		pass "maxrcpt: first RCPT of each message 250, the 1490 others 452 4.5.3, no 421"
	else
		fail "maxrcpt: $n452 replies 452 4.5.3 (want 1490); other replies:"
		grep -e '^other' -e '^421' "$tmp/maxrcpt.replies" | head -n 5
	fi
	sed -n 's/^first \(.*\)@mx\.test$/\1/p' "$tmp/maxrcpt.replies" | sort > "$tmp/maxrcpt.want"
	records maxrcpt > "$tmp/maxrcpt.rec"
	cut -d ' ' -f 1 "$tmp/maxrcpt.rec" | sort > "$tmp/maxrcpt.got"
	if [ "$(wc -l < "$tmp/maxrcpt.want")" -eq 10 ] &&
	    cmp -s "$tmp/maxrcpt.want" "$tmp/maxrcpt.got"; then
		pass "maxrcpt: each message's first recipient delivered exactly once, no other"
	else
		fail "maxrcpt: deliveries (accepted vs delivered)"
		diff "$tmp/maxrcpt.want" "$tmp/maxrcpt.got" | head -n 10
	fi
	if [ "$(cut -d ' ' -f 3- "$tmp/maxrcpt.rec" | sort -u)" = "$smtp_headers body=ok" ]; then
		pass "maxrcpt: every message intact"
	else
		fail "maxrcpt: messages not as sent"
		cut -d ' ' -f 3- "$tmp/maxrcpt.rec" | sort | uniq -c
	fi
	if [ "$(grep -c ']: disconnect from ' "$tmp/maxrcpt.log")" -eq 1 ] &&
	    grep -q ']: disconnect from .* messages=10$' "$tmp/maxrcpt.log"; then
		pass "maxrcpt: one session carried all ten messages (it never ended early)"
	else
		fail "maxrcpt: sessions in pipesmtpd's log"
		grep ']: disconnect from ' "$tmp/maxrcpt.log" | head -n 5
	fi
fi

finish

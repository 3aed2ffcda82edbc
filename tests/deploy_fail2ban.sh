#!/bin/sh
# deploy_fail2ban.sh - examples/fail2ban/filter.d/pipesmtpd.conf against
# the log of real sessions.
#
# One ./pipesmtpd per connection under systemd-socket-activate on
# 127.0.0.1 (--greet-pause 1, --timeout 2, --max-errors 3, domain
# example.org, --log-stderr); each client binds a source address of its
# own in 127.0.0.0/8, so the address pipesmtpd logs (getpeername(0)) tells
# the sessions apart.  Bad sessions: a relay attempt (swaks: one reject
# line), three bad commands (--max-errors), an idle client (--timeout), a
# client that talks before the greeting (--greet-pause), three relay
# attempts and the --max-errors cut (four matches).  A second launcher
# with --local-users and the default --max-errors takes the probe: five
# sessions from 127.0.0.10, each trying 19 unknown recipients (550 5.1.1)
# and quitting, never reaching --max-errors.  Good ones: a delivery
# (swaks), sessions whose only failure is the delivery command's (exit 75
# and exit 1), the launcher probe's connection from 127.0.0.1, closed
# without a word, and a relay attempt over LMTP on a pipe, which has no
# client address to ban.  The log lines get a syslog date and host, as
# /var/log/mail.log writes them, and fail2ban-regex must match each bad
# address as often as it earned and no good one, with the filter
# installed into a copy of /etc/fail2ban.  Then fail2ban-client -t
# accepts the jail example, which reads the journal by identifier, and a
# real fail2ban-server running the jail over that log file (a dummy
# action) bans the prober and nobody else.
#
# Needs root, systemd (systemd-socket-activate), swaks, fail2ban.  Prints
# "deploy-fail2ban: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=fail2ban
. tests/deploylib.sh

need systemd-socket-activate systemd || finish
need swaks swaks || finish
need fail2ban-regex fail2ban || finish

filter=examples/fail2ban/filter.d/pipesmtpd.conf
jail=examples/fail2ban/jail.d/pipesmtpd.conf

# the delivery command: exit 0, 75 or 1 by local part
mkdir "$tmp/out"
chmod 777 "$tmp/out"
cat > "$tmp/deliver" <<'SH'
#!/bin/sh
cat > "$1/$2.eml" || exit 75
case $2 in
ok) exit 0 ;;
temp) echo "4.2.2 mailbox busy"; exit 75 ;;
fail) exit 1 ;;
esac
exit 70
SH
chmod 755 "$tmp/deliver"

port=$(free_port)
spawn timeout 240 systemd-socket-activate --inetd --accept \
	-l "127.0.0.1:$port" "$bin" --log-stderr --allow-root \
	--hostname mail.example.org --domain example.org --greet-pause 1 \
	--timeout 2 --max-errors 3 -- "$tmp/deliver" "$tmp/out" %u \
	</dev/null >/dev/null 2>"$tmp/raw.log"
# the prober's host: unknown users are refused at RCPT
pport=$(free_port)
spawn timeout 240 systemd-socket-activate --inetd --accept \
	-l "127.0.0.1:$pport" "$bin" --log-stderr --allow-root \
	--hostname mail.example.org --domain example.org --local-users \
	--postmaster nobody -- "$tmp/deliver" "$tmp/out" %u \
	</dev/null >/dev/null 2>"$tmp/probe.log"
if wait_port "$port" && wait_port "$pport"; then
	pass "systemd-socket-activate listens on 127.0.0.1:$port and :$pport"
else
	fail "the launchers did not start"
	cat "$tmp/raw.log" "$tmp/probe.log"
	finish
fi

# swaks_from ADDR NAME [swaks options] - one session from source ADDR
swaks_from() {
	a=$1 n=$2
	shift 2
	timeout 60 swaks --server 127.0.0.1 --port "$port" \
		--local-interface "$a" --helo client.test \
		--from sender@example.net "$@" >"$tmp/$n.out" 2>&1
}

# raw_from ADDR MODE [PORT] - one python session from source ADDR:
# "errors" (bad commands until the 421), "idle" (EHLO, then silence until
# the 421), "early" (EHLO before the greeting), "relay" (RCPTs to other
# domains until the 421), "probe" (19 unknown users, then QUIT); prints
# the replies
raw_from() {
	timeout 60 python3 - "$1" "${3:-$port}" "$2" <<'PY'
import socket, sys, time
addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.bind((addr, 0))
s.settimeout(20)
s.connect(("127.0.0.1", port))
script = {
    "errors": b"FOO\r\nBAR\r\nBAZ\r\n",
    "idle": b"EHLO client.test\r\n",
    "early": b"EHLO client.test\r\n",
    "relay": b"EHLO client.test\r\nMAIL FROM:<s@example.net>\r\n"
             b"RCPT TO:<a@other.example>\r\nRCPT TO:<b@other.example>\r\n"
             b"RCPT TO:<c@example.org.evil>\r\n",
    "probe": b"EHLO client.test\r\nMAIL FROM:<s@example.net>\r\n" +
             b"".join(b"RCPT TO:<%s@example.org>\r\n" % name.encode()
                      for name in ["admin", "info", "sales", "support",
                                   "office", "billing", "contact", "hr",
                                   "jobs", "marketing", "noc", "ops",
                                   "press", "security", "service", "staff",
                                   "team", "web", "www"]) +
             b"QUIT\r\n",
}[mode]
if mode == "early":
    s.sendall(script)
else:
    got = b""
    while b"\r\n" not in got:
        got += s.recv(512)
    s.sendall(script)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("ascii", "replace"))
PY
}

# ---- the sessions ---------------------------------------------------------
good="127.0.0.2 127.0.0.3 127.0.0.4"
prober=127.0.0.10

# replied NAME REGEX WHAT - the transcript NAME.out has a line matching
# REGEX: WHAT passes, or fails with the transcript
replied() {
	if grep -q "$2" "$tmp/$1.out"; then
		pass "$3"
	else
		fail "$3"
		cat "$tmp/$1.out"
	fi
}

swaks_from 127.0.0.2 ok --to ok@example.org
[ -s "$tmp/out/ok.eml" ] || fail "127.0.0.2: nothing delivered"
replied ok '^<-  250 2\.0\.0' "127.0.0.2: delivered, 250 2.0.0"
swaks_from 127.0.0.3 temp --to temp@example.org
replied temp '^<\*\* 451 4\.2\.2 ' "127.0.0.3: the command exits 75, 451 4.2.2"
swaks_from 127.0.0.4 fail --to fail@example.org
replied fail '^<\*\* 554 5\.3\.0 ' "127.0.0.4: the command exits 1, 554 5.3.0"
swaks_from 127.0.0.5 relay --to someone@other.example
replied relay '^<\*\* 550 5\.7\.1 ' "127.0.0.5: RCPT to other.example, 550 5.7.1"
raw_from 127.0.0.6 errors > "$tmp/errors.out"
replied errors '^421 4\.7\.0 ' "127.0.0.6: three bad commands, 421 4.7.0"
raw_from 127.0.0.7 idle > "$tmp/idle.out"
replied idle '^421 4\.4\.2 ' "127.0.0.7: silent after EHLO, 421 4.4.2"
raw_from 127.0.0.8 early > "$tmp/early.out"
replied early '^554 5\.5\.1 ' "127.0.0.8: EHLO before the greeting, 554 5.5.1"
raw_from 127.0.0.9 relay > "$tmp/relay3.out"
[ "$(grep -c '^550 5\.7\.1 ' "$tmp/relay3.out")" = 3 ] ||
	fail "127.0.0.9: not three 550 5.7.1 replies"
replied relay3 '^421 4\.7\.0 ' "127.0.0.9: three relay attempts, then 421 4.7.0"
for i in 1 2 3 4 5; do
	raw_from "$prober" probe "$pport" > "$tmp/probe$i.out"
	if [ "$(grep -c '^550 5\.1\.1 ' "$tmp/probe$i.out")" = 19 ] &&
	    ! grep -q '^421 ' "$tmp/probe$i.out"; then
		pass "$prober, session $i: 19 unknown users, 550 5.1.1 each, no 421"
	else
		fail "$prober, session $i"
		cat "$tmp/probe$i.out"
	fi
done

# LMTP over a pipe, as from a local MTA: no client address to ban, so
# its relay attempt must not match
printf 'LHLO mta.test\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<a@other.example>\r\nQUIT\r\n' |
	timeout 30 "$bin" --lmtp --log-stderr --allow-root --hostname mail.example.org \
	--domain example.org -- "$tmp/deliver" "$tmp/out" %u \
	>"$tmp/pipe.out" 2>>"$tmp/raw.log"
replied pipe '^550 5\.7\.1 ' "LMTP on a pipe (client unknown): RCPT to other.example, 550 5.7.1"

# every session has ended (its disconnect line is written)
# shellcheck disable=SC2317 # called by wait_until
sessions_done() {
	[ "$(cat "$tmp/raw.log" "$tmp/probe.log" |
	    grep -c ': disconnect from ')" -ge 14 ]
}
if wait_until sessions_done; then
	pass "fourteen disconnect lines"
else
	fail "sessions still running"
fi
echo "# the disconnect lines and the first reject lines:"
cat "$tmp/raw.log" "$tmp/probe.log" |
	grep -E ': disconnect from |: reject: ' | sed -n '1,20s/^/#   /p'

# as a syslog daemon writes them to /var/log/mail.log
stamp=$(LC_ALL=C date '+%b %e %H:%M:%S')
cat "$tmp/raw.log" "$tmp/probe.log" | sed "s/^/$stamp testhost /" \
	> "$tmp/mail.log"

# ---- fail2ban-regex ---------------------------------------------------------
# A copy of the system's configuration with the filter and the jail where
# they are installed (the filter includes filter.d/common.conf), and only
# this jail enabled (Debian's jail.d/defaults-debian.conf enables sshd).
need fail2ban-client fail2ban || finish
cp -r /etc/fail2ban "$tmp/f2b"
rm -f "$tmp/f2b/jail.d/"*.conf "$tmp/f2b/jail.d/"*.local
cp "$filter" "$tmp/f2b/filter.d/pipesmtpd.conf"
cp "$jail" "$tmp/f2b/jail.d/pipesmtpd.conf"
installed=$tmp/f2b/filter.d/pipesmtpd.conf

if timeout 120 fail2ban-regex -o ip "$tmp/mail.log" "$installed" \
    > "$tmp/ips" 2>"$tmp/regex.err"; then
	pass "fail2ban-regex ran"
else
	fail "fail2ban-regex"
	cat "$tmp/regex.err"
fi
# matches ADDR N WHAT - fail2ban-regex reported ADDR N times
matches() {
	n=$(grep -c -x -F "$1" "$tmp/ips")
	if [ "$n" = "$2" ]; then
		pass "$1 ($3) matches $2 time(s)"
	else
		fail "$1 ($3) matches $n times, not $2"
	fi
}
matches 127.0.0.5 1 "a relay attempt: its reject line"
matches 127.0.0.6 1 "bad commands: end=errors"
matches 127.0.0.7 1 "idle: end=timeout"
matches 127.0.0.8 1 "early talker: end=pregreet"
matches 127.0.0.9 4 "three relay attempts and end=errors"
matches "$prober" 95 "five sessions of 19 unknown users"
for a in $good 127.0.0.1; do
	matches "$a" 0 "a good session"
done
total=$(grep -c . "$tmp/ips")
if [ "$total" = 103 ]; then
	pass "103 matches in all"
else
	fail "$total matches: $(sort "$tmp/ips" | uniq -c | tr '\n' ' ')"
fi
timeout 120 fail2ban-regex "$tmp/mail.log" "$installed" > "$tmp/summary" 2>&1
echo "# $(grep '^Lines:' "$tmp/summary")"

# ---- the jail example ---------------------------------------------------
if timeout 120 fail2ban-client -c "$tmp/f2b" -t > "$tmp/t.out" 2>&1; then
	pass "fail2ban-client -t accepts the jail with the filter"
else
	fail "fail2ban-client -t"
	cat "$tmp/t.out"
fi
if timeout 120 fail2ban-client -c "$tmp/f2b" -d 2>/dev/null |
    grep -q "'pipesmtpd'.*SYSLOG_IDENTIFIER=pipesmtpd"; then
	pass "the jail reads the journal by SYSLOG_IDENTIFIER=pipesmtpd"
else
	fail "the jail's journalmatch"
fi

# ---- a real fail2ban-server with the jail --------------------------------
# The example jail, read from the log file instead of the journal, with
# an action that only writes the addresses it bans to a file; its own
# socket, pid file and an in-memory database, so nothing of the host's
# fail2ban is touched.  127.0.0.0/8 is not ignored here.
cat > "$tmp/f2b/fail2ban.local" <<EOF
[Definition]
logtarget = $tmp/f2b.log
socket = $tmp/f2b.sock
pidfile = $tmp/f2b.pid
dbfile = :memory:
EOF
cat > "$tmp/f2b/jail.d/zz-test.local" <<EOF
[pipesmtpd]
backend = polling
logpath = $tmp/mail.log
action = dummy[target=$tmp/banned]
ignoreself = false
ignoreip =
EOF
if timeout 60 fail2ban-client -c "$tmp/f2b" start > "$tmp/start.out" 2>&1; then
	pass "fail2ban-server starts with the jail"
	# shellcheck disable=SC2317 # called by wait_until
	banned() { grep -q "^+$prober\$" "$tmp/banned" 2>/dev/null; }
	if wait_until banned; then
		pass "$prober is banned"
	else
		fail "$prober not banned"
		timeout 30 fail2ban-client -c "$tmp/f2b" status pipesmtpd
		cat "$tmp/f2b.log"
	fi
	if [ "$(grep -c '^+' "$tmp/banned")" = 1 ]; then
		pass "nobody else is banned"
	else
		fail "banned: $(tr '\n' ' ' < "$tmp/banned")"
	fi
	timeout 60 fail2ban-client -c "$tmp/f2b" stop >/dev/null 2>&1 ||
		fail "fail2ban-client stop"
else
	fail "fail2ban-server did not start"
	cat "$tmp/start.out" "$tmp/f2b.log"
fi

finish

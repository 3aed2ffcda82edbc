#!/bin/sh
# bench/bounds.sh - how pipesmtpd's memory and descriptors grow (figures,
# not assertions): the peak resident set (VmHWM, the server process
# alone, not its delivery commands) of an idle session, of one that
# delivers a large message (1 GiB by default), of one that delivers a
# 10 KB message to 100 recipients, and of 10 KB messages to 1, 100 and
# 50,000 recipients (RCPTS; a duplicate-free list, delivered by
# /bin/true), with the growth per recipient; and the server's open
# descriptors after one transaction and after 1,000 in the same session.
#
# Each session is held open (its input is a FIFO) while /proc/PID is
# read.  A FIFO gives at most 64 KiB a read, less than a socket: for the
# peak over a socketpair, as inetd runs it, see `make bench` (its 1 KB
# row against C's).  Run from the repository root after `make`:
#
#   sh bench/bounds.sh                 # BIG_MB=1024 by default
#   BIG_MB=64 sh bench/bounds.sh       # a quicker run
#
# The spool goes to $TMPDIR (or /tmp): it needs BIG_MB of free space.
set -eu

BIN=${BIN:-./pipesmtpd}
BIG_MB=${BIG_MB:-1024}
TXNS=${TXNS:-1000}
RCPTS=${RCPTS:-50000}
SPOOL=${TMPDIR:-/tmp}
tmp=$(mktemp -d)
pid=
trap 'exec 3>&- 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null;
	rm -rf "$tmp"' EXIT
[ -x "$BIN" ] || { echo "bounds.sh: build $BIN first (make)" >&2; exit 1; }

root=
[ "$(id -u)" = 0 ] && root=--allow-root

# start CMD... - a server reading the FIFO, writing $tmp/out
start() {
	rm -f "$tmp/in" "$tmp/out"
	mkfifo "$tmp/in"
	"$BIN" --log-stderr --hostname mx.example $root --spool "$SPOOL" \
		--max-size $((BIG_MB * 1048576 + 1048576)) --timeout 600 \
		--max-rcpt 100000 -- "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/log" &
	pid=$!
	exec 3>"$tmp/in"
}

# await N PATTERN - until N reply lines match PATTERN (or the server ends)
await() {
	while [ "$(grep -c "$2" "$tmp/out" 2>/dev/null || true)" -lt "$1" ]; do
		kill -0 "$pid" 2>/dev/null || { echo "server died:" >&2;
			cat "$tmp/out" "$tmp/log" >&2; exit 1; }
		sleep 0.05
	done
}

# hwm - the server's peak resident set in KiB
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }

# nfds - the server's open descriptors
nfds() { ls "/proc/$pid/fd" | wc -l; }

# fdlist - their numbers (above 2: the spool while a message is in, and
# whatever this shell itself inherited and passed on)
fdlist() { ls "/proc/$pid/fd" | sort -n | tr '\n' ' '; }

# finish - QUIT and wait
finish() {
	printf 'QUIT\r\n' >&3
	exec 3>&-
	wait "$pid"
	pid=
}

# body KB - about KB kilobytes of 78-octet CRLF lines
body() {
	awk -v n="$1" 'BEGIN { l = sprintf("%076d", 0);
		for (i = 0; i < n * 1024 / 78; i++) printf "%s\r\n", l }'
}

txn() {
	printf 'MAIL FROM:<s@x.example>\r\n'
	i=0
	while [ "$i" -lt "$1" ]; do
		printf 'RCPT TO:<u%d@mx.example>\r\n' "$i"
		i=$((i + 1))
	done
	printf 'DATA\r\n'
}

row() { printf '%-44s %12s %s\n' "$1" "$2" "$3"; }

row "measure" "value" "unit"

# idle: EHLO, then look
start /bin/sh -c 'cat >/dev/null'
printf 'EHLO c.example\r\n' >&3
await 1 '^250 '
idle=$(hwm)
finish
row "peak RSS, idle session (EHLO)" "$idle" KiB

# one large message, one recipient
body 1024 >"$tmp/mb"
start /bin/sh -c 'cat >/dev/null'
t0=$(date +%s)
{ printf 'EHLO c.example\r\n'; txn 1; } >&3
await 1 '^354'
i=0
while [ "$i" -lt "$BIG_MB" ]; do
	cat "$tmp/mb" >&3
	i=$((i + 1))
done
printf '.\r\n' >&3
await 1 '^250 2.0.0'
big=$(hwm)
t1=$(date +%s)
finish
row "peak RSS, ${BIG_MB} MiB message, 1 recipient" "$big" KiB
row "  (its session took)" $((t1 - t0)) s

# a 10 KB message, 100 recipients
start /bin/sh -c 'cat >/dev/null'
{ printf 'EHLO c.example\r\n'; txn 100; body 10; printf '.\r\n'; } >&3
await 1 '^250 2.0.0'
many=$(hwm)
finish
row "peak RSS, 10 KB message, 100 recipients" "$many" KiB

# recipients: a 10 KB message to 1, 100 and RCPTS (50,000) recipients,
# each delivered by /bin/true; the growth per recipient over the one
# recipient session (doc/design.md: about a hundred octets a recipient)
for n in 1 100 "$RCPTS"; do
	start /bin/true
	{ printf 'EHLO c.example\r\n'; txn "$n"; body 10; printf '.\r\n'; } >&3
	await 1 '^250 2.0.0'
	peak=$(hwm)
	finish
	[ "$n" = 1 ] && one_rcpt=$peak
	row "peak RSS, 10 KB message, $n recipients" "$peak" KiB
	[ "$n" = 1 ] || row "  per recipient above 1 recipient" \
		$(((peak - one_rcpt) * 1024 / (n - 1))) octets
done

# descriptors: after one transaction, then after TXNS in all
start /bin/true
{ printf 'EHLO c.example\r\n'; txn 1; printf 'x\r\n.\r\n'; } >&3
await 1 '^250 2.0.0'
one=$(nfds)
onelist=$(fdlist)
t0=$(date +%s)
n=1
while [ "$n" -lt "$TXNS" ]; do
	txn 1
	printf 'x\r\n.\r\n'
	n=$((n + 1))
done >&3
await "$TXNS" '^250 2.0.0'
t1=$(date +%s)
all=$(nfds)
alllist=$(fdlist)
allrss=$(hwm)
finish
row "open fds after 1 transaction" "$one" "fds: $onelist"
row "open fds after $TXNS transactions" "$all" "fds: $alllist"
row "peak RSS after $TXNS transactions" "$allrss" KiB
row "  ($((TXNS - 1)) more transactions took)" $((t1 - t0)) s

#!/bin/sh
# deploy_systemd.sh - the command line of examples/pipesmtpd@.service, run
# per connection by systemd-socket-activate --inetd --accept on a free
# loopback port (the connection on fds 0 and 1, as StandardInput=socket
# and StandardOutput=socket give it), with swaks as the client.
#
# Instance "example": ExecStart exactly as the example writes it (only the
# binary's path replaced by the built one, and %% turned into % as systemd
# does): pipesmtpd becomes "mail" (--user) and runs procmail -f %s -d %u,
# which writes the recipient's /var/mail mailbox with the envelope sender
# on its "From " line, MAILER-DAEMON for the null sender
# (--null-sender MAILER-DAEMON), never an empty field.  Two throwaway
# accounts are the recipients; each mbox is read back.  swaks sends with PIPELINING on
# and off, to both recipients at once, with the null sender, and to an
# account that does not exist (procmail exits 67: 554 5.1.1).
#
# Instance "big": the example's options with --max-size raised, delivering
# through a shell pipeline; swaks sends a 10 MB attachment, which is
# decoded from the mailbox and compared; the same delivery records %i and
# the command's environment.  systemd-socket-activate (unlike systemd's
# Accept=yes) sets no REMOTE_ADDR: the test reports which path gave
# pipesmtpd the client address and checks it is 127.0.0.1 in %i and in
# Received either way.
#
# Then every TCP socket unit (examples/ and debian/) must bound
# connections per source address below its total, and systemd-analyze
# verify checks the example units.
#
# Needs root, systemd (systemd-socket-activate, systemd-analyze), swaks,
# procmail.  Prints "deploy-systemd: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=systemd
. tests/deploylib.sh

need systemd-socket-activate systemd || finish
need swaks swaks || finish
need procmail procmail || finish

svc=examples/pipesmtpd@.service
sock=examples/pipesmtpd.socket

# ---- the example's ExecStart, as systemd would run it -------------------
exec_line=$(sed -n 's/^ExecStart=//p' "$svc")
if printf '%s\n' "$exec_line" | sed 's/%%//g' | grep -q '%'; then
	fail "$svc: ExecStart has a single % (a systemd specifier)"
fi
# systemd turns %% into %; the first word becomes the binary just built.
cmdline=$(printf '%s\n' "$exec_line" | sed 's/%%/%/g')
case $cmdline in
*' --null-sender MAILER-DAEMON -- /usr/bin/procmail -f %s -d %u')
	pass "example ExecStart delivers with procmail -f %s -d %u, --null-sender MAILER-DAEMON" ;;
*) fail "example ExecStart: unexpected command: $cmdline" ;;
esac
set -f
# shellcheck disable=SC2086 # ExecStart words are unquoted, split them
set -- $cmdline
set +f
shift
example_args=$*

ua=psd$$a
ub=psd$$b
mkdir "$tmp/home-a" "$tmp/home-b"
if add_user "$ua" "$tmp/home-a" && add_user "$ub" "$tmp/home-b"; then
	chown "$ua" "$tmp/home-a"
	chown "$ub" "$tmp/home-b"
	pass "throwaway accounts $ua and $ub"
else
	fail "useradd"
	finish
fi

port=$(free_port)
set -f
# shellcheck disable=SC2086
spawn timeout 240 systemd-socket-activate --inetd --accept -l "127.0.0.1:$port" \
	"$bin" $example_args </dev/null >/dev/null 2>"$tmp/example.log"
set +f

# ---- the "big" instance: shell pipeline, %i, environment ----------------
mkdir "$tmp/big"
chown mail "$tmp/big"
big_port=$(free_port)
opts=$(printf '%s\n' "$example_args" | sed 's/ -- .*//')
# pipesmtpd expands placeholders in every argument, the script too: its
# printf format is written %%s.
# shellcheck disable=SC2016 # "$1", "$2" are for the inner sh
script='umask 077; printf "%%s\n" "$2" > "$1.ip"; env > "$1.env"; cat >> "$1"'
set -f
# shellcheck disable=SC2086
spawn timeout 240 systemd-socket-activate --inetd --accept -l "127.0.0.1:$big_port" \
	"$bin" $opts --max-size 20000000 --env REMOTE_ADDR --log-stderr -- \
	/bin/sh -c "$script" sh "$tmp/big/box" %i \
	</dev/null >/dev/null 2>"$tmp/big.log"
set +f

if wait_port "$port" && wait_port "$big_port"; then
	pass "systemd-socket-activate listens on 127.0.0.1:$port and :$big_port"
else
	fail "launchers did not start"
	cat "$tmp/example.log" "$tmp/big.log"
	finish
fi

# smtp NAME [swaks options] - swaks to the example instance, transcript kept
smtp() {
	n=$1
	shift
	timeout 60 swaks --server 127.0.0.1 --port "$port" \
		--helo client.test "$@" >"$tmp/$n.out" 2>&1
}

mbox_a=/var/mail/$ua
mbox_b=/var/mail/$ub
count_from() { grep -c '^From ' "$1" 2>/dev/null || echo 0; }

if smtp plain --pipeline --from sender@example.net --to "$ua@example.org" \
	--header "Subject: one" --body "body one" &&
    grep -q '^<-  250 2.0.0' "$tmp/plain.out" &&
    [ "$(count_from "$mbox_a")" = 1 ] && grep -q '^body one$' "$mbox_a"; then
	pass "swaks --pipeline: delivered to /var/mail/$ua by procmail"
	if head -n 1 "$mbox_a" |
	    grep -q '^From sender@example\.net  [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 1-3][0-9] [0-9:]\{8\} [0-9]\{4\}$'; then
		pass "procmail's From_ line names the envelope sender: $(head -n 1 "$mbox_a")"
	else
		fail "From_ line: $(head -n 1 "$mbox_a")"
	fi
else
	fail "swaks --pipeline: plain message"
	cat "$tmp/plain.out"
fi
# the client really pipelined: RCPT was sent before the MAIL reply came
if awk '/^ -> MAIL FROM/ { m = 1 } m && /^<-  250/ { exit }
    m && /^ -> RCPT TO/ { found = 1 } END { exit !found }' "$tmp/plain.out"; then
	pass "swaks pipelined MAIL and RCPT"
else
	fail "swaks did not pipeline"
fi
if sed -n '/^Received: /,/^[^ 	]/p' "$mbox_a" | head -n 3 |
    grep -q 'from client.test (unknown \[127\.0\.0\.1\])' &&
    grep -q '	by mail.example.org (pipesmtpd) with ESMTP id ' "$mbox_a" &&
    grep -q "	for <$ua@example.org>; " "$mbox_a"; then
	pass "Received: from client.test (unknown [127.0.0.1]) by mail.example.org"
else
	fail "Received header"
	sed -n '1,8p' "$mbox_a"
fi
if grep -q '^Return-Path: <sender@example.net>$' "$mbox_a"; then
	pass "Return-Path kept in the mbox"
else
	fail "Return-Path"
fi
owner=$(stat -c %U "$mbox_a" 2>/dev/null)
if [ "$owner" = "$ua" ]; then
	pass "the mbox belongs to the recipient ($owner): procmail -d became $ua"
else
	fail "mbox owner is '$owner'"
fi

if smtp nopipe --no-pipeline --from sender@example.net \
	--to "$ua@example.org,$ub@example.org" --header "Subject: two" \
	--body "body two" &&
    [ "$(count_from "$mbox_a")" = 2 ] && [ "$(count_from "$mbox_b")" = 1 ] &&
    grep -q '^body two$' "$mbox_b" &&
    grep -q '^<-  250 2.0.0' "$tmp/nopipe.out"; then
	pass "swaks --no-pipeline, two recipients: one copy in each mbox"
else
	fail "swaks --no-pipeline, two recipients"
	cat "$tmp/nopipe.out"
fi
if ! awk '/^ -> MAIL FROM/ { m = 1 } m && /^<-  250/ { exit }
    m && /^ -> RCPT TO/ { found = 1 } END { exit !found }' "$tmp/nopipe.out"; then
	pass "swaks --no-pipeline waited for each reply"
else
	fail "swaks --no-pipeline pipelined anyway"
fi

if smtp null --from '<>' --to "$ub@example.org" --header "Subject: bounce" \
	--body "a bounce" && grep -q '^ -> MAIL FROM:<>' "$tmp/null.out" &&
    [ "$(count_from "$mbox_b")" = 2 ] &&
    grep -q '^Return-Path: <>$' "$mbox_b"; then
	pass "swaks, the null sender: delivered, Return-Path: <>"
	last=$(grep '^From ' "$mbox_b" | tail -n 1)
	case $last in
	'From MAILER-DAEMON  '[A-Z]*) pass "the null sender's From_ line: $last" ;;
	*) fail "the null sender's From_ line: '$last'" ;;
	esac
else
	fail "swaks, the null sender"
	cat "$tmp/null.out"
fi

smtp nouser --from sender@example.net --to "nosuch$$@example.org"
if grep -q '^<\*\* 554 5.1.1 ' "$tmp/nouser.out"; then
	pass "an account that does not exist: procmail exits 67, 554 5.1.1"
else
	fail "unknown account"
	cat "$tmp/nouser.out"
fi

# ---- 10 MB attachment through the "big" instance -----------------------
head -c 10000000 /dev/urandom > "$tmp/attach.bin"
if timeout 120 swaks --server 127.0.0.1 --port "$big_port" --helo client.test \
	--from sender@example.net --to "big@example.org" \
	--attach "@$tmp/attach.bin" >"$tmp/big.out" 2>&1 &&
    grep -q '^<-  250 2.0.0' "$tmp/big.out"; then
	pass "swaks: a 10 MB attachment accepted with --max-size 20000000"
else
	fail "swaks: 10 MB attachment"
	tail -n 20 "$tmp/big.out"
	cat "$tmp/big.log"
fi
if timeout 60 python3 - "$tmp/big/box" "$tmp/attach.bin" <<'EOF'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                     policy=email.policy.default)
want = open(sys.argv[2], "rb").read()
got = [p.get_content() for p in msg.iter_attachments()]
sys.exit(0 if got and got[0] == want else 1)
EOF
then
	pass "the attachment decoded from the mailbox is the 10 MB sent"
else
	fail "attachment differs"
fi
if [ "$(cat "$tmp/big/box.ip" 2>/dev/null)" = 127.0.0.1 ]; then
	pass "%i is 127.0.0.1"
else
	fail "%i is '$(cat "$tmp/big/box.ip" 2>/dev/null)'"
fi
if grep -q '^CLIENT_ADDRESS=127\.0\.0\.1$' "$tmp/big/box.env"; then
	pass "CLIENT_ADDRESS=127.0.0.1 in the command's environment"
else
	fail "CLIENT_ADDRESS"
	cat "$tmp/big/box.env"
fi
if grep -q '^REMOTE_ADDR=' "$tmp/big/box.env"; then
	echo "# systemd-socket-activate set REMOTE_ADDR=$(sed -n 's/^REMOTE_ADDR=//p' "$tmp/big/box.env"): the address came from it"
else
	echo "# systemd-socket-activate --inetd sets no REMOTE_ADDR: the address came from getpeername(0)"
fi
if grep -q 'from client.test (unknown \[127\.0\.0\.1\])' "$tmp/big/box"; then
	pass "big: Received names [127.0.0.1]"
else
	fail "big: Received"
fi
if grep -q 'connect from unknown\[127\.0\.0\.1\]' "$tmp/big.log" &&
    grep -q 'status=sent (exit 0)' "$tmp/big.log"; then
	pass "big: log lines with client=[127.0.0.1] and status=sent"
else
	fail "big: log"
	cat "$tmp/big.log"
fi

# ---- the example units --------------------------------------------------
if grep -q '^Accept=yes$' "$sock" && grep -q '^StandardInput=socket$' "$svc" &&
    grep -q '^StandardOutput=socket$' "$svc"; then
	pass "example units: Accept=yes, the socket on stdin and stdout"
else
	fail "example units: Accept=yes / StandardInput/Output=socket"
fi
# every socket unit on a TCP port bounds each client address, within
# its total (systemd-socket-activate has no such option, and without
# systemd as PID 1 the bound is checked here, as written, and by
# systemd-analyze verify below)
for u in examples/pipesmtpd.socket examples/pipesmtpd-tls.socket \
    examples/pipesmtpd-proxy.socket debian/pipesmtpd.socket; do
	per=$(sed -n 's/^MaxConnectionsPerSource=//p' "$u")
	all=$(sed -n 's/^MaxConnections=//p' "$u")
	if [ -n "$per" ] && [ -n "$all" ] && [ "$per" -ge 1 ] &&
	    [ "$per" -lt "$all" ]; then
		pass "$u: MaxConnectionsPerSource=$per of MaxConnections=$all"
	else
		fail "$u: MaxConnectionsPerSource='$per' MaxConnections='$all'"
	fi
done
if need systemd-analyze systemd &&
    timeout 30 systemd-analyze --version >/dev/null 2>&1; then
	mkdir "$tmp/units"
	cp "$sock" "$tmp/units/"
	sed "s#^ExecStart=[^ ]*#ExecStart=$bin#" "$svc" \
		> "$tmp/units/pipesmtpd@.service"
	if (cd "$tmp/units" && timeout 60 systemd-analyze verify --man=no \
	    ./pipesmtpd.socket ./pipesmtpd@.service) \
	    > "$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
		pass "systemd-analyze verify: pipesmtpd.socket, pipesmtpd@.service"
	else
		fail "systemd-analyze verify"
		cat "$tmp/verify.out"
	fi
fi

finish

#!/bin/sh
# interop_tls.sh - STARTTLS through real UCSPI-TLS launchers, with real
# clients, on 127.0.0.1.
#
# The launcher is built from third_party/ (make tls-tools: s6-tcpserver,
# s6-ucspitlsd and its TLS engine s6-tlsd-io, over Debian's libtls).  Five listeners run
# "s6-ucspitlsd -S ... -- pipesmtpd ... -- tests/recorder OUT/%u" with a
# throw-away self-signed certificate (CERTFILE, KEYFILE):
#
#   s6     under s6-tcpserver (the vendored build)
#   tcp    examples/tcpserver-tls.run under Debian's tcpserver
#          (ucspi-tcp): the engine as the account _pipesmtpd-tls
#          (TLS_UID, TLS_GID; made here as the example says),
#          pipesmtpd and the command as mail (--user mail)
#   sd     examples/pipesmtpd-tls@.service's Environment= and ExecStart=
#          under systemd-socket-activate --accept --inetd
#   req    under s6-tcpserver, pipesmtpd with --require-tls
#   slow   under s6-tcpserver, pipesmtpd with --timeout 3
#
# The examples are made local (binaries, certificate, host name, the log
# on stderr, the recorder for procmail) and run otherwise as written.
#
# Clients, each delivering one message, on s6, tcp and sd: swaks --tls,
# openssl s_client -starttls smtp (the dialogue after the handshake
# scripted by tests/interop_tls.py), Python's smtplib starttls(); on s6
# also s_client with -tls1_3 and with -tls1_2, and curl --tlsv1.3; Exim
# (a private configuration, as in tests/interop_exim.sh) relaying to tcp
# and requiring TLS.  The protocol is TLS 1.2 or 1.3 (1.3 where the
# client has it: all of them here).  Each message is checked byte for
# byte in what the delivery command got, its Received line must name the
# protocol and cipher the client negotiated ("with ESMTPS"), the
# command's environment must carry
# TLS_PROTOCOL and TLS_CIPHER and its descriptors be 0-2 only, and the
# log must record the TLS session and tls= on the delivery line.  Also:
# a client that never asks for TLS (delivered, "with ESMTP", no TLS_
# variables), one that sends text instead of a ClientHello, one that
# hangs up mid-handshake, one silent after the 220 (no delivery, the
# failure logged, the session ends although the client keeps its
# connection; the silent one after --timeout), s_client offering only
# TLS 1.1 or only TLS 1.0 (refused with a protocol_version alert, nothing
# delivered), one idle inside TLS
# (421 4.4.2 after --timeout, then the close), --require-tls
# (530 5.7.0 before STARTTLS, delivered after it), and STARTTLS with a
# pipelined RSET (no reply to it inside TLS).
#
# After every session: its pipesmtpd has ended within 10 s, and nothing
# was left behind.  Each launcher runs under a small child subreaper
# that never reaps anything but the launcher, so a TLS engine (or any
# process) that pipesmtpd did not wait for shows up as its child, zombie
# or alive.
#
# Needs root and the Debian packages openssl swaks python3 ucspi-tcp
# exim4-daemon-light systemd curl skalibs-dev libs6-dev libtls-dev; a
# missing one is a failure, with PIPESMTPD_DEV=1 a skip naming them.  Prints
# "interop-tls: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
PATH=$PATH:/usr/sbin:/sbin
export PATH

SUITE=interop-tls
. tests/scriptlib.sh

missing=
for p in openssl swaks python3 ucspi-tcp exim4-daemon-light systemd curl \
    skalibs-dev libs6-dev libtls-dev; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null |
		grep -q ' ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "${PIPESMTPD_DEV:-}" = 1 ]; then
		echo "SKIP - STARTTLS interop needs Debian packages:$missing"
		skipped=$missing
		finish
	fi
	fail "missing Debian packages: apt-get install$missing"
	finish
fi
need_tools timeout make ps systemd-socket-activate
if [ "$(id -u)" -ne 0 ]; then
	fail "must run as root (the example launchers switch to mail; Exim keeps the privilege -C needs only for root)"
	finish
fi

make_tmp pipesmtpd-interop-tls
build_bin
if [ ! -x tests/recorder ]; then
	timeout 300 make tests/recorder >/dev/null ||
		{ fail "make tests/recorder"; finish; }
fi
rec=$(pwd)/tests/recorder

# ---- the launcher, built from third_party/ ---------------------------
tlsdir=${TLS_DIR:-$(pwd)/build-tls}
tlsbin=$tlsdir/bin
if timeout 600 make -s tls-tools TLS_DIR="$tlsdir" > "$tmp/build.log" 2>&1 &&
    [ -x "$tlsbin/s6-ucspitlsd" ] && [ -x "$tlsbin/s6-tcpserver" ]; then
	pass "make tls-tools: s6-tcpserver and s6-ucspitlsd built from third_party/"
else
	fail "make tls-tools"
	cat "$tmp/build.log"
	finish
fi
# libs BINARY - the shared libraries BINARY names itself, one a line
libs() {
	objdump -p "$1" | sed -n 's/^ *NEEDED *//p' | sort | tr '\n' ' '
}
if [ "$(libs "$tlsbin/s6-tlsd-io")" = "libc.so.6 libtls.so.26 " ] &&
    [ "$(libs "$tlsbin/s6-ucspitlsd")" = "libc.so.6 " ]; then
	pass "the engine links Debian's libtls (libtls.so.26) and libc, s6-ucspitlsd only libc"
else
	fail "s6-tlsd-io needs $(libs "$tlsbin/s6-tlsd-io"), s6-ucspitlsd $(libs "$tlsbin/s6-ucspitlsd")"
fi

if timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
    -subj /CN=mx.test -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
    > "$tmp/openssl.log" 2>&1; then
	pass "a throw-away self-signed certificate"
else
	fail "openssl req"
	cat "$tmp/openssl.log"
	finish
fi

# The message every client sends: large enough for several TLS records,
# with a leading dot (each client stuffs it, pipesmtpd unstuffs it).
# swaks takes a final "." line as the end of its data (otherwise it adds
# an empty line): its copy has one.
python3 - "$tmp/msg" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: sender@example.org\nTo: rcpt@mx.test\n"
            "Subject: STARTTLS interop\n\n")
    for i in range(1, 1001):
        f.write("line %04d of a message long enough for several TLS "
                "records\n" % i)
    f.write(".a line with a leading dot\nthe end\n")
EOF
{ cat "$tmp/msg" && echo .; } > "$tmp/msg.swaks"

# ---- launchers under a subreaper -------------------------------------
# reaper.py PIDFILE CMD... - runs CMD as a child subreaper's only
# waited-for child; writes "REAPER_PID CMD_PID" to PIDFILE.  Orphans of
# CMD's descendants become its children and stay there, reaped never.
cat > "$tmp/reaper.py" <<'EOF'
import ctypes, os, signal, subprocess, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
child = subprocess.Popen(sys.argv[2:])
with open(sys.argv[1] + ".new", "w") as f:
    f.write("%d %d\n" % (os.getpid(), child.pid))
os.rename(sys.argv[1] + ".new", sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: child.terminate())
sys.exit(child.wait())
EOF

# The delivery command runs as mail under the example launchers (their
# --user mail): it gets a copy of the recorder it can reach, and the
# output directory.  The engine's account, as the example says to make it
# (kept if it exists: the package makes the same one).
if ! getent passwd _pipesmtpd-tls >/dev/null; then
	adduser --system --group --no-create-home --home /nonexistent \
		_pipesmtpd-tls > "$tmp/adduser.log" 2>&1 ||
		{ fail "adduser _pipesmtpd-tls"; cat "$tmp/adduser.log"; finish; }
	# shellcheck disable=SC2317 # called from the EXIT trap
	drop_account() { userdel _pipesmtpd-tls >/dev/null 2>&1; }
	cleanup_hook=drop_account
fi
mkdir "$tmp/out" "$tmp/bin"
cp "$rec" "$tmp/bin/recorder"
rec=$tmp/bin/recorder
chown mail "$tmp/out"

# the pipesmtpd command line of the s6 and req listeners ($*: options)
server() {
	echo "$bin --hostname mx.test --log-stderr --allow-root $* --" \
		"$rec $tmp/out/%u"
}

# launch NAME CMD... - start CMD under the subreaper, CERTFILE and
# KEYFILE in its environment; its stdout goes to NAME.port (where a
# launcher with -1 prints its port, or the port was written before),
# its stderr (and pipesmtpd's log) to NAME.log
launch() {
	name=$1
	shift
	spawn timeout 900 env CERTFILE="$tmp/cert.pem" KEYFILE="$tmp/key.pem" \
		python3 "$tmp/reaper.py" "$tmp/$name.pids" "$@" \
		</dev/null >>"$tmp/$name.port" 2>"$tmp/$name.log"
	if wait_until ready "$name"; then
		pass "$name: listening on 127.0.0.1:$(port "$name")"
	else
		fail "$name: the launcher did not start"
		cat "$tmp/$name.log"
		finish
	fi
}
# shellcheck disable=SC2317 # called through wait_until
ready() {
	[ -n "$(port "$1")" ] && [ -s "$tmp/$1.pids" ] && listening "$(port "$1")"
}
port() { grep -m 1 -x '[0-9][0-9]*' "$tmp/$1.port" 2>/dev/null; }
reaper_of() { cut -d' ' -f1 "$tmp/$1.pids"; }
launcher_of() { cut -d' ' -f2 "$tmp/$1.pids"; }

# as_test - the example's pipesmtpd and s6-ucspitlsd lines made local:
# the binaries built here, the certificate made here, host mx.test, the
# log on stderr, the recorder instead of procmail (--user mail stays)
as_test() {
	sed -e "s|/usr/local/bin/s6-ucspitlsd |$tlsbin/s6-ucspitlsd |" \
		-e "s|/usr/local/sbin/pipesmtpd |$bin |" \
		-e "s|--hostname mail.example.org --domain example.org|--hostname mx.test --log-stderr|" \
		-e "s|-- /usr/bin/procmail -f %%*s -d %%*u\$|-- $rec $tmp/out/%u|" \
		-e "s|CERTFILE=.*|CERTFILE=$tmp/cert.pem|" \
		-e "s|KEYFILE=.*|KEYFILE=$tmp/key.pem|" \
		-e "s|/usr/local/etc/pipesmtpd-tls.account|$tmp/account|" "$@"
}
# made_local FILE - nothing of the example's own paths and names is left
# (outside comments)
made_local() {
	if grep -v '^#' "$1" |
	    grep -q -e /usr/local -e /etc/ssl -e procmail -e example.org; then
		fail "$1: the example changed, update as_test: $(cat "$1")"
		finish
	fi
}

# shellcheck disable=SC2046 # one word per option
launch s6 "$tlsbin/s6-tcpserver" -1 127.0.0.1 0 \
	"$tlsbin/s6-ucspitlsd" -S -- $(server)
# shellcheck disable=SC2046
launch req "$tlsbin/s6-tcpserver" -1 127.0.0.1 0 \
	"$tlsbin/s6-ucspitlsd" -S -- $(server --require-tls)
# shellcheck disable=SC2046
launch slow "$tlsbin/s6-tcpserver" -1 127.0.0.1 0 \
	"$tlsbin/s6-ucspitlsd" -S -- $(server --timeout 3)

# tcp: examples/tcpserver-tls.run, listening on 127.0.0.1 (port printed
# with -1, no DNS with -H and -l), its log on stderr
as_test -e '/^exec 2>&1$/d' \
	-e 's| 0 25 \\$| -1 -H -l mx.test 127.0.0.1 0 \\|' \
	examples/tcpserver-tls.run > "$tmp/tcp.run"
made_local "$tmp/tcp.run"
launch tcp sh "$tmp/tcp.run"

# sd: the command line and environment of examples/pipesmtpd-tls@.service
# under systemd-socket-activate, as examples/pipesmtpd-tls.socket would
# start it (one instance per connection, the socket on stdin and stdout)
unit=examples/pipesmtpd-tls@.service
if grep -q '^Accept=yes$' examples/pipesmtpd-tls.socket &&
    grep -q '^StandardInput=socket$' "$unit" &&
    grep -q '^StandardOutput=socket$' "$unit"; then
	pass "pipesmtpd-tls.socket accepts, the service gets the connection on stdin and stdout"
else
	fail "examples/pipesmtpd-tls.socket or $unit: Accept=yes / StandardInput=socket / StandardOutput=socket"
fi
# the engine's account as the unit's comment says to write it
printf 'TLS_UID=%s\nTLS_GID=%s\n' "$(id -u _pipesmtpd-tls)" \
	"$(id -g _pipesmtpd-tls)" > "$tmp/account"
{
	sed -n 's/^Environment=//p' "$unit" | tr ' ' '\n'
	sed -n 's/^EnvironmentFile=//p' "$unit" | as_test | xargs cat
} | as_test > "$tmp/sd.env"
sed -n 's/^ExecStart=//p' "$unit" | sed 's/%%/%/g' | as_test > "$tmp/sd.cmd"
made_local "$tmp/sd.env"
made_local "$tmp/sd.cmd"
free_port > "$tmp/sd.port"
# shellcheck disable=SC2046 # one word per variable and per argument
launch sd systemd-socket-activate --accept --inetd \
	-l "127.0.0.1:$(port sd)" $(sed 's/^/-E /' "$tmp/sd.env") \
	$(cat "$tmp/sd.cmd")

# shellcheck disable=SC2317 # called through wait_until
no_sessions() {
	[ -z "$(ps -o pid= --ppid "$(launcher_of "$1")")" ]
}

# settle NAME WHAT - after a client of launcher NAME: the session has
# ended (within 10 s) and left nothing behind under the subreaper; each
# leftover is reported once
settle() {
	if wait_until no_sessions "$1"; then
		pass "$2: the session's pipesmtpd ended"
	else
		fail "$2: a session still runs 10 s after the client: $(ps -o \
			pid=,stat=,args= --ppid "$(launcher_of "$1")")"
	fi
	touch "$tmp/$1.seen"
	left=$(ps -o pid=,stat=,args= --ppid "$(reaper_of "$1")" |
		awk -v l="$(launcher_of "$1")" '$1 != l' |
		grep -v -w -F -f "$tmp/$1.seen")
	if [ -z "$left" ]; then
		pass "$2: no process left behind (no zombie, no orphaned engine)"
	else
		fail "$2: left behind: $left"
		printf '%s\n' "$left" | awk '{ print $1 }' >> "$tmp/$1.seen"
	fi
}

# client NAME WHAT SCENARIO [LOCAL] - tests/interop_tls.py SCENARIO
# against launcher NAME; its output in WHAT.out
client() {
	timeout 120 python3 tests/interop_tls.py "$3" "$(port "$1")" "${4:-}" \
		"$tmp/msg" > "$tmp/$2.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$2: the client's dialogue went as expected"
	else
		fail "$2: the client exited $rc: $(cat "$tmp/$2.out")"
	fi
}
# cipher_of WHAT, protocol_of WHAT - what the Python client reported
cipher_of() { sed -n 's/^cipher: //p' "$tmp/$1.out"; }
protocol_of() { sed -n 's/^protocol: //p' "$tmp/$1.out"; }

# offered WHAT - the client saw STARTTLS in the EHLO reply
offered() {
	if grep -q '^starttls offered: True$' "$tmp/$1.out"; then
		pass "$1: EHLO under s6-ucspitlsd lists STARTTLS"
	else
		fail "$1: EHLO under s6-ucspitlsd does not list STARTTLS"
	fi
}

# session_pid NAME LOCAL - the pid in NAME's log of the delivery to LOCAL
session_pid() {
	sed -n "s/^pipesmtpd\[\([0-9]*\)\]: [^ ]*: to=<$2@mx\.test>.*/\1/p" \
		"$tmp/$1.log" | head -n 1
}

# once WHAT LOCAL [BODY_ONLY] - LOCAL's command ran exactly once and got
# the message byte for byte after pipesmtpd's headers (with BODY_ONLY:
# the body after the header section, for a relay that adds headers)
once() {
	dir=$tmp/out/$2
	if [ ! -d "$dir/1" ] || [ -d "$dir/2" ]; then
		fail "$1: the delivery command ran $(find "$dir" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l) times, not once"
		return
	fi
	if [ -n "${3:-}" ]; then
		sed '1,/^$/d' "$dir/1/stdin" > "$dir/got"
		sed '1,/^$/d' "$tmp/msg" > "$dir/want"
	else
		strip "$dir/1/stdin" > "$dir/got"
		cp "$tmp/msg" "$dir/want"
	fi
	if cmp -s "$dir/got" "$dir/want"; then
		pass "$1: delivered once, byte for byte"
	else
		fail "$1: the delivered message differs"
		diff "$dir/want" "$dir/got" | head -n 5
	fi
}

# tls_delivered NAME WHAT LOCAL PROTOCOL CIPHER HELO [BODY_ONLY] - the TLS
# delivery to LOCAL through launcher NAME, PROTOCOL (TLSv1.2 or TLSv1.3)
# and CIPHER as the client reported them: the message, Received naming
# both, the command's environment and descriptors, and the log
tls_delivered() {
	name=$1 what=$2 local=$3 proto=$4 cipher=$5 helo=$6
	dir=$tmp/out/$local
	once "$what" "$local" "${7:-}"
	[ -f "$dir/1/stdin" ] || return
	case $proto in
	TLSv1.2|TLSv1.3) ;;
	*) fail "$what: the client negotiated '$proto', not TLS 1.2 or 1.3" ;;
	esac
	tab=$(printf '\t')
	if [ -n "$cipher" ] && sed -n 2,4p "$dir/1/stdin" > "$dir/received" &&
	    [ "$(sed -n 1p "$dir/received")" = "Received: from $helo (unknown [127.0.0.1])" ] &&
	    [ "$(sed -n 2p "$dir/received")" = "$tab(using $proto with cipher $cipher)" ] &&
	    sed -n 3p "$dir/received" |
	    grep -q "^${tab}by mx\.test (pipesmtpd) with ESMTPS id [0-9A-Za-z]*\$"; then
		pass "$what: Received says with ESMTPS, using $proto with cipher $cipher"
	else
		fail "$what: Received (client's: ${proto:-none} ${cipher:-none}): $(sed -n 2,5p "$dir/1/stdin")"
	fi
	if [ "$(envof "$dir" 1 TLS_PROTOCOL)" = "$proto" ] &&
	    [ "$(envof "$dir" 1 TLS_CIPHER)" = "$cipher" ]; then
		pass "$what: the command got TLS_PROTOCOL=$proto TLS_CIPHER=$cipher"
	else
		fail "$what: TLS_PROTOCOL/TLS_CIPHER: $(tr '\0' '\n' < "$dir/1/env" | grep '^TLS_')"
	fi
	if [ "$(sort -n "$dir/1/fds" | tr '\n' ' ')" = "0 1 2 " ] &&
	    ! tr '\0' '\n' < "$dir/1/env" |
	    grep -q -e '^SSL' -e '^CERTFILE=' -e '^KEYFILE='; then
		pass "$what: the command saw fds 0-2 only, no SSL*, CERTFILE or KEYFILE"
	else
		fail "$what: fds $(tr '\n' ' ' < "$dir/1/fds"), env $(tr '\0' ' ' < "$dir/1/env")"
	fi
	pid=$(session_pid "$name" "$local")
	if [ -n "$pid" ] && grep -q -F "pipesmtpd[$pid]: TLS connection established from unknown[127.0.0.1]: $proto with cipher $cipher" "$tmp/$name.log" &&
	    grep -q -F "to=<$local@mx.test>, from=<sender@example.org>, client=[127.0.0.1], tls=$proto/$cipher, " "$tmp/$name.log"; then
		pass "$what: logged the TLS session and tls=$proto/$cipher"
	else
		fail "$what: the log: $(grep "pipesmtpd\[${pid:-none}\]" "$tmp/$name.log")"
	fi
}

# ---- swaks --tls, openssl s_client, smtplib, on three launchers --------
for l in s6 tcp sd; do
	what=swaks-$l
	timeout 120 swaks --server "127.0.0.1:$(port $l)" --tls \
		--helo client.test --from sender@example.org \
		--to "$what@mx.test" --data "@$tmp/msg.swaks" \
		</dev/null > "$tmp/$what.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^<~  250 2\.0\.0 ' "$tmp/$what.out"; then
		pass "$what: swaks --tls sent the message inside TLS"
	else
		fail "$what: swaks exited $rc"
		cat "$tmp/$what.out"
	fi
	started=$(sed -n 's/^=== TLS started with cipher //p' "$tmp/$what.out")
	tls_delivered "$l" "$what" "$what" "$(echo "$started" | cut -d: -f1)" \
		"$(echo "$started" | cut -d: -f2)" client.test
	settle "$l" "$what"

	for what in sclient smtplib; do
		client "$l" "$what-$l" "$what" "$what-$l"
		[ "$what" = smtplib ] && offered "$what-$l"
		tls_delivered "$l" "$what-$l" "$what-$l" \
			"$(protocol_of "$what-$l")" "$(cipher_of "$what-$l")" \
			client.test
		settle "$l" "$what-$l"
	done
done

# ---- TLS 1.3 and 1.2 on demand, nothing older ----------------------------
for v in tls1_3 tls1_2; do
	what=sclient-$v
	client s6 "$what" "$what" "$what"
	want=$(echo "$v" | sed 's/tls1_/TLSv1./')
	if [ "$(protocol_of "$what")" = "$want" ]; then
		pass "$what: openssl s_client -starttls smtp -$v negotiated $want"
	else
		fail "$what: s_client -$v negotiated '$(protocol_of "$what")'"
	fi
	tls_delivered s6 "$what" "$what" "$(protocol_of "$what")" \
		"$(cipher_of "$what")" client.test
	settle s6 "$what"
done

what=curl-tls1_3
timeout 120 curl -sS -v --ssl-reqd --tlsv1.3 -k --crlf \
	--url "smtp://127.0.0.1:$(port s6)/client.test" \
	--mail-from sender@example.org --mail-rcpt "$what@mx.test" \
	--upload-file "$tmp/msg" </dev/null > "$tmp/$what.out" 2>&1
rc=$?
used=$(sed -n 's/^\* SSL connection using \(TLSv1\.3\) \/ \([A-Z0-9_-]*\)$/\1 \2/p' \
	"$tmp/$what.out")
if [ "$rc" -eq 0 ] && [ -n "$used" ] && grep -q '^< 250 2\.0\.0 ' "$tmp/$what.out"; then
	pass "$what: curl --tlsv1.3 sent the message inside TLS ($used)"
else
	fail "$what: curl --tlsv1.3 exited $rc"
	cat "$tmp/$what.out"
fi
# shellcheck disable=SC2086 # protocol and cipher, two words
tls_delivered s6 "$what" "$what" $used client.test
settle s6 "$what"

# ---- a client that never asks for TLS --------------------------------
what=cleartext
client s6 "$what" cleartext "$what"
offered "$what"
once "$what" "$what"
dir=$tmp/out/$what
if [ -f "$dir/1/stdin" ] &&
    [ "$(sed -n 2p "$dir/1/stdin")" = "Received: from client.test (unknown [127.0.0.1])" ] &&
    sed -n 3p "$dir/1/stdin" | grep -q '^	by mx\.test (pipesmtpd) with ESMTP id '; then
	pass "$what: Received says with ESMTP, no TLS"
else
	fail "$what: Received: $(sed -n 2,4p "$dir/1/stdin" 2>/dev/null)"
fi
if [ -f "$dir/1/env" ] && ! tr '\0' '\n' < "$dir/1/env" | grep -q '^TLS_'; then
	pass "$what: no TLS_ variable for the command"
else
	fail "$what: TLS_ variables: $(tr '\0' '\n' < "$dir/1/env" 2>/dev/null | grep '^TLS_')"
fi
if grep -q -F "to=<$what@mx.test>, from=<sender@example.org>, client=[127.0.0.1], size=" "$tmp/s6.log"; then
	pass "$what: the delivery line has no tls="
else
	fail "$what: the delivery line: $(grep -F "to=<$what@" "$tmp/s6.log")"
fi
settle s6 "$what"

# ---- sessions that must deliver nothing -------------------------------
# mark NAME - remember how long NAME's log is; since NAME - what was
# logged after the mark
mark() { wc -l < "$tmp/$1.log" > "$tmp/$1.mark"; }
since() { tail -n +"$(($(cat "$tmp/$1.mark") + 1))" "$tmp/$1.log"; }

# failed_tls NAME WHAT - since the mark, the failed handshake is logged
# with the engine's exit status (or the signal that ended it); nothing
# at all was delivered
failed_tls() {
	since "$1" > "$tmp/$2.log"
	if grep -q "^pipesmtpd\[[0-9]*\]: STARTTLS from unknown\[127\.0\.0\.1\] failed: TLS engine \(exit status\|killed by signal\) [0-9][0-9]*\$" "$tmp/$2.log"; then
		pass "$2: logged: $(grep -o 'STARTTLS from .* failed: .*' "$tmp/$2.log")"
	else
		fail "$2: no 'STARTTLS from ... failed: TLS engine exit status N' (or 'killed by signal N') in the log: $(cat "$tmp/$2.log")"
	fi
	n=$(find "$tmp/out" -mindepth 2 -maxdepth 2 -type d | wc -l)
	if [ "$n" -eq "$deliveries" ]; then
		pass "$2: nothing delivered"
	else
		fail "$2: $((n - deliveries)) deliveries from a failed session"
	fi
}
deliveries=$(find "$tmp/out" -mindepth 2 -maxdepth 2 -type d | wc -l)

for l in s6 tcp; do
	what=garbage-$l
	mark "$l"
	client "$l" "$what" garbage
	if grep -q '^closed by server after ' "$tmp/$what.out"; then
		pass "$what: the server closed the connection the client kept open ($(sed -n 's/^closed by server after //p' "$tmp/$what.out"))"
	else
		fail "$what: the server never closed the connection"
	fi
	failed_tls "$l" "$what"
	settle "$l" "$what"

	what=midshake-$l
	mark "$l"
	client "$l" "$what" midshake
	failed_tls "$l" "$what"
	settle "$l" "$what"
done

# Only TLS 1.2 and 1.3: a client offering nothing newer than TLS 1.1
# (or 1.0) gets the server's protocol_version alert.
for v in tls1_1 tls1; do
	what=old-$v
	mark s6
	client s6 "$what" "$what"
	failed_tls s6 "$what"
	settle s6 "$what"
done

# A client silent after the 220: pipesmtpd's --timeout (3 s here; no -K)
# ends the handshake's wait and the session, engine and all.
what=stall
mark slow
client slow "$what" stall
secs=$(sed -n 's/^closed by server after \([0-9]*\)\..*/\1/p' "$tmp/$what.out")
if [ -n "$secs" ] && [ "$secs" -ge 2 ] && [ "$secs" -le 20 ]; then
	pass "$what: the server closed the connection after $secs s (--timeout 3)"
else
	fail "$what: the server closed the connection after ${secs:-no} s, not about 3"
fi
failed_tls slow "$what"
settle slow "$what"

# A client idle inside TLS: --timeout still holds, 421 4.4.2 inside TLS,
# then the engine ends TLS and is waited for.
what=idle
client slow "$what" idle
if grep -q '^closed by server after ' "$tmp/$what.out"; then
	pass "$what: 421 4.4.2 inside TLS, then the server closed the connection"
else
	fail "$what: the server did not close the connection"
fi
settle slow "$what"

# ---- --require-tls -----------------------------------------------------
what=require
client req "$what" require "$what"
tls_delivered req "$what" "$what" "$(protocol_of "$what")" \
	"$(cipher_of "$what")" client.test
settle req "$what"

# ---- STARTTLS with a pipelined RSET -------------------------------------
for l in s6 tcp; do
	what=pipelined-$l
	client "$l" "$what" pipelined
	settle "$l" "$what"
done

# ---- Exim relaying to pipesmtpd, STARTTLS required ----------------------
exim=$(command -v exim4 || command -v exim)
private_exim || fail "cannot find the Exim user (exim -bP exim_user)"
cat > "$tmp/exim.conf" <<EOF
$exim_main

begin routers

to_pipesmtpd:
  driver = manualroute
  domains = mx.test
  route_list = * 127.0.0.1::$(port tcp)
  self = send
  transport = smtp_tls

begin transports

smtp_tls:
$exim_smtp
  hosts_require_tls = *

begin retry

*  *  F,1h,10m
EOF
what=exim
if timeout 120 "$exim" -C "$tmp/exim.conf" -odi -oi -f sender@example.org \
    "$what@mx.test" < "$tmp/msg" > "$tmp/$what.out" 2>&1 &&
    grep -q " => $what@mx\\.test .* X=TLS1\\.[23]:" "$tmp/log/mainlog"; then
	pass "$what: Exim delivered to pipesmtpd over TLS ($(grep -o ' X=[^ ]*' "$tmp/log/mainlog" | head -n 1))"
else
	fail "$what: Exim's delivery: $(cat "$tmp/$what.out" "$tmp/log/mainlog" 2>/dev/null)"
fi
used=$(sed -n 's/^	(using \(TLSv1\.[23]\) with cipher \([A-Z0-9_-]*\))$/\1 \2/p' \
	"$tmp/out/$what/1/stdin" 2>/dev/null | head -n 1)
# Exim (GnuTLS) names ciphers its own way: only the protocols compare
exim_proto=$(grep -o " => $what@mx\\.test .* X=TLS1\\.[23]:" \
	"$tmp/log/mainlog" | sed 's/.* X=TLS\(1\.[23]\):/TLSv\1/')
if [ -n "$used" ] && [ "${used%% *}" = "$exim_proto" ]; then
	pass "$what: Exim's log and pipesmtpd's Received agree: $exim_proto"
else
	fail "$what: Exim logged '$exim_proto', Received says '$used'"
fi
# shellcheck disable=SC2086 # protocol and cipher, two words
tls_delivered tcp "$what" "$what" $used exim.test body
settle tcp "$what"

finish

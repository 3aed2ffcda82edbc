#!/bin/sh
# deploy_xinetd.sh - the INSTALLED pipesmtpd (make install DESTDIR=...
# PREFIX=/usr/local) under xinetd in the foreground, with a configuration
# made from examples/xinetd.conf (server and the command after "--" in
# server_args replaced, bind/port/type added for a free loopback port);
# curl as the client; maildrop as the delivery agent, writing a Maildir.
#
# What it proves: xinetd starts pipesmtpd with server_args as its argv;
# pipesmtpd (as root) becomes "mail" (--user, as the example says) before
# reading; the client address comes from getpeername(0) and is 127.0.0.1 in
# %i and in Received; curl's two --mail-rcpt each get one maildrop run and
# one file in Maildir/new, read back and compared; a recipient maildrop
# cannot deliver to (its filter says EXITCODE=75) is answered 451 4.3.0;
# the example's per_source holds: with its 10 sessions from 127.0.0.1
# open, an 11th from there gets no greeting while one from 127.0.0.2
# gets its own.
#
# Needs root, xinetd, curl, maildrop.  Prints "deploy-xinetd: N passed,
# M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=xinetd
. tests/deploylib.sh

need xinetd xinetd || finish
need curl curl || finish
need maildrop maildrop || finish

if install_root; then
	pass "make install DESTDIR=... PREFIX=/usr/local: $ibin"
else
	fail "make install"
	finish
fi

# The mail account (--user mail) writes the Maildir and reads the filter.
# maildrop runs xfilter commands with the user's login shell, which for
# "mail" is nologin: SHELL is set in the filter.
md=$tmp/Maildir
mkdir -p "$md/new" "$md/cur" "$md/tmp"
cat > "$tmp/mailfilter" <<EOF
SHELL="/bin/sh"
if (/^To: .*tempfail@/)
{
	EXITCODE=75
	exit
}
xfilter "reformail -A 'X-Client-IP: \$1' -A 'X-Rcpt: \$2'"
to "$md/"
EOF
chown -R mail "$md" "$tmp/mailfilter"
chmod 600 "$tmp/mailfilter"

port=$(free_port)
args=$(sed -n 's/^[ 	]*server_args[ 	]*=[ 	]*//p' examples/xinetd.conf |
	sed 's/ -- .*//')
case $args in
*'--user mail'*) pass "example server_args: --user mail" ;;
*) fail "example server_args: no --user mail: $args" ;;
esac
awk -v bin="$ibin" -v args="$args -- /usr/bin/maildrop $tmp/mailfilter %i %r" \
    -v port="$port" -v logf="$tmp/service.log" '
	$0 == "service smtp" { print "service pipesmtpd-test"; next }
	$0 == "{" {
		print
		print "\ttype\t\t= UNLISTED"
		print "\tport\t\t= " port
		print "\tbind\t\t= 127.0.0.1"
		print "\tlog_type\t= FILE " logf
		next
	}
	$1 == "server" { print "\tserver\t\t= " bin; next }
	$1 == "server_args" { print "\tserver_args\t= " args; next }
	{ print }
	' examples/xinetd.conf > "$tmp/xinetd.conf"

spawn timeout 120 xinetd -dontfork -f "$tmp/xinetd.conf" \
	-filelog "$tmp/xinetd.log" -pidfile "$tmp/xinetd.pid" \
	</dev/null >"$tmp/xinetd.out" 2>&1
if wait_port "$port"; then
	pass "xinetd listens on 127.0.0.1:$port"
else
	fail "xinetd did not start"
	cat "$tmp/xinetd.conf" "$tmp/xinetd.out" "$tmp/xinetd.log"
	finish
fi

printf '%s\r\n' "From: sender@example.net" "To: alice@example.org" \
	"Subject: curl through xinetd" "" "hello from curl" \
	".a line that starts with a dot" > "$tmp/msg"
if timeout 60 curl -sS "smtp://127.0.0.1:$port/client.test" \
	--mail-from sender@example.net --mail-rcpt alice@example.org \
	--mail-rcpt Bob+ext@Example.org --upload-file "$tmp/msg" \
	>"$tmp/curl.out" 2>&1; then
	pass "curl: two recipients accepted"
else
	fail "curl exited non-zero"
	cat "$tmp/curl.out" "$tmp/xinetd.log"
fi

n=$(find "$md/new" -type f | wc -l)
if [ "$n" = 2 ]; then
	pass "maildrop wrote two files to Maildir/new"
else
	fail "Maildir/new holds $n files"
fi
for f in "$md/new"/*; do
	[ -f "$f" ] || continue
	rcpt=$(header "$f" X-Rcpt)
	ok=1
	grep -q '^hello from curl$' "$f" || ok=0
	grep -q '^\.a line that starts with a dot$' "$f" || ok=0
	[ "$(header "$f" X-Client-IP)" = 127.0.0.1 ] || ok=0
	grep -q '^Received: from client.test (unknown \[127\.0\.0\.1\])$' "$f" || ok=0
	[ "$(header "$f" Return-Path)" = "<sender@example.net>" ] || ok=0
	[ "$(stat -c %U "$f")" = mail ] || ok=0
	if [ "$ok" = 1 ]; then
		pass "Maildir file for <$rcpt>: body, %i=127.0.0.1 (X-Client-IP), Received [127.0.0.1], owned by mail"
	else
		fail "Maildir file for <$rcpt>"
		sed -n '1,12p' "$f"
	fi
done
if grep -q '^X-Rcpt: alice@example.org$' "$md/new"/* &&
    grep -q '^X-Rcpt: Bob+ext@example.org$' "$md/new"/*; then
	pass "one copy for each recipient (%r of Bob+ext: case kept, domain lowered)"
else
	fail "per-recipient copies"
fi

# maildrop's EXITCODE=75 through pipesmtpd: 451 4.3.0, nothing written
printf '%s\r\n' "To: tempfail@example.org" "Subject: later" "" "x" > "$tmp/msg2"
timeout 60 curl -sS -v "smtp://127.0.0.1:$port/client.test" \
	--mail-from sender@example.net --mail-rcpt tempfail@example.org \
	--upload-file "$tmp/msg2" >"$tmp/curl2.out" 2>&1
if grep -q '^< 451 4\.3\.0 ' "$tmp/curl2.out" &&
    [ "$(find "$md/new" -type f | wc -l)" = 2 ]; then
	pass "maildrop EXITCODE=75: 451 4.3.0, nothing delivered"
else
	fail "maildrop EXITCODE=75"
	grep '^<' "$tmp/curl2.out"
fi

if grep -q 'START: pipesmtpd-test .*from=127\.0\.0\.1' "$tmp/service.log" &&
    grep -q 'EXIT: pipesmtpd-test duration=' "$tmp/service.log"; then
	pass "xinetd's log (the example's log_on_success HOST DURATION): START from=127.0.0.1, EXIT"
else
	fail "xinetd service log"
	cat "$tmp/service.log" "$tmp/xinetd.log"
fi

n=$(sed -n 's/^[ 	]*per_source[ 	]*=[ 	]*//p' examples/xinetd.conf)
case $n in
[1-9]|[1-9][0-9]) per_source_ok "$port" "$n" "xinetd per_source = $n" ;;
*) fail "examples/xinetd.conf: no per_source: '$n'" ;;
esac

finish

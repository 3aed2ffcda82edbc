#!/bin/sh
# deploy_lda.sh - real local delivery agents behind pipesmtpd, each writing
# a real mailbox that is read back, and each LDA's failure exit codes as
# pipesmtpd reports them to the client.
#
# One pipesmtpd per LDA, launched per connection by systemd-socket-activate
# --inetd --accept on a free loopback port, as root with --allow-root (the
# LDAs are meant to start as root and give up privileges themselves, or to
# run as the --user account: deploy_xinetd.sh and deploy_inetd.sh do that).
# swaks sends one recipient per transaction, so each SMTP reply is that
# recipient's own outcome; the local part picks the case:
#
#   maildrop FILTER %u     Maildir; EXITCODE=75 in the filter; MAILDIRQUOTA
#                          exceeded; Maildir on a full file system
#   maildrop -d %u         an account that does not exist
#   procmail -m RC %u      mbox; EXITCODE=75; mailbox under a missing
#                          directory; mbox on a full file system
#   procmail -d %u         an account that does not exist
#   dovecot-lda -e -d %u   Maildir (read back with doveadm fetch and from
#                          new/); unknown user; quota exceeded, as a
#                          rejection and with quota_full_tempfail; full disk
#   /bin/sh -c 'cat >> "$1"' sh BOX
#                          plain append; a full disk (cat exits 1), and the
#                          same with "|| exit 75"
#
# "Full disk" is a 64 KiB tmpfs mounted in the temporary directory (root
# can write where permissions would stop anyone else, but not past the end
# of a file system); if mounting is not permitted those cases are reported
# as not run.  dovecot-lda looks users up through the auth service, so a
# private dovecot with no protocols (no listeners at all) runs from a
# temporary configuration.  The exit code of each LDA is taken from
# pipesmtpd's own log line ("status=... (exit N)") and printed with the
# reply it became.
#
# Needs root, systemd-socket-activate, swaks, maildrop, procmail,
# dovecot-core.  Prints "deploy-lda: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=lda
. tests/deploylib.sh

need systemd-socket-activate systemd || finish
need swaks swaks || finish
have_maildrop=0 have_procmail=0 have_dovecot=0
need maildrop maildrop && have_maildrop=1
need procmail procmail && need formail procmail && have_procmail=1
need /usr/lib/dovecot/dovecot-lda dovecot-core && need dovecot dovecot-core &&
	need doveadm dovecot-core && have_dovecot=1

# launch NAME COMMAND... - pipesmtpd for COMMAND on a free port; sets
# port_NAME
launch() {
	n=$1
	shift
	p=$(free_port)
	spawn timeout 240 systemd-socket-activate --inetd --accept \
		-l "127.0.0.1:$p" "$bin" --hostname mx.test --domain example.org \
		--allow-root --log-stderr -- "$@" \
		</dev/null >/dev/null 2>"$tmp/$n.log"
	eval "port_$n=\$p"
	ports="$ports $p"
}
ports=

# A tmpfs of 64 KiB for the full-disk cases; a message bigger than that.
full_ok=0
mkdir "$tmp/mnt-full"
if timeout 10 mount -t tmpfs -o size=64k,mode=0755 tmpfs "$tmp/mnt-full" 2>/dev/null; then
	full_ok=1
else
	echo "# mounting a tmpfs is not permitted here: full-disk cases not run"
fi
timeout 10 python3 -c 'print("\n".join(["x" * 75] * 2000))' > "$tmp/big.txt"

# ---- maildrop ----------------------------------------------------------
if [ "$have_maildrop" = 1 ]; then
	for d in md md-quota mnt-full/md; do
		mkdir -p "$tmp/$d/new" "$tmp/$d/cur" "$tmp/$d/tmp"
	done
	# maildrop's "if" needs its braces on lines of their own.
	cat > "$tmp/mailfilter" <<EOF
if (\$1 eq "tempfail")
{
	EXITCODE=75
	exit
}
if (\$1 eq "quota")
{
	MAILDIRQUOTA="100S"
	to "$tmp/md-quota/"
}
if (\$1 eq "full")
{
	to "$tmp/mnt-full/md/"
}
to "$tmp/md/"
EOF
	chmod 600 "$tmp/mailfilter"
	launch maildrop /usr/bin/maildrop "$tmp/mailfilter" %u
	launch maildrop_d /usr/bin/maildrop -d %u
fi

# ---- procmail ----------------------------------------------------------
if [ "$have_procmail" = 1 ]; then
	mkdir "$tmp/pm"
	cat > "$tmp/procmailrc" <<EOF
DEFAULT=$tmp/pm/mbox
ORGMAIL=$tmp/pm/mbox
LOCAL=\$1
# procmail -m writes no "From " line of its own: formail adds one (from
# Return-Path), so that the mbox stays an mbox.
:0fhw
| formail
:0
* LOCAL ?? ^^tempfail^^
{
	EXITCODE=75
	HOST
}
:0
* LOCAL ?? ^^nodir^^
{
	# 7 lock attempts LOCKSLEEP seconds apart (8 by default: 56 s)
	LOCKSLEEP=1
	DEFAULT=$tmp/no/such/dir/mbox
	ORGMAIL=$tmp/no/such/dir/mbox
}
:0
* LOCAL ?? ^^full^^
{
	DEFAULT=$tmp/mnt-full/mbox
	ORGMAIL=$tmp/mnt-full/mbox
}
EOF
	chmod 644 "$tmp/procmailrc"
	launch procmail /usr/bin/procmail -m "$tmp/procmailrc" %u
	launch procmail_d /usr/bin/procmail -d %u
fi

# ---- dovecot-lda ---------------------------------------------------------
if [ "$have_dovecot" = 1 ]; then
	dv=$tmp/dv
	mkdir -p "$dv/run" "$dv/state" "$dv/home"
	nuid=$(id -u nobody)
	ngid=$(id -g nobody)
	cat > "$dv/dovecot.conf" <<EOF
# no protocols: the master runs the auth service (for the userdb lookups
# of dovecot-lda -d and doveadm -u) and listens on no network socket
protocols =
base_dir = $dv/run
state_dir = $dv/state
log_path = $dv/dovecot.log
info_log_path = $dv/dovecot.log
ssl = no
mail_location = maildir:~/Maildir
postmaster_address = postmaster@example.org
passdb {
  driver = passwd-file
  args = $dv/users
}
userdb {
  driver = passwd-file
  args = $dv/users
}
mail_plugins = quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=10M
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
}
EOF
	: > "$dv/users"
	for u in alice quota quotatemp full; do
		home=$dv/home/$u
		[ "$u" = full ] && home=$tmp/mnt-full/dvhome
		extra=
		case $u in
		quota) extra='userdb_quota_rule=*:storage=1k' ;;
		quotatemp) extra="userdb_quota_rule=*:storage=1k userdb_quota_full_tempfail=yes" ;;
		esac
		echo "$u:{PLAIN}unused:$nuid:$ngid::$home::$extra" >> "$dv/users"
		mkdir -p "$home" && chown nobody:nogroup "$home"
	done
	spawn timeout 240 dovecot -F -c "$dv/dovecot.conf" </dev/null \
		>"$dv/master.out" 2>&1
	i=0
	while [ ! -S "$dv/run/auth-userdb" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -S "$dv/run/auth-userdb" ]; then
		pass "a private dovecot (no protocols) runs the auth service"
	else
		fail "dovecot did not start"
		cat "$dv/master.out" "$dv/dovecot.log"
	fi
	launch dovecot /usr/lib/dovecot/dovecot-lda -c "$dv/dovecot.conf" -e \
		-d %u -f %s
fi

# ---- shell pipelines ---------------------------------------------------
mkdir "$tmp/sh"
ln -s "$tmp/mnt-full/shbox" "$tmp/sh/full"
ln -s "$tmp/mnt-full/shbox2" "$tmp/sh/fullsafe"
# shellcheck disable=SC2016 # for the inner sh
launch sh /bin/sh -c 'cat >> "$1/$2"' sh "$tmp/sh" %u
# shellcheck disable=SC2016
launch shsafe /bin/sh -c 'cat >> "$1/$2" || exit 75' sh "$tmp/sh" %u

for p in $ports; do
	wait_port "$p" || { fail "launcher on port $p did not start"; finish; }
done
pass "one launcher per LDA listening:$ports"

# send NAME LOCALPART [swaks options] - one message to LOCALPART@example.org
# on the NAME instance; the transcript is $tmp/NAME-LOCALPART.out
send() {
	n=$1 lp=$2
	shift 2
	eval "p=\$port_$n"
	timeout 60 swaks --server 127.0.0.1 --port "$p" --helo client.test \
		--from sender@example.net --to "$lp@example.org" \
		--header "Subject: $n $lp" "$@" >"$tmp/$n-$lp.out" 2>&1
}

# outcome NAME LOCALPART REPLY-RE WHAT [swaks options] - send, then check
# that the reply to the end of data matches REPLY-RE; prints the LDA's
# exit status from pipesmtpd's log
outcome() {
	n=$1 lp=$2 re=$3 what=$4
	shift 4
	send "$n" "$lp" "$@"
	reply=$(awk '/^ -> \.$/ { d = 1; next }
	    d && /^<[-*]/ { sub(/^<[-*]* */, ""); print; exit }' "$tmp/$n-$lp.out")
	st=$(sed -n "s/.*to=<$lp@example.org>.*status=\([a-z]*\) (\(.*\))\$/\1, \2/p" \
		"$tmp/$n.log" | tail -n 1)
	if printf '%s\n' "$reply" | grep -q "^$re"; then
		pass "$n, $what: $st -> $reply"
	else
		fail "$n, $what: got '$reply' ($st), wanted $re"
		tail -n 15 "$tmp/$n-$lp.out"
	fi
	echo "#   table: $n | $what | ${st#*, } | $(printf '%s\n' "$reply" | cut -c1-9)"
}

big=--body=@$tmp/big.txt

if [ "$have_maildrop" = 1 ]; then
	outcome maildrop alice '250 2\.0\.0' "delivered" --body "maildrop body"
	f=$(grep -l '^maildrop body$' "$tmp/md/new"/* 2>/dev/null | head -n 1)
	if [ -n "$f" ] && grep -q '^Received: from client.test (unknown \[127\.0\.0\.1\])$' "$f" &&
	    [ "$(header "$f" Return-Path)" = "<sender@example.net>" ]; then
		pass "maildrop: the message read back from Maildir/new"
	else
		fail "maildrop: nothing in Maildir/new"
	fi
	outcome maildrop tempfail '451 4\.3\.0' "filter EXITCODE=75"
	outcome maildrop quota '451 4\.3\.0' "MAILDIRQUOTA exceeded"
	outcome maildrop_d "nosuch$$" '554 5\.1\.1' "maildrop -d, no such account"
	if [ "$full_ok" = 1 ]; then
		outcome maildrop full '451 4\.3\.0' "full disk" "$big"
	fi
fi

if [ "$have_procmail" = 1 ]; then
	outcome procmail alice '250 2\.0\.0' "delivered" --body "procmail body"
	if timeout 30 python3 - "$tmp/pm/mbox" <<'EOF'
import mailbox, sys
msgs = list(mailbox.mbox(sys.argv[1], create=False))
ok = (len(msgs) == 1 and msgs[0].get_payload().strip() == "procmail body"
      and msgs[0]["Return-Path"] == "<sender@example.net>"
      and msgs[0].get_from().startswith("sender@example.net "))
sys.exit(0 if ok else 1)
EOF
	then
		pass "procmail: the message read back from the mbox (From_ line from Return-Path)"
	else
		fail "procmail: mbox"
		cat "$tmp/pm/mbox"
	fi
	outcome procmail tempfail '451 4\.3\.0' "rcfile EXITCODE=75"
	outcome procmail nodir '554 5\.2\.0' "mailbox under a missing directory"
	outcome procmail_d "nosuch$$" '554 5\.1\.1' "procmail -d, no such account"
	if [ "$full_ok" = 1 ]; then
		outcome procmail full '554 5\.2\.0' "full disk" "$big"
	fi
fi

if [ "$have_dovecot" = 1 ]; then
	outcome dovecot alice '250 2\.0\.0' "delivered" --body "dovecot body"
	if timeout 30 doveadm -c "$dv/dovecot.conf" fetch -u alice \
	    'hdr.return-path body' mailbox INBOX > "$tmp/fetch.out" 2>&1 &&
	    grep -q '^hdr.return-path: <sender@example.net>$' "$tmp/fetch.out" &&
	    grep -q '^dovecot body$' "$tmp/fetch.out" &&
	    grep -q '^dovecot body$' "$dv/home/alice/Maildir/new"/*; then
		pass "dovecot-lda: read back with doveadm fetch and from Maildir/new"
	else
		fail "dovecot-lda: read back"
		cat "$tmp/fetch.out" "$dv/dovecot.log"
	fi
	outcome dovecot "nosuch$$" '554 5\.1\.1' "no such user"
	outcome dovecot quota '554 5\.7\.0' "quota exceeded (-e rejects)" "$big"
	outcome dovecot quotatemp '451 4\.3\.0' "quota exceeded, quota_full_tempfail=yes" "$big"
	if [ "$full_ok" = 1 ]; then
		outcome dovecot full '451 4\.3\.0' "full disk" "$big"
	fi
fi

outcome sh alice '250 2\.0\.0' "delivered" --body "shell body"
if grep -q '^shell body$' "$tmp/sh/alice" &&
    grep -q '^Return-Path: <sender@example.net>$' "$tmp/sh/alice"; then
	pass "shell pipeline: the message read back from the file"
else
	fail "shell pipeline: file"
fi
if [ "$full_ok" = 1 ]; then
	outcome sh full '554 5\.3\.0' "full disk: cat exits 1, a permanent failure" "$big"
	outcome shsafe fullsafe '451 4\.3\.0' "full disk with '|| exit 75'" "$big"
fi

finish

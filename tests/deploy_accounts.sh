#!/bin/sh
# deploy_accounts.sh - --as-recipient and --postmaster with real accounts.
#
# As root, creates throw-away accounts (homes in a temp dir, one with a
# supplementary group, one in 300 of them), runs sessions through the built ./pipesmtpd and
# checks, from what each delivery wrote into its own home: the uid, gid,
# supplementary groups, HOME and working directory of the command, and the
# owner and mode of the mailbox it wrote.  Accounts that do not exist, are
# uid 0 or are system accounts (uid below --min-uid, 1000) must be refused
# at RCPT with 550 5.1.1; postmaster goes to the --postmaster account, even
# a system one.  An account whose home is missing gets its mail (the
# command runs in /, HOME still its home, a warning logged); one whose home
# it may not enter fails temporarily, naming chdir.  Start-up rules: exit
# 64 and 78 as pipesmtpd(8) EXIT STATUS says.
# Removes the accounts and the temp dir whatever happens.  Needs root:
# without it the test fails (PIPESMTPD_DEV=1 turns that into a SKIP).
# Prints "deploy-accounts: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1

BIN=./pipesmtpd
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
finish() {
	echo "deploy-accounts: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

if [ "$(id -u)" != 0 ]; then
	if [ "${PIPESMTPD_DEV:-}" = 1 ]; then
		echo "SKIP - needs root (useradd, setuid)"
		echo "deploy-accounts: 0 passed, 0 failed"
		exit 0
	fi
	fail "needs root to create accounts and switch to them"
	finish
fi
for tool in useradd userdel groupadd groupdel; do
	command -v "$tool" >/dev/null 2>&1 ||
	    { fail "$tool missing: apt-get install -y passwd"; finish; }
done
[ -x "$BIN" ] || { fail "build ./pipesmtpd first"; finish; }

tmp=$(mktemp -d /tmp/pipesmtpd-accounts.XXXXXX) || exit 1
chmod 755 "$tmp"
ua="psa$$"
ub="psb$$"
uc="psc$$"	# a system account: uid below 1000
ud="psd$$"	# its home is missing
ue="pse$$"	# its home is root's, mode 700
gx="psx$$"
uf="psf$$"	# in 300 supplementary groups, psg$$_1 ... psg$$_300
ngroups=300
cleanup() {
	for u in "$ua" "$ub" "$uc" "$ud" "$ue" "$uf"; do
		userdel "$u" 2>/dev/null
		groupdel "$u" 2>/dev/null
	done
	groupdel "$gx" 2>/dev/null
	i=1
	while [ "$i" -le "$ngroups" ]; do
		groupdel "psg$$_$i" 2>/dev/null
		i=$((i + 1))
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

groupadd "$gx" || { fail "groupadd"; finish; }
useradd -M -U -d "$tmp/$ua" -s /bin/false -G "$gx" "$ua" &&
    useradd -M -U -d "$tmp/$ub" -s /bin/false "$ub" ||
    { fail "useradd"; finish; }
useradd -r -M -U -d "$tmp/$uc" -s /bin/false "$uc" &&
    useradd -M -U -d "$tmp/$ud" -s /bin/false "$ud" &&
    useradd -M -U -d "$tmp/$ue" -s /bin/false "$ue" ||
    { fail "useradd"; finish; }
for u in "$ua" "$ub" "$uc"; do
	mkdir -m 700 "$tmp/$u" && chown "$u:$u" "$tmp/$u"
done
mkdir -m 700 "$tmp/$ue"	# root's: $ue cannot enter it
# the default --min-uid is 1000: the ordinary accounts must be above it,
# the system account below
for u in "$ua" "$ub" "$ud" "$ue"; do
	[ "$(id -u "$u")" -ge 1000 ] ||
	    { fail "$u has uid $(id -u "$u") < 1000: adjust this test"; finish; }
done
[ "$(id -u "$uc")" -lt 1000 ] ||
    { fail "useradd -r gave $uc uid $(id -u "$uc") >= 1000"; finish; }

# The delivery: a fixed script; the mailbox is created by the command
# itself, in its working directory, so owner and mode show who ran it.
deliver='umask 077; cat > mailbox; { id -u; id -g; id -G; pwd; echo "$HOME"; echo "$LOCAL"; } > ids'

# run INPUT [option ...] - a session on stdin; replies on stdout
run() {
	input=$1
	shift
	printf "$input" | timeout 60 "$BIN" --hostname mx.test --log-stderr \
	    "$@" -- /bin/sh -c "$deliver" 2>>"$tmp/log"
}

codes() { sed 's/^\([0-9][0-9][0-9]\)[ -]\([245]\.[0-9]*\.[0-9]*\)\{0,1\}.*/\1 \2/' | tr -d '\r' | tr '\n' '|'; }

out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$ua"'@mx.test>\r\nRCPT TO:<root@mx.test>\r\nRCPT TO:<nosuch'"$$"'@mx.test>\r\nRCPT TO:<'"$ub"'+box@mx.test>\r\nRCPT TO:<Postmaster>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n' \
    --as-recipient --postmaster "$ub" | codes)
case "$out" in
*"|250 2.1.5|550 5.1.1|550 5.1.1|250 2.1.5|250 2.1.5|354 |250 2.0.0|221 2.0.0|")
	pass "RCPT: account 250, uid 0 and unknown 550 5.1.1, postmaster 250" ;;
*) fail "replies: $out" ;;
esac

# check_home USER WANT_LOCAL - what the delivery into USER's home shows
check_home() {
	u=$1
	home="$tmp/$u"
	uid=$(id -u "$u")
	gid=$(id -g "$u")
	if [ ! -f "$home/ids" ]; then
		fail "$u: no delivery"
		return
	fi
	{ read -r cuid; read -r cgid; read -r cgroups; read -r cwd
	  read -r chome; read -r clocal; } < "$home/ids"
	[ "$cuid" = "$uid" ] && [ "$cgid" = "$gid" ] &&
	    pass "$u: uid $cuid gid $cgid" ||
	    fail "$u: uid/gid $cuid/$cgid, want $uid/$gid"
	want_groups=$(id -G "$u" | tr ' ' '\n' | sort | tr '\n' ' ')
	got_groups=$(echo "$cgroups" | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got_groups" = "$want_groups" ] &&
	    pass "$u: supplementary groups $got_groups" ||
	    fail "$u: groups '$got_groups', want '$want_groups'"
	[ "$cwd" = "$home" ] && [ "$chome" = "$home" ] &&
	    pass "$u: HOME and working directory are the home" ||
	    fail "$u: cwd $cwd HOME $chome, want $home"
	[ "$clocal" = "$2" ] && pass "$u: LOCAL=$clocal" ||
	    fail "$u: LOCAL=$clocal, want $2"
	set -- $(stat -c '%U %a' "$home/mailbox")
	[ "$1" = "$u" ] && [ "$2" = 600 ] &&
	    pass "$u: mailbox owned by $1, mode $2" ||
	    fail "$u: mailbox owner $1 mode $2"
	grep -q '^hello$' "$home/mailbox" &&
	    pass "$u: message delivered" || fail "$u: message missing"
}

check_home "$ua" "$ua"
# b got two messages (b+box and postmaster): the last one wins the file
check_home "$ub" "$ub"
case "$(grep -c 'status=sent' "$tmp/log")" in
3) pass "three deliveries logged" ;;
*) fail "deliveries logged: $(grep -c 'status=sent' "$tmp/log")" ;;
esac

# An account in more groups than a fixed buffer would hold (300) gets its
# mail like any other, with every group (Postfix defers nothing here
# either): no "no such user", no groups cut off.
i=1
list=
while [ "$i" -le "$ngroups" ]; do
	groupadd "psg$$_$i" || { fail "groupadd psg$$_$i"; finish; }
	list="$list${list:+,}psg$$_$i"
	i=$((i + 1))
done
useradd -M -U -d "$tmp/$uf" -s /bin/false -G "$list" "$uf" ||
    { fail "useradd $uf"; finish; }
mkdir -m 700 "$tmp/$uf" && chown "$uf:$uf" "$tmp/$uf"
[ "$(id -G "$uf" | wc -w)" -eq $((ngroups + 1)) ] ||
    fail "$uf is in $(id -G "$uf" | wc -w) groups, want $((ngroups + 1))"
: > "$tmp/log"
out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$uf"'@mx.test>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n' \
    --as-recipient --postmaster "$ub" | codes)
case "$out" in
*"|250 2.1.5|354 |250 2.0.0|221 2.0.0|")
	pass "$uf in $ngroups groups: 250 at RCPT and at the end of data" ;;
*) fail "$uf in $ngroups groups: $out" ;;
esac
check_home "$uf" "$uf"

# --min-uid: a system account is refused at RCPT, as are daemon and bin;
# postmaster mapped to a system account is still accepted and delivered.
: > "$tmp/log"
out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$uc"'@mx.test>\r\nRCPT TO:<daemon@mx.test>\r\nRCPT TO:<bin@mx.test>\r\nQUIT\r\n' \
    --as-recipient --postmaster "$ub" | codes)
case "$out" in
*"|550 5.1.1|550 5.1.1|550 5.1.1|221 2.0.0|")
	pass "RCPT: system accounts $uc, daemon, bin 550 5.1.1" ;;
*) fail "--min-uid replies: $out" ;;
esac
out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<postmaster@mx.test>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n' \
    --as-recipient --postmaster "$uc" | codes)
case "$out" in
*"|250 2.1.5|354 |250 2.0.0|221 2.0.0|")
	pass "RCPT: postmaster as system account $uc 250" ;;
*) fail "postmaster as $uc: $out" ;;
esac
[ "$(stat -c %U "$tmp/$uc/mailbox" 2>/dev/null)" = "$uc" ] &&
    grep -q '^hello$' "$tmp/$uc/mailbox" &&
    pass "postmaster delivered as system account $uc" ||
    fail "postmaster: no mailbox of $uc's"
out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$uc"'@mx.test>\r\nQUIT\r\n' \
    --as-recipient --postmaster "$ub" --min-uid 100 | codes)
case "$out" in
*"|250 2.1.5|221 2.0.0|") pass "--min-uid 100 accepts $uc" ;;
*) fail "--min-uid 100: $out" ;;
esac

# A missing home: the command runs in / with HOME the home, and a
# warning names the account and the directory.  It writes into a shared
# directory, since / is not its own.
mkdir -m 1777 "$tmp/out"
store='umask 077; cat > "$OUT/$LOCAL.mailbox" && { id -u; pwd; echo "$HOME"; } > "$OUT/$LOCAL.ids"'
out=$(printf 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$ud"'@mx.test>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n' |
    timeout 60 "$BIN" --hostname mx.test --log-stderr --as-recipient \
    --postmaster "$ub" --env OUT="$tmp/out" -- /bin/sh -c "$store" \
    2>>"$tmp/log" | codes)
case "$out" in
*"|250 2.1.5|354 |250 2.0.0|221 2.0.0|") pass "$ud (no home): 250" ;;
*) fail "$ud (no home): $out" ;;
esac
cuid= cwd= chome=
[ -f "$tmp/out/$ud.ids" ] &&
    { read -r cuid; read -r cwd; read -r chome; } < "$tmp/out/$ud.ids"
[ "$cuid" = "$(id -u "$ud")" ] && [ "$cwd" = / ] &&
    [ "$chome" = "$tmp/$ud" ] && grep -q '^hello$' "$tmp/out/$ud.mailbox" &&
    pass "$ud: delivered as $cuid in /, HOME=$chome" ||
    fail "$ud: uid $cuid cwd $cwd HOME $chome"
grep -q "warning: account $ud: home directory $tmp/$ud is missing" \
    "$tmp/log" && pass "$ud: the missing home is logged" ||
    fail "$ud: no warning in: $(cat "$tmp/log")"

# A home it may not enter: a temporary failure that names chdir.
out=$(run 'EHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<'"$ue"'@mx.test>\r\nDATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n' \
    --as-recipient --postmaster "$ub")
case "$out" in
*"451 4.3.0 <$ue@mx.test>: cannot run delivery command: chdir $tmp/$ue: Permission denied"*)
	pass "$ue: 451 4.3.0 names chdir and the directory" ;;
*) fail "$ue: $out" ;;
esac

# Start-up rules.
run 'QUIT\r\n' --as-recipient >/dev/null
[ $? = 64 ] && pass "--as-recipient without --postmaster: exit 64" ||
    fail "--as-recipient without --postmaster: not 64"
run 'QUIT\r\n' --as-recipient --postmaster "$ub" --user "$ua" >/dev/null
[ $? = 64 ] && pass "--as-recipient with --user: exit 64" ||
    fail "--as-recipient with --user: not 64"
run 'QUIT\r\n' --as-recipient --postmaster root >/dev/null
[ $? = 78 ] && pass "--postmaster root: exit 78" ||
    fail "--postmaster root: not 78"
out=$(printf 'QUIT\r\n' | setpriv --reuid="$ua" --regid="$ua" \
    --clear-groups timeout 20 "$BIN" --hostname mx.test --log-stderr \
    --as-recipient --postmaster "$ub" -- /bin/true 2>/dev/null)
st=$?
# stdout is a pipe, as under a launcher: one 421 line, nothing else
# (pipesmtpd(8), EXIT STATUS)
[ $st = 78 ] && [ "$out" = "$(printf '421 4.3.0 mx.test Service not available\r')" ] &&
    pass "--as-recipient not as root: exit 78, one 421 line" ||
    fail "--as-recipient not as root: exit $st, said '$out'"
finish

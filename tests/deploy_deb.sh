#!/bin/sh
# deploy_deb.sh - the Debian package, built, installed, used and purged.
#
# What it proves: dpkg-buildpackage -us -uc -b, run in a copy of the tree
# (this one stays as it was), builds pipesmtpd_VERSION_ARCH.deb, VERSION
# being the program's --version with a Debian revision; lintian reports no
# error and no warning (its other tags are listed); hardening-check finds
# PIE, stack protector, fortify, relro and bindnow.  apt-get installs it:
# /usr/sbin/pipesmtpd, pipesmtpd(8), every file of examples/, the socket
# and service units (systemd-analyze verify is silent) and the conffile
# /etc/default/pipesmtpd; nothing is enabled or started, and the
# maintainer scripts never start a unit.  Then, as an administrator would,
# the test sets the two variables in the conffile, and runs the installed
# unit's ExecStart, expanded as systemd expands it (EnvironmentFile=
# values, "$VAR" split into words with quotes honoured, "%%" to "%"),
# under systemd-socket-activate as Accept=yes does; swaks delivers a
# message whose bytes are compared, and a relay attempt is refused.  The
# next Debian revision, built from the same tree, upgrades it without
# touching the edited conffile or enabling anything.  dpkg --purge leaves none of the package's files, the conffile, the units
# or systemd state behind.
#
# Needs root, dpkg-dev, debhelper, lintian, devscripts (hardening-check),
# apt, systemd, swaks.  Prints "deploy-deb: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=deb
. tests/deploylib.sh

need dpkg-buildpackage dpkg-dev || finish
need dh debhelper || finish
need lintian lintian || finish
need hardening-check devscripts || finish
need systemd-socket-activate systemd || finish
need systemd-analyze systemd || finish
need swaks swaks || finish

if dpkg-query -W -f '${Status}\n' pipesmtpd 2>/dev/null |
    grep -q ' installed$'; then
	fail "a pipesmtpd package is installed already: this test would replace and purge it"
	finish
fi

# shellcheck disable=SC2317 # called from the EXIT trap
deb_cleanup() {
	if dpkg-query -W -f '${Status}\n' pipesmtpd 2>/dev/null |
	    grep -q 'installed\|config-files'; then
		dpkg --purge pipesmtpd >/dev/null 2>&1
	fi
	deploy_cleanup
}
cleanup_hook=deb_cleanup

# ---- build in a copy ------------------------------------------------------
# paths the build writes under debian/; none may appear in this tree
leftovers() {
	for f in debian/files debian/pipesmtpd debian/.debhelper \
	    debian/debhelper-build-stamp debian/pipesmtpd.substvars \
	    debian/pipesmtpd.debhelper.log; do
		[ -e "$f" ] && echo "$f"
	done
}
before=$(leftovers)
mkdir "$tmp/build" "$tmp/build/src"
tar -cf - --exclude=./.git --exclude=./build-san --exclude=./build-valgrind . |
	tar -xf - -C "$tmp/build/src"
if (cd "$tmp/build/src" && timeout 600 dpkg-buildpackage -us -uc -b) \
    > "$tmp/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b"
else
	fail "dpkg-buildpackage"
	tail -n 40 "$tmp/build.log"
	finish
fi
if [ "$(leftovers)" = "$before" ]; then
	pass "the working tree is untouched (the build ran in a copy)"
else
	fail "build files in the working tree: $(leftovers)"
fi

version=$(cd "$tmp/build/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$tmp/build/pipesmtpd_${version}_$arch.deb
prog=$("$bin" --version | sed -n 's/^pipesmtpd //p')
case $version in
"$prog"-[0-9]*) pass "version $version: the program's $prog, Debian revision ${version#"$prog"-}" ;;
*) fail "package version $version does not carry the program's $prog" ;;
esac
if [ -f "$deb" ]; then
	pass "built ${deb##*/}"
else
	fail "no ${deb##*/}"
	ls "$tmp/build"
	finish
fi

# ---- lintian and hardening ------------------------------------------------
timeout 600 lintian --info --pedantic --show-overrides "$deb" > "$tmp/lintian.out" 2>&1
if grep -q '^[EW]: ' "$tmp/lintian.out"; then
	fail "lintian errors or warnings"
	cat "$tmp/lintian.out"
else
	pass "lintian: no error, no warning"
fi
grep '^[IPXO]: ' "$tmp/lintian.out" | sed 's/^/# lintian: /'

mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
dpkg-deb -e "$deb" "$tmp/x/DEBIAN"
# hardening_ok BINARY - the five protections dpkg-buildflags gives on
# Debian 12 (control-flow integrity is not among them there)
hardening_ok() {
	hardening-check --nocfprotection "$1" > "$tmp/hc.out" 2>&1 || return 1
	for p in 'Position Independent Executable' 'Stack protected' \
	    'Fortify Source functions' 'Read-only relocations' \
	    'Immediate binding'; do
		grep -q "^ $p: yes" "$tmp/hc.out" || return 1
	done
}
if hardening_ok "$tmp/x/usr/sbin/pipesmtpd"; then
	pass "hardening-check: PIE, stack protector, fortify, relro, bindnow"
else
	fail "hardening-check"
	cat "$tmp/hc.out"
fi
if ! grep -q 'deb-systemd-invoke\|systemctl.* start' "$tmp/x/DEBIAN/postinst" &&
    [ "$(grep -c 'deb-systemd-helper enable' "$tmp/x/DEBIAN/postinst")" = \
      "$(grep -c 'was-enabled' "$tmp/x/DEBIAN/postinst")" ]; then
	pass "postinst starts nothing, and enables the socket only if it was enabled before"
else
	fail "postinst enables or starts units"
	cat "$tmp/x/DEBIAN/postinst"
fi
if [ "$(cat "$tmp/x/DEBIAN/conffiles")" = /etc/default/pipesmtpd ]; then
	pass "conffiles: /etc/default/pipesmtpd"
else
	fail "conffiles: $(cat "$tmp/x/DEBIAN/conffiles")"
fi

# ---- install ------------------------------------------------------------------
if timeout 600 env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" \
    > "$tmp/apt.log" 2>&1; then
	pass "apt-get install ./${deb##*/}"
else
	fail "apt-get install"
	tail -n 20 "$tmp/apt.log"
	finish
fi
dpkg -L pipesmtpd > "$tmp/files"
ok=1
for f in /usr/sbin/pipesmtpd /usr/share/man/man8/pipesmtpd.8.gz \
    /lib/systemd/system/pipesmtpd.socket \
    /lib/systemd/system/pipesmtpd@.service /etc/default/pipesmtpd \
    /usr/share/doc/pipesmtpd/README.Debian \
    /usr/share/doc/pipesmtpd/copyright; do
	[ -f "$f" ] || { ok=0; echo "# missing: $f"; }
done
for f in $(cd examples && find . -type f); do
	cmp -s "examples/$f" "/usr/share/doc/pipesmtpd/examples/${f#./}" ||
		{ ok=0; echo "# example missing or different: $f"; }
done
if [ "$ok" = 1 ]; then
	pass "binary, man page, units, conffile, README.Debian and all $(find examples -type f | wc -l) example files installed"
else
	fail "installed files"
fi
if [ "$(/usr/sbin/pipesmtpd --version)" = "pipesmtpd $prog" ] &&
    hardening_ok /usr/sbin/pipesmtpd; then
	pass "/usr/sbin/pipesmtpd runs (pipesmtpd $prog) and passes hardening-check"
else
	fail "/usr/sbin/pipesmtpd"
fi
if MANWIDTH=80 timeout 30 man 8 pipesmtpd 2>&1 >/dev/null | grep -q .; then
	fail "man 8 pipesmtpd warns"
elif MANWIDTH=80 timeout 30 man 8 pipesmtpd 2>/dev/null | grep -q '^NAME'; then
	pass "man 8 pipesmtpd"
else
	fail "man 8 pipesmtpd"
fi

# nothing enabled, nothing started
# (deb-systemd-helper's state file naming the socket is a plain file:
# what a later enable would link, removed on purge)
links=$(find /etc/systemd /var/lib/systemd -type l -name '*pipesmtpd*' 2>/dev/null)
state=$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)
if [ -z "$links" ] && [ "$state" = disabled ]; then
	pass "pipesmtpd.socket is installed and disabled (systemctl is-enabled, no links)"
else
	fail "enabled: is-enabled says '$state'; $links"
fi
if [ -d /run/systemd/system ]; then
	if systemctl is-active --quiet pipesmtpd.socket; then
		fail "pipesmtpd.socket was started"
	else
		pass "pipesmtpd.socket is not active"
	fi
else
	echo "# no running systemd here: nothing could be started"
fi
if (cd /lib/systemd/system && timeout 60 systemd-analyze verify --man=no \
    pipesmtpd.socket pipesmtpd@.service) > "$tmp/verify.out" 2>&1 &&
    [ ! -s "$tmp/verify.out" ]; then
	pass "systemd-analyze verify: the installed units"
else
	fail "systemd-analyze verify"
	cat "$tmp/verify.out"
fi

# ---- configure as the administrator, run the unit's command line ---------
mkdir "$tmp/out"
chown mail "$tmp/out"
# shellcheck disable=SC2016 # $1 and $2 are for the inner sh
cat >> /etc/default/pipesmtpd <<CONF
PIPESMTPD_OPTIONS='--hostname mail.example.org --domain example.org --user mail'
PIPESMTPD_COMMAND='/bin/sh -c "umask 022; cat > \"\$1/\$2.eml\"" sh $tmp/out %u'
CONF
# expand - the argv systemd runs for the installed service, one per line
# as JSON strings: EnvironmentFile= assignments (quotes as in a shell;
# commented lines skipped), "\$NAME" words split at blanks with quotes
# honoured and removed, "\${NAME}" words as one, "%%" as "%" (any other
# specifier is an error: the unit must not have one)
expand() {
	timeout 30 python3 - /lib/systemd/system/pipesmtpd@.service <<'PY'
import json, re, shlex, sys
unit = open(sys.argv[1]).read().splitlines()
env, argv = {}, None
for line in unit:
    if line.startswith("EnvironmentFile="):
        path = line.split("=", 1)[1].lstrip("-")
        for l in open(path):
            l = l.strip()
            if not l or l[0] in "#;" or "=" not in l:
                continue
            k, v = l.split("=", 1)
            env[k] = "".join(shlex.split(v))
    if line.startswith("ExecStart="):
        argv = line.split("=", 1)[1].split()
out = []
for w in argv:
    if re.search(r"%[^%]", w.replace("%%", "")):
        sys.exit("a systemd specifier in ExecStart: " + w)
    w = w.replace("%%", "%")
    m = re.fullmatch(r"\$(\w+)", w)
    b = re.fullmatch(r"\$\{(\w+)\}", w)
    if m:
        out += shlex.split(env.get(m.group(1), ""))
    elif b:
        out.append(env.get(b.group(1), ""))
    else:
        out.append(w)
for w in out:
    print(json.dumps(w))
PY
}
if expand > "$tmp/argv" 2>"$tmp/expand.err"; then
	pass "ExecStart expanded: $(tr '\n' ' ' < "$tmp/argv")"
else
	fail "ExecStart expansion"
	cat "$tmp/expand.err"
	finish
fi
# shellcheck disable=SC2016 # the script's $1 and $2, literally
if [ "$(sed -n 1p "$tmp/argv")" = '"/usr/sbin/pipesmtpd"' ] &&
    grep -qx '"umask 022; cat > \\"$1/$2.eml\\""' "$tmp/argv" &&
    grep -qx '"%u"' "$tmp/argv"; then
	pass "the installed binary; the script is one word; %u kept for pipesmtpd"
else
	fail "unexpected argv"
fi

port=$(free_port)
spawn timeout 240 python3 -c '
import json, os, sys
argv = [json.loads(l) for l in open(sys.argv[1])]
os.execvp("systemd-socket-activate", ["systemd-socket-activate", "--inetd",
    "--accept", "-l", "127.0.0.1:" + sys.argv[2]] + argv)
' "$tmp/argv" "$port" </dev/null >/dev/null 2>"$tmp/launcher.log"
if wait_port "$port"; then
	pass "systemd-socket-activate runs the unit's command line on 127.0.0.1:$port"
else
	fail "launcher"
	cat "$tmp/launcher.log"
	finish
fi

printf 'Subject: packaged\r\nFrom: <sender@example.net>\r\n\r\nline one\r\n.dot line\r\nlast line\r\n' \
	> "$tmp/msg"
if timeout 60 swaks --server 127.0.0.1 --port "$port" --helo client.test \
    --from sender@example.net --to alice@example.org --data "@$tmp/msg" \
    > "$tmp/swaks.out" 2>&1 && grep -q '^<-  250 2\.0\.0' "$tmp/swaks.out" &&
    wait_file "$tmp/out/alice.eml"; then
	pass "swaks: 250 2.0.0, delivered by the configured command"
else
	fail "swaks through the installed package"
	cat "$tmp/swaks.out" "$tmp/launcher.log"
fi
# swaks ends --data with a line end of its own before the dot
{ tr -d '\r' < "$tmp/msg"; echo; } > "$tmp/msg.lf"
size=$(wc -c < "$tmp/msg.lf")
if tail -c "$size" "$tmp/out/alice.eml" 2>/dev/null | cmp -s - "$tmp/msg.lf" &&
    grep -q '^Return-Path: <sender@example.net>$' "$tmp/out/alice.eml" &&
    grep -q '	by mail.example.org (pipesmtpd) with ESMTP id ' "$tmp/out/alice.eml"; then
	pass "delivered bytes: the message as sent, after Return-Path and Received by mail.example.org"
else
	fail "delivered bytes"
	cat "$tmp/out/alice.eml"
fi
if [ "$(stat -c %U "$tmp/out/alice.eml" 2>/dev/null)" = mail ]; then
	pass "the command ran as mail (--user from the conffile)"
else
	fail "owner of the delivered file"
fi
timeout 60 swaks --server 127.0.0.1 --port "$port" --helo client.test \
	--from sender@example.net --to bob@other.example > "$tmp/relay.out" 2>&1
if grep -q '^<\*\* 550 5\.7\.1 ' "$tmp/relay.out" &&
    [ ! -e "$tmp/out/bob.eml" ]; then
	pass "a domain not in the conffile's --domain: 550 5.7.1, nothing delivered"
else
	fail "relay attempt"
	cat "$tmp/relay.out"
fi

# ---- upgrade: the administrator's conffile stays ---------------------------
# the same tree as the next Debian revision (unit tests ran in the first
# build); apt-get upgrades to it without a question, the conffile as the
# administrator left it, the socket still disabled
cp /etc/default/pipesmtpd "$tmp/conf.before"
next=${version%-*}-$((${version##*-} + 1))
{
	printf 'pipesmtpd (%s) unstable; urgency=medium\n\n' "$next"
	printf '  * Rebuilt by tests/deploy_deb.sh.\n\n'
	printf ' -- pipesmtpd tests <tests@example.org>  %s\n\n' "$(date -R)"
	cat "$tmp/build/src/debian/changelog"
} > "$tmp/changelog.next"
cp "$tmp/changelog.next" "$tmp/build/src/debian/changelog"
if (cd "$tmp/build/src" && DEB_BUILD_OPTIONS=nocheck timeout 600 \
    dpkg-buildpackage -us -uc -b) > "$tmp/build2.log" 2>&1 &&
    timeout 600 env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	"$tmp/build/pipesmtpd_${next}_$arch.deb" > "$tmp/apt2.log" 2>&1 &&
    [ "$(dpkg-query -W -f '${Version}' pipesmtpd)" = "$next" ]; then
	pass "upgraded to $next with apt-get"
else
	fail "upgrade to $next"
	tail -n 20 "$tmp/build2.log" "$tmp/apt2.log"
fi
if cmp -s "$tmp/conf.before" /etc/default/pipesmtpd &&
    [ ! -e /etc/default/pipesmtpd.dpkg-new ] &&
    [ ! -e /etc/default/pipesmtpd.dpkg-old ]; then
	pass "the upgrade kept the administrator's /etc/default/pipesmtpd"
else
	fail "the upgrade touched /etc/default/pipesmtpd"
	diff "$tmp/conf.before" /etc/default/pipesmtpd
fi
if [ "$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)" = disabled ]; then
	pass "still disabled after the upgrade"
else
	fail "the upgrade enabled pipesmtpd.socket"
fi

# ---- purge ------------------------------------------------------------------
if timeout 300 dpkg --purge pipesmtpd > "$tmp/purge.log" 2>&1 &&
    ! dpkg-query -W -f '${Status}\n' pipesmtpd 2>/dev/null |
	grep -q 'installed\|config-files'; then
	pass "dpkg --purge pipesmtpd"
else
	fail "dpkg --purge"
	cat "$tmp/purge.log"
fi
left=
while read -r f; do
	# directories shared with other packages stay
	[ -d "$f" ] && [ -n "$(ls -A "$f" 2>/dev/null)" ] && continue
	[ -e "$f" ] && left="$left $f"
done < "$tmp/files"
for f in /etc/default/pipesmtpd /usr/share/doc/pipesmtpd \
    $(find /etc/systemd /var/lib/systemd /lib/systemd -name '*pipesmtpd*' 2>/dev/null); do
	[ -e "$f" ] && left="$left $f"
done
if [ -z "$left" ]; then
	pass "nothing left: no file of the package, no conffile, no unit, no systemd state"
else
	fail "left after purge:$left"
fi

finish

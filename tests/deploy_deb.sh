#!/bin/sh
# deploy_deb.sh - the Debian package, built, installed, used and purged,
# following its README.Debian.
#
# What it proves: dpkg-buildpackage -us -uc -b, run in a copy of the tree
# (this one stays as it was), builds pipesmtpd_VERSION_ARCH.deb, VERSION
# being the program's --version with a Debian revision; lintian reports no
# error and no warning (its other tags are listed); hardening-check finds
# PIE, stack protector, fortify, relro and bindnow.
#
# Then the steps of the README.Debian shipped in the package, as written:
# every line of it that starts with "    # " is a root command, and the
# test runs them in order (extracted from the file, never copied here),
# with the settings its sections show (its "    NAME=..." lines).
# Where no systemd runs (a container, CI), "systemctl ... --now" runs
# without --now, daemon-reload is not needed, and the socket is started
# as systemd would: systemd-socket-activate --inetd --accept on loopback
# port 25 (another port, added to swaks's lines, if 25 is taken) runs
# the installed unit's ExecStart, expanded as systemd expands it
# (EnvironmentFile= values, "$VAR" split into words with quotes honoured,
# "%%" to "%"), inside the unit's file-system sandbox with its drop-ins
# as tests/systemd_sandbox.py applies it (ProtectSystem=, ProtectHome=,
# ReadWritePaths=, ReadOnlyPaths=, PrivateTmp=; the unit's other
# hardening is not applied).
#
#  1. Install: apt-get installs the package: /usr/sbin/pipesmtpd,
#     pipesmtpd(8), README.md and the guides doc/*.md uncompressed (their
#     links hold there), every file of examples/, the units
#     (systemd-analyze verify is silent), the conffile; nothing enabled
#     or started by the maintainer scripts.  /etc/aliases (moved aside for
#     the test, put back at the end) is created, mode 0644, with the
#     lines README.Debian lists.
#  2. The shipped /etc/default/pipesmtpd holds exactly README.Debian's
#     two settings.
#  3. With them, unchanged: README.Debian's swaks to postmaster@ is
#     delivered (250) by procmail into /var/mail/root through
#     /etc/aliases; its swaks to a real account (alice, made for the
#     test) and a typo gets 550 5.1.1 for the typo at RCPT, 250 at the
#     end of data, and alice's copy; procmail's From_ lines name the
#     envelope sender, and MAILER-DAEMON for a message from <>.
#     The test's own command line with a quoted sh -c script in the
#     conffile: the bytes delivered, the account that ran it, a relay
#     attempt refused.
#  4. Mail in home directories: deliver-mail and the drop-in home.conf
#     installed by README.Debian's commands, its --as-recipient settings,
#     "root: alice" in /etc/aliases.  Without the drop-in the unit's
#     sandbox refuses ~/Maildir (451, nothing written); with it a
#     message is in ~/Maildir/new (alice's, 0600, its bytes), postmaster
#     reaches alice, and the mbox variant writes ~/Mailbox: mode 0600,
#     alice's, each message "From SENDER DATE" (MAILER-DAEMON for <>),
#     "From " lines quoted mboxrd-style, an empty line after each, no
#     lock file left.
#  Upgrade: the next Debian revision, built from the same tree, upgrades
#     it without touching the edited conffile or /etc/aliases, or
#     changing whether the socket is enabled.
#  7. STARTTLS: README.Debian's commands install pipesmtpd-tls (the
#     launcher in /usr/lib/pipesmtpd, lintian-clean and hardened like
#     the first package, its conffile /etc/default/pipesmtpd-tls naming
#     the snakeoil pair, the system account _pipesmtpd-tls), make the
#     snakeoil pair, swap the sockets; its swaks --tls is delivered over
#     TLS 1.3 through the installed TLS unit.  Then an --as-recipient
#     command (alice) probes another session's engine: kill -0, SIGTERM,
#     /proc/PID/environ and mem, ptrace all fail (EPERM, EACCES), and the
#     engine still runs; the control, with the engine as alice, shows
#     the probe can signal it.  Mail for _pipesmtpd-tls@ gets 550 5.1.1.
#  8. Stop and remove: README.Debian's commands; nothing of the packages,
#     the conffiles, the units or systemd state is left; /etc/aliases is
#     (and the account _pipesmtpd-tls, as Debian leaves system accounts;
#     the test removes it, and the snakeoil pair, if it made them).
#
# Needs root, dpkg-dev, debhelper, lintian, devscripts (hardening-check),
# apt, systemd, swaks, procmail, liblockfile-bin (dotlockfile), util-linux
# (unshare), and no account named alice.  Prints "deploy-deb: N passed,
# M failed" last.

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
need procmail procmail || finish
need dotlockfile liblockfile-bin || finish
need unshare util-linux || finish
need make-ssl-cert ssl-cert || finish
need adduser adduser || finish

for p in pipesmtpd pipesmtpd-tls; do
	if dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null |
	    grep -q ' installed$'; then
		fail "a $p package is installed already: this test would replace and purge it"
		finish
	fi
done
# what README.Debian's steps create, which must not be someone's already
dropin=/etc/systemd/system/pipesmtpd@.service.d
if getent passwd alice >/dev/null || [ -e /home/alice ] ||
    [ -e /var/mail/alice ] || [ -e /usr/local/bin/deliver-mail ] ||
    [ -e "$dropin" ]; then
	fail "alice, /home/alice, /var/mail/alice, /usr/local/bin/deliver-mail or $dropin exists: this test creates and removes them"
	finish
fi

# The administrator's /etc/aliases and /var/mail/root are kept aside and
# put back whatever happens.
# shellcheck disable=SC2317 # called from the EXIT trap
deb_cleanup() {
	for p in pipesmtpd-tls pipesmtpd; do
		if dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null |
		    grep -q 'installed\|config-files'; then
			dpkg --purge "$p" >/dev/null 2>&1
		fi
	done
	[ -n "$made_engine_account" ] && userdel _pipesmtpd-tls >/dev/null 2>&1
	[ -n "$made_snakeoil" ] && rm -f "$snakeoil_cert" "$snakeoil_key"
	[ -n "$probe_dir" ] && rm -rf "$probe_dir"
	rm -rf "$dropin" /usr/local/bin/deliver-mail /home/alice
	for f in /etc/aliases /var/mail/root; do
		if [ -e "$tmp/saved/${f##*/}" ]; then
			cp -p "$tmp/saved/${f##*/}" "$f"
		else
			rm -f "$f"
		fi
	done
	deploy_cleanup
}
cleanup_hook=deb_cleanup
# what pipesmtpd-tls and README.Debian 7 make, removed at the end only if
# the test made it: the engine's account, ssl-cert's snakeoil pair
snakeoil_cert=/etc/ssl/certs/ssl-cert-snakeoil.pem
snakeoil_key=/etc/ssl/private/ssl-cert-snakeoil.key
made_engine_account=''
made_snakeoil=''
probe_dir=''
getent passwd _pipesmtpd-tls >/dev/null || made_engine_account=1
[ -e "$snakeoil_cert" ] || [ -e "$snakeoil_key" ] || made_snakeoil=1
mkdir "$tmp/saved"
for f in /etc/aliases /var/mail/root; do
	[ -e "$f" ] && cp -p "$f" "$tmp/saved/${f##*/}"
done

# ---- build in a copy ------------------------------------------------------
# paths the build writes under debian/; none may appear in this tree
leftovers() {
	for f in debian/files debian/pipesmtpd debian/.debhelper \
	    debian/debhelper-build-stamp debian/pipesmtpd.substvars \
	    debian/pipesmtpd.debhelper.log debian/pipesmtpd-tls \
	    debian/pipesmtpd-tls.substvars debian/tls-build debian/tmp; do
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
tlsdeb=$tmp/build/pipesmtpd-tls_${version}_$arch.deb
prog=$("$bin" --version | sed -n 's/^pipesmtpd //p')
case $version in
"$prog"-[0-9]*) pass "version $version: the program's $prog, Debian revision ${version#"$prog"-}" ;;
*) fail "package version $version does not carry the program's $prog" ;;
esac
if [ -f "$deb" ] && [ -f "$tlsdeb" ]; then
	pass "built ${deb##*/} and ${tlsdeb##*/}"
else
	fail "no ${deb##*/} or ${tlsdeb##*/}"
	ls "$tmp/build"
	finish
fi

# ---- lintian and hardening ------------------------------------------------
timeout 600 lintian --info --pedantic --show-overrides "$deb" "$tlsdeb" \
	> "$tmp/lintian.out" 2>&1
if grep -q '^[EW]: ' "$tmp/lintian.out"; then
	fail "lintian errors or warnings"
	cat "$tmp/lintian.out"
else
	pass "lintian on both packages: no error, no warning"
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
# the launcher: built by debian/rules with dpkg-buildflags' hardening
# (build-tls.sh prints the flags it adds); hardening-check finds PIE,
# stack protector, relro and bindnow (fortify: its calls are all of a kind
# glibc cannot check, so it reports none protected)
mkdir "$tmp/xt"
dpkg-deb -x "$tlsdeb" "$tmp/xt"
dpkg-deb -e "$tlsdeb" "$tmp/xt/DEBIAN"
ok=1
flags=$(grep '^build-tls.sh: CFLAGS=' "$tmp/build.log")
for f in -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro -Wl,-z,now; do
	case $flags in
	*"$f"*) ;;
	*) ok=0; echo "# $f not in the launcher's build flags: $flags" ;;
	esac
done
for b in s6-ucspitlsd s6-tlsd-io; do
	hardening-check --nocfprotection --nofortify "$tmp/xt/usr/lib/pipesmtpd/$b" \
		> "$tmp/hc.out" 2>&1 || { ok=0; cat "$tmp/hc.out"; }
done
if [ "$ok" = 1 ] &&
    [ "$(cd "$tmp/xt" && find usr/lib -type f | sort | tr '\n' ' ')" = \
      "usr/lib/pipesmtpd/s6-tlsd-io usr/lib/pipesmtpd/s6-ucspitlsd " ]; then
	pass "pipesmtpd-tls: s6-ucspitlsd and s6-tlsd-io in /usr/lib/pipesmtpd, built with the hardening flags; PIE, stack protector, relro, bindnow"
else
	fail "pipesmtpd-tls's programs"
	find "$tmp/xt/usr/lib"
fi
if ! grep -q 'deb-systemd-invoke\|systemctl.* start' "$tmp/xt/DEBIAN/postinst" &&
    [ "$(grep -c 'deb-systemd-helper enable' "$tmp/xt/DEBIAN/postinst")" = \
      "$(grep -c 'was-enabled' "$tmp/xt/DEBIAN/postinst")" ] &&
    [ "$(cat "$tmp/xt/DEBIAN/conffiles")" = /etc/default/pipesmtpd-tls ]; then
	pass "pipesmtpd-tls: postinst starts nothing, enables nothing new; conffile /etc/default/pipesmtpd-tls"
else
	fail "pipesmtpd-tls's postinst or conffiles"
	cat "$tmp/xt/DEBIAN/postinst" "$tmp/xt/DEBIAN/conffiles"
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

# ---- README.Debian as the package ships it --------------------------------
readme=$tmp/x/usr/share/doc/pipesmtpd/README.Debian
if [ -f "$readme" ]; then
	pass "README.Debian shipped uncompressed (the units' Documentation= names it)"
else
	fail "no $readme"
	ls "$tmp/x/usr/share/doc/pipesmtpd"
	finish
fi
# section N - the lines of README.Debian's section "N. ..."
section() {
	awk -v n="$1." '/^[0-9]+\. / { s = ($1 == n) } s' "$readme"
}
# commands N - section N's root command lines, one a line
commands() {
	section "$1" | sed -n 's/^    # //p'
}
# settings N - section N's "    PIPESMTPD_...=" lines
settings() {
	section "$1" | sed -n 's/^    \(PIPESMTPD_[A-Z]*=.*\)/\1/p'
}
# step LINE - run one of README.Debian's command lines as root with sh, in
# the directory holding the package, output in $tmp/step.out.  Without a
# running systemd: "systemctl daemon-reload" is not needed, "--now" is left
# out (the test starts the socket as systemd would); swaks gets "--port"
# when the socket could not be on port 25.
step() {
	line=$1
	if [ ! -d /run/systemd/system ]; then
		case $line in
		'systemctl daemon-reload')
			echo "# no systemd running, not needed: $line"
			return 0 ;;
		systemctl*' --now'*)
			line=$(printf '%s\n' "$line" | sed 's/ --now//')
			echo "# no systemd running: $line" ;;
		esac
	fi
	case $line in
	swaks*) [ "${sock_port:-25}" = 25 ] || line="$line --port $sock_port" ;;
	esac
	(cd "$tmp/build" && timeout 300 env DEBIAN_FRONTEND=noninteractive \
		sh -c "$line") </dev/null > "$tmp/step.out" 2>&1
}
# steps N COUNT - run section N's command lines, which must be COUNT
steps() {
	commands "$1" > "$tmp/steps.$1"
	if [ "$(wc -l < "$tmp/steps.$1")" != "$2" ]; then
		fail "README.Debian section $1: $2 command lines expected"
		cat "$tmp/steps.$1"
		return 1
	fi
	while IFS= read -r l; do
		if step "$l"; then
			pass "README.Debian $1: # $l"
		else
			fail "README.Debian $1: # $l"
			cat "$tmp/step.out"
		fi
	done < "$tmp/steps.$1"
}

# ---- 1. install ---------------------------------------------------------------
rm -f /etc/aliases
commands 1 > "$tmp/steps.1"
if [ "$(cat "$tmp/steps.1")" = 'apt-get install ./pipesmtpd_*.deb' ] &&
    [ "$(ls "$tmp/build"/pipesmtpd_*.deb)" = "$deb" ] &&
    step "$(cat "$tmp/steps.1")"; then
	pass "README.Debian 1: # $(cat "$tmp/steps.1") installed ${deb##*/}"
else
	fail "README.Debian 1: install"
	cat "$tmp/steps.1" "$tmp/step.out"
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
for f in README.md doc/*.md; do
	cmp -s "$f" "/usr/share/doc/pipesmtpd/$f" ||
		{ ok=0; echo "# $f missing, compressed or different"; }
done
for f in $(cd examples && find . -type f); do
	cmp -s "examples/$f" "/usr/share/doc/pipesmtpd/examples/${f#./}" ||
		{ ok=0; echo "# example missing or different: $f"; }
done
if [ "$ok" = 1 ]; then
	pass "binary, man page, units, conffile, README.Debian, README.md, the $(ls doc/*.md | wc -l) guides in doc/ (uncompressed) and all $(find examples -type f | wc -l) example files installed"
else
	fail "installed files"
fi
installed_dead_links /usr/share/doc/pipesmtpd > "$tmp/dead"
grep '^#' "$tmp/dead"
if ! grep -q -v '^#' "$tmp/dead"; then
	pass "every relative link of the installed README.md and guides holds in /usr/share/doc/pipesmtpd"
else
	fail "links of the installed README.md and guides that name nothing:"
	grep -v '^#' "$tmp/dead"
fi

# /etc/aliases: made by postinst, the lines README.Debian lists, not the
# package's file
section 1 | sed -n 's/^    \([a-z-]*: [a-z]*\)$/\1/p' > "$tmp/aliases.doc"
grep -v '^#' /etc/aliases > "$tmp/aliases.made" 2>/dev/null
if [ "$(stat -c '%a %U %G' /etc/aliases 2>/dev/null)" = "644 root root" ] &&
    [ -s "$tmp/aliases.doc" ] && cmp -s "$tmp/aliases.doc" "$tmp/aliases.made" &&
    grep -q '^#.*every connection' /etc/aliases &&
    ! dpkg -S /etc/aliases >/dev/null 2>&1; then
	pass "postinst made /etc/aliases (0644 root): $(tr '\n' ' ' < "$tmp/aliases.made")"
else
	fail "/etc/aliases after install"
	ls -l /etc/aliases
	cat /etc/aliases "$tmp/aliases.doc"
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
# FILES names where the package put things (make install's /usr/local
# only as the second choice, each time next to "make install"); the page
# man finds, formatted now (man-db's cat page of an earlier install, newer
# than the package's reproducible timestamp, would be shown instead)
page=$(man -w 8 pipesmtpd 2>/dev/null)
[ "$page" = /usr/share/man/man8/pipesmtpd.8.gz ] ||
	echo "# man -w 8 pipesmtpd: $page"
MANWIDTH=80 timeout 30 man -l "$page" 2>/dev/null |
	sed -n '/^FILES/,/^EXAMPLES/p' | tr -s ' \n' '  ' > "$tmp/man.files"
ok=1
for f in /usr/sbin/pipesmtpd /etc/default/pipesmtpd /etc/aliases \
    /usr/share/doc/pipesmtpd/ /lib/systemd/system; do
	grep -q " ${f%/}/\{0,1\}[ ,.)]" "$tmp/man.files" ||
		{ ok=0; echo "# FILES does not name $f"; }
	[ -e "$f" ] || { ok=0; echo "# $f is not installed"; }
done
if [ "$ok" = 1 ] && [ "$page" = /usr/share/man/man8/pipesmtpd.8.gz ] &&
    timeout 10 python3 -c '
import re, sys
t = open(sys.argv[1]).read()
for m in re.finditer(r"/usr/local", t):
    if "make install" not in t[max(0, m.start() - 30):m.end() + 60]:
        sys.exit("not about make install: " + t[m.start() - 30:m.end() + 60])
' "$tmp/man.files"; then
	pass "pipesmtpd(8) FILES names the package's paths; /usr/local only for make install"
else
	fail "pipesmtpd(8) FILES"
	cat "$tmp/man.files"
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

# ---- the socket, as systemd would run it -----------------------------------
# expand [UNIT [env]] - the argv systemd runs for the installed service
# UNIT (pipesmtpd@.service), one per line as JSON strings: EnvironmentFile=
# assignments (quotes as in a shell; commented lines skipped), "\$NAME"
# words split at blanks with quotes honoured and removed, "\${NAME}" words
# as one, "%%" as "%" (any other specifier is an error: the unit must not
# have one).  With "env": "/usr/bin/env", the assignments as systemd puts
# them in the process's environment, then that argv.
expand() {
	timeout 30 python3 - "/lib/systemd/system/${1:-pipesmtpd@.service}" \
		"${2:-}" <<'PY'
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
if sys.argv[2] == "env":
    out = ["/usr/bin/env"] + ["%s=%s" % kv for kv in env.items()] + out
for w in out:
    print(json.dumps(w))
PY
}
# port_free PORT - nothing listens on loopback PORT
port_free() {
	timeout 10 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
# the socket's port: pipesmtpd.socket's ListenStream=, 25, if free
sock_port=25
if [ ! -d /run/systemd/system ] && ! port_free 25; then
	sock_port=$(free_port)
	echo "# port 25 is taken here: the socket listens on $sock_port, and swaks gets --port $sock_port"
fi
listen="-l 127.0.0.1:$sock_port"
if [ "$sock_port" = 25 ] && timeout 10 python3 -c '
import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	listen="$listen -l [::1]:25"
fi
# start_socket NAME [DROP-IN ...] - what systemd does for a connection to
# pipesmtpd.socket (pipesmtpd-tls.socket with unit=pipesmtpd-tls@.service):
# the unit's ExecStart, expanded from the conffiles as they are now, with
# their variables in its environment, in the unit's sandbox with the
# drop-ins given, per connection on $sock_port; stderr in $tmp/NAME.log.
# Where systemd runs, it does this itself (with every drop-in installed).
sock_pid=
unit=pipesmtpd@.service
start_socket() {
	n=$1
	shift
	[ -d /run/systemd/system ] && return 0
	expand "$unit" env > "$tmp/argv.$n" 2>"$tmp/expand.err" ||
		{ cat "$tmp/expand.err"; return 1; }
	# shellcheck disable=SC2086 # $listen is two or four words
	spawn timeout 300 unshare -m --propagation private python3 \
		tests/systemd_sandbox.py --argv-json "$tmp/argv.$n" \
		"/lib/systemd/system/$unit" "$@" -- \
		systemd-socket-activate --inetd --accept $listen \
		</dev/null >/dev/null 2>"$tmp/$n.log"
	sock_pid=$!
	wait_port "$sock_port" || { cat "$tmp/$n.log"; return 1; }
}
stop_socket() {
	[ -n "$sock_pid" ] || return 0
	kill "$sock_pid" 2>/dev/null
	wait "$sock_pid" 2>/dev/null
	sock_pid=
}
# smtp NAME SWAKS-OPTION... - swaks to the socket, transcript in $tmp/NAME.out
smtp() {
	n=$1
	shift
	timeout 60 swaks --server localhost --port "$sock_port" \
		--helo client.test "$@" > "$tmp/$n.out" 2>&1
}
# configure FILE - the conffile's settings become the lines in FILE, as
# an administrator edits them; the rest of the file stays
configure() {
	grep -v '^PIPESMTPD_' /etc/default/pipesmtpd > "$tmp/conf.new"
	cat "$1" >> "$tmp/conf.new"
	cat "$tmp/conf.new" > /etc/default/pipesmtpd
}
# sender_of TRANSCRIPT - the address swaks gave in MAIL FROM
sender_of() {
	sed -n 's/^ -> MAIL FROM:<\(.*\)>.*/\1/p' "$1"
}
# from_ok LINE SENDER - LINE is an mbox From_ line for SENDER
from_ok() {
	printf '%s\n' "$1" | grep -qx "From $2 \{1,2\}[A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 1-3][0-9] [0-9:]\{8\} [0-9]\{4\}"
}

# ---- 2. the options -----------------------------------------------------------
settings 2 > "$tmp/settings.2"
grep '^PIPESMTPD_' /etc/default/pipesmtpd > "$tmp/settings.conf"
if [ "$(wc -l < "$tmp/settings.2")" = 2 ] &&
    cmp -s "$tmp/settings.2" "$tmp/settings.conf"; then
	pass "README.Debian 2: the conffile sets its two lines: $(tr '\n' ' ' < "$tmp/settings.2")"
else
	fail "README.Debian 2 and /etc/default/pipesmtpd differ"
	diff "$tmp/settings.2" "$tmp/settings.conf"
fi

# ---- 3. enable, test messages -------------------------------------------------
if useradd -m -d /home/alice -s /usr/sbin/nologin alice; then
	users="$users alice"
	pass "account alice (uid $(id -u alice)), home /home/alice"
else
	fail "useradd alice"
	finish
fi
commands 3 > "$tmp/steps.3"
sed -n 1p "$tmp/steps.3" > "$tmp/enable"
if [ "$(wc -l < "$tmp/steps.3")" = 3 ] &&
    grep -q '^systemctl enable .*pipesmtpd\.socket$' "$tmp/enable" &&
    step "$(cat "$tmp/enable")" &&
    [ "$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)" = enabled ]; then
	pass "README.Debian 3: # $(cat "$tmp/enable"): enabled"
else
	fail "README.Debian 3: enable"
	cat "$tmp/steps.3" "$tmp/step.out"
fi
if start_socket default; then
	pass "pipesmtpd.socket as systemd runs it, on port $sock_port: $(tr '\n' ' ' < "$tmp/argv.default" 2>/dev/null)"
else
	fail "the socket did not start"
	finish
fi

root_size=$(stat -c %s /var/mail/root 2>/dev/null || echo 0)
line=$(sed -n 2p "$tmp/steps.3")
case $line in
swaks*' --to postmaster@example.org')
	step "$line"
	cp "$tmp/step.out" "$tmp/postmaster.out"
	tail -c +"$((root_size + 1))" /var/mail/root > "$tmp/root.new" 2>/dev/null
	s=$(sender_of "$tmp/postmaster.out")
	if grep -q '^<-  250 2\.0\.0' "$tmp/postmaster.out" &&
	    from_ok "$(head -n 1 "$tmp/root.new")" "$s" &&
	    grep -q '^To: postmaster@example\.org$' "$tmp/root.new" &&
	    [ "$(grep -c '^From ' "$tmp/root.new")" = 1 ]; then
		pass "README.Debian 3: # $line: 250, in /var/mail/root through postmaster: root, $(head -n 1 "$tmp/root.new")"
	else
		fail "README.Debian 3: # $line"
		cat "$tmp/postmaster.out" "$tmp/root.new" "$tmp/default.log"
	fi ;;
*) fail "README.Debian 3: no swaks to postmaster@example.org: $line" ;;
esac

line=$(sed -n 3p "$tmp/steps.3")
case $line in
swaks*' --to alice@example.org,alcie@example.org')
	step "$line"
	cp "$tmp/step.out" "$tmp/typo.out"
	s=$(sender_of "$tmp/typo.out")
	if grep -q '^<\*\* 550 5\.1\.1 <alcie@example\.org>' "$tmp/typo.out" &&
	    grep -q '^<-  250 2\.1\.5' "$tmp/typo.out" &&
	    grep -q '^<-  250 2\.0\.0' "$tmp/typo.out" &&
	    [ "$(grep -c '^From ' /var/mail/alice 2>/dev/null)" = 1 ] &&
	    from_ok "$(head -n 1 /var/mail/alice)" "$s"; then
		pass "README.Debian 3: # $line: 550 5.1.1 for the typo at RCPT, 250 after data, alice's copy from $s"
	else
		fail "README.Debian 3: # $line"
		cat "$tmp/typo.out" "$tmp/default.log"
		cat /var/mail/alice
	fi ;;
*) fail "README.Debian 3: no swaks to alice and a typo: $line" ;;
esac
if smtp null --from '<>' --to alice@example.org --body 'a bounce' &&
    grep -q '^ -> MAIL FROM:<>' "$tmp/null.out" &&
    [ "$(grep -c '^From ' /var/mail/alice 2>/dev/null)" = 2 ] &&
    from_ok "$(grep '^From ' /var/mail/alice | tail -n 1)" MAILER-DAEMON; then
	pass "the null sender: procmail's From_ line is $(grep '^From ' /var/mail/alice | tail -n 1)"
else
	fail "the null sender's From_ line: $(grep '^From ' /var/mail/alice 2>/dev/null | tail -n 1)"
	cat "$tmp/null.out"
fi
stop_socket

# ---- the administrator's own command, quoted -------------------------------
# a sh -c script in double quotes inside the single ones: one word for
# pipesmtpd, %u kept for it; run without the sandbox, into a directory
# of the test's (the conffile as README.Debian 3 left it is put back)
cp /etc/default/pipesmtpd "$tmp/conf.3"
mkdir "$tmp/out"
chown mail "$tmp/out"
# shellcheck disable=SC2016 # $1 and $2 are for the inner sh
cat >> /etc/default/pipesmtpd <<CONF
PIPESMTPD_OPTIONS='--hostname mail.example.org --domain example.org --user mail'
PIPESMTPD_COMMAND='/bin/sh -c "umask 022; cat > \"\$1/\$2.eml\"" sh $tmp/out %u'
CONF
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
cp "$tmp/conf.3" /etc/default/pipesmtpd

# ---- 4. mail in home directories ----------------------------------------------
steps 4 4
if [ "$(stat -c %a /usr/local/bin/deliver-mail 2>/dev/null)" = 755 ] &&
    cmp -s examples/deliver-mail /usr/local/bin/deliver-mail &&
    cmp -s examples/pipesmtpd@.service.d/home.conf "$dropin/home.conf"; then
	pass "README.Debian 4 installed examples/deliver-mail (0755) and the drop-in examples/pipesmtpd@.service.d/home.conf"
else
	fail "README.Debian 4: deliver-mail or the drop-in not in place"
	ls -l /usr/local/bin/deliver-mail "$dropin"
fi
settings 4 > "$tmp/settings.4"
section 4 | grep -o "PIPESMTPD_COMMAND='[^']*Mailbox[^']*'" > "$tmp/mbox.command"
section 4 | sed -n 's/^    \(root: [a-z]*\)$/\1/p' > "$tmp/root.alias"
if [ "$(wc -l < "$tmp/settings.4")" = 2 ] &&
    grep -q "^PIPESMTPD_OPTIONS='.*--as-recipient" "$tmp/settings.4" &&
    grep -q "^PIPESMTPD_COMMAND='.* Maildir/ %s'$" "$tmp/settings.4" &&
    [ "$(wc -l < "$tmp/mbox.command")" = 1 ] &&
    [ "$(cat "$tmp/root.alias")" = "root: alice" ]; then
	pass "README.Debian 4: its settings, the mbox command and \"root: alice\""
else
	fail "README.Debian 4: settings"
	cat "$tmp/settings.4" "$tmp/mbox.command" "$tmp/root.alias"
fi
cat "$tmp/root.alias" >> /etc/aliases
configure "$tmp/settings.4"

printf 'Subject: home\r\nFrom: <sender@example.net>\r\n\r\nFrom here on\r\n>From there\r\n.dot line\r\nlast line\r\n' \
	> "$tmp/msg4"
{ tr -d '\r' < "$tmp/msg4"; echo; } > "$tmp/msg4.lf"
md=/home/alice/Maildir
# without the drop-in, the unit's own sandbox: ProtectHome=read-only
if [ -d /run/systemd/system ]; then
	echo "# systemd runs here: the unit without the drop-in is not tried"
elif start_socket nodropin; then
	smtp nodropin --from sender@example.net --to alice@example.org --data "@$tmp/msg4"
	if grep -q '^<\*\* 451 4\.3\.0 .*Read-only file system' "$tmp/nodropin.out" &&
	    [ -z "$(ls -A "$md/new" 2>/dev/null)" ]; then
		pass "without the drop-in: $(grep '^<\*\* 451' "$tmp/nodropin.out"); nothing in $md"
	else
		fail "without the drop-in, ~/Maildir should be read-only"
		cat "$tmp/nodropin.out" "$tmp/nodropin.log"
	fi
	stop_socket
else
	fail "the socket did not start"
fi

# with it: ~/Maildir/
if start_socket maildir "$dropin"/*.conf &&
    smtp maildir --from sender@example.net --to alice@example.org \
	--data "@$tmp/msg4" && grep -q '^<-  250 2\.0\.0' "$tmp/maildir.out" &&
    [ "$(ls "$md/new" | wc -l)" = 1 ]; then
	f=$md/new/$(ls "$md/new")
	if [ "$(stat -c '%U %a' "$f")" = "alice 600" ] &&
	    tail -c "$(wc -c < "$tmp/msg4.lf")" "$f" | cmp -s - "$tmp/msg4.lf" &&
	    [ "$(head -n 1 "$f")" = 'Return-Path: <sender@example.net>' ] &&
	    [ -z "$(ls -A "$md/tmp")" ]; then
		pass "with the drop-in: 250, $f (alice, 0600): Return-Path, Received, the message as sent"
	else
		fail "the Maildir message"
		ls -l "$f"
		cat "$f"
	fi
else
	fail "delivery into ~/Maildir with the drop-in"
	cat "$tmp/maildir.out" "$tmp/maildir.log"
fi
if smtp pmhome --from sender@example.net --to postmaster@example.org &&
    grep -q '^<-  250 2\.0\.0' "$tmp/pmhome.out" &&
    [ "$(grep -l '^To: postmaster@example\.org$' "$md"/new/* | wc -l)" = 1 ]; then
	pass "postmaster@ reaches alice's Maildir"
else
	fail "postmaster under --as-recipient"
	cat "$tmp/pmhome.out" "$tmp/maildir.log"
fi
if smtp roothome --from sender@example.net --to root@example.org &&
    grep -q '^<-  250 2\.0\.0' "$tmp/roothome.out" &&
    [ "$(grep -l '^To: root@example\.org$' "$md"/new/* | wc -l)" = 1 ]; then
	pass "root@ reaches alice's Maildir through \"root: alice\" in /etc/aliases"
else
	fail "root@ under --as-recipient"
	cat "$tmp/roothome.out" "$tmp/maildir.log"
fi
stop_socket

# the mbox ~/Mailbox
grep '^PIPESMTPD_OPTIONS=' "$tmp/settings.4" > "$tmp/settings.mbox"
cat "$tmp/mbox.command" >> "$tmp/settings.mbox"
configure "$tmp/settings.mbox"
mb=/home/alice/Mailbox
if start_socket mbox "$dropin"/*.conf &&
    smtp mbox1 --from sender@example.net --to alice@example.org --data "@$tmp/msg4" &&
    smtp mbox2 --from '<>' --to alice@example.org --data "@$tmp/msg4" &&
    grep -q '^<-  250 2\.0\.0' "$tmp/mbox1.out" &&
    grep -q '^<-  250 2\.0\.0' "$tmp/mbox2.out"; then
	pass "deliver-mail Mailbox: two messages, 250 each"
else
	fail "deliver-mail Mailbox"
	cat "$tmp/mbox1.out" "$tmp/mbox2.out" "$tmp/mbox.log"
fi
stop_socket
# the mbox, message by message: a From_ line, the message as delivered
# (Return-Path first) with ">" added before /^>*From /, an empty line
if timeout 30 python3 - "$mb" "$tmp/msg4.lf" > "$tmp/mbox.check" 2>&1 <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
quoted = re.sub(rb"(?m)^(>*From )", rb">\1", msg)
fromline = re.compile(rb"^From (\S+) [A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3]\d "
                      rb"\d\d:\d\d:\d\d \d{4}\n", re.M)
starts = list(fromline.finditer(data))
if not starts or starts[0].start() != 0:
    sys.exit("does not start with a From_ line")
senders = []
for i, m in enumerate(starts):
    end = starts[i + 1].start() if i + 1 < len(starts) else len(data)
    body = data[m.end():end]
    sender = m.group(1).decode()
    rp = b"<>" if sender == "MAILER-DAEMON" else b"<" + m.group(1) + b">"
    if not body.startswith(b"Return-Path: " + rp + b"\n"):
        sys.exit("message %d: Return-Path" % (i + 1))
    if not body.endswith(b"\n" + quoted + b"\n"):
        sys.exit("message %d: not the quoted message and an empty line" % (i + 1))
    senders.append(sender)
print(" ".join(senders))
PY
then
	if [ "$(cat "$tmp/mbox.check")" = "sender@example.net MAILER-DAEMON" ] &&
	    [ "$(stat -c '%U %a' "$mb")" = "alice 600" ] &&
	    [ ! -e "$mb.lock" ]; then
		pass "$mb (alice, 0600, no lock left): From_ lines for sender@example.net and MAILER-DAEMON (<>), \">From here\", \">>From there\", an empty line after each"
	else
		fail "mbox senders, mode or lock: $(cat "$tmp/mbox.check"); $(stat -c '%U %a' "$mb")"
		ls -la /home/alice
	fi
else
	fail "the mbox bytes: $(cat "$tmp/mbox.check")"
	cat -A "$mb"
fi

# ---- upgrade: the administrator's conffile stays ---------------------------
# the same tree as the next Debian revision (unit tests ran in the first
# build); apt-get upgrades to it without a question, the conffile as the
# administrator left it, /etc/aliases as well, the socket as enabled as
# it was
cp /etc/default/pipesmtpd "$tmp/conf.before"
cp /etc/aliases "$tmp/aliases.before"
enabled=$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)
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
	# the directory holds this revision's packages only, as after a
	# build of it: README.Debian 7's "./pipesmtpd-tls_*.deb" is one file
	rm -f "$tmp/build"/*_"${version}"_*.deb
	tlsdeb=$tmp/build/pipesmtpd-tls_${next}_$arch.deb
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
if cmp -s "$tmp/aliases.before" /etc/aliases; then
	pass "the upgrade kept /etc/aliases as the administrator edited it"
else
	fail "the upgrade touched /etc/aliases"
	diff "$tmp/aliases.before" /etc/aliases
fi
if [ "$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)" = "$enabled" ]; then
	pass "pipesmtpd.socket still $enabled after the upgrade"
else
	fail "the upgrade changed pipesmtpd.socket from $enabled"
fi

# ---- 7. STARTTLS: pipesmtpd-tls -----------------------------------------------
# README.Debian's steps as written: the package installed (ssl-cert is
# a dependency), the snakeoil pair made, the plain socket disabled and the TLS one
# enabled, swaks --tls delivered with the package's settings (section 2's,
# put back here) through the installed TLS unit as systemd runs it
configure "$tmp/settings.2"
commands 7 > "$tmp/steps.7"
if [ "$(wc -l < "$tmp/steps.7")" = 5 ] &&
    [ "$(sed -n 1p "$tmp/steps.7")" = 'apt-get install ./pipesmtpd-tls_*.deb' ] &&
    [ "$(ls "$tmp/build"/pipesmtpd-tls_*.deb)" = "$tlsdeb" ]; then
	pass "README.Debian 7: five command lines, the first installs ${tlsdeb##*/}"
else
	fail "README.Debian 7: its command lines"
	cat "$tmp/steps.7"
fi
sed -n 1,4p "$tmp/steps.7" > "$tmp/steps.7a"
while IFS= read -r l; do
	if step "$l"; then
		pass "README.Debian 7: # $l"
	else
		fail "README.Debian 7: # $l"
		cat "$tmp/step.out"
	fi
done < "$tmp/steps.7a"
dpkg -L pipesmtpd-tls > "$tmp/files.tls"
cat "$tmp/files.tls" >> "$tmp/files"
if [ "$(systemctl is-enabled pipesmtpd-tls.socket 2>/dev/null)" = enabled ] &&
    [ "$(systemctl is-enabled pipesmtpd.socket 2>/dev/null)" = disabled ] &&
    [ -x /usr/lib/pipesmtpd/s6-ucspitlsd ] && [ -x /usr/lib/pipesmtpd/s6-tlsd-io ] &&
    [ -L /usr/share/doc/pipesmtpd-tls ] &&
    [ -s "$snakeoil_cert" ] && [ -s "$snakeoil_key" ]; then
	pass "README.Debian 7: pipesmtpd-tls.socket enabled, pipesmtpd.socket disabled, the launcher in /usr/lib/pipesmtpd, the snakeoil pair made"
else
	fail "README.Debian 7: state after the steps"
	ls -l /usr/lib/pipesmtpd "$snakeoil_cert" "$snakeoil_key"
fi
if (cd /lib/systemd/system && timeout 60 systemd-analyze verify --man=no \
    pipesmtpd-tls.socket pipesmtpd-tls@.service) > "$tmp/verify.out" 2>&1 &&
    [ ! -s "$tmp/verify.out" ]; then
	pass "systemd-analyze verify: the installed STARTTLS units"
else
	fail "systemd-analyze verify (TLS units)"
	cat "$tmp/verify.out"
fi
# the conffile names README.Debian's snakeoil pair
section 7 | sed -n 's/^    \(\(CERT\|KEY\)FILE=.*snakeoil.*\)/\1/p' > "$tmp/tls.doc"
grep '^\(CERT\|KEY\)FILE=' /etc/default/pipesmtpd-tls > "$tmp/tls.conf"
if [ "$(wc -l < "$tmp/tls.doc")" = 2 ] && cmp -s "$tmp/tls.doc" "$tmp/tls.conf" &&
    grep -q "^CERTFILE=$snakeoil_cert\$" "$tmp/tls.conf" &&
    grep -q "^KEYFILE=$snakeoil_key\$" "$tmp/tls.conf"; then
	pass "/etc/default/pipesmtpd-tls sets what README.Debian 7 says: $(tr '\n' ' ' < "$tmp/tls.conf")"
else
	fail "/etc/default/pipesmtpd-tls and README.Debian 7 differ"
	cat "$tmp/tls.doc" "$tmp/tls.conf"
fi
# the engine's account: a system account no recipient can be
eng_uid=$(id -u _pipesmtpd-tls 2>/dev/null)
eng_gid=$(id -g _pipesmtpd-tls 2>/dev/null)
if [ -n "$eng_uid" ] && [ "$eng_uid" -gt 0 ] && [ "$eng_uid" -lt 1000 ] &&
    [ "$(getent passwd _pipesmtpd-tls | cut -d: -f6,7)" = /nonexistent:/usr/sbin/nologin ] &&
    [ "$(grep -v '^#' /var/lib/pipesmtpd-tls/engine-account)" = "$(printf 'TLS_UID=%s\nTLS_GID=%s' "$eng_uid" "$eng_gid")" ]; then
	pass "postinst made the system account _pipesmtpd-tls (uid $eng_uid, /nonexistent, nologin) and wrote its ids for the unit"
else
	fail "the engine account: $(getent passwd _pipesmtpd-tls); $(cat /var/lib/pipesmtpd-tls/engine-account 2>&1)"
fi

unit=pipesmtpd-tls@.service
if start_socket tls; then
	pass "pipesmtpd-tls.socket as systemd runs it, on port $sock_port"
else
	fail "the TLS socket did not start"
	finish
fi
sizes=$(cat /var/mail/root /var/mail/alice 2>/dev/null | wc -c)
line=$(sed -n 5p "$tmp/steps.7")
case $line in
swaks*' --tls'*)
	step "$line"
	cp "$tmp/step.out" "$tmp/tls.out"
	cat /var/mail/root /var/mail/alice 2>/dev/null |
		tail -c +"$((sizes + 1))" > "$tmp/tls.new"
	if grep -q '^=== TLS started with cipher TLSv1\.3:' "$tmp/tls.out" &&
	    grep -q '^ ~> MAIL FROM:' "$tmp/tls.out" &&
	    grep -q '^<~  250 2\.0\.0' "$tmp/tls.out" &&
	    grep -q '^	(using TLSv1\.3 with cipher [A-Z0-9_]*)$' "$tmp/tls.new" &&
	    grep -q '^	by mail\.example\.org (pipesmtpd) with ESMTPS id ' "$tmp/tls.new" &&
	    grep -q '^To: postmaster@example\.org$' "$tmp/tls.new"; then
		pass "README.Debian 7: # $line: TLS 1.3, 250 inside TLS, delivered with $(grep -o 'using TLSv1.3 with cipher [A-Z0-9_]*' "$tmp/tls.new")"
	else
		fail "README.Debian 7: # $line"
		cat "$tmp/tls.out" "$tmp/tls.log" "$tmp/tls.new"
	fi ;;
*) fail "README.Debian 7: no swaks --tls: $line" ;;
esac
stop_socket

# ---- the engine is out of the delivery commands' reach ---------------------
# An --as-recipient command runs as alice while another session's engine
# holds its TLS: signals, /proc/PID/environ and mem, ptrace all fail with
# EPERM or EACCES.  Control: with the engine as alice (the old examples'
# shared account, nobody, in miniature) the same probe signals it (the
# engine gave up root, so the kernel keeps /proc and ptrace from its own
# uid too: signals are what a shared account exposes).
probe_dir=/var/mail/pipesmtpd-probe
mkdir -m 755 "$probe_dir" && chown alice "$probe_dir"
cat > "$probe_dir/probe.py" <<'PY'
import ctypes, errno, os, signal, sys
sys.stdin.buffer.read()
d = os.path.dirname(os.path.abspath(__file__))
pid = int(open(os.path.join(d, "pid")).read())
out = ["uid %d" % os.getuid()]
libc = ctypes.CDLL(None, use_errno=True)

def probe(name, f):
    try:
        f()
        out.append(name + " ok")
    except OSError as e:
        out.append(name + " " + errno.errorcode[e.errno])

def attach():
    if libc.ptrace(16, pid, None, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, None, None)

probe("kill0", lambda: os.kill(pid, 0))
probe("environ", lambda: open("/proc/%d/environ" % pid, "rb").read())
probe("mem", lambda: open("/proc/%d/mem" % pid, "rb").close())
if sys.argv[1:] == ["all"]:
    probe("ptrace", attach)
    probe("kill", lambda: os.kill(pid, signal.SIGTERM))
with open(os.path.join(d, "result"), "w") as f:
    f.write("\n".join(out) + "\n")
PY
chmod 644 "$probe_dir/probe.py"
cat > "$tmp/holder.py" <<'PY'
import socket, ssl, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            return l
reply()
for c in (b"EHLO holder.test\r\n", b"STARTTLS\r\n"):
    s.sendall(c)
    reply()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
t = ctx.wrap_socket(s)
time.sleep(float(sys.argv[2]))
PY
cat > "$tmp/settings.probe" <<'CONF'
PIPESMTPD_OPTIONS='--hostname mail.example.org --domain example.org --as-recipient --postmaster alice'
PIPESMTPD_COMMAND='/usr/bin/python3 /var/mail/pipesmtpd-probe/probe.py %e'
CONF
# probe_settings ARG - the conffile for a probe: --as-recipient, the
# probe as the command (ARG: "all" adds ptrace and SIGTERM)
probe_settings() {
	sed "s/%e/$1/" "$tmp/settings.probe" > "$tmp/settings.probe.$1"
	configure "$tmp/settings.probe.$1"
}
# probe_engine WHAT USER - a STARTTLS session held open, its engine (the
# only s6-tlsd-io running as USER) found; then a delivery inside TLS to
# alice, whose command probes that engine; the probe's findings in
# $tmp/WHAT.result
probe_engine() {
	rm -f "$probe_dir/result" "$probe_dir/pid"
	spawn timeout 60 python3 "$tmp/holder.py" "$sock_port" 50
	holder=$!
	i=0
	engine=''
	while [ -z "$engine" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		engine=$(pgrep -u "$2" -x s6-tlsd-io | head -n 1)
		i=$((i + 1))
	done
	if [ -z "$engine" ]; then
		fail "$1: no s6-tlsd-io running as $2 for the held session"
		kill "$holder" 2>/dev/null
		return 1
	fi
	echo "$engine" > "$probe_dir/pid"
	smtp "$1" --tls --from sender@example.net --to alice@example.org
	cp "$probe_dir/result" "$tmp/$1.result" 2>/dev/null
	tr '\n' ' ' < "$tmp/$1.result" > "$tmp/$1.line" 2>/dev/null
	kill -0 "$engine" 2>/dev/null && echo alive > "$tmp/$1.alive"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	return 0
}
cp /var/lib/pipesmtpd-tls/engine-account "$tmp/engine-account"
printf 'TLS_UID=%s\nTLS_GID=%s\n' "$(id -u alice)" "$(id -g alice)" \
	> /var/lib/pipesmtpd-tls/engine-account
probe_settings none
if start_socket control && probe_engine control alice &&
    grep -q "^uid $(id -u alice) kill0 ok " "$tmp/control.line"; then
	pass "control, the engine as alice: alice's command reaches it: $(cat "$tmp/control.line")"
else
	fail "control: $(cat "$tmp/control.line" 2>/dev/null)"
	cat "$tmp/control.out" "$tmp/control.log"
fi
stop_socket
cp "$tmp/engine-account" /var/lib/pipesmtpd-tls/engine-account
probe_settings all
if start_socket isolated && probe_engine isolated _pipesmtpd-tls &&
    [ "$(cat "$tmp/isolated.line")" = "uid $(id -u alice) kill0 EPERM environ EACCES mem EACCES ptrace EPERM kill EPERM " ] &&
    [ -s "$tmp/isolated.alive" ] &&
    grep -q '^<~  250 2\.0\.0' "$tmp/isolated.out"; then
	pass "the engine as _pipesmtpd-tls: alice's --as-recipient command cannot reach another session's engine: $(cat "$tmp/isolated.line")(the engine still runs)"
else
	fail "engine isolation: $(cat "$tmp/isolated.line" 2>/dev/null)"
	cat "$tmp/isolated.out" "$tmp/isolated.log"
fi
smtp sysacct --quit-after RCPT --to _pipesmtpd-tls@example.org
if grep -q '^<\*\* 550 5\.1\.1 ' "$tmp/sysacct.out"; then
	pass "mail for _pipesmtpd-tls@ is refused at RCPT (550 5.1.1): no command runs as the engine's account"
else
	fail "RCPT to _pipesmtpd-tls@"
	cat "$tmp/sysacct.out"
fi
stop_socket
rm -rf "$probe_dir"
configure "$tmp/settings.2"

# ---- 8. stop and remove -------------------------------------------------------
steps 8 4
if ! dpkg-query -W -f '${Status}\n' pipesmtpd pipesmtpd-tls 2>/dev/null |
	grep -q 'installed\|config-files'; then
	pass "both packages purged"
else
	fail "pipesmtpd or pipesmtpd-tls is still installed"
fi
if cmp -s "$tmp/aliases.before" /etc/aliases; then
	pass "the purge left /etc/aliases as it was"
else
	fail "/etc/aliases after the purge"
	ls -l /etc/aliases
fi
left=
while read -r f; do
	# directories shared with other packages stay
	[ -d "$f" ] && [ -n "$(ls -A "$f" 2>/dev/null)" ] && continue
	[ -e "$f" ] && left="$left $f"
done < "$tmp/files"
for f in /etc/default/pipesmtpd /usr/share/doc/pipesmtpd "$dropin" \
    /etc/default/pipesmtpd-tls /var/lib/pipesmtpd-tls /usr/lib/pipesmtpd \
    /usr/share/doc/pipesmtpd-tls \
    /usr/local/bin/deliver-mail \
    $(find /etc/systemd /var/lib/systemd /lib/systemd -name '*pipesmtpd*' 2>/dev/null); do
	[ -e "$f" ] && left="$left $f"
done
if [ -z "$left" ]; then
	pass "nothing left: no file of the package, no conffile, no unit, no drop-in, no systemd state"
else
	fail "left after purge:$left"
fi

finish

#!/bin/sh
# deploy_install.sh - make install / make uninstall into temporary DESTDIRs.
#
# What it proves: "make install DESTDIR=D PREFIX=/usr/local" installs
# exactly the binary (mode 755) in $PREFIX/sbin, the man page (644) in
# $PREFIX/share/man/man8, README.md (644, identical) in
# $PREFIX/share/doc/pipesmtpd, the guides doc/*.md (644, identical) in its
# doc/ and every file of examples/, subdirectories included (644,
# identical), in its examples/, and nothing else (the list is printed);
# every relative link of the installed README.md and guides names an
# installed file (and a heading there, for a #anchor), but the man page
# (installed in man8) and third_party/ (never installed); the installed
# binary runs and the installed man page renders
# with man and passes "mandoc -Tlint" without a message; "make uninstall"
# with the same variables leaves no file behind (only the generic
# directories install created, listed); SBINDIR, MANDIR and DOCDIR given
# on the command line are honoured by both targets.
#
# Needs make, mandoc, man-db.  Prints "deploy-install: N passed, M failed"
# last.

cd "$(dirname "$0")/.." || exit 1
NAME=install
. tests/deploylib.sh

need mandoc mandoc || finish
need man man-db || finish

# ---- the man page source ------------------------------------------------
if timeout 30 mandoc -Tlint pipesmtpd.8 > "$tmp/lint.out" 2>&1 &&
    [ ! -s "$tmp/lint.out" ]; then
	pass "mandoc -Tlint pipesmtpd.8: no messages"
else
	fail "mandoc -Tlint pipesmtpd.8"
	cat "$tmp/lint.out"
fi

# listing DIR - every file and symbolic link under DIR, with its mode,
# relative to DIR, sorted
listing() {
	(cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | sort -k 2)
}

# ---- the default layout -------------------------------------------------
d=$tmp/dest
if timeout 300 make -s install DESTDIR="$d" PREFIX=/usr/local \
	> "$tmp/install.out" 2>&1; then
	pass "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install"
	cat "$tmp/install.out"
	finish
fi
{
	echo "755 usr/local/sbin/pipesmtpd"
	echo "644 usr/local/share/man/man8/pipesmtpd.8"
	for f in README.md doc/*.md; do
		echo "644 usr/local/share/doc/pipesmtpd/$f"
	done
	for f in $(find examples -type f); do
		echo "644 usr/local/share/doc/pipesmtpd/examples/${f#examples/}"
	done
} | sort -k 2 > "$tmp/want"
listing "$d" > "$tmp/got"
echo "# installed:"
sed 's/^/#   /' "$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then
	pass "exactly the binary, the man page, README.md, the $(ls doc/*.md | wc -l) guides and the $(find examples -type f | wc -l) example files, with their modes"
else
	fail "installed files differ from the expected list"
	diff "$tmp/want" "$tmp/got"
fi
ok=1
for f in $(find examples -type f); do
	cmp -s "$f" "$d/usr/local/share/doc/pipesmtpd/examples/${f#examples/}" || ok=0
done
for f in README.md doc/*.md; do
	cmp -s "$f" "$d/usr/local/share/doc/pipesmtpd/$f" || ok=0
done
cmp -s pipesmtpd.8 "$d/usr/local/share/man/man8/pipesmtpd.8" || ok=0
if [ "$ok" = 1 ]; then
	pass "installed man page, README.md, guides and examples identical to the sources"
else
	fail "an installed file differs from its source"
fi
installed_dead_links "$d/usr/local/share/doc/pipesmtpd" > "$tmp/dead"
grep '^#' "$tmp/dead"
grep -v '^#' "$tmp/dead" > "$tmp/dead.bad"
if [ ! -s "$tmp/dead.bad" ]; then
	pass "every relative link of the installed README.md and guides holds there"
else
	fail "links of the installed README.md and guides that name nothing:"
	cat "$tmp/dead.bad"
fi
if v=$("$d/usr/local/sbin/pipesmtpd" --version 2>&1) && [ -n "$v" ]; then
	pass "the installed binary runs: $v"
else
	fail "installed binary --version"
fi
if out=$(MANWIDTH=80 timeout 30 man -M "$d/usr/local/share/man" 8 pipesmtpd 2>"$tmp/man.err") &&
    printf '%s\n' "$out" | grep -q '^NAME' && [ ! -s "$tmp/man.err" ]; then
	pass "man -M DESTDIR/usr/local/share/man 8 pipesmtpd renders without warnings"
else
	fail "man of the installed page"
	cat "$tmp/man.err"
fi
if timeout 30 mandoc -Tlint "$d/usr/local/share/man/man8/pipesmtpd.8" \
    > "$tmp/lint2.out" 2>&1 && [ ! -s "$tmp/lint2.out" ]; then
	pass "mandoc -Tlint of the installed page: no messages"
else
	fail "mandoc -Tlint installed page"
	cat "$tmp/lint2.out"
fi

if timeout 60 make -s uninstall DESTDIR="$d" PREFIX=/usr/local \
	> "$tmp/uninstall.out" 2>&1; then
	pass "make uninstall DESTDIR=... PREFIX=/usr/local"
else
	fail "make uninstall"
	cat "$tmp/uninstall.out"
fi
left=$(listing "$d")
if [ -z "$left" ]; then
	pass "nothing installed is left after make uninstall"
else
	fail "left after uninstall: $left"
fi
echo "# directories left (shared, created by install -d):"
(cd "$d" && find . -mindepth 1 -type d -printf '#   %P\n' | sort)
if [ ! -e "$d/usr/local/share/doc/pipesmtpd" ]; then
	pass "the pipesmtpd doc directory is removed"
else
	fail "share/doc/pipesmtpd still there"
fi

# ---- every directory variable on the command line ----------------------
d=$tmp/dest2
vars="PREFIX=/opt/psm SBINDIR=/opt/psm/libexec MANDIR=/opt/psm/man DOCDIR=/opt/psm/doc"
# shellcheck disable=SC2086 # $vars is a list of assignments
if timeout 300 make -s install DESTDIR="$d" $vars > "$tmp/install2.out" 2>&1 &&
    [ "$(listing "$d" | grep -c .)" = $(($(find examples -type f | wc -l) + $(ls doc/*.md | wc -l) + 3)) ] &&
    [ -x "$d/opt/psm/libexec/pipesmtpd" ] &&
    [ -f "$d/opt/psm/man/man8/pipesmtpd.8" ] &&
    [ -f "$d/opt/psm/doc/README.md" ] &&
    [ -f "$d/opt/psm/doc/doc/starttls.md" ] &&
    [ -f "$d/opt/psm/doc/examples/xinetd.conf" ]; then
	pass "install honours SBINDIR, MANDIR and DOCDIR"
else
	fail "install with $vars"
	listing "$d"
	cat "$tmp/install2.out"
fi
# shellcheck disable=SC2086
if timeout 60 make -s uninstall DESTDIR="$d" $vars > "$tmp/uninstall2.out" 2>&1 &&
    [ -z "$(listing "$d")" ]; then
	pass "uninstall with the same variables leaves no file"
else
	fail "uninstall with $vars"
	listing "$d"
fi

finish

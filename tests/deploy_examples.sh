#!/bin/sh
# deploy_examples.sh - every file in examples/ is exercised by some test.
#
# What it proves: each example file is named (as examples/NAME) by at
# least one other tests/*.sh script, or is run or checked here; every
# pipesmtpd option written in any example exists (it appears in
# "pipesmtpd --help"); placeholders in systemd units are written %%; the
# shell scripts parse (sh -n) and demo.sh runs and delivers; the
# inetd.conf line has the seven fields; xinetd.conf has the attributes
# xinetd needs for a stream service; the MTA snippets (.txt) still carry
# their key lines; systemd-analyze verify accepts every unit.  Every
# procmail command line in README.md, the guides doc/*.md, pipesmtpd.8,
# debian/README.Debian, debian/pipesmtpd.default and examples/ is
# "procmail -f %s -d %u" (the envelope sender on its From_ line) with
# --null-sender MAILER-DAEMON in the options that go with it (or <> would
# leave an empty field there); every relative link in README.md and the
# guides names a file of the tree (and a heading there, for a #anchor);
# the package's unit sandboxes the file system as the example does.
#
# Needs swaks (demo.sh), systemd (systemd-analyze).  Prints
# "deploy-examples: N passed, M failed" last.

cd "$(dirname "$0")/.." || exit 1
NAME=examples
. tests/deploylib.sh

# ---- who uses what ----------------------------------------------------
for f in $(find examples -type f | sort); do
	users=$(grep -l -F "$f" tests/*.sh | grep -v 'tests/deploy_examples\.sh' |
		tr '\n' ' ')
	if [ -n "$users" ]; then
		pass "$f: used by $users"
	else
		case $f in
		examples/demo.sh) echo "# $f: run below" ;;
		*) fail "$f: no test uses it" ;;
		esac
	fi
done

# ---- every option written in an example is one pipesmtpd knows --------
"$bin" --help > "$tmp/help" 2>&1
for f in $(find examples -type f | sort); do
	# every --word on a line that is not a comment, before any " -- "
	# (what follows is the delivery command) but the one that ends the
	# options of an s6-ucspitlsd in front; swaks's own in demo.sh aside
	opts=$(grep -v '^[ 	]*#' "$f" |
		sed -e 's/s6-ucspitlsd[-A-Za-z0-9 ]* -- //' -e 's/ -- .*//' |
		grep -o -- '--[a-z][a-z-]*' |
		grep -v -x -- '--pipe\|--to\|--from\|--header\|--body' | sort -u)
	bad=
	for o in $opts; do
		grep -q -- "^  $o\( \|,\|$\)\|, $o\( \|$\)" "$tmp/help" || bad="$bad $o"
	done
	if [ -z "$bad" ]; then
		[ -n "$opts" ] && pass "$f: options known to pipesmtpd: $(echo $opts)"
	else
		fail "$f: unknown options:$bad"
	fi
done

# ---- systemd units -------------------------------------------------------
for f in examples/*.service; do
	if grep '^ExecStart=' "$f" | sed 's/%%//g' | grep -q '%'; then
		fail "$f: single % in ExecStart"
	else
		pass "$f: placeholders written %%"
	fi
done
if need systemd-analyze systemd; then
	mkdir "$tmp/units"
	cp examples/*.socket "$tmp/units/"
	for f in examples/*.service; do
		sed "s#^ExecStart=[^ ]*#ExecStart=$bin#" "$f" > "$tmp/units/${f#examples/}"
	done
	if (cd "$tmp/units" && timeout 60 systemd-analyze verify --man=no ./*) \
	    > "$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
		pass "systemd-analyze verify: all $(ls "$tmp/units" | wc -l) units"
	else
		fail "systemd-analyze verify"
		cat "$tmp/verify.out"
	fi
fi

# ---- shell scripts -----------------------------------------------------
for f in examples/*.sh examples/*.run examples/deliver-mail; do
	if timeout 10 sh -n "$f"; then
		pass "$f: sh -n"
	else
		fail "$f: sh -n"
	fi
done
if need swaks swaks; then
	if timeout 60 sh examples/demo.sh > "$tmp/demo.out" 2>&1 &&
	    grep -q '^== delivery command.s stdin' "$tmp/demo.out" &&
	    grep -q '^RECIPIENT=alice@demo.test$' "$tmp/demo.out" &&
	    grep -q '^<-  250 2\.0\.0' "$tmp/demo.out"; then
		pass "examples/demo.sh runs and delivers"
	else
		fail "examples/demo.sh"
		cat "$tmp/demo.out"
	fi
fi

# ---- inetd.conf and xinetd.conf ------------------------------------------
n=$(grep -v '^#' examples/inetd.conf | grep -c .)
fields=$(grep -v '^#' examples/inetd.conf | grep . | awk '{ print NF }')
if [ "$n" = 1 ] && [ "$fields" -ge 7 ] &&
    grep -v '^#' examples/inetd.conf | grep -q "$(printf '^smtp\tstream\ttcp\tnowait\troot\t/[^\t]*pipesmtpd\tpipesmtpd ')"; then
	pass "examples/inetd.conf: one line, service/socket/proto/wait/user/program/argv"
else
	fail "examples/inetd.conf format"
fi
ok=1
for a in socket_type protocol wait user server server_args; do
	grep -q "^[ 	]*${a}[ 	]*=" examples/xinetd.conf || ok=0
done
grep -q '^[ 	]*wait[ 	]*= no$' examples/xinetd.conf || ok=0
grep -q '^service smtp$' examples/xinetd.conf || ok=0
if [ "$ok" = 1 ]; then
	pass "examples/xinetd.conf: service smtp with wait = no and the required attributes"
else
	fail "examples/xinetd.conf attributes"
fi

# ---- procmail: the envelope sender, MAILER-DAEMON for <> ---------------
# A command line is joined across backslash-newlines (and, in the man
# page, indented "--" lines); its options are the same line's, or for a
# PIPESMTPD_COMMAND= line the nearest PIPESMTPD_OPTIONS= line above it.
# shellcheck disable=SC2046 # one word per file name
timeout 30 python3 - README.md doc/*.md pipesmtpd.8 debian/README.Debian \
    debian/pipesmtpd.default $(find examples -type f | sort) \
    > "$tmp/procmail.out" <<'EOF'
import re, sys
for f in sys.argv[1:]:
    t = open(f, errors="replace").read()
    t = t.replace("\\-", "-").replace("\\e\n", " ").replace("\\\n", " ")
    if f.endswith(".8"):
        t = re.sub(r"\n(?= +--)", " ", t)
    for m in re.finditer(r"/usr/bin/procmail\b[^\n]*", t):
        start = t.rfind("\n", 0, m.start()) + 1
        line = t[start:m.end()]
        if "PIPESMTPD_COMMAND=" in line:
            opts = re.findall(r"PIPESMTPD_OPTIONS='[^'\n]*'", t[:start])
            ctx = opts[-1] if opts else ""
        else:
            ctx = line
        ok = re.match(r"/usr/bin/procmail -f (%%|%)s -d (%%|%)u\b", m.group(0))
        ok = ok and "--null-sender MAILER-DAEMON" in ctx
        print("%s %s: %s" % ("ok" if ok else "BAD", f, line.strip()))
EOF
if grep -q '^BAD ' "$tmp/procmail.out"; then
	fail "procmail command lines without -f %s or --null-sender MAILER-DAEMON:"
	grep '^BAD ' "$tmp/procmail.out"
elif [ "$(grep -c '^ok ' "$tmp/procmail.out")" -ge 10 ]; then
	pass "all $(grep -c '^ok ' "$tmp/procmail.out") procmail command lines: -f %s -d %u, --null-sender MAILER-DAEMON"
else
	fail "fewer procmail command lines found than are written"
	cat "$tmp/procmail.out"
fi

# ---- the README's and the guides' links ----------------------------------
dead_links . README.md doc/*.md > "$tmp/dead" ||
	echo "dead_links failed" >> "$tmp/dead"
if [ ! -s "$tmp/dead" ]; then
	pass "every relative link in README.md and $(ls doc/*.md | wc -l) guides names a file (and a heading)"
else
	fail "links in README.md and the guides that name nothing:"
	cat "$tmp/dead"
fi

# ---- the package's unit sandboxes the file system as the example does --
sandbox() {
	grep -E '^(ProtectSystem|ProtectHome|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|PrivateTmp|NoNewPrivileges)=' "$1"
}
sandbox debian/pipesmtpd@.service > "$tmp/sandbox.deb"
sandbox examples/pipesmtpd@.service > "$tmp/sandbox.ex"
if [ -s "$tmp/sandbox.deb" ] && cmp -s "$tmp/sandbox.deb" "$tmp/sandbox.ex"; then
	pass "debian/pipesmtpd@.service and examples/pipesmtpd@.service: the same file-system sandbox"
else
	fail "the two units' file-system sandboxes differ"
	diff -u "$tmp/sandbox.ex" "$tmp/sandbox.deb"
fi

# ---- MTA snippets ----------------------------------------------------------
check_lines() {
	f=$1
	shift
	for l in "$@"; do
		grep -q -F -- "$l" "$f" || { fail "$f: no line '$l'"; return; }
	done
	pass "$f: key lines present"
}
check_lines examples/postfix-lmtp.txt \
	'mailbox_transport = lmtp:unix:/run/pipesmtpd/lmtp.sock' \
	'lmtp_destination_recipient_limit'
check_lines examples/exim-lmtp.txt 'driver = lmtp' \
	'socket = /run/pipesmtpd/lmtp.sock' 'transport = pipesmtpd_lmtp'
check_lines examples/exim-prdr.txt 'driver = smtp' 'hosts_try_prdr = *' \
	'route_list = * 127.0.0.1::2525'

finish

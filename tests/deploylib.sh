# deploylib.sh - shared by tests/deploy_*.sh; sourced, never run.
#
# The caller sets NAME (the suite name in "deploy-NAME: N passed, M
# failed") and then sources this file from the repository root.  On top
# of tests/scriptlib.sh (pass/fail/finish, tmp, spawn, free_port, bin)
# it gives:
#   need TOOL PACKAGE  a missing tool is a failure naming the Debian
#                      package; with PIPESMTPD_DEV=1 a SKIP instead, and the
#                      suite ends there (exit 0)
#   wait_port PORT     wait (at most 10 s) until something listens there
#   wait_file FILE     wait (at most 20 s) until FILE exists and is not empty
#   add_user NAME HOME a throwaway account, deleted on exit
#   install_root       make install DESTDIR=$tmp/root PREFIX=/usr/local;
#                      sets ibin to the installed binary
#   dead_links ROOT FILE...
#                      the relative Markdown links in each FILE (a path
#                      under ROOT) that name nothing there, or a #anchor
#                      no heading of the named .md file makes: one line
#                      "FILE TARGET" each, TARGET relative to ROOT
#   installed_dead_links DOCDIR
#                      dead_links of README.md and doc/*.md installed in
#                      DOCDIR, but those to the man page (installed in
#                      man8) and third_party/ (never installed), which it
#                      lists as comments; "dead_links failed" if it did
# Everything runs under timeout; only loopback addresses are used.

SUITE=deploy-$NAME
. tests/scriptlib.sh

users=
# shellcheck disable=SC2317 # called from the EXIT trap
deploy_cleanup() {
	for u in $users; do
		userdel "$u" >/dev/null 2>&1
		rm -f "/var/mail/$u" "/var/mail/$u.lock"
	done
	if [ -n "$tmp" ]; then
		# a tmpfs a test mounted for a full-disk case
		for m in "$tmp"/mnt-*; do
			[ -d "$m" ] && umount "$m" 2>/dev/null
		done
		# a network namespace a test kept in a file
		for m in "$tmp"/netns-*; do
			[ -f "$m" ] && umount "$m" 2>/dev/null
		done
	fi
}
cleanup_hook=deploy_cleanup

# need TOOL PACKAGE - TOOL (a command name or an absolute path) must exist
need() {
	if [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; then
		return 0
	fi
	if [ "${PIPESMTPD_DEV:-}" = 1 ]; then
		echo "SKIP - $1 is not installed (Debian package: $2)"
		skipped="$skipped $2"
		return 1
	fi
	fail "$1 is not installed (apt-get install $2)"
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	fail "the deploy tests need root (launchers bind, drop privileges, add users)"
	finish
fi
for t in timeout python3 make; do
	need "$t" "$t" || finish
done

make_tmp "pipesmtpd-deploy-$NAME"
case $tmp in
*[!A-Za-z0-9/._-]*) fail "temporary directory name $tmp has odd characters"; finish ;;
esac
build_bin

wait_port() {
	timeout 10 python3 - "$1" <<'EOF'
import socket, sys, time
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        break
    except OSError:
        time.sleep(0.1)
EOF
}

# per_source PORT N [WRAPPER...] - the per-source limit of the launcher
# on 127.0.0.1:PORT: N sessions from 127.0.0.1 each get their greeting
# and stay open; the next one from 127.0.0.1 gets none; one from
# 127.0.0.2 still gets its greeting.  WRAPPER runs the client (nsenter
# into a network namespace).  Prints one line per step, "ok" or "FAIL".
per_source() {
	p=$1 n=$2
	shift 2
	"$@" timeout 60 python3 - "$p" "$n" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])

def session(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s

def greeting(s):
    got = b""
    try:
        while b"\r\n" not in got:
            b = s.recv(512)
            if not b:
                break
            got += b
    except OSError:
        pass
    return got.startswith(b"220 ")

held = [session("127.0.0.1") for _ in range(n)]
print("ok" if all(greeting(s) for s in held) else "FAIL",
      "%d sessions from 127.0.0.1 greeted" % n)
extra = None
try:
    extra = session("127.0.0.1")
    over = greeting(extra)
except OSError:
    over = False
print("FAIL" if over else "ok", "session %d from 127.0.0.1 not greeted" % (n + 1))
other = session("127.0.0.2")
print("ok" if greeting(other) else "FAIL",
      "a session from 127.0.0.2 greeted while 127.0.0.1 holds %d" % n)
for s in held + [other] + ([extra] if extra else []):
    s.close()
EOF
}

# per_source_ok PORT N WHAT [WRAPPER...] - per_source, each line a pass
# or a fail
per_source_ok() {
	p=$1 n=$2 what=$3
	shift 3
	per_source "$p" "$n" "$@" > "$tmp/per_source.out" 2>&1 ||
		fail "$what: the per-source client failed"
	while read -r verdict step; do
		case $verdict in
		ok) pass "$what: $step" ;;
		*) fail "$what: $verdict $step" ;;
		esac
	done < "$tmp/per_source.out"
}

wait_file() {
	i=0
	while [ ! -s "$1" ] && [ "$i" -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

add_user() {
	useradd -M -d "$2" -s /usr/sbin/nologin "$1" || return 1
	users="$users $1"
}

install_root() {
	timeout 300 make -s install DESTDIR="$tmp/root" PREFIX=/usr/local \
		>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; return 1; }
	ibin=$tmp/root/usr/local/sbin/pipesmtpd
	[ -x "$ibin" ]
}

# header FILE NAME - the first header NAME of the message in FILE (no
# continuation lines)
header() {
	sed -n "/^\$/q; s/^$2: //p" "$1" | head -n 1
}

# dead_links ROOT FILE... - see above; an anchor is a heading as GitHub
# makes it (lower case, punctuation dropped, blanks to hyphens)
dead_links() {
	(cd "$1" && shift && timeout 30 python3 - "$@") <<'EOF'
import os, re, sys

def text(path):
    t = open(path, errors="replace").read()
    t = re.sub(r"(?ms)^```.*?^```", "", t)
    return re.sub(r"`[^`\n]*`", "", t)

def anchors(path):
    found = set()
    for h in re.findall(r"(?m)^#+ +(.*)$", open(path).read()):
        s = re.sub(r"[^\w\- ]", "", h.strip().lower())
        found.add(s.replace(" ", "-"))
    return found

for f in sys.argv[1:]:
    for link in re.findall(r"\]\(([^)\s]+)\)", text(f)):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(f), path)) \
            if path else f
        ok = os.path.exists(target)
        if ok and anchor:
            ok = target.endswith(".md") and anchor in anchors(target)
        if not ok:
            print(f, target + ("#" + anchor if anchor else ""))
EOF
}

# installed_dead_links DOCDIR - see above
installed_dead_links() {
	if dead_links "$1" README.md doc/*.md > "$tmp/dead.all"; then
		grep ' \(pipesmtpd\.8\|third_party/.*\)$' "$tmp/dead.all" |
			sed 's/^/# a link to a file not installed beside it: /'
		grep -v ' \(pipesmtpd\.8\|third_party/.*\)$' "$tmp/dead.all"
	else
		echo "dead_links failed"
	fi
}

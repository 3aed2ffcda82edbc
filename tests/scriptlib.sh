# scriptlib.sh - shared by the test scripts (tests/interop*.sh directly,
# tests/deploy_*.sh through tests/deploylib.sh); sourced, never run.
#
# The caller cds to the repository root, sets SUITE (the name in the
# closing line "SUITE: N passed, M failed") and sources this file.  It
# gives:
#   pass/fail/finish    counting and the closing line
#   make_tmp NAME       tmp: a private temporary directory, removed on exit
#   spawn CMD...        start a launcher in the background, killed on exit
#   need_tools TOOL...  each on PATH, or a failure and the end
#   build_bin           ./pipesmtpd (made if missing); sets bin
#   free_port           a free TCP port on 127.0.0.1
#   listening PORT...   every PORT taken on 127.0.0.1 (probed by binding,
#                       so no session is started)
#   wait_until CMD...   run CMD until it succeeds, at most 10 s
#   outcome_command FILE  a delivery command by local part (below)
#   verify_lmtp_units   the example LMTP units pass systemd-analyze verify
#   strip FILE          a delivered message without pipesmtpd's headers
#   envof DIR N NAME    a variable of tests/recorder's run N in DIR
#   private_exim        spool and log for a private Exim; its main section
#                       and smtp transport options
# cleanup_hook, if set, names a command the exit trap runs after the
# launchers are gone and before tmp is removed; skipped, if set, lists
# the Debian packages a PIPESMTPD_DEV=1 run went without, and finish
# names them.  Only loopback addresses are used.

passed=0
failed=0
skipped=
# printf, not echo: a reason quoting a Python bytes value keeps its
# backslashes (dash's echo would turn \n into a line break)
pass() { passed=$((passed + 1)); printf 'ok - %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL - %s\n' "$*"; }
finish() {
	[ -n "$skipped" ] && echo "# SKIPPED (PIPESMTPD_DEV=1): install$skipped"
	echo "$SUITE: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

tmp=
pids=
cleanup_hook=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	[ -n "$cleanup_hook" ] && $cleanup_hook
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# make_tmp NAME - tmp, readable by every account (launchers and delivery
# commands may run as others)
make_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	chmod 755 "$tmp"
}

spawn() {
	"$@" &
	pids="$pids $!"
}

need_tools() {
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			fail "$tool is not installed"
			finish
		fi
	done
}

build_bin() {
	if [ ! -x ./pipesmtpd ]; then
		timeout 300 make pipesmtpd >/dev/null ||
			{ fail "make pipesmtpd"; finish; }
	fi
	bin=$(pwd)/pipesmtpd
}

free_port() {
	timeout 10 python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

listening() {
	timeout 10 python3 - "$@" <<'PY'
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", int(port)))
    except OSError:
        continue    # taken: the launcher listens
    sys.exit(1)
PY
}

wait_until() {
	i=0
	while [ "$i" -lt 100 ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# verify_lmtp_units - systemd-analyze verify works without a running
# systemd.  It insists that ExecStart's program exists, so it checks
# copies whose ExecStart names the binary just built; any message at all
# counts as a failure (unknown keys are only warned about).
verify_lmtp_units() {
	if ! command -v systemd-analyze >/dev/null 2>&1 ||
	    ! timeout 30 systemd-analyze --version >/dev/null 2>&1; then
		echo "# systemd-analyze not usable here: unit verification skipped"
		return
	fi
	mkdir "$tmp/units"
	cp examples/pipesmtpd-lmtp.socket "$tmp/units/"
	sed "s#^ExecStart=[^ ]*#ExecStart=$bin#" \
		examples/pipesmtpd-lmtp@.service \
		> "$tmp/units/pipesmtpd-lmtp@.service"
	if (cd "$tmp/units" && timeout 60 systemd-analyze verify --man=no \
	    ./pipesmtpd-lmtp.socket ./pipesmtpd-lmtp@.service) \
	    > "$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
		pass "systemd-analyze verify: example LMTP units"
	else
		fail "systemd-analyze verify: example LMTP units"
		cat "$tmp/verify.out"
	fi
}

# outcome_command FILE - FILE becomes a delivery command "FILE OUT LOCAL"
# that saves the message as OUT/LOCAL.eml and $RECIPIENT as OUT/LOCAL.rcpt
# and, by the local part, succeeds (ok*), fails temporarily (temp*, "4.2.2
# mailbox busy", exit 75) or permanently (perm*, exit 67)
outcome_command() {
	cat > "$1" <<'SH'
#!/bin/sh
out=$1 user=$2
cat > "$out/$user.eml" || exit 75
printf '%s\n' "$RECIPIENT" > "$out/$user.rcpt"
case $user in
ok*)	exit 0 ;;
temp*)	echo "4.2.2 mailbox busy"; exit 75 ;;
perm*)	exit 67 ;;
esac
exit 70
SH
	chmod 755 "$1"
}

# strip FILE - the delivered message without the headers pipesmtpd added
# (Return-Path, Delivered-To, the first Received and its continuations)
strip() {
	awk '
	!done && NR == 1 && /^Return-Path:/ { next }
	!done && /^Delivered-To:/ { next }
	!done && !seen && /^Received:/ { seen = 1; inrec = 1; next }
	inrec && /^[ \t]/ { next }
	{ inrec = 0; done = 1; print }
	' "$1"
}

# envof DIR N NAME - a variable in the environment of tests/recorder's
# run N in DIR
envof() {
	tr '\0' '\n' < "$1/$2/env" | sed -n "s/^$3=//p"
}

# private_exim - a private Exim (tests/interop_exim.sh says why it runs
# so): its spool and log directories in tmp, owned by the Exim user,
# whose name goes to exim_user (exim names the binary); exim_main, the
# main section of a configuration using them; exim_smtp, the options
# every smtp transport to a loopback pipesmtpd has (short timeouts).
# Fails (1) when the Exim user cannot be found.
# shellcheck disable=SC2154 # exim is the sourcing script's
private_exim() {
	mkdir "$tmp/spool" "$tmp/log" || return 1
	exim_user=$(printf 'spool_directory = %s\n' "$tmp/spool" \
		> "$tmp/probe.conf" &&
		timeout 30 "$exim" -C "$tmp/probe.conf" -bP exim_user |
		sed -n 's/^exim_user = //p')
	[ -n "$exim_user" ] && chown "$exim_user" "$tmp/spool" "$tmp/log" ||
		return 1
	# shellcheck disable=SC2034 # for the sourcing script
	exim_main="primary_hostname = exim.test
qualify_domain = example.org
spool_directory = $tmp/spool
log_file_path = $tmp/log/%slog
deliver_drop_privilege = true
keep_environment ="
	# shellcheck disable=SC2034 # for the sourcing script
	exim_smtp="  driver = smtp
  allow_localhost
  connect_timeout = 10s
  command_timeout = 30s
  data_timeout = 30s
  final_timeout = 60s"
}

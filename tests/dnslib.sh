# dnslib.sh - a private DNS for the deploy tests: Debian's dnsmasq on a
# loopback address, answering only from the zone data the test gives, and
# a way to run commands that see it as their only resolver.  Sourced after
# tests/deploylib.sh (tmp, spawn, pids, need), never run.
#
# The test first describes its zones, then starts the server:
#   dns_a NAME ADDRESS    an A record (AAAA for an IPv6 ADDRESS) and its PTR
#   dns_txt NAME TEXT     a TXT record (SPF, DKIM keys, DNSBL reasons); TEXT
#                         is split into strings of 255 bytes at most
#   dns_mx NAME HOST PREF an MX record
#   dns_listed ZONE IP [TEXT]
#                         a DNSBL entry: IP (IPv4, or IPv6 in nibble form)
#                         reversed under ZONE answers A 127.0.0.2 and TXT
#                         TEXT (rblsmtpd reads the TXT, others the A)
#   dns_zone DOMAIN       names under DOMAIN that were not given are
#                         NXDOMAIN (an authoritative answer, not a failure)
#   dns_broken DOMAIN     every query under DOMAIN fails (SERVFAIL): its
#                         server is a closed port on the DNS address
#   dns_start             start dnsmasq on 53 of a free 127.0.53.N
#                         (dns_ip), logging every query to $tmp/dns/log
#   dns_bind FILE TARGET  also bind-mount FILE over TARGET in dns_run's
#                         namespace (a program's config file, say)
#   dns_run SECONDS CMD...
#                         exec CMD, killed after SECONDS, in a private
#                         mount namespace whose /etc/resolv.conf names
#                         only dns_ip and whose nsswitch.conf looks up
#                         hosts in files and DNS only; for spawn, or in a
#                         subshell
#   dns_stop              stop the server (a DNS outage)
#   dns_queried NAME TYPE the server's log shows a TYPE query for NAME
# Names outside the zones given are refused: dnsmasq runs with no
# upstream server and no /etc/hosts, so nothing leaves the host.
#
# Port 53 is fixed: the first dns_start takes /tmp/pipesmtpd-deploy.lock
# (flock; skipped when PIPESMTPD_DEPLOY_LOCKED is set, for a caller that
# holds it already).

dns_dir=
dns_ip=
dns_pid=
dns_binds=

# dns_conf - the zone file, made on first use
dns_conf() {
	if [ -z "$dns_dir" ]; then
		dns_dir=$tmp/dns
		mkdir "$dns_dir" && : > "$dns_dir/zone.conf" || return 1
	fi
	printf '%s\n' "$@" >> "$dns_dir/zone.conf"
}

dns_a() {
	dns_conf "host-record=$1,$2"
}

# dns_txt NAME TEXT - TEXT in quoted strings of at most 255 bytes (a
# DKIM key is longer than one); TEXT must not hold a double quote
dns_txt() {
	dns_conf "txt-record=$1,$(printf '%s' "$2" | fold -b -w 255 |
		sed 's/.*/"&"/' | paste -s -d ,)"
}

dns_mx() {
	dns_conf "mx-host=$1,$2,$3"
}

dns_zone() {
	dns_conf "local=/$1/"
}

# dns_reversed IP - IP's DNSBL name: IPv4 octets or IPv6 nibbles reversed
dns_reversed() {
	timeout 10 python3 -c 'import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
print(a.reverse_pointer.rsplit(".", 2)[0])' "$1"
}

dns_listed() {
	name=$(dns_reversed "$2").$1 || return 1
	dns_conf "address=/$name/127.0.0.2"
	dns_txt "$name" "${3:-listed}"
}

dns_broken() {
	dns_conf "#broken: $1"
}

# dns_address - a 127.0.53.N whose port 53 is free for UDP and TCP
dns_address() {
	timeout 10 python3 - <<'PY'
import socket, sys
for n in range(2, 60):
    ip = "127.0.53.%d" % n
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind((ip, 53))
            s.close()
    except OSError:
        continue
    print(ip)
    sys.exit(0)
sys.exit(1)
PY
}

# dns_lock - the fixed port's lock; held until the test exits
dns_lock() {
	[ -n "${PIPESMTPD_DEPLOY_LOCKED:-}" ] && return 0
	exec 9>>/tmp/pipesmtpd-deploy.lock || return 1
	timeout 900 flock 9 || return 1
	PIPESMTPD_DEPLOY_LOCKED=1
	export PIPESMTPD_DEPLOY_LOCKED
}

# dns_files - resolv.conf naming dns_ip only (short timeouts: a failure
# shows in seconds) and the machine's nsswitch.conf with hosts in files
# and DNS only (no nscd, resolved or mDNS answering instead)
dns_files() {
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$dns_ip" \
		> "$dns_dir/resolv.conf" &&
	{ grep -v '^hosts:' /etc/nsswitch.conf 2>/dev/null
	  echo 'hosts: files dns'; } > "$dns_dir/nsswitch.conf" &&
	chmod 644 "$dns_dir/resolv.conf" "$dns_dir/nsswitch.conf"
}

dns_start() {
	need dnsmasq dnsmasq-base || return 1
	need unshare util-linux || return 1
	need flock util-linux || return 1
	dns_conf || return 1
	dns_lock || { fail "cannot take /tmp/pipesmtpd-deploy.lock"; return 1; }
	dns_ip=$(dns_address) ||
		{ fail "no free 127.0.53.N:53 for the DNS server"; return 1; }
	broken=$(sed -n "s|^#broken: \(.*\)|server=/\1/$dns_ip#1|p" \
		"$dns_dir/zone.conf")
	[ -z "$broken" ] || dns_conf "$broken" || return 1
	dns_files || return 1
	: > "$dns_dir/log"
	timeout 600 dnsmasq --keep-in-foreground --conf-file="$dns_dir/zone.conf" \
		--no-resolv --no-hosts --no-poll --bind-interfaces \
		--listen-address="$dns_ip" --port=53 --pid-file= \
		--user=root --group=root --log-queries \
		--log-facility="$dns_dir/log" 2> "$dns_dir/stderr" &
	dns_pid=$!
	pids="$pids $dns_pid"
	if ! wait_until grep -q 'started, version' "$dns_dir/log"; then
		fail "dnsmasq did not start"
		cat "$dns_dir/stderr" "$dns_dir/log"
		return 1
	fi
}

dns_bind() {
	dns_binds="$dns_binds $1 $2"
}

# dns_run SECONDS CMD... - see above; the mounts are made by a shell in
# the new namespace, which then execs CMD
dns_run() {
	secs=$1
	shift
	# shellcheck disable=SC2016 # the inner sh expands them
	exec timeout "$secs" unshare --mount sh -c '
		binds=$1 nargs=$2
		shift 2
		set -- $binds "$@"
		while [ "$nargs" -gt 0 ]; do
			mount --bind "$1" "$2" || exit 70
			shift 2
			nargs=$((nargs - 1))
		done
		exec "$@"' sh \
		"$dns_dir/resolv.conf /etc/resolv.conf $dns_dir/nsswitch.conf /etc/nsswitch.conf$dns_binds" \
		"$(( ($(echo "$dns_binds" | wc -w) + 4) / 2 ))" "$@"
}

dns_stop() {
	[ -n "$dns_pid" ] || return 0
	kill "$dns_pid" 2>/dev/null
	wait "$dns_pid" 2>/dev/null
	dns_pid=
}

dns_queried() {
	grep -q "query\[$2\] $1 from " "$dns_dir/log"
}

#!/bin/sh
# demo.sh - one real SMTP session through pipesmtpd, end to end.
#
# Run from the repository root after `make` (or simply `make demo`).
# swaks is the SMTP client; it talks to ./pipesmtpd over a pipe, so no
# port is opened and nothing needs root.  The delivery command is a fixed
# /bin/sh script that receives the placeholders as positional arguments
# ("$1", "$2"): that is the safe way to use a shell, because pipesmtpd
# itself never runs one and a client value can never become shell code.
set -eu

if ! command -v swaks >/dev/null 2>&1; then
	echo "demo needs swaks: apt-get install -y swaks" >&2
	exit 1
fi
if [ ! -x ./pipesmtpd ]; then
	echo "demo: ./pipesmtpd not built; run make first" >&2
	exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
case $dir in
*\'*) echo "demo: temporary directory name contains a quote" >&2; exit 1 ;;
esac

# As root, pipesmtpd refuses to run delivery commands as uid 0 unless told.
opts="--log-stderr --hostname demo.test"
if [ "$(id -u)" -eq 0 ]; then
	opts="$opts --allow-root"
fi

# The delivery command: a fixed script; DIR and the recipient's local part
# (%u, expanded by pipesmtpd per recipient) arrive as "$1" and "$2".  It
# saves what it reads on stdin and its environment (minus the PWD that sh
# itself adds).
# shellcheck disable=SC2016 # "$1" and "$2" are for the inner sh
script='cat > "$1/$2.eml" && env | grep -v "^PWD=" | sort > "$1/$2.env"'

# swaks runs the --pipe string through /bin/sh, so it is quoted once more;
# pipesmtpd then receives the argv
#   ... -- /bin/sh -c SCRIPT sh DIR %u
cmd="./pipesmtpd $opts -- /bin/sh -c '$script' sh '$dir' %u"

echo "== SMTP session (swaks --pipe \"$cmd\")"
swaks --pipe "$cmd" \
	--to alice@demo.test --from bob@example.org \
	--header "Subject: pipesmtpd demo" --body "hello"

for f in "$dir"/*.eml; do
	[ -e "$f" ] || { echo "demo: nothing was delivered" >&2; exit 1; }
	echo
	echo "== delivery command's stdin (saved as $(basename "$f"))"
	cat "$f"
	echo
	echo "== delivery command's environment"
	cat "${f%.eml}.env"
done

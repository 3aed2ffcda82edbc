#!/bin/sh
# build-tls.sh - the UCSPI-TLS launcher for the STARTTLS tests, from the
# sources in third_party/ (see third_party/README.md).
#
# Usage: sh third_party/build-tls.sh DIR      (DIR absolute; `make tls-tools`)
#
# Builds s6-ucspitlsd, the TLS engine it starts (s6-tlsd-io) and
# s6-tcpserver with the programs it runs in turn, and puts them in DIR/bin.
# skalibs, s6 and BearSSL are Debian's (skalibs-dev libs6-dev
# libbearssl-dev): their static libraries are linked in, so the programs
# need only libc.  Configured with --enable-absolute-paths, so each runs
# the next as DIR/bin/NAME: DIR must not move after the build.
#
# It writes nothing but DIR/bin (the work happens in a temporary
# directory, removed at the end) and needs no network.  s6-ucspitlsd is
# installed last: its presence means the build is complete, and the
# Makefile rebuilds only when it is older than a file in third_party/.
# Exit 2 names the missing Debian packages; 1 is any other failure.
set -eu

# What the tests and the example launchers run: s6-tcpserver execs
# s6-tcpserver4 (or 6), which runs the socket binder and then the daemon.
PROGS="s6-tcpserver s6-tcpserver4 s6-tcpserver4-socketbinder s6-tcpserver4d
s6-tcpserver6 s6-tcpserver6-socketbinder s6-tcpserver6d s6-tlsd-io
s6-ucspitlsd"
DNS=s6-dns-2.3.5.5
NET=s6-networking-2.5.1.3

die() { echo "build-tls.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: build-tls.sh DIR"
dir=${1%/}
case $dir in
/?*) ;;
*) die "DIR must be an absolute path (the programs remember it)" ;;
esac
src=$(cd "$(dirname "$0")" && pwd)

# Debian's multiarch library directory holds the static libraries and
# skalibs' sysdeps (what configure would otherwise probe for).
arch=$(${CC:-cc} -print-multiarch 2>/dev/null) || arch=
lib=/usr/lib/${arch:-x86_64-linux-gnu}
missing=
[ -r "$lib/skalibs/sysdeps/sysdeps" ] && [ -r "$lib/libskarnet.a" ] ||
	missing="$missing skalibs-dev"
[ -r "$lib/libs6.a" ] || missing="$missing libs6-dev"
[ -r "$lib/libbearssl.a" ] && [ -r /usr/include/bearssl.h ] ||
	missing="$missing libbearssl-dev"
if [ -n "$missing" ]; then
	echo "build-tls.sh: missing Debian packages:$missing" >&2
	exit 2
fi

(cd "$src" && sha256sum --quiet -c SHA256SUMS) ||
	die "third_party/ does not match third_party/SHA256SUMS"

work=$(mktemp -d "${TMPDIR:-/tmp}/pipesmtpd-tls.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
# A directory with only the .a files, searched first: the linker would
# otherwise take the .so next to each .a in the multiarch directory.
mkdir "$work/lib" "$work/include"
for a in libskarnet.a libs6.a libbearssl.a; do
	ln -s "$lib/$a" "$work/lib/$a"
done

tar -xzf "$src/$DNS.tar.gz" -C "$work"
tar -xzf "$src/$NET.tar.gz" -C "$work"
for p in "$src"/patches/*.patch; do
	patch -s -p1 -d "$work/$NET" < "$p" || die "patch ${p##*/} failed"
done

# build NAME LOG COMMAND... - run in $work/NAME, the output kept in LOG
# and shown only on failure
build() {
	name=$1 log=$work/$2
	shift 2
	(cd "$work/$name" && "$@") > "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "$name: $* failed"; }
}

# s6-dns: only its library and headers, which s6-networking needs.
build "$DNS" dns.log ./configure --prefix="$work" --libdir="$work/lib" \
	--includedir="$work/include" --with-sysdeps="$lib/skalibs/sysdeps" \
	--with-lib="$work/lib" --disable-shared
build "$DNS" dns.log make -j2 install-lib install-include
build "$NET" net.log ./configure --prefix="$dir" --bindir="$dir/bin" \
	--with-sysdeps="$lib/skalibs/sysdeps" --with-include="$work/include" \
	--with-lib="$work/lib" --disable-shared --enable-absolute-paths \
	--disable-execline --enable-ssl=bearssl
# shellcheck disable=SC2086 # one make target per program
build "$NET" net.log make -j2 $PROGS

mkdir -p "$dir/bin"
rm -f "$dir/bin/s6-ucspitlsd"
for p in $PROGS; do
	cp "$work/$NET/$p" "$dir/bin/$p.new"
	mv -f "$dir/bin/$p.new" "$dir/bin/$p"
done

#!/bin/sh
# build-tls.sh - the UCSPI-TLS launcher for the STARTTLS tests, from the
# sources in third_party/ (see third_party/README.md).
#
# Usage: sh third_party/build-tls.sh [-p] BINDIR [DESTDIR]
#        (BINDIR absolute; `make tls-tools`, debian/rules)
#
# Builds s6-ucspitlsd, the TLS engine it starts (s6-tlsd-io) and
# s6-tcpserver with the programs it runs in turn, and puts them in
# DESTDIR/BINDIR (DESTDIR empty by default).  With -p (the Debian
# package) only s6-ucspitlsd and s6-tlsd-io.  The TLS is Debian's libtls
# (libtls-dev: LibreSSL's libtls over OpenSSL 3), linked as a shared
# library so that OpenSSL's security updates reach the engine; its
# default, which s6-tlsd-io keeps, is TLS 1.2 and 1.3 only.  skalibs and
# s6 are Debian's too (skalibs-dev libs6-dev): their static libraries
# are linked in.  CFLAGS, CPPFLAGS and LDFLAGS from the environment are
# added to upstream's (debian/rules passes dpkg-buildflags' hardening).
# Configured with --enable-absolute-paths, so each program runs the next
# as BINDIR/NAME: they must be installed there.
#
# It writes nothing but DESTDIR/BINDIR (the work happens in a temporary
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

if [ "${1:-}" = -p ]; then
	PROGS="s6-tlsd-io s6-ucspitlsd"
	shift
fi
[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: build-tls.sh [-p] BINDIR [DESTDIR]"
bindir=${1%/}
case $bindir in
/?*) ;;
*) die "BINDIR must be an absolute path (the programs remember it)" ;;
esac
dest=${2:-}${bindir}
src=$(cd "$(dirname "$0")" && pwd)

# Debian's multiarch library directory holds the static libraries and
# skalibs' sysdeps (what configure would otherwise probe for).
arch=$(${CC:-cc} -print-multiarch 2>/dev/null) || arch=
lib=/usr/lib/${arch:-x86_64-linux-gnu}
missing=
[ -r "$lib/skalibs/sysdeps/sysdeps" ] && [ -r "$lib/libskarnet.a" ] ||
	missing="$missing skalibs-dev"
[ -r "$lib/libs6.a" ] || missing="$missing libs6-dev"
[ -r "$lib/libtls.so" ] && [ -r /usr/include/tls.h ] ||
	missing="$missing libtls-dev"
if [ -n "$missing" ]; then
	echo "build-tls.sh: missing Debian packages:$missing" >&2
	exit 2
fi

(cd "$src" && sha256sum --quiet -c SHA256SUMS) ||
	die "third_party/ does not match third_party/SHA256SUMS"

work=$(mktemp -d "${TMPDIR:-/tmp}/pipesmtpd-tls.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
# A directory with only the .a files of skalibs and s6, searched first:
# the linker would otherwise take the .so next to each .a in the
# multiarch directory.  libtls is not there: its .so is linked.
mkdir "$work/lib" "$work/include"
for a in libskarnet.a libs6.a; do
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
# the flags added to upstream's, for the build log (debian/rules: the
# hardening of dpkg-buildflags)
echo "build-tls.sh: CFLAGS=${CFLAGS:-} CPPFLAGS=${CPPFLAGS:-} LDFLAGS=${LDFLAGS:-}"
# --as-needed: libtls alone is named in the programs (upstream links
# -ltls -lssl -lcrypto, which the static libtls would need).
build "$NET" net.log env LDFLAGS="${LDFLAGS:-} -Wl,--as-needed" \
	./configure --prefix=/usr --bindir="$bindir" \
	--with-sysdeps="$lib/skalibs/sysdeps" --with-include="$work/include" \
	--with-lib="$work/lib" --disable-shared --enable-absolute-paths \
	--disable-execline --enable-ssl=libtls
# shellcheck disable=SC2086 # one make target per program
build "$NET" net.log make -j2 $PROGS

mkdir -p "$dest"
rm -f "$dest/s6-ucspitlsd"
for p in $PROGS; do
	cp "$work/$NET/$p" "$dest/$p.new"
	mv -f "$dest/$p.new" "$dest/$p"
done

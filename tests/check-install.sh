#!/bin/bash
# make install into a scratch prefix, then build and run a program against
# the installed libmirror through pkg-config, as a user of the library would.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
# Stage with DESTDIR (what packagers do) and let pkg-config's sysroot
# prepend it to the paths mirror.pc names.
make -C "$build" install DESTDIR="$prefix/root" >/dev/null
conf_prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
root="$prefix/root$conf_prefix"
export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$prefix/root"
pkg-config --exists mirror
cat >"$prefix/use.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <mirror/mirror.h>
int main(void)
{
	struct mirror_profile p;
	struct mirror_small_cdb c;
	const unsigned char cdb[12] = { 0xA0, 0x10, 0x80, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 };
	mirror_profile_init(&p);
	if (mirror_small_cdb_decode(&p, cdb, 12, NULL, &c, NULL) != 0 || mirror_small_cdb_blocks(&c) != 2)
		return 1;
	printf("libmirror %s decodes: %u blocks\n", mirror_version(), mirror_small_cdb_blocks(&c));
	return 0;
}
C
cc -std=c11 -o "$prefix/use" "$prefix/use.c" $(pkg-config --cflags --libs mirror)
LD_LIBRARY_PATH="$root/lib" "$prefix/use"
test -x "$root/bin/mirror-decode"
test -f "$root/share/man/man1/mirror-decode.1"
test -f "$root/share/man/man7/mirror-protocol.7"
test -f "$root/include/mirror/codec.h"
test -f "$root/lib/libmirror.a"
# The stable core only: the headers of include/mirror/, nothing of lib/'s
# layers or app/, and a library that exports mirror_* alone.
installed=$(cd "$root/include/mirror" && ls | sort | tr '\n' ' ')
expected=$(cd "$(dirname "$0")/../include/mirror" && ls | sort | tr '\n' ' ')
[ "$installed" = "$expected" ] || { echo "install: headers $installed, expected $expected" >&2; exit 1; }
leaked=$(nm -D --defined-only "$root/lib/libmirror.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^mirror_' || true)
[ -z "$leaked" ] || { echo "install: libmirror exports non-mirror_ symbols: $leaked" >&2; exit 1; }
echo "install: ok"

#!/bin/bash
# make install into a scratch prefix, then build and run a program against
# the installed libmirror through pkg-config, as a user of the library would.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make -C "$build" install prefix="$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
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
LD_LIBRARY_PATH="$prefix/lib" "$prefix/use"
test -x "$prefix/bin/mirror-decode"
test -f "$prefix/share/man/man7/mirror-protocol.7"
test -f "$prefix/include/mirror/codec.h"
echo "install: ok"

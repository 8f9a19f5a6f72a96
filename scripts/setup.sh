#!/bin/bash
# Shared set-up of the two quick-start commands: install what is missing,
# generate the build system, configure and build with -Werror in
# _build/default.  Sourced by demo.sh and test.sh (needs $top).
set -euo pipefail

"$top/scripts/deps.sh"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
	[ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
	(cd "$top" && autoreconf -fi >/dev/null 2>&1) || { (cd "$top" && autoreconf -fi); exit 1; }
fi
build="$top/_build/default"
mkdir -p "$build"
if [ ! -f "$build/Makefile" ] || [ "$top/configure" -nt "$build/Makefile" ]; then
	(cd "$build" && "$top/configure" --enable-werror -q)
fi
make -C "$build" -j"$(nproc)" >/dev/null
echo "setup: built in $build"

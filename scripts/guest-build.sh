#!/bin/bash
# Builds the Linux guest of tests/sgio-qemu.test from Debian packages:
#   OUTDIR/vmlinux        the kernel of linux-image-amd64, uncompressed (an
#                         ELF with a PVH note: QEMU boots it without the
#                         bzImage's decompression, about twice as fast under
#                         TCG); the bzImage itself if it cannot be unpacked
#   OUTDIR/initramfs.cpio busybox-static, the modules virtio_pci,
#                         virtio_scsi, sg, sd_mod and their dependencies (from
#                         the same package), scripts/guest-init.sh as /init,
#                         and the PROGRAMs with the shared libraries ldd names
#
# Usage: guest-build.sh OUTDIR PROGRAM...
#
# The kernel package is fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`: nothing is installed in the host's /boot or /lib/modules.
# The unpacked kernel and modules are cached per package version in
# $MIRROR_GUEST_CACHE (default /var/cache/mirrortest if writable, else
# OUTDIR/cache); the initramfs is rebuilt only when its inputs change (a
# hash of the kernel version, this script, the init and the programs and
# libraries, kept in OUTDIR/key).
#
# Exit status: 0 built (or current), 77 the kernel package or busybox
# cannot be had (a reason on stderr), 1 anything else.
set -euo pipefail

die() { echo "guest-build: $*" >&2; exit 1; }
cannot() { echo "guest-build: $*" >&2; exit 77; }

[ $# -ge 2 ] || die "usage: guest-build.sh OUTDIR PROGRAM..."
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
init="$here/guest-init.sh"
[ -r "$init" ] || die "$init: not found"
mkdir -p "$out"
out=$(cd "$out" && pwd)

busybox=/bin/busybox
# busybox-static's binary: no shared libraries to copy, and its cpio makes
# the archive (the host need not have cpio).
[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
	cannot "no static busybox at $busybox (Debian package busybox-static)"

cache=${MIRROR_GUEST_CACHE:-}
if [ -z "$cache" ]; then
	cache=/var/cache/mirrortest
	mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache="$out/cache"
fi
mkdir -p "$cache"

# What the guest loads (with their dependencies): the virtio PCI
# transport, the virtio-scsi host adapter, sg for /dev/sgN, sd_mod as a
# lab host would have it.
MODULES="virtio_pci virtio_scsi sg sd_mod"
modkey=$(echo "$MODULES" | sha256sum | cut -c1-8)

# ---- the kernel package: which version, fetched and unpacked once ----
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1) || true
if [ -n "$kpkg" ]; then
	kver=$(apt-cache policy "$kpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	kdir="$cache/$kpkg-$kver-$modkey"
else
	# No package index: an earlier unpacking will do.
	kdir=$(ls -d "$cache"/linux-image-*-"$modkey"/ 2>/dev/null | sort -V | tail -n 1)
	kdir=${kdir%/}
	[ -n "$kdir" ] || cannot "apt-cache knows no linux-image-amd64 (run apt-get update)"
fi
# One unpacking at a time (the normal and the sanitizer build may run
# their tests together).
exec 9>"$cache/.lock"
flock 9
if [ ! -e "$kdir/done" ]; then
	rm -rf "$kdir.tmp"
	mkdir -p "$kdir.tmp/dl"
	( cd "$kdir.tmp/dl" && apt-get download -q "$kpkg" >/dev/null 2>"$kdir.tmp/apt.log" ) ||
		cannot "apt-get download $kpkg failed: $(tail -n 1 "$kdir.tmp/apt.log")"
	dpkg-deb -x "$kdir.tmp"/dl/*.deb "$kdir.tmp/x" || die "dpkg-deb -x failed"
	bz=$(ls "$kdir.tmp"/x/boot/vmlinuz-* | head -n 1)
	# The kernel's scripts/extract-vmlinux method: find the compressed
	# payload's magic in the bzImage and decompress from there (xz for
	# Debian's kernels; trailing bytes make xz complain, not fail).
	pos=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1) || true
	if [ -n "$pos" ]; then
		tail -c +$((pos + 1)) "$bz" | xz -dc >"$kdir.tmp/vmlinux" 2>/dev/null || true
	fi
	if [ "$(head -c 4 "$kdir.tmp/vmlinux" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
		echo vmlinux >"$kdir.tmp/kernel-kind"
	else
		cp "$bz" "$kdir.tmp/vmlinux"
		echo bzImage >"$kdir.tmp/kernel-kind"
	fi
	# ---- the modules and their dependencies, dependencies first ----
	# The package carries no modules.dep (depmod runs at installation):
	# each module's .modinfo section names what it depends on.  Only these
	# are kept, numbered in load order.
	declare -A modpath=() seen=()
	while IFS= read -r f; do
		b=${f##*/}; b=${b%.ko}
		modpath[${b//-/_}]=$f
	done < <(find "$kdir.tmp"/x/lib/modules -name '*.ko')
	order=()
	add_module() {
		local m=${1//-/_} d
		[ -n "${seen[$m]:-}" ] && return 0
		seen[$m]=1
		[ -n "${modpath[$m]:-}" ] || die "module $m not in $kpkg"
		for d in $(tr '\0' '\n' <"${modpath[$m]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
			add_module "$d"
		done
		order+=("$m")
	}
	for m in $MODULES; do add_module "$m"; done
	mkdir -p "$kdir.tmp/modules"
	i=0
	for m in "${order[@]}"; do
		i=$((i + 1))
		cp "${modpath[$m]}" "$kdir.tmp/modules/$(printf '%02d' "$i")-$m.ko"
	done
	rm -rf "$kdir.tmp/x" "$kdir.tmp/dl"
	touch "$kdir.tmp/done"
	rm -rf "$kdir"
	mv "$kdir.tmp" "$kdir"
fi
exec 9>&-

# ---- the programs and their libraries ----
progs=() libs=()
for p in "$@"; do
	[ -x "$p" ] || die "$p: not an executable"
	progs+=("$p")
	while read -r lib; do libs+=("$lib"); done < <(ldd "$p" | sed -n \
		-e 's/^[[:space:]]*[^ ]* => \(\/[^ ]*\) (.*$/\1/p' \
		-e 's/^[[:space:]]*\(\/[^ ]*\) (.*$/\1/p')
done
libs=($(printf '%s\n' "${libs[@]}" | sort -u))

key=$( {
	echo "$kdir $(cat "$kdir/kernel-kind")"
	sha256sum "$0" "$init" "$busybox" "${progs[@]}" "${libs[@]}" | cut -d' ' -f1
	printf '%s\n' "${progs[@]##*/}"
} | sha256sum | cut -d' ' -f1)
if [ -e "$out/initramfs.cpio" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
	ln -sf "$kdir/vmlinux" "$out/vmlinux"
	exit 0
fi

root="$out/root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib,lib64,modules,usr/bin}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh" # /init installs the other applets
cp "$kdir"/modules/*.ko "$root/modules/"
for p in "${progs[@]}"; do
	n=${p##*/}
	cp "$p" "$root/usr/bin/${n#lt-}" # libtool names the real program lt-NAME
done
for l in "${libs[@]}"; do
	case "$l" in
	*/ld-linux*) mkdir -p "$root$(dirname "$l")"; cp -L "$l" "$root$l" ;;
	*) cp -L "$l" "$root/lib/${l##*/}" ;;
	esac
done
cp "$init" "$root/init"
chmod 755 "$root/init"
( cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null ) \
	>"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
rm -rf "$root"
ln -sf "$kdir/vmlinux" "$out/vmlinux"
echo "$key" >"$out/key"

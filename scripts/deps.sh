#!/bin/bash
# Installs the Debian 12 packages mirrortest needs that are not installed
# yet.  Run as root (the quick start does); non-interactive.
set -euo pipefail

# One line per need: package and why.
PACKAGES=(
	gcc make                      # compiler and build
	autoconf automake libtool pkg-config
	libjson-c-dev                 # JSON output
	check                         # unit tests
	libsgutils2-dev sg3-utils     # sense/ASC names now, SG_IO later
	libiscsi-dev libiscsi-bin     # iSCSI transport and a real peer client
	libisal-dev                   # CRC32C for iSCSI digests
	nettle-dev                    # MD5 for CHAP
	tgt                           # a real iSCSI target to test against
	libpcap-dev                   # capture decoding
	libncurses-dev                # mirror-top
	tmux                          # mirror-top's tests read its screen
	jq                            # JSON checks in the tests
	libxml2-utils                 # xmllint: mirror-conform's JUnit checked against its schema
	mandoc                        # man page lint
	clang libclang-rt-14-dev      # libFuzzer targets, sanitizer runtime
	valgrind                      # instructions/op in the benchmarks
	tcpdump                       # recording reference traces
	tshark                        # oracle for the cross-check, host of the Lua plugin
	qemu-system-x86               # the SG_IO test's guest, under TCG (never KVM)
	qemu-block-extra              # QEMU's iSCSI driver: the guest's disk is mirror-emu
	busybox-static                # the guest's userland, and cpio for its initramfs
	xz-utils                      # unpacks the guest kernel (linux-image-amd64 is downloaded, not installed)
	debhelper dpkg-dev            # the Debian packages (debian/, dpkg-buildpackage)
	lintian                       # tests/deb.test: the packages lintian clean
	gnuplot-nox                   # --report: the plots, drawn as SVG by its svg terminal
	chromium                      # tests/report*.test: the reports opened in a headless browser
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} Debian packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root: run 'apt-get install ${missing[*]}' as root, then again" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"

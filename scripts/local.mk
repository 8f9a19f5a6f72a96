# scripts: the quick start's set-up (Debian packages, build), the fuzz
# runner and the SG_IO test's QEMU guest.
EXTRA_DIST += scripts/local.mk scripts/setup.sh scripts/deps.sh scripts/fuzz.sh \
	scripts/guest-build.sh scripts/guest-init.sh

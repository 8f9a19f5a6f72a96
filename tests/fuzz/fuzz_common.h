/* What every libFuzzer target in tests/fuzz/ starts with: the entry
 * point's prototype (libFuzzer calls it; -Wmissing-prototypes wants it
 * declared), allocation that aborts instead of returning NULL (a failed
 * malloc is not a finding), /dev/null for the renderers and byte 0 of an
 * input turned into one of the named profiles.
 *
 * Built by scripts/fuzz.sh only (clang -fsanitize=fuzzer); the functions
 * are static inline so a target that does not use one gets no warning. */
#ifndef MIRROR_FUZZ_COMMON_H
#define MIRROR_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/mirror.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc that never returns NULL; 0 bytes gives a 1-byte block, so the
 * caller's buffer is exact-size and ASan sees any overrun. */
static inline void *fuzz_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* Opened once: the renderers are under test, not the file system. */
static inline FILE *fuzz_devnull(void)
{
	static FILE *fp;

	if (!fp) {
		fp = fopen("/dev/null", "w");
		if (!fp)
			abort();
	}
	return fp;
}

/* How many named profiles the library has (mirror_profile_name_at). */
static inline size_t fuzz_profile_count(void)
{
	static size_t n;

	if (!n)
		while (mirror_profile_name_at(n))
			n++;
	if (!n)
		abort();
	return n;
}

/* Bits 0-2 of a selector byte: a named profile (modulo their number, so
 * every value picks one). */
static inline void fuzz_pick_profile(uint8_t sel, struct mirror_profile *p)
{
	const char *name = mirror_profile_name_at((size_t)(sel & 7u) % fuzz_profile_count());

	if (!name || mirror_profile_by_name(name, p) != 0)
		abort();
}

#endif

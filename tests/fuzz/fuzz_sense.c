/* libFuzzer target: the sense data parser (fixed and descriptor format)
 * and the one-line description, which goes through libsgutils2.
 *
 * Input: the sense bytes as a target returned them.  Properties: no memory
 * error or UB; the description fits any buffer it is given (an exact-size
 * heap buffer, so ASan sees an overrun) and is NUL-terminated; what the
 * parser accepted survives build -> parse with the same meaning (fixed
 * format carries only 32 bits of INFORMATION and a bit pointer only when
 * BPV is set, so those are compared as the format allows). */
#include <stdbool.h>

#include "fuzz_common.h"

static void describe_into(const struct mirror_sense *s, size_t cap)
{
	char *buf = fuzz_xmalloc(cap);
	int n;

	n = mirror_sense_describe(s, buf, cap);
	if (n < 0 || (cap && strlen(buf) >= cap))
		abort();
	free(buf);
}

static bool same_meaning(const struct mirror_sense *a, const struct mirror_sense *b)
{
	if (a->key != b->key || a->asc != b->asc || a->ascq != b->ascq ||
	    a->deferred != b->deferred || a->info_valid != b->info_valid || a->sksv != b->sksv)
		return false;
	if (a->info_valid && (uint32_t)a->info != b->info)
		return false;
	if (!a->sksv || a->key != MIRROR_SK_ILLEGAL_REQUEST)
		return true;
	return a->cd == b->cd && a->bpv == b->bpv && a->field == b->field &&
	       (!a->bpv || a->bit == b->bit);
}

static void check_rebuild(const struct mirror_sense *s)
{
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];
	struct mirror_sense again;

	if (mirror_sense_build(buf, sizeof(buf), s) != MIRROR_FIXED_SENSE_LEN)
		abort();
	if (mirror_sense_parse(buf, sizeof(buf), &again) != 0 || again.descriptor_format ||
	    !same_meaning(s, &again))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_sense s;
	int rc = mirror_sense_parse(data, size, &s);

	/* A parse failure still leaves a struct that must describe safely. */
	describe_into(&s, 256);
	describe_into(&s, size % 97);
	if (rc == 0)
		check_rebuild(&s);
	return 0;
}

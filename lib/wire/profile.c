#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/profile.h>

/* Named profiles.  "vendor" moves every mirror command into the
 * vendor-specific range 0xC0-0xFF, which transports pass through
 * unchanged (0xA0 is REPORT LUNS in SPC and some transports answer it
 * themselves; see mirror-protocol(7), OPCODES). */
struct named_profile {
	const char *name;
	const char *summary;
	struct mirror_opcodes op;
	enum mirror_small_layout layout;
	bool strict;
};

static const struct named_profile named_profiles[] = {
	{ "v1", "0x3C/0xA0/0xB0, 12-byte CDB, 20-bit descriptors (default)",
	  { 0x3C, 0xA0, 0xB0, 0xC6, 0xC8, 0xC7 }, MIRROR_SMALL_CDB12_20BIT, false },
	{ "v1-strict", "v1, receiver rejects non-zero bytes 1-9 of the notification CDB",
	  { 0x3C, 0xA0, 0xB0, 0xC6, 0xC8, 0xC7 }, MIRROR_SMALL_CDB12_20BIT, true },
	{ "v1-18bit", "v1 with an 18-bit descriptor per element (NVRAM <= 128 MiB)",
	  { 0x3C, 0xA0, 0xB0, 0xC6, 0xC8, 0xC7 }, MIRROR_SMALL_CDB12_18BIT, false },
	{ "v1-cdb16", "v1 with a 16-byte small CDB of up to 4 elements (64 KiB)",
	  { 0x3C, 0xA0, 0xB0, 0xC6, 0xC8, 0xC7 }, MIRROR_SMALL_CDB16, false },
	{ "vendor", "vendor-specific opcodes 0xC1/0xE1/0xE2/0xC6/0xC8, 12-byte CDB",
	  { 0xC1, 0xE1, 0xE2, 0xC6, 0xC8, 0xC7 }, MIRROR_SMALL_CDB12_20BIT, false },
};

#define N_PROFILES (sizeof(named_profiles) / sizeof(named_profiles[0]))

static void profile_from_named(const struct named_profile *n, struct mirror_profile *p)
{
	p->name = n->name;
	p->op = n->op;
	p->small_layout = n->layout;
	p->nvram_size = MIRROR_NVRAM_DEFAULT_SIZE;
	p->region_split = MIRROR_NVRAM_DEFAULT_SIZE / 2;
	p->strict = n->strict;
}

void mirror_profile_init(struct mirror_profile *p)
{
	profile_from_named(&named_profiles[0], p);
}

int mirror_profile_by_name(const char *name, struct mirror_profile *p)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		if (strcmp(named_profiles[i].name, name) == 0) {
			profile_from_named(&named_profiles[i], p);
			return 0;
		}
	}
	return -ENOENT;
}

const char *mirror_profile_name_at(size_t i)
{
	return i < N_PROFILES ? named_profiles[i].name : NULL;
}

const char *mirror_profile_summary_at(size_t i)
{
	return i < N_PROFILES ? named_profiles[i].summary : NULL;
}

int mirror_profile_check(const struct mirror_profile *p, char *why, size_t why_len)
{
	const char *reason = NULL;
	char tmp[96];
	const uint8_t ops[6] = { p->op.notify, p->op.small_a_to_b, p->op.small_b_to_a,
				 p->op.table_update, p->op.readback, p->op.release };

	if (p->nvram_size == 0 || p->nvram_size % MIRROR_BLOCK_SIZE)
		reason = "NVRAM size must be a non-zero multiple of 512";
	else if (p->nvram_size > MIRROR_NVRAM_MAX_SIZE)
		reason = "NVRAM size is over 512 MiB (a 20-bit descriptor addresses no more)";
	else if (p->region_split == 0 || p->region_split >= p->nvram_size ||
		 p->region_split % MIRROR_BLOCK_SIZE)
		reason = "region split must be a multiple of 512 strictly inside the NVRAM";
	else if (p->small_layout == MIRROR_SMALL_CDB12_18BIT &&
		 p->nvram_size > (1u << 18) * MIRROR_BLOCK_SIZE)
		reason = "the 18-bit layout addresses at most 128 MiB of NVRAM";
	else if ((unsigned)p->small_layout > MIRROR_SMALL_CDB16)
		reason = "unknown small-write layout";
	for (unsigned i = 0; !reason && i < 6; i++) {
		for (unsigned j = i + 1; j < 6; j++) {
			if (ops[i] == ops[j]) {
				snprintf(tmp, sizeof(tmp), "opcode 0x%02X is used for two commands",
					 ops[i]);
				reason = tmp;
				break;
			}
		}
	}
	if (!reason)
		return 0;
	if (why && why_len)
		snprintf(why, why_len, "%s", reason);
	return MIRROR_E_PROFILE;
}

int mirror_profile_set_opcodes(struct mirror_profile *p, const char *list, char *why,
			       size_t why_len)
{
	uint8_t *slots[] = { &p->op.notify, &p->op.small_a_to_b, &p->op.small_b_to_a,
			     &p->op.table_update, &p->op.readback, &p->op.release };
	uint8_t vals[6];
	const char *s = list;
	unsigned n = 0;

	/* five, or six with MIRROR RELEASE's */
	for (unsigned i = 0; i < 6; i++) {
		char *end;
		if (!isxdigit((unsigned char)*s))
			goto bad;
		unsigned long v = strtoul(s, &end, 16);
		if (v > 0xFF || end == s)
			goto bad;
		vals[n++] = (uint8_t)v;
		s = end;
		if (*s != ',')
			break;
		s++;
	}
	if (*s || n < 5)
		goto bad;
	for (unsigned i = 0; i < n; i++)
		*slots[i] = vals[i];
	p->name = "custom";
	return 0;
bad:
	if (why && why_len)
		snprintf(why, why_len,
			 "opcodes '%s': want five or six hex bytes NOTIFY,SMALL_A,SMALL_B,TABLE,READBACK[,RELEASE] (e.g. 3c,a0,b0,c6,c8,c7)",
			 list);
	return -EINVAL;
}

int mirror_profile_from_options(const struct mirror_profile_options *o, struct mirror_profile *p,
				char *why, size_t why_len)
{
	const char *name = o->name ? o->name : "v1";
	uint64_t size = 0, split = 0;

	if (mirror_profile_by_name(name, p) < 0) {
		snprintf(why, why_len, "unknown --profile '%s' (v1, v1-strict, v1-18bit, v1-cdb16, vendor)",
			 name);
		return -EINVAL;
	}
	if (o->nvram_size) {
		if (mirror_parse_size(o->nvram_size, &size) < 0 || size > MIRROR_NVRAM_MAX_SIZE) {
			snprintf(why, why_len, "bad --nvram-size '%s' (e.g. 128M, at most 512M)",
				 o->nvram_size);
			return -EINVAL;
		}
		p->nvram_size = (uint32_t)size;
		p->region_split = (uint32_t)(size / 2);
	}
	if (o->region_split) {
		if (mirror_parse_size(o->region_split, &split) < 0 || split > UINT32_MAX) {
			snprintf(why, why_len, "bad --region-split '%s' (e.g. 64M)", o->region_split);
			return -EINVAL;
		}
		p->region_split = (uint32_t)split;
	}
	if (o->strict)
		p->strict = true;
	if (o->opcodes) {
		char bad[256];
		if (mirror_profile_set_opcodes(p, o->opcodes, bad, sizeof(bad)) < 0) {
			/* the option as the user wrote it: "--opcodes '...': ..." */
			snprintf(why, why_len, "--%s", bad);
			return -EINVAL;
		}
	}
	if (mirror_profile_check(p, why, why_len) < 0)
		return -EINVAL;
	return 0;
}

unsigned mirror_small_cdb_len(const struct mirror_profile *p)
{
	return p->small_layout == MIRROR_SMALL_CDB16 ? 16u : 12u;
}

unsigned mirror_small_sg_max(const struct mirror_profile *p)
{
	return p->small_layout == MIRROR_SMALL_CDB16 ? 4u : 2u;
}

uint32_t mirror_region_start(const struct mirror_profile *p, unsigned region)
{
	return region == 0 ? 0 : p->region_split;
}

uint32_t mirror_region_end(const struct mirror_profile *p, unsigned region)
{
	return region == 0 ? p->region_split : p->nvram_size;
}

int mirror_small_opcode_region(const struct mirror_profile *p, uint8_t op)
{
	if (op == p->op.small_a_to_b)
		return 0;
	if (op == p->op.small_b_to_a)
		return 1;
	return -1;
}

uint8_t mirror_small_opcode_for_region(const struct mirror_profile *p, unsigned region)
{
	return region == 0 ? p->op.small_a_to_b : p->op.small_b_to_a;
}

enum mirror_command mirror_command_of(const struct mirror_profile *p, uint8_t op)
{
	const struct {
		uint8_t opcode;
		enum mirror_command cmd;
	} map[] = {
		{ p->op.notify, MIRROR_CMD_NOTIFY },
		{ p->op.small_a_to_b, MIRROR_CMD_SMALL },
		{ p->op.small_b_to_a, MIRROR_CMD_SMALL },
		{ p->op.table_update, MIRROR_CMD_TABLE_UPDATE },
		{ p->op.readback, MIRROR_CMD_READBACK },
		{ p->op.release, MIRROR_CMD_RELEASE },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].opcode == op)
			return map[i].cmd;
	return MIRROR_CMD_NONE;
}

int mirror_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* as mirror_parse_size: a digit first (strtoull would take a sign) */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int mirror_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || v != v)
		return -EINVAL;
	if (errno == ERANGE || !(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

int mirror_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull skips leading space and then accepts a sign (" -1" would
	 * wrap to 2^64 - 1): a size starts with a digit. */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	/* decimal, or hex with 0x; never octal ("010" is ten) */
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno || end == s)
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Large path cases (source Figs. 2, 3 and 5 blocks 508-536; wire-profile.md
 * "Large path" and "Metadata mirror message"): the notification CDB, each
 * field of the 1024-byte metadata at its limits and first invalid value,
 * the data-out length, and the 1 MiB operations.  A row starts from a
 * valid operation and patches bytes of the encoded metadata, so that the
 * invalid value is written on the wire exactly as the row says. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <mirror/path.h>
#include <mirror/sender.h>

#include "conform.h"

enum value_kind {
	V_LITERAL = 0,
	V_SCRATCH,        /* the case's area + value */
	V_OTHER_REGION,   /* the other region's start + the case's offset */
	V_PAST_NVRAM,     /* the NVRAM size */
	V_OTHER_REGION_NO /* the number of the other region */
};

struct patch {
	uint16_t offset;
	uint8_t len; /* 0: no patch; 1, 2 or 4 bytes, big-endian */
	enum value_kind kind;
	uint32_t value;
};

struct large_row {
	unsigned n;          /* S/G elements */
	uint32_t elem;       /* bytes each */
	bool big;            /* at the start of the region (1 MiB and more) */
	struct patch p[2];
	int data_delta;      /* data-out bytes beyond 1024 + blocks * 512 */
	bool edtl_512;       /* a data-out of 512 bytes: less than the metadata */
	uint8_t rest[9];     /* CDB bytes 1-9 */
	bool good;
	struct conf_sense want;
};

static uint32_t patch_value(const struct conf_ctx *c, const struct patch *p, uint32_t base)
{
	switch (p->kind) {
	case V_SCRATCH:
		return base + p->value;
	case V_OTHER_REGION:
		return mirror_region_start(&c->profile, 1u - c->region) + (base - conf_region_start(c));
	case V_PAST_NVRAM:
		return c->profile.nvram_size;
	case V_OTHER_REGION_NO:
		return 1u - c->region;
	case V_LITERAL:
	default:
		return p->value;
	}
}

static void put_be(uint8_t *b, unsigned len, uint32_t v)
{
	for (unsigned i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static uint32_t get_be32_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static enum conf_verdict run_large_row(struct conf_ctx *c)
{
	const struct large_row *r = c->cur->arg;
	uint32_t base = r->big ? conf_region_start(c) : c->scratch;
	struct mirror_metadata md;
	struct mirror_cmd cmd;
	static const uint8_t zero[9];
	/* room for 1024 + 2049 blocks, the largest row, and a longer data-out */
	size_t cap = MIRROR_METADATA_BYTES + 2049u * MIRROR_BLOCK_SIZE + 4096u;
	uint8_t *buf = calloc(1, cap);
	enum conf_verdict v;

	if (!buf)
		return conf_fail(c, "out of memory");
	conf_md_init(c, &md, base, r->n, r->elem, 0x2000);
	/* data of the valid operation first; the patched blocks field
	 * decides the data-out length below */
	if (conf_large_cmd(c, memcmp(r->rest, zero, 9) ? r->rest : NULL, &md, false, buf,
			   md.blocks * MIRROR_BLOCK_SIZE, c->case_index + 1u, &cmd) < 0) {
		free(buf);
		return conf_fail(c, "internal: the metadata of this case cannot be encoded");
	}
	for (unsigned i = 0; i < 2; i++)
		if (r->p[i].len)
			put_be(buf + r->p[i].offset, r->p[i].len, patch_value(c, &r->p[i], base));
	uint64_t user = (uint64_t)get_be32_at(buf + 12) * MIRROR_BLOCK_SIZE;
	if (user > 2049u * MIRROR_BLOCK_SIZE)
		user = 2049u * MIRROR_BLOCK_SIZE;
	int64_t len = (int64_t)(MIRROR_METADATA_BYTES + user) + r->data_delta;
	if (r->edtl_512)
		len = 512;
	if (len < 0 || (uint64_t)len > cap) {
		free(buf);
		return conf_fail(c, "internal: data-out length %lld out of range", (long long)len);
	}
	cmd.data_out_len = (uint32_t)len;
	conf_send(c, &cmd, c->cur->desc);
	if (!r->good)
		v = conf_check(c, &cmd, "large write", &r->want);
	else if ((v = conf_check(c, &cmd, "large write", NULL)) == CONF_PASS)
		v = conf_verify(c, "user data", base, buf + MIRROR_METADATA_BYTES,
				md.blocks * MIRROR_BLOCK_SIZE);
	free(buf);
	return v;
}

/* A 4 MiB write split by the sender's splitter (Fig. 3: "pieces which are
 * 1 Mbyte or less") into large operations with consecutive sequence
 * numbers; all of it reads back. */
static enum conf_verdict run_split_4mib(struct conf_ctx *c)
{
	struct mirror_write w = { 0x10000, 4u << 20, conf_region_start(c), c->region, CONF_VOLUME_A,
				  0, 0 };
	struct mirror_sender_state st = { true, true }; /* recovery: the large path */
	struct mirror_array_table t;
	struct mirror_pattern pat = { MIRROR_PATTERN_RANDOM, 0, 4 };
	struct mirror_splitter sp;
	struct mirror_op op;
	struct mirror_op_wire wire;
	struct mirror_cmd cmd;
	char why[160];
	unsigned ops = 0;
	uint8_t *data = malloc(w.bytes), *buf = malloc(MIRROR_OP_DATA_OUT_MAX);
	enum conf_verdict v = CONF_PASS;

	if (!data || !buf) {
		free(data);
		free(buf);
		return conf_fail(c, "out of memory");
	}
	t = c->table;
	w.volume = c->vol_a;
	w.array_serial = t.vol[c->vol_a].array_serial;
	w.array_number = t.vol[c->vol_a].array_number;
	mirror_pattern_fill(&pat, w.lba, data, w.bytes);
	if (mirror_split_init(&sp, &c->profile, &w, &st, MIRROR_POLICY_LARGE, 1, why, sizeof(why)) < 0) {
		v = conf_fail(c, "internal: splitter: %s", why);
		goto out;
	}
	while (v == CONF_PASS && mirror_split_next(&sp, &op) == 1) {
		int n = mirror_op_build(&c->profile, &op, &w, data, buf, MIRROR_OP_DATA_OUT_MAX, &wire);
		if (n < 0) {
			v = conf_fail(c, "internal: op %u cannot be built (%d)", ops + 1, n);
			break;
		}
		memset(&cmd, 0, sizeof(cmd));
		memcpy(cmd.cdb, wire.cdb, wire.cdb_len);
		cmd.cdb_len = wire.cdb_len;
		cmd.dir = MIRROR_DIR_OUT;
		cmd.data_out = buf;
		cmd.data_out_len = (uint32_t)wire.data_out_len;
		conf_send(c, &cmd, "1 MiB large operation");
		snprintf(why, sizeof(why), "operation %u of the split write (sequence %u)", ops + 1,
			 (unsigned)op.sequence);
		v = conf_check(c, &cmd, why, NULL);
		ops++;
	}
	if (v == CONF_PASS && ops != 4)
		v = conf_fail(c, "internal: the splitter made %u operations of 4 MiB, not 4", ops);
	if (v == CONF_PASS)
		v = conf_verify(c, "4 MiB split write", w.nvram_addr, data, (uint32_t)w.bytes);
out:
	free(data);
	free(buf);
	return v;
}

#define GOOD_NEEDS (CONF_NEED_NOTIFY | CONF_NEED_VERIFY)
#define BAD_NEEDS CONF_NEED_NOTIFY
#define P(off, len, kind, val) { (off), (len), (kind), (val) }

static const struct large_row
	r_min = { .n = 1, .elem = 512, .good = true },
	r_max = { .n = 64, .elem = 16384, .big = true, .good = true },
	r_rest_lenient = { .n = 1, .elem = 4096, .rest = { 0xFF, 0, 0x10, 0, 0, 0, 0, 0, 0x01 }, .good = true },
	r_rest_strict = { .n = 1, .elem = 4096, .rest = { 0, 0, 0x10, 0, 0, 0, 0, 0, 0x01 }, .want = CONF_CDB_FIELD(3, 4) },
	r_type = { .n = 1, .elem = 4096, .p = { P(0, 2, V_LITERAL, 0x0002) }, .want = CONF_PARAM_FIELD(0, 7) },
	r_length = { .n = 1, .elem = 4096, .p = { P(2, 2, V_LITERAL, 1023) }, .want = CONF_PARAM_FIELD(2, 7) },
	r_blocks0 = { .n = 1, .elem = 4096, .p = { P(12, 4, V_LITERAL, 0) }, .want = CONF_PARAM_FIELD(12, 7) },
	r_blocks_big = { .n = 64, .elem = 16384, .big = true, .p = { P(12, 4, V_LITERAL, 2049) }, .want = CONF_PARAM_FIELD(12, 7) },
	r_sum = { .n = 2, .elem = 4096, .p = { P(12, 4, V_LITERAL, 24) }, .want = CONF_PARAM_FIELD(12, 7) },
	r_elem_big = { .n = 1, .elem = 16384 + 512, .want = CONF_PARAM_FIELD(516, 7) },
	r_elem_odd = { .n = 2, .elem = 4096, .p = { P(516, 4, V_LITERAL, 4000), P(524, 4, V_LITERAL, 4192) }, .want = CONF_PARAM_FIELD(516, 7) },
	r_unaligned = { .n = 1, .elem = 4096, .p = { P(512, 4, V_SCRATCH, 100) }, .want = CONF_PARAM_FIELD(512, 7) },
	r_other_region = { .n = 1, .elem = 4096, .p = { P(512, 4, V_OTHER_REGION, 0) }, .want = CONF_PARAM_FIELD(512, 7) },
	r_past_nvram = { .n = 1, .elem = 4096, .p = { P(512, 4, V_PAST_NVRAM, 0) }, .want = CONF_PARAM_FIELD(512, 7) },
	r_after_end = { .n = 1, .elem = 4096, .p = { P(528, 4, V_SCRATCH, 65536) }, .want = CONF_PARAM_FIELD(528, 7) },
	r_count_after_end = { .n = 1, .elem = 4096, .p = { P(532, 4, V_LITERAL, 512) }, .want = CONF_PARAM_FIELD(532, 7) },
	r_region_other = { .n = 1, .elem = 4096, .p = { P(24, 1, V_OTHER_REGION_NO, 0) }, .want = CONF_PARAM_FIELD(24, 7) },
	r_region_bad = { .n = 1, .elem = 4096, .p = { P(24, 1, V_LITERAL, 2) }, .want = CONF_PARAM_FIELD(24, 7) },
	r_pad = { .n = 1, .elem = 4096, .p = { P(100, 1, V_LITERAL, 0x04) }, .want = CONF_PARAM_FIELD(100, 2) },
	r_lba_max = { .n = 1, .elem = 4096, .p = { P(8, 4, V_LITERAL, 0xFFFFFFF8u) }, .good = true },
	r_lba_range = { .n = 1, .elem = 4096, .p = { P(8, 4, V_LITERAL, 0xFFFFFFFAu) }, .want = CONF_LBA_RANGE },
	r_short = { .n = 1, .elem = 4096, .data_delta = -512, .want = CONF_PARAM_LENGTH },
	r_long = { .n = 1, .elem = 4096, .data_delta = 512, .want = CONF_PARAM_LENGTH },
	r_under = { .n = 1, .elem = 4096, .edtl_512 = true, .want = CONF_PARAM_LENGTH };

#define FIG3 "Fig. 3; wire-profile.md \"Metadata mirror message\""
#define RX "wire-profile.md \"Receiver behaviour and status\""

static const struct conf_case cases[] = {
	{ "MIRROR.Large.MinimumElement", "one S/G element of 512 bytes is stored and valid", FIG3 ", Fig. 5 blocks 508-528", GOOD_NEEDS, run_large_row, &r_min },
	{ "MIRROR.Large.Maximum64Elements", "64 S/G elements of 16 KiB (1 MiB) are stored and valid", FIG3, GOOD_NEEDS, run_large_row, &r_max },
	{ "MIRROR.Large.NotifyBytesIgnored", "non-zero notification CDB bytes 1-9 are ignored by a lenient receiver", "Fig. 2; wire-profile.md \"Large path\"", GOOD_NEEDS | CONF_NEED_LENIENT, run_large_row, &r_rest_lenient },
	{ "MIRROR.Large.NotifyBytesStrict", "strict mode: notification CDB byte 3 = 10h is INVALID FIELD IN CDB at byte 3 bit 4", "wire-profile.md \"Large path\"", BAD_NEEDS | CONF_NEED_STRICT, run_large_row, &r_rest_strict },
	{ "MIRROR.Large.MetadataWrongType", "message type 0002h: INVALID FIELD IN PARAMETER LIST at byte 0 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_type },
	{ "MIRROR.Large.MetadataWrongLength", "message length 1023: INVALID FIELD IN PARAMETER LIST at byte 2 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_length },
	{ "MIRROR.Large.BlocksZero", "number of blocks 0: INVALID FIELD IN PARAMETER LIST at byte 12 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_blocks0 },
	{ "MIRROR.Large.BlocksOver1MiB", "number of blocks 2049 (over 1 MiB): INVALID FIELD IN PARAMETER LIST at byte 12 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_blocks_big },
	{ "MIRROR.Large.SgSumMismatch", "S/G byte counts that do not add up to the blocks: INVALID FIELD IN PARAMETER LIST at byte 12 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_sum },
	{ "MIRROR.Large.ElementOver16KiB", "an S/G element of 16896 bytes: INVALID FIELD IN PARAMETER LIST at byte 516 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_elem_big },
	{ "MIRROR.Large.ElementNotMultipleOf512", "an S/G byte count of 4000: INVALID FIELD IN PARAMETER LIST at byte 516 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_elem_odd },
	{ "MIRROR.Large.ElementUnaligned", "an S/G address not a multiple of 512: INVALID FIELD IN PARAMETER LIST at byte 512 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_unaligned },
	{ "MIRROR.Large.ElementOtherRegion", "an S/G element in the other region: INVALID FIELD IN PARAMETER LIST at byte 512 bit 7", FIG3 ", Fig. 4 items 424-426", BAD_NEEDS, run_large_row, &r_other_region },
	{ "MIRROR.Large.ElementPastNvram", "an S/G element past the end of the NVRAM: INVALID FIELD IN PARAMETER LIST at byte 512 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_past_nvram },
	{ "MIRROR.Large.DataAfterTerminator", "an S/G address after the terminating element: INVALID FIELD IN PARAMETER LIST at byte 528 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_after_end },
	{ "MIRROR.Large.CountAfterTerminator", "only a byte count after the terminating element: INVALID FIELD IN PARAMETER LIST at byte 532 bit 7", FIG3 "; " RX, BAD_NEEDS, run_large_row, &r_count_after_end },
	{ "MIRROR.Large.RegionOfPartner", "memory region naming the receiver's own region: INVALID FIELD IN PARAMETER LIST at byte 24 bit 7", FIG3 ", Fig. 4 items 424-426", BAD_NEEDS, run_large_row, &r_region_other },
	{ "MIRROR.Large.RegionInvalid", "memory region 2: INVALID FIELD IN PARAMETER LIST at byte 24 bit 7", FIG3, BAD_NEEDS, run_large_row, &r_region_bad },
	{ "MIRROR.Large.PadNonzero", "pad byte 100 = 04h: INVALID FIELD IN PARAMETER LIST at byte 100 bit 2", FIG3, BAD_NEEDS, run_large_row, &r_pad },
	{ "MIRROR.Large.LbaMaximum", "starting LBA + blocks = 2^32 is stored and valid", FIG3, GOOD_NEEDS, run_large_row, &r_lba_max },
	{ "MIRROR.Large.LbaOutOfRange", "starting LBA + blocks beyond 2^32: LOGICAL BLOCK ADDRESS OUT OF RANGE, no field pointer", RX, BAD_NEEDS, run_large_row, &r_lba_range },
	{ "MIRROR.Large.DataOutShorter", "data-out 512 bytes shorter than the metadata says: PARAMETER LIST LENGTH ERROR", RX, BAD_NEEDS, run_large_row, &r_short },
	{ "MIRROR.Large.DataOutLonger", "data-out 512 bytes longer than the metadata says: PARAMETER LIST LENGTH ERROR", RX, BAD_NEEDS, run_large_row, &r_long },
	{ "MIRROR.Large.TransferUnderMetadata", "expected transfer length 512, under the metadata: PARAMETER LIST LENGTH ERROR at once", RX, BAD_NEEDS, run_large_row, &r_under },
	{ "MIRROR.Large.Split4MiB", "a 4 MiB write split by the sender into four 1 MiB operations is stored and valid", "Fig. 3; wire-profile.md \"Large path\"", GOOD_NEEDS, run_split_4mib, NULL },
};

const struct conf_area conf_area_large = { "MIRROR.Large", cases, sizeof(cases) / sizeof(cases[0]) };

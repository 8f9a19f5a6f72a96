/* The sending controller's side beyond the codec and the splitter (source
 * Fig. 2 blocks 200-228, Fig. 3, Fig. 7): the user data of a test write,
 * the wire form of each operation with its data-out, the check of what the
 * receiver stored (NVRAM READBACK), and the rendering of a command's
 * outcome for people and for scripts.  Used by mirror-send(1). */
#ifndef MIRROR_SENDER_H
#define MIRROR_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- test data ---- */

enum mirror_pattern_kind {
	/* Each 512-byte block: its LBA (4 bytes, big-endian), then every
	 * byte i (4..511) of the block holds i & 0xFF, its offset. */
	MIRROR_PATTERN_LBA = 0,
	/* Every byte the same. */
	MIRROR_PATTERN_BYTE,
	/* Pseudo-random (splitmix64), seeded per block by seed and LBA, so
	 * any part of a write can be regenerated alone. */
	MIRROR_PATTERN_RANDOM
};

struct mirror_pattern {
	enum mirror_pattern_kind kind;
	uint8_t byte;
	uint64_t seed;
};

/* "lba", "0xNN" (or a decimal byte), "random:SEED".  -EINVAL with a reason
 * in why. */
int mirror_pattern_parse(const char *s, struct mirror_pattern *p, char *why, size_t why_len);
/* Fills len bytes as if buf started at block lba (len need not be a
 * multiple of 512: the last block is cut short). */
void mirror_pattern_fill(const struct mirror_pattern *p, uint64_t lba, uint8_t *buf, size_t len);

/* ---- an operation on the wire ---- */

/* Largest data-out of one operation: metadata and 1 MiB of user data. */
#define MIRROR_OP_DATA_OUT_MAX \
	(MIRROR_METADATA_BYTES + (size_t)MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)

struct mirror_op_wire {
	uint8_t cdb[16];
	unsigned cdb_len;
	size_t data_out_len;
};

/* Encodes op (mirror_op_encode) and lays its data-out out in buf: on the
 * large path the 1024-byte metadata then the op's user data, on the small
 * path the user data alone.  write_data holds the whole write (w->bytes).
 * Returns the CDB length, MIRROR_E_NOSPACE if cap is short, or the
 * encoder's error. */
int mirror_op_build(const struct mirror_profile *p, const struct mirror_op *op,
		    const struct mirror_write *w, const uint8_t *write_data, uint8_t *buf,
		    size_t cap, struct mirror_op_wire *out);

/* The NVRAM an op wrote, as ranges: consecutive S/G elements that touch
 * are merged (the ring's wrap separates them). */
struct mirror_op_range {
	uint32_t nvram_addr;
	uint32_t bytes;
	uint32_t data_offset; /* of the range's first byte in the op's user data */
};
unsigned mirror_op_ranges(const struct mirror_op *op, struct mirror_op_range *out, unsigned cap);

/* ---- verification by NVRAM READBACK ---- */

struct mirror_miscompare {
	uint32_t nvram_addr; /* first byte that differs, or the invalid block */
	bool invalid;        /* the block is not marked valid */
	uint8_t expected, got;
};

/* Compares a parsed READBACK (data included) with the bytes expected at
 * [addr, addr + bytes): 0 when every block is valid and equal; 1 and the
 * first difference in *mc otherwise, in address order (an invalid block is
 * a difference at its first byte); -EINVAL if r does not cover the range. */
int mirror_readback_compare(const struct mirror_readback *r, uint32_t addr, const uint8_t *expect,
			    uint32_t bytes, struct mirror_miscompare *mc);

/* ---- a command's outcome ---- */

/* True when the target answered INVALID COMMAND OPERATION CODE. */
bool mirror_cmd_invalid_opcode(const struct mirror_cmd *c);

/* Human text, in the manner of sg_raw: the status, the sense described
 * (mirror_sense_describe) and decoded by libsgutils2 (sg_get_sense_str),
 * the raw sense bytes, residual and latency.  transport_error is the
 * transport's message for a failed command.  Each line starts with
 * indent spaces. */
void mirror_print_outcome(FILE *out, const struct mirror_cmd *c, const char *transport_error,
			  unsigned indent, int verbose);

struct json_object;
/* Adds to obj: "status" (name, null on a transport failure), "status_byte",
 * "sense" ({key, asc, ascq, sksv, cd, field, bit, description, raw} or
 * null), "residual", "latency_us", "exit_status" and, on a transport
 * failure, "error". */
void mirror_json_add_outcome(struct json_object *obj, const struct mirror_cmd *c,
			     const char *transport_error);

/* Hex dump with an ASCII column (data-in of raw commands: INQUIRY's
 * vendor reads as text). */
void mirror_print_hex_ascii(FILE *out, const uint8_t *buf, size_t len, unsigned indent);

#ifdef __cplusplus
}
#endif
#endif

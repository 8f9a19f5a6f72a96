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

/* Reads up to cap bytes of path ("-": standard input) into buf, their
 * count in *len.  0; -errno; MIRROR_E_NOSPACE when there is more (the first
 * cap bytes are in buf). */
int mirror_data_read(const char *path, uint8_t *buf, size_t cap, size_t *len);

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

/* Adds key: the n bytes as one lowercase hex string. */
void mirror_json_add_hex(struct json_object *obj, const char *key, const uint8_t *buf, size_t n);
/* Prints obj on one line of out and frees it. */
void mirror_json_print_line(FILE *out, struct json_object *obj);

/* ---- what an answer means to a sender of mirror commands ---- */

/* INVALID FIELD IN CDB without a field pointer to a data-out command: a
 * mirror receiver always points at the field it rejects
 * (wire-profile.md), so the target judged the CDB as another command
 * (tgtd runs a data-out 0xA0 as REPORT LUNS and answers just that). */
bool mirror_cmd_taken_for_other_command(const struct mirror_cmd *c);

/* The exit status of a mirror or harness command of profile p:
 * mirror_cmd_exit_status, except that GOOD with data-in to a data-out
 * command is MIRROR_EXIT_MALFORMED (the target ran something else), and a
 * mirror opcode taken for another command is MIRROR_EXIT_INVALID_OP, as
 * sg3_utils' INVALID COMMAND OPERATION CODE. */
int mirror_cmd_mirror_exit_status(const struct mirror_profile *p, const struct mirror_cmd *c);

/* The one line that says why c's answer means "no mirror receiver" (the
 * opcode not implemented, or taken for an SPC command) or "not reached"
 * (a transport answered it itself), naming the command as what ("mirror
 * command", "harness command NVRAM READBACK") and the profile that avoids
 * it.  True with the text in buf; false when the answer needs none. */
bool mirror_cmd_explain(const struct mirror_profile *p, const struct mirror_cmd *c, const char *what,
			char *buf, size_t len);

/* ---- mirror-send's report of the commands it sends ---- */

/* Where and how: the report on out (text, or one JSON object per command
 * and line), the explanations on err after prog's name. */
struct mirror_send_view {
	FILE *out, *err;
	const char *prog;
	const struct mirror_profile *profile;
	bool json;
	int verbose; /* text: raw CDB bytes; 2: the metadata too */
};

/* mirror_send_report's flags. */
enum {
	/* A mirror or harness command: mirror_cmd_mirror_exit_status, and the
	 * JSON says so when it differs ("exit_status", "data_in_unexpected"). */
	MIRROR_SEND_MIRROR_STATUS = 1u << 0,
	/* On a status other than GOOD, mirror_cmd_explain on err. */
	MIRROR_SEND_EXPLAIN = 1u << 1,
	/* Show the data-in that came: "data_in_length" and "data_in" (hex) in
	 * JSON, a hex dump in text. */
	MIRROR_SEND_SHOW_DATA_IN = 1u << 2,
};

/* Sends c on t, waits, and reports the outcome: in JSON added to jo (the
 * object describing the command, printed and freed here; non-NULL when
 * v->json), in text mirror_print_outcome at indent 2; the explanation last.
 * Returns the exit status. */
int mirror_send_report(struct mirror_transport *t, const struct mirror_send_view *v,
		       struct mirror_cmd *c, struct json_object *jo, const char *what, unsigned flags);

/* The CDB decoded as mirror-decode(1) shows it, on v->out. */
void mirror_send_print_cdb(const struct mirror_send_view *v, const uint8_t *cdb, unsigned len);

/* --push-table: ARRAY TABLE UPDATE of a table of one volume, described,
 * sent and reported.  Returns the exit status. */
int mirror_send_table(struct mirror_transport *t, const struct mirror_send_view *v, uint8_t volume,
		      uint64_t array_serial, uint8_t array_number);

/* One op of write w: its user data copied from write_data (the whole
 * write) to buf + MIRROR_METADATA_BYTES, built (mirror_cmd_op), described
 * (text: path, LBA, NVRAM, the CDB and metadata decoded; JSON: a
 * "mirror_write" object), sent and reported.  index counts from 1; round
 * is shown when rounds > 1.  buf holds MIRROR_OP_DATA_OUT_MAX.  Returns the
 * exit status; MIRROR_EXIT_SYNTAX, with a message on err, for an op the
 * path cannot carry (a forced small path). */
int mirror_send_op(struct mirror_transport *t, const struct mirror_send_view *v,
		   const struct mirror_op *op, const struct mirror_write *w,
		   const uint8_t *write_data, uint8_t *buf, unsigned index, unsigned round,
		   unsigned rounds);

/* A whole write as mirror-send sends it. */
struct mirror_send_write {
	const struct mirror_write *w;
	const uint8_t *data;                /* its user data, w->bytes */
	struct mirror_sender_state state;   /* Fig. 7's sender state */
	enum mirror_path_policy policy;
	uint32_t first_sequence;
	unsigned rounds;                    /* sent this often, sequence numbers continuing */
	bool push_table;                    /* ARRAY TABLE UPDATE of w's volume first */
	bool verify;                        /* then mirror_send_verify of the first round */
};
/* Sends sw: the table, each op of each round (mirror_send_op), the
 * read-back; stops at the first failure.  out_buf holds
 * MIRROR_OP_DATA_OUT_MAX, in_buf MIRROR_READBACK_BUF_MAX (with verify).
 * Returns the exit status; MIRROR_EXIT_SYNTAX (and mirror_syntax_error) for
 * a write the splitter refuses. */
int mirror_send_write(struct mirror_transport *t, const struct mirror_send_view *v,
		      const struct mirror_send_write *sw, uint8_t *out_buf, uint8_t *in_buf);

/* --raw: the CDB c carries, shown (text: its bytes and direction, decoded
 * with -v when it is a mirror command in opcode and direction; JSON: a
 * "raw" object), sent and reported with the data-in that came.  Its exit
 * status is mirror_cmd_exit_status; a mirror command's is explained. */
int mirror_send_raw(struct mirror_transport *t, const struct mirror_send_view *v,
		    struct mirror_cmd *c, unsigned round, unsigned rounds);

/* --verify: NVRAM READBACK of every range the ops of a write stored
 * (mirror_op_ranges), each reported as mirror_send_report does, compared
 * with the data sent (write_data: the whole write); the first difference
 * reported (text, or a JSON "miscompare" object) and, in text, a summary.
 * buf holds MIRROR_READBACK_BUF_MAX.  Returns the exit status: the
 * READBACK's own when it failed, MIRROR_EXIT_MALFORMED for an answer that
 * is not the range asked for, MIRROR_EXIT_MISCOMPARE. */
int mirror_send_verify(struct mirror_transport *t, const struct mirror_send_view *v,
		       const struct mirror_op *ops, size_t nops, const uint8_t *write_data,
		       uint8_t *buf);

#ifdef __cplusplus
}
#endif
#endif

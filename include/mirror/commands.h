/* Command builders: each fills a struct mirror_cmd (CDB, direction, buffers)
 * for one command from its parameters, so that every sender (mirror-send,
 * mirror-load, the conformance suite) builds it one way; and the parse of
 * the answers they read.  The builders clear *c first (c->user too: set it
 * after) and never send anything. */
#ifndef MIRROR_COMMANDS_H
#define MIRROR_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/array_table.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ARRAY TABLE UPDATE (harness; array_table.h) ---- */

/* The parameter list already laid out: param_len bytes at param, all of
 * them data-out (a caller that wants a data-out of another length changes
 * c->data_out_len after).  0, or the CDB encoder's error
 * (MIRROR_E_FIELD_WIDTH for a length beyond the CDB's 24 bits). */
int mirror_cmd_table_update(struct mirror_cmd *c, const struct mirror_profile *p,
			    const uint8_t *param, uint32_t param_len);
/* Table t: its parameter list encoded into buf (cap bytes; a buffer of
 * MIRROR_TABLE_MAX_BYTES always suffices), then as above.  0;
 * MIRROR_E_NOSPACE when cap is short. */
int mirror_cmd_table_push(struct mirror_cmd *c, const struct mirror_profile *p,
			  const struct mirror_array_table *t, uint8_t *buf, size_t cap);

/* ---- NVRAM READBACK (harness; nvram.h) ---- */

/* Room for the answer to any one READBACK: the header, the bitmap and the
 * data of 2048 blocks. */
#define MIRROR_READBACK_BUF_MAX                                               \
	(MIRROR_READBACK_HEADER_BYTES + (MIRROR_LARGE_MAX_BLOCKS + 31u) / 32u * 4u + \
	 (size_t)MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)

/* blocks blocks from nvram_addr (the bitmap alone when validity_only),
 * data-in into buf, as long as the answer (mirror_readback_response_len).
 * 0; -EINVAL for blocks not 1..2048; MIRROR_E_NOSPACE when cap is short. */
int mirror_cmd_readback(struct mirror_cmd *c, const struct mirror_profile *p, uint32_t nvram_addr,
			uint32_t blocks, bool validity_only, uint8_t *buf, size_t cap);
/* The answer to a READBACK c carried (the range and VALIDITY ONLY are read
 * from c's CDB), parsed into r with pointers into c->data_in.  The status is
 * the caller's to check first.  0; MIRROR_E_TRUNCATED or -EINVAL from
 * mirror_readback_parse; -ERANGE when the answer covers another range than
 * the one asked for. */
int mirror_cmd_readback_parse(const struct mirror_cmd *c, struct mirror_readback *r);

/* ---- READ CAPACITY(10) (SBC-3 5.15) ---- */

#define MIRROR_READ_CAPACITY10_LEN 8u

/* Data-in of its 8 bytes into buf. */
void mirror_cmd_read_capacity10(struct mirror_cmd *c, uint8_t *buf);
/* Its answer: the LUN's blocks (the RETURNED LOGICAL BLOCK ADDRESS, bytes
 * 0-3, plus one) and their length (bytes 4-7).  0; MIRROR_E_TRUNCATED when
 * fewer than 8 bytes came; -ERANGE for a block length of 0. */
int mirror_cmd_read_capacity10_parse(const struct mirror_cmd *c, uint64_t *blocks,
				     uint32_t *block_size);

/* ---- WRITE(10) (SBC-3 5.32) ---- */

/* blocks blocks at lba, data-out of len bytes at data. */
void mirror_cmd_write10(struct mirror_cmd *c, uint32_t lba, uint16_t blocks, const uint8_t *data,
			uint32_t len);

/* ---- a mirror operation (path.h) ---- */

/* Op, whose user data (op->blocks * 512 bytes) is already in place at
 * buf + MIRROR_METADATA_BYTES: its CDB (mirror_op_encode); on the large path
 * the metadata goes into buf's first 1024 bytes and the data-out is buf,
 * metadata and data; on the small path the data-out is the data alone.
 * cap is buf's size.  0; MIRROR_E_NOSPACE; or the encoder's error (a small
 * op whose elements do not fit the CDB). */
int mirror_cmd_op(struct mirror_cmd *c, const struct mirror_profile *p, const struct mirror_op *op,
		  const struct mirror_write *w, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

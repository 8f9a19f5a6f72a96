/* libFuzzer target: the host-port logical unit's SCSI layer
 * (app/pair/sbc.h, mirror_sbc_decode), a sequence of commands against one
 * logical unit, with access state changes and resets in between.
 *
 * Input: records of [selector][EDTL, 4 bytes big-endian][CDB length][CDB].
 * Selector bits 1-0 the data direction (0 none, 1 and 3 in, 2 out),
 * bit 2 no logical unit at the LUN, bits 5-3 the local access state to set
 * before the command (0-4 as the alua_states table, 5-7 leave it), bit 6
 * a LOGICAL UNIT RESET before it, bit 7 the second I_T nexus.  A
 * PERSISTENT RESERVE OUT verdict takes the next 24 input bytes (zeros
 * past the end) as its parameter list.  The first
 * input byte picks the capacity (bit 0: over 2^32 blocks).  The CDB is an
 * exact-size heap copy, so that AddressSanitizer sees any read past it.
 *
 * Properties: no memory error or UB; every verdict is one of the six
 * kinds; GOOD carries no sense and an empty reason, RESERVATION CONFLICT
 * no sense, no data and a reason, CHECK CONDITION
 * carries 18 bytes of fixed-format sense (70h) and a reason; data-in never
 * exceeds the EDTL nor the verdict's buffer; a media verdict lies inside
 * the medium and moves exactly its blocks; a RESPOND verdict becomes an
 * engine action. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/pair/sbc.h"
#include "iscsi/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum mirror_alua_state alua_states[] = {
	MIRROR_ALUA_ACTIVE_OPTIMIZED, MIRROR_ALUA_ACTIVE_NON_OPTIMIZED, MIRROR_ALUA_STANDBY,
	MIRROR_ALUA_UNAVAILABLE, MIRROR_ALUA_TRANSITIONING,
};

static struct mirror_sbc_lu lu;
static struct mirror_sbc_port port;
static struct mirror_sbc_verdict v;

static void check_verdict(const struct mirror_sbc_lu *l, enum mirror_xfer_dir dir, uint32_t edtl)
{
	struct mirror_tgt_action act;

	if (memchr(v.why, '\0', sizeof(v.why)) == NULL)
		abort();
	switch (v.kind) {
	case MIRROR_SBC_RESPOND:
		if (v.data_len > MIRROR_SBC_DATA_MAX || v.data_len > (dir == MIRROR_DIR_IN ? edtl : 0))
			abort();
		if (mirror_sbc_to_action(&v, &act) != 0)
			abort();
		if (v.status == MIRROR_STATUS_GOOD) {
			if (v.sense_len != 0 || v.why[0] != '\0')
				abort();
		} else if (v.status == MIRROR_SBC_STATUS_RESERVATION_CONFLICT) {
			if (v.sense_len != 0 || v.data_len != 0 || v.why[0] == '\0')
				abort();
		} else if (v.status == MIRROR_STATUS_CHECK_CONDITION) {
			if (v.sense_len != MIRROR_FIXED_SENSE_LEN || v.sense[0] != 0x70 ||
			    v.data_len != 0 || v.why[0] == '\0')
				abort();
		} else {
			abort();
		}
		return;
	case MIRROR_SBC_READ:
	case MIRROR_SBC_WRITE:
	case MIRROR_SBC_SYNC:
	case MIRROR_SBC_COMPARE:
		break;
	case MIRROR_SBC_PR_OUT:
		/* the 24-byte parameter list, from a data-out buffer */
		if (!l || v.status != MIRROR_STATUS_GOOD || dir != MIRROR_DIR_OUT ||
		    v.data_len != 24 || edtl < 24)
			abort();
		return;
	default:
		abort();
	}
	/* media access: only with a logical unit, GOOD, inside the medium */
	if (!l || v.status != MIRROR_STATUS_GOOD || v.sense_len != 0)
		abort();
	if (v.lba >= l->cfg.blocks || v.blocks > l->cfg.blocks - v.lba)
		abort();
	if (v.kind == MIRROR_SBC_SYNC)
		return;
	if (v.kind == MIRROR_SBC_COMPARE) {
		if (v.blocks == 0 || v.blocks > MIRROR_SBC_MAX_TRANSFER || dir != MIRROR_DIR_OUT ||
		    v.data_len > edtl ||
		    v.data_len != (v.repeat ? 1 : v.blocks) * MIRROR_SBC_BLOCK_SIZE)
			abort();
		return;
	}
	if (v.blocks == 0 || v.blocks > MIRROR_SBC_MAX_TRANSFER)
		abort();
	if (v.kind == MIRROR_SBC_WRITE &&
	    (dir != MIRROR_DIR_OUT ||
	     v.data_len != (v.repeat ? 1 : v.blocks) * MIRROR_SBC_BLOCK_SIZE ||
	     v.data_len > edtl))
		abort();
	/* a READ without a data-in buffer moves nothing: all overflow */
	if (v.kind == MIRROR_SBC_READ &&
	    (dir == MIRROR_DIR_OUT || v.data_len > (dir == MIRROR_DIR_IN ? edtl : 0) ||
	     v.data_len + v.data_overflow != v.blocks * MIRROR_SBC_BLOCK_SIZE))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_sbc_lu_config c;
	const uint32_t luns[] = { 0, 7 };
	char why[MIRROR_SBC_WHY_LEN];
	size_t off = 1;

	if (size < 1)
		return 0;
	memset(&c, 0, sizeof(c));
	c.lun = 0;
	c.blocks = (data[0] & 1) ? (1ull << 33) + 5 : 0x10000;
	c.naa[0] = 0x60;
	memcpy(c.serial, "FUZZ", 5);
	c.local_tpg = c.local_rel_port = 1;
	c.remote_tpg = c.remote_rel_port = 2;
	c.transition_secs = 7;
	c.local_state = MIRROR_ALUA_ACTIVE_OPTIMIZED;
	c.remote_state = MIRROR_ALUA_STANDBY;
	if (mirror_sbc_lu_init(&lu, &c, why, sizeof(why)) != 0 ||
	    mirror_sbc_port_init(&port, luns, 2, why, sizeof(why)) != 0)
		abort();
	while (off + 6 <= size) {
		uint8_t sel = data[off];
		uint32_t edtl = (uint32_t)data[off + 1] << 24 | (uint32_t)data[off + 2] << 16 |
				(uint32_t)data[off + 3] << 8 | data[off + 4];
		size_t len = data[off + 5];
		static const enum mirror_xfer_dir dirs[] = { MIRROR_DIR_NONE, MIRROR_DIR_IN,
							     MIRROR_DIR_OUT, MIRROR_DIR_IN };
		enum mirror_xfer_dir dir = dirs[sel & 3];
		struct mirror_sbc_lu *l = (sel & 4) ? NULL : &lu;
		uint64_t nexus = (sel & 0x80) ? 2 : 1;
		unsigned st = (sel >> 3) & 7;
		uint8_t *cdb;

		off += 6;
		if (len > size - off)
			len = size - off;
		if (st < sizeof(alua_states) / sizeof(alua_states[0]) &&
		    mirror_sbc_alua_set(&lu, alua_states[st], MIRROR_ALUA_STANDBY) < 0)
			abort();
		if (sel & 0x40)
			mirror_sbc_reset(&lu, nexus);
		cdb = malloc(len ? len : 1);
		if (!cdb)
			abort();
		memcpy(cdb, data + off, len);
		off += len;
		memset(&v, 0x5A, sizeof(v));
		if (mirror_sbc_decode(l, &port, nexus, cdb, (unsigned)len, dir, edtl, &v) != 0)
			abort();
		check_verdict(l, dir, edtl);
		if (v.kind == MIRROR_SBC_PR_OUT) {
			uint8_t param[24] = { 0 };
			size_t n = size - off < sizeof(param) ? size - off : sizeof(param);
			memcpy(param, data + off, n);
			off += n;
			if (mirror_sbc_pr_out(l, nexus, "iqn.2024-01.org.mirrortest:fuzz", cdb,
					      (unsigned)len, param, sizeof(param), &v) != 0 ||
			    v.kind != MIRROR_SBC_RESPOND)
				abort();
			check_verdict(l, MIRROR_DIR_NONE, 0);
		}
		free(cdb);
	}
	return 0;
}

/* The block commands (SBC-3): READ CAPACITY(10)/(16), READ(10)/(16),
 * WRITE(10)/(16), SYNCHRONIZE CACHE(10)/(16).  Media access becomes a
 * verdict for the controller (READ, WRITE, SYNC) once the range is known
 * to be inside the medium. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

/* ---- READ CAPACITY ---- */

/* The LOGICAL BLOCK ADDRESS field of READ CAPACITY is meaningful only with
 * PMI (SBC-2 5.10; both obsolete in SBC-3): without PMI it must be 0. */
static int capacity_lba_check(struct sbc_ctx *x, uint64_t lba, bool pmi)
{
	if (!pmi && lba != 0)
		return sbc_invalid(x, 0x24, 0x00, 2, 7,
				   "%s: CDB byte 2: LOGICAL BLOCK ADDRESS %" PRIu64 " without PMI",
				   x->cmd->name, lba);
	return 0;
}

/* 8 bytes, no allocation length: RETURNED LOGICAL BLOCK ADDRESS (the last
 * block, FFFFFFFFh when it does not fit: the host then asks READ
 * CAPACITY(16)) and LOGICAL BLOCK LENGTH IN BYTES. */
int sbc_read_capacity10(struct sbc_ctx *x)
{
	uint64_t last = x->lu->cfg.blocks - 1;
	uint8_t *d = x->v->data;

	if (capacity_lba_check(x, get_be32(x->cdb + 2), x->cdb[8] & 0x01) < 0)
		return -1;
	put_be32(d, last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)last);
	put_be32(d + 4, MIRROR_SBC_BLOCK_SIZE);
	return sbc_data(x, 8, 8);
}

/* 32 bytes: the last block (8 bytes), the block length, then P_TYPE /
 * PROT_EN 0, one logical block per physical block, LBPME 0, lowest
 * aligned LBA 0, the rest reserved. */
int sbc_read_capacity16(struct sbc_ctx *x)
{
	uint8_t *d = x->v->data;

	if (capacity_lba_check(x, get_be64(x->cdb + 2), x->cdb[14] & 0x01) < 0)
		return -1;
	memset(d, 0, 32);
	put_be64(d, x->lu->cfg.blocks - 1);
	put_be32(d + 8, MIRROR_SBC_BLOCK_SIZE);
	return sbc_data(x, 32, get_be32(x->cdb + 10));
}

/* ---- the range of a command ---- */

/* Every block of [lba, lba + n) inside the medium, and lba itself even
 * when n is 0 (SBC-3 4.5: an LBA beyond the capacity is out of range):
 * LOGICAL BLOCK ADDRESS OUT OF RANGE 21h/00h. */
static int range_check(struct sbc_ctx *x, uint64_t lba, uint64_t n)
{
	uint64_t cap = x->lu->cfg.blocks;

	if (lba >= cap || n > cap - lba)
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00,
				 "%s: LBA %" PRIu64 " + %" PRIu64 " blocks: the last block is %" PRIu64,
				 x->cmd->name, lba, n, cap - 1);
	return 0;
}

/* ---- READ and WRITE ---- */

/* len_byte: where TRANSFER LENGTH starts, for the field pointer. */
static int media(struct sbc_ctx *x, enum mirror_sbc_kind kind, uint64_t lba, uint32_t len,
		 unsigned len_byte)
{
	struct mirror_sbc_verdict *v = x->v;
	uint32_t bytes;
	uint32_t max = sbc_max_transfer(x->lu);

	/* Block Limits' MAXIMUM TRANSFER LENGTH (SBC-3 6.5.3): more is
	 * INVALID FIELD IN CDB. */
	if (len > max)
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: CDB byte %u: TRANSFER LENGTH %u is over the maximum of %u blocks",
				   x->cmd->name, len_byte, len, max);
	if (range_check(x, lba, len) < 0)
		return -1;
	/* SBC-3: a TRANSFER LENGTH of 0 transfers nothing and is no error. */
	if (len == 0)
		return sbc_good(x);
	bytes = len * MIRROR_SBC_BLOCK_SIZE;
	/* A write needs all its data: less data-out than the CDB says
	 * cannot be a write of those blocks (LIO refuses the overflow too). */
	if (kind == MIRROR_SBC_WRITE && (x->dir != MIRROR_DIR_OUT || x->edtl < bytes))
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: CDB byte %u: TRANSFER LENGTH %u blocks is %u bytes; %u bytes of data-out expected",
				   x->cmd->name, len_byte, len, bytes,
				   x->dir == MIRROR_DIR_OUT ? x->edtl : 0);
	v->kind = kind;
	v->status = MIRROR_STATUS_GOOD;
	v->lba = lba;
	v->blocks = len;
	v->fua = (x->cdb[1] & 0x08) != 0;
	v->data_len = bytes;
	return 0;
}

int sbc_read10(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_READ, get_be32(x->cdb + 2), get_be16(x->cdb + 7), 7);
}

/* (6) (SBC-3 5.10, 5.31): a 21-bit LBA in byte 1 bits 4-0 and bytes 2-3,
 * TRANSFER LENGTH 0 meaning 256 blocks; no DPO or FUA (byte 1 bit 3 is
 * part of the LBA). */
static int rw6(struct sbc_ctx *x, enum mirror_sbc_kind kind)
{
	uint32_t lba = (uint32_t)(x->cdb[1] & 0x1f) << 16 | get_be16(x->cdb + 2);
	uint32_t len = x->cdb[4] ? x->cdb[4] : 256u;

	if (media(x, kind, lba, len, 4) < 0)
		return -1;
	x->v->fua = false;
	return 0;
}

int sbc_read6(struct sbc_ctx *x)
{
	return rw6(x, MIRROR_SBC_READ);
}

int sbc_write6(struct sbc_ctx *x)
{
	return rw6(x, MIRROR_SBC_WRITE);
}

/* PRE-FETCH: nothing to load -- reads come from the array with the
 * newest cached blocks over them whatever is prefetched -- so GOOD once
 * the range is inside the medium (SBC-3 5.9: GOOD when the blocks are
 * not all going to stay in the cache, CONDITION MET is never promised). */
static int prefetch(struct sbc_ctx *x, uint64_t lba, uint32_t len)
{
	if (range_check(x, lba, len) < 0)
		return -1;
	return sbc_good(x);
}

int sbc_prefetch10(struct sbc_ctx *x)
{
	return prefetch(x, get_be32(x->cdb + 2), get_be16(x->cdb + 7));
}

int sbc_prefetch16(struct sbc_ctx *x)
{
	return prefetch(x, get_be64(x->cdb + 2), get_be32(x->cdb + 10));
}

/* WRITE SAME: one block of data-out written to every block of the range,
 * a WRITE verdict with repeat.  NUMBER OF LOGICAL BLOCKS 0 ("to the end
 * of the medium") is refused, as Block Limits' WSNZ says, and more than
 * its MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB (SBC-3 6.5.3). */
static int write_same(struct sbc_ctx *x, uint64_t lba, uint32_t n, unsigned len_byte)
{
	struct mirror_sbc_verdict *v = x->v;
	uint32_t max = sbc_max_transfer(x->lu);

	if (n == 0 || n > max)
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: CDB byte %u: NUMBER OF LOGICAL BLOCKS %u: 1 to %u",
				   x->cmd->name, len_byte, n, max);
	if (range_check(x, lba, n) < 0)
		return -1;
	if (x->dir != MIRROR_DIR_OUT || x->edtl < MIRROR_SBC_BLOCK_SIZE)
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: one block of data-out expected, %u bytes", x->cmd->name,
				   x->dir == MIRROR_DIR_OUT ? x->edtl : 0);
	v->kind = MIRROR_SBC_WRITE;
	v->status = MIRROR_STATUS_GOOD;
	v->lba = lba;
	v->blocks = n;
	v->repeat = true;
	v->data_len = MIRROR_SBC_BLOCK_SIZE;
	return 0;
}

int sbc_write_same10(struct sbc_ctx *x)
{
	return write_same(x, get_be32(x->cdb + 2), get_be16(x->cdb + 7), 7);
}

int sbc_write_same16(struct sbc_ctx *x)
{
	return write_same(x, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10);
}

int sbc_read12(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_READ, get_be32(x->cdb + 2), get_be32(x->cdb + 6), 6);
}

int sbc_write12(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_WRITE, get_be32(x->cdb + 2), get_be32(x->cdb + 6), 6);
}

/* WRITE AND VERIFY: a write that is on the medium when it completes, so
 * FUA.  BYTCHK 1 asks to compare the data-out with what was written: the
 * blocks acknowledged are those bytes (NVRAM, mirrored), so the
 * comparison cannot fail and is not made. */
static int write_verify(struct sbc_ctx *x, uint64_t lba, uint32_t len, unsigned len_byte)
{
	if (media(x, MIRROR_SBC_WRITE, lba, len, len_byte) < 0)
		return -1;
	x->v->fua = x->v->kind == MIRROR_SBC_WRITE;
	return 0;
}

int sbc_write_verify10(struct sbc_ctx *x)
{
	return write_verify(x, get_be32(x->cdb + 2), get_be16(x->cdb + 7), 7);
}

int sbc_write_verify12(struct sbc_ctx *x)
{
	return write_verify(x, get_be32(x->cdb + 2), get_be32(x->cdb + 6), 6);
}

int sbc_write_verify16(struct sbc_ctx *x)
{
	return write_verify(x, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10);
}

/* VERIFY (SBC-3 5.33; BYTCHK as SBC-4 5.34, byte 1 bits 2-1): 00b checks
 * the medium only -- every block in range is readable from the array or
 * the cache, nothing more to do; 01b compares as many blocks of data-out;
 * 11b compares one block of data-out with each block; 10b is reserved. */
static int verify(struct sbc_ctx *x, uint64_t lba, uint32_t len, unsigned len_byte)
{
	struct mirror_sbc_verdict *v = x->v;
	unsigned bytchk = (x->cdb[1] >> 1) & 3u;
	uint32_t bytes;

	if (bytchk == 2)
		return sbc_invalid(x, 0x24, 0x00, 1, 2, "%s: CDB byte 1 bit 2: BYTCHK 10b is reserved",
				   x->cmd->name);
	if (len > sbc_max_transfer(x->lu))
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: CDB byte %u: VERIFICATION LENGTH %u is over the maximum of %u blocks",
				   x->cmd->name, len_byte, len, sbc_max_transfer(x->lu));
	if (range_check(x, lba, len) < 0)
		return -1;
	if (len == 0 || bytchk == 0)
		return sbc_good(x);
	bytes = bytchk == 3 ? MIRROR_SBC_BLOCK_SIZE : len * MIRROR_SBC_BLOCK_SIZE;
	if (x->dir != MIRROR_DIR_OUT || x->edtl < bytes)
		return sbc_invalid(x, 0x24, 0x00, len_byte, 7,
				   "%s: CDB byte %u: BYTCHK %u over %u blocks needs %u bytes of data-out, %u expected",
				   x->cmd->name, len_byte, bytchk, len, bytes,
				   x->dir == MIRROR_DIR_OUT ? x->edtl : 0);
	v->kind = MIRROR_SBC_COMPARE;
	v->status = MIRROR_STATUS_GOOD;
	v->lba = lba;
	v->blocks = len;
	v->repeat = bytchk == 3;
	v->data_len = bytes;
	return 0;
}

int sbc_verify10(struct sbc_ctx *x)
{
	return verify(x, get_be32(x->cdb + 2), get_be16(x->cdb + 7), 7);
}

int sbc_verify12(struct sbc_ctx *x)
{
	return verify(x, get_be32(x->cdb + 2), get_be32(x->cdb + 6), 6);
}

int sbc_verify16(struct sbc_ctx *x)
{
	return verify(x, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10);
}

int sbc_read16(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_READ, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10);
}

int sbc_write10(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_WRITE, get_be32(x->cdb + 2), get_be16(x->cdb + 7), 7);
}

int sbc_write16(struct sbc_ctx *x)
{
	return media(x, MIRROR_SBC_WRITE, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10);
}

/* ---- SYNCHRONIZE CACHE ---- */

/* NUMBER OF LOGICAL BLOCKS 0: from lba to the last block.  IMMED (byte 1
 * bit 1) is passed on: the controller may answer before the flush. */
static int sync_cache(struct sbc_ctx *x, uint64_t lba, uint64_t n)
{
	struct mirror_sbc_verdict *v = x->v;
	uint64_t cap = x->lu->cfg.blocks;

	if (range_check(x, lba, n) < 0)
		return -1;
	v->kind = MIRROR_SBC_SYNC;
	v->status = MIRROR_STATUS_GOOD;
	v->lba = lba;
	v->all = n == 0;
	v->blocks = n == 0 ? cap - lba : n;
	v->immed = (x->cdb[1] & 0x02) != 0;
	return 0;
}

int sbc_sync10(struct sbc_ctx *x)
{
	return sync_cache(x, get_be32(x->cdb + 2), get_be16(x->cdb + 7));
}

int sbc_sync16(struct sbc_ctx *x)
{
	return sync_cache(x, get_be64(x->cdb + 2), get_be32(x->cdb + 10));
}

/* ---- ORWRITE(16) (SBC-3 5.8) ---- */

/* A WRITE verdict whose data-out the controller ORs into the blocks (the
 * read, the OR and the entry into the cache in one step: host.c).  The
 * checks are WRITE(16)'s: MAXIMUM TRANSFER LENGTH, the range (an LBA out
 * of range even with TRANSFER LENGTH 0), DPO/FUA accepted (the Caching
 * page's DPOFUA), ORPROTECT refused in the table. */
int sbc_orwrite16(struct sbc_ctx *x)
{
	if (media(x, MIRROR_SBC_WRITE, get_be64(x->cdb + 2), get_be32(x->cdb + 10), 10) < 0)
		return -1;
	x->v->or_data = x->v->kind == MIRROR_SBC_WRITE;
	return 0;
}

/* ---- GET LBA STATUS (SBC-3 5.16) ---- */

/* Every block is mapped (no logical block provisioning: LBPME 0 in READ
 * CAPACITY(16)), so the answer is one LBA status descriptor (SBC-3
 * 5.16.2.2) from the STARTING LOGICAL BLOCK ADDRESS to the last block,
 * PROVISIONING STATUS 0h (mapped).  Its NUMBER OF LOGICAL BLOCKS is 32
 * bits: a longer extent is cut there, and the client asks again from
 * where it ends.  A starting LBA beyond the last block is LOGICAL BLOCK
 * ADDRESS OUT OF RANGE. */
int sbc_get_lba_status(struct sbc_ctx *x)
{
	uint64_t lba = get_be64(x->cdb + 2), cap = x->lu->cfg.blocks;
	uint8_t *d = x->v->data;

	if (lba >= cap)
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00,
				 "%s: STARTING LOGICAL BLOCK ADDRESS %" PRIu64 ": the last block is %" PRIu64,
				 x->cmd->name, lba, cap - 1);
	memset(d, 0, 24);
	put_be32(d, 20); /* PARAMETER DATA LENGTH: the bytes after it */
	put_be64(d + 8, lba);
	put_be32(d + 16, sbc_min32(cap - lba, 0xFFFFFFFFu));
	return sbc_data(x, 24, get_be32(x->cdb + 10));
}

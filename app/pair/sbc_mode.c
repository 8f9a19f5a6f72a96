/* MODE SENSE(6) and (10) (SPC-4 6.11, 6.12; the mode parameter header and
 * block descriptors of SPC-4 7.5.4-7.5.6 with SBC-3 6.4.1-6.4.2): the
 * Caching page 08h (SBC-3 6.4.5), the Control page 0Ah (SPC-4 7.5.7), and
 * 3Fh for both.  Nothing is changeable (no MODE SELECT) and nothing is
 * saved: page control 11b is SAVING PARAMETERS NOT SUPPORTED (39h/00h). */
#include "config.h"

#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

#define PC_CURRENT 0u
#define PC_CHANGEABLE 1u
#define PC_DEFAULT 2u
#define PC_SAVED 3u
#define PAGE_ALL 0x3Fu

/* Device-specific parameter of a direct-access device (SBC-3 6.4.1):
 * WP 0, DPOFUA 1 (FUA is honoured by READ and WRITE). */
#define DEVICE_SPECIFIC_DPOFUA 0x10

/* Caching page, 20 bytes.  WCE (byte 2 bit 2) is 0 in every column: the
 * write cache is non-volatile and mirrored into the partner's NVRAM before
 * a write is acknowledged, so every acknowledged write is already stable
 * and the host must not think it needs SYNCHRONIZE CACHE to make it so.
 * RCD 0: reads may be served from the cache. */
static unsigned page_caching(uint8_t *p, unsigned pc)
{
	(void)pc;
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 0x12;
	return 20;
}

/* Control page, 12 bytes.  TST 000b (one task set), QUEUE ALGORITHM
 * MODIFIER 0 (restricted reordering), QERR 00b, UA_INTLCK_CTRL 00b (a
 * reported unit attention is cleared, sbc_ua.c), D_SENSE 0 (fixed-format
 * sense, all this layer builds), GLTSD 1 (no log parameters are saved);
 * the changeable column is all zero. */
static unsigned page_control(uint8_t *p, unsigned pc)
{
	memset(p, 0, 12);
	p[0] = 0x0A;
	p[1] = 0x0A;
	if (pc != PC_CHANGEABLE)
		p[2] = 0x02; /* GLTSD */
	return 12;
}

static const struct mode_page {
	uint8_t code;
	unsigned (*build)(uint8_t *p, unsigned pc);
} mode_pages[] = {
	/* ascending: the order of page 3Fh (SPC-4 6.11) */
	{ 0x08, page_caching },
	{ 0x0A, page_control },
};

struct mode_request {
	unsigned pc, page, subpage;
	bool dbd, llbaa;
};

static int mode_parse(struct sbc_ctx *x, struct mode_request *r)
{
	const uint8_t *c = x->cdb;
	bool known = false;

	r->dbd = (c[1] & 0x08) != 0;
	r->pc = c[2] >> 6;
	r->page = c[2] & 0x3fu;
	r->subpage = c[3];
	if (r->pc == PC_SAVED)
		return sbc_invalid(x, 0x39, 0x00, 2, 7,
				   "%s: CDB byte 2 bit 7: PC 11b, saved values are not supported",
				   x->cmd->name);
	for (size_t i = 0; i < SBC_ARRAY_LEN(mode_pages); i++)
		known |= mode_pages[i].code == r->page;
	if (!known && r->page != PAGE_ALL)
		return sbc_invalid(x, 0x24, 0x00, 2, 5,
				   "%s: CDB byte 2 bit 5: mode page %02Xh is not supported",
				   x->cmd->name, r->page);
	/* No subpages: 00h, or FFh (the page and all its subpages). */
	if (r->subpage != 0x00 && r->subpage != 0xFF)
		return sbc_invalid(x, 0x24, 0x00, 3, 7,
				   "%s: CDB byte 3: subpage %02Xh is not supported", x->cmd->name,
				   r->subpage);
	return 0;
}

/* Block descriptors (SBC-3 6.4.2): short, 8 bytes (NUMBER OF LOGICAL
 * BLOCKS FFFFFFFFh when the count does not fit), or long LBA, 16 bytes.
 * Nothing in them is changeable. */
static unsigned put_block_descriptor(const struct mirror_sbc_lu *lu, uint8_t *p, bool longlba,
				     unsigned pc)
{
	uint64_t blocks = pc == PC_CHANGEABLE ? 0 : lu->cfg.blocks;
	uint32_t length = pc == PC_CHANGEABLE ? 0 : MIRROR_SBC_BLOCK_SIZE;

	if (longlba) {
		memset(p, 0, 16);
		put_be64(p, blocks);
		put_be32(p + 12, length);
		return 16;
	}
	memset(p, 0, 8);
	put_be32(p, blocks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)blocks);
	put_be24(p + 5, length);
	return 8;
}

static unsigned put_pages(uint8_t *p, const struct mode_request *r)
{
	unsigned n = 0;

	for (size_t i = 0; i < SBC_ARRAY_LEN(mode_pages); i++)
		if (r->page == PAGE_ALL || r->page == mode_pages[i].code)
			n += mode_pages[i].build(p + n, r->pc);
	return n;
}

/* Mode parameter header(6), 4 bytes: MODE DATA LENGTH (the bytes after
 * itself), MEDIUM TYPE 0, DEVICE-SPECIFIC PARAMETER, BLOCK DESCRIPTOR
 * LENGTH. */
int sbc_mode_sense6(struct sbc_ctx *x)
{
	struct mode_request r;
	uint8_t *d = x->v->data;
	unsigned n = 4;

	if (mode_parse(x, &r) < 0)
		return -1;
	memset(d, 0, 4);
	if (!r.dbd)
		n += put_block_descriptor(x->lu, d + n, false, r.pc);
	d[3] = (uint8_t)(n - 4);
	n += put_pages(d + n, &r);
	d[0] = (uint8_t)(n - 1);
	d[2] = DEVICE_SPECIFIC_DPOFUA;
	return sbc_data(x, n, x->cdb[4]);
}

/* Mode parameter header(10), 8 bytes: MODE DATA LENGTH (2 bytes), MEDIUM
 * TYPE, DEVICE-SPECIFIC PARAMETER, LONGLBA (byte 4 bit 0), BLOCK
 * DESCRIPTOR LENGTH (bytes 6-7).  LLBAA (CDB byte 1 bit 4) asks for the
 * long descriptor. */
int sbc_mode_sense10(struct sbc_ctx *x)
{
	struct mode_request r;
	uint8_t *d = x->v->data;
	unsigned n = 8;

	if (mode_parse(x, &r) < 0)
		return -1;
	r.llbaa = (x->cdb[1] & 0x10) != 0;
	memset(d, 0, 8);
	if (!r.dbd) {
		n += put_block_descriptor(x->lu, d + n, r.llbaa, r.pc);
		d[4] = r.llbaa ? 0x01 : 0x00;
	}
	put_be16(d + 6, (uint16_t)(n - 8));
	n += put_pages(d + n, &r);
	put_be16(d, (uint16_t)(n - 2));
	d[3] = DEVICE_SPECIFIC_DPOFUA;
	return sbc_data(x, n, get_be16(x->cdb + 7));
}

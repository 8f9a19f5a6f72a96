/* The rule table: one row per rule of the wire profile.  It drives the
 * sense a receiver answers with, the error code a decoder returns and the
 * field names in every message. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/finding.h>
#include <mirror/sense.h>

#include "wire/rules.h"

#define ILLEGAL MIRROR_SK_ILLEGAL_REQUEST
#define ERR MIRROR_SEV_ERROR
#define WARN MIRROR_SEV_WARNING

/* ASC/ASCQ: 24h/00h INVALID FIELD IN CDB, 26h/00h INVALID FIELD IN PARAMETER
 * LIST, 1Ah/00h PARAMETER LIST LENGTH ERROR, 21h/00h LBA OUT OF RANGE,
 * 20h/00h INVALID COMMAND OPERATION CODE (SPC-5 table F.1). */
static const struct mirror_rule_info rule_table[MIRROR_RULE_COUNT_] = {
	[MIRROR_RULE_TRUNCATED] = { MIRROR_RULE_TRUNCATED, "truncated", "length", ERR, ILLEGAL, 0x1A, 0x00, false },
	[MIRROR_RULE_OPCODE_UNKNOWN] = { MIRROR_RULE_OPCODE_UNKNOWN, "opcode.unknown", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_SMALL_OPCODE] = { MIRROR_RULE_SMALL_OPCODE, "small.opcode", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_SMALL_DESC_NVRAM] = { MIRROR_RULE_SMALL_DESC_NVRAM, "small.descriptor_nvram", "cache element index", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_DESC_REGION] = { MIRROR_RULE_SMALL_DESC_REGION, "small.descriptor_region", "cache element index", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_BC1_ZERO] = { MIRROR_RULE_SMALL_BC1_ZERO, "small.bc1_zero", "S/G element 1 block count", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_BC_TOO_LARGE] = { MIRROR_RULE_SMALL_BC_TOO_LARGE, "small.bc_too_large", "S/G element block count", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO] = { MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO, "small.absent_low_nonzero", "cache element index low2", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_ELEMENT_AFTER_ABSENT] = { MIRROR_RULE_SMALL_ELEMENT_AFTER_ABSENT, "small.element_after_absent", "S/G element block count", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_CONTROL_HAZARD] = { MIRROR_RULE_SMALL_CONTROL_HAZARD, "small.control_hazard", "starting LBA (CONTROL byte position)", WARN, 0, 0, 0, true },
	[MIRROR_RULE_CDB_TRAILING] = { MIRROR_RULE_CDB_TRAILING, "cdb.trailing", "bytes past the CDB", WARN, 0, 0, 0, true },
	[MIRROR_RULE_NOTIFY_OPCODE] = { MIRROR_RULE_NOTIFY_OPCODE, "notify.opcode", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_NOTIFY_RESERVED] = { MIRROR_RULE_NOTIFY_RESERVED, "notify.reserved", "bytes 1-9 (ignored)", WARN, 0, 0, 0, true },
	[MIRROR_RULE_NOTIFY_RESERVED_STRICT] = { MIRROR_RULE_NOTIFY_RESERVED_STRICT, "notify.reserved_strict", "bytes 1-9", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_MD_TYPE] = { MIRROR_RULE_MD_TYPE, "metadata.type", "message type", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_MD_LENGTH] = { MIRROR_RULE_MD_LENGTH, "metadata.length", "message length", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_MD_BLOCKS] = { MIRROR_RULE_MD_BLOCKS, "metadata.blocks", "number of blocks", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_MD_REGION] = { MIRROR_RULE_MD_REGION, "metadata.region", "memory region", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_MD_REGION_SENDER] = { MIRROR_RULE_MD_REGION_SENDER, "metadata.region_sender", "memory region", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_MD_PAD] = { MIRROR_RULE_MD_PAD, "metadata.pad", "pad", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_COUNT] = { MIRROR_RULE_SG_COUNT, "sg.count", "S/G byte count", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_ADDR_ALIGN] = { MIRROR_RULE_SG_ADDR_ALIGN, "sg.addr_align", "S/G NVRAM address", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_ADDR_NVRAM] = { MIRROR_RULE_SG_ADDR_NVRAM, "sg.addr_nvram", "S/G NVRAM address", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_ADDR_REGION] = { MIRROR_RULE_SG_ADDR_REGION, "sg.addr_region", "S/G NVRAM address", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_TERMINATOR] = { MIRROR_RULE_SG_TERMINATOR, "sg.terminator", "S/G terminating element", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_AFTER_END] = { MIRROR_RULE_SG_AFTER_END, "sg.after_end", "S/G element after the end", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_SG_SUM] = { MIRROR_RULE_SG_SUM, "sg.sum", "number of blocks", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_LBA_RANGE] = { MIRROR_RULE_LBA_RANGE, "lba.range", "starting LBA", ERR, ILLEGAL, 0x21, 0x00, false },
	[MIRROR_RULE_DATA_LENGTH] = { MIRROR_RULE_DATA_LENGTH, "data.length", "data-out length", ERR, ILLEGAL, 0x1A, 0x00, false },
	[MIRROR_RULE_TABLE_OPCODE] = { MIRROR_RULE_TABLE_OPCODE, "table.opcode", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_TABLE_CDB_RESERVED] = { MIRROR_RULE_TABLE_CDB_RESERVED, "table.cdb_reserved", "reserved", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_TABLE_PARAM_LEN] = { MIRROR_RULE_TABLE_PARAM_LEN, "table.param_len", "parameter list length", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_TABLE_COUNT] = { MIRROR_RULE_TABLE_COUNT, "table.count", "entry count", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_TABLE_RESERVED] = { MIRROR_RULE_TABLE_RESERVED, "table.reserved", "reserved", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_TABLE_DUP_VOLUME] = { MIRROR_RULE_TABLE_DUP_VOLUME, "table.dup_volume", "volume number", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_TABLE_DUP_SERIAL] = { MIRROR_RULE_TABLE_DUP_SERIAL, "table.dup_serial", "array serial number", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_READBACK_OPCODE] = { MIRROR_RULE_READBACK_OPCODE, "readback.opcode", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_READBACK_ADDR] = { MIRROR_RULE_READBACK_ADDR, "readback.addr", "NVRAM address", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_READBACK_BLOCKS] = { MIRROR_RULE_READBACK_BLOCKS, "readback.blocks", "number of blocks", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_READBACK_RESERVED] = { MIRROR_RULE_READBACK_RESERVED, "readback.reserved", "reserved", ERR, ILLEGAL, 0x24, 0x00, true },
	/* Receiver rules (lib/model/receiver.c, lib/model/receiver_spc.c). */
	[MIRROR_RULE_OPCODE_DIRECTION] = { MIRROR_RULE_OPCODE_DIRECTION, "opcode.direction", "opcode (data direction)", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_SMALL_OPCODE_ROLE] = { MIRROR_RULE_SMALL_OPCODE_ROLE, "small.opcode_role", "opcode", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SMALL_VOLUME] = { MIRROR_RULE_SMALL_VOLUME, "small.volume", "volume number", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_SCSI_INVALID_FIELD] = { MIRROR_RULE_SCSI_INVALID_FIELD, "scsi.invalid_field", "field of a standard SCSI CDB", ERR, ILLEGAL, 0x24, 0x00, true },
	/* MIRROR RELEASE (include/mirror/nvram.h). */
	[MIRROR_RULE_RELEASE_OPCODE] = { MIRROR_RULE_RELEASE_OPCODE, "release.opcode", "opcode", ERR, ILLEGAL, 0x20, 0x00, false },
	[MIRROR_RULE_RELEASE_CDB_RESERVED] = { MIRROR_RULE_RELEASE_CDB_RESERVED, "release.cdb_reserved", "reserved", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_RELEASE_PARAM_LEN] = { MIRROR_RULE_RELEASE_PARAM_LEN, "release.param_len", "parameter list length", ERR, ILLEGAL, 0x24, 0x00, true },
	[MIRROR_RULE_RELEASE_COUNT] = { MIRROR_RULE_RELEASE_COUNT, "release.count", "range count", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_RELEASE_RESERVED] = { MIRROR_RULE_RELEASE_RESERVED, "release.reserved", "reserved", ERR, ILLEGAL, 0x26, 0x00, true },
	[MIRROR_RULE_RELEASE_RANGE] = { MIRROR_RULE_RELEASE_RANGE, "release.range", "NVRAM range", ERR, ILLEGAL, 0x26, 0x00, true },
};

const struct mirror_rule_info *mirror_rule_info(enum mirror_rule r)
{
	if ((unsigned)r >= MIRROR_RULE_COUNT_)
		return NULL;
	return &rule_table[r];
}

int mirror_rule_error_code(enum mirror_rule r)
{
	const struct mirror_rule_info *ri = mirror_rule_info(r);

	if (!ri || ri->severity != MIRROR_SEV_ERROR)
		return 0;
	if (r == MIRROR_RULE_TRUNCATED)
		return MIRROR_E_TRUNCATED;
	switch (ri->asc) {
	case 0x20:
		return MIRROR_E_NOT_MIRROR;
	case 0x24:
		return MIRROR_E_INVALID_CDB;
	case 0x26:
		return MIRROR_E_INVALID_PARAM;
	case 0x1A:
		return MIRROR_E_PARAM_LENGTH;
	case 0x21:
		return MIRROR_E_LBA_RANGE;
	default:
		return MIRROR_E_INVALID_CDB;
	}
}

void mirror_findings_init(struct mirror_findings *f)
{
	f->count = f->errors = f->warnings = f->dropped = 0;
}

void mirror_findings_add(struct mirror_findings *f, enum mirror_rule r, bool in_cdb,
			 unsigned byte, unsigned bit, const char *fmt, ...)
{
	const struct mirror_rule_info *ri = mirror_rule_info(r);
	struct mirror_finding *x;
	va_list ap;

	if (!f || !ri)
		return;
	if (ri->severity == MIRROR_SEV_ERROR)
		f->errors++;
	else
		f->warnings++;
	if (f->count >= MIRROR_FINDINGS_MAX) {
		f->dropped++;
		return;
	}
	x = &f->item[f->count++];
	x->rule = r;
	x->severity = ri->severity;
	x->in_cdb = in_cdb;
	x->sksv = ri->sksv;
	x->byte = (uint16_t)byte;
	x->bit = (uint8_t)bit;
	x->field = ri->field;
	va_start(ap, fmt);
	vsnprintf(x->message, sizeof(x->message), fmt, ap);
	va_end(ap);
}

const struct mirror_finding *mirror_findings_first_error(const struct mirror_findings *f)
{
	for (unsigned i = 0; f && i < f->count; i++)
		if (f->item[i].severity == MIRROR_SEV_ERROR)
			return &f->item[i];
	return NULL;
}

const struct mirror_finding *mirror_findings_find(const struct mirror_findings *f,
						  enum mirror_rule r)
{
	for (unsigned i = 0; f && i < f->count; i++)
		if (f->item[i].rule == r)
			return &f->item[i];
	return NULL;
}

unsigned mirror_highest_bit(uint8_t v)
{
	unsigned b = 7;

	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

int mirror_findings_result(const struct mirror_findings *f)
{
	const struct mirror_finding *e = mirror_findings_first_error(f);

	return e ? mirror_rule_error_code(e->rule) : 0;
}

/* The profile's order of precedence: fields in byte order (CDB, then
 * metadata), then the LBA range, then the data-out length, then the S/G
 * sum (wire-profile.md, "Which error"). */
static unsigned rule_stage(enum mirror_rule r)
{
	switch (r) {
	case MIRROR_RULE_LBA_RANGE:
		return 1;
	case MIRROR_RULE_DATA_LENGTH:
		return 2;
	case MIRROR_RULE_SG_SUM:
		return 3;
	default:
		return 0;
	}
}

/* Within one S/G element the byte count is checked before the address
 * (wire-profile.md, "Field pointers"), although it lies 4 bytes later. */
static unsigned pointer_key(const struct mirror_finding *x)
{
	if (x->rule == MIRROR_RULE_SG_COUNT)
		return (x->byte - 4u) * 2u;
	return x->byte * 2u + 1u;
}

static bool finding_before(const struct mirror_finding *a, const struct mirror_finding *b)
{
	unsigned sa = rule_stage(a->rule), sb = rule_stage(b->rule);

	if (sa != sb)
		return sa < sb;
	if (a->in_cdb != b->in_cdb)
		return a->in_cdb;
	if (pointer_key(a) != pointer_key(b))
		return pointer_key(a) < pointer_key(b);
	return a->bit > b->bit;
}

void mirror_findings_sort(struct mirror_findings *f)
{
	/* Insertion sort: stable, and lists are a few dozen entries. */
	for (unsigned i = 1; i < f->count; i++) {
		struct mirror_finding x = f->item[i];
		unsigned j = i;
		while (j > 0 && finding_before(&x, &f->item[j - 1])) {
			f->item[j] = f->item[j - 1];
			j--;
		}
		f->item[j] = x;
	}
}

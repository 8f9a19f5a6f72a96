/* Human renderings, in the manner of sg_raw/sg_decode_sense: decoded
 * fields, then findings, raw bytes beside them at higher verbosity. */
#include "config.h"

#include <stdio.h>

#include <mirror/decode.h>
#include <mirror/sense.h>

void mirror_print_hex(FILE *out, const uint8_t *buf, size_t len, unsigned indent)
{
	for (size_t i = 0; i < len; i += 16) {
		fprintf(out, "%*s%04zx:", (int)indent, "", i);
		for (size_t j = i; j < i + 16 && j < len; j++)
			fprintf(out, "%s%02x", j == i + 8 ? "  " : " ", buf[j]);
		fputc('\n', out);
	}
}

void mirror_print_findings(FILE *out, const struct mirror_findings *f)
{
	for (unsigned pass = 0; pass < 2; pass++) {
		enum mirror_severity want = pass ? MIRROR_SEV_WARNING : MIRROR_SEV_ERROR;
		for (unsigned i = 0; i < f->count; i++) {
			const struct mirror_finding *x = &f->item[i];
			if (x->severity != want)
				continue;
			const struct mirror_rule_info *ri = mirror_rule_info(x->rule);
			fprintf(out, "  %s: ", want == MIRROR_SEV_ERROR ? "error" : "warning");
			if (x->sksv)
				fprintf(out, "%s byte %u bit %u (%s): ",
					x->in_cdb ? "CDB" : "metadata", x->byte, x->bit, x->field);
			else
				fprintf(out, "%s: ", x->field);
			fprintf(out, "%s", x->message);
			if (ri && want == MIRROR_SEV_ERROR)
				fprintf(out, " -> %s %02Xh/%02Xh", mirror_sense_key_name(ri->sense_key),
					ri->asc, ri->ascq);
			fputc('\n', out);
		}
	}
	if (f->dropped)
		fprintf(out, "  (%u more findings not listed)\n", f->dropped);
}

static void print_verdict(FILE *out, const struct mirror_findings *f)
{
	if (f->errors)
		fprintf(out, "INVALID: %u error%s, %u warning%s\n", f->errors,
			f->errors == 1 ? "" : "s", f->warnings, f->warnings == 1 ? "" : "s");
	else if (f->warnings)
		fprintf(out, "valid, %u warning%s\n", f->warnings, f->warnings == 1 ? "" : "s");
	else
		fprintf(out, "valid\n");
	mirror_print_findings(out, f);
}

static void print_small(FILE *out, const struct mirror_profile *p, const struct mirror_small_cdb *c)
{
	unsigned blocks = mirror_small_cdb_blocks(c);

	if (c->region >= 0)
		fprintf(out, "small write mirror message, opcode 0x%02X (%s, region %d)\n",
			c->opcode, c->region == 0 ? "A -> B" : "B -> A", c->region);
	else
		fprintf(out, "small write mirror message, opcode 0x%02X (not a small opcode)\n",
			c->opcode);
	fprintf(out, "  profile %s, %u-byte CDB\n", p->name ? p->name : "custom",
		mirror_small_cdb_len(p));
	if (p->small_layout != MIRROR_SMALL_CDB12_18BIT)
		fprintf(out, "  cache element index high  0x%X\n", c->cei_high);
	for (unsigned i = 0; i < c->slots; i++) {
		const struct mirror_small_element *e = &c->sg[i];
		if (!e->blocks && i > 0) {
			fprintf(out, "  S/G element %u             absent\n", i + 1);
			continue;
		}
		fprintf(out, "  S/G element %u             descriptor 0x%05X  NVRAM 0x%08llX  %u blocks (%u bytes)\n",
			i + 1, (unsigned)e->descriptor,
			(unsigned long long)e->descriptor * MIRROR_BLOCK_SIZE, e->blocks,
			e->blocks * MIRROR_BLOCK_SIZE);
	}
	fprintf(out, "  volume                    %u\n", c->volume);
	fprintf(out, "  starting LBA              %u (0x%08X)\n", (unsigned)c->lba, (unsigned)c->lba);
	fprintf(out, "  user data                 %u blocks (%u bytes)\n", blocks,
		blocks * MIRROR_BLOCK_SIZE);
}

void mirror_print_cdb(FILE *out, const struct mirror_profile *p,
		      const struct mirror_decoded_cdb *d, const uint8_t *raw,
		      const struct mirror_findings *f, int verbose)
{
	switch (d->kind) {
	case MIRROR_CMD_SMALL:
		print_small(out, p, &d->u.small);
		break;
	case MIRROR_CMD_NOTIFY:
		fprintf(out, "notification mirror message, opcode 0x%02X (large path: a 1024-byte metadata message and the data follow)\n",
			d->u.notify.opcode);
		break;
	case MIRROR_CMD_TABLE_UPDATE:
		fprintf(out, "ARRAY TABLE UPDATE, opcode 0x%02X, parameter list length %u\n",
			p->op.table_update, (unsigned)d->u.table_param_len);
		break;
	case MIRROR_CMD_READBACK:
		fprintf(out, "NVRAM READBACK, opcode 0x%02X, NVRAM 0x%08X, %u blocks%s\n",
			d->u.readback.opcode, (unsigned)d->u.readback.nvram_addr,
			(unsigned)d->u.readback.blocks,
			d->u.readback.flags & MIRROR_READBACK_FLAG_VALIDITY_ONLY ? ", validity only" : "");
		break;
	default:
		fprintf(out, "not a mirror command\n");
		break;
	}
	if (verbose > 0 && raw) {
		fprintf(out, "  raw CDB:\n");
		mirror_print_hex(out, raw, d->len, 4);
	}
	print_verdict(out, f);
}

void mirror_print_metadata(FILE *out, const struct mirror_metadata *m, const uint8_t *raw,
			   size_t raw_len, const struct mirror_findings *f, int verbose)
{
	fprintf(out, "metadata mirror message\n");
	fprintf(out, "  message type              0x%04X%s\n", m->type,
		m->type == MIRROR_MD_TYPE_METADATA ? " (metadata)" : "");
	fprintf(out, "  message length            %u\n", m->length);
	fprintf(out, "  sequence number           %u\n", (unsigned)m->sequence);
	fprintf(out, "  starting LBA              %u (0x%08X)\n", (unsigned)m->lba, (unsigned)m->lba);
	fprintf(out, "  number of blocks          %u (%llu bytes)\n", (unsigned)m->blocks,
		(unsigned long long)m->blocks * MIRROR_BLOCK_SIZE);
	fprintf(out, "  array serial number       %016llx\n", (unsigned long long)m->array_serial);
	fprintf(out, "  memory region             %u\n", m->region);
	fprintf(out, "  array number              %u\n", m->array_number);
	fprintf(out, "  S/G list                  %u element%s\n", m->sg_count,
		m->sg_count == 1 ? "" : "s");
	for (unsigned i = 0; i < m->sg_count; i++)
		fprintf(out, "    [%2u] NVRAM 0x%08X  %5u bytes\n", i, (unsigned)m->sg[i].nvram_addr,
			(unsigned)m->sg[i].bytes);
	if (verbose > 0 && raw) {
		fprintf(out, "  raw header (bytes 0-31):\n");
		mirror_print_hex(out, raw, raw_len < 32 ? raw_len : 32, 4);
		if (raw_len >= 512 + 8u * (m->sg_count + 1)) {
			fprintf(out, "  raw S/G list (bytes 512-):\n");
			mirror_print_hex(out, raw + 512, 8u * (m->sg_count + 1), 4);
		}
	}
	print_verdict(out, f);
}

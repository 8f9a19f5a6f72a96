/* JSON renderings for scripts.  Names are the contract of mirror-decode(1). */
#include "config.h"

#include <stdio.h>

#include <json-c/json.h>

#include <mirror/decode.h>
#include <mirror/sense.h>

static void put_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *finding_json(const struct mirror_finding *x)
{
	const struct mirror_rule_info *ri = mirror_rule_info(x->rule);
	struct json_object *o = json_object_new_object();

	/* byte and bit are always present; sksv says whether the sense data
	 * would carry them as a field pointer */
	put_int(o, "byte", x->byte);
	put_int(o, "bit", x->bit);
	json_object_object_add(o, "sksv", json_object_new_boolean(x->sksv));
	json_object_object_add(o, "field", json_object_new_string(x->field));
	json_object_object_add(o, "message", json_object_new_string(x->message));
	json_object_object_add(o, "rule", json_object_new_string(ri ? ri->id : "?"));
	json_object_object_add(o, "cdb", json_object_new_boolean(x->in_cdb));
	if (ri && x->severity == MIRROR_SEV_ERROR) {
		char sense[48];
		snprintf(sense, sizeof(sense), "%s %02Xh/%02Xh", mirror_sense_key_name(ri->sense_key),
			 ri->asc, ri->ascq);
		json_object_object_add(o, "sense", json_object_new_string(sense));
	}
	return o;
}

void mirror_json_add_findings(struct json_object *obj, const struct mirror_findings *f)
{
	struct json_object *errs = json_object_new_array();
	struct json_object *warns = json_object_new_array();

	for (unsigned i = 0; f && i < f->count; i++)
		json_object_array_add(f->item[i].severity == MIRROR_SEV_ERROR ? errs : warns,
				      finding_json(&f->item[i]));
	json_object_object_add(obj, "valid", json_object_new_boolean(!f || f->errors == 0));
	json_object_object_add(obj, "errors", errs);
	json_object_object_add(obj, "warnings", warns);
	if (f && f->dropped)
		put_int(obj, "findings_dropped", f->dropped);
}

static struct json_object *small_json(const struct mirror_profile *p,
				      const struct mirror_small_cdb *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *sg = json_object_new_array();
	unsigned blocks = 0;

	json_object_object_add(o, "kind", json_object_new_string("small_write"));
	put_int(o, "opcode", c->opcode);
	put_int(o, "region", c->region);
	put_int(o, "cei_high", c->cei_high);
	put_int(o, "volume", c->volume);
	put_int(o, "lba", c->lba);
	for (unsigned i = 0; i < c->slots; i++) {
		if (i > 0 && !c->sg[i].blocks)
			continue;
		struct json_object *e = json_object_new_object();
		put_int(e, "descriptor", c->sg[i].descriptor);
		put_int(e, "nvram_addr", (int64_t)c->sg[i].descriptor * MIRROR_BLOCK_SIZE);
		put_int(e, "blocks", c->sg[i].blocks);
		put_int(e, "bytes", (int64_t)c->sg[i].blocks * MIRROR_BLOCK_SIZE);
		json_object_array_add(sg, e);
		blocks += c->sg[i].blocks;
	}
	put_int(o, "blocks", blocks);
	put_int(o, "bytes", (int64_t)blocks * MIRROR_BLOCK_SIZE);
	json_object_object_add(o, "sg", sg);
	put_int(o, "cdb_length", mirror_small_cdb_len(p));
	return o;
}

struct json_object *mirror_json_cdb(const struct mirror_profile *p,
				    const struct mirror_decoded_cdb *d,
				    const struct mirror_findings *f)
{
	struct json_object *o;

	switch (d->kind) {
	case MIRROR_CMD_SMALL:
		o = small_json(p, &d->u.small);
		break;
	case MIRROR_CMD_NOTIFY:
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string("notification"));
		put_int(o, "opcode", d->u.notify.opcode);
		break;
	case MIRROR_CMD_TABLE_UPDATE:
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string("array_table_update"));
		put_int(o, "opcode", p->op.table_update);
		put_int(o, "parameter_list_length", d->u.table_param_len);
		break;
	case MIRROR_CMD_READBACK:
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string("nvram_readback"));
		put_int(o, "opcode", d->u.readback.opcode);
		put_int(o, "flags", d->u.readback.flags);
		put_int(o, "nvram_addr", d->u.readback.nvram_addr);
		put_int(o, "blocks", d->u.readback.blocks);
		break;
	default:
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string("unknown"));
		if (d->len)
			put_int(o, "opcode", d->opcode);
		break;
	}
	json_object_object_add(o, "profile", json_object_new_string(p->name ? p->name : "custom"));
	mirror_json_add_findings(o, f);
	return o;
}

struct json_object *mirror_json_metadata(const struct mirror_metadata *m,
					 const struct mirror_findings *f)
{
	struct json_object *o = json_object_new_object();
	struct json_object *sg = json_object_new_array();
	char serial[17];

	json_object_object_add(o, "kind", json_object_new_string("metadata"));
	put_int(o, "type", m->type);
	put_int(o, "length", m->length);
	put_int(o, "sequence", m->sequence);
	put_int(o, "lba", m->lba);
	put_int(o, "blocks", m->blocks);
	snprintf(serial, sizeof(serial), "%016llx", (unsigned long long)m->array_serial);
	json_object_object_add(o, "array_serial", json_object_new_string(serial));
	put_int(o, "region", m->region);
	put_int(o, "array_number", m->array_number);
	for (unsigned i = 0; i < m->sg_count; i++) {
		struct json_object *e = json_object_new_object();
		put_int(e, "nvram_addr", m->sg[i].nvram_addr);
		put_int(e, "bytes", m->sg[i].bytes);
		json_object_array_add(sg, e);
	}
	json_object_object_add(o, "sg", sg);
	mirror_json_add_findings(o, f);
	return o;
}

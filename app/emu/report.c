/* mirror-emu's log lines (report.h). */
#include "config.h"

#include <stdio.h>

#include <mirror/receiver.h>

#include "app/emu/report.h"
#include "base/log.h"

void mirror_emu_size_text(uint64_t v, char *buf, size_t len)
{
	if (v && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else if (v && v % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

void mirror_emu_log_receiver(const struct mirror_emu_opts *o, const struct mirror_nvram_mem *mem,
			     const struct mirror_nvram *nv)
{
	if (o->extensions_off)
		mirror_log(MIRROR_LOG_INFO, "harness extensions off:%s%s%s",
			   o->extensions_off & MIRROR_RX_EXT_TABLE ? " ARRAY TABLE UPDATE" : "",
			   o->extensions_off & MIRROR_RX_EXT_READBACK ? " NVRAM READBACK" : "",
			   o->extensions_off & MIRROR_RX_EXT_RELEASE ? " MIRROR RELEASE" : "");
	if (o->nvram_file && mem->created)
		mirror_log(MIRROR_LOG_INFO, "NVRAM file %s created", o->nvram_file);
	else if (o->nvram_file)
		mirror_log(MIRROR_LOG_INFO, "NVRAM file %s: %lld blocks valid", o->nvram_file,
			   (long long)mirror_nvram_count_valid(nv, 0, nv->size));
}

void mirror_emu_log_start(const struct mirror_emu_opts *o, const char *portal,
			  const struct mirror_chap_file *chap)
{
	char size_text[32], split_text[32], acl_text[48];

	mirror_emu_size_text(o->profile.nvram_size, size_text, sizeof(size_text));
	mirror_emu_size_text(o->profile.region_split, split_text, sizeof(split_text));
	if (o->acl_n)
		snprintf(acl_text, sizeof(acl_text), "%u initiators allowed", o->acl_n);
	else
		snprintf(acl_text, sizeof(acl_text), "every initiator allowed");
	mirror_log(MIRROR_LOG_INFO,
		   "%s on %s: controller %c, profile %s, NVRAM %s split at %s (%s), "
		   "negotiation %s, CHAP %s, %s, %u inject rules (seed %llu)",
		   o->target_name, portal, o->role ? 'B' : 'A', o->profile.name, size_text,
		   split_text, o->nvram_file ? o->nvram_file : "in memory",
		   o->neg == MIRROR_NEG_MODERN ? "modern" : "patent",
		   chap->target.set ? "mutual" : chap->initiator.set ? "on" : "off", acl_text,
		   o->inject_n, (unsigned long long)o->seed);
}

void mirror_emu_log_summary(const struct mirror_tgt *tgt, const struct mirror_emu_server *srv,
			    const struct mirror_emu_opts *o, const struct mirror_inject *inj)
{
	const struct mirror_tgt_stats *t = mirror_tgt_stats(tgt);
	const struct mirror_emu_server_stats *s = mirror_emu_server_stats(srv);
	char fired[512] = "";
	uint64_t cc = 0;
	size_t off = 0;

	for (unsigned k = 0; k < 16; k++)
		cc += t->sense_count[k];
	for (unsigned i = 0; i < inj->n && off < sizeof(fired); i++) {
		int n = snprintf(fired + off, sizeof(fired) - off, "%s%s x%llu", i ? ", " : "; injected ",
				 o->inject_spec[i], (unsigned long long)inj->fired[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	mirror_log(MIRROR_LOG_INFO,
		   "summary: %llu sessions (%llu logins failed), %llu connections (%llu refused); "
		   "ops: %llu small, %llu large, %llu table update, %llu readback, %llu other; "
		   "%llu check conditions, %llu rejects, %llu digest errors, %llu task management; "
		   "%llu PDUs in, %llu out%s",
		   (unsigned long long)t->sessions_total, (unsigned long long)t->logins_failed,
		   (unsigned long long)s->accepted, (unsigned long long)s->refused,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_SMALL].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_LARGE].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_TABLE].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_READBACK].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_OTHER].ops, (unsigned long long)cc,
		   (unsigned long long)t->rejects, (unsigned long long)t->digest_errors,
		   (unsigned long long)t->tmf, (unsigned long long)t->pdus_in,
		   (unsigned long long)t->pdus_out, fired);
}

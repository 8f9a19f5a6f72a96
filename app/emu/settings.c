/* mirror-emu's options into the configurations of its pieces (settings.h). */
#include "config.h"

#include "app/emu/settings.h"

void mirror_emu_tgt_config(const struct mirror_emu_opts *o, const struct mirror_chap_file *chap,
			   const char *portal, struct mirror_inject *inj,
			   struct mirror_tgt_config *tc)
{
	mirror_tgt_config_init(tc);
	/* RFC 7143 13.13-13.14: the limits offered; the options parser has
	 * checked a given FirstBurstLength against MaxBurstLength. */
	if (o->have_max_burst)
		tc->max_burst_length = o->max_burst;
	if (o->have_first_burst)
		tc->first_burst_length = o->first_burst;
	else if (tc->first_burst_length > tc->max_burst_length)
		tc->first_burst_length = tc->max_burst_length;
	if (o->have_max_recv_dsl)
		tc->max_recv_data_segment_length = o->max_recv_dsl;

	tc->target_name = o->target_name;
	tc->target_alias = o->target_alias;
	tc->portal = portal;
	tc->neg = o->neg;
	tc->login_timeout_ms = o->login_timeout_s * 1000u;
	mirror_chap_file_apply(chap, tc);
	tc->acl_n = o->acl_n;
	for (unsigned i = 0; i < o->acl_n; i++)
		tc->acl[i] = o->acl[i];
	tc->inject = inj && inj->n ? inj : NULL;
}

void mirror_emu_server_config(const struct mirror_emu_opts *o, struct mirror_emu_config *ec)
{
	mirror_emu_config_init(ec);
	ec->listen = o->listen;
	ec->stats_path = o->stats_socket;
	ec->max_conns = o->max_conns;
	ec->coalesce_us = o->coalesce_us;
}

void mirror_emu_inject_config(const struct mirror_emu_opts *o, struct mirror_inject *inj)
{
	mirror_inject_init(inj, o->seed);
	for (unsigned i = 0; i < o->inject_n; i++)
		mirror_inject_add(inj, &o->inject_rule[i]);
}

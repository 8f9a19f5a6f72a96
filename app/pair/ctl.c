/* A controller's life cycle and clock (ctl.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <mirror/error.h>
#include <mirror/sender.h>

#include "app/pair/ctl.h"
#include "base/bytes.h"
#include "base/log.h"
#include "base/why.h"

/* The clock's period while anything is under way: destage, the link's
 * deadlines; the heartbeat runs every heartbeat_ms on top.  A quiet
 * controller sleeps until its next heartbeat, and any event brings the
 * clock back within TICK_MS (bench/soak.sh: idle CPU under 1%). */
#define TICK_MS 5

static const struct {
	const char *opt;
	unsigned min, max;
	const char *unit;
} number_options[] = {
	{ "--heartbeat", 10, 10000, "milliseconds" },
	{ "--dead", 50, 600000, "milliseconds" },
	{ "--link-timeout", 50, 600000, "milliseconds" },
	{ "--destage-delay", 0, 600000, "milliseconds" },
	{ "--transition-time", 0, 255, "seconds" },
	{ "--queue-depth", 1, 256, "mirror commands" },
	{ "--recovery-hold", 0, 600000, "milliseconds" },
	{ "--max-transfer", 8, 65535, "blocks" },
	{ "--login-timeout", 0, 3600, "seconds" },
};

int ctl_number_option(const char *opt, const char *arg, unsigned *out, char *why, size_t why_len)
{
	for (size_t i = 0; i < sizeof(number_options) / sizeof(number_options[0]); i++) {
		uint64_t v;
		if (strcmp(opt, number_options[i].opt) != 0)
			continue;
		if (mirror_parse_count(arg, number_options[i].min, number_options[i].max, &v) < 0)
			return mirror_fail(-EINVAL, why, why_len,
					   "%s '%s': want a number of %s from %u to %u", opt, arg,
					   number_options[i].unit, number_options[i].min,
					   number_options[i].max);
		*out = (unsigned)v;
		return 0;
	}
	return mirror_fail(-ENOENT, why, why_len, "%s: not a number option", opt);
}

void ctl_config_init(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	mirror_profile_init(&c->profile);
	c->host_listen = "127.0.0.1:0";
	c->mirror_listen = "127.0.0.1:0";
	c->heartbeat_ms = 100;
	c->dead_ms = 1000;
	c->link_timeout_ms = 1000;
	c->destage_delay_ms = 50;
	c->transition_secs = 2;
	c->queue_depth = 64;
	c->recovery_hold_ms = 1000;
	c->log_level = MIRROR_LOG_INFO;
	c->login_timeout_s = MIRROR_TGT_LOGIN_TIMEOUT_MS / 1000u;
}

/* The CHAP secrets and the login's bound in time of one of the ports. */
static void port_security(const struct ctl *c, struct mirror_tgt_config *tc)
{
	const struct mirror_chap_file *chap = c->cfg.chap;

	tc->login_timeout_ms = c->cfg.login_timeout_s * 1000u;
	mirror_chap_file_apply(chap, tc);
}

uint64_t ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ctl_now_ms(void)
{
	return ctl_now_ns() / 1000000u;
}

bool ctl_owns(const struct ctl *c, uint32_t lun)
{
	return lun < c->layout.luns && c->layout.owner[lun] == c->cfg.role;
}

static const char *const mode_names[] = { "whole", "alone", "takeover", "rejoining" };

void ctl_set_mode(struct ctl *c, enum ctl_mode m)
{
	if (c->mode != m)
		mirror_log(MIRROR_LOG_INFO, "mode %s -> %s", mode_names[c->mode], mode_names[m]);
	c->mode = m;
	ctl_alua_update(c);
}

/* The ALUA states of every LUN as this port shows them (SPC-4 5.15): the
 * owner's group active/optimized, the other standby; transitioning while
 * a takeover replays or a failback destages; a dead partner's group
 * unavailable. */
void ctl_alua_update(struct ctl *c)
{
	for (uint32_t i = 0; i < c->layout.luns; i++) {
		uint8_t local, remote;
		bool mine = ctl_owns(c, i);
		bool partner_home = c->layout.home[i] != c->cfg.role;
		if (c->mode == MODE_REJOINING) {
			local = MIRROR_ALUA_STANDBY;
		} else if (c->mode == MODE_TAKEOVER && !mine) {
			local = MIRROR_ALUA_TRANSITIONING;
		} else if (mine && c->handing_back && partner_home) {
			local = MIRROR_ALUA_TRANSITIONING;
		} else {
			local = mine ? MIRROR_ALUA_ACTIVE_OPTIMIZED : MIRROR_ALUA_STANDBY;
		}
		if (c->partner.dead || (!c->partner.alive && c->mode != MODE_REJOINING))
			remote = MIRROR_ALUA_UNAVAILABLE;
		else
			remote = mine ? MIRROR_ALUA_STANDBY : MIRROR_ALUA_ACTIVE_OPTIMIZED;
		if (local != c->alua_local[i] || remote != c->alua_remote[i]) {
			c->alua_local[i] = local;
			c->alua_remote[i] = remote;
			mirror_sbc_alua_set(&c->lu[i], (enum mirror_alua_state)local,
					    (enum mirror_alua_state)remote);
		}
	}
}

/* Nothing cached, nothing on the link, no change of roles under way: the
 * ms to the next heartbeat duty, else TICK_MS. */
static int quiet_until(struct ctl *c, uint64_t now)
{
	uint64_t link_next, next;
	uint64_t entries, bytes;

	if (c->mode != MODE_WHOLE || c->handing_back || !link_quiet(c, &link_next))
		return TICK_MS;
	pair_cache_backlog(&c->cache, &entries, &bytes);
	if (entries)
		return TICK_MS;
	next = link_next < c->next_hb_ms ? link_next : c->next_hb_ms;
	if (next <= now + TICK_MS)
		return TICK_MS;
	return next - now > c->cfg.heartbeat_ms ? (int)c->cfg.heartbeat_ms : (int)(next - now);
}

static int before_wait(void *arg)
{
	return link_before_wait(arg);
}

static int tick(void *arg, uint64_t now)
{
	struct ctl *c = arg;

	if (c->stopping)
		return -1;
	link_tick(c, now);
	if (now >= c->next_hb_ms) {
		failover_tick(c, now);
		c->next_hb_ms = now + c->cfg.heartbeat_ms;
	}
	destage_tick(c, now, 256);
	return quiet_until(c, now);
}

static int open_ports(struct ctl *c, char *why, size_t why_len)
{
	struct mirror_emu_config ec;
	struct mirror_tgt_config tc;
	int rc;

	mirror_emu_config_init(&ec);
	ec.listen = c->cfg.mirror_listen;
	ec.stats_path = c->cfg.stats_path;
	ec.stats_json = ctl_stats_json;
	ec.stats_arg = c;
	rc = mirror_emu_server_new(&ec, &c->srv, why, why_len);
	if (rc < 0)
		return rc;
	c->mirror_idx = 0;
	rc = mirror_emu_server_add_listener(c->srv, c->cfg.host_listen, NULL, why, why_len);
	if (rc < 0)
		return rc;
	c->host_idx = (unsigned)rc;

	/* the mirror port: the receiver, LUN 0 */
	mirror_tgt_config_init(&tc);
	snprintf(c->mirror_iqn, sizeof(c->mirror_iqn), "%s:pair-%s-mirror", MIRROR_IQN_PREFIX,
		 c->name);
	snprintf(c->mirror_portal, sizeof(c->mirror_portal), "%s",
		 mirror_emu_server_portal_at(c->srv, c->mirror_idx));
	tc.target_name = c->mirror_iqn;
	tc.portal = c->mirror_portal;
	port_security(c, &tc);
	if (c->cfg.inject_n) {
		mirror_inject_init(&c->inject, 1);
		for (unsigned i = 0; i < c->cfg.inject_n; i++)
			mirror_inject_add(&c->inject, &c->cfg.inject[i]);
		tc.inject = &c->inject;
	}
	rc = mirror_tgt_new_receiver(&tc, &c->rx, &c->mirror_tgt, why, why_len);
	if (rc < 0)
		return rc;
	mirror_emu_server_attach_at(c->srv, c->mirror_idx, c->mirror_tgt);

	/* the host port: one target on both controllers, a portal group each */
	mirror_tgt_config_init(&tc);
	snprintf(c->host_iqn, sizeof(c->host_iqn), "%s:pair", MIRROR_IQN_PREFIX);
	snprintf(c->host_portal, sizeof(c->host_portal), "%s",
		 mirror_emu_server_portal_at(c->srv, c->host_idx));
	tc.target_name = c->host_iqn;
	tc.portal = c->host_portal;
	tc.portal_group_tag = (uint16_t)(c->cfg.role + 1);
	tc.neg = MIRROR_NEG_MODERN; /* hosts send immediate data */
	port_security(c, &tc);
	rc = mirror_tgt_new(&tc, &ctl_host_lu_ops, c, &c->host_tgt, why, why_len);
	if (rc < 0)
		return rc;
	mirror_emu_server_attach_at(c->srv, c->host_idx, c->host_tgt);
	return 0;
}

static int open_luns(struct ctl *c, char *why, size_t why_len)
{
	uint32_t luns[PAIR_LUNS_MAX];

	for (uint32_t i = 0; i < c->layout.luns; i++) {
		struct mirror_sbc_lu_config lc;
		luns[i] = i;
		memset(&lc, 0, sizeof(lc));
		lc.lun = i;
		lc.blocks = c->layout.lun_blocks;
		/* NAA 6 (IEEE registered extended): the same on both
		 * controllers, from the array's serial and the LUN */
		lc.naa[0] = 0x60;
		memcpy(lc.naa + 1, c->layout.array_serial, 8);
		lc.naa[15] = (uint8_t)i;
		snprintf(lc.serial, sizeof(lc.serial), "%02X%02X%02X%02X%02X%02X%02X%02X-%02u",
			 c->layout.array_serial[0], c->layout.array_serial[1],
			 c->layout.array_serial[2], c->layout.array_serial[3],
			 c->layout.array_serial[4], c->layout.array_serial[5],
			 c->layout.array_serial[6], c->layout.array_serial[7], (unsigned)i);
		/* target port group and relative port: 1 for A, 2 for B */
		lc.local_tpg = lc.local_rel_port = (uint16_t)(c->cfg.role + 1);
		lc.remote_tpg = lc.remote_rel_port = (uint16_t)(2 - c->cfg.role);
		lc.transition_secs = c->cfg.transition_secs;
		lc.max_transfer = c->cfg.max_transfer;
		lc.local_state = MIRROR_ALUA_STANDBY;
		lc.remote_state = MIRROR_ALUA_STANDBY;
		int rc = mirror_sbc_lu_init(&c->lu[i], &lc, why, why_len);
		if (rc < 0)
			return rc;
		c->alua_local[i] = c->alua_remote[i] = 0xff; /* forces the first update */
	}
	return mirror_sbc_port_init(&c->port, luns, c->layout.luns, why, why_len);
}

int ctl_open(struct ctl *c, const struct ctl_config *cfg, char *why, size_t why_len)
{
	char path[512];
	int rc;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->name[0] = cfg->role ? 'b' : 'a';
	c->pid = (uint32_t)getpid();
	if (getrandom(&c->incarnation, sizeof(c->incarnation), 0) != sizeof(c->incarnation))
		c->incarnation = ctl_now_ns() ^ ((uint64_t)c->pid << 32);
	c->control_fd = -1;
	c->partner.pidfd = -1;
	c->link.watched_fd = c->link.pipe_rd = c->link.pipe_wr = -1;
	mirror_hist_init(&c->write_lat);
	mirror_hist_init(&c->read_lat);
	c->started_ms = ctl_now_ms();

	snprintf(path, sizeof(path), "%s/array/state", cfg->dir);
	rc = pair_state_open(path, &c->state, why, why_len);
	if (rc < 0)
		return rc;
	rc = pair_state_read_layout(c->state, &c->layout);
	if (rc < 0)
		return mirror_fail(rc, why, why_len, "%s: cannot read the layout", path);
	snprintf(path, sizeof(path), "%s/array", cfg->dir);
	rc = mirror_raid5_open(path, &c->array, why, why_len);
	if (rc < 0)
		return rc;

	snprintf(path, sizeof(path), "%s/nvram-%s", cfg->dir, c->name);
	rc = mirror_nvram_mem_open(&c->mem, &cfg->profile, path, why, why_len);
	if (rc < 0)
		return rc;
	/* battery-backed, but what it held was replayed by the partner or is
	 * older than the array (failover.c, failover_startup): a clean start */
	memset(c->mem.bitmap, 0, mirror_nvram_bitmap_bytes(cfg->profile.nvram_size));
	if ((rc = mirror_nvram_init(&c->nv, &cfg->profile, c->mem.data, c->mem.bitmap)) < 0 ||
	    (rc = mirror_rx_init(&c->rx, &cfg->profile, cfg->role, &c->nv)) < 0)
		return mirror_fail(rc, why, why_len, "NVRAM: %s", mirror_strerror(rc));
	snprintf(c->rx.product, sizeof(c->rx.product), "PAIR MIRROR %c", cfg->role ? 'B' : 'A');
	if ((rc = pair_journal_init(&c->journal, &cfg->profile, 1u - cfg->role)) < 0)
		return mirror_fail(rc, why, why_len, "journal: out of memory");
	pair_journal_attach(&c->journal, &c->rx);
	rc = pair_cache_init(&c->cache, &c->nv, &cfg->profile, cfg->role, c->layout.luns,
			     c->layout.lun_blocks,
			     (mirror_region_end(&cfg->profile, cfg->role) -
			      mirror_region_start(&cfg->profile, cfg->role)) / 4096u + 64u);
	if (rc < 0)
		return mirror_fail(rc, why, why_len, "cache: out of memory");
	/* destage copies a whole entry here: a host write up to max_transfer */
	c->scratch = malloc((size_t)cfg->max_transfer * MIRROR_BLOCK_SIZE > MIRROR_OP_DATA_OUT_MAX
				    ? (size_t)cfg->max_transfer * MIRROR_BLOCK_SIZE
				    : MIRROR_OP_DATA_OUT_MAX);
	if (!c->scratch)
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");

	/* our array table: every volume of the pair (Fig. 4, 427) */
	mirror_array_table_init(&c->table);
	for (uint32_t i = 0; i < c->layout.luns; i++)
		mirror_array_table_add(&c->table, (uint8_t)i, get_be64(c->layout.array_serial),
				       (uint8_t)i);

	rc = open_luns(c, why, why_len);
	if (rc < 0)
		return rc;
	rc = open_ports(c, why, why_len);
	if (rc < 0)
		return rc;
	rc = control_open(c, why, why_len);
	if (rc < 0)
		return rc;
	link_init(c);
	failover_startup(c);
	mirror_emu_server_on_tick(c->srv, tick, c);
	mirror_emu_server_tick_after_event(c->srv, TICK_MS);
	mirror_emu_server_before_wait(c->srv, before_wait, c);
	return 0;
}

int ctl_run(struct ctl *c)
{
	int rc = mirror_emu_server_run(c->srv);

	/* a clean stop: everything on the array, the partner told */
	c->stopping = true;
	if (c->mode != MODE_REJOINING && destage_all(c) == 0)
		host_ack_destaged(c);
	link_shutdown(c);
	struct pair_heartbeat h;
	memset(&h, 0, sizeof(h));
	h.pid = c->pid;
	h.incarnation = c->incarnation;
	h.counter = ++c->hb_counter;
	h.mono_ms = ctl_now_ms();
	h.status = PAIR_CTL_STOPPED;
	h.mirror_epoch = c->mirror_epoch;
	pair_state_write_heartbeat(c->state, c->cfg.role, &h);
	return rc;
}

void ctl_stop(struct ctl *c)
{
	if (c->srv)
		mirror_emu_server_stop(c->srv);
}

void ctl_close(struct ctl *c)
{
	char why[256];

	control_close(c);
	if (c->srv)
		mirror_emu_server_free(c->srv);
	if (c->host_tgt)
		mirror_tgt_free(c->host_tgt);
	if (c->mirror_tgt)
		mirror_tgt_free(c->mirror_tgt);
	if (c->partner.pidfd >= 0)
		close(c->partner.pidfd);
	pair_cache_free(&c->cache);
	pair_journal_free(&c->journal);
	mirror_nvram_mem_close(&c->mem, why, sizeof(why));
	if (c->array)
		mirror_raid5_close(c->array);
	pair_state_close(c->state);
	free(c->scratch);
}

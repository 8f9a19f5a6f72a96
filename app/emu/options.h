/* mirror-emu's command line: the options struct, its defaults, and one
 * parser that checks every option and their combinations.  The parser
 * prints nothing of its own (getopt aside) and never exits: the command
 * prints the message and chooses what to do. */
#ifndef MIRROR_APP_EMU_OPTIONS_H
#define MIRROR_APP_EMU_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/profile.h>
#include "iscsi/target.h"
#include "model/inject.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define MIRROR_EMU_ISCSI_NAME_MAX 223
/* RFC 7143 13.13-13.14: burst and segment lengths are 512..2^24-1. */
#define MIRROR_EMU_LEN_MIN 512u
#define MIRROR_EMU_LEN_MAX 16777215u
#define MIRROR_EMU_MAX_CONNS_LIMIT 65536u
#define MIRROR_EMU_DEFAULT_TARGET MIRROR_IQN_PREFIX ":emu"

struct mirror_emu_opts {
	const char *listen;
	const char *target_name, *target_alias;
	unsigned role; /* 0: controller A, 1: B */
	struct mirror_profile profile;
	enum mirror_neg_profile neg;
	uint32_t max_burst, first_burst, max_recv_dsl;
	bool have_max_burst, have_first_burst, have_max_recv_dsl;
	const char *nvram_file, *chap_file, *stats_socket, *port_file;
	unsigned acl_n;
	const char *acl[MIRROR_ACL_MAX];
	unsigned inject_n;
	const char *inject_spec[MIRROR_INJECT_RULES_MAX];
	struct mirror_inject_rule inject_rule[MIRROR_INJECT_RULES_MAX];
	uint64_t seed;
	unsigned max_conns;
	unsigned login_timeout_s; /* a login not done by then is cut; 0: never */
	unsigned coalesce_us;     /* server.h: interrupt moderation; 0: off */
	int verbosity;           /* -v minus -q */
	const char *query;       /* --query: a client of another mirror-emu */
	unsigned extensions_off; /* MIRROR_RX_EXT_* not implemented */
	const char *table_file;  /* --table: the array table configured */
	bool json;
	bool prefault;           /* --prefault: NVRAM resident before serving */
};

/* What the command line asks for besides a run. */
enum mirror_emu_action {
	MIRROR_EMU_RUN = 0,
	MIRROR_EMU_HELP,
	MIRROR_EMU_VERSION,
	MIRROR_EMU_LIST_PROFILES,
};

/* The defaults: 127.0.0.1:3260, controller B, patent negotiation, seed 1,
 * 256 connections, a login cut after 15 s. */
void mirror_emu_opts_init(struct mirror_emu_opts *o);

/* Parses argv (getopt_long from optind; set optind to 0 to parse a
 * second argv) into o, checking each option and then the combinations
 * (FirstBurstLength within MaxBurstLength, the profile).  Returns an
 * enum mirror_emu_action, or -EINVAL with the option and the reason in
 * why; why is empty when getopt has already said what is wrong. */
int mirror_emu_opts_parse(struct mirror_emu_opts *o, int argc, char **argv, char *why,
			  size_t why_len);

/* --extensions LIST ("table,readback", "all", "none"): the
 * MIRROR_RX_EXT_* bits turned off in *off; -EINVAL and why. */
int mirror_emu_parse_extensions(const char *arg, unsigned *off, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif

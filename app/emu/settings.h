/* From mirror-emu's options (options.h) to what its pieces are built
 * with: the target engine's configuration, the socket loop's, the
 * injection rules.  No I/O: a unit test compares the fields. */
#ifndef MIRROR_APP_EMU_SETTINGS_H
#define MIRROR_APP_EMU_SETTINGS_H

#include "app/emu/options.h"
#include "app/emu/server.h"
#include "iscsi/chap_file.h"
#include "iscsi/target.h"
#include "model/inject.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The target's configuration: the negotiation limits (a FirstBurstLength
 * not given follows a smaller MaxBurstLength), the names, CHAP from chap
 * (may be NULL), the initiators allowed, the portal SendTargets names and
 * the injection rules (inj NULL or without rules: none).  tc points into
 * o, chap and portal; they must outlive it. */
void mirror_emu_tgt_config(const struct mirror_emu_opts *o, const struct mirror_chap_file *chap,
			   const char *portal, struct mirror_inject *inj,
			   struct mirror_tgt_config *tc);

/* The socket loop's configuration: address, stats socket, connections. */
void mirror_emu_server_config(const struct mirror_emu_opts *o, struct mirror_emu_config *ec);

/* The injection engine seeded with --seed and holding every --inject
 * rule. */
void mirror_emu_inject_config(const struct mirror_emu_opts *o, struct mirror_inject *inj);

#ifdef __cplusplus
}
#endif
#endif

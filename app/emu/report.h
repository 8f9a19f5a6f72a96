/* What mirror-emu says in its log: the receiver as set up, the line that
 * says it is listening and how it is configured, and the summary at
 * shutdown (counters of the engine, the loop and the injection rules). */
#ifndef MIRROR_APP_EMU_REPORT_H
#define MIRROR_APP_EMU_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <mirror/nvram.h>

#include "app/emu/options.h"
#include "app/emu/server.h"
#include "iscsi/chap_file.h"
#include "iscsi/target.h"
#include "model/inject.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "128M", "4K", "1000": a size the way --nvram-size takes it. */
void mirror_emu_size_text(uint64_t v, char *buf, size_t len);

/* The harness extensions turned off and the NVRAM file's state. */
void mirror_emu_log_receiver(const struct mirror_emu_opts *o, const struct mirror_nvram_mem *mem,
			     const struct mirror_nvram *nv);
/* "IQN on PORTAL: controller B, profile v1, NVRAM ...". */
void mirror_emu_log_start(const struct mirror_emu_opts *o, const char *portal,
			  const struct mirror_chap_file *chap);
/* The counters at shutdown, each injection rule with the times it fired. */
void mirror_emu_log_summary(const struct mirror_tgt *tgt, const struct mirror_emu_server *srv,
			    const struct mirror_emu_opts *o, const struct mirror_inject *inj);

#ifdef __cplusplus
}
#endif
#endif

/* Internal to app/pair/sbc*.c and alua.c: the command table's types, the
 * context a handler gets, and the helpers that fill a verdict. */
#ifndef MIRROR_APP_PAIR_SBC_INT_H
#define MIRROR_APP_PAIR_SBC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "app/pair/sbc.h"

/* A field of a CDB: its most significant bit (byte, bit 7..0) and width
 * in bits (<= 32, may run over following bytes).  A field pointer names
 * the byte and the field's first, left-most bit (SPC-4 4.5.2.4.2). */
struct sbc_field {
	uint8_t byte;
	uint8_t bit;
	uint8_t width;
	const char *name;
};

/* Which access states let a command through (SPC-4 5.15.2.4; the lists
 * of target_core_alua.c). */
enum sbc_alua_class {
	SBC_ALUA_ANY = 0, /* every state, transitioning included */
	SBC_ALUA_STANDBY, /* active and standby */
	SBC_ALUA_ACTIVE   /* active only: media access, TEST UNIT READY */
};

/* What a pending unit attention does to a command (SAM-5 5.14). */
enum sbc_ua_rule {
	SBC_UA_REPORT = 0, /* CHECK CONDITION UNIT ATTENTION, cleared */
	SBC_UA_IGNORE,     /* INQUIRY, REPORT LUNS: neither report nor clear */
	SBC_UA_AS_DATA     /* REQUEST SENSE: the sense data, cleared */
};

enum sbc_data_dir { SBC_NONE = 0, SBC_IN, SBC_OUT };

struct sbc_ctx;
/* Checks the command's own fields and builds its verdict: 0, or -1 with a
 * CHECK CONDITION in the verdict. */
typedef int (*sbc_fn)(struct sbc_ctx *x);

struct sbc_command {
	uint8_t opcode;
	int8_t service_action; /* byte 1 bits 4-0, or -1 */
	uint8_t cdb_len;
	enum sbc_data_dir data;
	enum sbc_alua_class alua;
	enum sbc_ua_rule ua;
	bool any_lun;          /* answered for a LUN without a logical unit */
	const struct sbc_field *zero; /* reserved or unsupported: must be 0 */
	unsigned n_zero;
	sbc_fn run;
	const char *name;
};

struct sbc_ctx {
	struct mirror_sbc_lu *lu; /* NULL: no such LUN */
	const struct mirror_sbc_port *port;
	uint64_t nexus;
	const uint8_t *cdb;
	const struct sbc_command *cmd;
	enum mirror_xfer_dir dir;
	uint32_t edtl;
	struct mirror_sbc_verdict *v;
};

#define SBC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sbc_field.c: sense and verdicts ---- */

/* CHECK CONDITION, fixed-format sense key/ASC/ASCQ, no field pointer;
 * the reason in v->why.  Returns -1. */
__attribute__((format(printf, 5, 6)))
int sbc_check(struct sbc_ctx *x, uint8_t key, uint8_t asc, uint8_t ascq, const char *fmt, ...);
/* ILLEGAL REQUEST with the field pointer at CDB byte/bit (C/D = 1,
 * BPV = 1); asc 24h INVALID FIELD IN CDB unless stated.  Returns -1. */
__attribute__((format(printf, 6, 7)))
int sbc_invalid(struct sbc_ctx *x, uint8_t asc, uint8_t ascq, unsigned byte, unsigned bit,
		const char *fmt, ...);
/* ILLEGAL REQUEST asc/00h with the field pointer at byte/bit of the
 * parameter list (C/D = 0, BPV = 1).  Returns -1. */
__attribute__((format(printf, 5, 6)))
int sbc_invalid_param(struct sbc_ctx *x, uint8_t asc, unsigned byte, unsigned bit,
		      const char *fmt, ...);
/* The verdict of a command not judged yet: GOOD, nothing to move. */
void sbc_verdict_reset(struct mirror_sbc_verdict *v);
/* The first field of the list that is not zero, reported; 0 if none. */
int sbc_check_zero(struct sbc_ctx *x, const struct sbc_field *f, unsigned n);
/* GOOD with data[0, min(total, alloc)) as the data-in. */
int sbc_data(struct sbc_ctx *x, uint32_t total, uint32_t alloc);
/* GOOD, no data. */
int sbc_good(struct sbc_ctx *x);
/* Fixed-format sense of key/ASC/ASCQ (no field pointer) into buf[18]. */
void sbc_sense_bytes(uint8_t *buf, uint8_t key, uint8_t asc, uint8_t ascq);

/* ASCII fields of INQUIRY data: left-aligned, padded with spaces (SPC-4
 * 4.4.1). */
void sbc_put_ascii(uint8_t *dst, const char *src, unsigned width);

/* Block Limits' MAXIMUM TRANSFER LENGTH and MAXIMUM WRITE SAME LENGTH:
 * the configured one, else MIRROR_SBC_MAX_TRANSFER. */
static inline uint32_t sbc_max_transfer(const struct mirror_sbc_lu *lu)
{
	return lu && lu->cfg.max_transfer ? lu->cfg.max_transfer : MIRROR_SBC_MAX_TRANSFER;
}

static inline uint32_t sbc_min32(uint64_t a, uint64_t b)
{
	return (uint32_t)(a < b ? a : b);
}

/* ---- the handlers ---- */

int sbc_inquiry(struct sbc_ctx *x);          /* sbc_inquiry.c */
int sbc_mode_sense6(struct sbc_ctx *x);      /* sbc_mode.c */
int sbc_mode_sense10(struct sbc_ctx *x);
int sbc_read_capacity10(struct sbc_ctx *x);  /* sbc_block.c */
int sbc_read_capacity16(struct sbc_ctx *x);
int sbc_read10(struct sbc_ctx *x);
int sbc_read6(struct sbc_ctx *x);
int sbc_write6(struct sbc_ctx *x);
int sbc_prefetch10(struct sbc_ctx *x);
int sbc_prefetch16(struct sbc_ctx *x);
int sbc_read12(struct sbc_ctx *x);
int sbc_write_same10(struct sbc_ctx *x);
int sbc_write_same16(struct sbc_ctx *x);
int sbc_read16(struct sbc_ctx *x);
int sbc_write12(struct sbc_ctx *x);
int sbc_write_verify10(struct sbc_ctx *x);
int sbc_write_verify12(struct sbc_ctx *x);
int sbc_write_verify16(struct sbc_ctx *x);
int sbc_verify10(struct sbc_ctx *x);
int sbc_verify12(struct sbc_ctx *x);
int sbc_verify16(struct sbc_ctx *x);
int sbc_write10(struct sbc_ctx *x);
int sbc_write16(struct sbc_ctx *x);
int sbc_sync10(struct sbc_ctx *x);
int sbc_sync16(struct sbc_ctx *x);
int sbc_orwrite16(struct sbc_ctx *x);
int sbc_get_lba_status(struct sbc_ctx *x);
int sbc_report_luns(struct sbc_ctx *x);      /* sbc_port.c */
int sbc_request_sense(struct sbc_ctx *x);    /* sbc_ua.c */
int sbc_rtpg(struct sbc_ctx *x);             /* alua.c */
int sbc_rsoc(struct sbc_ctx *x);             /* sbc.c */
int sbc_reserve6(struct sbc_ctx *x);         /* sbc_resv.c */
int sbc_release6(struct sbc_ctx *x);
int sbc_pr_in(struct sbc_ctx *x);            /* sbc_pr.c */
int sbc_pr_out(struct sbc_ctx *x);

/* ---- sbc_ua.c: the nexus table ---- */

/* Marks nexus as a user of lu (adds it, forgetting the least recently
 * used one when the table is full). */
void sbc_nexus_touch(struct mirror_sbc_lu *lu, uint64_t nexus);
/* Every known nexus gets the unit attention(s) ua. */
void sbc_ua_establish(struct mirror_sbc_lu *lu, unsigned ua);
/* The highest-priority unit attention pending for nexus, cleared: true
 * and its ASC/ASCQ, or false when none. */
bool sbc_ua_take(struct mirror_sbc_lu *lu, uint64_t nexus, uint8_t *asc, uint8_t *ascq);

/* The nexus gets the unit attention(s) ua, if the LU knows it. */
void sbc_ua_add(struct mirror_sbc_lu *lu, uint64_t nexus, unsigned ua);

/* ---- sbc_resv.c: reservations ---- */

/* Step 6 of the order: 0 if no reservation held through another I_T
 * nexus refuses the command, else -1 with RESERVATION CONFLICT. */
int sbc_resv_access(struct sbc_ctx *x);
/* RESERVE(6)/RELEASE(6) take effect (after every check passed). */
void sbc_resv_apply(struct sbc_ctx *x);
/* The SPC-2 reservation ends: held by nexus (0: whoever holds it). */
void sbc_resv_drop(struct mirror_sbc_lu *lu, uint64_t nexus);
/* Every reservation of the logical unit ends, SPC-2 and persistent
 * (registrations included): this port no longer serves it. */
void sbc_resv_forget(struct mirror_sbc_lu *lu);
/* RESERVATION CONFLICT, no sense; the reason in why.  Returns -1. */
__attribute__((format(printf, 2, 3)))
int sbc_conflict(struct sbc_ctx *x, const char *fmt, ...);

/* ---- sbc_pr.c ---- */

/* The registration of nexus, or NULL. */
const struct mirror_sbc_pr_reg *sbc_pr_reg(const struct mirror_sbc_lu *lu, uint64_t nexus);
/* The nexus holds the persistent reservation (SPC-4 5.13.10). */
bool sbc_pr_holder(const struct mirror_sbc_lu *lu, uint64_t nexus);
/* Any registration at all. */
bool sbc_pr_registered_any(const struct mirror_sbc_lu *lu);

/* ---- alua.c ---- */

/* 0 if the local group's state lets the command through, else -1 with
 * NOT READY and the state's ASCQ in the verdict. */
int sbc_alua_access(struct sbc_ctx *x);

#endif

/* The sending side's conformance (mirror-conform --check-sender): the
 * suite plays the prototype's partner (a receiver on which the prototype's
 * mirror link logs in, recording every command) and its host (an iSCSI
 * initiator on the prototype's host port), drives host writes chosen to
 * exercise each rule a sender must keep (Fig. 7's path choice, the 1 MiB
 * split, sequence numbers, its own opcode and region, acknowledge only
 * after the partner's GOOD) and checks what arrives.
 *
 * The files: sender_rx.c (the recording receiver), sender_cases.c (the
 * cases), sender_main.c (options, the run, output through report.c). */
#ifndef MIRROR_CONFORM_SENDER_H
#define MIRROR_CONFORM_SENDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/codec.h>
#include <mirror/profile.h>
#include <mirror/transport.h>

#include "conform.h"

enum snd_kind { SND_OTHER = 0, SND_SMALL, SND_LARGE, SND_TABLE };

/* One command the prototype sent on its mirror link, as it arrived.  The
 * fields after "decoded" are read from the bytes by the wire profile
 * (explicit byte and bit extraction, not libmirror's decoders: a sender
 * built on the same codec must not agree with the suite by construction). */
struct snd_op {
	uint64_t index;           /* arrival order, from 1 */
	uint64_t nexus;           /* the session it came on */
	uint64_t t_arrive_ns, t_status_ns; /* CLOCK_MONOTONIC; status 0 until sent */
	enum snd_kind kind;
	uint8_t cdb[16];
	unsigned cdb_len;
	uint32_t edtl;
	bool done, aborted;
	uint8_t status;           /* as answered */
	bool forced_check;        /* the suite answered CHECK CONDITION */
	/* decoded */
	bool decoded;             /* small: CDB; large: the metadata arrived */
	uint8_t opcode;
	int region;               /* small: by opcode; large: metadata byte 24 */
	uint8_t volume;           /* small: byte 3 */
	uint8_t array_number;     /* large: byte 25 */
	uint32_t lba, blocks, sequence;
	uint8_t cei_high;         /* small: byte 1 bits 7-4 */
	unsigned sg_n;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
};

struct snd_rx_state;

/* The recording receiver: lib/iscsi's target engine with lib/model's
 * receiver behind a logical unit of the suite's, served by app/emu's
 * socket loop in a thread of its own. */
struct snd_rx {
	struct snd_rx_state *s;
};

struct snd_rx_config {
	const char *listen;        /* "127.0.0.1:PORT" */
	const char *target_name;   /* the IQN the prototype logs in to */
	struct mirror_profile profile;
	unsigned role;             /* the receiver's: 1 - the prototype's */
	bool hold_tables;          /* from the first login on (block 712) */
};

int snd_rx_start(struct snd_rx *rx, const struct snd_rx_config *cfg, char *why, size_t why_len);
void snd_rx_stop(struct snd_rx *rx);
const char *snd_rx_portal(const struct snd_rx *rx);

/* Controls, from the main thread. */
void snd_rx_set_delay(struct snd_rx *rx, unsigned ms);      /* mirror ops' status */
void snd_rx_hold_tables(struct snd_rx *rx, bool hold);      /* table status until false */
void snd_rx_check_next(struct snd_rx *rx, unsigned n);      /* CHECK CONDITION for N ops */
void snd_rx_pause(struct snd_rx *rx, bool paused);          /* the partner is gone */

/* Reading what arrived (copies, under the lock). */
size_t snd_rx_count(struct snd_rx *rx);
bool snd_rx_get(struct snd_rx *rx, size_t i, struct snd_op *out); /* i from 0 */
bool snd_rx_nexus_ended(struct snd_rx *rx, uint64_t nexus);
uint64_t snd_rx_logins(struct snd_rx *rx);

uint64_t snd_now_ns(void);
void snd_sleep_ms(unsigned ms);

/* ---- the run ---- */

struct snd_ctx {
	struct snd_rx rx;
	struct mirror_profile profile;
	unsigned proto_role;       /* 0: the prototype is A, 1: B */
	const char *host_url;
	struct mirror_transport *host;
	uint64_t host_blocks;      /* the LUN's capacity */
	uint32_t next_lba;         /* host writes go to fresh LBAs */
	bool have_delta;
	int64_t lba_delta;         /* mirror op LBA - host LBA, learnt once */
	unsigned wait_ms;          /* for mirror ops after a host write */
	unsigned hold_ms;          /* table status held (block 712) */
	unsigned delay_ms;         /* partner's status delay (ack after GOOD) */
	unsigned gap_ms;           /* the partner away (block 708) */
	unsigned fill_max_mib;     /* block 716: most host data written to reach a boundary */
	bool hold_first_table;     /* the 712 case runs: hold the first table */
	int verbose;
	FILE *log;
	char why[CONF_WHY_MAX];    /* the verdict's reason */
	char notes[CONF_WHY_MAX];  /* what the case saw, kept for any verdict */
};

/* A host write and what the prototype mirrored for it. */
struct snd_write {
	uint32_t lba, blocks;
	uint64_t t0_ns, t1_ns;     /* submitted, answered */
	int result;
	uint8_t status;
	struct mirror_sense sense;
	size_t first, end;         /* mirror ops [first, end) of it (rx indexes) */
	uint64_t mirrored_blocks;
	bool all_done;             /* every op of it answered */
};

typedef enum conf_verdict (*snd_fn)(struct snd_ctx *c);
/* A sender case: what the reports name (c) and what runs it (fn). */
struct snd_case {
	struct conf_case c;
	snd_fn fn;
};
extern const struct snd_case snd_cases[];
extern const size_t snd_case_count;

/* sender_cases.c helpers the main uses */
int snd_host_open(struct snd_ctx *c, char *why, size_t why_len);
/* Waits for the prototype's first login; 0 or -ETIMEDOUT. */
int snd_await_login(struct snd_ctx *c, unsigned timeout_ms);

__attribute__((format(printf, 2, 3)))
enum conf_verdict snd_fail(struct snd_ctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
enum conf_verdict snd_skip(struct snd_ctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void snd_note(struct snd_ctx *c, const char *fmt, ...);

/* conf_sender_main: mirror-conform --check-sender (sender_main.c). */
int conf_sender_main(int argc, char **argv);

#endif

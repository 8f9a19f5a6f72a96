/* The target engine's own state, shared by its files (target.h lists
 * them).  Internal to lib/iscsi/. */
#ifndef MIRROR_LIB_ISCSI_ENGINE_H
#define MIRROR_LIB_ISCSI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/pdu.h"
#include "iscsi/target.h"
#include "iscsi/text.h"

#define TEXT_ACCUM_MAX MIRROR_TGT_TEXT_MAX
#define TASKS_MAX 64u             /* per connection */
#define CMD_WINDOW 32u            /* MaxCmdSN - ExpCmdSN + 1 */
/* The largest data-out a command may bring: a mirror operation's metadata
 * and 1 MiB of user data, or a host WRITE(10) of 65535 blocks (a pair's
 * host port with mirror-ctl --max-transfer, whose writes over 1 MiB the
 * sender splits, Fig. 3).  A logical unit asks only for what its command
 * needs; the buffer grows as it does. */
#define DOUT_CAP (MIRROR_METADATA_BYTES + 65535u * MIRROR_BLOCK_SIZE)

enum conn_state { ST_LOGIN = 0, ST_FULL, ST_CLOSING };
enum chap_state { CHAP_NONE = 0, CHAP_WAIT_A, CHAP_WAIT_R, CHAP_DONE };

struct tgt_task {
	bool used;
	uint32_t itt;
	struct mirror_tgt_cmd cmd;   /* what the LU sees */
	struct mirror_tgt_conn *conn;
	bool lu_begun;               /* the LU's end() is owed */
	bool pending;                /* the LU answered PENDING */
	uint8_t cdb[16];
	uint8_t *dout;
	uint32_t dout_cap;
	uint32_t have;       /* contiguous data-out bytes received from offset 0 */
	uint32_t unsol_end;  /* bytes that may arrive without an R2T */
	bool want_active;
	uint32_t want_off, want_len;
	bool r2t_out;        /* an R2T is outstanding */
	uint32_t r2t_ttt, r2t_off, r2t_end, r2tsn;
	uint32_t next_ttt_seq;
	uint32_t burst_hdr, burst_payload;
	struct mirror_cost_acc cost;
	struct mirror_inject_decision inj;
	/* a response held back by delay-status injection */
	uint8_t *held;
	size_t held_len;
	uint64_t due_ms;
};

struct mirror_tgt {
	struct mirror_tgt_config cfg;
	struct mirror_tgt_lu_ops ops;
	void *lu;
	struct mirror_receiver *rx; /* mirror_tgt_new_receiver only */
	struct mirror_rx_lu_hooks rx_hooks; /* mirror_tgt_new_receiver_hooked */
	struct mirror_tgt_stats st;
	uint16_t next_tsih;
	uint64_t next_nexus;
};

struct mirror_tgt_conn {
	struct mirror_tgt *t;
	void *user;
	char peer[64];
	enum conn_state state;
	bool discovery;
	bool fatal;
	bool in_input;      /* inside mirror_tgt_conn_input: no wake() needed */
	uint64_t nexus;
	/* input framing */
	uint8_t *in;
	size_t in_len, in_cap;
	size_t skip; /* bytes of an oversized PDU still to discard */
	/* output queue */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	/* login */
	uint8_t isid[6];
	uint16_t tsih;
	unsigned csg;
	enum chap_state chap;
	uint8_t chap_id;
	uint8_t chap_challenge[16];
	bool chap_ok;
	bool tpgt_sent;
	bool mrdsl_declared;
	bool session_counted;
	char initiator[224];
	uint64_t login_deadline_ms; /* set by the first tick; 0: not yet */
	char *text_acc; /* continued login/text keys (C bit) */
	size_t text_acc_len;
	/* negotiated */
	bool hd, dd;
	bool hd_next, dd_next;
	bool initial_r2t, immediate_data;
	uint32_t peer_mrdsl; /* what we may send */
	uint32_t max_burst, first_burst;
	/* numbering */
	uint32_t stat_sn, exp_cmd_sn;
	struct tgt_task task[TASKS_MAX];
	/* tasks whose response is held back (delay-status injection): the
	 * tick sweeps the table only when there are some, and it runs after
	 * every input */
	unsigned nheld;
	uint8_t *lu_space; /* TASKS_MAX x ops.lu_task_size */
};

/* frame.c */
struct pdu_digests tgt_conn_digests(const struct mirror_tgt_conn *c);
int tgt_out_reserve(struct mirror_tgt_conn *c, size_t n);
long tgt_emit_pdu(struct mirror_tgt_conn *c, uint8_t *bhs, const uint8_t *data, uint32_t dlen);
void tgt_stamp_sn(struct mirror_tgt_conn *c, uint8_t *bhs, bool advance_stat);
void tgt_send_reject(struct mirror_tgt_conn *c, const uint8_t *bad_bhs, uint8_t reason);
void tgt_conn_wake(struct mirror_tgt_conn *c);
char *tgt_accumulate_text(struct mirror_tgt_conn *c, const uint8_t *data, uint32_t dlen, size_t *len);

/* login.c, auth.c */
void tgt_on_login(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen);
/* A login request refused before its keys are read (a data segment over
 * the login phase's 8192 bytes): the status, and the connection ends. */
void tgt_login_refuse(struct mirror_tgt_conn *c, const uint8_t *bhs, uint16_t status);
struct login_ctx {
	const struct iscsi_keys *keys;
	struct iscsi_text_out out;
	uint16_t status; /* class << 8 | detail (11.13.5) */
};
bool tgt_negotiate_security(struct mirror_tgt_conn *c, struct login_ctx *l);

/* task.c: the LUN field, decoded */
uint32_t tgt_lun_decode(const uint8_t *lun);

/* session.c */
void tgt_on_nop_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen);
void tgt_on_logout(struct mirror_tgt_conn *c, const uint8_t *bhs);
void tgt_on_tmf(struct mirror_tgt_conn *c, const uint8_t *bhs);
void tgt_on_text(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen);

/* task.c */
void tgt_on_scsi_cmd(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
		 uint32_t dlen, uint32_t wire_hdr);
void tgt_on_data_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
		 uint32_t dlen, uint32_t wire_hdr);
struct tgt_task *tgt_task_find(struct mirror_tgt_conn *c, uint32_t itt);
void tgt_task_release(struct mirror_tgt_conn *c, struct tgt_task *k, bool abort);
void tgt_run_action(struct mirror_tgt_conn *c, struct tgt_task *k, const struct mirror_tgt_action *a);

/* respond.c */
void tgt_respond(struct mirror_tgt_conn *c, struct tgt_task *k, const struct mirror_tgt_action *a);
void tgt_respond_check(struct mirror_tgt_conn *c, struct tgt_task *k, uint8_t key, uint8_t asc,
		   uint8_t ascq);
void tgt_send_task_set_full(struct mirror_tgt_conn *c, uint32_t itt);

#endif

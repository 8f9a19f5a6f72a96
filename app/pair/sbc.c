/* The SCSI command layer of a host-port logical unit: its life cycle, the
 * one table of the commands it knows, and the order in which a command is
 * judged (app/pair/sbc.h).  CDB layouts: SPC-4 6.6 INQUIRY, 6.11/6.12
 * MODE SENSE, 6.33 REPORT LUNS, 6.36 REPORT TARGET PORT GROUPS, 6.39
 * REQUEST SENSE, 6.47 TEST UNIT READY, 6.15/6.16 PERSISTENT RESERVE
 * IN/OUT; SPC-2 7.19/7.21 RELEASE(6)/RESERVE(6); SBC-3 5.11/5.13 READ,
 * 5.15/5.16 READ CAPACITY, 5.22/5.23 SYNCHRONIZE CACHE, 5.32/5.34 WRITE,
 * 5.8 ORWRITE(16), 5.16 GET LBA STATUS. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"
#include "base/why.h"
#include "iscsi/target.h"

/* ---- the fields each command must leave zero: reserved, and options
 * this logical unit does not have (protection information, descriptor
 * sense, the obsolete CMDDT) ---- */

static const struct sbc_field z_tur[] = {
	{ 1, 7, 8, "reserved" },
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
};
static const struct sbc_field z_request_sense[] = {
	{ 1, 7, 7, "reserved" },
	{ 1, 0, 1, "DESC (descriptor format sense data is not supported)" },
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
};
static const struct sbc_field z_inquiry[] = {
	{ 1, 7, 6, "reserved" },
	{ 1, 1, 1, "CMDDT (obsolete)" },
};
static const struct sbc_field z_mode_sense6[] = {
	{ 1, 7, 4, "reserved" },
	{ 1, 2, 3, "reserved" },
};
static const struct sbc_field z_mode_sense10[] = {
	{ 1, 7, 3, "reserved" },
	{ 1, 2, 3, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 6, 7, 8, "reserved" },
};
static const struct sbc_field z_read_capacity10[] = {
	{ 1, 7, 7, "reserved" },
	{ 6, 7, 8, "reserved" },
	{ 7, 7, 8, "reserved" },
	{ 8, 7, 7, "reserved" },
};
static const struct sbc_field z_read10[] = {
	{ 1, 7, 3, "RDPROTECT (no protection information)" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_write10[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_sync10[] = {
	{ 1, 7, 5, "reserved" },
	{ 6, 7, 3, "reserved" },
};
/* (12): byte 10 bit 7 is restricted for MMC-6, bits 6-5 reserved */
static const struct sbc_field z_read12[] = {
	{ 1, 7, 3, "RDPROTECT (no protection information)" },
	{ 10, 7, 3, "reserved" },
};
static const struct sbc_field z_write12[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 10, 7, 3, "reserved" },
};
/* WRITE AND VERIFY (SBC-3 5.38-5.40): BYTCHK is byte 1 bit 1; bit 3 and
 * bit 2 (SBC-4's upper BYTCHK bit, reserved for this command) are not
 * used. */
static const struct sbc_field z_write_verify10[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 3, 2, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_write_verify12[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 3, 2, "reserved" },
	{ 10, 7, 3, "reserved" },
};
static const struct sbc_field z_write_verify16[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 3, 2, "reserved" },
	{ 14, 7, 3, "reserved" },
};
/* VERIFY (SBC-3 5.33-5.35, BYTCHK bits 2-1 as SBC-4 5.34) */
static const struct sbc_field z_verify10[] = {
	{ 1, 7, 3, "VRPROTECT (no protection information)" },
	{ 1, 3, 1, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_verify12[] = {
	{ 1, 7, 3, "VRPROTECT (no protection information)" },
	{ 1, 3, 1, "reserved" },
	{ 10, 7, 3, "reserved" },
};
static const struct sbc_field z_verify16[] = {
	{ 1, 7, 3, "VRPROTECT (no protection information)" },
	{ 1, 3, 1, "reserved" },
	{ 14, 7, 3, "reserved" },
};
/* (6): byte 1 bits 7-5 reserved, the rest of it is the LBA */
static const struct sbc_field z_rw6[] = {
	{ 1, 7, 3, "reserved" },
};
/* PRE-FETCH (SBC-3 5.9, 5.10): IMMED (byte 1 bit 1) is accepted */
static const struct sbc_field z_prefetch10[] = {
	{ 1, 7, 6, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_prefetch16[] = {
	{ 1, 7, 6, "reserved" },
	{ 14, 7, 3, "reserved" },
};
/* WRITE SAME (SBC-3 5.41, 5.42): no protection information, no ANCHOR
 * or UNMAP (thin provisioning: LBPWS 0), the obsolete PBDATA/LBDATA, and
 * NDOB (16; reserved in 10) are not supported. */
static const struct sbc_field z_write_same10[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 4, 2, "ANCHOR/UNMAP (no logical block provisioning)" },
	{ 1, 2, 2, "PBDATA/LBDATA (obsolete)" },
	{ 1, 0, 1, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_write_same16[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 4, 2, "ANCHOR/UNMAP (no logical block provisioning)" },
	{ 1, 2, 2, "PBDATA/LBDATA (obsolete)" },
	{ 1, 0, 1, "NDOB (a data-out buffer is required)" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_read16[] = {
	{ 1, 7, 3, "RDPROTECT (no protection information)" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_write16[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 14, 7, 3, "reserved" },
};
/* ORWRITE(16) (SBC-3 5.8): FUA_NV (byte 1 bit 1) accepted as WRITE(16)
 * does; byte 14 bits 4-0 GROUP NUMBER not looked at */
static const struct sbc_field z_orwrite16[] = {
	{ 1, 7, 3, "ORPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 1, 0, 1, "reserved" },
	{ 14, 7, 3, "reserved" },
};
/* GET LBA STATUS (SBC-3 5.16) */
static const struct sbc_field z_get_lba_status[] = {
	{ 14, 7, 8, "reserved" },
};
static const struct sbc_field z_sync16[] = {
	{ 1, 7, 5, "reserved" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_read_capacity16[] = {
	{ 1, 7, 3, "reserved" },
	{ 14, 7, 7, "reserved" },
};
static const struct sbc_field z_report_luns[] = {
	{ 1, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 10, 7, 8, "reserved" },
};
static const struct sbc_field z_rtpg[] = {
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 10, 7, 8, "reserved" },
};

/* RESERVE(6)/RELEASE(6) (SPC-2 7.21, 7.19): byte 1 (3RDPTY, the third
 * party device, EXTENT), the RESERVATION IDENTIFICATION and the extent
 * list length: third-party and extent reservations are not supported */
static const struct sbc_field z_resv6[] = {
	{ 1, 7, 8, "byte 1 (third-party and extent reservations are not supported)" },
	{ 2, 7, 8, "RESERVATION IDENTIFICATION (obsolete)" },
	{ 3, 7, 8, "EXTENT LIST LENGTH (obsolete)" },
	{ 4, 7, 8, "EXTENT LIST LENGTH (obsolete)" },
};
/* PERSISTENT RESERVE IN/OUT (SPC-4 6.15.1, 6.16.1) */
static const struct sbc_field z_pr_in[] = {
	{ 1, 7, 3, "reserved" },
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 6, 7, 8, "reserved" },
};
static const struct sbc_field z_pr_out[] = {
	{ 1, 7, 3, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
};

static const struct sbc_field z_rsoc[] = {
	{ 2, 6, 4, "reserved" },
	{ 10, 7, 8, "reserved" },
};

static int sbc_tur(struct sbc_ctx *x)
{
	return sbc_good(x);
}

#define Z(list) list, SBC_ARRAY_LEN(list)

/* Data direction, access-state class and unit attention rule per command:
 * SPC-4 5.15.2.4.4 (standby), 5.15.2.4.5 (unavailable), 5.15.2.5
 * (transitioning), SAM-5 5.14 (INQUIRY, REPORT LUNS, REQUEST SENSE). */
static const struct sbc_command commands[] = {
	{ 0x00, -1, 6, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_tur), sbc_tur,
	  "TEST UNIT READY" },
	{ 0x03, -1, 6, SBC_IN, SBC_ALUA_ANY, SBC_UA_AS_DATA, true, Z(z_request_sense),
	  sbc_request_sense, "REQUEST SENSE" },
	{ 0x08, -1, 6, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_rw6), sbc_read6,
	  "READ(6)" },
	{ 0x0A, -1, 6, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_rw6), sbc_write6,
	  "WRITE(6)" },
	{ 0x12, -1, 6, SBC_IN, SBC_ALUA_ANY, SBC_UA_IGNORE, true, Z(z_inquiry), sbc_inquiry,
	  "INQUIRY" },
	{ 0x16, -1, 6, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_resv6), sbc_reserve6,
	  "RESERVE(6)" },
	{ 0x17, -1, 6, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_resv6), sbc_release6,
	  "RELEASE(6)" },
	{ 0x1A, -1, 6, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_mode_sense6),
	  sbc_mode_sense6, "MODE SENSE(6)" },
	{ 0x25, -1, 10, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_read_capacity10),
	  sbc_read_capacity10, "READ CAPACITY(10)" },
	{ 0x28, -1, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_read10), sbc_read10,
	  "READ(10)" },
	{ 0x2A, -1, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write10), sbc_write10,
	  "WRITE(10)" },
	{ 0x2E, -1, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write_verify10),
	  sbc_write_verify10, "WRITE AND VERIFY(10)" },
	{ 0x2F, -1, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_verify10), sbc_verify10,
	  "VERIFY(10)" },
	{ 0x34, -1, 10, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_prefetch10),
	  sbc_prefetch10, "PRE-FETCH(10)" },
	{ 0x35, -1, 10, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_sync10), sbc_sync10,
	  "SYNCHRONIZE CACHE(10)" },
	{ 0x41, -1, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write_same10),
	  sbc_write_same10, "WRITE SAME(10)" },
	{ 0x5A, -1, 10, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_mode_sense10),
	  sbc_mode_sense10, "MODE SENSE(10)" },
	{ 0x5E, 0x00, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_in), sbc_pr_in,
	  "PERSISTENT RESERVE IN (READ KEYS)" },
	{ 0x5E, 0x01, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_in), sbc_pr_in,
	  "PERSISTENT RESERVE IN (READ RESERVATION)" },
	{ 0x5E, 0x02, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_in), sbc_pr_in,
	  "PERSISTENT RESERVE IN (REPORT CAPABILITIES)" },
	{ 0x5E, 0x03, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_in), sbc_pr_in,
	  "PERSISTENT RESERVE IN (READ FULL STATUS)" },
	{ 0x5F, 0x00, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (REGISTER)" },
	{ 0x5F, 0x01, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (RESERVE)" },
	{ 0x5F, 0x02, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (RELEASE)" },
	{ 0x5F, 0x03, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (CLEAR)" },
	{ 0x5F, 0x04, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (PREEMPT)" },
	{ 0x5F, 0x06, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_pr_out), sbc_pr_out,
	  "PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)" },
	{ 0x88, -1, 16, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_read16), sbc_read16,
	  "READ(16)" },
	{ 0x8A, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write16), sbc_write16,
	  "WRITE(16)" },
	{ 0x8B, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_orwrite16),
	  sbc_orwrite16, "ORWRITE(16)" },
	{ 0x8E, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write_verify16),
	  sbc_write_verify16, "WRITE AND VERIFY(16)" },
	{ 0x8F, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_verify16), sbc_verify16,
	  "VERIFY(16)" },
	{ 0x90, -1, 16, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_prefetch16),
	  sbc_prefetch16, "PRE-FETCH(16)" },
	{ 0x91, -1, 16, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_sync16), sbc_sync16,
	  "SYNCHRONIZE CACHE(16)" },
	{ 0x93, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write_same16),
	  sbc_write_same16, "WRITE SAME(16)" },
	{ 0x9E, 0x10, 16, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_read_capacity16),
	  sbc_read_capacity16, "READ CAPACITY(16)" },
	{ 0x9E, 0x12, 16, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_get_lba_status),
	  sbc_get_lba_status, "GET LBA STATUS" },
	{ 0xA0, -1, 12, SBC_IN, SBC_ALUA_ANY, SBC_UA_IGNORE, true, Z(z_report_luns),
	  sbc_report_luns, "REPORT LUNS" },
	{ 0xA3, 0x0A, 12, SBC_IN, SBC_ALUA_ANY, SBC_UA_REPORT, false, Z(z_rtpg), sbc_rtpg,
	  "REPORT TARGET PORT GROUPS" },
	{ 0xA3, 0x0C, 12, SBC_IN, SBC_ALUA_ANY, SBC_UA_REPORT, false, Z(z_rsoc), sbc_rsoc,
	  "REPORT SUPPORTED OPERATION CODES" },
	{ 0xA8, -1, 12, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_read12), sbc_read12,
	  "READ(12)" },
	{ 0xAA, -1, 12, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write12), sbc_write12,
	  "WRITE(12)" },
	{ 0xAE, -1, 12, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write_verify12),
	  sbc_write_verify12, "WRITE AND VERIFY(12)" },
	{ 0xAF, -1, 12, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_verify12), sbc_verify12,
	  "VERIFY(12)" },
};

/* The CONTROL byte (SAM-5 5.2): NACA = 1 asks for ACA, which this logical
 * unit does not support; bits 1-0 are obsolete, 7-6 vendor specific. */
static int check_control(struct sbc_ctx *x)
{
	unsigned last = x->cmd->cdb_len - 1u;
	const struct sbc_field control[] = {
		{ (uint8_t)last, 5, 3, "CONTROL reserved" },
		{ (uint8_t)last, 2, 1, "NACA (ACA is not supported)" },
	};

	return sbc_check_zero(x, control, SBC_ARRAY_LEN(control));
}

static const struct sbc_command *find_command(uint8_t op, int sa)
{
	for (size_t i = 0; i < SBC_ARRAY_LEN(commands); i++)
		if (commands[i].opcode == op && (sa < 0 || commands[i].service_action == sa))
			return &commands[i];
	return NULL;
}

/* ---- REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), from the table ---- */

/* CDB USAGE DATA (SPC-4 6.35.3): the operation code, then a 1 for every
 * bit this logical unit looks at; the bits it requires to be zero (the
 * command's reserved and unsupported fields, the CONTROL byte's NACA and
 * reserved bits) are 0.  A service action field holds the service
 * action. */
static void put_usage(uint8_t *u, const struct sbc_command *c)
{
	unsigned last = c->cdb_len - 1u;

	u[0] = c->opcode;
	memset(u + 1, 0xFF, last);
	u[last] = 0x00; /* CONTROL: no NACA, reserved, obsolete, vendor bits */
	if (c->service_action >= 0)
		u[1] = (uint8_t)((u[1] & 0xE0) | (uint8_t)c->service_action);
	for (unsigned i = 0; i < c->n_zero; i++) {
		unsigned first = c->zero[i].byte * 8u + 7u - c->zero[i].bit;
		for (unsigned b = first; b < first + c->zero[i].width; b++)
			u[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	}
}

/* Command timeouts descriptor (SPC-4 6.35.4): DESCRIPTOR LENGTH 0Ah, no
 * nominal or recommended timeout given (0). */
static unsigned put_timeouts(uint8_t *p)
{
	memset(p, 0, 12);
	p[1] = 0x0A;
	return 12;
}

static bool has_service_actions(uint8_t op)
{
	for (size_t i = 0; i < SBC_ARRAY_LEN(commands); i++)
		if (commands[i].opcode == op && commands[i].service_action >= 0)
			return true;
	return false;
}

/* REPORTING OPTIONS 000b: every command, 8-byte descriptors (20 with
 * their timeouts when RCTD is set). */
static uint32_t rsoc_all(uint8_t *d, bool rctd)
{
	uint32_t n = 4;

	for (size_t i = 0; i < SBC_ARRAY_LEN(commands); i++) {
		const struct sbc_command *c = &commands[i];
		uint8_t *p = d + n;
		memset(p, 0, 8);
		p[0] = c->opcode;
		p[3] = c->service_action >= 0 ? (uint8_t)c->service_action : 0;
		p[5] = (uint8_t)((rctd ? 0x02 : 0x00) | (c->service_action >= 0 ? 0x01 : 0x00));
		p[7] = c->cdb_len;
		n += 8;
		if (rctd)
			n += put_timeouts(d + n);
	}
	put_be32(d, n - 4); /* COMMAND DATA LENGTH */
	return n;
}

int sbc_rsoc(struct sbc_ctx *x)
{
	const uint8_t *cdb = x->cdb;
	bool rctd = (cdb[2] & 0x80) != 0;
	unsigned options = cdb[2] & 0x07u;
	uint8_t op = cdb[3], *d = x->v->data;
	unsigned sa = get_be16(cdb + 4);
	const struct sbc_command *c = NULL;
	uint32_t n;

	if (options == 0)
		return sbc_data(x, rsoc_all(d, rctd), get_be32(cdb + 6));
	/* 001b: an operation code without service actions; 010b: one with,
	 * and the service action; 011b: either (SPC-4 6.35.2, table 233) */
	if (options > 3 || (options == 1 && has_service_actions(op)) ||
	    (options == 2 && !has_service_actions(op)))
		return sbc_invalid(x, 0x24, 0x00, 2, 2,
				   "%s: CDB byte 2 bit 2: REPORTING OPTIONS %u%u%ub for operation code %02Xh",
				   x->cmd->name, options >> 2 & 1u, options >> 1 & 1u, options & 1u, op);
	for (size_t i = 0; i < SBC_ARRAY_LEN(commands); i++)
		if (commands[i].opcode == op &&
		    (commands[i].service_action < 0 || (unsigned)commands[i].service_action == sa))
			c = &commands[i];
	memset(d, 0, 4);
	if (!c) {
		d[1] = 0x01; /* SUPPORT 001b: not supported */
		return sbc_data(x, 4, get_be32(cdb + 6));
	}
	/* one_command parameter data: CTDP, SUPPORT 011b (as the standard
	 * says), CDB SIZE, the usage data, the timeouts */
	d[1] = (uint8_t)((rctd ? 0x80 : 0x00) | 0x03);
	put_be16(d + 2, c->cdb_len);
	put_usage(d + 4, c);
	n = 4u + c->cdb_len;
	if (rctd)
		n += put_timeouts(d + n);
	return sbc_data(x, n, get_be32(cdb + 6));
}

void sbc_verdict_reset(struct mirror_sbc_verdict *v)
{
	/* data[] is written by whoever fills it, up to what it reports */
	v->kind = MIRROR_SBC_RESPOND;
	v->lba = 0;
	v->blocks = 0;
	v->fua = v->all = v->immed = v->repeat = v->or_data = false;
	v->status = MIRROR_STATUS_GOOD;
	memset(v->sense, 0, sizeof(v->sense));
	v->sense_len = 0;
	v->data_len = 0;
	v->data_overflow = 0;
	v->why[0] = '\0';
}

/* Never more data-in than the initiator expects, none without a data-in
 * buffer: what is cut off is the residual overflow. */
static void cut_to_edtl(struct sbc_ctx *x)
{
	struct mirror_sbc_verdict *v = x->v;
	uint32_t room = x->dir == MIRROR_DIR_IN ? x->edtl : 0;

	if (v->status != MIRROR_STATUS_GOOD ||
	    (v->kind != MIRROR_SBC_RESPOND && v->kind != MIRROR_SBC_READ))
		return;
	if (v->data_len > room) {
		v->data_overflow = v->data_len - room;
		v->data_len = room;
	}
}

/* Steps 2 and 3 of the order: what the CDB is, and whether it is well
 * formed.  0 with x->cmd set, or -1 with the error in the verdict. */
static int parse(struct sbc_ctx *x, unsigned cdb_len)
{
	const uint8_t *cdb = x->cdb;
	const struct sbc_command *c = find_command(cdb[0], -1);

	if (!c)
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00,
				 "operation code 0x%02X is not supported", cdb[0]);
	if (cdb_len < c->cdb_len)
		return sbc_invalid(x, 0x24, 0x00, 0, 7, "operation code 0x%02X: the CDB has %u bytes, needs %u",
				   cdb[0], cdb_len, c->cdb_len);
	if (c->service_action >= 0) {
		const struct sbc_command *sa = find_command(cdb[0], cdb[1] & 0x1f);
		if (!sa)
			return sbc_invalid(x, 0x24, 0x00, 1, 4,
					   "operation code 0x%02X: service action 0x%02X is not supported",
					   cdb[0], cdb[1] & 0x1f);
		c = sa;
	}
	x->cmd = c;
	/* A command is not that command with data the other way (the
	 * receiver's rule, wire-profile.md): no data-out READ, no data-in
	 * WRITE. */
	if ((c->data == SBC_IN && x->dir == MIRROR_DIR_OUT) ||
	    (c->data == SBC_OUT && x->dir == MIRROR_DIR_IN))
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00,
				 "%s is not a command with data-%s", c->name,
				 x->dir == MIRROR_DIR_OUT ? "out" : "in");
	if (sbc_check_zero(x, c->zero, c->n_zero) < 0 || check_control(x) < 0)
		return -1;
	return 0;
}

/* Step 4: SAM-5 5.14, the unit attention condition, one per report. */
static int unit_attention(struct sbc_ctx *x)
{
	uint8_t asc, ascq;

	if (x->cmd->ua == SBC_UA_IGNORE || !sbc_ua_take(x->lu, x->nexus, &asc, &ascq))
		return 0;
	if (x->cmd->ua == SBC_UA_AS_DATA) {
		/* REQUEST SENSE returns it as its data (SPC-4 6.39) */
		sbc_sense_bytes(x->v->data, MIRROR_SK_UNIT_ATTENTION, asc, ascq);
		x->v->data_len = sbc_min32(MIRROR_FIXED_SENSE_LEN, x->cdb[4]);
		return 0;
	}
	return sbc_check(x, MIRROR_SK_UNIT_ATTENTION, asc, ascq, "%s: unit attention %02Xh/%02Xh",
			 x->cmd->name, asc, ascq);
}

int mirror_sbc_decode(struct mirror_sbc_lu *lu, const struct mirror_sbc_port *port,
		      uint64_t nexus, const uint8_t *cdb, unsigned cdb_len,
		      enum mirror_xfer_dir dir, uint32_t edtl, struct mirror_sbc_verdict *out)
{
	struct sbc_ctx x = { lu, port, nexus, cdb, NULL, dir, edtl, out };
	const struct sbc_command *c;

	if (!port || !out || !cdb)
		return -EINVAL;
	sbc_verdict_reset(out);
	if (cdb_len == 0) {
		sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00, "empty CDB");
		return 0;
	}
	/* Step 1: a LUN without a logical unit (SAM-5, incorrect logical
	 * unit selection): only INQUIRY, REPORT LUNS and REQUEST SENSE are
	 * answered, the rest is LOGICAL UNIT NOT SUPPORTED. */
	c = find_command(cdb[0], -1);
	if (!lu && !(c && c->any_lun)) {
		sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00,
			  "no logical unit at this LUN (operation code 0x%02X)", cdb[0]);
		return 0;
	}
	if (lu)
		sbc_nexus_touch(lu, nexus);
	if (parse(&x, cdb_len) < 0 || x.cmd->run(&x) < 0)
		return 0;
	if (lu && (unit_attention(&x) < 0 || sbc_alua_access(&x) < 0 ||
		   sbc_resv_access(&x) < 0))
		return 0;
	if (lu)
		sbc_resv_apply(&x);
	cut_to_edtl(&x);
	return 0;
}

/* ---- life cycle ---- */

static int check_config(const struct mirror_sbc_lu_config *c, char *why, size_t why_len)
{
	size_t n = strnlen(c->serial, sizeof(c->serial));

	if (c->lun > MIRROR_SBC_LUN_MAX)
		return mirror_fail(-EINVAL, why, why_len, "LUN %u is over %u", (unsigned)c->lun,
				   MIRROR_SBC_LUN_MAX);
	if (c->blocks == 0)
		return mirror_fail(-EINVAL, why, why_len, "LUN %u: capacity of 0 blocks",
				   (unsigned)c->lun);
	if (c->naa[0] >> 4 != 6)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: NAA byte 0 is 0x%02X; NAA 6 (registered extended) needs 6h in bits 7-4",
				   (unsigned)c->lun, c->naa[0]);
	if (n == 0 || n == sizeof(c->serial))
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: the unit serial number must have 1 to 32 characters",
				   (unsigned)c->lun);
	for (size_t i = 0; i < n; i++)
		if (c->serial[i] < 0x20 || c->serial[i] > 0x7e)
			return mirror_fail(-EINVAL, why, why_len,
					   "LUN %u: serial number character %zu is not printable ASCII",
					   (unsigned)c->lun, i);
	if (c->local_tpg == c->remote_tpg)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: local and remote target port group are both %u",
				   (unsigned)c->lun, c->local_tpg);
	if (c->local_rel_port == 0 || c->remote_rel_port == 0 ||
	    c->local_rel_port == c->remote_rel_port)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: relative target ports %u and %u must be distinct and not 0",
				   (unsigned)c->lun, c->local_rel_port, c->remote_rel_port);
	if (c->transition_secs > 255)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: implicit transition time %u s is over 255",
				   (unsigned)c->lun, c->transition_secs);
	if (!mirror_alua_state_valid(c->local_state) || !mirror_alua_state_valid(c->remote_state))
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: initial access states 0x%X/0x%X: not ALUA states",
				   (unsigned)c->lun, (unsigned)c->local_state, (unsigned)c->remote_state);
	return 0;
}

int mirror_sbc_lu_init(struct mirror_sbc_lu *lu, const struct mirror_sbc_lu_config *c,
		       char *why, size_t why_len)
{
	int rc;

	if (!lu || !c)
		return mirror_fail(-EINVAL, why, why_len, "no logical unit or configuration");
	rc = check_config(c, why, why_len);
	if (rc < 0)
		return rc;
	memset(lu, 0, sizeof(*lu));
	lu->cfg = *c;
	lu->cfg.serial[sizeof(lu->cfg.serial) - 1] = '\0';
	lu->state[0] = c->local_state;
	lu->state[1] = c->remote_state;
	lu->status[0] = lu->status[1] = MIRROR_ALUA_STATUS_NONE;
	return 0;
}

int mirror_sbc_to_action(const struct mirror_sbc_verdict *v, struct mirror_tgt_action *act)
{
	if (!v || !act || v->kind != MIRROR_SBC_RESPOND)
		return -EINVAL;
	memset(act, 0, sizeof(*act));
	act->kind = MIRROR_TGT_RESPOND;
	act->status = v->status;
	memcpy(act->sense, v->sense, sizeof(act->sense));
	act->sense_len = v->sense_len;
	act->data_in = v->data_len ? v->data : NULL;
	act->data_in_len = v->data_len;
	act->data_in_overflow = v->data_overflow;
	return 0;
}

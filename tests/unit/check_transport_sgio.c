/* The SG_IO backend (lib/transport/sgio.c) without a SCSI device: device
 * path checks, iSCSI-only options refused, the mapping of libsgutils2's
 * result categories and Linux host statuses to result codes and exit
 * statuses, timeouts in the driver's units, opens that fail with a clear
 * message and sg3_utils' "cannot open" status, and the opcode
 * reachability explanations (lib/transport/reachability.c).  The real device is
 * exercised by tests/sgio-qemu.test in a QEMU guest. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include <scsi/sg_pt.h>

#include <mirror/array_table.h>
#include <mirror/exit_status.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include "transport/reachability.h"
#include <mirror/receiver.h>
#include <mirror/sender.h>
#include <mirror/transport.h>

#include "testutil.h"
#include "transport/sgio.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- device paths and options ---- */

static const char *const good_paths[] = {
	"/dev/sg0", "/dev/sg12", "/dev/bsg/0:0:0:0", "/dev/sda",
};

START_TEST(test_check_good_path)
{
	struct mirror_transport_opts o = { 0 };
	char err[256] = "";

	ck_assert_int_eq(mirror_transport_check(good_paths[_i], &o, err, sizeof(err)), 0);
	ck_assert_int_eq(mirror_sgio_check(good_paths[_i], &o, err, sizeof(err)), 0);
}
END_TEST

static const char *const bad_paths[] = {
	"/dev/", "/dev/bsg/", "/dev", "dev/sg0", "sg0",
};

START_TEST(test_check_bad_path)
{
	struct mirror_transport_opts o = { 0 };
	char err[256] = "";

	ck_assert_int_eq(mirror_transport_check(bad_paths[_i], &o, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad_paths[_i]) != NULL, "'%s' not named in: %s", bad_paths[_i], err);
	ck_assert_msg(strstr(err, "/dev/sgN") != NULL, "no device form in: %s", err);
}
END_TEST

START_TEST(test_check_long_path)
{
	struct mirror_transport_opts o = { 0 };
	char path[400], err[256] = "";

	memset(path, 'x', sizeof(path) - 1);
	memcpy(path, "/dev/", 5);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(mirror_sgio_check(path, &o, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);
}
END_TEST

START_TEST(test_check_iscsi_options)
{
	struct mirror_transport_opts o;
	char err[256];
	const char *want[] = { "header digests", "data digests" };

	for (unsigned i = 0; i < ARRAY_LEN(want); i++) {
		memset(&o, 0, sizeof(o));
		if (i == 0)
			o.header_digest = true;
		else
			o.data_digest = true;
		err[0] = '\0';
		ck_assert_int_eq(mirror_transport_check("/dev/sg0", &o, err, sizeof(err)), -ENOTSUP);
		ck_assert_msg(strstr(err, want[i]) && strstr(err, "/dev/sg0"), "%s", err);
		/* open refuses them too, before touching the device */
		ck_assert_ptr_null(mirror_transport_open("/dev/sg0", &o, err, sizeof(err)));
		ck_assert_msg(strstr(err, want[i]) != NULL, "%s", err);
	}
	/* an initiator name is ignored (mirror-conform names every session) */
	memset(&o, 0, sizeof(o));
	o.initiator_name = "iqn.2024-01.x:y";
	ck_assert_int_eq(mirror_transport_check("/dev/sg0", &o, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_check_null_err)
{
	struct mirror_transport_opts o = { 0 };

	ck_assert_int_eq(mirror_sgio_check("/dev/", &o, NULL, 0), -EINVAL);
	ck_assert_int_eq(mirror_sgio_check(NULL, &o, NULL, 0), -EINVAL);
}
END_TEST

/* ---- open ---- */

START_TEST(test_open_missing)
{
	char err[256] = "";

	ck_assert_ptr_null(mirror_transport_open("/dev/sg-mirrortest-none", NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot open /dev/sg-mirrortest-none") != NULL, "%s", err);
	ck_assert_msg(strstr(err, strerror(ENOENT)) != NULL, "%s", err);
	ck_assert_int_eq(mirror_transport_open_exit_status("/dev/sg-mirrortest-none"),
			 MIRROR_EXIT_FILE_ERROR);
}
END_TEST

START_TEST(test_open_not_scsi)
{
	char err[256] = "";

	/* A character device that is no SCSI pass-through. */
	ck_assert_ptr_null(mirror_transport_open("/dev/null", NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/dev/null") && strstr(err, "not a SCSI generic"), "%s", err);
}
END_TEST

START_TEST(test_open_exit_status)
{
	ck_assert_int_eq(mirror_transport_open_exit_status("iscsi://127.0.0.1/iqn.2024-01.x:y/0"),
			 MIRROR_EXIT_TRANSPORT);
	ck_assert_int_eq(mirror_transport_open_exit_status("/dev/sg0"), MIRROR_EXIT_FILE_ERROR);
	ck_assert_int_eq(mirror_transport_open_exit_status("nowhere"), MIRROR_EXIT_SYNTAX);
}
END_TEST

/* ---- outcome classification ---- */

struct classify_case {
	struct mirror_sgio_raw raw;
	int result;
	int exit_status;    /* of a command with that result (no sense) */
	const char *phrase; /* in the message, NULL: none */
};

static const struct classify_case classify_cases[] = {
	{ { 0, SCSI_PT_RESULT_GOOD, 0, 0 }, 0, MIRROR_EXIT_OK, NULL },
	{ { 0, SCSI_PT_RESULT_STATUS, 0, 0 }, 0, MIRROR_EXIT_OK, NULL },
	{ { 0, SCSI_PT_RESULT_SENSE, 0, 0 }, 0, MIRROR_EXIT_OK, NULL },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x07, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "DID_ERROR" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x01, 0 }, -ENOTCONN, MIRROR_EXIT_TRANSPORT,
	  "DID_NO_CONNECT" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x03, 0 }, -ETIMEDOUT, MIRROR_EXIT_TIMEOUT,
	  "DID_TIME_OUT" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x04, 0 }, -ENODEV, MIRROR_EXIT_TRANSPORT,
	  "DID_BAD_TARGET" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x05, 0 }, -ECONNABORTED, MIRROR_EXIT_TRANSPORT,
	  "DID_ABORT" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x08, 0 }, -ECONNRESET, MIRROR_EXIT_TRANSPORT,
	  "DID_RESET" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x0E, 0 }, -ECONNRESET, MIRROR_EXIT_TRANSPORT,
	  "DID_TRANSPORT_DISRUPTED" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "driver" },
	{ { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x77, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "unknown" },
	{ { 0, SCSI_PT_RESULT_OS_ERR, 0, EACCES }, -EACCES, MIRROR_EXIT_TRANSPORT, "operating" },
	{ { 0, SCSI_PT_RESULT_OS_ERR, 0, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "operating" },
	{ { 0, 42, 0, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "category" },
	{ { -EINTR, 0, 0, 0 }, -EINTR, MIRROR_EXIT_TRANSPORT, "ioctl" },
	{ { SCSI_PT_DO_TIMEOUT, 0, 0, 0 }, -ETIMEDOUT, MIRROR_EXIT_TIMEOUT, "timed out" },
	{ { SCSI_PT_DO_BAD_PARAMS, 0, 0, 0 }, -EINVAL, MIRROR_EXIT_TRANSPORT, "parameters" },
	{ { SCSI_PT_DO_NOT_SUPPORTED, 0, 0, 0 }, -ENOTSUP, MIRROR_EXIT_TRANSPORT, "support" },
	{ { 99, 0, 0, 0 }, -EIO, MIRROR_EXIT_TRANSPORT, "pass-through failed" },
};

START_TEST(test_classify)
{
	const struct classify_case *k = &classify_cases[_i];
	const char *what = "unset";
	struct mirror_cmd c;

	memset(&c, 0, sizeof(c));
	c.result = mirror_sgio_classify(&k->raw, &what);
	ck_assert_int_eq(c.result, k->result);
	ck_assert_int_eq(mirror_cmd_exit_status(&c), k->exit_status);
	if (k->phrase)
		ck_assert_msg(what && strstr(what, k->phrase), "case %d: '%s' lacks '%s'", _i,
			      what ? what : "(null)", k->phrase);
	else
		ck_assert_ptr_null(what);
}
END_TEST

START_TEST(test_classify_null_what)
{
	struct mirror_sgio_raw r = { 0, SCSI_PT_RESULT_TRANSPORT_ERR, 0x07, 0 };

	ck_assert_int_eq(mirror_sgio_classify(&r, NULL), -EIO);
}
END_TEST

START_TEST(test_host_status_names)
{
	ck_assert_str_eq(mirror_sgio_host_status_name(0x07), "DID_ERROR");
	ck_assert_str_eq(mirror_sgio_host_status_name(0x03), "DID_TIME_OUT");
	ck_assert_ptr_null(mirror_sgio_host_status_name(0));
	ck_assert_ptr_null(mirror_sgio_host_status_name(0x99));
}
END_TEST

static const struct {
	unsigned ms;
	int secs;
} timeouts[] = {
	{ 0, 1 }, { 1, 1 }, { 999, 1 }, { 1000, 1 }, { 1001, 2 }, { 30000, 30 }, { 3600000, 3600 },
	{ 0xffffffffu, 0x7fffffff / 1000 },
};

START_TEST(test_timeout_secs)
{
	ck_assert_int_eq(mirror_sgio_timeout_secs(timeouts[_i].ms), timeouts[_i].secs);
}
END_TEST

/* ---- reachability ---- */

static void cmd_with(struct mirror_cmd *c, uint8_t op, enum mirror_xfer_dir dir, int result)
{
	memset(c, 0, sizeof(*c));
	c->cdb[0] = op;
	c->cdb_len = 12;
	c->dir = dir;
	c->result = result;
}

START_TEST(test_reach_unreached_report_luns)
{
	struct mirror_cmd c;
	char why[256] = "";

	cmd_with(&c, 0xA0, MIRROR_DIR_OUT, -EIO); /* DID_ERROR from QEMU's bus */
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_NO);
	ck_assert(mirror_explain_unreached(&c, why, sizeof(why)));
	ck_assert_str_eq(why, "opcode 0xA0 did not reach the target: the transport treats it as "
			      "REPORT LUNS; use --profile vendor (or --opcodes) to select a "
			      "vendor-specific profile");
}
END_TEST

START_TEST(test_reach_other_outcomes)
{
	struct mirror_cmd c;
	char why[256] = "untouched";

	/* a vendor opcode failing at the transport: not reached, no story */
	cmd_with(&c, 0xE1, MIRROR_DIR_OUT, -EIO);
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_NO);
	ck_assert(!mirror_explain_unreached(&c, why, sizeof(why)));
	ck_assert_str_eq(why, "untouched");
	/* a timeout says nothing */
	cmd_with(&c, 0xA0, MIRROR_DIR_OUT, -ETIMEDOUT);
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_UNKNOWN);
	ck_assert(!mirror_explain_unreached(&c, why, sizeof(why)));
	/* answered GOOD: reached */
	cmd_with(&c, 0xA0, MIRROR_DIR_OUT, 0);
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_YES);
	/* data-in to a data-out command: taken for another command */
	c.data_in_got = 16;
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_OTHER_COMMAND);
	ck_assert(mirror_explain_unreached(&c, why, sizeof(why)));
	ck_assert_msg(strstr(why, "0xA0 was answered as REPORT LUNS") && strstr(why, "--profile vendor"),
		      "%s", why);
	/* the same outcome for a vendor opcode: no SPC story to tell */
	c.cdb[0] = 0xE1;
	strcpy(why, "untouched");
	ck_assert(!mirror_explain_unreached(&c, why, sizeof(why)));
	ck_assert_str_eq(why, "untouched");
	/* INVALID FIELD IN CDB without a field pointer: likewise */
	cmd_with(&c, 0xA0, MIRROR_DIR_OUT, 0);
	c.status = MIRROR_STATUS_CHECK_CONDITION;
	c.sense_len = 18;
	c.sense_parsed.key = MIRROR_SK_ILLEGAL_REQUEST;
	c.sense_parsed.asc = 0x24;
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_OTHER_COMMAND);
	/* with a field pointer it is a mirror receiver's answer */
	c.sense_parsed.sksv = true;
	ck_assert_int_eq(mirror_reachability_of(&c), MIRROR_REACH_YES);
	ck_assert_int_eq(mirror_reachability_of(NULL), MIRROR_REACH_UNKNOWN);
}
END_TEST

START_TEST(test_reach_tables)
{
	ck_assert_str_eq(mirror_opcode_intercepted_as(0xA0), "REPORT LUNS");
	ck_assert_ptr_null(mirror_opcode_intercepted_as(0x3C));
	ck_assert_ptr_null(mirror_opcode_intercepted_as(0xE1));
	ck_assert(mirror_opcode_vendor_specific(0xC0));
	ck_assert(mirror_opcode_vendor_specific(0xFF));
	ck_assert(!mirror_opcode_vendor_specific(0xBF));
	ck_assert(!mirror_opcode_vendor_specific(0xA0));
	ck_assert_str_eq(mirror_reach_name(MIRROR_REACH_NO), "not reached");
	ck_assert_str_eq(mirror_reach_name((enum mirror_reach)77), "unknown");
}
END_TEST

/* ---- the receiver and CDBs as QEMU forwards them ----
 *
 * QEMU's SCSI bus forwards an opcode of the vendor-specific range as a
 * 16-byte CDB, zero-padded: the receiver decodes by opcode and profile,
 * never by the CDB length it is handed. */

#define PAD_NV_SIZE (1024u * 1024u)

struct padded_rx {
	struct mirror_profile prof;
	struct mirror_nvram nv;
	uint8_t *data;
	uint64_t *bitmap;
	struct mirror_receiver rx;
	struct mirror_rx_task task;
};

static void padded_setup(struct padded_rx *p)
{
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(mirror_profile_by_name("vendor", &p->prof), 0);
	p->prof.nvram_size = PAD_NV_SIZE;
	p->prof.region_split = PAD_NV_SIZE / 2;
	p->data = calloc(1, PAD_NV_SIZE);
	p->bitmap = calloc(1, mirror_nvram_bitmap_bytes(PAD_NV_SIZE));
	ck_assert_ptr_nonnull(p->data);
	ck_assert_ptr_nonnull(p->bitmap);
	ck_assert_int_eq(mirror_nvram_init(&p->nv, &p->prof, p->data, p->bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&p->rx, &p->prof, 1, &p->nv), 0);
}

static void padded_teardown(struct padded_rx *p)
{
	mirror_rx_end(&p->rx, &p->task);
	free(p->data);
	free(p->bitmap);
}

/* Runs cdb (len bytes) zero-padded to 16 through the receiver with the
 * whole data-out; returns the final action. */
static struct mirror_rx_action run_padded(struct padded_rx *p, const uint8_t *cdb, unsigned len,
					  enum mirror_xfer_dir dir, const uint8_t *data,
					  uint32_t edtl)
{
	uint8_t cdb16[16] = { 0 };
	struct mirror_rx_action act;

	ck_assert_uint_le(len, 16);
	memcpy(cdb16, cdb, len);
	mirror_rx_end(&p->rx, &p->task);
	ck_assert_int_eq(mirror_rx_begin(&p->rx, &p->task, cdb16, sizeof(cdb16), dir, edtl, "qemu",
					 NULL, &act), 0);
	while (act.kind == MIRROR_RX_WANT_DATA)
		ck_assert_int_eq(mirror_rx_data(&p->rx, &p->task, data + act.offset, act.length,
						&act), 0);
	return act;
}

static void assert_good_action(const struct mirror_rx_action *a, const char *what)
{
	ck_assert_int_eq(a->kind, MIRROR_RX_RESPOND);
	ck_assert_msg(a->status == 0, "%s: status 0x%02X, sense key 0x%X asc 0x%02X", what,
		      a->status, a->sense_len > 2 ? a->sense[2] & 0x0f : 0,
		      a->sense_len > 12 ? a->sense[12] : 0);
}

/* Every vendor-profile command, padded: the table, a small and a large
 * write, then READBACK of both ranges matches what was sent. */
START_TEST(test_vendor_padded_16)
{
	static struct padded_rx p;
	static uint8_t table[MIRROR_TABLE_MAX_BYTES], out[MIRROR_OP_DATA_OUT_MAX], wdata[65536];
	struct mirror_array_table t;
	uint8_t cdb[16];
	struct mirror_rx_action act;
	struct mirror_pattern pat = { MIRROR_PATTERN_RANDOM, 0, 7 };

	padded_setup(&p);
	mirror_array_table_init(&t);
	ck_assert_int_eq(mirror_array_table_add(&t, 4, 0x0011223344556677ull, 1), 0);
	int tl = mirror_table_update_encode(&t, table, sizeof(table));
	ck_assert_int_gt(tl, 0);
	int cl = mirror_table_update_cdb_encode(&p.prof, (uint32_t)tl, cdb, sizeof(cdb));
	ck_assert_int_gt(cl, 0);
	ck_assert_uint_eq(cdb[0], 0xC6);
	act = run_padded(&p, cdb, (unsigned)cl, MIRROR_DIR_OUT, table, (uint32_t)tl);
	assert_good_action(&act, "ARRAY TABLE UPDATE");

	/* 4 KiB at 0x10000 (small path, 0xE1) and 64 KiB at 0x20000 (large
	 * path, 0xC1), as the splitter routes them. */
	const struct {
		uint32_t addr, bytes;
		uint8_t opcode;
	} writes[] = { { 0x10000, 4096, 0xE1 }, { 0x20000, 65536, 0xC1 } };
	for (unsigned k = 0; k < ARRAY_LEN(writes); k++) {
		struct mirror_write w = { 100 * (k + 1), writes[k].bytes, writes[k].addr, 0, 4,
					  0x0011223344556677ull, 1 };
		struct mirror_sender_state ss = { false, true };
		struct mirror_splitter sp;
		struct mirror_op op;
		struct mirror_op_wire wire;
		char why[128];

		mirror_pattern_fill(&pat, w.lba, wdata, writes[k].bytes);
		ck_assert_int_eq(mirror_split_init(&sp, &p.prof, &w, &ss, MIRROR_POLICY_AUTO, 1, why,
						   sizeof(why)), 0);
		ck_assert_int_eq(mirror_split_next(&sp, &op), 1);
		ck_assert_int_gt(mirror_op_build(&p.prof, &op, &w, wdata, out, sizeof(out), &wire), 0);
		ck_assert_uint_eq(wire.cdb[0], writes[k].opcode);
		ck_assert_uint_lt(wire.cdb_len, 16); /* the padding is QEMU's */
		act = run_padded(&p, wire.cdb, wire.cdb_len, MIRROR_DIR_OUT, out,
				 (uint32_t)wire.data_out_len);
		assert_good_action(&act, "mirror write");
		ck_assert_int_eq(mirror_split_next(&sp, &op), 0);

		/* READBACK (0xC8), padded too, returns the data, valid */
		struct mirror_readback_cdb rc = { p.prof.op.readback, 0, writes[k].addr,
						  writes[k].bytes / MIRROR_BLOCK_SIZE };
		struct mirror_readback r;
		struct mirror_miscompare mc;
		cl = mirror_readback_cdb_encode(&p.prof, &rc, cdb, sizeof(cdb));
		ck_assert_int_gt(cl, 0);
		uint32_t rlen = (uint32_t)mirror_readback_response_len(&rc);
		act = run_padded(&p, cdb, (unsigned)cl, MIRROR_DIR_IN, NULL, rlen);
		assert_good_action(&act, "NVRAM READBACK");
		ck_assert_uint_eq(act.data_in_len, rlen);
		ck_assert_int_eq(mirror_readback_parse(act.data_in, act.data_in_len, false, &r), 0);
		ck_assert_int_eq(mirror_readback_compare(&r, writes[k].addr, wdata, writes[k].bytes,
							 &mc), 0);
	}
	padded_teardown(&p);
}
END_TEST

static Suite *sgio_suite(void)
{
	Suite *s = suite_create("transport_sgio");
	TCase *tc = tcase_create("sgio");

	tcase_add_loop_test(tc, test_check_good_path, 0, ARRAY_LEN(good_paths));
	tcase_add_loop_test(tc, test_check_bad_path, 0, ARRAY_LEN(bad_paths));
	tcase_add_test(tc, test_check_long_path);
	tcase_add_test(tc, test_check_iscsi_options);
	tcase_add_test(tc, test_check_null_err);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_open_not_scsi);
	tcase_add_test(tc, test_open_exit_status);
	tcase_add_loop_test(tc, test_classify, 0, ARRAY_LEN(classify_cases));
	tcase_add_test(tc, test_classify_null_what);
	tcase_add_test(tc, test_host_status_names);
	tcase_add_loop_test(tc, test_timeout_secs, 0, ARRAY_LEN(timeouts));
	suite_add_tcase(s, tc);

	tc = tcase_create("reachability");
	tcase_add_test(tc, test_reach_unreached_report_luns);
	tcase_add_test(tc, test_reach_other_outcomes);
	tcase_add_test(tc, test_reach_tables);
	suite_add_tcase(s, tc);

	tc = tcase_create("qemu_forwarding");
	tcase_add_test(tc, test_vendor_padded_16);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(sgio_suite());
}

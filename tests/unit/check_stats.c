/* The target's counters as JSON (lib/iscsi/stats.c): a reading parsed to
 * the exact values, the writer's object read back unchanged, a real
 * target's object, and every malformed reading refused with the key it
 * is about. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "iscsi/stats.h"
#include "iscsi/target.h"

#include "testutil.h"

#define KIND(ops, err, ints, imin, imax, cdb, md, data, iscsi, total)                                \
	"{\"ops\":" #ops ",\"errors\":" #err ",\"interrupts\":" #ints ",\"interrupts_min\":" #imin \
	",\"interrupts_max\":" #imax ",\"bytes\":{\"cdb\":" #cdb ",\"metadata\":" #md           \
	",\"data\":" #data ",\"iscsi\":" #iscsi ",\"total\":" #total "}}"

static const char reading[] =
	"{\"kinds\":{\"small\":" KIND(7, 1, 18, 3, 3, 72, 0, 24576, 1080, 25728) ","
	"\"large\":" KIND(2, 0, 9, 4, 5, 20, 2048, 8192, 556, 10816) ","
	"\"readback\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 96, 620) "},"
	"\"sessions_total\":3,\"sessions_now\":1,\"pdus_in\":40,\"task_management\":2,"
	"\"check_conditions\":{\"ILLEGAL REQUEST\":4,\"UNIT ATTENTION\":1},"
	"\"sequence\":{\"messages\":2,\"gaps\":1,\"repeats\":6},\"table_generation\":9}";

START_TEST(parses_exact_values)
{
	struct mirror_stats s;
	char why[256] = "";

	ck_assert_msg(mirror_stats_parse_text(reading, &s, why, sizeof(why)) == 0, "%s", why);
	const struct mirror_stats_kind *sm = &s.kind[MIRROR_RX_KIND_SMALL];
	const struct mirror_stats_kind *lg = &s.kind[MIRROR_RX_KIND_LARGE];
	ck_assert(s.have_kind[MIRROR_RX_KIND_SMALL] && s.have_kind[MIRROR_RX_KIND_LARGE]);
	ck_assert(s.have_kind[MIRROR_RX_KIND_READBACK]);
	ck_assert(!s.have_kind[MIRROR_RX_KIND_OTHER] && !s.have_kind[MIRROR_RX_KIND_TABLE]);
	ck_assert_uint_eq(sm->ops, 7);
	ck_assert_uint_eq(sm->errors, 1);
	ck_assert_uint_eq(sm->interrupts, 18);
	ck_assert_uint_eq(sm->interrupts_min, 3);
	ck_assert_uint_eq(sm->cdb, 72);
	ck_assert_uint_eq(sm->data, 24576);
	ck_assert_uint_eq(sm->iscsi, 1080);
	ck_assert_uint_eq(sm->total, 25728);
	ck_assert_uint_eq(lg->interrupts_max, 5);
	ck_assert_uint_eq(lg->metadata, 2048);
	ck_assert_uint_eq(s.kind[MIRROR_RX_KIND_READBACK].total, 620);
	ck_assert_uint_eq(s.sessions_total, 3);
	ck_assert_uint_eq(s.sessions_now, 1);
	ck_assert_uint_eq(s.pdus_in, 40);
	ck_assert_uint_eq(s.pdus_out, 0);
	ck_assert_uint_eq(s.task_management, 2);
	ck_assert_uint_eq(s.nsense, 2);
	ck_assert_str_eq(s.sense[0].name, "ILLEGAL REQUEST");
	ck_assert_uint_eq(s.sense[0].n, 4);
	ck_assert_str_eq(s.sense[1].name, "UNIT ATTENTION");
	ck_assert_uint_eq(mirror_stats_check_conditions(&s), 5);
	ck_assert(s.have_sequence);
	ck_assert_uint_eq(s.seq_messages, 2);
	ck_assert_uint_eq(s.seq_gaps, 1);
	ck_assert_uint_eq(s.seq_repeats, 6);
	ck_assert_uint_eq(s.table_generation, 9);
	ck_assert_int_eq(mirror_stats_path_kind(MIRROR_PATH_SMALL), MIRROR_RX_KIND_SMALL);
	ck_assert_int_eq(mirror_stats_path_kind(MIRROR_PATH_LARGE), MIRROR_RX_KIND_LARGE);
	ck_assert_str_eq(mirror_stats_kind_name(MIRROR_RX_KIND_TABLE), "table_update");
}
END_TEST

/* what the writer writes, the parser reads back to the same struct */
START_TEST(writer_and_parser_agree)
{
	struct mirror_stats s, back;
	char why[256] = "";

	ck_assert_int_eq(mirror_stats_parse_text(reading, &s, why, sizeof(why)), 0);
	struct json_object *o = mirror_stats_json(&s);
	ck_assert_ptr_nonnull(o);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* the key names scripts use */
	ck_assert_ptr_nonnull(strstr(text, "\"small\":{\"ops\":7,\"errors\":1,\"interrupts\":18,"
					  "\"interrupts_min\":3,\"interrupts_max\":3,\"bytes\":{"
					  "\"cdb\":72,\"metadata\":0,\"data\":24576,\"iscsi\":1080,"
					  "\"total\":25728}}"));
	ck_assert_ptr_nonnull(strstr(text, "\"sequence\":{\"messages\":2,\"gaps\":1,\"repeats\":6}"));
	ck_assert_msg(mirror_stats_parse_text(text, &back, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(memcmp(&s, &back, sizeof(s)), 0);
	json_object_put(o);
}
END_TEST

/* a live target's object, as mirror-emu's stats socket serves it */
START_TEST(a_target_reads_back)
{
	static struct mirror_profile prof;
	static struct mirror_nvram nv;
	static struct mirror_receiver rx;
	struct mirror_tgt_config cfg;
	struct mirror_tgt *t = NULL;
	struct mirror_stats s;
	char why[256] = "";

	mirror_profile_init(&prof);
	prof.nvram_size = 1u << 20;
	prof.region_split = 1u << 19;
	uint8_t *data = calloc(1, prof.nvram_size);
	uint64_t *bitmap = calloc(1, mirror_nvram_bitmap_bytes(prof.nvram_size));
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, data, bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&rx, &prof, 1, &nv), 0);
	mirror_tgt_config_init(&cfg);
	ck_assert_msg(mirror_tgt_new_receiver(&cfg, &rx, &t, why, sizeof(why)) == 0, "%s", why);
	struct json_object *o = mirror_tgt_stats_json(t);
	ck_assert_msg(mirror_stats_parse(o, &s, why, sizeof(why)) == 0, "%s", why);
	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++)
		ck_assert_msg(s.have_kind[i], "kinds.%s", mirror_stats_kind_name(i));
	ck_assert(s.have_sequence);
	ck_assert_uint_eq(s.kind[MIRROR_RX_KIND_SMALL].ops, 0);
	json_object_put(o);
	mirror_tgt_free(t);
	free(bitmap);
	free(data);
}
END_TEST

static const struct {
	const char *text;
	int rc;
	const char *why; /* a substring of the message */
} bad[] = {
	{ "{\"kinds\":", -EPROTO, "not JSON" },
	{ "[1,2]", -EINVAL, "not a JSON object" },
	{ "{}", -EINVAL, "lack kinds" },
	{ "{\"kinds\":[]}", -EINVAL, "kinds is not an object" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) "}}", -EINVAL,
	  "lack kinds.large" },
	{ "{\"kinds\":{\"small\":{\"ops\":1,\"errors\":0,\"interrupts\":3,\"interrupts_min\":3,"
	  "\"interrupts_max\":3},\"large\":{}}}", -EINVAL, "lack kinds.small.bytes" },
	{ "{\"kinds\":{\"small\":{\"ops\":1,\"bytes\":{}},\"large\":{}}}", -EINVAL,
	  "lack kinds.small.errors" },
	{ "{\"kinds\":{\"small\":{\"ops\":\"7\",\"bytes\":{}},\"large\":{}}}", -EINVAL,
	  "kinds.small.ops is \"7\", not a count" },
	{ "{\"kinds\":{\"small\":{\"ops\":-1,\"bytes\":{}},\"large\":{}}}", -EINVAL,
	  "kinds.small.ops is -1, not a count" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  "{\"ops\":1,\"errors\":0,\"interrupts\":4,\"interrupts_min\":4,\"interrupts_max\":4,"
	  "\"bytes\":{\"cdb\":10,\"metadata\":1024,\"data\":512,\"total\":1}}}}", -EINVAL,
	  "lack kinds.large.bytes.iscsi" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) ",\"other\":{\"ops\":2}}}", -EINVAL,
	  "lack kinds.other.errors" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) "},\"pdus_in\":1.5}", -EINVAL,
	  "pdus_in is 1.5, not a count" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) "},\"check_conditions\":{\"X\":null}}",
	  -EINVAL, "check_conditions.X is null" },
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) "},\"sequence\":{\"messages\":1}}",
	  -EINVAL, "lack sequence.gaps" },
	/* the writer puts table_generation with sequence only (fuzz_stats) */
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) "},\"table_generation\":2}",
	  -EINVAL, "mirror-emu's counters: table_generation without sequence" },
	/* two names over 47 bytes alike in their first 47 read as one once
	 * written back (the round trip fuzz_stats checks) */
	{ "{\"kinds\":{\"small\":" KIND(1, 0, 3, 3, 3, 12, 0, 512, 90, 614) ",\"large\":"
	  KIND(1, 0, 4, 4, 4, 10, 1024, 512, 90, 1636) "},\"check_conditions\":{"
	  "\"SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSA\":1}}",
	  -EINVAL, "check_conditions key 'SSSSSSSSSSSSSSSS...' is longer than 47 bytes" },
};

START_TEST(malformed_names_the_key)
{
	struct mirror_stats s;
	char why[256];

	strcpy(why, "(unset)");
	int rc = mirror_stats_parse_text(bad[_i].text, &s, why, sizeof(why));
	ck_assert_msg(rc == bad[_i].rc, "%s: %d, want %d (%s)", bad[_i].text, rc, bad[_i].rc, why);
	ck_assert_msg(strstr(why, bad[_i].why) != NULL, "%s: \"%s\" lacks \"%s\"", bad[_i].text,
		      why, bad[_i].why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *t = tcase_create("stats");
	tcase_add_test(t, parses_exact_values);
	tcase_add_test(t, writer_and_parser_agree);
	tcase_add_test(t, a_target_reads_back);
	tcase_add_loop_test(t, malformed_names_the_key, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, t);
	return test_run_suite(s);
}

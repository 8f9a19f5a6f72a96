/* libFuzzer target: the reader of mirror-emu's counters (the stats
 * socket's JSON, lib/iscsi/stats.c mirror_stats_parse_text), what
 * mirror-emu --query, mirror-load and mirror-top read.
 *
 * Input: the JSON text (cut at its first NUL).  Properties: no memory
 * error or UB; a refusal is a terminated message about "mirror-emu's
 * counters"; what is accepted has kinds.small and kinds.large and at most
 * MIRROR_STATS_SENSE_MAX sense keys, and written back by mirror_stats_json
 * it reads to the same counters (the writer and the reader agree). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "iscsi/stats.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mirror_stats s, t;
	size_t n = strnlen((const char *)data, size);
	char *text = fuzz_xmalloc(n + 1);
	char why[256];
	struct json_object *o;

	memcpy(text, data, n);
	text[n] = '\0';
	memset(why, 'x', sizeof(why));
	if (mirror_stats_parse_text(text, &s, why, sizeof(why)) != 0) {
		if (!memchr(why, '\0', sizeof(why)) || strncmp(why, "mirror-emu's counters", 21) != 0)
			abort();
		free(text);
		return 0;
	}
	free(text);
	if (!s.have_kind[MIRROR_RX_KIND_SMALL] || !s.have_kind[MIRROR_RX_KIND_LARGE] ||
	    s.nsense > MIRROR_STATS_SENSE_MAX)
		abort();
	(void)mirror_stats_check_conditions(&s);
	o = mirror_stats_json(&s);
	if (!o)
		abort();
	if (mirror_stats_parse_text(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &t, why,
				    sizeof(why)) != 0 ||
	    memcmp(&s, &t, sizeof(s)) != 0)
		abort();
	json_object_put(o);
	return 0;
}

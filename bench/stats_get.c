/* stats_get SOCKET: one answer of a stats socket (mirror-emu's, or a pair
 * controller's) on stdout as one JSON line, for bench scripts that pick
 * fields with jq.  Exit 0, or 35 when the socket does not answer. */
#include "config.h"

#include <stdio.h>

#include <json-c/json.h>

#include <mirror/exit_status.h>

#include "app/emu/stats.h"

int main(int argc, char **argv)
{
	struct json_object *j = NULL;
	char err[256];

	if (argc != 2) {
		fputs("usage: stats_get SOCKET\n", stderr);
		return MIRROR_EXIT_SYNTAX;
	}
	if (mirror_stats_query(argv[1], &j, err, sizeof(err)) < 0) {
		fprintf(stderr, "stats_get: %s\n", err);
		return MIRROR_EXIT_TRANSPORT;
	}
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return MIRROR_EXIT_OK;
}

/* The pair view's readings (app/top/pair.h): the state file names each
 * controller's stats socket; each socket answers with its counters. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app/emu/stats.h"
#include "app/top/pair.h"

int mirror_top_pair_read(struct mirror_top_pair *p, const char *state_file, uint64_t now_ms,
			 char *why, size_t why_len)
{
	static const char *const ids[2] = { "a", "b" };
	struct json_object *st = json_object_from_file(state_file), *ctls = NULL;
	int up = 0;

	if (!st || !json_object_object_get_ex(st, "controllers", &ctls)) {
		snprintf(why, why_len, "%s: %s", state_file,
			 st ? "no \"controllers\" object" : "cannot read it as JSON");
		json_object_put(st);
		return st ? -EINVAL : -ENOENT;
	}
	why[0] = '\0';
	for (unsigned id = 0; id < 2; id++) {
		struct mirror_top_ctl c;
		struct json_object *ctl, *sock, *j = NULL;
		char err[256];
		int rc = -EINVAL;

		memset(&c, 0, sizeof(c));
		if (!json_object_object_get_ex(ctls, ids[id], &ctl) ||
		    !json_object_object_get_ex(ctl, "stats_socket", &sock))
			snprintf(err, sizeof(err), "no controllers.%s.stats_socket in the state file",
				 ids[id]);
		else if ((rc = mirror_stats_query(json_object_get_string(sock), &j, err,
						  sizeof(err))) == 0)
			rc = mirror_top_ctl_from_stats(j, &c, err, sizeof(err));
		json_object_put(j);
		if (rc < 0) {
			c.up = false;
			snprintf(c.error, sizeof(c.error), "%s", err);
		} else {
			up++;
		}
		mirror_top_pair_update(p, id, now_ms, &c);
	}
	json_object_put(st);
	if (!up)
		snprintf(why, why_len, "neither controller answers");
	return up ? 0 : -ECONNREFUSED;
}

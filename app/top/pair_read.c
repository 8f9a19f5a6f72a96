/* The pair view's readings (app/top/pair.h): the state file names each
 * controller's stats socket; each socket answers with its counters. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/stats.h"
#include "app/top/pair.h"

/* DIR/failover.json, when a campaign runs (or ran) against this pair; a
 * status file that does not parse is shown as such, not an error. */
static void campaign_read(struct mirror_top_pair *p, struct json_object *st)
{
	struct json_object *dir = NULL, *o;
	char path[4200], why[160];

	memset(&p->campaign, 0, sizeof(p->campaign));
	if (!json_object_object_get_ex(st, "dir", &dir))
		return;
	snprintf(path, sizeof(path), "%.4096s/failover.json", json_object_get_string(dir));
	if (access(path, F_OK) < 0 || !(o = json_object_from_file(path)))
		return;
	if (mirror_top_campaign_from_json(o, &p->campaign, why, sizeof(why)) < 0) {
		p->campaign.have = true;
		snprintf(p->campaign.last_note, sizeof(p->campaign.last_note), "failover.json: %.140s", why);
	} else if (p->campaign.running && kill((pid_t)p->campaign.pid, 0) < 0 && errno == ESRCH) {
		p->campaign.running = false; /* it died without saying so */
		snprintf(p->campaign.last_note, sizeof(p->campaign.last_note),
			 "mirror-failover pid %llu is gone", (unsigned long long)p->campaign.pid);
	}
	json_object_put(o);
}

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
	campaign_read(p, st);
	json_object_put(st);
	if (!up)
		snprintf(why, why_len, "neither controller answers");
	return up ? 0 : -ECONNREFUSED;
}

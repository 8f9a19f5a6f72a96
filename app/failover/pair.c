/* The emulated pair as mirror-failover sees it: mirror-pair's state file
 * (the host paths of every LUN through each controller, who owns what,
 * who runs) and its commands (kill, freeze, restart, ...). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/stats.h"
#include "app/pair/launcher.h"
#include "app/failover/run.h"

extern char **environ;

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int fo_pair_load(const char *state_path, struct fo_pair *p, char *why, size_t why_len)
{
	struct json_object *o = json_object_from_file(state_path);
	int rc = -EINVAL;

	memset(p, 0, sizeof(*p));
	if (!o) {
		snprintf(why, why_len, "--pair-state %s: cannot read it as JSON (is the pair up?)",
			 state_path);
		return -ENOENT;
	}
	struct json_object *dir = get(o, "dir"), *luns = get(o, "luns"), *cs = get(o, "controllers");
	if (!dir || !luns || !json_object_is_type(luns, json_type_array) || !cs) {
		snprintf(why, why_len, "--pair-state %s: no \"dir\", \"luns\" or \"controllers\"",
			 state_path);
		goto out;
	}
	snprintf(p->dir, sizeof(p->dir), "%s", json_object_get_string(dir));
	size_t n = json_object_array_length(luns);
	if (n == 0 || n > FO_LUNS_MAX) {
		snprintf(why, why_len, "--pair-state %s: %zu LUNs (want 1..%u)", state_path, n,
			 FO_LUNS_MAX);
		goto out;
	}
	p->luns = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(luns, i);
		struct json_object *paths = get(e, "paths"), *blocks = get(e, "blocks");
		const char *owner = json_object_get_string(get(e, "owner"));
		const char *home = json_object_get_string(get(e, "home"));
		if (!paths || json_object_array_length(paths) != 2 || !blocks || !owner || !home) {
			snprintf(why, why_len, "--pair-state %s: luns[%zu]: want \"paths\" (2), "
				 "\"blocks\", \"owner\", \"home\"", state_path, i);
			goto out;
		}
		for (size_t k = 0; k < 2; k++)
			snprintf(p->url[i][k], sizeof(p->url[i][k]), "%s",
				 json_object_get_string(json_object_array_get_idx(paths, k)));
		p->lun_blocks = (uint64_t)json_object_get_int64(blocks);
		p->owner[i] = owner[0];
		p->home[i] = home[0];
	}
	for (unsigned k = 0; k < 2; k++) {
		struct json_object *c = get(cs, k ? "b" : "a");
		p->running[k] = json_object_get_boolean(get(c, "running"));
		p->frozen[k] = json_object_get_boolean(get(c, "frozen"));
		const char *st = json_object_get_string(get(c, "stats_socket"));
		snprintf(p->stats[k], sizeof(p->stats[k]), "%s", st ? st : "");
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int fo_pair_command(const char *pair_cmd, const char *dir, const char *verb, const char *ctl,
		    const char *arg, char *why, size_t why_len)
{
	if (!pair_cmd) {
		/* the supervisor's socket, not a process per fault: the kill
		 * lands within a millisecond of the moment the trial names
		 * (a mirror-pair process took about 100 ms to start) */
		char line[256], err[384];
		struct json_object *answer = NULL;
		snprintf(line, sizeof(line), "%s%s%s%s%s", verb, ctl && *ctl ? " " : "",
			 ctl && *ctl ? ctl : "", ctl && *ctl && arg ? " " : "", ctl && *ctl && arg ? arg : "");
		int rc = pair_launch_request(dir, line, &answer, err, sizeof(err));
		json_object_put(answer);
		if (rc < 0)
			snprintf(why, why_len, "mirror-pair %s: %s", line, err);
		return rc;
	}
	char *argv[] = { (char *)pair_cmd, "--dir", (char *)dir, "-q", (char *)verb,
			 ctl && *ctl ? (char *)ctl : NULL, ctl && *ctl ? (char *)arg : NULL, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	/* its answer is for people; a failure says why on stderr */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, pair_cmd, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(why, why_len, "%s: %s", pair_cmd, strerror(rc));
		return -rc;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, why_len, "%s --dir %s %s%s%s%s%s: exit status %d", pair_cmd, dir, verb,
			 ctl && *ctl ? " " : "", ctl ? ctl : "", arg ? " " : "", arg ? arg : "",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

static uint64_t u64_at(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v ? (uint64_t)json_object_get_int64(v) : 0;
}

int fo_pair_takeover(const struct fo_pair *p, unsigned k, struct fo_takeover *t, char *why,
		     size_t why_len)
{
	struct json_object *o = NULL;

	memset(t, 0, sizeof(*t));
	if (k > 1 || !p->stats[k][0]) {
		snprintf(why, why_len, "controller %c: no stats socket in the state file", 'a' + k);
		return -ENOENT;
	}
	int rc = mirror_stats_query(p->stats[k], &o, why, why_len);
	if (rc < 0)
		return rc;
	struct json_object *to = get(o, "takeover"), *last = get(to, "last");
	if (!to) {
		snprintf(why, why_len, "controller %c: its stats have no \"takeover\"", 'a' + k);
		json_object_put(o);
		return -EINVAL;
	}
	t->count = u64_at(to, "count");
	if (last) {
		t->detected_at_ms = u64_at(last, "detected_at_ms");
		t->fenced_ms = u64_at(last, "fenced_ms");
		t->replayed_ms = u64_at(last, "replayed_ms");
		t->active_ms = u64_at(last, "active_ms");
		t->replayed_blocks = u64_at(last, "replayed_blocks");
		const char *f = json_object_get_string(get(last, "fencing"));
		snprintf(t->fencing, sizeof(t->fencing), "%s", f ? f : "");
	}
	json_object_put(o);
	return 0;
}

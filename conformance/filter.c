/* Case selection: --test GLOB[,GLOB] and --skip GLOB[,GLOB], shell globs
 * (fnmatch) over the case ids.  A filter that selects nothing is the
 * caller's error to report: a run of nothing must not pass. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "conform.h"

/* Longer than any id; bounds the copy of one pattern. */
#define GLOB_MAX 200

/* Calls fn on each pattern of a comma-separated list; stops at the first
 * non-zero return. */
static int each_glob(const char *list, int (*fn)(const char *glob, size_t len, void *arg),
		     void *arg)
{
	const char *p = list;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int rc = fn(p, len, arg);
		if (rc)
			return rc;
		if (!end)
			return 0;
		p = end + 1;
	}
}

struct match_arg {
	const char *id;
};

static int match_one(const char *glob, size_t len, void *arg)
{
	const struct match_arg *m = arg;
	char pat[GLOB_MAX + 1];

	if (len == 0 || len > GLOB_MAX)
		return 0;
	memcpy(pat, glob, len);
	pat[len] = '\0';
	return fnmatch(pat, m->id, 0) == 0;
}

bool conf_glob_list_match(const char *list, const char *id)
{
	struct match_arg m = { id };

	if (!list || !*list || !id)
		return false;
	return each_glob(list, match_one, &m) == 1;
}

struct check_arg {
	const char *list;
	char *why;
	size_t why_len;
};

static int check_one(const char *glob, size_t len, void *arg)
{
	struct check_arg *a = arg;

	if (len == 0)
		return conf_errorf(-EINVAL, a->why, a->why_len,
				   "empty pattern in '%s' (GLOB[,GLOB], e.g. 'MIRROR.Small.*')", a->list);
	if (len > GLOB_MAX)
		return conf_errorf(-EINVAL, a->why, a->why_len,
				   "pattern '%.20s...' is longer than %d bytes", glob, GLOB_MAX);
	return 0;
}

int conf_glob_list_check(const char *list, char *why, size_t why_len)
{
	struct check_arg a = { list, why, why_len };

	if (!list)
		return conf_errorf(-EINVAL, why, why_len, "no pattern");
	return each_glob(list, check_one, &a);
}

size_t conf_select(const char *test, const char *skip, bool *sel, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		const char *id = conf_case_at(i)->id;
		sel[i] = (!test || conf_glob_list_match(test, id)) &&
			 !(skip && conf_glob_list_match(skip, id));
		count += sel[i];
	}
	return count;
}

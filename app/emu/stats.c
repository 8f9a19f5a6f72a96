/* mirror-emu's counters for people: the stats socket client and the
 * per-path table (wire-profile.md, "Interrupt accounting model" and "Byte
 * accounting"). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/stats.h"

#define STATS_REPLY_MAX (1u << 20)

int mirror_stats_query(const char *path, struct json_object **out, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	static char buf[STATS_REPLY_MAX];
	size_t got = 0;
	int fd, rc = 0;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "%s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s (is mirror-emu running with --stats-socket?)", path,
			 strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int pr = poll(&p, 1, 5000); /* the emulator answers at once */
		if (pr <= 0) {
			rc = pr == 0 ? -ETIMEDOUT : -errno;
			snprintf(err, err_len, "%s: no answer", path);
			goto out;
		}
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0) {
			rc = -errno;
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || got + (size_t)n >= sizeof(buf) - 1) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = json_tokener_parse(buf);
	if (!*out) {
		rc = -EPROTO;
		snprintf(err, err_len, "%s: the answer is not JSON", path);
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int64_t geti(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

struct path_row {
	int64_t ops, imin, imax, interrupts;
	double cdb, md, data, iscsi, total;
};

static int path_row(struct json_object *kinds, const char *name, struct path_row *r)
{
	struct json_object *k, *b;
	memset(r, 0, sizeof(*r));
	if (!json_object_object_get_ex(kinds, name, &k) || !json_object_object_get_ex(k, "bytes", &b))
		return -EINVAL;
	/* bytes and interrupts are summed over the operations that
	 * completed GOOD: errors are counted apart */
	int64_t good = geti(k, "ops") - geti(k, "errors");
	r->ops = geti(k, "ops");
	r->imin = geti(k, "interrupts_min");
	r->imax = geti(k, "interrupts_max");
	r->interrupts = geti(k, "interrupts");
	if (good > 0) {
		r->cdb = (double)geti(b, "cdb") / (double)good;
		r->md = (double)geti(b, "metadata") / (double)good;
		r->data = (double)geti(b, "data") / (double)good;
		r->iscsi = (double)geti(b, "iscsi") / (double)good;
		r->total = (double)geti(b, "total") / (double)good;
	}
	return (int)good;
}

int mirror_stats_print_table(FILE *out, struct json_object *stats)
{
	struct json_object *kinds;
	struct path_row s, l;

	if (!json_object_object_get_ex(stats, "kinds", &kinds))
		return -EINVAL;
	int gs = path_row(kinds, "small", &s), gl = path_row(kinds, "large", &l);
	if (gs < 0 || gl < 0)
		return -EINVAL;
	fprintf(out, "%-6s %7s  %-18s %7s %9s %9s %7s %9s\n", "path", "ops", "interrupts/op",
		"cdb", "metadata", "data", "iscsi", "total");
	fprintf(out, "%-6s %7s  %-18s %7s %9s %9s %7s %9s\n", "", "", "min / mean / max",
		"B/op", "B/op", "B/op", "B/op", "B/op");
	const struct {
		const char *name;
		const struct path_row *r;
		int good;
	} rows[] = { { "small", &s, gs }, { "large", &l, gl } };
	for (size_t i = 0; i < 2; i++) {
		const struct path_row *r = rows[i].r;
		char ints[32] = "-";
		if (rows[i].good > 0)
			snprintf(ints, sizeof(ints), "%lld / %.2f / %lld", (long long)r->imin,
				 (double)r->interrupts / rows[i].good, (long long)r->imax);
		fprintf(out, "%-6s %7lld  %-18s %7.0f %9.0f %9.0f %7.0f %9.0f\n", rows[i].name,
			(long long)r->ops, ints, r->cdb, r->md, r->data, r->iscsi, r->total);
	}
	if (gs > 0 && gl > 0) {
		/* per operation, so different mixes of sizes compare: the
		 * overhead is everything but the user data */
		double ds = s.total - s.data, dl = l.total - l.data;
		fprintf(out, "small path per op: %.2f fewer interrupts, %.0f fewer overhead bytes (%.0f vs %.0f)\n",
			(double)l.interrupts / gl - (double)s.interrupts / gs, dl - ds, ds, dl);
	}
	int64_t errs = 0;
	json_object_object_foreach(kinds, key, val)
	{
		(void)key;
		errs += geti(val, "errors");
	}
	fprintf(out, "errors: %lld\n", (long long)errs);
	return 0;
}

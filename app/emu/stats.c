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
#include "iscsi/stats.h"

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

int mirror_stats_read(const char *path, struct mirror_stats *s, char *err, size_t err_len)
{
	struct json_object *o;
	char why[200];
	int rc = mirror_stats_query(path, &o, err, err_len);

	memset(s, 0, sizeof(*s));
	if (rc < 0)
		return rc;
	rc = mirror_stats_parse(o, s, why, sizeof(why));
	json_object_put(o);
	if (rc < 0)
		snprintf(err, err_len, "%s: %s", path, why);
	return rc;
}

/* One path's row, per GOOD operation: bytes and interrupts are summed
 * over the operations that completed GOOD, errors are counted apart. */
struct path_row {
	uint64_t good;
	double cdb, md, data, iscsi, total;
};

static void path_row(const struct mirror_stats_kind *k, struct path_row *r)
{
	memset(r, 0, sizeof(*r));
	r->good = k->ops > k->errors ? k->ops - k->errors : 0;
	if (!r->good)
		return;
	double g = (double)r->good;
	r->cdb = (double)k->cdb / g;
	r->md = (double)k->metadata / g;
	r->data = (double)k->data / g;
	r->iscsi = (double)k->iscsi / g;
	r->total = (double)k->total / g;
}

void mirror_stats_print_table(FILE *out, const struct mirror_stats *st)
{
	static const enum mirror_rx_kind paths[] = { MIRROR_RX_KIND_SMALL, MIRROR_RX_KIND_LARGE };
	struct path_row row[2];

	fprintf(out, "%-6s %7s  %-18s %7s %9s %9s %7s %9s\n", "path", "ops", "interrupts/op",
		"cdb", "metadata", "data", "iscsi", "total");
	fprintf(out, "%-6s %7s  %-18s %7s %9s %9s %7s %9s\n", "", "", "min / mean / max",
		"B/op", "B/op", "B/op", "B/op", "B/op");
	for (size_t i = 0; i < 2; i++) {
		const struct mirror_stats_kind *k = &st->kind[paths[i]];
		const struct path_row *r = &row[i];
		char ints[32] = "-";
		path_row(k, &row[i]);
		if (r->good > 0)
			snprintf(ints, sizeof(ints), "%llu / %.2f / %llu",
				 (unsigned long long)k->interrupts_min,
				 (double)k->interrupts / (double)r->good,
				 (unsigned long long)k->interrupts_max);
		fprintf(out, "%-6s %7llu  %-18s %7.0f %9.0f %9.0f %7.0f %9.0f\n",
			mirror_stats_kind_name(paths[i]), (unsigned long long)k->ops, ints, r->cdb, r->md,
			r->data, r->iscsi, r->total);
	}
	const struct mirror_stats_kind *s = &st->kind[paths[0]], *l = &st->kind[paths[1]];
	if (row[0].good > 0 && row[1].good > 0) {
		/* per operation, so different mixes of sizes compare: the
		 * overhead is everything but the user data */
		double ds = row[0].total - row[0].data, dl = row[1].total - row[1].data;
		fprintf(out, "small path per op: %.2f fewer interrupts, %.0f fewer overhead bytes (%.0f vs %.0f)\n",
			(double)l->interrupts / (double)row[1].good -
				(double)s->interrupts / (double)row[0].good,
			dl - ds, ds, dl);
	}
	uint64_t errs = 0;
	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++)
		errs += st->kind[i].errors;
	fprintf(out, "errors: %llu\n", (unsigned long long)errs);
}

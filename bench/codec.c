/* bench/codec: what the small path saves the sender and the receiver in
 * CPU, next to its named peer, the large path.
 *
 * The small path (source Fig. 6) packs everything into a 12-byte CDB; the
 * large path (Fig. 3) sends a notification CDB and a 1024-byte metadata
 * message that the receiver decodes and checks.  Measured per operation:
 *   - small CDB encode + decode (12-byte v1 layout, 1 or 2 elements),
 *   - metadata encode + decode + validate (2 elements and 64 elements).
 * Wall time comes from CLOCK_MONOTONIC over at least 0.3 s per loop; where
 * valgrind is on PATH the same loops are re-run under callgrind for an
 * instruction count per operation, which does not depend on the machine's
 * load.  It only prints: no timing is judged here.
 *
 * Usage: bench/codec [--iterations N] [--no-valgrind] [--json]
 *        bench/codec --run-loop NAME N     (one loop, N times; used under
 *                                           callgrind) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mirror/mirror.h>

extern char **environ;

#define MIN_SECONDS 0.3
#define DEFAULT_ITERATIONS 10000u
/* Enough to swamp the loop's entry cost, few enough for valgrind's ~50x. */
#define CALLGRIND_ITERATIONS 2000u
/* How many inputs the pre-flight check decodes before anything is timed. */
#define PREFLIGHT_INPUTS 4096u

/* Every loop folds its results in here, so the compiler cannot drop the
 * work as unused. */
static volatile uint64_t sink;

static const struct mirror_profile *v1_profile(void)
{
	static struct mirror_profile p;
	static bool ready;

	if (!ready) {
		mirror_profile_init(&p);
		ready = true;
	}
	return &p;
}

/* ---- inputs: a different, valid operation for every iteration ---- */

/* Region 0 of the v1 profile: descriptors below 0x20000.  Both elements
 * keep the same upper 4 bits (Fig. 7 block 716) and stay in the region. */
static void small_input(uint64_t i, struct mirror_small_cdb *c)
{
	uint32_t high = (uint32_t)((i >> 10) & 1u) << 16;
	uint32_t d1 = high | (uint32_t)((i * 64u) & 0xFFC0u);

	memset(c, 0, sizeof(*c));
	c->opcode = v1_profile()->op.small_a_to_b;
	c->volume = (uint8_t)i;
	c->lba = (uint32_t)(i * 64u);
	c->slots = 2;
	c->sg[0].descriptor = d1;
	c->sg[0].blocks = (uint8_t)(1u + i % 32u);
	if (i & 1u) { /* every other op has a second element */
		c->sg[1].descriptor = d1 + 32u;
		c->sg[1].blocks = (uint8_t)(1u + (i >> 1) % 32u);
	}
}

/* elems extents of 1..32 blocks, 16 KiB apart, inside region 0. */
static void metadata_input(uint64_t i, unsigned elems, struct mirror_metadata *m)
{
	uint32_t base = (uint32_t)(i % 63u) << 20;

	mirror_metadata_init(m);
	m->sequence = (uint32_t)i;
	m->lba = (uint32_t)(i * 64u) & 0x7FFFFFFFu;
	m->array_serial = 0x5000000000000000ull | i;
	m->array_number = (uint8_t)i;
	m->region = 0;
	m->sg_count = elems;
	for (unsigned e = 0; e < elems; e++) {
		uint32_t blocks = 1u + (uint32_t)((i + e) % 32u);
		m->sg[e].nvram_addr = base + e * MIRROR_SG_ELEMENT_MAX_BYTES;
		m->sg[e].bytes = blocks * MIRROR_BLOCK_SIZE;
		m->blocks += blocks;
	}
}

/* ---- one operation of each kind; returns the decoder's result ---- */

static int small_op(uint64_t i, uint64_t *acc)
{
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	struct mirror_small_cdb in, out;
	struct mirror_findings f;
	uint8_t cdb[16];
	int len, rc;

	small_input(i, &in);
	ctx.data_out_length = (int64_t)mirror_small_cdb_blocks(&in) * MIRROR_BLOCK_SIZE;
	mirror_findings_init(&f);
	len = mirror_small_cdb_encode(v1_profile(), &in, cdb, sizeof(cdb));
	if (len < 0)
		return len;
	rc = mirror_small_cdb_decode(v1_profile(), cdb, (size_t)len, &ctx, &out, &f);
	*acc += out.lba ^ out.sg[0].descriptor ^ out.sg[1].blocks;
	return rc;
}

/* Decode with a full check context: mirror_metadata_decode unpacks and
 * checks every rule, so decode is the validation a receiver does. */
static int metadata_op(uint64_t i, unsigned elems, uint64_t *acc)
{
	struct mirror_check_ctx ctx = { 0, 0 };
	struct mirror_metadata in, out;
	struct mirror_findings f;
	uint8_t buf[MIRROR_METADATA_BYTES];
	int n, rc;

	metadata_input(i, elems, &in);
	ctx.data_out_length = (int64_t)mirror_large_transfer_length(in.blocks);
	mirror_findings_init(&f);
	n = mirror_metadata_encode(&in, buf, sizeof(buf));
	if (n < 0)
		return n;
	rc = mirror_metadata_decode(v1_profile(), buf, (size_t)n, &ctx, &out, &f);
	*acc += out.sequence ^ out.sg_count ^ out.sg[elems - 1].nvram_addr;
	return rc;
}

/* ---- the measured loops: separate, never inlined, so that callgrind's
 * --toggle-collect can count exactly one of them ---- */

__attribute__((noinline)) static void loop_small(uint64_t n)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		int rc = small_op(i, &acc);
		acc += rc != 0;
	}
	sink = acc;
}

__attribute__((noinline)) static void loop_metadata_2(uint64_t n)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		int rc = metadata_op(i, 2, &acc);
		acc += rc != 0;
	}
	sink = acc;
}

__attribute__((noinline)) static void loop_metadata_64(uint64_t n)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		int rc = metadata_op(i, 64, &acc);
		acc += rc != 0;
	}
	sink = acc;
}

struct loop {
	const char *name; /* --run-loop NAME, JSON key; the function's name too */
	const char *what;
	void (*run)(uint64_t n);
};

/* The function names must match the symbols: callgrind toggles by name. */
static const struct loop loops[] = {
	{ "loop_small", "small CDB encode+decode (12-byte v1)", loop_small },
	{ "loop_metadata_2", "metadata encode+decode+validate (1024 B, 2 elements)",
	  loop_metadata_2 },
	{ "loop_metadata_64", "metadata encode+decode+validate (1024 B, 64 elements)",
	  loop_metadata_64 },
};
#define N_LOOPS (sizeof(loops) / sizeof(loops[0]))

static const struct loop *loop_by_name(const char *name)
{
	for (size_t i = 0; i < N_LOOPS; i++)
		if (strcmp(loops[i].name, name) == 0)
			return &loops[i];
	return NULL;
}

/* A benchmark of the error path would be a different benchmark: make sure
 * every input is one the decoders accept before timing anything. */
static bool preflight(void)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < PREFLIGHT_INPUTS; i++) {
		int a = small_op(i, &acc), b = metadata_op(i, 2, &acc),
		    c = metadata_op(i, 64, &acc);
		if (a || b || c) {
			fprintf(stderr, "bench/codec: input %" PRIu64 " is rejected (%s / %s / %s)\n",
				i, mirror_strerror(a), mirror_strerror(b), mirror_strerror(c));
			return false;
		}
	}
	sink = acc;
	return true;
}

/* ---- wall time ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timing {
	uint64_t iterations;
	double ns_per_op;
};

/* Grows the count until one run lasts MIN_SECONDS; the short runs before
 * it double as warm-up (caches, page faults, frequency). */
static struct timing time_loop(const struct loop *l, uint64_t start)
{
	uint64_t n = start ? start : 1;

	for (;;) {
		double t0 = now();
		l->run(n);
		double dt = now() - t0;
		if (dt >= MIN_SECONDS)
			return (struct timing){ n, dt * 1e9 / (double)n };
		/* Aim 20% past the target so the next run is usually the last. */
		double scale = dt > 1e-3 ? MIN_SECONDS * 1.2 / dt : 10.0;
		n = (uint64_t)((double)n * (scale > 10.0 ? 10.0 : scale)) + 1;
	}
}

/* ---- instructions under callgrind ---- */

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char full[PATH_MAX];

	while (path && *path) {
		size_t len = strcspn(path, ":");
		if (len > 0 && (size_t)snprintf(full, sizeof(full), "%.*s/%s", (int)len, path, prog) <
				       sizeof(full) &&
		    access(full, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* The real executable: when `make bench` starts us through libtool's
 * wrapper script, argv[0] is the script, and callgrind would count the
 * shell.  The wrapper's LD_LIBRARY_PATH is inherited by the child. */
static void self_path(const char *argv0, char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);

	if (n > 0) {
		out[n] = '\0';
		return;
	}
	snprintf(out, cap, "%s", argv0);
}

/* The first "summary:" or "totals:" line: the event total (Ir, the only
 * event callgrind collects by default) of what the toggle let through. */
static int parse_callgrind_total(const char *file, uint64_t *total)
{
	FILE *fp = fopen(file, "r");
	char line[512];
	int rc = -ENOENT;

	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		const char *v = NULL;
		if (strncmp(line, "summary:", 8) == 0)
			v = line + 8;
		else if (strncmp(line, "totals:", 7) == 0)
			v = line + 7;
		if (v) {
			*total = strtoull(v, NULL, 10);
			rc = 0;
			break;
		}
	}
	fclose(fp);
	return rc;
}

/* Runs valgrind on ourselves in --run-loop mode, quietly. */
static int spawn_callgrind(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "valgrind", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -rc;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int callgrind_instructions(const char *self, const struct loop *l, uint64_t n,
				  double *per_op)
{
	char out_file[] = "/tmp/bench-codec-callgrind-XXXXXX";
	/* posix_spawn takes char *const[]: writable copies of every word. */
	char valgrind[] = "valgrind", tool[] = "--tool=callgrind";
	char atstart[] = "--collect-atstart=no", mode[] = "--run-loop";
	char out_arg[128], toggle[96], name[64], count[32], exe[PATH_MAX];
	char *argv[] = { valgrind, tool, atstart, out_arg, toggle, exe, mode, name, count, NULL };
	uint64_t total = 0;
	int fd = mkstemp(out_file), rc;

	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(out_arg, sizeof(out_arg), "--callgrind-out-file=%s", out_file);
	/* The wildcard also matches a clone the compiler may have made
	 * (loop_small.constprop.0 and the like). */
	snprintf(toggle, sizeof(toggle), "--toggle-collect=%s*", l->name);
	snprintf(count, sizeof(count), "%" PRIu64, n);
	snprintf(exe, sizeof(exe), "%s", self);
	snprintf(name, sizeof(name), "%s", l->name);

	rc = spawn_callgrind(argv);
	if (rc == 0)
		rc = parse_callgrind_total(out_file, &total);
	unlink(out_file);
	if (rc == 0 && total == 0)
		rc = -ENODATA; /* the toggle never fired: symbol not found */
	if (rc == 0)
		*per_op = (double)total / (double)n;
	return rc;
}

/* ---- output ---- */

struct results {
	struct timing t[N_LOOPS];
	bool have_ir;
	double ir[N_LOOPS];
	char ir_note[160];
};

static void print_text(const struct results *r)
{
	printf("bench/codec: libmirror %s, CLOCK_MONOTONIC, >= %.1f s per loop\n",
	       mirror_version(), MIN_SECONDS);
	for (size_t i = 0; i < N_LOOPS; i++)
		printf("  %-56s %10.1f ns/op  (%" PRIu64 " ops)\n", loops[i].what,
		       r->t[i].ns_per_op, r->t[i].iterations);
	for (size_t i = 1; i < N_LOOPS; i++)
		printf("small CDB encode+decode is %.1fx cheaper than %s\n",
		       r->t[i].ns_per_op / r->t[0].ns_per_op, loops[i].what);
	if (!r->have_ir) {
		printf("callgrind: skipped (%s)\n", r->ir_note);
		return;
	}
	printf("callgrind: %u ops per loop, instructions counted inside the loop function\n",
	       CALLGRIND_ITERATIONS);
	for (size_t i = 0; i < N_LOOPS; i++)
		printf("  %-56s %10.0f instructions/op\n", loops[i].what, r->ir[i]);
	for (size_t i = 1; i < N_LOOPS; i++)
		printf("small CDB encode+decode is %.1fx cheaper in instructions than %s\n",
		       r->ir[i] / r->ir[0], loops[i].what);
}

/* One object; plain printf keeps the benchmark free of json-c. */
static void print_json(const struct results *r)
{
	printf("{\"version\":\"%s\",\"min_seconds\":%.1f,\"loops\":{", mirror_version(),
	       MIN_SECONDS);
	for (size_t i = 0; i < N_LOOPS; i++) {
		printf("%s\"%s\":{\"what\":\"%s\",\"iterations\":%" PRIu64 ",\"ns_per_op\":%.3f",
		       i ? "," : "", loops[i].name, loops[i].what, r->t[i].iterations,
		       r->t[i].ns_per_op);
		if (r->have_ir)
			printf(",\"instructions_per_op\":%.1f", r->ir[i]);
		printf("}");
	}
	printf("},\"small_cheaper_by\":{\"loop_metadata_2\":%.3f,\"loop_metadata_64\":%.3f}",
	       r->t[1].ns_per_op / r->t[0].ns_per_op, r->t[2].ns_per_op / r->t[0].ns_per_op);
	if (r->have_ir)
		printf(",\"small_cheaper_in_instructions_by\":{\"loop_metadata_2\":%.3f,"
		       "\"loop_metadata_64\":%.3f},\"callgrind_iterations\":%u",
		       r->ir[1] / r->ir[0], r->ir[2] / r->ir[0], CALLGRIND_ITERATIONS);
	else
		printf(",\"callgrind\":\"skipped: %s\"", r->ir_note);
	printf("}\n");
}

/* ---- command line ---- */

struct opts {
	uint64_t iterations;
	bool valgrind;
	bool json;
	const char *run_loop;
	uint64_t run_count;
};

static int usage(FILE *out, int status)
{
	fprintf(out,
		"Usage: bench/codec [--iterations N] [--no-valgrind] [--json]\n"
		"Times small-CDB encode+decode against metadata encode+decode+validate\n"
		"and, where valgrind is on PATH, counts their instructions with callgrind.\n"
		"\n"
		"  --iterations N   first iteration count of each loop (default %u); the\n"
		"                   count grows until a loop runs >= %.1f s\n"
		"  --no-valgrind    skip the callgrind instruction counts\n"
		"  --json           one JSON object instead of text\n"
		"  --run-loop NAME N  run one loop N times and exit (for callgrind)\n",
		DEFAULT_ITERATIONS, MIN_SECONDS);
	return status;
}

static bool parse_count(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *out > 0;
}

/* 0 to go on, otherwise exit status + 1 (so that exit 0 fits). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ DEFAULT_ITERATIONS, true, false, NULL, 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--iterations") == 0 && i + 1 < argc &&
		    parse_count(argv[i + 1], &o->iterations))
			i++;
		else if (strcmp(a, "--no-valgrind") == 0)
			o->valgrind = false;
		else if (strcmp(a, "--json") == 0)
			o->json = true;
		else if (strcmp(a, "--run-loop") == 0 && i + 2 < argc &&
			 parse_count(argv[i + 2], &o->run_count)) {
			o->run_loop = argv[i + 1];
			i += 2;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return usage(stdout, 0) + 1;
		else {
			fprintf(stderr, "bench/codec: bad argument '%s'\n", a);
			return usage(stderr, 2) + 1;
		}
	}
	return 0;
}

static void measure_instructions(const char *argv0, struct results *r)
{
	char self[PATH_MAX];

	if (!on_path("valgrind")) {
		snprintf(r->ir_note, sizeof(r->ir_note), "valgrind is not on PATH");
		return;
	}
	self_path(argv0, self, sizeof(self));
	for (size_t i = 0; i < N_LOOPS; i++) {
		int rc = callgrind_instructions(self, &loops[i], CALLGRIND_ITERATIONS, &r->ir[i]);
		if (rc < 0) {
			snprintf(r->ir_note, sizeof(r->ir_note), "callgrind run of %s failed: %s",
				 loops[i].name, strerror(-rc));
			return;
		}
	}
	r->have_ir = true;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct results r;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc - 1;
	if (o.run_loop) {
		const struct loop *l = loop_by_name(o.run_loop);
		if (!l) {
			fprintf(stderr, "bench/codec: no loop '%s'\n", o.run_loop);
			return 2;
		}
		l->run(o.run_count);
		return 0;
	}
	if (!preflight())
		return 1;
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < N_LOOPS; i++)
		r.t[i] = time_loop(&loops[i], o.iterations);
	if (o.valgrind)
		measure_instructions(argv[0], &r);
	else
		snprintf(r.ir_note, sizeof(r.ir_note), "--no-valgrind");
	if (o.json)
		print_json(&r);
	else
		print_text(&r);
	return 0;
}

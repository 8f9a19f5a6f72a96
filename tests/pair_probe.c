/* pair_probe: one iSCSI session to a host LUN and a script of SCSI commands
 * run on it, each checked against what it must answer -- for the tests
 * that need a session (an I_T nexus) to outlive an event: unit attentions
 * across a takeover, ALUA states before and after.  Prints TAP lines.
 *
 *   pair_probe URL STEP...
 *   STEP: cmd=HEXCDB[,in=N[,save=FILE]][,out=FILE][,expect=S[/K/ASC/ASCQ]][,name=TEXT]
 *         rtpg=TPG:STATE[,name=TEXT]    (REPORT TARGET PORT GROUPS; STATE
 *                                         in hex, byte 0 & 0Fh of the
 *                                         group's descriptor)
 *         read=LBA:BLOCKS:FILE[,name=TEXT]   READ(10), data equal to FILE
 *         wait=PATH                      until PATH exists (30 s at most)
 *         touch=PATH                     create PATH
 *         retry=MS                       the next cmd/rtpg step may be
 *                                         retried for MS while it fails
 * Exit status 0 when every check passed, 1 otherwise, 99 on a setup error. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mirror/mirror.h>

static unsigned n_checks, n_failed;

static void check(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	n_checks++;
	printf("%s %u - %s", ok ? "ok" : "not ok", n_checks, name);
	if (!ok) {
		n_failed++;
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int hexbytes(const char *s, uint8_t *out, unsigned cap)
{
	unsigned n = 0;

	while (*s && *s != ',') {
		unsigned v;
		if (n == cap || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return (int)n;
}

static const char *field(const char *step, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = step; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=')
			return p + k + 1;
	return NULL;
}

/* A field's value up to the next comma. */
static const char *value(const char *step, const char *key, char *buf, size_t len)
{
	const char *v = field(step, key);
	size_t k;

	if (!v)
		return NULL;
	k = strcspn(v, ",");
	if (k >= len)
		k = len - 1;
	memcpy(buf, v, k);
	buf[k] = '\0';
	return buf;
}

static void name_of(const char *step, const char *dflt, char *out, size_t len)
{
	const char *n = field(step, "name");
	const char *src = n ? n : dflt;
	size_t k = strcspn(src, ",");

	if (k >= len)
		k = len - 1;
	memcpy(out, src, k);
	out[k] = '\0';
}

/* "S" or "S/K/ASC/ASCQ" (hex) against the command's outcome. */
static bool outcome_is(const struct mirror_cmd *c, const char *expect, char *got, size_t len)
{
	unsigned st, k, asc, ascq;
	int n = sscanf(expect ? expect : "0", "%x/%x/%x/%x", &st, &k, &asc, &ascq);

	if (c->result < 0)
		snprintf(got, len, "transport failure %d", c->result);
	else if (c->sense_len)
		snprintf(got, len, "status 0x%02x sense %x/%02x/%02x", c->status, c->sense_parsed.key,
			 c->sense_parsed.asc, c->sense_parsed.ascq);
	else
		snprintf(got, len, "status 0x%02x", c->status);
	if (c->result < 0 || c->status != st)
		return false;
	if (n == 4)
		return c->sense_len && c->sense_parsed.key == k && c->sense_parsed.asc == asc &&
		       c->sense_parsed.ascq == ascq;
	return true;
}

static int run_cmd(struct mirror_transport *t, const char *step, uint64_t retry_ms)
{
	struct mirror_cmd c;
	uint8_t din[65536], dout[65536];
	char outbuf[512], savebuf[512];
	const char *cdb = field(step, "cmd"), *in = field(step, "in");
	const char *out = value(step, "out", outbuf, sizeof(outbuf));
	const char *save = value(step, "save", savebuf, sizeof(savebuf));
	char name[128], got[128];
	uint64_t end = now_ms() + retry_ms;
	int n;

	name_of(step, cdb, name, sizeof(name));
	for (;;) {
		memset(&c, 0, sizeof(c));
		n = hexbytes(cdb, c.cdb, sizeof(c.cdb));
		if (n <= 0)
			return -1;
		c.cdb_len = (unsigned)n;
		if (in) {
			c.dir = MIRROR_DIR_IN;
			c.data_in = din;
			c.data_in_len = (uint32_t)atoi(in);
		} else if (out) {
			int fd = open(out, O_RDONLY);
			ssize_t got_n = fd >= 0 ? read(fd, dout, sizeof(dout)) : -1;
			if (fd >= 0)
				close(fd);
			if (got_n < 0)
				return -1;
			c.dir = MIRROR_DIR_OUT;
			c.data_out = dout;
			c.data_out_len = (uint32_t)got_n;
		}
		mirror_transport_run(t, &c);
		bool ok = outcome_is(&c, field(step, "expect"), got, sizeof(got));
		if (ok || now_ms() >= end) {
			if (save && in) {
				int fd = open(save, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd < 0 || write(fd, din, c.data_in_got) != (ssize_t)c.data_in_got)
					ok = false;
				if (fd >= 0)
					close(fd);
			}
			check(ok, name, "%s, want %s", got, field(step, "expect") ? field(step, "expect") : "0");
			return 0;
		}
		usleep(50000);
	}
}

/* REPORT TARGET PORT GROUPS (SPC-4 6.36): the group's state from byte 0
 * & 0Fh of its descriptor, read by hand (some libiscsi versions read the
 * wrong nibble). */
static int run_rtpg(struct mirror_transport *t, const char *step, uint64_t retry_ms)
{
	unsigned tpg, state;
	char name[128], dflt[64];
	uint64_t end = now_ms() + retry_ms;

	if (sscanf(field(step, "rtpg"), "%u:%x", &tpg, &state) != 2)
		return -1;
	snprintf(dflt, sizeof(dflt), "target port group %u in state %Xh", tpg, state);
	name_of(step, dflt, name, sizeof(name));
	for (;;) {
		struct mirror_cmd c;
		uint8_t d[1024];
		int seen = -1;
		memset(&c, 0, sizeof(c));
		/* MAINTENANCE IN, REPORT TARGET PORT GROUPS; bytes 6-9 the
		 * allocation length */
		c.cdb[0] = 0xA3;
		c.cdb[1] = 0x0A;
		c.cdb[8] = (uint8_t)(sizeof(d) >> 8);
		c.cdb[9] = (uint8_t)(sizeof(d) & 0xff);
		c.cdb_len = 12;
		c.dir = MIRROR_DIR_IN;
		c.data_in = d;
		c.data_in_len = sizeof(d);
		mirror_transport_run(t, &c);
		if (c.result == 0 && c.status == 0 && c.data_in_got >= 4) {
			uint32_t len = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
			uint32_t off = 4;
			if (len + 4 > c.data_in_got)
				len = c.data_in_got - 4;
			while (off + 8 <= len + 4) {
				unsigned g = (unsigned)d[off + 2] << 8 | d[off + 3];
				unsigned ports = d[off + 7];
				if (g == tpg)
					seen = d[off] & 0x0f;
				off += 8 + 4 * ports;
			}
		}
		if ((unsigned)seen == state || now_ms() >= end) {
			check((unsigned)seen == state, name, "state %d (status 0x%02x, %d)", seen, c.status,
			      c.result);
			return 0;
		}
		usleep(50000);
	}
}

static int run_read(struct mirror_transport *t, const char *step)
{
	unsigned lba, blocks;
	char file[512], name[160], dflt[600];
	uint8_t got[65536], want[65536];

	if (sscanf(field(step, "read"), "%u:%u:%511[^,]", &lba, &blocks, file) != 3 ||
	    blocks * 512u > sizeof(got))
		return -1;
	int fd = open(file, O_RDONLY);
	ssize_t wn = fd >= 0 ? read(fd, want, sizeof(want)) : -1;
	if (fd >= 0)
		close(fd);
	if (wn != (ssize_t)blocks * 512)
		return -1;
	snprintf(dflt, sizeof(dflt), "LBA %u x %u reads back as %s", lba, blocks, file);
	name_of(step, dflt, name, sizeof(name));
	struct mirror_cmd c;
	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0x28;
	c.cdb[2] = (uint8_t)(lba >> 24);
	c.cdb[3] = (uint8_t)(lba >> 16);
	c.cdb[4] = (uint8_t)(lba >> 8);
	c.cdb[5] = (uint8_t)lba;
	c.cdb[7] = (uint8_t)(blocks >> 8);
	c.cdb[8] = (uint8_t)blocks;
	c.cdb_len = 10;
	c.dir = MIRROR_DIR_IN;
	c.data_in = got;
	c.data_in_len = blocks * 512u;
	mirror_transport_run(t, &c);
	bool ok = c.result == 0 && c.status == 0 && c.data_in_got == blocks * 512u &&
		  memcmp(got, want, blocks * 512u) == 0;
	unsigned first = 0;
	while (ok == false && first < blocks * 512u && got[first] == want[first])
		first++;
	check(ok, name, "status 0x%02x, %u bytes, first difference at byte %u", c.status,
	      c.data_in_got, first);
	return 0;
}

int main(int argc, char **argv)
{
	struct mirror_transport_opts o;
	char err[256];
	uint64_t retry = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pair_probe URL STEP...\n");
		return 99;
	}
	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = 5000;
	o.command_timeout_ms = 5000;
	struct mirror_transport *t = mirror_transport_open(argv[1], &o, err, sizeof(err));
	if (!t) {
		printf("not ok 1 - connect to %s: %s\n", argv[1], err);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];
		int rc = 0;
		if (field(s, "cmd"))
			rc = run_cmd(t, s, retry);
		else if (field(s, "rtpg"))
			rc = run_rtpg(t, s, retry);
		else if (field(s, "read"))
			rc = run_read(t, s);
		else if (field(s, "wait")) {
			uint64_t end = now_ms() + 30000;
			struct stat st;
			while (stat(field(s, "wait"), &st) < 0 && now_ms() < end)
				usleep(20000);
		} else if (field(s, "touch")) {
			int fd = open(field(s, "touch"), O_WRONLY | O_CREAT, 0644);
			if (fd >= 0)
				close(fd);
		} else if (field(s, "retry")) {
			retry = (uint64_t)atoll(field(s, "retry"));
			continue;
		} else {
			rc = -1;
		}
		if (rc < 0) {
			fprintf(stderr, "pair_probe: bad step '%s'\n", s);
			mirror_transport_close(t);
			return 99;
		}
		retry = 0;
	}
	mirror_transport_close(t);
	return n_failed ? 1 : 0;
}

/* mirror-pair's supervisor: creates a pair's directory (the RAID-5 disk
 * array, the shared state), starts both controllers (mirror-ctl) on free
 * loopback ports, writes the state file scripts read (atomically), and
 * stays in the foreground until told to stop, stopping everything it
 * started by PID.  A second mirror-pair on the same directory is a client
 * of the first: kill, freeze, thaw, restart a controller, cut or heal the
 * mirror link, status, stop. */
#ifndef MIRROR_APP_PAIR_LAUNCHER_H
#define MIRROR_APP_PAIR_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAIR_ARGS_MAX 48

struct pair_launch {
	const char *dir;
	const char *state_path;   /* NULL: DIR/state.json */
	const char *ctl_path;     /* mirror-ctl; NULL: beside this program */
	uint32_t luns;
	uint64_t lun_bytes;
	unsigned disks;
	uint32_t chunk_bytes;
	bool reuse;               /* an existing DIR */
	bool quiet;
	/* passed to both controllers as they are (profile, timing,
	 * deviations), and to one (a fault point) */
	unsigned nargs;
	const char *args[PAIR_ARGS_MAX];
	unsigned nargs_ctl[2];
	const char *args_ctl[2][8];
};

void pair_launch_init(struct pair_launch *l);
/* Runs the supervisor until SIGTERM/SIGINT or a "stop"; returns an exit
 * status (sg3_utils style). */
int pair_launch_run(const struct pair_launch *l);
/* As a client of the supervisor of dir: sends one command and prints its
 * answer; returns an exit status. */
int pair_launch_command(const char *dir, const char *command, bool json);
/* The same without printing: 0 and the answer (caller puts it), or < 0
 * with why (and the answer, when the supervisor refused). */
struct json_object;
int pair_launch_request(const char *dir, const char *command, struct json_object **answer,
			char *why, size_t why_len);

#endif

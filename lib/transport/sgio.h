/* Inside the transport seam: the SG_IO backend (lib/transport/sgio.c).
 * Not installed.  The pure part (how a pass-through outcome maps to a
 * result code and a message) is declared here so that unit tests can drive
 * it without a device. */
#ifndef MIRROR_TRANSPORT_SGIO_H
#define MIRROR_TRANSPORT_SGIO_H

#include <stddef.h>

#include <mirror/transport.h>

/* Targets of this backend start with this. */
#define MIRROR_SGIO_PREFIX "/dev/"

int mirror_sgio_check(const char *target, const struct mirror_transport_opts *opts, char *err,
		      size_t err_len);
struct mirror_transport *mirror_sgio_open(const char *target,
					  const struct mirror_transport_opts *opts, char *err,
					  size_t err_len);

/* What libsgutils2 reported for one command, as numbers. */
struct mirror_sgio_raw {
	int do_rc;       /* do_scsi_pt's return: < 0 -errno, > 0 SCSI_PT_DO_* */
	int category;    /* get_scsi_pt_result_category (SCSI_PT_RESULT_*) */
	int host_status; /* get_scsi_pt_transport_err: Linux DID_* */
	int os_err;      /* get_scsi_pt_os_err: errno */
};

/* 0 when the target answered (status and sense are then valid); else the
 * command's negative result code (-ETIMEDOUT, -EIO, ...) and in *what a
 * static phrase saying what failed ("host status DID_ERROR: ...").  Pure. */
int mirror_sgio_classify(const struct mirror_sgio_raw *r, const char **what);

/* The Linux host status name ("DID_ERROR"), or NULL for an unknown one. */
const char *mirror_sgio_host_status_name(int host_status);

/* Seconds for do_scsi_pt from a timeout in milliseconds: rounded up, at
 * least 1 (SG_IO takes 0 as "the driver's default"). */
int mirror_sgio_timeout_secs(unsigned timeout_ms);

#endif

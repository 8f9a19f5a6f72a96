/* Internal seam between the mirror commands (receiver.c) and the standard
 * SCSI commands (receiver_scsi.c) of the receiver. */
#ifndef MIRROR_LIB_RECEIVER_INT_H
#define MIRROR_LIB_RECEIVER_INT_H

#include <stdint.h>

#include <mirror/receiver.h>

/* struct mirror_rx_task.phase */
enum rx_phase {
	RX_PHASE_IDLE = 0,      /* never begun, or ended */
	RX_PHASE_RESPONDED,     /* the action was RESPOND */
	RX_PHASE_WANT_DATA,     /* small write, ARRAY TABLE UPDATE: the one data-out range */
	RX_PHASE_WANT_METADATA, /* large path: bytes 0..1023 (Fig. 5 block 512) */
	RX_PHASE_WANT_USER,     /* large path: the user data (Fig. 5 block 520) */
	RX_PHASE_ABORTED
};

/* RESPOND with GOOD and len bytes of data-in (already bounded by the
 * allocation and expected transfer lengths). */
void mirror_rx_respond_good(struct mirror_receiver *rx, struct mirror_rx_task *t,
			    struct mirror_rx_action *act, const uint8_t *data, uint32_t len);
/* RESPOND with CHECK CONDITION for the first error in t->findings. */
void mirror_rx_respond_findings(struct mirror_receiver *rx, struct mirror_rx_task *t,
				struct mirror_rx_action *act);
/* Any command that is not a mirror command with its direction. */
int mirror_rx_scsi_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			 struct mirror_rx_action *act);

#endif

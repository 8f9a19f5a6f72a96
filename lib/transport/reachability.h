/* Opcode reachability: whether a command's opcode reached the target's
 * SCSI layer unchanged, per transport.  Between sender and receiver sit
 * layers that know SPC: QEMU's SCSI bus answers REPORT LUNS (0xA0) itself
 * for every device and fails a data-out 0xA0 with host status DID_ERROR;
 * iSCSI targets such as tgtd run a data-out 0xA0 as REPORT LUNS.  Opcodes
 * in the vendor-specific range 0xC0-0xFF pass (QEMU forwards them as a
 * zero-padded 16-byte CDB).  See mirror-protocol(7), OPCODES. */
#ifndef MIRROR_REACHABILITY_H
#define MIRROR_REACHABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The SPC name of an opcode that some transport answers or reinterprets
 * itself ("REPORT LUNS" for 0xA0), or NULL. */
const char *mirror_opcode_intercepted_as(uint8_t opcode);

/* SPC's vendor-specific range, 0xC0-0xFF: no transport knows them. */
bool mirror_opcode_vendor_specific(uint8_t opcode);

enum mirror_reach {
	/* The target's SCSI layer answered as a receiver would. */
	MIRROR_REACH_YES = 0,
	/* The command failed below the target (a transport failure other
	 * than a timeout). */
	MIRROR_REACH_NO,
	/* The target answered, but as another command: INVALID FIELD IN
	 * CDB without a field pointer to a data-out command, or data-in to
	 * a data-out command. */
	MIRROR_REACH_OTHER_COMMAND,
	/* A timeout or nothing sent: cannot tell. */
	MIRROR_REACH_UNKNOWN
};

/* INVALID FIELD IN CDB with no field pointer: a mirror receiver always
 * points at the field it rejects (wire-profile.md), so a target that
 * answers so judged the CDB as another command. */
bool mirror_invalid_field_without_pointer(const struct mirror_cmd *c);

/* What a completed command says about its opcode's reachability.  Pure. */
enum mirror_reach mirror_reachability_of(const struct mirror_cmd *c);
/* "reached", "not reached", "taken for another command", "unknown". */
const char *mirror_reach_name(enum mirror_reach r);

/* When c did not reach the target (MIRROR_REACH_NO) and its opcode is one
 * a transport treats as an SPC command, writes the explanation ("opcode
 * 0xA0 did not reach the target: the transport treats it as REPORT LUNS;
 * use --profile vendor (or --opcodes) to select a vendor-specific
 * profile") into buf and returns true.  When it was answered as that SPC
 * command (MIRROR_REACH_OTHER_COMMAND) the text says so ("opcode 0xA0 was
 * answered as REPORT LUNS, by the transport or the target; use ...").
 * False (buf untouched) otherwise. */
bool mirror_explain_unreached(const struct mirror_cmd *c, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif

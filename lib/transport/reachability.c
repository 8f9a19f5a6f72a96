/* Opcode reachability (include/mirror/reachability.h): what a command's
 * outcome says about whether its opcode reached the target unchanged.
 * Pure: no I/O, no allocation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "transport/reachability.h"
#include <mirror/sense.h>

/* Opcodes the mirror protocol uses by default that transports know as SPC
 * commands and answer or reinterpret themselves (observed: QEMU's SCSI
 * bus answers REPORT LUNS for every device; tgtd runs it).  The other
 * defaults, 0x3C (READ BUFFER) and 0xB0, reach a pass-through target. */
static const struct {
	uint8_t opcode;
	const char *spc_name;
} intercepted[] = {
	{ 0xA0, "REPORT LUNS" },
};

const char *mirror_opcode_intercepted_as(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(intercepted) / sizeof(intercepted[0]); i++)
		if (intercepted[i].opcode == opcode)
			return intercepted[i].spc_name;
	return NULL;
}

bool mirror_opcode_vendor_specific(uint8_t opcode)
{
	return opcode >= 0xC0;
}

bool mirror_invalid_field_without_pointer(const struct mirror_cmd *c)
{
	const struct mirror_sense *s = &c->sense_parsed;

	return c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len &&
	       s->key == MIRROR_SK_ILLEGAL_REQUEST && s->asc == 0x24 && s->ascq == 0 && !s->sksv;
}

enum mirror_reach mirror_reachability_of(const struct mirror_cmd *c)
{
	if (!c || c->cdb_len == 0 || c->result == -ETIMEDOUT || c->result == -ECANCELED)
		return MIRROR_REACH_UNKNOWN;
	if (c->result < 0)
		return MIRROR_REACH_NO;
	if (c->dir == MIRROR_DIR_OUT && (c->data_in_got || mirror_invalid_field_without_pointer(c)))
		return MIRROR_REACH_OTHER_COMMAND;
	return MIRROR_REACH_YES;
}

const char *mirror_reach_name(enum mirror_reach r)
{
	static const char *const names[] = {
		[MIRROR_REACH_YES] = "reached",
		[MIRROR_REACH_NO] = "not reached",
		[MIRROR_REACH_OTHER_COMMAND] = "taken for another command",
		[MIRROR_REACH_UNKNOWN] = "unknown",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

bool mirror_explain_unreached(const struct mirror_cmd *c, char *buf, size_t len)
{
	enum mirror_reach r = mirror_reachability_of(c);
	const char *as;

	if (r != MIRROR_REACH_NO && r != MIRROR_REACH_OTHER_COMMAND)
		return false;
	as = mirror_opcode_intercepted_as(c->cdb[0]);
	if (!as)
		return false;
	if (!buf || !len)
		return true;
	/* Answered as the SPC command, whoever answered: a transport such as
	 * QEMU's SCSI bus (the receiver never saw it) or the target. */
	if (r == MIRROR_REACH_NO)
		snprintf(buf, len, "opcode 0x%02X did not reach the target: the transport treats it "
			 "as %s; use --profile vendor (or --opcodes) to select a vendor-specific "
			 "profile", c->cdb[0], as);
	else
		snprintf(buf, len, "opcode 0x%02X was answered as %s, by the transport or the target; "
			 "use --profile vendor (or --opcodes) to select a vendor-specific profile",
			 c->cdb[0], as);
	return true;
}

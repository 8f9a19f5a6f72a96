/* What an answer means to a sender of mirror commands (sender.h): the
 * answers of a target that is no mirror receiver, or that a transport
 * kept from the receiver, told apart and explained in one line. */
#include "config.h"

#include <stdio.h>

#include <scsi/sg_lib.h>

#include <mirror/exit_status.h>
#include <mirror/sender.h>

#include "transport/reachability.h"

bool mirror_cmd_taken_for_other_command(const struct mirror_cmd *c)
{
	return c->result == 0 && c->dir == MIRROR_DIR_OUT && mirror_invalid_field_without_pointer(c);
}

int mirror_cmd_mirror_exit_status(const struct mirror_profile *p, const struct mirror_cmd *c)
{
	int status = mirror_cmd_exit_status(c);

	/* GOOD to a mirror write that came back with data-in is no mirror:
	 * the target ran something else. */
	if (status == MIRROR_EXIT_OK && c->dir == MIRROR_DIR_OUT && c->data_in_got)
		return MIRROR_EXIT_MALFORMED;
	/* The target does not implement the mirror command: as sg3_utils'
	 * INVALID COMMAND OPERATION CODE, whatever it took the opcode for. */
	if (status == MIRROR_EXIT_ILLEGAL_REQ &&
	    mirror_command_of(p, c->cdb[0]) != MIRROR_CMD_NONE && mirror_cmd_taken_for_other_command(c))
		return MIRROR_EXIT_INVALID_OP;
	return status;
}

bool mirror_cmd_explain(const struct mirror_profile *p, const struct mirror_cmd *c, const char *what,
			char *buf, size_t len)
{
	char spc[80], why[256];

	/* A transport that answers the opcode itself: the target never saw
	 * it (QEMU's SCSI bus and 0xA0, REPORT LUNS). */
	bool intercepted = mirror_explain_unreached(c, why, sizeof(why));
	if (intercepted && c->result < 0) {
		snprintf(buf, len, "%s", why);
		return true;
	}
	/* What a generic SCSI target takes the opcode for (SPC: 0x3C READ
	 * BUFFER, 0xA0 REPORT LUNS, both data-in). */
	sg_get_opcode_name(c->cdb[0], 0, (int)sizeof(spc), spc);
	/* An opcode answered as its SPC command gets the profile that
	 * avoids it at the end of the line. */
	const char *sep = intercepted ? "; " : "";
	const char *more = intercepted ? why : "";
	if (mirror_cmd_invalid_opcode(c))
		snprintf(buf, len, "target does not implement the %s 0x%02X (INVALID COMMAND "
			 "OPERATION CODE): not a mirror receiver, or a different --profile/--opcodes"
			 "%s%s", what, c->cdb[0], sep, more);
	else if (mirror_cmd_taken_for_other_command(c))
		snprintf(buf, len, "target rejected the %s 0x%02X with INVALID FIELD IN CDB and no "
			 "field pointer: it took 0x%02X for %s; not a mirror receiver, or a different "
			 "--profile/--opcodes%s%s", what, c->cdb[0], c->cdb[0], spc, sep, more);
	else if (c->result == 0 && c->dir == MIRROR_DIR_OUT && c->data_in_got)
		snprintf(buf, len, "target answered the data-out %s 0x%02X with %u bytes of "
			 "data-in: it took 0x%02X for %s; not a mirror receiver, or a different "
			 "--profile/--opcodes (now %s)%s%s", what, c->cdb[0],
			 (unsigned)c->data_in_got, c->cdb[0], spc, p->name, sep, more);
	else if (intercepted)
		snprintf(buf, len, "%s", why);
	else
		return false;
	return true;
}

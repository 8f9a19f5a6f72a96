/* iSCSI PDU opcodes (RFC 7143 11.2.1.2), shared by the target engine
 * (lib/iscsi/target.c) and the capture decoder (lib/capture/dissect_iscsi.c);
 * internal to libmirror. */
#ifndef MIRROR_LIB_ISCSI_PROTO_H
#define MIRROR_LIB_ISCSI_PROTO_H

enum {
	/* initiator opcodes */
	OP_NOP_OUT = 0x00,
	OP_SCSI_CMD = 0x01,
	OP_TMF_REQ = 0x02,
	OP_LOGIN_REQ = 0x03,
	OP_TEXT_REQ = 0x04,
	OP_DATA_OUT = 0x05,
	OP_LOGOUT_REQ = 0x06,
	OP_SNACK = 0x10,
	/* target opcodes */
	OP_NOP_IN = 0x20,
	OP_SCSI_RSP = 0x21,
	OP_TMF_RSP = 0x22,
	OP_LOGIN_RSP = 0x23,
	OP_TEXT_RSP = 0x24,
	OP_DATA_IN = 0x25,
	OP_LOGOUT_RSP = 0x26,
	OP_R2T = 0x31,
	OP_ASYNC_MSG = 0x32,
	OP_REJECT = 0x3f,
};

#endif

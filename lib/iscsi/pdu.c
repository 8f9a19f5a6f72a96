/* iSCSI PDU arithmetic shared by the target engine and the capture
 * decoder (pdu.h). */
#include "config.h"

#include <isa-l/crc.h>

#include "iscsi/pdu.h"

uint32_t mirror_pdu_crc32c(const uint8_t *p, size_t n)
{
	/* RFC 7143 12.1: CRC32C with the initial value all ones and the
	 * result inverted; ISA-L's crc32_iscsi leaves both to the caller. */
	return crc32_iscsi((unsigned char *)(uintptr_t)p, (int)n, 0xffffffffu) ^ 0xffffffffu;
}

bool mirror_pdu_header_digest_ok(const uint8_t *bhs)
{
	uint32_t n = PDU_BHS_LEN + pdu_ahs_bytes(bhs);

	return mirror_pdu_crc32c(bhs, n) == get_le32(bhs + n);
}

bool mirror_pdu_data_digest_ok(const uint8_t *data, uint32_t dsl)
{
	uint32_t n = pdu_pad4(dsl);

	return mirror_pdu_crc32c(data, n) == get_le32(data + n);
}

enum pdu_sender pdu_opcode_sender(uint8_t opcode)
{
	/* 11.2.1.2: the defined opcodes by sender; the rest is reserved or
	 * vendor specific (0x1c-0x1e, 0x3c-0x3e) and tells no side. */
	static const uint8_t sender[64] = {
		[OP_NOP_OUT] = PDU_FROM_INITIATOR,   [OP_SCSI_CMD] = PDU_FROM_INITIATOR,
		[OP_TMF_REQ] = PDU_FROM_INITIATOR,   [OP_LOGIN_REQ] = PDU_FROM_INITIATOR,
		[OP_TEXT_REQ] = PDU_FROM_INITIATOR,  [OP_DATA_OUT] = PDU_FROM_INITIATOR,
		[OP_LOGOUT_REQ] = PDU_FROM_INITIATOR, [OP_SNACK] = PDU_FROM_INITIATOR,
		[OP_NOP_IN] = PDU_FROM_TARGET,       [OP_SCSI_RSP] = PDU_FROM_TARGET,
		[OP_TMF_RSP] = PDU_FROM_TARGET,      [OP_LOGIN_RSP] = PDU_FROM_TARGET,
		[OP_TEXT_RSP] = PDU_FROM_TARGET,     [OP_DATA_IN] = PDU_FROM_TARGET,
		[OP_LOGOUT_RSP] = PDU_FROM_TARGET,   [OP_R2T] = PDU_FROM_TARGET,
		[OP_ASYNC_MSG] = PDU_FROM_TARGET,    [OP_REJECT] = PDU_FROM_TARGET,
	};

	return (enum pdu_sender)sender[opcode & PDU_B0_OPCODE_MASK];
}

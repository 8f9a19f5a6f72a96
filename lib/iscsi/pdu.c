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

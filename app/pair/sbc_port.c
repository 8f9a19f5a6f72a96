/* The LUNs of a host port and REPORT LUNS (SPC-4 6.33), which any LUN of
 * the port answers, with or without a logical unit behind it. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"
#include "base/why.h"

int mirror_sbc_port_init(struct mirror_sbc_port *port, const uint32_t *luns, unsigned n,
			 char *why, size_t why_len)
{
	if (!port || (n && !luns))
		return mirror_fail(-EINVAL, why, why_len, "no port or LUN list");
	if (n > MIRROR_SBC_PORT_LUNS_MAX)
		return mirror_fail(-EINVAL, why, why_len, "%u LUNs: a port has at most %u", n,
				   MIRROR_SBC_PORT_LUNS_MAX);
	for (unsigned i = 0; i < n; i++) {
		if (luns[i] > MIRROR_SBC_LUN_MAX)
			return mirror_fail(-EINVAL, why, why_len, "LUN %u (entry %u) is over %u",
					   (unsigned)luns[i], i, MIRROR_SBC_LUN_MAX);
		for (unsigned j = 0; j < i; j++)
			if (luns[j] == luns[i])
				return mirror_fail(-EINVAL, why, why_len,
						   "LUN %u is listed twice (entries %u and %u)",
						   (unsigned)luns[i], j, i);
	}
	memset(port, 0, sizeof(*port));
	port->n_luns = n;
	if (n)
		memcpy(port->luns, luns, n * sizeof(luns[0]));
	return 0;
}

/* A single level LUN (SAM-5 4.7): peripheral device addressing (00b) up
 * to 255, flat space addressing (01b) above, as the engine decodes them
 * (lib/iscsi/task.c). */
static void put_lun(uint8_t *p, uint32_t lun)
{
	memset(p, 0, 8);
	if (lun < 256) {
		p[1] = (uint8_t)lun;
		return;
	}
	p[0] = (uint8_t)(0x40 | (lun >> 8));
	p[1] = (uint8_t)lun;
}

/* SELECT REPORT (SPC-4): 00h the logical units (no well known ones here),
 * 01h the well known logical units (none), 02h all: the same as 00h. */
int sbc_report_luns(struct sbc_ctx *x)
{
	const struct mirror_sbc_port *port = x->port;
	uint8_t select = x->cdb[2], *d = x->v->data;
	unsigned n;

	if (select > 0x02)
		return sbc_invalid(x, 0x24, 0x00, 2, 7,
				   "REPORT LUNS: CDB byte 2: SELECT REPORT %02Xh is not supported", select);
	n = select == 0x01 ? 0 : port->n_luns;
	memset(d, 0, 8);
	put_be32(d, 8u * n); /* LUN LIST LENGTH */
	for (unsigned i = 0; i < n; i++)
		put_lun(d + 8 + 8 * i, port->luns[i]);
	/* The allocation length "should be at least 16": shorter ones are
	 * cut like any other, not refused. */
	return sbc_data(x, 8u + 8u * n, get_be32(x->cdb + 6));
}

/* libFuzzer target: arbitrary bytes from an iSCSI initiator into the
 * target engine (PDU framing, login negotiation, CHAP, SCSI commands,
 * Data-Out, task management).  Byte 0 picks the configuration, byte 1 the
 * read size the bytes arrive in; the rest is the stream. */
#include "fuzz_common.h"

#include "iscsi/target.h"

#define NVRAM_SIZE (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t nvdata[NVRAM_SIZE];
	static uint64_t bitmap[NVRAM_SIZE / 512 / 64];
	struct mirror_profile p;
	struct mirror_nvram nv;
	struct mirror_receiver rx;
	struct mirror_tgt_config cfg;
	struct mirror_inject inj;

	if (n < 2)
		return 0;
	mirror_profile_init(&p);
	p.nvram_size = NVRAM_SIZE;
	p.region_split = NVRAM_SIZE / 2;
	memset(bitmap, 0, sizeof(bitmap));
	if (mirror_nvram_init(&nv, &p, nvdata, bitmap) < 0 || mirror_rx_init(&rx, &p, 1, &nv) < 0)
		abort();
	mirror_tgt_config_init(&cfg);
	cfg.neg = (d[0] & 1) ? MIRROR_NEG_MODERN : MIRROR_NEG_PATENT;
	cfg.max_recv_data_segment_length = (d[0] & 2) ? 512 : 65536;
	cfg.max_burst_length = (d[0] & 4) ? 512 : 65536;
	cfg.first_burst_length = 512;
	if (d[0] & 8) {
		cfg.chap_user = "u";
		cfg.chap_secret = "secret-secret";
		cfg.target_chap_user = "t";
		cfg.target_chap_secret = "target-secret";
	}
	if (d[0] & 16) {
		struct mirror_inject_rule r = {
			.action = MIRROR_INJ_DELAY_STATUS, .opcode = -1, .probability = 1.0, .delay_ms = 5
		};
		mirror_inject_init(&inj, 1);
		mirror_inject_add(&inj, &r);
		cfg.inject = &inj;
	}
	struct mirror_tgt *t = NULL;
	if (mirror_tgt_new_receiver(&cfg, &rx, &t, NULL, 0) < 0)
		abort(); /* a valid configuration */
	struct mirror_tgt_conn *c = t ? mirror_tgt_conn_new(t, "fuzz") : NULL;
	if (!c)
		abort();
	size_t chunk = (size_t)d[1] + 1;
	d += 2;
	n -= 2;
	uint64_t now = 0;
	while (n) {
		size_t k = n < chunk ? n : chunk;
		int rc = mirror_tgt_conn_input(c, d, k);
		size_t out;
		const uint8_t *o = mirror_tgt_conn_output(c, &out);
		if (out && (o[0] & 0x3f) == 0x3f && o[0] != 0x3f)
			abort(); /* every PDU we send starts with a clean opcode byte */
		mirror_tgt_conn_consumed(c, out);
		mirror_tgt_conn_tick(c, now += 3);
		if (rc < 0)
			break;
		d += k;
		n -= k;
	}
	mirror_tgt_conn_tick(c, now + 1000);
	mirror_tgt_conn_free(c);
	mirror_tgt_free(t);
	return 0;
}

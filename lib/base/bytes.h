/* Big-endian field access for wire buffers (internal).
 *
 * Wire structures are never cast onto buffers: every field is read and
 * written with these, at explicit offsets, after the caller has checked the
 * buffer length once for the whole structure. */
#ifndef MIRROR_LIB_BYTES_H
#define MIRROR_LIB_BYTES_H

#include <stdint.h>

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* iSCSI digests are the one little-endian field on the wire (RFC 7143
 * 12.1); capture files written on little-endian hosts are the other use. */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Bit-field access over a byte string, most significant bit first: bit
 * position 0 is byte 0 bit 7.  Used by the small-write layouts, whose
 * fields are packed across byte boundaries (Fig. 6).  A field (<= 32 bits)
 * spans at most 5 bytes: they are gathered into one word and shifted. */
static inline uint32_t get_bits(const uint8_t *p, unsigned pos, unsigned width)
{
	unsigned first = pos / 8, last = (pos + width - 1) / 8;
	uint64_t w = 0;

	for (unsigned i = first; i <= last; i++)
		w = w << 8 | p[i];
	w >>= 7 - (pos + width - 1) % 8;
	return (uint32_t)(w & ((1ull << width) - 1));
}

static inline void put_bits(uint8_t *p, unsigned pos, unsigned width, uint32_t v)
{
	unsigned first = pos / 8, last = (pos + width - 1) / 8;
	unsigned shift = 7 - (pos + width - 1) % 8;
	uint64_t mask = ((1ull << width) - 1) << shift;
	uint64_t val = ((uint64_t)v << shift) & mask;

	for (unsigned i = last + 1; i-- > first;) {
		p[i] = (uint8_t)((p[i] & ~mask) | val);
		mask >>= 8;
		val >>= 8;
	}
}

/* The field pointer of a bit position: its byte and the bit in that byte. */
static inline unsigned bitpos_byte(unsigned pos) { return pos / 8; }
static inline unsigned bitpos_bit(unsigned pos) { return 7 - pos % 8; }

#endif

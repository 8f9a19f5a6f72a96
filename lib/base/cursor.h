/* A checked reader of untrusted bytes, in the spirit of tcpdump's GET_
 * macros: every read is bounded by the buffer, a read past the end returns
 * zero and sets a sticky flag, and the caller tests the flag once after a
 * run of reads instead of checking each length by hand.  Reads go forward
 * (cur_u8, cur_be32, ...) or at an offset from the start (cur_be32_at, ...);
 * neither ever touches a byte outside [p, p + len).  Used for captures,
 * PDUs, CDBs, text keys and sense data.  Internal to libmirror. */
#ifndef MIRROR_LIB_BASE_CURSOR_H
#define MIRROR_LIB_BASE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;   /* next byte of a forward read */
	bool short_;  /* a read wanted bytes beyond len */
};

static inline void cur_init(struct cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->off = 0;
	c->short_ = false;
}

/* True while no read has run past the end. */
static inline bool cur_ok(const struct cursor *c)
{
	return !c->short_;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->off <= c->len ? c->len - c->off : 0;
}

static inline size_t cur_offset(const struct cursor *c)
{
	return c->off;
}

/* n bytes from off are inside the buffer (no flag is set). */
static inline bool cur_has_at(const struct cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

/* Claims n bytes at off: a pointer to them, or NULL and the flag set. */
static inline const uint8_t *cur_take_at(struct cursor *c, size_t off, size_t n)
{
	if (!cur_has_at(c, off, n)) {
		c->short_ = true;
		return NULL;
	}
	return c->p + off;
}

static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	const uint8_t *q = cur_take_at(c, c->off, n);

	if (q)
		c->off += n;
	else
		c->off = c->len;
	return q;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
	(void)cur_take(c, n);
}

#define CUR_GETTER(name, type, width, get)                                     \
	static inline type cur_##name##_at(struct cursor *c, size_t off)      \
	{                                                                      \
		const uint8_t *q = cur_take_at(c, off, width);                \
		return q ? get(q) : 0;                                         \
	}                                                                      \
	static inline type cur_##name(struct cursor *c)                        \
	{                                                                      \
		const uint8_t *q = cur_take(c, width);                         \
		return q ? get(q) : 0;                                         \
	}

static inline uint8_t cur_get_u8_(const uint8_t *q)
{
	return q[0];
}

CUR_GETTER(u8, uint8_t, 1, cur_get_u8_)
CUR_GETTER(be16, uint16_t, 2, get_be16)
CUR_GETTER(be24, uint32_t, 3, get_be24)
CUR_GETTER(be32, uint32_t, 4, get_be32)
CUR_GETTER(be64, uint64_t, 8, get_be64)
CUR_GETTER(le16, uint16_t, 2, get_le16)
CUR_GETTER(le32, uint32_t, 4, get_le32)

#undef CUR_GETTER

/* Copies n bytes forward into dst (zeros and the flag when short). */
static inline void cur_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *q = cur_take(c, n);
	uint8_t *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = q ? q[i] : 0;
}

/* A record ended by a stop byte (iSCSI text keys end in NUL, RFC 7143
 * 6.1): a pointer to the bytes before it, their count in *n, and the stop
 * byte consumed too.  NULL and nothing consumed when no stop byte follows:
 * the caller decides whether that is an error or a record cut at a PDU
 * boundary. */
static inline const uint8_t *cur_take_until(struct cursor *c, uint8_t stop, size_t *n)
{
	size_t left = cur_left(c);
	const uint8_t *q = left ? c->p + c->off : NULL;
	const uint8_t *end = q ? memchr(q, stop, left) : NULL;

	if (!end)
		return NULL;
	*n = (size_t)(end - q);
	c->off += *n + 1;
	return q;
}

/* Copies n bytes at off into dst (zeros and the flag when short). */
static inline void cur_copy_at(struct cursor *c, size_t off, void *dst, size_t n)
{
	const uint8_t *q = cur_take_at(c, off, n);
	uint8_t *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = q ? q[i] : 0;
}

/* n bytes at off are all zero (reserved fields); false when short. */
static inline bool cur_zero_at(struct cursor *c, size_t off, size_t n)
{
	const uint8_t *q = cur_take_at(c, off, n);

	if (!q)
		return false;
	for (size_t i = 0; i < n; i++)
		if (q[i])
			return false;
	return true;
}

#endif

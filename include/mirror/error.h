/* libmirror: one error convention for the whole library.
 *
 * Every function that can fail returns an int: 0 (or a non-negative count) on
 * success, a negative code on failure.  Codes in -1..-999 are negated errno
 * values (-EINVAL, -ENOMEM, -ENOENT, ...); codes from MIRROR_E_BASE down are
 * the protocol-level outcomes below.  mirror_strerror() names both.
 */
#ifndef MIRROR_ERROR_H
#define MIRROR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_error {
	MIRROR_OK = 0,
	MIRROR_E_BASE = -1000,
	/* The bytes were read but break a rule of the wire profile; the
	 * caller's findings list says which rule, where. */
	MIRROR_E_INVALID_CDB = -1000,
	MIRROR_E_INVALID_PARAM = -1001,
	MIRROR_E_PARAM_LENGTH = -1002,
	MIRROR_E_LBA_RANGE = -1003,
	/* Fewer bytes than the structure needs. */
	MIRROR_E_TRUNCATED = -1004,
	/* A value does not fit the bit width of its wire field. */
	MIRROR_E_FIELD_WIDTH = -1005,
	/* The profile itself is inconsistent (NVRAM size, region split,
	 * opcode collision, layout that cannot address the NVRAM). */
	MIRROR_E_PROFILE = -1006,
	/* The opcode is not one of the profile's mirror opcodes. */
	MIRROR_E_NOT_MIRROR = -1007,
	/* A caller-provided array is too small for the result. */
	MIRROR_E_NOSPACE = -1008,
	MIRROR_E_LAST = -1009
};

/* A static string for any code this library returns (never NULL). */
const char *mirror_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif

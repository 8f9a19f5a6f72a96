/* Fault injection for mirror-emu (--inject RULE): a rule names what to get
 * wrong, for which opcode and how often; a seeded PRNG decides, so that a
 * failing run can be replayed with the same --seed. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/inject.h"

#include "base/why.h"

/* A status delayed beyond an hour is a hang, which drop-status already
 * models; the bound also keeps the value far from unsigned overflow when
 * the engine adds it to a monotonic clock. */
#define DELAY_MAX_MS 3600000u

/* The part of a spec being parsed, for messages ("sense:05/24/zz,p=1"). */
#define TOKEN_MAX 64

struct action_info {
	const char *name;
	enum mirror_inject_action action;
	bool takes_arg;
	const char *arg_help; /* for "needs an argument" messages */
};

static const struct action_info actions[] = {
	{ "sense", MIRROR_INJ_SENSE, true, "KK/AA/QQ in hex, e.g. sense:05/24/00" },
	{ "drop-status", MIRROR_INJ_DROP_STATUS, false, NULL },
	{ "delay-status", MIRROR_INJ_DELAY_STATUS, true, "milliseconds, e.g. delay-status:500" },
	{ "unknown-opcode", MIRROR_INJ_UNKNOWN_OPCODE, false, NULL },
	{ "skip-validity", MIRROR_INJ_SKIP_VALIDITY, false, NULL },
	{ "corrupt-readback", MIRROR_INJ_CORRUPT_READBACK, false, NULL },
	{ "close-mid-transfer", MIRROR_INJ_CLOSE_MID_TRANSFER, false, NULL },
	{ "accept", MIRROR_INJ_ACCEPT, true, "a rule id, e.g. accept:small.bc_too_large" },
	{ "wrong-pointer", MIRROR_INJ_WRONG_POINTER, false, NULL },
	{ "valid-on-abort", MIRROR_INJ_VALID_ON_ABORT, false, NULL },
	{ "data-in-mirror", MIRROR_INJ_DATA_IN_MIRROR, false, NULL },
	{ "gap-sense", MIRROR_INJ_GAP_SENSE, false, NULL },
	{ "wrong-asc", MIRROR_INJ_WRONG_ASC, false, NULL },
	{ "keep-table", MIRROR_INJ_KEEP_TABLE, false, NULL },
};

#define ACTION_COUNT (sizeof(actions) / sizeof(actions[0]))

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One or two hex digits, an optional 0x before them, nothing else: strtoul
 * would also take signs, spaces and longer numbers. */
static int parse_hex_byte(const char *s, size_t len, uint8_t *out)
{
	unsigned v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + (unsigned)d;
	}
	*out = (uint8_t)v;
	return 0;
}

/* "KK/AA/QQ": a sense key (0..F) and an additional sense code and
 * qualifier, each one or two hex digits. */
static int parse_sense(const char *arg, struct mirror_inject_rule *r, char *why, size_t why_len)
{
	const char *names[3] = { "sense key", "ASC", "ASCQ" };
	uint8_t v[3];
	const char *p = arg;

	for (int i = 0; i < 3; i++) {
		const char *end = strchr(p, '/');
		size_t len = end && i < 2 ? (size_t)(end - p) : strlen(p);
		if ((i < 2 && !end) || (i == 2 && strchr(p, '/')))
			return mirror_fail(-EINVAL, why, why_len,
				    "sense '%s' must be three hex bytes KK/AA/QQ, e.g. sense:05/24/00",
				    arg);
		if (parse_hex_byte(p, len, &v[i]) < 0)
			return mirror_fail(-EINVAL, why, why_len, "sense '%s': %s '%.*s' is not one hex byte", arg,
				    names[i], (int)(len > TOKEN_MAX ? TOKEN_MAX : len), p);
		if (i < 2)
			p += len + 1;
	}
	/* The sense key is 4 bits of fixed-format sense byte 2. */
	if (v[0] > 0x0F)
		return mirror_fail(-EINVAL, why, why_len, "sense '%s': sense key 0x%02X is over 0xF", arg, v[0]);
	r->key = v[0];
	r->asc = v[1];
	r->ascq = v[2];
	return 0;
}

static int parse_delay(const char *arg, struct mirror_inject_rule *r, char *why, size_t why_len)
{
	unsigned long v = 0;

	if (!*arg)
		return mirror_fail(-EINVAL, why, why_len, "delay-status needs milliseconds, e.g. delay-status:500");
	for (const char *p = arg; *p; p++) {
		if (*p < '0' || *p > '9')
			return mirror_fail(-EINVAL, why, why_len,
				    "delay-status '%s' is not a number of milliseconds", arg);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > DELAY_MAX_MS)
			return mirror_fail(-EINVAL, why, why_len, "delay-status '%s' is over %u ms (one hour)", arg,
				    DELAY_MAX_MS);
	}
	if (v == 0)
		return mirror_fail(-EINVAL, why, why_len, "delay-status must be at least 1 ms");
	r->delay_ms = (unsigned)v;
	return 0;
}

/* accept:RULE sets one bit of a 64-bit mask per rule. */
_Static_assert(MIRROR_RULE_COUNT_ <= 64, "struct mirror_rx_faults.accept_rules has 64 bits");

/* A rule id of the rule table (include/mirror/finding.h), e.g.
 * "small.bc_too_large"; only error rules, since accepting a warning
 * changes nothing. */
static int parse_rule(const char *arg, struct mirror_inject_rule *r, char *why, size_t why_len)
{
	for (int i = 0; i < (int)MIRROR_RULE_COUNT_; i++) {
		const struct mirror_rule_info *ri = mirror_rule_info((enum mirror_rule)i);
		if (ri && ri->id && strcmp(ri->id, arg) == 0) {
			if (ri->severity != MIRROR_SEV_ERROR)
				return mirror_fail(-EINVAL, why, why_len,
						   "accept:%s: that rule is a warning, not an error", arg);
			r->rule = i;
			return 0;
		}
	}
	return mirror_fail(-EINVAL, why, why_len,
			   "accept:'%.*s' is not a rule id (e.g. small.bc_too_large, metadata.type, sg.sum; mirror-decode --json names them)",
			   TOKEN_MAX, arg);
}

static int parse_probability(const char *val, double *out, char *why, size_t why_len)
{
	char *end;
	double p;

	/* strtod takes leading space, signs, "inf" and "nan"; a probability
	 * is written as a plain decimal ("0.5", "1", ".25", "1e-3"). */
	if (!*val || !(val[0] == '.' || (val[0] >= '0' && val[0] <= '9')))
		return mirror_fail(-EINVAL, why, why_len, "p='%s' is not a number (0 < p <= 1, e.g. p=0.5)", val);
	errno = 0;
	p = strtod(val, &end);
	if (errno || *end || !isfinite(p))
		return mirror_fail(-EINVAL, why, why_len, "p='%s' is not a number (0 < p <= 1, e.g. p=0.5)", val);
	if (!(p > 0.0 && p <= 1.0))
		return mirror_fail(-EINVAL, why, why_len, "p=%s is outside 0 < p <= 1", val);
	*out = p;
	return 0;
}

static int parse_opcode(const char *val, int *out, char *why, size_t why_len)
{
	uint8_t op;

	if (parse_hex_byte(val, strlen(val), &op) < 0)
		return mirror_fail(-EINVAL, why, why_len, "opcode='%s' is not one hex byte (e.g. opcode=0xA0)", val);
	*out = op;
	return 0;
}

/* A copy of the first part of spec ([start, start+len)) for parsing,
 * bounded: a spec comes from the command line. */
static int take(char *dst, size_t cap, const char *start, size_t len)
{
	if (len >= cap)
		return -1;
	memcpy(dst, start, len);
	dst[len] = '\0';
	return 0;
}

int mirror_inject_parse(const char *spec, struct mirror_inject_rule *r, char *why, size_t why_len)
{
	char tok[TOKEN_MAX + 1];
	const char *p, *end;
	const struct action_info *ai = NULL;
	bool have_op = false, have_p = false;
	struct mirror_inject_rule out;
	int rc;

	if (!spec || !*spec)
		return mirror_fail(-EINVAL, why, why_len, "empty rule (e.g. sense:05/24/00,opcode=0xA0,p=0.5)");
	memset(&out, 0, sizeof(out));
	out.opcode = -1;
	out.probability = 1.0;

	/* ACTION[:ARG] up to the first comma */
	end = strchr(spec, ',');
	if (!end)
		end = spec + strlen(spec);
	if (take(tok, sizeof(tok), spec, (size_t)(end - spec)) < 0)
		return mirror_fail(-EINVAL, why, why_len, "action '%.20s...' is too long", spec);
	char *arg = strchr(tok, ':');
	if (arg)
		*arg++ = '\0';
	for (size_t i = 0; i < ACTION_COUNT; i++)
		if (strcmp(tok, actions[i].name) == 0)
			ai = &actions[i];
	if (!ai)
		return mirror_fail(-EINVAL, why, why_len,
			    "unknown action '%s' (sense:KK/AA/QQ, drop-status, delay-status:MS, "
			    "unknown-opcode, skip-validity, corrupt-readback, close-mid-transfer, "
			    "accept:RULE_ID, wrong-pointer, valid-on-abort, data-in-mirror, gap-sense, wrong-asc, keep-table)",
			    tok);
	out.action = ai->action;
	if (ai->takes_arg && !arg)
		return mirror_fail(-EINVAL, why, why_len, "%s needs an argument: %s", ai->name, ai->arg_help);
	if (!ai->takes_arg && arg)
		return mirror_fail(-EINVAL, why, why_len, "%s takes no argument (got ':%s')", ai->name, arg);
	if (ai->action == MIRROR_INJ_SENSE) {
		rc = parse_sense(arg, &out, why, why_len);
		if (rc < 0)
			return rc;
	} else if (ai->action == MIRROR_INJ_DELAY_STATUS) {
		rc = parse_delay(arg, &out, why, why_len);
		if (rc < 0)
			return rc;
	} else if (ai->action == MIRROR_INJ_ACCEPT) {
		rc = parse_rule(arg, &out, why, why_len);
		if (rc < 0)
			return rc;
	}

	/* then ,key=value qualifiers */
	for (p = end; *p == ','; p = end) {
		p++;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			return mirror_fail(-EINVAL, why, why_len, "empty qualifier after ',' in '%s'", spec);
		if (take(tok, sizeof(tok), p, (size_t)(end - p)) < 0)
			return mirror_fail(-EINVAL, why, why_len, "qualifier '%.20s...' is too long", p);
		char *val = strchr(tok, '=');
		if (!val)
			return mirror_fail(-EINVAL, why, why_len, "qualifier '%s' is not KEY=VALUE (opcode=0xNN or p=0.5)",
				    tok);
		*val++ = '\0';
		if (strcmp(tok, "opcode") == 0) {
			if (have_op)
				return mirror_fail(-EINVAL, why, why_len, "opcode= given twice in '%s'", spec);
			have_op = true;
			rc = parse_opcode(val, &out.opcode, why, why_len);
		} else if (strcmp(tok, "p") == 0) {
			if (have_p)
				return mirror_fail(-EINVAL, why, why_len, "p= given twice in '%s'", spec);
			have_p = true;
			rc = parse_probability(val, &out.probability, why, why_len);
		} else {
			return mirror_fail(-EINVAL, why, why_len, "unknown qualifier '%s=' (opcode=0xNN or p=0.5)", tok);
		}
		if (rc < 0)
			return rc;
	}
	*r = out;
	return 0;
}

void mirror_inject_init(struct mirror_inject *inj, uint64_t seed)
{
	memset(inj, 0, sizeof(*inj));
	inj->prng = seed;
}

int mirror_inject_add(struct mirror_inject *inj, const struct mirror_inject_rule *r)
{
	if ((unsigned)r->action > MIRROR_INJ_KEEP_TABLE || r->opcode < -1 ||
	    r->opcode > 0xFF || !(r->probability > 0.0 && r->probability <= 1.0) ||
	    r->key > 0x0F || (r->action == MIRROR_INJ_DELAY_STATUS && r->delay_ms > DELAY_MAX_MS) ||
	    (r->action == MIRROR_INJ_ACCEPT && (r->rule < 0 || r->rule >= (int)MIRROR_RULE_COUNT_ ||
						 r->rule >= 64)))
		return -EINVAL;
	if (inj->n >= MIRROR_INJECT_RULES_MAX)
		return -ENOSPC;
	inj->rule[inj->n] = *r;
	inj->fired[inj->n] = 0;
	inj->n++;
	return 0;
}

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, so the
 * whole generator is the seed plus the number of draws, and any seed,
 * including 0, gives a full-period sequence. */
static uint64_t next_u64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits, exactly representable in a double. */
static double next_unit(uint64_t *state)
{
	return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

void mirror_inject_decide(struct mirror_inject *inj, uint8_t opcode,
			  struct mirror_inject_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (!inj)
		return;
	for (unsigned i = 0; i < inj->n && i < MIRROR_INJECT_RULES_MAX; i++) {
		const struct mirror_inject_rule *r = &inj->rule[i];

		if (r->opcode >= 0 && r->opcode != opcode)
			continue;
		/* A certain rule draws nothing, so adding "always" rules does
		 * not shift the random sequence the other rules see. */
		if (r->probability < 1.0 && !(next_unit(&inj->prng) < r->probability))
			continue;
		inj->fired[i]++;
		switch (r->action) {
		case MIRROR_INJ_SENSE:
			/* The first sense rule that fires wins: rules are
			 * written in priority order. */
			if (!d->faults.force_sense) {
				d->faults.force_sense = true;
				d->faults.key = r->key;
				d->faults.asc = r->asc;
				d->faults.ascq = r->ascq;
			}
			break;
		case MIRROR_INJ_DROP_STATUS:
			d->drop_status = true;
			break;
		case MIRROR_INJ_DELAY_STATUS:
			if (r->delay_ms > d->delay_ms)
				d->delay_ms = r->delay_ms;
			break;
		case MIRROR_INJ_UNKNOWN_OPCODE:
			d->faults.unknown_opcode = true;
			break;
		case MIRROR_INJ_SKIP_VALIDITY:
			d->faults.skip_validity = true;
			break;
		case MIRROR_INJ_CORRUPT_READBACK:
			d->faults.corrupt_readback = true;
			break;
		case MIRROR_INJ_CLOSE_MID_TRANSFER:
			d->close_mid_transfer = true;
			break;
		case MIRROR_INJ_ACCEPT:
			d->faults.accept_rules |= 1ull << r->rule;
			break;
		case MIRROR_INJ_WRONG_POINTER:
			d->faults.wrong_pointer = true;
			break;
		case MIRROR_INJ_VALID_ON_ABORT:
			d->faults.valid_on_abort = true;
			break;
		case MIRROR_INJ_DATA_IN_MIRROR:
			d->faults.data_in_is_mirror = true;
			break;
		case MIRROR_INJ_GAP_SENSE:
			d->faults.gap_sense = true;
			break;
		case MIRROR_INJ_WRONG_ASC:
			d->faults.wrong_asc = true;
			break;
		case MIRROR_INJ_KEEP_TABLE:
			d->faults.keep_table = true;
			break;
		}
	}
}

/* The checks of a target configuration, so that a command can say what is
 * wrong before it listens (RFC 7143 13.12-13.14 ranges, CHAP pairs). */
#include "config.h"

#include <errno.h>

#include "base/why.h"
#include "iscsi/target.h"

int mirror_tgt_config_check(const struct mirror_tgt_config *c, char *why, size_t why_len)
{
	if (!c->target_name || !*c->target_name)
		return mirror_fail(-EINVAL, why, why_len, "target: no target name");
	if (c->max_recv_data_segment_length < 512 || c->max_recv_data_segment_length > 16777215)
		return mirror_fail(-EINVAL, why, why_len,
				   "MaxRecvDataSegmentLength %u is outside 512..16777215 (RFC 7143 13.12)",
				   c->max_recv_data_segment_length);
	if (c->max_burst_length < 512 || c->max_burst_length > 16777215)
		return mirror_fail(-EINVAL, why, why_len,
				   "MaxBurstLength %u is outside 512..16777215 (RFC 7143 13.13)",
				   c->max_burst_length);
	if (c->first_burst_length < 512 || c->first_burst_length > c->max_burst_length)
		return mirror_fail(-EINVAL, why, why_len,
				   "FirstBurstLength %u is outside 512..MaxBurstLength %u (RFC 7143 13.14)",
				   c->first_burst_length, c->max_burst_length);
	if (c->chap_user && !c->chap_secret)
		return mirror_fail(-EINVAL, why, why_len, "CHAP user %s has no secret", c->chap_user);
	if (c->target_chap_user && !c->target_chap_secret)
		return mirror_fail(-EINVAL, why, why_len, "target CHAP user %s has no secret",
				   c->target_chap_user);
	if (c->acl_n > MIRROR_ACL_MAX)
		return mirror_fail(-EINVAL, why, why_len, "more than %u initiator names in the access list",
				   MIRROR_ACL_MAX);
	return 0;
}

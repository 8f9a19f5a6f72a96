/* Internal helpers over the rule table. */
#ifndef MIRROR_LIB_RULES_H
#define MIRROR_LIB_RULES_H

#include <mirror/finding.h>

/* The library error code a decoder returns for a rule (0 for warnings). */
int mirror_rule_error_code(enum mirror_rule r);
/* The code of the first error in f, or 0. */
int mirror_findings_result(const struct mirror_findings *f);
/* Orders findings by the profile's precedence (stable). */
void mirror_findings_sort(struct mirror_findings *f);

#endif

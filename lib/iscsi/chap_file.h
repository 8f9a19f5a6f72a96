/* A target's CHAP secrets file: lines "initiator USER SECRET" (required)
 * and "target USER SECRET" (mutual CHAP), '#' comments.  A file others
 * may read, or a secret under 96 bits, is logged as a warning. */
#ifndef MIRROR_ISCSI_CHAP_FILE_H
#define MIRROR_ISCSI_CHAP_FILE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_CHAP_FIELD_MAX 255

struct mirror_chap_secret {
	char user[MIRROR_CHAP_FIELD_MAX + 1], secret[MIRROR_CHAP_FIELD_MAX + 1];
	bool set;
};
struct mirror_chap_file {
	struct mirror_chap_secret initiator, target;
};

struct mirror_tgt_config;
/* The secrets of f (NULL: none) as tc's CHAP: the initiator's to check
 * its logins, the target's for mutual CHAP.  tc keeps pointers into f. */
void mirror_chap_file_apply(const struct mirror_chap_file *f, struct mirror_tgt_config *tc);

/* 0 and *f; or a negative errno (the file cannot be opened or read) or
 * -EINVAL (its contents), with "PATH:LINE: reason" in why and *f wiped. */
int mirror_chap_file_read(const char *path, struct mirror_chap_file *f, char *why, size_t why_len);
/* Wipes the secrets (explicit_bzero). */
void mirror_chap_file_clear(struct mirror_chap_file *f);

#ifdef __cplusplus
}
#endif
#endif

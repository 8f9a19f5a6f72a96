/* The CHAP secrets file of a target (mirror-emu --chap-file): RFC 7143
 * section 12.1.3's CHAP, read from a file, never from the command line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/why.h"
#include "iscsi/chap_file.h"
#include "iscsi/target.h"

#define CHAP_LINE_MAX 1024
#define CHAP_SECRET_ADVISED 12 /* 96 bits */

void mirror_chap_file_clear(struct mirror_chap_file *f)
{
	explicit_bzero(f, sizeof(*f));
}

/* The first control character of s, or NULL. */
static const char *first_cntrl(const char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return s;
	return NULL;
}

/* "initiator USER SECRET" and "target USER SECRET" lines, '#' comments.
 * Secrets live in a file, never on the command line, where every user
 * could read them in the process list. */
int mirror_chap_file_read(const char *path, struct mirror_chap_file *f, char *why, size_t why_len)
{
	struct mirror_chap_secret *init = &f->initiator, *tgt = &f->target;
	char line[CHAP_LINE_MAX + 2];
	struct stat st;
	unsigned lineno = 0;
	int fd, rc = 0;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mirror_fail(-errno, why, why_len, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mirror_fail(-EINVAL, why, why_len, "%s: not a regular file", path);
	}
	if (st.st_mode & (S_IROTH | S_IWOTH))
		mirror_log(MIRROR_LOG_WARN,
			   "CHAP file %s is %s by every user (mode %04o): chmod 600 it", path,
			   st.st_mode & S_IWOTH ? "writable" : "readable",
			   (unsigned)(st.st_mode & 07777));
	fp = fdopen(fd, "r");
	if (!fp) {
		int e = errno;
		close(fd);
		return mirror_fail(-e, why, why_len, "%s: %s", path, strerror(e));
	}
	while (fgets(line, sizeof(line), fp)) {
		char *save = NULL, *kind, *user, *secret, *extra;
		size_t len = strlen(line);
		struct mirror_chap_secret *c;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(fp)) {
			rc = mirror_fail(-EINVAL, why, why_len, "%s:%u: line longer than %d bytes", path,
					 lineno, CHAP_LINE_MAX);
			break;
		}
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		kind = strtok_r(line, " \t", &save);
		if (!kind || kind[0] == '#')
			continue;
		user = strtok_r(NULL, " \t", &save);
		secret = strtok_r(NULL, " \t", &save);
		extra = strtok_r(NULL, " \t", &save);
		if (strcmp(kind, "initiator") == 0)
			c = init;
		else if (strcmp(kind, "target") == 0)
			c = tgt;
		else {
			rc = mirror_fail(-EINVAL, why, why_len,
					 "%s:%u: '%.32s' is neither 'initiator' nor 'target'", path, lineno,
					 kind);
			break;
		}
		if (!user || !secret || extra) {
			rc = mirror_fail(-EINVAL, why, why_len,
					 "%s:%u: expected '%s USER SECRET' (three fields)", path, lineno, kind);
			break;
		}
		if (c->set) {
			rc = mirror_fail(-EINVAL, why, why_len, "%s:%u: a second '%s' line", path, lineno,
					 kind);
			break;
		}
		if (strlen(user) > MIRROR_CHAP_FIELD_MAX || strlen(secret) > MIRROR_CHAP_FIELD_MAX) {
			rc = mirror_fail(-EINVAL, why, why_len,
					 "%s:%u: %s user or secret longer than %d bytes", path, lineno, kind,
					 MIRROR_CHAP_FIELD_MAX);
			break;
		}
		/* a control character (a second '\r' of a DOS line end) would
		 * not survive the file being written again, nor a terminal */
		const char *bad = first_cntrl(user), *where = "user";
		if (!bad) {
			bad = first_cntrl(secret);
			where = "secret";
		}
		if (bad) {
			rc = mirror_fail(-EINVAL, why, why_len,
					 "%s:%u: the %s %s holds control character 0x%02X", path, lineno,
					 kind, where, (unsigned char)*bad);
			break;
		}
		snprintf(c->user, sizeof(c->user), "%s", user);
		snprintf(c->secret, sizeof(c->secret), "%s", secret);
		c->set = true;
		if (strlen(secret) < CHAP_SECRET_ADVISED)
			mirror_log(MIRROR_LOG_WARN,
				   "%s:%u: the %s secret is shorter than %d bytes (96 bits); "
				   "some initiators refuse such secrets", path, lineno, kind,
				   CHAP_SECRET_ADVISED);
	}
	if (rc == 0 && ferror(fp))
		rc = mirror_fail(-EIO, why, why_len, "%s: read error", path);
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	if (!rc && !init->set)
		rc = mirror_fail(-EINVAL, why, why_len,
				 "%s: no 'initiator USER SECRET' line (a 'target' line alone is not "
				 "enough: mutual CHAP authenticates the initiator first)", path);
	/* RFC 7143's CHAP considerations forbid one secret for both
	 * directions: it would let a peer reflect our own challenge. */
	if (!rc && tgt->set && strcmp(init->secret, tgt->secret) == 0)
		rc = mirror_fail(-EINVAL, why, why_len,
				 "%s: the initiator and target secrets are the same; mutual CHAP "
				 "needs two different secrets", path);
	if (rc)
		mirror_chap_file_clear(f);
	return rc;
}

void mirror_chap_file_apply(const struct mirror_chap_file *f, struct mirror_tgt_config *tc)
{
	if (f && f->initiator.set) {
		tc->chap_user = f->initiator.user;
		tc->chap_secret = f->initiator.secret;
	}
	if (f && f->target.set) {
		tc->target_chap_user = f->target.user;
		tc->target_chap_secret = f->target.secret;
	}
}

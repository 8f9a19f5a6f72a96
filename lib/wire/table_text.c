/* The array table as a text file (wire/table_text.h): one volume per
 * line, "VOLUME SERIAL ARRAY-NUMBER".  Every error names the file, the
 * line and the field. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/array_table.h>

#include "base/why.h"
#include "wire/table_text.h"

#define FILE_MAX (64u * 1024u)

/* A decimal number 0..255 (volume, array number). */
static int parse_byte(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10u + (unsigned)(*s - '0');
		if (v > 255u)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

/* 1 to 16 hex digits, "0x" optional. */
static int parse_serial(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, n++) {
		char ch = *s;
		unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
			     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
			     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
						      : 16u;
		if (d > 15u || n == 16)
			return -EINVAL;
		v = v << 4 | d;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One line (comment and newline already cut): 0 for a blank line, 1 for
 * an entry, -EINVAL with the reason. */
static int parse_line(char *line, const char *name, unsigned lineno,
		      struct mirror_array_table *t, const unsigned *first_line,
		      unsigned *volume_out, char *why, size_t why_len)
{
	static const char *const field_names[] = { "volume", "array serial", "array number" };
	char *save = NULL, *f[4];
	unsigned volume, array_number;
	uint64_t serial;
	int rc;

	for (unsigned i = 0; i < 4; i++)
		f[i] = strtok_r(i ? NULL : line, " \t\r", &save);
	if (!f[0])
		return 0;
	if (!f[1] || !f[2] || f[3])
		return mirror_fail(-EINVAL, why, why_len,
				   "%s:%u: expected 3 fields (volume, array serial, array number); got %s",
				   name, lineno, !f[1] ? "1" : !f[2] ? "2" : "more");
	if ((rc = parse_byte(f[0], &volume)) < 0)
		return mirror_fail(-EINVAL, why, why_len, "%s:%u: %s '%.20s' is not %s", name,
				   lineno, field_names[0], f[0],
				   rc == -ERANGE ? "within 0..255" : "a decimal number 0..255");
	if (parse_serial(f[1], &serial) < 0)
		return mirror_fail(-EINVAL, why, why_len,
				   "%s:%u: %s '%.24s' is not 1 to 16 hex digits (\"0x\" optional)",
				   name, lineno, field_names[1], f[1]);
	if ((rc = parse_byte(f[2], &array_number)) < 0)
		return mirror_fail(-EINVAL, why, why_len, "%s:%u: %s '%.20s' is not %s", name,
				   lineno, field_names[2], f[2],
				   rc == -ERANGE ? "within 0..255" : "a decimal number 0..255");
	if (t->vol[volume].used)
		return mirror_fail(-EINVAL, why, why_len, "%s:%u: volume %u is already on line %u",
				   name, lineno, volume, first_line[volume]);
	int other = mirror_array_table_find(t, serial, (uint8_t)array_number);
	if (other >= 0)
		return mirror_fail(-EINVAL, why, why_len,
				   "%s:%u: array serial %016llX, array number %u is already volume %d (line %u): one array per volume",
				   name, lineno, (unsigned long long)serial, array_number, other,
				   first_line[other]);
	mirror_array_table_add(t, (uint8_t)volume, serial, (uint8_t)array_number);
	*volume_out = volume;
	return 1;
}

int mirror_array_table_parse_text(const char *text, const char *name,
				  struct mirror_array_table *t, char *why, size_t why_len)
{
	unsigned first_line[MIRROR_VOLUMES], lineno = 0;
	char line[MIRROR_TABLE_TEXT_LINE_MAX + 1];
	const char *p = text;

	if (!name)
		name = "array table";
	mirror_array_table_init(t);
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		unsigned volume = 0;

		lineno++;
		if (len > MIRROR_TABLE_TEXT_LINE_MAX)
			return mirror_fail(-EINVAL, why, why_len, "%s:%u: line longer than %u bytes",
					   name, lineno, MIRROR_TABLE_TEXT_LINE_MAX);
		memcpy(line, p, len);
		line[len] = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int rc = parse_line(line, name, lineno, t, first_line, &volume, why, why_len);
		if (rc < 0)
			return rc;
		if (rc == 1)
			first_line[volume] = lineno;
		p = end ? end + 1 : p + len;
	}
	if (t->count == 0)
		return mirror_fail(-EINVAL, why, why_len,
				   "%s: no volume (lines 'VOLUME ARRAY-SERIAL ARRAY-NUMBER')", name);
	return 0;
}

int mirror_array_table_read_file(const char *path, struct mirror_array_table *t, char *why,
				 size_t why_len)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (!fp)
		return mirror_fail(-errno, why, why_len, "%s: %s", path, strerror(errno));
	buf = malloc(FILE_MAX + 2);
	if (!buf) {
		fclose(fp);
		return mirror_fail(-ENOMEM, why, why_len, "%s: out of memory", path);
	}
	n = fread(buf, 1, FILE_MAX + 1, fp);
	if (ferror(fp))
		rc = mirror_fail(-EIO, why, why_len, "%s: read error", path);
	else if (n > FILE_MAX)
		rc = mirror_fail(-EINVAL, why, why_len, "%s: larger than %u bytes (256 volumes fit in far less)",
				 path, FILE_MAX);
	else if (memchr(buf, '\0', n))
		rc = mirror_fail(-EINVAL, why, why_len, "%s: a NUL byte at offset %zu: not a text file",
				 path, (size_t)((char *)memchr(buf, '\0', n) - buf));
	else {
		buf[n] = '\0';
		rc = mirror_array_table_parse_text(buf, path, t, why, why_len);
	}
	free(buf);
	fclose(fp);
	return rc;
}

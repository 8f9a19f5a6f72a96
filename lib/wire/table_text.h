/* Internal: the array table as a text file, the one format mirror-emu
 * --table and mirror-conform --table read (mirror-emu(1), "ARRAY TABLE
 * FILE"): a prototype gets its table its own way, not by the harness
 * extension ARRAY TABLE UPDATE, so the suite and the emulator are told it.
 *
 *     # volume  array-serial (hex)  array-number
 *     0         4D49525200000000    0
 *     1         0x4D49525200000001  1
 *
 * One volume per line, three fields separated by blanks: the volume number
 * (0..255, decimal), the array serial number (1 to 16 hex digits, "0x"
 * optional) and the array number (0..255, decimal), as in an ARRAY TABLE
 * UPDATE entry (array_table.h).  '#' starts a comment; blank lines are
 * ignored.  A volume listed twice, or two volumes with one (serial, array
 * number), is an error, as it is in ARRAY TABLE UPDATE (Fig. 4 item 427:
 * the table maps each volume to one array).  At least one volume. */
#ifndef MIRROR_LIB_TABLE_TEXT_H
#define MIRROR_LIB_TABLE_TEXT_H

#include <stddef.h>

#include <mirror/array_table.h>

#define MIRROR_TABLE_TEXT_LINE_MAX 256

/* Parses text (NUL-terminated) into *t (initialised first).  name is what
 * messages call the text (a file name).  0, or -EINVAL with
 * "NAME:LINE: FIELD ..." in why. */
int mirror_array_table_parse_text(const char *text, const char *name,
				  struct mirror_array_table *t, char *why, size_t why_len);
/* Reads and parses the file at path (at most 64 KiB).  0, -EINVAL as
 * above, or a negative errno when the file cannot be read ("PATH: ..."). */
int mirror_array_table_read_file(const char *path, struct mirror_array_table *t, char *why,
				 size_t why_len);
#endif

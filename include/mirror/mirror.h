/* libmirror: the mirror protocol of an active-active controller pair.
 * One include for everything; see mirror-protocol(7). */
#ifndef MIRROR_MIRROR_H
#define MIRROR_MIRROR_H

#include <mirror/account.h>
#include <mirror/array_table.h>
#include <mirror/codec.h>
#include <mirror/decode.h>
#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/finding.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/sense.h>

const char *mirror_version(void);

#endif

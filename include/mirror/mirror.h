/* libmirror: the mirror protocol of an active-active controller pair.
 * One include for the installed, stable core; see mirror-protocol(7). */
#ifndef MIRROR_MIRROR_H
#define MIRROR_MIRROR_H

#include <mirror/account.h>
#include <mirror/array_table.h>
#include <mirror/capture.h>
#include <mirror/codec.h>
#include <mirror/commands.h>
#include <mirror/decode.h>
#include <mirror/dissect.h>
#include <mirror/dissect_run.h>
#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/finding.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/receiver.h>
#include <mirror/sender.h>
#include <mirror/sense.h>
#include <mirror/transport.h>
#include <mirror/url.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0": the package version libmirror was built as. */
const char *mirror_version(void);

#ifdef __cplusplus
}
#endif
#endif

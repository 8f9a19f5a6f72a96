/* mirror-top's exit statuses (app/top/run.h; mirror-top(1), EXIT
 * STATUS). */
#include "config.h"

#include <errno.h>

#include <mirror/exit_status.h>
#include "app/top/run.h"

/* Where a source gives a code a meaning of its own; every other code is
 * what sg3_utils' table says. */
static const struct {
	enum mirror_top_source src;
	int code;
	int status;
} source_exits[] = {
	/* no socket at the path: nothing listens there, as when refused */
	{ MIRROR_TOP_SRC_EMU, -ENOENT, MIRROR_EXIT_TRANSPORT },
	/* libpcap: not a capture file, or a link type we do not decode */
	{ MIRROR_TOP_SRC_REPLAY, -EINVAL, MIRROR_EXIT_FILE_ERROR },
	{ MIRROR_TOP_SRC_REPLAY, -EPROTONOSUPPORT, MIRROR_EXIT_FILE_ERROR },
	/* a filter libpcap cannot parse is the user's syntax error */
	{ MIRROR_TOP_SRC_LIVE, -EINVAL, MIRROR_EXIT_SYNTAX },
	/* a state file that is not mirror-pair's */
	{ MIRROR_TOP_SRC_PAIR, -EINVAL, MIRROR_EXIT_FILE_ERROR },
};

int mirror_top_exit(enum mirror_top_source src, int rc)
{
	for (size_t i = 0; i < sizeof(source_exits) / sizeof(source_exits[0]); i++)
		if (source_exits[i].src == src && source_exits[i].code == rc)
			return source_exits[i].status;
	return mirror_exit_from_error(rc);
}

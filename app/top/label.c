/* mirror-top's title: what it reads and how that goes (app/top/run.h). */
#include "config.h"

#include <stdio.h>

#include "app/top/run.h"

void mirror_top_source_label(const struct mirror_top_opts *o, char *buf, size_t len)
{
	switch (o->src) {
	case MIRROR_TOP_SRC_EMU:
		snprintf(buf, len, "emu %s", o->emu);
		break;
	case MIRROR_TOP_SRC_PAIR:
		snprintf(buf, len, "pair %s", o->pair);
		break;
	case MIRROR_TOP_SRC_REPLAY:
		snprintf(buf, len, "replay %s x%g", o->file, o->speed);
		break;
	default:
		snprintf(buf, len, "live %s%s%s", o->iface, o->filter ? " " : "",
			 o->filter ? o->filter : "");
		break;
	}
}

void mirror_top_state_label(bool paused, bool done, const char *error, bool live, uint64_t drops,
			    char *buf, size_t len)
{
	const char *what = paused ? "paused" : done ? "replay done" : "running";

	if (error[0])
		snprintf(buf, len, "%s: %s", what, error);
	else if (live)
		snprintf(buf, len, "%s, kernel drops %llu", what, (unsigned long long)drops);
	else
		snprintf(buf, len, "%s", what);
}

/* mirror-top's keys (app/top/run.h; mirror-top(1), KEYS). */
#include "config.h"

#include "app/top/run.h"

bool mirror_top_key(struct mirror_top_model *m, bool *help, int ch)
{
	if (*help && ch != MIRROR_TOP_KEY_NONE && ch != MIRROR_TOP_KEY_RESIZE) {
		*help = false; /* any key leaves the help */
		return false;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return true;
	case 'p':
		m->paused = !m->paused;
		break;
	case 'r':
		mirror_top_reset(m);
		break;
	case 's':
		m->sort = (enum mirror_top_sort)((m->sort + 1) % MIRROR_TOP_SORTS);
		break;
	case 'v':
		m->view = (enum mirror_top_view)((m->view + 1) % MIRROR_TOP_VIEWS);
		break;
	case '?':
	case 'h':
		*help = true;
		break;
	default:
		break;
	}
	return false;
}

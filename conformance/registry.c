/* The suite: the areas in run order.  The transport checks come last so
 * that the probe's verdict on each opcode is reported beside the cases it
 * skipped. */
#include "config.h"

#include "conform.h"

static const struct conf_area *const areas[] = {
	&conf_area_small,    &conf_area_large,       &conf_area_table,
	&conf_area_nvram,    &conf_area_errors,      &conf_area_sequence,
	&conf_area_concurrency, &conf_area_transport,
};
#define AREAS (sizeof(areas) / sizeof(areas[0]))

size_t conf_case_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < AREAS; i++)
		n += areas[i]->n;
	return n;
}

const struct conf_case *conf_case_at(size_t i)
{
	for (size_t a = 0; a < AREAS; a++) {
		if (i < areas[a]->n)
			return &areas[a]->cases[i];
		i -= areas[a]->n;
	}
	return NULL;
}

/* Between report.c and plot.c (not for the commands). */
#ifndef MIRROR_APP_REPORT_INT_H
#define MIRROR_APP_REPORT_INT_H

#include "app/report/report.h"

/* A paragraph in the note style (a plot that could not be drawn). */
void mirror_report_note(struct mirror_report *r, const char *text);
/* Closes an open table before a block (a figure) starts. */
void mirror_report_end_table(struct mirror_report *r);

#endif

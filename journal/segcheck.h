/* segcheck.h - the check every open makes of the segment files (segcheck.c) */
#ifndef WSTAPE_JOURNAL_SEGCHECK_H
#define WSTAPE_JOURNAL_SEGCHECK_H

#include "handle.h"

/* The segments are all there: numbered from 1 without a hole (JOURNAL_EGAP, the missing
 * records named), regular files whose headers can be read (an errno), each starting at a
 * record number above the one before (JOURNAL_ECORRUPT). 0 or that error, with j's
 * detail set. */
int segments_check(struct journal *j);

#endif

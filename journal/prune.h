/* prune.h - what the writer's open takes from prune.c */
#ifndef WSTAPE_JOURNAL_PRUNE_H
#define WSTAPE_JOURNAL_PRUNE_H

#include <stddef.h>

struct idx;

/* Finish a prune that was interrupted (a crash): remove the segment files below the
 * marker and their index entries (idx may be NULL). Skipped while another prune runs (it
 * does the same). 0 or an error, with detail set. */
int prune_leftovers(const char *dir, struct idx *idx, char *detail, size_t n);

#endif

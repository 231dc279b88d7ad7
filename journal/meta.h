/* meta.h - the journal's metadata (J/META): key=value lines, loaded at open and replaced
 * atomically on every change */
#ifndef WSTAPE_JOURNAL_META_H
#define WSTAPE_JOURNAL_META_H

#include <stddef.h>

struct meta_kv {
	char *key, *value;
};

struct journal_meta {
	struct meta_kv *kv;
	size_t n;
};

void meta_free(struct journal_meta *m);
/* Set key to value in memory: 0 or ENOMEM. */
int meta_put(struct journal_meta *m, const char *key, const char *value);
/* Load dir/META: 0, ENOENT when there is no META file, or another errno. */
int meta_load(struct journal_meta *m, const char *dir);
/* Write m to dir/META (through a temporary file, fsynced, renamed): 0 or an errno. */
int meta_store(const struct journal_meta *m, const char *dir);
/* The value of key, or NULL. */
const char *meta_find(const struct journal_meta *m, const char *key);

#endif

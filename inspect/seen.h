/* seen.h - a bounded window of recently seen hashes, for duplicate detection
 *
 * Two open-addressed tables of 2*n slots: inserts go to the current one; when it holds
 * n entries it becomes the previous one and the other is cleared. A lookup checks both,
 * so the window holds the last n to 2n hashes inserted, in 64*n bytes, whatever the
 * length of the journal. Each hash carries a 64-bit value (inspect stores the record
 * number and where the event came from).
 */
#ifndef WSTAPE_INSPECT_SEEN_H
#define WSTAPE_INSPECT_SEEN_H

#include <stdint.h>

struct inspect_seen;

/* n: entries per generation, rounded up to a power of two. Returns NULL when out of memory. */
struct inspect_seen *inspect_seen_new(uint32_t n);
void inspect_seen_free(struct inspect_seen *s);

/* 1 and *val when hash is in the window, else 0. */
int inspect_seen_find(const struct inspect_seen *s, uint64_t hash, uint64_t *val);
/* Insert (or overwrite the value of) hash. */
void inspect_seen_put(struct inspect_seen *s, uint64_t hash, uint64_t val);

/* Find hash (1 and *old), or insert it with val (0): one probe of each table. */
int inspect_seen_find_or_put(struct inspect_seen *s, uint64_t hash, uint64_t val, uint64_t *old);

#endif

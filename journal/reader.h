/* reader.h - what tail.c needs of the readers (reader.c) beyond the public API */
#ifndef WSTAPE_JOURNAL_READER_H
#define WSTAPE_JOURNAL_READER_H

#include <stdint.h>

#include "handle.h"

/* journal_reader_next() without the record held back by a seek. */
int reader_read(struct journal_reader *r, struct journal_record *rec);
/* Position at offset in segment, expecting that record number there (0: any).
 * JOURNAL_EINDEX (with the journal's detail set) when the segment does not exist. */
int reader_start_at(struct journal_reader *r, uint32_t segment, uint64_t offset, uint64_t expect_recno);
/* Blocks loaded so far, and the sum of their raw lengths. */
void reader_counts(const struct journal_reader *r, uint64_t *blocks, uint64_t *raw_bytes);
/* At the end: the bytes past the last whole block of the segment being read. */
uint64_t reader_torn_bytes(const struct journal_reader *r);

#endif

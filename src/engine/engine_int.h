/*
 * engine_int.h - what the engine's files share privately: the id scan with
 * reservoir sampling (verify) and batch comparison.
 */
#ifndef VMIG_ENGINE_INT_H
#define VMIG_ENGINE_INT_H

#include "batch/batch.h"
#include "source/source.h"
#include "vmig/migrate.h"

/* Compare row ra of a with row rb of b (same layout): 0 when equal, else what
 * differs first (VMIG_ROW_*), described in why (naming the vector field); *field (may
 * be NULL) = the target field that differs ("$meta" for the dynamic payload). */
enum { VMIG_ROW_VECTOR_DIFFERS = 1, VMIG_ROW_PAYLOAD_DIFFERS = 2 };
int vmig_batch_row_diff(const struct vmig_batch *a, size_t ra, const struct vmig_batch *b,
                        size_t rb, const struct vmig_layout *lay, char *why, size_t whylen,
                        const char **field);
/* idx[0..n) (row numbers of b) sorted by point id. */
void vmig_batch_sort_rows(const struct vmig_batch *b, size_t *idx, size_t n);

#endif

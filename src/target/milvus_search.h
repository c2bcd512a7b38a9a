/*
 * milvus_search.h - Search on the Milvus target (search parity, `verify --search`):
 * the pure codec (SearchRequest with its PlaceholderGroup of query vectors, and
 * SearchResults read into hit lists; milvus_search_codec.c, unit-tested on bytes)
 * and the vtable call that sends it (milvus_search.c).
 */
#ifndef VMIG_TARGET_MILVUS_SEARCH_H
#define VMIG_TARGET_MILVUS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "batch/hits.h"
#include "target/target.h"
#include "util/buf.h"

/* The ef asked of an HNSW (or AUTOINDEX) index: high enough that the search is as good
 * as exact on ~10^5 rows. Measured on W1 (100 000 x 768-d Cosine, AUTOINDEX on Milvus
 * 2.3.5): top-10 recall ~0.25 with the default, ~0.75 with ef 512, 0.99-1.0 with ef
 * 4096 (docs/internals/PERFORMANCE.md, finding 9). */
#define VMIG_MILVUS_SEARCH_EF(k) ((k) > 4096u ? (k) : 4096u)

/* SearchRequest on field pc->field[c] for the vectors of rows [lo, hi) of column c of
 * q (one query each, nq = hi - lo), top k, the field's metric (IP for sparse), Strong
 * consistency, no output fields. Dense: params {"ef": VMIG_MILVUS_SEARCH_EF(k)};
 * sparse: {"drop_ratio_search": 0} (every term scored: exact). */
enum vmig_code vmig_milvus_enc_search(const char *db, const struct vmig_plan_coll *pc, size_t c,
                                      const struct vmig_batch *q, size_t lo, size_t hi, uint32_t k,
                                      struct vmig_buf *out, struct vmig_err *err);
/* SearchResults: query i's hits appended to out[i], for i < nq (out has nq lists). A
 * status error per vmig_milvus_status; VMIG_E_PROTOCOL when the answer holds other
 * than nq queries or its counts do not add up. */
enum vmig_code vmig_milvus_dec_search(const void *p, size_t len, const char *what, size_t nq,
                                      struct vmig_hits *out, struct vmig_err *err);

/* The vtable's search (target.h). */
enum vmig_code vmig_milvus_search(struct vmig_target *t, const struct vmig_plan_coll *pc, size_t c,
                                  const struct vmig_batch *q, size_t lo, size_t hi, uint32_t k,
                                  struct vmig_hits *out, struct vmig_err *err);

#endif

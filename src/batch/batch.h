/*
 * batch.h - a columnar batch of points: the one record format between the source
 * codec (which fills it from a scroll page) and the target codec (which encodes it
 * as Milvus FieldData without per-point copies).
 *
 * Layout per batch of n rows:
 *   ids[n]                         point ids
 *   col[c] dense:  data = n*dim float32, row r at r*dim
 *   col[c] sparse: data = (u32 index LE, f32 value LE) pairs sorted by index,
 *                  row r in [off[r], off[r+1])  - exactly Milvus's per-row encoding
 *   meta:          payload JSON objects concatenated, row r in [meta_off[r], meta_off[r+1])
 *   sc[s]:         typed payload field s: row r's value in data [off[r], off[r+1]) - an
 *                  int64 or double (8 bytes, host order), a bool (1 byte), the UTF-8 text
 *                  of a VARCHAR, or the JSON text of a JSON or ARRAY value; valid[r] = 0
 *                  for null (no bytes), 1 for a value
 * Rows a codec refuses (e.g. payload over 64 KiB with --rejects) are recorded in
 * rejects[] and not counted in n. Allocations are kept across vmig_batch_reset().
 */
#ifndef VMIG_BATCH_H
#define VMIG_BATCH_H

#include <stdint.h>

#include "util/buf.h"
#include "vmig/types.h"

/* What a codec needs to know of the plan to decode a page into columns. */
struct vmig_layout {
    const char *coll; /* source collection name, for messages */
    int unnamed;      /* source uses the single unnamed vector form */
    size_t ncols;
    struct {
        const char *src; /* Qdrant vector name ("" = unnamed) */
        const char *dst; /* Milvus field name */
        int sparse;
        uint32_t dim;
    } col[VMIG_MAX_VECTOR_FIELDS];
    enum vmig_null_policy nulls;
    enum vmig_conflict_policy conflict;
    const char *prefix; /* conflict prefix, e.g. "payload_" */
    /* target schema field names a payload key must not take (pk + vector fields) */
    size_t nreserved;
    const char *reserved[VMIG_MAX_VECTOR_FIELDS + 1 + VMIG_MAX_SCALAR_FIELDS];
    int reject_oversize; /* payload > VMIG_JSON_MAX: 1 = record a reject, 0 = error */
    /* typed payload fields (borrowed from the plan): the key each takes out of the
     * payload, and what to do with a value that does not fit */
    size_t nscalars;
    const struct vmig_plan_scalar *scalar[VMIG_MAX_SCALAR_FIELDS];
    const char *scalar_key[VMIG_MAX_SCALAR_FIELDS];
    char scalar_key_buf[VMIG_MAX_SCALAR_FIELDS][VMIG_NAME_MAX + 32]; /* prefixed keys */
    enum vmig_misfit_policy misfit;
};

/* Fill a layout from a plan collection; strings are borrowed from pc. */
void vmig_layout_from_plan(struct vmig_layout *lay, const struct vmig_plan_coll *pc,
                           int reject_oversize);

struct vmig_batch_col {
    int sparse;
    uint32_t dim;
    struct vmig_buf data;
    size_t *off; /* sparse only: n+1 offsets */
    size_t offcap;
};

struct vmig_batch_scalar {
    struct vmig_buf data;
    size_t *off; /* n+1 offsets */
    struct vmig_buf valid;
};

struct vmig_batch_reject {
    struct vmig_point_id id;
    char reason[256];
};

struct vmig_batch {
    size_t n, cap;
    struct vmig_point_id *ids;
    size_t ncols;
    struct vmig_batch_col col[VMIG_MAX_VECTOR_FIELDS];
    struct vmig_buf meta;
    size_t *meta_off; /* n+1 offsets */
    size_t nrejects, rejcap;
    struct vmig_batch_reject *rejects;
    uint64_t nulls_dropped; /* payload keys removed under --null-values=drop */
    size_t nscalars;
    struct vmig_batch_scalar sc[VMIG_MAX_SCALAR_FIELDS];
    uint64_t misfits;        /* typed values kept in $meta under --payload-misfit=dynamic */
    struct vmig_buf scratch; /* the typing's working text */
};

void vmig_batch_init(struct vmig_batch *b, const struct vmig_layout *lay);
void vmig_batch_release(struct vmig_batch *b);
/* Empty the batch, keep allocations. */
void vmig_batch_reset(struct vmig_batch *b);

/* --- building rows (codecs) ---
 * vmig_batch_begin_row() appends a row with id; dense slots are zeroed and can be
 * filled via vmig_batch_dense() in any column order; sparse pairs and the payload
 * are appended to col[c].data / meta while the row is open. vmig_batch_end_row()
 * closes the offsets. vmig_batch_drop_row() discards the open row (reason NULL) or
 * records it as a reject. */
void vmig_batch_begin_row(struct vmig_batch *b, const struct vmig_point_id *id);
float *vmig_batch_dense(struct vmig_batch *b, size_t col); /* open row's slot */
void vmig_batch_end_row(struct vmig_batch *b);
/* Move the typed keys of the open row's payload (which starts at meta0) into the
 * scalar columns (typed.c). 0 when done; 1 when a value does not fit and the row is
 * to be rejected, -1 when it is to fail the copy (the policy's answer, or a payload
 * that is not a JSON object): why says what, *key names the payload key (or NULL). */
int vmig_batch_type_row(struct vmig_batch *b, const struct vmig_layout *lay, size_t meta0,
                        char *why, size_t nwhy, const char **key);
void vmig_batch_drop_row(struct vmig_batch *b, const char *reason);

/* Row accessors. */
static inline const float *vmig_batch_dense_at(const struct vmig_batch *b, size_t col, size_t r)
{
    return (const float *)(const void *)b->col[col].data.p + (size_t)r * b->col[col].dim;
}
static inline const char *vmig_batch_meta_at(const struct vmig_batch *b, size_t r, size_t *len)
{
    *len = b->meta_off[r + 1] - b->meta_off[r];
    return b->meta.p + b->meta_off[r];
}
/* Row r of typed field s: NULL for null, else its bytes (*len of them). */
static inline const char *vmig_batch_scalar_at(const struct vmig_batch *b, size_t s, size_t r,
                                               size_t *len)
{
    const struct vmig_batch_scalar *c = &b->sc[s];
    *len = c->off[r + 1] - c->off[r];
    return c->valid.p[r] ? c->data.p + c->off[r] : NULL;
}

/* Keep the first n rows. */
void vmig_batch_truncate(struct vmig_batch *b, size_t n);
/* Keep only rows and rejects whose id is below end (a half-open read range's upper
 * bound; rows come in scroll order). Returns 1 when a row at or past end was cut:
 * the range ends in this batch. */
int vmig_batch_clip(struct vmig_batch *b, const struct vmig_point_id *end);
/* Append all rows of src (same layout) to dst. */
void vmig_batch_append(struct vmig_batch *dst, const struct vmig_batch *src);
/* Bytes of vectors and payload the rows hold (what the job counts as written). */
size_t vmig_batch_payload_bytes(const struct vmig_batch *b);
/* Approximate encoded size in bytes (what an Insert request of this batch weighs). */
size_t vmig_batch_bytes(const struct vmig_batch *b);

#endif

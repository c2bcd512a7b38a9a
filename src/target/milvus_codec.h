/*
 * milvus_codec.h - the protobuf codec of the Milvus target: builds request
 * messages from a plan or a batch and reads responses, with protobuf-c structs
 * generated from our own milvus.proto. Pure: no I/O, no retries (transport:
 * grpc_call.h, scheduling: milvus.c), so every function is unit-tested on bytes.
 *
 * Encoders fill out (reset first) with the serialized message. Write requests point
 * INTO the batch's buffers (dense floats, sparse row slices, payload JSON rows): only
 * the final serialization copies bytes. Decoders check the common.Status inside the
 * response (success iff code == 0 && error_code == 0) and fill err with the reason.
 */
#ifndef VMIG_TARGET_MILVUS_CODEC_H
#define VMIG_TARGET_MILVUS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "milvus.pb-c.h"
#include "util/buf.h"
#include "vmig/types.h"
#include "vmig/verify.h"

#define VMIG_MILVUS_SERVICE "/milvus.proto.milvus.MilvusService/"
#define VMIG_MILVUS_PORT 19530
#define VMIG_MILVUS_META "$meta" /* the dynamic field */

/* Milvus DataType numbers (schema.proto) */
enum {
    VMIG_MDT_INT64 = 5,
    VMIG_MDT_VARCHAR = 21,
    VMIG_MDT_JSON = 23,
    VMIG_MDT_FLOAT_VECTOR = 101,
    VMIG_MDT_SPARSE_VECTOR = 104,
};
/* common.IndexState, common.LoadState, common.ConsistencyLevel */
enum { VMIG_MIDX_FINISHED = 3, VMIG_MIDX_FAILED = 4 };
enum { VMIG_MLOAD_NOT_EXIST = 0, VMIG_MLOAD_NOT_LOAD, VMIG_MLOAD_LOADING, VMIG_MLOAD_LOADED };
enum { VMIG_MCL_STRONG = 0, VMIG_MCL_BOUNDED = 2 };
/* The consistency level of collections we create (see milvus_codec.c). */
#define VMIG_MILVUS_COLL_CONSISTENCY VMIG_MCL_BOUNDED

/* ---- status ---- */

/* A common.Status (NULL = absent = success) as a vmig code. what is the failed
 * operation ("cannot insert into collection 'docs' on target"); the message gets the
 * server's reason and code. retriable -> RATE_LIMIT (codes 4, 8) or UNAVAILABLE;
 * code 100 / legacy CollectionNotExists -> NOT_FOUND; 1400/1401 -> AUTH; else REMOTE. */
enum vmig_code vmig_milvus_status(const Vmig__Milvus__Status *st, const char *what,
                                  struct vmig_err *err);

/* ---- requests ---- (db may be NULL: the dbname header already carries it) */

void vmig_milvus_enc_connect(struct vmig_buf *out);
void vmig_milvus_enc_empty(struct vmig_buf *out); /* GetVersion, CheckHealth */
void vmig_milvus_enc_has_collection(const char *db, const char *name, struct vmig_buf *out);
void vmig_milvus_enc_describe_collection(const char *db, const char *name, struct vmig_buf *out);
void vmig_milvus_enc_drop_collection(const char *db, const char *name, struct vmig_buf *out);
/* pk + one field per vector field + the typed payload fields + dynamic field on.
 * Refuses dim > 32768, 0 fields. */
enum vmig_code vmig_milvus_enc_create_collection(const char *db, const struct vmig_plan_coll *pc,
                                                 struct vmig_buf *out, struct vmig_err *err);
/* Index on pc->field[f]: AUTOINDEX/HNSW + metric for dense, SPARSE_INVERTED_INDEX + IP. */
enum vmig_code vmig_milvus_enc_create_index(const char *db, const struct vmig_plan_coll *pc,
                                            size_t f, struct vmig_buf *out, struct vmig_err *err);
/* Index on typed field pc->scalar[s] (its index type; none -> VMIG_E_INTERNAL). */
enum vmig_code vmig_milvus_enc_create_scalar_index(const char *db, const struct vmig_plan_coll *pc,
                                                   size_t s, struct vmig_buf *out,
                                                   struct vmig_err *err);
void vmig_milvus_enc_describe_index(const char *db, const char *name, const char *field,
                                    struct vmig_buf *out);
void vmig_milvus_enc_flush(const char *db, const char *name, struct vmig_buf *out);
/* LoadCollection; refresh: load again what was added since (segments imported into a
 * loaded collection). */
/* The Milvus metric word of a vector field: its plan metric, IP for sparse. */
const char *vmig_milvus_metric_of(const struct vmig_plan_field *f);
void vmig_milvus_enc_load(const char *db, const char *name, int refresh, struct vmig_buf *out);
void vmig_milvus_enc_load_state(const char *db, const char *name, struct vmig_buf *out);
/* Query count(*), Strong consistency. */
void vmig_milvus_enc_count(const char *db, const char *name, struct vmig_buf *out);
/* Query by primary key: expr "<pk> in [..]", output = vector fields + "$meta", Strong. */
enum vmig_code vmig_milvus_enc_query_ids(const char *db, const struct vmig_plan_coll *pc,
                                         const struct vmig_point_id *ids, size_t n,
                                         struct vmig_buf *out, struct vmig_err *err);

/* Primary-key scan (milvus_scan_codec.c): Query of the keys in span sp (an Int64 range,
 * a VarChar prefix or one VarChar key), at most limit rows, the pk as the only output
 * field, Strong. */
enum vmig_code vmig_milvus_enc_scan_ids(const char *db, const struct vmig_plan_coll *pc,
                                        const struct vmig_key_span *sp, uint32_t limit,
                                        struct vmig_buf *out, struct vmig_err *err);
/* Its answer appended to out (a batch of no columns), in the server's order. */
enum vmig_code vmig_milvus_dec_scan_ids(const void *p, size_t len, const struct vmig_plan_coll *pc,
                                        struct vmig_batch *out, struct vmig_err *err);

/* Insert/Upsert (same message layout) of rows [lo, *hi) of b. When the encoding
 * would exceed max bytes, *hi is lowered until it fits (at least one row); a single
 * row larger than max -> VMIG_E_DATA naming the point id. Also VMIG_E_DATA for a
 * payload row over VMIG_JSON_MAX, an id that does not fit the pk type, a batch whose
 * columns do not match the plan. */
enum vmig_code vmig_milvus_enc_write(const char *db, const struct vmig_plan_coll *pc,
                                     const struct vmig_batch *b, size_t lo, size_t *hi, size_t max,
                                     struct vmig_buf *out, struct vmig_err *err);

/* ---- typed payload columns (milvus_scalars.c) ---- */

struct vmig_mscol;
/* FieldData fd for rows [lo, lo + rows) of typed column s of b (field sc); the
 * returned state owns what fd points at. NULL with err on an internal mismatch. */
struct vmig_mscol *vmig_milvus_scalar_col(const struct vmig_plan_scalar *sc,
                                          const struct vmig_batch *b, size_t s, size_t lo,
                                          size_t rows, Vmig__Milvus__FieldData *fd,
                                          struct vmig_err *err);
/* Make the column hold only its first rows rows (a smaller request). */
void vmig_milvus_scalar_rows(struct vmig_mscol *c, size_t rows);
void vmig_milvus_scalar_free(struct vmig_mscol *c);
/* Append row i (of n) of query column fd to out as the batch holds it; *nvalid_before
 * counts the valid rows read so far (start at 0). -1 when fd is not of sc's type. */
int vmig_milvus_scalar_read(const struct vmig_plan_scalar *sc, const Vmig__Milvus__FieldData *fd,
                            size_t n, size_t i, size_t *nvalid_before,
                            struct vmig_batch_scalar *out);

/* ---- responses ---- (what: the failed operation, for messages) */

enum vmig_code vmig_milvus_dec_status(const void *p, size_t len, const char *what,
                                      struct vmig_err *err);
enum vmig_code vmig_milvus_dec_version(const void *p, size_t len, char *version, size_t n,
                                       struct vmig_err *err);
/* CheckHealth: an unhealthy server -> VMIG_E_UNAVAILABLE with its reasons. */
enum vmig_code vmig_milvus_dec_health(const void *p, size_t len, struct vmig_err *err);
enum vmig_code vmig_milvus_dec_connect(const void *p, size_t len, int64_t *identifier,
                                       struct vmig_err *err);
enum vmig_code vmig_milvus_dec_bool(const void *p, size_t len, const char *what, int *value,
                                    struct vmig_err *err);
enum vmig_code vmig_milvus_dec_flush(const void *p, size_t len, const char *what,
                                     struct vmig_err *err);
/* State of the index on field (0 when not listed); Failed -> VMIG_E_REMOTE with reason. */
enum vmig_code vmig_milvus_dec_index_state(const void *p, size_t len, const char *field,
                                           const char *what, int *state, struct vmig_err *err);
/* The same, with the build's progress: rows indexed of the rows to index (0/0 unknown). */
enum vmig_code vmig_milvus_dec_index_progress(const void *p, size_t len, const char *field,
                                              const char *what, int *state, int64_t *indexed,
                                              int64_t *total, struct vmig_err *err);
/* Flush: the flush's timestamp for collection name (0 when the server gives none). */
enum vmig_code vmig_milvus_dec_flush_ts(const void *p, size_t len, const char *name,
                                        const char *what, uint64_t *ts, struct vmig_err *err);
/* Flush: the ids of the segments of collection name it seals, appended to *ids (xrealloc'd,
 * *n counts them). */
enum vmig_code vmig_milvus_dec_flush_segments(const void *p, size_t len, const char *name,
                                              const char *what, int64_t **ids, size_t *n,
                                              struct vmig_err *err);
/* GetFlushState of the given segments, else of the flush at ts (answer:
 * vmig_milvus_dec_bool, 1 = flushed). */
void vmig_milvus_enc_flush_state(const char *db, const char *name, uint64_t ts, const int64_t *ids,
                                 size_t n, struct vmig_buf *out);
/* ListDatabases: *found = 1 when db is among the server's databases. */
enum vmig_code vmig_milvus_dec_has_database(const void *p, size_t len, const char *db,
                                            const char *what, int *found, struct vmig_err *err);
enum vmig_code vmig_milvus_dec_load_state(const void *p, size_t len, const char *what, int *state,
                                          struct vmig_err *err);
/* MutationResult: insert_cnt (or upsert_cnt) must equal rows. */
enum vmig_code vmig_milvus_dec_mutation(const void *p, size_t len, int upsert, size_t rows,
                                        const char *what, struct vmig_err *err);
enum vmig_code vmig_milvus_dec_count(const void *p, size_t len, const char *what, uint64_t *n,
                                     struct vmig_err *err);
/* QueryResults of vmig_milvus_enc_query_ids() appended as rows to out (layout of pc):
 * ids from the pk column, vectors, payload from the dynamic field ("{}" if absent). */
enum vmig_code vmig_milvus_dec_rows(const void *p, size_t len, const struct vmig_plan_coll *pc,
                                    struct vmig_batch *out, struct vmig_err *err);

#endif

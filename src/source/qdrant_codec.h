/*
 * qdrant_codec.h - pure decoding of Qdrant REST answers (no I/O): collection
 * info, collection lists, counts and the server version via jansson, and the
 * streaming scroll/retrieve page scanner that fills a columnar struct vmig_batch
 * straight from the response bytes (the hot path of a migration).
 *
 * The transport (qdrant_http.c) fetches bytes; the connector (qdrant.c) decides
 * what to ask; this file only turns bytes into structures, and is unit-tested on
 * canned server replies in tests/data/qdrant/.
 */
#ifndef VMIG_SOURCE_QDRANT_CODEC_H
#define VMIG_SOURCE_QDRANT_CODEC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "util/buf.h"
#include "vmig/types.h"

/* GET / -> "1.19.1" into version[n]. */
enum vmig_code vmig_qdrant_parse_version(const char *body, size_t len, char *version, size_t n,
                                         struct vmig_err *err);
/* "1.19.1" >= major.minor.patch ? (unparsable versions compare as 0.0.0) */
int vmig_qdrant_version_at_least(const char *version, int major, int minor, int patch);

/* GET /collections -> malloc'd array of malloc'd names. */
enum vmig_code vmig_qdrant_parse_list(const char *body, size_t len, char ***names, size_t *n,
                                      struct vmig_err *err);
/* POST .../points/count -> count. */
enum vmig_code vmig_qdrant_parse_count(const char *body, size_t len, uint64_t *count,
                                       struct vmig_err *err);
/* GET /collections/{name} -> out (name copied from coll). Id facts are left unprobed. */
enum vmig_code vmig_qdrant_parse_info(const char *body, size_t len, const char *coll,
                                      struct vmig_src_coll *out, struct vmig_err *err);
/* A vector of the collection's config: the next slot of c named name (float32, no
 * HNSW override), or NULL with c->too_many_vectors set when c is full. */
struct vmig_src_vector *vmig_qdrant_add_vec(struct vmig_src_coll *c, const char *name);
/* v's datatype from Qdrant's name for it (NULL = "float32"). */
void vmig_qdrant_set_datatype(struct vmig_src_vector *v, const char *dt);
/* Add a payload index (payload_schema entry) to c: type as Qdrant names it
 * ("keyword", ...) or NULL with gtype its gRPC PayloadSchemaType number. Past
 * VMIG_SRC_MAX_INDEXES, or a key longer than a Milvus name, sets too_many_indexes
 * / skips it (such a key cannot become a field). */
void vmig_qdrant_add_index(struct vmig_src_coll *c, const char *key, const char *type, int gtype,
                           uint64_t points, int is_tenant);
/* The text of status.error in an error envelope, or NULL (for error messages). */
char *vmig_qdrant_error_text(const char *body, size_t len);

/* Which answer a page is. */
enum vmig_qdrant_page { VMIG_QDRANT_SCROLL = 0, VMIG_QDRANT_RETRIEVE = 1 };

/* Scan one scroll page ({"result":{"points":[...],"next_page_offset":...}}) or
 * retrieve answer ({"result":[...]}) and append its records to b per lay.
 * body must be NUL-terminated at body[len] (struct vmig_buf guarantees it).
 * *next (may be NULL) receives next_page_offset (kind NONE when null or for retrieve).
 * Errors: VMIG_E_PROTOCOL for malformed JSON or an unexpected shape, VMIG_E_DATA for
 * a point that cannot be written (message names collection, point and vector/key).
 * On error, rows appended before the failing record stay in b (the caller resets). */
enum vmig_code vmig_qdrant_scan_page(const char *body, size_t len, enum vmig_qdrant_page kind,
                                     const struct vmig_layout *lay, struct vmig_batch *b,
                                     struct vmig_point_id *next, struct vmig_err *err);

/* ---- the rules of one point, shared by the REST scanner and the gRPC codec
 * (qdrant_point.c), so a point fails in the same words over either API ---- */

/* "the unnamed vector" or "vector 'NAME'" into buf. */
const char *vmig_qdrant_vec_label(const char *src, char *buf, size_t n);
/* A point that cannot be migrated: "point ID in collection 'C': ..." (id NULL: "?"),
 * with err->coll, err->point and err->field (the vector or payload key, may be NULL)
 * set. Returns VMIG_E_DATA. */
enum vmig_code vmig_qdrant_point_err(struct vmig_err *err, const struct vmig_layout *lay,
                                     const struct vmig_point_id *id, const char *field,
                                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
enum vmig_code vmig_qdrant_point_verr(struct vmig_err *err, const struct vmig_layout *lay,
                                      const struct vmig_point_id *id, const char *field,
                                      const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* Where a payload value is: path[1..depth], a key (key, klen; not NUL-terminated) or
 * an array element (key NULL, index). */
struct vmig_qdrant_pathseg {
    const char *key;
    size_t klen;
    size_t index;
};
/* "a.b[2].c" into out[cap]. */
void vmig_qdrant_path_text(const struct vmig_qdrant_pathseg *path, int depth, char *out,
                           size_t cap);
/* A null payload value at path[1..depth] under lay's null policy: dropped (counted in
 * b, *dropped = 1), kept ("null" appended to b's meta), or the error naming the path
 * and its way out. */
enum vmig_code vmig_qdrant_null(struct vmig_batch *b, const struct vmig_layout *lay,
                                const struct vmig_qdrant_pathseg *path, int depth,
                                const struct vmig_point_id *id, struct vmig_err *err, int *dropped);
/* A top-level payload key (key, n) that names a field of the target, refused (the
 * conflict policy is not "prefix"): the error and its way out. */
enum vmig_code vmig_qdrant_conflict(struct vmig_err *err, const struct vmig_layout *lay,
                                    const struct vmig_point_id *id, const char *key, size_t n);

/* Scratch a decoder keeps across points. */
struct vmig_qdrant_scratch {
    uint64_t *pairs;
    size_t paircap;
};
/* Check a sparse vector (as many indices as values, indices below 2^32-1 and each
 * once, finite non-negative values), sort it by index and append it to column c of
 * the open row. */
enum vmig_code vmig_qdrant_put_sparse(struct vmig_qdrant_scratch *sc, struct vmig_batch *b,
                                      size_t c, const uint32_t *idx, size_t ni,
                                      const float *val, size_t nv, struct vmig_err *err,
                                      const struct vmig_layout *lay,
                                      const struct vmig_point_id *id);
/* Close the open row: each dense column of lay written (bit c of seen), the payload
 * (meta from meta0) within Milvus's 64 KiB - else a reject (lay->reject_oversize, the
 * row dropped, VMIG_OK) or an error naming the way out (the row left open: the
 * caller drops it). */
enum vmig_code vmig_qdrant_close_row(struct vmig_batch *b, const struct vmig_layout *lay,
                                     unsigned seen, size_t meta0, const struct vmig_point_id *id,
                                     struct vmig_err *err);

/* A connector handle's memory of one collection's strict-mode page limit: both
 * connectors keep every read, retrieve and sample within it, asking the collection's
 * info once per handle and collection. */
struct vmig_qdrant_cap {
    char coll[VMIG_SRC_NAME_MAX];
    int known;
    uint32_t limit; /* max_query_limit, 0 = none */
};
/* Remember sc's limit (from a collection info just read). */
void vmig_qdrant_cap_note(struct vmig_qdrant_cap *c, const struct vmig_src_coll *sc);
/* Whether c holds coll's limit. */
int vmig_qdrant_cap_knows(const struct vmig_qdrant_cap *c, const char *coll);
/* n within the limit (and within uint32). */
uint32_t vmig_qdrant_cap_apply(const struct vmig_qdrant_cap *c, size_t n);

/* Append a point id as JSON (number or quoted UUID) - for request bodies. */
void vmig_qdrant_put_id(struct vmig_buf *out, const struct vmig_point_id *id);
/* Append s as a JSON string (quoted, escaped). */
void vmig_qdrant_put_str(struct vmig_buf *out, const char *s);

#endif

/*
 * qdrant_grpc_codec.h - pure encoding and decoding of Qdrant's gRPC messages (no
 * I/O; requests and small answers in qdrant_grpc_msg.c, pages in
 * qdrant_grpc_codec.c), on protobuf-c and our own src/source/qdrant.proto: requests for Scroll,
 * Get, Count, Query (random sample), Collections.Get, and the answers decoded into
 * the same structures the REST codec fills (qdrant_codec.h), with the same rules
 * and messages: a page lands in a columnar struct vmig_batch, payload `Value` trees
 * written straight into the batch's `$meta` JSON with the null, key-conflict and
 * 64 KiB rules of the REST scanner.
 *
 * Vectors come in two wire formats (reference qdrant.md section 18.3): up to Qdrant
 * 1.16 the deprecated `data` / `indices` / `vectors_count`, from 1.17 only the oneof
 * (dense / sparse / multi_dense). The decoder picks per vector by which fields are
 * present, never by the server's version. An empty dense vector (no values, no
 * oneof, or an empty oneof dense) is the placeholder hybrid collections send for a
 * vector a point does not have: absent, not a vector of zero values.
 */
#ifndef VMIG_SOURCE_QDRANT_GRPC_CODEC_H
#define VMIG_SOURCE_QDRANT_GRPC_CODEC_H

#include <stddef.h>

#include "batch/batch.h"
#include "source/qdrant_codec.h"
#include "source/source.h"
#include "util/buf.h"
#include "vmig/types.h"

/* ---- requests: the encoded message replaces out's contents ---- */

/* ScrollPoints for one page of req (its slice filter, offset, limit, vectors). */
void vmig_qgrpc_enc_scroll(struct vmig_buf *out, const struct vmig_read_req *req);
/* GetPoints of ids with payload and lay's vectors. */
void vmig_qgrpc_enc_get(struct vmig_buf *out, const char *coll, const struct vmig_layout *lay,
                        const struct vmig_point_id *ids, size_t n);
/* CountPoints, exact. */
void vmig_qgrpc_enc_count(struct vmig_buf *out, const char *coll);
/* GetCollectionInfoRequest. */
void vmig_qgrpc_enc_info(struct vmig_buf *out, const char *coll);
/* QueryPoints with the random sample, ids only. */
void vmig_qgrpc_enc_sample(struct vmig_buf *out, const char *coll, size_t n);

/* ---- answers ---- */

/* HealthCheckReply -> "1.19.0". */
enum vmig_code vmig_qgrpc_parse_health(const void *msg, size_t len, char *version, size_t n,
                                       struct vmig_err *err);
/* ListCollectionsResponse -> malloc'd array of malloc'd names. */
enum vmig_code vmig_qgrpc_parse_list(const void *msg, size_t len, char ***names, size_t *n,
                                     struct vmig_err *err);
/* CountResponse -> count. */
enum vmig_code vmig_qgrpc_parse_count(const void *msg, size_t len, uint64_t *count,
                                      struct vmig_err *err);
/* GetCollectionInfoResponse -> out (name copied from coll; ids left unprobed). */
enum vmig_code vmig_qgrpc_parse_info(const void *msg, size_t len, const char *coll,
                                     struct vmig_src_coll *out, struct vmig_err *err);

/* Which answer a page is. */
enum vmig_qgrpc_page { VMIG_QGRPC_SCROLL = 0, VMIG_QGRPC_GET, VMIG_QGRPC_QUERY };

/* Decode a ScrollResponse, GetResponse or QueryResponse and append its points to b
 * per lay; *next (may be NULL) receives next_page_offset (kind NONE at the end and
 * for the others). Errors as vmig_qdrant_scan_page(): VMIG_E_PROTOCOL for bytes that
 * are not the message, VMIG_E_DATA for a point that cannot be written (naming
 * collection, point and vector/key). On error b is as before the call. */
enum vmig_code vmig_qgrpc_scan_page(const void *msg, size_t len, enum vmig_qgrpc_page kind,
                                    const struct vmig_layout *lay, struct vmig_batch *b,
                                    struct vmig_point_id *next, struct vmig_err *err);

/* "malformed gRPC answer (what) for collection 'coll'" (coll may be NULL):
 * VMIG_E_PROTOCOL, for bytes that are not the message expected. */
enum vmig_code vmig_qgrpc_malformed(struct vmig_err *err, const char *what, const char *coll);

/* Memory a decoder keeps across pages (a connector handle holds one): the unpack's
 * arena and the sparse scratch. Zero-initialise; release with vmig_qgrpc_mem_release(). */
struct vmig_qgrpc_block;
struct vmig_qgrpc_mem {
    struct vmig_qgrpc_block *blocks;
    size_t hint;
    struct vmig_qdrant_scratch sc;
};
void vmig_qgrpc_mem_release(struct vmig_qgrpc_mem *m);
/* vmig_qgrpc_scan_page() with the memory of mem (kept for the next page). */
enum vmig_code vmig_qgrpc_scan_page_mem(const void *msg, size_t len, enum vmig_qgrpc_page kind,
                                        const struct vmig_layout *lay, struct vmig_batch *b,
                                        struct vmig_point_id *next, struct vmig_qgrpc_mem *mem,
                                        struct vmig_err *err);

#endif

/*
 * qdrant_search.h - the pure codec of the Qdrant connector's search (search
 * parity, `verify --search`): the body of a nearest-vector query
 * (POST /collections/{c}/points/query, exact) and the decoding of its answer into
 * a hit list. No I/O; qdrant.c sends the request, tests/unit/test_search_codec.c
 * checks both on bytes.
 */
#ifndef VMIG_SOURCE_QDRANT_SEARCH_H
#define VMIG_SOURCE_QDRANT_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "batch/hits.h"
#include "util/buf.h"

/* The query body for the vector in row r of column c of q (layout lay: its col[c].src
 * names the vector, "" or an unnamed layout = the unnamed one): a dense vector as a
 * list of floats written so each reads back as the same float32, a sparse one as
 * {"indices","values"}; limit k, params.exact true, no payload, no vectors. out is
 * reset first. */
void vmig_qdrant_enc_search(const struct vmig_layout *lay, const struct vmig_batch *q, size_t r,
                            size_t c, uint32_t k, struct vmig_buf *out);
/* {"result":{"points":[{"id":..,"score":..},...]}} appended to out in answer order.
 * VMIG_E_PROTOCOL naming coll for anything else. */
enum vmig_code vmig_qdrant_dec_hits(const char *body, size_t len, const char *coll,
                                    struct vmig_hits *out, struct vmig_err *err);

#endif

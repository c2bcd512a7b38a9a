/*
 * source.h - the source connector interface: a const vtable per connector
 * (curl's vtls pattern), chosen for an endpoint by vmig_source_for() from the
 * registry (source/registry.c) by the URL's scheme: Qdrant over REST for http(s)://
 * (source/qdrant.c), over gRPC for grpc(s):// (source/qdrant_grpc.c). A new source
 * implements these calls and adds itself to the registry's table.
 *
 * A struct vmig_source handle is NOT thread-safe: the engine opens one per reader
 * thread (opening is cheap: no network I/O happens in open).
 */
#ifndef VMIG_SOURCE_H
#define VMIG_SOURCE_H

#include <stdint.h>

#include "batch/batch.h"
#include "batch/hits.h"
#include "vmig/run.h"
#include "vmig/types.h"

struct vmig_source;

/* One page request. A read range is a slice (when slice_total > 0) and/or the
 * half-open id interval [offset, end); kind NONE means unbounded. */
struct vmig_read_req {
    const char *coll;
    const struct vmig_layout *layout;
    struct vmig_point_id offset; /* inclusive start; NONE = from the beginning */
    uint32_t limit;              /* points per page */
    uint32_t slice_total, slice_index;
    int ids_only; /* no vectors, no payload: rows carry ids only (id scans for sampling) */
};

struct vmig_source_vt {
    const char *name; /* "qdrant", "qdrant-grpc" */
    const char *const *schemes; /* URL schemes it serves ("http", "https"), NULL-ended */
    /* ctx (may be NULL) outlives the handle: its cancel ends retries and waits, its
     * log receives the handle's log lines. */
    enum vmig_code (*open)(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                           struct vmig_source **out, struct vmig_err *err);
    void (*close)(struct vmig_source *s);
    /* Pre-flight: server version (e.g. "1.19.0"); clear errors for a wrong port,
     * wrong key, TLS failure. */
    enum vmig_code (*probe)(struct vmig_source *s, char *version, size_t n, struct vmig_err *err);
    /* Collection names; *names is a malloc'd array of malloc'd strings. */
    enum vmig_code (*list)(struct vmig_source *s, char ***names, size_t *n, struct vmig_err *err);
    /* Configuration (never from sampled points) plus the id probes. */
    enum vmig_code (*describe)(struct vmig_source *s, const char *coll, struct vmig_src_coll *out,
                               struct vmig_err *err);
    /* Configuration only (describe without the id probes): what a run re-reads when it
     * starts, e.g. strict mode. */
    enum vmig_code (*info)(struct vmig_source *s, const char *coll, struct vmig_src_coll *out,
                           struct vmig_err *err);
    /* Exact point count. */
    enum vmig_code (*count)(struct vmig_source *s, const char *coll, uint64_t *n,
                            struct vmig_err *err);
    /* One scroll page appended to out; *next = next_page_offset (kind NONE at the end).
     * *page_bytes (may be NULL) receives the response size, for page sizing. */
    enum vmig_code (*read)(struct vmig_source *s, const struct vmig_read_req *req,
                           struct vmig_batch *out, struct vmig_point_id *next,
                           size_t *page_bytes, struct vmig_err *err);
    /* Points by id (verification), appended to out in any order; missing ids are absent. */
    enum vmig_code (*retrieve)(struct vmig_source *s, const char *coll,
                               const struct vmig_layout *lay, const struct vmig_point_id *ids,
                               size_t n, struct vmig_batch *out, struct vmig_err *err);
    /* Whether the server supports the slice filter (>= 1.19). */
    int (*has_slices)(struct vmig_source *s);
    /* About n ids chosen at random by the server, appended to out (a batch of no
     * columns): boundaries for half-open id ranges when there are no slices. */
    enum vmig_code (*sample_ids)(struct vmig_source *s, const char *coll, size_t n,
                                 struct vmig_batch *out, struct vmig_err *err);
    /* Exact nearest neighbours (search parity, `verify --search`): the k points nearest
     * to the vector in row r of column c of q (a batch of layout lay; lay->col[c].src
     * names the vector), best first, appended to out with the server's scores. NULL:
     * the connector cannot search (the check then says so). */
    enum vmig_code (*search)(struct vmig_source *s, const char *coll, const struct vmig_layout *lay,
                             const struct vmig_batch *q, size_t r, size_t c, uint32_t k,
                             struct vmig_hits *out, struct vmig_err *err);
};

extern const struct vmig_source_vt vmig_source_qdrant;      /* REST: http, https */
extern const struct vmig_source_vt vmig_source_qdrant_grpc; /* gRPC: grpc, grpcs */

/* The connector for ep's URL scheme; the default one (REST) when no connector claims
 * the scheme (its open() then says which URLs it takes). Never NULL. */
const struct vmig_source_vt *vmig_source_for(const struct vmig_endpoint *ep);
/* Put a connector before the built-in ones (tests, embedders); at most 8. Not
 * thread-safe: call before any run. */
void vmig_source_register(const struct vmig_source_vt *vt);

#endif

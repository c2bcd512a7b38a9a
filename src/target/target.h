/*
 * target.h - the target connector interface: a const vtable per connector,
 * chosen for an endpoint by vmig_target_for() from the registry
 * (target/registry.c). Only Milvus exists today (target/milvus*.c: protobuf codec,
 * gRPC transport, connector). A new target implements these calls.
 *
 * A struct vmig_target handle IS thread-safe: writers share it (one gRPC channel
 * reused for every call).
 */
#ifndef VMIG_TARGET_H
#define VMIG_TARGET_H

#include <stdint.h>

#include "batch/batch.h"
#include "batch/hits.h"
#include "vmig/migrate.h"
#include "vmig/run.h"
#include "vmig/types.h"
#include "vmig/verify.h"

struct vmig_target;

struct vmig_target_vt {
    const char *name; /* "milvus" */
    const char *const *schemes; /* URL schemes it serves, NULL-ended */
    /* ctx (may be NULL) outlives the handle: its cancel ends retries and every wait
     * within 100 ms, its log receives the handle's log lines. */
    enum vmig_code (*open)(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                           struct vmig_target **out, struct vmig_err *err);
    void (*close)(struct vmig_target *t);
    /* Pre-flight: what the server is and can hold (caps: its version, product and
     * features); clear errors for wrong address / token / TLS. */
    enum vmig_code (*probe)(struct vmig_target *t, struct vmig_target_caps *caps,
                            struct vmig_err *err);
    enum vmig_code (*has_collection)(struct vmig_target *t, const char *name, int *exists,
                                     struct vmig_err *err);
    /* Create the collection of a plan (pk, vector fields, dynamic field on). */
    enum vmig_code (*create_collection)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                        struct vmig_err *err);
    enum vmig_code (*drop_collection)(struct vmig_target *t, const char *name,
                                      struct vmig_err *err);
    /* Write all rows of b (Insert, or Upsert when upsert != 0). Requests stay under the
     * 64 MiB limit: a batch that encodes larger is split. Returns only after the
     * server acknowledged every row. */
    enum vmig_code (*write)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                            const struct vmig_batch *b, int upsert, struct vmig_err *err);
    enum vmig_code (*flush)(struct vmig_target *t, const char *name, struct vmig_err *err);
    /* Define one index per vector field (plan's index kind/metric); idempotent. Does
     * not wait for the build: the server builds as segments seal. */
    enum vmig_code (*create_indexes)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                     struct vmig_err *err);
    /* How far the index builds are, over every vector field: rows indexed of rows the
     * server counts, *built when every build is finished. Waits (bounded,
     * cancellable) for the last Flush to be persisted first, so the counts are whole.
     * A failed build is an error with the server's reason. */
    enum vmig_code (*index_progress)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                     uint64_t *indexed, uint64_t *total, int *built,
                                     struct vmig_err *err);
    /* Load; with wait, until loaded (bounded, cancellable). Without, only ask for it
     * (idempotent: a later call with wait finds it loading or loaded). */
    enum vmig_code (*load)(struct vmig_target *t, const char *name, int wait,
                           struct vmig_err *err);
    /* Exact row count (Query count(*) with Strong consistency). */
    enum vmig_code (*count)(struct vmig_target *t, const char *name, uint64_t *n,
                            struct vmig_err *err);
    /* Rows by primary key (verification), appended to out (layout of the plan) in any
     * order, payload as the $meta JSON object. */
    enum vmig_code (*retrieve)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                               const struct vmig_layout *lay, const struct vmig_point_id *ids,
                               size_t n, struct vmig_batch *out, struct vmig_err *err);
    /* Primary keys in span sp (vmig/verify.h), at most limit of them in any order,
     * appended to out (a batch of no columns): full verification splits a span that
     * gives limit keys and checks the keys of the others against the source. NULL: the
     * connector cannot scan. */
    enum vmig_code (*scan_ids)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                               const struct vmig_key_span *sp, uint32_t limit,
                               struct vmig_batch *out, struct vmig_err *err);
    /* Delete the rows with these primary keys (repair of extras); ids not in the
     * collection are no error, so a repeated call is harmless. Batched under the
     * request limits, retried like writes. NULL: the connector cannot delete. */
    enum vmig_code (*delete_ids)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                 const struct vmig_point_id *ids, size_t n, struct vmig_err *err);
    /* How many calls so far met an unavailable or timed-out server. A target that went
     * away may have lost writes it had acknowledged but not yet flushed (Milvus Lite does
     * when stopped mid-write); the engine compares this counter across a flush to decide
     * whether the writes since the previous flush must be re-sent. */
    uint64_t (*faults)(struct vmig_target *t);
    /* Bulk import (NULL: the connector has none). bulk_check: whether the server and
     * the collection's shape can take import files (0, or an error saying why not,
     * err.fix = write_mode). bulk_begin: from now on write() with upsert == 0 appends
     * the rows to import files (acknowledged = in the file) and flush() imports them
     * and returns only when they are in; first waits for every import of the collection
     * still running on the server (a late one must never land after our Upserts).
     * bulk_pending: rows in files not yet imported (a flush through another handle
     * would not import them). */
    enum vmig_code (*bulk_check)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                 const struct vmig_bulk_opts *o, struct vmig_err *err);
    enum vmig_code (*bulk_begin)(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                 const struct vmig_bulk_opts *o, struct vmig_err *err);
    uint64_t (*bulk_pending)(struct vmig_target *t);
    /* Nearest neighbours (search parity, `verify --search`): for each row r in [lo, hi)
     * (at most 256) of column c of q (the plan's layout: the vector of field
     * pc->field[c]), the k nearest rows of the collection, best first, appended to
     * out[r - lo] with the server's scores; as exact as the field's index allows. The
     * collection must be loaded. NULL: the connector cannot search. */
    enum vmig_code (*search)(struct vmig_target *t, const struct vmig_plan_coll *pc, size_t c,
                             const struct vmig_batch *q, size_t lo, size_t hi, uint32_t k,
                             struct vmig_hits *out, struct vmig_err *err);
};

extern const struct vmig_target_vt vmig_target_milvus;

/* The connector for ep's URL scheme; Milvus when no connector claims the scheme
 * (its open() then says which URLs it takes). Never NULL. */
const struct vmig_target_vt *vmig_target_for(const struct vmig_endpoint *ep);
/* Put a connector before the built-in ones (tests, embedders); at most 8. Not
 * thread-safe: call before any run. */
void vmig_target_register(const struct vmig_target_vt *vt);

#endif

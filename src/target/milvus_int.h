/*
 * milvus_int.h - what the Milvus connector's files share privately: the handle
 * (milvus.c) and its one RPC-with-retries call, used by the bulk import machinery
 * (milvus_bulk.c) that hangs off the handle.
 */
#ifndef VMIG_TARGET_MILVUS_INT_H
#define VMIG_TARGET_MILVUS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "target/milvus_bulk.h"
#include "target/target.h"
#include "util/buf.h"
#include "util/grpc_call.h"
#include "util/retry.h"

struct vmig_target {
    struct vmig_grpc *g;
    char db[VMIG_NAME_MAX];
    int zilliz; /* the address is Zilliz Cloud's (see milvus_caps.c) */
    uint64_t wait_limit_ms;
    const struct vmig_run_ctx *ctx; /* the run's cancel and log (may be NULL) */
    pthread_mutex_t mu;             /* guards the last flush's facts below */
    uint64_t flush_ts;              /* timestamp of the last Flush (0 = none or not told) */
    int64_t *flush_seg;             /* segments the last Flush named */
    size_t nflush_seg;
    atomic_ulong faults; /* calls that met an unavailable/timed-out server (see target.h) */
    struct vmig_milvus_bulk *bulk; /* bulk import of this handle's run, or NULL (rows) */
};

typedef enum vmig_code (*vmig_milvus_decode_fn)(const struct vmig_buf *resp, void *ctx,
                                                const char *what, struct vmig_err *err);

/* One RPC with the connector's retries (milvus.c rpc_call): send req to rpc, decode the
 * answer with dec. timeout_ms 0 = the handle's call timeout; pol NULL = the job's. */
enum vmig_code vmig_milvus_rpc(struct vmig_target *t, const char *rpc, const struct vmig_buf *req,
                               int timeout_ms, vmig_milvus_decode_fn dec, void *ctx,
                               const char *what, const char *coll,
                               const struct vmig_retry_policy *pol, struct vmig_err *err);
/* The database for requests (NULL = default), and the timeout of slow calls. */
const char *vmig_milvus_db(const struct vmig_target *t);
int vmig_milvus_slow_ms(const struct vmig_target *t);

/* target.h scan_ids (milvus_scan.c) */
enum vmig_code vmig_milvus_scan_ids(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                    const struct vmig_point_id *after, uint32_t limit,
                                    struct vmig_batch *out, struct vmig_err *err);

/* ---- bulk import of one handle (milvus_bulk.c) ---- */

/* Can this server and collection take import files with these options? */
enum vmig_code vmig_milvus_bulk_check(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_bulk_opts *o, struct vmig_err *err);
/* Start bulk mode on t (t->bulk), after waiting for running imports of the collection. */
enum vmig_code vmig_milvus_bulk_begin(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_bulk_opts *o, struct vmig_err *err);
/* Drop the files not imported (their rows were never made durable) and free. */
void vmig_milvus_bulk_free(struct vmig_milvus_bulk *b);
/* Nonzero while writes with Insert go to files (not after a failed import). */
int vmig_milvus_bulk_on(const struct vmig_milvus_bulk *b);
/* Rows of b appended to the open import file (closed and queued at the size limit).
 * *taken = 0: bulk mode ended meanwhile, the caller writes the rows itself. */
enum vmig_code vmig_milvus_bulk_append(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                       const struct vmig_batch *b, int *taken,
                                       struct vmig_err *err);
/* Import every file written so far and wait until each is in. A failed import is retried
 * once; then bulk mode ends for the handle (rows from now on) and the handle's fault
 * counter moves, so the engine repeats the pass from the durable offsets. */
enum vmig_code vmig_milvus_bulk_flush(struct vmig_target *t, const char *name,
                                      struct vmig_err *err);
uint64_t vmig_milvus_bulk_pending(const struct vmig_milvus_bulk *b);
/* After imports into a loaded collection: load the new segments (LoadCollection with
 * refresh) and wait for them; nothing when this handle never imported. */
enum vmig_code vmig_milvus_bulk_refresh(struct vmig_target *t, const char *name,
                                        struct vmig_err *err);

#endif

/*
 * milvus_delete.c - the Milvus connector's delete_ids (target.h): Delete requests by
 * primary key, at most VMIG_MILVUS_DELETE_MAX_IDS ids and VMIG_MILVUS_EXPR_MAX bytes of
 * expression each, through the connector's one RPC-with-retries (milvus.c). A Delete
 * is idempotent (deleting an id that is not there is no error, and a retry after a
 * timeout deletes nothing twice), so every retryable answer is simply sent again.
 */
#include "target/milvus_delete.h"

#include <stdio.h>

#include "target/milvus_int.h"
#include "util/log.h"

struct del_ctx {
    uint64_t deleted;
};

static enum vmig_code d_delete(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    struct del_ctx *c = ctx;
    return vmig_milvus_dec_delete(b->p, b->len, what, &c->deleted, err);
}

/* Ids of the next request from ids[at]: the count cap, and the expression's byte cap
 * from the longest id text (a uuid in quotes and a comma: 39 bytes). */
static size_t chunk_of(const struct vmig_plan_coll *pc)
{
    size_t per = pc->pk_type == VMIG_PK_INT64 ? 21 : VMIG_ID_TEXT_MAX + 3;
    size_t k = (VMIG_MILVUS_EXPR_MAX - sizeof pc->pk_name - 8) / per;
    return k < VMIG_MILVUS_DELETE_MAX_IDS ? k : VMIG_MILVUS_DELETE_MAX_IDS;
}

enum vmig_code vmig_milvus_delete_ids(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    size_t chunk = chunk_of(pc);
    snprintf(what, sizeof what, "cannot delete rows of collection '%s' on target", pc->target);
    for (size_t at = 0; at < n; at += chunk) {
        size_t k = n - at < chunk ? n - at : chunk;
        if ((rc = vmig_milvus_enc_delete(vmig_milvus_db(t), pc, ids + at, k, &req, err))) break;
        struct del_ctx dc = {0};
        rc = vmig_milvus_rpc(t, "Delete", &req, 0, d_delete, &dc, what, pc->target, NULL, err);
        if (rc) break;
        vmig_run_log(t->ctx, VMIG_LOG_DEBUG, "delete from '%s': %zu ids asked, %llu deleted",
                     pc->target, k, (unsigned long long)dc.deleted);
    }
    vmig_buf_release(&req);
    if (rc && err && !err->coll[0]) vmig_err_at(err, pc->target, NULL, NULL);
    return rc;
}

/*
 * milvus_scan.c - the target's primary-key scan (target.h scan_ids): one Query of
 * the scan codec (milvus_scan_codec.c) through the connector's RPC with retries.
 * Full verification pages through the target's keys with it to find rows the source
 * does not have.
 */
#include <stdio.h>

#include "target/milvus_codec.h"
#include "target/milvus_int.h"

struct scan_ctx {
    const struct vmig_plan_coll *pc;
    const struct vmig_point_id *after;
    struct vmig_batch *out;
    size_t n0; /* rows of out before the call: a retry starts from there again */
};

static enum vmig_code d_scan(const struct vmig_buf *b, void *ctx, const char *what,
                             struct vmig_err *err)
{
    struct scan_ctx *c = ctx;
    (void)what;
    vmig_batch_truncate(c->out, c->n0);
    return vmig_milvus_dec_scan_ids(b->p, b->len, c->pc, c->after, c->out, err);
}

enum vmig_code vmig_milvus_scan_ids(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                    const struct vmig_point_id *after, uint32_t limit,
                                    struct vmig_batch *out, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot scan the primary keys of collection '%s' on target",
             pc->target);
    enum vmig_code rc = vmig_milvus_enc_scan_ids(vmig_milvus_db(t), pc, after, limit, &req, err);
    struct scan_ctx c = {pc, after, out, out->n};
    if (!rc)
        rc = vmig_milvus_rpc(t, "Query", &req, vmig_milvus_slow_ms(t), d_scan, &c, what,
                             pc->target, NULL, err);
    vmig_buf_release(&req);
    return rc;
}

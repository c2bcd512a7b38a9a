/*
 * milvus_search.c - the Milvus connector's search call (target.h `search`): one
 * SearchRequest for a run of query rows, sent with the connector's retries
 * (milvus_int.h vmig_milvus_rpc), its answer read by milvus_search_codec.c.
 */
#include "target/milvus_search.h"

#include <stdio.h>

#include "target/milvus_int.h"

struct search_ctx {
    size_t nq;
    struct vmig_hits *out;
    size_t *base; /* hits each list held before this call (restored before a retry) */
};

static enum vmig_code d_search(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    struct search_ctx *s = ctx;
    for (size_t i = 0; i < s->nq; i++)
        s->out[i].n = s->base[i];
    return vmig_milvus_dec_search(b->p, b->len, what, s->nq, s->out, err);
}

enum vmig_code vmig_milvus_search(struct vmig_target *t, const struct vmig_plan_coll *pc, size_t c,
                                  const struct vmig_batch *q, size_t lo, size_t hi, uint32_t k,
                                  struct vmig_hits *out, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX * 2 + 64];
    size_t base[256];
    if (hi - lo > sizeof base / sizeof base[0])
        return vmig_err_set(err, VMIG_E_INTERNAL, "search of %zu queries at once (at most %zu)",
                            hi - lo, sizeof base / sizeof base[0]);
    snprintf(what, sizeof what, "cannot search field '%s' of collection '%s' on target",
             c < pc->nfields ? pc->field[c].dst : "?", pc->target);
    enum vmig_code rc = vmig_milvus_enc_search(vmig_milvus_db(t), pc, c, q, lo, hi, k, &req, err);
    if (rc == VMIG_OK) {
        for (size_t i = 0; i < hi - lo; i++)
            base[i] = out[i].n;
        struct search_ctx sc = {hi - lo, out, base};
        rc = vmig_milvus_rpc(t, "Search", &req, vmig_milvus_slow_ms(t), d_search, &sc, what,
                             pc->target, NULL, err);
    }
    vmig_buf_release(&req);
    return rc;
}

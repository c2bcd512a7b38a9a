/*
 * job_search.c - search parity of a job's collections (vmig_job_search), with the
 * job's own plan, endpoints and stored (or given) secrets, like job_verify.c does
 * for the point comparison. Nothing is written to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_int.h"
#include "util/alloc.h"
#include "vmig/job.h"
#include "vmig/search.h"

void vmig_job_searched_release(struct vmig_job_searched *v)
{
    free(v->coll);
    memset(v, 0, sizeof *v);
}

struct search_walk {
    struct vmig_job_searched *out;
    int queries, k;
    const struct vmig_run_ctx *ctx;
};

static enum vmig_code rows(void *ud, const struct vmig_job *j, size_t n, struct vmig_err *err)
{
    struct search_walk *w = ud;
    (void)j, (void)err;
    w->out->coll = xcalloc(n ? n : 1, sizeof *w->out->coll);
    return VMIG_OK;
}

static enum vmig_code search_one(void *ud, const struct vmig_job *j, size_t i, size_t n,
                                 const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_err **row_err)
{
    struct search_walk *w = ud;
    (void)n;
    struct vmig_job_search_coll *sc = &w->out->coll[w->out->n++];
    const struct vmig_plan_coll *pc = &j->plan.coll[i];
    snprintf(sc->source, sizeof sc->source, "%s", pc->source);
    snprintf(sc->target, sizeof sc->target, "%s", pc->target);
    vmig_err_clear(&sc->err);
    sc->code = vmig_search_coll(src, dst, pc, w->queries, w->k, w->ctx, &sc->result, &sc->err);
    *row_err = &sc->err;
    return sc->code;
}

enum vmig_code vmig_job_search(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int queries, int k,
                               const struct vmig_run_ctx *ctx, struct vmig_job_searched *out,
                               struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct search_walk w = {out, queries, k, ctx};
    struct vmig_job_each each = {&w, rows, search_one};
    return vmig_job_each_coll(s, id, src_secret, dst_secret, &each, err);
}

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

enum vmig_code vmig_job_search(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int queries, int k,
                               const struct vmig_run_ctx *ctx, struct vmig_job_searched *out,
                               struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct vmig_job j;
    char *ssec = NULL, *dsec = NULL;
    enum vmig_code rc = vmig_job_get(s, id, &j, err), first = VMIG_OK;
    if (rc) return rc;
    if ((rc = vmig_job_secrets_get(s, &j, src_secret, dst_secret, &ssec, &dsec, err))) goto out;
    struct vmig_endpoint src, dst;
    vmig_job_endpoints(&j, ssec, dsec, &src, &dst);
    size_t n = j.ncolls < j.plan.n ? j.ncolls : j.plan.n;
    out->coll = xcalloc(n ? n : 1, sizeof *out->coll);
    for (size_t i = 0; i < n; i++) {
        struct vmig_job_search_coll *sc = &out->coll[out->n++];
        const struct vmig_plan_coll *pc = &j.plan.coll[i];
        snprintf(sc->source, sizeof sc->source, "%s", pc->source);
        snprintf(sc->target, sizeof sc->target, "%s", pc->target);
        vmig_err_clear(&sc->err);
        sc->code = vmig_search_coll(&src, &dst, pc, queries, k, ctx, &sc->result, &sc->err);
        if (sc->code && !first) {
            first = sc->code;
            *err = sc->err;
        }
        if (sc->code == VMIG_E_CANCELLED) break;
    }
    rc = first;
out:
    vmig_job_secret_free(ssec);
    vmig_job_secret_free(dsec);
    vmig_job_release(&j);
    return rc;
}

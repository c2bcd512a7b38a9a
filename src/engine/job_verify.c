/*
 * job_verify.c - verify a job's collections again, with the job's own plan: its
 * target names, field renames, skipped vectors and payload rules, so a collection
 * migrated with edits compares with what was really written (a plan rebuilt from
 * flags would not know them). The job's endpoints and stored (or given) secrets are
 * used; nothing is written to the store: the answer is for showing only. Sampled
 * (vmig_verify_coll) or full (vmig_verify_full, one diff file per collection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_int.h"
#include "util/alloc.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

#define DEFAULT_SAMPLE 100

void vmig_job_verified_release(struct vmig_job_verified *v)
{
    free(v->coll);
    memset(v, 0, sizeof *v);
}

/* How a collection is verified: sampled (full == NULL) or full. */
struct how {
    int sample;
    const struct vmig_run_ctx *ctx;
    const struct vmig_vfull_opts *full;
    const char *diff;
};

static void verify_one(const struct how *h, const struct vmig_job *j, size_t i, size_t n,
                       const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                       struct vmig_job_verify_coll *vc)
{
    const struct vmig_plan_coll *pc = &j->plan.coll[i];
    if (!h->full) {
        /* points the job set aside on purpose (the rejects file) are expected missing */
        vc->code = vmig_verify_coll(src, dst, pc, h->sample, j->coll[i].state.rejected, h->ctx,
                                    &vc->result, &vc->err);
        return;
    }
    vc->full = 1;
    if (vmig_vfull_diff_path(h->diff, j->id, pc->source, n, vc->diff_path, sizeof vc->diff_path,
                             &vc->err)) {
        vc->code = vc->err.code;
        return;
    }
    struct vmig_vfull_opts o = *h->full;
    o.diff_path = vc->diff_path;
    vc->code = vmig_verify_full(src, dst, pc, &o, &vc->full_result, &vc->err);
    vmig_vfull_fold(&vc->full_result, vc->code, &vc->result);
}

struct verify_walk {
    struct how *h;
    struct vmig_job_verified *out;
};

static enum vmig_code rows(void *ud, const struct vmig_job *j, size_t n, struct vmig_err *err)
{
    struct verify_walk *w = ud;
    (void)err;
    if (w->h->sample < 0)
        w->h->sample = j->opts.verify_sample >= 0 ? j->opts.verify_sample : DEFAULT_SAMPLE;
    w->out->coll = xcalloc(n ? n : 1, sizeof *w->out->coll);
    return VMIG_OK;
}

static enum vmig_code verify_row(void *ud, const struct vmig_job *j, size_t i, size_t n,
                                 const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_err **row_err)
{
    struct verify_walk *w = ud;
    struct vmig_job_verify_coll *vc = &w->out->coll[w->out->n++];
    const struct vmig_plan_coll *pc = &j->plan.coll[i];
    snprintf(vc->source, sizeof vc->source, "%s", pc->source);
    snprintf(vc->target, sizeof vc->target, "%s", pc->target);
    vmig_err_clear(&vc->err);
    verify_one(w->h, j, i, n, src, dst, vc);
    *row_err = &vc->err;
    return vc->code;
}

static enum vmig_code verify_job(struct vmig_store *s, const char *id, const char *src_secret,
                                 const char *dst_secret, struct how *h,
                                 struct vmig_job_verified *out, struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct verify_walk w = {h, out};
    struct vmig_job_each each = {&w, rows, verify_row};
    return vmig_job_each_coll(s, id, src_secret, dst_secret, &each, err);
}

enum vmig_code vmig_job_verify(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int sample, const struct vmig_run_ctx *ctx,
                               struct vmig_job_verified *out, struct vmig_err *err)
{
    struct how h = {sample, ctx, NULL, NULL};
    return verify_job(s, id, src_secret, dst_secret, &h, out, err);
}

enum vmig_code vmig_job_verify_full(struct vmig_store *s, const char *id, const char *src_secret,
                                    const char *dst_secret, const struct vmig_vfull_opts *o,
                                    const char *diff, struct vmig_job_verified *out,
                                    struct vmig_err *err)
{
    struct how h = {0, o->ctx, o, diff};
    return verify_job(s, id, src_secret, dst_secret, &h, out, err);
}

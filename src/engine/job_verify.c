/*
 * job_verify.c - verify a job's collections again, with the job's own plan: its
 * target names, field renames, skipped vectors and payload rules, so a collection
 * migrated with edits compares with what was really written (a plan rebuilt from
 * flags would not know them). The job's endpoints and stored (or given) secrets are
 * used; nothing is written to the store: the answer is for showing only.
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

enum vmig_code vmig_job_verify(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int sample, const struct vmig_run_ctx *ctx,
                               struct vmig_job_verified *out, struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct vmig_job j;
    char *ssec = NULL, *dsec = NULL;
    enum vmig_code rc = vmig_job_get(s, id, &j, err), first = VMIG_OK;
    if (rc) return rc;
    if ((rc = vmig_job_secrets_get(s, &j, src_secret, dst_secret, &ssec, &dsec, err))) goto out;
    struct vmig_endpoint src, dst;
    vmig_job_endpoints(&j, ssec, dsec, &src, &dst);
    if (sample < 0) sample = j.opts.verify_sample >= 0 ? j.opts.verify_sample : DEFAULT_SAMPLE;
    size_t n = j.ncolls < j.plan.n ? j.ncolls : j.plan.n;
    out->coll = xcalloc(n ? n : 1, sizeof *out->coll);
    for (size_t i = 0; i < n; i++) {
        struct vmig_job_verify_coll *vc = &out->coll[out->n++];
        const struct vmig_plan_coll *pc = &j.plan.coll[i];
        snprintf(vc->source, sizeof vc->source, "%s", pc->source);
        snprintf(vc->target, sizeof vc->target, "%s", pc->target);
        vmig_err_clear(&vc->err);
        /* points the job set aside on purpose (the rejects file) are expected missing */
        vc->code = vmig_verify_coll(&src, &dst, pc, sample, j.coll[i].state.rejected, ctx,
                                    &vc->result, &vc->err);
        if (vc->code && !first) {
            first = vc->code;
            *err = vc->err;
        }
        if (vc->code == VMIG_E_CANCELLED) break;
    }
    rc = first;
out:
    vmig_job_secret_free(ssec);
    vmig_job_secret_free(dsec);
    vmig_job_release(&j);
    return rc;
}

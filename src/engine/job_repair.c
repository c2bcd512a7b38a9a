/*
 * job_repair.c - repair a job's collections from a diff file, with the job's own plan
 * (target names, renames, typed fields, payload rules), endpoints and stored (or given)
 * secrets, as job_verify.c verifies them: a plan rebuilt from flags would not know the
 * edits the job was migrated with. Nothing is written to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_int.h"
#include "util/alloc.h"
#include "vmig/job.h"
#include "vmig/repair.h"

void vmig_job_repaired_release(struct vmig_job_repaired *v)
{
    free(v->coll);
    memset(v, 0, sizeof *v);
}

enum vmig_code vmig_job_repair(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, const struct vmig_repair_opts *o,
                               struct vmig_job_repaired *out, struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct vmig_job j;
    char *ssec = NULL, *dsec = NULL;
    enum vmig_code rc = vmig_job_get(s, id, &j, err), first = VMIG_OK;
    if (rc) return rc;
    size_t n = j.ncolls < j.plan.n ? j.ncolls : j.plan.n;
    struct vmig_plan view = {0};
    view.n = n;
    view.coll = j.plan.coll;
    if (o->diff_path && *o->diff_path && (rc = vmig_diff_check(o->diff_path, &view, NULL, err))) {
        if (rc == VMIG_E_USAGE && err->coll[0])
            vmig_err_prefix(err, "job %s: ", id); /* the collection the job lacks */
        goto out;
    }
    if ((rc = vmig_job_secrets_get(s, &j, src_secret, dst_secret, &ssec, &dsec, err))) goto out;
    struct vmig_endpoint src, dst;
    vmig_job_endpoints(&j, ssec, dsec, &src, &dst);
    out->coll = xcalloc(n ? n : 1, sizeof *out->coll);
    for (size_t i = 0; i < n; i++) {
        struct vmig_job_repair_coll *rc_ = &out->coll[out->n++];
        const struct vmig_plan_coll *pc = &j.plan.coll[i];
        struct vmig_repair_opts co = *o;
        co.reject_oversize = j.opts.reject_oversize;
        co.job = j.id;
        co.rejected = j.coll[i].state.rejected;
        snprintf(rc_->source, sizeof rc_->source, "%s", pc->source);
        snprintf(rc_->target, sizeof rc_->target, "%s", pc->target);
        vmig_err_clear(&rc_->err);
        rc_->code = vmig_repair_coll(&src, &dst, pc, &co, &rc_->result, &rc_->err);
        if (rc_->code && !first) {
            first = rc_->code;
            *err = rc_->err;
        }
        if (rc_->code == VMIG_E_CANCELLED) break;
    }
    rc = first;
out:
    vmig_job_secret_free(ssec);
    vmig_job_secret_free(dsec);
    vmig_job_release(&j);
    return rc;
}

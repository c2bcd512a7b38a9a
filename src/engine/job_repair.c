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

struct repair_walk {
    struct vmig_job_repaired *out;
    const struct vmig_repair_opts *o;
    const char *id;
};

/* The diff file first: a line naming a collection the job lacks stops it all. */
static enum vmig_code check(void *ud, const struct vmig_job *j, size_t n, struct vmig_err *err)
{
    struct repair_walk *w = ud;
    struct vmig_plan view = {0};
    view.n = n;
    view.coll = j->plan.coll;
    const char *diff = w->o->diff_path;
    enum vmig_code rc = diff && *diff ? vmig_diff_check(diff, &view, NULL, err) : VMIG_OK;
    if (rc == VMIG_E_USAGE && err->coll[0])
        vmig_err_prefix(err, "job %s: ", w->id); /* the collection the job lacks */
    if (!rc) w->out->coll = xcalloc(n ? n : 1, sizeof *w->out->coll);
    return rc;
}

static enum vmig_code repair_one(void *ud, const struct vmig_job *j, size_t i, size_t n,
                                 const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_err **row_err)
{
    struct repair_walk *w = ud;
    (void)n;
    struct vmig_job_repair_coll *rc_ = &w->out->coll[w->out->n++];
    const struct vmig_plan_coll *pc = &j->plan.coll[i];
    struct vmig_repair_opts co = *w->o;
    co.reject_oversize = j->opts.reject_oversize;
    co.job = j->id;
    co.rejected = j->coll[i].state.rejected;
    snprintf(rc_->source, sizeof rc_->source, "%s", pc->source);
    snprintf(rc_->target, sizeof rc_->target, "%s", pc->target);
    vmig_err_clear(&rc_->err);
    rc_->code = vmig_repair_coll(src, dst, pc, &co, &rc_->result, &rc_->err);
    *row_err = &rc_->err;
    return rc_->code;
}

enum vmig_code vmig_job_repair(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, const struct vmig_repair_opts *o,
                               struct vmig_job_repaired *out, struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct repair_walk w = {out, o, id};
    struct vmig_job_each each = {&w, check, repair_one};
    return vmig_job_each_coll(s, id, src_secret, dst_secret, &each, err);
}

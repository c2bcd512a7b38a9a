/*
 * job_submit.c - vmig_job_submit(): the one rule by which a request becomes a job,
 * shared by every face (CLI `migrate`, HTTP POST /jobs, the console through it).
 * Plan (or check an edited plan), leave refused collections out of the job and
 * report each of them, create the job of what can run, or none when nothing can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/copy_bulk.h"
#include "store/store.h"
#include "util/alloc.h"
#include "vmig/job.h"
#include "vmig/plan.h"
#include "vmig/vmig.h"

void vmig_job_submitted_release(struct vmig_job_submitted *r)
{
    free(r->refused);
    free(r->held);
    memset(r, 0, sizeof *r);
}

/* Split plan into the refusals (into out) and the runnable collections (into run,
 * which borrows nothing: plan_coll owns no heap memory). */
static void split(const struct vmig_plan *plan, struct vmig_plan *run,
                  struct vmig_job_submitted *out)
{
    run->coll = xcalloc(plan->n + 1, sizeof *run->coll);
    run->target = plan->target;
    out->refused = xcalloc(plan->n + 1, sizeof *out->refused);
    out->held = xcalloc(plan->n + 1, sizeof *out->held);
    for (size_t i = 0; i < plan->n; i++) {
        const struct vmig_plan_coll *pc = &plan->coll[i];
        if (pc->refusal.code) {
            struct vmig_job_refusal *f = &out->refused[out->nrefused++];
            snprintf(f->source, sizeof f->source, "%s", pc->source);
            snprintf(f->target, sizeof f->target, "%s", pc->target);
            f->err = pc->refusal;
            if (!f->err.msg[0])
                snprintf(f->err.msg, sizeof f->err.msg, "%s", vmig_strerror(f->err.code));
            continue;
        }
        run->coll[run->n++] = *pc;
        struct vmig_job_held *h = &out->held[out->nheld++];
        snprintf(h->source, sizeof h->source, "%s", pc->source);
        snprintf(h->target, sizeof h->target, "%s", pc->target);
        h->points = pc->source_count;
        out->points += pc->source_count;
    }
}

/* A target that exists because a job of this store made it (a failed or cancelled job
 * keeps its half-written collection): the way out is that job, not a new one. */
void vmig_job_plan_made_by(struct vmig_store *s, const struct vmig_endpoint *dst,
                           struct vmig_plan *plan)
{
    const char *url = dst && dst->url ? dst->url : "";
    const char *db = dst && dst->db && dst->db[0] ? dst->db : "default";
    struct vmig_job j; /* the last holder's job, loaded once for its collections */
    int loaded = 0;
    for (size_t i = 0; s && i < plan->n; i++) {
        struct vmig_err *f = &plan->coll[i].refusal;
        const char *target = plan->coll[i].target;
        if (f->code != VMIG_E_EXISTS || !target[0] || f->fix == VMIG_FIX_JOB) continue;
        char holder[VMIG_JOB_ID_MAX];
        struct vmig_err e;
        vmig_err_clear(&e);
        if (s->vt->target_holder(s, url, db, target, holder, &e) || !holder[0]) continue;
        if (!loaded || strcmp(j.id, holder) != 0) {
            if (loaded) vmig_job_release(&j);
            loaded = vmig_job_get(s, holder, &j, &e) == VMIG_OK;
            if (!loaded) continue;
        }
        for (size_t k = 0; k < j.ncolls; k++) {
            if (strcmp(j.coll[k].target, target) != 0 || !j.coll[k].state.created) continue;
            vmig_err_suffix(f, "; job %s (%s) created it", holder, vmig_job_status_label(j.status));
            vmig_err_fix(f, VMIG_FIX_JOB, holder);
            break;
        }
    }
    if (loaded) vmig_job_release(&j);
}

enum vmig_code vmig_job_submit(struct vmig_store *s, const struct vmig_job_request *req,
                               struct vmig_job_submitted *out, struct vmig_err *err)
{
    memset(out, 0, sizeof *out);
    struct vmig_plan made, run;
    memset(&made, 0, sizeof made);
    memset(&run, 0, sizeof run);
    struct vmig_plan *plan = req->plan;
    enum vmig_code rc;
    if (plan) {
        rc = vmig_plan_check_file(req->src, req->dst, plan, req->mo, err);
    } else {
        plan = &made;
        rc = vmig_plan_make(req->src, req->dst, req->names, req->nnames, req->mo, plan, err);
    }
    if (rc) goto out;
    /* --write-mode bulk where it cannot work: refused before anything is created */
    if (req->opts && (rc = vmig_job_bulk_precheck(req->opts, &plan->target, err))) goto out;
    vmig_job_plan_made_by(s, req->dst, plan);
    split(plan, &run, out);
    if (!run.n) {
        out->none_runnable = 1;
        if (out->nrefused) {
            *err = out->refused[0].err;
            rc = err->code;
        }
        else
            rc = vmig_err_set(err, VMIG_E_USAGE, "%s",
                              req->plan ? "the plan has no collections to migrate"
                                        : "the source has no collections to migrate");
        goto out;
    }
    rc = vmig_job_create(s, req->src, req->dst, &run, req->opts, req->store_secrets, out->id, err);
    if (rc) out->id[0] = '\0';
out:
    free(run.coll);
    vmig_plan_release(&made);
    return rc;
}

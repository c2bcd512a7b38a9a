/*
 * job_prepare.c - what a run does before it copies: which states each mode takes a
 * job in, the reservation of the job's target collections (one active job per target
 * collection), and per collection what runs again — a resume everything not done, a
 * retry the failed and cancelled ones (made anew when its changes alter the target,
 * job_retry.c), a restart everything, dropping only what this job created.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_run_int.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/retry.h"
#include "vmig/plan.h"
#include "vmig/vmig.h"

/* May mode take a job in this state? */
int vmig_runner_claimable(const struct vmig_job *j, enum mode m)
{
    if (j->status == VMIG_JOB_IN_PROGRESS) return j->orphaned;
    switch (m) {
    case M_RUN:
    case M_WORKER:
        return j->status == VMIG_JOB_PENDING;
    case M_RESUME:
        return j->status == VMIG_JOB_PENDING || j->status == VMIG_JOB_FAILED ||
               j->status == VMIG_JOB_CANCELLED;
    case M_RETRY:
        return j->status == VMIG_JOB_FAILED || j->status == VMIG_JOB_CANCELLED;
    case M_RESTART:
        return 1;
    }
    return 0;
}

/* After the claim, before anything touches the target: reserve every target
 * collection of the job in the store, so that one (endpoint, database, name) is
 * written by one active job at a time. A collection another active job holds fails
 * this job at once, naming the holder. A collection that succeeded is not run again
 * (but by a restart): it is neither reserved nor failed for another job's hold. */
/* Reserve target collection name of the job's Milvus for this job (target_reserve). */
static enum vmig_code reserve(struct runctx *c, const char *name, int64_t now,
                              char holder[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    const struct vmig_job *j = &c->job;
    const char *db = j->dst_db && j->dst_db[0] ? j->dst_db : "default";
    return c->s->vt->target_reserve(c->s, c->id, j->dst_url ? j->dst_url : "", db, name, now,
                                    holder, err);
}

/* This job created collection i's target under name, but another job reserved name
 * since (this job's collection was dropped by hand and another made one of the same
 * name): it is not this job's to drop or to write any more. state.created is cleared,
 * so nothing drops it and the copy meets it as someone else's. */
static enum vmig_code disown(struct runctx *c, size_t i, const char *name, const char *why,
                             struct vmig_err *err)
{
    const struct vmig_job *j = &c->job;
    const char *db = j->dst_db && j->dst_db[0] ? j->dst_db : "default";
    char holder[VMIG_JOB_ID_MAX], line[VMIG_ERR_MSG_MAX];
    enum vmig_code rc =
        c->s->vt->target_holder(c->s, j->dst_url ? j->dst_url : "", db, name, holder, err);
    if (rc) return vmig_runner_store_failed(c, j->coll[i].source, err);
    if (!holder[0] || strcmp(holder, c->id) == 0) return VMIG_OK;
    snprintf(line, sizeof line,
             "%s: '%s' was reserved by job %s since this job created it: not this job's any "
             "more, left as it is",
             why, name, holder);
    vmig_runner_log(c, VMIG_LOG_WARN, j->coll[i].source, "", line);
    c->job.coll[i].state.created = 0;
    return VMIG_OK;
}

enum vmig_code vmig_runner_reserve(struct runctx *c, enum mode m, struct vmig_err *err)
{
    struct vmig_job *j = &c->job;
    for (size_t i = 0; i < j->ncolls && i < j->plan.n; i++) {
        if (m != M_RESTART && j->coll[i].status == VMIG_JOB_SUCCESSFUL) continue;
        char holder[VMIG_JOB_ID_MAX];
        const char *name = j->plan.coll[i].target;
        int64_t now = (int64_t)vmig_wall_ms();
        enum vmig_code rc = VMIG_OK;
        if (j->coll[i].state.created && (rc = disown(c, i, name, "reserve", err))) return rc;
        rc = reserve(c, name, now, holder, err);
        if (rc) return vmig_runner_store_failed(c, j->coll[i].source, err);
        if (strcmp(holder, c->id) == 0) continue;
        const char *db = j->dst_db && j->dst_db[0] ? j->dst_db : "default";
        const char *url = j->dst_url ? j->dst_url : "";
        vmig_err_set(err, VMIG_E_BUSY,
                     "target collection '%s' (database '%s' at %s) is being written by job %s",
                     name, db, url, holder);
        vmig_err_at(err, j->coll[i].source, "", "");
        vmig_err_fix(err, VMIG_FIX_BUSY, holder);
        vmig_runner_final_status(c, i, VMIG_JOB_FAILED, err, now);
        vmig_runner_log(c, VMIG_LOG_ERROR, j->coll[i].source, "", err->msg);
        return VMIG_E_BUSY;
    }
    return VMIG_OK;
}

/* Collection i starts again from nothing: the target collection this job created
 * (under the name it had: a retry may have renamed it) is dropped, the checkpoint
 * and progress reset, the new target name stored. */
static enum vmig_code make_anew(struct runctx *c, size_t i, const char *why, struct vmig_err *err)
{
    struct vmig_job *j = &c->job;
    struct vmig_store *s = c->s;
    struct vmig_job_coll *jc = &j->coll[i];
    const char *old = jc->target[0] ? jc->target : j->plan.coll[i].target;
    enum vmig_code rc;
    char line[VMIG_ERR_MSG_MAX];
    if (jc->state.created && strcmp(old, j->plan.coll[i].target) != 0 &&
        (rc = disown(c, i, old, why, err)))
        return rc;
    if (jc->state.created) {
        /* only what this job created: state.created is set by the engine right after
         * its own CreateCollection succeeded */
        struct vmig_err e;
        vmig_err_clear(&e);
        rc = vmig_target_drop(&c->dst, old, &e);
        if (rc && rc != VMIG_E_NOT_FOUND) {
            *err = e;
            vmig_err_prefix(err, "%s: cannot drop '%s': ", why, old);
            vmig_err_at(err, jc->source, NULL, NULL);
            return rc;
        }
        snprintf(line, sizeof line, "%s: dropped target collection '%s' (created by this job)", why,
                 old);
        vmig_runner_log(c, VMIG_LOG_INFO, jc->source, "", line);
    }
    if (strcmp(old, j->plan.coll[i].target) != 0) {
        snprintf(line, sizeof line, "%s: the target collection is now '%s' (was '%s')", why,
                 j->plan.coll[i].target, old);
        vmig_runner_log(c, VMIG_LOG_INFO, jc->source, "", line);
        if ((rc = s->vt->coll_target(s, c->id, i, j->plan.coll[i].target, err)))
            return vmig_runner_store_failed(c, jc->source, err);
        snprintf(jc->target, sizeof jc->target, "%s", j->plan.coll[i].target);
    }
    vmig_coll_state_init(&jc->state);
    char *js = vmig_coll_state_to_json(&jc->state);
    rc = s->vt->coll_checkpoint(s, c->id, i, js, err);
    free(js);
    if (!rc) rc = s->vt->coll_progress(s, c->id, i, VMIG_PHASE_PENDING, 0, 0, 0, 0, 0, err);
    if (rc) return vmig_runner_store_failed(c, jc->source, err);
    return VMIG_OK;
}

/* After the claim: set which collections run, per mode. */
enum vmig_code vmig_runner_prepare(struct runctx *c, enum mode m, struct vmig_err *err)
{
    struct vmig_job *j = &c->job;
    struct vmig_store *s = c->s;
    enum vmig_code rc = VMIG_OK;
    if (m == M_RETRY) {
        char *pj = vmig_plan_to_json(&j->plan, 0), *oj = vmig_job_opts_to_json(&j->opts);
        rc = s->vt->job_set_plan(s, c->id, pj, oj, err);
        free(pj);
        free(oj);
        if (rc) return vmig_runner_store_failed(c, NULL, err);
    }
    for (size_t i = 0; i < j->ncolls; i++) {
        struct vmig_job_coll *jc = &j->coll[i];
        int again = 0, anew = 0;
        if (m == M_RESUME)
            again = jc->status != VMIG_JOB_SUCCESSFUL;
        else if (m == M_RETRY)
            again = jc->status == VMIG_JOB_FAILED || jc->status == VMIG_JOB_CANCELLED,
            anew = again && c->remake && c->remake[i];
        else if (m == M_RESTART)
            again = anew = 1;
        if (anew && (rc = make_anew(c, i, m == M_RESTART ? "restart" : "retry", err))) return rc;
        if (again && jc->status != VMIG_JOB_PENDING) {
            rc = s->vt->coll_status(s, c->id, i, VMIG_JOB_PENDING, NULL, 0, 0, err);
            if (rc) return vmig_runner_store_failed(c, jc->source, err);
            jc->status = VMIG_JOB_PENDING;
        }
    }
    return VMIG_OK;
}

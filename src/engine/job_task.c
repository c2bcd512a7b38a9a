/*
 * job_task.c - a job run as range tasks (store.h), so that any number of `vmigrate
 * worker` processes on any machines share its collections. The run that claims the
 * job (job_run.c) seeds per collection a setup and a finish task; the setup creates
 * the target collection, plans its read ranges and adds one range task per range;
 * each range task copies its one range with the normal engine (one reader, the job's
 * writers), checkpointed in its own row; the finish loads, verifies and indexes once
 * every range is in. Whoever ends the last task settles the job's status.
 *
 * Exactness across workers is the engine's (window.h) per range, plus the lease: a
 * worker writes a page only after its high-water mark is checkpointed under its claim
 * token, and that checkpoint changes nothing once another worker claimed the task (the
 * token moved), so a worker that lost its lease stops before its next page. A worker
 * that cannot renew its lease for two thirds of it stops on its own, before the store
 * lets another claim it. The next holder resumes at the durable offset with Upsert
 * below the high-water mark, as a resumed job does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/job_int.h"
#include "engine/job_run_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/redact.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/plan.h"
#include "vmig/vmig.h"

#define LEASE_MS 30000  /* a task's lease unless the host says otherwise */
#define PROGRESS_MS 500 /* a task's progress row written at most this often */
#define IDLE_MS 200     /* a foreground run's wait for tasks other workers hold */

static int64_t lease_of(const struct vmig_job_run_opts *ro)
{
    return ro->lease_ms > 0 ? ro->lease_ms : LEASE_MS;
}

int vmig_task_mode(const struct vmig_store *s, const struct vmig_job *j)
{
    if (!s->vt->task_claim || j->opts.tasks == 1) return 0;
    if (j->opts.tasks >= 2) return 1;
    return strcmp(s->vt->name, "postgres") == 0;
}

static int task_count(const struct vmig_job *j)
{
    int n = j->opts.tasks >= 2 ? j->opts.tasks : VMIG_TASKS_AUTO;
    return n > VMIG_MAX_RANGES ? VMIG_MAX_RANGES : n;
}

static struct vmig_store_task_key key_of(const struct runctx *c)
{
    struct vmig_store_task_key k = {c->task->job_id, c->task->coll, c->task->idx, c->task->token};
    return k;
}

/* The lease is gone (or may be): the engine stops, nothing more is written. */
static void lose(struct runctx *c)
{
    if (!atomic_exchange(&c->lost, 1)) vmig_metrics_lease_lost(c->ro->metrics, c->id);
    atomic_store(&c->ctx.cancel, 1);
}

/* ---- seeding (the run that claimed the job) --------------------------------------- */

enum vmig_code vmig_task_seed(struct runctx *c, enum mode m, struct vmig_err *err)
{
    struct vmig_job *j = &c->job;
    struct vmig_store *s = c->s;
    size_t n = 0;
    for (size_t i = 0; i < j->ncolls; i++) {
        if (j->coll[i].status == VMIG_JOB_SUCCESSFUL) continue;
        /* a collection made anew starts its tasks over; else they go on from their
         * checkpoints (the failed and interrupted ones back to PENDING) */
        int drop = m == M_RESTART || (c->remake && c->remake[i]);
        enum vmig_code rc = s->vt->task_reset(s, c->id, (long)i, drop, err);
        if (!rc) rc = s->vt->task_add(s, c->id, i, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP, NULL, err);
        if (!rc)
            rc = s->vt->task_add(s, c->id, i, VMIG_TASK_FINISH_IDX, VMIG_TASK_FINISH, NULL, err);
        if (rc) return vmig_runner_store_failed(c, j->coll[i].source, err);
        n++;
    }
    char line[256];
    snprintf(line, sizeof line,
             "job runs as range tasks: %zu collection%s, up to %d read ranges each; every "
             "`vmigrate worker` on this job store takes some",
             n, n == 1 ? "" : "s", task_count(j));
    vmig_runner_log(c, VMIG_LOG_INFO, NULL, "", line);
    return VMIG_OK;
}

/* ---- the hooks of a task's run ------------------------------------------------------ */

void vmig_task_beat(struct runctx *c)
{
    uint64_t now = vmig_now_ms();
    int64_t lease = c->lease_ms;
    uint64_t every = (uint64_t)(lease / 6 > 500 ? lease / 6 : 500);
    if (!atomic_load(&c->lost) && now - c->lease_ok_ms >= every) {
        struct vmig_store_task_key k = key_of(c);
        int held = 0, stop = 0;
        if (c->s->vt->task_heartbeat(c->s, &k, (int64_t)vmig_wall_ms(), lease, &held, &stop,
                                     NULL) == VMIG_OK) {
            if (!held) {
                lose(c);
            } else {
                c->lease_ok_ms = now;
                if (stop) {
                    atomic_store(&c->job_stop, 1);
                    atomic_store(&c->ctx.cancel, 1);
                }
            }
        }
    }
    /* the store could not be reached to renew it: stop writing well before it can run
     * out there and another worker takes the task */
    if (!atomic_load(&c->lost) && vmig_now_ms() - c->lease_ok_ms > (uint64_t)(lease * 2 / 3))
        lose(c);
}

int vmig_task_checkpoint(struct runctx *c, const struct vmig_coll_state *st)
{
    if (atomic_load(&c->lost)) return 1;
    if (vmig_now_ms() - c->lease_ok_ms > (uint64_t)(c->lease_ms * 2 / 3)) {
        lose(c);
        return 1;
    }
    struct vmig_store_task_key k = key_of(c);
    char *js = vmig_coll_state_to_json(st);
    int held = 0;
    enum vmig_code rc = c->s->vt->task_checkpoint(c->s, &k, js, &held, NULL);
    free(js);
    if (rc) return 1;
    if (!held) {
        lose(c);
        return 1;
    }
    return 0;
}

void vmig_task_progress(struct runctx *c, const struct vmig_progress *p)
{
    uint64_t now = vmig_now_ms();
    pthread_mutex_lock(&c->mu);
    int due = now - c->task_progress_ms >= PROGRESS_MS;
    if (due) c->task_progress_ms = now;
    pthread_mutex_unlock(&c->mu);
    if (!due || atomic_load(&c->lost)) return;
    struct vmig_store_task_key k = key_of(c);
    int held = 0;
    if (c->s->vt->task_progress(c->s, &k, p->read, p->written, p->bytes, p->points_per_s, &held,
                                NULL) == VMIG_OK &&
        !held)
        lose(c);
}

/* ---- the three kinds of task --------------------------------------------------------- */

static enum vmig_code task_setup(struct runctx *c, struct vmig_coll_state *st, struct vmig_err *e)
{
    struct vmig_job_coll *jc = &c->job.coll[c->cur];
    const struct vmig_plan_coll *pc = &c->job.plan.coll[c->cur];
    struct vmig_store *s = c->s;
    char line[VMIG_ERR_MSG_MAX];
    *st = jc->state;
    enum vmig_code rc = s->vt->coll_status(s, c->id, c->cur, VMIG_JOB_IN_PROGRESS, NULL,
                                           (int64_t)vmig_wall_ms(), 0, e);
    if (rc) return vmig_runner_store_failed(c, pc->source, e);
    snprintf(line, sizeof line, "collection '%s' -> '%s': %s", pc->source, pc->target,
             st->created ? "setting up again (its target collection is kept)" : "setting up");
    vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);
    if (pc->refusal.code != VMIG_OK) {
        *e = pc->refusal;
        return e->code;
    }
    struct vmig_migrate_opts mo;
    vmig_runner_migrate_opts(c, &mo);
    mo.steps = VMIG_STEP_CREATE | VMIG_STEP_LOAD_ASK | VMIG_STEP_RANGES;
    mo.readers = task_count(&c->job);
    if ((rc = vmig_migrate_coll(&c->src, &c->dst, pc, &mo, st, NULL, e))) return rc;
    for (size_t r = 0; r < st->nranges; r++) {
        struct vmig_coll_state rs;
        vmig_coll_state_init(&rs);
        rs.total = st->total;
        rs.indexed = st->indexed;
        rs.nranges = 1;
        rs.range[0] = st->range[r];
        char *js = vmig_coll_state_to_json(&rs);
        rc = s->vt->task_add(s, c->id, c->cur, (int)r + 1, VMIG_TASK_RANGE, js, e);
        free(js);
        if (rc) return vmig_runner_store_failed(c, pc->source, e);
    }
    s->vt->coll_progress(s, c->id, c->cur, VMIG_PHASE_COPYING, st->total, 0, 0, 0, 0, NULL);
    snprintf(line, sizeof line, "collection '%s': %llu points in %zu range task%s", pc->source,
             (unsigned long long)st->total, st->nranges, st->nranges == 1 ? "" : "s");
    vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);
    return VMIG_OK;
}

static enum vmig_code task_range(struct runctx *c, struct vmig_coll_state *st, struct vmig_err *e)
{
    const struct vmig_plan_coll *pc = &c->job.plan.coll[c->cur];
    char line[VMIG_ERR_MSG_MAX];
    vmig_coll_state_init(st);
    if (!c->task->state_json || vmig_coll_state_from_json(c->task->state_json, st, e) ||
        st->nranges != 1) {
        vmig_err_set(e, VMIG_E_IO,
                     "job '%s': the checkpoint of range task %d of collection '%s' cannot be "
                     "read: `vmigrate jobs restart %s` copies the collection again",
                     c->id, c->task->idx, pc->source, c->id);
        return VMIG_E_IO;
    }
    size_t nranges = c->job.coll[c->cur].state.nranges;
    snprintf(line, sizeof line, "collection '%s': range %d of %zu taken by %s%s%s", pc->source,
             c->task->idx, nranges, c->task->owner,
             c->task->reclaims && c->task->attempts > 1 ? " (its last worker died)" : "",
             st->range[0].hw_set ? ", resuming from its checkpoint" : "");
    vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);
    struct vmig_migrate_opts mo;
    vmig_runner_migrate_opts(c, &mo);
    mo.steps = VMIG_STEP_LOAD_ASK | VMIG_STEP_COPY;
    mo.readers = 1;
    mo.read_share = nranges > 1 ? (int)nranges : 1;
    return vmig_migrate_coll(&c->src, &c->dst, pc, &mo, st, NULL, e);
}

/* The collection's state after its copy: the setup's, with every range as its task
 * left it and the counters summed. */
static enum vmig_code gather(struct runctx *c, struct vmig_coll_state *st, struct vmig_err *e)
{
    struct vmig_store_task *t = NULL;
    size_t n = 0;
    *st = c->job.coll[c->cur].state;
    enum vmig_code rc = c->s->vt->task_list(c->s, c->id, (long)c->cur, &t, &n, e);
    if (rc) return vmig_runner_store_failed(c, c->job.coll[c->cur].source, e);
    st->written = st->read = st->bytes = st->rejected = st->nulls_dropped = st->misfits = 0;
    for (size_t k = 0; k < n; k++) {
        struct vmig_coll_state rs;
        struct vmig_err pe;
        vmig_coll_state_init(&rs);
        vmig_err_clear(&pe);
        if (t[k].kind == VMIG_TASK_RANGE && t[k].state_json &&
            vmig_coll_state_from_json(t[k].state_json, &rs, &pe) == VMIG_OK && rs.nranges == 1) {
            size_t r = (size_t)t[k].idx - 1;
            if (r < st->nranges) st->range[r] = rs.range[0];
            st->written += rs.range[0].points;
            st->rejected += rs.rejected;
            st->nulls_dropped += rs.nulls_dropped;
            st->misfits += rs.misfits;
            st->read += t[k].read;
            st->bytes += t[k].bytes;
        }
        vmig_store_task_release(&t[k]);
    }
    free(t);
    st->copied = 1;
    return VMIG_OK;
}

static enum vmig_code task_finish(struct runctx *c, struct vmig_coll_state *st,
                                  struct vmig_verify_result *vr, struct vmig_err *e)
{
    const struct vmig_plan_coll *pc = &c->job.plan.coll[c->cur];
    enum vmig_code rc = gather(c, st, e);
    if (rc) return rc;
    struct vmig_migrate_opts mo;
    vmig_runner_migrate_opts(c, &mo);
    mo.steps = VMIG_STEP_FINISH;
    rc = vmig_migrate_coll(&c->src, &c->dst, pc, &mo, st, vr, e);
    struct vmig_store *s = c->s;
    char *js = vmig_coll_state_to_json(st); /* best effort, as a whole run's end */
    s->vt->coll_checkpoint(s, c->id, c->cur, js, NULL);
    free(js);
    s->vt->coll_progress(s, c->id, c->cur, rc == VMIG_OK ? VMIG_PHASE_DONE : c->last_phase,
                         st->total, st->read, st->written, st->bytes, 0, NULL);
    if (vr->ran) {
        char *vj = vmig_job_verify_to_json(vr);
        s->vt->coll_verify(s, c->id, c->cur, vj, NULL);
        free(vj);
    }
    return rc;
}

/* ---- the end of a task, and of the job ---------------------------------------------- */

/* The job's end when none of its tasks is left to run: its status from its
 * collections'. Whoever ends the last task does it; a second one finds it done. */
void vmig_task_settle(struct vmig_store *s, const char *id)
{
    struct vmig_store_task *t = NULL;
    size_t n = 0, left = 0, live = 0;
    int64_t now = (int64_t)vmig_wall_ms();
    if (s->vt->task_list(s, id, -1, &t, &n, NULL)) return;
    for (size_t k = 0; k < n; k++) {
        /* a collection with a failed task can never be finished: its finish task is
         * no work left (the collection is Failed; a retry runs it again) */
        int blocked = 0;
        for (size_t x = 0; x < n && t[k].kind == VMIG_TASK_FINISH; x++)
            blocked |= t[x].coll == t[k].coll && t[x].status == VMIG_JOB_FAILED;
        if (!blocked)
            left += t[k].status == VMIG_JOB_PENDING || t[k].status == VMIG_JOB_IN_PROGRESS;
        live += t[k].status == VMIG_JOB_IN_PROGRESS && t[k].lease_until_ms > now;
    }
    for (size_t k = 0; k < n; k++)
        vmig_store_task_release(&t[k]);
    free(t);
    struct vmig_job j;
    if (vmig_job_get(s, id, &j, NULL)) return;
    /* a cancel request nobody is left to act on (its workers died) */
    int cancel = j.cancel_requested && !live;
    if (j.status == VMIG_JOB_IN_PROGRESS && (!left || cancel)) {
        enum vmig_job_status final = VMIG_JOB_SUCCESSFUL;
        const char *why = NULL;
        for (size_t i = 0; i < j.ncolls; i++) {
            if (j.coll[i].status == VMIG_JOB_FAILED) {
                final = VMIG_JOB_FAILED;
                if (!why) why = j.coll[i].error;
            } else if (j.coll[i].status != VMIG_JOB_SUCCESSFUL && final == VMIG_JOB_SUCCESSFUL) {
                final = VMIG_JOB_CANCELLED;
                if (cancel) s->vt->coll_status(s, id, i, VMIG_JOB_CANCELLED, NULL, 0, now, NULL);
            }
        }
        if (cancel && final == VMIG_JOB_FAILED) final = VMIG_JOB_CANCELLED;
        char line[VMIG_ERR_MSG_MAX + 32];
        snprintf(line, sizeof line, "job %s", vmig_job_status_label(final));
        s->vt->log_add(s, id, now, final == VMIG_JOB_FAILED ? VMIG_LOG_ERROR : VMIG_LOG_INFO, NULL,
                       "", line, NULL);
        s->vt->job_finish(s, id, final, final == VMIG_JOB_FAILED ? why : NULL, now, NULL);
    }
    vmig_job_release(&j);
}

/* A cancel request (or a foreground run's Ctrl-C) stopped the task: the job is
 * cancelled, its unfinished collections with it; its tasks keep their checkpoints. */
static void cancel_job(struct runctx *c)
{
    struct vmig_job j;
    if (vmig_job_get(c->s, c->id, &j, NULL)) return;
    if (j.status == VMIG_JOB_IN_PROGRESS) {
        int64_t now = (int64_t)vmig_wall_ms();
        for (size_t i = 0; i < j.ncolls; i++)
            if (j.coll[i].status == VMIG_JOB_PENDING || j.coll[i].status == VMIG_JOB_IN_PROGRESS)
                c->s->vt->coll_status(c->s, c->id, i, VMIG_JOB_CANCELLED, NULL, 0, now, NULL);
        vmig_runner_log(c, VMIG_LOG_INFO, NULL, "",
                        "job Cancelled (its tasks keep their "
                        "checkpoints: `vmigrate jobs resume`)");
        c->s->vt->job_finish(c->s, c->id, VMIG_JOB_CANCELLED, NULL, now, NULL);
    }
    vmig_job_release(&j);
}

static void end_task(struct runctx *c, enum vmig_code rc, struct vmig_err *e,
                     const struct vmig_coll_state *st, const struct vmig_verify_result *vr)
{
    const struct vmig_store_task *t = c->task;
    const char *src = c->job.coll[c->cur].source;
    struct vmig_store_task_key k = key_of(c);
    struct vmig_store *s = c->s;
    char line[VMIG_ERR_MSG_MAX + 256];
    int held = 0;
    int64_t now = (int64_t)vmig_wall_ms();
    const char *kind = vmig_task_kind_name(t->kind);
    struct vmig_metrics *m = c->ro->metrics;
    if (atomic_load(&c->lost)) {
        vmig_metrics_task_state(m, kind, "pending");
        snprintf(line, sizeof line,
                 "collection '%s': %s task %d: %s lost its lease (the job store could not be "
                 "reached, or another worker took the task over); it stopped writing and "
                 "leaves the task to its next holder",
                 src, vmig_task_kind_name(t->kind), t->idx, t->owner);
        vmig_runner_log(c, VMIG_LOG_WARN, src, "", line);
        return;
    }
    if (rc == VMIG_OK) {
        if (t->kind == VMIG_TASK_RANGE) {
            if (vmig_task_checkpoint(c, st)) return; /* lost just now */
            s->vt->task_progress(s, &k, st->read, st->range[0].points, st->bytes, 0, &held, NULL);
        }
        s->vt->task_end(s, &k, VMIG_JOB_SUCCESSFUL, NULL, now, &held, NULL);
        vmig_metrics_task_state(m, kind, "successful");
        if (t->kind == VMIG_TASK_FINISH) {
            snprintf(line, sizeof line,
                     "collection '%s': %llu points migrated; verified: %llu = %llu, %llu "
                     "sampled",
                     src, (unsigned long long)st->written, (unsigned long long)vr->source_count,
                     (unsigned long long)vr->target_count, (unsigned long long)vr->sampled);
            vmig_runner_log(c, VMIG_LOG_INFO, src, "", line);
            vmig_runner_final_status(c, c->cur, VMIG_JOB_SUCCESSFUL, NULL, now);
        }
        return;
    }
    if (rc == VMIG_E_CANCELLED || vmig_run_cancelled(&c->ctx)) {
        if (t->kind == VMIG_TASK_RANGE) vmig_task_checkpoint(c, st);
        s->vt->task_end(s, &k, VMIG_JOB_PENDING, NULL, now, &held, NULL);
        vmig_metrics_task_state(m, kind, "pending");
        if (atomic_load(&c->job_stop) || (c->by_host && !c->ro->requeue)) cancel_job(c);
        return;
    }
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_adds(&b, e->msg[0] ? e->msg : vmig_strerror(rc));
    vmig_redact_secret(&b, c->src_secret);
    vmig_redact_secret(&b, c->dst_secret);
    if (!e->coll[0]) vmig_err_at(e, src, NULL, NULL);
    e->code = rc;
    snprintf(e->msg, sizeof e->msg, "%s", b.p);
    vmig_buf_release(&b);
    vmig_runner_log(c, VMIG_LOG_ERROR, src, e->point, e->msg);
    s->vt->task_end(s, &k, VMIG_JOB_FAILED, e->msg, now, &held, NULL);
    vmig_metrics_task_state(m, kind, "failed");
    vmig_runner_final_status(c, c->cur, VMIG_JOB_FAILED, e, now);
}

/* Run one claimed task to its end. *store_err: a final status the store did not take
 * (VMIG_OK = none): the run that drives the job reports it. */
static void run_task(struct vmig_store *s, const struct vmig_store_task *t,
                     const struct vmig_job_run_opts *ro, int64_t lease, struct vmig_err *store_err)
{
    struct runctx c;
    struct vmig_err e;
    struct vmig_coll_state st;
    struct vmig_verify_result vr;
    vmig_err_clear(&e);
    vmig_coll_state_init(&st);
    memset(&vr, 0, sizeof vr);
    vmig_runctx_init(&c, s, t->job_id, ro);
    c.task = t;
    c.lease_ms = lease;
    c.lease_ok_ms = vmig_now_ms();
    c.cur = t->coll;
    c.last_phase = (enum vmig_coll_phase) - 1;
    enum vmig_code rc = vmig_job_get(s, t->job_id, &c.job, &e);
    if (rc) goto out; /* the job is gone or unreadable: the lease runs out, nothing ran */
    if (t->coll >= c.job.ncolls || t->coll >= c.job.plan.n) {
        c.cur = 0;
        goto out;
    }
    if (!(rc = vmig_runner_secrets(&c, &e))) {
        vmig_job_endpoints(&c.job, c.src_secret, c.dst_secret, &c.src, &c.dst);
        if (c.job.opts.rejects[0] && !(c.rejects = fopen(c.job.opts.rejects, "a")))
            rc = vmig_err_set(&e, VMIG_E_IO, "cannot open rejects file '%s'", c.job.opts.rejects);
    }
    if (rc == VMIG_E_AUTH) {
        /* this worker cannot open the job's stored secrets (another key file than the
         * job's creator): the task is not its to fail; another worker takes it */
        char line[VMIG_ERR_MSG_MAX + 256];
        struct vmig_store_task_key k = key_of(&c);
        int held = 0;
        snprintf(line, sizeof line,
                 "collection '%s': %s task %d given back by %s: %s; give every worker the "
                 "key file of the process that created the job (VMIGRATE_SECRET_KEY_FILE)",
                 c.job.coll[c.cur].source, vmig_task_kind_name(t->kind), t->idx, t->owner, e.msg);
        vmig_runner_log(&c, VMIG_LOG_WARN, c.job.coll[c.cur].source, "", line);
        s->vt->task_end(s, &k, VMIG_JOB_PENDING, NULL, (int64_t)vmig_wall_ms(), &held, NULL);
        vmig_sleep_ms(2000); /* not straight back to the same task */
        goto out;
    }
    if (!rc) {
        vmig_runner_monitor(&c, 1);
        switch (t->kind) {
        case VMIG_TASK_SETUP:
            rc = task_setup(&c, &st, &e);
            break;
        case VMIG_TASK_RANGE:
            rc = task_range(&c, &st, &e);
            break;
        case VMIG_TASK_FINISH:
            rc = task_finish(&c, &st, &vr, &e);
            break;
        }
        vmig_runner_monitor(&c, 0);
    }
    end_task(&c, rc, &e, &st, &vr);
    if (c.store_err.code) *store_err = c.store_err;
    vmig_task_settle(s, t->job_id);
out:
    vmig_runctx_release(&c);
}

enum vmig_code vmig_task_work(struct vmig_store *s, const char *job_id, const char *owner,
                              const struct vmig_job_run_opts *ro, int *ran, struct vmig_err *err)
{
    struct vmig_store_task t;
    int got = 0;
    int64_t lease = lease_of(ro);
    *ran = 0;
    enum vmig_code rc =
        s->vt->task_claim(s, job_id, owner, (int64_t)vmig_wall_ms(), lease, &t, &got, err);
    if (rc || !got) return rc;
    *ran = 1;
    vmig_metrics_task_state(ro->metrics, vmig_task_kind_name(t.kind), "claimed");
    vmig_err_clear(err);
    run_task(s, &t, ro, lease, err);
    vmig_store_task_release(&t);
    return err->code; /* VMIG_OK, or the store failed a final status (VMIG_E_IO) */
}

void vmig_task_owner(char *out, size_t n, int thread)
{
    char host[256];
    vmig_job_host_name(host);
    snprintf(out, n, "%.100s:%d/%d", host, (int)getpid(), thread);
}

/* ---- a foreground run ------------------------------------------------------------------ */

struct drive {
    struct runctx *c;
    uint64_t t0;                        /* when the drive began (vmig_now_ms) */
    uint64_t written0[VMIG_MAX_RANGES]; /* per collection (first ones) at that time */
    struct vmig_job_run_opts ro;        /* the host's, with requeue off */
    int n;
    atomic_int done;
    pthread_mutex_t mu;
    struct vmig_err store_err; /* under mu: the first final status the store did not take */
};

struct drive_thread {
    struct drive *d;
    int no;
    pthread_t th;
};

static int host_cancelled(const struct drive *d)
{
    return d->c->ro->cancel && atomic_load(d->c->ro->cancel);
}

static void *drive_main(void *arg)
{
    struct drive_thread *dt = arg;
    struct drive *d = dt->d;
    char owner[VMIG_TASK_OWNER_MAX];
    vmig_task_owner(owner, sizeof owner, dt->no);
    while (!atomic_load(&d->done) && !host_cancelled(d)) {
        int ran = 0;
        struct vmig_err e;
        vmig_err_clear(&e);
        enum vmig_code rc = vmig_task_work(d->c->s, d->c->id, owner, &d->ro, &ran, &e);
        if (rc && ran) {
            pthread_mutex_lock(&d->mu);
            if (!d->store_err.code) d->store_err = e;
            pthread_mutex_unlock(&d->mu);
        }
        if (rc || !ran) vmig_sleep_ms(IDLE_MS);
    }
    return NULL;
}

/* The job's progress as every worker's task rows say it, for the host's hook. */
static void drive_progress(struct drive *d, const struct vmig_job *j)
{
    const struct vmig_job_run_opts *ro = d->c->ro;
    if (!ro->hooks.progress) return;
    for (size_t i = 0; i < j->ncolls; i++) {
        const struct vmig_job_coll *jc = &j->coll[i];
        if (jc->status != VMIG_JOB_IN_PROGRESS) continue;
        struct vmig_progress p;
        memset(&p, 0, sizeof p);
        p.coll = jc->source;
        p.phase = jc->phase;
        p.total = jc->state.total ? jc->state.total : jc->total;
        p.read = jc->read;
        p.written = jc->written;
        p.bytes = jc->bytes;
        /* the rate of the whole job (every worker's), over this drive */
        double s = (double)(vmig_now_ms() - d->t0) / 1000.0;
        uint64_t w0 = i < VMIG_MAX_RANGES ? d->written0[i] : 0;
        p.points_per_s = s > 0.5 && jc->written > w0 ? (double)(jc->written - w0) / s : 0;
        p.eta_s = p.points_per_s > 0 && p.total > p.written
                      ? (double)(p.total - p.written) / p.points_per_s
                      : -1;
        ro->hooks.progress(ro->hooks.ud, &p);
    }
}

enum vmig_code vmig_task_drive(struct runctx *c, struct vmig_err *err)
{
    struct drive d;
    memset(&d, 0, sizeof d);
    d.c = c;
    d.ro = *c->ro;
    d.ro.requeue = 0;
    d.ro.hooks.progress = NULL; /* the drive reports the whole job's, below */
    pthread_mutex_init(&d.mu, NULL);
    d.n = c->job.opts.readers > 0 ? c->job.opts.readers : 4;
    d.t0 = vmig_now_ms();
    for (size_t i = 0; i < c->job.ncolls && i < VMIG_MAX_RANGES; i++)
        d.written0[i] = c->job.coll[i].written;
    struct drive_thread *th = xcalloc((size_t)d.n, sizeof *th);
    int started = 0;
    for (int i = 0; i < d.n; i++) {
        th[i].d = &d;
        th[i].no = i;
        if (pthread_create(&th[i].th, NULL, drive_main, &th[i]) == 0)
            started++;
        else
            break;
    }
    enum vmig_code rc = VMIG_OK;
    struct vmig_job j;
    memset(&j, 0, sizeof j);
    for (;;) {
        vmig_sleep_ms(500);
        vmig_job_release(&j);
        if ((rc = vmig_job_get(c->s, c->id, &j, err))) break;
        if (j.status != VMIG_JOB_IN_PROGRESS) break;
        drive_progress(&d, &j);
        if (host_cancelled(&d)) break;
    }
    atomic_store(&d.done, 1);
    for (int i = 0; i < started; i++)
        pthread_join(th[i].th, NULL);
    free(th);
    if (!rc && host_cancelled(&d)) {
        /* tasks this process ran are back to PENDING; those of other workers stop at
         * their next renewal */
        int immediate = 0;
        cancel_job(c);
        vmig_job_cancel(c->s, c->id, &immediate, NULL);
        vmig_job_release(&j);
        rc = vmig_job_get(c->s, c->id, &j, err);
    }
    if (!rc) {
        if (j.status == VMIG_JOB_SUCCESSFUL) {
            rc = VMIG_OK;
        } else if (j.status == VMIG_JOB_FAILED) {
            rc = VMIG_E_INTERNAL;
            vmig_err_set(err, VMIG_E_INTERNAL, "job '%s' failed", c->id);
            for (size_t i = 0; i < j.ncolls; i++) {
                const struct vmig_job_coll *jc = &j.coll[i];
                if (jc->status != VMIG_JOB_FAILED) continue;
                rc = jc->error_code ? jc->error_code : VMIG_E_INTERNAL;
                vmig_err_set(err, rc, "%s", jc->error[0] ? jc->error : "failed");
                vmig_err_at(err, jc->source, jc->error_point, jc->error_field);
                vmig_err_fix(err, jc->error_fix, jc->error_fix_arg[0] ? jc->error_fix_arg : NULL);
                break;
            }
        } else {
            rc = vmig_err_set(err, VMIG_E_CANCELLED, "job '%s' %s", c->id,
                              j.status == VMIG_JOB_IN_PROGRESS
                                  ? "cancel requested: the workers running its tasks stop at "
                                    "their next checkpoint"
                                  : "cancelled (resume with `jobs resume`)");
        }
    }
    vmig_job_release(&j);
    pthread_mutex_destroy(&d.mu);
    if (d.store_err.code) {
        /* a collection's final status is not in the store: the run failed */
        *err = d.store_err;
        rc = VMIG_E_IO;
    }
    return rc;
}

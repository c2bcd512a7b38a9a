/*
 * job_run.c - runs the job center's jobs on the engine: claims a job
 * (compare-and-swap on its status and owner, so two processes never run one job),
 * runs each collection not yet done
 * through vmig_migrate_coll() with hooks that persist the checkpoint state, the
 * progress and the log, polls the store for a cancel request while it runs, and
 * sets the final status. Resume, retry and restart are the same run after a
 * different preparation of the collections (job_prepare.c); the worker loop that
 * claims PENDING jobs is job_worker.c.
 *
 * Logging and cancel: each run has its own run context (vmig/run.h), handed to the
 * engine and through it to every connector, retry and wait. Its log sink writes the
 * run's warnings and errors into the job's log and forwards lines to the host's
 * sink, redacted of the job's secrets; its cancel flag is set by the monitor thread
 * (a cancel request in the store, or the host's flag). No process-wide state.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/job_int.h"
#include "engine/job_run_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/plan.h"
#include "vmig/vmig.h"

#define HEARTBEAT_MS 500 /* heartbeat + cancel poll period */
#define PROGRESS_MS 500  /* progress rows written at most twice a second */
#define NOTE_MS 10000    /* a progress line in the job's log this often within a phase */
/* ---- the runner ------------------------------------------------------------------- */

/* Text leaving the runner (the job's log, the host's sink, a stored error) goes through
 * here once: the job's secrets (and a token's password alone) become "***". */
static void redact_job(const struct runctx *c, struct vmig_buf *b)
{
    vmig_redact_secret(b, c->src_secret);
    vmig_redact_secret(b, c->dst_secret);
}

/* One already redacted line of the job's log. point is the point id the line is about
 * (an error's err->point, a reject's id), NULL or "" for none; it is never read out of
 * the text. Best effort: a log line that cannot be stored is not worth failing the job
 * for, and a store that cannot be written fails the job's status writes, which are
 * checked. */
static void store_line(struct runctx *c, int level, const char *coll, const char *point,
                       const char *redacted)
{
    c->s->vt->log_add(c->s, c->id, (int64_t)vmig_wall_ms(), level, coll, point ? point : "",
                      redacted, NULL);
}

/* One line of the job's log from raw text. Its info lines (start, phases, progress, end)
 * also go to a host that asked for info (the worker prints them as they happen), named
 * by the job's id. */
void vmig_runner_log(struct runctx *c, int level, const char *coll, const char *point,
                     const char *msg)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_adds(&b, msg);
    redact_job(c, &b);
    store_line(c, level, coll, point, b.p);
    if (level == VMIG_LOG_INFO && c->ro->log && c->ro->log_level >= VMIG_LOG_INFO) {
        struct vmig_buf h = VMIG_BUF_INIT;
        if (!strncmp(b.p, "job ", 4))
            vmig_buf_addf(&h, "job %s %s", c->id, b.p + 4);
        else
            vmig_buf_addf(&h, "job %s: %s", c->id, b.p);
        c->ro->log(c->ro->log_ud, level, h.p);
        vmig_buf_release(&h);
    }
    vmig_buf_release(&b);
}

/* err holds a failed store write for the job (coll: its collection, NULL for the
 * job): rewrite it as the job's error with the way out. */
enum vmig_code vmig_runner_store_failed(const struct runctx *c, const char *coll,
                                        struct vmig_err *err)
{
    char why[VMIG_ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err->msg[0] ? err->msg : vmig_strerror(err->code));
    vmig_err_set(err, VMIG_E_IO,
                 "job '%s'%s%.300s%s: the job store could not be written (%.400s): check the free "
                 "disk space and the permissions of the store file (--store / VMIGRATE_STORE) "
                 "and its directory, then `vmigrate jobs resume %s`",
                 c->id, coll ? ", collection '" : "", coll ? coll : "", coll ? "'" : "", why,
                 c->id);
    vmig_err_at(err, coll ? coll : "", "", "");
    return VMIG_E_IO;
}

/* Write the final status of collection i: checked, the first failure is kept in
 * c->store_err and ends the run with VMIG_E_IO (a job whose store says In progress
 * after its run ended would be shown as orphaned, its failure lost). */
void vmig_runner_final_status(struct runctx *c, size_t i, enum vmig_job_status st,
                              const struct vmig_err *why, int64_t ended_ms)
{
    struct vmig_err e, w;
    vmig_err_clear(&e);
    if (why && (why->fix == VMIG_FIX_NONE || why->fix == VMIG_FIX_ENDPOINT) &&
        (vmig_code_is_retryable(why->code) || why->code == VMIG_E_CANCELLED)) {
        /* a server that went down or stayed slow past the retries, a cancel: the job's
         * endpoints are fixed, so the way out is to go on where it stopped (a wait that
         * ran out keeps its own: resume, or allow more time) */
        w = *why;
        vmig_err_fix(&w, VMIG_FIX_RESUME, NULL);
        why = &w;
    }
    pthread_mutex_lock(&c->mu);
    c->note_phase = -1; /* its run ended: no more progress lines of it */
    pthread_mutex_unlock(&c->mu);
    if (c->s->vt->coll_status(c->s, c->id, i, st, why, 0, ended_ms, &e) == VMIG_OK) return;
    vmig_runner_store_failed(c, c->job.plan.coll[i].source, &e);
    vmig_run_log(&c->ctx, VMIG_LOG_ERROR, "%s", e.msg);
    if (c->store_err.code == VMIG_OK) c->store_err = e;
}

/* The run context's log sink: warnings and errors into the job's log (of the
 * collection being run), every line at the host's level to the host's sink. */
static void run_log(void *ud, int level, const char *msg)
{
    struct runctx *c = ud;
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_adds(&b, msg);
    redact_job(c, &b);
    if (level <= VMIG_LOG_WARN) {
        const char *coll = c->cur < c->job.plan.n ? c->job.plan.coll[c->cur].source : NULL;
        store_line(c, level, coll, NULL, b.p);
    }
    if (c->ro->log && level <= c->ro->log_level) c->ro->log(c->ro->log_ud, level, b.p);
    vmig_buf_release(&b);
}

/* The job's log line of a phase just entered (DONE has its own line in run_coll). */
static void note_phase(struct runctx *c, size_t i, const struct vmig_progress *p)
{
    char line[VMIG_SRC_NAME_MAX + 160];
    const char *src = i < c->job.plan.n ? c->job.plan.coll[i].source : p->coll;
    const char *dst = i < c->job.plan.n ? c->job.plan.coll[i].target : "";
    switch (p->phase) {
    case VMIG_PHASE_CREATING:
        snprintf(line, sizeof line, "collection '%s': creating the target collection '%s'", src,
                 dst);
        break;
    case VMIG_PHASE_LOADING:
        snprintf(line, sizeof line, "collection '%s': loading the target collection '%s'", src,
                 dst);
        break;
    case VMIG_PHASE_COPYING:
        snprintf(line, sizeof line, "collection '%s': copying (%llu of %llu points written)", src,
                 (unsigned long long)p->written, (unsigned long long)p->total);
        break;
    case VMIG_PHASE_VERIFYING:
        snprintf(line, sizeof line, "collection '%s': verifying (%llu points written)", src,
                 (unsigned long long)p->written);
        break;
    case VMIG_PHASE_INDEXING:
        snprintf(line, sizeof line, "collection '%s': indexing (%llu of %llu rows indexed)", src,
                 (unsigned long long)p->index_rows, (unsigned long long)p->index_total);
        break;
    default:
        return;
    }
    vmig_runner_log(c, VMIG_LOG_INFO, src, "", line);
}

/* The job's periodic progress line of the phase it is in. */
static void note_progress(struct runctx *c, size_t i, const struct vmig_progress *p)
{
    char line[VMIG_SRC_NAME_MAX + 240], left[48] = "", thr[96] = "";
    const char *src = i < c->job.plan.n ? c->job.plan.coll[i].source : "";
    if (p->phase == VMIG_PHASE_COPYING) {
        if (p->eta_s >= 0) snprintf(left, sizeof left, ", about %.0f s left", p->eta_s);
        if (p->throttled)
            snprintf(thr, sizeof thr, "; rate-limited %llu times so far (%.0f s waited, paced)",
                     (unsigned long long)p->throttled, (double)p->throttled_ms / 1000.0);
        snprintf(line, sizeof line,
                 "collection '%s': copying: %llu of %llu points written (%.1f %%), %.0f "
                 "points/s%s%s",
                 src, (unsigned long long)p->written, (unsigned long long)p->total,
                 p->total ? 100.0 * (double)p->written / (double)p->total : 0.0, p->points_per_s,
                 left, thr);
    } else if (p->phase == VMIG_PHASE_INDEXING) {
        snprintf(line, sizeof line, "collection '%s': indexing: %llu of %llu rows indexed", src,
                 (unsigned long long)p->index_rows, (unsigned long long)p->index_total);
    } else {
        snprintf(line, sizeof line, "collection '%s': still %s", src, vmig_phase_name(p->phase));
    }
    vmig_runner_log(c, VMIG_LOG_INFO, src, "", line);
}

/* Every heartbeat: a progress line when the phase has gone on NOTE_MS since the last one. */
static void note_tick(struct runctx *c)
{
    struct vmig_progress p;
    size_t i = 0;
    int due = 0;
    uint64_t now = vmig_now_ms();
    pthread_mutex_lock(&c->mu); /* the monitor's copy of what the engine's threads last said */
    if (c->note_phase >= 0 && c->note_phase != VMIG_PHASE_DONE && now - c->note_ms >= NOTE_MS) {
        due = 1;
        c->note_ms = now;
        p = c->note;
        i = c->note_cur;
    }
    pthread_mutex_unlock(&c->mu);
    if (due && !vmig_run_cancelled(&c->ctx)) note_progress(c, i, &p);
}

static void *monitor_main(void *arg)
{
    struct runctx *c = arg;
    pthread_mutex_lock(&c->mon_mu);
    while (!c->mon_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += HEARTBEAT_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->mon_cv, &c->mon_mu, &ts);
        if (c->mon_stop) break;
        pthread_mutex_unlock(&c->mon_mu);
        int req = 0;
        if (c->task)
            vmig_task_beat(c); /* the task's lease, and the job's cancel request */
        else if (c->s->vt->job_heartbeat(c->s, c->id, (int64_t)vmig_wall_ms(), &req, NULL) ==
                     VMIG_OK &&
                 req)
            atomic_store(&c->ctx.cancel, 1);
        if (c->ro->cancel && atomic_load(c->ro->cancel) && !vmig_run_cancelled(&c->ctx)) {
            c->by_host = 1;
            atomic_store(&c->ctx.cancel, 1);
        }
        note_tick(c);
        pthread_mutex_lock(&c->mon_mu);
    }
    pthread_mutex_unlock(&c->mon_mu);
    return NULL;
}

/* Start (on 1) or stop and join (on 0) the run's monitor thread. */
void vmig_runner_monitor(struct runctx *c, int on)
{
    if (on) {
        if (!c->mon_started && pthread_create(&c->mon, NULL, monitor_main, c) == 0)
            c->mon_started = 1;
        return;
    }
    if (!c->mon_started) return;
    pthread_mutex_lock(&c->mon_mu);
    c->mon_stop = 1;
    pthread_cond_signal(&c->mon_cv);
    pthread_mutex_unlock(&c->mon_mu);
    pthread_join(c->mon, NULL);
    c->mon_started = 0;
}

/* engine hooks: called from the engine's threads, never with its locks held */
static int hook_checkpoint(void *ud, const struct vmig_coll_state *st)
{
    struct runctx *c = ud;
    if (c->task && c->task->kind == VMIG_TASK_RANGE) return vmig_task_checkpoint(c, st);
    char *js = vmig_coll_state_to_json(st);
    enum vmig_code rc = c->s->vt->coll_checkpoint(c->s, c->id, c->cur, js, NULL);
    free(js);
    return rc != VMIG_OK;
}

static void hook_progress(void *ud, const struct vmig_progress *p)
{
    struct runctx *c = ud;
    if (c->task && c->task->kind == VMIG_TASK_RANGE) {
        vmig_task_progress(c, p); /* the task's own row; the job sums its tasks */
        vmig_metrics_feed(c->ro->metrics, &c->mfeed, c->id, p, c->ctx.stats);
        return;
    }
    uint64_t now = vmig_now_ms();
    pthread_mutex_lock(&c->mu);
    int write = p->phase != c->last_phase || now - c->last_progress >= PROGRESS_MS;
    if (write) {
        c->last_progress = now;
        c->last_phase = p->phase;
    }
    int entered = c->note_cur != c->cur || c->note_phase != (int)p->phase;
    c->note = *p;
    c->note.coll = NULL; /* the engine's; note_* name the plan's collection */
    if (entered) {
        c->note_cur = c->cur;
        c->note_phase = (int)p->phase;
        c->note_ms = now;
    }
    pthread_mutex_unlock(&c->mu);
    if (entered) note_phase(c, c->cur, p);
    if (write)
        c->s->vt->coll_progress(c->s, c->id, c->cur, p->phase, p->total, p->read, p->written,
                                p->bytes, p->points_per_s, NULL);
    vmig_metrics_feed(c->ro->metrics, &c->mfeed, c->id, p, c->ctx.stats); /* util/metrics.h */
    if (c->ro->hooks.progress && !c->task) c->ro->hooks.progress(c->ro->hooks.ud, p);
}

static void hook_reject(void *ud, const char *coll, const struct vmig_point_id *id,
                        const char *reason)
{
    struct runctx *c = ud;
    char idt[VMIG_ID_TEXT_MAX], line[VMIG_ERR_MSG_MAX];
    vmig_point_id_format(id, idt);
    struct vmig_buf ln = VMIG_BUF_INIT;
    vmig_buf_adds(&ln, "{\"collection\":");
    vmig_buf_add_json_str(&ln, coll);
    if (id->kind == VMIG_ID_NUM) vmig_buf_addf(&ln, ",\"id\":%s,\"reason\":", idt);
    else vmig_buf_addf(&ln, ",\"id\":\"%s\",\"reason\":", idt);
    vmig_buf_add_json_str(&ln, reason);
    vmig_buf_adds(&ln, "}\n");
    if (c->rejects) { /* one fputs per line: stdio locks the stream, lines never interleave */
        fputs(ln.p, c->rejects);
        fflush(c->rejects);
    }
    vmig_buf_release(&ln);
    snprintf(line, sizeof line, "point %s rejected: %s", idt, reason);
    vmig_runner_log(c, VMIG_LOG_WARN, coll, idt, line);
    if (c->ro->hooks.reject) c->ro->hooks.reject(c->ro->hooks.ud, coll, id, reason);
}

/* The engine's options of a run of this job: the job's options, the run's context and
 * the runner's hooks. One place for every kind of run (a whole collection, a task). */
void vmig_runner_migrate_opts(struct runctx *c, struct vmig_migrate_opts *mo)
{
    const struct vmig_job *j = &c->job;
    vmig_migrate_opts_init(mo);
    if (j->opts.readers > 0) mo->readers = j->opts.readers;
    if (j->opts.writers > 0) mo->writers = j->opts.writers;
    mo->page_limit = j->opts.page_limit;
    mo->verify_sample = j->opts.verify_sample;
    mo->verify_full = j->opts.verify_full;
    mo->verify_diff = j->opts.verify_diff;
    mo->verify_job = j->id;
    mo->verify_colls = j->ncolls;
    mo->reject_oversize = j->opts.reject_oversize;
    mo->skip_index = j->opts.skip_index;
    mo->wait_index = j->opts.wait_index;
    mo->ctx = &c->ctx;
    mo->hooks.ud = c;
    mo->hooks.checkpoint = hook_checkpoint;
    mo->hooks.progress = hook_progress;
    mo->hooks.reject = hook_reject;
    mo->bulk.mode = j->opts.write_mode;
    mo->bulk.dir = j->opts.bulk_dir;
    mo->bulk.url = j->opts.bulk_url;
    mo->bulk.endpoint = j->opts.bulk_endpoint;
    mo->bulk.file_bytes = j->opts.bulk_file_bytes;
}

void vmig_runctx_init(struct runctx *c, struct vmig_store *s, const char *id,
                      const struct vmig_job_run_opts *ro)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->mon_mu, NULL);
    pthread_cond_init(&c->mon_cv, NULL);
    c->s = s;
    c->ro = ro;
    c->note_phase = -1;
    c->note_cur = (size_t)-1;
    vmig_run_ctx_init(&c->ctx);
    c->ctx.log = run_log;
    c->ctx.log_ud = c;
    c->ctx.log_level = ro->log && ro->log_level > VMIG_LOG_WARN ? ro->log_level : VMIG_LOG_WARN;
    snprintf(c->id, sizeof c->id, "%s", id);
}

void vmig_runctx_release(struct runctx *c)
{
    free(c->remake);
    vmig_job_secret_free(c->src_secret);
    vmig_job_secret_free(c->dst_secret);
    if (c->rejects) fclose(c->rejects);
    vmig_job_release(&c->job);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->mon_mu);
    pthread_cond_destroy(&c->mon_cv);
}

/* Secrets: the host's override, else the stored ones (decrypted). */
enum vmig_code vmig_runner_secrets(struct runctx *c, struct vmig_err *err)
{
    return vmig_job_secrets_get(c->s, &c->job, c->ro->src_secret, c->ro->dst_secret,
                                &c->src_secret, &c->dst_secret, err);
}

/* Run one collection; returns its final status. */
static enum vmig_job_status run_coll(struct runctx *c, size_t i, struct vmig_err *first)
{
    struct vmig_job *j = &c->job;
    struct vmig_store *s = c->s;
    struct vmig_job_coll *jc = &j->coll[i];
    const struct vmig_plan_coll *pc = &j->plan.coll[i];
    struct vmig_err e;
    struct vmig_verify_result vr;
    enum vmig_job_status fin;
    char line[VMIG_ERR_MSG_MAX + 128];
    vmig_err_clear(&e);
    memset(&vr, 0, sizeof vr);
    c->cur = i;
    c->last_phase = (enum vmig_coll_phase)-1;
    int64_t now = (int64_t)vmig_wall_ms();
    if (vmig_run_cancelled(&c->ctx)) {
        fin = c->by_host && c->ro->requeue ? VMIG_JOB_PENDING : VMIG_JOB_CANCELLED;
        vmig_runner_final_status(c, i, fin, NULL, fin == VMIG_JOB_PENDING ? 0 : now);
        return fin;
    }
    if (s->vt->coll_status(s, c->id, i, VMIG_JOB_IN_PROGRESS, NULL, now, 0, &e)) {
        /* not started: its status stays what it was */
        vmig_runner_store_failed(c, pc->source, &e);
        if (c->store_err.code == VMIG_OK) c->store_err = e;
        if (first->code == VMIG_OK) *first = e;
        return VMIG_JOB_FAILED;
    }
    snprintf(line, sizeof line, "collection '%s' -> '%s': %s", pc->source, pc->target,
             jc->state.nranges || jc->state.created ? "resuming from its checkpoint"
                                                    : "starting");
    vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);

    enum vmig_code rc;
    if (pc->refusal.code != VMIG_OK) {
        e = pc->refusal;
        rc = e.code;
    } else {
        struct vmig_migrate_opts mo;
        vmig_runner_migrate_opts(c, &mo);
        rc = vmig_migrate_coll(&c->src, &c->dst, pc, &mo, &jc->state, &vr, &e);
        /* The final counters (read, bytes) are not all checkpointed by the engine. These
         * three writes are best effort on purpose: the engine's own checkpoints are
         * checked where they happen (a failed one fails the copy), the counters and the
         * verify result only inform, and a store that cannot be written fails the final
         * status write below, which is checked. */
        char *js = vmig_coll_state_to_json(&jc->state);
        s->vt->coll_checkpoint(s, c->id, i, js, NULL);
        free(js);
        s->vt->coll_progress(s, c->id, i, rc == VMIG_OK ? VMIG_PHASE_DONE : c->last_phase,
                             jc->state.total, jc->state.read, jc->state.written,
                             jc->state.bytes, 0, NULL);
        if (vr.ran) {
            char *vj = vmig_job_verify_to_json(&vr);
            s->vt->coll_verify(s, c->id, i, vj, NULL);
            free(vj);
        }
    }
    now = (int64_t)vmig_wall_ms();
    if (rc == VMIG_OK) {
        fin = VMIG_JOB_SUCCESSFUL;
        snprintf(line, sizeof line,
                 "collection '%s': %llu points migrated; verified: %llu = %llu, %llu sampled",
                 pc->source, (unsigned long long)jc->state.written,
                 (unsigned long long)vr.source_count, (unsigned long long)vr.target_count,
                 (unsigned long long)vr.sampled);
        vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);
        vmig_runner_final_status(c, i, fin, NULL, now);
        return fin;
    }
    if (rc == VMIG_E_CANCELLED || vmig_run_cancelled(&c->ctx)) {
        fin = c->by_host && c->ro->requeue ? VMIG_JOB_PENDING : VMIG_JOB_CANCELLED;
        snprintf(line, sizeof line, "collection '%s': %s at %llu of %llu points (checkpoint kept)",
                 pc->source, fin == VMIG_JOB_PENDING ? "interrupted" : "cancelled",
                 (unsigned long long)jc->state.written, (unsigned long long)jc->state.total);
        vmig_runner_log(c, VMIG_LOG_INFO, pc->source, "", line);
        vmig_runner_final_status(c, i, fin, NULL, fin == VMIG_JOB_PENDING ? 0 : now);
        return fin;
    }
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_adds(&b, e.msg[0] ? e.msg : vmig_strerror(rc));
    redact_job(c, &b);
    if (!e.coll[0]) vmig_err_at(&e, pc->source, NULL, NULL);
    e.code = rc;
    snprintf(e.msg, sizeof e.msg, "%s", b.p); /* redacted; the facts stay */
    store_line(c, VMIG_LOG_ERROR, pc->source, e.point, e.msg);
    vmig_runner_final_status(c, i, VMIG_JOB_FAILED, &e, now);
    if (first->code == VMIG_OK) *first = e;
    vmig_buf_release(&b);
    return VMIG_JOB_FAILED;
}

/* Claim id for mode m and run it. *claimed (may be NULL) tells whether it was taken;
 * when it was not, VMIG_E_USAGE explains why. */
enum vmig_code vmig_runner_run(struct vmig_store *s, const char *id, enum mode m,
                               const struct vmig_job_retry_opts *ch,
                               const struct vmig_job_run_opts *ro, int *claimed,
                               struct vmig_err *err)
{
    struct vmig_job_run_opts defro;
    struct runctx c;
    if (claimed) *claimed = 0;
    if (!ro) {
        vmig_job_run_opts_init(&defro);
        ro = &defro;
    }
    vmig_runctx_init(&c, s, id, ro);
    enum vmig_code rc = vmig_job_get(s, id, &c.job, err);
    if (rc) goto out;
    struct vmig_job *j = &c.job;
    if (!vmig_runner_claimable(j, m)) {
        if (j->status == VMIG_JOB_IN_PROGRESS)
            rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' is running (pid %d on %s)", id,
                              j->owner_pid, j->owner_host);
        else if (m == M_RUN && j->status != VMIG_JOB_SUCCESSFUL)
            rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' is %s: use `jobs resume %s`", id,
                              vmig_job_status_label(j->status), id);
        else
            rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' is %s: nothing to %s", id,
                              vmig_job_status_label(j->status),
                              m == M_RETRY ? "retry (failed and cancelled jobs are retried)"
                                           : "run");
        goto out;
    }
    if (j->plan.n != j->ncolls) {
        rc = vmig_err_set(err, VMIG_E_IO, "job '%s': the stored plan has %zu collections, the "
                          "job %zu", id, j->plan.n, j->ncolls);
        goto out;
    }
    if (m == M_RETRY) {
        c.remake = xcalloc(j->ncolls + 1, 1);
        rc = vmig_job_retry_apply(j, ch, c.remake, err);
        if (rc) goto out;
    }
    rc = vmig_runner_secrets(&c, err);
    if (rc) goto out;
    vmig_job_endpoints(j, c.src_secret, c.dst_secret, &c.src, &c.dst);

    struct vmig_store_expect ex;
    vmig_job_expect_of(j, &ex);
    char host[256];
    vmig_job_host_name(host);
    int got = 0;
    int64_t now = (int64_t)vmig_wall_ms();
    rc = s->vt->job_claim(s, id, &ex, host, (int)getpid(), now, &got, err);
    if (rc) goto out;
    if (!got) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' was taken by another process", id);
        goto out;
    }
    if (claimed) *claimed = 1;
    if (ro->on_claim) ro->on_claim(ro->claim_ud, 1, NULL);
    j->status = VMIG_JOB_IN_PROGRESS;
    j->owner_pid = (int)getpid();
    snprintf(j->owner_host, sizeof j->owner_host, "%s", host);

    {
        char line[512];
        static const char *const verbs[] = {"started", "resumed", "retried", "restarted",
                                            "started by a worker"};
        snprintf(line, sizeof line, "job %s%s (pid %d on %s)", verbs[m],
                 ex.status == VMIG_JOB_IN_PROGRESS ? " after its process died" : "",
                 (int)getpid(), host);
        vmig_runner_log(&c, VMIG_LOG_INFO, NULL, "", line);
    }
    struct vmig_err first;
    vmig_err_clear(&first);
    enum vmig_job_status final;
    rc = vmig_runner_reserve(&c, m, err);
    if (!rc) rc = vmig_runner_prepare(&c, m, err);
    if (rc) {
        first = *err;
        final = VMIG_JOB_FAILED;
        goto finish;
    }
    if (j->opts.rejects[0]) {
        c.rejects = fopen(j->opts.rejects, "a");
        if (!c.rejects) {
            vmig_err_set(&first, VMIG_E_IO, "cannot open rejects file '%s'", j->opts.rejects);
            final = VMIG_JOB_FAILED;
            goto finish;
        }
    }
    if (vmig_task_mode(s, j)) {
        /* range tasks: seeded here, run by whoever claims them (this process too
         * unless it is a worker, which claims them in its own loop) */
        if ((rc = vmig_task_seed(&c, m, err))) {
            first = *err;
            final = VMIG_JOB_FAILED;
            goto finish;
        }
        if (ro->requeue) {
            rc = VMIG_OK;
            goto out;
        }
        rc = vmig_task_drive(&c, err);
        goto out;
    }
    vmig_runner_monitor(&c, 1);

    int nfail = 0, ncancel = 0, npending = 0;
    for (size_t i = 0; i < j->ncolls; i++) {
        enum vmig_job_status cs = j->coll[i].status;
        if (cs == VMIG_JOB_PENDING || cs == VMIG_JOB_IN_PROGRESS) cs = run_coll(&c, i, &first);
        j->coll[i].status = cs;
        nfail += cs == VMIG_JOB_FAILED;
        ncancel += cs == VMIG_JOB_CANCELLED;
        npending += cs == VMIG_JOB_PENDING;
    }
    final = npending ? VMIG_JOB_PENDING
            : ncancel ? VMIG_JOB_CANCELLED
            : nfail   ? VMIG_JOB_FAILED
                      : VMIG_JOB_SUCCESSFUL;
finish:
    vmig_runner_monitor(&c, 0);
    if (c.store_err.code && final == VMIG_JOB_SUCCESSFUL) {
        /* every collection ran, but one's final status is not in the store */
        final = VMIG_JOB_FAILED;
        first = c.store_err;
    }
    {
        char line[VMIG_ERR_MSG_MAX + 64];
        snprintf(line, sizeof line, "job %s", final == VMIG_JOB_PENDING
                                                  ? "interrupted; back to Pending"
                                                  : vmig_job_status_label(final));
        vmig_runner_log(&c, final == VMIG_JOB_FAILED ? VMIG_LOG_ERROR : VMIG_LOG_INFO, NULL, "",
                        line);
    }
    vmig_metrics_run_end(ro->metrics, &c.mfeed, id, final, c.ctx.stats); /* util/metrics.h */
    struct vmig_err fe;
    vmig_err_clear(&fe);
    rc = s->vt->job_finish(s, id, final, final == VMIG_JOB_FAILED ? first.msg : NULL,
                           (int64_t)vmig_wall_ms(), &fe);
    if (rc) {
        *err = fe;
        rc = vmig_runner_store_failed(&c, NULL, err);
        goto out;
    }
    if (c.store_err.code) {
        /* a collection's final status is not in the store: the run failed */
        *err = c.store_err;
        rc = VMIG_E_IO;
    } else if (final == VMIG_JOB_SUCCESSFUL)
        rc = VMIG_OK;
    else if (final == VMIG_JOB_FAILED) {
        *err = first;
        rc = first.code ? first.code : VMIG_E_INTERNAL;
    } else {
        rc = vmig_err_set(err, VMIG_E_CANCELLED, "job '%s' %s", id,
                          final == VMIG_JOB_PENDING ? "interrupted (back to Pending)"
                                                    : "cancelled (resume with `jobs resume`)");
    }
out:
    vmig_runctx_release(&c);
    return rc;
}

void vmig_job_run_opts_init(struct vmig_job_run_opts *ro)
{
    memset(ro, 0, sizeof *ro);
    ro->log_level = VMIG_LOG_WARN;
}

static const char *const action_names[] = {"run", "resume", "retry", "restart"};

const char *vmig_job_action_name(enum vmig_job_action a)
{
    return (unsigned)a < sizeof action_names / sizeof *action_names ? action_names[a] : "?";
}

int vmig_job_action_parse(const char *s, enum vmig_job_action *out)
{
    for (size_t i = 0; s && i < sizeof action_names / sizeof *action_names; i++)
        if (!strcmp(s, action_names[i])) {
            *out = (enum vmig_job_action)i;
            return 0;
        }
    return -1;
}

enum vmig_code vmig_job_act(struct vmig_store *s, const char *id, enum vmig_job_action action,
                            const struct vmig_job_retry_opts *ch,
                            const struct vmig_job_run_opts *ro, int *claimed, struct vmig_err *err)
{
    int got = 0;
    enum vmig_code rc;
    if ((unsigned)action > VMIG_JOB_RESTART)
        rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s': unknown action %d", id, (int)action);
    else
        rc = vmig_runner_run(s, id, (enum mode)action, action == VMIG_JOB_RETRY ? ch : NULL, ro,
                             &got, err);
    /* claimed runs heard it from run_mode right after the claim; a refusal ends there */
    if (!got && ro && ro->on_claim) ro->on_claim(ro->claim_ud, 0, err);
    if (claimed) *claimed = got;
    return rc;
}

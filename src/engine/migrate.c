/*
 * migrate.c - the migration of one collection as a table of phases: create the
 * target collection (and define its indexes on it while it is empty), ask for its
 * Load while it is empty (the load goes on while the data streams in, so nothing
 * waits for a Load of the whole collection at the end; a resume waits for it, its
 * Upserts need a loaded collection on real Milvus 2.6), copy (engine/copy.c), wait
 * until loaded, verify, and last the index build, which holds the collection only with
 * wait_index: Milvus searches a loaded collection whose indexes are defined but not
 * yet built, so the data is searchable as soon as it is in. Each phase that finishes is marked in the state and saved in one step, so a
 * resumed run skips what is done. The exactness argument: docs/internals/ENGINE.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/copy.h"
#include "engine/engine_int.h"
#include "util/log.h"
#include "util/retry.h"
#include "util/wait.h"
#include "vmig/migrate.h"
#include "vmig/verify.h"

const char *vmig_phase_name(enum vmig_coll_phase p)
{
    static const char *names[] = {"pending", "creating", "copying", "indexing",
                                  "loading", "verifying", "done"};
    return (unsigned)p < sizeof names / sizeof *names ? names[p] : "?";
}

void vmig_migrate_opts_init(struct vmig_migrate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->readers = 4;
    o->writers = 2;
    o->page_bytes = 8u << 20;
    o->verify_sample = 100;
}

void vmig_coll_state_init(struct vmig_coll_state *st)
{
    memset(st, 0, sizeof *st);
}

/* Set a flag of the state and save it (the one save-state step of every phase). */
static enum vmig_code mark(struct eng *e, int *flag, struct vmig_err *err)
{
    pthread_mutex_lock(&e->mu);
    *flag = 1;
    pthread_mutex_unlock(&e->mu);
    if (vmig_eng_save(e)) {
        vmig_err_set(err, VMIG_E_IO, "cannot save the state of collection '%s'", e->pc->source);
        vmig_err_at(err, e->pc->source, NULL, NULL);
        return VMIG_E_IO;
    }
    return VMIG_OK;
}

/* The create sequence failed half-way: take back the empty collection this job made. */
static void undo_create(struct eng *e, struct vmig_err *err)
{
    struct vmig_err de;
    vmig_err_clear(&de);
    size_t len = strlen(err->msg);
    if (e->tvt->drop_collection(e->t, e->pc->target, &de) == VMIG_OK) {
        pthread_mutex_lock(&e->mu);
        e->st->creating = 0;
        pthread_mutex_unlock(&e->mu);
        vmig_eng_save(e);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " [the empty target collection '%s' this job had created was dropped again]",
                 e->pc->target);
    } else {
        snprintf(err->msg + len, sizeof err->msg - len,
                 " [the empty target collection '%s' this job created is left behind (%s): "
                 "drop it in Milvus before running again]",
                 e->pc->target, de.msg);
    }
}

static enum vmig_code ph_create(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    (void)s;
    struct vmig_coll_state *st = e->st;
    const struct vmig_plan_coll *pc = e->pc;
    int exists = 0;
    enum vmig_code rc = e->tvt->has_collection(e->t, pc->target, &exists, err);
    if (rc) return rc;
    if (st->created && !exists) {
        vmig_run_log(e->ctx, VMIG_LOG_WARN, "target collection '%s' is gone; starting '%s' over",
                     pc->target, pc->source);
        vmig_coll_state_init(st);
    }
    if (st->created) return VMIG_OK;
    if (st->creating && exists) {
        /* stopped after CreateCollection was sent but before its checkpoint: the
         * collection is this job's (the intent was saved first, and the plan found no
         * such collection) and holds none of its points (nothing is written before
         * `created` is saved). Make it again, so its schema is surely the plan's. */
        vmig_run_log(e->ctx, VMIG_LOG_INFO,
                     "'%s' was being created when the job stopped; creating it again",
                     pc->target);
        if ((rc = e->tvt->drop_collection(e->t, pc->target, err))) return rc;
    } else if (exists) {
        /* someone else's collection (another tool, a person, a job of another store):
         * real Milvus answers CreateCollection for an identical one with success, so
         * this must be checked here, never left to the server */
        vmig_err_set(err, VMIG_E_EXISTS,
                     "target collection '%s' already exists and this job did not create it",
                     pc->target);
        vmig_err_at(err, pc->source, NULL, NULL);
        vmig_err_fix(err, VMIG_FIX_TARGET_NAME, NULL);
        return VMIG_E_EXISTS;
    }
    if ((rc = mark(e, &st->creating, err))) return rc;
    if ((rc = e->tvt->create_collection(e->t, pc, err))) return rc;
    /* Index definitions go on the empty collection, before any data: the server then
     * indexes segments as they seal during the copy, and nothing waits behind a
     * compaction for CreateIndex at the end (bench: 275 of 356 s on Milvus Lite). */
    if (!e->o->skip_index) {
        if ((rc = e->tvt->create_indexes(e->t, pc, err))) {
            undo_create(e, err);
            return rc;
        }
        st->indexed = 1;
    }
    return VMIG_OK;
}

/* A range task's run (o->steps without VMIG_STEP_RANGES) keeps the count its
 * collection's setup took: the exact count at the start of the copy. */
static enum vmig_code ph_copy(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    struct vmig_coll_state *st = e->st;
    uint64_t total = 0;
    struct vmig_src_coll sc;
    enum vmig_code rc = VMIG_OK;
    if (!e->o->read_share || !st->total) {
        if ((rc = e->svt->count(s, e->pc->source, &total, err))) return rc;
        st->total = total;
    }
    /* strict mode as it is now (it may have changed since the plan): page sizes and
     * the pace of reads stay within what the server allows */
    if ((rc = e->svt->info(s, e->pc->source, &sc, err))) return rc;
    if (sc.read_rate_limit > 0) {
        /* 10 % below the limit: other clients of the cluster read too */
        uint64_t per9 = (uint64_t)sc.read_rate_limit * 9u; /* 64-bit: any u32 limit */
        e->read_gap_ms = (600000u + per9 - 1) / per9;
        /* the range tasks of a collection may all read at once, on many machines:
         * each takes its share of the limit */
        if (e->o->read_share > 1) e->read_gap_ms *= (uint64_t)e->o->read_share;
        vmig_run_log(e->ctx, VMIG_LOG_INFO,
                     "collection '%s': the source allows %u reads per minute (strict mode): "
                     "one read every %llu ms",
                     e->pc->source, sc.read_rate_limit, (unsigned long long)e->read_gap_ms);
    }
    if (sc.max_query_limit > 0)
        vmig_run_log(e->ctx, VMIG_LOG_INFO,
                     "collection '%s': the source allows pages of at most %u points (strict "
                     "mode)",
                     e->pc->source, sc.max_query_limit);
    return vmig_eng_copy(e, s, err);
}

/* A collection's setup task (store.h): the exact count and the read ranges, planned
 * for o->readers range tasks and saved in the state; no point is copied. */
static enum vmig_code ph_ranges(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    uint64_t total = 0;
    enum vmig_code rc = e->svt->count(s, e->pc->source, &total, err);
    if (rc) return rc;
    if (!e->st->nranges) {
        e->st->total = total;
        vmig_eng_plan_ranges(e, s);
    }
    return vmig_eng_save(e)
               ? vmig_err_set(err, VMIG_E_IO, "cannot save the read ranges of '%s'", e->pc->source)
               : VMIG_OK;
}

/* Before the copy: ask for the Load of the (still empty) collection, and let it go on
 * while the rows stream in. A resume's Upserts need the collection loaded (real Milvus
 * 2.6), so a resumed copy waits for it here. */
static enum vmig_code ph_load_ask(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    (void)s;
    enum vmig_code rc = VMIG_OK;
    /* idempotent: defines what is missing (a job resumed from before the create) */
    if (!e->st->indexed && (rc = e->tvt->create_indexes(e->t, e->pc, err))) return rc;
    e->st->indexed = 1;
    int resuming = 0;
    for (size_t i = 0; i < e->st->nranges; i++) resuming |= e->st->range[i].hw_set;
    return e->tvt->load(e->t, e->pc->target, resuming || e->st->copied, err);
}

/* After the copy: the Load asked for before it is finished (usually long since). */
static enum vmig_code ph_load(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    (void)s;
    return e->tvt->load(e->t, e->pc->target, 1, err);
}

/* The job option verify_full: every point, the differences in a diff file (vmig/verify.h);
 * a finish interrupted here continues the verification from its state file. */
static enum vmig_code verify_full(struct eng *e, struct vmig_err *err)
{
    struct vmig_verify_result local, *vr = e->vr ? e->vr : &local;
    memset(vr, 0, sizeof *vr);
    vr->full = 1;
    if (vmig_vfull_diff_path(e->o->verify_diff, e->o->verify_job, e->pc->source, e->o->verify_colls,
                             vr->diff_path, sizeof vr->diff_path, err))
        return err->code;
    struct vmig_vfull_opts fo;
    struct vmig_vfull_result fr;
    vmig_vfull_opts_init(&fo);
    if (e->o->readers > 0) fo.readers = e->o->readers;
    fo.page_limit = e->o->page_limit;
    fo.diff_path = vr->diff_path;
    fo.ctx = e->ctx;
    fo.hooks.ud = e->o->hooks.ud;
    fo.hooks.progress = e->o->hooks.progress;
    enum vmig_code rc = vmig_verify_full(e->src, e->dst, e->pc, &fo, &fr, err);
    vmig_vfull_fold(&fr, rc, vr);
    return rc;
}

static enum vmig_code ph_verify(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    (void)s;
    if (e->o->verify_full) return verify_full(e, err);
    return vmig_verify_coll(e->src, e->dst, e->pc, e->o->verify_sample, e->st->rejected, e->ctx,
                            e->vr, err);
}

static enum vmig_code ph_index(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    (void)s;
    char what[VMIG_NAME_MAX + 32], progress[96];
    snprintf(what, sizeof what, "the index of collection '%s'", e->pc->target);
    struct vmig_wait w;
    vmig_wait_init(&w, e->ctx, vmig_wait_limit_ms(e->dst));
    for (;;) {
        uint64_t rows = 0, total = 0;
        int built = 0;
        enum vmig_code rc = e->tvt->index_progress(e->t, e->pc, &rows, &total, &built, err);
        if (rc) return rc;
        pthread_mutex_lock(&e->mu);
        e->st->index_rows = rows;
        e->st->index_total = total;
        e->st->index_built = built;
        pthread_mutex_unlock(&e->mu);
        vmig_eng_save(e); /* the job's readers (jobs show, the API) see the build go on */
        vmig_eng_progress(e, VMIG_PHASE_INDEXING, 1);
        if (built) {
            vmig_run_log(e->ctx, VMIG_LOG_INFO, "collection '%s': index built (%llu rows)",
                         e->pc->target, (unsigned long long)rows);
            return VMIG_OK;
        }
        if (!e->o->wait_index) {
            vmig_run_log(e->ctx, VMIG_LOG_INFO,
                         "collection '%s' is loaded and searchable; its index build goes on in "
                         "the server (%llu of %llu rows indexed)",
                         e->pc->target, (unsigned long long)rows, (unsigned long long)total);
            return VMIG_OK;
        }
        /* the collection is loaded and searchable whatever this wait ends with */
        snprintf(progress, sizeof progress, "%llu of %llu rows indexed", (unsigned long long)rows,
                 (unsigned long long)total);
        if ((rc = vmig_wait_next(&w, what, progress, "built", err))) return rc;
    }
}

/* The phases in order. `skip` says the phase need not run (done in an earlier run, or
 * switched off); `done` is the state flag set and saved when it finished (NULL: none,
 * it runs again on every resume). */
struct phase {
    unsigned step; /* VMIG_STEP_*: which kind of run does it (vmig_migrate_opts.steps) */
    enum vmig_coll_phase ph;
    enum vmig_code (*run)(struct eng *e, struct vmig_source *s, struct vmig_err *err);
    int (*skip)(const struct eng *e);
    int *(*done)(struct vmig_coll_state *st);
};

/* create always runs: it checks that a collection made earlier is still there */
static int skip_create(const struct eng *e) { (void)e; return 0; }
static int skip_copy(const struct eng *e) { return e->st->copied; }
static int skip_load(const struct eng *e) { return e->o->skip_index; }
static int skip_verify(const struct eng *e) { return e->o->verify_sample < 0 || e->o->skip_index; }
static int skip_index(const struct eng *e) { return e->o->skip_index || e->st->index_built; }
static int *done_created(struct vmig_coll_state *st) { return &st->created; }
static int *done_copied(struct vmig_coll_state *st) { return &st->copied; }
static int *done_loaded(struct vmig_coll_state *st) { return &st->loaded; }

static const struct phase phases[] = {
    {VMIG_STEP_CREATE, VMIG_PHASE_CREATING, ph_create, skip_create, done_created},
    {VMIG_STEP_LOAD_ASK, VMIG_PHASE_LOADING, ph_load_ask, skip_load, NULL},
    {VMIG_STEP_RANGES, VMIG_PHASE_COPYING, ph_ranges, skip_copy, NULL},
    {VMIG_STEP_COPY, VMIG_PHASE_COPYING, ph_copy, skip_copy, done_copied},
    {VMIG_STEP_FINISH, VMIG_PHASE_LOADING, ph_load, skip_load, done_loaded},
    {VMIG_STEP_FINISH, VMIG_PHASE_VERIFYING, ph_verify, skip_verify, NULL},
    {VMIG_STEP_FINISH, VMIG_PHASE_INDEXING, ph_index, skip_index, NULL},
};

enum vmig_code vmig_migrate_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_plan_coll *pc,
                                 const struct vmig_migrate_opts *o, struct vmig_coll_state *st,
                                 struct vmig_verify_result *vr, struct vmig_err *err)
{
    struct eng e;
    memset(&e, 0, sizeof e);
    e.src = src;
    e.dst = dst;
    e.pc = pc;
    e.o = o;
    e.ctx = o->ctx;
    e.st = st;
    e.vr = vr;
    e.svt = vmig_source_for(src);
    e.tvt = vmig_target_for(dst);
    e.t0 = vmig_now_ms();
    if (e.ctx && e.ctx->stats) {
        e.throttled0 = atomic_load(&e.ctx->stats->throttled);
        e.throttled_ms0 = atomic_load(&e.ctx->stats->throttled_ms);
    }
    pthread_mutex_init(&e.mu, NULL);
    pthread_mutex_init(&e.save_mu, NULL);
    pthread_cond_init(&e.flush_cv, NULL);
    vmig_layout_from_plan(&e.lay, pc, o->reject_oversize);
    struct vmig_source *s = NULL;
    enum vmig_code rc;

    if (vr) memset(vr, 0, sizeof *vr);
    if (pc->refusal.code != VMIG_OK) {
        *err = pc->refusal;
        rc = err->code;
        goto out;
    }
    if ((rc = e.tvt->open(dst, e.ctx, &e.t, err))) goto out;
    if ((rc = e.svt->open(src, e.ctx, &s, err))) goto out;
    unsigned steps = o->steps ? o->steps : VMIG_STEPS_WHOLE;
    for (size_t i = 0; i < sizeof phases / sizeof *phases; i++) {
        const struct phase *p = &phases[i];
        if (!(p->step & steps) || p->skip(&e)) continue;
        vmig_eng_progress(&e, p->ph, 1);
        if ((rc = p->run(&e, s, err))) goto out;
        if (p->done && (rc = mark(&e, p->done(st), err))) goto out;
    }
    if (steps & VMIG_STEP_FINISH) vmig_eng_progress(&e, VMIG_PHASE_DONE, 1);
out:
    if (s) e.svt->close(s);
    if (e.t) e.tvt->close(e.t);
    pthread_mutex_destroy(&e.mu);
    pthread_mutex_destroy(&e.save_mu);
    pthread_cond_destroy(&e.flush_cv);
    if (rc && rc != VMIG_E_CANCELLED) {
        /* the subject rule of error.h: name the collection once, then say it in err->coll */
        if (strcmp(err->coll, pc->source) != 0)
            vmig_err_prefix(err, "collection '%s': ", pc->source);
        vmig_err_at(err, pc->source, NULL, NULL);
    }
    if (rc && st->created && rc != VMIG_E_VERIFY) {
        /* never leave a half-written collection without saying so */
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " [target collection '%s' is left partially filled: %llu of %llu points; its "
                 "checkpoint allows a resume]",
                 pc->target, (unsigned long long)st->written, (unsigned long long)st->total);
    }
    return rc;
}

/*
 * copy.c - the copy phase of one collection: R reader threads scroll the source's
 * read ranges page by page and hand pages through a bounded queue to W writer
 * threads that insert them into the target; a flusher thread makes progress durable
 * every flush_ms. Pages come from a fixed pool, so memory stays flat and batches are
 * reused without per-page allocation after warm-up. The exactness bookkeeping (high-
 * water marks, acknowledgement windows, durable offsets) is engine/window.c.
 *
 * Target outages: a target that went away may drop writes it had acknowledged but
 * not flushed (Milvus Lite does when stopped mid-write). Persisted offsets only ever
 * move at a Flush that met no outage, so a crash at any moment resumes from offsets
 * the target surely holds. When the target's fault counter moves during a pass, the
 * pass is repeated from the durable offsets (a repair pass) until one completes
 * cleanly; pages below the high-water mark go with Upsert, so nothing doubles.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/copy.h"
#include "engine/copy_bulk.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"

struct page {
    struct vmig_batch b;
    size_t range;
    uint64_t seq;
    struct vmig_point_id next; /* resume offset after this page; NONE = range finished */
    int upsert;
};

int vmig_eng_stopped(const struct eng *e)
{
    return atomic_load(&e->stop) || vmig_run_cancelled(e->ctx);
}

int vmig_eng_save(struct eng *e)
{
    if (!e->o->hooks.checkpoint) return 0;
    pthread_mutex_lock(&e->save_mu);
    pthread_mutex_lock(&e->mu);
    struct vmig_coll_state snap = *e->st;
    pthread_mutex_unlock(&e->mu);
    int rc = e->o->hooks.checkpoint(e->o->hooks.ud, &snap);
    pthread_mutex_unlock(&e->save_mu);
    return rc;
}

void vmig_eng_progress(struct eng *e, enum vmig_coll_phase phase, int force)
{
    if (!e->o->hooks.progress) return;
    uint64_t now = vmig_now_ms();
    struct vmig_progress p = {0};
    pthread_mutex_lock(&e->mu);
    if (!force && now - e->last_progress < 200) {
        pthread_mutex_unlock(&e->mu);
        return;
    }
    e->last_progress = now;
    p.coll = e->pc->source;
    p.phase = phase;
    p.total = e->st->total;
    p.read = e->st->read;
    p.written = e->st->written;
    p.bytes = e->st->bytes;
    p.index_rows = e->st->index_rows;
    p.index_total = e->st->index_total;
    double secs = (double)(now - e->t0) / 1000.0;
    p.points_per_s = secs > 0 ? (double)e->run_written / secs : 0;
    pthread_mutex_unlock(&e->mu);
    if (e->ctx && e->ctx->stats) {
        p.throttled = atomic_load(&e->ctx->stats->throttled) - e->throttled0;
        p.throttled_ms = atomic_load(&e->ctx->stats->throttled_ms) - e->throttled_ms0;
    }
    p.eta_s = -1;
    if (p.points_per_s > 0 && p.total >= p.written)
        p.eta_s = (double)(p.total - p.written) / p.points_per_s;
    e->o->hooks.progress(e->o->hooks.ud, &p);
}

/* First error wins; every thread stops soon after. Caller holds no lock. */
static void fail(struct eng *e, enum vmig_code rc, const struct vmig_err *err)
{
    pthread_mutex_lock(&e->mu);
    if (e->rc == VMIG_OK) {
        e->rc = rc;
        e->err = *err;
    }
    atomic_store(&e->stop, 1);
    pthread_mutex_unlock(&e->mu);
    vmig_queue_close(&e->work);
    vmig_queue_close(&e->pool);
}

static void fail_save(struct eng *e)
{
    struct vmig_err err;
    vmig_err_set(&err, VMIG_E_IO, "cannot save the checkpoint of collection '%s'",
                 e->pc->source);
    vmig_err_at(&err, e->pc->source, NULL, NULL);
    fail(e, VMIG_E_IO, &err);
}

/* Points per page, sized by bytes (the source connector keeps it within the
 * collection's strict-mode max_query_limit). */
static uint32_t limit_for(const struct eng *e, size_t per_point)
{
    size_t lim = e->o->page_bytes / per_point;
    return (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
}

/* Under a strict-mode read rate, wait for this reader's turn (readers share one
 * pace); 0, or nonzero when the run was cancelled meanwhile. */
static int pace(struct eng *e)
{
    if (!e->read_gap_ms) return 0;
    pthread_mutex_lock(&e->mu);
    uint64_t now = vmig_now_ms(), at = e->next_read_ms > now ? e->next_read_ms : now;
    e->next_read_ms = at + e->read_gap_ms;
    pthread_mutex_unlock(&e->mu);
    return at > now ? vmig_run_sleep(e->ctx, (int)(at - now)) : 0;
}

static uint32_t initial_limit(const struct eng *e)
{
    if (e->o->page_limit) return e->o->page_limit;
    /* JSON weighs ~12.5 bytes per float; sparse and payload guessed at 2 KiB */
    size_t per_point = 64 + 2048;
    for (size_t c = 0; c < e->lay.ncols; c++)
        per_point += e->lay.col[c].sparse ? 2048 : (size_t)e->lay.col[c].dim * 13;
    return limit_for(e, per_point);
}

/* A range not yet done and not taken in this pass, or -1. */
static long take_range(struct eng *e, struct vmig_range *rg)
{
    long ri = -1;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->st->nranges; i++)
        if (!e->win.r[i].durable.done && !e->win.r[i].taken) {
            e->win.r[i].taken = 1;
            *rg = e->st->range[i];
            rg->start = e->win.r[i].durable.start;
            ri = (long)i;
            break;
        }
    pthread_mutex_unlock(&e->mu);
    return ri;
}

static void *reader_main(void *arg)
{
    struct eng *e = arg;
    struct vmig_source *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = e->svt->open(e->src, e->ctx, &s, &err);
    if (rc) {
        fail(e, rc, &err);
        return NULL;
    }
    struct vmig_range rg;
    long ri;
    while (!vmig_eng_stopped(e) && (ri = take_range(e, &rg)) >= 0) {
        struct vmig_point_id offset = rg.start;
        uint32_t limit = initial_limit(e);
        while (!vmig_eng_stopped(e)) {
            if (pace(e)) goto out; /* before taking a page: a waiting reader holds none */
            struct page *pg = vmig_queue_pop(&e->pool);
            if (!pg) goto out;
            vmig_batch_reset(&pg->b);
            struct vmig_read_req req = {0};
            req.coll = e->pc->source;
            req.layout = &e->lay;
            req.offset = offset;
            req.limit = limit;
            req.slice_total = rg.slice_total;
            req.slice_index = rg.slice_index;
            struct vmig_point_id next = {0};
            size_t page_bytes = 0;
            vmig_err_clear(&err);
            rc = e->svt->read(s, &req, &pg->b, &next, &page_bytes, &err);
            if (rc) {
                vmig_queue_push(&e->pool, pg);
                fail(e, rc, &err);
                goto out;
            }
            if (rg.end.kind != VMIG_ID_NONE &&
                (vmig_batch_clip(&pg->b, &rg.end) || next.kind == VMIG_ID_NONE ||
                 vmig_point_id_cmp(&next, &rg.end) >= 0))
                memset(&next, 0, sizeof next); /* the half-open range ends here */
            size_t rows = pg->b.n + pg->b.nrejects;
            if (!e->o->page_limit && rows > 0 && page_bytes > 0)
                limit = limit_for(e, page_bytes / rows + 1);
            pg->range = (size_t)ri;
            pg->next = next;

            pthread_mutex_lock(&e->mu);
            pg->seq = vmig_window_out(&e->win, e->st, (size_t)ri, &offset, &next, &pg->upsert);
            e->st->read += pg->b.n;
            pthread_mutex_unlock(&e->mu);
            /* the moved high-water mark is persisted before the page can reach the target */
            if (vmig_eng_save(e)) {
                vmig_queue_push(&e->pool, pg);
                fail_save(e);
                goto out;
            }
            if (vmig_queue_push(&e->work, pg)) goto out;
            if (next.kind == VMIG_ID_NONE) break;
            offset = next;
        }
    }
out:
    e->svt->close(s);
    return NULL;
}

static void *writer_main(void *arg)
{
    struct eng *e = arg;
    struct vmig_err err;
    struct page *pg;
    while ((pg = vmig_queue_pop(&e->work))) {
        if (vmig_eng_stopped(e)) {
            vmig_queue_push(&e->pool, pg);
            continue;
        }
        enum vmig_code rc = VMIG_OK;
        vmig_err_clear(&err);
        if (pg->b.n) rc = e->tvt->write(e->t, e->pc, &pg->b, pg->upsert, &err);
        if (rc) {
            vmig_queue_push(&e->pool, pg);
            fail(e, rc, &err);
            continue;
        }
        for (size_t i = 0; i < pg->b.nrejects && e->o->hooks.reject; i++)
            e->o->hooks.reject(e->o->hooks.ud, e->pc->source, &pg->b.rejects[i].id,
                               pg->b.rejects[i].reason);
        size_t bytes = vmig_batch_payload_bytes(&pg->b);
        pthread_mutex_lock(&e->mu);
        e->st->written += pg->b.n;
        e->run_written += pg->b.n;
        e->st->bytes += bytes;
        e->st->rejected += pg->b.nrejects;
        e->st->nulls_dropped += pg->b.nulls_dropped;
        e->st->misfits += pg->b.misfits;
        vmig_window_ack(&e->win, pg->range, pg->seq, &pg->next, pg->b.n);
        pthread_mutex_unlock(&e->mu);
        vmig_queue_push(&e->pool, pg);
        vmig_eng_progress(e, VMIG_PHASE_COPYING, 0);
    }
    return NULL;
}

static int cmp_ids(const void *a, const void *b)
{
    return vmig_point_id_cmp(a, b);
}

/* Boundaries of n half-open id ranges from a random sample of ids (servers without
 * the slice filter). Returns how many boundaries (0 = no split). */
static size_t split_by_sample(struct eng *e, struct vmig_source *s, int n,
                              struct vmig_point_id *bounds)
{
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_err err;
    memset(&lay, 0, sizeof lay);
    lay.coll = e->pc->source;
    vmig_batch_init(&b, &lay);
    vmig_err_clear(&err);
    size_t k = 0;
    if (!e->svt->sample_ids || e->svt->sample_ids(s, e->pc->source, (size_t)n * 32, &b, &err)) {
        vmig_run_log(e->ctx, VMIG_LOG_INFO,
                     "collection '%s': no slice filter and no id sample (%s); reading it as one "
                     "range",
                     e->pc->source, err.msg[0] ? err.msg : "unsupported");
        goto out;
    }
    if (b.n < (size_t)n) goto out;
    qsort(b.ids, b.n, sizeof *b.ids, cmp_ids);
    for (int i = 1; i < n; i++) {
        const struct vmig_point_id *c = &b.ids[(size_t)i * b.n / (size_t)n];
        if (k && vmig_point_id_cmp(&bounds[k - 1], c) >= 0) continue;
        bounds[k++] = *c;
    }
out:
    vmig_batch_release(&b);
    return k;
}

/* Read ranges of a fresh copy: Qdrant slices when the server has them, else half-open
 * id ranges [b(i-1), b(i)) cut at sampled ids, else one sequential range. */
void vmig_eng_plan_ranges(struct eng *e, struct vmig_source *s)
{
    struct vmig_coll_state *st = e->st;
    if (st->nranges) return; /* resuming: keep the persisted ranges */
    int n = e->o->readers > 0 ? e->o->readers : 1;
    if (n > VMIG_MAX_RANGES) n = VMIG_MAX_RANGES;
    if (n == 1 || st->total < 1000) n = 1;
    memset(st->range, 0, sizeof st->range);
    char ver[64];
    struct vmig_err err;
    vmig_err_clear(&err);
    int has_slices = n > 1 && e->svt->probe(s, ver, sizeof ver, &err) == VMIG_OK &&
                     e->svt->has_slices(s);
    if (n > 1 && has_slices) {
        st->nranges = (size_t)n;
        for (int i = 0; i < n; i++) {
            st->range[i].slice_total = (uint32_t)n;
            st->range[i].slice_index = (uint32_t)i;
        }
        return;
    }
    struct vmig_point_id bounds[VMIG_MAX_RANGES];
    size_t nb = n > 1 ? split_by_sample(e, s, n, bounds) : 0;
    st->nranges = nb + 1;
    for (size_t i = 0; i <= nb; i++) {
        if (i > 0) st->range[i].start = bounds[i - 1];
        if (i < nb) st->range[i].end = bounds[i];
    }
}

/* One durable step: snapshot what is acknowledged, Flush (through t: the run's handle,
 * or the last flush's own after a cancel), and if the target met no outage since the
 * last durable step, make the snapshot durable and persist it; else the pass must be
 * repeated. Caller holds no lock. */
static enum vmig_code flush_step_on(struct eng *e, struct vmig_target *t, struct vmig_err *err)
{
    struct vmig_window_pos snap[VMIG_MAX_RANGES];
    pthread_mutex_lock(&e->mu);
    vmig_window_snapshot(&e->win, snap);
    pthread_mutex_unlock(&e->mu);
    enum vmig_code rc = e->tvt->flush(t, e->pc->target, err);
    int faulted = e->tvt->faults(e->t) != e->faults_at_durable ||
                  (t != e->t && e->tvt->faults(t) != 0);
    int moved = 0;
    pthread_mutex_lock(&e->mu);
    if (faulted) {
        if (!e->need_repair)
            vmig_run_log(e->ctx, VMIG_LOG_WARN,
                         "collection '%s': the target was unavailable during the copy; the "
                         "writes since the last flush will be re-sent with Upsert",
                         e->pc->source);
        e->need_repair = 1;
    } else if (rc == VMIG_OK && !e->need_repair) {
        vmig_window_durable(&e->win, e->st, snap);
        moved = 1;
    }
    pthread_mutex_unlock(&e->mu);
    if (rc) return rc;
    if (moved && vmig_eng_save(e)) {
        vmig_err_set(err, VMIG_E_IO, "cannot save the checkpoint of collection '%s'",
                     e->pc->source);
        vmig_err_at(err, e->pc->source, NULL, NULL);
        return VMIG_E_IO;
    }
    return VMIG_OK;
}

static enum vmig_code flush_step(struct eng *e, struct vmig_err *err)
{
    return flush_step_on(e, e->t, err);
}

#define LAST_FLUSH_MS 5000 /* the bound of the flush that keeps a cancelled run's progress: a new
                            * handle and a Flush of what was acknowledged, on a loaded machine */

/* A cancelled run's last flush: what the target acknowledged becomes durable, so the
 * resume does not redo it. The run's own handle ends every call on the cancel, so this
 * one goes through a handle of its own whose context ends by itself within
 * LAST_FLUSH_MS. Skipped after an outage (nothing since the last durable step counts). */
static enum vmig_code last_flush(struct eng *e, struct vmig_err *err)
{
    if (e->need_repair || e->tvt->faults(e->t) != e->faults_at_durable) return VMIG_OK;
    /* rows in import files only the run's handle can import: they stay not durable */
    if (vmig_eng_bulk_pending(e)) return VMIG_OK;
    struct vmig_run_ctx g;
    vmig_run_ctx_init(&g);
    if (e->ctx) {
        g.log = e->ctx->log;
        g.log_ud = e->ctx->log_ud;
        g.log_level = e->ctx->log_level;
    }
    if (e->ctx) g.stats = e->ctx->stats; /* its rate limits count with the run's */
    g.deadline_ms = vmig_now_ms() + LAST_FLUSH_MS;
    struct vmig_target *t = NULL;
    enum vmig_code rc = e->tvt->open(e->dst, &g, &t, err);
    if (rc) return rc;
    rc = flush_step_on(e, t, err);
    e->tvt->close(t);
    return rc;
}

static void *flusher_main(void *arg)
{
    struct eng *e = arg;
    int every = e->o->flush_ms > 0 ? e->o->flush_ms : 30000;
    pthread_mutex_lock(&e->mu);
    while (!e->copy_finished && !atomic_load(&e->stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += every / 1000;
        ts.tv_nsec += (long)(every % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int w = pthread_cond_timedwait(&e->flush_cv, &e->mu, &ts);
        if (w != ETIMEDOUT || e->copy_finished || atomic_load(&e->stop)) continue;
        pthread_mutex_unlock(&e->mu);
        struct vmig_err err;
        vmig_err_clear(&err);
        enum vmig_code rc = flush_step(e, &err);
        if (rc && rc != VMIG_E_CANCELLED) fail(e, rc, &err);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* One pass: readers + writers (+ the flusher) over every range not durably done. */
static enum vmig_code copy_pass(struct eng *e, struct vmig_err *err)
{
    int nr = e->o->readers > 0 ? e->o->readers : 1;
    int nw = e->o->writers > 0 ? e->o->writers : 1;
    if ((size_t)nr > e->st->nranges) nr = (int)e->st->nranges;
    int depth = e->o->queue_depth > 0 ? e->o->queue_depth : 2 * nw;
    size_t npages = (size_t)(depth + nr + nw);
    struct page *pages = xcalloc(npages, sizeof *pages);
    pthread_t *th = xcalloc((size_t)(nr + nw), sizeof *th);
    pthread_t flusher;
    int started = 0, have_flusher = 0;

    pthread_mutex_lock(&e->mu);
    vmig_window_start(&e->win, e->st);
    e->st->written = vmig_window_durable_points(&e->win);
    e->copy_finished = 0;
    e->need_repair = 0;
    e->faults_at_durable = e->tvt->faults(e->t);
    pthread_mutex_unlock(&e->mu);
    vmig_queue_init(&e->work, (size_t)depth);
    vmig_queue_init(&e->pool, npages);
    for (size_t i = 0; i < npages; i++) {
        vmig_batch_init(&pages[i].b, &e->lay);
        vmig_queue_push(&e->pool, &pages[i]);
    }
    for (int i = 0; i < nw; i++)
        if (pthread_create(&th[started], NULL, writer_main, e) == 0) started++;
    int nwriters = started;
    for (int i = 0; i < nr; i++)
        if (pthread_create(&th[started], NULL, reader_main, e) == 0) started++;
    have_flusher = pthread_create(&flusher, NULL, flusher_main, e) == 0;
    /* readers first: when they are all done, no more work will come */
    for (int i = nwriters; i < started; i++) pthread_join(th[i], NULL);
    vmig_queue_close(&e->work);
    for (int i = 0; i < nwriters; i++) pthread_join(th[i], NULL);
    pthread_mutex_lock(&e->mu);
    e->copy_finished = 1;
    pthread_cond_broadcast(&e->flush_cv);
    pthread_mutex_unlock(&e->mu);
    if (have_flusher) pthread_join(flusher, NULL);

    enum vmig_code rc = e->rc;
    if (rc) *err = e->err;
    else if (vmig_run_cancelled(e->ctx))
        rc = vmig_err_set(err, VMIG_E_CANCELLED, "migration of '%s' cancelled", e->pc->source);
    if (rc == VMIG_OK || rc == VMIG_E_CANCELLED) {
        /* the final durable step: everything acknowledged so far */
        struct vmig_err fe;
        vmig_err_clear(&fe);
        enum vmig_code frc = rc == VMIG_OK ? flush_step(e, &fe) : last_flush(e, &fe);
        if (frc && rc == VMIG_OK) {
            rc = frc;
            *err = fe;
        }
    }

    for (size_t i = 0; i < npages; i++) vmig_batch_release(&pages[i].b);
    vmig_queue_release(&e->work);
    vmig_queue_release(&e->pool);
    free(pages);
    free(th);
    return rc;
}

enum vmig_code vmig_eng_copy(struct eng *e, struct vmig_source *s, struct vmig_err *err)
{
    enum vmig_code rc = vmig_eng_bulk_start(e, err); /* rows or bulk import (copy_bulk.c) */
    if (rc) return rc;
    vmig_eng_plan_ranges(e, s);
    for (int pass = 0;; pass++) {
        rc = copy_pass(e, err);
        if (rc || !e->need_repair) break;
        if (pass >= 20) {
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "the target kept failing during the copy of '%s' (%d passes)",
                              e->pc->source, pass + 1);
            vmig_err_at(err, e->pc->source, NULL, NULL);
            break;
        }
        vmig_run_log(e->ctx, VMIG_LOG_WARN,
                     "collection '%s': repair pass %d re-sends the writes since the last good "
                     "flush",
                     e->pc->source, pass + 1);
    }
    pthread_mutex_lock(&e->mu);
    e->st->written = vmig_window_durable_points(&e->win);
    for (size_t i = 0; !rc && i < e->st->nranges; i++)
        if (!e->st->range[i].done)
            rc = vmig_err_set(err, VMIG_E_INTERNAL, "range %zu of '%s' not finished", i,
                              e->pc->source);
    pthread_mutex_unlock(&e->mu);
    vmig_window_release(&e->win);
    return rc;
}

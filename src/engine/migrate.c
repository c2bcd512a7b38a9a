/*
 * migrate.c - the migration engine for one collection: R reader threads scroll
 * the source's read ranges page by page, hand pages through a bounded queue to W
 * writer threads that insert them into the target, and a per-range acknowledgement
 * window tracks, for each range, the offset below which every page is acknowledged.
 * Pages come from a fixed pool, so memory stays flat and batches are reused without
 * per-page allocation after warm-up.
 *
 * Target outages: a target that went away may drop writes it had acknowledged but
 * not flushed (Milvus Lite does when stopped mid-write). The engine keeps, in memory,
 * the offsets made durable by the last Flush that met no outage (a flusher thread
 * flushes every flush_ms and at the end of a pass). When the target's fault counter
 * moves, the persisted resume offsets fall back to those durable ones at once, and
 * the pass is repeated from them (a repair pass) until one completes cleanly.
 *
 * Exactness on resume and repair: before a page is queued, its range's high-water
 * mark (hw) moves past it and is checkpointed; pages that start below hw may already
 * be in the target and are written with Upsert, pages above it were never sent and
 * use Insert (Milvus Insert never de-duplicates).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch/batch.h"
#include "engine/engine_int.h"
#include "source/source.h"
#include "target/target.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/queue.h"
#include "util/retry.h"
#include "vmig/migrate.h"

struct page {
    struct vmig_batch b;
    size_t range;
    uint64_t seq;
    struct vmig_point_id next; /* resume offset after this page; NONE = range finished */
    int upsert;
};

struct pend {
    uint64_t seq;
    struct vmig_point_id next;
};

struct rstate {
    uint64_t seq_next; /* next sequence number a reader gives a page */
    uint64_t ack_next; /* next sequence number expected by the ack window */
    struct pend *pend; /* acknowledged out of order */
    size_t npend, cappend;
    int taken;
    /* acknowledged, not yet known durable: becomes range.start/done/points at a flush */
    struct vmig_point_id acked;
    int acked_done;
    uint64_t acked_points;
};

struct run {
    const struct vmig_endpoint *src, *dst;
    const struct vmig_plan_coll *pc;
    const struct vmig_migrate_opts *o;
    struct vmig_coll_state *st;
    struct vmig_layout lay;
    struct vmig_target *t;
    const struct vmig_source_vt *svt;
    const struct vmig_target_vt *tvt;

    pthread_mutex_t mu;
    struct vmig_queue work, pool;
    struct rstate rs[VMIG_MAX_RANGES];
    volatile int stop;
    enum vmig_code rc;
    struct vmig_err err;
    uint64_t t0, last_progress;
    uint64_t run_written;
    /* flusher */
    pthread_cond_t flush_cv;
    int copy_finished;   /* readers and writers of this pass are done */
    int need_repair;     /* the target had an outage since the last durable flush */
    uint64_t faults_at_durable;
    struct {
        struct vmig_point_id start;
        int done;
        uint64_t points;
    } durable[VMIG_MAX_RANGES]; /* range offsets as of the last clean Flush */
};

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

/* First error wins; every thread stops soon after. Caller holds no lock. */
static void fail(struct run *r, enum vmig_code rc, const struct vmig_err *e)
{
    pthread_mutex_lock(&r->mu);
    if (r->rc == VMIG_OK) {
        r->rc = rc;
        r->err = *e;
    }
    r->stop = 1;
    pthread_mutex_unlock(&r->mu);
    vmig_queue_close(&r->work);
    vmig_queue_close(&r->pool);
}

static int cancelled(const struct run *r)
{
    return r->stop || (r->o->cancel && *r->o->cancel);
}

static void progress(struct run *r, enum vmig_coll_phase phase, int force)
{
    if (!r->o->hooks.progress) return;
    uint64_t now = vmig_now_ms();
    if (!force && now - r->last_progress < 200) return;
    r->last_progress = now;
    struct vmig_progress p = {0};
    p.coll = r->pc->source;
    p.phase = phase;
    p.total = r->st->total;
    p.read = r->st->read;
    p.written = r->st->written;
    p.bytes = r->st->bytes;
    double secs = (double)(now - r->t0) / 1000.0;
    p.points_per_s = secs > 0 ? (double)r->run_written / secs : 0;
    p.eta_s = -1;
    if (p.points_per_s > 0 && p.total >= p.written)
        p.eta_s = (double)(p.total - p.written) / p.points_per_s;
    r->o->hooks.progress(r->o->hooks.ud, &p);
}

/* Caller holds r->mu. */
static int checkpoint(struct run *r)
{
    if (!r->o->hooks.checkpoint) return 0;
    return r->o->hooks.checkpoint(r->o->hooks.ud, r->st);
}

/* Caller holds r->mu: the target had an outage; persisted offsets fall back to the
 * last durable ones and the pass will be repeated from there. */
static void fall_back(struct run *r)
{
    if (r->need_repair) return;
    r->need_repair = 1;
    VLOG_WARN("collection '%s': the target was unavailable during the copy; the writes since "
              "the last flush will be re-sent with Upsert",
              r->pc->source);
    for (size_t i = 0; i < r->st->nranges; i++) {
        r->st->range[i].start = r->durable[i].start;
        r->st->range[i].done = r->durable[i].done;
        r->st->range[i].points = r->durable[i].points;
    }
}

/* Caller holds r->mu: page seq of range ri is acknowledged. */
static void ack(struct run *r, size_t ri, uint64_t seq, const struct vmig_point_id *next)
{
    struct rstate *rs = &r->rs[ri];
    if (seq != rs->ack_next) {
        xgrow((void **)&rs->pend, &rs->cappend, rs->npend + 1, sizeof *rs->pend);
        rs->pend[rs->npend].seq = seq;
        rs->pend[rs->npend].next = *next;
        rs->npend++;
        return;
    }
    struct vmig_point_id cur = *next;
    for (;;) {
        rs->ack_next++;
        if (cur.kind == VMIG_ID_NONE) rs->acked_done = 1;
        else rs->acked = cur;
        if (!r->need_repair) {
            struct vmig_range *rg = &r->st->range[ri];
            rg->start = rs->acked;
            rg->done = rs->acked_done;
            rg->points = rs->acked_points;
        }
        size_t i;
        for (i = 0; i < rs->npend; i++)
            if (rs->pend[i].seq == rs->ack_next) break;
        if (i == rs->npend) break;
        cur = rs->pend[i].next;
        rs->pend[i] = rs->pend[--rs->npend];
    }
}

static uint32_t initial_limit(const struct run *r)
{
    if (r->o->page_limit) return r->o->page_limit;
    /* JSON weighs ~12.5 bytes per float; sparse and payload guessed at 2 KiB */
    size_t per_point = 64 + 2048;
    for (size_t c = 0; c < r->lay.ncols; c++)
        per_point += r->lay.col[c].sparse ? 2048 : (size_t)r->lay.col[c].dim * 13;
    size_t lim = r->o->page_bytes / per_point;
    return (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
}

static void *reader_main(void *arg)
{
    struct run *r = arg;
    struct vmig_source *s = NULL;
    struct vmig_err e;
    vmig_err_clear(&e);
    enum vmig_code rc = r->svt->open(r->src, &s, &e);
    if (rc) {
        fail(r, rc, &e);
        return NULL;
    }
    for (;;) {
        size_t ri;
        pthread_mutex_lock(&r->mu);
        for (ri = 0; ri < r->st->nranges; ri++)
            if (!r->st->range[ri].done && !r->rs[ri].taken) break;
        if (ri < r->st->nranges) r->rs[ri].taken = 1;
        struct vmig_range rg = ri < r->st->nranges ? r->st->range[ri] : (struct vmig_range){0};
        pthread_mutex_unlock(&r->mu);
        if (ri >= r->st->nranges) break;

        struct vmig_point_id offset = rg.start;
        uint32_t limit = initial_limit(r);
        while (!cancelled(r)) {
            struct page *pg = vmig_queue_pop(&r->pool);
            if (!pg) goto out;
            vmig_batch_reset(&pg->b);
            struct vmig_read_req req = {0};
            req.coll = r->pc->source;
            req.layout = &r->lay;
            req.offset = offset;
            req.limit = limit;
            req.slice_total = rg.slice_total;
            req.slice_index = rg.slice_index;
            struct vmig_point_id next = {0};
            size_t page_bytes = 0;
            vmig_err_clear(&e);
            rc = r->svt->read(s, &req, &pg->b, &next, &page_bytes, &e);
            if (rc) {
                vmig_queue_push(&r->pool, pg);
                fail(r, rc, &e);
                goto out;
            }
            /* half-open range: stop at the first id >= end */
            if (rg.end.kind != VMIG_ID_NONE) {
                size_t k;
                for (k = 0; k < pg->b.n; k++)
                    if (vmig_point_id_cmp(&pg->b.ids[k], &rg.end) >= 0) break;
                if (k < pg->b.n) vmig_batch_truncate(&pg->b, k);
                size_t kept = 0; /* rejected rows past the end belong to the next range */
                for (size_t j = 0; j < pg->b.nrejects; j++)
                    if (vmig_point_id_cmp(&pg->b.rejects[j].id, &rg.end) < 0)
                        pg->b.rejects[kept++] = pg->b.rejects[j];
                pg->b.nrejects = kept;
                if (k < pg->b.n || next.kind == VMIG_ID_NONE ||
                    vmig_point_id_cmp(&next, &rg.end) >= 0)
                    memset(&next, 0, sizeof next);
            }
            size_t rows = pg->b.n + pg->b.nrejects;
            if (!r->o->page_limit && rows > 0 && page_bytes > 0) {
                size_t per = page_bytes / rows + 1;
                size_t lim = r->o->page_bytes / per;
                limit = (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
            }
            pg->range = ri;
            pg->next = next;

            pthread_mutex_lock(&r->mu);
            struct vmig_range *live = &r->st->range[ri];
            pg->seq = r->rs[ri].seq_next++;
            /* may this page already be in the target from an earlier run? */
            pg->upsert = live->hw_set && (live->hw.kind == VMIG_ID_NONE ||
                                          vmig_point_id_cmp(&offset, &live->hw) < 0);
            if (!live->hw_set || live->hw.kind != VMIG_ID_NONE) {
                if (next.kind == VMIG_ID_NONE || !live->hw_set ||
                    vmig_point_id_cmp(&next, &live->hw) > 0)
                    live->hw = next;
                live->hw_set = 1;
            }
            r->st->read += pg->b.n;
            int cerr = checkpoint(r);
            pthread_mutex_unlock(&r->mu);
            if (cerr) {
                vmig_queue_push(&r->pool, pg);
                vmig_err_set(&e, VMIG_E_IO, "cannot save checkpoint of collection '%s'",
                             r->pc->source);
                fail(r, VMIG_E_IO, &e);
                goto out;
            }
            if (vmig_queue_push(&r->work, pg)) goto out;
            if (next.kind == VMIG_ID_NONE) break;
            offset = next;
        }
        if (cancelled(r)) break;
    }
out:
    r->svt->close(s);
    return NULL;
}

static void *writer_main(void *arg)
{
    struct run *r = arg;
    struct vmig_err e;
    struct page *pg;
    while ((pg = vmig_queue_pop(&r->work))) {
        if (cancelled(r)) {
            vmig_queue_push(&r->pool, pg);
            continue;
        }
        enum vmig_code rc = VMIG_OK;
        vmig_err_clear(&e);
        if (pg->b.n) rc = r->tvt->write(r->t, r->pc, &pg->b, pg->upsert, &e);
        if (rc) {
            vmig_queue_push(&r->pool, pg);
            fail(r, rc, &e);
            continue;
        }
        for (size_t i = 0; i < pg->b.nrejects && r->o->hooks.reject; i++)
            r->o->hooks.reject(r->o->hooks.ud, r->pc->source, &pg->b.rejects[i].id,
                               pg->b.rejects[i].reason);
        pthread_mutex_lock(&r->mu);
        size_t bytes = 0;
        for (size_t c = 0; c < pg->b.ncols; c++) bytes += pg->b.col[c].data.len;
        bytes += pg->b.meta.len;
        r->st->written += pg->b.n;
        r->run_written += pg->b.n;
        r->st->bytes += bytes;
        r->st->rejected += pg->b.nrejects;
        r->st->nulls_dropped += pg->b.nulls_dropped;
        r->rs[pg->range].acked_points += pg->b.n;
        if (r->tvt->faults(r->t) != r->faults_at_durable) fall_back(r);
        ack(r, pg->range, pg->seq, &pg->next);
        int cerr = checkpoint(r);
        progress(r, VMIG_PHASE_COPYING, 0);
        pthread_mutex_unlock(&r->mu);
        vmig_queue_push(&r->pool, pg);
        if (cerr) {
            vmig_err_set(&e, VMIG_E_IO, "cannot save checkpoint of collection '%s'",
                         r->pc->source);
            fail(r, VMIG_E_IO, &e);
        }
    }
    return NULL;
}

static int cmp_ids(const void *a, const void *b)
{
    return vmig_point_id_cmp(a, b);
}

/* Boundaries of n half-open id ranges from a random sample of ids (servers without
 * the slice filter). Returns how many boundaries (0 = no split). */
static size_t split_by_sample(struct run *r, struct vmig_source *s, int n,
                              struct vmig_point_id *bounds)
{
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_err e;
    memset(&lay, 0, sizeof lay);
    lay.coll = r->pc->source;
    vmig_batch_init(&b, &lay);
    vmig_err_clear(&e);
    size_t k = 0;
    if (!r->svt->sample_ids || r->svt->sample_ids(s, r->pc->source, (size_t)n * 32, &b, &e)) {
        VLOG_INFO("collection '%s': no slice filter and no id sample (%s); reading it as one "
                  "range",
                  r->pc->source, e.msg[0] ? e.msg : "unsupported");
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
static void plan_ranges(struct run *r, struct vmig_source *s, int has_slices)
{
    struct vmig_coll_state *st = r->st;
    if (st->nranges) return; /* resuming: keep the persisted ranges */
    int n = r->o->readers > 0 ? r->o->readers : 1;
    if (n > VMIG_MAX_RANGES) n = VMIG_MAX_RANGES;
    if (n == 1 || st->total < 1000) n = 1;
    memset(st->range, 0, sizeof st->range);
    if (n > 1 && has_slices) {
        st->nranges = (size_t)n;
        for (int i = 0; i < n; i++) {
            st->range[i].slice_total = (uint32_t)n;
            st->range[i].slice_index = (uint32_t)i;
        }
        return;
    }
    struct vmig_point_id bounds[VMIG_MAX_RANGES];
    size_t nb = n > 1 ? split_by_sample(r, s, n, bounds) : 0;
    st->nranges = nb + 1;
    for (size_t i = 0; i <= nb; i++) {
        if (i > 0) st->range[i].start = bounds[i - 1];
        if (i < nb) st->range[i].end = bounds[i];
    }
}

/* One durable step: snapshot what is acknowledged, Flush, and if the target met no
 * outage since the last durable step, remember the snapshot as durable; else fall back.
 * Caller does not hold r->mu. */
static enum vmig_code flush_step(struct run *r, struct vmig_err *err)
{
    struct rstate snap[VMIG_MAX_RANGES];
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->st->nranges; i++) snap[i] = r->rs[i];
    pthread_mutex_unlock(&r->mu);
    enum vmig_code rc = r->tvt->flush(r->t, r->pc->target, err);
    uint64_t faults = r->tvt->faults(r->t);
    pthread_mutex_lock(&r->mu);
    int ccode = 0;
    if (faults != r->faults_at_durable) {
        fall_back(r);
        ccode = checkpoint(r);
    } else if (rc == VMIG_OK && !r->need_repair) {
        for (size_t i = 0; i < r->st->nranges; i++) {
            r->durable[i].start = snap[i].acked;
            r->durable[i].done = snap[i].acked_done;
            r->durable[i].points = snap[i].acked_points;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (rc) return rc;
    if (ccode)
        return vmig_err_set(err, VMIG_E_IO, "cannot save checkpoint of collection '%s'",
                            r->pc->source);
    return VMIG_OK;
}

static void *flusher_main(void *arg)
{
    struct run *r = arg;
    int every = r->o->flush_ms > 0 ? r->o->flush_ms : 30000;
    pthread_mutex_lock(&r->mu);
    while (!r->copy_finished && !r->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += every / 1000;
        ts.tv_nsec += (long)(every % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int w = pthread_cond_timedwait(&r->flush_cv, &r->mu, &ts);
        if (w != ETIMEDOUT || r->copy_finished || r->stop) continue;
        pthread_mutex_unlock(&r->mu);
        struct vmig_err e;
        vmig_err_clear(&e);
        enum vmig_code rc = flush_step(r, &e);
        if (rc && rc != VMIG_E_CANCELLED) fail(r, rc, &e);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* One pass: readers + writers (+ the flusher) over every range not durably done. */
static enum vmig_code copy_pass(struct run *r, struct vmig_err *err)
{
    int nr = r->o->readers > 0 ? r->o->readers : 1;
    int nw = r->o->writers > 0 ? r->o->writers : 1;
    if ((size_t)nr > r->st->nranges) nr = (int)r->st->nranges;
    int depth = r->o->queue_depth > 0 ? r->o->queue_depth : 2 * nw;
    size_t npages = (size_t)(depth + nr + nw);
    struct page *pages = xcalloc(npages, sizeof *pages);
    pthread_t *th = xcalloc((size_t)(nr + nw), sizeof *th);
    pthread_t flusher;
    int started = 0, have_flusher = 0;

    for (size_t i = 0; i < r->st->nranges; i++) {
        struct rstate *rs = &r->rs[i];
        free(rs->pend);
        memset(rs, 0, sizeof *rs);
        rs->acked = r->durable[i].start = r->st->range[i].start;
        rs->acked_done = r->durable[i].done = r->st->range[i].done;
        rs->acked_points = r->durable[i].points = r->st->range[i].points;
    }
    r->copy_finished = 0;
    r->need_repair = 0;
    r->faults_at_durable = r->tvt->faults(r->t);
    vmig_queue_init(&r->work, (size_t)depth);
    vmig_queue_init(&r->pool, npages);
    for (size_t i = 0; i < npages; i++) {
        vmig_batch_init(&pages[i].b, &r->lay);
        vmig_queue_push(&r->pool, &pages[i]);
    }
    for (int i = 0; i < nw; i++)
        if (pthread_create(&th[started], NULL, writer_main, r) == 0) started++;
    int nwriters = started;
    for (int i = 0; i < nr; i++)
        if (pthread_create(&th[started], NULL, reader_main, r) == 0) started++;
    have_flusher = pthread_create(&flusher, NULL, flusher_main, r) == 0;
    /* readers first: when they are all done, no more work will come */
    for (int i = nwriters; i < started; i++) pthread_join(th[i], NULL);
    vmig_queue_close(&r->work);
    for (int i = 0; i < nwriters; i++) pthread_join(th[i], NULL);
    pthread_mutex_lock(&r->mu);
    r->copy_finished = 1;
    pthread_cond_broadcast(&r->flush_cv);
    pthread_mutex_unlock(&r->mu);
    if (have_flusher) pthread_join(flusher, NULL);

    enum vmig_code rc = r->rc;
    if (rc) *err = r->err;
    else if (r->o->cancel && *r->o->cancel)
        rc = vmig_err_set(err, VMIG_E_CANCELLED, "migration of '%s' cancelled",
                          r->pc->source);
    if (rc == VMIG_OK || rc == VMIG_E_CANCELLED) {
        /* the final durable step: everything acknowledged so far */
        struct vmig_err fe;
        vmig_err_clear(&fe);
        enum vmig_code frc = flush_step(r, &fe);
        if (frc && rc == VMIG_OK) {
            rc = frc;
            *err = fe;
        }
    }

    for (size_t i = 0; i < npages; i++) vmig_batch_release(&pages[i].b);
    for (size_t i = 0; i < VMIG_MAX_RANGES; i++) {
        free(r->rs[i].pend);
        r->rs[i].pend = NULL;
    }
    vmig_queue_release(&r->work);
    vmig_queue_release(&r->pool);
    free(pages);
    free(th);
    return rc;
}

/* The copy phase: passes until every range is durably done without a target outage. */
static enum vmig_code copy(struct run *r, struct vmig_err *err)
{
    for (int pass = 0;; pass++) {
        enum vmig_code rc = copy_pass(r, err);
        if (rc) return rc;
        if (!r->need_repair) break;
        if (pass >= 20)
            return vmig_err_set(err, VMIG_E_UNAVAILABLE,
                                "the target kept failing during the copy of '%s' (%d passes)",
                                r->pc->source, pass + 1);
        VLOG_WARN("collection '%s': repair pass %d re-sends the writes since the last good "
                  "flush",
                  r->pc->source, pass + 1);
        uint64_t w = 0;
        for (size_t i = 0; i < r->st->nranges; i++) w += r->st->range[i].points;
        r->st->written = w;
    }
    for (size_t i = 0; i < r->st->nranges; i++)
        if (!r->st->range[i].done)
            return vmig_err_set(err, VMIG_E_INTERNAL, "range %zu of '%s' not finished", i,
                                r->pc->source);
    return VMIG_OK;
}

static enum vmig_code set_phase(struct run *r, enum vmig_coll_phase ph)
{
    progress(r, ph, 1);
    return VMIG_OK;
}

enum vmig_code vmig_migrate_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_plan_coll *pc,
                                 const struct vmig_migrate_opts *o, struct vmig_coll_state *st,
                                 struct vmig_verify_result *vr, struct vmig_err *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.src = src;
    r.dst = dst;
    r.pc = pc;
    r.o = o;
    r.st = st;
    r.svt = &vmig_source_qdrant;
    r.tvt = &vmig_target_milvus;
    r.t0 = vmig_now_ms();
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.flush_cv, NULL);
    vmig_layout_from_plan(&r.lay, pc, o->reject_oversize);
    struct vmig_source *s = NULL;
    enum vmig_code rc;
    int ccode;

    if (vr) memset(vr, 0, sizeof *vr);
    if (pc->refusal.code != VMIG_OK) {
        *err = pc->refusal;
        rc = err->code;
        goto out;
    }
    struct vmig_endpoint dst_run = *dst; /* the target's waits end on this run's cancel */
    if (!dst_run.cancel) dst_run.cancel = o->cancel;
    rc = r.tvt->open(&dst_run, &r.t, err);
    if (rc) goto out;
    rc = r.svt->open(src, &s, err);
    if (rc) goto out;

    set_phase(&r, VMIG_PHASE_CREATING);
    int exists = 0;
    rc = r.tvt->has_collection(r.t, pc->target, &exists, err);
    if (rc) goto out;
    if (st->created && !exists) {
        VLOG_WARN("target collection '%s' is gone; starting '%s' over", pc->target, pc->source);
        vmig_coll_state_init(st);
    }
    if (st->creating && !st->created && exists) {
        /* stopped after CreateCollection was sent but before its checkpoint: the
         * collection is this job's (the intent was saved first, and the plan found no
         * such collection) and holds none of its points (nothing is written before
         * `created` is saved). Make it again, so its schema is surely the plan's. */
        VLOG_INFO("'%s' was being created when the job stopped; creating it again",
                  pc->target);
        rc = r.tvt->drop_collection(r.t, pc->target, err);
        if (rc) goto out;
    }
    if (!st->created && !st->creating && exists) {
        /* someone else's collection (another tool, a person, a job of another store):
         * real Milvus answers CreateCollection for an identical one with success, so
         * this must be checked here, never left to the server */
        rc = vmig_err_set(err, VMIG_E_EXISTS,
                          "target collection '%s' already exists and this job did not create it: "
                          "drop it in Milvus, or give '%s' another name (--target-name)",
                          pc->target, pc->source);
        vmig_err_at(err, pc->source, NULL, NULL);
        goto out;
    }
    if (!st->created) {
        pthread_mutex_lock(&r.mu);
        st->creating = 1;
        ccode = checkpoint(&r);
        pthread_mutex_unlock(&r.mu);
        if (ccode) {
            rc = vmig_err_set(err, VMIG_E_IO, "cannot save its checkpoint state");
            goto out;
        }
        rc = r.tvt->create_collection(r.t, pc, err);
        if (rc) goto out;
        /* Index definitions go on the empty collection, before any data: the server can
         * then index segments as they seal during the copy, and nothing waits behind a
         * compaction for CreateIndex at the end (bench: 275 of 356 s on Milvus Lite). */
        if (!o->skip_index) {
            rc = r.tvt->create_indexes(r.t, pc, err);
            if (rc) {
                /* the create sequence failed half-way: take back what this job made */
                struct vmig_err de;
                vmig_err_clear(&de);
                size_t len = strlen(err->msg);
                if (r.tvt->drop_collection(r.t, pc->target, &de) == VMIG_OK) {
                    pthread_mutex_lock(&r.mu);
                    st->creating = 0;
                    checkpoint(&r);
                    pthread_mutex_unlock(&r.mu);
                    snprintf(err->msg + len, sizeof err->msg - len,
                             " [the empty target collection '%s' this job had created was "
                             "dropped again]",
                             pc->target);
                } else {
                    snprintf(err->msg + len, sizeof err->msg - len,
                             " [the empty target collection '%s' this job created is left "
                             "behind (%s): drop it in Milvus before running again]",
                             pc->target, de.msg);
                }
                goto out;
            }
        }
        pthread_mutex_lock(&r.mu);
        st->created = 1;
        st->indexed = !o->skip_index;
        ccode = checkpoint(&r);
        pthread_mutex_unlock(&r.mu);
        if (ccode) {
            rc = vmig_err_set(err, VMIG_E_IO, "cannot save its checkpoint state");
            goto out;
        }
    }
    if (!st->copied) {
        uint64_t total = 0;
        rc = r.svt->count(s, pc->source, &total, err);
        if (rc) goto out;
        st->total = total;
        char ver[64];
        int has_slices = 0;
        if (r.svt->probe(s, ver, sizeof ver, err) == VMIG_OK) has_slices = r.svt->has_slices(s);
        plan_ranges(&r, s, has_slices);
        /* Resuming re-sends pages with Upsert, and real Milvus (2.6) upserts only into a
         * loaded collection, which needs its indexes: build them first in that case. */
        int resuming = 0;
        for (size_t i = 0; i < st->nranges; i++) resuming |= st->range[i].hw_set;
        if (resuming && !o->skip_index && !st->indexed) {
            set_phase(&r, VMIG_PHASE_INDEXING);
            rc = r.tvt->create_indexes(r.t, pc, err);
            if (rc) goto out;
            rc = r.tvt->load(r.t, pc->target, err);
            if (rc) goto out;
            pthread_mutex_lock(&r.mu);
            st->indexed = st->loaded = 1;
            ccode = checkpoint(&r);
            pthread_mutex_unlock(&r.mu);
            if (ccode) {
                rc = vmig_err_set(err, VMIG_E_IO, "cannot save its checkpoint state");
                goto out;
            }
        }
        set_phase(&r, VMIG_PHASE_COPYING);
        rc = copy(&r, err);
        if (rc) goto out;
        pthread_mutex_lock(&r.mu);
        st->copied = 1;
        ccode = checkpoint(&r);
        pthread_mutex_unlock(&r.mu);
        if (ccode) {
            rc = vmig_err_set(err, VMIG_E_IO, "cannot save its checkpoint state");
            goto out;
        }
    }
    if (!o->skip_index) {
        /* idempotent: creates what is missing, then waits until every build is finished */
        set_phase(&r, VMIG_PHASE_INDEXING);
        rc = r.tvt->create_indexes(r.t, pc, err);
        if (rc) goto out;
        st->indexed = 1;
        set_phase(&r, VMIG_PHASE_LOADING);
        rc = r.tvt->load(r.t, pc->target, err);
        if (rc) goto out;
        pthread_mutex_lock(&r.mu);
        st->loaded = 1;
        ccode = checkpoint(&r);
        pthread_mutex_unlock(&r.mu);
        if (ccode) {
            rc = vmig_err_set(err, VMIG_E_IO, "cannot save its checkpoint state");
            goto out;
        }
    }
    if (o->verify_sample >= 0 && !o->skip_index) {
        set_phase(&r, VMIG_PHASE_VERIFYING);
        rc = vmig_verify_coll(src, dst, pc, o->verify_sample, st->rejected, o->cancel, vr,
                              err);
        if (rc) goto out;
    }
    set_phase(&r, VMIG_PHASE_DONE);
out:
    if (s) r.svt->close(s);
    if (r.t) r.tvt->close(r.t);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.flush_cv);
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

/*
 * fake.c - the in-memory source and target of fake.h. One process-wide world
 * (the tests run one migration at a time), guarded by one mutex; a stalled call
 * waits outside it.
 */
#include "fake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"

struct row {
    struct vmig_point_id id;
    float v[4];
    char meta[48];
    int live, flushed, del_pending;
};

static struct {
    pthread_mutex_t mu;
    struct fake_params p;
    struct vmig_point_id *ids; /* source, in scroll order */
    uint64_t steps, faults, inserted, upserted;
    int crashed, registered, exists;
    int stalled, stall_cancel;
    struct row *rows;
    size_t nrows, caprows;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct vmig_source {
    const struct vmig_run_ctx *ctx;
};
struct vmig_target {
    const struct vmig_run_ctx *ctx;
};

/* ---- the world ---- */

static void point_vec(size_t k, float v[4])
{
    v[0] = (float)k;
    v[1] = (float)k + 0.5f;
    v[2] = -(float)k;
    v[3] = 1.0f / (float)(k + 1);
}

static void point_meta(size_t k, char out[48])
{
    snprintf(out, 48, "{\"k\":%zu}", k);
}

/* Caller holds W.mu: the target restarts and keeps only what was flushed. */
static void lose_unflushed(void)
{
    size_t j = 0;
    for (size_t i = 0; i < W.nrows; i++) {
        struct row *r = &W.rows[i];
        if (!r->flushed) continue;
        if (r->del_pending) r->del_pending = 0, r->live = 1;
        W.rows[j++] = *r;
    }
    W.nrows = j;
}

void fake_reset(const struct fake_params *p)
{
    pthread_mutex_lock(&W.mu);
    if (!W.registered) {
        vmig_source_register(&fake_source);
        vmig_target_register(&fake_target);
        W.registered = 1;
    }
    free(W.ids);
    free(W.rows);
    W.p = *p;
    W.ids = calloc(p->npoints ? p->npoints : 1, sizeof *W.ids);
    size_t nint = p->npoints - p->npoints / 4;
    for (size_t k = 0; k < p->npoints; k++) {
        struct vmig_point_id *id = &W.ids[k];
        if (k < nint) {
            id->kind = VMIG_ID_NUM;
            id->num = 10 + 3 * (uint64_t)k;
        } else {
            id->kind = VMIG_ID_UUID;
            for (int b = 0; b < 8; b++) id->uuid[b] = (uint8_t)((uint64_t)k >> (56 - 8 * b));
            memset(id->uuid + 8, 0xab, 8);
        }
    }
    W.steps = W.faults = W.inserted = W.upserted = 0;
    W.crashed = W.exists = W.stalled = W.stall_cancel = 0;
    W.rows = NULL;
    W.nrows = W.caprows = 0;
    pthread_mutex_unlock(&W.mu);
}

uint64_t fake_steps(void)
{
    pthread_mutex_lock(&W.mu);
    uint64_t n = W.steps;
    pthread_mutex_unlock(&W.mu);
    return n;
}

void fake_recover(void)
{
    pthread_mutex_lock(&W.mu);
    if (W.crashed && W.p.lossy) lose_unflushed();
    W.crashed = 0;
    W.p.fault = FAKE_NONE;
    W.p.fault_at = W.p.crash_at = 0;
    pthread_mutex_unlock(&W.mu);
}

int fake_stalled(void)
{
    pthread_mutex_lock(&W.mu);
    int s = W.stalled;
    pthread_mutex_unlock(&W.mu);
    return s;
}

int fake_stall_saw_cancel(void)
{
    pthread_mutex_lock(&W.mu);
    int s = W.stall_cancel;
    pthread_mutex_unlock(&W.mu);
    return s;
}

size_t fake_target_rows(void)
{
    pthread_mutex_lock(&W.mu);
    size_t n = 0;
    for (size_t i = 0; i < W.nrows; i++) n += W.rows[i].live;
    pthread_mutex_unlock(&W.mu);
    return n;
}

uint64_t fake_inserted(void) { return W.inserted; }
uint64_t fake_upserted(void) { return W.upserted; }

static int cmp_row(const void *x, const void *y)
{
    return vmig_point_id_cmp(&((const struct row *)x)->id, &((const struct row *)y)->id);
}

int fake_check_exact(char *why, size_t n)
{
    pthread_mutex_lock(&W.mu);
    struct row *live = calloc(W.nrows + 1, sizeof *live);
    size_t nl = 0;
    for (size_t i = 0; i < W.nrows; i++)
        if (W.rows[i].live) live[nl++] = W.rows[i];
    qsort(live, nl, sizeof *live, cmp_row);
    int bad = 0;
    size_t r = 0; /* source ids are in scroll order, which is vmig_point_id_cmp order */
    for (size_t k = 0; k < W.p.npoints && !bad; k++) {
        float v[4];
        char m[48], idt[VMIG_ID_TEXT_MAX];
        point_vec(k, v);
        point_meta(k, m);
        vmig_point_id_format(&W.ids[k], idt);
        size_t seen = 0;
        for (; r < nl && vmig_point_id_cmp(&live[r].id, &W.ids[k]) <= 0; r++) {
            if (vmig_point_id_cmp(&live[r].id, &W.ids[k]) < 0) {
                snprintf(why, n, "a row the source does not have, before point %s", idt);
                bad = 1;
                break;
            }
            seen++;
            if (memcmp(live[r].v, v, sizeof v) || strcmp(live[r].meta, m)) {
                snprintf(why, n, "point %s differs", idt);
                bad = 1;
            }
        }
        if (!bad && seen != 1) {
            snprintf(why, n, "point %s is in the target %zu times (%zu rows for %zu points)", idt,
                     seen, nl, W.p.npoints);
            bad = 1;
        }
    }
    if (!bad && nl != W.p.npoints) {
        snprintf(why, n, "%zu rows for %zu points", nl, W.p.npoints);
        bad = 1;
    }
    free(live);
    pthread_mutex_unlock(&W.mu);
    return bad;
}

/* ---- steps and faults ---- */

enum st { S_OK, S_FAIL, S_APPLY_FAIL, S_CANCEL };

static enum st step(const struct vmig_run_ctx *ctx, const char *what)
{
    pthread_mutex_lock(&W.mu);
    uint64_t k = ++W.steps;
    if (getenv("FAKE_TRACE")) fprintf(stderr, "step %llu %s%s\n", (unsigned long long)k, what, k == W.p.fault_at ? " <- fault" : "");
    enum fake_fault f = k == W.p.fault_at ? W.p.fault : k == W.p.crash_at ? FAKE_CRASH : FAKE_NONE;
    if (f == FAKE_STALL && !ctx) f = FAKE_NONE; /* the test's own steps never stall */
    enum st s = S_OK;
    if (W.crashed) s = S_FAIL;
    else if (f == FAKE_CRASH) {
        W.crashed = 1;
        s = (k & 1) ? S_APPLY_FAIL : S_FAIL;
    } else if (f == FAKE_OUTAGE) {
        lose_unflushed();
        W.faults++;
    } else if (f == FAKE_STALL) {
        W.stalled = 1;
    }
    pthread_mutex_unlock(&W.mu);
    if (f == FAKE_STALL) {
        struct timespec ms = {0, 1000000L};
        while (!vmig_run_cancelled(ctx)) nanosleep(&ms, NULL);
        pthread_mutex_lock(&W.mu);
        W.stall_cancel = 1;
        pthread_mutex_unlock(&W.mu);
        s = S_CANCEL;
    }
    return s;
}

int fake_step(void)
{
    return step(NULL, "checkpoint") != S_OK;
}

static enum vmig_code step_err(enum st s, const char *what, struct vmig_err *err)
{
    if (s == S_CANCEL) return vmig_err_set(err, VMIG_E_CANCELLED, "fake %s: cancelled", what);
    return vmig_err_set(err, VMIG_E_INTERNAL, "fake %s: the process crashed here", what);
}

#define STEP(ctx, what, err)                                                                       \
    do {                                                                                           \
        enum st s_ = step(ctx, what);                                                                    \
        if (s_ != S_OK) return step_err(s_, what, err);                                            \
    } while (0)

/* ---- the source ---- */

static enum vmig_code s_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                             struct vmig_source **out, struct vmig_err *err)
{
    (void)ep, (void)err;
    *out = calloc(1, sizeof **out);
    (*out)->ctx = ctx;
    return VMIG_OK;
}

static void s_close(struct vmig_source *s) { free(s); }

static enum vmig_code s_probe(struct vmig_source *s, char *version, size_t n, struct vmig_err *err)
{
    STEP(s->ctx, "probe", err);
    snprintf(version, n, "%s", W.p.slices ? "1.19.0" : "1.10.0");
    return VMIG_OK;
}

static enum vmig_code s_list(struct vmig_source *s, char ***names, size_t *n, struct vmig_err *err)
{
    STEP(s->ctx, "list", err);
    *names = calloc(1, sizeof **names);
    (*names)[0] = strdup("fake");
    *n = 1;
    return VMIG_OK;
}

static enum vmig_code s_describe(struct vmig_source *s, const char *coll,
                                 struct vmig_src_coll *out, struct vmig_err *err)
{
    (void)s, (void)err;
    /* no config to speak of: the engine reads only the strict-mode facts (none here) */
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", coll);
    return VMIG_OK;
}

static enum vmig_code s_count(struct vmig_source *s, const char *coll, uint64_t *n,
                              struct vmig_err *err)
{
    (void)coll;
    STEP(s->ctx, "count", err);
    *n = W.p.npoints;
    return VMIG_OK;
}

static void add_row(struct vmig_batch *b, size_t k, int with_data)
{
    vmig_batch_begin_row(b, &W.ids[k]);
    if (with_data && b->ncols) {
        float *v = vmig_batch_dense(b, 0);
        point_vec(k, v);
        char m[48];
        point_meta(k, m);
        vmig_buf_adds(&b->meta, m);
    } else if (with_data) {
        vmig_buf_adds(&b->meta, "{}");
    }
    vmig_batch_end_row(b);
}

static int in_slice(size_t k, const struct vmig_read_req *req)
{
    return req->slice_total == 0 || k % req->slice_total == req->slice_index;
}

static enum vmig_code s_read(struct vmig_source *s, const struct vmig_read_req *req,
                             struct vmig_batch *out, struct vmig_point_id *next,
                             size_t *page_bytes, struct vmig_err *err)
{
    STEP(s->ctx, "read", err);
    size_t k = 0, got = 0, lim = req->limit ? req->limit : 10;
    if (req->offset.kind != VMIG_ID_NONE)
        while (k < W.p.npoints && vmig_point_id_cmp(&W.ids[k], &req->offset) < 0) k++;
    memset(next, 0, sizeof *next);
    for (; k < W.p.npoints; k++) {
        if (!in_slice(k, req)) continue;
        if (got == lim) {
            *next = W.ids[k];
            break;
        }
        add_row(out, k, !req->ids_only);
        got++;
    }
    if (page_bytes) *page_bytes = got * 100;
    return VMIG_OK;
}

static long index_of(const struct vmig_point_id *id)
{
    for (size_t k = 0; k < W.p.npoints; k++)
        if (vmig_point_id_cmp(&W.ids[k], id) == 0) return (long)k;
    return -1;
}

static enum vmig_code s_retrieve(struct vmig_source *s, const char *coll,
                                 const struct vmig_layout *lay, const struct vmig_point_id *ids,
                                 size_t n, struct vmig_batch *out, struct vmig_err *err)
{
    (void)coll, (void)lay;
    STEP(s->ctx, "retrieve", err);
    for (size_t i = 0; i < n; i++) {
        long k = index_of(&ids[i]);
        if (k >= 0) add_row(out, (size_t)k, 1);
    }
    return VMIG_OK;
}

static int s_has_slices(struct vmig_source *s)
{
    (void)s;
    return W.p.slices;
}

static enum vmig_code s_sample_ids(struct vmig_source *s, const char *coll, size_t n,
                                   struct vmig_batch *out, struct vmig_err *err)
{
    (void)coll;
    STEP(s->ctx, "sample", err);
    for (size_t k = 0; k < W.p.npoints && out->n < n; k += 3) add_row(out, k, 0);
    return VMIG_OK;
}

static const char *const schemes[] = {"fake", NULL};

const struct vmig_source_vt fake_source = {
    .name = "fake",
    .schemes = schemes,
    .open = s_open,
    .close = s_close,
    .probe = s_probe,
    .list = s_list,
    .describe = s_describe,
    .info = s_describe,
    .count = s_count,
    .read = s_read,
    .retrieve = s_retrieve,
    .has_slices = s_has_slices,
    .sample_ids = s_sample_ids,
};

/* ---- the target ---- */

static enum vmig_code t_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                             struct vmig_target **out, struct vmig_err *err)
{
    (void)ep, (void)err;
    *out = calloc(1, sizeof **out);
    (*out)->ctx = ctx;
    return VMIG_OK;
}

static void t_close(struct vmig_target *t) { free(t); }

static enum vmig_code t_probe(struct vmig_target *t, struct vmig_target_caps *caps,
                              struct vmig_err *err)
{
    STEP(t->ctx, "target probe", err);
    memset(caps, 0, sizeof *caps);
    snprintf(caps->product, sizeof caps->product, "Fake");
    return VMIG_OK;
}

static enum vmig_code t_has(struct vmig_target *t, const char *name, int *exists,
                            struct vmig_err *err)
{
    (void)name;
    STEP(t->ctx, "has_collection", err);
    *exists = W.exists;
    return VMIG_OK;
}

/* The effect of a step that may crash after it: applied unless s says otherwise. */
#define APPLY_STEP(ctx, what, err, s)                                                              \
    enum st s = step(ctx, what);                                                                   \
    if (s == S_FAIL || s == S_CANCEL) return step_err(s, what, err)
#define APPLIED(what, err, s) (s == S_APPLY_FAIL ? step_err(s, what, err) : VMIG_OK)

static enum vmig_code t_create(struct vmig_target *t, const struct vmig_plan_coll *pc,
                               struct vmig_err *err)
{
    (void)pc;
    APPLY_STEP(t->ctx, "create", err, s);
    pthread_mutex_lock(&W.mu);
    W.exists = 1;
    pthread_mutex_unlock(&W.mu);
    return APPLIED("create", err, s);
}

static enum vmig_code t_drop(struct vmig_target *t, const char *name, struct vmig_err *err)
{
    (void)name;
    APPLY_STEP(t->ctx, "drop", err, s);
    pthread_mutex_lock(&W.mu);
    W.exists = 0;
    W.nrows = 0;
    pthread_mutex_unlock(&W.mu);
    return APPLIED("drop", err, s);
}

static enum vmig_code t_write(struct vmig_target *t, const struct vmig_plan_coll *pc,
                              const struct vmig_batch *b, int upsert, struct vmig_err *err)
{
    (void)pc;
    APPLY_STEP(t->ctx, upsert ? "write upsert" : "write insert", err, s);
    if (getenv("FAKE_TRACE") && b->n) {
        char a[VMIG_ID_TEXT_MAX], z[VMIG_ID_TEXT_MAX];
        vmig_point_id_format(&b->ids[0], a);
        vmig_point_id_format(&b->ids[b->n - 1], z);
        fprintf(stderr, "  rows %s..%s (%zu)\n", a, z, b->n);
    }
    pthread_mutex_lock(&W.mu);
    for (size_t r = 0; r < b->n; r++) {
        if (upsert) {
            size_t j = 0;
            for (size_t i = 0; i < W.nrows; i++) {
                struct row *x = &W.rows[i];
                if (x->live && vmig_point_id_cmp(&x->id, &b->ids[r]) == 0) {
                    if (!x->flushed) continue; /* an unflushed row is simply replaced */
                    x->live = 0;
                    x->del_pending = 1;
                }
                W.rows[j++] = *x;
            }
            W.nrows = j;
        }
        if (W.nrows == W.caprows) {
            W.caprows = W.caprows ? 2 * W.caprows : 256;
            W.rows = realloc(W.rows, W.caprows * sizeof *W.rows);
        }
        struct row *x = &W.rows[W.nrows++];
        memset(x, 0, sizeof *x);
        x->id = b->ids[r];
        memcpy(x->v, vmig_batch_dense_at(b, 0, r), sizeof x->v);
        size_t ml;
        const char *m = vmig_batch_meta_at(b, r, &ml);
        snprintf(x->meta, sizeof x->meta, "%.*s", (int)ml, m);
        x->live = 1;
    }
    if (upsert) W.upserted += b->n;
    else W.inserted += b->n;
    pthread_mutex_unlock(&W.mu);
    return APPLIED("write", err, s);
}

static enum vmig_code t_flush(struct vmig_target *t, const char *name, struct vmig_err *err)
{
    (void)name;
    APPLY_STEP(t->ctx, "flush", err, s);
    pthread_mutex_lock(&W.mu);
    size_t j = 0;
    for (size_t i = 0; i < W.nrows; i++) {
        struct row *x = &W.rows[i];
        if (x->del_pending) continue;
        x->flushed = 1;
        W.rows[j++] = *x;
    }
    W.nrows = j;
    pthread_mutex_unlock(&W.mu);
    return APPLIED("flush", err, s);
}

static enum vmig_code t_indexes(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                struct vmig_err *err)
{
    (void)pc;
    STEP(t->ctx, "create_indexes", err);
    return VMIG_OK;
}

static enum vmig_code t_index_progress(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                       uint64_t *indexed, uint64_t *total, int *built,
                                       struct vmig_err *err)
{
    (void)pc;
    STEP(t->ctx, "index_progress", err);
    *indexed = *total = fake_target_rows();
    *built = 1;
    return VMIG_OK;
}

static enum vmig_code t_load(struct vmig_target *t, const char *name, int wait,
                             struct vmig_err *err)
{
    (void)name, (void)wait;
    STEP(t->ctx, "load", err);
    return VMIG_OK;
}

static enum vmig_code t_count(struct vmig_target *t, const char *name, uint64_t *n,
                              struct vmig_err *err)
{
    (void)name;
    STEP(t->ctx, "count", err);
    *n = fake_target_rows();
    return VMIG_OK;
}

static enum vmig_code t_retrieve(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                 const struct vmig_layout *lay, const struct vmig_point_id *ids,
                                 size_t n, struct vmig_batch *out, struct vmig_err *err)
{
    (void)pc, (void)lay;
    STEP(t->ctx, "target retrieve", err);
    pthread_mutex_lock(&W.mu);
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < W.nrows; r++) {
            const struct row *x = &W.rows[r];
            if (!x->live || vmig_point_id_cmp(&x->id, &ids[i]) != 0) continue;
            vmig_batch_begin_row(out, &x->id);
            if (out->ncols) memcpy(vmig_batch_dense(out, 0), x->v, sizeof x->v);
            vmig_buf_adds(&out->meta, x->meta);
            vmig_batch_end_row(out);
        }
    pthread_mutex_unlock(&W.mu);
    return VMIG_OK;
}

static uint64_t t_faults(struct vmig_target *t)
{
    (void)t;
    pthread_mutex_lock(&W.mu);
    uint64_t f = W.faults;
    pthread_mutex_unlock(&W.mu);
    return f;
}

const struct vmig_target_vt fake_target = {
    .name = "fake",
    .schemes = schemes,
    .open = t_open,
    .close = t_close,
    .probe = t_probe,
    .has_collection = t_has,
    .create_collection = t_create,
    .drop_collection = t_drop,
    .write = t_write,
    .flush = t_flush,
    .create_indexes = t_indexes,
    .index_progress = t_index_progress,
    .load = t_load,
    .count = t_count,
    .retrieve = t_retrieve,
    .faults = t_faults,
};

void fake_plan(struct vmig_plan_coll *pc)
{
    memset(pc, 0, sizeof *pc);
    snprintf(pc->source, sizeof pc->source, "fake");
    snprintf(pc->target, sizeof pc->target, "fake_t");
    snprintf(pc->pk_name, sizeof pc->pk_name, "id");
    pc->pk_type = VMIG_PK_VARCHAR;
    pc->pk_max_length = 36;
    pc->nfields = 1;
    snprintf(pc->field[0].dst, sizeof pc->field[0].dst, "vector");
    pc->field[0].kind = VMIG_VEC_DENSE;
    pc->field[0].dim = 4;
    pc->field[0].metric = VMIG_METRIC_COSINE;
    pc->field[0].hnsw_m = pc->field[0].hnsw_ef = -1;
}

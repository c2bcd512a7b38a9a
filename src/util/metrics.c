/*
 * metrics.c - the registry of util/metrics.h: a fixed table of families, series in
 * a chained hash keyed by (family, label values) and listed per family in the order
 * they appeared, one mutex. Series live until the registry is freed (a scrape must see
 * a counter keep growing, never vanish and come back at zero), bounded by
 * VMIG_METRICS_SERIES_MAX. Seconds are kept as integer milliseconds so sums from many
 * threads stay exact; the renderer divides.
 */
#include "util/metrics.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/retry.h"

enum kind { COUNTER, GAUGE };

struct family {
    const char *name, *help;
    enum kind kind;
    int ms; /* values are milliseconds, rendered as seconds */
    int nlabels;
    const char *labels[VMIG_METRICS_LABELS_MAX];
};

static const struct family families[VMIG_MF_COUNT] = {
    [VMIG_MF_POINTS_READ] = {"vmigrate_points_read_total",
                             "Points read from the source by this process's runs.",
                             COUNTER,
                             0,
                             2,
                             {"job", "collection"}},
    [VMIG_MF_POINTS_WRITTEN] = {"vmigrate_points_written_total",
                                "Points acknowledged by the target in this process's runs.",
                                COUNTER,
                                0,
                                2,
                                {"job", "collection"}},
    [VMIG_MF_BYTES_WRITTEN] = {"vmigrate_bytes_written_total",
                               "Vector and payload bytes written to the target.",
                               COUNTER,
                               0,
                               2,
                               {"job", "collection"}},
    [VMIG_MF_PHASE_SECONDS] = {"vmigrate_phase_seconds_total",
                               "Time this process's runs spent in each phase of a collection.",
                               COUNTER,
                               1,
                               3,
                               {"job", "collection", "phase"}},
    [VMIG_MF_RETRIES] = {"vmigrate_retries_total",
                         "Remote calls tried again, by side and by the failure retried.",
                         COUNTER,
                         0,
                         2,
                         {"side", "cause"}},
    [VMIG_MF_THROTTLED] = {"vmigrate_throttled_total",
                           "Rate-limited answers (HTTP 429, RESOURCE_EXHAUSTED) waited on.",
                           COUNTER,
                           0,
                           0,
                           {0}},
    [VMIG_MF_THROTTLED_SECONDS] = {"vmigrate_throttled_seconds_total",
                                   "Time spent waiting on rate-limited answers.",
                                   COUNTER,
                                   1,
                                   0,
                                   {0}},
    [VMIG_MF_JOB_RUNS] = {"vmigrate_job_runs_total",
                          "Job runs of this process ended, by the status they ended in.",
                          COUNTER,
                          0,
                          1,
                          {"status"}},
    [VMIG_MF_LEASE_LOST] = {"vmigrate_task_lease_lost_total",
                            "Range tasks whose lease this process lost to another worker.",
                            COUNTER,
                            0,
                            1,
                            {"job"}},
    [VMIG_MF_TASKS] = {"vmigrate_worker_tasks_total",
                       "Range tasks claimed (status=claimed) and ended by this process.",
                       COUNTER,
                       0,
                       2,
                       {"kind", "status"}},
    [VMIG_MF_TASKS_RUNNING] = {"vmigrate_worker_tasks_running",
                               "Range tasks this process runs now.",
                               GAUGE,
                               0,
                               1,
                               {"kind"}},
    [VMIG_MF_SERIES_DROPPED] = {"vmigrate_metrics_series_dropped_total",
                                "Updates dropped because the registry reached its series limit.",
                                COUNTER,
                                0,
                                0,
                                {0}},
};

#define NBUCKETS 1024

struct series {
    struct series *hnext, *fnext;
    uint64_t hash;
    int fam;
    char *labels[VMIG_METRICS_LABELS_MAX];
    int64_t v; /* counters: never negative */
};

struct vmig_metrics {
    pthread_mutex_t mu;
    struct series *bucket[NBUCKETS];
    struct series *head[VMIG_MF_COUNT], **tail[VMIG_MF_COUNT];
    size_t nseries;
    uint64_t dropped;
};

static uint64_t hash_of(int fam, const char *const *labels, int n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)fam; /* FNV-1a */
    for (int i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)labels[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* a separator no label byte can fake */
    }
    return h;
}

/* The series of (fam, labels), created when absent (and create is set); NULL past the
 * limit. Under mu. */
static struct series *series_locked(struct vmig_metrics *m, int fam, const char *const *labels,
                                    int create)
{
    static const char *const none[VMIG_METRICS_LABELS_MAX] = {"", "", ""};
    const struct family *f = &families[fam];
    const char *const *lv = labels ? labels : none;
    const char *l[VMIG_METRICS_LABELS_MAX];
    for (int i = 0; i < f->nlabels; i++)
        l[i] = lv[i] ? lv[i] : "";
    uint64_t h = hash_of(fam, l, f->nlabels);
    struct series **b = &m->bucket[h % NBUCKETS];
    for (struct series *s = *b; s; s = s->hnext) {
        if (s->hash != h || s->fam != fam) continue;
        int same = 1;
        for (int i = 0; same && i < f->nlabels; i++)
            same = !strcmp(s->labels[i], l[i]);
        if (same) return s;
    }
    if (!create) return NULL;
    if (m->nseries >= VMIG_METRICS_SERIES_MAX) {
        m->dropped++;
        return NULL;
    }
    struct series *s = xcalloc(1, sizeof *s);
    s->hash = h;
    s->fam = fam;
    for (int i = 0; i < f->nlabels; i++)
        s->labels[i] = xstrdup(l[i]);
    s->hnext = *b;
    *b = s;
    *m->tail[fam] = s;
    m->tail[fam] = &s->fnext;
    m->nseries++;
    return s;
}

static void add_locked(struct vmig_metrics *m, int fam, const char *const *labels, uint64_t n)
{
    struct series *s = series_locked(m, fam, labels, 1);
    if (s) s->v += (int64_t)n;
}

struct vmig_metrics *vmig_metrics_new(void)
{
    static const char *const sides[] = {"source", "target"};
    static const char *const causes[] = {"timeout", "unavailable", "rate_limit", "other"};
    static const char *const ends[] = {"successful", "failed", "cancelled", "pending"};
    struct vmig_metrics *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    for (int i = 0; i < VMIG_MF_COUNT; i++)
        m->tail[i] = &m->head[i];
    for (int i = 0; i < VMIG_SIDES; i++)
        for (int k = 0; k < VMIG_CAUSES; k++)
            add_locked(m, VMIG_MF_RETRIES, (const char *const[]){sides[i], causes[k]}, 0);
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++)
        add_locked(m, VMIG_MF_JOB_RUNS, &ends[i], 0);
    return m;
}

void vmig_metrics_free(struct vmig_metrics *m)
{
    if (!m) return;
    for (int fam = 0; fam < VMIG_MF_COUNT; fam++) {
        struct series *s = m->head[fam];
        while (s) {
            struct series *next = s->fnext;
            for (int i = 0; i < families[fam].nlabels; i++)
                free(s->labels[i]);
            free(s);
            s = next;
        }
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void vmig_metrics_add(struct vmig_metrics *m, enum vmig_metrics_family id,
                      const char *const *labels, uint64_t n)
{
    if (!m || (unsigned)id >= VMIG_MF_COUNT || families[id].kind != COUNTER) return;
    pthread_mutex_lock(&m->mu);
    add_locked(m, id, labels, n);
    pthread_mutex_unlock(&m->mu);
}

void vmig_metrics_set(struct vmig_metrics *m, enum vmig_metrics_family id,
                      const char *const *labels, int64_t v)
{
    if (!m || (unsigned)id >= VMIG_MF_COUNT || families[id].kind != GAUGE) return;
    pthread_mutex_lock(&m->mu);
    struct series *s = series_locked(m, id, labels, 1);
    if (s) s->v = v;
    pthread_mutex_unlock(&m->mu);
}

uint64_t vmig_metrics_get(struct vmig_metrics *m, enum vmig_metrics_family id,
                          const char *const *labels)
{
    if (!m || (unsigned)id >= VMIG_MF_COUNT) return 0;
    pthread_mutex_lock(&m->mu);
    struct series *s = series_locked(m, id, labels, 0);
    uint64_t v = s ? (uint64_t)s->v : 0;
    pthread_mutex_unlock(&m->mu);
    return v;
}

/* ---- the text format ------------------------------------------------------------------ */

static void add_escaped(struct vmig_buf *out, const char *s, int help)
{
    for (; *s; s++) {
        if (*s == '\\')
            vmig_buf_adds(out, "\\\\");
        else if (*s == '\n')
            vmig_buf_adds(out, "\\n");
        else if (*s == '"' && !help)
            vmig_buf_adds(out, "\\\""); /* HELP keeps its quotes */
        else
            vmig_buf_addch(out, *s);
    }
}

void vmig_metrics_family(struct vmig_buf *out, const char *name, const char *type, const char *help)
{
    vmig_buf_addf(out, "# HELP %s ", name);
    add_escaped(out, help, 1);
    vmig_buf_addf(out, "\n# TYPE %s %s\n", name, type);
}

void vmig_metrics_sample(struct vmig_buf *out, const char *name, const char *const *lnames,
                         const char *const *lvals, int nlabels)
{
    vmig_buf_adds(out, name);
    for (int i = 0; i < nlabels; i++) {
        vmig_buf_addf(out, "%c%s=\"", i ? ',' : '{', lnames[i]);
        add_escaped(out, lvals[i] ? lvals[i] : "", 0);
        vmig_buf_addch(out, '"');
    }
    if (nlabels) vmig_buf_addch(out, '}');
    vmig_buf_addch(out, ' ');
}

struct snap {
    const struct series *s; /* labels are immutable once made: read outside the lock */
    int64_t v;
};

void vmig_metrics_render(struct vmig_metrics *m, struct vmig_buf *out)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    size_t n = 0, cap = m->nseries;
    struct snap *sn = xmalloc((cap ? cap : 1) * sizeof *sn);
    size_t start[VMIG_MF_COUNT + 1];
    for (int fam = 0; fam < VMIG_MF_COUNT; fam++) {
        start[fam] = n;
        for (const struct series *s = m->head[fam]; s; s = s->fnext)
            sn[n++] = (struct snap){s, s->v};
    }
    start[VMIG_MF_COUNT] = n;
    uint64_t dropped = m->dropped;
    pthread_mutex_unlock(&m->mu);

    for (int fam = 0; fam < VMIG_MF_COUNT; fam++) {
        const struct family *f = &families[fam];
        vmig_metrics_family(out, f->name, f->kind == COUNTER ? "counter" : "gauge", f->help);
        if (f->nlabels == 0 && start[fam] == start[fam + 1]) { /* a lone counter: always 0.. */
            uint64_t v = fam == VMIG_MF_SERIES_DROPPED ? dropped : 0;
            vmig_buf_addf(out, "%s %llu\n", f->name, (unsigned long long)v);
            continue;
        }
        for (size_t i = start[fam]; i < start[fam + 1]; i++) {
            vmig_metrics_sample(out, f->name, f->labels, (const char *const *)sn[i].s->labels,
                                f->nlabels);
            if (f->ms)
                vmig_buf_addf(out, "%.3f\n", (double)sn[i].v / 1000.0);
            else
                vmig_buf_addf(out, "%lld\n", (long long)sn[i].v);
        }
    }
    free(sn);
}

/* ---- the task runner's calls ------------------------------------------------------------ */

void vmig_metrics_lease_lost(struct vmig_metrics *m, const char *job)
{
    vmig_metrics_add(m, VMIG_MF_LEASE_LOST, &job, 1);
}

void vmig_metrics_task_state(struct vmig_metrics *m, const char *kind, const char *status)
{
    vmig_metrics_add(m, VMIG_MF_TASKS, (const char *const[]){kind, status}, 1);
}

void vmig_metrics_tasks_running(struct vmig_metrics *m, const char *kind, int64_t n)
{
    vmig_metrics_set(m, VMIG_MF_TASKS_RUNNING, &kind, n);
}

/* ---- the job runner's feed ----------------------------------------------------------------- */

/* What is new in a cumulative count: a count below the last one is a new base. */
static uint64_t delta(uint64_t *last, uint64_t now)
{
    uint64_t d = now >= *last ? now - *last : 0;
    *last = now;
    return d;
}

/* The run's retry and throttle counters, what is new of them. Under mu. */
static void feed_stats_locked(struct vmig_metrics *m, struct vmig_metrics_feed *f,
                              const struct vmig_run_stats *st)
{
    static const char *const sides[] = {"source", "target"};
    static const char *const causes[] = {"timeout", "unavailable", "rate_limit", "other"};
    if (!st) return;
    add_locked(m, VMIG_MF_THROTTLED, NULL, delta(&f->throttled, atomic_load(&st->throttled)));
    add_locked(m, VMIG_MF_THROTTLED_SECONDS, NULL,
               delta(&f->throttled_ms, atomic_load(&st->throttled_ms)));
    for (int i = 0; i < VMIG_SIDES; i++)
        for (int k = 0; k < VMIG_CAUSES; k++) {
            uint64_t d = delta(&f->retries[i][k], atomic_load(&st->retries[i][k]));
            if (d) add_locked(m, VMIG_MF_RETRIES, (const char *const[]){sides[i], causes[k]}, d);
        }
}

/* The time since the last report, to the phase that report was in. Under mu. */
static void feed_phase_locked(struct vmig_metrics *m, struct vmig_metrics_feed *f, const char *job,
                              uint64_t now)
{
    if (!f->coll[0] || f->phase == VMIG_PHASE_DONE || now <= f->phase_ms) return;
    const char *l[] = {job, f->coll, vmig_phase_name((enum vmig_coll_phase)f->phase)};
    add_locked(m, VMIG_MF_PHASE_SECONDS, l, now - f->phase_ms);
    f->phase_ms = now;
}

void vmig_metrics_feed(struct vmig_metrics *m, struct vmig_metrics_feed *f, const char *job,
                       const struct vmig_progress *p, const struct vmig_run_stats *stats)
{
    if (!m || !f || !p || !p->coll) return;
    uint64_t now = vmig_now_ms();
    pthread_mutex_lock(&m->mu);
    if (strcmp(f->coll, p->coll) != 0) { /* a collection's first report: the base */
        snprintf(f->coll, sizeof f->coll, "%s", p->coll);
        f->read = p->read;
        f->written = p->written;
        f->bytes = p->bytes;
    } else {
        feed_phase_locked(m, f, job, now);
        const char *l[] = {job, f->coll};
        add_locked(m, VMIG_MF_POINTS_READ, l, delta(&f->read, p->read));
        add_locked(m, VMIG_MF_POINTS_WRITTEN, l, delta(&f->written, p->written));
        add_locked(m, VMIG_MF_BYTES_WRITTEN, l, delta(&f->bytes, p->bytes));
    }
    f->phase = (int)p->phase;
    f->phase_ms = now;
    feed_stats_locked(m, f, stats);
    pthread_mutex_unlock(&m->mu);
}

const char *vmig_metrics_status_word(enum vmig_job_status st, char out[32])
{
    snprintf(out, 32, "%s", vmig_job_status_name(st));
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

void vmig_metrics_run_end(struct vmig_metrics *m, struct vmig_metrics_feed *f, const char *job,
                          enum vmig_job_status st, const struct vmig_run_stats *stats)
{
    if (!m) return;
    char w[32];
    const char *status = vmig_metrics_status_word(st, w);
    pthread_mutex_lock(&m->mu);
    if (f) {
        feed_phase_locked(m, f, job, vmig_now_ms());
        feed_stats_locked(m, f, stats);
    }
    add_locked(m, VMIG_MF_JOB_RUNS, &status, 1);
    pthread_mutex_unlock(&m->mu);
}

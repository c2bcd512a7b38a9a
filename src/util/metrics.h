/*
 * metrics.h - the process's own Prometheus metrics: a small thread-safe registry of
 * counters and gauges with a fixed small label set per family, rendered in the text
 * exposition format (0.0.4) for `GET /metrics` of `vmigrate serve` and of
 * `vmigrate worker --metrics-listen`. No process-wide state: the host creates the
 * registry and hands it down through struct vmig_job_run_opts.metrics (NULL = none,
 * and every call here accepts NULL and does nothing). Updates take one short mutex
 * (they come per page and per progress report, not per point); rendering copies the
 * values under it and formats outside. The store-wide view (jobs, collections, range
 * tasks of every worker) is rendered from the job store at scrape (engine/job_metrics.c).
 */
#ifndef VMIG_UTIL_METRICS_H
#define VMIG_UTIL_METRICS_H

#include <stdint.h>

#include "util/buf.h"
#include "vmig/job.h"
#include "vmig/migrate.h"
#include "vmig/run.h"
#include "vmig/types.h"

struct vmig_metrics; /* opaque: one registry */
struct vmig_store;   /* vmig/job.h */
struct vmig_err;

/* The families of the registry. Label names (in this order) in the comments. */
enum vmig_metrics_family {
    VMIG_MF_POINTS_READ = 0,   /* vmigrate_points_read_total{job,collection} */
    VMIG_MF_POINTS_WRITTEN,    /* vmigrate_points_written_total{job,collection} */
    VMIG_MF_BYTES_WRITTEN,     /* vmigrate_bytes_written_total{job,collection} */
    VMIG_MF_PHASE_SECONDS,     /* vmigrate_phase_seconds_total{job,collection,phase} (ms) */
    VMIG_MF_RETRIES,           /* vmigrate_retries_total{side,cause} */
    VMIG_MF_THROTTLED,         /* vmigrate_throttled_total */
    VMIG_MF_THROTTLED_SECONDS, /* vmigrate_throttled_seconds_total (added in ms) */
    VMIG_MF_JOB_RUNS,          /* vmigrate_job_runs_total{status} */
    VMIG_MF_LEASE_LOST,        /* vmigrate_task_lease_lost_total{job} */
    VMIG_MF_TASKS,             /* vmigrate_worker_tasks_total{kind,status} */
    VMIG_MF_TASKS_RUNNING,     /* gauge vmigrate_worker_tasks_running{kind} */
    VMIG_MF_SERIES_DROPPED,    /* vmigrate_metrics_series_dropped_total */
    VMIG_MF_COUNT
};

#define VMIG_METRICS_LABELS_MAX 3
#define VMIG_METRICS_SERIES_MAX 20000 /* past this, new series are dropped (and counted) */

/* A registry with every retry {side,cause} and job run {status} series at 0, so rates
 * exist before the first event. Aborts on out of memory. */
struct vmig_metrics *vmig_metrics_new(void);
void vmig_metrics_free(struct vmig_metrics *m);

/* Add n to counter id (labels: the family's label values in order, NULL when it has
 * none; copied). Set gauge id to v. Wrong kinds are ignored. */
void vmig_metrics_add(struct vmig_metrics *m, enum vmig_metrics_family id,
                      const char *const *labels, uint64_t n);
void vmig_metrics_set(struct vmig_metrics *m, enum vmig_metrics_family id,
                      const char *const *labels, int64_t v);
/* The value of one series (0 when absent): for tests and the host's own summary. */
uint64_t vmig_metrics_get(struct vmig_metrics *m, enum vmig_metrics_family id,
                          const char *const *labels);

/* Append every family (# HELP, # TYPE, samples) to out. */
void vmig_metrics_render(struct vmig_metrics *m, struct vmig_buf *out);

/* Append `name{l1="v1",...} ` with the values escaped (backslash, double quote and
 * newline as \\, \" and \n): for renderers of other families (the store's view). */
void vmig_metrics_sample(struct vmig_buf *out, const char *name, const char *const *lnames,
                         const char *const *lvals, int nlabels);
/* Append the # HELP and # TYPE lines of a family ("counter" or "gauge"). */
void vmig_metrics_family(struct vmig_buf *out, const char *name, const char *type,
                         const char *help);

/* ---- for the task runner ------------------------------------------------------------- */

/* A task of job lost its lease (another worker claimed it; its writes were fenced off):
 * vmigrate_task_lease_lost_total{job} + 1. */
void vmig_metrics_lease_lost(struct vmig_metrics *m, const char *job);
/* A task of kind ("setup", "range", "finish": vmig_task_kind_name) reached status in
 * this process: "claimed" when claimed, then "successful", "failed" or "pending" (given
 * back) when its claim ended; vmigrate_worker_tasks_total{kind,status} + 1. */
void vmig_metrics_task_state(struct vmig_metrics *m, const char *kind, const char *status);
/* Tasks of kind this process runs now: vmigrate_worker_tasks_running{kind} = n. */
void vmig_metrics_tasks_running(struct vmig_metrics *m, const char *kind, int64_t n);

/* ---- for the job runner: progress reports become counters ------------------------------
 *
 * The engine's progress reports carry cumulative counts (the collection's, restored
 * from its checkpoint on a resume). A feed, one per run (zeroed storage is a fresh
 * feed), keeps what it last saw, so each report adds only what is new: the first
 * report of a collection sets the base, a count that goes down sets it again (a new
 * task, a resume from an earlier checkpoint). The run's retry and throttle counters
 * (vmig_run_stats, from zero at the run's start) are added the same way. The time
 * between reports goes to the phase the last report was in. Thread-safe: the feed is
 * guarded by the registry's mutex. */
struct vmig_metrics_feed {
    char coll[VMIG_SRC_NAME_MAX]; /* the collection last reported, "" = none yet */
    int phase;                    /* its phase (enum vmig_coll_phase) */
    uint64_t phase_ms;            /* when the time in that phase was last counted */
    uint64_t read, written, bytes;
    uint64_t throttled, throttled_ms;
    uint64_t retries[VMIG_SIDES][VMIG_CAUSES];
};

/* A progress report p of job's run (stats: the run's counters, may be NULL). */
void vmig_metrics_feed(struct vmig_metrics *m, struct vmig_metrics_feed *f, const char *job,
                       const struct vmig_progress *p, const struct vmig_run_stats *stats);
/* The run ended with status st (SUCCESSFUL, FAILED, CANCELLED, or PENDING when it was
 * put back): the last counters and phase time are added, and
 * vmigrate_job_runs_total{status="successful|failed|cancelled|pending"} + 1. */
void vmig_metrics_run_end(struct vmig_metrics *m, struct vmig_metrics_feed *f, const char *job,
                          enum vmig_job_status st, const struct vmig_run_stats *stats);

/* A status as a label value: "pending", "in_progress", "successful", "failed",
 * "cancelled" (Prometheus's lower case). out: 32 bytes; returns it. */
const char *vmig_metrics_status_word(enum vmig_job_status st, char out[32]);

/* ---- the store's view (engine/job_metrics.c) --------------------------------------------
 *
 * Gauges of the whole job store, which every worker shares, read at scrape:
 * vmigrate_jobs{status} (every status, 0 included), per job PENDING or IN_PROGRESS and
 * collection vmigrate_collection_points{job,collection,kind="total|read|written"}, and
 * when the store keeps range tasks, per such job vmigrate_tasks{job,kind,status} and
 * vmigrate_task_reclaims_total{job} (claims of an expired lease). Appended to out. */
enum vmig_code vmig_metrics_render_store(struct vmig_store *s, struct vmig_buf *out,
                                         struct vmig_err *err);

#endif

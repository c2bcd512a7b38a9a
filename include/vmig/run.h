/*
 * run.h - the run context: what one run (a job, a `verify`, a pre-flight) hands to
 * every layer it uses - the engine, the connectors, the retry policy and every wait
 * loop - instead of process-wide state.
 *
 *   cancel  set it (from any thread, or a signal handler: it is a lock-free atomic)
 *           and every retry back-off and wait of the run ends within 100 ms, every
 *           remote call within its own deadline;
 *   deadline_ms  a context that ends by itself (a last, bounded call after a cancel);
 *   log     where the run's log lines go (the job's log), NULL = the process-wide
 *           callback of vmig_log_set(). Lines from the engine's reader and writer
 *           threads reach the run that owns them this way.
 *
 * A NULL context is valid everywhere: never cancelled, logs to the process log.
 */
#ifndef VMIG_RUN_H
#define VMIG_RUN_H

#include <stdatomic.h>
#include <stdint.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which side of the migration a remote call went to (the retry policy's counters). */
enum vmig_side { VMIG_SIDE_SOURCE = 0, VMIG_SIDE_TARGET, VMIG_SIDES };
/* Why a call was tried again: the code of the failure it retried. */
enum vmig_retry_cause {
    VMIG_CAUSE_TIMEOUT = 0, /* VMIG_E_TIMEOUT */
    VMIG_CAUSE_UNAVAILABLE, /* VMIG_E_UNAVAILABLE */
    VMIG_CAUSE_RATE_LIMIT,  /* VMIG_E_RATE_LIMIT: a throttled answer, waited on */
    VMIG_CAUSE_OTHER,       /* any other retryable code */
    VMIG_CAUSES
};

/* What the run's remote calls met, counted by the retry policy (util/retry.c) and
 * read by the engine for its progress and by the metrics (util/metrics.h): waits a
 * server asked for (rate limits), and every retry by side and cause. */
struct vmig_run_stats {
    atomic_uint_least64_t throttled;    /* throttled answers (HTTP 429, RESOURCE_EXHAUSTED) */
    atomic_uint_least64_t throttled_ms; /* time spent waiting on them */
    atomic_uint_least64_t retries[VMIG_SIDES][VMIG_CAUSES]; /* calls tried again */
};

struct vmig_run_ctx {
    atomic_int cancel;
    uint64_t deadline_ms; /* also cancelled from this vmig_now_ms() on; 0 = never */
    vmig_log_fn log;   /* NULL = the process log */
    void *log_ud;
    int log_level;     /* most verbose level given to log */
    /* counters of the run: points at own after vmig_run_ctx_init (a const context
     * still counts), so a context is never copied by value */
    struct vmig_run_stats *stats;
    struct vmig_run_stats own;
};

/* Not cancelled, process log, counters at zero. */
void vmig_run_ctx_init(struct vmig_run_ctx *c);
/* Nonzero once the run is cancelled (c may be NULL). */
int vmig_run_cancelled(const struct vmig_run_ctx *c);
/* Sleep ms in slices of at most 100 ms; nonzero when it ended on a cancel. */
int vmig_run_sleep(const struct vmig_run_ctx *c, int ms);
/* A log line of this run (printf format). */
void vmig_run_log(const struct vmig_run_ctx *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif

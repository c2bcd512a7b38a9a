/*
 * copy.h - what migrate.c (the phases of one collection) and copy.c (the copy
 * phase: readers, writers, flusher) share: the engine's state for one collection.
 *
 * Locks: `mu` guards st, the window and the counters, and is never held across I/O
 * or a hook. `save_mu` serialises the checkpoint hook (taken before `mu`), so
 * persisted states never go back in time.
 */
#ifndef VMIG_ENGINE_COPY_H
#define VMIG_ENGINE_COPY_H

#include <pthread.h>
#include <stdatomic.h>

#include "batch/batch.h"
#include "engine/window.h"
#include "source/source.h"
#include "target/target.h"
#include "util/queue.h"
#include "vmig/migrate.h"
#include "vmig/run.h"

struct eng {
    const struct vmig_endpoint *src, *dst;
    const struct vmig_plan_coll *pc;
    const struct vmig_migrate_opts *o;
    const struct vmig_run_ctx *ctx;
    struct vmig_coll_state *st;
    struct vmig_verify_result *vr; /* may be NULL */
    struct vmig_layout lay;
    struct vmig_target *t;
    const struct vmig_source_vt *svt;
    const struct vmig_target_vt *tvt;

    pthread_mutex_t mu, save_mu;
    uint64_t t0, last_progress, run_written;

    /* the copy phase (copy.c) */
    struct vmig_queue work, pool;
    struct vmig_window win;
    atomic_int stop; /* a thread failed: everyone stops */
    enum vmig_code rc;
    struct vmig_err err;
    pthread_cond_t flush_cv;
    int copy_finished; /* readers and writers of this pass are done */
    int need_repair;   /* the target had an outage since the last durable flush */
    uint64_t faults_at_durable;
    /* the source's strict-mode read rate, read when the copy starts: reads of all
     * readers are spaced read_gap_ms apart (0 = no limit); next_read_ms under mu */
    uint64_t read_gap_ms, next_read_ms;
    uint64_t throttled0, throttled_ms0; /* the run's stats when this collection began */
};

/* Persist st through the checkpoint hook. Caller holds neither lock. 0 or nonzero. */
int vmig_eng_save(struct eng *e);
/* Report progress (throttled to ~200 ms unless force). Caller holds neither lock. */
void vmig_eng_progress(struct eng *e, enum vmig_coll_phase phase, int force);
/* Cancelled by the run, or stopped by a failing thread. */
int vmig_eng_stopped(const struct eng *e);

/* Read ranges of a fresh copy into st (kept when st has them): Qdrant slices, else id
 * ranges cut at sampled ids, else one range; o->readers of them at most. */
void vmig_eng_plan_ranges(struct eng *e, struct vmig_source *s);
/* The copy phase: plan the read ranges (fresh copies), then passes of readers and
 * writers until every range is durably done without a target outage. */
enum vmig_code vmig_eng_copy(struct eng *e, struct vmig_source *s, struct vmig_err *err);

#endif

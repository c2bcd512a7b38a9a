/*
 * job_run_int.h - what the job runner's files share: the run of one job (struct
 * runctx: the claimed job, its endpoints and secrets, the run context, the monitor),
 * the modes a job is taken in, and the runner's helpers. job_run.c runs the job;
 * job_prepare.c decides what runs (claim rules, target reservations, what a resume,
 * retry or restart does to each collection); job_worker.c is the worker loop.
 */
#ifndef VMIG_JOB_RUN_INT_H
#define VMIG_JOB_RUN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "engine/job_int.h"
#include "util/metrics.h"
#include "vmig/job.h"
#include "vmig/run.h"

struct runctx {
    struct vmig_store *s;
    char id[VMIG_JOB_ID_MAX];
    struct vmig_job job;
    const struct vmig_job_run_opts *ro;
    struct vmig_endpoint src, dst;
    char *src_secret, *dst_secret; /* owned, wiped on release */
    struct vmig_run_ctx ctx;       /* the engine's cancel flag and log sink */
    int by_host;                   /* cancel came from ro->cancel (monitor thread) */
    size_t cur;                    /* collection being run */
    pthread_mutex_t mu;            /* progress throttle, the notes below */
    uint64_t last_progress;
    enum vmig_coll_phase last_phase;
    FILE *rejects;
    /* the job's log of phases and progress (note_phase, note_progress), under mu */
    size_t note_cur;
    int note_phase; /* -1 = none yet */
    uint64_t note_ms;
    struct vmig_progress note;
    struct vmig_err store_err; /* first failed write of a final status (see final_status) */
    unsigned char *remake;     /* per collection: a retry changed its target (job_retry.c) */
    /* a range task's run (job_task.c); NULL = a run of the whole job */
    const struct vmig_store_task *task;
    int64_t lease_ms;
    uint64_t lease_ok_ms; /* when the last renewal that held was sent (vmig_now_ms) */
    atomic_int lost;      /* the lease is lost (or may be): write nothing more */
    atomic_int job_stop;  /* the job was cancelled (or ended) under the task */
    uint64_t task_progress_ms;
    struct vmig_metrics_feed mfeed; /* what ro->metrics last heard of this run (zeroed) */
    /* monitor thread: heartbeat + cancel poll */
    pthread_t mon;
    int mon_started;
    pthread_mutex_t mon_mu;
    pthread_cond_t mon_cv;
    int mon_stop;
};

/* The public actions, and the worker's own way of taking a PENDING job. */
enum mode {
    M_RUN = VMIG_JOB_RUN,
    M_RESUME = VMIG_JOB_RESUME,
    M_RETRY = VMIG_JOB_RETRY,
    M_RESTART = VMIG_JOB_RESTART,
    M_WORKER
};

/* One line of the job's log from raw text (redacted of the job's secrets). */
void vmig_runner_log(struct runctx *c, int level, const char *coll, const char *point,
                     const char *msg);
/* err holds a failed store write for the job (coll: its collection, NULL for the
 * job): rewrite it as the job's error with the way out. */
enum vmig_code vmig_runner_store_failed(const struct runctx *c, const char *coll,
                                        struct vmig_err *err);
/* Write the final status of collection i (checked; see job_run.c). */
void vmig_runner_final_status(struct runctx *c, size_t i, enum vmig_job_status st,
                              const struct vmig_err *why, int64_t ended_ms);
/* The engine's options for a run of this job (job_run.c). */
void vmig_runner_migrate_opts(struct runctx *c, struct vmig_migrate_opts *mo);
/* Claim id for mode m and run it (job_run.c). */
enum vmig_code vmig_runner_run(struct vmig_store *s, const char *id, enum mode m,
                               const struct vmig_job_retry_opts *ch,
                               const struct vmig_job_run_opts *ro, int *claimed,
                               struct vmig_err *err);

/* The run's state for job id (nothing read yet), and its release. */
void vmig_runctx_init(struct runctx *c, struct vmig_store *s, const char *id,
                      const struct vmig_job_run_opts *ro);
void vmig_runctx_release(struct runctx *c);
/* The job's secrets into c (the host's, else the stored ones). */
enum vmig_code vmig_runner_secrets(struct runctx *c, struct vmig_err *err);
/* Start (1) or stop (0) the monitor thread: heartbeat, cancel poll, progress notes. */
void vmig_runner_monitor(struct runctx *c, int on);

/* job_task.c: range tasks (store.h). vmig_task_mode: the job runs as tasks (0: as a
 * whole, in one process). seed: after the claim and the preparation of mode m, the
 * tasks of every collection that runs (made anew where the collection is).
 * drive: a foreground run claims and runs the job's tasks (other workers may run
 * some) until none is left, and returns the job's outcome. beat / checkpoint /
 * progress: the monitor's lease renewal and the engine's hooks of a task's run. */
int vmig_task_mode(const struct vmig_store *s, const struct vmig_job *j);
enum vmig_code vmig_task_seed(struct runctx *c, enum mode m, struct vmig_err *err);
enum vmig_code vmig_task_drive(struct runctx *c, struct vmig_err *err);
void vmig_task_beat(struct runctx *c);
int vmig_task_checkpoint(struct runctx *c, const struct vmig_coll_state *st);
void vmig_task_progress(struct runctx *c, const struct vmig_progress *p);
/* Claim one task (of job_id, or of any job when NULL) and run it; *ran = 1 when one
 * was claimed. owner names the claimer ("host:pid/n"). */
enum vmig_code vmig_task_work(struct vmig_store *s, const char *job_id, const char *owner,
                              const struct vmig_job_run_opts *ro, int *ran, struct vmig_err *err);

/* The claimer's name of a thread: "host:pid/thread". */
void vmig_task_owner(char *out, size_t n, int thread);
/* End the job when none of its tasks is left to run (its status from its collections');
 * a job with a cancel request and no live task is cancelled. */
void vmig_task_settle(struct vmig_store *s, const char *id);

/* job_prepare.c: may mode m take a job in this state; reserve the job's target
 * collections; set which collections run in mode m (and make anew what changed). */
int vmig_runner_claimable(const struct vmig_job *j, enum mode m);
enum vmig_code vmig_runner_reserve(struct runctx *c, enum mode m, struct vmig_err *err);
enum vmig_code vmig_runner_prepare(struct runctx *c, enum mode m, struct vmig_err *err);

#endif

/*
 * job_worker.c - the worker: threads that take work from the job store until
 * stopped: first a range task of a job run as tasks (any job's, store.h; on many
 * machines at once), else the oldest PENDING job (a job run as tasks is only seeded
 * by it: its tasks come back through the first step), else an IN_PROGRESS job run as
 * a whole whose process died. A stopped run is put back to PENDING with a consistent
 * checkpoint for the next worker; a stopped task likewise.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_run_int.h"
#include "store/store.h"
#include "util/retry.h"
#include "vmig/vmig.h"

struct worker {
    struct vmig_store *s;
    struct vmig_job_run_opts ro; /* cancel = stop, requeue */
    const atomic_int *stop;
};

struct worker_thread {
    struct worker *w;
    int no;
};

/* Try the work once; 1 when something ran. */
static int work_once(struct worker *w, const char *owner)
{
    char(*ids)[VMIG_JOB_ID_MAX] = NULL;
    size_t n = 0;
    int ran = 0;
    struct vmig_err e;
    vmig_err_clear(&e);
    vmig_task_work(w->s, NULL, owner, &w->ro, &ran, &e); /* its failures are in the job */
    if (ran) return 1;
    for (int pass = 0; pass < 2 && !ran; pass++) {
        /* PENDING first, then IN_PROGRESS ones whose process died */
        int st = pass == 0 ? VMIG_JOB_PENDING : VMIG_JOB_IN_PROGRESS;
        if (w->s->vt->job_ids(w->s, st, 1, &ids, &n, &e)) return 0;
        for (size_t i = 0; i < n && !ran && !atomic_load(w->stop); i++) {
            if (pass == 1) {
                struct vmig_job j;
                if (vmig_job_get(w->s, ids[i], &j, &e)) continue;
                int orphan = j.orphaned, tasks = vmig_task_mode(w->s, &j) && j.ntasks;
                vmig_job_release(&j);
                if (tasks) {
                    /* its tasks are claimed above, lease by lease; its end is settled
                     * here when the worker of its last task died before it could */
                    if (orphan) vmig_task_settle(w->s, ids[i]);
                    continue;
                }
                if (!orphan) continue;
            }
            int claimed = 0;
            vmig_err_clear(&e);
            vmig_runner_run(w->s, ids[i], pass == 0 ? M_WORKER : M_RESUME, NULL, &w->ro, &claimed,
                            &e);
            ran = claimed;
        }
        free(ids);
        ids = NULL;
    }
    return ran;
}

static void *worker_main(void *arg)
{
    struct worker_thread *wt = arg;
    struct worker *w = wt->w;
    char owner[VMIG_TASK_OWNER_MAX];
    vmig_task_owner(owner, sizeof owner, wt->no);
    while (!atomic_load(w->stop)) {
        if (work_once(w, owner)) continue;
        for (int i = 0; i < 10 && !atomic_load(w->stop); i++)
            vmig_sleep_ms(100);
    }
    return NULL;
}

enum vmig_code vmig_worker_run(struct vmig_store *s, int concurrency,
                               const struct vmig_job_run_opts *ro, const atomic_int *stop,
                               struct vmig_err *err)
{
    struct worker w;
    memset(&w, 0, sizeof w);
    w.s = s;
    if (ro)
        w.ro = *ro;
    else
        vmig_job_run_opts_init(&w.ro);
    w.ro.cancel = stop;
    w.ro.requeue = 1;
    w.ro.on_claim = NULL; /* the worker claims for itself; no caller waits on it */
    w.stop = stop;
    if (concurrency < 1) concurrency = 1;
    if (concurrency > 64) concurrency = 64;
    pthread_t th[64];
    struct worker_thread wt[64];
    int started = 0;
    for (int i = 0; i < concurrency; i++) {
        wt[started].w = &w;
        wt[started].no = i;
        if (pthread_create(&th[started], NULL, worker_main, &wt[started]) == 0) started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (!started) return vmig_err_set(err, VMIG_E_INTERNAL, "cannot start worker threads");
    return VMIG_OK;
}

/*
 * job_worker.c - the worker: threads that take work from the job store until
 * stopped: first a range task of a job run as tasks (any job's, store.h; on many
 * machines at once), else the oldest PENDING job (a job run as tasks is only seeded
 * by it: its tasks come back through the first step), else an IN_PROGRESS job run as
 * a whole whose process died. A PENDING job whose stored secrets its key cannot open
 * is left to other workers, with one warning in the job's log. A stopped run is put back to PENDING
 * with a consistent checkpoint for the next worker; a stopped task likewise.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/job_int.h"
#include "engine/job_run_int.h"
#include "store/store.h"
#include "util/retry.h"
#include "vmig/vmig.h"

#define WARNED_MAX 32

struct worker {
    struct vmig_store *s;
    struct vmig_job_run_opts ro; /* cancel = stop, requeue */
    const atomic_int *stop;
    pthread_mutex_t mu;                       /* guards warned */
    char warned[WARNED_MAX][VMIG_JOB_ID_MAX]; /* jobs whose secrets it could not open */
    size_t nwarned;
};

/* A PENDING job this worker cannot start because its key cannot open the job's stored
 * secrets: say so once in the job's log (jobs show, the console) and go on; a worker
 * with the right key takes the job. */
static void warn_secrets(struct worker *w, const char *id, const struct vmig_err *e)
{
    int seen = 0;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->nwarned && !seen; i++)
        seen = !strcmp(w->warned[i], id);
    if (!seen && w->nwarned < WARNED_MAX)
        snprintf(w->warned[w->nwarned++], VMIG_JOB_ID_MAX, "%s", id);
    pthread_mutex_unlock(&w->mu);
    if (seen) return;
    char host[256], line[VMIG_ERR_MSG_MAX + 256];
    vmig_job_host_name(host);
    snprintf(line, sizeof line,
             "a worker on %s (pid %d) cannot start this job: %s; give every worker the key "
             "file of the process that created the job (VMIGRATE_SECRET_KEY_FILE)",
             host, (int)getpid(), e->msg);
    w->s->vt->log_add(w->s, id, (int64_t)vmig_wall_ms(), VMIG_LOG_WARN, NULL, "", line, NULL);
}

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
            enum vmig_code rc = vmig_runner_run(w->s, ids[i], pass == 0 ? M_WORKER : M_RESUME, NULL,
                                                &w->ro, &claimed, &e);
            if (rc == VMIG_E_AUTH && !claimed) warn_secrets(w, ids[i], &e);
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
    pthread_mutex_init(&w.mu, NULL);
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
    pthread_mutex_destroy(&w.mu);
    if (!started) return vmig_err_set(err, VMIG_E_INTERNAL, "cannot start worker threads");
    return VMIG_OK;
}

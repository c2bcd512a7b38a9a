/*
 * job_metrics.c - the job store's view for Prometheus (util/metrics.h): gauges every
 * worker sharing the store contributes to, read at scrape. Jobs are counted by status
 * from the store's id lists; only the jobs not yet ended (PENDING, IN_PROGRESS) are
 * read whole, for their collections' progress and range tasks, so a store of many
 * finished jobs costs a scrape little. It lives in the library, not in the server,
 * because range tasks are behind the store's private vtable (store/store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "vmig/job.h"

#define NSTATUS (VMIG_JOB_CANCELLED + 1)
#define NKINDS (VMIG_TASK_FINISH + 1)

/* The collections of one unfinished job: points total, read and written. */
static void job_points(const struct vmig_job *j, struct vmig_buf *b)
{
    static const char *const ln[] = {"job", "collection", "kind"};
    for (size_t i = 0; i < j->ncolls; i++) {
        const struct vmig_job_coll *c = &j->coll[i];
        const char *kinds[] = {"total", "read", "written"};
        const uint64_t v[] = {c->total, c->read, c->written};
        for (int k = 0; k < 3; k++) {
            const char *lv[] = {j->id, c->source, kinds[k]};
            vmig_metrics_sample(b, "vmigrate_collection_points", ln, lv, 3);
            vmig_buf_addf(b, "%llu\n", (unsigned long long)v[k]);
        }
    }
}

/* The range tasks of one job by kind and status, and its reclaims; nothing when the
 * store keeps no tasks (or the job has none). */
static void job_tasks(struct vmig_store *s, const char *id, struct vmig_buf *tasks,
                      struct vmig_buf *reclaims)
{
    static const char *const ln[] = {"job", "kind", "status"};
    struct vmig_store_task *t = NULL;
    size_t n = 0;
    if (!s->vt->task_list || s->vt->task_list(s, id, -1, &t, &n, NULL) != VMIG_OK || !n) {
        free(t);
        return;
    }
    uint64_t count[NKINDS][NSTATUS] = {{0}}, rec = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)t[i].kind < NKINDS && (unsigned)t[i].status < NSTATUS)
            count[t[i].kind][t[i].status]++;
        rec += t[i].reclaims > 0 ? (uint64_t)t[i].reclaims : 0;
        vmig_store_task_release(&t[i]);
    }
    free(t);
    char w[32];
    for (int k = 0; k < NKINDS; k++)
        for (int st = 0; st < NSTATUS; st++) {
            if (st == VMIG_JOB_CANCELLED) continue; /* tasks are never cancelled */
            const char *lv[] = {id, vmig_task_kind_name((enum vmig_task_kind)k),
                                vmig_metrics_status_word((enum vmig_job_status)st, w)};
            vmig_metrics_sample(tasks, "vmigrate_tasks", ln, lv, 3);
            vmig_buf_addf(tasks, "%llu\n", (unsigned long long)count[k][st]);
        }
    const char *jl[] = {"job"}, *jv[] = {id};
    vmig_metrics_sample(reclaims, "vmigrate_task_reclaims_total", jl, jv, 1);
    vmig_buf_addf(reclaims, "%llu\n", (unsigned long long)rec);
}

enum vmig_code vmig_metrics_render_store(struct vmig_store *s, struct vmig_buf *out,
                                         struct vmig_err *err)
{
    struct vmig_buf points = VMIG_BUF_INIT, tasks = VMIG_BUF_INIT, reclaims = VMIG_BUF_INIT;
    char(*ids)[VMIG_JOB_ID_MAX] = NULL;
    size_t count[NSTATUS] = {0};
    enum vmig_code rc = VMIG_OK;
    for (int st = 0; st < NSTATUS && rc == VMIG_OK; st++) {
        size_t n = 0;
        free(ids);
        ids = NULL;
        rc = s->vt->job_ids(s, st, 0, &ids, &n, err);
        if (rc) break;
        count[st] = n;
        if (st != VMIG_JOB_PENDING && st != VMIG_JOB_IN_PROGRESS) continue;
        for (size_t i = 0; i < n; i++) {
            struct vmig_job j;
            memset(&j, 0, sizeof j);
            if (vmig_job_get(s, ids[i], &j, NULL) == VMIG_OK) job_points(&j, &points);
            vmig_job_release(&j);
            job_tasks(s, ids[i], &tasks, &reclaims);
        }
    }
    free(ids);
    if (rc) goto out;
    static const char *const sl[] = {"status"};
    vmig_metrics_family(out, "vmigrate_jobs", "gauge", "Jobs in the job store, by status.");
    for (int st = 0; st < NSTATUS; st++) {
        char w[32];
        const char *sv[] = {vmig_metrics_status_word((enum vmig_job_status)st, w)};
        vmig_metrics_sample(out, "vmigrate_jobs", sl, sv, 1);
        vmig_buf_addf(out, "%zu\n", count[st]);
    }
    vmig_metrics_family(out, "vmigrate_collection_points", "gauge",
                        "Points of each collection of the jobs not yet ended: the source's "
                        "total, read and written (acknowledged), from the job store.");
    vmig_buf_add(out, points.p, points.len);
    if (tasks.len) {
        vmig_metrics_family(out, "vmigrate_tasks", "gauge",
                            "Range tasks of the jobs not yet ended, by kind and status.");
        vmig_buf_add(out, tasks.p, tasks.len);
        vmig_metrics_family(out, "vmigrate_task_reclaims_total", "counter",
                            "Claims of a range task whose lease had expired (its worker died).");
        vmig_buf_add(out, reclaims.p, reclaims.len);
    }
out:
    vmig_buf_release(&points);
    vmig_buf_release(&tasks);
    vmig_buf_release(&reclaims);
    return rc;
}

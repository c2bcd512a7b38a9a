/*
 * cmd_worker.c - `vmigrate worker`: a long-running process that claims PENDING
 * jobs (those created with `vmigrate migrate --detach`, and jobs whose process
 * died) from the job store and runs up to --concurrency of them at a time. SIGINT
 * or SIGTERM stops it: running jobs stop at a consistent checkpoint and go back to
 * Pending for the next worker. It prints its jobs' lines as they happen: each job's
 * start, phases, progress about every 10 s and end, named by the job's id. With
 * --metrics-listen it also serves GET /metrics (src/server/metrics.c): its own runs'
 * counters and the job store's view.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "server/server.h"
#include "util/metrics.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

/* The jobs' lines, stamped with the local time (a worker runs for long). */
static void worker_log(void *ud, int level, const char *msg)
{
    static const char *lv[] = {"error: ", "warning: ", "", ""};
    char ts[16];
    time_t t = time(NULL);
    struct tm tm;
    (void)ud;
    localtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    fprintf(stderr, "vmigrate worker: %s %s%s\n", ts, lv[level & 3], msg);
    fflush(stderr);
}

int cmd_worker(struct cli_opts *o)
{
    if (o->nargs) {
        fprintf(stderr, "vmigrate worker: unexpected argument '%s'\n", o->args[0]);
        return EXIT_USAGE;
    }
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    int orc = cli_store_open(o, &s);
    if (orc) return orc;
    struct vmig_job_run_opts ro;
    cli_job_run_opts(o, &ro);
    ro.log = worker_log;
    if (!o->quiet && ro.log_level < VMIG_LOG_INFO) ro.log_level = VMIG_LOG_INFO;
    struct srv_metrics *sm = NULL;
    if (o->metrics_listen && *o->metrics_listen) {
        unsigned port = 0;
        char host[256] = "127.0.0.1", pstr[16];
        srv_split_listen(o->metrics_listen, host, sizeof host, pstr, sizeof pstr);
        ro.metrics = vmig_metrics_new();
        sm = srv_metrics_start(o->metrics_listen, s, ro.metrics, &port, &err);
        if (!sm) {
            vmig_metrics_free(ro.metrics);
            vmig_store_close(s);
            cli_error(&err);
            return cli_exit_code(err.code);
        }
        /* always printed: a test or a supervisor given port 0 learns the port here */
        fprintf(stderr, "vmigrate worker: metrics on http://%s%s%s:%u/metrics\n",
                strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
    }
    int n = o->concurrency > 0 ? o->concurrency : 1;
    if (!o->quiet)
        fprintf(stderr, "vmigrate worker: running pending jobs, %d at a time (Ctrl-C to stop)\n",
                n);
    fflush(stderr);
    enum vmig_code rc = vmig_worker_run(s, n, &ro, &cli_cancel, &err);
    srv_metrics_stop(sm); /* before the store and registry it reads go */
    vmig_metrics_free(ro.metrics);
    vmig_store_close(s);
    if (rc) {
        cli_error(&err);
        return cli_exit_code(rc);
    }
    if (!o->quiet) fprintf(stderr, "vmigrate worker: stopped\n");
    return EXIT_OK;
}

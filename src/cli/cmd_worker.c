/*
 * cmd_worker.c - `vmigrate worker`: a long-running process that claims PENDING
 * jobs (those created with `vmigrate migrate --detach`, and jobs whose process
 * died) from the job store and runs up to --concurrency of them at a time. SIGINT
 * or SIGTERM stops it: running jobs stop at a consistent checkpoint and go back to
 * Pending for the next worker. It prints its jobs' lines as they happen: each job's
 * start, phases, progress about every 10 s and end, named by the job's id.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"
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
    int n = o->concurrency > 0 ? o->concurrency : 1;
    if (!o->quiet)
        fprintf(stderr, "vmigrate worker: running pending jobs, %d at a time (Ctrl-C to stop)\n",
                n);
    enum vmig_code rc = vmig_worker_run(s, n, &ro, &cli_cancel, &err);
    vmig_store_close(s);
    if (rc) {
        cli_error(&err);
        return cli_exit_code(rc);
    }
    if (!o->quiet) fprintf(stderr, "vmigrate worker: stopped\n");
    return EXIT_OK;
}

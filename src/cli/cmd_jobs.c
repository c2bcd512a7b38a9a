/*
 * cmd_jobs.c - `vmigrate jobs`: the job center from the command line. Lists jobs
 * (a table, or --json), shows one job's per-collection progress, verification and
 * last errors, prints its log (--follow keeps reading until the job ends), and
 * cancels, resumes, retries or restarts it. The three runs happen in the foreground
 * with progress on stderr; Ctrl-C stops them with a consistent checkpoint. A job is
 * named by its id or a unique prefix of it (vmig_job_resolve).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

const struct cli_sub cli_jobs_subs[] = {
    {"list", "[list] [--status S] [--json]",
     "list the jobs, newest first: status, times, progress, endpoints and the collections of "
     "each (source -> target)"},
    {"show", "show ID [--json] [--refresh-index]",
     "one job: per collection its status, phase, progress, verification and error, and the "
     "job's last errors and warnings"},
    {"logs", "logs ID [--json] [--follow]",
     "the job's log, oldest first (--follow: until the job ends)"},
    {"cancel", "cancel ID",
     "cancel a job: a pending one at once, a running one at its next checkpoint (resume "
     "continues from it)"},
    {"resume", "resume ID",
     "run every collection of the job that is not done, from its checkpoint (also starts a "
     "pending job)"},
    {"retry",
     "retry ID [--null-values W] [--payload-conflict W] [--rejects FILE] [--target-name SRC=NEW] "
     "[--skip-vector SRC.VECTOR] [--index W] [--max-vector-fields N]",
     "run the failed and cancelled collections of the job again with the changes given (never "
     "the successful ones): policies go on from the checkpoint, a new target name, vector or "
     "index makes the collection again (dropping the one this job created)"},
    {"restart", "restart ID",
     "run the whole job over: drops the target collections it created and copies everything "
     "again"},
};
const size_t cli_jobs_nsubs = sizeof cli_jobs_subs / sizeof *cli_jobs_subs;

static void fmt_time(int64_t ms, char *out, size_t n)
{
    if (!ms) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static uint64_t coll_written(const struct vmig_job_coll *c)
{
    return c->state.written > c->written ? c->state.written : c->written;
}

static uint64_t coll_total(const struct vmig_job_coll *c)
{
    return c->total ? c->total : c->state.total;
}

static const char *status_label(const struct vmig_job *j)
{
    return j->orphaned ? "In Progress (orphaned: resume it)" : vmig_job_status_label(j->status);
}

/* ---- list ---------------------------------------------------------------------------- */

static int jobs_list(const struct cli_opts *o, struct vmig_store *s)
{
    int status = -1;
    if (o->status) {
        enum vmig_job_status st;
        if (vmig_job_status_parse(o->status, &st)) {
            cli_usage_error_in("jobs",
                               "--status must be pending, in_progress, successful, failed or "
                               "cancelled, not '%s'",
                               o->status);
            return EXIT_USAGE;
        }
        status = (int)st;
    }
    struct vmig_job *jobs = NULL;
    size_t n = 0;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_list(s, status, &jobs, &n, &err)) {
        cli_error(&err);
        return EXIT_FAILED;
    }
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            char *js = vmig_job_to_json(&jobs[i], 0, 0);
            printf("%s%s", i ? "," : "", js);
            free(js);
        }
        printf("]\n");
        cli_json_done = 1;
    } else if (!n) {
        fprintf(stderr, "no jobs%s%s\n", o->status ? " with status " : "",
                o->status ? o->status : "");
    } else {
        /* the endpoints column as wide as its widest row, the collections last */
        int ew = (int)strlen("ENDPOINTS");
        for (size_t i = 0; i < n; i++) {
            size_t w = strlen(jobs[i].src_url ? jobs[i].src_url : "") +
                       strlen(jobs[i].dst_url ? jobs[i].dst_url : "") + 4;
            if ((int)w > ew) ew = (int)w;
        }
        printf("%-10s %-12s %-19s %-19s %-24s %-*s  %s\n", "ID", "STATUS", "CREATED", "FINISHED",
               "PROGRESS", ew, "ENDPOINTS", "COLLECTIONS (SOURCE -> TARGET)");
        for (size_t i = 0; i < n; i++) {
            const struct vmig_job *j = &jobs[i];
            uint64_t w = 0, t = 0;
            for (size_t k = 0; k < j->ncolls; k++) {
                w += coll_written(&j->coll[k]);
                t += coll_total(&j->coll[k]);
            }
            char cr[32], fin[32], prog[48], ends[2 * VMIG_PATH_MAX];
            fmt_time(j->created_ms, cr, sizeof cr);
            fmt_time(j->finished_ms, fin, sizeof fin);
            snprintf(prog, sizeof prog, "%llu/%llu (%.0f%%)", (unsigned long long)w,
                     (unsigned long long)t, t ? 100.0 * (double)w / (double)t : 0.0);
            snprintf(ends, sizeof ends, "%s -> %s", j->src_url ? j->src_url : "",
                     j->dst_url ? j->dst_url : "");
            printf("%-10s %-12s %-19s %-19s %-24s %-*s  ", j->id,
                   j->orphaned ? "Orphaned" : vmig_job_status_label(j->status), cr, fin, prog, ew,
                   ends);
            for (size_t k = 0; k < j->ncolls; k++) {
                const struct vmig_job_coll *c = &j->coll[k];
                printf("%s%s", k ? ", " : "", c->source);
                if (strcmp(c->source, c->target) != 0) printf(" -> %s", c->target);
            }
            printf("%s\n", j->ncolls ? "" : "(none)");
        }
    }
    vmig_job_list_free(jobs, n);
    return EXIT_OK;
}

/* ---- show ---------------------------------------------------------------------------- */

struct last_errors {
    struct {
        int64_t ts;
        int level;
        char coll[128], point[VMIG_ID_TEXT_MAX], msg[512];
    } e[10];
    size_t n, next;
};

static int keep_error(void *ud, const struct vmig_job_log *e)
{
    struct last_errors *l = ud;
    if (e->level > VMIG_LOG_WARN) return 0;
    size_t k = l->next;
    l->e[k].ts = e->ts_ms;
    l->e[k].level = e->level;
    snprintf(l->e[k].coll, sizeof l->e[k].coll, "%s", e->coll);
    snprintf(l->e[k].point, sizeof l->e[k].point, "%s", e->point_id);
    snprintf(l->e[k].msg, sizeof l->e[k].msg, "%s", e->msg);
    l->next = (k + 1) % 10;
    if (l->n < 10) l->n++;
    return 0;
}

static int jobs_show(const struct cli_opts *o, struct vmig_store *s, const char *id)
{
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(s, id, &j, &err)) {
        cli_error(&err);
        return err.code == VMIG_E_NOT_FOUND ? EXIT_USAGE : EXIT_FAILED;
    }
    int rc = EXIT_OK;
    /* the live build, or (when Milvus cannot be asked) the stored one and the reason */
    if (o->refresh_index && vmig_job_index_live(s, &j, o->token, &err)) {
        cli_error_ctx("cannot ask Milvus for the live index build (shown: as the job last saw it)",
                      &err);
        rc = cli_exit_code(err.code);
    }
    if (o->json) {
        char *js = vmig_job_to_json(&j, 1, 1);
        printf("%s\n", js);
        free(js);
        cli_json_done = 1;
        vmig_job_release(&j);
        return rc;
    }
    char cr[32], st[32], fin[32];
    fmt_time(j.created_ms, cr, sizeof cr);
    fmt_time(j.started_ms, st, sizeof st);
    fmt_time(j.finished_ms, fin, sizeof fin);
    printf("job %s: %s\n", j.id, status_label(&j));
    printf("  created %s, started %s, finished %s\n", cr, st, fin);
    printf("  source  %s\n  target  %s%s%s\n", j.src_url ? j.src_url : "",
           j.dst_url ? j.dst_url : "", j.dst_db ? " db " : "", j.dst_db ? j.dst_db : "");
    printf("  secrets %s\n", j.secrets_stored ? "stored encrypted" : "not stored");
    if (j.owner_pid) printf("  owner   pid %d on %s\n", j.owner_pid, j.owner_host);
    if (j.cancel_requested) printf("  cancel requested\n");
    if (j.error[0]) printf("  error   %s\n", j.error);
    printf("\n%-24s %-24s %-11s %-9s %21s %6s %9s  %s\n", "COLLECTION", "TARGET", "STATUS",
           "PHASE", "WRITTEN/TOTAL", "%", "PTS/S", "VERIFIED");
    for (size_t i = 0; i < j.ncolls; i++) {
        const struct vmig_job_coll *c = &j.coll[i];
        uint64_t w = coll_written(c), t = coll_total(c);
        char wt[48], ver[128];
        snprintf(wt, sizeof wt, "%llu/%llu", (unsigned long long)w, (unsigned long long)t);
        if (c->verify.ran)
            snprintf(ver, sizeof ver, "%llu = %llu, %llu sampled%s",
                     (unsigned long long)c->verify.source_count,
                     (unsigned long long)c->verify.target_count,
                     (unsigned long long)c->verify.sampled,
                     c->verify.first_diff[0] ? " (differences)" : "");
        else snprintf(ver, sizeof ver, "-");
        printf("%-24.24s %-24.24s %-11s %-9s %21s %5.1f%% %9.0f  %s\n", c->source, c->target,
               vmig_job_status_label(c->status), vmig_phase_name(c->phase), wt,
               t ? 100.0 * (double)w / (double)t : 0.0, c->rate, ver);
        if (c->state.index_built)
            printf("%-24s index: built (%llu rows)%s\n", "",
                   (unsigned long long)c->state.index_rows,
                   c->index_live ? ", asked Milvus just now" : "");
        else if (c->state.index_total)
            printf("%-24s index: building: %llu of %llu rows indexed %s\n", "",
                   (unsigned long long)c->state.index_rows,
                   (unsigned long long)c->state.index_total,
                   c->index_live ? "(asked Milvus just now) - searchable now"
                   : c->status == VMIG_JOB_IN_PROGRESS
                       ? "(loaded and searchable)"
                       : "when the job ended - searchable now; the build goes on in Milvus "
                         "(--refresh-index asks it)");
        if (c->state.nulls_dropped || c->state.rejected || c->state.misfits)
            printf("%-24s nulls dropped %llu, rejected %llu, kept in $meta (misfits) %llu\n", "",
                   (unsigned long long)c->state.nulls_dropped,
                   (unsigned long long)c->state.rejected, (unsigned long long)c->state.misfits);
        if (c->error[0]) printf("%-24s error: %s\n", "", c->error);
        if (c->verify.first_diff[0]) printf("%-24s first difference: %s\n", "",
                                            c->verify.first_diff);
    }
    if (j.ntasks) {
        /* a job run as range tasks: each with the worker holding it (or that last did) */
        printf("\n%-24s %-6s %-6s %-11s %12s %8s  %s\n", "COLLECTION", "TASK", "KIND", "STATUS",
               "WRITTEN", "CLAIMS", "WORKER");
        for (size_t k = 0; k < j.ntasks; k++) {
            const struct vmig_job_task *t = &j.tasks[k];
            char idx[16], claims[32];
            if (t->idx == 0 || t->idx == 100000)
                snprintf(idx, sizeof idx, "-");
            else
                snprintf(idx, sizeof idx, "%d", t->idx);
            snprintf(claims, sizeof claims, "%d%s", t->attempts, t->reclaims ? "*" : "");
            printf("%-24.24s %-6s %-6s %-11s %12llu %8s  %s\n",
                   t->coll < j.ncolls ? j.coll[t->coll].source : "", idx, t->kind,
                   vmig_job_status_label(t->status), (unsigned long long)t->written, claims,
                   t->owner[0] ? t->owner : "-");
            if (t->error[0]) printf("%-24s error: %s\n", "", t->error);
        }
        for (size_t k = 0; k < j.ntasks; k++)
            if (j.tasks[k].reclaims) {
                printf("  (* taken over from a worker whose lease ran out)\n");
                break;
            }
    }
    struct last_errors le;
    memset(&le, 0, sizeof le);
    vmig_job_logs(s, id, 0, 0, keep_error, &le, &err);
    if (le.n) {
        printf("\nlast errors and warnings (all: vmigrate jobs logs %s):\n", id);
        size_t start = le.n < 10 ? 0 : le.next;
        for (size_t k = 0; k < le.n; k++) {
            size_t x = (start + k) % 10;
            char ts[32];
            fmt_time(le.e[x].ts, ts, sizeof ts);
            printf("  %s %-5s %s%s%s%s%s\n", ts, le.e[x].level == VMIG_LOG_ERROR ? "error" : "warn",
                   le.e[x].coll[0] ? le.e[x].coll : "", le.e[x].coll[0] ? ": " : "",
                   le.e[x].point[0] ? "point " : "", le.e[x].point[0] ? le.e[x].point : "",
                   le.e[x].point[0] ? ": " : "");
            printf("      %s\n", le.e[x].msg);
        }
    }
    vmig_job_release(&j);
    return rc;
}

/* ---- logs ---------------------------------------------------------------------------- */

struct logp {
    const struct cli_opts *o;
    int64_t last;
};

static int print_log(void *ud, const struct vmig_job_log *e)
{
    struct logp *p = ud;
    static const char *lv[] = {"error", "warn", "info", "debug"};
    p->last = e->seq;
    if (p->o->json) {
        cli_json_done = 1; /* JSON lines: one document per log line */
        printf("{\"seq\":%lld,\"ts_ms\":%lld,\"level\":\"%s\",\"collection\":",
               (long long)e->seq, (long long)e->ts_ms, lv[e->level & 3]);
        if (e->coll[0]) cli_json_str(stdout, e->coll);
        else printf("null");
        printf(",\"point_id\":");
        if (e->point_id[0]) cli_json_str(stdout, e->point_id);
        else printf("null");
        printf(",\"message\":");
        cli_json_str(stdout, e->msg);
        printf("}\n");
    } else {
        char ts[32];
        fmt_time(e->ts_ms, ts, sizeof ts);
        /* a line with a point names it in its message (the subject rule of vmig/error.h):
         * the point column is for --json and filters, never appended here */
        printf("%s.%03d %-5s %s%s%s%s\n", ts, (int)(e->ts_ms % 1000), lv[e->level & 3],
               e->coll[0] ? "[" : "", e->coll, e->coll[0] ? "] " : "", e->msg);
    }
    return 0;
}

static int jobs_logs(const struct cli_opts *o, struct vmig_store *s, const char *id)
{
    struct logp p = {o, 0};
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_job j;
    if (vmig_job_get(s, id, &j, &err)) {
        cli_error(&err);
        return err.code == VMIG_E_NOT_FOUND ? EXIT_USAGE : EXIT_FAILED;
    }
    vmig_job_release(&j);
    for (;;) {
        if (vmig_job_logs(s, id, p.last, 0, print_log, &p, &err)) {
            cli_error(&err);
            return EXIT_FAILED;
        }
        fflush(stdout);
        if (!o->follow || cli_cancel) break;
        if (vmig_job_get(s, id, &j, &err)) break;
        int ended = j.status != VMIG_JOB_IN_PROGRESS && j.status != VMIG_JOB_PENDING;
        vmig_job_release(&j);
        if (ended) {
            /* the last lines were written before the status changed: read them */
            vmig_job_logs(s, id, p.last, 0, print_log, &p, &err);
            break;
        }
        vmig_sleep_ms(500);
    }
    return EXIT_OK;
}

/* ---- cancel -------------------------------------------------------------------------- */

static int jobs_cancel(const struct cli_opts *o, struct vmig_store *s, const char *id)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    int imm = 0;
    if (vmig_job_cancel(s, id, &imm, &err)) {
        cli_error(&err);
        return err.code == VMIG_E_USAGE || err.code == VMIG_E_NOT_FOUND ? EXIT_USAGE : EXIT_FAILED;
    }
    if (!imm) {
        if (!o->quiet) fprintf(stderr, "job %s: cancel requested; waiting for it to stop...\n", id);
        /* the runner polls every 500 ms and stops at the next page boundary */
        for (int i = 0; i < 600 && !cli_cancel; i++) {
            struct vmig_job j;
            if (vmig_job_get(s, id, &j, &err)) break;
            int running = j.status == VMIG_JOB_IN_PROGRESS && !j.orphaned;
            vmig_job_release(&j);
            if (!running) break;
            vmig_sleep_ms(100);
        }
    }
    struct vmig_job j;
    if (vmig_job_get(s, id, &j, &err)) {
        cli_error(&err);
        return EXIT_FAILED;
    }
    if (o->json) {
        printf("{\"id\":\"%s\",\"status\":\"%s\"}\n", id, vmig_job_status_name(j.status));
        cli_json_done = 1;
    } else {
        printf("job %s: %s\n", id, status_label(&j));
    }
    vmig_job_release(&j);
    return EXIT_OK;
}

/* ---- resume / retry / restart --------------------------------------------------------- */

/* Run options shared by `jobs resume|retry|restart` and `worker`. */
void cli_job_run_opts(const struct cli_opts *o, struct vmig_job_run_opts *ro)
{
    vmig_job_run_opts_init(ro);
    ro->src_secret = o->api_key; /* flag or QDRANT_API_KEY; else the stored one */
    ro->dst_secret = o->token;   /* flag or MILVUS_TOKEN */
    ro->cancel = &cli_cancel;
    ro->log = cli_log_stderr;
    ro->log_level = o->verbose ? VMIG_LOG_DEBUG : o->quiet ? VMIG_LOG_ERROR : VMIG_LOG_WARN;
    ro->lease_ms = (int64_t)o->lease_s * 1000;
}

static int jobs_run(const struct cli_opts *o, struct vmig_store *s, const char *sub,
                    const char *id)
{
    int bad = cli_policy_words(o, NULL); /* retry's --null-values/--payload-conflict, named */
    if (bad) return bad;
    struct cli_ui u;
    cli_ui_init(&u, o);
    struct vmig_job_run_opts ro;
    cli_job_run_opts(o, &ro);
    ro.hooks.ud = &u;
    ro.hooks.progress = cli_on_progress;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_job_action act = VMIG_JOB_RESTART;
    vmig_job_action_parse(sub, &act); /* "resume", "retry" or "restart" */
    /* retry's changes: the words, the vector limit and the target-name / skip-vector edits */
    struct vmig_job_retry_opts ch = {.null_values = o->null_values,
                                     .payload_conflict = o->payload_conflict,
                                     .payload_misfit = o->payload_misfit,
                                     .rejects = o->rejects,
                                     .index = o->index,
                                     .max_vector_fields = o->max_vector_fields,
                                     .nedits = o->nedits,
                                     .edit_kind = o->edit_kind,
                                     .edit_val = o->edit_val};
    enum vmig_code rc = vmig_job_act(s, id, act, &ch, &ro, NULL, &err);
    cli_ui_release(&u);
    struct vmig_job j;
    struct vmig_err e2;
    vmig_err_clear(&e2);
    if (vmig_job_get(s, id, &j, &e2) == VMIG_OK) {
        if (o->json) {
            char *js = vmig_job_to_json(&j, 0, 0);
            printf("%s\n", js);
            free(js);
            cli_json_done = 1;
        } else {
            printf("job %s: %s\n", id, status_label(&j));
        }
        vmig_job_release(&j);
    }
    if (rc) cli_error_job(&err, id);
    return cli_exit_code(rc);
}

int cmd_jobs(struct cli_opts *o)
{
    const char *sub = o->nargs ? o->args[0] : "list"; /* main checked it is one of ours */
    int needs_id = strcmp(sub, "list") != 0;
    if (needs_id && o->nargs != 2) {
        char where[32];
        snprintf(where, sizeof where, "jobs %s", sub);
        cli_usage_error_in(where, "give one job id, or a unique beginning of it (see `vmigrate "
                                  "jobs`)");
        return EXIT_USAGE;
    }
    if (!needs_id && o->nargs > 1) {
        cli_usage_error_in("jobs", "unexpected argument '%s'", o->args[1]);
        return EXIT_USAGE;
    }
    struct vmig_store *s = NULL;
    int rc = cli_store_open(o, &s);
    if (rc) return rc;
    char id[VMIG_JOB_ID_MAX] = "";
    if (needs_id && (rc = cli_job_id(s, o->args[1], id))) goto out;
    if (!strcmp(sub, "list")) rc = jobs_list(o, s);
    else if (!strcmp(sub, "show")) rc = jobs_show(o, s, id);
    else if (!strcmp(sub, "logs")) rc = jobs_logs(o, s, id);
    else if (!strcmp(sub, "cancel")) rc = jobs_cancel(o, s, id);
    else rc = jobs_run(o, s, sub, id);
out:
    vmig_store_close(s);
    return rc;
}

/*
 * cmd_repair.c - `vmigrate repair`: re-copy the points a full verification found
 * missing or different (Upsert) and delete the extra ones, from its diff file, then
 * verify again. With --job ID the job's own plan, endpoints and stored secrets are used
 * (vmig_job_repair), as `verify --job` does; with -c the plan is rebuilt from the same
 * edits given again. The rules (what is upserted, what deleted, what a bad line is)
 * are the library's (engine/repair.c); this file parses, prints and maps to exit codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/repair.h"
#include "vmig/vmig.h"

#define LINE_EVERY_MS 2000

struct ui {
    const struct cli_opts *o;
    uint64_t last;
};

static void on_progress(void *ud, const struct vmig_repair_progress *p)
{
    struct ui *u = ud;
    if (u->o->quiet) return;
    if (u->o->json) {
        fprintf(stderr, "{\"event\":\"repair_progress\",\"collection\":");
        cli_json_str(stderr, p->coll);
        fprintf(stderr, ",\"done\":%llu,\"total\":%llu,\"upserted\":%llu,\"deleted\":%llu}\n",
                (unsigned long long)p->done, (unsigned long long)p->total,
                (unsigned long long)p->upserted, (unsigned long long)p->deleted);
        return;
    }
    uint64_t now = vmig_now_ms();
    if (p->done < p->total && now - u->last < LINE_EVERY_MS) return;
    u->last = now;
    fprintf(stderr, "%s: repaired %llu of %llu listed points (%llu upserted, %llu deleted)\n",
            p->coll, (unsigned long long)p->done, (unsigned long long)p->total,
            (unsigned long long)p->upserted, (unsigned long long)p->deleted);
}

static void on_reject(void *ud, const char *coll, const struct vmig_point_id *id,
                      const char *reason)
{
    char t[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(id, t);
    fprintf(stderr, "vmigrate: %s: point %s kept out of the target: %s\n", coll, t, reason);
}

static const char *verdict(enum vmig_code code, const struct vmig_repair_result *r)
{
    if (code == VMIG_E_VERIFY) return "still different";
    if (code) return "not repaired";
    return r->verified ? "same" : "repaired, not verified";
}

static void print_one(const struct cli_opts *o, int first, const char *source, const char *target,
                      enum vmig_code code, const struct vmig_repair_result *r,
                      const struct vmig_err *err)
{
    if (!o->json) {
        printf("%s -> %s: listed %llu (missing %llu, extra %llu, different %llu); upserted "
               "%llu, deleted %llu, rejected %llu",
               source, target, (unsigned long long)r->before.lines,
               (unsigned long long)r->before.missing, (unsigned long long)r->before.extra,
               (unsigned long long)r->before.different, (unsigned long long)r->upserted,
               (unsigned long long)r->deleted, (unsigned long long)r->rejected);
        if (r->verified)
            printf("; after: source %llu, target %llu", (unsigned long long)r->source_count,
                   (unsigned long long)r->target_count);
        printf(": %s\n", verdict(code, r));
        if (code == VMIG_E_VERIFY)
            fprintf(stderr, "hint: the source changed meanwhile: run `vmigrate verify --full` "
                            "and `vmigrate repair --diff FILE` again\n");
        if (code) cli_error(err);
        return;
    }
    printf("%s{\"collection\":", first ? "" : ",");
    cli_json_str(stdout, source);
    printf(",\"target\":");
    cli_json_str(stdout, target);
    printf(",\"ok\":%s,\"verdict\":\"%s\",\"before\":{\"listed\":%llu,\"missing\":%llu,"
           "\"extra\":%llu,\"different\":%llu},\"upserted\":%llu,\"deleted\":%llu,"
           "\"rejected\":%llu",
           code ? "false" : "true",
           code == VMIG_E_VERIFY ? "different"
           : code                ? "failed"
           : r->verified         ? "same"
                                 : "repaired",
           (unsigned long long)r->before.lines, (unsigned long long)r->before.missing,
           (unsigned long long)r->before.extra, (unsigned long long)r->before.different,
           (unsigned long long)r->upserted, (unsigned long long)r->deleted,
           (unsigned long long)r->rejected);
    printf(",\"diff_file\":");
    cli_json_str(stdout, r->diff_path);
    printf(",\"after_file\":");
    if (r->after_path[0])
        cli_json_str(stdout, r->after_path);
    else
        printf("null");
    printf(",\"after\":");
    if (r->verified)
        printf("{\"source_count\":%llu,\"target_count\":%llu,\"missing\":%llu,\"extra\":%llu,"
               "\"different\":%llu}",
               (unsigned long long)r->source_count, (unsigned long long)r->target_count,
               (unsigned long long)r->missing, (unsigned long long)r->extra,
               (unsigned long long)r->different);
    else
        printf("null");
    printf(",\"error\":");
    if (code)
        cli_json_str(stdout, err->msg);
    else
        printf("null");
    printf("}");
}

static void opts_of(const struct cli_opts *o, struct ui *u, struct vmig_repair_opts *ro)
{
    vmig_repair_opts_init(ro);
    ro->diff_path = o->diff;
    ro->no_verify = o->no_verify;
    ro->readers = o->readers;
    ro->ctx = &cli_run;
    ro->ud = u;
    ro->progress = on_progress;
    ro->reject = on_reject;
}

/* repair --job ID: the job's plan, endpoints and secrets (flags override stored ones) */
static int repair_job(struct cli_opts *o, struct vmig_repair_opts *ro)
{
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    char id[VMIG_JOB_ID_MAX];
    int rc = cli_job_open(o, "repair", &s, id);
    if (rc) return rc;
    struct vmig_job_repaired v;
    enum vmig_code code = vmig_job_repair(s, id, o->api_key, o->token, ro, &v, &err);
    vmig_store_close(s);
    if (!v.n && code) {
        cli_error(&err);
        return cli_exit_code(code);
    }
    if (o->json) printf("[");
    for (size_t i = 0; i < v.n; i++)
        print_one(o, i == 0, v.coll[i].source, v.coll[i].target, v.coll[i].code, &v.coll[i].result,
                  &v.coll[i].err);
    if (o->json) {
        printf("]\n");
        cli_json_done = 1;
    }
    vmig_job_repaired_release(&v);
    return cli_exit_code(code);
}

int cmd_repair(struct cli_opts *o)
{
    struct ui u = {o, 0};
    struct vmig_repair_opts ro;
    opts_of(o, &u, &ro);
    /* `vmigrate repair JOB` is `repair --job JOB` */
    if (o->nargs > 1 || (o->nargs == 1 && o->job)) {
        cli_usage_error_in("repair",
                           "give one job, as `repair JOB` or `repair --job JOB`; "
                           "'%s' is one too many",
                           o->args[o->nargs - 1]);
        return EXIT_USAGE;
    }
    if (o->nargs == 1) o->job = o->args[0];
    if (o->job) return repair_job(o, &ro);
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    if (!o->ncolls) {
        cli_usage_error_in("repair", "name the collection(s) with -c NAME, or give the job "
                                     "that migrated them with --job ID");
        return EXIT_USAGE;
    }
    struct vmig_map_opts mo;
    struct vmig_endpoint src, dst;
    struct vmig_plan plan;
    struct vmig_err err;
    enum vmig_code code;
    rc = cli_plan(o, &mo, &src, &dst, &plan);
    if (rc) goto done;
    vmig_err_clear(&err);
    if (o->diff && (code = vmig_diff_check(o->diff, &plan, NULL, &err))) {
        size_t n = strlen(err.msg);
        if (code == VMIG_E_USAGE && err.coll[0])
            snprintf(err.msg + n, sizeof err.msg - n, "; add -c '%s' to repair it too", err.coll);
        cli_error(&err);
        rc = cli_exit_code(code);
        goto done;
    }
    size_t shown = 0;
    if (o->json) printf("[");
    for (size_t i = 0; i < plan.n; i++) {
        struct vmig_plan_coll *pc = &plan.coll[i];
        struct vmig_repair_result r;
        vmig_err_clear(&err);
        if (pc->refusal.code && pc->refusal.code != VMIG_E_EXISTS) {
            cli_error(&pc->refusal);
            rc = cli_exit_code(pc->refusal.code);
            if (o->json) {
                memset(&r, 0, sizeof r);
                print_one(o, shown++ == 0, pc->source, pc->target, pc->refusal.code, &r,
                          &pc->refusal);
            }
            continue;
        }
        code = vmig_repair_coll(&src, &dst, pc, &ro, &r, &err);
        print_one(o, shown++ == 0, pc->source, pc->target, code, &r, &err);
        if (code) rc = cli_exit_code(code);
        if (code == VMIG_E_CANCELLED) break;
    }
    if (o->json) {
        printf("]\n");
        cli_json_done = 1;
    }
done:
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    return rc;
}

/*
 * cmd_verify.c - `vmigrate verify`: compare migrated collections with their
 * sources (exact counts, N sampled points bit-exact). With --job ID the job's own
 * plan, endpoints and stored secrets are used (vmig_job_verify), so the target names,
 * renames and skipped vectors it migrated with are known; with -c the plan is
 * rebuilt from the same edits given again, so field names match what migrate created.
 * With --full every point is compared (vmig_verify_full): a progress line on stderr,
 * the counts and the diff file's path on stdout. --search N adds search parity per
 * collection (printed by verify_search.c), after either kind of verification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vmig/job.h"
#include "vmig/search.h"
#include "vmig/vmig.h"

static void print_one(const struct cli_opts *o, int first, const char *source, const char *target,
                      enum vmig_code code, const struct vmig_verify_result *vr,
                      const struct vmig_err *err, const struct cli_search_row *sr)
{
    if (!o->json) {
        printf("%s -> %s: source %llu, target %llu, sampled %llu: %s\n", source, target,
               (unsigned long long)vr->source_count, (unsigned long long)vr->target_count,
               (unsigned long long)vr->sampled,
               !code                   ? "SAME"
               : code == VMIG_E_VERIFY ? "DIFFERENT"
                                       : "NOT VERIFIED");
        if (code) cli_error(err);
        if (sr) cli_search_print(o, sr);
        return;
    }
    printf("%s{\"collection\":", first ? "" : ",");
    cli_json_str(stdout, source);
    printf(",\"target\":");
    cli_json_str(stdout, target);
    printf(",\"ok\":%s,\"verdict\":%s,\"source_count\":%llu,\"target_count\":%llu,"
           "\"sampled\":%llu,\"missing\":%llu,\"vector_diffs\":%llu,\"payload_diffs\":%llu,"
           "\"error\":",
           code ? "false" : "true",
           !code                   ? "\"same\""
           : code == VMIG_E_VERIFY ? "\"different\""
                                   : "null",
           (unsigned long long)vr->source_count, (unsigned long long)vr->target_count,
           (unsigned long long)vr->sampled, (unsigned long long)vr->missing,
           (unsigned long long)vr->vector_diffs, (unsigned long long)vr->payload_diffs);
    if (code)
        cli_json_str(stdout, err->msg);
    else
        printf("null");
    if (sr) cli_search_print(o, sr);
    printf("}");
}

static void print_full(const struct cli_opts *o, int first, const char *source, const char *target,
                       enum vmig_code code, const struct vmig_vfull_result *fr,
                       const char *diff_path, const struct vmig_err *err,
                       const struct cli_search_row *sr)
{
    const char *verdict = !code                      ? "same"
                          : code == VMIG_E_VERIFY    ? "different"
                          : code == VMIG_E_CANCELLED ? "interrupted"
                                                     : NULL;
    if (!o->json) {
        printf("%s -> %s: source %llu, target %llu, compared %llu: %llu missing, %llu extra, "
               "%llu different: %s%s%s\n",
               source, target, (unsigned long long)fr->source_count,
               (unsigned long long)fr->target_count, (unsigned long long)fr->compared,
               (unsigned long long)fr->missing, (unsigned long long)fr->extra,
               (unsigned long long)fr->different,
               !code                   ? "SAME"
               : code == VMIG_E_VERIFY ? "DIFFERENT"
                                       : "NOT VERIFIED",
               diff_path[0] ? "; diff file " : "", diff_path);
        if (code == VMIG_E_CANCELLED)
            fprintf(stderr,
                    "vmigrate: verification of '%s' interrupted; run the same command "
                    "again to continue where it stopped\n",
                    source);
        else if (code && code != VMIG_E_VERIFY)
            cli_error(err);
        if (sr) cli_search_print(o, sr);
        return;
    }
    printf("%s{\"collection\":", first ? "" : ",");
    cli_json_str(stdout, source);
    printf(",\"target\":");
    cli_json_str(stdout, target);
    printf(",\"ok\":%s,\"verdict\":", code ? "false" : "true");
    if (verdict)
        cli_json_str(stdout, verdict);
    else
        printf("null");
    printf(",\"full\":true,\"source_count\":%llu,\"target_count\":%llu,\"compared\":%llu,"
           "\"missing\":%llu,\"extra\":%llu,\"different\":%llu,\"rejected\":%llu,"
           "\"resumed\":%s,\"diff_file\":",
           (unsigned long long)fr->source_count, (unsigned long long)fr->target_count,
           (unsigned long long)fr->compared, (unsigned long long)fr->missing,
           (unsigned long long)fr->extra, (unsigned long long)fr->different,
           (unsigned long long)fr->rejected, fr->resumed ? "true" : "false");
    if (diff_path[0])
        cli_json_str(stdout, diff_path);
    else
        printf("null");
    printf(",\"error\":");
    if (code)
        cli_json_str(stdout, err->msg);
    else
        printf("null");
    if (sr) cli_search_print(o, sr);
    printf("}");
}

static void show(const struct cli_opts *o, int first, const struct vmig_job_verify_coll *c,
                 const struct cli_search_row *sr)
{
    if (c->full)
        print_full(o, first, c->source, c->target, c->code, &c->full_result, c->diff_path, &c->err,
                   sr);
    else
        print_one(o, first, c->source, c->target, c->code, &c->result, &c->err, sr);
}

/* The worse of a verification's and a search parity's codes. */
static enum vmig_code worse(enum vmig_code a, enum vmig_code b)
{
    return a && a != VMIG_E_VERIFY ? a : b ? b : a;
}

static void full_opts(const struct cli_opts *o, struct cli_ui *u, struct vmig_vfull_opts *fo)
{
    vmig_vfull_opts_init(fo);
    if (o->readers > 0) fo->readers = o->readers;
    if (o->page_limit > 0) fo->page_limit = (uint32_t)o->page_limit;
    fo->ctx = &cli_run;
    fo->hooks.ud = u;
    fo->hooks.progress = cli_on_progress;
}

/* verify --job ID: the job's plan, endpoints and secrets (flags override stored ones) */
static int verify_job(struct cli_opts *o)
{
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    char id[VMIG_JOB_ID_MAX];
    int rc = cli_job_open(o, "verify", &s, id);
    if (rc) return rc;
    struct vmig_job_verified v;
    enum vmig_code code;
    if (o->verify_full) {
        struct cli_ui u;
        struct vmig_vfull_opts fo;
        cli_ui_init(&u, o);
        full_opts(o, &u, &fo);
        code = vmig_job_verify_full(s, id, o->api_key, o->token, &fo, o->diff, &v, &err);
        cli_ui_release(&u);
    } else {
        code = vmig_job_verify(s, id, o->api_key, o->token, o->sample, &cli_run, &v, &err);
    }
    struct vmig_job_searched js = {0};
    struct vmig_err serr;
    enum vmig_code scode = VMIG_OK;
    if (o->search && v.n && code != VMIG_E_CANCELLED) {
        vmig_err_clear(&serr);
        scode =
            vmig_job_search(s, id, o->api_key, o->token, o->search, o->top_k, &cli_run, &js, &serr);
        if (!js.n && scode) cli_error(&serr);
    }
    vmig_store_close(s);
    if (!v.n && code) {
        cli_error(&err);
        return cli_exit_code(code);
    }
    if (o->json) printf("[");
    for (size_t i = 0; i < v.n; i++) {
        struct cli_search_row row = {0};
        if (i < js.n)
            row = (struct cli_search_row){&js.coll[i].result, js.coll[i].code, &js.coll[i].err};
        show(o, i == 0, &v.coll[i], i < js.n ? &row : NULL);
    }
    if (o->json) {
        printf("]\n");
        cli_json_done = 1;
    }
    vmig_job_verified_release(&v);
    vmig_job_searched_release(&js);
    return cli_exit_code(worse(code, scode));
}

/* verify -c NAME --full: one collection of the rebuilt plan */
static enum vmig_code verify_full_coll(const struct cli_opts *o, const struct vmig_endpoint *src,
                                       const struct vmig_endpoint *dst,
                                       const struct vmig_plan_coll *pc, size_t ncolls,
                                       struct vmig_job_verify_coll *vc)
{
    memset(vc, 0, sizeof *vc);
    vmig_err_clear(&vc->err);
    snprintf(vc->source, sizeof vc->source, "%s", pc->source);
    snprintf(vc->target, sizeof vc->target, "%s", pc->target);
    vc->full = 1;
    if (vmig_vfull_diff_path(o->diff, NULL, pc->source, ncolls, vc->diff_path, sizeof vc->diff_path,
                             &vc->err))
        return vc->code = vc->err.code;
    struct cli_ui u;
    struct vmig_vfull_opts fo;
    cli_ui_init(&u, o);
    full_opts(o, &u, &fo);
    fo.diff_path = vc->diff_path;
    vc->code = vmig_verify_full(src, dst, pc, &fo, &vc->full_result, &vc->err);
    cli_ui_release(&u);
    return vc->code;
}

int cmd_verify(struct cli_opts *o)
{
    if (!o->verify_full && (o->diff || o->readers > 0 || o->page_limit > 0)) {
        cli_usage_error_in("verify",
                           "%s goes with --full (the sampled verification reads "
                           "chosen points and writes no diff file)",
                           o->diff          ? "--diff"
                           : o->readers > 0 ? "--readers"
                                            : "--page-size");
        return EXIT_USAGE;
    }
    if (o->job) return verify_job(o);
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    if (!o->ncolls) {
        cli_usage_error_in("verify", "name the collection(s) with -c NAME, or give the job "
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
    int sample = o->sample >= 0 ? o->sample : 100;
    size_t shown = 0;
    if (o->json) printf("[");
    for (size_t i = 0; i < plan.n; i++) {
        struct vmig_plan_coll *pc = &plan.coll[i];
        struct vmig_verify_result vr;
        vmig_err_clear(&err);
        if (pc->refusal.code && pc->refusal.code != VMIG_E_EXISTS) {
            cli_error(&pc->refusal);
            rc = cli_exit_code(pc->refusal.code);
            if (o->json) { /* a row of its own: --json still names every collection */
                memset(&vr, 0, sizeof vr);
                print_one(o, shown++ == 0, pc->source, pc->target, pc->refusal.code, &vr,
                          &pc->refusal, NULL);
            }
            continue;
        }
        struct vmig_job_verify_coll vc;
        if (o->verify_full)
            code = verify_full_coll(o, &src, &dst, pc, plan.n, &vc);
        else
            code = vmig_verify_coll(&src, &dst, pc, sample, 0, &cli_run, &vr, &err);
        struct vmig_search_result sres;
        struct vmig_err serr;
        struct cli_search_row row = {&sres, VMIG_OK, &serr};
        vmig_err_clear(&serr);
        int searched = o->search && code != VMIG_E_CANCELLED;
        if (searched)
            row.code =
                vmig_search_coll(&src, &dst, pc, o->search, o->top_k, &cli_run, &sres, &serr);
        if (o->verify_full)
            show(o, shown++ == 0, &vc, searched ? &row : NULL);
        else
            print_one(o, shown++ == 0, pc->source, pc->target, code, &vr, &err,
                      searched ? &row : NULL);
        code = worse(code, row.code);
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

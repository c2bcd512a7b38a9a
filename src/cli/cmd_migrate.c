/*
 * cmd_migrate.c - `vmigrate migrate`: plan (or load an edited plan), create a job
 * in the job store, then run it in the foreground with a progress bar per
 * collection (or, with --detach, leave it for `vmigrate worker`), and print a
 * summary (a table, or JSON with --json). vmig_job_submit() decides what goes into
 * the job: refused collections are reported (exit code of the first one) and left
 * out of it; the others go on. A plan with nothing to migrate creates no job.
 * With --json stdout always gets one document once the plan was asked for: the job
 * (when one was created) with "refused" (each left-out collection, its error's code,
 * message, field and fix word) and "failure" (why the run or the plan failed, null
 * when it did not).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util/buf.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

static int load_plan_file(const char *path, struct vmig_plan *plan)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_usage_error("cannot read plan file '%s': %s (write one with `vmigrate plan ... --json "
                        "> FILE`)",
                        path, strerror(errno));
        return EXIT_USAGE;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        cli_usage_error("cannot read plan file '%s': it is a directory; --plan takes the file "
                        "`vmigrate plan ... --json` wrote",
                        path);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = realloc(text, cap);
            if (!text) abort();
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!text) text = calloc(1, 1);
    if (!text) abort();
    text[len] = '\0';
    if (len == 0) {
        free(text);
        cli_usage_error("plan file '%s' is empty (write one with `vmigrate plan ... --json > "
                        "FILE`)",
                        path);
        return EXIT_USAGE;
    }
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code code = vmig_plan_from_json(text, plan, &err);
    free(text);
    if (code) {
        cli_usage_error("plan file '%s': %s", path, err.msg);
        return EXIT_USAGE;
    }
    return 0;
}

/* The --json document: the job's JSON (j NULL: "id": null) with "refused" and
 * "failure" added. */
static void print_json(const struct vmig_job *j, const struct vmig_job_submitted *sub,
                       const struct vmig_err *failure)
{
    json_t *doc = NULL;
    if (j) {
        char *js = vmig_job_to_json(j, 0, 0);
        doc = json_loads(js, 0, NULL);
        free(js);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_pack("{s:n}", "id");
    }
    json_t *refused = json_array();
    for (size_t i = 0; i < sub->nrefused; i++) {
        const struct vmig_job_refusal *f = &sub->refused[i];
        json_array_append_new(
            refused, json_pack("{s:s,s:o}", "source", f->source, "error", cli_err_json(&f->err)));
    }
    json_object_set_new(doc, "refused", refused);
    json_object_set_new(doc, "failure",
                        failure && failure->code ? cli_err_json(failure) : json_null());
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) abort();
    printf("%s\n", text);
    free(text);
    cli_json_done = 1;
}

static void print_summary(const struct cli_opts *o, const struct vmig_job *j)
{
    for (size_t i = 0; i < j->ncolls; i++) {
        const struct vmig_job_coll *c = &j->coll[i];
        if (o->quiet && c->status == VMIG_JOB_SUCCESSFUL) continue; /* quiet: failures only */
        double secs = c->finished_ms > c->started_ms && c->started_ms
                          ? (double)(c->finished_ms - c->started_ms) / 1000.0
                          : 0.0;
        if (c->status == VMIG_JOB_SUCCESSFUL) {
            fprintf(stderr,
                    "%s -> %s: %llu points in %.1f s (%.0f points/s)", c->source, c->target,
                    (unsigned long long)c->state.written, secs,
                    secs > 0 ? (double)c->state.written / secs : 0.0);
            if (c->verify.ran)
                fprintf(stderr, "; verified: %llu = %llu, %llu sampled points identical",
                        (unsigned long long)c->verify.source_count,
                        (unsigned long long)c->verify.target_count,
                        (unsigned long long)c->verify.sampled);
            if (c->state.index_built)
                fprintf(stderr, "; index built");
            else if (c->state.index_total)
                fprintf(stderr,
                        "; searchable now, index building in Milvus (%llu of %llu rows indexed; "
                        "`vmigrate jobs show %s --refresh-index` follows it, --wait-index waits "
                        "for it)",
                        (unsigned long long)c->state.index_rows,
                        (unsigned long long)c->state.index_total, j->id);
            if (c->state.rejected)
                fprintf(stderr, "; %llu rejected (see the rejects file)",
                        (unsigned long long)c->state.rejected);
            if (c->state.nulls_dropped)
                fprintf(stderr, "; %llu null payload values dropped",
                        (unsigned long long)c->state.nulls_dropped);
            if (c->state.misfits)
                fprintf(stderr,
                        "; %llu payload values did not fit their typed field and stayed in $meta",
                        (unsigned long long)c->state.misfits);
            fputc('\n', stderr);
        } else {
            fprintf(stderr, "%s -> %s: %s%s%s\n", c->source, c->target,
                    vmig_job_status_label(c->status), c->error[0] ? ": " : "", c->error);
        }
    }
}

int cmd_migrate(struct cli_opts *o)
{
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    if (!o->plan_file && !o->ncolls && !o->all) {
        cli_usage_error_in("migrate", "name collections with -c NAME, or use --all or "
                                      "--plan FILE");
        return EXIT_USAGE;
    }
    struct vmig_map_opts mo;
    struct vmig_plan plan;
    struct vmig_store *store = NULL;
    struct vmig_err err;
    enum vmig_code code;
    char id[VMIG_JOB_ID_MAX] = "";
    int first_refusal = EXIT_OK;
    struct vmig_job_submitted sub;
    memset(&sub, 0, sizeof sub);
    memset(&plan, 0, sizeof plan);
    vmig_err_clear(&err);
    rc = cli_map_opts(o, &mo);
    if (rc) goto done;
    struct vmig_endpoint src, dst;
    cli_endpoints(o, &src, &dst);
    if (o->plan_file) {
        rc = load_plan_file(o->plan_file, &plan);
        if (rc) goto done;
    }
    struct vmig_job_opts jo;
    vmig_job_opts_init(&jo);
    jo.readers = o->readers;
    jo.writers = o->writers;
    jo.tasks = o->tasks;
    jo.page_limit = (uint32_t)o->page_limit;
    if (o->sample >= 0) jo.verify_sample = o->sample;
    if (o->no_verify) jo.verify_sample = -1;
    jo.wait_index = o->wait_index;
    if (o->verify_full_mig && o->no_verify) {
        cli_usage_error_in("migrate", "--verify-full and --no-verify contradict each other");
        rc = EXIT_USAGE;
        goto done;
    }
    if (o->diff && !o->verify_full_mig) {
        cli_usage_error_in("migrate", "--diff goes with --verify-full");
        rc = EXIT_USAGE;
        goto done;
    }
    jo.verify_full = o->verify_full_mig;
    /* a relative --diff (or none: the current directory) made absolute, so a worker
     * running the job elsewhere writes where this command was asked to */
    if (jo.verify_full) {
        char cwd[VMIG_PATH_MAX / 2];
        const char *d = o->diff ? o->diff : "";
        if (d[0] == '/')
            snprintf(jo.verify_diff, sizeof jo.verify_diff, "%s", d);
        else if (getcwd(cwd, sizeof cwd))
            snprintf(jo.verify_diff, sizeof jo.verify_diff, "%s%s%s", cwd, d[0] ? "/" : "", d);
    }
    if (o->rejects) {
        jo.reject_oversize = 1;
        snprintf(jo.rejects, sizeof jo.rejects, "%s", o->rejects);
    }
    if (o->write_mode && vmig_write_mode_parse(o->write_mode, &jo.write_mode)) {
        cli_usage_error_in("migrate", "--write-mode must be rows, bulk or auto, not '%s'",
                           o->write_mode);
        rc = EXIT_USAGE;
        goto done;
    }
    snprintf(jo.bulk_dir, sizeof jo.bulk_dir, "%s", o->bulk_dir ? o->bulk_dir : "");
    snprintf(jo.bulk_url, sizeof jo.bulk_url, "%s", o->bulk_url ? o->bulk_url : "");
    snprintf(jo.bulk_endpoint, sizeof jo.bulk_endpoint, "%s",
             o->bulk_endpoint ? o->bulk_endpoint : "");
    jo.bulk_file_bytes = (uint64_t)o->bulk_file_mib << 20;
    code = vmig_store_open(o->store, &store, &err);
    if (code) {
        cli_error(&err);
        rc = cli_exit_code(code);
        goto done;
    }
    /* the library decides: refused collections are left out of the job and listed */
    struct vmig_job_request req = {.src = &src,
                                   .dst = &dst,
                                   .names = o->colls,
                                   .nnames = o->ncolls,
                                   .mo = &mo,
                                   .plan = o->plan_file ? &plan : NULL,
                                   .opts = &jo,
                                   .store_secrets = !o->no_store_secrets};
    code = vmig_job_submit(store, &req, &sub, &err);
    for (size_t i = 0; i < sub.nrefused; i++) {
        struct vmig_err why;
        why = sub.refused[i].err;
        cli_error(&why);
        if (first_refusal == EXIT_OK) first_refusal = cli_exit_code(why.code);
    }
    if (code) {
        if (!sub.none_runnable || !sub.nrefused) cli_error(&err); /* else the refusals said it */
        if (o->json) print_json(NULL, &sub, &err);
        rc = cli_exit_code(code);
        goto done;
    }
    snprintf(id, sizeof id, "%s", sub.id);
    if (!o->quiet && !o->json)
        fprintf(stderr, "vmigrate: job %s holds %zu collection%s, %llu points%s\n", id, sub.nheld,
                sub.nheld == 1 ? "" : "s", (unsigned long long)sub.points,
                sub.nrefused ? " (not the refused ones above)" : "");
    if (o->detach) {
        struct vmig_job j;
        if (o->json && vmig_job_get(store, id, &j, &err) == VMIG_OK) {
            print_json(&j, &sub, NULL);
            vmig_job_release(&j);
        } else if (o->json) {
            print_json(NULL, &sub, &err);
        } else {
            printf("%s\n", id);
        }
        if (!o->quiet)
            fprintf(stderr, "vmigrate: job %s created (Pending); `vmigrate worker` runs it\n", id);
        rc = first_refusal; /* the job exists; the refusals still say so */
        goto done;
    }
    if (!o->quiet && !o->json)
        fprintf(stderr, "vmigrate: job %s (`vmigrate jobs show %s`; Ctrl-C cancels, `vmigrate "
                        "jobs resume %s` continues)\n",
                id, id, id);

    struct cli_ui u;
    cli_ui_init(&u, o);
    struct vmig_job_run_opts ro;
    cli_job_run_opts(o, &ro);
    ro.hooks.ud = &u;
    ro.hooks.progress = cli_on_progress;
    vmig_err_clear(&err);
    code = vmig_job_act(store, id, VMIG_JOB_RUN, NULL, &ro, NULL, &err);
    cli_ui_release(&u);

    struct vmig_job j;
    struct vmig_err e2;
    vmig_err_clear(&e2);
    int got = vmig_job_get(store, id, &j, &e2) == VMIG_OK;
    if (got && !o->json) print_summary(o, &j);
    if (code) {
        /* -q hides progress, never why the job failed. A collection's error names the
         * collection, not the job: say which job; the job's own messages name it. */
        if (err.coll[0] && code != VMIG_E_CANCELLED) {
            char ctx[VMIG_JOB_ID_MAX + 8];
            snprintf(ctx, sizeof ctx, "job %s", id);
            cli_error_in(ctx, id, &err);
        } else {
            cli_error_job(&err, id);
        }
    }
    if (o->json) print_json(got ? &j : NULL, &sub, code ? &err : NULL);
    if (got) vmig_job_release(&j);
    rc = cli_exit_code(code);
    if (rc == EXIT_OK && first_refusal) rc = first_refusal;
done:
    if (store) vmig_store_close(store);
    vmig_job_submitted_release(&sub);
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    return rc;
}

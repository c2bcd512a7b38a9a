/*
 * common.c - what every subcommand shares: endpoints from options and the
 * environment, mapping options from flags, error printing (one "vmigrate: " prefix,
 * the first error kept for the --json error document), job ids from unique prefixes
 * and exit-code mapping.
 */
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/buf.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

int cli_json_done;
static struct vmig_err first_err; /* the first error printed, for --json */

void cli_endpoints(const struct cli_opts *o, struct vmig_endpoint *src, struct vmig_endpoint *dst)
{
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->url = o->source;
    src->secret = o->api_key;
    src->ca_file = o->ca_file;
    src->insecure = o->insecure;
    src->compress = o->source_compression;
    src->timeout_ms = o->timeout_s > 0 ? o->timeout_s * 1000 : 0;
    dst->url = o->target;
    dst->secret = o->token;
    dst->db = o->db;
    dst->ca_file = o->ca_file;
    dst->insecure = o->insecure;
    dst->timeout_ms = src->timeout_ms;
    dst->wait_s = o->wait_timeout_s;
}

int cli_exit_code(enum vmig_code rc)
{
    switch (rc) {
    case VMIG_OK: return EXIT_OK;
    case VMIG_E_USAGE: return EXIT_USAGE;
    case VMIG_E_AUTH:
    case VMIG_E_TLS:
    case VMIG_E_CONNECT:
    case VMIG_E_UNAVAILABLE:
    case VMIG_E_TIMEOUT: return EXIT_CONNECT;
    case VMIG_E_SCHEMA:
    case VMIG_E_EXISTS:
    case VMIG_E_BUSY: return EXIT_SCHEMA;
    case VMIG_E_VERIFY: return EXIT_VERIFY;
    case VMIG_E_CANCELLED: return EXIT_CANCELLED;
    default: return EXIT_FAILED;
    }
}

void cli_error_in(const char *ctx, const char *job, const struct vmig_err *err)
{
    char hint[512];
    cli_fix_hint(err, job, hint, sizeof hint);
    fprintf(stderr, "vmigrate: %s%s%s\n", ctx ? ctx : "", ctx ? ": " : "",
            err->msg[0] ? err->msg : vmig_strerror(err->code));
    /* the way out on a line of its own, as git prints its hints */
    if (hint[0]) fprintf(stderr, "hint: %s\n", hint);
    if (first_err.code) return;
    first_err = *err;
    if (ctx && err->msg[0]) vmig_err_prefix(&first_err, "%s: ", ctx);
}

void cli_error_ctx(const char *ctx, const struct vmig_err *err)
{
    cli_error_in(ctx, NULL, err);
}

void cli_error(const struct vmig_err *err)
{
    cli_error_in(NULL, NULL, err);
}

void cli_error_job(const struct vmig_err *err, const char *job)
{
    cli_error_in(NULL, job, err);
}

static void usage_errorv(const char *cmd, const char *fmt, va_list ap)
{
    struct vmig_err e;
    vmig_err_setv(&e, VMIG_E_USAGE, fmt, ap);
    fprintf(stderr, "vmigrate%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", e.msg);
    if (!first_err.code) first_err = e;
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_errorv(NULL, fmt, ap);
    va_end(ap);
}

void cli_usage_error_in(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_errorv(cmd, fmt, ap);
    va_end(ap);
}

const struct vmig_err *cli_first_error(void)
{
    return &first_err;
}

/* A string member, null when unset (or, never expected, not UTF-8). */
static json_t *str_or_null(const char *s)
{
    json_t *j = s && *s ? json_string(s) : NULL;
    return j ? j : json_null();
}

json_t *cli_err_json(const struct vmig_err *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(vmig_code_json_name(err->code)));
    json_object_set_new(o, "message",
                        str_or_null(err->msg[0] ? err->msg : vmig_strerror(err->code)));
    json_object_set_new(o, "collection", str_or_null(err->coll));
    json_object_set_new(o, "point", str_or_null(err->point));
    json_object_set_new(o, "field", str_or_null(err->field));
    json_object_set_new(o, "fix", str_or_null(vmig_fix_name(err->fix)));
    json_object_set_new(o, "fix_arg", str_or_null(err->fix_arg));
    return o;
}

void cli_json_error(FILE *f, const struct vmig_err *err)
{
    json_t *doc = json_pack("{s:o}", "error", cli_err_json(err));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) abort();
    fprintf(f, "%s\n", text);
    free(text);
    cli_json_done = 1;
}

int cli_store_open(const struct cli_opts *o, struct vmig_store **s)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code code = vmig_store_open(o->store, s, &err);
    if (code) {
        cli_error(&err);
        return code == VMIG_E_USAGE ? EXIT_USAGE : EXIT_FAILED; /* a directory given: usage */
    }
    return 0;
}

int cli_job_id(struct vmig_store *s, const char *given, char *id_out)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_job_resolve(s, given, id_out, &err);
    if (!rc) return 0;
    int named_wrong = rc == VMIG_E_NOT_FOUND || rc == VMIG_E_USAGE;
    if (named_wrong) vmig_err_suffix(&err, " (`vmigrate jobs` lists the jobs)");
    cli_error(&err);
    return named_wrong ? EXIT_USAGE : cli_exit_code(rc);
}

int cli_job_open(const struct cli_opts *o, const char *cmd, struct vmig_store **s, char *id_out)
{
    /* the endpoints are the job's too; --source/--target (maybe from VMIGRATE_SOURCE /
     * VMIGRATE_TARGET) are not used */
    if (o->ncolls || o->nedits) {
        cli_usage_error_in(cmd, "--job takes the collections and their names from the job's "
                                "plan; leave out -c and the mapping edits");
        return EXIT_USAGE;
    }
    int rc = cli_store_open(o, s);
    if (rc) return rc;
    if ((rc = cli_job_id(*s, o->job, id_out))) {
        vmig_store_close(*s);
        *s = NULL;
    }
    return rc;
}

/* --null-values, --payload-conflict, --index and --payload-misfit name words of the library's
 * tables: stored into mo (may be NULL: only checked); 0, or EXIT_USAGE after naming the flag and
 * the words it takes. */
int cli_policy_words(const struct cli_opts *o, struct vmig_map_opts *mo)
{
    static const char *const flag[] = {"", "--null-values", "--payload-conflict", "--index",
                                       "--payload-misfit"};
    const struct vmig_policy_words w = {o->null_values, o->payload_conflict, o->index,
                                        o->payload_misfit};
    const char *given[] = {"", w.nulls, w.conflict, w.index, w.misfit};
    char words[64];
    int k = vmig_policy_check(&w, mo, words, sizeof words);
    if (!k) return 0;
    cli_usage_error("%s must be %s, not '%s'", flag[k], words, given[k]);
    return EXIT_USAGE;
}

/* Fill mapping options from flags; 0 or EXIT_USAGE. */
int cli_map_opts(const struct cli_opts *o, struct vmig_map_opts *mo)
{
    struct vmig_err err;
    vmig_map_opts_init(mo);
    mo->source_url = o->source;
    mo->max_vector_fields = o->max_vector_fields;
    if (o->profile_full && o->profile_sample) {
        cli_usage_error("--full reads every point; give it or --sample N, not both");
        return EXIT_USAGE;
    }
    mo->profile = o->profile || o->profile_full || o->profile_sample;
    if (o->profile_sample) mo->profile_sample = (uint64_t)o->profile_sample;
    if (o->profile_full) mo->profile_sample = 0;
    int rc = cli_policy_words(o, mo);
    if (rc) return rc;
    for (size_t i = 0; i < o->nedits; i++) {
        if (vmig_map_opts_add(mo, o->edit_kind[i], o->edit_val[i], &err)) {
            cli_error(&err);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int cli_need(const struct cli_opts *o, int source, int target)
{
    if (source && !o->source) {
        cli_usage_error("--source URL is required (the Qdrant REST endpoint, e.g. "
                        "http://localhost:6333)");
        return EXIT_USAGE;
    }
    if (target && !o->target) {
        cli_usage_error("--target URL is required (the Milvus endpoint, e.g. "
                        "http://localhost:19530)");
        return EXIT_USAGE;
    }
    return 0;
}

/* Print a JSON string literal (for --json output built by hand). */
void cli_json_str(FILE *f, const char *s)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_add_json_str(&b, s);
    fputs(b.p, f);
    vmig_buf_release(&b);
}

/* Mapping options, endpoints and the plan of the collections named on the command line
 * (all of them when none). 0, or the exit code after printing the problem; mo and plan
 * are always initialised (release them). */
int cli_plan(const struct cli_opts *o, struct vmig_map_opts *mo, struct vmig_endpoint *src,
             struct vmig_endpoint *dst, struct vmig_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    int rc = cli_map_opts(o, mo);
    if (rc) return rc;
    cli_endpoints(o, src, dst);
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code code = vmig_plan_make(src, dst, o->colls, o->ncolls, mo, plan, &err);
    if (code) {
        cli_error(&err);
        return cli_exit_code(code);
    }
    return 0;
}

/*
 * common.c - what every subcommand shares: endpoints from options and the
 * environment, mapping options from flags, error printing and exit-code mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/buf.h"
#include "vmig/vmig.h"

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

/* --null-values, --payload-conflict and --index name words of the library's tables:
 * stored into mo (may be NULL: only checked); 0, or EXIT_USAGE after naming the flag
 * and the words it takes. */
int cli_policy_words(const struct cli_opts *o, struct vmig_map_opts *mo)
{
    static const char *const flag[] = {"", "--null-values", "--payload-conflict", "--index"};
    const char *given[] = {"", o->null_values, o->payload_conflict, o->index};
    char words[64];
    int k = vmig_policy_check(o->null_values, o->payload_conflict, o->index,
                              mo ? &mo->nulls : NULL, mo ? &mo->conflict : NULL,
                              mo ? &mo->index : NULL, words, sizeof words);
    if (!k) return 0;
    fprintf(stderr, "vmigrate: %s must be %s, not '%s'\n", flag[k], words, given[k]);
    return EXIT_USAGE;
}

/* Fill mapping options from flags; 0 or EXIT_USAGE. */
int cli_map_opts(const struct cli_opts *o, struct vmig_map_opts *mo)
{
    struct vmig_err err;
    vmig_map_opts_init(mo);
    mo->source_url = o->source;
    mo->max_vector_fields = o->max_vector_fields;
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
        fprintf(stderr, "vmigrate: --source URL is required (the Qdrant REST endpoint, e.g. "
                        "http://localhost:6333)\n");
        return EXIT_USAGE;
    }
    if (target && !o->target) {
        fprintf(stderr, "vmigrate: --target URL is required (the Milvus endpoint, e.g. "
                        "http://localhost:19530)\n");
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

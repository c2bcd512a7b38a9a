/*
 * cmd_verify.c - `vmigrate verify`: compare migrated collections with their
 * sources (exact counts, N sampled points bit-exact). The plan is rebuilt with
 * the same edits so field names match what migrate created.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vmig/vmig.h"

int cmd_verify(struct cli_opts *o)
{
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    if (!o->ncolls) {
        fprintf(stderr, "vmigrate verify: name the collection(s) with -c NAME\n");
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
    if (o->json) printf("[");
    for (size_t i = 0; i < plan.n; i++) {
        struct vmig_plan_coll *pc = &plan.coll[i];
        struct vmig_verify_result vr;
        vmig_err_clear(&err);
        if (pc->refusal.code && pc->refusal.code != VMIG_E_EXISTS) {
            cli_error(&pc->refusal);
            rc = cli_exit_code(pc->refusal.code);
            continue;
        }
        code = vmig_verify_coll(&src, &dst, pc, sample, 0, &cli_run, &vr, &err);
        if (o->json) {
            printf("%s{\"collection\":", i ? "," : "");
            cli_json_str(stdout, pc->source);
            printf(",\"target\":");
            cli_json_str(stdout, pc->target);
            printf(",\"ok\":%s,\"source_count\":%llu,\"target_count\":%llu,\"sampled\":%llu,"
                   "\"missing\":%llu,\"vector_diffs\":%llu,\"payload_diffs\":%llu,\"error\":",
                   code ? "false" : "true", (unsigned long long)vr.source_count,
                   (unsigned long long)vr.target_count, (unsigned long long)vr.sampled,
                   (unsigned long long)vr.missing, (unsigned long long)vr.vector_diffs,
                   (unsigned long long)vr.payload_diffs);
            if (code) cli_json_str(stdout, err.msg);
            else printf("null");
            printf("}");
        } else {
            printf("%s -> %s: source %llu, target %llu, sampled %llu: %s\n", pc->source, pc->target,
                   (unsigned long long)vr.source_count, (unsigned long long)vr.target_count,
                   (unsigned long long)vr.sampled, code ? "DIFFERENT" : "identical");
        }
        if (code) {
            if (!o->json) cli_error(&err);
            rc = cli_exit_code(code);
        }
    }
    if (o->json) printf("]\n");
done:
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    return rc;
}

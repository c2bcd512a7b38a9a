/*
 * cmd_plan.c - `vmigrate plan`: the schema preview. Prints, per collection, the
 * Milvus collection vmigrate would create (or why it cannot); --json writes the
 * whole plan, which the user may edit and hand to `migrate --plan FILE`. With
 * --profile each preview is followed by the payload profile's table and estimate.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "util/buf.h"
#include "vmig/vmig.h"

int cmd_plan(struct cli_opts *o)
{
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    struct vmig_map_opts mo;
    struct vmig_endpoint src, dst;
    struct vmig_plan plan;
    rc = cli_plan(o, &mo, &src, &dst, &plan);
    if (rc) goto done;
    int refused = 0;
    for (size_t i = 0; i < plan.n; i++)
        if (plan.coll[i].refusal.code) refused = cli_exit_code(plan.coll[i].refusal.code);
    if (o->json) {
        char *j = vmig_plan_to_json(&plan, 1);
        printf("%s\n", j);
        free(j);
        cli_json_done = 1; /* refusals are in the plan's document */
    } else {
        struct vmig_buf b = VMIG_BUF_INIT;
        for (size_t i = 0; i < plan.n; i++) {
            vmig_buf_reset(&b);
            vmig_plan_coll_describe(&plan.coll[i], &b);
            if (plan.profile && plan.profile[i]) vmig_profile_describe(plan.profile[i], &b);
            printf("%s%s", i ? "\n" : "", b.p);
            char hint[512];
            cli_fix_hint(&plan.coll[i].refusal, NULL, hint, sizeof hint);
            if (plan.coll[i].refusal.code && hint[0]) printf("  hint: %s\n", hint);
        }
        vmig_buf_release(&b);
    }
    rc = refused;
done:
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    return rc;
}

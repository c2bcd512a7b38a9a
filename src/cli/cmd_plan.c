/*
 * cmd_plan.c - `vmigrate plan`: the schema preview. Prints, per collection, the
 * Milvus collection vmigrate would create (or why it cannot); --json writes the
 * whole plan, which the user may edit and hand to `migrate --plan FILE`.
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
    rc = cli_map_opts(o, &mo);
    if (rc) goto done;
    struct vmig_endpoint src, dst;
    cli_endpoints(o, &src, &dst);
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_plan plan;
    enum vmig_code code = vmig_plan_make(&src, &dst, o->colls, o->ncolls, &mo, &plan, &err);
    if (code) {
        cli_error(&err);
        rc = cli_exit_code(code);
        vmig_plan_release(&plan);
        goto done;
    }
    int refused = 0;
    for (size_t i = 0; i < plan.n; i++)
        if (plan.coll[i].refusal.code) refused = cli_exit_code(plan.coll[i].refusal.code);
    if (o->json) {
        char *j = vmig_plan_to_json(&plan, 1);
        printf("%s\n", j);
        free(j);
    } else {
        struct vmig_buf b = VMIG_BUF_INIT;
        for (size_t i = 0; i < plan.n; i++) {
            vmig_buf_reset(&b);
            vmig_plan_coll_describe(&plan.coll[i], &b);
            printf("%s%s", i ? "\n" : "", b.p);
        }
        vmig_buf_release(&b);
    }
    rc = refused;
    vmig_plan_release(&plan);
done:
    vmig_map_opts_release(&mo);
    return rc;
}

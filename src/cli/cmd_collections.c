/*
 * cmd_collections.c - `vmigrate collections`: list the source collections with
 * their vector configuration, as a table or (--json) as an array.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "vmig/vmig.h"

static const char *dist_name(enum vmig_distance d)
{
    switch (d) {
    case VMIG_DIST_COSINE: return "Cosine";
    case VMIG_DIST_EUCLID: return "Euclid";
    case VMIG_DIST_DOT: return "Dot";
    case VMIG_DIST_MANHATTAN: return "Manhattan";
    default: return "?";
    }
}

int cmd_collections(struct cli_opts *o)
{
    int rc = cli_need(o, 1, 0);
    if (rc) return rc;
    struct vmig_endpoint src, dst;
    cli_endpoints(o, &src, &dst);
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_src_coll *sc = NULL;
    size_t n = 0;
    enum vmig_code code = vmig_source_describe(&src, o->ncolls ? o->colls : NULL, o->ncolls, &sc,
                                               &n, &err);
    if (code) {
        cli_error(&err);
        return cli_exit_code(code);
    }
    if (o->json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            char *j = vmig_src_coll_to_json(&sc[i], 0);
            printf("%s%s", i ? "," : "", j);
            free(j);
        }
        printf("]\n");
        cli_json_done = 1;
    } else {
        printf("%-32s %12s  %-6s  %s\n", "COLLECTION", "POINTS~", "STATUS", "VECTORS");
        for (size_t i = 0; i < n; i++) {
            printf("%-32s %12llu  %-6s  ", sc[i].name, (unsigned long long)sc[i].points_approx,
                   sc[i].status);
            for (size_t v = 0; v < sc[i].nvec; v++) {
                const struct vmig_src_vector *vec = &sc[i].vec[v];
                const char *name = vec->name[0] ? vec->name : "(unnamed)";
                if (vec->sparse) printf("%s%s: sparse", v ? ", " : "", name);
                else
                    printf("%s%s: %u-d %s %s%s", v ? ", " : "", name, vec->size,
                           dist_name(vec->distance), vec->datatype_name,
                           vec->multivector ? " multivector" : "");
            }
            if (!sc[i].nvec) printf("(none)");
            printf("\n");
        }
    }
    free(sc);
    return EXIT_OK;
}

/*
 * fuzz_plan_json.c - libFuzzer harness of the plan JSON reader,
 * vmig_plan_from_json() (src/mapping/plan_json.c): what `vmigrate migrate --plan
 * FILE`, POST /api/v1/jobs with a "plan" and every job run (the plan the store
 * holds) read. A plan it accepts must write back (vmig_plan_to_json) to a text it
 * accepts again and that writes the same (a stored plan read by the next run); its
 * collections go through the cross-plan check and into batch layouts, as a job does.
 * The same bytes go to vmig_src_coll_from_json(), the reader of a stored source
 * collection. Seeds: the plans of the tests and docs (tests/fuzz/corpus/plan_json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "vmig/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int verbose; /* FUZZ_VERBOSE=1: each input's answer on stderr (checking seeds) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct vmig_err err;
    vmig_err_clear(&err);

    struct vmig_plan p;
    enum vmig_code rc = vmig_plan_from_json(text, &p, &err);
    if (verbose) fprintf(stderr, "plan: rc %d %s\n", (int)rc, err.msg);
    if (rc == VMIG_OK) {
        char *js = vmig_plan_to_json(&p, 0);
        struct vmig_plan q;
        vmig_err_clear(&err);
        if (vmig_plan_from_json(js, &q, &err) != VMIG_OK) abort(); /* its own output refused */
        char *js2 = vmig_plan_to_json(&q, 0);
        if (strcmp(js, js2) != 0) abort(); /* not a fixed point: a field lost or changed */
        free(js2);
        vmig_plan_release(&q);
        free(js);
        (void)vmig_plan_check_targets(&p);
        struct vmig_layout lay;
        for (size_t i = 0; i < p.n; i++)
            vmig_layout_from_plan(&lay, &p.coll[i], 1);
    } else if (!err.msg[0]) {
        abort();
    }
    vmig_plan_release(&p);

    struct vmig_src_coll *c = malloc(sizeof *c);
    vmig_err_clear(&err);
    rc = vmig_src_coll_from_json(text, c, &err);
    if (verbose) fprintf(stderr, "source collection: rc %d %s\n", (int)rc, err.msg);
    if (rc == VMIG_OK) {
        char *js = vmig_src_coll_to_json(c, 0);
        struct vmig_src_coll *d = malloc(sizeof *d);
        if (vmig_src_coll_from_json(js, d, &err) != VMIG_OK) abort();
        free(d);
        free(js);
    }
    free(c);
    free(text);
    return 0;
}

/*
 * fuzz_qdrant_scan.c - libFuzzer harness of the REST scroll scanner,
 * vmig_qdrant_scan_page() (src/source/qdrant_scan.c), the function the Qdrant REST
 * connector hands every scroll and retrieve page to. The input is a layout header
 * (fuzz_layout.h, "page scroll" or "page retrieve") and the page; seeds are the
 * scroll fixtures of tests/data/qdrant/scroll without their expectations.
 * Beyond the sanitizers it checks the scanner's promises: a batch whose row count
 * and offsets agree, and an error that says something.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "batch/batch.h"
#include "fuzz_layout.h"
#include "source/qdrant_codec.h"

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
    struct fz_layout f;
    char *body;
    size_t len;
    if (fz_layout_parse(data, size, &f, &body, &len)) return -1; /* not an input: not kept */
    enum vmig_qdrant_page kind =
        !strcmp(f.page, "retrieve") ? VMIG_QDRANT_RETRIEVE : VMIG_QDRANT_SCROLL;
    struct vmig_batch b;
    struct vmig_point_id next;
    struct vmig_err err;
    memset(&next, 0, sizeof next);
    vmig_err_clear(&err);
    vmig_batch_init(&b, &f.lay);
    /* a connector reuses one batch across pages: scan twice into it, reset between */
    for (int round = 0; round < 2; round++) {
        enum vmig_code rc = vmig_qdrant_scan_page(body, len, kind, &f.lay, &b, &next, &err);
        if (rc && !err.msg[0]) abort(); /* an error must say what */
        if (!rc && b.meta_off[b.n] != b.meta.len) abort();
        if (verbose) fprintf(stderr, "page: %d rows, rc %d %s\n", (int)b.n, (int)rc, err.msg);
        vmig_batch_reset(&b);
        vmig_err_clear(&err);
    }
    vmig_batch_release(&b);
    free(body);
    return 0;
}

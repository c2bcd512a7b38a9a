/*
 * fuzz_qdrant_grpc.c - libFuzzer harness of the Qdrant gRPC decoder
 * (src/source/qdrant_grpc_codec.c, qdrant_grpc_msg.c): the header (fuzz_layout.h)
 * says the layout and which answer the bytes are - "page scroll|get|query" go to
 * vmig_qgrpc_scan_page_mem() as the gRPC connector calls it (one decoder memory
 * across pages), "page info|list|count|health" to the small answers' parsers.
 * Seeds: the scroll fixtures encoded as ScrollResponse/GetResponse by
 * tests/fuzz/make_seeds.py with the qdrant-client protobuf stubs, and infos and
 * lists the same way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "batch/batch.h"
#include "fuzz_layout.h"
#include "source/qdrant_grpc_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int verbose; /* FUZZ_VERBOSE=1: each input's answer on stderr (checking seeds) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

static void small_answers(const char *page, const char *msg, size_t len)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    if (!strcmp(page, "info")) {
        struct vmig_src_coll *c = calloc(1, sizeof *c);
        if (vmig_qgrpc_parse_info(msg, len, "c", c, &err) == VMIG_OK &&
            c->nvec > VMIG_SRC_MAX_VECTORS)
            abort();
        free(c);
    } else if (!strcmp(page, "list")) {
        char **names = NULL;
        size_t n = 0;
        if (vmig_qgrpc_parse_list(msg, len, &names, &n, &err) == VMIG_OK) {
            for (size_t i = 0; i < n; i++)
                free(names[i]);
            free(names);
        }
    } else if (!strcmp(page, "count")) {
        uint64_t n;
        (void)vmig_qgrpc_parse_count(msg, len, &n, &err);
    } else {
        char v[64];
        (void)vmig_qgrpc_parse_health(msg, len, v, sizeof v, &err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_layout f;
    char *msg;
    size_t len;
    if (fz_layout_parse(data, size, &f, &msg, &len)) return -1;
    enum vmig_qgrpc_page kind = VMIG_QGRPC_SCROLL;
    if (!strcmp(f.page, "get"))
        kind = VMIG_QGRPC_GET;
    else if (!strcmp(f.page, "query"))
        kind = VMIG_QGRPC_QUERY;
    else if (f.page[0] && strcmp(f.page, "scroll") != 0) {
        small_answers(f.page, msg, len);
        free(msg);
        return 0;
    }
    struct vmig_batch b;
    struct vmig_point_id next;
    struct vmig_err err;
    struct vmig_qgrpc_mem mem;
    memset(&mem, 0, sizeof mem);
    vmig_batch_init(&b, &f.lay);
    for (int round = 0; round < 2; round++) {
        size_t before = b.n;
        memset(&next, 0, sizeof next);
        vmig_err_clear(&err);
        enum vmig_code rc = vmig_qgrpc_scan_page_mem(msg, len, kind, &f.lay, &b, &next, &mem, &err);
        if (rc && (!err.msg[0] || b.n != before)) abort(); /* "On error b is as before" */
        if (!rc && b.meta_off[b.n] != b.meta.len) abort();
        if (verbose) fprintf(stderr, "page: %d rows, rc %d %s\n", (int)b.n, (int)rc, err.msg);
    }
    vmig_batch_release(&b);
    vmig_qgrpc_mem_release(&mem);
    free(msg);
    return 0;
}

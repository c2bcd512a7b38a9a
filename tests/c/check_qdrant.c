/*
 * check_qdrant.c - live check of a Qdrant source connector (REST for http(s)://, gRPC
 * for grpc(s)://, as the registry picks) against a running
 * server, run by the integration tests: probe, list, describe and exact-count every
 * collection, then scroll each one to the end (sliced when the server supports it
 * and CHECK_SLICES=N is set) with all its vectors, and compare the rows read with
 * the exact count. Prints one line per collection on stdout; exit 0 when all match.
 *
 *   check_qdrant URL [API_KEY]     env: CHECK_PAGE (points per page, default 256),
 *                                       CHECK_INSECURE=1, CHECK_CA_FILE, CHECK_SLICES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "source/source.h"
#include "util/retry.h"

static const struct vmig_source_vt *vt; /* the connector the URL's scheme picks */

static int check_coll(struct vmig_source *s, const char *name, int slices)
{
    struct vmig_src_coll info;
    struct vmig_err err;
    struct vmig_layout lay;
    struct vmig_batch b;
    uint64_t count = 0, rows = 0, rejects = 0, pages = 0, bytes = 0;
    int rc = 1;
    memset(&lay, 0, sizeof lay);
    vmig_err_clear(&err);
    if (vt->describe(s, name, &info, &err) || vt->count(s, name, &count, &err)) {
        fprintf(stderr, "check_qdrant: %s: %s\n", name, err.msg);
        return 1;
    }
    lay.coll = name;
    lay.unnamed = info.unnamed;
    lay.nulls = VMIG_NULL_KEEP;
    lay.reject_oversize = 1;
    lay.prefix = "payload_";
    for (size_t i = 0; i < info.nvec && lay.ncols < VMIG_MAX_VECTOR_FIELDS; i++) {
        if (info.vec[i].multivector) continue;
        lay.col[lay.ncols].src = info.vec[i].name;
        lay.col[lay.ncols].dst = info.vec[i].name;
        lay.col[lay.ncols].sparse = info.vec[i].sparse;
        lay.col[lay.ncols].dim = info.vec[i].sparse ? 0 : info.vec[i].size;
        lay.ncols++;
    }
    vmig_batch_init(&b, &lay);
    int nslices = slices > 0 && vt->has_slices(s) ? slices : 0;
    for (int sl = 0; sl < (nslices ? nslices : 1); sl++) {
        struct vmig_read_req req = {0};
        req.coll = name;
        req.layout = &lay;
        req.limit = getenv("CHECK_PAGE") ? (uint32_t)atoi(getenv("CHECK_PAGE")) : 256;
        req.slice_total = (uint32_t)nslices;
        req.slice_index = (uint32_t)sl;
        struct vmig_point_id prev = {0};
        for (;;) {
            struct vmig_point_id next;
            size_t pb = 0;
            vmig_batch_reset(&b);
            if (vt->read(s, &req, &b, &next, &pb, &err)) {
                fprintf(stderr, "check_qdrant: %s: %s\n", name, err.msg);
                goto out;
            }
            for (size_t r = 0; r < b.n; r++) { /* ids strictly increase in scroll order */
                if (prev.kind && vmig_point_id_cmp(&prev, &b.ids[r]) >= 0) {
                    fprintf(stderr, "check_qdrant: %s: ids out of order\n", name);
                    goto out;
                }
                prev = b.ids[r];
            }
            rows += b.n;
            rejects += b.nrejects;
            pages++;
            bytes += pb;
            if (next.kind == VMIG_ID_NONE) break;
            req.offset = next;
        }
    }
    printf("%s: version-ok vectors=%zu unnamed=%d big_ids=%d uuids=%d count=%llu read=%llu "
           "rejects=%llu pages=%llu bytes=%llu slices=%d %s\n",
           name, info.nvec, info.unnamed, info.has_big_ids, info.has_uuids,
           (unsigned long long)count, (unsigned long long)rows, (unsigned long long)rejects,
           (unsigned long long)pages, (unsigned long long)bytes, nslices,
           rows + rejects == count ? "OK" : "MISMATCH");
    rc = rows + rejects == count ? 0 : 1;
out:
    vmig_batch_release(&b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: check_qdrant URL [API_KEY]\n");
        return 2;
    }
    struct vmig_endpoint ep = {0};
    struct vmig_source *s = NULL;
    struct vmig_err err;
    char version[64], **names = NULL;
    size_t n = 0;
    int fails = 0;
    ep.url = argv[1];
    vt = vmig_source_for(&ep);
    ep.secret = argc > 2 ? argv[2] : NULL;
    ep.insecure = getenv("CHECK_INSECURE") && atoi(getenv("CHECK_INSECURE"));
    ep.ca_file = getenv("CHECK_CA_FILE");
    vmig_retry_default.max_total_ms = 20000;
    vmig_err_clear(&err);
    if (vt->open(&ep, NULL, &s, &err) || vt->probe(s, version, sizeof version, &err) ||
        vt->list(s, &names, &n, &err)) {
        fprintf(stderr, "check_qdrant: %s (code %d)\n", err.msg, (int)err.code);
        vt->close(s);
        return 1;
    }
    printf("server %s: %zu collections, slices %s\n", version, n,
           vt->has_slices(s) ? "yes" : "no");
    int slices = getenv("CHECK_SLICES") ? atoi(getenv("CHECK_SLICES")) : 0;
    for (size_t i = 0; i < n; i++) {
        fails += check_coll(s, names[i], slices);
        free(names[i]);
    }
    free(names);
    vt->close(s);
    return fails ? 1 : 0;
}

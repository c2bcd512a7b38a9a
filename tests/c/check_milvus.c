/*
 * check_milvus.c - live check of the Milvus target connector against a running
 * server (Milvus or milvus-lite): `check_milvus URI [TOKEN]`. Probes several times
 * on one reused channel, creates a collection from a hand-made plan (Int64 pk, a
 * dense and a sparse vector, dynamic field), inserts, upserts part again, flushes,
 * indexes, loads, counts, retrieves by id and compares vectors bit-exactly and
 * payloads as JSON, then drops it. A target without sparse vectors (Milvus 2.3, as
 * its probe says) gets the dense vector only. Also 8 threads probing through one handle. Prints one `ok` line
 * per step; exit 1 on failure.
 */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/grpc_call.h"
#include "vmig/log.h"
#include "target/milvus.h"
#include "target/target.h"

static int failed;
static int with_sparse = 1; /* the target holds sparse vectors (from the probe) */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok   ");                                                                       \
        } else {                                                                                   \
            printf("FAIL ");                                                                       \
            failed = 1;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

static void log_cb(void *ud, int level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[%d] %s\n", level, msg);
}

static void plan_init(struct vmig_plan_coll *pc, const char *name, enum vmig_pk_type pk)
{
    memset(pc, 0, sizeof *pc);
    snprintf(pc->target, sizeof pc->target, "%s", name);
    snprintf(pc->source, sizeof pc->source, "%s", name);
    snprintf(pc->description, sizeof pc->description, "vmigrate live check");
    snprintf(pc->pk_name, sizeof pc->pk_name, "id");
    pc->pk_type = pk;
    pc->pk_max_length = 64;
    pc->nfields = with_sparse ? 2 : 1;
    snprintf(pc->field[0].src, sizeof pc->field[0].src, "dense");
    snprintf(pc->field[0].dst, sizeof pc->field[0].dst, "dense");
    pc->field[0].kind = VMIG_VEC_DENSE;
    pc->field[0].dim = 4;
    pc->field[0].metric = VMIG_METRIC_COSINE;
    pc->field[0].hnsw_m = pc->field[0].hnsw_ef = -1;
    snprintf(pc->field[1].src, sizeof pc->field[1].src, "text");
    snprintf(pc->field[1].dst, sizeof pc->field[1].dst, "text");
    pc->field[1].kind = VMIG_VEC_SPARSE;
    pc->field[1].metric = VMIG_METRIC_IP;
}

/* row i: dense (i+0.1, -i, 1/3, 1e-30*i), sparse {i: 0.5, 1000+i: i+1}, payload.
 * No explicit zeros in sparse rows: milvus-lite drops them (real Milvus keeps them). */
static void add_row(struct vmig_batch *b, const struct vmig_point_id *id, int i, const char *meta)
{
    vmig_batch_begin_row(b, id);
    float *d = vmig_batch_dense(b, 0);
    d[0] = (float)i + 0.1f;
    d[1] = -(float)i;
    d[2] = 1.0f / 3.0f;
    d[3] = 1e-30f * (float)i;
    uint32_t ix[2] = {(uint32_t)i, 1000u + (uint32_t)i};
    float v[2] = {0.5f, (float)i + 1.0f};
    for (int k = 0; k < 2 && with_sparse; k++) {
        vmig_buf_add(&b->col[1].data, &ix[k], 4);
        vmig_buf_add(&b->col[1].data, &v[k], 4);
    }
    vmig_buf_adds(&b->meta, meta);
    vmig_batch_end_row(b);
}

static size_t find_row(const struct vmig_batch *b, const struct vmig_point_id *id)
{
    for (size_t r = 0; r < b->n; r++)
        if (!vmig_point_id_cmp(&b->ids[r], id)) return r;
    return (size_t)-1;
}

/* Compare got with want: same ids, bit-equal vectors, equal JSON payloads. */
static int same_rows(const struct vmig_batch *want, const struct vmig_batch *got, char *why,
                     size_t n)
{
    if (want->n != got->n) return snprintf(why, n, "%zu rows, want %zu", got->n, want->n), 0;
    for (size_t r = 0; r < want->n; r++) {
        size_t g = find_row(got, &want->ids[r]);
        if (g == (size_t)-1) return snprintf(why, n, "row %zu missing", r), 0;
        if (memcmp(vmig_batch_dense_at(want, 0, r), vmig_batch_dense_at(got, 0, g), 16))
            return snprintf(why, n, "dense of row %zu differs", r), 0;
        size_t wl = with_sparse ? want->col[1].off[r + 1] - want->col[1].off[r] : 0;
        size_t gl = with_sparse ? got->col[1].off[g + 1] - got->col[1].off[g] : 0;
        if (wl != gl || (wl && memcmp(want->col[1].data.p + want->col[1].off[r],
                                      got->col[1].data.p + got->col[1].off[g], wl)))
            return snprintf(why, n, "sparse of row %zu differs", r), 0;
        size_t ml, gml;
        const char *wm = vmig_batch_meta_at(want, r, &ml), *gm = vmig_batch_meta_at(got, g, &gml);
        json_t *a = json_loadb(wm, ml, 0, NULL), *b = json_loadb(gm, gml, 0, NULL);
        int eq = a && b && json_equal(a, b);
        if (!eq)
            snprintf(why, n, "payload of row %zu: got %.*s want %.*s", r, (int)gml, gm, (int)ml,
                     wm);
        json_decref(a);
        json_decref(b);
        if (!eq) return 0;
    }
    return 1;
}

static void run(const struct vmig_target_vt *vt, struct vmig_target *t, enum vmig_pk_type pkt)
{
    struct vmig_err err;
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b, up, want, got;
    char name[64], why[512];
    int exists = -1;
    uint64_t cnt = 0;
    enum vmig_code rc;
    const char *pk = pkt == VMIG_PK_INT64 ? "int64" : "varchar";

    snprintf(name, sizeof name, "vmig_check_%s_%d", pk, (int)getpid());
    plan_init(&pc, name, pkt);
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    vmig_batch_init(&up, &lay);
    vmig_batch_init(&want, &lay);
    vmig_batch_init(&got, &lay);
    vmig_err_clear(&err);

    struct vmig_point_id ids[6];
    for (int i = 0; i < 5; i++) {
        char meta[128];
        if (pkt == VMIG_PK_INT64) {
            ids[i] = (struct vmig_point_id){.kind = VMIG_ID_NUM, .num = 1000 + (uint64_t)i};
        } else {
            ids[i] = (struct vmig_point_id){.kind = VMIG_ID_UUID};
            for (int k = 0; k < 16; k++)
                ids[i].uuid[k] = (uint8_t)(0x11 * k + i);
        }
        snprintf(meta, sizeof meta, "{\"k\":%d,\"tag\":\"row %d\",\"nested\":{\"a\":[1,2.5,null]}}",
                 i, i);
        add_row(&b, &ids[i], i, meta);
        if (i < 2) {
            /* every key again: milvus-lite's upsert merges with the old row, Milvus's
             * replaces it; with the same key set both give the same row */
            snprintf(meta, sizeof meta, "{\"k\":%d,\"tag\":\"upd %d\",\"nested\":{\"a\":[]}}",
                     100 + i, i);
            add_row(&up, &ids[i], i, meta);
            add_row(&want, &ids[i], i, meta);
        } else {
            add_row(&want, &ids[i], i, meta);
        }
    }
    ids[5] = (struct vmig_point_id){.kind = VMIG_ID_NUM, .num = 999999};
    if (pkt == VMIG_PK_VARCHAR) ids[5] = (struct vmig_point_id){.kind = VMIG_ID_UUID};

    rc = vt->has_collection(t, name, &exists, &err);
    CHECK(!rc && exists == 0, "[%s] has_collection before create: %d %s", pk, exists, err.msg);
    rc = vt->create_collection(t, &pc, &err);
    CHECK(!rc, "[%s] create_collection '%s' %s", pk, name, err.msg);
    rc = vt->create_collection(t, &pc, &err);
    CHECK(rc == VMIG_E_EXISTS, "[%s] create again refused: %s", pk, err.msg);
    rc = vt->has_collection(t, name, &exists, &err);
    CHECK(!rc && exists == 1, "[%s] has_collection after create: %d", pk, exists);
    rc = vt->write(t, &pc, &b, 0, &err);
    CHECK(!rc, "[%s] insert %zu rows %s", pk, b.n, err.msg);
    rc = vt->write(t, &pc, &up, 1, &err);
    CHECK(!rc, "[%s] upsert %zu rows %s", pk, up.n, err.msg);
    rc = vt->flush(t, name, &err);
    CHECK(!rc, "[%s] flush %s", pk, err.msg);
    rc = vt->create_indexes(t, &pc, &err);
    CHECK(!rc, "[%s] create_indexes %s", pk, err.msg);
    rc = vt->load(t, name, 1, &err);
    CHECK(!rc, "[%s] load %s", pk, err.msg);
    rc = vt->count(t, name, &cnt, &err);
    CHECK(!rc && cnt == 5, "[%s] count(*) = %" PRIu64 " %s", pk, cnt, err.msg);
    rc = vt->retrieve(t, &pc, &lay, ids, 6, &got, &err);
    CHECK(!rc, "[%s] retrieve 6 ids (1 absent): %zu rows %s", pk, got.n, err.msg);
    if (!rc) {
        int same = same_rows(&want, &got, why, sizeof why);
        CHECK(same, "[%s] retrieved rows equal what was written (vectors bit-exact)%s%s", pk,
              same ? "" : ": ", same ? "" : why);
    }
    if (getenv("CHECK_KEEP")) {
        printf("kept collection %s\n", name);
    } else {
        rc = vt->drop_collection(t, name, &err);
        CHECK(!rc, "[%s] drop_collection %s", pk, err.msg);
        rc = vt->has_collection(t, name, &exists, &err);
        CHECK(!rc && exists == 0, "[%s] gone after drop", pk);
    }
    vmig_batch_release(&b);
    vmig_batch_release(&up);
    vmig_batch_release(&want);
    vmig_batch_release(&got);
}

/* CHECK_BIG=1: a batch over 64 MiB (5000 rows x 4096 floats = 80 MiB) must be split
 * into requests under the limit and land completely. */
static void big_write(const struct vmig_target_vt *vt, struct vmig_target *t)
{
    struct vmig_err err;
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    char name[64];
    uint64_t cnt = 0;
    snprintf(name, sizeof name, "vmig_check_big_%d", (int)getpid());
    plan_init(&pc, name, VMIG_PK_INT64);
    pc.nfields = 1;
    pc.field[0].dim = 4096;
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    for (uint64_t i = 0; i < 5000; i++) {
        struct vmig_point_id id = {.kind = VMIG_ID_NUM, .num = i};
        vmig_batch_begin_row(&b, &id);
        float *d = vmig_batch_dense(&b, 0);
        for (int k = 0; k < 4096; k++)
            d[k] = (float)(i + 1) * 0.001f + (float)k;
        vmig_buf_adds(&b.meta, "{}");
        vmig_batch_end_row(&b);
    }
    vmig_err_clear(&err);
    enum vmig_code rc = vt->create_collection(t, &pc, &err);
    if (!rc) rc = vt->write(t, &pc, &b, 0, &err);
    if (!rc) rc = vt->count(t, name, &cnt, &err);
    CHECK(!rc && cnt == 5000, "80 MiB batch written in parts under 64 MiB: count %" PRIu64 " %s",
          cnt, err.msg);
    vt->drop_collection(t, name, &err);
    vmig_batch_release(&b);
}

/* Threads sharing one handle (one channel), each with its own calls. */
struct probe_arg {
    struct vmig_target *t;
    int fails;
};

static void *probe_thread(void *p)
{
    struct probe_arg *a = p;
    for (int i = 0; i < 10; i++) {
        struct vmig_err err;
        struct vmig_target_caps caps;
        vmig_err_clear(&err);
        if (vmig_target_milvus.probe(a->t, &caps, &err)) a->fails++;
    }
    return NULL;
}

static void concurrent_probes(struct vmig_target *t)
{
    pthread_t th[8];
    struct probe_arg a[8];
    int fails = 0;
    for (int i = 0; i < 8; i++) {
        a[i] = (struct probe_arg){t, 0};
        pthread_create(&th[i], NULL, probe_thread, &a[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        fails += a[i].fails;
    }
    CHECK(fails == 0, "8 threads x 10 probes on one handle: %d failures", fails);
}

int main(int argc, char **argv)
{
    const struct vmig_target_vt *vt = &vmig_target_milvus;
    struct vmig_target *t = NULL;
    struct vmig_err err;
    struct vmig_target_caps caps = {.version = ""};
    if (argc < 2) {
        fprintf(stderr, "usage: check_milvus URI [TOKEN]\n");
        return 2;
    }
    if (getenv("CHECK_DEBUG")) vmig_log_set(log_cb, NULL, VMIG_LOG_DEBUG);
    struct vmig_endpoint ep = {
        .url = argv[1], .secret = argc > 2 ? argv[2] : NULL, .timeout_ms = 20000};
    vmig_err_clear(&err);
    enum vmig_code rc = vt->open(&ep, NULL, &t, &err);
    CHECK(!rc, "open %s %s", argv[1], err.msg);
    if (rc) return 1;
    for (int i = 0; i < 3 && !failed; i++) {
        rc = vt->probe(t, &caps, &err);
        CHECK(!rc && caps.version[0] && caps.product[0],
              "probe %d (GetVersion + CheckHealth, same channel): %s (%s %s) %s", i + 1,
              caps.version, caps.product, caps.release, err.msg);
    }
    with_sparse = (caps.has >> VMIG_FEAT_SPARSE) & 1u;
    if (!with_sparse) CHECK(1, "%s has no sparse vectors: the dense vector only", caps.product);
    if (!failed) concurrent_probes(t);
    if (!failed && getenv("CHECK_BIG")) big_write(vt, t);
    if (!failed) run(vt, t, VMIG_PK_INT64);
    if (!failed) run(vt, t, VMIG_PK_VARCHAR);
    vt->close(t);
    if (!getenv("CHECK_NO_SHUTDOWN")) vmig_grpc_shutdown();
    printf("%s\n", failed ? "FAILED" : "all ok");
    return failed;
}

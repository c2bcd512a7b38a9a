/*
 * fuzz_milvus_dec.c - libFuzzer harness of the Milvus response decoders
 * (src/target/milvus_codec.c, milvus_bulk_codec.c: protobuf-c unpacking of the
 * answers vmigrate reads). Byte 0 picks the decoder the way the connector's calls
 * do (milvus.c, milvus_bulk.c); for QueryResults (vmig_milvus_dec_rows, the
 * verify read-back) byte 1 picks one of two plans: a VarChar primary key with a
 * dense and a sparse vector and typed fields, or an Int64 key with one dense
 * vector; the rest is the message. Seeds: answers encoded with pymilvus's
 * milvus_pb2 by tests/fuzz/make_seeds.py.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "target/milvus_bulk.h"
#include "target/milvus_codec.h"
#include "vmig/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const plan_text[2] = {
    "{\"version\":1,\"collections\":[{\"source\":\"docs\",\"target\":\"docs\","
    "\"primary_key\":{\"name\":\"id\",\"type\":\"VarChar\",\"max_length\":36},"
    "\"vectors\":[{\"source\":\"image\",\"field\":\"image\",\"type\":\"FLOAT_VECTOR\",\"dim\":4,"
    "\"metric\":\"COSINE\",\"source_datatype\":\"float32\"},"
    "{\"source\":\"text\",\"field\":\"text\",\"type\":\"SPARSE_FLOAT_VECTOR\",\"metric\":\"IP\","
    "\"source_datatype\":\"float32\"}],"
    "\"typed_fields\":[{\"key\":\"category\",\"field\":\"category\",\"type\":\"VARCHAR\","
    "\"max_length\":64,\"nullable\":false,\"index\":\"INVERTED\"},"
    "{\"key\":\"tags\",\"field\":\"tags\",\"type\":\"ARRAY\",\"element_type\":\"VARCHAR\","
    "\"max_capacity\":8,\"max_length\":32,\"nullable\":true,\"index\":\"NONE\"},"
    "{\"key\":\"price\",\"field\":\"price\",\"type\":\"DOUBLE\",\"nullable\":true},"
    "{\"key\":\"n\",\"field\":\"n\",\"type\":\"INT64\",\"nullable\":true},"
    "{\"key\":\"ok\",\"field\":\"ok\",\"type\":\"BOOL\",\"nullable\":true}],"
    "\"dynamic_field\":true}]}",
    "{\"version\":1,\"collections\":[{\"source\":\"a\",\"target\":\"a\","
    "\"primary_key\":{\"name\":\"id\",\"type\":\"Int64\"},"
    "\"vectors\":[{\"source\":\"\",\"field\":\"vector\",\"type\":\"FLOAT_VECTOR\",\"dim\":4,"
    "\"metric\":\"L2\",\"source_datatype\":\"float32\"}],\"dynamic_field\":true}]}",
};
static struct vmig_plan plans[2];
static int verbose; /* FUZZ_VERBOSE=1: each input's answer on stderr (checking seeds) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    for (int i = 0; i < 2; i++) {
        struct vmig_err err;
        vmig_err_clear(&err);
        if (vmig_plan_from_json(plan_text[i], &plans[i], &err) || plans[i].n != 1) {
            fprintf(stderr, "fuzz_milvus_dec: plan %d: %s\n", i, err.msg);
            abort();
        }
    }
    return 0;
}

static void rows(const struct vmig_plan_coll *pc, const void *p, size_t len, struct vmig_err *err)
{
    struct vmig_layout lay;
    struct vmig_batch b;
    vmig_layout_from_plan(&lay, pc, 0);
    vmig_batch_init(&b, &lay);
    enum vmig_code rc = vmig_milvus_dec_rows(p, len, pc, &b, err);
    if (!rc && b.meta_off[b.n] != b.meta.len) abort();
    if (verbose) fprintf(stderr, "rows: %d rows, rc %d %s\n", (int)b.n, (int)rc, err->msg);
    vmig_batch_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return -1;
    const void *p = data + 2;
    size_t len = size - 2;
    struct vmig_err err;
    vmig_err_clear(&err);
    const char *what = "fuzz";
    char v[64];
    int64_t i64, a64, b64, *ids = NULL;
    uint64_t u64;
    size_t n = 0;
    int st;
    struct vmig_milvus_import_state is;
    enum vmig_code rc = VMIG_OK;
    switch (data[0] % 18) {
    case 0:
        rc = vmig_milvus_dec_status(p, len, what, &err);
        break;
    case 1:
        rc = vmig_milvus_dec_version(p, len, v, sizeof v, &err);
        break;
    case 2:
        rc = vmig_milvus_dec_health(p, len, &err);
        break;
    case 3:
        rc = vmig_milvus_dec_connect(p, len, &i64, &err);
        break;
    case 4:
        rc = vmig_milvus_dec_bool(p, len, what, &st, &err);
        break;
    case 5:
        rc = vmig_milvus_dec_flush(p, len, what, &err);
        break;
    case 6:
        rc = vmig_milvus_dec_index_progress(p, len, "vector", what, &st, &a64, &b64, &err);
        break;
    case 7:
        rc = vmig_milvus_dec_flush_ts(p, len, "a", what, &u64, &err);
        break;
    case 8:
        rc = vmig_milvus_dec_flush_segments(p, len, "a", what, &ids, &n, &err);
        free(ids);
        break;
    case 9:
        rc = vmig_milvus_dec_has_database(p, len, "default", what, &st, &err);
        break;
    case 10:
        rc = vmig_milvus_dec_load_state(p, len, what, &st, &err);
        break;
    case 11:
        rc = vmig_milvus_dec_mutation(p, len, data[1] & 1, data[1] >> 1, what, &err);
        break;
    case 12:
        rc = vmig_milvus_dec_count(p, len, what, &u64, &err);
        break;
    case 13:
        rows(&plans[data[1] & 1].coll[0], p, len, &err);
        break;
    case 14:
        rc = vmig_milvus_dec_import(p, len, what, &i64, &err);
        break;
    case 15:
        rc = vmig_milvus_dec_import_state(p, len, what, &is, &err);
        break;
    case 16:
        rc = vmig_milvus_dec_list_imports(p, len, what, &n, &i64, &err);
        break;
    default:
        rc = vmig_milvus_dec_refresh_progress(p, len, what, &i64, &err);
        break;
    }
    if (rc && !err.msg[0]) abort(); /* an error must say what */
    if (verbose) fprintf(stderr, "decoder %d: rc %d %s\n", data[0] % 18, (int)rc, err.msg);
    return 0;
}

/*
 * test_milvus_codec.c - unit tests of the Milvus protobuf codec (target/milvus_codec.c):
 * request bytes checked against hand-computed encodings from the field tables of
 * milvus.md section 7, requests decoded back with protobuf-c, response decoding
 * (status mapping, mutation counts, count(*), rows into a batch) and the splitting
 * of writes under a byte limit. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "target/milvus_codec.h"

/* ------------------------------------------------------------------ helpers */

static void plan(struct vmig_plan_coll *pc, enum vmig_pk_type pk)
{
    memset(pc, 0, sizeof *pc);
    strcpy(pc->target, "docs");
    strcpy(pc->description, "from qdrant");
    strcpy(pc->pk_name, "id");
    pc->pk_type = pk;
    pc->pk_max_length = 36;
    pc->nfields = 2;
    strcpy(pc->field[0].dst, "dense");
    pc->field[0].kind = VMIG_VEC_DENSE;
    pc->field[0].dim = 4;
    pc->field[0].metric = VMIG_METRIC_L2;
    pc->field[0].hnsw_m = 32;
    pc->field[0].hnsw_ef = 256;
    strcpy(pc->field[1].src, "text");
    strcpy(pc->field[1].dst, "text");
    pc->field[1].kind = VMIG_VEC_SPARSE;
}

static void add_row(struct vmig_batch *b, const struct vmig_point_id *id, int i, const char *meta)
{
    vmig_batch_begin_row(b, id);
    float *d = vmig_batch_dense(b, 0);
    for (int k = 0; k < 4; k++)
        d[k] = (float)i + (float)k / 8.0f;
    if (b->ncols > 1) {
        uint32_t ix[2] = {(uint32_t)i, 100u + (uint32_t)i};
        float v[2] = {0.25f, (float)i};
        for (int k = 0; k < 2; k++) {
            vmig_buf_add(&b->col[1].data, &ix[k], 4);
            vmig_buf_add(&b->col[1].data, &v[k], 4);
        }
    }
    vmig_buf_adds(&b->meta, meta);
    vmig_batch_end_row(b);
}

static struct vmig_point_id num_id(uint64_t n)
{
    struct vmig_point_id id = {.kind = VMIG_ID_NUM, .num = n};
    return id;
}

static void assert_bytes(const struct vmig_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->p, want, n);
}

/* ------------------------------------------------------------------ request bytes */

static void small_request_bytes(void **state)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    /* HasCollectionRequest{collection_name(3):"c"} */
    static const uint8_t has[] = {0x1a, 0x01, 'c'};
    vmig_milvus_enc_has_collection(NULL, "c", &b);
    assert_bytes(&b, has, sizeof has);
    /* with db_name(2):"d" first */
    static const uint8_t has_db[] = {0x12, 0x01, 'd', 0x1a, 0x01, 'c'};
    vmig_milvus_enc_has_collection("d", "c", &b);
    assert_bytes(&b, has_db, sizeof has_db);
    /* DropCollectionRequest and FlushRequest (collection_names(3) repeated) */
    vmig_milvus_enc_drop_collection(NULL, "c", &b);
    assert_bytes(&b, has, sizeof has);
    vmig_milvus_enc_flush(NULL, "c", &b);
    assert_bytes(&b, has, sizeof has);
    /* GetLoadStateRequest{collection_name(2)} */
    static const uint8_t ls[] = {0x12, 0x01, 'c'};
    vmig_milvus_enc_load_state(NULL, "c", &b);
    assert_bytes(&b, ls, sizeof ls);
    /* DescribeIndexRequest{collection_name(3), field_name(4)} */
    static const uint8_t di[] = {0x1a, 0x01, 'c', 0x22, 0x01, 'v'};
    vmig_milvus_enc_describe_index(NULL, "c", "v", &b);
    assert_bytes(&b, di, sizeof di);
    /* QueryRequest count(*): collection_name(3), output_fields(5); Strong = 0 omitted */
    static const uint8_t cnt[] = {0x1a, 0x01, 'c', 0x2a, 0x08, 'c', 'o',
                                  'u',  'n',  't', '(',  '*',  ')'};
    vmig_milvus_enc_count(NULL, "c", &b);
    assert_bytes(&b, cnt, sizeof cnt);
    /* GetVersion / CheckHealth: empty messages */
    vmig_milvus_enc_empty(&b);
    assert_int_equal(b.len, 0);
    vmig_buf_release(&b);
}

static void create_collection_request(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc, VMIG_PK_VARCHAR);
    assert_int_equal(vmig_milvus_enc_create_collection(NULL, &pc, &b, &err), VMIG_OK);
    Vmig__Milvus__CreateCollectionRequest *r =
        vmig__milvus__create_collection_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_non_null(r);
    assert_string_equal(r->collection_name, "docs");
    assert_int_equal(r->consistency_level, VMIG_MCL_BOUNDED);
    Vmig__Milvus__CollectionSchema *s =
        vmig__milvus__collection_schema__unpack(NULL, r->schema.len, r->schema.data);
    assert_non_null(s);
    assert_string_equal(s->name, "docs"); /* must equal collection_name */
    assert_string_equal(s->description, "from qdrant");
    assert_true(s->enable_dynamic_field);
    assert_int_equal(s->n_fields, 3); /* no $meta */
    Vmig__Milvus__FieldSchema *pk = s->fields[0], *d = s->fields[1], *sp = s->fields[2];
    assert_string_equal(pk->name, "id");
    assert_true(pk->is_primary_key);
    assert_false(pk->autoid);
    assert_int_equal(pk->data_type, VMIG_MDT_VARCHAR);
    assert_int_equal(pk->n_type_params, 1);
    assert_string_equal(pk->type_params[0]->key, "max_length");
    assert_string_equal(pk->type_params[0]->value, "36");
    assert_string_equal(d->name, "dense");
    assert_int_equal(d->data_type, VMIG_MDT_FLOAT_VECTOR);
    assert_int_equal(d->n_type_params, 1);
    assert_string_equal(d->type_params[0]->key, "dim");
    assert_string_equal(d->type_params[0]->value, "4");
    assert_string_equal(sp->name, "text");
    assert_int_equal(sp->data_type, VMIG_MDT_SPARSE_VECTOR);
    assert_int_equal(sp->n_type_params, 0); /* no dim for sparse */
    vmig__milvus__collection_schema__free_unpacked(s, NULL);
    vmig__milvus__create_collection_request__free_unpacked(r, NULL);

    /* Int64 pk has no type params; dim over 32768 and a "$meta" field are refused */
    plan(&pc, VMIG_PK_INT64);
    assert_int_equal(vmig_milvus_enc_create_collection(NULL, &pc, &b, &err), VMIG_OK);
    pc.field[0].dim = 32769;
    assert_int_equal(vmig_milvus_enc_create_collection(NULL, &pc, &b, &err), VMIG_E_SCHEMA);
    assert_non_null(strstr(err.msg, "32769"));
    plan(&pc, VMIG_PK_INT64);
    strcpy(pc.field[1].dst, "$meta");
    assert_int_equal(vmig_milvus_enc_create_collection(NULL, &pc, &b, &err), VMIG_E_SCHEMA);
    vmig_buf_release(&b);
}

static const char *param(const Vmig__Milvus__CreateIndexRequest *r, const char *key)
{
    for (size_t i = 0; i < r->n_extra_params; i++)
        if (!strcmp(r->extra_params[i]->key, key)) return r->extra_params[i]->value;
    return NULL;
}

static void create_index_request(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    Vmig__Milvus__CreateIndexRequest *r;
    plan(&pc, VMIG_PK_INT64);

    assert_int_equal(vmig_milvus_enc_create_index(NULL, &pc, 0, &b, &err), VMIG_OK);
    r = vmig__milvus__create_index_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_string_equal(r->field_name, "dense");
    assert_string_equal(param(r, "index_type"), "AUTOINDEX");
    assert_string_equal(param(r, "metric_type"), "L2");
    assert_null(param(r, "params"));
    vmig__milvus__create_index_request__free_unpacked(r, NULL);

    pc.index = VMIG_INDEX_HNSW;
    assert_int_equal(vmig_milvus_enc_create_index(NULL, &pc, 0, &b, &err), VMIG_OK);
    r = vmig__milvus__create_index_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_string_equal(param(r, "index_type"), "HNSW");
    assert_string_equal(param(r, "params"), "{\"M\":32,\"efConstruction\":256}");
    vmig__milvus__create_index_request__free_unpacked(r, NULL);

    assert_int_equal(vmig_milvus_enc_create_index(NULL, &pc, 1, &b, &err), VMIG_OK);
    r = vmig__milvus__create_index_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_string_equal(r->field_name, "text");
    assert_string_equal(param(r, "index_type"), "SPARSE_INVERTED_INDEX");
    assert_string_equal(param(r, "metric_type"), "IP");
    vmig__milvus__create_index_request__free_unpacked(r, NULL);
    vmig_buf_release(&b);
}

/* ------------------------------------------------------------------ insert */

static void insert_int_ids(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc, VMIG_PK_INT64);
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    struct vmig_point_id ids[3] = {num_id(7), num_id(300), num_id(INT64_MAX)};
    add_row(&b, &ids[0], 0, "{\"a\":1}");
    add_row(&b, &ids[1], 1, ""); /* no payload: sent as {} */
    add_row(&b, &ids[2], 2, "{\"b\":[true,null]}");

    size_t hi = b.n;
    assert_int_equal(vmig_milvus_enc_write("db1", &pc, &b, 0, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_OK);
    assert_int_equal(hi, 3);
    Vmig__Milvus__InsertRequest *r =
        vmig__milvus__insert_request__unpack(NULL, out.len, (uint8_t *)out.p);
    assert_non_null(r);
    assert_string_equal(r->db_name, "db1");
    assert_string_equal(r->collection_name, "docs");
    assert_int_equal(r->num_rows, 3);
    assert_int_equal(r->n_fields_data, 4);
    Vmig__Milvus__FieldData *pk = r->fields_data[0], *d = r->fields_data[1],
                            *sp = r->fields_data[2], *m = r->fields_data[3];
    assert_string_equal(pk->field_name, "id");
    assert_int_equal(pk->type, VMIG_MDT_INT64);
    assert_int_equal(pk->scalars->data_case, VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA);
    assert_int_equal(pk->scalars->long_data->n_data, 3);
    assert_int_equal(pk->scalars->long_data->data[0], 7);
    assert_int_equal(pk->scalars->long_data->data[1], 300);
    assert_int_equal(pk->scalars->long_data->data[2], INT64_MAX);

    assert_string_equal(d->field_name, "dense");
    assert_int_equal(d->type, VMIG_MDT_FLOAT_VECTOR);
    assert_int_equal(d->vectors->dim, 4);
    assert_int_equal(d->vectors->float_vector->n_data, 12);
    assert_memory_equal(d->vectors->float_vector->data, b.col[0].data.p, 12 * sizeof(float));

    assert_int_equal(sp->type, VMIG_MDT_SPARSE_VECTOR);
    assert_int_equal(sp->vectors->sparse_float_vector->n_contents, 3);
    assert_int_equal(sp->vectors->sparse_float_vector->dim, 103); /* max index 102 + 1 */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sp->vectors->sparse_float_vector->contents[i].len, 16);
        assert_memory_equal(sp->vectors->sparse_float_vector->contents[i].data,
                            b.col[1].data.p + b.col[1].off[i], 16);
    }

    assert_string_equal(m->field_name, "$meta");
    assert_int_equal(m->type, VMIG_MDT_JSON);
    assert_true(m->is_dynamic);
    assert_int_equal(m->scalars->data_case, VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA);
    assert_int_equal(m->scalars->json_data->n_data, 3);
    assert_memory_equal(m->scalars->json_data->data[0].data, "{\"a\":1}", 7);
    assert_int_equal(m->scalars->json_data->data[1].len, 2);
    assert_memory_equal(m->scalars->json_data->data[1].data, "{}", 2);
    vmig__milvus__insert_request__free_unpacked(r, NULL);

    /* a subrange [1, 3) points at rows 1 and 2 */
    hi = 3;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 1, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_OK);
    r = vmig__milvus__insert_request__unpack(NULL, out.len, (uint8_t *)out.p);
    assert_int_equal(r->num_rows, 2);
    assert_int_equal(r->fields_data[0]->scalars->long_data->data[0], 300);
    assert_memory_equal(r->fields_data[1]->vectors->float_vector->data,
                        vmig_batch_dense_at(&b, 0, 1), 8 * sizeof(float));
    vmig__milvus__insert_request__free_unpacked(r, NULL);

    /* ids that do not fit Int64: >= 2^63 and UUIDs */
    struct vmig_point_id big = num_id((uint64_t)INT64_MAX + 1);
    add_row(&b, &big, 3, "{}");
    hi = b.n;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 0, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_E_DATA);
    assert_non_null(strstr(err.msg, "9223372036854775808"));
    vmig_batch_release(&b);
    vmig_buf_release(&out);
}

static void insert_varchar_ids(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc, VMIG_PK_VARCHAR);
    pc.nfields = 1; /* dense only */
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    struct vmig_point_id u = {.kind = VMIG_ID_UUID};
    for (int k = 0; k < 16; k++)
        u.uuid[k] = (uint8_t)(k * 17);
    struct vmig_point_id n = num_id(42);
    add_row(&b, &u, 0, "{}");
    add_row(&b, &n, 1, "{}");
    size_t hi = b.n;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 0, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_OK);
    Vmig__Milvus__InsertRequest *r =
        vmig__milvus__insert_request__unpack(NULL, out.len, (uint8_t *)out.p);
    assert_int_equal(r->n_fields_data, 3);
    Vmig__Milvus__FieldData *pk = r->fields_data[0];
    assert_int_equal(pk->type, VMIG_MDT_VARCHAR);
    assert_int_equal(pk->scalars->data_case, VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA);
    assert_string_equal(pk->scalars->string_data->data[0], "00112233-4455-6677-8899-aabbccddeeff");
    assert_string_equal(pk->scalars->string_data->data[1], "42");
    vmig__milvus__insert_request__free_unpacked(r, NULL);

    /* a payload over 64 KiB is refused, naming the point */
    static char big[VMIG_JSON_MAX + 16];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    add_row(&b, &n, 2, big);
    hi = b.n;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 0, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_E_DATA);
    assert_non_null(strstr(err.msg, "point 42"));
    assert_non_null(strstr(err.msg, "65536"));
    vmig_batch_release(&b);
    vmig_buf_release(&out);
}

static void write_splitting(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc, VMIG_PK_INT64);
    pc.field[0].dim = 64;
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    for (uint64_t i = 0; i < 100; i++) {
        struct vmig_point_id id = num_id(i);
        vmig_batch_begin_row(&b, &id);
        uint32_t ix = (uint32_t)i;
        float v = 1.0f;
        vmig_buf_add(&b.col[1].data, &ix, 4);
        vmig_buf_add(&b.col[1].data, &v, 4);
        vmig_buf_addf(&b.meta, "{\"i\":%u}", (unsigned)i);
        vmig_batch_end_row(&b);
    }
    /* whole batch fits a large limit in one request */
    size_t hi = b.n, whole;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 0, &hi, VMIG_GRPC_MAX, &out, &err),
                     VMIG_OK);
    assert_int_equal(hi, 100);
    whole = out.len;
    assert_true(whole > 100 * 256);

    /* a limit of a quarter: several requests, each <= max, covering every row once */
    size_t max = whole / 4, lo = 0, parts = 0;
    uint64_t next_id = 0;
    while (lo < b.n) {
        hi = b.n;
        assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, lo, &hi, max, &out, &err), VMIG_OK);
        assert_true(hi > lo);
        assert_true(out.len <= max);
        Vmig__Milvus__InsertRequest *r =
            vmig__milvus__insert_request__unpack(NULL, out.len, (uint8_t *)out.p);
        assert_int_equal(r->num_rows, hi - lo);
        assert_int_equal(r->fields_data[1]->vectors->float_vector->n_data, (hi - lo) * 64);
        assert_int_equal(r->fields_data[2]->vectors->sparse_float_vector->dim, hi); /* max idx+1 */
        for (size_t k = 0; k < r->num_rows; k++)
            assert_int_equal(r->fields_data[0]->scalars->long_data->data[k], (int64_t)next_id++);
        vmig__milvus__insert_request__free_unpacked(r, NULL);
        lo = hi;
        parts++;
    }
    assert_int_equal(next_id, 100);
    assert_true(parts >= 4 && parts <= 6);

    /* a limit below one row: refused, naming the point */
    hi = b.n;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 5, &hi, 100, &out, &err), VMIG_E_DATA);
    assert_non_null(strstr(err.msg, "point 5 "));
    vmig_batch_release(&b);
    vmig_buf_release(&out);
}

/* ------------------------------------------------------------------ responses */

static void pack_status(int error_code, int code, int retriable, const char *reason,
                        struct vmig_buf *out)
{
    Vmig__Milvus__Status st = VMIG__MILVUS__STATUS__INIT;
    st.error_code = error_code;
    st.code = code;
    st.retriable = retriable;
    st.reason = (char *)reason;
    size_t n = vmig__milvus__status__get_packed_size(&st);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    vmig__milvus__status__pack(&st, (uint8_t *)out->p);
    vmig_buf_setlen(out, n);
}

static void status_decoding(void **state)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    /* empty Status = success */
    assert_int_equal(vmig_milvus_dec_status("", 0, "x", &err), VMIG_OK);
    pack_status(0, 0, 0, "", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_OK);
    /* hand-built bytes: code(3)=100, reason(2)="gone" */
    static const uint8_t nf[] = {0x12, 0x04, 'g', 'o', 'n', 'e', 0x18, 0x64};
    assert_int_equal(vmig_milvus_dec_status(nf, sizeof nf, "cannot drop 'c'", &err),
                     VMIG_E_NOT_FOUND);
    assert_string_equal(err.msg, "cannot drop 'c': gone (milvus code 100)");
    assert_int_equal(err.server_code, 100);
    /* legacy CollectionNotExists */
    pack_status(4, 0, 0, "no such collection", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_NOT_FOUND);
    /* retriable flag */
    pack_status(1, 65535, 1, "try later", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_UNAVAILABLE);
    assert_true(vmig_code_is_retryable(err.code));
    assert_int_equal(err.retriable, 1); /* the server's flag, as a field */
    assert_int_equal(err.server_reason, VMIG_SR_NONE);
    /* rate limit */
    pack_status(0, 8, 1, "rate limit exceeded", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_RATE_LIMIT);
    /* auth */
    pack_status(0, 1400, 0, "not authenticated", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_AUTH);
    /* anything else: refused, reason kept */
    pack_status(5, 1100, 0, "invalid parameter: dim", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "cannot create 'c'", &err), VMIG_E_REMOTE);
    assert_string_equal(err.msg, "cannot create 'c': invalid parameter: dim (milvus code 1100)");
    assert_false(vmig_code_is_retryable(err.code));
    assert_int_equal(err.retriable, 0);
    assert_int_equal(err.server_code, 1100);
    assert_int_equal(err.server_reason, VMIG_SR_NONE);
    /* a restarted Milvus 2.3 while its nodes re-register: generic code, no retriable flag,
     * yet transient (seen on Flush after a restart) */
    pack_status(1, 65535, 0,
                "node not match[expectedNodeID=1][actualNodeID=2]: session not found->datanode-1",
                &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "cannot flush", &err), VMIG_E_UNAVAILABLE);
    assert_true(vmig_code_is_retryable(err.code));
    assert_int_equal(err.server_reason, VMIG_SR_TRANSIENT);
    assert_int_equal(err.retriable, 0);
    /* Milvus Lite's code 1 for a missing database or an existing collection: permanent
     * unless flagged retriable (issue 9) */
    pack_status(0, 1, 0, "database 'nosuchdb' does not exist", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_REMOTE);
    assert_int_equal(err.server_code, 1);
    assert_int_equal(err.server_reason, VMIG_SR_DB_MISSING); /* decided by the decoder */
    pack_status(0, 1, 0, "collection 'c' already exists", &b);
    assert_false(vmig_code_is_retryable(vmig_milvus_dec_status(b.p, b.len, "x", &err)));
    assert_int_equal(err.server_reason, VMIG_SR_EXISTS);
    pack_status(0, 100, 0, "collection not exist[collection=c]", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_NOT_FOUND);
    assert_int_equal(err.server_reason, VMIG_SR_NONE); /* "not exist" is no "exists" */
    /* reasons quote user names: only Lite's code 1 is read, and only whole phrases */
    pack_status(0, 100, 0, "collection not found[collection=already_existing_docs]", &b);
    vmig_milvus_dec_status(b.p, b.len, "x", &err);
    assert_int_equal(err.server_reason, VMIG_SR_NONE);
    pack_status(0, 1, 0, "collection 'exist_docs' not found", &b);
    vmig_milvus_dec_status(b.p, b.len, "x", &err);
    assert_int_equal(err.server_reason, VMIG_SR_NONE);
    pack_status(0, 65535, 0, "database 'nosuchdb' does not exist", &b);
    vmig_milvus_dec_status(b.p, b.len, "x", &err);
    assert_int_equal(err.server_reason, VMIG_SR_NONE);
    pack_status(0, 1, 1, "service not ready", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_UNAVAILABLE);
    /* real Milvus: database not found (merr 800) */
    pack_status(1, 800, 0, "database not found[database=nosuchdb]", &b);
    assert_int_equal(vmig_milvus_dec_status(b.p, b.len, "x", &err), VMIG_E_NOT_FOUND);
    assert_int_equal(err.server_reason, VMIG_SR_DB_MISSING);
    /* a long reason is cut, the code stays in the message */
    char longr[2000];
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = 0;
    pack_status(5, 1100, 0, longr, &b);
    vmig_milvus_dec_status(b.p, b.len, "x", &err);
    assert_non_null(strstr(err.msg, "(milvus code 1100)"));
    /* garbage */
    static const uint8_t bad[] = {0x12, 0x10, 'x'};
    assert_int_equal(vmig_milvus_dec_status(bad, sizeof bad, "x", &err), VMIG_E_PROTOCOL);
    vmig_buf_release(&b);
}

static void pack_msg(const ProtobufCMessage *m, struct vmig_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    protobuf_c_message_pack(m, (uint8_t *)out->p);
    vmig_buf_setlen(out, n);
}

static void mutation_and_states(void **state)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    Vmig__Milvus__MutationResult mr = VMIG__MILVUS__MUTATION_RESULT__INIT;
    mr.insert_cnt = 10;
    pack_msg(&mr.base, &b);
    assert_int_equal(vmig_milvus_dec_mutation(b.p, b.len, 0, 10, "w", &err), VMIG_OK);
    assert_int_equal(vmig_milvus_dec_mutation(b.p, b.len, 0, 11, "w", &err), VMIG_E_REMOTE);
    assert_non_null(strstr(err.msg, "10 of 11"));
    mr.insert_cnt = 0;
    mr.upsert_cnt = 4;
    pack_msg(&mr.base, &b);
    assert_int_equal(vmig_milvus_dec_mutation(b.p, b.len, 1, 4, "w", &err), VMIG_OK);
    Vmig__Milvus__Status st = VMIG__MILVUS__STATUS__INIT;
    st.code = 100;
    st.reason = "collection not found[collection=x]";
    mr.status = &st;
    pack_msg(&mr.base, &b);
    assert_int_equal(vmig_milvus_dec_mutation(b.p, b.len, 1, 4, "w", &err), VMIG_E_NOT_FOUND);

    /* DescribeIndex: Finished, Failed with reason */
    Vmig__Milvus__IndexDescription d1 = VMIG__MILVUS__INDEX_DESCRIPTION__INIT, *dp = &d1;
    Vmig__Milvus__DescribeIndexResponse di = VMIG__MILVUS__DESCRIBE_INDEX_RESPONSE__INIT;
    d1.field_name = "dense";
    d1.index_name = "dense";
    d1.state = VMIG_MIDX_FINISHED;
    di.n_index_descriptions = 1;
    di.index_descriptions = &dp;
    pack_msg(&di.base, &b);
    int s = -1;
    assert_int_equal(vmig_milvus_dec_index_state(b.p, b.len, "dense", "i", &s, &err), VMIG_OK);
    assert_int_equal(s, VMIG_MIDX_FINISHED);
    assert_int_equal(vmig_milvus_dec_index_state(b.p, b.len, "other", "i", &s, &err), VMIG_OK);
    assert_int_equal(s, 0);
    d1.state = VMIG_MIDX_FAILED;
    d1.index_state_fail_reason = "out of memory";
    pack_msg(&di.base, &b);
    assert_int_equal(vmig_milvus_dec_index_state(b.p, b.len, "dense", "i", &s, &err),
                     VMIG_E_REMOTE);
    assert_non_null(strstr(err.msg, "out of memory"));

    /* GetLoadState, GetVersion, CheckHealth */
    Vmig__Milvus__GetLoadStateResponse gl = VMIG__MILVUS__GET_LOAD_STATE_RESPONSE__INIT;
    gl.state = VMIG_MLOAD_LOADED;
    pack_msg(&gl.base, &b);
    assert_int_equal(vmig_milvus_dec_load_state(b.p, b.len, "l", &s, &err), VMIG_OK);
    assert_int_equal(s, VMIG_MLOAD_LOADED);
    Vmig__Milvus__GetVersionResponse gv = VMIG__MILVUS__GET_VERSION_RESPONSE__INIT;
    gv.version = "v2.6.1";
    pack_msg(&gv.base, &b);
    char v[16];
    assert_int_equal(vmig_milvus_dec_version(b.p, b.len, v, sizeof v, &err), VMIG_OK);
    assert_string_equal(v, "v2.6.1");
    Vmig__Milvus__CheckHealthResponse ch = VMIG__MILVUS__CHECK_HEALTH_RESPONSE__INIT;
    char *reasons[] = {"querynode down"};
    ch.n_reasons = 1;
    ch.reasons = reasons;
    pack_msg(&ch.base, &b);
    assert_int_equal(vmig_milvus_dec_health(b.p, b.len, &err), VMIG_E_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "querynode down"));
    ch.ishealthy = 1;
    pack_msg(&ch.base, &b);
    assert_int_equal(vmig_milvus_dec_health(b.p, b.len, &err), VMIG_OK);
    vmig_buf_release(&b);
}

static void count_decoding(void **state)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    int64_t n = 12345;
    Vmig__Milvus__LongArray la = VMIG__MILVUS__LONG_ARRAY__INIT;
    Vmig__Milvus__ScalarField sc = VMIG__MILVUS__SCALAR_FIELD__INIT;
    Vmig__Milvus__FieldData fd = VMIG__MILVUS__FIELD_DATA__INIT, *fdp = &fd;
    Vmig__Milvus__QueryResults qr = VMIG__MILVUS__QUERY_RESULTS__INIT;
    la.n_data = 1;
    la.data = &n;
    sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA;
    sc.long_data = &la;
    fd.field_name = "count(*)";
    fd.type = VMIG_MDT_INT64;
    fd.field_case = VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS;
    fd.scalars = &sc;
    qr.n_fields_data = 1;
    qr.fields_data = &fdp;
    pack_msg(&qr.base, &b);
    uint64_t got = 0;
    assert_int_equal(vmig_milvus_dec_count(b.p, b.len, "c", &got, &err), VMIG_OK);
    assert_int_equal(got, 12345);
    qr.n_fields_data = 0;
    pack_msg(&qr.base, &b);
    assert_int_equal(vmig_milvus_dec_count(b.p, b.len, "c", &got, &err), VMIG_E_PROTOCOL);
    vmig_buf_release(&b);
}

/* Encode a batch as Insert, turn its columns into QueryResults (as Milvus returns
 * them for output_fields = vectors + $meta), decode into a new batch: same rows. */
static void rows_roundtrip(enum vmig_pk_type pkt)
{
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b, got;
    struct vmig_buf ins = VMIG_BUF_INIT, res = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc, pkt);
    vmig_layout_from_plan(&lay, &pc, 0);
    vmig_batch_init(&b, &lay);
    vmig_batch_init(&got, &lay);
    for (int i = 0; i < 4; i++) {
        struct vmig_point_id id = num_id(10 + (uint64_t)i);
        if (i == 3 && pkt == VMIG_PK_VARCHAR) {
            id.kind = VMIG_ID_UUID;
            memset(id.uuid, 0xab, 16);
        }
        char meta[32];
        snprintf(meta, sizeof meta, "{\"i\":%d}", i);
        add_row(&b, &id, i, meta);
    }
    size_t hi = b.n;
    assert_int_equal(vmig_milvus_enc_write(NULL, &pc, &b, 0, &hi, VMIG_GRPC_MAX, &ins, &err),
                     VMIG_OK);
    Vmig__Milvus__InsertRequest *r =
        vmig__milvus__insert_request__unpack(NULL, ins.len, (uint8_t *)ins.p);
    Vmig__Milvus__QueryResults qr = VMIG__MILVUS__QUERY_RESULTS__INIT;
    qr.n_fields_data = r->n_fields_data;
    qr.fields_data = r->fields_data; /* same FieldData messages */
    pack_msg(&qr.base, &res);
    assert_int_equal(vmig_milvus_dec_rows(res.p, res.len, &pc, &got, &err), VMIG_OK);
    assert_int_equal(got.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(vmig_point_id_cmp(&got.ids[i], &b.ids[i]), 0);
        assert_memory_equal(vmig_batch_dense_at(&got, 0, i), vmig_batch_dense_at(&b, 0, i), 16);
        assert_int_equal(got.col[1].off[i + 1] - got.col[1].off[i], 16);
        assert_memory_equal(got.col[1].data.p + got.col[1].off[i],
                            b.col[1].data.p + b.col[1].off[i], 16);
        size_t l1, l2;
        const char *m1 = vmig_batch_meta_at(&got, i, &l1), *m2 = vmig_batch_meta_at(&b, i, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(m1, m2, l1);
    }
    /* without a $meta column every row gets {} */
    qr.n_fields_data = r->n_fields_data - 1;
    pack_msg(&qr.base, &res);
    vmig_batch_reset(&got);
    assert_int_equal(vmig_milvus_dec_rows(res.p, res.len, &pc, &got, &err), VMIG_OK);
    size_t l;
    assert_memory_equal(vmig_batch_meta_at(&got, 2, &l), "{}", 2);
    /* a missing vector column is a protocol error */
    Vmig__Milvus__FieldData *dense = qr.fields_data[1];
    qr.fields_data[1] = qr.fields_data[0];
    pack_msg(&qr.base, &res);
    assert_int_equal(vmig_milvus_dec_rows(res.p, res.len, &pc, &got, &err), VMIG_E_PROTOCOL);
    qr.fields_data[1] = dense;
    vmig__milvus__insert_request__free_unpacked(r, NULL);
    vmig_batch_release(&b);
    vmig_batch_release(&got);
    vmig_buf_release(&ins);
    vmig_buf_release(&res);
}

static void rows_int64(void **state)
{
    rows_roundtrip(VMIG_PK_INT64);
}
static void rows_varchar(void **state)
{
    rows_roundtrip(VMIG_PK_VARCHAR);
}

static void query_ids_request(void **state)
{
    struct vmig_plan_coll pc;
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    struct vmig_point_id ids[2] = {num_id(1), num_id(22)};
    plan(&pc, VMIG_PK_INT64);
    assert_int_equal(vmig_milvus_enc_query_ids(NULL, &pc, ids, 2, &b, &err), VMIG_OK);
    Vmig__Milvus__QueryRequest *q =
        vmig__milvus__query_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_string_equal(q->expr, "id in [1,22]");
    assert_int_equal(q->n_output_fields, 3);
    assert_string_equal(q->output_fields[0], "dense");
    assert_string_equal(q->output_fields[1], "text");
    assert_string_equal(q->output_fields[2], "$meta");
    assert_int_equal(q->consistency_level, VMIG_MCL_STRONG);
    assert_false(q->use_default_consistency);
    vmig__milvus__query_request__free_unpacked(q, NULL);

    plan(&pc, VMIG_PK_VARCHAR);
    ids[1].kind = VMIG_ID_UUID;
    memset(ids[1].uuid, 0, 16);
    assert_int_equal(vmig_milvus_enc_query_ids(NULL, &pc, ids, 2, &b, &err), VMIG_OK);
    q = vmig__milvus__query_request__unpack(NULL, b.len, (uint8_t *)b.p);
    assert_string_equal(q->expr, "id in [\"1\",\"00000000-0000-0000-0000-000000000000\"]");
    vmig__milvus__query_request__free_unpacked(q, NULL);

    plan(&pc, VMIG_PK_INT64);
    assert_int_equal(vmig_milvus_enc_query_ids(NULL, &pc, ids, 2, &b, &err), VMIG_E_DATA);
    vmig_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_request_bytes),  cmocka_unit_test(create_collection_request),
        cmocka_unit_test(create_index_request), cmocka_unit_test(insert_int_ids),
        cmocka_unit_test(insert_varchar_ids),   cmocka_unit_test(write_splitting),
        cmocka_unit_test(status_decoding),      cmocka_unit_test(mutation_and_states),
        cmocka_unit_test(count_decoding),       cmocka_unit_test(rows_int64),
        cmocka_unit_test(rows_varchar),         cmocka_unit_test(query_ids_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

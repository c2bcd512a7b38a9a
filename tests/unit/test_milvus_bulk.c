/*
 * test_milvus_bulk.c - unit tests of the bulk import codec (target/milvus_bulk_codec.c):
 * rows of a batch as the objects of a row-based JSON import file, read back with
 * jansson and strtof: ids exact (int64 limits, UUID text), float32 vectors bit for bit
 * (subnormals, -0, FLT_MAX), strings escaped, nulls written out, the payload as "$meta";
 * refusals (non-finite values, ids past Int64, sparse vectors); and the Import messages
 * decoded back with protobuf-c. No I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "batch/batch.h"
#include "milvus.pb-c.h"
#include "target/milvus_bulk.h"

static struct vmig_plan_coll PC;
static struct vmig_layout LAY;

/* pk "id" (int64 or varchar), one dense vector "vec" of dim 3, typed fields n (INT64),
 * s (VARCHAR, nullable), d (DOUBLE), b (BOOL), j (JSON). */
static void plan(enum vmig_pk_type pk)
{
    memset(&PC, 0, sizeof PC);
    strcpy(PC.target, "docs");
    strcpy(PC.pk_name, "id");
    PC.pk_type = pk;
    PC.pk_max_length = 36;
    PC.nfields = 1;
    strcpy(PC.field[0].dst, "vec");
    PC.field[0].kind = VMIG_VEC_DENSE;
    PC.field[0].dim = 3;
    const char *k[] = {"n", "s", "d", "b", "j"};
    enum vmig_scalar_type ty[] = {VMIG_SC_INT64, VMIG_SC_VARCHAR, VMIG_SC_DOUBLE, VMIG_SC_BOOL,
                                  VMIG_SC_JSON};
    for (int i = 0; i < 5; i++) {
        snprintf(PC.scalar[i].src, sizeof PC.scalar[i].src, "%s", k[i]);
        snprintf(PC.scalar[i].dst, sizeof PC.scalar[i].dst, "%s", k[i]);
        PC.scalar[i].type = ty[i];
        PC.scalar[i].nullable = 1;
    }
    PC.scalar[1].max_length = 64;
    PC.nscalars = 5;
    vmig_layout_from_plan(&LAY, &PC, 0);
}

static void row(struct vmig_batch *b, struct vmig_point_id id, const float v[3], const char *json)
{
    char why[256];
    const char *key;
    vmig_batch_begin_row(b, &id);
    memcpy(vmig_batch_dense(b, 0), v, 3 * sizeof *v);
    size_t m0 = b->meta.len;
    vmig_buf_adds(&b->meta, json);
    assert_int_equal(vmig_batch_type_row(b, &LAY, m0, why, sizeof why, &key), 0);
    vmig_batch_end_row(b);
}

static struct vmig_point_id num(uint64_t n)
{
    struct vmig_point_id id = {.kind = VMIG_ID_NUM, .num = n};
    return id;
}

/* The rows as a whole file, parsed: the "rows" array (caller decrefs the root). */
static json_t *parse_file(const struct vmig_buf *rows, json_t **root)
{
    struct vmig_buf f = VMIG_BUF_INIT;
    vmig_buf_adds(&f, VMIG_BULK_FILE_HEAD);
    vmig_buf_add(&f, rows->p, rows->len);
    vmig_buf_adds(&f, VMIG_BULK_FILE_TAIL);
    json_error_t je;
    *root = json_loadb(f.p, f.len, 0, &je);
    if (!*root) fail_msg("not JSON (%s): %s", je.text, f.p);
    vmig_buf_release(&f);
    json_t *a = json_object_get(*root, "rows");
    assert_true(json_is_array(a));
    return a;
}

/* The text of the vector array of row r in out, each number parsed with strtof. */
static void vector_back(const char *text, size_t nth, float out[3])
{
    const char *p = text;
    for (size_t i = 0; i <= nth; i++) {
        p = strstr(p, "\"vec\":[");
        assert_non_null(p);
        p += 7;
    }
    for (int k = 0; k < 3; k++) {
        char *end;
        out[k] = strtof(p, &end);
        assert_true(end > p);
        p = end + 1;
    }
}

static void floats_round_trip_bit_exact(void **state)
{
    (void)state;
    plan(VMIG_PK_INT64);
    struct vmig_batch b;
    vmig_batch_init(&b, &LAY);
    const float v[][3] = {{1e-45f, -0.0f, FLT_MAX},
                          {0.1f, 1.0f / 3.0f, -FLT_MIN},
                          {16777217.0f, 3.4028234e38f, 1.17549421e-38f}};
    for (int i = 0; i < 3; i++)
        row(&b, num((uint64_t)i), v[i], "{}");
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_OK);
    for (int i = 0; i < 3; i++) {
        float back[3];
        vector_back(out.p, (size_t)i, back);
        assert_memory_equal(back, v[i], sizeof back);
    }
    json_t *root, *a = parse_file(&out, &root);
    assert_int_equal(json_array_size(a), 3);
    json_decref(root);
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

static void ids_exact_and_refused_past_int64(void **state)
{
    (void)state;
    plan(VMIG_PK_INT64);
    struct vmig_batch b;
    vmig_batch_init(&b, &LAY);
    const float v[3] = {1, 2, 3};
    row(&b, num(9223372036854775807ull), v, "{}");
    row(&b, num(0), v, "{}");
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_OK);
    assert_non_null(strstr(out.p, "{\"id\":9223372036854775807,"));
    assert_non_null(strstr(out.p, ",\n{\"id\":0,"));
    assert_true(out.p[0] == '{'); /* the file's first row has no separator */
    vmig_buf_reset(&out);
    /* not the first rows of the file: every row after a separator */
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 1, 2, 0, &out, &err), VMIG_OK);
    assert_int_equal(strncmp(out.p, ",\n{\"id\":0,", 10), 0);
    vmig_batch_reset(&b);
    row(&b, num(9223372036854775808ull), v, "{}");
    vmig_buf_reset(&out);
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_E_DATA);
    assert_string_equal(err.point, "9223372036854775808");
    assert_non_null(strstr(err.msg, "Int64"));
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

static void uuid_ids_are_strings(void **state)
{
    (void)state;
    plan(VMIG_PK_VARCHAR);
    struct vmig_batch b;
    vmig_batch_init(&b, &LAY);
    struct vmig_point_id id = {.kind = VMIG_ID_UUID};
    for (int i = 0; i < 16; i++)
        id.uuid[i] = (uint8_t)(0x10 * i + i);
    const float v[3] = {1, 2, 3};
    row(&b, id, v, "{}");
    row(&b, num(42), v, "{}");
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_OK);
    json_t *root, *a = parse_file(&out, &root);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "id")),
                        "00112233-4455-6677-8899-aabbccddeeff");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "id")), "42");
    json_decref(root);
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

static void typed_values_escapes_nulls_and_meta(void **state)
{
    (void)state;
    plan(VMIG_PK_INT64);
    struct vmig_batch b;
    vmig_batch_init(&b, &LAY);
    const float v[3] = {1, 2, 3};
    row(&b, num(1), v,
        "{\"n\":-9223372036854775808,\"s\":\"q\\\"b\\\\s\\u0001 \xc3\xa9 \xf0\x9f\x99\x82\","
        "\"d\":5e-324,\"b\":true,\"j\":{\"k\":[1,{\"z\":null}]},\"other\":\"x\",\"deep\":{\"a\":[]}"
        "}");
    row(&b, num(2), v, "{\"n\":7}"); /* s, d, b, j absent: null, written out */
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_OK);
    json_t *root, *a = parse_file(&out, &root);
    json_t *r0 = json_array_get(a, 0), *r1 = json_array_get(a, 1);
    assert_true(json_integer_value(json_object_get(r0, "n")) == INT64_MIN);
    assert_string_equal(json_string_value(json_object_get(r0, "s")),
                        "q\"b\\s\x01 \xc3\xa9 \xf0\x9f\x99\x82");
    assert_true(json_real_value(json_object_get(r0, "d")) == 5e-324);
    assert_true(json_is_true(json_object_get(r0, "b")));
    assert_true(json_is_array(json_object_get(json_object_get(r0, "j"), "k")));
    /* the keys not typed stay in the payload, which is the dynamic field */
    json_t *meta = json_object_get(r0, "$meta");
    assert_string_equal(json_string_value(json_object_get(meta, "other")), "x");
    assert_null(json_object_get(meta, "n"));
    assert_true(json_integer_value(json_object_get(r1, "n")) == 7);
    const char *nulls[] = {"s", "d", "b", "j"};
    for (int i = 0; i < 4; i++) {
        json_t *x = json_object_get(r1, nulls[i]);
        assert_non_null(x); /* present, as null: a missing key fails an import (milvus#39036) */
        assert_true(json_is_null(x));
    }
    assert_true(json_is_object(json_object_get(r1, "$meta")));
    assert_int_equal(json_object_size(json_object_get(r1, "$meta")), 0);
    json_decref(root);
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

static void non_finite_and_sparse_are_refused(void **state)
{
    (void)state;
    plan(VMIG_PK_INT64);
    struct vmig_batch b;
    vmig_batch_init(&b, &LAY);
    const float v[3] = {1, NAN, 3};
    row(&b, num(5), v, "{}");
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    assert_int_equal(vmig_milvus_bulk_enc_rows(&PC, &b, 0, b.n, 1, &out, &err), VMIG_E_DATA);
    assert_string_equal(err.point, "5");
    assert_string_equal(err.field, "vec");
    vmig_batch_release(&b);
    vmig_buf_release(&out);
    PC.field[0].kind = VMIG_VEC_SPARSE;
    assert_int_equal(vmig_milvus_bulk_shape(&PC, &err), VMIG_E_SCHEMA);
    assert_int_equal(err.fix, VMIG_FIX_WRITE_MODE);
    assert_string_equal(err.field, "vec");
}

static void import_messages(void **state)
{
    (void)state;
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_milvus_enc_import(NULL, "docs", "/data/bulk/docs-1-0.json", &b);
    Vmig__Milvus__ImportRequest *r =
        vmig__milvus__import_request__unpack(NULL, b.len, (const uint8_t *)b.p);
    assert_non_null(r);
    assert_string_equal(r->collection_name, "docs");
    assert_true(r->row_based);
    assert_int_equal(r->n_files, 1);
    assert_string_equal(r->files[0], "/data/bulk/docs-1-0.json");
    vmig__milvus__import_request__free_unpacked(r, NULL);

    /* ImportResponse{status{}, tasks:[77]} -> task 77 */
    Vmig__Milvus__ImportResponse ir = VMIG__MILVUS__IMPORT_RESPONSE__INIT;
    int64_t tasks[1] = {77}, task = 0;
    ir.n_tasks = 1;
    ir.tasks = tasks;
    uint8_t buf[64];
    size_t n = vmig__milvus__import_response__pack(&ir, buf);
    struct vmig_err err;
    assert_int_equal(vmig_milvus_dec_import(buf, n, "import", &task, &err), VMIG_OK);
    assert_int_equal(task, 77);

    /* GetImportStateResponse: failed with its reason from infos */
    Vmig__Milvus__GetImportStateResponse sr = VMIG__MILVUS__GET_IMPORT_STATE_RESPONSE__INIT;
    Vmig__Milvus__KeyValuePair kv = VMIG__MILVUS__KEY_VALUE_PAIR__INIT, *kvs[1] = {&kv};
    kv.key = (char *)"failed_reason";
    kv.value = (char *)"stat x: no such file";
    sr.state = VMIG_MIMPORT_FAILED;
    sr.id = 9;
    sr.n_infos = 1;
    sr.infos = kvs;
    uint8_t sb[128];
    n = vmig__milvus__get_import_state_response__pack(&sr, sb);
    struct vmig_milvus_import_state st;
    assert_int_equal(vmig_milvus_dec_import_state(sb, n, "state", &st, &err), VMIG_OK);
    assert_int_equal(st.state, VMIG_MIMPORT_FAILED);
    assert_string_equal(st.reason, "stat x: no such file");
    assert_true(vmig_milvus_import_done(st.state));
    assert_false(vmig_milvus_import_done(VMIG_MIMPORT_PERSISTED));

    /* ListImportTasksResponse: one running (Started), one Completed */
    Vmig__Milvus__ListImportTasksResponse lr = VMIG__MILVUS__LIST_IMPORT_TASKS_RESPONSE__INIT;
    Vmig__Milvus__GetImportStateResponse t1 = VMIG__MILVUS__GET_IMPORT_STATE_RESPONSE__INIT;
    Vmig__Milvus__GetImportStateResponse t2 = VMIG__MILVUS__GET_IMPORT_STATE_RESPONSE__INIT;
    t1.state = VMIG_MIMPORT_COMPLETED;
    t1.id = 1;
    t2.state = VMIG_MIMPORT_STARTED;
    t2.id = 2;
    Vmig__Milvus__GetImportStateResponse *ts[2] = {&t1, &t2};
    lr.n_tasks = 2;
    lr.tasks = ts;
    uint8_t lb[128];
    n = vmig__milvus__list_import_tasks_response__pack(&lr, lb);
    size_t running = 0;
    int64_t first = 0;
    assert_int_equal(vmig_milvus_dec_list_imports(lb, n, "list", &running, &first, &err), VMIG_OK);
    assert_int_equal(running, 1);
    assert_int_equal(first, 2);
    vmig_buf_release(&b);
}

static void npy_header_and_utf32(void **state)
{
    (void)state;
    char h[VMIG_NPY_HEADER];
    vmig_npy_header(h, "<f4", 12345, 768);
    assert_memory_equal(h, "\x93NUMPY\x01\x00", 8);
    assert_int_equal((unsigned char)h[8] | (unsigned char)h[9] << 8, VMIG_NPY_HEADER - 10);
    assert_int_equal(h[VMIG_NPY_HEADER - 1], '\n');
    assert_int_equal(VMIG_NPY_HEADER % 64, 0); /* the data starts aligned, as numpy writes it */
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (12345, 768), }";
    assert_memory_equal(h + 10, dict, strlen(dict));
    assert_int_equal(h[10 + strlen(dict)], ' '); /* padded with spaces */
    vmig_npy_header(h, "<U36", 7, 0);
    assert_non_null(memchr(h, '(', sizeof h));
    assert_int_equal(strncmp(strstr(h + 10, "'shape'"), "'shape': (7,), }", 16), 0);

    uint8_t u[4 * 8];
    memset(u, 0, sizeof u);
    /* "a", e-acute (2 bytes), the slightly smiling face (4 bytes) */
    assert_int_equal(vmig_utf8_to_utf32le("a\xc3\xa9\xf0\x9f\x99\x82", 7, u, 8), 3);
    static const uint8_t want[] = {'a', 0, 0, 0, 0xe9, 0, 0, 0, 0x42, 0xf6, 0x01, 0};
    assert_memory_equal(u, want, sizeof want);
    assert_int_equal(vmig_utf8_to_utf32le("abcdef", 6, NULL, SIZE_MAX), 6);
    assert_int_equal(vmig_utf8_to_utf32le("abcdef", 6, u, 2), 2); /* cut at max_chars */

    struct vmig_plan_coll pc;
    memset(&pc, 0, sizeof pc);
    pc.nfields = 1;
    pc.field[0].kind = VMIG_VEC_DENSE;
    assert_true(vmig_milvus_bulk_npy_fits(&pc));
    pc.nscalars = 1; /* typed fields: JSON rows */
    assert_false(vmig_milvus_bulk_npy_fits(&pc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floats_round_trip_bit_exact),
        cmocka_unit_test(ids_exact_and_refused_past_int64),
        cmocka_unit_test(uuid_ids_are_strings),
        cmocka_unit_test(typed_values_escapes_nulls_and_meta),
        cmocka_unit_test(non_finite_and_sparse_are_refused),
        cmocka_unit_test(import_messages),
        cmocka_unit_test(npy_header_and_utf32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_verify_full.c - unit tests of full verification's pure parts: the target's
 * key-scan codec (target/milvus_scan_codec.c: the Query expression of each kind of key
 * span, the pk-only answer decoded into ids), the state file (engine/verify_state.c:
 * saved and read back field for field, a damaged file refused) and the diff file's
 * names (engine/verify_full.c). No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/milvus_codec.h"
#include "vmig/verify.h"

static void plan(struct vmig_plan_coll *pc, enum vmig_pk_type pk)
{
    memset(pc, 0, sizeof *pc);
    strcpy(pc->source, "docs");
    strcpy(pc->target, "docs_m");
    strcpy(pc->pk_name, "id");
    pc->pk_type = pk;
    pc->nfields = 1;
    strcpy(pc->field[0].dst, "vector");
    pc->field[0].kind = VMIG_VEC_DENSE;
    pc->field[0].dim = 4;
}

static Vmig__Milvus__QueryRequest *enc(const struct vmig_plan_coll *pc,
                                       const struct vmig_key_span *sp, enum vmig_code want)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_milvus_enc_scan_ids("db1", pc, sp, 16384, &b, &err), want);
    Vmig__Milvus__QueryRequest *q =
        want ? NULL : vmig__milvus__query_request__unpack(NULL, b.len, (uint8_t *)b.p);
    vmig_buf_release(&b);
    return q;
}

static void scan_request(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    struct vmig_key_span sp;
    memset(&sp, 0, sizeof sp);
    plan(&pc, VMIG_PK_INT64);
    sp.kind = VMIG_SPAN_INT;
    sp.lo = 5;
    sp.hi = INT64_MAX;
    Vmig__Milvus__QueryRequest *q = enc(&pc, &sp, VMIG_OK);
    assert_string_equal(q->expr, "id >= 5 && id <= 9223372036854775807");
    assert_string_equal(q->collection_name, "docs_m");
    assert_string_equal(q->db_name, "db1");
    assert_int_equal(q->n_output_fields, 1);
    assert_string_equal(q->output_fields[0], "id");
    assert_int_equal(q->n_query_params, 1);
    assert_string_equal(q->query_params[0]->key, "limit");
    assert_string_equal(q->query_params[0]->value, "16384");
    assert_int_equal(q->consistency_level, VMIG_MCL_STRONG);
    vmig__milvus__query_request__free_unpacked(q, NULL);

    plan(&pc, VMIG_PK_VARCHAR);
    sp.kind = VMIG_SPAN_PREFIX;
    strcpy(sp.prefix, "");
    q = enc(&pc, &sp, VMIG_OK);
    assert_string_equal(q->expr, "id like \"%\"");
    vmig__milvus__query_request__free_unpacked(q, NULL);
    strcpy(sp.prefix, "3f-");
    q = enc(&pc, &sp, VMIG_OK);
    assert_string_equal(q->expr, "id like \"3f-%\"");
    vmig__milvus__query_request__free_unpacked(q, NULL);
    sp.kind = VMIG_SPAN_EXACT;
    strcpy(sp.prefix, "12");
    q = enc(&pc, &sp, VMIG_OK);
    assert_string_equal(q->expr, "id == \"12\"");
    vmig__milvus__query_request__free_unpacked(q, NULL);

    /* a prefix outside the id alphabet (quotes, like's wildcards) or the wrong kind */
    strcpy(sp.prefix, "a\"b");
    enc(&pc, &sp, VMIG_E_INTERNAL);
    strcpy(sp.prefix, "1%");
    enc(&pc, &sp, VMIG_E_INTERNAL);
    sp.kind = VMIG_SPAN_INT;
    enc(&pc, &sp, VMIG_E_INTERNAL);
}

static void scan_answer(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch out;
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    int64_t keys[3] = {9, 2, 7}; /* any order: Milvus Lite does not sort */
    Vmig__Milvus__LongArray la = VMIG__MILVUS__LONG_ARRAY__INIT;
    Vmig__Milvus__StringArray sa = VMIG__MILVUS__STRING_ARRAY__INIT;
    Vmig__Milvus__ScalarField sc = VMIG__MILVUS__SCALAR_FIELD__INIT;
    Vmig__Milvus__FieldData fd = VMIG__MILVUS__FIELD_DATA__INIT, *fdp = &fd;
    Vmig__Milvus__QueryResults qr = VMIG__MILVUS__QUERY_RESULTS__INIT;
    la.n_data = 3;
    la.data = keys;
    sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA;
    sc.long_data = &la;
    fd.field_name = "id";
    fd.type = VMIG_MDT_INT64;
    fd.field_case = VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS;
    fd.scalars = &sc;
    qr.n_fields_data = 1;
    qr.fields_data = &fdp;
    size_t n = protobuf_c_message_get_packed_size(&qr.base);
    vmig_buf_grow(&b, n);
    protobuf_c_message_pack(&qr.base, (uint8_t *)b.p);
    vmig_buf_setlen(&b, n);

    plan(&pc, VMIG_PK_INT64); /* a plan with a vector field: the scan asks for the pk only */
    memset(&lay, 0, sizeof lay);
    vmig_batch_init(&out, &lay);
    assert_int_equal(vmig_milvus_dec_scan_ids(b.p, b.len, &pc, &out, &err), VMIG_OK);
    assert_int_equal(out.n, 3);
    assert_int_equal(out.ids[0].kind, VMIG_ID_NUM);
    assert_int_equal(out.ids[0].num, 9);
    assert_int_equal(out.ids[2].num, 7);

    /* VarChar keys: decimal and UUID text back to point ids; other text is refused */
    char *strs[2] = {"42", "0000000a-0000-0000-0000-000000000001"};
    sa.n_data = 2;
    sa.data = strs;
    sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA;
    sc.string_data = &sa;
    fd.type = VMIG_MDT_VARCHAR;
    n = protobuf_c_message_get_packed_size(&qr.base);
    vmig_buf_reset(&b);
    vmig_buf_grow(&b, n);
    protobuf_c_message_pack(&qr.base, (uint8_t *)b.p);
    vmig_buf_setlen(&b, n);
    plan(&pc, VMIG_PK_VARCHAR);
    vmig_batch_reset(&out);
    assert_int_equal(vmig_milvus_dec_scan_ids(b.p, b.len, &pc, &out, &err), VMIG_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.ids[0].kind, VMIG_ID_NUM);
    assert_int_equal(out.ids[0].num, 42);
    assert_int_equal(out.ids[1].kind, VMIG_ID_UUID);
    assert_int_equal(out.ids[1].uuid[3], 0x0a);
    /* Int64 column where the plan says VarChar */
    plan(&pc, VMIG_PK_INT64);
    vmig_batch_reset(&out);
    assert_int_equal(vmig_milvus_dec_scan_ids(b.p, b.len, &pc, &out, &err), VMIG_E_PROTOCOL);
    vmig_batch_release(&out);
    vmig_buf_release(&b);
}

static void state_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/vmig-vfull-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/d.jsonl.state", dir);
    struct vmig_err err;
    struct vmig_vfull_state *st = calloc(1, sizeof *st), *got = calloc(1, sizeof *got);
    assert_int_equal(vmig_vfull_state_load(path, got, &err), 0); /* none yet */
    strcpy(st->source, "my docs");
    strcpy(st->target, "docs_m");
    st->planned = 1;
    st->nranges = 2;
    st->range[0].slice_total = 2;
    st->range[0].slice_index = 1;
    st->range[0].start.kind = VMIG_ID_NUM;
    st->range[0].start.num = 18446744073709551615u;
    st->range[0].compared = 10;
    st->range[0].missing = 1;
    st->range[0].different = 2;
    st->range[0].rejected = 3;
    st->range[1].end.kind = VMIG_ID_UUID;
    memset(st->range[1].end.uuid, 0xfe, 16);
    st->range[1].done = 1;
    st->extras_started = 1;
    st->nspans = 3;
    st->span[0].kind = VMIG_SPAN_INT;
    st->span[0].lo = 0;
    st->span[0].hi = INT64_MAX;
    st->span[1].kind = VMIG_SPAN_PREFIX;
    strcpy(st->span[1].prefix, "-");     /* a real prefix, not "none" */
    st->span[2].kind = VMIG_SPAN_PREFIX; /* the empty prefix */
    st->extra = 4;
    st->diff_len = 12345;
    st->source_count = 99;
    assert_int_equal(vmig_vfull_state_save(path, st, &err), 0);
    assert_int_equal(vmig_vfull_state_load(path, got, &err), 1);
    assert_memory_equal(st, got, sizeof *st);

    /* a damaged file: refused with a way out, nothing half-read */
    FILE *f = fopen(path, "w");
    fputs("vmigrate-verify-state 1\nsource x\n", f);
    fclose(f);
    assert_int_equal(vmig_vfull_state_load(path, got, &err), -1);
    assert_non_null(strstr(err.msg, "remove it"));
    assert_int_equal(got->nranges, 0);
    remove(path);
    rmdir(dir);
    free(st);
    free(got);
}

static void diff_names(void **state)
{
    (void)state;
    char out[256];
    struct vmig_err err;
    vmig_vfull_diff_name("j1", "my docs/€", out, sizeof out);
    assert_string_equal(out, "vmigrate-verify-j1-my_docs____.jsonl");
    vmig_vfull_diff_name(NULL, "docs", out, sizeof out);
    assert_string_equal(out, "vmigrate-verify-docs.jsonl");
    assert_int_equal(vmig_vfull_diff_path(NULL, "j1", "docs", 3, out, sizeof out, &err), 0);
    assert_string_equal(out, "vmigrate-verify-j1-docs.jsonl");
    assert_int_equal(vmig_vfull_diff_path("/tmp", NULL, "docs", 3, out, sizeof out, &err), 0);
    assert_string_equal(out, "/tmp/vmigrate-verify-docs.jsonl");
    assert_int_equal(vmig_vfull_diff_path("d.jsonl", NULL, "docs", 1, out, sizeof out, &err), 0);
    assert_string_equal(out, "d.jsonl");
    assert_int_equal(vmig_vfull_diff_path("d.jsonl", NULL, "docs", 2, out, sizeof out, &err), -1);
    assert_int_equal(err.code, VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "give a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_request),
        cmocka_unit_test(scan_answer),
        cmocka_unit_test(state_roundtrip),
        cmocka_unit_test(diff_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_milvus_delete.c - unit tests of the delete codec (target/milvus_delete_codec.c):
 * the `pk in [...]` expression for Int64 and VarChar keys, the DeleteRequest's bytes
 * decoded back with protobuf-c (field numbers 2-5), the refusal of a uuid under an Int64
 * key, and the MutationResult answer. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/milvus_delete.h"
#include "milvus.pb-c.h"

static void plan(struct vmig_plan_coll *pc, enum vmig_pk_type pk)
{
    memset(pc, 0, sizeof *pc);
    strcpy(pc->target, "docs");
    strcpy(pc->pk_name, "id");
    pc->pk_type = pk;
}

static struct vmig_point_id num_id(uint64_t n)
{
    struct vmig_point_id id = {0};
    id.kind = VMIG_ID_NUM;
    id.num = n;
    return id;
}

static void int_expr_and_request(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    plan(&pc, VMIG_PK_INT64);
    struct vmig_point_id ids[3] = {num_id(7), num_id(300), num_id(INT64_MAX)};
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_milvus_enc_delete("db1", &pc, ids, 3, &out, &err), VMIG_OK);
    Vmig__Milvus__DeleteRequest *r =
        vmig__milvus__delete_request__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(r);
    assert_string_equal(r->db_name, "db1");
    assert_string_equal(r->collection_name, "docs");
    assert_string_equal(r->partition_name, "");
    assert_string_equal(r->expr, "id in [7,300,9223372036854775807]");
    vmig__milvus__delete_request__free_unpacked(r, NULL);
    /* db_name (field 2, length-delimited) is the first on the wire */
    assert_int_equal((uint8_t)out.p[0], 2 << 3 | 2);
    vmig_buf_release(&out);
}

static void varchar_expr(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    plan(&pc, VMIG_PK_VARCHAR);
    strcpy(pc.pk_name, "pk");
    struct vmig_point_id ids[2] = {num_id(5), {0}};
    assert_int_equal(vmig_point_id_parse("0ea4dd6e-3f3a-4c8b-9d7e-1f2a3b4c5d6e", 36, &ids[1]), 0);
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_milvus_expr_pk_in(&pc, ids, 2, &out, &err), VMIG_OK);
    assert_string_equal(out.p, "pk in [\"5\",\"0ea4dd6e-3f3a-4c8b-9d7e-1f2a3b4c5d6e\"]");
    vmig_buf_release(&out);
}

static void uuid_under_int64_is_refused(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    plan(&pc, VMIG_PK_INT64);
    struct vmig_point_id ids[2] = {num_id(1), num_id((uint64_t)INT64_MAX + 1)};
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_milvus_enc_delete(NULL, &pc, ids, 2, &out, &err), VMIG_E_DATA);
    assert_string_equal(err.point, "9223372036854775808");
    assert_string_equal(err.coll, "docs");
    vmig_buf_release(&out);
}

static void mutation_answer(void **state)
{
    (void)state;
    Vmig__Milvus__MutationResult m = VMIG__MILVUS__MUTATION_RESULT__INIT;
    Vmig__Milvus__Status st = VMIG__MILVUS__STATUS__INIT;
    m.status = &st;
    m.delete_cnt = 3;
    uint8_t buf[64];
    size_t n = vmig__milvus__mutation_result__pack(&m, buf);
    uint64_t deleted = 0;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_milvus_dec_delete(buf, n, "delete", &deleted, &err), VMIG_OK);
    assert_int_equal(deleted, 3);
    st.code = 100;
    st.reason = "collection not found";
    n = vmig__milvus__mutation_result__pack(&m, buf);
    assert_int_equal(vmig_milvus_dec_delete(buf, n, "delete", &deleted, &err), VMIG_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "collection not found"));
    assert_int_equal(vmig_milvus_dec_delete("\xff\xff", 2, "delete", &deleted, &err),
                     VMIG_E_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int_expr_and_request),
        cmocka_unit_test(varchar_expr),
        cmocka_unit_test(uuid_under_int64_is_refused),
        cmocka_unit_test(mutation_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_buf.c - unit tests of the growable buffer, point ids and batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "util/buf.h"

static void buf_basics(void **state)
{
    struct vmig_buf b;
    vmig_buf_init(&b, 0);
    assert_string_equal(b.p, "");
    assert_int_equal(vmig_buf_adds(&b, "abc"), 0);
    assert_int_equal(vmig_buf_addf(&b, "-%d", 42), 0);
    assert_string_equal(b.p, "abc-42");
    assert_int_equal(b.len, 6);
    vmig_buf_reset(&b);
    assert_string_equal(b.p, "");
    vmig_buf_release(&b);
}

static void buf_max(void **state)
{
    struct vmig_buf b;
    vmig_buf_init(&b, 8);
    assert_int_equal(vmig_buf_adds(&b, "12345678"), 0);
    assert_int_equal(vmig_buf_adds(&b, "9"), -1);
    assert_string_equal(b.p, "12345678");
    vmig_buf_release(&b);
}

static void point_ids(void **state)
{
    struct vmig_point_id a, b, u;
    char t[VMIG_ID_TEXT_MAX];
    assert_int_equal(vmig_point_id_parse("18446744073709551615", 20, &a), 0);
    assert_true(a.kind == VMIG_ID_NUM && a.num == UINT64_MAX);
    assert_int_equal(vmig_point_id_parse("18446744073709551616", 20, &b), -1);
    assert_int_equal(vmig_point_id_parse("7", 1, &b), 0);
    const char *us = "550E8400-E29B-41D4-A716-446655440000";
    assert_int_equal(vmig_point_id_parse(us, strlen(us), &u), 0);
    vmig_point_id_format(&u, t);
    assert_string_equal(t, "550e8400-e29b-41d4-a716-446655440000");
    assert_true(vmig_point_id_cmp(&b, &a) < 0);
    assert_true(vmig_point_id_cmp(&a, &u) < 0); /* every integer before every UUID */
    struct vmig_point_id none = {0};
    assert_true(vmig_point_id_cmp(&u, &none) < 0);
}

static void batch_rows(void **state)
{
    struct vmig_layout lay = {0};
    lay.ncols = 2;
    lay.col[0].dim = 3;
    lay.col[1].sparse = 1;
    struct vmig_batch b, c;
    vmig_batch_init(&b, &lay);
    vmig_batch_init(&c, &lay);
    for (int r = 0; r < 100; r++) {
        struct vmig_point_id id = {.kind = VMIG_ID_NUM, .num = (uint64_t)r};
        vmig_batch_begin_row(&b, &id);
        float *v = vmig_batch_dense(&b, 0);
        v[0] = (float)r;
        v[2] = -1;
        uint32_t pair[2] = {(uint32_t)r, 0};
        vmig_buf_add(&b.col[1].data, pair, sizeof pair);
        vmig_buf_addf(&b.meta, "{\"r\":%d}", r);
        if (r == 50) {
            vmig_batch_drop_row(&b, "too big");
            continue;
        }
        vmig_batch_end_row(&b);
    }
    assert_int_equal(b.n, 99);
    assert_int_equal(b.nrejects, 1);
    assert_true(b.rejects[0].id.num == 50);
    assert_true(vmig_batch_dense_at(&b, 0, 51)[0] == 52.0f);
    size_t len;
    const char *m = vmig_batch_meta_at(&b, 51, &len);
    assert_memory_equal(m, "{\"r\":52}", len);
    vmig_batch_append(&c, &b);
    vmig_batch_append(&c, &b);
    assert_int_equal(c.n, 198);
    m = vmig_batch_meta_at(&c, 150, &len);
    assert_memory_equal(m, "{\"r\":52}", len);
    assert_int_equal(c.col[1].off[151] - c.col[1].off[150], 8);
    vmig_batch_truncate(&c, 10);
    assert_int_equal(c.n, 10);
    vmig_batch_release(&b);
    vmig_batch_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_basics),
        cmocka_unit_test(buf_max),
        cmocka_unit_test(point_ids),
        cmocka_unit_test(batch_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

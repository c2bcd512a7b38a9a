/*
 * test_err.c - the error type's helpers: the subject fields (collection, point, field)
 * are set, kept by a prefix, cut to size, and cleared with the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmig/error.h"
#include "vmig/types.h"

static void at_sets_and_keeps(void **state)
{
    (void)state;
    struct vmig_err e;
    vmig_err_clear(&e);
    vmig_err_set(&e, VMIG_E_DATA, "point 42 in collection 'docs': payload key 'a' is null");
    vmig_err_at(&e, "docs", "42", "a");
    assert_string_equal(e.coll, "docs");
    assert_string_equal(e.point, "42");
    assert_string_equal(e.field, "a");
    /* NULL leaves a field, "" clears it */
    vmig_err_at(&e, NULL, "", NULL);
    assert_string_equal(e.coll, "docs");
    assert_string_equal(e.point, "");
    assert_string_equal(e.field, "a");
    /* a prefix changes the message only */
    vmig_err_at(&e, NULL, "42", NULL);
    vmig_err_prefix(&e, "job '%s': ", "j1");
    assert_string_equal(e.msg, "job 'j1': point 42 in collection 'docs': payload key 'a' is null");
    assert_int_equal(e.code, VMIG_E_DATA);
    assert_string_equal(e.coll, "docs");
    assert_string_equal(e.point, "42");
    assert_string_equal(e.field, "a");
    /* a new error starts without the facts of the old one */
    e.server_code = 503;
    vmig_err_set(&e, VMIG_E_IO, "disk full");
    assert_string_equal(e.coll, "");
    assert_string_equal(e.point, "");
    assert_string_equal(e.field, "");
    assert_int_equal(e.server_code, 0);
    vmig_err_at(NULL, "x", "y", "z"); /* NULL err: nothing to do */
}

static void sizes_and_clear(void **state)
{
    (void)state;
    struct vmig_err e;
    char longname[VMIG_SRC_NAME_MAX + 100];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    vmig_err_clear(&e);
    vmig_err_at(&e, longname, "550e8400-e29b-41d4-a716-446655440000", longname);
    /* a whole Qdrant collection name fits; the field is cut to its size */
    assert_int_equal(strlen(e.coll), VMIG_SRC_NAME_MAX - 1);
    assert_int_equal(strlen(e.field), VMIG_ERR_FIELD_MAX - 1);
    assert_string_equal(e.point, "550e8400-e29b-41d4-a716-446655440000");
    e.server_code = 800;
    e.retriable = 1;
    e.server_reason = VMIG_SR_DB_MISSING;
    vmig_err_set(&e, VMIG_E_NOT_FOUND, "database 'x' does not exist");
    vmig_err_clear(&e);
    assert_int_equal(e.code, VMIG_OK);
    assert_int_equal(e.server_code, 0);
    assert_int_equal(e.retriable, 0);
    assert_int_equal(e.server_reason, VMIG_SR_NONE);
    assert_string_equal(e.coll, "");
    assert_string_equal(e.point, "");
    assert_string_equal(e.field, "");
    assert_string_equal(e.msg, "");
    vmig_err_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(at_sets_and_keeps),
        cmocka_unit_test(sizes_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

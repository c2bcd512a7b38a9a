/*
 * test_write_mode.c - unit tests of the write mode's plumbing (engine/copy_bulk.c,
 * engine/job_json.c): the words, the job options' JSON round trip (a rows job's JSON
 * unchanged), and the job-level refusal of bulk on Milvus Lite / Zilliz Cloud or
 * without a storage, with the way out (fix write_mode).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/copy_bulk.h"
#include "engine/job_int.h"

static void words(void **state)
{
    (void)state;
    enum vmig_write_mode m = VMIG_WRITE_ROWS;
    assert_int_equal(vmig_write_mode_parse("bulk", &m), 0);
    assert_int_equal(m, VMIG_WRITE_BULK);
    assert_int_equal(vmig_write_mode_parse("auto", &m), 0);
    assert_int_equal(m, VMIG_WRITE_AUTO);
    assert_int_equal(vmig_write_mode_parse("Bulk", &m), -1);
    assert_int_equal(vmig_write_mode_parse(NULL, &m), -1);
    assert_string_equal(vmig_write_mode_name(VMIG_WRITE_ROWS), "rows");
    assert_string_equal(vmig_write_mode_name(VMIG_WRITE_BULK), "bulk");
}

static void job_opts_round_trip(void **state)
{
    (void)state;
    struct vmig_job_opts o, back;
    vmig_job_opts_init(&o);
    char *rows = vmig_job_opts_to_json(&o);
    assert_null(strstr(rows, "write_mode")); /* a rows job's JSON is what it was */
    o.write_mode = VMIG_WRITE_BULK;
    strcpy(o.bulk_dir, "/data/bulk");
    strcpy(o.bulk_url, "s3://b/p");
    strcpy(o.bulk_endpoint, "http://127.0.0.1:9000");
    o.bulk_file_bytes = 1u << 20;
    char *js = vmig_job_opts_to_json(&o);
    vmig_job_opts_from_json(js, &back);
    assert_int_equal(back.write_mode, VMIG_WRITE_BULK);
    assert_string_equal(back.bulk_dir, "/data/bulk");
    assert_string_equal(back.bulk_url, "s3://b/p");
    assert_string_equal(back.bulk_endpoint, "http://127.0.0.1:9000");
    assert_int_equal(back.bulk_file_bytes, 1u << 20);
    vmig_job_opts_from_json(rows, &back);
    assert_int_equal(back.write_mode, VMIG_WRITE_ROWS);
    assert_string_equal(back.bulk_dir, "");
    free(rows);
    free(js);
}

static void bulk_refused_where_it_cannot_work(void **state)
{
    (void)state;
    struct vmig_job_opts o;
    struct vmig_target_caps caps;
    struct vmig_err err;
    vmig_job_opts_init(&o);
    memset(&caps, 0, sizeof caps);
    strcpy(caps.product, "Milvus Lite");
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_OK); /* rows: nothing */
    o.write_mode = VMIG_WRITE_BULK;
    strcpy(o.bulk_dir, "/data/bulk");
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_E_USAGE);
    assert_int_equal(err.fix, VMIG_FIX_WRITE_MODE);
    assert_non_null(strstr(err.msg, "Milvus Lite does not implement bulk import"));
    strcpy(caps.product, "Zilliz Cloud");
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_E_USAGE);
    strcpy(caps.product, "Milvus");
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_OK);
    o.bulk_dir[0] = 0;
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "no storage"));
    o.write_mode = VMIG_WRITE_AUTO; /* auto decides per collection, never refuses */
    assert_int_equal(vmig_job_bulk_precheck(&o, &caps, &err), VMIG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words),
        cmocka_unit_test(job_opts_round_trip),
        cmocka_unit_test(bulk_refused_where_it_cannot_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

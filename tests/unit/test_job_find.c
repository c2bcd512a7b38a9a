/*
 * test_job_find.c - job ids from unique prefixes (vmig_job_resolve) on a real SQLite
 * store with jobs of chosen ids: a whole id, a unique prefix, an ambiguous prefix
 * (VMIG_E_USAGE naming every candidate), an unknown one (VMIG_E_NOT_FOUND), an empty
 * one, and a whole id that is also the beginning of another id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

struct fx {
    char dir[64], db[128];
    struct vmig_store *s;
};

static void insert(struct vmig_store *s, const char *id)
{
    struct vmig_endpoint src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    src.url = "http://127.0.0.1:1";
    dst.url = "http://127.0.0.1:2";
    struct vmig_store_new_job nj;
    memset(&nj, 0, sizeof nj);
    nj.id = id;
    nj.created_ms = 1;
    nj.src = &src;
    nj.dst = &dst;
    nj.plan_json = "{}";
    nj.opts_json = "{}";
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(s->vt->job_insert(s, &nj, &err), VMIG_OK);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vmig_test_find_XXXXXX");
    if (!f || !mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/vmigrate.db", f->dir);
    char key[128];
    snprintf(key, sizeof key, "%s/secret.key", f->dir);
    setenv("VMIGRATE_SECRET_KEY_FILE", key, 1);
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_store_open(f->db, &f->s, &err)) return -1;
    insert(f->s, "ja1b2c3d4");
    insert(f->s, "ja1b9f00e");
    insert(f->s, "jff001122");
    insert(f->s, "j0c"); /* a whole id that begins another one */
    insert(f->s, "j0c0ffee1");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vmig_store_close(f->s);
    char p[160];
    const char *files[] = {"vmigrate.db", "vmigrate.db-wal", "vmigrate.db-shm", "secret.key"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static enum vmig_code resolve(struct fx *f, const char *prefix, char id[VMIG_JOB_ID_MAX],
                              struct vmig_err *err)
{
    vmig_err_clear(err);
    return vmig_job_resolve(f->s, prefix, id, err);
}

static void whole_and_unique_prefix(void **state)
{
    struct fx *f = *state;
    char id[VMIG_JOB_ID_MAX];
    struct vmig_err err;
    assert_int_equal(resolve(f, "ja1b2c3d4", id, &err), VMIG_OK);
    assert_string_equal(id, "ja1b2c3d4");
    assert_int_equal(resolve(f, "jf", id, &err), VMIG_OK);
    assert_string_equal(id, "jff001122");
    assert_int_equal(resolve(f, "ja1b2", id, &err), VMIG_OK);
    assert_string_equal(id, "ja1b2c3d4");
    /* a whole id wins over the longer id it begins */
    assert_int_equal(resolve(f, "j0c", id, &err), VMIG_OK);
    assert_string_equal(id, "j0c");
    assert_int_equal(resolve(f, "j0c0", id, &err), VMIG_OK);
    assert_string_equal(id, "j0c0ffee1");
}

static void ambiguous_names_the_candidates(void **state)
{
    struct fx *f = *state;
    char id[VMIG_JOB_ID_MAX];
    struct vmig_err err;
    assert_int_equal(resolve(f, "ja1b", id, &err), VMIG_E_USAGE);
    assert_string_equal(id, "");
    assert_non_null(strstr(err.msg, "'ja1b' is ambiguous"));
    assert_non_null(strstr(err.msg, "ja1b2c3d4"));
    assert_non_null(strstr(err.msg, "ja1b9f00e"));
    assert_null(strstr(err.msg, "jff001122"));
    assert_int_equal(resolve(f, "j", id, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "5 jobs begin with it"));
}

static void unknown_and_empty(void **state)
{
    struct fx *f = *state;
    char id[VMIG_JOB_ID_MAX];
    struct vmig_err err;
    assert_int_equal(resolve(f, "jzz", id, &err), VMIG_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'jzz' not found"));
    assert_int_equal(resolve(f, "ja1b2c3d4x", id, &err), VMIG_E_NOT_FOUND);
    assert_int_equal(resolve(f, "", id, &err), VMIG_E_USAGE);
    assert_int_equal(resolve(f, NULL, id, &err), VMIG_E_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(whole_and_unique_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(ambiguous_names_the_candidates, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_and_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

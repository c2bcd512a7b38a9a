/*
 * test_qdrant_codec.c - the Qdrant codec on canned server replies.
 *
 * Data-driven: tests/data/qdrant/scroll/NAME.test hold a layout, a page (scroll or
 * retrieve) and the expected batch dump or error; tests/data/qdrant/info/NAME.json
 * hold collection infos with the expected struct vmig_src_coll dump in NAME.expect.
 * Floats are dumped in shortest round-trip form, which names each float32 exactly.
 * An error is dumped with its subject fields (collection, point, field).
 * VMIG_FIXTURE_REGEN=1 rewrites the expectations (review the diff!).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "batch/batch.h"
#include "fake/fixture.h"
#include "source/qdrant_codec.h"
#include "util/alloc.h"
#include "util/buf.h"


/* ---- scroll fixtures ---------------------------------------------------- */


static void run_scroll_fixture(const char *path)
{
    size_t len;
    char *text = fx_slurp(path, &len), *copy = xstrdup(text);
    struct fx_scroll fx;
    fx_parse(text, &fx, path);
    /* the scanner wants body[len] == NUL: copy the input alone */
    char *body = xstrndup(fx.input, fx.input_len);
    struct vmig_batch b;
    struct vmig_point_id next = {0};
    struct vmig_err err;
    struct vmig_buf got = VMIG_BUF_INIT;
    vmig_err_clear(&err);
    vmig_batch_init(&b, &fx.lay);
    enum vmig_code rc = vmig_qdrant_scan_page(body, fx.input_len, fx.retrieve ? VMIG_QDRANT_RETRIEVE : VMIG_QDRANT_SCROLL, &fx.lay, &b,
                                              !fx.retrieve ? &next : NULL, &err);
    if (rc) {
        vmig_buf_addf(&got, "error %d %s\n", (int)rc, err.msg);
        /* the subject, as fields (never read back out of the message) */
        vmig_buf_addf(&got, "at collection '%s' point '%s' field '%s'%s%s\n", err.coll, err.point,
                      err.field, err.fix ? " way out " : "", vmig_fix_name(err.fix));
        if (b.n || b.nrejects) vmig_buf_addf(&got, "BATCH NOT RESTORED\n");
    } else {
        fx_dump_batch(&got, &b, !fx.retrieve ? &next : NULL);
    }
    if (getenv("VMIG_FIXTURE_REGEN")) {
        FILE *f = fopen(path, "wb");
        fwrite(copy, 1, fx.head_len, f);
        fwrite(got.p, 1, got.len, f);
        fclose(f);
    } else if (strcmp(got.p, fx.expect) != 0) {
        fail_msg("%s:\n--- expected\n%s--- got\n%s", path, fx.expect, got.p);
    }
    vmig_buf_release(&got);
    vmig_batch_release(&b);
    free(body);
    free(copy);
    free(text);
}


static void scroll_fixtures(void **state)
{
    assert_true(fx_each_file("scroll", ".test", run_scroll_fixture) >= 10);
}

/* ---- collection info fixtures -------------------------------------------- */

static const char *dist_name(enum vmig_distance d)
{
    static const char *n[] = {"none", "cosine", "euclid", "dot", "manhattan"};
    return (unsigned)d < 5 ? n[d] : "?";
}

static void run_info_fixture(const char *path)
{
    size_t len, elen;
    char *body = fx_slurp(path, &len);
    char epath[2048];
    snprintf(epath, sizeof epath, "%.*s.expect", (int)(strlen(path) - 5), path);
    struct vmig_src_coll c;
    struct vmig_err err;
    struct vmig_buf got = VMIG_BUF_INIT;
    enum vmig_code rc = vmig_qdrant_parse_info(body, len, "c", &c, &err);
    if (rc) {
        vmig_buf_addf(&got, "error %d %s\n", (int)rc, err.msg);
    } else {
        vmig_buf_addf(&got, "status %s points %llu unnamed %d hnsw %d/%d nvec %zu too_many %d\n",
                      c.status, (unsigned long long)c.points_approx, c.unnamed, c.hnsw_m,
                      c.hnsw_ef, c.nvec, c.too_many_vectors);
        for (size_t i = 0; i < c.nvec; i++) {
            const struct vmig_src_vector *v = &c.vec[i];
            vmig_buf_addf(&got, "vec '%s' %s size %u %s %s(%d) multi %d hnsw %d/%d idf %d\n",
                          v->name, v->sparse ? "sparse" : "dense", v->size,
                          dist_name(v->distance), v->datatype_name, (int)v->datatype,
                          v->multivector, v->hnsw_m, v->hnsw_ef, v->sparse_idf);
        }
    }
    if (getenv("VMIG_FIXTURE_REGEN")) {
        FILE *f = fopen(epath, "wb");
        fwrite(got.p, 1, got.len, f);
        fclose(f);
    } else {
        char *want = fx_slurp(epath, &elen);
        if (strcmp(want, got.p) != 0)
            fail_msg("%s:\n--- expected\n%s--- got\n%s", path, want, got.p);
        free(want);
    }
    vmig_buf_release(&got);
    free(body);
}

static void info_fixtures(void **state)
{
    assert_true(fx_each_file("info", ".json", run_info_fixture) >= 5);
}

/* ---- generated cases ------------------------------------------------------ */

static struct vmig_layout plain_layout(void)
{
    struct vmig_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.coll = "c";
    lay.prefix = "payload_";
    return lay;
}

static void oversize_exact(void **state)
{
    /* {"a":"xx..."} is 8 + n bytes: n = 65528 is exactly the limit, n = 65529 one over */
    for (int over = 0; over <= 1; over++)
        for (int reject = 0; reject <= 1; reject++) {
            struct vmig_buf page = VMIG_BUF_INIT;
            vmig_buf_adds(&page, "{\"result\":{\"points\":[{\"id\":7,\"payload\":{\"a\":\"");
            for (int i = 0; i < 65528 + over; i++) vmig_buf_addch(&page, 'x');
            vmig_buf_adds(&page, "\"}}],\"next_page_offset\":null}}");
            struct vmig_layout lay = plain_layout();
            struct vmig_batch b;
            struct vmig_err err;
            lay.reject_oversize = reject;
            vmig_batch_init(&b, &lay);
            enum vmig_code rc =
                vmig_qdrant_scan_page(page.p, page.len, VMIG_QDRANT_SCROLL, &lay, &b, NULL, &err);
            if (!over) {
                assert_int_equal(rc, VMIG_OK);
                assert_int_equal(b.n, 1);
                assert_int_equal(b.meta.len, 65536);
            } else if (reject) {
                assert_int_equal(rc, VMIG_OK);
                assert_int_equal(b.n, 0);
                assert_int_equal(b.nrejects, 1);
                assert_int_equal(b.rejects[0].id.num, 7);
                assert_string_equal(b.rejects[0].reason,
                                    "payload is 65537 bytes, over Milvus's 65536-byte JSON limit");
                assert_int_equal(b.meta.len, 0);
            } else {
                assert_int_equal(rc, VMIG_E_DATA);
                assert_string_equal(err.msg, "point 7 in collection 'c': payload is 65537 bytes, "
                                             "over Milvus's 65536-byte JSON limit");
                assert_int_equal(b.n, 0);
            }
            vmig_batch_release(&b);
            vmig_buf_release(&page);
        }
}

static void truncated_everywhere(void **state)
{
    /* every proper prefix of a valid page is truncated (retryable), never a crash */
    const char *page =
        "{\"result\":{\"points\":[{\"id\":1,\"payload\":{\"a\":[1,\"x\\n\",null,{\"b\":true}]},"
        "\"vector\":{\"d\":[1.5,-2],\"s\":{\"indices\":[3,1],\"values\":[0.5,0.25]}}},"
        "{\"id\":\"550e8400-e29b-41d4-a716-446655440000\",\"vector\":{\"d\":[0,1e-3]}}],"
        "\"next_page_offset\":18446744073709551615},\"status\":\"ok\",\"time\":1.5e-5}";
    struct vmig_layout lay = plain_layout();
    lay.ncols = 2;
    lay.col[0].src = "d";
    lay.col[0].dim = 2;
    lay.col[1].src = "s";
    lay.col[1].sparse = 1;
    lay.nulls = VMIG_NULL_KEEP;
    size_t n = strlen(page);
    struct vmig_batch b;
    vmig_batch_init(&b, &lay);
    for (size_t k = 0; k < n; k++) {
        char *cut = xstrndup(page, k);
        struct vmig_err err;
        enum vmig_code rc = vmig_qdrant_scan_page(cut, k, VMIG_QDRANT_SCROLL, &lay, &b, NULL, &err);
        if (rc != VMIG_E_UNAVAILABLE) fail_msg("prefix %zu: rc %d %s", k, (int)rc, err.msg);
        assert_int_equal(b.n, 0);
        free(cut);
    }
    struct vmig_point_id next;
    struct vmig_err err;
    assert_int_equal(vmig_qdrant_scan_page(page, n, VMIG_QDRANT_SCROLL, &lay, &b, &next, &err), VMIG_OK);
    assert_int_equal(b.n, 2);
    assert_true(next.kind == VMIG_ID_NUM && next.num == UINT64_MAX);
    vmig_batch_release(&b);
}

static void small_answers(void **state)
{
    char v[32], **names = NULL;
    size_t n = 0;
    uint64_t cnt = 0;
    struct vmig_err err;
    const char *root = "{\"title\":\"qdrant - vector search engine\",\"version\":\"1.19.1\","
                       "\"commit\":\"6ab21cac18ebb6f4ae29102c7f8f5cc11affd5de\"}";
    assert_int_equal(vmig_qdrant_parse_version(root, strlen(root), v, sizeof v, &err), VMIG_OK);
    assert_string_equal(v, "1.19.1");
    assert_true(vmig_qdrant_version_at_least(v, 1, 19, 0));
    assert_false(vmig_qdrant_version_at_least("1.18.2", 1, 19, 0));
    assert_true(vmig_qdrant_version_at_least("2.0.0", 1, 19, 0));
    const char *other = "{\"name\":\"something else\"}";
    assert_int_equal(vmig_qdrant_parse_version(other, strlen(other), v, sizeof v, &err),
                     VMIG_E_PROTOCOL);
    const char *list = "{\"result\":{\"collections\":[{\"name\":\"docs3\"},{\"name\":\"b\"}]},"
                       "\"status\":\"ok\",\"time\":9.833e-6}";
    assert_int_equal(vmig_qdrant_parse_list(list, strlen(list), &names, &n, &err), VMIG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "docs3");
    assert_string_equal(names[1], "b");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    const char *count = "{\"result\":{\"count\":12345678901},\"status\":\"ok\",\"time\":0.1}";
    assert_int_equal(vmig_qdrant_parse_count(count, strlen(count), &cnt, &err), VMIG_OK);
    assert_true(cnt == 12345678901ull);
    const char *e = "{\"status\":{\"error\":\"Not found: Collection `x` doesn't exist!\"},\"time\":8.959e-6}";
    char *t = vmig_qdrant_error_text(e, strlen(e));
    assert_string_equal(t, "Not found: Collection `x` doesn't exist!");
    free(t);
    assert_null(vmig_qdrant_error_text("Invalid API key or JWT", 22));
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_point_id id;
    vmig_point_id_parse("18446744073709551615", 20, &id);
    vmig_qdrant_put_id(&b, &id);
    vmig_buf_addch(&b, ' ');
    vmig_point_id_parse("550E8400E29B41D4A716446655440000", 32, &id);
    vmig_qdrant_put_id(&b, &id);
    vmig_buf_addch(&b, ' ');
    vmig_qdrant_put_str(&b, "a\"b\\c\n");
    assert_string_equal(b.p, "18446744073709551615 \"550e8400-e29b-41d4-a716-446655440000\" "
                             "\"a\\\"b\\\\c\\u000a\"");
    vmig_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scroll_fixtures), cmocka_unit_test(info_fixtures),
        cmocka_unit_test(oversize_exact),  cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(small_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

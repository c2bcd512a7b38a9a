/*
 * test_search_codec.c - unit tests of the search-parity codecs: the Qdrant query body
 * (source/qdrant_search.c: dense floats that read back as the same float32, sparse
 * pairs, `using`, exact) and its answer's hits; the Milvus SearchRequest
 * (target/milvus_search_codec.c: PlaceholderGroup bytes, parameters, nq) decoded back
 * with protobuf-c, and SearchResults into per-query hit lists (int and string keys,
 * inconsistent counts, status errors). No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "milvus.pb-c.h"
#include "source/qdrant_search.h"
#include "target/milvus_search.h"

static void plan(struct vmig_plan_coll *pc)
{
    memset(pc, 0, sizeof *pc);
    strcpy(pc->source, "src");
    strcpy(pc->target, "docs");
    strcpy(pc->pk_name, "id");
    pc->pk_type = VMIG_PK_INT64;
    pc->nfields = 2;
    strcpy(pc->field[0].src, "img");
    strcpy(pc->field[0].dst, "image");
    pc->field[0].kind = VMIG_VEC_DENSE;
    pc->field[0].dim = 3;
    pc->field[0].metric = VMIG_METRIC_L2;
    strcpy(pc->field[1].src, "text");
    strcpy(pc->field[1].dst, "text");
    pc->field[1].kind = VMIG_VEC_SPARSE;
}

/* rows 0..n-1: dense (r + 0.1, -r, 1/3), sparse {r: 0.5, 7: r} */
static void fill(struct vmig_batch *b, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        struct vmig_point_id id = {0};
        id.kind = VMIG_ID_NUM;
        id.num = 10 + r;
        vmig_batch_begin_row(b, &id);
        float *d = vmig_batch_dense(b, 0);
        d[0] = (float)r + 0.1f;
        d[1] = -(float)r;
        d[2] = 1.0f / 3.0f;
        uint32_t ix[2] = {(uint32_t)r, 7};
        float v[2] = {0.5f, (float)r};
        for (int k = 0; k < 2; k++) {
            vmig_buf_add(&b->col[1].data, &ix[k], 4);
            vmig_buf_add(&b->col[1].data, &v[k], 4);
        }
        vmig_buf_adds(&b->meta, "{}");
        vmig_batch_end_row(b);
    }
}

static void qdrant_body(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_buf out = VMIG_BUF_INIT;
    plan(&pc);
    vmig_layout_from_plan(&lay, &pc, 1);
    vmig_batch_init(&b, &lay);
    fill(&b, 2);
    vmig_qdrant_enc_search(&lay, &b, 1, 0, 10, &out);
    assert_string_equal(out.p, "{\"query\":[1.10000002,-1,0.333333343],\"using\":\"img\","
                               "\"limit\":10,\"params\":{\"exact\":true},\"with_payload\":false,"
                               "\"with_vector\":false}");
    /* every float reads back as itself */
    float back = strtof("0.333333343", NULL);
    assert_true(back == 1.0f / 3.0f);
    vmig_qdrant_enc_search(&lay, &b, 1, 1, 3, &out);
    assert_string_equal(out.p, "{\"query\":{\"indices\":[1,7],\"values\":[0.5,1]},\"using\":"
                               "\"text\",\"limit\":3,\"params\":{\"exact\":true},"
                               "\"with_payload\":false,\"with_vector\":false}");
    /* the unnamed vector: no `using` */
    lay.unnamed = 1;
    vmig_qdrant_enc_search(&lay, &b, 0, 0, 5, &out);
    assert_null(strstr(out.p, "using"));
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

static void qdrant_hits(void **state)
{
    (void)state;
    struct vmig_hits h;
    struct vmig_err err;
    vmig_hits_init(&h);
    static const char ok[] =
        "{\"result\":{\"points\":[{\"id\":7,\"version\":3,\"score\":0.5},"
        "{\"id\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"version\":1,\"score\":-1.25}]},"
        "\"status\":\"ok\",\"time\":0.001}";
    assert_int_equal(vmig_qdrant_dec_hits(ok, sizeof ok - 1, "c", &h, &err), VMIG_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.ids[0].kind, VMIG_ID_NUM);
    assert_int_equal(h.ids[0].num, 7);
    assert_true(h.scores[0] == 0.5f);
    assert_int_equal(h.ids[1].kind, VMIG_ID_UUID);
    assert_int_equal(h.ids[1].uuid[0], 0x6b);
    assert_true(h.scores[1] == -1.25f);
    static const char empty[] = "{\"result\":{\"points\":[]}}";
    vmig_hits_reset(&h);
    assert_int_equal(vmig_qdrant_dec_hits(empty, sizeof empty - 1, "c", &h, &err), VMIG_OK);
    assert_int_equal(h.n, 0);
    static const char *const bad[] = {"{\"result\":[]}", "{\"result\":{\"points\":[{\"id\":1}]}}",
                                      "{\"result\":{\"points\":[{\"id\":true,\"score\":1}]}}",
                                      "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vmig_qdrant_dec_hits(bad[i], strlen(bad[i]), "coll1", &h, &err),
                         VMIG_E_PROTOCOL);
        assert_non_null(strstr(err.msg, "'coll1'"));
    }
    vmig_hits_release(&h);
}

static const char *kv(const Vmig__Milvus__SearchRequest *r, const char *key)
{
    for (size_t i = 0; i < r->n_search_params; i++)
        if (!strcmp(r->search_params[i]->key, key)) return r->search_params[i]->value;
    return NULL;
}

static void milvus_request(void **state)
{
    (void)state;
    struct vmig_plan_coll pc;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_err err;
    plan(&pc);
    vmig_layout_from_plan(&lay, &pc, 1);
    vmig_batch_init(&b, &lay);
    fill(&b, 4);
    assert_int_equal(vmig_milvus_enc_search("db1", &pc, 0, &b, 1, 3, 10, &out, &err), VMIG_OK);
    Vmig__Milvus__SearchRequest *r =
        vmig__milvus__search_request__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(r);
    assert_string_equal(r->db_name, "db1");
    assert_string_equal(r->collection_name, "docs");
    assert_int_equal(r->nq, 2);
    assert_int_equal(r->dsl_type, 1);
    assert_int_equal(r->consistency_level, 0);
    assert_string_equal(kv(r, "anns_field"), "image");
    assert_string_equal(kv(r, "topk"), "10");
    assert_string_equal(kv(r, "metric_type"), "L2");
    assert_string_equal(kv(r, "params"), "{\"ef\":4096}");
    assert_string_equal(kv(r, "round_decimal"), "-1");
    Vmig__Milvus__PlaceholderGroup *g = vmig__milvus__placeholder_group__unpack(
        NULL, r->placeholder_group.len, r->placeholder_group.data);
    assert_non_null(g);
    assert_int_equal(g->n_placeholders, 1);
    assert_string_equal(g->placeholders[0]->tag, "$0");
    assert_int_equal(g->placeholders[0]->type, 101);
    assert_int_equal(g->placeholders[0]->n_values, 2);
    assert_int_equal(g->placeholders[0]->values[1].len, 12);
    assert_memory_equal(g->placeholders[0]->values[1].data, vmig_batch_dense_at(&b, 0, 2), 12);
    vmig__milvus__placeholder_group__free_unpacked(g, NULL);
    vmig__milvus__search_request__free_unpacked(r, NULL);

    /* sparse: the row's own pairs, IP, every term scored */
    assert_int_equal(vmig_milvus_enc_search(NULL, &pc, 1, &b, 0, 1, 700, &out, &err), VMIG_OK);
    r = vmig__milvus__search_request__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_string_equal(kv(r, "metric_type"), "IP");
    assert_string_equal(kv(r, "params"), "{\"drop_ratio_search\":0}");
    g = vmig__milvus__placeholder_group__unpack(NULL, r->placeholder_group.len,
                                                r->placeholder_group.data);
    assert_int_equal(g->placeholders[0]->type, 104);
    assert_int_equal(g->placeholders[0]->values[0].len, 16);
    assert_memory_equal(g->placeholders[0]->values[0].data, b.col[1].data.p, 16);
    vmig__milvus__placeholder_group__free_unpacked(g, NULL);
    vmig__milvus__search_request__free_unpacked(r, NULL);
    assert_int_equal(VMIG_MILVUS_SEARCH_EF(700u), 4096);
    assert_int_equal(VMIG_MILVUS_SEARCH_EF(5000u), 5000);

    /* rows out of range */
    assert_int_equal(vmig_milvus_enc_search(NULL, &pc, 0, &b, 3, 9, 10, &out, &err),
                     VMIG_E_INTERNAL);
    vmig_buf_release(&out);
    vmig_batch_release(&b);
}

/* A SearchResults message: nq queries with topks[i] hits, int or string ids. */
static size_t results(uint8_t *buf, size_t nq, const int64_t *topks, int strings, int code,
                      size_t nscores_less)
{
    Vmig__Milvus__SearchResults r = VMIG__MILVUS__SEARCH_RESULTS__INIT;
    Vmig__Milvus__SearchResultData d = VMIG__MILVUS__SEARCH_RESULT_DATA__INIT;
    Vmig__Milvus__IDs ids = VMIG__MILVUS__IDS__INIT;
    Vmig__Milvus__LongArray la = VMIG__MILVUS__LONG_ARRAY__INIT;
    Vmig__Milvus__StringArray sa = VMIG__MILVUS__STRING_ARRAY__INIT;
    Vmig__Milvus__Status st = VMIG__MILVUS__STATUS__INIT;
    int64_t li[16];
    char *si[16], sbuf[16][40];
    float sc[16];
    size_t n = 0;
    for (size_t q = 0; q < nq; q++)
        for (int64_t j = 0; j < topks[q]; j++, n++) {
            li[n] = (int64_t)(100 * q + (size_t)j);
            snprintf(sbuf[n], sizeof sbuf[n], "%lld", (long long)li[n]);
            si[n] = sbuf[n];
            sc[n] = (float)n / 4.0f;
        }
    if (strings) {
        sa.n_data = n;
        sa.data = si;
        ids.id_field_case = VMIG__MILVUS__IDS__ID_FIELD_STR_ID;
        ids.str_id = &sa;
    } else {
        la.n_data = n;
        la.data = li;
        ids.id_field_case = VMIG__MILVUS__IDS__ID_FIELD_INT_ID;
        ids.int_id = &la;
    }
    d.num_queries = (int64_t)nq;
    d.n_topks = nq;
    d.topks = (int64_t *)(uintptr_t)topks;
    d.n_scores = n - nscores_less;
    d.scores = sc;
    d.ids = &ids;
    st.code = code;
    st.reason = (char *)"collection not loaded";
    r.status = &st;
    r.results = &d;
    return vmig__milvus__search_results__pack(&r, buf);
}

static void milvus_results(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct vmig_hits h[3];
    struct vmig_err err;
    for (int i = 0; i < 3; i++)
        vmig_hits_init(&h[i]);
    const int64_t topks[3] = {2, 0, 3};
    for (int strings = 0; strings < 2; strings++) {
        for (int i = 0; i < 3; i++)
            vmig_hits_reset(&h[i]);
        size_t n = results(buf, 3, topks, strings, 0, 0);
        assert_int_equal(vmig_milvus_dec_search(buf, n, "search", 3, h, &err), VMIG_OK);
        assert_int_equal(h[0].n, 2);
        assert_int_equal(h[1].n, 0);
        assert_int_equal(h[2].n, 3);
        assert_int_equal(h[2].ids[0].kind, VMIG_ID_NUM);
        assert_int_equal(h[2].ids[0].num, 200);
        assert_int_equal(h[2].ids[2].num, 202);
        assert_true(h[2].scores[2] == 1.0f);
        assert_true(h[0].scores[1] == 0.25f);
    }
    /* counts that do not add up, a query count that differs, a status error */
    size_t n = results(buf, 3, topks, 0, 0, 1);
    assert_int_equal(vmig_milvus_dec_search(buf, n, "search", 3, h, &err), VMIG_E_PROTOCOL);
    n = results(buf, 3, topks, 0, 0, 0);
    assert_int_equal(vmig_milvus_dec_search(buf, n, "search", 2, h, &err), VMIG_E_PROTOCOL);
    n = results(buf, 3, topks, 0, 101, 0);
    assert_int_not_equal(vmig_milvus_dec_search(buf, n, "cannot search", 3, h, &err), VMIG_OK);
    assert_non_null(strstr(err.msg, "not loaded"));
    assert_int_equal(vmig_milvus_dec_search("\xff\xff", 2, "search", 3, h, &err), VMIG_E_PROTOCOL);
    for (int i = 0; i < 3; i++)
        vmig_hits_release(&h[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qdrant_body),
        cmocka_unit_test(qdrant_hits),
        cmocka_unit_test(milvus_request),
        cmocka_unit_test(milvus_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

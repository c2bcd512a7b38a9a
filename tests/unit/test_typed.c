/*
 * test_typed.c - unit tests of typed payload fields: the row typing of the batch
 * (batch/typed.c: values moved into columns, the rest of the payload kept byte for
 * byte, misfits by policy, escapes, bounds) with a seeded mutation run under
 * ASan/UBSan, and the plan's proposal from payload indexes (mapping/scalars.c:
 * types, nullable from the index's point count, the target's indexes, --field
 * edits and their refusals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "target/milvus_caps.h"
#include "util/datetime.h"
#include "vmig/plan.h"
#include "vmig/profile.h"

static struct vmig_plan_scalar F[4];

/* a layout with typed fields: n (int64 nullable), s (varchar(8)), a (array<int64>[3]), j (json) */
static void layout(struct vmig_layout *lay, enum vmig_misfit_policy misfit, int nullable)
{
    memset(lay, 0, sizeof *lay);
    memset(F, 0, sizeof F);
    lay->coll = "c";
    lay->prefix = "payload_";
    const char *keys[] = {"n", "s", "a", "j"};
    enum vmig_scalar_type ty[] = {VMIG_SC_INT64, VMIG_SC_VARCHAR, VMIG_SC_ARRAY, VMIG_SC_JSON};
    for (int i = 0; i < 4; i++) {
        snprintf(F[i].src, sizeof F[i].src, "%s", keys[i]);
        snprintf(F[i].dst, sizeof F[i].dst, "%s", keys[i]);
        F[i].type = ty[i];
        F[i].nullable = nullable;
        lay->scalar[i] = &F[i];
        lay->scalar_key[i] = F[i].src;
    }
    F[1].max_length = 8;
    F[2].elem = VMIG_SC_INT64;
    F[2].max_capacity = 3;
    lay->nscalars = 4;
    lay->misfit = misfit;
}

/* type one row of payload json; returns the typing's answer, the row closed when 0 */
static int row(struct vmig_batch *b, const struct vmig_layout *lay, const char *json, char *why)
{
    struct vmig_point_id id = {VMIG_ID_NUM, (uint64_t)b->n + 1, {0}};
    const char *key;
    vmig_batch_begin_row(b, &id);
    size_t m0 = b->meta.len;
    vmig_buf_adds(&b->meta, json);
    int rc = vmig_batch_type_row(b, lay, m0, why, 256, &key);
    if (rc == 0)
        vmig_batch_end_row(b);
    else
        vmig_batch_drop_row(b, NULL);
    return rc;
}

static void moves_values_and_keeps_the_rest(void **state)
{
    (void)state;
    struct vmig_layout lay;
    struct vmig_batch b;
    char why[256];
    size_t len;
    layout(&lay, VMIG_MISFIT_DYNAMIC, 1);
    vmig_batch_init(&b, &lay);
    assert_int_equal(row(&b, &lay,
                         "{\"x\":1,\"n\":-9223372036854775808,\"s\":\"\\u00e9t\\u00e9\","
                         "\"a\":[1,2,3],\"j\":{\"k\":[1,{}]},\"y\":\"\\\"q\\\"\"}",
                         why),
                     0);
    const char *m = vmig_batch_meta_at(&b, 0, &len);
    assert_int_equal(len, strlen("{\"x\":1,\"y\":\"\\\"q\\\"\"}"));
    assert_memory_equal(m, "{\"x\":1,\"y\":\"\\\"q\\\"\"}", len);
    const char *v = vmig_batch_scalar_at(&b, 0, 0, &len);
    int64_t n;
    memcpy(&n, v, 8);
    assert_true(n == INT64_MIN);
    v = vmig_batch_scalar_at(&b, 1, 0, &len);
    assert_int_equal(len, 5); /* "été": 2 + 1 + 2 bytes */
    assert_memory_equal(v, "\xc3\xa9t\xc3\xa9", 5);
    v = vmig_batch_scalar_at(&b, 2, 0, &len);
    assert_memory_equal(v, "[1,2,3]", len);
    v = vmig_batch_scalar_at(&b, 3, 0, &len);
    assert_memory_equal(v, "{\"k\":[1,{}]}", len);

    /* missing and null: nulls of nullable fields, and an empty payload stays {} */
    assert_int_equal(row(&b, &lay, "{\"n\":null}", why), 0);
    assert_null(vmig_batch_scalar_at(&b, 0, 1, &len));
    assert_null(vmig_batch_scalar_at(&b, 1, 1, &len));
    m = vmig_batch_meta_at(&b, 1, &len);
    assert_memory_equal(m, "{}", len);

    /* a misfit under dynamic: the field is null, the value stays under payload_<key> */
    uint64_t mis = b.misfits;
    assert_int_equal(row(&b, &lay, "{\"n\":\"n/a\",\"s\":\"123456789\",\"a\":[1,2,3,4]}", why), 0);
    assert_int_equal(b.misfits, mis + 3);
    assert_null(vmig_batch_scalar_at(&b, 0, 2, &len));
    m = vmig_batch_meta_at(&b, 2, &len);
    assert_memory_equal(
        m, "{\"payload_n\":\"n/a\",\"payload_s\":\"123456789\",\"payload_a\":[1,2,3,4]}", len);
    assert_int_equal(b.n, 3);
    vmig_batch_release(&b);
}

static void misfits_by_policy(void **state)
{
    (void)state;
    struct vmig_layout lay;
    struct vmig_batch b;
    char why[256];
    static const struct {
        const char *json, *why;
    } cases[] = {
        {"{\"n\":1.5}", "payload key 'n' is not an integer"},
        {"{\"n\":9223372036854775808}", "payload key 'n' is out of the INT64 range"},
        {"{\"n\":\"7\"}", "payload key 'n' is a string, not an integer"},
        {"{\"n\":1,\"s\":5}", "payload key 's' is not a string"},
        {"{\"n\":1,\"s\":\"a\\u0000b\"}", "payload key 's' holds a NUL character"},
        {"{\"n\":1,\"a\":[1,null]}", "payload key 'a' holds a null element"},
        {"{\"n\":1,\"a\":[1,[2]]}", "payload key 'a' holds a nested array"},
        {"{\"n\":1,\"a\":[1,2.0]}", "payload key 'a' is not an integer"},
        {"{\"s\":\"x\"}", "payload key 'n' is missing, and the field is not nullable"},
    };
    for (int pol = VMIG_MISFIT_REJECT; pol <= VMIG_MISFIT_FAIL; pol++) {
        layout(&lay, (enum vmig_misfit_policy)pol, 0);
        F[1].nullable = F[2].nullable = F[3].nullable = 1;
        vmig_batch_init(&b, &lay);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int rc = row(&b, &lay, cases[i].json, why);
            assert_int_equal(rc, pol == VMIG_MISFIT_REJECT ? 1 : -1);
            assert_non_null(strstr(why, cases[i].why));
        }
        assert_int_equal(b.n, 0);
        assert_int_equal(b.meta.len, 0);
        assert_int_equal(b.sc[0].data.len, 0);
        vmig_batch_release(&b);
    }
    /* dynamic, but the field is not nullable: the value cannot stay in $meta */
    layout(&lay, VMIG_MISFIT_DYNAMIC, 0);
    vmig_batch_init(&b, &lay);
    assert_int_equal(row(&b, &lay, "{\"n\":\"x\",\"s\":\"\",\"a\":[],\"j\":1}", why), 1);
    assert_non_null(strstr(why, "the field is not nullable"));
    vmig_batch_release(&b);
}

/* truncated and corrupted payloads through the typing: no crash, no leak, and every row
 * either typed or refused with a reason */
static void mutations(void **state)
{
    (void)state;
    const char *seed =
        "{\"x\":[1,{\"y\":\"z\\\"\"}],\"n\":12,\"s\":\"ab\\ud83d\\ude00\",\"a\":[3,4],"
        "\"j\":{\"q\":null},\"t\":true}";
    struct vmig_layout lay;
    struct vmig_batch b;
    char why[256], text[256];
    layout(&lay, VMIG_MISFIT_DYNAMIC, 1);
    vmig_batch_init(&b, &lay);
    unsigned r = 12345;
    size_t n = strlen(seed);
    for (int it = 0; it < 20000; it++) {
        memcpy(text, seed, n + 1);
        int edits = 1 + it % 4;
        for (int e = 0; e < edits; e++) {
            r = r * 1103515245u + 12345u;
            size_t at = (r >> 8) % n;
            const char pool[] = "{}[]\",:\\u0n1.e-";
            text[at] = pool[(r >> 20) % (sizeof pool - 1)];
        }
        if (it % 7 == 0) text[(r >> 4) % n] = '\0';
        why[0] = '\0';
        int rc = row(&b, &lay, text, why);
        if (rc) assert_true(why[0] != '\0');
        if (b.n > 64) vmig_batch_reset(&b);
    }
    vmig_batch_release(&b);
}

/* Qdrant's datetime forms as UTC microseconds (util/datetime.c) */
static void datetimes(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t us;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-01-02T03:04:05Z", 0, 1767323045000000},
        {"2026-01-02 03:04:05Z", 0, 1767323045000000},
        {"2026-01-02T03:04:05", 0, 1767323045000000}, /* naive: UTC */
        {"2026-01-02T03:04", 0, 1767323040000000},
        {"2026-01-02", 0, 1767312000000000},
        {"2026-01-02T04:04:05+01:00", 0, 1767323045000000},
        {"2026-01-02T04:04:05+0100", 0, 1767323045000000},
        {"2026-01-02T02:04:05-01", 0, 1767323045000000},
        {"2026-01-02T03:04:05.5Z", 0, 1767323045500000},
        {"2026-01-02T03:04:05.123456789Z", 1, 1767323045123456},
        {"2026-01-02T03:04:05.123456000Z", 0, 1767323045123456},
        {"1969-12-31T23:59:59Z", 0, -1000000},
        {"2024-02-29", 0, 1709164800000000},
        {"2023-02-29", -1, 0},
        {"2026-13-01", -1, 0},
        {"2026-01-02T24:00:00Z", -1, 0},
        {"2026-01-02T03:04:05.Z", -1, 0},
        {"2026-01-02X03:04", -1, 0},
        {"26-01-02", -1, 0},
        {"2026-01-02T03:04:05Z ", -1, 0},
        {"", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 0;
        int rc = vmig_datetime_parse(cases[i].s, strlen(cases[i].s), &us);
        if (rc != cases[i].rc) fail_msg("%s: %d", cases[i].s, rc);
        if (rc >= 0 && us != cases[i].us) fail_msg("%s: %lld", cases[i].s, (long long)us);
    }
}

/* ---- the plan ---------------------------------------------------------------------- */

static void src_with_indexes(struct vmig_src_coll *src)
{
    memset(src, 0, sizeof *src);
    snprintf(src->name, sizeof src->name, "shop");
    src->unnamed = 1;
    src->nvec = 1;
    src->vec[0].size = 4;
    src->vec[0].distance = VMIG_DIST_COSINE;
    src->ids_probed = 1;
    src->points_approx = 100;
    const struct {
        const char *k;
        enum vmig_payload_index t;
        uint64_t pts;
    } ix[] = {{"cat", VMIG_PIDX_KEYWORD, 100}, {"price", VMIG_PIDX_FLOAT, 100},
              {"qty", VMIG_PIDX_INTEGER, 97},  {"on", VMIG_PIDX_BOOL, 100},
              {"at", VMIG_PIDX_DATETIME, 100}, {"ref", VMIG_PIDX_UUID, 100},
              {"geo", VMIG_PIDX_GEO, 100},     {"a.b", VMIG_PIDX_KEYWORD, 100}};
    for (size_t i = 0; i < sizeof ix / sizeof ix[0]; i++) {
        snprintf(src->index[i].key, sizeof src->index[i].key, "%s", ix[i].k);
        src->index[i].type = ix[i].t;
        src->index[i].points = ix[i].pts;
    }
    src->nindexes = sizeof ix / sizeof ix[0];
}

static const struct vmig_plan_scalar *field(const struct vmig_plan_coll *pc, const char *k)
{
    return vmig_plan_scalar_of(pc, k);
}

static void plan_proposal(void **state)
{
    (void)state;
    static struct vmig_src_coll src;
    static struct vmig_plan_coll pc;
    struct vmig_map_opts o;
    struct vmig_target_caps lite, m23;
    vmig_milvus_caps("milvus_lite-3.2.2", 0, &lite);
    vmig_milvus_caps("v2.3.5", 0, &m23);
    src_with_indexes(&src);

    vmig_map_opts_init(&o);
    o.target = &lite;
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_int_equal(pc.nscalars, 7);
    assert_int_equal(field(&pc, "cat")->type, VMIG_SC_VARCHAR);
    assert_int_equal(field(&pc, "cat")->index, VMIG_SIDX_INVERTED);
    assert_int_equal(field(&pc, "price")->type, VMIG_SC_DOUBLE);
    assert_true(field(&pc, "qty")->nullable); /* 97 of 100 points */
    assert_false(field(&pc, "price")->nullable);
    assert_int_equal(field(&pc, "ref")->max_length, 36);
    assert_int_equal(field(&pc, "geo")->type, VMIG_SC_GEOMETRY);   /* Lite has it */
    assert_int_equal(field(&pc, "at")->type, VMIG_SC_TIMESTAMPTZ); /* and this */
    assert_int_equal(field(&pc, "geo")->index, VMIG_SIDX_NONE);
    assert_null(field(&pc, "a.b")); /* a nested path stays in $meta */

    o.target = &m23;
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_null(field(&pc, "qty"));                            /* needs nullable */
    assert_int_equal(field(&pc, "at")->type, VMIG_SC_VARCHAR); /* 2.3.5: the text */
    assert_int_equal(field(&pc, "geo")->type, VMIG_SC_JSON);   /* and {"lon", "lat"} */
    int noted = 0;
    for (size_t i = 0; i < pc.nnotes; i++)
        noted |= strstr(pc.notes[i], "'qty'") && strstr(pc.notes[i], "nullable") &&
                 strstr(pc.notes[i], "2.5.0");
    assert_true(noted);
    assert_int_equal(field(&pc, "price")->index, VMIG_SIDX_STL_SORT);
    assert_int_equal(field(&pc, "cat")->index, VMIG_SIDX_TRIE);
    assert_int_equal(field(&pc, "on")->index, VMIG_SIDX_NONE);

    /* edits: promote, retype, demote, partition key; the refusals */
    struct vmig_err err;
    vmig_map_opts_release(&o);
    vmig_map_opts_init(&o);
    o.target = &lite;
    assert_int_equal(vmig_map_opts_add(
                         &o, "field", "shop.tags=ARRAY_VARCHAR:max_capacity=8,max_length=16", &err),
                     VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "field", "shop.geo=dynamic", &err), VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "field",
                                       "shop.cat=VARCHAR:max_length=64,partition_key,partitions=4",
                                       &err),
                     VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "rename", "shop.price=cost", &err), VMIG_OK);
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_int_equal(field(&pc, "tags")->type, VMIG_SC_ARRAY);
    assert_int_equal(field(&pc, "tags")->max_capacity, 8);
    assert_null(field(&pc, "geo"));
    assert_true(field(&pc, "cat")->partition_key);
    assert_int_equal(pc.num_partitions, 4);
    assert_string_equal(field(&pc, "price")->dst, "cost");
    assert_int_equal(vmig_map_opts_check_unused(&o, &err), VMIG_OK);
    /* a plan file round trip keeps all of it */
    char *js = vmig_plan_coll_to_json(&pc, 0);
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_addf(&b, "{\"collections\":[%s]}", js);
    struct vmig_plan p;
    assert_int_equal(vmig_plan_from_json(b.p, &p, &err), VMIG_OK);
    assert_int_equal(p.coll[0].nscalars, pc.nscalars);
    assert_memory_equal(p.coll[0].scalar, pc.scalar, pc.nscalars * sizeof pc.scalar[0]);
    assert_int_equal(p.coll[0].num_partitions, 4);
    vmig_plan_release(&p);
    vmig_buf_release(&b);
    free(js);
    vmig_map_opts_release(&o);

    static const struct {
        const char *edit, *why;
    } bad[] = {
        {"shop.qty=INT64:partition_key", "cannot be nullable"},
        {"shop.price=DOUBLE:index=BITMAP", "BITMAP index does not take DOUBLE"},
        {"shop.cat=VARCHAR:max_length=70000", "max_length must be 1 to 65535"},
        {"shop.price=INT128", "'INT128' is not a type"},
        {"shop.price=DOUBLE:color=red", "'color=red' is not an option"},
        {"shop.on=BOOL:default=maybe", "the default 'maybe' is not a BOOL value"},
        {"shop.cat=JSON:index=INVERTED", "needs a path"},
        {"shop.geo=GEOMETRY:index=INVERTED", "a GEOMETRY field takes no INVERTED index"},
        {"shop.at=TIMESTAMPTZ:default=1", "no default value for a TIMESTAMPTZ field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vmig_map_opts_init(&o);
        o.target = &lite;
        assert_int_equal(vmig_map_opts_add(&o, "field", bad[i].edit, &err), VMIG_OK);
        assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_E_USAGE);
        if (!strstr(pc.refusal.msg, bad[i].why)) fail_msg("%s: %s", bad[i].edit, pc.refusal.msg);
        assert_int_equal(pc.refusal.fix, VMIG_FIX_TYPED_FIELD);
        vmig_map_opts_release(&o);
    }
    /* a profiled keyword of few values gets BITMAP where the target has it (2.5) */
    static struct vmig_profile prof;
    struct vmig_target_caps m25;
    vmig_milvus_caps("v2.5.4", 0, &m25);
    vmig_profile_init(&prof);
    prof.full = 1;
    for (int i = 0; i < 100; i++)
        vmig_profile_add(&prof, i % 2 ? "{\"cat\":\"a\",\"ref\":\"x\"}" : "{\"cat\":\"b\"}",
                         i % 2 ? 22 : 11);
    src.profile = &prof;
    vmig_map_opts_init(&o);
    o.target = &m25;
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_int_equal(field(&pc, "cat")->index, VMIG_SIDX_BITMAP);
    assert_int_equal(field(&pc, "cat")->max_length, 16);
    assert_int_equal(field(&pc, "on")->index, VMIG_SIDX_BITMAP);
    assert_int_equal(field(&pc, "price")->index, VMIG_SIDX_STL_SORT);
    o.target = &lite; /* no BITMAP on Lite */
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_int_equal(field(&pc, "cat")->index, VMIG_SIDX_INVERTED);
    vmig_map_opts_release(&o);
    src.profile = NULL;
    /* a payload index on "id" (the primary key's name) gets a field of its own name */
    snprintf(src.index[src.nindexes].key, sizeof src.index[0].key, "id");
    src.index[src.nindexes].type = VMIG_PIDX_KEYWORD;
    src.index[src.nindexes++].points = 100;
    vmig_map_opts_init(&o);
    o.target = &lite;
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_OK);
    assert_string_equal(field(&pc, "id")->dst, "id_2");
    vmig_map_opts_release(&o);
    src.nindexes--;
    /* nullable on a target without it names the release that has it */
    vmig_map_opts_init(&o);
    o.target = &m23;
    assert_int_equal(vmig_map_opts_add(&o, "field", "shop.qty=INT64", &err), VMIG_OK);
    assert_int_equal(vmig_plan_coll_build(&src, &o, &pc), VMIG_E_USAGE);
    assert_non_null(strstr(pc.refusal.msg, "does not support nullable fields (Milvus 2.5.0"));
    assert_string_equal(pc.refusal.field, "qty");
    vmig_map_opts_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moves_values_and_keeps_the_rest),
        cmocka_unit_test(misfits_by_policy),
        cmocka_unit_test(mutations),
        cmocka_unit_test(plan_proposal),
        cmocka_unit_test(datetimes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

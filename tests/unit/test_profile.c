/*
 * test_profile.c - unit tests of the payload profile (mapping/profile.c and
 * profile_json.c) on hand-written payload rows: types as written (1.0 and 1e5 are
 * floats), string bytes after unescaping (\u00e9 = 2, a surrogate pair = 4), ints at
 * and beyond the int64 bounds, nested arrays, nulls, more keys than a profile
 * tracks, malformed rows counted and skipped; the JSON round trip, the estimate and
 * a seeded mutation run under ASan/UBSan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "vmig/plan.h"
#include "vmig/profile.h"

#define BIT(t) (1u << (t))

static void add(struct vmig_profile *p, const char *json)
{
    vmig_profile_add(p, json, strlen(json));
}

static const struct vmig_profile_key *key(const struct vmig_profile *p, const char *k)
{
    const struct vmig_profile_key *e = vmig_profile_find(p, k);
    assert_non_null(e);
    return e;
}

static void types_and_numbers(void **state)
{
    static struct vmig_profile p;
    vmig_profile_init(&p);
    add(&p, "{\"n\":1,\"f\":1.0,\"e\":1e5,\"b\":true,\"z\":null,\"s\":\"ab\"}");
    add(&p, "{\"n\":-9223372036854775808,\"f\":2,\"b\":false,\"z\":null}");
    add(&p, "{\"n\":9223372036854775807}");
    add(&p, "{\"n\":9223372036854775808}");
    add(&p, "{\"n\":-9223372036854775809, \"o\": {\"a\": [1, {\"b\": []}]}}");
    assert_int_equal(p.points, 5);
    assert_int_equal(p.malformed, 0);
    const struct vmig_profile_key *n = key(&p, "n");
    assert_int_equal(n->types, BIT(VMIG_JT_INT));
    assert_int_equal(n->present, 5);
    assert_true(n->has_int);
    assert_true(n->int_min == INT64_MIN);
    assert_true(n->int_max == INT64_MAX);
    assert_int_equal(n->int_big, 2);
    assert_int_equal(key(&p, "f")->types, BIT(VMIG_JT_FLOAT) | BIT(VMIG_JT_INT));
    assert_int_equal(key(&p, "e")->types, BIT(VMIG_JT_FLOAT));
    assert_false(key(&p, "e")->has_int);
    assert_int_equal(key(&p, "b")->types, BIT(VMIG_JT_BOOL));
    const struct vmig_profile_key *z = key(&p, "z");
    assert_int_equal(z->types, BIT(VMIG_JT_NULL));
    assert_int_equal(z->present, 2);
    assert_int_equal(z->nulls, 2);
    assert_int_equal(key(&p, "s")->str_max, 2);
    assert_int_equal(key(&p, "s")->bytes, 4); /* "ab" with its quotes */
    const struct vmig_profile_key *o = key(&p, "o");
    assert_int_equal(o->types, BIT(VMIG_JT_OBJECT));
    assert_int_equal(o->depth, 4); /* {a: [1, {b: []}]} */
    assert_null(vmig_profile_find(&p, "missing"));
}

static void strings_and_arrays(void **state)
{
    static struct vmig_profile p;
    vmig_profile_init(&p);
    add(&p, "{\"s\":\"\\u00e9\",\"a\":[1,2,3],\"t\":\"x\\\"y\\\\\"}");
    add(&p,
        "{\"s\":\"\\ud83d\\ude00\",\"a\":[\"\\u00e9t\\u00e9\",[1,[2]],null,1.5],\"t\":\"\\n\"}");
    add(&p, "{\"s\":\"caf\xc3\xa9\",\"a\":[],\"u\":\"\\ud800x\"}");
    add(&p, "{\"a\":null}");
    assert_int_equal(key(&p, "s")->str_max, 5); /* raw "café" */
    assert_int_equal(key(&p, "t")->str_max, 4); /* x"y\ */
    assert_int_equal(key(&p, "u")->str_max, 4); /* lone surrogate as U+FFFD + x */
    const struct vmig_profile_key *a = key(&p, "a");
    assert_int_equal(a->types, BIT(VMIG_JT_ARRAY) | BIT(VMIG_JT_NULL));
    assert_int_equal(a->elem_types, BIT(VMIG_JT_INT) | BIT(VMIG_JT_STRING) | BIT(VMIG_JT_ARRAY) |
                                        BIT(VMIG_JT_NULL) | BIT(VMIG_JT_FLOAT));
    assert_int_equal(a->arr_max, 4);
    assert_int_equal(a->str_max, 5); /* "été" */
    assert_int_equal(a->int_min, 1);
    assert_int_equal(a->int_max, 3);
    assert_int_equal(a->depth, 3); /* [.., [1, [2]]] */
    assert_int_equal(a->present, 4);
    assert_int_equal(a->nulls, 1);

    struct vmig_profile q;
    vmig_profile_init(&q);
    add(&q, "{\"s\":\"\\ud83d\\ude00\"}");
    assert_int_equal(key(&q, "s")->str_max, 4);
    add(&q, "{\"k\\u00e9\":1,\"k\\u0000\":2}"); /* a NUL in a key: counted, not tracked */
    assert_non_null(vmig_profile_find(&q, "k\xc3\xa9"));
    assert_int_equal(q.other_keys, 1);
}

static void many_keys(void **state)
{
    static struct vmig_profile p;
    struct vmig_buf b;
    vmig_buf_init(&b, 0);
    vmig_buf_addch(&b, '{');
    for (int i = 0; i < VMIG_PROFILE_KEYS + 10; i++)
        vmig_buf_addf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    vmig_buf_addch(&b, '}');
    vmig_profile_init(&p);
    vmig_profile_add(&p, b.p, b.len);
    vmig_profile_add(&p, b.p, b.len);
    assert_int_equal(p.nkeys, VMIG_PROFILE_KEYS);
    assert_int_equal(p.other_keys, 20);
    assert_int_equal(key(&p, "k255")->present, 2);
    vmig_buf_release(&b);
}

static void malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":tru}",
        "{\"a\":\"x}",
        "{\"a\":1}x",
        "{\"a\":\"\\q\"}",
        "{\"a\":[1 2]}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":-}",
        "{a:1}",
        "null",
    };
    static struct vmig_profile p;
    vmig_profile_init(&p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        add(&p, bad[i]);
    assert_int_equal(p.points, sizeof bad / sizeof bad[0]);
    assert_int_equal(p.malformed, sizeof bad / sizeof bad[0] - 1); /* "" = no payload */
    assert_int_equal(p.nkeys, 0);
    assert_int_equal(p.payload_bytes, 0);
    add(&p, " { } ");
    assert_int_equal(p.malformed, sizeof bad / sizeof bad[0] - 1);
}

static void json_round_trip_and_estimate(void **state)
{
    static struct vmig_profile p, q;
    struct vmig_err err;
    vmig_profile_init(&p);
    add(&p, "{\"n\":-5,\"s\":\"\\u00e9\",\"a\":[1,2]}");
    add(&p, "{\"n\":7,\"z\":null}");
    p.total = 10;
    p.read_s = 0.5;
    p.vector_bytes = 2 * 16;
    struct vmig_plan_coll pc;
    memset(&pc, 0, sizeof pc);
    pc.nfields = 1;
    pc.field[0].kind = VMIG_VEC_DENSE;
    pc.field[0].dim = 4;
    pc.pk_type = VMIG_PK_INT64;
    vmig_profile_estimate(&p, &pc);
    assert_int_equal(p.est.vector_bytes, 10 * 16);
    assert_int_equal(p.est.meta_bytes, p.payload_bytes * 5);
    assert_int_equal(p.est.scalar_bytes, 0);
    assert_true(p.est.read_pps == 4.0);
    assert_true(p.est.copy_s == 2.5);

    char *s = vmig_profile_to_json(&p, 0);
    assert_int_equal(vmig_profile_from_json(s, &q, &err), VMIG_OK);
    assert_int_equal(q.nkeys, p.nkeys);
    assert_int_equal(vmig_profile_find(&p, "n")->distinct, 2); /* -5 and 7 */
    assert_int_equal(vmig_profile_find(&p, "a")->distinct, 0); /* arrays are not counted */
    for (size_t k = 0; k < p.nkeys; k++) /* the hashes stay in memory; the count travels */
        memset(p.key[k].value_hash, 0, sizeof p.key[k].value_hash);
    assert_memory_equal(q.key, p.key, p.nkeys * sizeof p.key[0]);
    assert_memory_equal(&q.est, &p.est, sizeof p.est);
    char *t = vmig_profile_to_json(&q, 0);
    assert_string_equal(s, t);
    assert_non_null(strstr(s, "\"sample\":\"first 2\""));
    assert_non_null(strstr(s, "\"types\":[\"int\"]"));
    free(s);
    free(t);

    assert_int_equal(vmig_profile_from_json("{\"keys\":{\"a\":{\"types\":[\"text\"]}}}", &q, &err),
                     VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "profile.keys.a.types"));
    assert_int_equal(vmig_profile_from_json("{\"point\":1}", &q, &err), VMIG_E_USAGE);
    assert_int_equal(vmig_profile_from_json("[", &q, &err), VMIG_E_USAGE);

    struct vmig_buf b;
    vmig_buf_init(&b, 0);
    vmig_profile_describe(&p, &b);
    assert_non_null(strstr(b.p, "-5..7"));
    assert_non_null(strstr(b.p, "array [int]"));
    assert_non_null(strstr(b.p, "estimate"));
    vmig_buf_release(&b);
}

static void mutations(void **state)
{
    static const char *const seeds[] = {
        "{\"a\":[1,{\"b\":\"\\ud83d\\ude00\"}],\"c\":-1.5e3,\"d\":null,\"e\":\"\\u00e9\"}",
        "{\"x\":9223372036854775808,\"y\":[[[[]]]],\"z\":{\"q\":true}}",
    };
    static struct vmig_profile p;
    unsigned seed = 13;
    vmig_profile_init(&p);
    for (size_t s = 0; s < 2; s++) {
        size_t len = strlen(seeds[s]);
        char *t = malloc(len);
        for (int round = 0; round < 20000; round++) {
            memcpy(t, seeds[s], len);
            for (int k = 0; k < 1 + round % 4; k++)
                t[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
            size_t cut = round % 3 ? len : (size_t)rand_r(&seed) % (len + 1);
            vmig_profile_add(&p, t, cut);
        }
        free(t);
    }
    char deep[1000];
    memset(deep, '[', sizeof deep);
    memcpy(deep, "{\"a\":", 5);
    vmig_profile_add(&p, deep, sizeof deep); /* nesting beyond the bound: malformed, no overflow */
    assert_int_equal(p.points, 40001);
    assert_true(p.malformed > 0);
    char *j = vmig_profile_to_json(&p, 1);
    static struct vmig_profile q;
    struct vmig_err err;
    assert_int_equal(vmig_profile_from_json(j, &q, &err), VMIG_OK);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_and_numbers),
        cmocka_unit_test(strings_and_arrays),
        cmocka_unit_test(many_keys),
        cmocka_unit_test(malformed),
        cmocka_unit_test(json_round_trip_and_estimate),
        cmocka_unit_test(mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_json_canon.c - unit tests of JSON value comparison (util/json_canon.c): the
 * cases verification got wrong with jansson (integers above 2^63-1, "\u0000",
 * decimals compared as doubles), escapes, key order, and a seeded mutation run that
 * feeds truncated and corrupted texts through the parser under ASan/UBSan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_canon.h"

static int eq(const char *a, const char *b)
{
    return vmig_json_equal(a, strlen(a), b, strlen(b));
}

static void equal_values(void **state)
{
    assert_int_equal(eq("{\"a\":1,\"b\":[true,null]}", " { \"b\" : [ true , null ] , \"a\" : 1 } "),
                     1);
    assert_int_equal(eq("18446744073709551616", "18446744073709551616"), 1);
    assert_int_equal(eq("{\"n\":18446744073709551616}", "{\"n\":1.8446744073709551616e19}"), 1);
    assert_int_equal(eq("1", "1.0"), 1);
    assert_int_equal(eq("100", "1e2"), 1);
    assert_int_equal(eq("0.5", "5E-1"), 1);
    assert_int_equal(eq("0", "-0.0"), 1);
    assert_int_equal(eq("\"a\\u0000b\"", "\"a\\u0000b\""), 1);
    assert_int_equal(eq("\"\\u00e9\"", "\"\xc3\xa9\""), 1);
    assert_int_equal(eq("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""), 1);
    assert_int_equal(eq("\"\\/\\n\"", "\"/\\u000a\""), 1);
    assert_int_equal(eq("{}", " {} "), 1);
    assert_int_equal(eq("[]", "[ ]"), 1);
}

static void different_values(void **state)
{
    /* one unit in the 20th digit: a double cannot tell these apart */
    assert_int_equal(eq("12345678901234567890", "12345678901234567891"), 0);
    assert_int_equal(eq("0.1000000000000000055511151231257827", "0.1"), 0);
    assert_int_equal(eq("\"a\\u0000b\"", "\"a\""), 0);
    assert_int_equal(eq("\"a\\u0000b\"", "\"ab\""), 0);
    assert_int_equal(eq("-1", "1"), 0);
    assert_int_equal(eq("1", "\"1\""), 0);
    assert_int_equal(eq("{\"a\":1}", "{\"a\":1,\"b\":1}"), 0);
    assert_int_equal(eq("[1,2]", "[2,1]"), 0);
    assert_int_equal(eq("null", "false"), 0);
    /* a key that is a prefix of another must not be confused with it */
    assert_int_equal(eq("{\"ab\":\"c\"}", "{\"a\":\"bc\"}"), 0);
}

static void invalid_texts(void **state)
{
    const char *bad[] = {"",    "{",   "[1,]",       "{\"a\"}",  "01",        "1.",
                         "-",   "1e",  "\"abc",      "\"\\x\"",  "\"\\u12\"", "tru",
                         "nul", "1 2", "{\"a\":1,}", "\"a\nb\"", "[",         "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct vmig_buf b;
        vmig_buf_init(&b, 0);
        if (vmig_json_canon(bad[i], strlen(bad[i]), &b) != -1) fail_msg("accepted: %s", bad[i]);
        vmig_buf_release(&b);
        assert_int_equal(eq(bad[i], "1"), -1);
    }
    /* nesting deeper than the limit is refused, not a stack overflow */
    size_t n = 100000;
    char *deep = malloc(2 * n);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    struct vmig_buf b;
    vmig_buf_init(&b, 0);
    assert_int_equal(vmig_json_canon(deep, 2 * n, &b), -1);
    vmig_buf_release(&b);
    free(deep);
}

/* Seeded mutations of valid payloads: every prefix and thousands of byte flips go
 * through the parser; ASan/UBSan in the dev build turn any overrun into a failure. */
static void mutations(void **state)
{
    const char *seeds[] = {
        "{\"title\":\"caf\\u00e9 \\ud83d\\ude00\",\"n\":-12.5e-3,\"big\":123456789012345678901234,"
        "\"tags\":[\"a\",\"b\",{\"x\":null,\"y\":[true,false,[]]}],\"z\":\"\\u0000\\\"\\\\\"}",
        "[0,-0,1e308,1E-400,0.000,\"\\/\",{\"\":{}}]",
    };
    unsigned seed = 12345;
    for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
        size_t len = strlen(seeds[s]);
        char *t = malloc(len);
        for (size_t cut = 0; cut <= len; cut++) {
            memcpy(t, seeds[s], cut);
            struct vmig_buf b;
            vmig_buf_init(&b, 0);
            int rc = vmig_json_canon(t, cut, &b);
            if (cut == len) assert_int_equal(rc, 0);
            vmig_buf_release(&b);
        }
        for (int round = 0; round < 20000; round++) {
            memcpy(t, seeds[s], len);
            int flips = 1 + rand_r(&seed) % 3;
            for (int f = 0; f < flips; f++)
                t[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
            struct vmig_buf b;
            vmig_buf_init(&b, 0);
            (void)vmig_json_canon(t, len, &b);
            vmig_buf_release(&b);
        }
        free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_values),
        cmocka_unit_test(different_values),
        cmocka_unit_test(invalid_texts),
        cmocka_unit_test(mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

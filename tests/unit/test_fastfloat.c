/*
 * test_fastfloat.c - proves vmig_parse_f32() bit-identical to strtof(): millions of
 * float32 bit patterns (random plus edge cases: zeros, subnormals, FLT_MIN/MAX,
 * powers of two and ten and their neighbours) formatted as Qdrant does (shortest
 * round-trip) and as %.9g and %.17g, plus random decimal mantissa/exponent pairs
 * around the fast path's limits. The full 2^32 sweep is `bench_scroll_codec --sweep`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>

#include "source/fastfloat.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t nchecked;

static void check_text(const char *t)
{
    float want = strtof(t, NULL), got = 0;
    const char *end = NULL;
    size_t n = strlen(t);
    int rc = vmig_parse_f32(t, t + n, &got, &end);
    if (isinf(want)) {
        assert_int_equal(rc, -2);
        return;
    }
    uint32_t a, b;
    memcpy(&a, &want, 4);
    memcpy(&b, &got, 4);
    if (rc != 0 || a != b || end != t + n)
        fail_msg("'%s': strtof 0x%08x, vmig_parse_f32 0x%08x (rc %d)", t, a, b, rc);
    nchecked++;
}

static void check_bits(uint32_t bits)
{
    float f;
    char t[64];
    memcpy(&f, &bits, 4);
    if (isnan(f) || isinf(f)) return;
    for (int prec = 6; prec <= 9; prec++) { /* Qdrant's form: shortest that round-trips */
        snprintf(t, sizeof t, "%.*g", prec, (double)f);
        if (strtof(t, NULL) == f) break;
    }
    check_text(t);
    snprintf(t, sizeof t, "%.9g", (double)f);
    check_text(t);
    snprintf(t, sizeof t, "%.17g", (double)f);
    check_text(t);
}

static void random_bits(void **state)
{
    for (int i = 0; i < 150000; i++) check_bits((uint32_t)next_rand());
    /* values a vector actually holds: |x| < 4, dense in [-1, 1] */
    for (int i = 0; i < 60000; i++) {
        float f = (float)((double)(next_rand() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        uint32_t b;
        memcpy(&b, &f, 4);
        check_bits(b);
    }
}

static void edge_bits(void **state)
{
    for (uint32_t b = 0; b < 20000; b++) { /* zero and the smallest subnormals */
        check_bits(b);
        check_bits(b | 0x80000000u);
    }
    for (uint32_t b = 0x007fffffu - 20000; b <= 0x00800000u + 20000; b++) check_bits(b); /* FLT_MIN */
    for (uint32_t b = 0x7f7fffffu - 20000; b <= 0x7f7fffffu; b++) check_bits(b);         /* FLT_MAX */
    for (int e = 0; e < 255; e++) /* powers of two and neighbours */
        for (int d = -3; d <= 3; d++) check_bits((uint32_t)((e << 23) + d) & 0x7fffffffu);
    for (int e = -46; e <= 39; e++) { /* powers of ten and neighbours */
        float f;
        char t[16];
        snprintf(t, sizeof t, "1e%d", e);
        f = strtof(t, NULL);
        check_text(t);
        uint32_t b;
        memcpy(&b, &f, 4);
        for (int d = -50; d <= 50; d++) check_bits(b + (uint32_t)d);
    }
}

static void decimal_grid(void **state)
{
    /* mantissas of 1..20 digits with exponents around +-22: both sides of the fast
     * path's limits (19 digits, 2^53, |e| <= 22) */
    char t[64];
    for (int i = 0; i < 100000; i++) {
        int digits = 1 + (int)(next_rand() % 20);
        uint64_t m = next_rand();
        char ms[32];
        snprintf(ms, sizeof ms, "%llu", (unsigned long long)m);
        ms[digits < (int)strlen(ms) ? digits : (int)strlen(ms)] = '\0';
        int e = (int)(next_rand() % 61) - 30;
        int form = (int)(next_rand() % 3);
        if (form == 0) snprintf(t, sizeof t, "%se%d", ms, e);
        else if (form == 1) snprintf(t, sizeof t, "-0.%s", ms);
        else snprintf(t, sizeof t, "%.1s.%sE%+d", ms, ms + 1, e);
        if (form == 2 && !ms[1]) snprintf(t, sizeof t, "%s.0", ms);
        check_text(t);
    }
    /* exactly at 2^53 and just above */
    check_text("9007199254740992");
    check_text("9007199254740993");
    check_text("9007199254740993e-22");
    check_text("16777217");
    check_text("0.000000000000000000000016777217");
    print_message("checked %zu strings\n", nchecked);
}

static void grammar(void **state)
{
    const char *ok[] = {"0", "-0", "0.5", "1e5", "1E+5", "-1.5e-3", "123456789", "0.0"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) check_text(ok[i]);
    float f = 1;
    const char *end, *s = "-0";
    assert_int_equal(vmig_parse_f32(s, s + 2, &f, &end), 0);
    assert_true(signbit(f));
    const char *bad[] = {"", "-", ".5", "1.", "1e", "1e+", "+1", "x", "-.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(vmig_parse_f32(bad[i], bad[i] + strlen(bad[i]), &f, &end), -1);
    s = "12,";
    assert_int_equal(vmig_parse_f32(s, s + 3, &f, &end), 0);
    assert_ptr_equal(end, s + 2);
    s = "1e39";
    assert_int_equal(vmig_parse_f32(s, s + 4, &f, &end), -2);
    /* the bounded end is honoured: "12" cut after one byte is 1 */
    s = "12";
    assert_int_equal(vmig_parse_f32(s, s + 1, &f, &end), 0);
    assert_true(f == 1.0f);
    /* fast path used for Qdrant-style numbers */
    s = "0.012345678";
    assert_int_equal(vmig_parse_f32_fast(s, s + strlen(s), &f, &end), 1);
    s = "1.4e-45";
    assert_int_equal(vmig_parse_f32_fast(s, s + strlen(s), &f, &end), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grammar),
        cmocka_unit_test(edge_bits),
        cmocka_unit_test(random_bits),
        cmocka_unit_test(decimal_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fastfloat.c - exact decimal -> float32 for the scroll scanner's hot loop.
 *
 * Fast path (Clinger's, applied to float32): a decimal with at most 19 significant
 * digits whose integer mantissa m fits in 2^53 and whose decimal exponent e has
 * |e| <= 22 is computed as (double)m * 10^e or (double)m / 10^-e. m and 10^|e| are
 * exact doubles, so that is one correctly rounded IEEE double operation; rounding the
 * double result to float then gives the correctly rounded float of the exact value,
 * because double rounding is innocuous for +,-,*,/ when p >= 2q + 2 (Figueroa, "When
 * is double rounding innocuous?", 1995): p = 53 >= 2*24 + 2 = 50. The operand ranges
 * keep the result a normal double and a finite, normal float (1e-22 <= |x| <= 9e37),
 * so no subnormal or overflow case enters the argument. Everything else (long
 * mantissas, big exponents, subnormals) falls back to strtof(), which glibc rounds
 * correctly. tests/unit/test_fastfloat.c checks the whole thing bit-for-bit.
 */
#include "fastfloat.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

/* Scan the JSON number grammar. Fills the mantissa (first 19 significant digits),
 * the count of significant digits, and the decimal exponent to apply to the mantissa.
 * Returns 0 and *endp, or -1 on a grammar error. */
static int scan(const char *p, const char *end, int *neg, uint64_t *mant, int *nsig,
                long *exp10, const char **endp)
{
    const char *s = p;
    uint64_t m = 0;
    int ns = 0;   /* significant digits seen (after leading zeros) */
    long drop = 0; /* integer digits not stored in m (beyond 19) */
    long frac = 0; /* fraction digits stored in m */
    *neg = 0;
    if (s < end && *s == '-') {
        *neg = 1;
        s++;
    }
    if (s >= end || !IS_DIGIT(*s)) return -1;
    if (*s == '0') {
        s++;
    } else {
        while (s < end && IS_DIGIT(*s)) {
            if (ns < 19) m = m * 10 + (uint64_t)(*s - '0');
            else drop++;
            ns++;
            s++;
        }
    }
    if (s < end && *s == '.') {
        s++;
        if (s >= end || !IS_DIGIT(*s)) return -1;
        while (s < end && IS_DIGIT(*s)) {
            if (ns == 0 && *s == '0') {
                frac++; /* leading zeros of a fraction only scale */
            } else if (ns < 19) {
                m = m * 10 + (uint64_t)(*s - '0');
                frac++;
                ns++;
            } else {
                ns++;
            }
            s++;
        }
    }
    long e = 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0;
        s++;
        if (s < end && (*s == '+' || *s == '-')) {
            eneg = *s == '-';
            s++;
        }
        if (s >= end || !IS_DIGIT(*s)) return -1;
        while (s < end && IS_DIGIT(*s)) {
            if (e < 100000) e = e * 10 + (*s - '0');
            s++;
        }
        if (eneg) e = -e;
    }
    *mant = m;
    *nsig = ns;
    *exp10 = e + drop - frac;
    *endp = s;
    return 0;
}

static int fast(int neg, uint64_t m, int ns, long e, float *out)
{
    if (ns > 19 || m > (UINT64_C(1) << 53) || e < -22 || e > 22) return 0;
    double d = (double)m;
    if (e < 0) d /= pow10_tab[-e];
    else d *= pow10_tab[e];
    float f = (float)d;
    *out = neg ? -f : f;
    return 1;
}

int vmig_parse_f32_fast(const char *p, const char *end, float *out, const char **endp)
{
    int neg, ns;
    uint64_t m;
    long e;
    if (scan(p, end, &neg, &m, &ns, &e, endp) != 0) return 0;
    return fast(neg, m, ns, e, out);
}

int vmig_parse_f32(const char *p, const char *end, float *out, const char **endp)
{
    int neg, ns;
    uint64_t m;
    long e;
    if (scan(p, end, &neg, &m, &ns, &e, endp) != 0) return -1;
    if (fast(neg, m, ns, e, out)) return 0;
    /* Slow path: strtof on a NUL-terminated copy (the JSON grammar was checked above,
     * so strtof cannot wander into hex floats or "inf"). */
    size_t n = (size_t)(*endp - p);
    char small[128], *tmp = n < sizeof small ? small : xmalloc(n + 1);
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    float f = strtof(tmp, NULL);
    int rc = 0;
    if (isinf(f)) rc = -2;
    if (tmp != small) free(tmp);
    *out = f;
    return rc;
}

/*
 * qdrant_scan.c - the scroll/retrieve page scanner, the hot path of the read side
 * (tens of MB/s of float text); see qdrant_codec.h. A hand-written single pass that
 * validates the JSON as it goes, writes floats straight into the batch's column
 * slots and payload text straight into the batch's meta buffer (with the null, key
 * conflict and size rules applied on the way), without building a tree.
 */
#include "qdrant_codec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/fastfloat.h"
#include "util/alloc.h"

#define MAX_DEPTH 128

struct scan {
    const char *base, *p, *end;
    const struct vmig_layout *lay;
    struct vmig_batch *b;
    struct vmig_err *err;
    size_t srclen[VMIG_MAX_VECTOR_FIELDS];
    /* the open record */
    struct vmig_point_id id;
    int have_id;
    unsigned seen; /* columns written for the open record */
    /* scratch for sparse vectors */
    uint32_t *idx;
    float *val;
    size_t idxcap, valcap;
    struct vmig_qdrant_scratch sc;
    /* payload path, for the null message */
    struct vmig_qdrant_pathseg
        path[MAX_DEPTH + 2]; /* path[depth + 1] is written with depth <= MAX_DEPTH */
};

static inline void ws(struct scan *s)
{
    while (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t') s->p++;
}

/* Malformed input. Running into the end of the body means the answer was cut
 * short (a connection dropped mid-body): that is retryable. */
static enum vmig_code bad(struct scan *s, const char *what)
{
    enum vmig_code rc;
    if (s->p >= s->end)
        rc = vmig_err_set(s->err, VMIG_E_UNAVAILABLE,
                          "answer for collection '%s' is truncated at byte %zu", s->lay->coll,
                          (size_t)(s->end - s->base));
    else
        rc = vmig_err_set(s->err, VMIG_E_PROTOCOL,
                          "malformed answer for collection '%s' at byte %zu: %s", s->lay->coll,
                          (size_t)(s->p - s->base), what);
    vmig_err_at(s->err, s->lay->coll, NULL, NULL);
    return rc;
}

/* A point that cannot be migrated. field: the Qdrant vector name or payload key the
 * message names (NULL: none; the unnamed vector is ""). The message names the point
 * and the collection, and so do err->point and err->coll. */
static enum vmig_code data_err(struct scan *s, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum vmig_code data_err(struct scan *s, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum vmig_code rc = vmig_qdrant_point_verr(s->err, s->lay, s->have_id ? &s->id : NULL, field,
                                               fmt, ap);
    va_end(ap);
    return rc;
}

#define vec_label vmig_qdrant_vec_label

/* A string at s->p ('"'): validate, return the raw contents [*a, *a + *n). */
static enum vmig_code string(struct scan *s, const char **a, size_t *n, int *esc)
{
    if (*s->p != '"') return bad(s, "expected a string");
    const char *p = ++s->p;
    int e = 0;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c < 0x20) {
            s->p = p;
            return bad(s, c ? "control character in a string" : "unterminated string");
        }
        if (c == '\\') {
            e = 1;
            p++;
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p++;
                continue;
            case 'u':
                for (int k = 1; k <= 4; k++)
                    if (!((p[k] >= '0' && p[k] <= '9') || ((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'f'))) {
                        s->p = p + k;
                        return bad(s, "bad \\u escape");
                    }
                p += 5;
                continue;
            default:
                s->p = p;
                return bad(s, "bad escape");
            }
        }
        p++;
    }
    *a = s->p;
    *n = (size_t)(p - s->p);
    if (esc) *esc = e;
    s->p = p + 1;
    return VMIG_OK;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int c = p[k], d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        v = v * 16 + d;
    }
    return v;
}

/* Decode a validated raw string into UTF-8 (for comparing escaped keys). */
static size_t unescape(const char *a, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        if (a[i] != '\\') {
            out[o++] = a[i];
            continue;
        }
        char c = a[++i];
        if (c != 'u') {
            out[o++] = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r'
                     : c == 't' ? '\t' : c;
            continue;
        }
        unsigned cp = (unsigned)hex4(a + i + 1);
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && a[i + 1] == '\\' && a[i + 2] == 'u') {
            unsigned lo = (unsigned)hex4(a + i + 3);
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        if (cp < 0x80) out[o++] = (char)cp;
        else if (cp < 0x800) {
            out[o++] = (char)(0xc0 | cp >> 6);
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xe0 | cp >> 12);
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | cp >> 18);
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    return o;
}

/* Does the raw key [a, a+n) equal the C string name? */
static int key_is(const char *a, size_t n, int esc, const char *name, size_t nlen)
{
    if (!esc) return n == nlen && memcmp(a, name, n) == 0;
    char tmp[VMIG_SRC_NAME_MAX + 8];
    if (n > sizeof tmp - 8) return 0;
    size_t m = unescape(a, n, tmp, sizeof tmp);
    return m == nlen && memcmp(tmp, name, m) == 0;
}

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

static enum vmig_code number(struct scan *s)
{
    const char *p = s->p;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (IS_DIGIT(*p)) while (IS_DIGIT(*p)) p++;
    else goto bad;
    if (*p == '.') {
        p++;
        if (!IS_DIGIT(*p)) goto bad;
        while (IS_DIGIT(*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!IS_DIGIT(*p)) goto bad;
        while (IS_DIGIT(*p)) p++;
    }
    s->p = p;
    return VMIG_OK;
bad:
    s->p = p;
    return bad(s, "bad number");
}

/* vmig_parse_f32 refused the text at s->p: find out where the grammar broke (the
 * end of the body means truncation). */
static enum vmig_code not_a_number(struct scan *s)
{
    enum vmig_code rc = number(s);
    return rc ? rc : bad(s, "expected a number");
}

static enum vmig_code literal(struct scan *s, const char *lit, size_t n)
{
    if (strncmp(s->p, lit, n) != 0) {
        size_t left = (size_t)(s->end - s->p);
        if (left < n && memcmp(s->p, lit, left) == 0) s->p = s->end; /* cut short */
        return bad(s, "unexpected character");
    }
    s->p += n;
    return VMIG_OK;
}

/* Validate and skip any value. */
static enum vmig_code skip(struct scan *s, int depth)
{
    enum vmig_code rc;
    const char *a;
    size_t n;
    ws(s);
    if (depth > MAX_DEPTH) return bad(s, "nested deeper than 128 levels");
    switch (*s->p) {
    case '"':
        return string(s, &a, &n, NULL);
    case '{':
        s->p++;
        ws(s);
        if (*s->p == '}') {
            s->p++;
            return VMIG_OK;
        }
        for (;;) {
            ws(s);
            if ((rc = string(s, &a, &n, NULL))) return rc;
            ws(s);
            if (*s->p != ':') return bad(s, "expected ':'");
            s->p++;
            if ((rc = skip(s, depth + 1))) return rc;
            ws(s);
            if (*s->p == ',') {
                s->p++;
                continue;
            }
            if (*s->p == '}') {
                s->p++;
                return VMIG_OK;
            }
            return bad(s, "expected ',' or '}'");
        }
    case '[':
        s->p++;
        ws(s);
        if (*s->p == ']') {
            s->p++;
            return VMIG_OK;
        }
        for (;;) {
            if ((rc = skip(s, depth + 1))) return rc;
            ws(s);
            if (*s->p == ',') {
                s->p++;
                continue;
            }
            if (*s->p == ']') {
                s->p++;
                return VMIG_OK;
            }
            return bad(s, "expected ',' or ']'");
        }
    case 't':
        return literal(s, "true", 4);
    case 'f':
        return literal(s, "false", 5);
    case 'n':
        return literal(s, "null", 4);
    default:
        return number(s);
    }
}

static enum vmig_code point_id(struct scan *s, struct vmig_point_id *id)
{
    ws(s);
    memset(id, 0, sizeof *id);
    if (*s->p == '"') {
        const char *a;
        size_t n;
        enum vmig_code rc = string(s, &a, &n, NULL);
        if (rc) return rc;
        if (vmig_point_id_parse(a, n, id) != 0 || id->kind != VMIG_ID_UUID) {
            s->p = a;
            return bad(s, "a string point id that is not a UUID");
        }
        return VMIG_OK;
    }
    if (!IS_DIGIT(*s->p)) return bad(s, "expected a point id");
    uint64_t v = 0;
    const char *p = s->p;
    if (*p == '0' && IS_DIGIT(p[1])) return bad(s, "bad point id");
    for (; IS_DIGIT(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return bad(s, "point id above 2^64-1");
        v = v * 10 + d;
    }
    if (*p == '.' || *p == 'e' || *p == 'E') return bad(s, "a point id that is not an integer");
    s->p = p;
    id->kind = VMIG_ID_NUM;
    id->num = v;
    return VMIG_OK;
}

/* ---- vectors ---------------------------------------------------------- */

static enum vmig_code dense(struct scan *s, size_t c)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    const char *src = s->lay->col[c].src;
    uint32_t dim = s->lay->col[c].dim;
    float *slot = vmig_batch_dense(s->b, c);
    size_t k = 0;
    float dummy;
    if (*s->p != '[')
        return data_err(s, src, "%s is not a dense vector", vec_label(src, lb, sizeof lb));
    s->p++;
    ws(s);
    if (*s->p == ']') {
        s->p++;
        goto done;
    }
    for (;;) {
        ws(s);
        if (*s->p == '[')
            return data_err(s, src,
                            "%s is a multivector, which cannot be migrated as a dense vector",
                            vec_label(src, lb, sizeof lb));
        int r = vmig_parse_f32(s->p, s->end, k < dim ? &slot[k] : &dummy, &s->p);
        if (r == -1) return not_a_number(s);
        if (r == -2)
            return data_err(s, src, "%s has a value outside the float32 range",
                            vec_label(src, lb, sizeof lb));
        k++;
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            break;
        }
        return bad(s, "expected ',' or ']'");
    }
done:
    if (k != dim)
        return data_err(s, src, "%s has %zu values, expected %u", vec_label(src, lb, sizeof lb), k,
                        dim);
    s->seen |= 1u << c;
    return VMIG_OK;
}

static enum vmig_code sparse(struct scan *s, size_t c)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    const char *src = s->lay->col[c].src;
    enum vmig_code rc;
    size_t ni = 0, nv = 0;
    int have_i = 0, have_v = 0;
    if (*s->p != '{')
        return data_err(s, src, "%s is not a sparse vector", vec_label(src, lb, sizeof lb));
    s->p++;
    ws(s);
    if (*s->p == '}') goto members_done;
    s->p--;
    do {
        const char *a;
        size_t n;
        s->p++;
        ws(s);
        if ((rc = string(s, &a, &n, NULL))) return rc;
        ws(s);
        if (*s->p != ':') return bad(s, "expected ':'");
        s->p++;
        ws(s);
        int is_i = n == 7 && !memcmp(a, "indices", 7), is_v = n == 6 && !memcmp(a, "values", 6);
        if (!is_i && !is_v) {
            if ((rc = skip(s, 3))) return rc;
            ws(s);
            continue;
        }
        if (*s->p != '[') return bad(s, "expected an array");
        s->p++;
        ws(s);
        size_t k = 0;
        if (*s->p == ']') {
            s->p++;
        } else {
            for (;;) {
                ws(s);
                if (is_i) {
                    xgrow((void **)&s->idx, &s->idxcap, k + 1, sizeof *s->idx);
                    uint64_t v = 0;
                    const char *p = s->p;
                    if (!IS_DIGIT(*p)) return bad(s, "expected a sparse index");
                    for (; IS_DIGIT(*p) && v <= UINT32_MAX; p++) v = v * 10 + (uint64_t)(*p - '0');
                    /* Milvus takes sparse indices below 2^32-1 (the largest u32 is reserved) */
                    if (v >= UINT32_MAX)
                        return data_err(s, src,
                                        "%s has index %llu; Milvus sparse indices must be "
                                        "below 4294967295",
                                        vec_label(src, lb, sizeof lb), (unsigned long long)v);
                    s->p = p;
                    s->idx[k++] = (uint32_t)v;
                } else {
                    xgrow((void **)&s->val, &s->valcap, k + 1, sizeof *s->val);
                    int r = vmig_parse_f32(s->p, s->end, &s->val[k], &s->p);
                    if (r == -1) return not_a_number(s);
                    if (r == -2 || isnan(s->val[k]))
                        return data_err(s, src, "%s has a value that is not a finite float32",
                                        vec_label(src, lb, sizeof lb));
                    /* Milvus (and Milvus Lite) refuse negative sparse weights */
                    if (s->val[k] < 0)
                        return data_err(s, src,
                                        "%s has a negative value (%g); Milvus sparse vectors "
                                        "take only non-negative values",
                                        vec_label(src, lb, sizeof lb), (double)s->val[k]);
                    k++;
                }
                ws(s);
                if (*s->p == ',') {
                    s->p++;
                    continue;
                }
                if (*s->p == ']') {
                    s->p++;
                    break;
                }
                return bad(s, "expected ',' or ']'");
            }
        }
        if (is_i) {
            ni = k;
            have_i = 1;
        } else {
            nv = k;
            have_v = 1;
        }
        ws(s);
    } while (*s->p == ',');
    if (*s->p != '}') return bad(s, "expected ',' or '}'");
members_done:
    s->p++;
    if (!have_i || !have_v || ni != nv)
        return data_err(s, src, "%s has %zu indices and %zu values", vec_label(src, lb, sizeof lb),
                        have_i ? ni : 0, have_v ? nv : 0);
    if ((rc = vmig_qdrant_put_sparse(&s->sc, s->b, c, s->idx, ni, s->val, nv, s->err, s->lay,
                                     s->have_id ? &s->id : NULL)))
        return rc;
    s->seen |= 1u << c;
    return VMIG_OK;
}

static int find_col(struct scan *s, const char *a, size_t n, int esc)
{
    for (size_t c = 0; c < s->lay->ncols; c++)
        if (key_is(a, n, esc, s->lay->col[c].src, s->srclen[c])) return (int)c;
    return -1;
}

static enum vmig_code one_vector(struct scan *s, int c)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    if (c < 0) return skip(s, 3);
    if (s->p >= s->end) return bad(s, "expected a vector");
    if (s->seen & (1u << c))
        return bad(s, "a vector appears twice");
    if (s->lay->col[c].sparse) return sparse(s, (size_t)c);
    if (*s->p == '{')
        return data_err(s, s->lay->col[c].src, "%s is sparse on the source but dense in the plan",
                        vec_label(s->lay->col[c].src, lb, sizeof lb));
    return dense(s, (size_t)c);
}

static enum vmig_code vectors(struct scan *s)
{
    enum vmig_code rc;
    ws(s);
    if (*s->p == '[') return one_vector(s, find_col(s, "", 0, 0)); /* the unnamed form */
    if (*s->p == 'n') return literal(s, "null", 4);
    if (*s->p != '{') return bad(s, "expected the vectors of a point");
    s->p++;
    ws(s);
    if (*s->p == '}') {
        s->p++;
        return VMIG_OK;
    }
    for (;;) {
        const char *a;
        size_t n;
        int esc;
        ws(s);
        if ((rc = string(s, &a, &n, &esc))) return rc;
        ws(s);
        if (*s->p != ':') return bad(s, "expected ':'");
        s->p++;
        ws(s);
        if ((rc = one_vector(s, find_col(s, a, n, esc)))) return rc;
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return VMIG_OK;
        }
        return bad(s, "expected ',' or '}'");
    }
}

/* ---- payload ---------------------------------------------------------- */

static enum vmig_code null_value(struct scan *s, int depth, int *dropped)
{
    enum vmig_code rc = literal(s, "null", 4);
    if (rc) return rc;
    return vmig_qdrant_null(s->b, s->lay, s->path, depth, s->have_id ? &s->id : NULL, s->err,
                            dropped);
}

/* Copy one value into meta (strings and numbers byte-exact), applying the null
 * policy at any depth. depth counts containers above the value; path[depth] names it.
 * *dropped = 1 when the value was a null that DROP removed (nothing written). */
static enum vmig_code copy(struct scan *s, int depth, int *dropped)
{
    enum vmig_code rc;
    struct vmig_buf *m = &s->b->meta;
    const char *a;
    size_t n;
    const char *start;
    *dropped = 0;
    ws(s);
    if (depth > MAX_DEPTH) return bad(s, "nested deeper than 128 levels");
    switch (*s->p) {
    case '"':
        start = s->p;
        if ((rc = string(s, &a, &n, NULL))) return rc;
        vmig_buf_add(m, start, (size_t)(s->p - start));
        return VMIG_OK;
    case 'n':
        return null_value(s, depth, dropped);
    case 't':
    case 'f':
        start = s->p;
        if ((rc = *s->p == 't' ? literal(s, "true", 4) : literal(s, "false", 5))) return rc;
        vmig_buf_add(m, start, (size_t)(s->p - start));
        return VMIG_OK;
    case '{':
    case '[': { /* objects and arrays: one loop; objects add "key": before each value */
        const int obj = *s->p == '{';
        const char close = obj ? '}' : ']';
        vmig_buf_addch(m, *s->p++);
        ws(s);
        if (*s->p != close) {
            int first = 1;
            for (size_t i = 0;; i++) {
                size_t mark = m->len;
                if (!first) vmig_buf_addch(m, ',');
                if (obj) {
                    ws(s);
                    start = s->p;
                    if ((rc = string(s, &a, &n, NULL))) return rc;
                    vmig_buf_add(m, start, (size_t)(s->p - start));
                    vmig_buf_addch(m, ':');
                    ws(s);
                    if (*s->p != ':') return bad(s, "expected ':'");
                    s->p++;
                    s->path[depth + 1] = (struct vmig_qdrant_pathseg){a, n, 0};
                } else {
                    s->path[depth + 1] = (struct vmig_qdrant_pathseg){NULL, 0, i};
                }
                int d;
                if ((rc = copy(s, depth + 1, &d))) return rc;
                if (d) vmig_buf_setlen(m, mark); /* a dropped null leaves no trace */
                else first = 0;
                ws(s);
                if (*s->p == ',') {
                    s->p++;
                    continue;
                }
                if (*s->p == close) break;
                return bad(s, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            }
        }
        s->p++;
        vmig_buf_addch(m, close);
        return VMIG_OK;
    }
    default:
        start = s->p;
        if ((rc = number(s))) return rc;
        vmig_buf_add(m, start, (size_t)(s->p - start));
        return VMIG_OK;
    }
}

static int reserved_key(struct scan *s, const char *a, size_t n, int esc)
{
    if (key_is(a, n, esc, "$meta", 5)) return 1;
    for (size_t i = 0; i < s->lay->nreserved; i++)
        if (s->lay->reserved[i] && key_is(a, n, esc, s->lay->reserved[i], strlen(s->lay->reserved[i])))
            return 1;
    return 0;
}

/* The payload object: like copy(), plus the top-level key rules. */
static enum vmig_code payload(struct scan *s)
{
    enum vmig_code rc;
    struct vmig_buf *m = &s->b->meta;
    ws(s);
    if (*s->p == 'n') {
        if ((rc = literal(s, "null", 4))) return rc;
        vmig_buf_add(m, "{}", 2);
        return VMIG_OK;
    }
    if (*s->p != '{') return bad(s, "a payload that is not an object");
    s->p++;
    vmig_buf_addch(m, '{');
    ws(s);
    if (*s->p == '}') goto end;
    int first = 1;
    for (;;) {
        const char *a, *start;
        size_t n;
        int esc;
        ws(s);
        start = s->p;
        if ((rc = string(s, &a, &n, &esc))) return rc;
        size_t mark = m->len;
        if (!first) vmig_buf_addch(m, ',');
        if (reserved_key(s, a, n, esc)) {
            if (s->lay->conflict != VMIG_CONFLICT_PREFIX)
                return vmig_qdrant_conflict(s->err, s->lay, s->have_id ? &s->id : NULL, a, n);
            const char *pre = s->lay->prefix ? s->lay->prefix : "payload_";
            vmig_qdrant_put_str(m, pre);
            vmig_buf_setlen(m, m->len - 1); /* reopen the string: prefix + raw key */
            vmig_buf_add(m, a, n);
            vmig_buf_addch(m, '"');
        } else {
            vmig_buf_add(m, start, (size_t)(s->p - start));
        }
        vmig_buf_addch(m, ':');
        ws(s);
        if (*s->p != ':') return bad(s, "expected ':'");
        s->p++;
        s->path[1] = (struct vmig_qdrant_pathseg){a, n, 0};
        int d;
        if ((rc = copy(s, 1, &d))) return rc;
        if (d) vmig_buf_setlen(m, mark);
        else first = 0;
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') break;
        return bad(s, "expected ',' or '}'");
    }
end:
    s->p++;
    vmig_buf_addch(m, '}');
    return VMIG_OK;
}

/* ---- records and the envelope ------------------------------------------ */

/* When "id" is not the first key of a record, find it first so that every message
 * about the record can name the point. */
static enum vmig_code lookahead_id(struct scan *s)
{
    const char *save = s->p;
    enum vmig_code rc = VMIG_OK;
    s->p++;
    ws(s);
    if (*s->p == '}') goto out;
    for (;;) {
        const char *a;
        size_t n;
        ws(s);
        if ((rc = string(s, &a, &n, NULL))) goto out;
        ws(s);
        if (*s->p != ':') {
            rc = bad(s, "expected ':'");
            goto out;
        }
        s->p++;
        ws(s);
        if (n == 2 && !memcmp(a, "id", 2)) {
            if ((rc = point_id(s, &s->id)) == VMIG_OK) s->have_id = 1;
            goto out;
        }
        if ((rc = skip(s, 2))) goto out;
        ws(s);
        if (*s->p != ',') goto out;
        s->p++;
    }
out:
    s->p = save;
    return rc;
}

static enum vmig_code record(struct scan *s)
{
    enum vmig_code rc = VMIG_OK;
    static const struct vmig_point_id none = {0};
    int have_payload = 0;
    size_t meta0 = s->b->meta.len;
    ws(s);
    if (*s->p != '{') return bad(s, "expected a record");
    s->have_id = 0;
    s->seen = 0;
    {
        const char *q = s->p + 1;
        while (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t') q++;
        if (strncmp(q, "\"id\"", 4) != 0 && (rc = lookahead_id(s))) return rc;
    }
    vmig_batch_begin_row(s->b, &none);
    s->p++;
    ws(s);
    if (*s->p == '}') goto members_done;
    for (;;) {
        const char *a;
        size_t n;
        ws(s);
        if ((rc = string(s, &a, &n, NULL))) goto fail;
        ws(s);
        if (*s->p != ':') {
            rc = bad(s, "expected ':'");
            goto fail;
        }
        s->p++;
        ws(s);
        if (n == 2 && !memcmp(a, "id", 2)) {
            if ((rc = point_id(s, &s->id))) goto fail;
            s->have_id = 1;
            s->b->ids[s->b->n] = s->id;
        } else if (n == 7 && !memcmp(a, "payload", 7)) {
            if (have_payload++) {
                rc = bad(s, "a record with two payloads");
                goto fail;
            }
            if ((rc = payload(s))) goto fail;
        } else if (n == 6 && !memcmp(a, "vector", 6)) {
            if ((rc = vectors(s))) goto fail;
        } else if ((rc = skip(s, 2))) {
            goto fail;
        }
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') break;
        rc = bad(s, "expected ',' or '}'");
        goto fail;
    }
members_done:
    s->p++;
    if (!s->have_id) {
        rc = bad(s, "a record without an id");
        goto fail;
    }
    s->b->ids[s->b->n] = s->id;
    if (!have_payload) vmig_buf_add(&s->b->meta, "{}", 2);
    if ((rc = vmig_qdrant_close_row(s->b, s->lay, s->seen, meta0, &s->id, s->err))) goto fail;
    return VMIG_OK;
fail:
    vmig_batch_drop_row(s->b, NULL);
    return rc;
}

static enum vmig_code records(struct scan *s)
{
    enum vmig_code rc;
    ws(s);
    if (*s->p != '[') return bad(s, "expected a list of points");
    s->p++;
    ws(s);
    if (*s->p == ']') {
        s->p++;
        return VMIG_OK;
    }
    for (;;) {
        if ((rc = record(s))) return rc;
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return VMIG_OK;
        }
        return bad(s, "expected ',' or ']'");
    }
}

static enum vmig_code scroll_result(struct scan *s, struct vmig_point_id *next, int *have_points)
{
    enum vmig_code rc;
    ws(s);
    if (*s->p != '{') return bad(s, "expected the scroll result object");
    s->p++;
    ws(s);
    if (*s->p == '}') {
        s->p++;
        return VMIG_OK;
    }
    for (;;) {
        const char *a;
        size_t n;
        ws(s);
        if ((rc = string(s, &a, &n, NULL))) return rc;
        ws(s);
        if (*s->p != ':') return bad(s, "expected ':'");
        s->p++;
        ws(s);
        if (n == 6 && !memcmp(a, "points", 6)) {
            if ((rc = records(s))) return rc;
            *have_points = 1;
        } else if (n == 16 && !memcmp(a, "next_page_offset", 16)) {
            if (*s->p == 'n') {
                if ((rc = literal(s, "null", 4))) return rc;
                memset(next, 0, sizeof *next);
            } else {
                if ((rc = point_id(s, next))) return rc;
            }
        } else if ((rc = skip(s, 2))) {
            return rc;
        }
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return VMIG_OK;
        }
        return bad(s, "expected ',' or '}'");
    }
}

enum vmig_code vmig_qdrant_scan_page(const char *body, size_t len, enum vmig_qdrant_page kind,
                                     const struct vmig_layout *lay, struct vmig_batch *b,
                                     struct vmig_point_id *next, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct scan s;
    struct vmig_point_id nx = {0};
    size_t n0 = b->n, rej0 = b->nrejects;
    uint64_t nul0 = b->nulls_dropped, mis0 = b->misfits;
    int have_result = 0, have_points = 0;
    memset(&s, 0, sizeof s);
    s.base = s.p = body;
    s.end = body + len;
    s.lay = lay;
    s.b = b;
    s.err = err;
    for (size_t c = 0; c < lay->ncols; c++) s.srclen[c] = strlen(lay->col[c].src);
    if (memchr(body, '\0', len)) {
        s.p = (const char *)memchr(body, '\0', len);
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "malformed answer for collection '%s' at byte %zu: NUL byte",
                          lay->coll, (size_t)(s.p - body));
        vmig_err_at(err, lay->coll, NULL, NULL);
        goto out;
    }
    ws(&s);
    if (*s.p != '{') {
        rc = bad(&s, "expected a JSON object");
        goto out;
    }
    s.p++;
    ws(&s);
    if (*s.p != '}') {
        for (;;) {
            const char *a;
            size_t n;
            ws(&s);
            if ((rc = string(&s, &a, &n, NULL))) goto out;
            ws(&s);
            if (*s.p != ':') {
                rc = bad(&s, "expected ':'");
                goto out;
            }
            s.p++;
            ws(&s);
            if (n == 6 && !memcmp(a, "result", 6)) {
                have_result = 1;
                if (kind == VMIG_QDRANT_RETRIEVE) {
                    rc = records(&s);
                    have_points = 1;
                } else {
                    rc = scroll_result(&s, &nx, &have_points);
                }
                if (rc) goto out;
            } else if ((rc = skip(&s, 1))) {
                goto out;
            }
            ws(&s);
            if (*s.p == ',') {
                s.p++;
                continue;
            }
            if (*s.p == '}') break;
            rc = bad(&s, "expected ',' or '}'");
            goto out;
        }
    }
    s.p++;
    ws(&s);
    if (s.p != s.end) {
        rc = bad(&s, "trailing bytes after the answer");
        goto out;
    }
    if (!have_result || !have_points) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "the answer for collection '%s' has no %s", lay->coll,
                          have_result ? "'points'" : "'result'");
        vmig_err_at(err, lay->coll, NULL, NULL);
        goto out;
    }
    if (next) *next = nx;
out:
    if (rc != VMIG_OK) {
        vmig_batch_truncate(b, n0);
        b->nrejects = rej0;
        b->nulls_dropped = nul0;
        b->misfits = mis0;
    }
    free(s.idx);
    free(s.val);
    free(s.sc.pairs);
    return rc;
}

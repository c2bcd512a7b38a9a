/*
 * json_canon.c - canonical form of a JSON value (see json_canon.h).
 *
 * A small recursive-descent parser (RFC 8259) that writes, instead of a tree, a
 * self-delimiting canonical encoding:
 *   null/true/false  'n' 't' 'f'
 *   number           'N' ['-'] digits 'e' exponent ';'   (no leading/trailing zeros; 0 is "N0e0;")
 *   string           'S' byte-length ':' UTF-8 bytes    (escapes decoded, lone surrogates
 *                                                       kept as their 3-byte form)
 *   array            '[' elements ']'
 *   object           '{' (key value)* '}' with members sorted by the key's bytes
 * Equal values give equal bytes, so comparing payloads is one memcmp.
 */
#include "util/json_canon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

struct jp {
    const unsigned char *p, *end;
    int depth;
};

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int lit(struct jp *j, const char *word, char code, struct vmig_buf *out)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return -1;
    j->p += n;
    return vmig_buf_addch(out, code);
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int number(struct jp *j, struct vmig_buf *out)
{
    const unsigned char *p = j->p, *e = j->end;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    if (p >= e || !is_digit(*p)) return -1;
    const unsigned char *ip = p;
    if (*p == '0')
        p++;
    else
        while (p < e && is_digit(*p))
            p++;
    const unsigned char *ie = p, *fp = p, *fe = p;
    if (p < e && *p == '.') {
        fp = ++p;
        while (p < e && is_digit(*p))
            p++;
        fe = p;
        if (fe == fp) return -1;
    }
    int64_t exp = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= e || !is_digit(*p)) return -1;
        while (p < e && is_digit(*p)) {
            if (exp < INT64_C(1000000000000000)) exp = exp * 10 + (*p - '0');
            p++;
        }
        if (eneg) exp = -exp;
    }
    j->p = p;
    /* digits = integer part then fraction; value = digits * 10^(exp - fraction length) */
    exp -= (int64_t)(fe - fp);
    size_t nd = (size_t)(ie - ip) + (size_t)(fe - fp);
    char *d = malloc(nd + 1);
    if (!d) return -1;
    memcpy(d, ip, (size_t)(ie - ip));
    memcpy(d + (ie - ip), fp, (size_t)(fe - fp));
    size_t lo = 0, hi = nd;
    while (lo < hi && d[lo] == '0')
        lo++;
    while (hi > lo && d[hi - 1] == '0')
        hi--, exp++;
    int rc;
    if (lo == hi) {
        rc = vmig_buf_adds(out, "N0e0;");
    } else {
        rc = vmig_buf_addch(out, 'N');
        if (!rc && neg) rc = vmig_buf_addch(out, '-');
        if (!rc) rc = vmig_buf_add(out, d + lo, hi - lo);
        if (!rc) rc = vmig_buf_addf(out, "e%lld;", (long long)exp);
    }
    free(d);
    return rc;
}

static int hex4(const unsigned char *p, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], h;
        if (c >= '0' && c <= '9')
            h = c - '0';
        else if (c >= 'a' && c <= 'f')
            h = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            h = c - 'A' + 10;
        else
            return -1;
        x = x << 4 | (unsigned)h;
    }
    *v = x;
    return 0;
}

static int put_utf8(struct vmig_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    return vmig_buf_add(b, u, n);
}

/* the string at j->p (opening quote) decoded into s */
static int string_bytes(struct jp *j, struct vmig_buf *s)
{
    const unsigned char *p = j->p + 1, *e = j->end;
    for (;;) {
        const unsigned char *run = p;
        while (p < e && *p != '"' && *p != '\\' && *p >= 0x20)
            p++;
        if (p > run && vmig_buf_add(s, run, (size_t)(p - run))) return -1;
        if (p >= e || *p < 0x20) return -1;
        if (*p == '"') break;
        if (++p >= e) return -1;
        unsigned cp;
        switch (*p++) {
        case '"':
            cp = '"';
            break;
        case '\\':
            cp = '\\';
            break;
        case '/':
            cp = '/';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            if (e - p < 4 || hex4(p, &cp)) return -1;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo;
                if (hex4(p + 2, &lo)) return -1;
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        default:
            return -1;
        }
        if (put_utf8(s, cp)) return -1;
    }
    j->p = p + 1;
    return 0;
}

int vmig_json_unescape(const char *text, size_t len, struct vmig_buf *out)
{
    struct jp j = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
    vmig_buf_reset(out);
    if (!len || text[0] != '"' || string_bytes(&j, out)) return -1;
    return j.p == j.end ? 0 : -1;
}

static int string(struct jp *j, struct vmig_buf *out)
{
    struct vmig_buf s;
    vmig_buf_init(&s, 0);
    int rc = string_bytes(j, &s);
    if (!rc) rc = vmig_buf_addf(out, "S%zu:", s.len);
    if (!rc) rc = vmig_buf_add(out, s.p, s.len);
    vmig_buf_release(&s);
    return rc;
}

static int value(struct jp *j, struct vmig_buf *out);

struct member {
    size_t key, keylen, end; /* offsets into the object's scratch buffer */
};

static int member_cmp(const void *x, const void *y, const char *base)
{
    const struct member *a = x, *b = y;
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int c = memcmp(base + a->key, base + b->key, n);
    if (c) return c;
    return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

/* insertion sort: objects in payloads are small, and qsort has no context argument */
static void sort_members(struct member *m, size_t n, const char *base)
{
    for (size_t i = 1; i < n; i++) {
        struct member t = m[i];
        size_t k = i;
        while (k > 0 && member_cmp(&m[k - 1], &t, base) > 0)
            m[k] = m[k - 1], k--;
        m[k] = t;
    }
}

static int object(struct jp *j, struct vmig_buf *out)
{
    struct vmig_buf tmp;
    struct member *m = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    vmig_buf_init(&tmp, 0);
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        rc = vmig_buf_adds(out, "{}");
        goto done;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') goto done;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            struct member *nm = realloc(m, cap * sizeof *m);
            if (!nm) goto done;
            m = nm;
        }
        m[n].key = tmp.len;
        if (string(j, &tmp)) goto done;
        m[n].keylen = tmp.len - m[n].key;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') goto done;
        j->p++;
        if (value(j, &tmp)) goto done;
        m[n].end = tmp.len;
        n++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            break;
        }
        goto done;
    }
    sort_members(m, n, tmp.p);
    rc = vmig_buf_addch(out, '{');
    for (size_t i = 0; !rc && i < n; i++)
        rc = vmig_buf_add(out, tmp.p + m[i].key, m[i].end - m[i].key);
    if (!rc) rc = vmig_buf_addch(out, '}');
done:
    free(m);
    vmig_buf_release(&tmp);
    return rc;
}

static int array(struct jp *j, struct vmig_buf *out)
{
    j->p++;
    if (vmig_buf_addch(out, '[')) return -1;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return vmig_buf_addch(out, ']');
    }
    for (;;) {
        if (value(j, out)) return -1;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return vmig_buf_addch(out, ']');
        }
        return -1;
    }
}

static int value(struct jp *j, struct vmig_buf *out)
{
    skip_ws(j);
    if (j->p >= j->end) return -1;
    int rc;
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > MAX_DEPTH) return -1;
        rc = *j->p == '{' ? object(j, out) : array(j, out);
        j->depth--;
        return rc;
    case '"':
        return string(j, out);
    case 'n':
        return lit(j, "null", 'n', out);
    case 't':
        return lit(j, "true", 't', out);
    case 'f':
        return lit(j, "false", 'f', out);
    default:
        return number(j, out);
    }
}

int vmig_json_canon(const char *text, size_t len, struct vmig_buf *out)
{
    struct jp j = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
    if (value(&j, out)) return -1;
    skip_ws(&j);
    return j.p == j.end ? 0 : -1;
}

int vmig_json_equal(const char *a, size_t la, const char *b, size_t lb)
{
    struct vmig_buf ca, cb;
    vmig_buf_init(&ca, 0);
    vmig_buf_init(&cb, 0);
    int rc = -1;
    if (vmig_json_canon(a, la, &ca) == 0 && vmig_json_canon(b, lb, &cb) == 0)
        rc = ca.len == cb.len && memcmp(ca.p, cb.p, ca.len) == 0;
    vmig_buf_release(&ca);
    vmig_buf_release(&cb);
    return rc;
}

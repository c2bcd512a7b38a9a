/*
 * buf.c - growable byte buffer; see buf.h for the contract.
 */
#include "buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

char vmig_buf_empty_[1];

void vmig_buf_init(struct vmig_buf *b, size_t max)
{
    b->p = vmig_buf_empty_;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vmig_buf_release(struct vmig_buf *b)
{
    if (b->cap) free(b->p);
    vmig_buf_init(b, b->max);
}

int vmig_buf_grow(struct vmig_buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need < b->len) return -1; /* overflow */
    if (b->max && need > b->max + 1) return -1;
    if (need <= b->cap) return 0;
    size_t c = b->cap ? b->cap : 64;
    while (c < need) c = c + c / 2 + 64;
    if (b->max && c > b->max + 1) c = b->max + 1;
    if (b->cap) {
        b->p = xrealloc(b->p, c);
    } else {
        b->p = xmalloc(c);
        b->p[0] = '\0';
    }
    b->cap = c;
    return 0;
}

int vmig_buf_add(struct vmig_buf *b, const void *data, size_t n)
{
    if (vmig_buf_grow(b, n)) return -1;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int vmig_buf_adds(struct vmig_buf *b, const char *s)
{
    return vmig_buf_add(b, s, strlen(s));
}

int vmig_buf_addch(struct vmig_buf *b, char c)
{
    return vmig_buf_add(b, &c, 1);
}

int vmig_buf_vaddf(struct vmig_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return -1;
    if (vmig_buf_grow(b, (size_t)n)) return -1;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int vmig_buf_addf(struct vmig_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vmig_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

void vmig_buf_reset(struct vmig_buf *b)
{
    vmig_buf_setlen(b, 0);
}

void vmig_buf_setlen(struct vmig_buf *b, size_t len)
{
    if (!b->cap) return; /* static empty string stays as it is */
    b->len = len;
    b->p[len] = '\0';
}

char *vmig_buf_detach(struct vmig_buf *b, size_t *len)
{
    char *p = b->cap ? b->p : xstrdup("");
    if (len) *len = b->len;
    vmig_buf_init(b, b->max);
    return p;
}

void vmig_buf_add_json_str(struct vmig_buf *b, const char *s)
{
    vmig_buf_add_json_strn(b, s, strlen(s));
}

void vmig_buf_add_json_strn(struct vmig_buf *b, const char *s, size_t n)
{
    vmig_buf_addch(b, '"');
    for (const char *end = s + n; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            vmig_buf_addch(b, '\\');
            vmig_buf_addch(b, (char)c);
        } else if (c < 0x20) {
            vmig_buf_addf(b, "\\u%04x", c);
        } else {
            vmig_buf_addch(b, (char)c);
        }
    }
    vmig_buf_addch(b, '"');
}

int vmig_buf_add_double(struct vmig_buf *out, double v)
{
    char t[40], digits[24];
    if (!isfinite(v)) return -1;
    /* the fewest significant digits that read back as v (5e-324, not
     * 4.94065645841247e-324): a count that reads back makes every larger one read back
     * too, so bisect 1..17 (4-5 tries) */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(t, sizeof t, "%.*e", mid - 1, v);
        if (strtod(t, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(t, sizeof t, "%.*e", lo - 1, v); /* "-d.ddde+XX" */
    const char *p = t;
    size_t nd = 0;
    if (*p == '-') vmig_buf_addch(out, *p++);
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int x = atoi(p + 1);
    /* laid out as Qdrant's REST answers print it (and Milvus gives it back): plain
     * decimals from 1e-5 to 1e16 with a fraction kept ("10.0" stays a float in Milvus's
     * JSON), else d.ddde±X */
    if (x >= -5 && x < 16) {
        if (x < 0) {
            vmig_buf_adds(out, "0.");
            for (int z = -1; z > x; z--)
                vmig_buf_addch(out, '0');
            vmig_buf_add(out, digits, nd);
        } else {
            for (int k = 0; k <= x; k++)
                vmig_buf_addch(out, (size_t)k < nd ? digits[k] : '0');
            vmig_buf_addch(out, '.');
            if ((size_t)x + 1 < nd)
                vmig_buf_add(out, digits + x + 1, nd - (size_t)x - 1);
            else
                vmig_buf_addch(out, '0');
        }
    } else {
        vmig_buf_addch(out, digits[0]);
        if (nd > 1) {
            vmig_buf_addch(out, '.');
            vmig_buf_add(out, digits + 1, nd - 1);
        }
        vmig_buf_addf(out, "e%d", x);
    }
    return 0;
}

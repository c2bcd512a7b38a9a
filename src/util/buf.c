/*
 * buf.c - growable byte buffer; see buf.h for the contract.
 */
#include "buf.h"

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

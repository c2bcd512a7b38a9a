/*
 * buf.h - the one growable byte buffer of libvmig (git strbuf, curl dynbuf).
 *
 * A struct vmig_buf is never NULL-data: after vmig_buf_init() b->p points at a
 * NUL-terminated (possibly static, empty) string, so it can always be printed.
 * Buffers filled from the network get a maximum size (max != 0): appends past it
 * fail with -1 instead of growing without bound.
 */
#ifndef VMIG_UTIL_BUF_H
#define VMIG_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct vmig_buf {
    char *p;    /* always NUL-terminated */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated; 0 while p points at the static empty string */
    size_t max; /* 0 = unlimited */
};

#define VMIG_BUF_INIT {vmig_buf_empty_, 0, 0, 0}
extern char vmig_buf_empty_[1];

void vmig_buf_init(struct vmig_buf *b, size_t max);
void vmig_buf_release(struct vmig_buf *b);
/* Make room for n more bytes; -1 if that would pass max. */
int vmig_buf_grow(struct vmig_buf *b, size_t n);
int vmig_buf_add(struct vmig_buf *b, const void *data, size_t n);
int vmig_buf_adds(struct vmig_buf *b, const char *s);
int vmig_buf_addch(struct vmig_buf *b, char c);
int vmig_buf_addf(struct vmig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal (quotes, backslashes and control bytes escaped; other
 * bytes as they are, so UTF-8 stays UTF-8): the one JSON string writer of libvmig. */
void vmig_buf_add_json_str(struct vmig_buf *b, const char *s);
/* The same for n bytes that may hold NUL (written as \u0000). */
void vmig_buf_add_json_strn(struct vmig_buf *b, const char *s, size_t n);
int vmig_buf_vaddf(struct vmig_buf *b, const char *fmt, va_list ap);
/* Keep the allocation, drop the contents. */
void vmig_buf_reset(struct vmig_buf *b);
/* Set length (must be <= cap - 1 or 0) and re-terminate. */
void vmig_buf_setlen(struct vmig_buf *b, size_t len);
/* Hand the data to the caller (free() it); b is re-initialised. */
char *vmig_buf_detach(struct vmig_buf *b, size_t *len);

/* A finite double as JSON, the fewest digits that read back as it, laid out as
 * Qdrant prints it ("10.0", "0.001", "1e+16"); -1 for NaN or an infinity. */
int vmig_buf_add_double(struct vmig_buf *out, double v);

#endif

/*
 * alloc.h - allocation wrappers that abort on out-of-memory (git's xmalloc),
 * so no library signature has to carry an OOM error.
 */
#ifndef VMIG_UTIL_ALLOC_H
#define VMIG_UTIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow *p (an array of elem-sized items with capacity *cap) to hold at least need items. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);

#endif

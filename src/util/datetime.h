/*
 * datetime.h - Qdrant datetime payload text to UTC Unix microseconds (TIMESTAMPTZ).
 */
#ifndef VMIG_UTIL_DATETIME_H
#define VMIG_UTIL_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* The n bytes at s as Qdrant reads a datetime: 0 and *micros, 1 when it has digits
 * below a microsecond (*micros holds it cut to microseconds), -1 when it is not one. */
int vmig_datetime_parse(const char *s, size_t n, int64_t *micros);

#endif

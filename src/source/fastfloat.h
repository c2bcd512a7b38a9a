/*
 * fastfloat.h - exact decimal-to-float32 conversion for the Qdrant scroll scanner.
 *
 * Qdrant writes vector components as float32 in shortest round-trip form, so the
 * reader must round each decimal exactly like strtof() does. vmig_parse_f32() takes
 * a fast path that is provably exact for short numbers (see fastfloat.c) and falls
 * back to strtof() for everything else. The result is bit-identical to strtof().
 */
#ifndef VMIG_SOURCE_FASTFLOAT_H
#define VMIG_SOURCE_FASTFLOAT_H

#include <stddef.h>

/* Parse one JSON number starting at p (grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?),
 * reading no byte at or past end. On success stores the correctly rounded float32 in *out,
 * the first byte after the number in *endp and returns 0. Returns -1 when p does not start
 * with a JSON number, -2 when the value is out of float32 range (overflows to infinity). */
int vmig_parse_f32(const char *p, const char *end, float *out, const char **endp);

/* Same grammar, but only the fast path result: 1 = *out is exact, 0 = the fast path
 * does not apply (exposed for tests and the benchmark). */
int vmig_parse_f32_fast(const char *p, const char *end, float *out, const char **endp);

#endif

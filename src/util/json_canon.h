/*
 * json_canon.h - JSON values compared as values, not as text.
 *
 * vmig_json_canon() turns one JSON text into a canonical byte string such that two
 * texts give the same bytes exactly when they hold the same value: object members
 * sorted by key, strings by their code points (escapes decoded, "\u0000" included),
 * numbers by their exact decimal value (1, 1.0 and 1e0 are equal; 2^64 and
 * 123456789012345678901234567890 keep every digit, no double in between).
 * jansson cannot do this: it refuses integers above 2^63-1 and "\u0000" by default
 * and compares reals as doubles.
 */
#ifndef VMIG_UTIL_JSON_CANON_H
#define VMIG_UTIL_JSON_CANON_H

#include <stddef.h>

#include "util/buf.h"

/* Appends the canonical form of the JSON text (one value, whitespace around it
 * allowed) to out. 0 on success; -1 if the text is not valid JSON or nests deeper
 * than 512 levels, with out left at an unspecified length. */
int vmig_json_canon(const char *text, size_t len, struct vmig_buf *out);

/* 1 when both texts are valid JSON holding the same value, 0 when they differ,
 * -1 when either is not valid JSON. */
int vmig_json_equal(const char *a, size_t la, const char *b, size_t lb);

/* The JSON string token text[0, len) (its quotes included) decoded into out (reset
first) as UTF-8: escapes and surrogate pairs, "\u0000" kept. 0, or -1 when it is not
exactly one valid string token. */
int vmig_json_unescape(const char *text, size_t len, struct vmig_buf *out);

#endif

/*
 * fixture.h - what the codec tests share (fixture.c): reading files of
 * tests/data/qdrant, the scroll fixture format and the batch dump.
 */
#ifndef VMIG_TEST_FIXTURE_H
#define VMIG_TEST_FIXTURE_H

#include <stddef.h>

#include "batch/batch.h"
#include "util/buf.h"

/* A whole file, NUL-terminated; fails the test when it cannot be read. */
char *fx_slurp(const char *path, size_t *len);
/* The source tree (VMIG_SOURCE_DIR, else "."). */
const char *fx_data_dir(void);
/* Rows, columns (floats in shortest round-trip form), meta, rejects, dropped nulls. */
void fx_dump_batch(struct vmig_buf *o, const struct vmig_batch *b,
                   const struct vmig_point_id *next);

/* A scroll fixture: the header lines (layout, page kind), the input, the expected dump. */
struct fx_scroll {
    struct vmig_layout lay;
    char names[VMIG_MAX_VECTOR_FIELDS + 1][64];
    char reserved[VMIG_MAX_VECTOR_FIELDS + 1][64];
    char prefix[64];
    int retrieve; /* "page retrieve" */
    const char *input;
    size_t input_len;
    const char *expect;
    size_t head_len; /* bytes up to and including "--- expect\n" */
};

/* Parse text (modified in place) into fx; fails the test on an unknown line. */
void fx_parse(char *text, struct fx_scroll *fx, const char *path);
/* fn(path) for each file of tests/data/qdrant/SUB ending in ext, by name; the count. */
size_t fx_each_file(const char *sub, const char *ext, void (*fn)(const char *));

#endif

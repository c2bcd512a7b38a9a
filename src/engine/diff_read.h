/*
 * diff_read.h - a streaming reader of the diff file of a full verification (JSON
 * lines: collection, id, what; docs/user/cli.md "The diff file"). One line in memory at
 * a time; every error names the file and the line. Used by repair (engine/repair.c).
 */
#ifndef VMIG_ENGINE_DIFF_READ_H
#define VMIG_ENGINE_DIFF_READ_H

#include <stdio.h>

#include "vmig/types.h"

enum vmig_diff_what { VMIG_DIFF_MISSING = 1, VMIG_DIFF_EXTRA, VMIG_DIFF_DIFFERENT };

struct vmig_diff_line {
    char coll[VMIG_SRC_NAME_MAX];
    struct vmig_point_id id;
    enum vmig_diff_what what;
};

struct vmig_diff_reader {
    FILE *f;
    const char *path; /* borrowed */
    size_t line;      /* number of the last line read (1-based) */
    char *buf;
    size_t cap;
};

/* VMIG_E_IO naming the file when it cannot be opened. */
enum vmig_code vmig_diff_open(struct vmig_diff_reader *r, const char *path, struct vmig_err *err);
/* The next non-blank line: 1 = *out filled, 0 = end of file, -1 = a bad line or a read
 * error (err: VMIG_E_USAGE "diff file 'F' line N: ...", or VMIG_E_IO). */
int vmig_diff_next(struct vmig_diff_reader *r, struct vmig_diff_line *out, struct vmig_err *err);
void vmig_diff_close(struct vmig_diff_reader *r);

#endif

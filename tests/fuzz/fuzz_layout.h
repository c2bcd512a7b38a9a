/*
 * fuzz_layout.h - what the two page-decoder harnesses (fuzz_qdrant_scan.c,
 * fuzz_qdrant_grpc.c) share: an input is a header in the format of the scroll
 * fixtures of tests/data/qdrant/scroll (layout lines, "page ..."), the line
 * "--- input", then the page bytes. The fuzzer mutates both, so the decoders meet
 * every layout the header can say: named/unnamed, dense/sparse columns, reserved
 * names, null and conflict policies, reject_oversize, and typed payload fields
 * ("scalar KEY TYPE [ELEM] [nullable]", "misfit WORD") as a plan gives them.
 * Header-only (static functions): each harness includes it once.
 */
#ifndef VMIG_FUZZ_LAYOUT_H
#define VMIG_FUZZ_LAYOUT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "vmig/plan.h"

struct fz_layout {
    struct vmig_layout lay;
    char names[VMIG_MAX_VECTOR_FIELDS][64];
    char reserved[VMIG_MAX_VECTOR_FIELDS + 1][64];
    char prefix[64];
    struct vmig_plan_scalar sc[8];
    char page[16]; /* the word after "page" ("" = scroll) */
};

/* Parse the header of data[size] into f; the page bytes are copied to a malloc'd
 * NUL-terminated buffer (*body, *blen). 0, or -1 when there is no "--- input" line or
 * a line is not understood (the input is then not interesting: skipped). */
static int fz_layout_parse(const uint8_t *data, size_t size, struct fz_layout *f, char **body,
                           size_t *blen)
{
    static const char mark[] = "--- input\n";
    const uint8_t *in = NULL;
    for (size_t i = 0; i + sizeof mark - 1 <= size; i++)
        if (!memcmp(data + i, mark, sizeof mark - 1)) {
            in = data + i;
            break;
        }
    if (!in) return -1;
    memset(f, 0, sizeof *f);
    f->lay.coll = "c";
    f->lay.prefix = "payload_";
    char *head = malloc((size_t)(in - data) + 1);
    memcpy(head, data, (size_t)(in - data));
    head[in - data] = '\0';
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(head, "\n", &save); line && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        char a[64], b[64], c[64];
        unsigned dim = 0;
        int n;
        if (line[0] == '#') continue;
        if (sscanf(line, "col %63s %63s %u", a, b, &dim) >= 2) {
            if (f->lay.ncols >= VMIG_MAX_VECTOR_FIELDS || dim > 4096) {
                rc = -1;
                break;
            }
            size_t k = f->lay.ncols++;
            snprintf(f->names[k], sizeof f->names[k], "%s", strcmp(a, "-") ? a : "");
            f->lay.col[k].src = f->lay.col[k].dst = f->names[k];
            f->lay.col[k].sparse = !strcmp(b, "sparse");
            f->lay.col[k].dim = dim;
        } else if (sscanf(line, "reserved %63s", a) == 1) {
            if (f->lay.nreserved >= VMIG_MAX_VECTOR_FIELDS + 1) {
                rc = -1;
                break;
            }
            size_t r = f->lay.nreserved++;
            snprintf(f->reserved[r], sizeof f->reserved[r], "%s", a);
            f->lay.reserved[r] = f->reserved[r];
        } else if (sscanf(line, "nulls %63s", a) == 1) {
            rc = vmig_null_policy_parse(a, &f->lay.nulls);
        } else if (sscanf(line, "conflict prefix %63s", a) == 1) {
            f->lay.conflict = VMIG_CONFLICT_PREFIX;
            snprintf(f->prefix, sizeof f->prefix, "%s", a);
            f->lay.prefix = f->prefix;
        } else if (sscanf(line, "misfit %63s", a) == 1) {
            rc = vmig_misfit_policy_parse(a, &f->lay.misfit);
        } else if ((n = sscanf(line, "scalar %63s %63s %63s", a, b, c)) >= 2) {
            if (f->lay.nscalars >= sizeof f->sc / sizeof f->sc[0]) {
                rc = -1;
                break;
            }
            size_t s = f->lay.nscalars;
            struct vmig_plan_scalar *ps = &f->sc[s];
            snprintf(ps->src, sizeof ps->src, "%s", a);
            snprintf(ps->dst, sizeof ps->dst, "%s", a);
            if (vmig_scalar_type_parse(b, strlen(b), &ps->type)) {
                rc = -1;
                break;
            }
            ps->max_length = 16;
            ps->max_capacity = 4;
            ps->nullable = strstr(line, " nullable") != NULL;
            if (ps->type == VMIG_SC_ARRAY &&
                (n < 3 || vmig_scalar_type_parse(c, strlen(c), &ps->elem))) {
                rc = -1;
                break;
            }
            f->lay.scalar[s] = ps;
            f->lay.scalar_key[s] = ps->src;
            f->lay.nscalars++;
        } else if (!strcmp(line, "unnamed")) {
            f->lay.unnamed = 1;
        } else if (!strcmp(line, "reject_oversize")) {
            f->lay.reject_oversize = 1;
        } else if (sscanf(line, "page %15s", f->page) != 1) {
            rc = -1;
        }
    }
    free(head);
    if (rc) return -1;
    const uint8_t *p = in + sizeof mark - 1;
    *blen = size - (size_t)(p - data);
    *body = malloc(*blen + 1);
    memcpy(*body, p, *blen);
    (*body)[*blen] = '\0';
    return 0;
}

#endif

/*
 * fixture.c - helpers the codec tests share: the scroll fixture files of
 * tests/data/qdrant/scroll (a layout, a page, the expected dump) and the batch dump
 * they are compared with, so the REST scanner (test_qdrant_codec.c) and the gRPC
 * codec (test_qdrant_grpc_codec.c) are held to the same expectations.
 */
#include "fake/fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "util/alloc.h"

char *fx_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    struct vmig_buf b = VMIG_BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        vmig_buf_add(&b, tmp, n);
    fclose(f);
    return vmig_buf_detach(&b, len);
}

const char *fx_data_dir(void)
{
    const char *d = getenv("VMIG_SOURCE_DIR");
    return d ? d : ".";
}

static void put_float(struct vmig_buf *o, float f)
{
    char t[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(t, sizeof t, "%.*g", p, (double)f);
        if (strtof(t, NULL) == f) break;
    }
    vmig_buf_adds(o, t);
}

void fx_dump_batch(struct vmig_buf *o, const struct vmig_batch *b, const struct vmig_point_id *next)
{
    char t[VMIG_ID_TEXT_MAX];
    if (next) {
        vmig_point_id_format(next, t);
        vmig_buf_addf(o, "next %s\n", next->kind ? t : "none");
    }
    for (size_t r = 0; r < b->n; r++) {
        vmig_point_id_format(&b->ids[r], t);
        vmig_buf_addf(o, "row %s\n", t);
        for (size_t c = 0; c < b->ncols; c++) {
            vmig_buf_addf(o, "  c%zu", c);
            if (!b->col[c].sparse) {
                const float *v = vmig_batch_dense_at(b, c, r);
                for (uint32_t k = 0; k < b->col[c].dim; k++) {
                    vmig_buf_addch(o, ' ');
                    put_float(o, v[k]);
                }
            } else {
                const unsigned char *p = (const unsigned char *)b->col[c].data.p;
                for (size_t x = b->col[c].off[r]; x < b->col[c].off[r + 1]; x += 8) {
                    uint32_t i = (uint32_t)p[x] | (uint32_t)p[x + 1] << 8 |
                                 (uint32_t)p[x + 2] << 16 | (uint32_t)p[x + 3] << 24;
                    uint32_t vb = (uint32_t)p[x + 4] | (uint32_t)p[x + 5] << 8 |
                                  (uint32_t)p[x + 6] << 16 | (uint32_t)p[x + 7] << 24;
                    float v;
                    memcpy(&v, &vb, 4);
                    vmig_buf_addf(o, " %u:", i);
                    put_float(o, v);
                }
            }
            vmig_buf_addch(o, '\n');
        }
        size_t ml;
        const char *m = vmig_batch_meta_at(b, r, &ml);
        vmig_buf_addf(o, "  meta %.*s\n", (int)ml, m);
    }
    for (size_t i = 0; i < b->nrejects; i++) {
        vmig_point_id_format(&b->rejects[i].id, t);
        vmig_buf_addf(o, "reject %s %s\n", t, b->rejects[i].reason);
    }
    if (b->nulls_dropped)
        vmig_buf_addf(o, "nulls_dropped %llu\n", (unsigned long long)b->nulls_dropped);
}

void fx_parse(char *text, struct fx_scroll *fx, const char *path)
{
    memset(fx, 0, sizeof *fx);
    fx->lay.coll = "c";
    fx->lay.prefix = "payload_";
    char *in = strstr(text, "--- input\n"), *ex = strstr(text, "--- expect\n");
    if (!in || !ex || ex < in) fail_msg("%s: needs '--- input' then '--- expect'", path);
    *in = '\0';
    fx->input = in + 10;
    fx->input_len = (size_t)(ex - fx->input);
    fx->expect = ex + 11;
    fx->head_len = (size_t)(fx->expect - text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char a[64], b[64];
        unsigned dim = 0;
        if (line[0] == '#') continue;
        if (sscanf(line, "col %63s %63s %u", a, b, &dim) >= 2) {
            size_t c = fx->lay.ncols++;
            snprintf(fx->names[c], sizeof fx->names[c], "%s", strcmp(a, "-") ? a : "");
            fx->lay.col[c].src = fx->lay.col[c].dst = fx->names[c];
            fx->lay.col[c].sparse = !strcmp(b, "sparse");
            fx->lay.col[c].dim = dim;
        } else if (sscanf(line, "reserved %63s", a) == 1) {
            size_t r = fx->lay.nreserved++;
            snprintf(fx->reserved[r], sizeof fx->reserved[r], "%s", a);
            fx->lay.reserved[r] = fx->reserved[r];
        } else if (sscanf(line, "nulls %63s", a) == 1) {
            fx->lay.nulls = !strcmp(a, "drop")   ? VMIG_NULL_DROP
                            : !strcmp(a, "keep") ? VMIG_NULL_KEEP
                                                 : VMIG_NULL_FAIL;
        } else if (sscanf(line, "conflict prefix %63s", a) == 1) {
            fx->lay.conflict = VMIG_CONFLICT_PREFIX;
            snprintf(fx->prefix, sizeof fx->prefix, "%s", a);
            fx->lay.prefix = fx->prefix;
        } else if (!strcmp(line, "unnamed")) {
            fx->lay.unnamed = 1;
        } else if (!strcmp(line, "reject_oversize")) {
            fx->lay.reject_oversize = 1;
        } else if (!strcmp(line, "page retrieve")) {
            fx->retrieve = 1;
        } else if (strcmp(line, "page scroll") != 0) {
            fail_msg("%s: unknown line '%s'", path, line);
        }
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

size_t fx_each_file(const char *sub, const char *ext, void (*fn)(const char *))
{
    char dir[1024], path[2048];
    struct dirent **list;
    size_t n = 0;
    snprintf(dir, sizeof dir, "%s/tests/data/qdrant/%s", fx_data_dir(), sub);
    int k = scandir(dir, &list, NULL, by_name);
    if (k < 0) fail_msg("cannot read %s", dir);
    for (int i = 0; i < k; i++) {
        size_t l = strlen(list[i]->d_name), el = strlen(ext);
        if (l > el && !strcmp(list[i]->d_name + l - el, ext)) {
            snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
            print_message("  %s\n", list[i]->d_name);
            fn(path);
            n++;
        }
        free(list[i]);
    }
    free(list);
    return n;
}

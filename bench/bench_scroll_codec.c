/*
 * bench_scroll_codec.c - speed of the Qdrant scroll page scanner against the
 * obvious alternatives, on a synthetic page shaped like a real one: 1000 points,
 * 768-d float32 vectors in shortest round-trip text, ~300-byte payloads (~10 MB).
 *   (a) vmig_qdrant_scan_page() into a columnar batch,
 *   (b) jansson: json_loadb() + walking every float with json_number_value(),
 *   (c) strtof() alone over every float of the page (a lower bound for any parser
 *       that calls it).
 * Prints one JSON line. `--sweep` instead checks vmig_parse_f32() against strtof()
 * on all 2^32 float32 bit patterns (shortest form; takes a long while).
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch/batch.h"
#include "source/fastfloat.h"
#include "source/qdrant_codec.h"
#include "util/buf.h"

#define NPTS 1000
#define DIM 768

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void shortest(char *t, size_t n, float f)
{
    for (int p = 1; p <= 9; p++) {
        snprintf(t, n, "%.*g", p, (double)f);
        if (strtof(t, NULL) == f) return;
    }
}

static int sweep(void)
{
    char t[32];
    uint64_t bad = 0, fast = 0;
    for (uint64_t b = 0; b <= UINT32_MAX; b++) {
        uint32_t bits = (uint32_t)b;
        float f, g;
        const char *e;
        memcpy(&f, &bits, 4);
        if (isnan(f) || isinf(f)) continue;
        shortest(t, sizeof t, f);
        float want = strtof(t, NULL);
        if (vmig_parse_f32(t, t + strlen(t), &g, &e) != 0 || memcmp(&g, &want, 4) != 0) {
            if (bad++ < 10) fprintf(stderr, "mismatch at %s\n", t);
        }
        fast += vmig_parse_f32_fast(t, t + strlen(t), &g, &e);
        if ((b & 0xfffffff) == 0) fprintf(stderr, "sweep: 0x%08x\n", bits);
    }
    printf("{\"bench\":\"fastfloat_sweep\",\"mismatches\":%llu,\"fast_path\":%llu}\n",
           (unsigned long long)bad, (unsigned long long)fast);
    return bad != 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--sweep")) return sweep();
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1) reps = 1;
    struct vmig_buf page = VMIG_BUF_INIT;
    char t[32];
    vmig_buf_adds(&page, "{\"result\":{\"points\":[");
    for (int i = 0; i < NPTS; i++) {
        vmig_buf_addf(&page,
                      "%s{\"id\":%d,\"payload\":{\"title\":\"Document number %d about vectors\","
                      "\"tags\":[\"alpha\",\"beta\",\"gamma\"],\"year\":%d,\"score\":%.6f,"
                      "\"author\":{\"name\":\"Ada Lovelace\",\"org\":\"Analytical Engines Ltd\"},"
                      "\"url\":\"https://example.com/docs/%d/index.html\",\"lang\":\"en\","
                      "\"body\":\"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                      "eiusmod tempor incididunt ut labore et dolore magna aliqua.\"},\"vector\":[",
                      i ? "," : "", i, i, 1990 + i % 35, (double)(rnd() % 1000000) / 1e6, i);
        for (int k = 0; k < DIM; k++) {
            float f = (float)((double)(rnd() >> 11) / 9007199254740992.0 * 0.2 - 0.1);
            shortest(t, sizeof t, f);
            if (k) vmig_buf_addch(&page, ',');
            vmig_buf_adds(&page, t);
        }
        vmig_buf_adds(&page, "]}");
    }
    vmig_buf_adds(&page, "],\"next_page_offset\":1000},\"status\":\"ok\",\"time\":0.01}");
    double mb = (double)page.len / 1e6;

    struct vmig_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.coll = "bench";
    lay.unnamed = 1;
    lay.ncols = 1;
    lay.col[0].src = "";
    lay.col[0].dst = "vector";
    lay.col[0].dim = DIM;
    lay.nulls = VMIG_NULL_FAIL;
    lay.prefix = "payload_";
    lay.reserved[lay.nreserved++] = "id";
    lay.reserved[lay.nreserved++] = "vector";
    struct vmig_batch b;
    struct vmig_err err;
    struct vmig_point_id next;
    vmig_batch_init(&b, &lay);

    double best_a = 1e9, best_b = 1e9, best_c = 1e9, sink = 0;
    for (int r = 0; r < reps; r++) {
        vmig_batch_reset(&b);
        double t0 = now_s();
        if (vmig_qdrant_scan_page(page.p, page.len, VMIG_QDRANT_SCROLL, &lay, &b, &next, &err)) {
            fprintf(stderr, "scan failed: %s\n", err.msg);
            return 1;
        }
        double t1 = now_s();
        if (t1 - t0 < best_a) best_a = t1 - t0;
        if (b.n != NPTS) return 1;
        sink += vmig_batch_dense_at(&b, 0, NPTS - 1)[DIM - 1];

        t0 = now_s();
        json_t *root = json_loadb(page.p, page.len, 0, NULL);
        json_t *pts = json_object_get(json_object_get(root, "result"), "points");
        size_t i, k;
        json_t *pt, *x;
        json_array_foreach(pts, i, pt)
        {
            json_array_foreach(json_object_get(pt, "vector"), k, x) sink += json_number_value(x);
        }
        json_decref(root);
        t1 = now_s();
        if (t1 - t0 < best_b) best_b = t1 - t0;

        /* (c) strtof over each float: find each number's start the cheapest way */
        t0 = now_s();
        const char *p = page.p;
        size_t nf = 0;
        while ((p = strstr(p, "\"vector\":[")) != NULL) {
            p += 10;
            for (;;) {
                char *e;
                sink += strtof(p, &e);
                nf++;
                p = e;
                if (*p != ',') break;
                p++;
            }
        }
        t1 = now_s();
        if (t1 - t0 < best_c) best_c = t1 - t0;
        if (nf != (size_t)NPTS * DIM) return 1;
    }
    printf("{\"bench\":\"scroll_codec\",\"commit\":\"%s\",\"page_mb\":%.2f,\"points\":%d,\"dim\":%d,"
           "\"scanner_mb_s\":%.1f,\"scanner_points_s\":%.0f,"
           "\"jansson_mb_s\":%.1f,\"jansson_points_s\":%.0f,"
           "\"strtof_mb_s\":%.1f,\"strtof_points_s\":%.0f,"
           "\"scanner_vs_jansson\":%.2f,\"scanner_vs_strtof\":%.2f,\"sink\":%g}\n",
           getenv("VMIG_COMMIT") ? getenv("VMIG_COMMIT") : "unknown", mb, NPTS, DIM,
           mb / best_a, NPTS / best_a, mb / best_b, NPTS / best_b, mb / best_c, NPTS / best_c,
           best_b / best_a, best_c / best_a, sink);
    vmig_batch_release(&b);
    vmig_buf_release(&page);
    return 0;
}

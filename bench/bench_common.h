/*
 * bench_common.h - what the C benchmark programs (bench_read.c, bench_write.c)
 * share: command-line options, making the plan of one collection the way
 * `vmigrate migrate` does (describe + default mapping), the engine's page sizing,
 * and the one JSON line each program prints on stdout for bench/run to collect.
 * Header-only (static functions) because every bench .c file is built as its own
 * program.
 */
#ifndef VMIG_BENCH_COMMON_H
#define VMIG_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "batch/batch.h"
#include "source/source.h"
#include "util/retry.h"
#include "vmig/log.h"
#include "vmig/migrate.h"
#include "vmig/plan.h"

struct bench_opts {
    const char *source, *target, *coll, *target_name;
    int readers, writers;
    size_t page_bytes;
    uint32_t page_limit;
    int verbose;
};

static inline void bench_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --source URL [--target URL --target-name NAME] --collection NAME\n"
            "          [--readers N] [--writers N] [--page-size N] [-v]\n"
            "Prints one JSON line: points, vector_bytes, seconds (and the phases timed).\n",
            prog);
    exit(2);
}

static inline void bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
    struct vmig_migrate_opts d;
    vmig_migrate_opts_init(&d); /* the engine's defaults, so the bench runs what migrate runs */
    memset(o, 0, sizeof *o);
    o->readers = d.readers;
    o->writers = d.writers;
    o->page_bytes = d.page_bytes;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-v")) {
            o->verbose = 1;
            continue;
        }
        if (!v) bench_usage(argv[0]);
        if (!strcmp(a, "--source")) o->source = v;
        else if (!strcmp(a, "--target")) o->target = v;
        else if (!strcmp(a, "--collection")) o->coll = v;
        else if (!strcmp(a, "--target-name")) o->target_name = v;
        else if (!strcmp(a, "--readers")) o->readers = atoi(v);
        else if (!strcmp(a, "--writers")) o->writers = atoi(v);
        else if (!strcmp(a, "--page-size")) o->page_limit = (uint32_t)atoi(v);
        else bench_usage(argv[0]);
        i++;
    }
    if (!o->source || !o->coll || o->readers < 1 || o->writers < 1) bench_usage(argv[0]);
}

static inline void bench_log(void *ud, int level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[%d] %s\n", level, msg);
}

static inline void bench_die(const char *what, const struct vmig_err *e)
{
    fprintf(stderr, "bench: %s: %s\n", what, e->msg);
    exit(1);
}

/* The plan `vmigrate migrate -c coll` would make with no edits (default mapping). */
static inline void bench_plan(const struct bench_opts *o, const struct vmig_endpoint *src,
                       struct vmig_plan_coll *pc, uint64_t *count, int *has_slices)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    struct vmig_source *s = NULL;
    struct vmig_src_coll sc;
    struct vmig_map_opts mo;
    struct vmig_err e;
    char ver[64];
    vmig_err_clear(&e);
    if (svt->open(src, NULL, &s, &e)) bench_die("open source", &e);
    if (svt->probe(s, ver, sizeof ver, &e)) bench_die("probe source", &e);
    *has_slices = svt->has_slices(s);
    if (svt->describe(s, o->coll, &sc, &e)) bench_die("describe", &e);
    if (svt->count(s, o->coll, count, &e)) bench_die("count", &e);
    vmig_map_opts_init(&mo);
    mo.source_url = o->source;
    if (vmig_plan_coll_build(&sc, &mo, pc) != VMIG_OK) bench_die("plan", &pc->refusal);
    vmig_map_opts_release(&mo);
    if (o->target_name) snprintf(pc->target, sizeof pc->target, "%s", o->target_name);
    svt->close(s);
}

/* Page sizing exactly as the engine's reader does it (src/engine/migrate.c
 * initial_limit() and the adaptation after each page): keep the two in step. */
static inline uint32_t bench_initial_limit(const struct bench_opts *o, const struct vmig_layout *lay)
{
    if (o->page_limit) return o->page_limit;
    size_t per_point = 64 + 2048;
    for (size_t c = 0; c < lay->ncols; c++)
        per_point += lay->col[c].sparse ? 2048 : (size_t)lay->col[c].dim * 13;
    size_t lim = o->page_bytes / per_point;
    return (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
}

static inline uint32_t bench_next_limit(const struct bench_opts *o, uint32_t limit, size_t rows,
                                 size_t page_bytes)
{
    if (o->page_limit || rows == 0 || page_bytes == 0) return limit;
    size_t per = page_bytes / rows + 1;
    size_t lim = o->page_bytes / per;
    return (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
}

/* The ranges the engine would plan (migrate.c plan_ranges()). */
static inline int bench_nranges(const struct bench_opts *o, int has_slices, uint64_t total)
{
    int n = o->readers > VMIG_MAX_RANGES ? VMIG_MAX_RANGES : o->readers;
    if (!has_slices || n == 1 || total < 1000) n = 1;
    return n;
}

static inline size_t bench_vector_bytes(const struct vmig_batch *b)
{
    size_t n = 0;
    for (size_t c = 0; c < b->ncols; c++) n += b->col[c].data.len;
    return n;
}

/* Monotonic seconds (finer than vmig_now_ms(), for the tiny --quick runs). */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process so far. */
static inline double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Tell bench/run that the timed section starts now (it samples the servers' CPU). */
static inline void bench_mark_start(void)
{
    printf("{\"event\":\"start\"}\n");
    fflush(stdout);
}

#endif

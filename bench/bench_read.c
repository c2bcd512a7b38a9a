/*
 * bench_read.c - the source's limit: vmigrate's reader scrolling a whole Qdrant
 * collection into a sink that discards. It does what the engine's reader threads
 * do (src/engine/migrate.c reader_main): one source handle per thread, one read
 * range per reader (Qdrant slices when the server has them, else one range), the
 * same page sizing, decoding every page into a columnar batch - and then drops the
 * batch instead of queueing it to writers. The engine itself cannot be pointed at a
 * discarding target (its connectors are fixed), hence this replica of the loop.
 *
 * Usage: bench_read --source URL --collection NAME [--readers N] [--page-size N]
 * Prints {"event":"start"} when the timed part begins, then one JSON line: points,
 * vector_bytes, pages, ranges, seconds and cpu_seconds (of the timed part).
 */
#include <pthread.h>

#include "bench_common.h"

struct reader {
    const struct bench_opts *o;
    const struct vmig_endpoint *src;
    const struct vmig_plan_coll *pc;
    const struct vmig_layout *lay;
    uint32_t slice_total, slice_index;
    uint64_t points, vbytes, pages;
    struct vmig_err err;
    int rc;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    const struct vmig_source_vt *svt = vmig_source_for(r->src);
    struct vmig_source *s = NULL;
    struct vmig_batch b;
    vmig_batch_init(&b, r->lay);
    vmig_err_clear(&r->err);
    if ((r->rc = svt->open(r->src, NULL, &s, &r->err)) != VMIG_OK) goto out;
    struct vmig_point_id offset = {0};
    uint32_t limit = bench_initial_limit(r->o, r->lay);
    for (;;) {
        struct vmig_read_req req = {0};
        struct vmig_point_id next = {0};
        size_t page_bytes = 0;
        req.coll = r->pc->source;
        req.layout = r->lay;
        req.offset = offset;
        req.limit = limit;
        req.slice_total = r->slice_total;
        req.slice_index = r->slice_index;
        vmig_batch_reset(&b);
        if ((r->rc = svt->read(s, &req, &b, &next, &page_bytes, &r->err)) != VMIG_OK) goto out;
        r->points += b.n;
        r->vbytes += bench_vector_bytes(&b);
        r->pages++;
        limit = bench_next_limit(r->o, limit, b.n + b.nrejects, page_bytes);
        if (next.kind == VMIG_ID_NONE) break;
        offset = next;
    }
out:
    vmig_batch_release(&b);
    if (s) svt->close(s);
    return NULL;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    bench_opts_parse(&o, argc, argv);
    vmig_log_set(bench_log, NULL, o.verbose ? VMIG_LOG_DEBUG : VMIG_LOG_WARN);

    struct vmig_endpoint src = {0};
    src.url = o.source;
    src.secret = getenv("QDRANT_API_KEY");
    static struct vmig_plan_coll pc; /* large: keep it off the stack */
    uint64_t total = 0;
    int has_slices = 0;
    bench_plan(&o, &src, &pc, &total, &has_slices);
    struct vmig_layout lay;
    vmig_layout_from_plan(&lay, &pc, 1);

    int n = bench_nranges(&o, has_slices, total);
    struct reader rd[VMIG_MAX_RANGES];
    pthread_t th[VMIG_MAX_RANGES];
    memset(rd, 0, sizeof rd);
    bench_mark_start();
    double c0 = bench_cpu();
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        rd[i].o = &o;
        rd[i].src = &src;
        rd[i].pc = &pc;
        rd[i].lay = &lay;
        rd[i].slice_total = n > 1 ? (uint32_t)n : 0;
        rd[i].slice_index = (uint32_t)i;
        if (pthread_create(&th[i], NULL, reader_main, &rd[i])) {
            fprintf(stderr, "bench_read: cannot start thread\n");
            return 1;
        }
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    double secs = bench_now() - t0;
    double cpu = bench_cpu() - c0;

    uint64_t points = 0, vbytes = 0, pages = 0;
    for (int i = 0; i < n; i++) {
        if (rd[i].rc) bench_die("read", &rd[i].err);
        points += rd[i].points;
        vbytes += rd[i].vbytes;
        pages += rd[i].pages;
    }
    if (points != total) {
        fprintf(stderr, "bench_read: read %llu points, the collection has %llu\n",
                (unsigned long long)points, (unsigned long long)total);
        return 1;
    }
    printf("{\"points\":%llu,\"vector_bytes\":%llu,\"pages\":%llu,\"ranges\":%d,"
           "\"seconds\":%.6f,\"cpu_seconds\":%.6f}\n",
           (unsigned long long)points, (unsigned long long)vbytes, (unsigned long long)pages, n,
           secs, cpu);
    return 0;
}

/*
 * bench_write.c - the target's limit: vmigrate's Milvus writer inserting a whole
 * collection that is already in memory. Untimed: the collection is read from Qdrant
 * into batches of the engine's page size and a fresh Milvus collection is created
 * from the default plan. Timed: the same number of writer threads as the engine
 * (src/engine/migrate.c writer_main, default 2) calling vmig_target_milvus.write
 * (Insert) on those batches through one shared target handle, then the flush that
 * ends the engine's copy phase. Indexing and loading are not part of it (they follow
 * the copy in `migrate` and are timed there).
 *
 * Usage: bench_write --source URL --target URL --collection NAME --target-name DST
 *        [--writers N] [--page-size N]
 * Prints {"event":"start"} when the timed part begins, then one JSON line:
 * {"points":..,"vector_bytes":..,"batches":..,"seconds":..,"cpu_seconds":..,
 * "write_seconds":..,"flush_seconds":..}. The target collection is dropped at the end.
 */
#include <pthread.h>

#include "bench_common.h"
#include "target/target.h"

struct shared {
    const struct vmig_target_vt *tvt;
    struct vmig_target *t;
    const struct vmig_plan_coll *pc;
    struct vmig_batch *batches;
    size_t nbatches;
    pthread_mutex_t mu;
    size_t next;
    int rc;
    struct vmig_err err;
};

static void *writer_main(void *arg)
{
    struct shared *sh = arg;
    struct vmig_err e;
    for (;;) {
        pthread_mutex_lock(&sh->mu);
        size_t i = sh->rc ? sh->nbatches : sh->next++;
        pthread_mutex_unlock(&sh->mu);
        if (i >= sh->nbatches) break;
        vmig_err_clear(&e);
        enum vmig_code rc = sh->tvt->write(sh->t, sh->pc, &sh->batches[i], 0, &e);
        if (rc) {
            pthread_mutex_lock(&sh->mu);
            if (!sh->rc) {
                sh->rc = rc;
                sh->err = e;
            }
            pthread_mutex_unlock(&sh->mu);
            break;
        }
    }
    return NULL;
}

/* Read the whole collection (sequentially, untimed) into batches of the engine's page size. */
static struct vmig_batch *read_all(const struct bench_opts *o, const struct vmig_endpoint *src,
                                   const struct vmig_plan_coll *pc,
                                   const struct vmig_layout *lay, size_t *nb)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    struct vmig_source *s = NULL;
    struct vmig_err e;
    struct vmig_batch *v = NULL;
    size_t n = 0, cap = 0;
    vmig_err_clear(&e);
    if (svt->open(src, NULL, &s, &e)) bench_die("open source", &e);
    struct vmig_point_id offset = {0};
    uint32_t limit = bench_initial_limit(o, lay);
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, cap * sizeof *v);
            if (!v) abort();
        }
        vmig_batch_init(&v[n], lay);
        struct vmig_read_req req = {0};
        struct vmig_point_id next = {0};
        size_t page_bytes = 0;
        req.coll = pc->source;
        req.layout = lay;
        req.offset = offset;
        req.limit = limit;
        if (svt->read(s, &req, &v[n], &next, &page_bytes, &e)) bench_die("read", &e);
        limit = bench_next_limit(o, limit, v[n].n + v[n].nrejects, page_bytes);
        if (v[n].n) n++;
        else vmig_batch_release(&v[n]);
        if (next.kind == VMIG_ID_NONE) break;
        offset = next;
    }
    svt->close(s);
    *nb = n;
    return v;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    bench_opts_parse(&o, argc, argv);
    if (!o.target || !o.target_name) bench_usage(argv[0]);
    vmig_log_set(bench_log, NULL, o.verbose ? VMIG_LOG_DEBUG : VMIG_LOG_WARN);

    struct vmig_endpoint src = {0}, dst = {0};
    src.url = o.source;
    src.secret = getenv("QDRANT_API_KEY");
    dst.url = o.target;
    dst.secret = getenv("MILVUS_TOKEN");
    static struct vmig_plan_coll pc;
    uint64_t total = 0;
    int has_slices = 0;
    bench_plan(&o, &src, &pc, &total, &has_slices);
    struct vmig_layout lay;
    vmig_layout_from_plan(&lay, &pc, 1);

    size_t nb = 0;
    struct vmig_batch *batches = read_all(&o, &src, &pc, &lay, &nb);
    uint64_t points = 0, vbytes = 0;
    for (size_t i = 0; i < nb; i++) {
        points += batches[i].n;
        vbytes += bench_vector_bytes(&batches[i]);
    }
    if (points != total) {
        fprintf(stderr, "bench_write: read %llu points, the collection has %llu\n",
                (unsigned long long)points, (unsigned long long)total);
        return 1;
    }

    struct shared sh;
    memset(&sh, 0, sizeof sh);
    sh.tvt = &vmig_target_milvus;
    sh.pc = &pc;
    sh.batches = batches;
    sh.nbatches = nb;
    pthread_mutex_init(&sh.mu, NULL);
    struct vmig_err e;
    vmig_err_clear(&e);
    if (sh.tvt->open(&dst, NULL, &sh.t, &e)) bench_die("open target", &e);
    int exists = 0;
    if (sh.tvt->has_collection(sh.t, pc.target, &exists, &e)) bench_die("has_collection", &e);
    if (exists && sh.tvt->drop_collection(sh.t, pc.target, &e)) bench_die("drop", &e);
    if (sh.tvt->create_collection(sh.t, &pc, &e)) bench_die("create collection", &e);

    pthread_t th[64];
    int nw = o.writers > 64 ? 64 : o.writers;
    bench_mark_start();
    double c0 = bench_cpu();
    double t0 = bench_now();
    for (int i = 0; i < nw; i++)
        if (pthread_create(&th[i], NULL, writer_main, &sh)) {
            fprintf(stderr, "bench_write: cannot start thread\n");
            return 1;
        }
    for (int i = 0; i < nw; i++) pthread_join(th[i], NULL);
    double t1 = bench_now();
    if (sh.rc) bench_die("write", &sh.err);
    if (sh.tvt->flush(sh.t, pc.target, &e)) bench_die("flush", &e);
    double t2 = bench_now();
    double cpu = bench_cpu() - c0;

    uint64_t count = 0;
    if (sh.tvt->count(sh.t, pc.target, &count, &e) == VMIG_OK && count != total)
        fprintf(stderr, "bench_write: warning: target counts %llu rows, expected %llu\n",
                (unsigned long long)count, (unsigned long long)total);
    sh.tvt->drop_collection(sh.t, pc.target, &e);
    sh.tvt->close(sh.t);
    printf("{\"points\":%llu,\"vector_bytes\":%llu,\"batches\":%zu,\"writers\":%d,"
           "\"seconds\":%.6f,\"write_seconds\":%.6f,\"flush_seconds\":%.6f,"
           "\"cpu_seconds\":%.6f}\n",
           (unsigned long long)points, (unsigned long long)vbytes, nb, nw, t2 - t0, t1 - t0,
           t2 - t1, cpu);
    for (size_t i = 0; i < nb; i++) vmig_batch_release(&batches[i]);
    free(batches);
    pthread_mutex_destroy(&sh.mu);
    return 0;
}

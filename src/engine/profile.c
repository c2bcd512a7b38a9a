/*
 * profile.c (engine) - `plan --profile`: scrolls one source collection page by
 * page through its normal connector (the same read() and codec as the copy, so the
 * payloads are profiled exactly as they would be written) and folds each row's
 * payload into a struct vmig_profile (mapping/profile.c). One page is held at a
 * time, so memory stays flat however many points are read. The sample is the first
 * N points in scroll order (id order): Qdrant has no random scroll, and the random
 * id sampling verify uses costs a full id scan first.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch/batch.h"
#include "source/source.h"
#include "util/alloc.h"
#include "util/retry.h"
#include "vmig/plan.h"
#include "vmig/profile.h"

#define PAGE_BYTES (4u << 20) /* aim for pages of about this many response bytes */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t page_limit(size_t per_point)
{
    size_t lim = PAGE_BYTES / (per_point ? per_point : 1);
    return (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);
}

/* The layout every page is decoded with: the default plan's vectors; nulls kept (the
 * profile counts them), keys that collide with the schema's field names under the
 * conflict prefix (as --payload-conflict prefix writes them), no typed fields (every
 * key stays in the payload the profile reads), oversize rows rejected
 * rather than failing the profile. */
static void profile_layout(const struct vmig_src_coll *sc, struct vmig_plan_coll *pc,
                           struct vmig_layout *lay)
{
    struct vmig_map_opts mo;
    vmig_map_opts_init(&mo);
    mo.max_vector_fields = VMIG_MAX_VECTOR_FIELDS;
    vmig_plan_coll_build(sc, &mo, pc); /* only its vectors are used (the layout) */
    vmig_map_opts_release(&mo);
    pc->nscalars = 0; /* whole payloads: the typed fields are what the profile sizes */
    vmig_layout_from_plan(lay, pc, 1);
    lay->nulls = VMIG_NULL_KEEP;
    lay->conflict = VMIG_CONFLICT_PREFIX;
}

static void fold_page(struct vmig_profile *out, const struct vmig_batch *b)
{
    for (size_t c = 0; c < b->ncols; c++) {
        if (b->col[c].sparse) {
            out->sparse_bytes += b->col[c].data.len;
            out->vector_bytes += b->col[c].data.len;
        } else {
            out->vector_bytes += (uint64_t)b->n * b->col[c].dim * sizeof(float);
        }
    }
    for (size_t r = 0; r < b->n; r++) {
        size_t len;
        const char *m = vmig_batch_meta_at(b, r, &len);
        vmig_profile_add(out, m, len);
    }
}

enum vmig_code vmig_profile_run(const struct vmig_endpoint *src, const struct vmig_src_coll *sc,
                                uint64_t sample, struct vmig_profile *out, struct vmig_err *err)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    struct vmig_source *s = NULL;
    struct vmig_plan_coll *pc = xcalloc(1, sizeof *pc); /* large: not on the stack */
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_point_id offset = {0};
    enum vmig_code rc;

    vmig_profile_init(out);
    profile_layout(sc, pc, &lay);
    vmig_batch_init(&b, &lay);
    rc = svt->open(src, NULL, &s, err);
    if (rc) goto out;
    rc = svt->count(s, sc->name, &out->total, err);
    if (rc) goto out;
    size_t per_point = 64 + 2048;
    for (size_t c = 0; c < lay.ncols; c++)
        per_point += lay.col[c].sparse ? 2048 : (size_t)lay.col[c].dim * 13;
    uint32_t limit = page_limit(per_point);
    int gap_ms = sc->read_rate_limit ? (int)(60000 / sc->read_rate_limit) + 1 : 0;
    double t0 = mono_s();
    for (;;) {
        struct vmig_read_req req = {0};
        req.coll = sc->name;
        req.layout = &lay;
        req.offset = offset;
        req.limit = limit;
        if (sample && sample - out->points < req.limit)
            req.limit = (uint32_t)(sample - out->points);
        struct vmig_point_id next = {0};
        size_t page_bytes = 0;
        vmig_batch_reset(&b);
        rc = svt->read(s, &req, &b, &next, &page_bytes, err);
        if (rc) goto out;
        if (sample && b.n > sample - out->points)
            vmig_batch_truncate(&b, (size_t)(sample - out->points));
        fold_page(out, &b);
        out->wire_bytes += page_bytes;
        size_t rows = b.n + b.nrejects;
        if (rows && page_bytes) limit = page_limit(page_bytes / rows + 1);
        if (next.kind == VMIG_ID_NONE) {
            out->full = 1; /* the scroll ended: every point was read */
            break;
        }
        if (sample && out->points >= sample) break;
        offset = next;
        if (gap_ms) vmig_run_sleep(NULL, gap_ms); /* strict mode's read rate */
    }
    out->read_s = mono_s() - t0;
out:
    if (s) svt->close(s);
    vmig_batch_release(&b);
    free(pc);
    return rc;
}

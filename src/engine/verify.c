/*
 * verify.c - checks a migrated collection against its source: exact counts on
 * both sides, then `sample` points chosen uniformly at random (reservoir sampling
 * over an id-only scan of the source) read back from both sides through the same
 * batch layout and compared: float32 vectors bit-exact, sparse rows byte-equal,
 * payloads equal as JSON values (util/json_canon.c: numbers by exact decimal
 * value, strings by code points), after the plan's null/conflict rules were
 * applied to the source side, exactly as when it was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "target/target.h"
#include "util/alloc.h"
#include "util/json_canon.h"
#include "util/log.h"
#include "util/retry.h"

int vmig_batch_row_diff(const struct vmig_batch *a, size_t ra, const struct vmig_batch *b,
                        size_t rb, const struct vmig_layout *lay, char *why, size_t whylen,
                        const char **field)
{
    const char *unused;
    if (!field) field = &unused;
    for (size_t c = 0; c < a->ncols; c++) {
        const struct vmig_batch_col *ca = &a->col[c], *cb = &b->col[c];
        const void *pa, *pb;
        size_t la, lb;
        if (ca->sparse) {
            pa = ca->data.p + ca->off[ra];
            la = ca->off[ra + 1] - ca->off[ra];
            pb = cb->data.p + cb->off[rb];
            lb = cb->off[rb + 1] - cb->off[rb];
        } else {
            pa = vmig_batch_dense_at(a, c, ra);
            pb = vmig_batch_dense_at(b, c, rb);
            la = lb = (size_t)ca->dim * sizeof(float);
        }
        if (la != lb || memcmp(pa, pb, la) != 0) {
            snprintf(why, whylen, "vector '%s' differs", lay->col[c].dst);
            *field = lay->col[c].dst;
            return VMIG_ROW_VECTOR_DIFFERS;
        }
    }
    /* typed fields: numbers and strings byte-exact, JSON and arrays as JSON values */
    for (size_t k = 0; k < a->nscalars && k < lay->nscalars; k++) {
        size_t la, lb;
        const char *pa = vmig_batch_scalar_at(a, k, ra, &la),
                   *pb = vmig_batch_scalar_at(b, k, rb, &lb);
        enum vmig_scalar_type t = lay->scalar[k]->type;
        /* a missing key reads back as the field's default, which Milvus filled in */
        int same = !pa && pb && lay->scalar[k]->has_default ? 1
                   : !pa || !pb                             ? pa == pb
                   : t == VMIG_SC_JSON || t == VMIG_SC_ARRAY
                       ? (la == lb && !memcmp(pa, pb, la)) || vmig_json_equal(pa, la, pb, lb) == 1
                       : la == lb && !memcmp(pa, pb, la);
        if (!same) {
            snprintf(why, whylen, "typed field '%s' differs: source %s, target %s",
                     lay->scalar[k]->dst, pa ? "a value" : "null", pb ? "a value" : "null");
            *field = lay->scalar[k]->dst;
            return VMIG_ROW_PAYLOAD_DIFFERS;
        }
    }
    size_t ma, mb;
    const char *ta = vmig_batch_meta_at(a, ra, &ma);
    const char *tb = vmig_batch_meta_at(b, rb, &mb);
    if (ma == mb && memcmp(ta, tb, ma) == 0) return 0;
    /* equal as JSON values: numbers by exact decimal value, strings by code points */
    if (vmig_json_equal(ta, ma, tb, mb) != 1) {
        snprintf(why, whylen, "payload differs: source %.*s, target %.*s", (int)(ma > 120 ? 120 : ma),
                 ta, (int)(mb > 120 ? 120 : mb), tb);
        *field = "$meta";
        return VMIG_ROW_PAYLOAD_DIFFERS;
    }
    return 0;
}

static int cmp_row_id(const void *x, const void *y, void *ctx)
{
    const struct vmig_batch *b = ctx;
    return vmig_point_id_cmp(&b->ids[*(const size_t *)x], &b->ids[*(const size_t *)y]);
}

/* index of each id in b, sorted by id (qsort_r is a GNU extension; use a simple merge
 * sort by hand to stay portable C11 + POSIX) */
void vmig_batch_sort_rows(const struct vmig_batch *b, size_t *idx, size_t n)
{
    if (n < 2) return;
    size_t h = n / 2;
    vmig_batch_sort_rows(b, idx, h);
    vmig_batch_sort_rows(b, idx + h, n - h);
    size_t *tmp = xmalloc(n * sizeof *tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_row_id(&idx[i], &idx[j], (void *)b) <= 0 ? idx[i++] : idx[j++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *tmp);
    free(tmp);
}

static enum vmig_code sample_ids(const struct vmig_source_vt *svt, struct vmig_source *s,
                                 const struct vmig_plan_coll *pc, size_t want,
                                 const struct vmig_run_ctx *ctx, struct vmig_point_id *out,
                                 size_t *got, struct vmig_err *err)
{
    struct vmig_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.coll = pc->source;
    struct vmig_batch b;
    vmig_batch_init(&b, &lay);
    struct vmig_point_id offset = {0};
    uint64_t seen = 0;
    unsigned seed = (unsigned)vmig_wall_ms();
    enum vmig_code rc = VMIG_OK;
    for (;;) {
        if (vmig_run_cancelled(ctx)) {
            rc = vmig_err_set(err, VMIG_E_CANCELLED, "verification cancelled");
            break;
        }
        vmig_batch_reset(&b);
        struct vmig_read_req req = {0};
        req.coll = pc->source;
        req.layout = &lay;
        req.offset = offset;
        req.limit = 4096;
        req.ids_only = 1;
        struct vmig_point_id next = {0};
        rc = svt->read(s, &req, &b, &next, NULL, err);
        if (rc) break;
        for (size_t i = 0; i < b.n; i++, seen++) {
            if (seen < want) {
                out[seen] = b.ids[i];
            } else {
                uint64_t j = ((uint64_t)rand_r(&seed) << 31 ^ (uint64_t)rand_r(&seed)) % (seen + 1);
                if (j < want) out[j] = b.ids[i];
            }
        }
        if (next.kind == VMIG_ID_NONE) break;
        offset = next;
    }
    *got = seen < want ? (size_t)seen : want;
    vmig_batch_release(&b);
    return rc;
}

enum vmig_code vmig_verify_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, int sample, uint64_t rejected,
                                const struct vmig_run_ctx *ctx, struct vmig_verify_result *vr,
                                struct vmig_err *err)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    const struct vmig_target_vt *tvt = vmig_target_for(dst);
    struct vmig_source *s = NULL;
    struct vmig_target *t = NULL;
    struct vmig_point_id *ids = NULL;
    size_t *ia = NULL, *ib = NULL;
    struct vmig_layout lay;
    struct vmig_batch ba, bb;
    struct vmig_verify_result local;
    enum vmig_code rc;

    if (!vr) vr = &local;
    memset(vr, 0, sizeof *vr);
    vmig_layout_from_plan(&lay, pc, 1);
    vmig_batch_init(&ba, &lay);
    vmig_batch_init(&bb, &lay);

    rc = svt->open(src, ctx, &s, err);
    if (rc) goto out;
    rc = tvt->open(dst, ctx, &t, err);
    if (rc) goto out;
    vr->ran = 1;
    rc = svt->count(s, pc->source, &vr->source_count, err);
    if (rc) goto out;
    rc = tvt->count(t, pc->target, &vr->target_count, err);
    if (rc) goto out;

    size_t want = sample > 0 ? (size_t)sample : 0, got = 0;
    if (want) {
        ids = xcalloc(want, sizeof *ids);
        rc = sample_ids(svt, s, pc, want, ctx, ids, &got, err);
        if (rc) goto out;
    }
    for (size_t off = 0; off < got; off += 256) {
        size_t n = got - off < 256 ? got - off : 256;
        rc = svt->retrieve(s, pc->source, &lay, ids + off, n, &ba, err);
        if (rc) goto out;
        rc = tvt->retrieve(t, pc, &lay, ids + off, n, &bb, err);
        if (rc) goto out;
    }
    vr->sampled = got;
    /* rows rejected on the way in (oversize payloads) are not expected in the target */
    ia = xcalloc(ba.n + 1, sizeof *ia);
    ib = xcalloc(bb.n + 1, sizeof *ib);
    for (size_t i = 0; i < ba.n; i++) ia[i] = i;
    for (size_t i = 0; i < bb.n; i++) ib[i] = i;
    vmig_batch_sort_rows(&ba, ia, ba.n);
    vmig_batch_sort_rows(&bb, ib, bb.n);
    size_t i = 0, j = 0;
    char why[400], diff_point[VMIG_ID_TEXT_MAX] = ""; /* the point of first_diff, if one */
    while (i < ba.n) {
        int c = j < bb.n ? vmig_point_id_cmp(&ba.ids[ia[i]], &bb.ids[ib[j]]) : -1;
        char idt[VMIG_ID_TEXT_MAX];
        if (c < 0) {
            vr->missing++;
            if (!vr->first_diff[0]) {
                vmig_point_id_format(&ba.ids[ia[i]], idt);
                snprintf(vr->first_diff, sizeof vr->first_diff, "point %s missing in target", idt);
                snprintf(diff_point, sizeof diff_point, "%s", idt);
            }
            i++;
        } else if (c > 0) {
            j++;
        } else {
            int d = vmig_batch_row_diff(&ba, ia[i], &bb, ib[j], &lay, why, sizeof why, NULL);
            if (d) {
                if (d == VMIG_ROW_PAYLOAD_DIFFERS) vr->payload_diffs++;
                else vr->vector_diffs++;
                if (!vr->first_diff[0]) {
                    vmig_point_id_format(&ba.ids[ia[i]], idt);
                    snprintf(vr->first_diff, sizeof vr->first_diff, "point %s: %s", idt, why);
                    snprintf(diff_point, sizeof diff_point, "%s", idt);
                }
            }
            i++;
            j++;
        }
    }
    vr->rejected = rejected;
    if (vr->target_count + rejected != vr->source_count && !vr->first_diff[0])
        snprintf(vr->first_diff, sizeof vr->first_diff,
                 "count differs: %llu points in source, %llu rows in target%s",
                 (unsigned long long)vr->source_count, (unsigned long long)vr->target_count,
                 rejected ? " (plus rejected points)" : "");
    if (vr->first_diff[0]) {
        rc = vmig_err_set(err, VMIG_E_VERIFY, "verification of '%s' failed: %s", pc->source,
                          vr->first_diff);
        vmig_err_at(err, pc->source, diff_point, NULL);
    }
out:
    if (s) svt->close(s);
    if (t) tvt->close(t);
    vmig_batch_release(&ba);
    vmig_batch_release(&bb);
    free(ids);
    free(ia);
    free(ib);
    return rc;
}

/*
 * search_parity.c - search parity of a migrated collection (vmig/search.h): the
 * vectors of points sampled at random from the source become queries, each runs
 * as an exact search on Qdrant and as a Milvus Search on the target, and the top-k
 * id lists are compared per vector field (overlap, identical ranked lists, score
 * differences). The queries are read through the plan's layout, so what Qdrant is
 * asked is exactly what the copy wrote (float32, sparse pairs sorted by index).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "source/source.h"
#include "target/target.h"
#include "util/alloc.h"
#include "util/log.h"
#include "vmig/search.h"

#define TARGET_CHUNK 16 /* queries per Milvus Search request */

/* The query points: a random sample of the source (the `sample` query); a server
 * without it (Qdrant < 1.11) lends its first points instead. */
static enum vmig_code pick_queries(const struct vmig_source_vt *svt, struct vmig_source *s,
                                   const struct vmig_plan_coll *pc, size_t want,
                                   struct vmig_batch *ids, struct vmig_err *err)
{
    enum vmig_code rc =
        svt->sample_ids ? svt->sample_ids(s, pc->source, want, ids, err) : VMIG_E_REMOTE;
    if (rc == VMIG_OK && ids->n) return VMIG_OK;
    vmig_batch_reset(ids);
    vmig_err_clear(err);
    struct vmig_read_req req = {0};
    req.coll = pc->source;
    struct vmig_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.coll = pc->source;
    req.layout = &lay;
    req.limit = (uint32_t)want;
    req.ids_only = 1;
    struct vmig_point_id next = {0};
    return svt->read(s, &req, ids, &next, NULL, err);
}

/* Whether row r of column c holds a vector a search can use (not all zeros, not empty:
 * a point without this named vector reads back as one). */
static int has_vector(const struct vmig_batch *q, size_t c, size_t r)
{
    const struct vmig_batch_col *col = &q->col[c];
    if (col->sparse) return col->off[r + 1] > col->off[r];
    const float *v = vmig_batch_dense_at(q, c, r);
    for (uint32_t i = 0; i < col->dim; i++)
        if (v[i] != 0.0f) return 1;
    return 0;
}

/* A Milvus score in Qdrant's convention: Milvus L2 is the squared distance. */
static double to_qdrant(const struct vmig_plan_field *f, float milvus)
{
    if (f->kind == VMIG_VEC_DENSE && f->metric == VMIG_METRIC_L2)
        return milvus > 0 ? sqrt((double)milvus) : 0.0;
    return milvus;
}

static int has_id(const struct vmig_hits *h, const struct vmig_point_id *id)
{
    for (size_t j = 0; j < h->n; j++)
        if (!vmig_point_id_cmp(&h->ids[j], id)) return 1;
    return 0;
}

/* One query's comparison folded into the field's figures. */
static void compare(struct vmig_search_field *sf, const struct vmig_plan_field *f,
                    const struct vmig_hits *a, const struct vmig_hits *b,
                    const struct vmig_point_id *qid)
{
    size_t inter = 0, same_rank = a->n == b->n;
    for (size_t i = 0; i < a->n; i++) {
        for (size_t j = 0; j < b->n; j++)
            if (!vmig_point_id_cmp(&a->ids[i], &b->ids[j])) {
                double d = fabs((double)a->scores[i] - to_qdrant(f, b->scores[j]));
                if (d > sf->max_score_diff) sf->max_score_diff = d;
                sf->scores_compared = 1;
                inter++;
                break;
            }
        if (same_rank && vmig_point_id_cmp(&a->ids[i], &b->ids[i])) same_rank = 0;
    }
    size_t den = a->n > b->n ? a->n : b->n;
    double ov = den ? (double)inter / (double)den : 1.0;
    if (!sf->queries || ov < sf->min_overlap) {
        sf->min_overlap = ov;
        vmig_point_id_format(qid, sf->worst);
    }
    sf->mean_overlap += ov; /* a sum until the end */
    sf->queries++;
    if (same_rank) sf->identical++;
}

static void note_diff(struct vmig_search_field *sf, const struct vmig_point_id *hit,
                      const struct vmig_point_id *qid)
{
    if (!sf->differences++) {
        vmig_point_id_format(hit, sf->diff_point);
        vmig_point_id_format(qid, sf->diff_query);
    }
}

/* Row of id in b, or -1. */
static long row_of(const struct vmig_batch *b, const struct vmig_point_id *id)
{
    for (size_t r = 0; r < b->n; r++)
        if (!vmig_point_id_cmp(&b->ids[r], id)) return (long)r;
    return -1;
}

static int same_vector(const struct vmig_batch *x, size_t rx, const struct vmig_batch *y, size_t ry,
                       size_t c)
{
    const struct vmig_batch_col *cx = &x->col[c], *cy = &y->col[c];
    if (cx->sparse) {
        size_t lx = cx->off[rx + 1] - cx->off[rx], ly = cy->off[ry + 1] - cy->off[ry];
        return lx == ly && !memcmp(cx->data.p + cx->off[rx], cy->data.p + cy->off[ry], lx);
    }
    return !memcmp(vmig_batch_dense_at(x, c, rx), vmig_batch_dense_at(y, c, ry),
                   (size_t)cx->dim * sizeof(float));
}

/* Why the lists of one query differ (see vmig_search_field): the source's hits the
 * target did not return are read from both sides and their vectors compared; a target
 * hit the source did not return must not score better than the source's k-th hit. */
static enum vmig_code explain(const struct vmig_source_vt *svt, struct vmig_source *s,
                              const struct vmig_target_vt *tvt, struct vmig_target *t,
                              const struct vmig_plan_coll *pc, const struct vmig_layout *lay,
                              size_t c, const struct vmig_hits *a, const struct vmig_hits *b,
                              const struct vmig_point_id *qid, struct vmig_search_field *sf,
                              struct vmig_err *err)
{
    const struct vmig_plan_field *f = &pc->field[c];
    if (a->n == sf->k) {
        /* similarities grow towards the query, Qdrant's Euclid distance shrinks */
        int distance = f->kind == VMIG_VEC_DENSE && f->metric == VMIG_METRIC_L2;
        double kth = a->scores[a->n - 1], eps = 1e-4 * (fabs(kth) > 1 ? fabs(kth) : 1);
        for (size_t j = 0; j < b->n; j++) {
            if (has_id(a, &b->ids[j])) continue;
            double sc = to_qdrant(f, b->scores[j]);
            if (distance ? sc < kth - eps : sc > kth + eps) note_diff(sf, &b->ids[j], qid);
        }
    }
    struct vmig_point_id *miss = xcalloc(a->n + 1, sizeof *miss);
    size_t nmiss = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!has_id(b, &a->ids[i])) miss[nmiss++] = a->ids[i];
    enum vmig_code rc = VMIG_OK;
    struct vmig_batch xs, xt;
    vmig_batch_init(&xs, lay);
    vmig_batch_init(&xt, lay);
    if (nmiss) rc = svt->retrieve(s, pc->source, lay, miss, nmiss, &xs, err);
    if (nmiss && !rc) rc = tvt->retrieve(t, pc, lay, miss, nmiss, &xt, err);
    for (size_t i = 0; !rc && i < nmiss; i++) {
        long rs = row_of(&xs, &miss[i]), rt = row_of(&xt, &miss[i]);
        if (rs < 0) continue; /* deleted from the source meanwhile: not the copy's fault */
        if (rt < 0 || !same_vector(&xs, (size_t)rs, &xt, (size_t)rt, c))
            note_diff(sf, &miss[i], qid);
        else
            sf->index_misses++;
    }
    vmig_batch_release(&xs);
    vmig_batch_release(&xt);
    free(miss);
    return rc;
}

/* Every query of field c: the source one by one, the target TARGET_CHUNK at a time. */
static enum vmig_code field_parity(const struct vmig_source_vt *svt, struct vmig_source *s,
                                   const struct vmig_target_vt *tvt, struct vmig_target *t,
                                   const struct vmig_plan_coll *pc, const struct vmig_layout *lay,
                                   const struct vmig_batch *q, size_t c, uint32_t k,
                                   const struct vmig_run_ctx *ctx, struct vmig_search_field *sf,
                                   struct vmig_err *err)
{
    const struct vmig_plan_field *f = &pc->field[c];
    struct vmig_hits a[TARGET_CHUNK], b[TARGET_CHUNK];
    size_t rows[TARGET_CHUNK];
    enum vmig_code rc = VMIG_OK;
    for (size_t i = 0; i < TARGET_CHUNK; i++) {
        vmig_hits_init(&a[i]);
        vmig_hits_init(&b[i]);
    }
    size_t r = 0;
    while (r < q->n && rc == VMIG_OK) {
        if (vmig_run_cancelled(ctx)) {
            rc = vmig_err_set(err, VMIG_E_CANCELLED, "search parity cancelled");
            break;
        }
        /* gather up to TARGET_CHUNK query rows with a vector, searched on the source */
        size_t n = 0;
        for (; r < q->n && n < TARGET_CHUNK; r++) {
            if (!has_vector(q, c, r)) {
                sf->skipped++;
                continue;
            }
            vmig_hits_reset(&a[n]);
            vmig_hits_reset(&b[n]);
            if ((rc = svt->search(s, pc->source, lay, q, r, c, k, &a[n], err))) break;
            rows[n++] = r;
        }
        if (rc || !n) break;
        /* the target takes a contiguous run of rows: send each run of the chunk */
        for (size_t i = 0; i < n && rc == VMIG_OK;) {
            size_t j = i + 1;
            while (j < n && rows[j] == rows[j - 1] + 1)
                j++;
            rc = tvt->search(t, pc, c, q, rows[i], rows[j - 1] + 1, k, &b[i], err);
            i = j;
        }
        if (rc) {
            if (f->kind == VMIG_VEC_SPARSE && rc != VMIG_E_CANCELLED) {
                /* e.g. a Milvus without sparse search: say so, the dense fields still count */
                sf->compared = 0;
                snprintf(sf->why, sizeof sf->why, "the target cannot search it: %s", err->msg);
                vmig_err_clear(err);
                rc = VMIG_OK;
                goto out;
            }
            break;
        }
        for (size_t i = 0; i < n && rc == VMIG_OK; i++) {
            compare(sf, f, &a[i], &b[i], &q->ids[rows[i]]);
            rc = explain(svt, s, tvt, t, pc, lay, c, &a[i], &b[i], &q->ids[rows[i]], sf, err);
        }
    }
    if (rc == VMIG_OK) {
        sf->compared = 1;
        if (sf->queries)
            sf->mean_overlap /= sf->queries;
        else
            snprintf(sf->why, sizeof sf->why, "no sampled point holds this vector");
    }
out:
    for (size_t i = 0; i < TARGET_CHUNK; i++) {
        vmig_hits_release(&a[i]);
        vmig_hits_release(&b[i]);
    }
    return rc;
}

enum vmig_code vmig_search_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, int queries, int k,
                                const struct vmig_run_ctx *ctx, struct vmig_search_result *out,
                                struct vmig_err *err)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    const struct vmig_target_vt *tvt = vmig_target_for(dst);
    struct vmig_source *s = NULL;
    struct vmig_target *t = NULL;
    struct vmig_layout lay, idlay;
    struct vmig_batch ids, q;
    enum vmig_code rc;

    memset(out, 0, sizeof *out);
    out->k = k > 0 ? (uint32_t)k : VMIG_SEARCH_TOPK_DEFAULT;
    vmig_layout_from_plan(&lay, pc, 1);
    memset(&idlay, 0, sizeof idlay);
    idlay.coll = pc->source;
    vmig_batch_init(&ids, &idlay);
    vmig_batch_init(&q, &lay);
    out->nfields = pc->nfields;
    for (size_t c = 0; c < pc->nfields; c++) {
        struct vmig_search_field *sf = &out->field[c];
        snprintf(sf->field, sizeof sf->field, "%s", pc->field[c].dst);
        snprintf(sf->vector, sizeof sf->vector, "%s", pc->field[c].src);
        sf->sparse = pc->field[c].kind == VMIG_VEC_SPARSE;
        sf->k = out->k;
    }

    if ((rc = svt->open(src, ctx, &s, err))) goto out;
    if ((rc = tvt->open(dst, ctx, &t, err))) goto out;
    if (!svt->search || !tvt->search) {
        out->ran = 1;
        for (size_t c = 0; c < pc->nfields; c++)
            snprintf(out->field[c].why, sizeof out->field[c].why,
                     "the %s connector '%s' cannot search%s", !svt->search ? "source" : "target",
                     !svt->search ? svt->name : tvt->name,
                     !svt->search ? " (give the Qdrant REST URL, http://HOST:6333)" : "");
        goto out;
    }
    /* Search needs the collection loaded (a migration leaves it so): ask, and wait */
    if ((rc = tvt->load(t, pc->target, 1, err))) goto out;
    if ((rc = pick_queries(svt, s, pc, queries > 0 ? (size_t)queries : 1, &ids, err))) goto out;
    if (ids.n > (size_t)queries) ids.n = (size_t)queries;
    for (size_t off = 0; off < ids.n && rc == VMIG_OK; off += 256)
        rc = svt->retrieve(s, pc->source, &lay, ids.ids + off,
                           ids.n - off < 256 ? ids.n - off : 256, &q, err);
    if (rc) goto out;
    out->ran = 1;
    for (size_t c = 0; c < pc->nfields && rc == VMIG_OK; c++)
        rc = field_parity(svt, s, tvt, t, pc, &lay, &q, c, out->k, ctx, &out->field[c], err);
    if (rc) goto out;
    for (size_t c = 0; c < pc->nfields; c++) {
        const struct vmig_search_field *sf = &out->field[c];
        if (!sf->compared || !sf->differences) continue;
        rc = vmig_err_set(err, VMIG_E_VERIFY,
                          "search parity of '%s' failed: field '%s': %u top-%u hits differ "
                          "(first: point %s, searching with the vector of point %s; overlap mean "
                          "%.4f, min %.3f over %u queries)",
                          pc->source, sf->field, sf->differences, sf->k, sf->diff_point,
                          sf->diff_query, sf->mean_overlap, sf->min_overlap, sf->queries);
        vmig_err_at(err, pc->source, sf->diff_point, sf->field);
        break;
    }
out:
    if (s) svt->close(s);
    if (t) tvt->close(t);
    vmig_batch_release(&ids);
    vmig_batch_release(&q);
    return rc;
}

/*
 * qdrant_point.c - the rules both page decoders apply to one point, whichever API
 * it came through (the REST scanner, qdrant_scan.c; the gRPC codec,
 * qdrant_grpc_codec.c): the words of a point's data error, a sparse vector checked,
 * sorted and appended in Milvus's row encoding, the payload's null and key-conflict
 * rules, and the row's close (every dense vector there, the payload within Milvus's
 * 64 KiB). One place, so a collection
 * fails the same way over either API. See qdrant_codec.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/qdrant_codec.h"
#include "util/alloc.h"

const char *vmig_qdrant_vec_label(const char *src, char *buf, size_t n)
{
    if (!src[0])
        snprintf(buf, n, "the unnamed vector");
    else
        snprintf(buf, n, "vector '%s'", src);
    return buf;
}

enum vmig_code vmig_qdrant_point_err(struct vmig_err *err, const struct vmig_layout *lay,
                                     const struct vmig_point_id *id, const char *field,
                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmig_qdrant_point_verr(err, lay, id, field, fmt, ap);
    va_end(ap);
    return VMIG_E_DATA;
}

enum vmig_code vmig_qdrant_point_verr(struct vmig_err *err, const struct vmig_layout *lay,
                                      const struct vmig_point_id *id, const char *field,
                                      const char *fmt, va_list ap)
{
    char t[VMIG_ID_TEXT_MAX], m[VMIG_ERR_MSG_MAX];
    vsnprintf(m, sizeof m, fmt, ap);
    if (id)
        vmig_point_id_format(id, t);
    else
        snprintf(t, sizeof t, "?");
    vmig_err_set(err, VMIG_E_DATA, "point %s in collection '%s': %s", t, lay->coll, m);
    vmig_err_at(err, lay->coll, id ? t : "", field);
    return VMIG_E_DATA;
}

static int pair_cmp(const void *x, const void *y)
{
    uint32_t a = (uint32_t)(*(const uint64_t *)x >> 32), b = (uint32_t)(*(const uint64_t *)y >> 32);
    return a < b ? -1 : a > b;
}

enum vmig_code vmig_qdrant_put_sparse(struct vmig_qdrant_scratch *sc, struct vmig_batch *b,
                                      size_t c, const uint32_t *idx, size_t ni, const float *val,
                                      size_t nv, struct vmig_err *err,
                                      const struct vmig_layout *lay, const struct vmig_point_id *id)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    const char *src = lay->col[c].src;
    vmig_qdrant_vec_label(src, lb, sizeof lb);
    if (ni != nv)
        return vmig_qdrant_point_err(err, lay, id, src, "%s has %zu indices and %zu values", lb, ni,
                                     nv);
    xgrow((void **)&sc->pairs, &sc->paircap, ni + 1, sizeof *sc->pairs);
    int sorted = 1;
    for (size_t k = 0; k < ni; k++) {
        uint32_t bits;
        /* Milvus takes sparse indices below 2^32-1 (the largest u32 is reserved) */
        if (idx[k] == UINT32_MAX)
            return vmig_qdrant_point_err(err, lay, id, src,
                                         "%s has index %llu; Milvus sparse indices must be "
                                         "below 4294967295",
                                         lb, (unsigned long long)idx[k]);
        if (!isfinite(val[k]))
            return vmig_qdrant_point_err(err, lay, id, src,
                                         "%s has a value that is not a finite float32", lb);
        /* Milvus (and Milvus Lite) refuse negative sparse weights */
        if (val[k] < 0)
            return vmig_qdrant_point_err(err, lay, id, src,
                                         "%s has a negative value (%g); Milvus sparse vectors "
                                         "take only non-negative values",
                                         lb, (double)val[k]);
        memcpy(&bits, &val[k], 4);
        sc->pairs[k] = (uint64_t)idx[k] << 32 | bits;
        if (k && idx[k] <= idx[k - 1]) sorted = 0;
    }
    /* pack (index << 32 | value bits), sort by index when the server did not */
    if (!sorted) qsort(sc->pairs, ni, sizeof *sc->pairs, pair_cmp);
    for (size_t k = 1; k < ni; k++)
        if (sc->pairs[k] >> 32 == sc->pairs[k - 1] >> 32)
            return vmig_qdrant_point_err(err, lay, id, src, "%s has index %u twice", lb,
                                         (unsigned)(sc->pairs[k] >> 32));
    struct vmig_buf *d = &b->col[c].data;
    vmig_buf_grow(d, ni * 8);
    unsigned char *o = (unsigned char *)d->p + d->len;
    for (size_t k = 0; k < ni; k++) {
        uint32_t i = (uint32_t)(sc->pairs[k] >> 32), v = (uint32_t)sc->pairs[k];
        o[0] = (unsigned char)i, o[1] = (unsigned char)(i >> 8), o[2] = (unsigned char)(i >> 16),
        o[3] = (unsigned char)(i >> 24);
        o[4] = (unsigned char)v, o[5] = (unsigned char)(v >> 8), o[6] = (unsigned char)(v >> 16),
        o[7] = (unsigned char)(v >> 24);
        o += 8;
    }
    vmig_buf_setlen(d, d->len + ni * 8);
    return VMIG_OK;
}

enum vmig_code vmig_qdrant_close_row(struct vmig_batch *b, const struct vmig_layout *lay,
                                     unsigned seen, size_t meta0, const struct vmig_point_id *id,
                                     struct vmig_err *err)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    for (size_t c = 0; c < lay->ncols; c++)
        if (!lay->col[c].sparse && !(seen & (1u << c)))
            return vmig_qdrant_point_err(err, lay, id, lay->col[c].src, "%s is missing",
                                         vmig_qdrant_vec_label(lay->col[c].src, lb, sizeof lb));
    if (lay->nscalars) { /* typed keys leave the payload first: what is left must fit */
        char why[320];
        const char *key;
        int t = vmig_batch_type_row(b, lay, meta0, why, sizeof why, &key);
        if (t > 0 && lay->reject_oversize) {
            vmig_batch_drop_row(b, why);
            return VMIG_OK;
        }
        if (t) {
            vmig_qdrant_point_err(err, lay, id, key, "%s", why);
            return vmig_err_fix(err, t > 0 ? VMIG_FIX_REJECTS : VMIG_FIX_PAYLOAD_MISFIT, NULL);
        }
    }
    size_t plen = b->meta.len - meta0;
    if (plen > VMIG_JSON_MAX) {
        char why[128];
        snprintf(why, sizeof why, "payload is %zu bytes, over Milvus's %d-byte JSON limit", plen,
                 VMIG_JSON_MAX);
        if (lay->reject_oversize) {
            vmig_batch_drop_row(b, why);
            return VMIG_OK;
        }
        vmig_qdrant_point_err(err, lay, id, NULL, "%s", why);
        return vmig_err_fix(err, VMIG_FIX_REJECTS, NULL);
    }
    vmig_batch_end_row(b);
    return VMIG_OK;
}

void vmig_qdrant_path_text(const struct vmig_qdrant_pathseg *path, int depth, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int d = 1; d <= depth && o + 1 < cap; d++) {
        const struct vmig_qdrant_pathseg *g = &path[d];
        int w;
        if (g->key)
            w = snprintf(out + o, cap - o, "%s%.*s", d > 1 ? "." : "", (int)g->klen, g->key);
        else
            w = snprintf(out + o, cap - o, "[%zu]", g->index);
        if (w < 0) break;
        o += (size_t)w;
        if (o >= cap) o = cap - 1;
    }
}

enum vmig_code vmig_qdrant_null(struct vmig_batch *b, const struct vmig_layout *lay,
                                const struct vmig_qdrant_pathseg *path, int depth,
                                const struct vmig_point_id *id, struct vmig_err *err, int *dropped)
{
    if (lay->nulls == VMIG_NULL_DROP) {
        b->nulls_dropped++;
        *dropped = 1;
        return VMIG_OK;
    }
    if (lay->nulls == VMIG_NULL_KEEP) {
        vmig_buf_add(&b->meta, "null", 4);
        return VMIG_OK;
    }
    char p[512];
    vmig_qdrant_path_text(path, depth, p, sizeof p);
    vmig_qdrant_point_err(err, lay, id, p,
                          "payload key '%s' is null; Milvus rejects null JSON values", p);
    return vmig_err_fix(err, VMIG_FIX_NULL_VALUES, NULL);
}

enum vmig_code vmig_qdrant_conflict(struct vmig_err *err, const struct vmig_layout *lay,
                                    const struct vmig_point_id *id, const char *key, size_t n)
{
    char k[VMIG_ERR_FIELD_MAX];
    snprintf(k, sizeof k, "%.*s", (int)n, key);
    vmig_qdrant_point_err(err, lay, id, k,
                          "payload key '%.*s' is also the name of a field of the target "
                          "collection",
                          (int)n, key);
    return vmig_err_fix(err, VMIG_FIX_PAYLOAD_CONFLICT, NULL);
}

/*
 * qdrant_grpc_codec.c - pages of points from Qdrant's gRPC answers (Scroll, Get,
 * Query) into the columnar batch; see qdrant_grpc_codec.h. protobuf-c unpacks a whole
 * answer (packed floats are a copy, not a parse); this file walks it into the batch,
 * payload Value trees straight into `$meta` JSON. The rules of a point and the words
 * of its errors are the REST scanner's (qdrant_point.c), so a collection fails the
 * same way whichever API it is read through.
 */
#include "qdrant_grpc_codec.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdrant.pb-c.h"
#include "source/qdrant_codec.h"
#include "util/alloc.h"

#define MAX_DEPTH 128

/* ======================================================================
 * pages
 * ====================================================================== */

struct scan {
    const struct vmig_layout *lay;
    struct vmig_batch *b;
    struct vmig_err *err;
    struct vmig_point_id id;
    int have_id;
    unsigned seen;
    struct vmig_qdrant_scratch sc;
    struct vmig_qdrant_pathseg path[MAX_DEPTH + 2];
};

/* A point that cannot be migrated, in the words of every decoder (qdrant_point.c). */
static enum vmig_code data_err(struct scan *s, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum vmig_code data_err(struct scan *s, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum vmig_code rc =
        vmig_qdrant_point_verr(s->err, s->lay, s->have_id ? &s->id : NULL, field, fmt, ap);
    va_end(ap);
    return rc;
}

#define vec_label vmig_qdrant_vec_label

static enum vmig_code bad(struct scan *s, const char *what)
{
    enum vmig_code rc =
        vmig_err_set(s->err, VMIG_E_PROTOCOL, "malformed gRPC answer for collection '%s': %s",
                     s->lay->coll, what);
    vmig_err_at(s->err, s->lay->coll, NULL, NULL);
    return rc;
}

static enum vmig_code point_id(struct scan *s, const Vmig__Qdrant__PointId *p,
                               struct vmig_point_id *id)
{
    memset(id, 0, sizeof *id);
    if (!p) return bad(s, "a point without an id");
    if (p->point_id_options_case == VMIG__QDRANT__POINT_ID__POINT_ID_OPTIONS_NUM) {
        id->kind = VMIG_ID_NUM;
        id->num = p->num;
        return VMIG_OK;
    }
    if (p->point_id_options_case == VMIG__QDRANT__POINT_ID__POINT_ID_OPTIONS_UUID && p->uuid &&
        vmig_point_id_parse(p->uuid, strlen(p->uuid), id) == 0 && id->kind == VMIG_ID_UUID)
        return VMIG_OK;
    return bad(s, "a point id that is neither an integer nor a UUID");
}

/* ---- vectors ---------------------------------------------------------- */

static enum vmig_code sparse(struct scan *s, size_t c, const uint32_t *idx, size_t ni,
                             const float *val, size_t nv)
{
    enum vmig_code rc = vmig_qdrant_put_sparse(&s->sc, s->b, c, idx, ni, val, nv, s->err, s->lay,
                                               s->have_id ? &s->id : NULL);
    if (rc == VMIG_OK) s->seen |= 1u << c;
    return rc;
}

static enum vmig_code dense(struct scan *s, size_t c, const float *v, size_t n)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    const char *src = s->lay->col[c].src;
    uint32_t dim = s->lay->col[c].dim;
    if (n != dim)
        return data_err(s, src, "%s has %zu values, expected %u", vec_label(src, lb, sizeof lb), n,
                        dim);
    for (size_t k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return data_err(s, src, "%s has a value outside the float32 range",
                            vec_label(src, lb, sizeof lb));
    memcpy(vmig_batch_dense(s->b, c), v, n * sizeof *v);
    s->seen |= 1u << c;
    return VMIG_OK;
}

/* One vector of the point into column c (-1: not migrated), in either wire format. */
static enum vmig_code one_vector(struct scan *s, int c, const Vmig__Qdrant__VectorOutput *vo)
{
    char lb[VMIG_SRC_NAME_MAX + 32];
    if (c < 0 || !vo) return VMIG_OK;
    const char *src = s->lay->col[c].src;
    if (s->seen & (1u << c)) return bad(s, "a vector appears twice");
    const float *data = vo->data;
    size_t n = vo->n_data;
    int is_sparse = 0, is_multi = 0;
    const uint32_t *idx = NULL;
    size_t ni = 0;
    switch (vo->vector_case) { /* 1.17 and later: only the oneof */
    case VMIG__QDRANT__VECTOR_OUTPUT__VECTOR_DENSE:
        data = vo->dense ? vo->dense->data : NULL;
        n = vo->dense ? vo->dense->n_data : 0;
        break;
    case VMIG__QDRANT__VECTOR_OUTPUT__VECTOR_SPARSE:
        is_sparse = 1;
        data = vo->sparse ? vo->sparse->values : NULL;
        n = vo->sparse ? vo->sparse->n_values : 0;
        idx = vo->sparse ? vo->sparse->indices : NULL;
        ni = vo->sparse ? vo->sparse->n_indices : 0;
        break;
    case VMIG__QDRANT__VECTOR_OUTPUT__VECTOR_MULTI_DENSE:
        is_multi = 1;
        break;
    default: /* up to 1.16: the deprecated fields */
        if (vo->indices) {
            is_sparse = 1;
            idx = vo->indices->data;
            ni = vo->indices->n_data;
        } else if (vo->vectors_count > 0) {
            is_multi = 1;
        }
        break;
    }
    if (s->lay->col[c].sparse) {
        if (is_multi || (!is_sparse && n > 0))
            return data_err(s, src, "%s is not a sparse vector", vec_label(src, lb, sizeof lb));
        if (!is_sparse) return VMIG_OK; /* an empty placeholder: absent */
        return sparse(s, (size_t)c, idx, ni, data, n);
    }
    if (is_multi)
        return data_err(s, src, "%s is a multivector, which cannot be migrated as a dense vector",
                        vec_label(src, lb, sizeof lb));
    if (is_sparse)
        return data_err(s, src, "%s is sparse on the source but dense in the plan",
                        vec_label(src, lb, sizeof lb));
    if (n == 0) return VMIG_OK; /* the empty dense placeholder: absent */
    return dense(s, (size_t)c, data, n);
}

static int find_col(struct scan *s, const char *name)
{
    for (size_t c = 0; c < s->lay->ncols; c++)
        if (!strcmp(s->lay->col[c].src, name)) return (int)c;
    return -1;
}

static enum vmig_code vectors(struct scan *s, const Vmig__Qdrant__VectorsOutput *vs)
{
    enum vmig_code rc;
    if (!vs || !s->lay->ncols) return VMIG_OK;
    if (vs->vectors_options_case == VMIG__QDRANT__VECTORS_OUTPUT__VECTORS_OPTIONS_VECTOR)
        return one_vector(s, find_col(s, ""), vs->vector);
    if (vs->vectors_options_case != VMIG__QDRANT__VECTORS_OUTPUT__VECTORS_OPTIONS_VECTORS ||
        !vs->vectors)
        return VMIG_OK;
    for (size_t i = 0; i < vs->vectors->n_vectors; i++) {
        const Vmig__Qdrant__NamedVectorsOutput__VectorsEntry *e = vs->vectors->vectors[i];
        if ((rc = one_vector(s, find_col(s, e->key ? e->key : ""), e->value))) return rc;
    }
    return VMIG_OK;
}

/* ---- payload ---------------------------------------------------------- */

static enum vmig_code value(struct scan *s, const Vmig__Qdrant__Value *v, int depth, int *dropped);

/* A key equal to a target field's name (depth 0 only: the payload's own keys). */
static int reserved(const struct scan *s, const ProtobufCBinaryData *k)
{
    if (k->len == 5 && !memcmp(k->data, "$meta", 5)) return 1;
    for (size_t r = 0; r < s->lay->nreserved; r++) {
        const char *f = s->lay->reserved[r];
        if (f && strlen(f) == k->len && !memcmp(f, k->data, k->len)) return 1;
    }
    return 0;
}

/* An object: the entries of a map<string, Value> (depth 0: the payload itself, with the
 * top-level key rules). */
static enum vmig_code object(struct scan *s, Vmig__Qdrant__KeyValue *const *e, size_t n, int depth)
{
    enum vmig_code rc;
    struct vmig_buf *m = &s->b->meta;
    int first = 1;
    vmig_buf_addch(m, '{');
    for (size_t i = 0; i < n; i++) {
        const ProtobufCBinaryData *k = &e[i]->key;
        /* protobuf-c gives an empty bytes field as {0, NULL}: "" (no arithmetic on NULL) */
        const char *key = k->data ? (const char *)k->data : "";
        size_t mark = m->len;
        if (!first) vmig_buf_addch(m, ',');
        if (depth == 0 && reserved(s, k)) {
            if (s->lay->conflict != VMIG_CONFLICT_PREFIX)
                return vmig_qdrant_conflict(s->err, s->lay, &s->id, key, k->len);
            const char *pre = s->lay->prefix ? s->lay->prefix : "payload_";
            vmig_buf_add_json_str(m, pre);
            size_t at = m->len - 1; /* the prefix's closing quote: the key's text goes there */
            vmig_buf_add_json_strn(m, key, k->len);
            memmove(m->p + at, m->p + at + 2, m->len - at - 2); /* drop the two quotes */
            vmig_buf_setlen(m, m->len - 2);
        } else {
            vmig_buf_add_json_strn(m, key, k->len);
        }
        vmig_buf_addch(m, ':');
        s->path[depth + 1] = (struct vmig_qdrant_pathseg){key, k->len, 0};
        int d;
        if ((rc = value(s, e[i]->value, depth + 1, &d))) return rc;
        if (d)
            vmig_buf_setlen(m, mark); /* a dropped null leaves no trace */
        else
            first = 0;
    }
    vmig_buf_addch(m, '}');
    return VMIG_OK;
}

/* One Value into meta; depth counts containers above it, path[depth] names it. */
static enum vmig_code value(struct scan *s, const Vmig__Qdrant__Value *v, int depth, int *dropped)
{
    enum vmig_code rc;
    struct vmig_buf *m = &s->b->meta;
    *dropped = 0;
    if (depth > MAX_DEPTH) return bad(s, "a payload nested deeper than 128 levels");
    switch (v ? v->kind_case : VMIG__QDRANT__VALUE__KIND_NULL_VALUE) {
    case VMIG__QDRANT__VALUE__KIND__NOT_SET: /* prost leaves an unset kind for JSON null too */
    case VMIG__QDRANT__VALUE__KIND_NULL_VALUE:
        return vmig_qdrant_null(s->b, s->lay, s->path, depth, &s->id, s->err, dropped);
    case VMIG__QDRANT__VALUE__KIND_DOUBLE_VALUE:
        if (vmig_buf_add_double(m, v->double_value) < 0) {
            char path[512];
            vmig_qdrant_path_text(s->path, depth, path, sizeof path);
            return data_err(s, path, "payload key '%s' is not a finite number", path);
        }
        return VMIG_OK;
    case VMIG__QDRANT__VALUE__KIND_INTEGER_VALUE:
        vmig_buf_addf(m, "%lld", (long long)v->integer_value);
        return VMIG_OK;
    case VMIG__QDRANT__VALUE__KIND_STRING_VALUE:
        vmig_buf_add_json_strn(m, v->string_value.data ? (const char *)v->string_value.data : "",
                               v->string_value.len);
        return VMIG_OK;
    case VMIG__QDRANT__VALUE__KIND_BOOL_VALUE:
        vmig_buf_adds(m, v->bool_value ? "true" : "false");
        return VMIG_OK;
    case VMIG__QDRANT__VALUE__KIND_STRUCT_VALUE: {
        const Vmig__Qdrant__Struct *st = v->struct_value;
        return object(s, st ? st->fields : NULL, st ? st->n_fields : 0, depth);
    }
    case VMIG__QDRANT__VALUE__KIND_LIST_VALUE: {
        const Vmig__Qdrant__ListValue *l = v->list_value;
        int first = 1;
        vmig_buf_addch(m, '[');
        for (size_t i = 0; l && i < l->n_values; i++) {
            size_t mark = m->len;
            int d;
            if (!first) vmig_buf_addch(m, ',');
            s->path[depth + 1] = (struct vmig_qdrant_pathseg){NULL, 0, i};
            if ((rc = value(s, l->values[i], depth + 1, &d))) return rc;
            if (d)
                vmig_buf_setlen(m, mark);
            else
                first = 0;
        }
        vmig_buf_addch(m, ']');
        return VMIG_OK;
    }
    default:
        return bad(s, "a payload value of an unknown kind");
    }
}

/* ---- points ------------------------------------------------------------ */

/* One point: id, payload entries, vectors (RetrievedPoint and ScoredPoint alike). */
static enum vmig_code point(struct scan *s, const Vmig__Qdrant__PointId *pid,
                            Vmig__Qdrant__KeyValue *const *pl, size_t npl,
                            const Vmig__Qdrant__VectorsOutput *vs)
{
    static const struct vmig_point_id none = {0};
    enum vmig_code rc;
    s->have_id = 0;
    s->seen = 0;
    if ((rc = point_id(s, pid, &s->id))) return rc;
    s->have_id = 1;
    vmig_batch_begin_row(s->b, &none);
    s->b->ids[s->b->n] = s->id;
    size_t meta0 = s->b->meta.len;
    if ((rc = vectors(s, vs))) goto fail;
    if ((rc = object(s, pl, npl, 0))) goto fail;
    if ((rc = vmig_qdrant_close_row(s->b, s->lay, s->seen, meta0, &s->id, s->err))) goto fail;
    return VMIG_OK;
fail:
    vmig_batch_drop_row(s->b, NULL);
    return rc;
}

/* ---- the unpack's memory ------------------------------------------------ */

/* protobuf-c allocates every submessage, string and repeated field of an answer on
 * its own (about ten mallocs per point); an arena makes that one block per page, kept
 * by the connector handle from page to page (no malloc, no fresh pages to fault in).
 * Blocks are chained, never moved (the message points into them). */
struct vmig_qgrpc_block {
    struct vmig_qgrpc_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

static void *arena_alloc(void *ud, size_t n)
{
    struct vmig_qgrpc_mem *a = ud;
    const size_t al = sizeof(max_align_t);
    n = (n + al - 1) / al * al;
    struct vmig_qgrpc_block *b = a->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->hint > n ? a->hint : n;
        b = xmalloc(sizeof *b + cap);
        b->next = a->blocks;
        b->used = 0;
        b->cap = cap;
        a->blocks = b;
        a->hint = cap * 2;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static void arena_free_one(void *ud, void *p)
{
    (void)ud, (void)p;
}

/* After a page: one block stays (as large as the page needed), emptied. */
static void arena_reset(struct vmig_qgrpc_mem *a)
{
    struct vmig_qgrpc_block *b = a->blocks;
    if (!b) return;
    if (!b->next) {
        b->used = 0;
        return;
    }
    size_t total = 0;
    for (struct vmig_qgrpc_block *x = b, *nx; x; x = nx) {
        nx = x->next;
        total += x->cap;
        free(x);
    }
    a->blocks = NULL;
    a->hint = total;
}

void vmig_qgrpc_mem_release(struct vmig_qgrpc_mem *a)
{
    for (struct vmig_qgrpc_block *x = a->blocks, *nx; x; x = nx) {
        nx = x->next;
        free(x);
    }
    free(a->sc.pairs);
    memset(a, 0, sizeof *a);
}

/* Every point of an answer (RetrievedPoint or ScoredPoint: both have id, payload and
 * vectors), until the first that fails. */
#define EACH_POINT(s, pts, n, rc)                                                                  \
    for (size_t i_ = 0; i_ < (n) && (rc) == VMIG_OK; i_++)                                         \
    (rc) = point((s), (pts)[i_]->id, (pts)[i_]->payload, (pts)[i_]->n_payload, (pts)[i_]->vectors)

enum vmig_code vmig_qgrpc_scan_page(const void *msg, size_t len, enum vmig_qgrpc_page kind,
                                    const struct vmig_layout *lay, struct vmig_batch *b,
                                    struct vmig_point_id *next, struct vmig_err *err)
{
    struct vmig_qgrpc_mem mem = {0};
    enum vmig_code rc = vmig_qgrpc_scan_page_mem(msg, len, kind, lay, b, next, &mem, err);
    vmig_qgrpc_mem_release(&mem);
    return rc;
}

enum vmig_code vmig_qgrpc_scan_page_mem(const void *msg, size_t len, enum vmig_qgrpc_page kind,
                                        const struct vmig_layout *lay, struct vmig_batch *b,
                                        struct vmig_point_id *next, struct vmig_qgrpc_mem *mem,
                                        struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct scan s;
    size_t n0 = b->n, rej0 = b->nrejects;
    uint64_t nul0 = b->nulls_dropped, mis0 = b->misfits;
    /* unpacked, an answer weighs about its size plus ~200 bytes per point */
    if (mem->hint < len + len / 2 + 4096) mem->hint = len + len / 2 + 4096;
    ProtobufCAllocator pa = {arena_alloc, arena_free_one, mem};
    memset(&s, 0, sizeof s);
    s.lay = lay;
    s.b = b;
    s.err = err;
    s.sc = mem->sc; /* the sparse scratch, kept across pages too */
    if (next) memset(next, 0, sizeof *next);
    if (kind == VMIG_QGRPC_SCROLL) {
        Vmig__Qdrant__ScrollResponse *r = vmig__qdrant__scroll_response__unpack(&pa, len, msg);
        if (!r) {
            rc = vmig_qgrpc_malformed(err, "scroll", lay->coll);
            goto out;
        }
        EACH_POINT(&s, r->result, r->n_result, rc);
        if (rc == VMIG_OK && next && r->next_page_offset)
            rc = point_id(&s, r->next_page_offset, next);
    } else if (kind == VMIG_QGRPC_GET) {
        Vmig__Qdrant__GetResponse *r = vmig__qdrant__get_response__unpack(&pa, len, msg);
        if (!r) {
            rc = vmig_qgrpc_malformed(err, "get", lay->coll);
            goto out;
        }
        EACH_POINT(&s, r->result, r->n_result, rc);
    } else {
        Vmig__Qdrant__QueryResponse *r = vmig__qdrant__query_response__unpack(&pa, len, msg);
        if (!r) {
            rc = vmig_qgrpc_malformed(err, "query", lay->coll);
            goto out;
        }
        EACH_POINT(&s, r->result, r->n_result, rc);
    }
out:
    if (rc != VMIG_OK) {
        vmig_batch_truncate(b, n0);
        b->nrejects = rej0;
        b->nulls_dropped = nul0;
        b->misfits = mis0;
        if (next) memset(next, 0, sizeof *next);
    }
    arena_reset(mem);
    mem->sc = s.sc;
    return rc;
}

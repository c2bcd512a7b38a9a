/*
 * batch.c - columnar point batches; see batch.h for the layout.
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void vmig_layout_from_plan(struct vmig_layout *lay, const struct vmig_plan_coll *pc,
                           int reject_oversize)
{
    memset(lay, 0, sizeof *lay);
    lay->coll = pc->source;
    lay->unnamed = pc->nfields == 1 && pc->field[0].src[0] == '\0';
    lay->ncols = pc->nfields;
    for (size_t i = 0; i < pc->nfields; i++) {
        lay->col[i].src = pc->field[i].src;
        lay->col[i].dst = pc->field[i].dst;
        lay->col[i].sparse = pc->field[i].kind == VMIG_VEC_SPARSE;
        lay->col[i].dim = pc->field[i].kind == VMIG_VEC_SPARSE ? 0 : pc->field[i].dim;
    }
    lay->nulls = pc->null_policy;
    lay->conflict = pc->conflict_policy;
    lay->prefix = pc->conflict_prefix[0] ? pc->conflict_prefix : "payload_";
    lay->reserved[lay->nreserved++] = pc->pk_name;
    for (size_t i = 0; i < pc->nfields; i++) lay->reserved[lay->nreserved++] = pc->field[i].dst;
    lay->reject_oversize = reject_oversize;
    /* a typed field's name is taken too, except by the key it types (which leaves $meta) */
    lay->nscalars = pc->nscalars;
    lay->misfit = pc->misfit;
    for (size_t i = 0; i < pc->nscalars; i++) {
        lay->scalar[i] = &pc->scalar[i];
        lay->scalar_key[i] = pc->scalar[i].src;
        /* a key named like the primary key or a vector reaches the typing prefixed
         * (--payload-conflict prefix; under fail the codec stops at it first) */
        for (size_t r = 0; r < 1 + pc->nfields && pc->conflict_policy == VMIG_CONFLICT_PREFIX; r++)
            if (!strcmp(lay->reserved[r], pc->scalar[i].src)) {
                snprintf(lay->scalar_key_buf[i], sizeof lay->scalar_key_buf[i], "%s%s", lay->prefix,
                         pc->scalar[i].src);
                lay->scalar_key[i] = lay->scalar_key_buf[i];
            }
        if (strcmp(pc->scalar[i].src, pc->scalar[i].dst) != 0)
            lay->reserved[lay->nreserved++] = pc->scalar[i].dst;
    }
}

void vmig_batch_init(struct vmig_batch *b, const struct vmig_layout *lay)
{
    memset(b, 0, sizeof *b);
    b->ncols = lay ? lay->ncols : 0;
    for (size_t c = 0; c < b->ncols; c++) {
        b->col[c].sparse = lay->col[c].sparse;
        b->col[c].dim = lay->col[c].dim;
        vmig_buf_init(&b->col[c].data, 0);
    }
    vmig_buf_init(&b->meta, 0);
    b->meta_off = xcalloc(1, sizeof *b->meta_off);
    b->cap = 0;
    b->nscalars = lay ? lay->nscalars : 0;
    for (size_t s = 0; s < b->nscalars; s++)
        b->sc[s].off = xcalloc(1, sizeof *b->sc[s].off);
}

void vmig_batch_release(struct vmig_batch *b)
{
    for (size_t c = 0; c < b->ncols; c++) {
        vmig_buf_release(&b->col[c].data);
        free(b->col[c].off);
    }
    vmig_buf_release(&b->meta);
    free(b->meta_off);
    for (size_t s = 0; s < b->nscalars; s++) {
        vmig_buf_release(&b->sc[s].data);
        vmig_buf_release(&b->sc[s].valid);
        free(b->sc[s].off);
    }
    vmig_buf_release(&b->scratch);
    free(b->ids);
    free(b->rejects);
    memset(b, 0, sizeof *b);
}

void vmig_batch_reset(struct vmig_batch *b)
{
    b->n = 0;
    for (size_t c = 0; c < b->ncols; c++) {
        vmig_buf_reset(&b->col[c].data);
        if (b->col[c].off) b->col[c].off[0] = 0;
    }
    vmig_buf_reset(&b->meta);
    b->meta_off[0] = 0;
    for (size_t s = 0; s < b->nscalars; s++) {
        vmig_buf_reset(&b->sc[s].data);
        vmig_buf_reset(&b->sc[s].valid);
        b->sc[s].off[0] = 0;
    }
    b->nrejects = 0;
    b->nulls_dropped = 0;
    b->misfits = 0;
}

static void ensure_rows(struct vmig_batch *b, size_t rows)
{
    if (rows <= b->cap) return;
    size_t oldcap = b->cap, c = b->cap;
    xgrow((void **)&b->ids, &c, rows, sizeof *b->ids);
    b->meta_off = xrealloc(b->meta_off, (c + 1) * sizeof *b->meta_off);
    for (size_t k = 0; k < b->nscalars; k++)
        b->sc[k].off = xrealloc(b->sc[k].off, (c + 1) * sizeof *b->sc[k].off);
    for (size_t k = 0; k < b->ncols; k++) {
        if (!b->col[k].sparse) continue;
        size_t had = b->col[k].offcap;
        b->col[k].off = xrealloc(b->col[k].off, (c + 1) * sizeof *b->col[k].off);
        if (!had) b->col[k].off[0] = 0;
        b->col[k].offcap = c + 1;
    }
    (void)oldcap;
    b->cap = c;
}

void vmig_batch_begin_row(struct vmig_batch *b, const struct vmig_point_id *id)
{
    ensure_rows(b, b->n + 1);
    b->ids[b->n] = *id;
    for (size_t c = 0; c < b->ncols; c++) {
        struct vmig_batch_col *col = &b->col[c];
        if (col->sparse) continue;
        size_t bytes = (size_t)col->dim * sizeof(float);
        vmig_buf_grow(&col->data, bytes);
        memset(col->data.p + col->data.len, 0, bytes);
        vmig_buf_setlen(&col->data, col->data.len + bytes);
    }
}

float *vmig_batch_dense(struct vmig_batch *b, size_t col)
{
    return (float *)(void *)b->col[col].data.p + (size_t)b->n * b->col[col].dim;
}

void vmig_batch_end_row(struct vmig_batch *b)
{
    for (size_t c = 0; c < b->ncols; c++)
        if (b->col[c].sparse) b->col[c].off[b->n + 1] = b->col[c].data.len;
    b->meta_off[b->n + 1] = b->meta.len;
    for (size_t s = 0; s < b->nscalars; s++)
        b->sc[s].off[b->n + 1] = b->sc[s].data.len;
    b->n++;
}

/* Cut the typed columns back to their first n rows. */
static void scalars_setlen(struct vmig_batch *b, size_t n)
{
    for (size_t s = 0; s < b->nscalars; s++) {
        vmig_buf_setlen(&b->sc[s].data, b->sc[s].off[n]);
        vmig_buf_setlen(&b->sc[s].valid, n);
    }
}

void vmig_batch_drop_row(struct vmig_batch *b, const char *reason)
{
    if (reason) {
        xgrow((void **)&b->rejects, &b->rejcap, b->nrejects + 1, sizeof *b->rejects);
        struct vmig_batch_reject *r = &b->rejects[b->nrejects++];
        r->id = b->ids[b->n];
        strncpy(r->reason, reason, sizeof r->reason - 1);
        r->reason[sizeof r->reason - 1] = '\0';
    }
    for (size_t c = 0; c < b->ncols; c++) {
        struct vmig_batch_col *col = &b->col[c];
        if (col->sparse) vmig_buf_setlen(&col->data, col->off[b->n]);
        else vmig_buf_setlen(&col->data, (size_t)b->n * col->dim * sizeof(float));
    }
    vmig_buf_setlen(&b->meta, b->meta_off[b->n]);
    scalars_setlen(b, b->n);
}

void vmig_batch_truncate(struct vmig_batch *b, size_t n)
{
    if (n >= b->n) return;
    b->n = n;
    for (size_t c = 0; c < b->ncols; c++) {
        struct vmig_batch_col *col = &b->col[c];
        if (col->sparse) vmig_buf_setlen(&col->data, col->off[n]);
        else vmig_buf_setlen(&col->data, (size_t)n * col->dim * sizeof(float));
    }
    vmig_buf_setlen(&b->meta, b->meta_off[n]);
    scalars_setlen(b, n);
}

size_t vmig_batch_payload_bytes(const struct vmig_batch *b)
{
    size_t n = b->meta.len;
    for (size_t c = 0; c < b->ncols; c++) n += b->col[c].data.len;
    for (size_t s = 0; s < b->nscalars; s++)
        n += b->sc[s].data.len;
    return n;
}

int vmig_batch_clip(struct vmig_batch *b, const struct vmig_point_id *end)
{
    size_t k;
    for (k = 0; k < b->n; k++)
        if (vmig_point_id_cmp(&b->ids[k], end) >= 0) break;
    int cut = k < b->n;
    vmig_batch_truncate(b, k);
    size_t kept = 0; /* rejected rows past the end belong to the next range */
    for (size_t j = 0; j < b->nrejects; j++)
        if (vmig_point_id_cmp(&b->rejects[j].id, end) < 0) b->rejects[kept++] = b->rejects[j];
    b->nrejects = kept;
    return cut;
}

void vmig_batch_append(struct vmig_batch *dst, const struct vmig_batch *src)
{
    if (!src->n) goto rejects;
    ensure_rows(dst, dst->n + src->n);
    memcpy(dst->ids + dst->n, src->ids, src->n * sizeof *src->ids);
    for (size_t c = 0; c < dst->ncols; c++) {
        struct vmig_batch_col *d = &dst->col[c];
        const struct vmig_batch_col *s = &src->col[c];
        size_t base = d->data.len;
        vmig_buf_add(&d->data, s->data.p, s->data.len);
        if (d->sparse)
            for (size_t r = 1; r <= src->n; r++) d->off[dst->n + r] = base + s->off[r];
    }
    size_t mbase = dst->meta.len;
    vmig_buf_add(&dst->meta, src->meta.p, src->meta.len);
    for (size_t r = 1; r <= src->n; r++) dst->meta_off[dst->n + r] = mbase + src->meta_off[r];
    for (size_t k = 0; k < dst->nscalars; k++) {
        struct vmig_batch_scalar *d = &dst->sc[k];
        const struct vmig_batch_scalar *sc = &src->sc[k];
        size_t base = d->data.len;
        vmig_buf_add(&d->data, sc->data.p, sc->data.len);
        vmig_buf_add(&d->valid, sc->valid.p, src->n);
        for (size_t r = 1; r <= src->n; r++)
            d->off[dst->n + r] = base + sc->off[r];
    }
    dst->n += src->n;
rejects:
    if (src->nrejects) {
        xgrow((void **)&dst->rejects, &dst->rejcap, dst->nrejects + src->nrejects,
              sizeof *dst->rejects);
        memcpy(dst->rejects + dst->nrejects, src->rejects, src->nrejects * sizeof *src->rejects);
        dst->nrejects += src->nrejects;
    }
    dst->nulls_dropped += src->nulls_dropped;
    dst->misfits += src->misfits;
}

size_t vmig_batch_bytes(const struct vmig_batch *b)
{
    size_t s = b->n * 48 + b->meta.len + b->n * 4; /* ids (as text at worst) + json + framing */
    for (size_t c = 0; c < b->ncols; c++) s += b->col[c].data.len + (b->col[c].sparse ? b->n * 4 : 0);
    for (size_t k = 0; k < b->nscalars; k++)
        s += b->sc[k].data.len + b->n * 6; /* + framing, valid */
    return s;
}

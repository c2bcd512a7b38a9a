/*
 * window.c - high-water marks, acknowledgement windows and durable offsets of a
 * copy's read ranges; see window.h for the invariant and ENGINE.md for why it makes
 * a resume exact.
 */
#include "engine/window.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void vmig_window_start(struct vmig_window *w, const struct vmig_coll_state *st)
{
    vmig_window_release(w);
    w->n = st->nranges;
    for (size_t i = 0; i < w->n; i++) {
        struct vmig_window_range *r = &w->r[i];
        r->durable.start = st->range[i].start;
        r->durable.done = st->range[i].done;
        r->durable.points = st->range[i].points;
        r->acked = r->durable;
    }
}

void vmig_window_release(struct vmig_window *w)
{
    for (size_t i = 0; i < VMIG_MAX_RANGES; i++) free(w->r[i].pend);
    memset(w, 0, sizeof *w);
}

uint64_t vmig_window_out(struct vmig_window *w, struct vmig_coll_state *st, size_t ri,
                         const struct vmig_point_id *offset, const struct vmig_point_id *next,
                         int *upsert)
{
    struct vmig_range *rg = &st->range[ri];
    /* may this page already be in the target from an earlier run or pass? An offset of
     * kind NONE is the range's beginning here (below every mark), whereas an hw of kind
     * NONE is the top (the range's last page was handed out) */
    *upsert = rg->hw_set && (offset->kind == VMIG_ID_NONE || rg->hw.kind == VMIG_ID_NONE ||
                             vmig_point_id_cmp(offset, &rg->hw) < 0);
    /* hw only moves up; NONE (the range's end was handed out) is the top */
    if (!rg->hw_set ||
        (rg->hw.kind != VMIG_ID_NONE &&
         (next->kind == VMIG_ID_NONE || vmig_point_id_cmp(next, &rg->hw) > 0)))
        rg->hw = *next;
    rg->hw_set = 1;
    return w->r[ri].seq_next++;
}

static void advance(struct vmig_window_range *r, const struct vmig_point_id *next, uint64_t points)
{
    r->ack_next++;
    if (next->kind == VMIG_ID_NONE) r->acked.done = 1;
    else r->acked.start = *next;
    r->acked.points += points;
}

void vmig_window_ack(struct vmig_window *w, size_t ri, uint64_t seq,
                     const struct vmig_point_id *next, uint64_t points)
{
    struct vmig_window_range *r = &w->r[ri];
    if (seq != r->ack_next) {
        xgrow((void **)&r->pend, &r->cappend, r->npend + 1, sizeof *r->pend);
        r->pend[r->npend++] = (struct vmig_window_pend){seq, *next, points};
        return;
    }
    advance(r, next, points);
    for (size_t i = 0; i < r->npend;) {
        if (r->pend[i].seq != r->ack_next) {
            i++;
            continue;
        }
        struct vmig_window_pend p = r->pend[i];
        r->pend[i] = r->pend[--r->npend];
        advance(r, &p.next, p.points);
        i = 0;
    }
}

void vmig_window_snapshot(const struct vmig_window *w, struct vmig_window_pos *snap)
{
    for (size_t i = 0; i < w->n; i++) snap[i] = w->r[i].acked;
}

void vmig_window_durable(struct vmig_window *w, struct vmig_coll_state *st,
                         const struct vmig_window_pos *snap)
{
    for (size_t i = 0; i < w->n; i++) {
        w->r[i].durable = snap[i];
        st->range[i].start = snap[i].start;
        st->range[i].done = snap[i].done;
        st->range[i].points = snap[i].points;
    }
}

uint64_t vmig_window_durable_points(const struct vmig_window *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->n; i++) n += w->r[i].durable.points;
    return n;
}

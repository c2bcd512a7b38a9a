/*
 * hits.c - the growable list of search hits of hits.h (ids and scores kept in
 * two parallel arrays, grown by doubling).
 */
#include "batch/hits.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void vmig_hits_init(struct vmig_hits *h)
{
    memset(h, 0, sizeof *h);
}

void vmig_hits_release(struct vmig_hits *h)
{
    free(h->ids);
    free(h->scores);
    memset(h, 0, sizeof *h);
}

void vmig_hits_reset(struct vmig_hits *h)
{
    h->n = 0;
}

void vmig_hits_add(struct vmig_hits *h, const struct vmig_point_id *id, float score)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->ids = xrealloc(h->ids, h->cap * sizeof *h->ids);
        h->scores = xrealloc(h->scores, h->cap * sizeof *h->scores);
    }
    h->ids[h->n] = *id;
    h->scores[h->n++] = score;
}

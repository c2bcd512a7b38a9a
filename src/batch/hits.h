/*
 * hits.h - the answer of one nearest-neighbour search: point ids best first with
 * their scores, as both connectors' search calls fill it (source.h, target.h) and
 * the search-parity check (engine/search_parity.c) compares them. Scores are the
 * server's own numbers in its own convention (Qdrant: higher is nearer except for
 * Euclid; Milvus: L2 is a squared distance); the engine converts before comparing.
 */
#ifndef VMIG_BATCH_HITS_H
#define VMIG_BATCH_HITS_H

#include <stddef.h>

#include "vmig/types.h"

struct vmig_hits {
    size_t n, cap;
    struct vmig_point_id *ids;
    float *scores;
};

void vmig_hits_init(struct vmig_hits *h);
void vmig_hits_release(struct vmig_hits *h);
/* Empty the list, keep allocations. */
void vmig_hits_reset(struct vmig_hits *h);
void vmig_hits_add(struct vmig_hits *h, const struct vmig_point_id *id, float score);

#endif

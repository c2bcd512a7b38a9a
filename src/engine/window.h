/*
 * window.h - the exactness bookkeeping of a copy, apart from threads and I/O: per
 * read range, a high-water mark, an acknowledgement window and the durable offset.
 *
 * Three offsets per range, always in this order (docs/internals/ENGINE.md):
 *
 *   durable <= acked <= hw
 *
 *   hw       moved past a page BEFORE the page is handed to writers (and persisted):
 *            every page that ever reached the target starts below it;
 *   acked    the end of the contiguous run of pages the target acknowledged (pages
 *            are acknowledged out of order; later ones wait in `pend`);
 *   durable  `acked` as it was when a Flush that met no target outage began: the
 *            target holds every point below it even if it crashes now.
 *
 * The persisted state (struct vmig_coll_state ranges) carries hw and durable only:
 * range.start / done / points move at a clean flush (vmig_window_durable), never at
 * an acknowledgement. A resume starts at durable and writes with Upsert every page
 * that starts below hw, with Insert every page above it. Not thread-safe: the
 * engine calls it with its mutex held.
 */
#ifndef VMIG_ENGINE_WINDOW_H
#define VMIG_ENGINE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "vmig/migrate.h"

struct vmig_window_pend {
    uint64_t seq;
    struct vmig_point_id next;
    uint64_t points;
};

/* One range's acknowledged position. */
struct vmig_window_pos {
    struct vmig_point_id start; /* resume offset; NONE = beginning (or finished: done) */
    int done;
    uint64_t points;
};

struct vmig_window_range {
    uint64_t seq_next; /* next sequence number a reader gives a page */
    uint64_t ack_next; /* next sequence number the window expects */
    struct vmig_window_pend *pend; /* acknowledged out of order */
    size_t npend, cappend;
    int taken; /* a reader works on this range in this pass */
    struct vmig_window_pos acked, durable;
};

struct vmig_window {
    size_t n;
    struct vmig_window_range r[VMIG_MAX_RANGES];
};

/* Start a pass from the persisted state: acked = durable = st's range offsets. */
void vmig_window_start(struct vmig_window *w, const struct vmig_coll_state *st);
void vmig_window_release(struct vmig_window *w);

/* A reader is about to hand out the page [offset, next) of range ri (next NONE = the
 * range's last page). Moves st's hw past it; returns the page's sequence number and
 * sets *upsert when the page may already be in the target. Persist st before the page
 * is written. */
uint64_t vmig_window_out(struct vmig_window *w, struct vmig_coll_state *st, size_t ri,
                         const struct vmig_point_id *offset, const struct vmig_point_id *next,
                         int *upsert);

/* The target acknowledged page seq of range ri (points rows, resume offset next). */
void vmig_window_ack(struct vmig_window *w, size_t ri, uint64_t seq,
                     const struct vmig_point_id *next, uint64_t points);

/* What is acknowledged now (taken before a Flush is sent). */
void vmig_window_snapshot(const struct vmig_window *w, struct vmig_window_pos *snap);

/* A Flush that began after snap was taken succeeded and the target met no outage:
 * snap becomes durable and is copied into st's ranges (persist st afterwards). */
void vmig_window_durable(struct vmig_window *w, struct vmig_coll_state *st,
                         const struct vmig_window_pos *snap);

/* Acknowledged points of every range as of the last durable step. */
uint64_t vmig_window_durable_points(const struct vmig_window *w);

#endif

/*
 * wait.h - the one bounded, reported, cancellable wait of libvmig: every wait on a
 * server (a flush to be persisted, a load, an index build) polls, then calls
 * vmig_wait_next() with what it waits for and how far it got. That logs it every
 * 10 s (as a warning after a minute), fails when the --wait-timeout bound has passed,
 * else sleeps - 200 ms doubling to 5 s, ended by the run's cancel within 100 ms.
 *
 *   struct vmig_wait w; vmig_wait_init(&w, ctx, vmig_wait_limit_ms(ep));
 *   while (!done(...)) if ((rc = vmig_wait_next(&w, "collection 'c' to load", "state 2",
 *                                               "loaded", err))) break;
 */
#ifndef VMIG_UTIL_WAIT_H
#define VMIG_UTIL_WAIT_H

#include <stdint.h>

#include "vmig/error.h"
#include "vmig/run.h"

struct vmig_wait {
    const struct vmig_run_ctx *ctx;
    uint64_t start, reported, limit_ms;
    int pause, first;
};

void vmig_wait_init(struct vmig_wait *w, const struct vmig_run_ctx *ctx, uint64_t limit_ms);

/* what: "the index of collection 'c'"; progress: "12 of 30 rows indexed" (may be "");
 * undone: "built", "loaded", ... VMIG_E_TIMEOUT past the bound, VMIG_E_CANCELLED on a
 * cancel, else VMIG_OK after the pause. */
enum vmig_code vmig_wait_next(struct vmig_wait *w, const char *what, const char *progress,
                              const char *undone, struct vmig_err *err);

#endif

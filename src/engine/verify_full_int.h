/*
 * verify_full_int.h - what the two files of full verification share: the run's state
 * (verify_full.c: planning, pass 1 over the source's read ranges, resume) and the
 * helpers the extras pass (verify_extras.c) records its findings with.
 *
 * Lock: `mu` guards the state, the diff file and the first difference; a page's lines,
 * its counts and the diff file's length move together under it, and the state file is
 * saved from that snapshot, so a resume neither loses nor repeats a line.
 */
#ifndef VMIG_ENGINE_VERIFY_FULL_INT_H
#define VMIG_ENGINE_VERIFY_FULL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "batch/batch.h"
#include "source/source.h"
#include "target/target.h"
#include "util/buf.h"
#include "vmig/verify.h"

#define SAVE_EVERY_MS 1000 /* the state file at most this often (and at each range's end) */

struct vf {
    const struct vmig_endpoint *src, *dst;
    const struct vmig_plan_coll *pc;
    const struct vmig_vfull_opts *o;
    const struct vmig_run_ctx *ctx;
    const struct vmig_source_vt *svt;
    const struct vmig_target_vt *tvt;
    struct vmig_target *t;
    struct vmig_layout lay;
    char state_path[4200];
    uint32_t limit;

    pthread_mutex_t mu; /* guards everything below */
    FILE *diff;
    struct vmig_vfull_state st;
    int taken[VMIG_MAX_RANGES];
    enum vmig_code rc;
    struct vmig_err err;
    char first_diff[512];
    uint64_t t0, done0, last_save, last_progress;
    atomic_int stop;
};

/* Cancelled by the run, or stopped by a failing thread. */
int vmig_vf_stopped(struct vf *v);
/* Under mu: flush the diff file, save the state file, call the hook. 0 or -1 (v->rc set). */
int vmig_vf_save_locked(struct vf *v);
/* One JSON line of the diff file appended to out (field, detail may be NULL). */
void vmig_vf_add_line(struct vf *v, struct vmig_buf *out, const struct vmig_point_id *id,
                      const char *what, const char *field, const char *detail);
/* Under mu: append lines to the diff file, remember first as the first difference. */
int vmig_vf_write_locked(struct vf *v, const struct vmig_buf *lines, const char *first);
/* Pass 2: the target's keys the source lacks (verify_extras.c). */
enum vmig_code vmig_vf_extras_pass(struct vf *v, struct vmig_err *err);

#endif

/*
 * repair.h - repair of a migrated collection from a verification's diff file (the JSON
 * lines `verify --full` writes: docs/user/cli.md "The diff file"): every point the
 * file names is read from the source again by id; those the source still has are
 * mapped with the plan exactly as the copy maps them and written with Upsert, those
 * it no longer has (and "extra" rows) are deleted from the target. Then the target is
 * flushed and the collection verified again. Bounded memory (one batch of ids at a
 * time, the file read as a stream), cancellable, and idempotent: a second run with the
 * same file changes nothing.
 */
#ifndef VMIG_REPAIR_H
#define VMIG_REPAIR_H

#include <stdint.h>

#include "migrate.h"
#include "plan.h"
#include "run.h"
#include "types.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the diff file said of one collection (its lines by "what"). */
struct vmig_diff_counts {
    uint64_t lines, missing, extra, different;
};

/* Check every line of the diff file at path against plan: a JSON object with a
 * "collection" that is a source collection of plan, an "id" (u64 number or uuid text)
 * and a "what" of missing, extra or different. counts (may be NULL) gets plan->n
 * entries, in plan order. The first bad line is VMIG_E_USAGE naming path:line and
 * what is wrong with it; a missing or unreadable file is VMIG_E_IO. */
enum vmig_code vmig_diff_check(const char *path, const struct vmig_plan *plan,
                               struct vmig_diff_counts *counts, struct vmig_err *err);

struct vmig_repair_result {
    struct vmig_diff_counts before; /* what the diff file listed */
    uint64_t upserted;              /* points read from the source and written with Upsert */
    uint64_t deleted;               /* ids deleted: extras, and points the source no longer has */
    uint64_t rejected;    /* source points the plan's rules keep out (deleted from the target) */
    int fresh;            /* the diff file was written by a full verification of this run */
    char diff_path[4096]; /* the diff file repaired from */
    int verified;         /* the verification after ran */
    enum vmig_code verify_code; /* its answer: VMIG_OK same, VMIG_E_VERIFY different */
    char after_path[4096];      /* the verification after's diff file ("" = it did not run) */
    /* the verification after: exact counts and the differences it found */
    uint64_t source_count, target_count, missing, extra, different;
    char first_diff[512];
};

struct vmig_repair_progress {
    const char *coll;
    uint64_t done, total; /* lines of the diff file handled, of the collection's lines */
    uint64_t upserted, deleted;
};

struct vmig_repair_opts {
    /* the diff file; NULL or "" = a full verification first writes one, named as
     * vmig_vfull_diff_path(NULL, job, collection) names it */
    const char *diff_path;
    const char *job;     /* the job's id, for default file names (may be NULL) */
    int reject_oversize; /* as the migration ran: oversize payloads are rejects */
    int no_verify;       /* do not verify again after the repair */
    int readers;         /* the full verification's parallel readers; 0 = default */
    uint64_t rejected;   /* points the migration set aside (expected missing) */
    const struct vmig_run_ctx *ctx;
    void *ud;
    /* after each batch, from the calling thread (may be NULL) */
    void (*progress)(void *ud, const struct vmig_repair_progress *p);
    /* a source point the plan's rules keep out (may be NULL) */
    void (*reject)(void *ud, const char *coll, const struct vmig_point_id *id, const char *reason);
};

void vmig_repair_opts_init(struct vmig_repair_opts *o);

/* Repair pc from the lines of o->diff_path whose collection is pc->source (check the
 * file first with vmig_diff_check; without a file a full verification writes one
 * first), flush, and verify every point again (its diff file in r->after_path). Returns VMIG_OK
 * when the verification after found the collection the same (or did not run),
 * VMIG_E_VERIFY when it still differs (the source took writes meanwhile: verify --full
 * and repair again),
 * VMIG_E_CANCELLED, or the error that stopped it. r is always filled. */
enum vmig_code vmig_repair_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, const struct vmig_repair_opts *o,
                                struct vmig_repair_result *r, struct vmig_err *err);

/* ---- a job's collections --------------------------------------------------------- */

struct vmig_store;
struct vmig_job_repair_coll {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    enum vmig_code code; /* VMIG_OK: repaired and the same; VMIG_E_VERIFY: still differs */
    struct vmig_repair_result result;
    struct vmig_err err; /* why, when code is not VMIG_OK */
};
struct vmig_job_repaired {
    size_t n;
    struct vmig_job_repair_coll *coll; /* owned, plan order */
};
void vmig_job_repaired_release(struct vmig_job_repaired *v);

/* Repair every collection of job id from o->diff_path with the job's own plan,
 * endpoints and secrets (the given ones, NULL = stored), as vmig_job_verify verifies:
 * the file is checked first (a line naming a collection the job does not have is
 * VMIG_E_USAGE with file:line), then each collection repaired and verified again (o's
 * reject_oversize is the job's). Nothing is stored. Returns VMIG_OK when
 * every collection is the same afterwards; else the first collection's code and error;
 * or a failure to read the job, its secrets or the file, with out empty. out is always
 * initialised (release it). */
enum vmig_code vmig_job_repair(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, const struct vmig_repair_opts *o,
                               struct vmig_job_repaired *out, struct vmig_err *err);

#ifdef __cplusplus
}
#endif
#endif

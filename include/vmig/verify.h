/*
 * verify.h - full verification of a migrated collection: every source point read in
 * id order per read range (Qdrant slices or sampled id ranges, like the copy), its row
 * read back from the target by primary key and compared (float32 vectors bit-exact,
 * sparse pairs, payload as canonical JSON after the plan's rules), then, only when the
 * target holds more rows than matched, the target's ids scanned for extras. Bounded
 * memory (one page per reader). Each difference is a JSON line in the diff file
 * (docs/user/cli.md "The diff file"); the run is resumable from a state file kept
 * beside it (FILE.state) while it is unfinished.
 */
#ifndef VMIG_VERIFY_H
#define VMIG_VERIFY_H

#include <stdint.h>

#include "migrate.h"
#include "run.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmig_vfull_range {
    uint32_t slice_total, slice_index; /* slice filter when slice_total > 0 */
    struct vmig_point_id start;        /* next page (inclusive); NONE = beginning */
    struct vmig_point_id end;          /* exclusive upper bound; NONE = unbounded */
    int done;
    uint64_t compared, missing, different, rejected;
};

/* A part of the target's key space, for the scan for extra rows: Int64 keys lo <= pk <= hi
 * (kind INT), VarChar keys that begin with prefix (PREFIX) or equal it (EXACT). */
enum { VMIG_SPAN_INT = 0, VMIG_SPAN_PREFIX = 1, VMIG_SPAN_EXACT = 2 };
struct vmig_key_span {
    int kind;
    int64_t lo, hi;
    char prefix[VMIG_ID_TEXT_MAX];
};
#define VMIG_VFULL_SPANS 1024 /* the scan's stack: 64 levels of 17 */

/* What a run has done, as saved in the state file (and handed to the hook). */
struct vmig_vfull_state {
    char source[VMIG_NAME_MAX], target[VMIG_NAME_MAX];
    int planned; /* ranges are set */
    size_t nranges;
    struct vmig_vfull_range range[VMIG_MAX_RANGES];
    int extras_done;    /* the extras pass is finished (or not needed) */
    int extras_started; /* spans holds the parts of the key space left to scan */
    size_t nspans;
    struct vmig_key_span span[VMIG_VFULL_SPANS];
    uint64_t extra;
    uint64_t diff_len;     /* bytes of the diff file this state accounts for */
    uint64_t source_count; /* source points when the run began */
};

struct vmig_vfull_result {
    uint64_t source_count, target_count; /* exact counts (the target's at the end) */
    uint64_t compared;                   /* source points compared with the target */
    uint64_t missing, extra, different;
    uint64_t rejected; /* source points the plan keeps out (oversize payloads) */
    int resumed;       /* continued an interrupted run */
    char first_diff[512];
};

struct vmig_vfull_hooks {
    void *ud;
    /* phase VERIFYING; written = points compared, total = the source count */
    void (*progress)(void *ud, const struct vmig_progress *p);
    /* after each saved step (may be NULL): nonzero fails the run */
    int (*checkpoint)(void *ud, const struct vmig_vfull_state *st);
};

struct vmig_vfull_opts {
    int readers;           /* parallel read ranges; default 4 */
    uint32_t page_limit;   /* source points per page (0 = sized like the copy's) */
    const char *diff_path; /* the diff file (required); its state is diff_path.state */
    const struct vmig_run_ctx *ctx;
    struct vmig_vfull_hooks hooks;
};

void vmig_vfull_opts_init(struct vmig_vfull_opts *o);

/* Verify every point of pc. An unfinished state file beside the diff file for the same
 * collections is continued (the diff file cut back to what it had saved, then appended
 * to); otherwise the diff file is started afresh. Returns VMIG_OK when nothing differs,
 * VMIG_E_VERIFY when something does (counts in vr, lines in the file), VMIG_E_CANCELLED
 * when cancelled (the state file stays: call again to continue), or another error. */
enum vmig_code vmig_verify_full(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, const struct vmig_vfull_opts *o,
                                struct vmig_vfull_result *vr, struct vmig_err *err);

/* A full run's result (and its code) as the verify block of a collection (migrate.h):
 * counts, compared as sampled, first difference; ran unless it could not compare.
 * The diff file's path and `full` are the caller's to set. */
void vmig_vfull_fold(const struct vmig_vfull_result *fr, enum vmig_code rc,
                     struct vmig_verify_result *vr);

/* The default diff file name: vmigrate-verify-<job>-<collection>.jsonl (job may be NULL:
 * vmigrate-verify-<collection>.jsonl); characters other than [A-Za-z0-9._-] become '_'. */
void vmig_vfull_diff_name(const char *job, const char *coll, char *out, size_t n);

/* Where the diff file of collection coll goes: given NULL or "" -> the default name in
 * the current directory; given an existing directory -> the default name inside it;
 * else given itself, which can hold one collection only (ncolls > 1 -> VMIG_E_USAGE).
 * 0 or -1 with err. */
int vmig_vfull_diff_path(const char *given, const char *job, const char *coll, size_t ncolls,
                         char *out, size_t n, struct vmig_err *err);

/* The state file: save (write + rename) and load. load: 1 = loaded, 0 = none, -1 =
 * unreadable (err says where). */
int vmig_vfull_state_save(const char *path, const struct vmig_vfull_state *st,
                          struct vmig_err *err);
int vmig_vfull_state_load(const char *path, struct vmig_vfull_state *st, struct vmig_err *err);

#ifdef __cplusplus
}
#endif
#endif

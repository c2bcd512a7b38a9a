/*
 * migrate.h - the migration engine's public API: move one planned collection from
 * the source to the target with parallel readers and writers joined by bounded
 * queues, checkpointed per read range, then index, load and verify it.
 *
 * Reading is split into ranges (Qdrant slices when the server has them, else one
 * sequential range). Each range's progress is a resume offset: every point before it
 * is acknowledged by the target and made durable by a later Flush. The caller owns a struct vmig_coll_state (ranges +
 * counters), may persist it from the checkpoint hook, and may pass it back later to
 * resume: pages at or below a range's high-water mark may already be in the target
 * and are re-sent with Upsert, so a resumed run neither loses nor doubles a point.
 */
#ifndef VMIG_MIGRATE_H
#define VMIG_MIGRATE_H

#include <stdint.h>

#include "run.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmig_range {
    uint32_t slice_total, slice_index; /* slice filter when slice_total > 0 */
    struct vmig_point_id start;        /* resume offset (inclusive); NONE = beginning */
    struct vmig_point_id end;          /* exclusive upper bound; NONE = unbounded */
    struct vmig_point_id hw;           /* high-water: pages up to here may have been written */
    int hw_set;                        /* hw is meaningful (else nothing was ever written) */
    int done;
    uint64_t points; /* acknowledged points of this range */
};

#define VMIG_MAX_RANGES 64

/* They run in the order creating, loading (the empty collection), copying, verifying,
 * indexing: the collection is loaded before the data streams in and verified as soon
 * as it is in (searchable), and the server's index build is waited for only with
 * wait_index. The stored values keep their numbers. */
enum vmig_coll_phase {
    VMIG_PHASE_PENDING = 0,
    VMIG_PHASE_CREATING,
    VMIG_PHASE_COPYING,
    VMIG_PHASE_INDEXING,
    VMIG_PHASE_LOADING,
    VMIG_PHASE_VERIFYING,
    VMIG_PHASE_DONE,
};

struct vmig_coll_state {
    int creating;     /* CreateCollection was about to be sent (saved before it) */
    int created;      /* the target collection was created by this migration */
    int copied;       /* all ranges done and flushed */
    int indexed;      /* every index is defined (built: index_built) */
    int loaded;
    int index_built;  /* the server reported every row indexed */
    uint64_t index_rows, index_total; /* last index build progress seen (rows) */
    size_t nranges;
    struct vmig_range range[VMIG_MAX_RANGES];
    uint64_t total;   /* exact source count at start */
    uint64_t written; /* acknowledged points (sum of ranges) */
    uint64_t read;    /* points read (this run) */
    uint64_t bytes;   /* vector + payload bytes written (this run) */
    uint64_t rejected, nulls_dropped;
    uint64_t misfits; /* typed payload values kept in $meta (--payload-misfit dynamic) */
};

#define VMIG_DIFF_PATH_MAX 1024

struct vmig_verify_result {
    int ran;
    uint64_t source_count, target_count;
    uint64_t sampled, missing, vector_diffs, payload_diffs, rejected;
    char first_diff[512]; /* the first difference found, for the error log */
    /* a full verification (vmig/verify.h): sampled = points compared */
    int full;
    uint64_t extra, different;
    char diff_path[VMIG_DIFF_PATH_MAX];
};

struct vmig_progress {
    const char *coll;
    enum vmig_coll_phase phase;
    uint64_t total, read, written, bytes;
    double points_per_s; /* over this run */
    double eta_s;        /* -1 unknown */
    uint64_t index_rows, index_total; /* INDEXING: rows the server has indexed, of total */
    /* rate limits met in this collection's run (HTTP 429 / RESOURCE_EXHAUSTED answers
     * and the time waited on them, by source and target): paced, not failed */
    uint64_t throttled, throttled_ms;
};

struct vmig_migrate_hooks {
    void *ud;
    /* Progress, at most every ~200 ms and at each phase change (any thread). */
    void (*progress)(void *ud, const struct vmig_progress *p);
    /* State changed (a high-water mark moved, a flush made offsets durable, a phase
     * finished). Called from any thread, one call at a time, never with an engine lock
     * held; persist st and return 0, or nonzero to fail the collection. Called before a
     * page is handed to writers (hw moved) and after a clean Flush (start moved). */
    int (*checkpoint)(void *ud, const struct vmig_coll_state *st);
    /* A row the target will not get (e.g. payload > 64 KiB with rejects on). */
    void (*reject)(void *ud, const char *coll, const struct vmig_point_id *id, const char *reason);
};

/* What a run of vmig_migrate_coll() does (vmig_migrate_opts.steps; 0 = the whole
 * collection, VMIG_STEPS_WHOLE). Range tasks (the job store's) split it: a setup
 * (CREATE | LOAD_ASK | RANGES), one copy per read range (LOAD_ASK | COPY, the state
 * holding that one range) and a finish (FINISH: load, verify, index). */
enum {
    VMIG_STEP_CREATE = 1,   /* create the target collection and define its indexes */
    VMIG_STEP_LOAD_ASK = 2, /* ask for the Load of the collection (waited on a resume) */
    VMIG_STEP_RANGES = 4,   /* count the source and plan the read ranges into the state */
    VMIG_STEP_COPY = 8,     /* copy the state's ranges */
    VMIG_STEP_FINISH = 16,  /* wait for the Load, verify, wait for the index (wait_index) */
};
#define VMIG_STEPS_WHOLE (VMIG_STEP_CREATE | VMIG_STEP_LOAD_ASK | VMIG_STEP_COPY | VMIG_STEP_FINISH)
/* How pages written with Insert reach the target (docs/user/bulk-import.md). ROWS: Insert
 * requests. BULK: appended to import files that the target imports at each durable step
 * (pages re-sent below a high-water mark always go as Upsert requests). AUTO: BULK when the
 * target can import, a storage is given and the collection has at least
 * VMIG_BULK_AUTO_POINTS points; else ROWS (one log line says which and why). */
enum vmig_write_mode { VMIG_WRITE_ROWS = 0, VMIG_WRITE_BULK, VMIG_WRITE_AUTO };
#define VMIG_BULK_AUTO_POINTS 1000000u
#define VMIG_BULK_FILE_BYTES (256u << 20) /* default size at which an import file is closed */

/* Where import files go; strings borrowed. dir: a directory the target server reads by
 * absolute path (its local storage or a shared mount). url: s3://bucket/prefix, uploaded
 * to endpoint with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION from the
 * environment. */
struct vmig_bulk_opts {
    enum vmig_write_mode mode;
    const char *dir;      /* NULL or "" = none */
    const char *url;      /* NULL or "" = none */
    const char *endpoint; /* S3 endpoint, e.g. http://127.0.0.1:9000 (url only) */
    uint64_t file_bytes;  /* close an import file at this size; 0 = VMIG_BULK_FILE_BYTES */
};

/* "rows", "bulk", "auto" and back: 0, or -1 for another word. */
const char *vmig_write_mode_name(enum vmig_write_mode m);
int vmig_write_mode_parse(const char *s, enum vmig_write_mode *out);

struct vmig_migrate_opts {
    unsigned steps;       /* VMIG_STEP_* bits; 0 = VMIG_STEPS_WHOLE */
    int read_share;       /* a range task: the collection's range tasks (its share of a
                             strict-mode read rate); 0 = the whole collection */
    int readers;          /* parallel read ranges; default 4 */
    int writers;          /* parallel target writers; default 2 */
    size_t page_bytes;    /* aim for scroll responses of this size; default 8 MiB */
    uint32_t page_limit;  /* fixed page size in points (0 = sized by bytes) */
    int queue_depth;      /* pages between readers and writers; default 2 * writers */
    int verify_sample;    /* points to compare bit-exactly after the copy; <0 = no verify */
    int verify_full;      /* compare every point instead (vmig/verify.h; verify_sample >= 0) */
    const char *verify_diff; /* its diff file or directory (NULL = default name, current dir) */
    const char *verify_job;  /* the job id the default diff file name carries (may be NULL) */
    size_t verify_colls;     /* collections sharing verify_diff (a file holds one) */
    int reject_oversize;  /* payload > 64 KiB: record a reject instead of failing */
    int skip_index;       /* do not create indexes / load (bench write-only runs) */
    int wait_index;       /* hold the collection until every index is built */
    int flush_ms;         /* make progress durable (Flush + checkpoint) this often; 30000 */
    const struct vmig_run_ctx *ctx; /* cancel + log sink of the run (may be NULL) */
    struct vmig_migrate_hooks hooks;
    struct vmig_bulk_opts bulk; /* write mode and import storage; default rows */
};

void vmig_migrate_opts_init(struct vmig_migrate_opts *o);
void vmig_coll_state_init(struct vmig_coll_state *st);

/* Migrate (or resume) one planned collection. st: fresh from vmig_coll_state_init() or
 * as persisted by the checkpoint hook. On VMIG_OK the collection is copied, its indexes
 * defined, loaded (before the copy) and (unless verify_sample < 0) verified, and with
 * wait_index its indexes built; vr receives the verification. */
enum vmig_code vmig_migrate_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                 const struct vmig_plan_coll *pc,
                                 const struct vmig_migrate_opts *o, struct vmig_coll_state *st,
                                 struct vmig_verify_result *vr, struct vmig_err *err);

/* Compare a migrated collection: exact counts on both sides and `sample` random
 * points (float32 vectors bit-exact, sparse equal, payload JSON equal). Returns
 * VMIG_E_VERIFY (with the first difference) when anything differs. `rejected` points
 * (kept out on purpose, e.g. oversize payloads) are expected to be missing. */
enum vmig_code vmig_verify_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, int sample, uint64_t rejected,
                                const struct vmig_run_ctx *ctx, struct vmig_verify_result *vr,
                                struct vmig_err *err);

const char *vmig_phase_name(enum vmig_coll_phase p);

#ifdef __cplusplus
}
#endif
#endif

/*
 * job.h - the job center: migrations as persistent jobs in a job store (SQLite by
 * default), with statuses, per-collection progress and checkpoints, an error log,
 * cancel, resume after a crash, retry of failed collections and restart.
 *
 * A host (the CLI, the HTTP server) creates a job from a plan with vmig_job_create()
 * (or, with the request's rules, vmig_job_submit()) and runs it in the foreground with
 * vmig_job_act(), or leaves it PENDING for vmig_worker_run(). The runner persists each
 * collection's struct vmig_coll_state from the engine's checkpoint hook, so
 * vmig_job_act(VMIG_JOB_RESUME) continues exactly where a
 * killed process stopped. Every call here is thread-safe on one store handle.
 * Secrets (Qdrant API key, Milvus token) are stored only encrypted (libsodium
 * secretbox, key file 0600), or not at all. Design notes: docs/internals/JOBS.md.
 */
#ifndef VMIG_JOB_H
#define VMIG_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "migrate.h"
#include "run.h"
#include "types.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmig_store; /* opaque: one open job store */
struct vmig_map_opts; /* plan.h */
struct vmig_metrics;  /* a registry of Prometheus metrics (the host's; util/metrics.h) */

#define VMIG_JOB_ID_MAX 16 /* "j" + 8 hex digits + NUL, with room */
#define VMIG_PATH_MAX 1024

enum vmig_job_status {
    VMIG_JOB_PENDING = 0,
    VMIG_JOB_IN_PROGRESS,
    VMIG_JOB_SUCCESSFUL,
    VMIG_JOB_FAILED,
    VMIG_JOB_CANCELLED,
};

/* "PENDING", "IN_PROGRESS", ... (stored and in --json). */
const char *vmig_job_status_name(enum vmig_job_status s);
/* "Pending", "In Progress", "Successful", "Failed", "Canceled" (Zilliz's Jobs page). */
const char *vmig_job_status_label(enum vmig_job_status s);
/* Accepts either form, any case, and "CANCELED". 0 on success, -1 unknown. */
int vmig_job_status_parse(const char *s, enum vmig_job_status *out);

/* ---- the store ------------------------------------------------------------------ */

/* Default store path: $XDG_DATA_HOME/vmigrate/vmigrate.db, else
 * ~/.local/share/vmigrate/vmigrate.db. 0, or -1 when no home can be found. */
int vmig_store_default_path(char *out, size_t n);

/* Open (creating the file and its directories, mode 0700) and migrate the schema to
 * the newest version. path NULL = the default path. */
enum vmig_code vmig_store_open(const char *path, struct vmig_store **out, struct vmig_err *err);
void vmig_store_close(struct vmig_store *s);
/* The schema version in use (PRAGMA user_version). */
int vmig_store_schema_version(struct vmig_store *s);

/* ---- jobs ------------------------------------------------------------------------- */

/* Options of a job (per-collection options live in the plan). */
struct vmig_job_opts {
    int readers, writers;    /* 0 = engine default */
    uint32_t page_limit;     /* 0 = sized by bytes */
    int verify_sample;       /* < 0: no verification; default 100 */
    int reject_oversize;     /* payload > 64 KiB: reject instead of failing */
    int skip_index;
    int wait_index;          /* the job holds each collection until its index is built */
    char rejects[VMIG_PATH_MAX]; /* rejects file (JSON lines); "" = none */
    /* Range tasks per collection, claimed by any number of workers (store.h): 0 = auto
     * (VMIG_TASKS_AUTO on a PostgreSQL store, none on SQLite), 1 = none (one process
     * runs the whole job), N >= 2 = N (at most VMIG_MAX_RANGES). */
    int tasks;
    enum vmig_write_mode write_mode;   /* rows (default), bulk or auto (vmig/migrate.h) */
    char bulk_dir[VMIG_PATH_MAX];      /* import files directory the server reads; "" = none */
    char bulk_url[VMIG_PATH_MAX];      /* s3://bucket/prefix for import files; "" = none */
    char bulk_endpoint[VMIG_PATH_MAX]; /* S3 endpoint of bulk_url */
    uint64_t bulk_file_bytes;          /* import file size limit; 0 = VMIG_BULK_FILE_BYTES */
};
#define VMIG_TASKS_AUTO 16
void vmig_job_opts_init(struct vmig_job_opts *o);

/* One collection of a job, as stored. */
struct vmig_job_coll {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    enum vmig_job_status status;
    enum vmig_coll_phase phase;
    uint64_t total, read, written, bytes;
    double rate; /* points/s of the last run */
    int64_t started_ms, finished_ms;
    struct vmig_coll_state state;   /* the last checkpoint */
    struct vmig_verify_result verify;
    char error[VMIG_ERR_MSG_MAX]; /* "" when none */
    int index_live; /* state.index_* were just asked of the target (vmig_job_index_live) */
    char error_point[VMIG_ERR_POINT_MAX]; /* the point the error is about, "" = none */
    char error_field[VMIG_ERR_FIELD_MAX]; /* its vector / payload field, "" = none */
    enum vmig_code error_code;              /* the error's code, VMIG_OK = none */
    enum vmig_fix error_fix;                /* its way out (error.h), for each face to word */
    char error_fix_arg[VMIG_ERR_FIX_ARG_MAX];
};

/* One range task of a job run as tasks (opts.tasks; the job store's task rows). */
struct vmig_job_task {
    size_t coll;      /* the collection's plan order */
    int idx;          /* 0 setup, 1..n the read ranges, 100000 finish */
    const char *kind; /* "setup", "range", "finish" (static) */
    enum vmig_job_status status;
    char owner[160];        /* the worker holding it or that last held it ("host:pid/n") */
    int attempts, reclaims; /* claims, and claims of a lease whose worker died */
    uint64_t read, written;
    int64_t lease_until_ms; /* on the store's clock, 0 = none */
    char error[VMIG_ERR_MSG_MAX];
};

/* A job as stored. Strings are owned (release with vmig_job_release()). */
struct vmig_job {
    char id[VMIG_JOB_ID_MAX];
    enum vmig_job_status status;
    int64_t created_ms, started_ms, finished_ms, heartbeat_ms; /* 0 = not yet */
    char *src_url, *src_ca_file, *dst_url, *dst_db, *dst_ca_file; /* NULL when unset */
    int src_insecure, dst_insecure, timeout_ms;
    int secrets_stored; /* the job store holds its (encrypted) secrets */
    struct vmig_job_opts opts;
    struct vmig_plan plan;
    char owner_host[256];
    int owner_pid; /* 0 = never claimed */
    int cancel_requested;
    int orphaned; /* IN_PROGRESS but its process is gone: resumable */
    char error[VMIG_ERR_MSG_MAX];
    int64_t run_ms;         /* time spent running, summed over the runs that ended */
    int64_t run_started_ms; /* the running run's claim, 0 = not running */
    size_t ncolls;
    struct vmig_job_coll *coll; /* owned, plan order */
    size_t ntasks;
    struct vmig_job_task *tasks; /* owned, by (coll, idx); none for a job run as a whole */
};
void vmig_job_release(struct vmig_job *j);

/* The job as JSON (no secrets; the plan included when with_plan): id, status,
 * label, times, endpoints, options, owner, orphaned, error, and per collection its
 * status, phase, progress, checkpoint state, verification and error. malloc'd. */
char *vmig_job_to_json(const struct vmig_job *j, int with_plan, int pretty);

/* Create a PENDING job. src/dst: the endpoints (secrets included: with store_secrets
 * they are stored encrypted, else not at all). plan: the collections (copied).
 * opts NULL = defaults. id_out receives the new id ("j" + 8 hex). */
enum vmig_code vmig_job_create(struct vmig_store *s, const struct vmig_endpoint *src,
                               const struct vmig_endpoint *dst, const struct vmig_plan *plan,
                               const struct vmig_job_opts *opts, int store_secrets,
                               char id_out[VMIG_JOB_ID_MAX], struct vmig_err *err);

/* ---- submitting: one rule for every face (CLI, HTTP API, console) ------------------ */

/* What to submit: either collection names (plan NULL; nnames 0 = every collection of
 * the source) planned with mo, or an edited plan (from a plan file or the API's body)
 * checked with vmig_plan_check_file() against mo. Everything is borrowed; mo's
 * edits[].used and plan's facts (counts, target existence, refusals) are updated. */
struct vmig_job_request {
    const struct vmig_endpoint *src, *dst;
    const char *const *names;
    size_t nnames;
    struct vmig_map_opts *mo;
    struct vmig_plan *plan;           /* NULL = make the plan of names */
    const struct vmig_job_opts *opts; /* NULL = defaults */
    int store_secrets;
};

/* A collection left out of the job, and why (from its plan's refusal). */
struct vmig_job_refusal {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX]; /* the planned target collection */
    struct vmig_err err;        /* the plan's refusal: code, message, field, fix (+ fix_arg) */
};

/* A collection the job holds. */
struct vmig_job_held {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    uint64_t points; /* the source's exact count when the plan was made */
};

/* What vmig_job_submit() decided. Arrays are owned (vmig_job_submitted_release()). */
struct vmig_job_submitted {
    char id[VMIG_JOB_ID_MAX]; /* "" when no job was created */
    int none_runnable;        /* no job: every collection was refused, or there were none */
    size_t nrefused;
    struct vmig_job_refusal *refused; /* plan order */
    size_t nheld;
    struct vmig_job_held *held; /* what the job holds, plan order */
    uint64_t points;            /* sum of held[].points */
};
void vmig_job_submitted_release(struct vmig_job_submitted *r);

/* Make (or check) the plan, leave every refused collection out of the job and report
 * it in out->refused (never dropped silently), and create a PENDING job of the rest.
 * VMIG_OK with out->id set when a job was created (even if some were refused). When
 * nothing is runnable no job is created: the first refusal's code and message
 * (VMIG_E_USAGE when the plan has no collection at all). A planning failure (a server
 * unreachable, an edit malformed) is returned as it is, with out->nrefused 0. out is
 * always initialised (release it). */
enum vmig_code vmig_job_submit(struct vmig_store *s, const struct vmig_job_request *req,
                               struct vmig_job_submitted *out, struct vmig_err *err);

/* A collection refused because its target exists, where a job of store s created that
 * target (a failed or cancelled job keeps what it half wrote): its refusal names the
 * job and its way out becomes VMIG_FIX_JOB (fix_arg: the job). vmig_job_submit does it;
 * a face showing a plan (the API's POST /plan) calls it. s may be NULL (nothing done). */
void vmig_job_plan_made_by(struct vmig_store *s, const struct vmig_endpoint *dst,
                           struct vmig_plan *plan);

/* Ask the target for the live index build of the job's finished collections whose
 * index was not built when the job ended (without wait_index the server goes on
 * building it): their state.index_* are replaced in j (index_live set), nothing is
 * stored. dst_secret overrides the job's stored token (NULL = stored or none). */
enum vmig_code vmig_job_index_live(struct vmig_store *s, struct vmig_job *j, const char *dst_secret,
                                   struct vmig_err *err);

/* Read one job. VMIG_E_NOT_FOUND for an unknown id. out is released by the caller. */
enum vmig_code vmig_job_get(struct vmig_store *s, const char *id, struct vmig_job *out,
                            struct vmig_err *err);

/* Jobs, newest first; status < 0 = any. *out is malloc'd (release each, free the array). */
enum vmig_code vmig_job_list(struct vmig_store *s, int status, struct vmig_job **out, size_t *n,
                             struct vmig_err *err);
void vmig_job_list_free(struct vmig_job *jobs, size_t n);

/* Cancel: a PENDING (or orphaned) job becomes CANCELLED at once; an IN_PROGRESS job
 * gets a cancel request its runner sees within a second, and stops with a consistent
 * checkpoint. VMIG_E_USAGE when the job has already ended. *immediate (may be NULL) is
 * set when the status changed right away. */
enum vmig_code vmig_job_cancel(struct vmig_store *s, const char *id, int *immediate,
                               struct vmig_err *err);

/* The whole id of the job whose id is or begins with prefix (a unique prefix, as git
 * takes abbreviated object names): a whole id is taken as it is. VMIG_E_NOT_FOUND when
 * no job id begins with it; VMIG_E_USAGE when several do (the message names them). */
enum vmig_code vmig_job_resolve(struct vmig_store *s, const char *prefix,
                                char id_out[VMIG_JOB_ID_MAX], struct vmig_err *err);

/* One collection of a job, verified again (vmig_job_verify). */
struct vmig_job_verify_coll {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    enum vmig_code code; /* VMIG_OK: same; VMIG_E_VERIFY: different; else not verified */
    struct vmig_verify_result result;
    struct vmig_err err; /* why, when code is not VMIG_OK */
    /* vmig_job_verify_full: its counts and the diff file it wrote */
    int full;
    struct vmig_vfull_result full_result;
    char diff_path[4096];
};
struct vmig_job_verified {
    size_t n;
    struct vmig_job_verify_coll *coll; /* owned, plan order */
};
void vmig_job_verified_release(struct vmig_job_verified *v);

/* Verify every collection of job id again against its source with the job's own plan
 * (target names, renames, skipped vectors, payload rules), endpoints and secrets (the
 * given ones, NULL = stored or none). sample < 0 = the job's verify_sample (default
 * 100). Nothing is stored. Returns VMIG_OK when every collection is the same; else the
 * first collection's code and error (VMIG_E_VERIFY for a difference), with out filled
 * for each collection; or a failure to read the job or its secrets, with out empty.
 * out is always initialised (release it). */
enum vmig_code vmig_job_verify(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int sample, const struct vmig_run_ctx *ctx,
                               struct vmig_job_verified *out, struct vmig_err *err);

/* Full verification (vmig/verify.h) of every collection of job id, with the job's plan,
 * endpoints and secrets as vmig_job_verify. o->diff_path is ignored: each collection's
 * diff file is vmig_vfull_diff_path(diff, job id, collection). Cancelled: the state
 * files stay and a later call continues. Same returns as vmig_job_verify. */
enum vmig_code vmig_job_verify_full(struct vmig_store *s, const char *id, const char *src_secret,
                                    const char *dst_secret, const struct vmig_vfull_opts *o,
                                    const char *diff, struct vmig_job_verified *out,
                                    struct vmig_err *err);

/* ---- the log -------------------------------------------------------------------------- */

struct vmig_job_log {
    int64_t seq; /* increasing, for --follow */
    int64_t ts_ms;
    int level;        /* enum vmig_log_level */
    const char *coll; /* "" when not about one collection */
    const char *point_id; /* "" when unknown */
    const char *msg;
};
typedef int (*vmig_job_log_fn)(void *ud, const struct vmig_job_log *e); /* nonzero stops */

/* Append a line (redacted of the job's secrets only when logged by the runner: callers
 * must not pass secrets). point_id may be NULL. */
enum vmig_code vmig_job_log_add(struct vmig_store *s, const char *id, int level,
                                const char *coll, const char *point_id, const char *msg,
                                struct vmig_err *err);
/* Lines with seq > after_seq, oldest first, at most limit (0 = all). */
enum vmig_code vmig_job_logs(struct vmig_store *s, const char *id, int64_t after_seq,
                             size_t limit, vmig_job_log_fn fn, void *ud, struct vmig_err *err);

/* ---- running -------------------------------------------------------------------------- */

struct vmig_job_run_opts {
    /* Secrets for jobs created with store_secrets = 0, or to override stored ones
     * (a rotated key). NULL = stored or none. Borrowed. */
    const char *src_secret, *dst_secret;
    /* The host's cancel flag (SIGINT), polled twice a second. Cancelling through it
     * is the same as vmig_job_cancel(), except in the worker (see requeue). May be NULL. */
    const atomic_int *cancel;
    /* The host's progress and reject hooks (called besides the runner's own ones;
     * hooks.checkpoint is ignored: the runner owns checkpoints). */
    struct vmig_migrate_hooks hooks;
    /* The host's log sink for the job's lines: the run's warnings and errors go into
     * the job's log, and every line at or below log_level also here (redacted). Lines
     * of no run go to the process-wide callback (vmig_log_set). */
    vmig_log_fn log;
    void *log_ud;
    int log_level;
    /* Called once, from the runner's thread, as soon as the claim is decided: claimed
     * 1 (the job is IN_PROGRESS, owned by this run), or 0 with why (nothing ran; the
     * same error vmig_job_act() returns). A host that starts the run in a thread of its
     * own waits on this instead of reading the store. May be NULL; vmig_worker_run()
     * does not call it. */
    void (*on_claim)(void *ud, int claimed, const struct vmig_err *why);
    void *claim_ud;
    /* Jobs interrupted through `cancel` go back to PENDING (with their checkpoints)
     * instead of CANCELLED: a stopping worker leaves them for the next one. */
    int requeue;
    /* A range task's lease (ms): renewed every sixth of it; a worker that cannot renew
     * it for two thirds of it stops writing. 0 = 30000. */
    int64_t lease_ms;
    /* Where the run counts its points, bytes, phase times, retries, throttling and how
     * it ended (thread-safe; shared by every run of the host). NULL = none. Borrowed. */
    struct vmig_metrics *metrics;
};
void vmig_job_run_opts_init(struct vmig_job_run_opts *ro);

/* What a caller asks of a job; one entry point, vmig_job_act(), runs it in this thread.
 * RUN: a PENDING job (or an orphaned IN_PROGRESS one), each collection not yet done, in
 *   plan order, through vmig_migrate_coll().
 * RESUME: a PENDING, FAILED, CANCELLED or orphaned job (IN_PROGRESS, its process gone:
 *   kill -9, reboot) from its checkpoints: every collection not SUCCESSFUL runs again.
 * RETRY: only the FAILED collections of a FAILED job, from their checkpoints, with the
 *   changed options (written into the job's plan).
 * RESTART: any job not running, over: drop the target collections this job created
 *   (state.created; never one it did not create), reset every collection and run.
 * Cancel is vmig_job_cancel() (it runs nothing). */
enum vmig_job_action { VMIG_JOB_RUN = 0, VMIG_JOB_RESUME, VMIG_JOB_RETRY, VMIG_JOB_RESTART };
/* "run", "resume", "retry", "restart" (the CLI's and the API's words); parse: 0 and *out,
 * or -1 for another word. */
const char *vmig_job_action_name(enum vmig_job_action a);
int vmig_job_action_parse(const char *s, enum vmig_job_action *out);

/* Changed per-collection options for a retry; NULL members keep the plan's value. Words
 * as vmig_null_policy_parse() / vmig_conflict_policy_parse() take them. */
/* A retry's changes to the job's failed and cancelled collections (the successful
 * ones are never touched). NULL / 0 = unchanged. The words apply to every retried
 * collection; each edit names one: edit_kind[i] is "target-name", "skip-vector",
 * "index", "null-values", "payload-conflict" or "max-vector-fields" (vmig_plan_coll_edit)
 * and edit_val[i] "SRC=VALUE", or for "skip-vector" also "SRC.VECTOR" / "VECTOR" (every
 * retried collection that has it). A change to the target collection itself (name,
 * vectors, index) makes it again: dropped first when this job created it. */
struct vmig_job_retry_opts {
    const char *null_values;      /* "fail" | "drop" | "keep" */
    const char *payload_conflict; /* "fail" | "prefix" */
    const char *payload_misfit;   /* "dynamic" | "reject" | "fail" */
    const char *rejects;          /* rejects file: turns reject_oversize on */
    const char *index;            /* "auto" | "hnsw" */
    int max_vector_fields;        /* a limit the retried collections' vectors must fit */
    size_t nedits;
    const char *const *edit_kind;
    const char *const *edit_val;
};

/* Do action on job id until the run ends. ch: for VMIG_JOB_RETRY (NULL = no changes;
 * ignored otherwise). *claimed (may be NULL) tells whether this caller took the job;
 * when it did not, nothing ran and VMIG_E_USAGE (or the store's error) says why: the job
 * is running elsewhere, is in a state the action does not take, an option is invalid,
 * its secrets are missing. ro->on_claim, when set, hears the same fact as soon as it is
 * decided. Returns VMIG_OK when the job ended SUCCESSFUL, VMIG_E_CANCELLED when
 * CANCELLED (or put back to PENDING), else the first failed collection's code with its
 * message (the job is FAILED). */
enum vmig_code vmig_job_act(struct vmig_store *s, const char *id, enum vmig_job_action action,
                            const struct vmig_job_retry_opts *ch,
                            const struct vmig_job_run_opts *ro, int *claimed, struct vmig_err *err);

/* Long-running: `concurrency` threads claim PENDING (and orphaned) jobs, oldest first,
 * and run them, until *stop becomes nonzero; then running jobs are interrupted with a
 * consistent checkpoint and put back to PENDING. ro: as for vmig_job_act (its cancel
 * and requeue are replaced by stop). */
enum vmig_code vmig_worker_run(struct vmig_store *s, int concurrency,
                               const struct vmig_job_run_opts *ro, const atomic_int *stop,
                               struct vmig_err *err);

/* ---- state JSON (stored per collection; exposed for tests and tools) -------------- */

/* {"created":true,...,"ranges":[{"slice_total":4,"slice_index":0,"start":{"num":"42"},
 * "end":null,"hw":{"uuid":"..."},"hw_set":true,"done":false,"points":10}],...}.
 * Integer ids are decimal strings so every u64 survives. malloc'd. */
char *vmig_coll_state_to_json(const struct vmig_coll_state *st);
enum vmig_code vmig_coll_state_from_json(const char *text, struct vmig_coll_state *st,
                                         struct vmig_err *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * store.h - the job store interface: a const vtable of small, single-purpose
 * operations the job runner (engine/job.c) and the public job calls use, so a
 * PostgreSQL store for many workers on many machines can be added beside the
 * SQLite one (store/sqlite.c) without touching the runner. Every operation is one
 * short transaction; claims are compare-and-swap so two processes never run the
 * same job. Also the secrets box (store/secrets.c): libsodium secretbox with a key
 * file, so the store only ever holds ciphertext.
 */
#ifndef VMIG_STORE_H
#define VMIG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "vmig/job.h"

/* Encrypted secrets as stored: nonce || secretbox ciphertext; len 0 = none. */
struct vmig_store_blob {
    unsigned char *p; /* owned */
    size_t len;
};

/* A new job's row (strings borrowed). */
struct vmig_store_new_job {
    const char *id;
    int64_t created_ms;
    const struct vmig_endpoint *src, *dst; /* secrets ignored here */
    const char *plan_json, *opts_json;
    struct vmig_store_blob src_secret, dst_secret;
    int secrets_stored;
    size_t ncolls;
    const char *const *coll_source, *const *coll_target;
};

/* What a claim expects to find (compare-and-swap on these). */
struct vmig_store_expect {
    enum vmig_job_status status;
    int owner_pid;        /* 0 = never claimed */
    int64_t heartbeat_ms; /* 0 = none */
};

/* ---- range tasks (issue 14): a job's collections split into tasks that any number
 * of workers, on any machines, claim with a lease ------------------------------------
 *
 * Per collection: one SETUP task (create the target collection, plan the read ranges,
 * add one RANGE task per range), the RANGE tasks (copy one read range, checkpointed in
 * the task's own state), and one FINISH task (load, verify, index), claimable only
 * when every RANGE task of the collection is SUCCESSFUL. A claim takes a PENDING task,
 * or an IN_PROGRESS one whose lease expired (its worker died), of an IN_PROGRESS job
 * without a cancel request; it bumps the task's fencing token. Every later write of
 * the task (heartbeat, checkpoint, progress, end) names that token and changes nothing
 * when the task was claimed again since (*held = 0): a worker that lost its lease can
 * never overwrite the new holder's checkpoint. Times: PostgreSQL compares leases on
 * the database server's clock (workers on many machines), SQLite on now_ms. */
enum vmig_task_kind { VMIG_TASK_SETUP = 0, VMIG_TASK_RANGE, VMIG_TASK_FINISH };

#define VMIG_TASK_SETUP_IDX 0       /* the SETUP task's idx; RANGE tasks are 1..nranges */
#define VMIG_TASK_FINISH_IDX 100000 /* the FINISH task's idx */
#define VMIG_TASK_OWNER_MAX 160

/* "setup", "range", "finish" (stored). */
const char *vmig_task_kind_name(enum vmig_task_kind k);

/* A task as stored. state_json is malloc'd (NULL = none): release with
 * vmig_store_task_release(). */
struct vmig_store_task {
    char job_id[VMIG_JOB_ID_MAX];
    size_t coll; /* the collection's plan order */
    int idx;     /* VMIG_TASK_SETUP_IDX, 1..nranges, VMIG_TASK_FINISH_IDX */
    enum vmig_task_kind kind;
    enum vmig_job_status status;     /* PENDING, IN_PROGRESS, SUCCESSFUL, FAILED */
    char owner[VMIG_TASK_OWNER_MAX]; /* the worker holding (or that last held) it, "" = none */
    int64_t lease_until_ms;          /* on the store's clock; 0 = no lease */
    int64_t token;                   /* fencing token: bumped by every claim */
    int attempts;                    /* claims so far */
    int reclaims;                    /* claims of an expired lease (its worker died) */
    uint64_t read, written, bytes;
    double rate;
    int64_t started_ms, finished_ms;
    char *state_json;             /* RANGE: the range's checkpoint (a vmig_coll_state) */
    char error[VMIG_ERR_MSG_MAX]; /* "" = none */
};
void vmig_store_task_release(struct vmig_store_task *t);

/* Which task a write is about, and the claim it was made under. */
struct vmig_store_task_key {
    const char *job_id;
    size_t coll;
    int idx;
    int64_t token;
};

struct vmig_store_vt {
    const char *name;
    void (*close)(struct vmig_store *s);
    int (*schema_version)(struct vmig_store *s);

    /* VMIG_E_EXISTS when a job with j->id exists already. */
    enum vmig_code (*job_insert)(struct vmig_store *s, const struct vmig_store_new_job *j,
                                 struct vmig_err *err);
    /* Fills everything but the parsed plan/options/state (the runner parses the JSON
     * texts handed back in plan_json/opts_json and state_json[i], all malloc'd). */
    enum vmig_code (*job_get)(struct vmig_store *s, const char *id, struct vmig_job *out,
                              char **plan_json, char **opts_json, char ***state_json,
                              char ***verify_json, struct vmig_err *err);
    /* Ids newest first; status < 0 = any. *ids malloc'd array of VMIG_JOB_ID_MAX rows. */
    enum vmig_code (*job_ids)(struct vmig_store *s, int status, int oldest_first,
                              char (**ids)[VMIG_JOB_ID_MAX], size_t *n, struct vmig_err *err);
    enum vmig_code (*job_secrets)(struct vmig_store *s, const char *id,
                                  struct vmig_store_blob *src, struct vmig_store_blob *dst,
                                  struct vmig_err *err);
    /* IN_PROGRESS with owner host/pid if the row still matches ex; *claimed = 0 if not. */
    enum vmig_code (*job_claim)(struct vmig_store *s, const char *id,
                                const struct vmig_store_expect *ex, const char *host, int pid,
                                int64_t now_ms, int *claimed, struct vmig_err *err);
    /* Heartbeat of the owner; returns the cancel request flag. */
    enum vmig_code (*job_heartbeat)(struct vmig_store *s, const char *id, int64_t now_ms,
                                    int *cancel_requested, struct vmig_err *err);
    /* Set the final (or requeued) status; error NULL = none. */
    enum vmig_code (*job_finish)(struct vmig_store *s, const char *id, enum vmig_job_status st,
                                 const char *error, int64_t now_ms, struct vmig_err *err);
    /* Cancel: status CANCELLED when it is still ex (CAS), else only the request flag
     * when IN_PROGRESS. *done: 1 status changed, 2 request recorded, 0 nothing. */
    enum vmig_code (*job_cancel)(struct vmig_store *s, const char *id,
                                 const struct vmig_store_expect *ex, int64_t now_ms, int *done,
                                 struct vmig_err *err);
    enum vmig_code (*job_set_plan)(struct vmig_store *s, const char *id, const char *plan_json,
                                   const char *opts_json, struct vmig_err *err);

    /* One collection row (idx = plan order). */
    /* error: the collection's error (its message, point and field are stored), NULL
     * for none. */
    enum vmig_code (*coll_status)(struct vmig_store *s, const char *id, size_t idx,
                                  enum vmig_job_status st, const struct vmig_err *error,
                                  int64_t started_ms, int64_t finished_ms, struct vmig_err *err);
    /* The checkpoint: one prepared UPDATE of the state JSON. */
    enum vmig_code (*coll_checkpoint)(struct vmig_store *s, const char *id, size_t idx,
                                      const char *state_json, struct vmig_err *err);
    enum vmig_code (*coll_progress)(struct vmig_store *s, const char *id, size_t idx,
                                    enum vmig_coll_phase phase, uint64_t total, uint64_t read,
                                    uint64_t written, uint64_t bytes, double rate,
                                    struct vmig_err *err);
    enum vmig_code (*coll_verify)(struct vmig_store *s, const char *id, size_t idx,
                                  const char *verify_json, struct vmig_err *err);
    /* A retry gave the collection another target name (the plan says it too). */
    enum vmig_code (*coll_target)(struct vmig_store *s, const char *id, size_t idx,
                                  const char *target, struct vmig_err *err);

    enum vmig_code (*log_add)(struct vmig_store *s, const char *id, int64_t ts_ms, int level,
                              const char *coll, const char *point_id, const char *msg,
                              struct vmig_err *err);
    enum vmig_code (*log_list)(struct vmig_store *s, const char *id, int64_t after_seq,
                               size_t limit, vmig_job_log_fn fn, void *ud, struct vmig_err *err);

    /* Reserve the target collection (endpoint, db, name) for job id, atomically: taken
     * when nobody holds it, when it is already id's, or when its holder is no longer
     * PENDING/IN_PROGRESS (ending a job releases its reservations). holder = the job
     * that holds it afterwards: id itself when taken. */
    enum vmig_code (*target_reserve)(struct vmig_store *s, const char *id, const char *endpoint,
                                     const char *db, const char *name, int64_t now_ms,
                                     char holder[VMIG_JOB_ID_MAX], struct vmig_err *err);
    /* The job that last reserved the target collection, whatever its state ("" = none). */
    enum vmig_code (*target_holder)(struct vmig_store *s, const char *endpoint, const char *db,
                                    const char *name, char holder[VMIG_JOB_ID_MAX],
                                    struct vmig_err *err);
    /* range tasks (above) */
    /* Add a PENDING task unless (job, coll, idx) exists (then nothing changes). */
    enum vmig_code (*task_add)(struct vmig_store *s, const char *job_id, size_t coll, int idx,
                               enum vmig_task_kind kind, const char *state_json,
                               struct vmig_err *err);
    /* Claim one task (job_id NULL = of any job; else of that job only), oldest job
     * first, then by collection, SETUP before RANGE before FINISH, then idx: status
     * IN_PROGRESS, owner, lease until now + lease_ms, token + 1, attempts + 1
     * (reclaims + 1 when its lease had expired), started_ms if unset; the job's
     * heartbeat_ms = now. *got = 0 when none is claimable; else *out is the task as
     * claimed (release it). Two concurrent claims never get the same task
     * (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time). */
    enum vmig_code (*task_claim)(struct vmig_store *s, const char *job_id, const char *owner,
                                 int64_t now_ms, int64_t lease_ms, struct vmig_store_task *out,
                                 int *got, struct vmig_err *err);
    /* Extend the lease to now + lease_ms and the job's heartbeat_ms to now. *held = 0
     * when k->token no longer holds it (nothing written). *stop = 1 when the job has a
     * cancel request or is no longer IN_PROGRESS. */
    enum vmig_code (*task_heartbeat)(struct vmig_store *s, const struct vmig_store_task_key *k,
                                     int64_t now_ms, int64_t lease_ms, int *held, int *stop,
                                     struct vmig_err *err);
    /* The task's checkpoint state (fenced like the heartbeat). */
    enum vmig_code (*task_checkpoint)(struct vmig_store *s, const struct vmig_store_task_key *k,
                                      const char *state_json, int *held, struct vmig_err *err);
    /* The task's progress counters (fenced). */
    enum vmig_code (*task_progress)(struct vmig_store *s, const struct vmig_store_task_key *k,
                                    uint64_t read, uint64_t written, uint64_t bytes, double rate,
                                    int *held, struct vmig_err *err);
    /* End the claim (fenced): st SUCCESSFUL or FAILED (finished_ms = now, error NULL =
     * none), or PENDING to give it back (a stopped worker; checkpoint kept). The lease
     * is cleared; the owner stays as the last holder. */
    enum vmig_code (*task_end)(struct vmig_store *s, const struct vmig_store_task_key *k,
                               enum vmig_job_status st, const char *error, int64_t now_ms,
                               int *held, struct vmig_err *err);
    /* Every task of the job (coll < 0) or of one collection, by (coll, idx): *out a
     * malloc'd array of *n (release each, then free the array). */
    enum vmig_code (*task_list)(struct vmig_store *s, const char *job_id, long coll,
                                struct vmig_store_task **out, size_t *n, struct vmig_err *err);
    /* Before a resume or retry (the job is not running): every task of the job
     * (coll < 0) or of one collection that is not SUCCESSFUL goes back to PENDING,
     * its lease and error cleared (checkpoints kept). With drop, the tasks are deleted
     * instead (a restart, a collection made anew). */
    enum vmig_code (*task_reset)(struct vmig_store *s, const char *job_id, long coll, int drop,
                                 struct vmig_err *err);
};

/* Every store starts with this; the implementation's struct embeds it first. */
struct vmig_store {
    const struct vmig_store_vt *vt;
};

/* SQLite store (store/sqlite.c). path must not be NULL. */
enum vmig_code vmig_store_sqlite_open(const char *path, struct vmig_store **out,
                                      struct vmig_err *err);

/* PostgreSQL store (store/postgres*.c): url is postgres:// or postgresql://, refused
 * when it carries a password (PGPASSWORD, ~/.pgpass or a service file give it). */
enum vmig_code vmig_store_pg_open(const char *url, struct vmig_store **out, struct vmig_err *err);

/* ---- secrets (store/secrets.c) ---------------------------------------------------- */

/* Key file: $VMIGRATE_SECRET_KEY_FILE, else $XDG_CONFIG_HOME/vmigrate/secret.key, else
 * ~/.config/vmigrate/secret.key. -1 when no home can be found. */
int vmig_secret_key_path(char *out, size_t n);
/* Encrypt plain (NUL-terminated) with the key (created on first use, mode 0600). */
enum vmig_code vmig_secret_seal(const char *plain, struct vmig_store_blob *out,
                                struct vmig_err *err);
/* Decrypt; *plain malloc'd, NUL-terminated. VMIG_E_AUTH when the key does not open it. */
enum vmig_code vmig_secret_open(const struct vmig_store_blob *in, char **plain,
                                struct vmig_err *err);
void vmig_store_blob_release(struct vmig_store_blob *b);

#endif

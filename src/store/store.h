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
};

/* Every store starts with this; the implementation's struct embeds it first. */
struct vmig_store {
    const struct vmig_store_vt *vt;
};

/* SQLite store (store/sqlite.c). path must not be NULL. */
enum vmig_code vmig_store_sqlite_open(const char *path, struct vmig_store **out,
                                      struct vmig_err *err);

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

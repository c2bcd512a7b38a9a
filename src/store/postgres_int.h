/*
 * postgres_int.h - what the parts of the PostgreSQL job store share: the handle (one
 * libpq connection guarded by a mutex), the statement slots prepared once per
 * connection, the parameter builder and the execute / reconnect helpers
 * (store/postgres_conn.c). The job, log and reservation operations and the vtable live
 * in store/postgres.c, the per-collection writes in postgres_colls.c, the range tasks in
 * postgres_tasks.c. Private to store/.
 */
#ifndef VMIG_STORE_POSTGRES_INT_H
#define VMIG_STORE_POSTGRES_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>

#include "store/store.h"

/* Statement slots: each is prepared on a connection the first time it runs there
 * (named "vq<slot>"), again after a reconnect. */
enum {
    PQ_INSERT_JOB,
    PQ_INSERT_COLL,
    PQ_JOB_SAME,
    PQ_GET_JOB,
    PQ_GET_COLLS,
    PQ_IDS,
    PQ_IDS_STATUS,
    PQ_IDS_OLDEST,
    PQ_IDS_STATUS_OLDEST,
    PQ_SECRETS,
    PQ_CLAIM,
    PQ_HEARTBEAT,
    PQ_FINISH,
    PQ_CANCEL_CAS,
    PQ_CANCEL_REQ,
    PQ_SET_PLAN,
    PQ_COLL_STATUS,
    PQ_COLL_CHECKPOINT,
    PQ_COLL_PROGRESS,
    PQ_COLL_VERIFY,
    PQ_COLL_TARGET,
    PQ_LOG_ADD,
    PQ_LOG_LIST,
    PQ_LEASE_TAKE,
    PQ_LEASE_HOLDER,
    PQ_TASK_ADD,
    PQ_TASK_CLAIM,
    PQ_TASK_HEARTBEAT,
    PQ_TASK_CHECKPOINT,
    PQ_TASK_PROGRESS,
    PQ_TASK_END,
    PQ_TASK_LIST,
    PQ_TASK_LIST_COLL,
    PQ_TASK_RESET,
    PQ_TASK_DROP,
    PQ_COUNT
};

/* The database server's clock in ms: leases compare on it, never on a worker's. */
#define PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

struct pg_store {
    struct vmig_store base; /* first */
    PGconn *conn;
    pthread_mutex_t mu;
    unsigned char prepared[PQ_COUNT]; /* on this connection; cleared by a reconnect */
    int version;
    int lost;        /* the last failure was the connection (server restart, network) */
    char where[300]; /* "host:port/db" for messages: never a password */
};

#define PS(s) ((struct pg_store *)(void *)(s))

/* Parameters of one statement, all text except BYTEA (binary); NULL = SQL NULL. */
#define PG_PARAMS_MAX 20
struct pg_params {
    int n;
    const char *v[PG_PARAMS_MAX];
    int len[PG_PARAMS_MAX];
    int fmt[PG_PARAMS_MAX];
    char num[PG_PARAMS_MAX][32];
};
void pg_p_text(struct pg_params *p, const char *v);
void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_f64(struct pg_params *p, double v);
void pg_p_blob(struct pg_params *p, const unsigned char *b, size_t len); /* len 0 = NULL */

/* Lock the handle; reconnect first when the connection was found dead before. */
void pg_lock(struct pg_store *s);
void pg_unlock(struct pg_store *s);

/* Run slot (sql) with p. *res (may be NULL: cleared here) holds the result on VMIG_OK.
 * On failure err says "job store: cannot <what>: <server message>" and the code is
 * VMIG_E_EXISTS for a unique violation (23505), else VMIG_E_IO; s->lost tells whether
 * the connection was lost. binary: results in binary format (BYTEA columns). */
enum vmig_code pg_exec(struct pg_store *s, int slot, const char *sql, const struct pg_params *p,
                       int binary, PGresult **res, struct vmig_err *err, const char *what);
/* A parameterless command (BEGIN, COMMIT, ROLLBACK). */
enum vmig_code pg_cmd(struct pg_store *s, const char *sql, struct vmig_err *err, const char *what);
/* After a failed call: when the connection was lost and this is the first retry,
 * reconnect (PQreset) and answer 1: run the whole call again, once. */
int pg_retry(struct pg_store *s, int *attempt);

/* One statement as a whole call: lock, pg_exec, once more after a reconnect, unlock.
 * The result is the caller's, read without the lock. */
enum vmig_code pg_run(struct pg_store *s, int slot, const char *sql, const struct pg_params *p,
                      int binary, PGresult **res, struct vmig_err *err, const char *what);

/* Rows changed by a command. */
int pg_changed(const PGresult *r);
/* Column helpers: NULL reads as 0 / NULL / "". */
int64_t pg_i64(const PGresult *r, int row, int col);
double pg_f64(const PGresult *r, int row, int col);
char *pg_dup(const PGresult *r, int row, int col);
void pg_copy(const PGresult *r, int row, int col, char *out, size_t n);

/* The operations (store/postgres.c) and the close that frees the handle. */
extern const struct vmig_store_vt pg_vt;
void pg_free(struct vmig_store *st);

/* per-collection writes (store/postgres_colls.c) */
enum vmig_code pg_coll_status(struct vmig_store *s, const char *id, size_t idx,
                              enum vmig_job_status st, const struct vmig_err *error,
                              int64_t started_ms, int64_t finished_ms, struct vmig_err *err);
enum vmig_code pg_coll_checkpoint(struct vmig_store *s, const char *id, size_t idx,
                                  const char *state_json, struct vmig_err *err);
enum vmig_code pg_coll_progress(struct vmig_store *s, const char *id, size_t idx,
                                enum vmig_coll_phase phase, uint64_t total, uint64_t read,
                                uint64_t written, uint64_t bytes, double rate,
                                struct vmig_err *err);
enum vmig_code pg_coll_verify(struct vmig_store *s, const char *id, size_t idx,
                              const char *verify_json, struct vmig_err *err);
enum vmig_code pg_coll_target(struct vmig_store *s, const char *id, size_t idx, const char *target,
                              struct vmig_err *err);

/* range tasks (store/postgres_tasks.c) */
enum vmig_code pg_task_add(struct vmig_store *s, const char *job_id, size_t coll, int idx,
                           enum vmig_task_kind kind, const char *state_json, struct vmig_err *err);
enum vmig_code pg_task_claim(struct vmig_store *s, const char *job_id, const char *owner,
                             int64_t now_ms, int64_t lease_ms, struct vmig_store_task *out,
                             int *got, struct vmig_err *err);
enum vmig_code pg_task_heartbeat(struct vmig_store *s, const struct vmig_store_task_key *k,
                                 int64_t now_ms, int64_t lease_ms, int *held, int *stop,
                                 struct vmig_err *err);
enum vmig_code pg_task_checkpoint(struct vmig_store *s, const struct vmig_store_task_key *k,
                                  const char *state_json, int *held, struct vmig_err *err);
enum vmig_code pg_task_progress(struct vmig_store *s, const struct vmig_store_task_key *k,
                                uint64_t read, uint64_t written, uint64_t bytes, double rate,
                                int *held, struct vmig_err *err);
enum vmig_code pg_task_end(struct vmig_store *s, const struct vmig_store_task_key *k,
                           enum vmig_job_status st, const char *error, int64_t now_ms, int *held,
                           struct vmig_err *err);
enum vmig_code pg_task_list(struct vmig_store *s, const char *job_id, long coll,
                            struct vmig_store_task **out, size_t *n, struct vmig_err *err);
enum vmig_code pg_task_reset(struct vmig_store *s, const char *job_id, long coll, int drop,
                             struct vmig_err *err);

#endif

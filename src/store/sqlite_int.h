/*
 * sqlite_int.h - what the SQLite job store's files share: the handle (one connection
 * guarded by a mutex, statements prepared once and cached) and its small helpers.
 * sqlite.c holds jobs, collections, the log and target reservations; sqlite_tasks.c
 * the range tasks (store.h).
 */
#ifndef VMIG_STORE_SQLITE_INT_H
#define VMIG_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

#define VMIG_SQ_Q 32      /* cached statements of sqlite.c (at least its Q_COUNT) */
#define VMIG_SQ_TASK_Q 12 /* cached statements of sqlite_tasks.c */

struct sqlite_store {
    struct vmig_store base; /* first */
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *q[VMIG_SQ_Q];
    sqlite3_stmt *tq[VMIG_SQ_TASK_Q];
    int version;
};

#define SS(s) ((struct sqlite_store *)(void *)(s))

/* "job store: cannot <what>: <SQLite's message>", VMIG_E_IO. */
enum vmig_code vmig_sq_db_err(struct sqlite_store *s, struct vmig_err *err, const char *what);
/* The statement cached in *slot (prepared from sql on first use), reset and unbound.
 * Caller holds s->mu. NULL (err set) when it cannot be prepared. */
sqlite3_stmt *vmig_sq_stmt(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql,
                           struct vmig_err *err);
void vmig_sq_bind_text(sqlite3_stmt *q, int i, const char *v); /* NULL binds NULL */
char *vmig_sq_col_dup(sqlite3_stmt *q, int i);                 /* malloc'd or NULL */
void vmig_sq_col_copy(sqlite3_stmt *q, int i, char *out, size_t n);
/* Run a statement that returns no rows; VMIG_E_EXISTS on a taken key. Caller holds
 * s->mu. */
enum vmig_code vmig_sq_step_done(struct sqlite_store *s, sqlite3_stmt *q, struct vmig_err *err,
                                 const char *what);

/* sqlite_tasks.c: the task operations, for sqlite.c's vtable. */
enum vmig_code vmig_sq_task_add(struct vmig_store *s, const char *job_id, size_t coll, int idx,
                                enum vmig_task_kind kind, const char *state_json,
                                struct vmig_err *err);
enum vmig_code vmig_sq_task_claim(struct vmig_store *s, const char *job_id, const char *owner,
                                  int64_t now_ms, int64_t lease_ms, struct vmig_store_task *out,
                                  int *got, struct vmig_err *err);
enum vmig_code vmig_sq_task_heartbeat(struct vmig_store *s, const struct vmig_store_task_key *k,
                                      int64_t now_ms, int64_t lease_ms, int *held, int *stop,
                                      struct vmig_err *err);
enum vmig_code vmig_sq_task_checkpoint(struct vmig_store *s, const struct vmig_store_task_key *k,
                                       const char *state_json, int *held, struct vmig_err *err);
enum vmig_code vmig_sq_task_progress(struct vmig_store *s, const struct vmig_store_task_key *k,
                                     uint64_t read, uint64_t written, uint64_t bytes, double rate,
                                     int *held, struct vmig_err *err);
enum vmig_code vmig_sq_task_end(struct vmig_store *s, const struct vmig_store_task_key *k,
                                enum vmig_job_status st, const char *error, int64_t now_ms,
                                int *held, struct vmig_err *err);
enum vmig_code vmig_sq_task_list(struct vmig_store *s, const char *job_id, long coll,
                                 struct vmig_store_task **out, size_t *n, struct vmig_err *err);
enum vmig_code vmig_sq_task_reset(struct vmig_store *s, const char *job_id, long coll, int drop,
                                  struct vmig_err *err);

#define VMIG_SQ_TASK_OPS                                                                           \
    .task_add = vmig_sq_task_add, .task_claim = vmig_sq_task_claim,                                \
    .task_heartbeat = vmig_sq_task_heartbeat, .task_checkpoint = vmig_sq_task_checkpoint,          \
    .task_progress = vmig_sq_task_progress, .task_end = vmig_sq_task_end,                          \
    .task_list = vmig_sq_task_list, .task_reset = vmig_sq_task_reset

#endif

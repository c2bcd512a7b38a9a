/*
 * sqlite_tasks.c - the range tasks of the SQLite job store (store.h): added by a
 * collection's setup, claimed with a lease and a fencing token, checkpointed and
 * ended under that token. A claim is one UPDATE ... WHERE rowid = (SELECT ...)
 * RETURNING in a write transaction: SQLite has one writer at a time, so two
 * processes sharing the file never claim the same task. Leases compare on now_ms
 * (one machine's clock: SQLite is the one-machine store).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/alloc.h"

enum {
    T_ADD,
    T_CLAIM,
    T_JOB_HB,
    T_HB,
    T_STOP,
    T_CKPT,
    T_PROG,
    T_END,
    T_LIST,
    T_RESET,
    T_DROP,
    T_N
};
_Static_assert(T_N <= VMIG_SQ_TASK_Q, "sqlite_int.h: VMIG_SQ_TASK_Q below T_N");

#define COLS                                                                                       \
    "job_id, coll, idx, kind, status, owner, lease_until_ms, token, attempts, reclaims, read,"     \
    " written, bytes, rate, started_ms, finished_ms, state, error"
#define FENCE                                                                                      \
    " WHERE job_id = ?1 AND coll = ?2 AND idx = ?3 AND token = ?4 AND status = 'IN_PROGRESS'"

static const char *const tsql[T_N] = {
    [T_ADD] = "INSERT INTO job_tasks (job_id, coll, idx, kind, state) VALUES (?1, ?2, ?3, ?4, ?5)"
              " ON CONFLICT (job_id, coll, idx) DO NOTHING",
    /* a PENDING task, or one whose lease expired, of a running job without a cancel
     * request; a range after its collection's setup, the finish after every range */
    [T_CLAIM] =
        "UPDATE job_tasks SET status = 'IN_PROGRESS', owner = ?1, lease_until_ms = ?2 + ?3,"
        " token = token + 1, attempts = attempts + 1,"
        " reclaims = reclaims + CASE WHEN status = 'IN_PROGRESS' THEN 1 ELSE 0 END,"
        " started_ms = COALESCE(started_ms, ?2), finished_ms = NULL, error = NULL"
        " WHERE rowid = (SELECT t.rowid FROM job_tasks t JOIN jobs j ON j.id = t.job_id"
        " WHERE j.status = 'IN_PROGRESS' AND j.cancel_requested = 0"
        " AND (?4 IS NULL OR t.job_id = ?4)"
        " AND (t.status = 'PENDING' OR (t.status = 'IN_PROGRESS' AND t.lease_until_ms < ?2))"
        " AND (t.kind <> 'range' OR EXISTS (SELECT 1 FROM job_tasks s WHERE s.job_id = t.job_id"
        " AND s.coll = t.coll AND s.kind = 'setup' AND s.status = 'SUCCESSFUL'))"
        " AND (t.kind <> 'finish' OR NOT EXISTS (SELECT 1 FROM job_tasks r WHERE"
        " r.job_id = t.job_id AND r.coll = t.coll AND r.kind <> 'finish'"
        " AND r.status <> 'SUCCESSFUL'))"
        " ORDER BY j.created_ms, j.id, t.coll, t.idx LIMIT 1) RETURNING " COLS,
    [T_JOB_HB] = "UPDATE jobs SET heartbeat_ms = ?2 WHERE id = ?1",
    [T_HB] = "UPDATE job_tasks SET lease_until_ms = ?5" FENCE,
    [T_STOP] = "SELECT cancel_requested, status FROM jobs WHERE id = ?1",
    [T_CKPT] = "UPDATE job_tasks SET state = ?5" FENCE,
    [T_PROG] = "UPDATE job_tasks SET read = ?5, written = ?6, bytes = ?7, rate = ?8" FENCE,
    [T_END] = "UPDATE job_tasks SET status = ?5, error = ?6, finished_ms = ?7,"
              " lease_until_ms = NULL" FENCE,
    [T_LIST] = "SELECT " COLS " FROM job_tasks WHERE job_id = ?1 AND (?2 < 0 OR coll = ?2)"
               " ORDER BY coll, idx",
    [T_RESET] = "UPDATE job_tasks SET status = 'PENDING', lease_until_ms = NULL, error = NULL,"
                " finished_ms = NULL WHERE job_id = ?1 AND (?2 < 0 OR coll = ?2)"
                " AND status <> 'SUCCESSFUL'",
    [T_DROP] = "DELETE FROM job_tasks WHERE job_id = ?1 AND (?2 < 0 OR coll = ?2)",
};

static sqlite3_stmt *tstmt(struct sqlite_store *s, int k, struct vmig_err *err)
{
    return vmig_sq_stmt(s, &s->tq[k], tsql[k], err);
}

static enum vmig_task_kind kind_of(const unsigned char *t)
{
    if (t && !strcmp((const char *)t, "setup")) return VMIG_TASK_SETUP;
    if (t && !strcmp((const char *)t, "finish")) return VMIG_TASK_FINISH;
    return VMIG_TASK_RANGE;
}

/* One row of COLS into t. */
static void read_task(sqlite3_stmt *q, struct vmig_store_task *t)
{
    memset(t, 0, sizeof *t);
    vmig_sq_col_copy(q, 0, t->job_id, sizeof t->job_id);
    t->coll = (size_t)sqlite3_column_int64(q, 1);
    t->idx = sqlite3_column_int(q, 2);
    t->kind = kind_of(sqlite3_column_text(q, 3));
    const unsigned char *st = sqlite3_column_text(q, 4);
    if (!st || vmig_job_status_parse((const char *)st, &t->status)) t->status = VMIG_JOB_PENDING;
    vmig_sq_col_copy(q, 5, t->owner, sizeof t->owner);
    t->lease_until_ms = sqlite3_column_int64(q, 6);
    t->token = sqlite3_column_int64(q, 7);
    t->attempts = sqlite3_column_int(q, 8);
    t->reclaims = sqlite3_column_int(q, 9);
    t->read = (uint64_t)sqlite3_column_int64(q, 10);
    t->written = (uint64_t)sqlite3_column_int64(q, 11);
    t->bytes = (uint64_t)sqlite3_column_int64(q, 12);
    t->rate = sqlite3_column_double(q, 13);
    t->started_ms = sqlite3_column_int64(q, 14);
    t->finished_ms = sqlite3_column_int64(q, 15);
    t->state_json = vmig_sq_col_dup(q, 16);
    vmig_sq_col_copy(q, 17, t->error, sizeof t->error);
}

static void bind_key(sqlite3_stmt *q, const struct vmig_store_task_key *k)
{
    vmig_sq_bind_text(q, 1, k->job_id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)k->coll);
    sqlite3_bind_int(q, 3, k->idx);
    sqlite3_bind_int64(q, 4, k->token);
}

enum vmig_code vmig_sq_task_add(struct vmig_store *st, const char *job_id, size_t coll, int idx,
                                enum vmig_task_kind kind, const char *state_json,
                                struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_ADD, err);
    if (q) {
        vmig_sq_bind_text(q, 1, job_id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)coll);
        sqlite3_bind_int(q, 3, idx);
        vmig_sq_bind_text(q, 4, vmig_task_kind_name(kind));
        vmig_sq_bind_text(q, 5, state_json);
        rc = vmig_sq_step_done(s, q, err, "add a task");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_claim(struct vmig_store *st, const char *job_id, const char *owner,
                                  int64_t now_ms, int64_t lease_ms, struct vmig_store_task *out,
                                  int *got, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    *got = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "begin a transaction");
        goto out;
    }
    sqlite3_stmt *q = tstmt(s, T_CLAIM, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto rollback;
    }
    vmig_sq_bind_text(q, 1, owner);
    sqlite3_bind_int64(q, 2, now_ms);
    sqlite3_bind_int64(q, 3, lease_ms);
    vmig_sq_bind_text(q, 4, job_id);
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        read_task(q, out);
        *got = 1;
        r = sqlite3_step(q);
    }
    sqlite3_reset(q);
    if (r != SQLITE_DONE) {
        rc = vmig_sq_db_err(s, err, "claim a task");
        goto rollback;
    }
    if (*got) {
        q = tstmt(s, T_JOB_HB, err);
        if (!q) {
            rc = VMIG_E_IO;
            goto rollback;
        }
        vmig_sq_bind_text(q, 1, out->job_id);
        sqlite3_bind_int64(q, 2, now_ms);
        if ((rc = vmig_sq_step_done(s, q, err, "write a heartbeat"))) goto rollback;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "commit a task claim");
        goto rollback;
    }
    goto out;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (*got) vmig_store_task_release(out);
    *got = 0;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* One fenced UPDATE: bind the key, then the caller's values from ?5 on. */
static enum vmig_code fenced(struct sqlite_store *s, sqlite3_stmt *q, int *held,
                             struct vmig_err *err, const char *what)
{
    enum vmig_code rc = vmig_sq_step_done(s, q, err, what);
    *held = !rc && sqlite3_changes(s->db) == 1;
    return rc;
}

enum vmig_code vmig_sq_task_heartbeat(struct vmig_store *st, const struct vmig_store_task_key *k,
                                      int64_t now_ms, int64_t lease_ms, int *held, int *stop,
                                      struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    *held = 0;
    *stop = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_HB, err);
    if (!q) goto out;
    bind_key(q, k);
    sqlite3_bind_int64(q, 5, now_ms + lease_ms);
    if ((rc = fenced(s, q, held, err, "renew a task lease"))) goto out;
    if (!*held) goto out;
    if (!(q = tstmt(s, T_JOB_HB, err))) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, k->job_id);
    sqlite3_bind_int64(q, 2, now_ms);
    if ((rc = vmig_sq_step_done(s, q, err, "write a heartbeat"))) goto out;
    if (!(q = tstmt(s, T_STOP, err))) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, k->job_id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char *js = sqlite3_column_text(q, 1);
        *stop = sqlite3_column_int(q, 0) != 0 || !js || strcmp((const char *)js, "IN_PROGRESS");
    } else
        *stop = 1; /* the job is gone */
    sqlite3_reset(q);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_checkpoint(struct vmig_store *st, const struct vmig_store_task_key *k,
                                       const char *state_json, int *held, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    *held = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_CKPT, err);
    if (q) {
        bind_key(q, k);
        vmig_sq_bind_text(q, 5, state_json);
        rc = fenced(s, q, held, err, "write a task checkpoint");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_progress(struct vmig_store *st, const struct vmig_store_task_key *k,
                                     uint64_t read, uint64_t written, uint64_t bytes, double rate,
                                     int *held, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    *held = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_PROG, err);
    if (q) {
        bind_key(q, k);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)read);
        sqlite3_bind_int64(q, 6, (sqlite3_int64)written);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)bytes);
        sqlite3_bind_double(q, 8, rate);
        rc = fenced(s, q, held, err, "write a task's progress");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_end(struct vmig_store *st, const struct vmig_store_task_key *k,
                                enum vmig_job_status jst, const char *error, int64_t now_ms,
                                int *held, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    *held = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_END, err);
    if (q) {
        bind_key(q, k);
        vmig_sq_bind_text(q, 5, vmig_job_status_name(jst));
        vmig_sq_bind_text(q, 6, error && *error ? error : NULL);
        if (jst == VMIG_JOB_PENDING)
            sqlite3_bind_null(q, 7);
        else
            sqlite3_bind_int64(q, 7, now_ms);
        rc = fenced(s, q, held, err, "end a task");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_list(struct vmig_store *st, const char *job_id, long coll,
                                 struct vmig_store_task **out, size_t *n, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, T_LIST, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, job_id);
    sqlite3_bind_int64(q, 2, coll);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        read_task(q, &(*out)[(*n)++]);
    }
    sqlite3_reset(q);
    if (r != SQLITE_DONE) rc = vmig_sq_db_err(s, err, "list a job's tasks");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

enum vmig_code vmig_sq_task_reset(struct vmig_store *st, const char *job_id, long coll, int drop,
                                  struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_E_IO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = tstmt(s, drop ? T_DROP : T_RESET, err);
    if (q) {
        vmig_sq_bind_text(q, 1, job_id);
        sqlite3_bind_int64(q, 2, coll);
        rc = vmig_sq_step_done(s, q, err, drop ? "drop a job's tasks" : "reset a job's tasks");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*
 * postgres_tasks.c - the range tasks (store.h, issue 14) in the PostgreSQL job store:
 * a claim is ONE statement whose inner SELECT ... FOR UPDATE SKIP LOCKED picks the
 * first claimable task, so any number of workers on any machines claim at once and
 * never get the same task. Leases compare on the database server's clock (PG_NOW_MS),
 * never on a worker's; started/finished times and the job's heartbeat keep the
 * caller's clock like every other time of a job. Every later write is fenced by the
 * claim's token and changes nothing once the task was claimed again (*held = 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_int.h"
#include "util/alloc.h"

#define TASK_COLS                                                                                  \
    "job_id, coll, idx, kind, status, owner, lease_until_ms, token, attempts, reclaims, read,"     \
    " written, bytes, rate, started_ms, finished_ms, state, error"
#define STR(x) #x
#define XSTR(x) STR(x)
#define FENCE "job_id = $1 AND coll = $2 AND idx = $3 AND token = $4 AND status = 'IN_PROGRESS'"

/* clang-format off: the SQL reads as SQL, one clause a line */
static const char *const sql_text[PQ_COUNT] = {
    [PQ_TASK_ADD] = "INSERT INTO job_tasks (job_id, coll, idx, kind, state) VALUES ($1, $2, $3,"
                    " $4, $5) ON CONFLICT (job_id, coll, idx) DO NOTHING",
    /* $1 job (NULL = any), $2 owner, $3 lease ms, $4 the caller's now (times shown).
     * The running jobs in claim order (index jobs_running), and in each the first open
     * task by (coll, idx) (index job_tasks_open): the loop stops at the first job with
     * a claimable task, locking only that one row, so a claim costs a few index probes
     * however many tasks are done (100k tasks: 0.4 ms; one sort of them all: 850 ms) */
    [PQ_TASK_CLAIM] =
        "WITH u AS (UPDATE job_tasks SET status = 'IN_PROGRESS', owner = $2,"
        " lease_until_ms = " PG_NOW_MS " + $3::bigint, token = token + 1,"
        " attempts = attempts + 1,"
        " reclaims = reclaims + CASE WHEN status = 'IN_PROGRESS' THEN 1 ELSE 0 END,"
        " started_ms = COALESCE(started_ms, $4::bigint), finished_ms = NULL, error = NULL"
        " WHERE (job_id, coll, idx) = (SELECT c.job_id, c.coll, c.idx FROM jobs j,"
        " LATERAL (SELECT t.job_id, t.coll, t.idx FROM job_tasks t"
        " WHERE t.job_id = j.id AND t.status <> 'SUCCESSFUL'"
        " AND (t.status = 'PENDING' OR (t.status = 'IN_PROGRESS' AND t.lease_until_ms < " PG_NOW_MS
        "))"
        " AND (t.kind <> 'range' OR EXISTS (SELECT 1 FROM job_tasks s WHERE s.job_id = t.job_id"
        " AND s.coll = t.coll AND s.idx = " XSTR(
            VMIG_TASK_SETUP_IDX) " AND s.status = 'SUCCESSFUL'))"
                                 " AND (t.kind <> 'finish' OR NOT EXISTS (SELECT 1 FROM job_tasks r"
                                 " WHERE r.job_id = t.job_id AND r.coll = t.coll AND r.status <> "
                                 "'SUCCESSFUL'"
                                 " AND r.kind <> 'finish'))"
                                 " ORDER BY t.coll, t.idx LIMIT 1 FOR UPDATE OF t SKIP LOCKED) c"
                                 " WHERE j.status = 'IN_PROGRESS' AND j.cancel_requested = 0"
                                 " AND ($1::text IS NULL OR j.id = $1::text)"
                                 " ORDER BY j.created_ms, j.id LIMIT 1)"
                                 " RETURNING " TASK_COLS "),"
                                 " h AS (UPDATE jobs SET heartbeat_ms = $4::bigint WHERE id IN "
                                 "(SELECT job_id FROM u))"
                                 " SELECT " TASK_COLS " FROM u",
    [PQ_TASK_HEARTBEAT] =
        "WITH t AS (UPDATE job_tasks SET lease_until_ms = " PG_NOW_MS " + $5::bigint"
        " WHERE " FENCE " RETURNING job_id),"
        " j AS (UPDATE jobs SET heartbeat_ms = $6::bigint WHERE id IN (SELECT job_id FROM t)"
        " RETURNING status, cancel_requested)"
        " SELECT status, cancel_requested FROM j",
    [PQ_TASK_CHECKPOINT] = "UPDATE job_tasks SET state = $5 WHERE " FENCE,
    [PQ_TASK_PROGRESS] = "UPDATE job_tasks SET read = $5, written = $6, bytes = $7, rate = $8"
                         " WHERE " FENCE,
    /* $5 status, $6 error, $7 finished_ms (NULL when given back) */
    [PQ_TASK_END] = "UPDATE job_tasks SET status = $5, error = $6, finished_ms = $7::bigint,"
                    " lease_until_ms = NULL WHERE " FENCE,
    [PQ_TASK_LIST] = "SELECT " TASK_COLS " FROM job_tasks WHERE job_id = $1 ORDER BY coll, idx",
    [PQ_TASK_LIST_COLL] = "SELECT " TASK_COLS " FROM job_tasks WHERE job_id = $1 AND coll = $2"
                          " ORDER BY coll, idx",
    [PQ_TASK_RESET] = "UPDATE job_tasks SET status = 'PENDING', lease_until_ms = NULL,"
                      " error = NULL, finished_ms = NULL WHERE job_id = $1"
                      " AND ($2::bigint < 0 OR coll = $2::bigint) AND status <> 'SUCCESSFUL'",
    [PQ_TASK_DROP] = "DELETE FROM job_tasks WHERE job_id = $1 AND ($2::bigint < 0 OR coll ="
                     " $2::bigint)",
};
/* clang-format on */

#define RUN(s, k, p, res, err, what) pg_run(PS(s), k, sql_text[k], p, 0, res, err, what)

static enum vmig_task_kind kind_of(const char *t)
{
    if (!strcmp(t, "setup")) return VMIG_TASK_SETUP;
    if (!strcmp(t, "finish")) return VMIG_TASK_FINISH;
    return VMIG_TASK_RANGE;
}

static void task_row(const PGresult *r, int i, struct vmig_store_task *t)
{
    memset(t, 0, sizeof *t);
    pg_copy(r, i, 0, t->job_id, sizeof t->job_id);
    t->coll = (size_t)pg_i64(r, i, 1);
    t->idx = (int)pg_i64(r, i, 2);
    t->kind = kind_of(PQgetvalue(r, i, 3));
    t->status = VMIG_JOB_PENDING;
    vmig_job_status_parse(PQgetvalue(r, i, 4), &t->status);
    pg_copy(r, i, 5, t->owner, sizeof t->owner);
    t->lease_until_ms = pg_i64(r, i, 6);
    t->token = pg_i64(r, i, 7);
    t->attempts = (int)pg_i64(r, i, 8);
    t->reclaims = (int)pg_i64(r, i, 9);
    t->read = (uint64_t)pg_i64(r, i, 10);
    t->written = (uint64_t)pg_i64(r, i, 11);
    t->bytes = (uint64_t)pg_i64(r, i, 12);
    t->rate = pg_f64(r, i, 13);
    t->started_ms = pg_i64(r, i, 14);
    t->finished_ms = pg_i64(r, i, 15);
    t->state_json = pg_dup(r, i, 16);
    pg_copy(r, i, 17, t->error, sizeof t->error);
}

enum vmig_code pg_task_add(struct vmig_store *s, const char *job_id, size_t coll, int idx,
                           enum vmig_task_kind kind, const char *state_json, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, job_id);
    pg_p_i64(&p, (int64_t)coll);
    pg_p_i64(&p, idx);
    pg_p_text(&p, vmig_task_kind_name(kind));
    pg_p_text(&p, state_json);
    return RUN(s, PQ_TASK_ADD, &p, NULL, err, "add a task");
}

enum vmig_code pg_task_claim(struct vmig_store *s, const char *job_id, const char *owner,
                             int64_t now_ms, int64_t lease_ms, struct vmig_store_task *out,
                             int *got, struct vmig_err *err)
{
    struct pg_params p = {0};
    *got = 0;
    pg_p_text(&p, job_id);
    pg_p_text(&p, owner ? owner : "");
    pg_p_i64(&p, lease_ms);
    pg_p_i64(&p, now_ms);
    PGresult *r = NULL;
    enum vmig_code rc = RUN(s, PQ_TASK_CLAIM, &p, &r, err, "claim a task");
    if (!rc && PQntuples(r) == 1) {
        task_row(r, 0, out);
        *got = 1;
    }
    PQclear(r);
    return rc;
}

static void fence(struct pg_params *p, const struct vmig_store_task_key *k)
{
    pg_p_text(p, k->job_id);
    pg_p_i64(p, (int64_t)k->coll);
    pg_p_i64(p, k->idx);
    pg_p_i64(p, k->token);
}

/* A fenced write: *held = whether the claim still held (a row changed). */
static enum vmig_code fenced(struct vmig_store *s, int k, const struct pg_params *p, int *held,
                             struct vmig_err *err, const char *what)
{
    PGresult *r = NULL;
    *held = 0;
    enum vmig_code rc = RUN(s, k, p, &r, err, what);
    if (!rc) *held = pg_changed(r) == 1;
    PQclear(r);
    return rc;
}

enum vmig_code pg_task_heartbeat(struct vmig_store *s, const struct vmig_store_task_key *k,
                                 int64_t now_ms, int64_t lease_ms, int *held, int *stop,
                                 struct vmig_err *err)
{
    struct pg_params p = {0};
    fence(&p, k);
    pg_p_i64(&p, lease_ms);
    pg_p_i64(&p, now_ms);
    PGresult *r = NULL;
    *held = *stop = 0;
    enum vmig_code rc = RUN(s, PQ_TASK_HEARTBEAT, &p, &r, err, "extend a task's lease");
    if (!rc && PQntuples(r) == 1) {
        *held = 1;
        *stop = strcmp(PQgetvalue(r, 0, 0), "IN_PROGRESS") != 0 || pg_i64(r, 0, 1) != 0;
    }
    PQclear(r);
    return rc;
}

enum vmig_code pg_task_checkpoint(struct vmig_store *s, const struct vmig_store_task_key *k,
                                  const char *state_json, int *held, struct vmig_err *err)
{
    struct pg_params p = {0};
    fence(&p, k);
    pg_p_text(&p, state_json);
    return fenced(s, PQ_TASK_CHECKPOINT, &p, held, err, "save a task checkpoint");
}

enum vmig_code pg_task_progress(struct vmig_store *s, const struct vmig_store_task_key *k,
                                uint64_t read, uint64_t written, uint64_t bytes, double rate,
                                int *held, struct vmig_err *err)
{
    struct pg_params p = {0};
    fence(&p, k);
    pg_p_i64(&p, (int64_t)read);
    pg_p_i64(&p, (int64_t)written);
    pg_p_i64(&p, (int64_t)bytes);
    pg_p_f64(&p, rate);
    return fenced(s, PQ_TASK_PROGRESS, &p, held, err, "save a task's progress");
}

enum vmig_code pg_task_end(struct vmig_store *s, const struct vmig_store_task_key *k,
                           enum vmig_job_status st, const char *error, int64_t now_ms, int *held,
                           struct vmig_err *err)
{
    struct pg_params p = {0};
    fence(&p, k);
    pg_p_text(&p, vmig_job_status_name(st));
    pg_p_text(&p, error && *error ? error : NULL);
    if (st == VMIG_JOB_SUCCESSFUL || st == VMIG_JOB_FAILED)
        pg_p_i64(&p, now_ms);
    else
        pg_p_text(&p, NULL);
    return fenced(s, PQ_TASK_END, &p, held, err, "end a task");
}

enum vmig_code pg_task_list(struct vmig_store *s, const char *job_id, long coll,
                            struct vmig_store_task **out, size_t *n, struct vmig_err *err)
{
    struct pg_params p = {0};
    *out = NULL;
    *n = 0;
    pg_p_text(&p, job_id);
    if (coll >= 0) pg_p_i64(&p, coll);
    PGresult *r = NULL;
    enum vmig_code rc =
        RUN(s, coll >= 0 ? PQ_TASK_LIST_COLL : PQ_TASK_LIST, &p, &r, err, "list tasks");
    if (rc) return rc;
    int rows = PQntuples(r);
    if (rows) *out = xcalloc((size_t)rows, sizeof **out);
    for (int i = 0; i < rows; i++)
        task_row(r, i, &(*out)[i]);
    *n = (size_t)rows;
    PQclear(r);
    return VMIG_OK;
}

enum vmig_code pg_task_reset(struct vmig_store *s, const char *job_id, long coll, int drop,
                             struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, job_id);
    pg_p_i64(&p, coll);
    return RUN(s, drop ? PQ_TASK_DROP : PQ_TASK_RESET, &p, NULL, err,
               drop ? "drop tasks" : "reset tasks");
}

/*
 * postgres.c - the PostgreSQL job store (many workers on many machines share one
 * database): the job, log and target reservation operations of struct vmig_store_vt
 * with exactly the semantics of store/sqlite.c, as parameterised statements prepared
 * once per connection, and the vtable. The connection, the migrations and the
 * reconnect live in postgres_conn.c, the per-collection writes in postgres_colls.c,
 * the range tasks in postgres_tasks.c. Each operation is one statement or one short
 * transaction; a claim is a compare-and-swap UPDATE, so two processes never run the same
 * job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_int.h"
#include "util/alloc.h"
#include "vmig/plan.h"

/* A job's run time, as in sqlite.c: the run that ends (IN_PROGRESS with a claim time)
 * adds its length up to end, never negative; a died run ends at its last heartbeat. */
#define RUN_ADD(end)                                                                               \
    " run_ms = run_ms + CASE WHEN status = 'IN_PROGRESS' AND run_started_ms IS NOT NULL"           \
    " THEN GREATEST(0, " end " - run_started_ms) ELSE 0 END"
#define RUN_DIED "COALESCE(heartbeat_ms, run_started_ms)"

/* clang-format off: the SQL reads as SQL, one clause a line */
static const char *const sql_text[PQ_COUNT] = {
    [PQ_INSERT_JOB] =
        "INSERT INTO jobs (id, created_ms, status, src_url, src_ca_file, src_insecure, dst_url,"
        " dst_db, dst_ca_file, dst_insecure, timeout_ms, secrets_stored, src_secret, dst_secret,"
        " plan, options) VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13, $14, $15)",
    [PQ_INSERT_COLL] = "INSERT INTO job_colls (job_id, idx, source, target) VALUES ($1, $2, $3,"
                       " $4)",
    [PQ_JOB_SAME] = "SELECT 1 FROM jobs WHERE id = $1 AND created_ms = $2 AND plan = $3 AND"
                    " options = $4",
    [PQ_GET_JOB] =
        "SELECT status, created_ms, started_ms, finished_ms, heartbeat_ms, src_url, src_ca_file,"
        " src_insecure, dst_url, dst_db, dst_ca_file, dst_insecure, timeout_ms, secrets_stored,"
        " plan, options, owner_host, owner_pid, cancel_requested, error, run_ms, run_started_ms"
        " FROM jobs WHERE id = $1",
    [PQ_GET_COLLS] = "SELECT idx, source, target, status, phase, total, read, written, bytes,"
                     " rate, started_ms, finished_ms, state, verify, error, error_point,"
                     " error_field, error_code, error_fix, error_fix_arg"
                     " FROM job_colls WHERE job_id = $1 ORDER BY idx",
    /* seq: the insertion order, SQLite's rowid */
    [PQ_IDS] = "SELECT id FROM jobs ORDER BY created_ms DESC, seq DESC",
    [PQ_IDS_STATUS] = "SELECT id FROM jobs WHERE status = $1 ORDER BY created_ms DESC, seq DESC",
    [PQ_IDS_OLDEST] = "SELECT id FROM jobs ORDER BY created_ms, seq",
    [PQ_IDS_STATUS_OLDEST] = "SELECT id FROM jobs WHERE status = $1 ORDER BY created_ms, seq",
    [PQ_SECRETS] = "SELECT src_secret, dst_secret FROM jobs WHERE id = $1",
    [PQ_CLAIM] =
        "UPDATE jobs SET status = 'IN_PROGRESS', owner_host = $1, owner_pid = $2,"
        " heartbeat_ms = $3, started_ms = COALESCE(started_ms, $3), finished_ms = NULL," RUN_ADD(
            RUN_DIED) ", run_started_ms = $3," /* a died run, to its heartbeat */
                      " cancel_requested = 0, error = NULL WHERE id = $4 AND status = $5 AND"
                      " COALESCE(owner_pid, 0) = $6 AND COALESCE(heartbeat_ms, 0) = $7",
    [PQ_HEARTBEAT] = "UPDATE jobs SET heartbeat_ms = $2 WHERE id = $1 RETURNING cancel_requested",
    [PQ_FINISH] = "UPDATE jobs SET status = $2, error = $3, finished_ms = $4::bigint," RUN_ADD(
        "$5::bigint") ", run_started_ms = NULL, cancel_requested = 0"
                      " WHERE id = $1",
    [PQ_CANCEL_CAS] =
        "UPDATE jobs SET status = 'CANCELLED', finished_ms = $2, cancel_requested ="
        " 0," RUN_ADD(RUN_DIED) ", run_started_ms = NULL"
                                " WHERE id = $1 AND status = $3 AND COALESCE(owner_pid, 0) = $4 AND"
                                " COALESCE(heartbeat_ms, 0) = $5",
    [PQ_CANCEL_REQ] =
        "UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND status = 'IN_PROGRESS'",
    [PQ_SET_PLAN] = "UPDATE jobs SET plan = $2, options = $3 WHERE id = $1",
    /* seq is drawn under a lock of the job's log, held to the commit: a reader that
     * saw seq N never misses a later-committed line of the job with a smaller seq */
    [PQ_LOG_ADD] = "INSERT INTO job_logs (job_id, ts_ms, level, collection, point_id, message)"
                   " SELECT $1, $2, $3, $4, $5, $6"
                   " FROM (SELECT pg_advisory_xact_lock(hashtext('vmig-log:' || $1::text))) l",
    [PQ_LOG_LIST] = "SELECT seq, ts_ms, level, collection, point_id, message FROM job_logs"
                    " WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3::bigint",
    /* taken when free, or already ours: a lease is free when its job is not active */
    [PQ_LEASE_TAKE] =
        "INSERT INTO target_leases (endpoint, db, name, job_id, taken_ms)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (endpoint, db, name) DO UPDATE SET"
        " job_id = excluded.job_id, taken_ms = excluded.taken_ms"
        " WHERE target_leases.job_id = excluded.job_id OR NOT EXISTS (SELECT 1 FROM jobs"
        " WHERE jobs.id = target_leases.job_id AND jobs.status IN ('PENDING', 'IN_PROGRESS'))",
    [PQ_LEASE_HOLDER] = "SELECT job_id FROM target_leases WHERE endpoint = $1 AND db = $2 AND"
                        " name = $3",
};
/* clang-format on */

#define RUN(s, k, p, res, err, what) pg_run(s, k, sql_text[k], p, 0, res, err, what)
#define EXEC(s, k, p, res, err, what) pg_exec(s, k, sql_text[k], p, 0, res, err, what)

static int pg_schema_version(struct vmig_store *st)
{
    return PS(st)->version;
}

/* The job row and its collections, in the caller's transaction. */
static enum vmig_code insert_job(struct pg_store *s, const struct vmig_store_new_job *j,
                                 struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, j->id);
    pg_p_i64(&p, j->created_ms);
    pg_p_text(&p, j->src->url ? j->src->url : "");
    pg_p_text(&p, j->src->ca_file);
    pg_p_i64(&p, j->src->insecure);
    pg_p_text(&p, j->dst->url ? j->dst->url : "");
    pg_p_text(&p, j->dst->db);
    pg_p_text(&p, j->dst->ca_file);
    pg_p_i64(&p, j->dst->insecure);
    pg_p_i64(&p, j->src->timeout_ms);
    pg_p_i64(&p, j->secrets_stored);
    pg_p_blob(&p, j->src_secret.p, j->src_secret.len);
    pg_p_blob(&p, j->dst_secret.p, j->dst_secret.len);
    pg_p_text(&p, j->plan_json);
    pg_p_text(&p, j->opts_json);
    enum vmig_code rc = EXEC(s, PQ_INSERT_JOB, &p, NULL, err, "insert a job");
    for (size_t i = 0; !rc && i < j->ncolls; i++) {
        struct pg_params c = {0};
        pg_p_text(&c, j->id);
        pg_p_i64(&c, (int64_t)i);
        pg_p_text(&c, j->coll_source[i]);
        pg_p_text(&c, j->coll_target[i]);
        rc = EXEC(s, PQ_INSERT_COLL, &c, NULL, err, "insert a job collection");
    }
    return rc;
}

static void rollback(struct pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK) PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Is the stored job j->id the one j describes (same creation time, plan, options)? */
static int is_ours(struct pg_store *s, const struct vmig_store_new_job *j)
{
    struct pg_params p = {0};
    pg_p_text(&p, j->id);
    pg_p_i64(&p, j->created_ms);
    pg_p_text(&p, j->plan_json);
    pg_p_text(&p, j->opts_json);
    PGresult *r = NULL;
    struct vmig_err ignored;
    int ours = !EXEC(s, PQ_JOB_SAME, &p, &r, &ignored, "read a job") && PQntuples(r) == 1;
    PQclear(r);
    return ours;
}

static enum vmig_code pg_job_insert(struct vmig_store *st, const struct vmig_store_new_job *j,
                                    struct vmig_err *err)
{
    struct pg_store *s = PS(st);
    enum vmig_code rc;
    int attempt = 0;
    pg_lock(s);
    do {
        rc = pg_cmd(s, "BEGIN", err, "begin a transaction");
        if (!rc) rc = insert_job(s, j, err);
        if (!rc) rc = pg_cmd(s, "COMMIT", err, "commit a new job");
        if (rc) rollback(s);
        /* the connection died after our COMMIT reached the server: the job is there */
        if (rc == VMIG_E_EXISTS && attempt && is_ours(s, j)) rc = VMIG_OK;
    } while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    return rc;
}

static enum vmig_job_status status_of(const char *t)
{
    enum vmig_job_status st = VMIG_JOB_PENDING;
    if (t && *t) vmig_job_status_parse(t, &st);
    return st;
}

static void job_row(const PGresult *r, const char *id, struct vmig_job *out, char **plan_json,
                    char **opts_json)
{
    snprintf(out->id, sizeof out->id, "%s", id);
    out->status = status_of(PQgetvalue(r, 0, 0));
    out->created_ms = pg_i64(r, 0, 1);
    out->started_ms = pg_i64(r, 0, 2);
    out->finished_ms = pg_i64(r, 0, 3);
    out->heartbeat_ms = pg_i64(r, 0, 4);
    out->src_url = pg_dup(r, 0, 5);
    out->src_ca_file = pg_dup(r, 0, 6);
    out->src_insecure = (int)pg_i64(r, 0, 7);
    out->dst_url = pg_dup(r, 0, 8);
    out->dst_db = pg_dup(r, 0, 9);
    out->dst_ca_file = pg_dup(r, 0, 10);
    out->dst_insecure = (int)pg_i64(r, 0, 11);
    out->timeout_ms = (int)pg_i64(r, 0, 12);
    out->secrets_stored = (int)pg_i64(r, 0, 13);
    *plan_json = pg_dup(r, 0, 14);
    *opts_json = pg_dup(r, 0, 15);
    pg_copy(r, 0, 16, out->owner_host, sizeof out->owner_host);
    out->owner_pid = (int)pg_i64(r, 0, 17);
    out->cancel_requested = (int)pg_i64(r, 0, 18);
    pg_copy(r, 0, 19, out->error, sizeof out->error);
    out->run_ms = pg_i64(r, 0, 20);
    out->run_started_ms = pg_i64(r, 0, 21);
}

static void coll_rows(const PGresult *r, struct vmig_job *out, char ***state_json,
                      char ***verify_json)
{
    int n = PQntuples(r);
    if (!n) return;
    out->coll = xcalloc((size_t)n, sizeof *out->coll);
    *state_json = xcalloc((size_t)n, sizeof **state_json);
    *verify_json = xcalloc((size_t)n, sizeof **verify_json);
    for (int i = 0; i < n; i++) {
        struct vmig_job_coll *c = &out->coll[i];
        pg_copy(r, i, 1, c->source, sizeof c->source);
        pg_copy(r, i, 2, c->target, sizeof c->target);
        c->status = status_of(PQgetvalue(r, i, 3));
        c->phase = (enum vmig_coll_phase)pg_i64(r, i, 4);
        c->total = (uint64_t)pg_i64(r, i, 5);
        c->read = (uint64_t)pg_i64(r, i, 6);
        c->written = (uint64_t)pg_i64(r, i, 7);
        c->bytes = (uint64_t)pg_i64(r, i, 8);
        c->rate = pg_f64(r, i, 9);
        c->started_ms = pg_i64(r, i, 10);
        c->finished_ms = pg_i64(r, i, 11);
        (*state_json)[i] = pg_dup(r, i, 12);
        (*verify_json)[i] = pg_dup(r, i, 13);
        pg_copy(r, i, 14, c->error, sizeof c->error);
        pg_copy(r, i, 15, c->error_point, sizeof c->error_point);
        pg_copy(r, i, 16, c->error_field, sizeof c->error_field);
        const char *code = PQgetvalue(r, i, 17);
        c->error_code = *code ? vmig_code_from_json_name(code) : VMIG_OK;
        c->error_fix = vmig_fix_from_name(PQgetvalue(r, i, 18));
        pg_copy(r, i, 19, c->error_fix_arg, sizeof c->error_fix_arg);
    }
    out->ncolls = (size_t)n;
}

/* The job row and its collections from one snapshot (REPEATABLE READ). */
static enum vmig_code read_job(struct pg_store *s, const char *id, PGresult **job, PGresult **colls,
                               struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    enum vmig_code rc =
        pg_cmd(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, "begin a transaction");
    if (!rc) rc = EXEC(s, PQ_GET_JOB, &p, job, err, "read a job");
    if (!rc) rc = EXEC(s, PQ_GET_COLLS, &p, colls, err, "read job collections");
    if (!rc) rc = pg_cmd(s, "COMMIT", err, "read a job");
    if (rc) {
        rollback(s);
        PQclear(*job);
        PQclear(*colls);
        *job = *colls = NULL;
    }
    return rc;
}

static enum vmig_code pg_job_get(struct vmig_store *st, const char *id, struct vmig_job *out,
                                 char **plan_json, char **opts_json, char ***state_json,
                                 char ***verify_json, struct vmig_err *err)
{
    struct pg_store *s = PS(st);
    PGresult *job = NULL, *colls = NULL;
    enum vmig_code rc;
    int attempt = 0;
    memset(out, 0, sizeof *out);
    *plan_json = *opts_json = NULL;
    *state_json = *verify_json = NULL;
    pg_lock(s);
    do
        rc = read_job(s, id, &job, &colls, err);
    while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    if (rc) return rc;
    if (PQntuples(job) == 0) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "job '%s' not found", id);
    } else {
        job_row(job, id, out, plan_json, opts_json);
        coll_rows(colls, out, state_json, verify_json);
    }
    PQclear(job);
    PQclear(colls);
    return rc;
}

static enum vmig_code pg_job_ids(struct vmig_store *st, int status, int oldest_first,
                                 char (**ids)[VMIG_JOB_ID_MAX], size_t *n, struct vmig_err *err)
{
    struct pg_params p = {0};
    *ids = NULL;
    *n = 0;
    int k = status < 0 ? (oldest_first ? PQ_IDS_OLDEST : PQ_IDS)
                       : (oldest_first ? PQ_IDS_STATUS_OLDEST : PQ_IDS_STATUS);
    if (status >= 0) pg_p_text(&p, vmig_job_status_name((enum vmig_job_status)status));
    PGresult *r = NULL;
    enum vmig_code rc = RUN(PS(st), k, &p, &r, err, "list jobs");
    if (rc) return rc;
    int rows = PQntuples(r);
    if (rows) *ids = xcalloc((size_t)rows, sizeof **ids);
    for (int i = 0; i < rows; i++)
        pg_copy(r, i, 0, (*ids)[i], VMIG_JOB_ID_MAX);
    *n = (size_t)rows;
    PQclear(r);
    return VMIG_OK;
}

/* A BYTEA column of a binary-format result. */
static void blob_copy(const PGresult *r, int col, struct vmig_store_blob *b)
{
    int len = PQgetisnull(r, 0, col) ? 0 : PQgetlength(r, 0, col);
    if (len <= 0) return;
    b->p = xmalloc((size_t)len);
    memcpy(b->p, PQgetvalue(r, 0, col), (size_t)len);
    b->len = (size_t)len;
}

static enum vmig_code pg_job_secrets(struct vmig_store *st, const char *id,
                                     struct vmig_store_blob *src, struct vmig_store_blob *dst,
                                     struct vmig_err *err)
{
    struct pg_params p = {0};
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    pg_p_text(&p, id);
    PGresult *r = NULL;
    enum vmig_code rc =
        pg_run(PS(st), PQ_SECRETS, sql_text[PQ_SECRETS], &p, 1, &r, err, "read job secrets");
    if (rc) return rc;
    if (PQntuples(r) == 0) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "job '%s' not found", id);
    } else {
        blob_copy(r, 0, src);
        blob_copy(r, 1, dst);
    }
    PQclear(r);
    return rc;
}

static enum vmig_code pg_job_claim(struct vmig_store *st, const char *id,
                                   const struct vmig_store_expect *ex, const char *host, int pid,
                                   int64_t now_ms, int *claimed, struct vmig_err *err)
{
    struct pg_params p = {0};
    *claimed = 0;
    pg_p_text(&p, host);
    pg_p_i64(&p, pid);
    pg_p_i64(&p, now_ms);
    pg_p_text(&p, id);
    pg_p_text(&p, vmig_job_status_name(ex->status));
    pg_p_i64(&p, ex->owner_pid);
    pg_p_i64(&p, ex->heartbeat_ms);
    PGresult *r = NULL;
    enum vmig_code rc = RUN(PS(st), PQ_CLAIM, &p, &r, err, "claim a job");
    if (!rc) *claimed = pg_changed(r) == 1;
    PQclear(r);
    return rc;
}

static enum vmig_code pg_job_heartbeat(struct vmig_store *st, const char *id, int64_t now_ms,
                                       int *cancel_requested, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, now_ms);
    PGresult *r = NULL;
    enum vmig_code rc = RUN(PS(st), PQ_HEARTBEAT, &p, &r, err, "write a heartbeat");
    if (!rc && PQntuples(r) == 1) *cancel_requested = (int)pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static enum vmig_code pg_job_finish(struct vmig_store *st, const char *id, enum vmig_job_status jst,
                                    const char *error, int64_t now_ms, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_text(&p, vmig_job_status_name(jst));
    pg_p_text(&p, error && *error ? error : NULL);
    if (jst == VMIG_JOB_PENDING || jst == VMIG_JOB_IN_PROGRESS)
        pg_p_text(&p, NULL);
    else
        pg_p_i64(&p, now_ms);
    pg_p_i64(&p, now_ms); /* the run ends now, whatever the job's state after it */
    return RUN(PS(st), PQ_FINISH, &p, NULL, err, "finish a job");
}

/* The CAS, then (when it did not match) the request flag; s->mu is held. */
static enum vmig_code cancel_once(struct pg_store *s, const char *id,
                                  const struct vmig_store_expect *ex, int64_t now_ms, int *done,
                                  struct vmig_err *err)
{
    PGresult *r = NULL;
    enum vmig_code rc;
    *done = 0;
    if (ex) {
        struct pg_params p = {0};
        pg_p_text(&p, id);
        pg_p_i64(&p, now_ms);
        pg_p_text(&p, vmig_job_status_name(ex->status));
        pg_p_i64(&p, ex->owner_pid);
        pg_p_i64(&p, ex->heartbeat_ms);
        rc = EXEC(s, PQ_CANCEL_CAS, &p, &r, err, "cancel a job");
        if (rc) return rc;
        *done = pg_changed(r) == 1;
        PQclear(r);
        if (*done) return VMIG_OK;
    }
    struct pg_params q = {0};
    pg_p_text(&q, id);
    rc = EXEC(s, PQ_CANCEL_REQ, &q, &r, err, "request a job's cancellation");
    if (!rc && pg_changed(r) == 1) *done = 2;
    PQclear(r);
    return rc;
}

static enum vmig_code pg_job_cancel(struct vmig_store *st, const char *id,
                                    const struct vmig_store_expect *ex, int64_t now_ms, int *done,
                                    struct vmig_err *err)
{
    struct pg_store *s = PS(st);
    enum vmig_code rc;
    int attempt = 0;
    pg_lock(s);
    do
        rc = cancel_once(s, id, ex, now_ms, done, err);
    while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    return rc;
}

static enum vmig_code pg_job_set_plan(struct vmig_store *st, const char *id, const char *plan_json,
                                      const char *opts_json, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_text(&p, plan_json);
    pg_p_text(&p, opts_json);
    return RUN(PS(st), PQ_SET_PLAN, &p, NULL, err, "update a job's plan");
}

static enum vmig_code pg_log_add(struct vmig_store *st, const char *id, int64_t ts_ms, int level,
                                 const char *coll, const char *point_id, const char *msg,
                                 struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, ts_ms);
    pg_p_i64(&p, level);
    pg_p_text(&p, coll && *coll ? coll : NULL);
    pg_p_text(&p, point_id && *point_id ? point_id : NULL);
    pg_p_text(&p, msg ? msg : "");
    return RUN(PS(st), PQ_LOG_ADD, &p, NULL, err, "append to a job log");
}

static enum vmig_code pg_log_list(struct vmig_store *st, const char *id, int64_t after_seq,
                                  size_t limit, vmig_job_log_fn fn, void *ud, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, after_seq);
    if (limit)
        pg_p_i64(&p, (int64_t)limit);
    else
        pg_p_text(&p, NULL); /* LIMIT NULL: all */
    PGresult *r = NULL;
    enum vmig_code rc = RUN(PS(st), PQ_LOG_LIST, &p, &r, err, "read a job log");
    if (rc) return rc;
    /* the rows are ours: fn runs without the store locked (it may call back into it) */
    for (int i = 0; i < PQntuples(r); i++) {
        struct vmig_job_log e = {0};
        e.seq = pg_i64(r, i, 0);
        e.ts_ms = pg_i64(r, i, 1);
        e.level = (int)pg_i64(r, i, 2);
        e.coll = PQgetvalue(r, i, 3);
        e.point_id = PQgetvalue(r, i, 4);
        e.msg = PQgetvalue(r, i, 5);
        if (fn(ud, &e)) break;
    }
    PQclear(r);
    return VMIG_OK;
}

/* The job that last reserved (endpoint, db, name), "" = none; s->mu is held. */
static enum vmig_code read_holder(struct pg_store *s, const struct pg_params *key,
                                  char holder[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    PGresult *r = NULL;
    holder[0] = 0;
    enum vmig_code rc = EXEC(s, PQ_LEASE_HOLDER, key, &r, err, "read a target reservation");
    if (!rc && PQntuples(r) == 1) pg_copy(r, 0, 0, holder, VMIG_JOB_ID_MAX);
    PQclear(r);
    return rc;
}

static enum vmig_code pg_target_holder(struct vmig_store *st, const char *endpoint, const char *db,
                                       const char *name, char holder[VMIG_JOB_ID_MAX],
                                       struct vmig_err *err)
{
    struct pg_store *s = PS(st);
    struct pg_params key = {0};
    pg_p_text(&key, endpoint);
    pg_p_text(&key, db);
    pg_p_text(&key, name);
    enum vmig_code rc;
    int attempt = 0;
    pg_lock(s);
    do
        rc = read_holder(s, &key, holder, err);
    while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    return rc;
}

static enum vmig_code reserve_once(struct pg_store *s, const struct pg_params *take,
                                   const struct pg_params *key, char holder[VMIG_JOB_ID_MAX],
                                   struct vmig_err *err)
{
    enum vmig_code rc = pg_cmd(s, "BEGIN", err, "begin a transaction");
    if (!rc) rc = EXEC(s, PQ_LEASE_TAKE, take, NULL, err, "reserve a target collection");
    if (!rc) rc = read_holder(s, key, holder, err);
    if (!rc) rc = pg_cmd(s, "COMMIT", err, "commit a target reservation");
    if (rc) rollback(s);
    return rc;
}

static enum vmig_code pg_target_reserve(struct vmig_store *st, const char *id, const char *endpoint,
                                        const char *db, const char *name, int64_t now_ms,
                                        char holder[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    struct pg_store *s = PS(st);
    struct pg_params take = {0}, key = {0};
    pg_p_text(&take, endpoint);
    pg_p_text(&take, db);
    pg_p_text(&take, name);
    pg_p_text(&take, id);
    pg_p_i64(&take, now_ms);
    pg_p_text(&key, endpoint);
    pg_p_text(&key, db);
    pg_p_text(&key, name);
    enum vmig_code rc;
    int attempt = 0;
    holder[0] = 0;
    pg_lock(s);
    do
        rc = reserve_once(s, &take, &key, holder, err);
    while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    return rc;
}

const struct vmig_store_vt pg_vt = {
    .name = "postgres",
    .close = pg_free,
    .schema_version = pg_schema_version,
    .job_insert = pg_job_insert,
    .job_get = pg_job_get,
    .job_ids = pg_job_ids,
    .job_secrets = pg_job_secrets,
    .job_claim = pg_job_claim,
    .job_heartbeat = pg_job_heartbeat,
    .job_finish = pg_job_finish,
    .job_cancel = pg_job_cancel,
    .job_set_plan = pg_job_set_plan,
    .coll_status = pg_coll_status,
    .coll_checkpoint = pg_coll_checkpoint,
    .coll_progress = pg_coll_progress,
    .coll_verify = pg_coll_verify,
    .coll_target = pg_coll_target,
    .log_add = pg_log_add,
    .log_list = pg_log_list,
    .target_reserve = pg_target_reserve,
    .target_holder = pg_target_holder,
    .task_add = pg_task_add,
    .task_claim = pg_task_claim,
    .task_heartbeat = pg_task_heartbeat,
    .task_checkpoint = pg_task_checkpoint,
    .task_progress = pg_task_progress,
    .task_end = pg_task_end,
    .task_list = pg_task_list,
    .task_reset = pg_task_reset,
};

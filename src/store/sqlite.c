/*
 * sqlite.c - the embedded job store: one SQLite file in WAL mode, schema versioned
 * by the numbered migrations in store/migrations (embedded at build time, applied
 * in order, PRAGMA user_version = the last one applied). One connection per handle,
 * guarded by a mutex because the engine calls the checkpoint hook from its reader
 * and writer threads. Every statement is prepared once and cached; the checkpoint
 * is a single UPDATE in its own implicit transaction, so a committed checkpoint
 * survives kill -9 (WAL; synchronous=NORMAL only risks the last commits on power
 * loss, never consistency).
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite_int.h"
#include "store/store.h"
#include "store_migrations.h"
#include "util/alloc.h"
#include "vmig/plan.h"

enum {
    Q_INSERT_JOB,
    Q_INSERT_COLL,
    Q_GET_JOB,
    Q_GET_COLLS,
    Q_IDS,
    Q_IDS_STATUS,
    Q_IDS_OLDEST,
    Q_IDS_STATUS_OLDEST,
    Q_SECRETS,
    Q_CLAIM,
    Q_HEARTBEAT,
    Q_CANCEL_FLAG,
    Q_FINISH,
    Q_CANCEL_CAS,
    Q_CANCEL_REQ,
    Q_SET_PLAN,
    Q_COLL_STATUS,
    Q_COLL_CHECKPOINT,
    Q_COLL_PROGRESS,
    Q_COLL_VERIFY,
    Q_COLL_TARGET,
    Q_LOG_ADD,
    Q_LOG_LIST,
    Q_LEASE_TAKE,
    Q_LEASE_HOLDER,
    Q_COUNT
};

/* A job's run time: the run that ends (the job is IN_PROGRESS with a claim time) adds
 * its length up to end, never negative; a died run ends at its last heartbeat. One
 * fold for the claim (of an orphan), the finish and the cancel of an orphan. */
#define RUN_ADD(end)                                                                         \
    " run_ms = run_ms + CASE WHEN status = 'IN_PROGRESS' AND run_started_ms IS NOT NULL"    \
    " THEN MAX(0, " end " - run_started_ms) ELSE 0 END"
#define RUN_DIED "COALESCE(heartbeat_ms, run_started_ms)"

static const char *const sql_text[Q_COUNT] = {
    [Q_INSERT_JOB] =
        "INSERT INTO jobs (id, created_ms, status, src_url, src_ca_file, src_insecure, dst_url,"
        " dst_db, dst_ca_file, dst_insecure, timeout_ms, secrets_stored, src_secret, dst_secret,"
        " plan, options) VALUES (?1, ?2, 'PENDING', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
        " ?13, ?14, ?15)",
    [Q_INSERT_COLL] = "INSERT INTO job_colls (job_id, idx, source, target) VALUES (?1, ?2, ?3, ?4)",
    [Q_GET_JOB] =
        "SELECT status, created_ms, started_ms, finished_ms, heartbeat_ms, src_url, src_ca_file,"
        " src_insecure, dst_url, dst_db, dst_ca_file, dst_insecure, timeout_ms, secrets_stored,"
        " plan, options, owner_host, owner_pid, cancel_requested, error, run_ms, run_started_ms"
        " FROM jobs WHERE id = ?1",
    [Q_GET_COLLS] = "SELECT idx, source, target, status, phase, total, read, written, bytes, rate,"
                    " started_ms, finished_ms, state, verify, error, error_point, error_field,"
                    " error_code, error_fix, error_fix_arg"
                    " FROM job_colls WHERE job_id = ?1"
                    " ORDER BY idx",
    [Q_IDS] = "SELECT id FROM jobs ORDER BY created_ms DESC, rowid DESC",
    [Q_IDS_STATUS] = "SELECT id FROM jobs WHERE status = ?1 ORDER BY created_ms DESC, rowid DESC",
    [Q_IDS_OLDEST] = "SELECT id FROM jobs ORDER BY created_ms, rowid",
    [Q_IDS_STATUS_OLDEST] = "SELECT id FROM jobs WHERE status = ?1 ORDER BY created_ms, rowid",
    [Q_SECRETS] = "SELECT src_secret, dst_secret FROM jobs WHERE id = ?1",
    [Q_CLAIM] = "UPDATE jobs SET status = 'IN_PROGRESS', owner_host = ?1, owner_pid = ?2,"
                " heartbeat_ms = ?3, started_ms = COALESCE(started_ms, ?3), finished_ms = NULL,"
                RUN_ADD(RUN_DIED) ", run_started_ms = ?3," /* a died run, to its heartbeat */
                " cancel_requested = 0, error = NULL WHERE id = ?4 AND status = ?5 AND"
                " COALESCE(owner_pid, 0) = ?6 AND COALESCE(heartbeat_ms, 0) = ?7",
    [Q_HEARTBEAT] = "UPDATE jobs SET heartbeat_ms = ?2 WHERE id = ?1",
    [Q_CANCEL_FLAG] = "SELECT cancel_requested FROM jobs WHERE id = ?1",
    [Q_FINISH] = "UPDATE jobs SET status = ?2, error = ?3, finished_ms = ?4," RUN_ADD("?5")
                 ", run_started_ms = NULL, cancel_requested = 0 WHERE id = ?1",
    [Q_CANCEL_CAS] = "UPDATE jobs SET status = 'CANCELLED', finished_ms = ?2, cancel_requested = 0,"
                     RUN_ADD(RUN_DIED) ", run_started_ms = NULL"
                     " WHERE id = ?1 AND status = ?3 AND COALESCE(owner_pid, 0) = ?4 AND"
                     " COALESCE(heartbeat_ms, 0) = ?5",
    [Q_CANCEL_REQ] =
        "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'IN_PROGRESS'",
    [Q_SET_PLAN] = "UPDATE jobs SET plan = ?2, options = ?3 WHERE id = ?1",
    [Q_COLL_STATUS] = "UPDATE job_colls SET status = ?3, error = ?4, error_point = ?7,"
                      " error_field = ?8, error_code = ?9, error_fix = ?10, error_fix_arg = ?11,"
                      " started_ms = COALESCE(?5, started_ms), finished_ms = ?6"
                      " WHERE job_id = ?1 AND idx = ?2",
    [Q_COLL_CHECKPOINT] = "UPDATE job_colls SET state = ?3 WHERE job_id = ?1 AND idx = ?2",
    [Q_COLL_PROGRESS] = "UPDATE job_colls SET phase = ?3, total = ?4, read = ?5, written = ?6,"
                        " bytes = ?7, rate = ?8 WHERE job_id = ?1 AND idx = ?2",
    [Q_COLL_VERIFY] = "UPDATE job_colls SET verify = ?3 WHERE job_id = ?1 AND idx = ?2",
    [Q_COLL_TARGET] = "UPDATE job_colls SET target = ?3 WHERE job_id = ?1 AND idx = ?2",
    [Q_LOG_ADD] = "INSERT INTO job_logs (job_id, ts_ms, level, collection, point_id, message)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_LOG_LIST] = "SELECT seq, ts_ms, level, collection, point_id, message FROM job_logs"
                   " WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    /* taken when free, or already ours: a lease is free when its job is not active */
    [Q_LEASE_TAKE] =
        "INSERT INTO target_leases (endpoint, db, name, job_id, taken_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint, db, name) DO UPDATE SET"
        " job_id = excluded.job_id, taken_ms = excluded.taken_ms"
        " WHERE target_leases.job_id = excluded.job_id OR NOT EXISTS (SELECT 1 FROM jobs"
        " WHERE jobs.id = target_leases.job_id AND jobs.status IN ('PENDING', 'IN_PROGRESS'))",
    [Q_LEASE_HOLDER] = "SELECT job_id FROM target_leases WHERE endpoint = ?1 AND db = ?2 AND"
                       " name = ?3",
};

_Static_assert(Q_COUNT <= VMIG_SQ_Q, "sqlite_int.h: VMIG_SQ_Q below Q_COUNT");

static const struct vmig_store_vt sqlite_vt;

enum vmig_code vmig_sq_db_err(struct sqlite_store *s, struct vmig_err *err, const char *what)
{
    return vmig_err_set(err, VMIG_E_IO, "job store: cannot %s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *vmig_sq_stmt(struct sqlite_store *s, sqlite3_stmt **slot, const char *sql,
                           struct vmig_err *err)
{
    if (!*slot &&
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        vmig_sq_db_err(s, err, "prepare a statement");
        return NULL;
    }
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
    return *slot;
}

/* The cached statement k, reset and unbound. Caller holds s->mu. */
static sqlite3_stmt *stmt(struct sqlite_store *s, int k, struct vmig_err *err)
{
    return vmig_sq_stmt(s, &s->q[k], sql_text[k], err);
}

void vmig_sq_bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v) sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, i);
}

char *vmig_sq_col_dup(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? xstrdup((const char *)t) : NULL;
}

void vmig_sq_col_copy(sqlite3_stmt *q, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

enum vmig_code vmig_sq_step_done(struct sqlite_store *s, sqlite3_stmt *q, struct vmig_err *err,
                                 const char *what)
{
    int rc = sqlite3_step(q);
    int ext = sqlite3_extended_errcode(s->db);
    if (rc != SQLITE_DONE &&
        (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)) {
        /* the key is taken: a code of its own, so callers never read SQLite's text */
        vmig_err_set(err, VMIG_E_EXISTS, "job store: cannot %s: %s", what, sqlite3_errmsg(s->db));
        sqlite3_reset(q);
        return VMIG_E_EXISTS;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return vmig_sq_db_err(s, err, what);
    return VMIG_OK;
}

static int mkdirs(const char *path)
{
    char tmp[VMIG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return 0;
    *slash = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
    return 0;
}

static enum vmig_code migrate_schema(struct sqlite_store *s, struct vmig_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return vmig_sq_db_err(s, err, "read the schema version");
    }
    int have = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    int newest = (int)(sizeof vmig_migrations / sizeof *vmig_migrations);
    if (have > newest)
        return vmig_err_set(err, VMIG_E_IO,
                            "job store schema version %d is newer than this vmigrate knows (%d): "
                            "upgrade vmigrate",
                            have, newest);
    for (int v = have; v < newest; v++) {
        /* one migration per transaction; user_version moves with it, so a crash in
         * the middle leaves the previous version intact and the next open retries */
        char *msg = NULL;
        char ver[64];
        snprintf(ver, sizeof ver, "PRAGMA user_version = %d;", v + 1);
        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) goto fail;
        /* another process may have migrated while we waited for the lock */
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
            sqlite3_step(q) != SQLITE_ROW) {
            sqlite3_finalize(q);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return vmig_sq_db_err(s, err, "read the schema version");
        }
        int now = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        q = NULL;
        if (now > v) {
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
            v = now - 1;
            continue;
        }
        if (sqlite3_exec(s->db, vmig_migrations[v].sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, ver, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
        continue;
    fail:
        vmig_err_set(err, VMIG_E_IO, "job store: cannot apply migration %s: %s",
                     vmig_migrations[v].name, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return VMIG_E_IO;
    }
    s->version = newest;
    return VMIG_OK;
}

enum vmig_code vmig_store_sqlite_open(const char *path, struct vmig_store **out,
                                      struct vmig_err *err)
{
    *out = NULL;
    struct stat pst;
    if (stat(path, &pst) == 0 && S_ISDIR(pst.st_mode))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "job store '%s' is a directory; give the path of a file (e.g. "
                            "'%s/vmigrate.db')",
                            path, path);
    if (mkdirs(path))
        return vmig_err_set(err, VMIG_E_IO, "cannot create the directory of job store '%s': %s",
                            path, strerror(errno));
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.vt = &sqlite_vt;
    pthread_mutex_init(&s->mu, NULL);
    enum vmig_code rc;
    char *msg = NULL;
    /* the file holds only ciphertext secrets, but job metadata is still private */
    mode_t old = umask(077);
    int orc = sqlite3_open_v2(path, &s->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                              NULL);
    umask(old);
    if (orc != SQLITE_OK) {
        /* sqlite's "unable to open database file" hides why: the system's errno says it */
        int sys = s->db ? sqlite3_system_errno(s->db) : 0;
        rc = vmig_err_set(err, VMIG_E_IO, "cannot open job store '%s': %s%s%s%s", path,
                          s->db ? sqlite3_errmsg(s->db) : "out of memory", sys ? " (" : "",
                          sys ? strerror(sys) : "",
                          sys ? "; can this user write the file and its directory?)" : "");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     " PRAGMA foreign_keys = ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        rc = vmig_err_set(err, VMIG_E_IO, "cannot open job store '%s': %s%s", path,
                          msg ? msg : sqlite3_errmsg(s->db),
                          sqlite3_errcode(s->db) == SQLITE_NOTADB
                              ? " (it is not a vmigrate job store: give another path, or move "
                                "the file away)"
                              : "");
        sqlite3_free(msg);
        goto fail;
    }
    rc = migrate_schema(s, err);
    if (rc) goto fail;
    *out = &s->base;
    return VMIG_OK;
fail:
    sqlite_vt.close(&s->base);
    return rc;
}

static void sq_close(struct vmig_store *st)
{
    struct sqlite_store *s = SS(st);
    if (!s) return;
    for (int k = 0; k < Q_COUNT; k++) sqlite3_finalize(s->q[k]);
    for (int k = 0; k < VMIG_SQ_TASK_Q; k++) sqlite3_finalize(s->tq[k]);
    if (s->db) sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int sq_schema_version(struct vmig_store *st)
{
    return SS(st)->version;
}

static enum vmig_code sq_job_insert(struct vmig_store *st, const struct vmig_store_new_job *j,
                                    struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    int began = 0;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "begin a transaction");
        goto out;
    }
    began = 1;
    sqlite3_stmt *q = stmt(s, Q_INSERT_JOB, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, j->id);
    sqlite3_bind_int64(q, 2, j->created_ms);
    vmig_sq_bind_text(q, 3, j->src->url ? j->src->url : "");
    vmig_sq_bind_text(q, 4, j->src->ca_file);
    sqlite3_bind_int(q, 5, j->src->insecure);
    vmig_sq_bind_text(q, 6, j->dst->url ? j->dst->url : "");
    vmig_sq_bind_text(q, 7, j->dst->db);
    vmig_sq_bind_text(q, 8, j->dst->ca_file);
    sqlite3_bind_int(q, 9, j->dst->insecure);
    sqlite3_bind_int(q, 10, j->src->timeout_ms);
    sqlite3_bind_int(q, 11, j->secrets_stored);
    if (j->src_secret.len)
        sqlite3_bind_blob(q, 12, j->src_secret.p, (int)j->src_secret.len, SQLITE_TRANSIENT);
    if (j->dst_secret.len)
        sqlite3_bind_blob(q, 13, j->dst_secret.p, (int)j->dst_secret.len, SQLITE_TRANSIENT);
    vmig_sq_bind_text(q, 14, j->plan_json);
    vmig_sq_bind_text(q, 15, j->opts_json);
    rc = vmig_sq_step_done(s, q, err, "insert a job");
    if (rc) goto out;
    for (size_t i = 0; i < j->ncolls; i++) {
        q = stmt(s, Q_INSERT_COLL, err);
        if (!q) {
            rc = VMIG_E_IO;
            goto out;
        }
        vmig_sq_bind_text(q, 1, j->id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)i);
        vmig_sq_bind_text(q, 3, j->coll_source[i]);
        vmig_sq_bind_text(q, 4, j->coll_target[i]);
        rc = vmig_sq_step_done(s, q, err, "insert a job collection");
        if (rc) goto out;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "commit a new job");
        goto out;
    }
    began = 0;
out:
    if (began) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_job_status status_of(const unsigned char *t)
{
    enum vmig_job_status st = VMIG_JOB_PENDING;
    if (t) vmig_job_status_parse((const char *)t, &st);
    return st;
}

static enum vmig_code sq_job_get(struct vmig_store *st, const char *id, struct vmig_job *out,
                                 char **plan_json, char **opts_json, char ***state_json,
                                 char ***verify_json, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    memset(out, 0, sizeof *out);
    *plan_json = *opts_json = NULL;
    *state_json = *verify_json = NULL;
    pthread_mutex_lock(&s->mu);
    /* one read transaction: the job row and its collections are consistent */
    sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *q = stmt(s, Q_GET_JOB, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    int r = sqlite3_step(q);
    if (r == SQLITE_DONE) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "job '%s' not found", id);
        goto out;
    }
    if (r != SQLITE_ROW) {
        rc = vmig_sq_db_err(s, err, "read a job");
        goto out;
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    out->status = status_of(sqlite3_column_text(q, 0));
    out->created_ms = sqlite3_column_int64(q, 1);
    out->started_ms = sqlite3_column_int64(q, 2);
    out->finished_ms = sqlite3_column_int64(q, 3);
    out->heartbeat_ms = sqlite3_column_int64(q, 4);
    out->src_url = vmig_sq_col_dup(q, 5);
    out->src_ca_file = vmig_sq_col_dup(q, 6);
    out->src_insecure = sqlite3_column_int(q, 7);
    out->dst_url = vmig_sq_col_dup(q, 8);
    out->dst_db = vmig_sq_col_dup(q, 9);
    out->dst_ca_file = vmig_sq_col_dup(q, 10);
    out->dst_insecure = sqlite3_column_int(q, 11);
    out->timeout_ms = sqlite3_column_int(q, 12);
    out->secrets_stored = sqlite3_column_int(q, 13);
    *plan_json = vmig_sq_col_dup(q, 14);
    *opts_json = vmig_sq_col_dup(q, 15);
    vmig_sq_col_copy(q, 16, out->owner_host, sizeof out->owner_host);
    out->owner_pid = sqlite3_column_int(q, 17);
    out->cancel_requested = sqlite3_column_int(q, 18);
    vmig_sq_col_copy(q, 19, out->error, sizeof out->error);
    out->run_ms = sqlite3_column_int64(q, 20);
    out->run_started_ms = sqlite3_column_int64(q, 21);
    sqlite3_reset(q);

    q = stmt(s, Q_GET_COLLS, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    size_t cap = 0, cap_state = 0, cap_verify = 0;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        size_t i = out->ncolls;
        xgrow((void **)&out->coll, &cap, i + 1, sizeof *out->coll);
        xgrow((void **)state_json, &cap_state, i + 1, sizeof **state_json);
        xgrow((void **)verify_json, &cap_verify, i + 1, sizeof **verify_json);
        struct vmig_job_coll *c = &out->coll[i];
        memset(c, 0, sizeof *c);
        vmig_sq_col_copy(q, 1, c->source, sizeof c->source);
        vmig_sq_col_copy(q, 2, c->target, sizeof c->target);
        c->status = status_of(sqlite3_column_text(q, 3));
        c->phase = (enum vmig_coll_phase)sqlite3_column_int(q, 4);
        c->total = (uint64_t)sqlite3_column_int64(q, 5);
        c->read = (uint64_t)sqlite3_column_int64(q, 6);
        c->written = (uint64_t)sqlite3_column_int64(q, 7);
        c->bytes = (uint64_t)sqlite3_column_int64(q, 8);
        c->rate = sqlite3_column_double(q, 9);
        c->started_ms = sqlite3_column_int64(q, 10);
        c->finished_ms = sqlite3_column_int64(q, 11);
        (*state_json)[i] = vmig_sq_col_dup(q, 12);
        (*verify_json)[i] = vmig_sq_col_dup(q, 13);
        vmig_sq_col_copy(q, 14, c->error, sizeof c->error);
        vmig_sq_col_copy(q, 15, c->error_point, sizeof c->error_point);
        vmig_sq_col_copy(q, 16, c->error_field, sizeof c->error_field);
        char word[32];
        vmig_sq_col_copy(q, 17, word, sizeof word);
        c->error_code = word[0] ? vmig_code_from_json_name(word) : VMIG_OK;
        vmig_sq_col_copy(q, 18, word, sizeof word);
        c->error_fix = vmig_fix_from_name(word);
        vmig_sq_col_copy(q, 19, c->error_fix_arg, sizeof c->error_fix_arg);
        out->ncolls++;
    }
    sqlite3_reset(q);
    if (r != SQLITE_DONE) rc = vmig_sq_db_err(s, err, "read job collections");
out:
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_ids(struct vmig_store *st, int status, int oldest_first,
                                 char (**ids)[VMIG_JOB_ID_MAX], size_t *n, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    int k = status < 0 ? (oldest_first ? Q_IDS_OLDEST : Q_IDS)
                       : (oldest_first ? Q_IDS_STATUS_OLDEST : Q_IDS_STATUS);
    sqlite3_stmt *q = stmt(s, k, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    if (status >= 0) vmig_sq_bind_text(q, 1, vmig_job_status_name((enum vmig_job_status)status));
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        xgrow((void **)ids, &cap, *n + 1, sizeof **ids);
        vmig_sq_col_copy(q, 0, (*ids)[*n], VMIG_JOB_ID_MAX);
        (*n)++;
    }
    sqlite3_reset(q);
    if (r != SQLITE_DONE) rc = vmig_sq_db_err(s, err, "list jobs");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void blob_copy(sqlite3_stmt *q, int i, struct vmig_store_blob *b)
{
    const void *p = sqlite3_column_blob(q, i);
    int len = sqlite3_column_bytes(q, i);
    b->p = NULL;
    b->len = 0;
    if (p && len > 0) {
        b->p = xmalloc((size_t)len);
        memcpy(b->p, p, (size_t)len);
        b->len = (size_t)len;
    }
}

static enum vmig_code sq_job_secrets(struct vmig_store *st, const char *id,
                                     struct vmig_store_blob *src, struct vmig_store_blob *dst,
                                     struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_SECRETS, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        blob_copy(q, 0, src);
        blob_copy(q, 1, dst);
    } else if (r == SQLITE_DONE) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "job '%s' not found", id);
    } else {
        rc = vmig_sq_db_err(s, err, "read job secrets");
    }
    sqlite3_reset(q);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_claim(struct vmig_store *st, const char *id,
                                   const struct vmig_store_expect *ex, const char *host, int pid,
                                   int64_t now_ms, int *claimed, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    *claimed = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_CLAIM, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, host);
    sqlite3_bind_int(q, 2, pid);
    sqlite3_bind_int64(q, 3, now_ms);
    vmig_sq_bind_text(q, 4, id);
    vmig_sq_bind_text(q, 5, vmig_job_status_name(ex->status));
    sqlite3_bind_int(q, 6, ex->owner_pid);
    sqlite3_bind_int64(q, 7, ex->heartbeat_ms);
    rc = vmig_sq_step_done(s, q, err, "claim a job");
    if (!rc) *claimed = sqlite3_changes(s->db) == 1;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_heartbeat(struct vmig_store *st, const char *id, int64_t now_ms,
                                       int *cancel_requested, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_HEARTBEAT, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, now_ms);
    rc = vmig_sq_step_done(s, q, err, "write a heartbeat");
    if (rc) goto out;
    q = stmt(s, Q_CANCEL_FLAG, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW) *cancel_requested = sqlite3_column_int(q, 0);
    sqlite3_reset(q);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_finish(struct vmig_store *st, const char *id,
                                    enum vmig_job_status jst, const char *error, int64_t now_ms,
                                    struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_FINISH, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    vmig_sq_bind_text(q, 2, vmig_job_status_name(jst));
    vmig_sq_bind_text(q, 3, error && *error ? error : NULL);
    if (jst == VMIG_JOB_PENDING || jst == VMIG_JOB_IN_PROGRESS) sqlite3_bind_null(q, 4);
    else sqlite3_bind_int64(q, 4, now_ms);
    sqlite3_bind_int64(q, 5, now_ms); /* the run ends now, whatever the job's state after it */
    rc = vmig_sq_step_done(s, q, err, "finish a job");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_cancel(struct vmig_store *st, const char *id,
                                    const struct vmig_store_expect *ex, int64_t now_ms, int *done,
                                    struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    *done = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q;
    if (ex) {
        q = stmt(s, Q_CANCEL_CAS, err);
        if (!q) {
            rc = VMIG_E_IO;
            goto out;
        }
        vmig_sq_bind_text(q, 1, id);
        sqlite3_bind_int64(q, 2, now_ms);
        vmig_sq_bind_text(q, 3, vmig_job_status_name(ex->status));
        sqlite3_bind_int(q, 4, ex->owner_pid);
        sqlite3_bind_int64(q, 5, ex->heartbeat_ms);
        rc = vmig_sq_step_done(s, q, err, "cancel a job");
        if (rc) goto out;
        if (sqlite3_changes(s->db) == 1) {
            *done = 1;
            goto out;
        }
    }
    q = stmt(s, Q_CANCEL_REQ, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    rc = vmig_sq_step_done(s, q, err, "request a job's cancellation");
    if (!rc && sqlite3_changes(s->db) == 1) *done = 2;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_job_set_plan(struct vmig_store *st, const char *id,
                                      const char *plan_json, const char *opts_json,
                                      struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_SET_PLAN, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    vmig_sq_bind_text(q, 2, plan_json);
    vmig_sq_bind_text(q, 3, opts_json);
    rc = vmig_sq_step_done(s, q, err, "update a job's plan");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_coll_status(struct vmig_store *st, const char *id, size_t idx,
                                     enum vmig_job_status cst, const struct vmig_err *error,
                                     int64_t started_ms, int64_t finished_ms, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_COLL_STATUS, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)idx);
    vmig_sq_bind_text(q, 3, vmig_job_status_name(cst));
    vmig_sq_bind_text(q, 4, error && error->msg[0] ? error->msg : NULL);
    if (started_ms) sqlite3_bind_int64(q, 5, started_ms);
    if (finished_ms) sqlite3_bind_int64(q, 6, finished_ms);
    vmig_sq_bind_text(q, 7, error && error->point[0] ? error->point : NULL);
    vmig_sq_bind_text(q, 8, error && error->field[0] ? error->field : NULL);
    vmig_sq_bind_text(q, 9, error && error->code ? vmig_code_json_name(error->code) : NULL);
    vmig_sq_bind_text(q, 10, error && error->fix ? vmig_fix_name(error->fix) : NULL);
    vmig_sq_bind_text(q, 11, error && error->fix_arg[0] ? error->fix_arg : NULL);
    rc = vmig_sq_step_done(s, q, err, "update a job collection");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_coll_text(struct vmig_store *st, int k, const char *id, size_t idx,
                                   const char *text, struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, k, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)idx);
    vmig_sq_bind_text(q, 3, text);
    rc = vmig_sq_step_done(s, q, err, k == Q_COLL_CHECKPOINT ? "save a checkpoint"
                              : k == Q_COLL_VERIFY   ? "save verification"
                                                     : "save a target name");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_coll_checkpoint(struct vmig_store *st, const char *id, size_t idx,
                                         const char *state_json, struct vmig_err *err)
{
    return sq_coll_text(st, Q_COLL_CHECKPOINT, id, idx, state_json, err);
}

static enum vmig_code sq_coll_verify(struct vmig_store *st, const char *id, size_t idx,
                                     const char *verify_json, struct vmig_err *err)
{
    return sq_coll_text(st, Q_COLL_VERIFY, id, idx, verify_json, err);
}

static enum vmig_code sq_coll_target(struct vmig_store *st, const char *id, size_t idx,
                                     const char *target, struct vmig_err *err)
{
    return sq_coll_text(st, Q_COLL_TARGET, id, idx, target, err);
}

/* The job that last reserved (endpoint, db, name), "" = none; s->mu is held. */
static enum vmig_code read_holder(struct sqlite_store *s, const char *endpoint, const char *db,
                                  const char *name, char holder[VMIG_JOB_ID_MAX],
                                  struct vmig_err *err)
{
    holder[0] = 0;
    sqlite3_stmt *q = stmt(s, Q_LEASE_HOLDER, err);
    if (!q) return VMIG_E_IO;
    vmig_sq_bind_text(q, 1, endpoint);
    vmig_sq_bind_text(q, 2, db);
    vmig_sq_bind_text(q, 3, name);
    enum vmig_code rc = VMIG_OK;
    int r = sqlite3_step(q);
    if (r == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(holder, VMIG_JOB_ID_MAX, "%s", (const char *)sqlite3_column_text(q, 0));
    else if (r != SQLITE_DONE && r != SQLITE_ROW)
        rc = vmig_sq_db_err(s, err, "read a target reservation");
    sqlite3_reset(q);
    return rc;
}

static enum vmig_code sq_target_holder(struct vmig_store *st, const char *endpoint,
                                      const char *db, const char *name,
                                      char holder[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    pthread_mutex_lock(&s->mu);
    enum vmig_code rc = read_holder(s, endpoint, db, name, holder, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_coll_progress(struct vmig_store *st, const char *id, size_t idx,
                                       enum vmig_coll_phase phase, uint64_t total, uint64_t read,
                                       uint64_t written, uint64_t bytes, double rate,
                                       struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_COLL_PROGRESS, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)idx);
    sqlite3_bind_int(q, 3, (int)phase);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)total);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)read);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)written);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)bytes);
    sqlite3_bind_double(q, 8, rate);
    rc = vmig_sq_step_done(s, q, err, "save progress");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_log_add(struct vmig_store *st, const char *id, int64_t ts_ms, int level,
                                 const char *coll, const char *point_id, const char *msg,
                                 struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_LOG_ADD, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, ts_ms);
    sqlite3_bind_int(q, 3, level);
    vmig_sq_bind_text(q, 4, coll && *coll ? coll : NULL);
    vmig_sq_bind_text(q, 5, point_id && *point_id ? point_id : NULL);
    vmig_sq_bind_text(q, 6, msg ? msg : "");
    rc = vmig_sq_step_done(s, q, err, "append to a job log");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum vmig_code sq_log_list(struct vmig_store *st, const char *id, int64_t after_seq,
                                  size_t limit, vmig_job_log_fn fn, void *ud,
                                  struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    /* copy the rows out first: fn must not run with the store locked (it may call
     * back into the store, e.g. a --follow loop re-reading the job) */
    struct row {
        struct vmig_job_log e;
        char *coll, *point, *msg;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *q = stmt(s, Q_LOG_LIST, err);
    if (!q) {
        rc = VMIG_E_IO;
        pthread_mutex_unlock(&s->mu);
        goto out;
    }
    vmig_sq_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, after_seq);
    sqlite3_bind_int64(q, 3, limit ? (sqlite3_int64)limit : -1);
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        xgrow((void **)&rows, &cap, n + 1, sizeof *rows);
        struct row *w = &rows[n++];
        w->e.seq = sqlite3_column_int64(q, 0);
        w->e.ts_ms = sqlite3_column_int64(q, 1);
        w->e.level = sqlite3_column_int(q, 2);
        w->coll = vmig_sq_col_dup(q, 3);
        w->point = vmig_sq_col_dup(q, 4);
        w->msg = vmig_sq_col_dup(q, 5);
    }
    sqlite3_reset(q);
    if (r != SQLITE_DONE) rc = vmig_sq_db_err(s, err, "read a job log");
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n && rc == VMIG_OK; i++) {
        rows[i].e.coll = rows[i].coll ? rows[i].coll : "";
        rows[i].e.point_id = rows[i].point ? rows[i].point : "";
        rows[i].e.msg = rows[i].msg ? rows[i].msg : "";
        if (fn(ud, &rows[i].e)) break;
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(rows[i].coll);
        free(rows[i].point);
        free(rows[i].msg);
    }
    free(rows);
    return rc;
}

static enum vmig_code sq_target_reserve(struct vmig_store *st, const char *id, const char *endpoint,
                                        const char *db, const char *name, int64_t now_ms,
                                        char holder[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    struct sqlite_store *s = SS(st);
    enum vmig_code rc = VMIG_OK;
    int began = 0;
    holder[0] = 0;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "begin a transaction");
        goto out;
    }
    began = 1;
    sqlite3_stmt *q = stmt(s, Q_LEASE_TAKE, err);
    if (!q) {
        rc = VMIG_E_IO;
        goto out;
    }
    vmig_sq_bind_text(q, 1, endpoint);
    vmig_sq_bind_text(q, 2, db);
    vmig_sq_bind_text(q, 3, name);
    vmig_sq_bind_text(q, 4, id);
    sqlite3_bind_int64(q, 5, now_ms);
    rc = vmig_sq_step_done(s, q, err, "reserve a target collection");
    if (rc) goto out;
    rc = read_holder(s, endpoint, db, name, holder, err);
    if (rc) goto out;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = vmig_sq_db_err(s, err, "commit a target reservation");
        goto out;
    }
    began = 0;
out:
    if (began) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static const struct vmig_store_vt sqlite_vt = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .job_insert = sq_job_insert,
    .job_get = sq_job_get,
    .job_ids = sq_job_ids,
    .job_secrets = sq_job_secrets,
    .job_claim = sq_job_claim,
    .job_heartbeat = sq_job_heartbeat,
    .job_finish = sq_job_finish,
    .job_cancel = sq_job_cancel,
    .job_set_plan = sq_job_set_plan,
    .coll_status = sq_coll_status,
    .coll_checkpoint = sq_coll_checkpoint,
    .coll_progress = sq_coll_progress,
    .coll_verify = sq_coll_verify,
    .coll_target = sq_coll_target,
    .target_holder = sq_target_holder,
    .log_add = sq_log_add,
    .log_list = sq_log_list,
    .target_reserve = sq_target_reserve,
    VMIG_SQ_TASK_OPS,
};

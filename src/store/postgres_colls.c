/*
 * postgres_colls.c - the per-collection writes of the PostgreSQL job store (status with
 * the facts of its error, checkpoint, progress, verification, target name): one UPDATE
 * each of the (job_id, idx) row, with the semantics of store/sqlite.c. The checkpoint is
 * its own single-statement transaction, so a committed one survives a crash of the
 * worker. Shared helpers in postgres_int.h.
 */
#include "store/postgres_int.h"
#include "vmig/plan.h"

/* clang-format off: the SQL reads as SQL */
static const char *const sql_text[PQ_COUNT] = {
    [PQ_COLL_STATUS] = "UPDATE job_colls SET status = $3, error = $4, error_point = $7,"
                       " error_field = $8, error_code = $9, error_fix = $10, error_fix_arg = $11,"
                       " started_ms = COALESCE($5::bigint, started_ms), finished_ms = $6::bigint"
                       " WHERE job_id = $1 AND idx = $2",
    [PQ_COLL_CHECKPOINT] = "UPDATE job_colls SET state = $3 WHERE job_id = $1 AND idx = $2",
    [PQ_COLL_PROGRESS] = "UPDATE job_colls SET phase = $3, total = $4, read = $5, written = $6,"
                         " bytes = $7, rate = $8 WHERE job_id = $1 AND idx = $2",
    [PQ_COLL_VERIFY] = "UPDATE job_colls SET verify = $3 WHERE job_id = $1 AND idx = $2",
    [PQ_COLL_TARGET] = "UPDATE job_colls SET target = $3 WHERE job_id = $1 AND idx = $2",
};
/* clang-format on */

#define RUN(s, k, p, res, err, what) pg_run(s, k, sql_text[k], p, 0, res, err, what)

enum vmig_code pg_coll_status(struct vmig_store *st, const char *id, size_t idx,
                              enum vmig_job_status cst, const struct vmig_err *error,
                              int64_t started_ms, int64_t finished_ms, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, (int64_t)idx);
    pg_p_text(&p, vmig_job_status_name(cst));
    pg_p_text(&p, error && error->msg[0] ? error->msg : NULL);
    if (started_ms)
        pg_p_i64(&p, started_ms);
    else
        pg_p_text(&p, NULL);
    if (finished_ms)
        pg_p_i64(&p, finished_ms);
    else
        pg_p_text(&p, NULL);
    pg_p_text(&p, error && error->point[0] ? error->point : NULL);
    pg_p_text(&p, error && error->field[0] ? error->field : NULL);
    pg_p_text(&p, error && error->code ? vmig_code_json_name(error->code) : NULL);
    pg_p_text(&p, error && error->fix ? vmig_fix_name(error->fix) : NULL);
    pg_p_text(&p, error && error->fix_arg[0] ? error->fix_arg : NULL);
    return RUN(PS(st), PQ_COLL_STATUS, &p, NULL, err, "update a job collection");
}

static enum vmig_code coll_text(struct vmig_store *st, int k, const char *id, size_t idx,
                                const char *text, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, (int64_t)idx);
    pg_p_text(&p, text);
    return RUN(PS(st), k, &p, NULL, err,
               k == PQ_COLL_CHECKPOINT ? "save a checkpoint"
               : k == PQ_COLL_VERIFY   ? "save verification"
                                       : "save a target name");
}

enum vmig_code pg_coll_checkpoint(struct vmig_store *st, const char *id, size_t idx,
                                  const char *state_json, struct vmig_err *err)
{
    return coll_text(st, PQ_COLL_CHECKPOINT, id, idx, state_json, err);
}

enum vmig_code pg_coll_verify(struct vmig_store *st, const char *id, size_t idx,
                              const char *verify_json, struct vmig_err *err)
{
    return coll_text(st, PQ_COLL_VERIFY, id, idx, verify_json, err);
}

enum vmig_code pg_coll_target(struct vmig_store *st, const char *id, size_t idx, const char *target,
                              struct vmig_err *err)
{
    return coll_text(st, PQ_COLL_TARGET, id, idx, target, err);
}

enum vmig_code pg_coll_progress(struct vmig_store *st, const char *id, size_t idx,
                                enum vmig_coll_phase phase, uint64_t total, uint64_t read,
                                uint64_t written, uint64_t bytes, double rate, struct vmig_err *err)
{
    struct pg_params p = {0};
    pg_p_text(&p, id);
    pg_p_i64(&p, (int64_t)idx);
    pg_p_i64(&p, (int64_t)phase);
    pg_p_i64(&p, (int64_t)total);
    pg_p_i64(&p, (int64_t)read);
    pg_p_i64(&p, (int64_t)written);
    pg_p_i64(&p, (int64_t)bytes);
    pg_p_f64(&p, rate);
    return RUN(PS(st), PQ_COLL_PROGRESS, &p, NULL, err, "save progress");
}

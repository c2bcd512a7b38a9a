/*
 * test_store.c - conformance tests of the job stores: each case runs on SQLite and,
 * when $VMIG_TEST_PG_URL names a server, on PostgreSQL (store_fx.h). Migrations
 * (applied once, concurrently on PostgreSQL, a newer schema refused), job
 * create/get/list, status transitions (claim, cancel, orphan detection, a run whose
 * collections are refused), the checkpoint state JSON round trip, the log, target
 * reservations, PostgreSQL's reconnect and URL rules, and the secrets: never in
 * plain text in the store, key file mode 0600, nothing stored with store_secrets = 0,
 * redacted from the job log. The range tasks are in test_store_tasks.c.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

#include "store_fx.h"

/* ---- migrations ------------------------------------------------------------------ */

static int count_tables(const char *db)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    int n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                           " ('jobs', 'job_colls', 'job_logs')",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return n;
}

static void migrations_apply_once(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    assert_int_equal(vmig_store_schema_version(s), 5);
    vmig_store_close(s);
    assert_int_equal(count_tables(f->db), 3);
    struct stat sb;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", f->dir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* idempotent: reopening applies nothing and keeps the data */
    s = open_store(f);
    assert_int_equal(vmig_store_schema_version(s), 5);
    vmig_store_close(s);
    assert_int_equal(count_tables(f->db), 3);

    /* WAL mode is persistent in the file */
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* a newer schema than this build knows is refused, not silently used */
    assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_store_open(f->db, &s, &err), VMIG_E_IO);
    assert_non_null(strstr(err.msg, "newer"));
}

/* PostgreSQL: the schema in vmigrate_schema; many workers starting at once on a fresh
 * database all open it (the advisory lock serialises the migrations); a newer schema
 * is refused. */
static void *open_close(void *arg)
{
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    intptr_t rc = vmig_store_open(arg, &s, &err);
    if (rc) fprintf(stderr, "concurrent open: %s\n", err.msg);
    if (s) vmig_store_close(s);
    return (void *)rc;
}

static void pg_migrations(void **state)
{
    struct fx *f = *state;
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_close, f->db), 0);
    for (int i = 0; i < 6; i++) {
        void *rc = NULL;
        pthread_join(th[i], &rc);
        assert_int_equal((intptr_t)rc, VMIG_OK);
    }
    struct vmig_store *s = open_store(f);
    assert_int_equal(vmig_store_schema_version(s), 5);
    assert_string_equal(s->vt->name, "postgres");
    vmig_store_close(s);
    char v[64];
    assert_int_equal(
        pg_sql(f->db, "SELECT count(*) || '/' || max(version) FROM vmigrate_schema", v, sizeof v),
        0);
    assert_string_equal(v, "1/5");
    assert_int_equal(pg_sql(f->db,
                            "SELECT count(*) FROM information_schema.tables WHERE table_name IN"
                            " ('jobs', 'job_colls', 'job_logs', 'target_leases', 'job_tasks')",
                            v, sizeof v),
                     0);
    assert_string_equal(v, "5");
    assert_int_equal(pg_sql(f->db, "UPDATE vmigrate_schema SET version = 99", NULL, 0), 0);
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_store_open(f->db, &s, &err), VMIG_E_IO);
    assert_non_null(strstr(err.msg, "newer"));
}

/* PostgreSQL: a connection the server ends (a restart, pg_terminate_backend: 57P01) is
 * reset once and the call runs again. */
static void pg_reconnect(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    const char *kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE"
                       " datname = current_database() AND pid <> pg_backend_pid()";
    char n[16];
    assert_int_equal(pg_sql(f->db, kill, n, sizeof n), 0);
    assert_string_equal(n, "1");
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.ncolls, 1);
    vmig_job_release(&j);
    /* a write too, on statements prepared anew */
    assert_int_equal(pg_sql(f->db, kill, n, sizeof n), 0);
    assert_int_equal(vmig_job_log_add(s, id, VMIG_LOG_INFO, NULL, NULL, "after", &err), VMIG_OK);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

/* postgres:// URLs: a password in them is refused without being repeated; a server
 * that is not there is named (host:port/db) with the way out. */
static void pg_url_rules(void **state)
{
    (void)state;
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    const char *bad[] = {"postgres://u:s3cr3tPW@127.0.0.1:1/db",
                         "postgresql://u:s3cr3tPW@127.0.0.1/db",
                         "postgres://u@127.0.0.1:1/db?password=s3cr3tPW"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vmig_store_open(bad[i], &s, &err), VMIG_E_USAGE);
        assert_null(s);
        assert_null(strstr(err.msg, "s3cr3tPW"));
        assert_non_null(strstr(err.msg, "PGPASSWORD"));
        assert_non_null(strstr(err.msg, "service"));
    }
    assert_int_equal(vmig_store_open("postgres://u@127.0.0.1:1/nodb?connect_timeout=2", &s, &err),
                     VMIG_E_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "127.0.0.1:1/nodb"));
    assert_non_null(strstr(err.msg, "--store"));
}

/* ---- jobs ---------------------------------------------------------------------------- */

static void job_create_get_list(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 3);
    char id1[VMIG_JOB_ID_MAX], id2[VMIG_JOB_ID_MAX];
    create_job(s, &p, 1, id1);
    create_job(s, &p, 0, id2);
    assert_int_equal(strlen(id1), 9);
    assert_int_equal(id1[0], 'j');
    assert_string_not_equal(id1, id2);

    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_job_get(s, id1, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_PENDING);
    assert_string_equal(j.src_url, "http://127.0.0.1:1");
    assert_string_equal(j.dst_url, "http://127.0.0.1:2");
    assert_string_equal(j.dst_db, "analytics");
    assert_null(j.src_ca_file);
    assert_int_equal(j.secrets_stored, 1);
    assert_int_equal(j.opts.readers, 3);
    assert_int_equal(j.opts.page_limit, 500);
    assert_int_equal(j.opts.verify_sample, 100);
    assert_string_equal(j.opts.rejects, "/tmp/rejects.jsonl");
    assert_int_equal(j.plan.n, 3);
    assert_int_equal(j.ncolls, 3);
    assert_string_equal(j.coll[2].source, "c2");
    assert_string_equal(j.plan.coll[2].target, "c2");
    assert_int_equal(j.coll[1].status, VMIG_JOB_PENDING);
    assert_int_equal(j.coll[1].state.nranges, 0);
    assert_true(j.created_ms > 0);
    assert_int_equal(j.orphaned, 0);
    vmig_job_release(&j);

    struct vmig_job *jobs = NULL;
    size_t n = 0;
    assert_int_equal(vmig_job_list(s, -1, &jobs, &n, &err), VMIG_OK);
    assert_int_equal(n, 2);
    vmig_job_list_free(jobs, n);
    assert_int_equal(vmig_job_list(s, VMIG_JOB_FAILED, &jobs, &n, &err), VMIG_OK);
    assert_int_equal(n, 0);
    vmig_job_list_free(jobs, n);
    assert_int_equal(vmig_job_get(s, "jnothere", &j, &err), VMIG_E_NOT_FOUND);

    enum vmig_job_status st;
    assert_int_equal(vmig_job_status_parse("canceled", &st), 0);
    assert_int_equal(st, VMIG_JOB_CANCELLED);
    assert_int_equal(vmig_job_status_parse("In Progress", &st), 0);
    assert_int_equal(st, VMIG_JOB_IN_PROGRESS);
    assert_string_equal(vmig_job_status_label(VMIG_JOB_CANCELLED), "Canceled");
    assert_int_equal(vmig_job_status_parse("nope", &st), -1);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

static void claim_cancel_orphan(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 2);
    char id[VMIG_JOB_ID_MAX], id2[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    create_job(s, &p, 0, id2);
    struct vmig_err err;
    vmig_err_clear(&err);

    /* cancel a PENDING job: immediate */
    int imm = 0;
    assert_int_equal(vmig_job_cancel(s, id2, &imm, &err), VMIG_OK);
    assert_int_equal(imm, 1);
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, id2, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_CANCELLED);
    assert_int_equal(j.coll[0].status, VMIG_JOB_CANCELLED);
    vmig_job_release(&j);
    /* cancelling an ended job is a usage error */
    assert_int_equal(vmig_job_cancel(s, id2, &imm, &err), VMIG_E_USAGE);

    /* claim: compare-and-swap, the second claim of the same state loses */
    struct vmig_store_expect ex = {VMIG_JOB_PENDING, 0, 0};
    int got = 0;
    assert_int_equal(s->vt->job_claim(s, id, &ex, "thishost", (int)getpid(), 1000, &got, &err),
                     VMIG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(s->vt->job_claim(s, id, &ex, "other", 1, 1000, &got, &err), VMIG_OK);
    assert_int_equal(got, 0);

    /* running (our pid, fresh heartbeat): cancel is a request the runner polls */
    int req = -1;
    assert_int_equal(s->vt->job_heartbeat(s, id, (int64_t)vmig_wall_ms(), &req, &err), VMIG_OK);
    assert_int_equal(req, 0);
    char host[256];
    gethostname(host, sizeof host);
    host[255] = '\0';
    /* re-claim as ourselves on this host so orphan detection can look at the pid */
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    struct vmig_store_expect ex2 = {VMIG_JOB_IN_PROGRESS, j.owner_pid, j.heartbeat_ms};
    vmig_job_release(&j);
    assert_int_equal(s->vt->job_claim(s, id, &ex2, host, (int)getpid(), (int64_t)vmig_wall_ms(),
                                      &got, &err),
                     VMIG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_IN_PROGRESS);
    assert_int_equal(j.orphaned, 0);
    vmig_job_release(&j);
    assert_int_equal(vmig_job_cancel(s, id, &imm, &err), VMIG_OK);
    assert_int_equal(imm, 0);
    assert_int_equal(s->vt->job_heartbeat(s, id, (int64_t)vmig_wall_ms(), &req, &err), VMIG_OK);
    assert_int_equal(req, 1);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_IN_PROGRESS);
    assert_int_equal(j.cancel_requested, 1);
    struct vmig_store_expect ex3 = {VMIG_JOB_IN_PROGRESS, j.owner_pid, j.heartbeat_ms};
    vmig_job_release(&j);

    /* the owner dies (kill -9): a dead pid on this host makes the job orphaned */
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    assert_int_equal(s->vt->job_claim(s, id, &ex3, host, (int)child, (int64_t)vmig_wall_ms(),
                                      &got, &err),
                     VMIG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.orphaned, 1);
    assert_int_equal(j.owner_pid, (int)child);
    vmig_job_release(&j);
    /* an orphan is cancelled at once (no runner to ask) */
    assert_int_equal(vmig_job_cancel(s, id, &imm, &err), VMIG_OK);
    assert_int_equal(imm, 1);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_CANCELLED);
    assert_true(j.finished_ms > 0);
    vmig_job_release(&j);

    vmig_plan_release(&p);
    vmig_store_close(s);
}

/* ---- state JSON ------------------------------------------------------------------------ */

/* A job's run time (migration 004): each run adds its length, a requeue to PENDING too
 * (the worker's stop), a died run counts until its last heartbeat, time between runs
 * never counts. */
static void run_time_folds(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_job j;
    int got = 0;
    struct vmig_store_expect ex = {VMIG_JOB_PENDING, 0, 0};
    assert_int_equal(s->vt->job_claim(s, id, &ex, "h", 7, 1000, &got, &err), VMIG_OK);
    assert_int_equal(got, 1);
    /* the worker stops: back to PENDING after 250 ms of running */
    assert_int_equal(s->vt->job_finish(s, id, VMIG_JOB_PENDING, NULL, 1250, &err), VMIG_OK);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_PENDING);
    assert_int_equal(j.run_ms, 250);
    assert_int_equal(j.run_started_ms, 0);
    /* 10 s later a second run of 500 ms ends FAILED */
    struct vmig_store_expect ex2 = {VMIG_JOB_PENDING, j.owner_pid, j.heartbeat_ms};
    vmig_job_release(&j);
    assert_int_equal(s->vt->job_claim(s, id, &ex2, "h", 7, 11250, &got, &err), VMIG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(s->vt->job_finish(s, id, VMIG_JOB_FAILED, "x", 11750, &err), VMIG_OK);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.run_ms, 750);
    vmig_job_release(&j);
    /* a third run dies; its heartbeat was at +300 ms; a claim of the orphan counts that */
    struct vmig_store_expect fx3 = {VMIG_JOB_FAILED, 7, 0};
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    fx3.heartbeat_ms = j.heartbeat_ms;
    vmig_job_release(&j);
    assert_int_equal(s->vt->job_claim(s, id, &fx3, "h", 8, 20000, &got, &err), VMIG_OK);
    assert_int_equal(got, 1);
    int req = 0;
    assert_int_equal(s->vt->job_heartbeat(s, id, 20300, &req, &err), VMIG_OK);
    struct vmig_store_expect ex4 = {VMIG_JOB_IN_PROGRESS, 8, 20300};
    assert_int_equal(s->vt->job_claim(s, id, &ex4, "h", 9, 90000, &got, &err), VMIG_OK);
    assert_int_equal(got, 1);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.run_ms, 1050);
    assert_int_equal(j.run_started_ms, 90000);
    vmig_job_release(&j);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

static void assert_id_equal(const struct vmig_point_id *a, const struct vmig_point_id *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(vmig_point_id_cmp(a, b), 0);
}

static void state_round_trip(void **state)
{
    struct fx *f = *state;
    struct vmig_coll_state st, back;
    vmig_coll_state_init(&st);
    st.created = 1;
    st.copied = 0;
    st.indexed = 1;
    st.loaded = 0;
    st.total = 50000;
    st.written = 12345;
    st.read = 13000;
    st.bytes = 987654321;
    st.rejected = 2;
    st.nulls_dropped = 7;
    st.nranges = 4;
    for (size_t i = 0; i < 4; i++) {
        st.range[i].slice_total = 4;
        st.range[i].slice_index = (uint32_t)i;
        st.range[i].points = 1000 * i;
    }
    /* extremes: 2^64-1, 2^63, 0, UUIDs, NONE */
    st.range[0].start.kind = VMIG_ID_NUM;
    st.range[0].start.num = UINT64_MAX;
    st.range[0].hw.kind = VMIG_ID_NUM;
    st.range[0].hw.num = (uint64_t)1 << 63;
    st.range[0].hw_set = 1;
    st.range[1].start.kind = VMIG_ID_NUM;
    st.range[1].start.num = 0;
    st.range[1].end.kind = VMIG_ID_UUID;
    for (int k = 0; k < 16; k++) st.range[1].end.uuid[k] = (uint8_t)(0xf0 + k);
    st.range[2].hw.kind = VMIG_ID_UUID;
    for (int k = 0; k < 16; k++) st.range[2].hw.uuid[k] = (uint8_t)(k * 17);
    st.range[2].hw_set = 1;
    st.range[3].done = 1;
    st.range[3].hw_set = 1; /* hw NONE + hw_set: the range was read to its end */

    char *js = vmig_coll_state_to_json(&st);
    assert_non_null(strstr(js, "\"18446744073709551615\""));
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_coll_state_from_json(js, &back, &err), VMIG_OK);
    assert_int_equal(back.created, 1);
    assert_int_equal(back.copied, 0);
    assert_int_equal(back.indexed, 1);
    assert_int_equal(back.loaded, 0);
    assert_int_equal(back.total, st.total);
    assert_int_equal(back.written, st.written);
    assert_int_equal(back.read, st.read);
    assert_int_equal(back.bytes, st.bytes);
    assert_int_equal(back.rejected, 2);
    assert_int_equal(back.nulls_dropped, 7);
    assert_int_equal(back.nranges, 4);
    for (size_t i = 0; i < 4; i++) {
        const struct vmig_range *a = &st.range[i], *b = &back.range[i];
        assert_int_equal(a->slice_total, b->slice_total);
        assert_int_equal(a->slice_index, b->slice_index);
        assert_id_equal(&a->start, &b->start);
        assert_id_equal(&a->end, &b->end);
        assert_id_equal(&a->hw, &b->hw);
        assert_int_equal(a->hw_set, b->hw_set);
        assert_int_equal(a->done, b->done);
        assert_int_equal(a->points, b->points);
    }
    assert_true(back.range[0].start.num == UINT64_MAX);
    /* the JSON of the parsed state is the same text */
    char *js2 = vmig_coll_state_to_json(&back);
    assert_string_equal(js, js2);

    /* and through the store: the checkpoint UPDATE, read back by vmig_job_get */
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 2);
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    assert_int_equal(s->vt->coll_checkpoint(s, id, 1, js, &err), VMIG_OK);
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    char *js3 = vmig_coll_state_to_json(&j.coll[1].state);
    assert_string_equal(js, js3);
    assert_int_equal(j.coll[0].state.nranges, 0);
    vmig_job_release(&j);
    free(js3);

    /* malformed */
    assert_int_equal(vmig_coll_state_from_json("{\"ranges\":[{\"start\":{\"num\":\"x\"}}]}",
                                               &back, &err),
                     VMIG_E_IO);
    assert_int_equal(vmig_coll_state_from_json("not json", &back, &err), VMIG_E_IO);
    free(js);
    free(js2);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

/* ---- the log ---------------------------------------------------------------------------- */

struct logs {
    int n;
    int64_t last;
    char text[8192];
};

static int collect(void *ud, const struct vmig_job_log *e)
{
    struct logs *l = ud;
    l->n++;
    assert_true(e->seq > l->last);
    l->last = e->seq;
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof l->text - len, "[%d|%s|%s] %s\n", e->level, e->coll,
             e->point_id, e->msg);
    return 0;
}

static void job_logs(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_job_log_add(s, id, VMIG_LOG_WARN, "c0", NULL, "scroll: retry 1", &err),
                     VMIG_OK);
    assert_int_equal(vmig_job_log_add(s, id, VMIG_LOG_ERROR, "c0", "42", "point 42: null", &err),
                     VMIG_OK);
    struct logs l = {0};
    assert_int_equal(vmig_job_logs(s, id, 0, 0, collect, &l, &err), VMIG_OK);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.text, "[1|c0|] scroll: retry 1"));
    assert_non_null(strstr(l.text, "[0|c0|42] point 42: null"));
    /* --follow reads only what is new */
    int64_t after = l.last;
    assert_int_equal(vmig_job_log_add(s, id, VMIG_LOG_INFO, NULL, NULL, "done", &err), VMIG_OK);
    struct logs l2 = {0};
    l2.last = after;
    assert_int_equal(vmig_job_logs(s, id, after, 0, collect, &l2, &err), VMIG_OK);
    assert_int_equal(l2.n, 1);
    assert_non_null(strstr(l2.text, "done"));
    vmig_plan_release(&p);
    vmig_store_close(s);
}

/* ---- running without servers: refused collections ------------------------------------ */

struct claims {
    int calls, claimed;
    enum vmig_code why;
};

static void count_claim(void *ud, int claimed, const struct vmig_err *why)
{
    struct claims *c = ud;
    c->calls++;
    c->claimed = claimed;
    c->why = why ? why->code : VMIG_OK;
}

static void run_refused(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 2);
    /* refusals as the planner records them; the second one quotes a secret, which
     * must never reach the job log */
    vmig_err_set(&p.coll[0].refusal, VMIG_E_SCHEMA, "cannot map 'c0': 5 vectors");
    vmig_err_set(&p.coll[1].refusal, VMIG_E_EXISTS, "target 'c1' exists (key " API_KEY ")");
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 1, id);
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_job_run_opts ro;
    vmig_job_run_opts_init(&ro);
    struct claims cl = {0};
    ro.on_claim = count_claim;
    ro.claim_ud = &cl;
    int claimed = -1;
    enum vmig_code rc = vmig_job_act(s, id, VMIG_JOB_RUN, NULL, &ro, &claimed, &err);
    assert_int_equal(rc, VMIG_E_SCHEMA);
    /* claimed (the collections then failed): the hook heard it once */
    assert_int_equal(claimed, 1);
    assert_int_equal(cl.calls, 1);
    assert_int_equal(cl.claimed, 1);
    assert_non_null(strstr(err.msg, "5 vectors"));
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.status, VMIG_JOB_FAILED);
    assert_int_equal(j.coll[0].status, VMIG_JOB_FAILED);
    assert_int_equal(j.coll[1].status, VMIG_JOB_FAILED);
    assert_non_null(strstr(j.coll[0].error, "5 vectors"));
    assert_null(strstr(j.coll[1].error, API_KEY));
    assert_non_null(strstr(j.coll[1].error, "***"));
    assert_true(j.started_ms > 0 && j.finished_ms >= j.started_ms);
    vmig_job_release(&j);

    struct logs l = {0};
    assert_int_equal(vmig_job_logs(s, id, 0, 0, collect, &l, &err), VMIG_OK);
    assert_non_null(strstr(l.text, "|c0|] cannot map 'c0': 5 vectors"));
    assert_null(strstr(l.text, API_KEY));

    /* a FAILED job cannot be "run" again, but can be retried / resumed; the refusal is
     * heard once by the hook, with its reason, and nothing ran */
    memset(&cl, 0, sizeof cl);
    assert_int_equal(vmig_job_act(s, id, VMIG_JOB_RUN, NULL, &ro, &claimed, &err), VMIG_E_USAGE);
    assert_int_equal(claimed, 0);
    assert_int_equal(cl.calls, 1);
    assert_int_equal(cl.claimed, 0);
    assert_int_equal(cl.why, VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "jobs resume"));
    ro.on_claim = NULL;
    assert_int_equal(vmig_job_act(s, id, VMIG_JOB_RETRY, NULL, &ro, NULL, &err), VMIG_E_SCHEMA);
    struct vmig_job_retry_opts ch = {.null_values = "drop"};
    assert_int_equal(vmig_job_act(s, id, VMIG_JOB_RETRY, &ch, &ro, NULL, &err), VMIG_E_SCHEMA);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_int_equal(j.plan.coll[0].null_policy, VMIG_NULL_DROP);
    vmig_job_release(&j);
    struct vmig_job_retry_opts bad = {.null_values = "sometimes"};
    assert_int_equal(vmig_job_act(s, id, VMIG_JOB_RETRY, &bad, &ro, NULL, &err), VMIG_E_USAGE);
    assert_int_equal(vmig_job_act(s, id, VMIG_JOB_RESUME, NULL, &ro, NULL, &err), VMIG_E_SCHEMA);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

/* ---- store writes: checked, with codes of their own (issue 10) --------------------------- */

static enum vmig_code (*real_coll_status)(struct vmig_store *, const char *, size_t,
                                          enum vmig_job_status, const struct vmig_err *, int64_t,
                                          int64_t, struct vmig_err *);
static enum vmig_code failing_coll_status(struct vmig_store *s, const char *id, size_t i,
                                          enum vmig_job_status st, const struct vmig_err *msg,
                                          int64_t started, int64_t ended, struct vmig_err *err)
{
    if (st == VMIG_JOB_IN_PROGRESS || st == VMIG_JOB_PENDING)
        return real_coll_status(s, id, i, st, msg, started, ended, err);
    return vmig_err_set(err, VMIG_E_IO, "job store: cannot update a collection: disk I/O error");
}

static void final_status_write_fails(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    vmig_err_set(&p.coll[0].refusal, VMIG_E_SCHEMA, "cannot map 'c0': 5 vectors");
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    /* the same store, whose final collection status writes fail */
    struct vmig_store_vt vt = *s->vt;
    const struct vmig_store_vt *orig = s->vt;
    real_coll_status = orig->coll_status;
    vt.coll_status = failing_coll_status;
    s->vt = &vt;
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_job_run_opts ro;
    vmig_job_run_opts_init(&ro);
    enum vmig_code rc = vmig_job_act(s, id, VMIG_JOB_RUN, NULL, &ro, NULL, &err);
    s->vt = orig;
    assert_int_equal(rc, VMIG_E_IO);
    char want[128];
    snprintf(want, sizeof want, "job '%s', collection 'c0': the job store could not be written",
             id);
    assert_non_null(strstr(err.msg, want));
    snprintf(want, sizeof want, "then `vmigrate jobs resume %s`", id);
    assert_non_null(strstr(err.msg, want));
    assert_string_equal(err.coll, "c0");
    /* cancelling a pending job: its collections' writes are checked too */
    char id2[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id2);
    s->vt = &vt;
    int immediate = 0;
    rc = vmig_job_cancel(s, id2, &immediate, &err);
    s->vt = orig;
    assert_int_equal(rc, VMIG_E_IO);
    assert_non_null(strstr(err.msg, "the job store could not be written"));
    vmig_plan_release(&p);
    vmig_store_close(s);
}

static void coll_error_facts_stored(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char id[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, id);
    struct vmig_err why, err;
    vmig_err_clear(&err);
    vmig_err_set(&why, VMIG_E_DATA, "point 42 in collection 'c0': payload key 'a' is null");
    vmig_err_at(&why, "c0", "42", "a");
    assert_int_equal(s->vt->coll_status(s, id, 0, VMIG_JOB_FAILED, &why, 0, 5, &err), VMIG_OK);
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_string_equal(j.coll[0].error, why.msg);
    assert_string_equal(j.coll[0].error_point, "42");
    assert_string_equal(j.coll[0].error_field, "a");
    char *js = vmig_job_to_json(&j, 0, 0);
    assert_non_null(strstr(js, "\"error_point\":\"42\""));
    assert_non_null(strstr(js, "\"error_field\":\"a\""));
    free(js);
    vmig_job_release(&j);
    /* a status without an error clears them */
    assert_int_equal(s->vt->coll_status(s, id, 0, VMIG_JOB_PENDING, NULL, 0, 0, &err), VMIG_OK);
    assert_int_equal(vmig_job_get(s, id, &j, &err), VMIG_OK);
    assert_string_equal(j.coll[0].error_point, "");
    assert_string_equal(j.coll[0].error_field, "");
    vmig_job_release(&j);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

static void job_insert_taken_id(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_endpoint src, dst;
    endpoints(&src, &dst, 0);
    struct vmig_store_new_job nj;
    memset(&nj, 0, sizeof nj);
    nj.id = "jdeadbeef";
    nj.created_ms = 1;
    nj.src = &src;
    nj.dst = &dst;
    nj.plan_json = "{}";
    nj.opts_json = "{}";
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(s->vt->job_insert(s, &nj, &err), VMIG_OK);
    /* the job center draws a new id on this code, never on SQLite's words */
    assert_int_equal(s->vt->job_insert(s, &nj, &err), VMIG_E_EXISTS);
    assert_int_equal(err.code, VMIG_E_EXISTS);
    vmig_store_close(s);
}

/* ---- secrets ------------------------------------------------------------------------------ */

static int file_has(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    size_t cap = 1 << 20, len = 0, n;
    char *buf = xmalloc(cap);
    while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    fclose(fp);
    int found = 0;
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= len && !found; i++) found = memcmp(buf + i, needle, m) == 0;
    free(buf);
    return found;
}

/* PostgreSQL: every stored byte a secret could have landed in (secrets, plan, options,
 * URLs, the log), searched as bytes. */
static int pg_store_has(struct fx *f, const char *needle)
{
    PGconn *c = PQconnectdb(f->db);
    PGresult *r = PQexecParams(c,
                               "SELECT src_secret, dst_secret, convert_to(plan || options ||"
                               " src_url || dst_url, 'UTF8') FROM jobs UNION ALL"
                               " SELECT NULL, NULL, convert_to(message, 'UTF8') FROM job_logs",
                               0, NULL, NULL, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int found = 0;
    size_t m = strlen(needle);
    for (int i = 0; i < PQntuples(r); i++)
        for (int k = 0; k < 3; k++) {
            const char *v = PQgetvalue(r, i, k);
            size_t len = (size_t)PQgetlength(r, i, k);
            for (size_t o = 0; o + m <= len && !found; o++)
                found = !memcmp(v + o, needle, m);
        }
    PQclear(r);
    PQfinish(c);
    return found;
}

/* Every file of the store directory (db, -wal, -shm). */
static int store_has(struct fx *f, const char *needle)
{
    if (f->pg) return pg_store_has(f, needle);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", f->dir);
    DIR *d = opendir(dir);
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        found |= file_has(p, needle);
    }
    if (d) closedir(d);
    return found;
}

/* ---- target reservations (issue 9) ---------------------------------------------------- */

static void target_leases(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char a[VMIG_JOB_ID_MAX], b[VMIG_JOB_ID_MAX], holder[VMIG_JOB_ID_MAX];
    create_job(s, &p, 0, a);
    create_job(s, &p, 0, b);
    struct vmig_err err;
    vmig_err_clear(&err);
    const char *url = "http://milvus:19530";
    /* free: taken; again by the same job: still its own */
    assert_int_equal(s->vt->target_reserve(s, a, url, "default", "t", 1, holder, &err), VMIG_OK);
    assert_string_equal(holder, a);
    assert_int_equal(s->vt->target_reserve(s, a, url, "default", "t", 2, holder, &err), VMIG_OK);
    assert_string_equal(holder, a);
    /* held by an active (PENDING) job: refused, the holder named */
    assert_int_equal(s->vt->target_reserve(s, b, url, "default", "t", 3, holder, &err), VMIG_OK);
    assert_string_equal(holder, a);
    /* another database or endpoint is another collection */
    assert_int_equal(s->vt->target_reserve(s, b, url, "other", "t", 4, holder, &err), VMIG_OK);
    assert_string_equal(holder, b);
    assert_int_equal(
        s->vt->target_reserve(s, b, "http://m2:19530", "default", "t", 4, holder, &err), VMIG_OK);
    assert_string_equal(holder, b);
    /* ending the holder releases it */
    assert_int_equal(s->vt->job_finish(s, a, VMIG_JOB_FAILED, "x", 5, &err), VMIG_OK);
    assert_int_equal(s->vt->target_reserve(s, b, url, "default", "t", 6, holder, &err), VMIG_OK);
    assert_string_equal(holder, b);
    /* and the ended job cannot take it back while b is active */
    assert_int_equal(s->vt->target_reserve(s, a, url, "default", "t", 7, holder, &err), VMIG_OK);
    assert_string_equal(holder, b);
    vmig_plan_release(&p);
    vmig_store_close(s);
}

static void secrets_encrypted(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_store(f);
    struct vmig_plan p;
    make_plan(&p, 1);
    char id[VMIG_JOB_ID_MAX], id2[VMIG_JOB_ID_MAX];
    create_job(s, &p, 1, id);
    create_job(s, &p, 0, id2);

    /* the key file: created on first use, 0600 */
    struct stat sb;
    assert_int_equal(stat(f->key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);

    /* decrypt round trip */
    struct vmig_store_blob bs, bd;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(s->vt->job_secrets(s, id, &bs, &bd, &err), VMIG_OK);
    assert_true(bs.len > strlen(API_KEY));
    char *plain = NULL;
    assert_int_equal(vmig_secret_open(&bs, &plain, &err), VMIG_OK);
    assert_string_equal(plain, API_KEY);
    free(plain);
    assert_int_equal(vmig_secret_open(&bd, &plain, &err), VMIG_OK);
    assert_string_equal(plain, TOKEN);
    free(plain);
    /* a tampered box does not open */
    bd.p[bd.len - 1] ^= 1;
    assert_int_equal(vmig_secret_open(&bd, &plain, &err), VMIG_E_AUTH);
    assert_null(plain);
    vmig_store_blob_release(&bs);
    vmig_store_blob_release(&bd);

    /* --no-store-secrets: nothing stored */
    assert_int_equal(s->vt->job_secrets(s, id2, &bs, &bd, &err), VMIG_OK);
    assert_int_equal(bs.len, 0);
    assert_int_equal(bd.len, 0);
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, id2, &j, &err), VMIG_OK);
    assert_int_equal(j.secrets_stored, 0);
    vmig_job_release(&j);

    /* plain text nowhere in the store files, while open (WAL) and after close */
    const char *needles[] = {API_KEY, TOKEN, "Milvus-PASS-word-9876"};
    for (int k = 0; k < 3; k++) assert_false(store_has(f, needles[k]));
    vmig_store_close(s);
    for (int k = 0; k < 3; k++) assert_false(store_has(f, needles[k]));
    /* sanity of the grep itself: the URL is stored in plain text */
    assert_true(store_has(f, "http://127.0.0.1:2"));

    /* a key file readable by others is refused */
    chmod(f->key, 0644);
    s = open_store(f);
    assert_int_equal(s->vt->job_secrets(s, id, &bs, &bd, &err), VMIG_OK);
    assert_int_equal(vmig_secret_open(&bs, &plain, &err), VMIG_E_IO);
    assert_non_null(strstr(err.msg, "chmod 600"));
    vmig_store_blob_release(&bs);
    vmig_store_blob_release(&bd);
    vmig_store_close(s);
    vmig_plan_release(&p);
}

int main(void)
{
    /* the runner's connectors must not wait minutes on unreachable test endpoints */
    vmig_retry_default.max_total_ms = 200;
#define BOTH(X)                                                                                    \
    X(job_create_get_list), X(claim_cancel_orphan), X(run_time_folds), X(state_round_trip),        \
        X(job_logs), X(run_refused), X(final_status_write_fails), X(job_insert_taken_id),          \
        X(coll_error_facts_stored), X(target_leases), X(secrets_encrypted)
#define ON_SQLITE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define ON_PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, teardown)
    const struct CMUnitTest sqlite_tests[] = {
        ON_SQLITE(migrations_apply_once),
        BOTH(ON_SQLITE),
        cmocka_unit_test(pg_url_rules),
    };
    const struct CMUnitTest pg_tests[] = {
        ON_PG(pg_migrations),
        ON_PG(pg_reconnect),
        BOTH(ON_PG),
    };
    return RUN_ON_BOTH(sqlite_tests, pg_tests);
}

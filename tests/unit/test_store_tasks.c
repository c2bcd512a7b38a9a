/*
 * test_store_tasks.c - conformance tests of the range tasks (store.h, issue 14) on
 * every store that implements them (store_fx.h: SQLite, and PostgreSQL when
 * $VMIG_TEST_PG_URL names a server): claim order and the setup -> range -> finish
 * dependencies, lease expiry and the reclaim (reclaims + 1, token + 1), writes fenced
 * by an old token changing nothing, task_end, task_reset keep / drop, task_list, and
 * 8 threads with a handle each claiming one job's tasks at once: each exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store_fx.h"
#include "util/retry.h"

#define LONG_LEASE 600000

static int64_t now(void)
{
    return (int64_t)vmig_wall_ms();
}

/* The store, or NULL (the case passes through) when it has no range tasks yet. */
static struct vmig_store *open_tasks(struct fx *f)
{
    struct vmig_store *s = open_store(f);
    if (s->vt->task_claim) return s;
    fprintf(stderr, "(%s store: no range tasks, skipped)\n", s->vt->name);
    vmig_store_close(s);
    return NULL;
}

/* A job of ncolls collections, claimed (IN_PROGRESS) so its tasks are claimable. */
static void running_job(struct vmig_store *s, size_t ncolls, char id[VMIG_JOB_ID_MAX])
{
    struct vmig_plan p;
    make_plan(&p, ncolls);
    create_job(s, &p, 0, id);
    vmig_plan_release(&p);
    struct vmig_store_expect ex = {VMIG_JOB_PENDING, 0, 0};
    struct vmig_err err;
    int got = 0;
    assert_int_equal(s->vt->job_claim(s, id, &ex, "h", 1, now(), &got, &err), VMIG_OK);
    assert_int_equal(got, 1);
}

static void add(struct vmig_store *s, const char *id, size_t coll, int idx,
                enum vmig_task_kind kind)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(s->vt->task_add(s, id, coll, idx, kind, NULL, &err), VMIG_OK);
}

/* Claim (of job id, NULL = any): 1 and *t filled, or 0 when none is claimable. */
static int claim(struct vmig_store *s, const char *id, int64_t lease, struct vmig_store_task *t)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    int got = -1;
    enum vmig_code rc = s->vt->task_claim(s, id, "worker-a", now(), lease, t, &got, &err);
    if (rc) fprintf(stderr, "claim: %s\n", err.msg);
    assert_int_equal(rc, VMIG_OK);
    return got;
}

static void expect_claim(struct vmig_store *s, const char *id, size_t coll, int idx,
                         struct vmig_store_task *t)
{
    assert_int_equal(claim(s, id, LONG_LEASE, t), 1);
    assert_int_equal(t->coll, coll);
    assert_int_equal(t->idx, idx);
}

static int end(struct vmig_store *s, const struct vmig_store_task *t, enum vmig_job_status st,
               const char *error)
{
    struct vmig_store_task_key k = {t->job_id, t->coll, t->idx, t->token};
    struct vmig_err err;
    int held = -1;
    assert_int_equal(s->vt->task_end(s, &k, st, error, now(), &held, &err), VMIG_OK);
    return held;
}

static void claim_order_and_dependencies(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_tasks(f);
    if (!s) return;
    char a[VMIG_JOB_ID_MAX], b[VMIG_JOB_ID_MAX];
    struct vmig_plan p;
    make_plan(&p, 2);
    create_job(s, &p, 0, a);
    vmig_plan_release(&p);
    struct vmig_store_task t, t2;
    /* a PENDING job's tasks are not claimable */
    add(s, a, 0, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    assert_int_equal(claim(s, NULL, LONG_LEASE, &t), 0);
    struct vmig_store_expect ex = {VMIG_JOB_PENDING, 0, 0};
    struct vmig_err err;
    int got = 0;
    int64_t t0 = now();
    assert_int_equal(s->vt->job_claim(s, a, &ex, "h", 1, t0 - 5000, &got, &err), VMIG_OK);
    add(s, a, 0, 2, VMIG_TASK_RANGE);
    add(s, a, 0, 1, VMIG_TASK_RANGE);
    add(s, a, 0, VMIG_TASK_FINISH_IDX, VMIG_TASK_FINISH);
    add(s, a, 1, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    add(s, a, 0, 1, VMIG_TASK_RANGE); /* again: nothing changes */
    running_job(s, 1, b);             /* younger */
    add(s, b, 0, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);

    /* oldest job first, by collection; ranges wait for their setup */
    expect_claim(s, NULL, 0, VMIG_TASK_SETUP_IDX, &t);
    assert_string_equal(t.job_id, a);
    assert_int_equal(t.kind, VMIG_TASK_SETUP);
    assert_int_equal(t.status, VMIG_JOB_IN_PROGRESS);
    assert_string_equal(t.owner, "worker-a");
    assert_int_equal(t.token, 1);
    assert_int_equal(t.attempts, 1);
    assert_int_equal(t.reclaims, 0);
    assert_true(t.lease_until_ms > 0);
    assert_true(t.started_ms >= t0);
    expect_claim(s, NULL, 1, VMIG_TASK_SETUP_IDX, &t2);
    assert_string_equal(t2.job_id, a);
    vmig_store_task_release(&t2);
    /* a's ranges wait on its setup: with the filter nothing, without it b's setup */
    assert_int_equal(claim(s, a, LONG_LEASE, &t2), 0);
    expect_claim(s, NULL, 0, VMIG_TASK_SETUP_IDX, &t2);
    assert_string_equal(t2.job_id, b);
    vmig_store_task_release(&t2);
    /* the claim beat the job's heartbeat */
    struct vmig_job j;
    assert_int_equal(vmig_job_get(s, a, &j, &err), VMIG_OK);
    assert_true(j.heartbeat_ms >= t0);
    vmig_job_release(&j);

    assert_int_equal(end(s, &t, VMIG_JOB_SUCCESSFUL, NULL), 1);
    vmig_store_task_release(&t);
    expect_claim(s, a, 0, 1, &t);
    assert_int_equal(t.kind, VMIG_TASK_RANGE);
    expect_claim(s, a, 0, 2, &t2);
    /* finish waits on every range (and collection 1's setup is held) */
    struct vmig_store_task t3;
    assert_int_equal(claim(s, a, LONG_LEASE, &t3), 0);
    assert_int_equal(end(s, &t, VMIG_JOB_SUCCESSFUL, NULL), 1);
    assert_int_equal(claim(s, a, LONG_LEASE, &t3), 0);
    assert_int_equal(end(s, &t2, VMIG_JOB_FAILED, "boom"), 1);
    assert_int_equal(claim(s, a, LONG_LEASE, &t3), 0); /* a FAILED range holds it back too */
    vmig_store_task_release(&t);
    vmig_store_task_release(&t2);
    assert_int_equal(s->vt->task_reset(s, a, 0, 0, &err), VMIG_OK);
    expect_claim(s, a, 0, 2, &t2);
    assert_int_equal(t2.attempts, 2);
    assert_int_equal(t2.reclaims, 0);
    assert_string_equal(t2.error, "");
    assert_int_equal(end(s, &t2, VMIG_JOB_SUCCESSFUL, NULL), 1);
    vmig_store_task_release(&t2);
    expect_claim(s, a, 0, VMIG_TASK_FINISH_IDX, &t3);
    assert_int_equal(t3.kind, VMIG_TASK_FINISH);
    vmig_store_task_release(&t3);

    /* a cancel request stops the claims of the job */
    char c[VMIG_JOB_ID_MAX];
    running_job(s, 1, c);
    add(s, c, 0, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    int imm = -1;
    assert_int_equal(vmig_job_cancel(s, c, &imm, &err), VMIG_OK);
    assert_int_equal(claim(s, c, LONG_LEASE, &t), 0);
    vmig_store_close(s);
}

static void lease_expiry_and_fencing(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_tasks(f);
    if (!s) return;
    char id[VMIG_JOB_ID_MAX];
    running_job(s, 1, id);
    add(s, id, 0, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    struct vmig_store_task old, cur;
    struct vmig_err err;
    vmig_err_clear(&err);
    /* a lease of 1 ms: its worker "died"; a claim after it ran out takes the task again */
    assert_int_equal(claim(s, id, 1, &old), 1);
    struct vmig_store_task_key ko = {id, 0, VMIG_TASK_SETUP_IDX, old.token};
    int held = -1, stop = -1;
    assert_int_equal(s->vt->task_checkpoint(s, &ko, "{\"v\":1}", &held, &err), VMIG_OK);
    assert_int_equal(held, 1);
    usleep(30 * 1000);
    assert_int_equal(claim(s, id, LONG_LEASE, &cur), 1);
    assert_int_equal(cur.token, old.token + 1);
    assert_int_equal(cur.attempts, 2);
    assert_int_equal(cur.reclaims, 1);
    assert_string_equal(cur.state_json, "{\"v\":1}"); /* the checkpoint carries over */
    /* the old holder's writes change nothing */
    assert_int_equal(s->vt->task_heartbeat(s, &ko, now(), LONG_LEASE, &held, &stop, &err), VMIG_OK);
    assert_int_equal(held, 0);
    assert_int_equal(s->vt->task_checkpoint(s, &ko, "{\"v\":\"stale\"}", &held, &err), VMIG_OK);
    assert_int_equal(held, 0);
    assert_int_equal(s->vt->task_progress(s, &ko, 9, 9, 9, 9.0, &held, &err), VMIG_OK);
    assert_int_equal(held, 0);
    assert_int_equal(end(s, &old, VMIG_JOB_FAILED, "stale"), 0);
    /* the new holder's do */
    struct vmig_store_task_key kc = {id, 0, VMIG_TASK_SETUP_IDX, cur.token};
    assert_int_equal(s->vt->task_heartbeat(s, &kc, now(), LONG_LEASE, &held, &stop, &err), VMIG_OK);
    assert_int_equal(held, 1);
    assert_int_equal(stop, 0);
    assert_int_equal(s->vt->task_checkpoint(s, &kc, "{\"v\":2}", &held, &err), VMIG_OK);
    assert_int_equal(held, 1);
    assert_int_equal(s->vt->task_progress(s, &kc, 10, 8, 640, 2.5, &held, &err), VMIG_OK);
    assert_int_equal(held, 1);
    struct vmig_store_task *list = NULL;
    size_t n = 0;
    assert_int_equal(s->vt->task_list(s, id, -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].status, VMIG_JOB_IN_PROGRESS);
    assert_string_equal(list[0].state_json, "{\"v\":2}");
    assert_int_equal(list[0].read, 10);
    assert_int_equal(list[0].written, 8);
    assert_int_equal(list[0].bytes, 640);
    assert_true(list[0].rate == 2.5);
    assert_string_equal(list[0].error, "");
    vmig_store_task_release(&list[0]);
    free(list);
    /* a live lease is not taken */
    struct vmig_store_task none;
    assert_int_equal(claim(s, id, LONG_LEASE, &none), 0);
    /* given back (a stopped worker): PENDING, lease cleared, checkpoint kept, owner kept;
     * the next claim is no reclaim */
    assert_int_equal(end(s, &cur, VMIG_JOB_PENDING, NULL), 1);
    assert_int_equal(s->vt->task_list(s, id, 0, &list, &n, &err), VMIG_OK);
    assert_int_equal(list[0].status, VMIG_JOB_PENDING);
    assert_int_equal(list[0].lease_until_ms, 0);
    assert_int_equal(list[0].finished_ms, 0);
    assert_string_equal(list[0].owner, "worker-a");
    vmig_store_task_release(&list[0]);
    free(list);
    struct vmig_store_task again;
    assert_int_equal(claim(s, id, LONG_LEASE, &again), 1);
    assert_int_equal(again.token, cur.token + 1);
    assert_int_equal(again.reclaims, 1);
    assert_string_equal(again.state_json, "{\"v\":2}");
    /* a cancel request: the heartbeat says stop */
    int imm = -1;
    assert_int_equal(vmig_job_cancel(s, id, &imm, &err), VMIG_OK);
    struct vmig_store_task_key ka = {id, 0, VMIG_TASK_SETUP_IDX, again.token};
    assert_int_equal(s->vt->task_heartbeat(s, &ka, now(), LONG_LEASE, &held, &stop, &err), VMIG_OK);
    assert_int_equal(held, 1);
    assert_int_equal(stop, 1);
    /* ended: finished_ms set, the lease cleared */
    assert_int_equal(end(s, &again, VMIG_JOB_SUCCESSFUL, NULL), 1);
    assert_int_equal(s->vt->task_list(s, id, 0, &list, &n, &err), VMIG_OK);
    assert_int_equal(list[0].status, VMIG_JOB_SUCCESSFUL);
    assert_true(list[0].finished_ms > 0);
    assert_int_equal(list[0].lease_until_ms, 0);
    vmig_store_task_release(&list[0]);
    free(list);
    vmig_store_task_release(&old);
    vmig_store_task_release(&cur);
    vmig_store_task_release(&again);
    vmig_store_close(s);
}

static void reset_keep_drop_and_list(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_tasks(f);
    if (!s) return;
    char id[VMIG_JOB_ID_MAX];
    running_job(s, 2, id);
    struct vmig_err err;
    vmig_err_clear(&err);
    for (size_t c = 0; c < 2; c++) {
        add(s, id, c, VMIG_TASK_FINISH_IDX, VMIG_TASK_FINISH);
        add(s, id, c, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    }
    struct vmig_store_task t;
    expect_claim(s, id, 0, VMIG_TASK_SETUP_IDX, &t);
    assert_int_equal(end(s, &t, VMIG_JOB_SUCCESSFUL, NULL), 1);
    vmig_store_task_release(&t);
    for (int i = 1; i <= 3; i++)
        add(s, id, 0, i, VMIG_TASK_RANGE);
    expect_claim(s, id, 0, 1, &t);
    assert_int_equal(end(s, &t, VMIG_JOB_FAILED, "range 1 broke"), 1);
    vmig_store_task_release(&t);
    expect_claim(s, id, 0, 2, &t); /* held when the job stops */
    vmig_store_task_release(&t);

    /* the list: by (coll, idx); one collection or all */
    struct vmig_store_task *list = NULL;
    size_t n = 0;
    assert_int_equal(s->vt->task_list(s, id, -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 7);
    const int want_idx[] = {0, 1, 2, 3, VMIG_TASK_FINISH_IDX, 0, VMIG_TASK_FINISH_IDX};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(list[i].idx, want_idx[i]);
        assert_int_equal(list[i].coll, i < 5 ? 0 : 1);
        assert_string_equal(list[i].job_id, id);
        vmig_store_task_release(&list[i]);
    }
    assert_int_equal(list[1].status, VMIG_JOB_FAILED);
    assert_string_equal(list[1].error, "range 1 broke");
    assert_int_equal(list[2].status, VMIG_JOB_IN_PROGRESS);
    free(list);
    assert_int_equal(s->vt->task_list(s, id, 1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        vmig_store_task_release(&list[i]);
    free(list);
    assert_int_equal(s->vt->task_list(s, "jnothere", -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 0);
    free(list);

    /* keep: what is not SUCCESSFUL is PENDING again, lease and error cleared */
    assert_int_equal(s->vt->task_reset(s, id, -1, 0, &err), VMIG_OK);
    assert_int_equal(s->vt->task_list(s, id, 0, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 5);
    assert_int_equal(list[0].status, VMIG_JOB_SUCCESSFUL);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(list[i].status, VMIG_JOB_PENDING);
        assert_int_equal(list[i].lease_until_ms, 0);
        assert_string_equal(list[i].error, "");
    }
    assert_int_equal(list[2].token, 1); /* a reset is no claim */
    for (size_t i = 0; i < n; i++)
        vmig_store_task_release(&list[i]);
    free(list);
    /* drop one collection, then all */
    assert_int_equal(s->vt->task_reset(s, id, 0, 1, &err), VMIG_OK);
    assert_int_equal(s->vt->task_list(s, id, -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].coll, 1);
    for (size_t i = 0; i < n; i++)
        vmig_store_task_release(&list[i]);
    free(list);
    assert_int_equal(s->vt->task_reset(s, id, -1, 1, &err), VMIG_OK);
    assert_int_equal(s->vt->task_list(s, id, -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, 0);
    free(list);
    vmig_store_close(s);
}

/* ---- the race: 8 workers, a store handle each, one job's tasks ---------------------- */

#define RACE_THREADS 8
#define RACE_RANGES 120

struct race {
    const char *db, *job;
    atomic_int claims[RACE_RANGES + 2]; /* by idx; the finish task counted in the last */
    atomic_int ended, failures;
};

static void *race_worker(void *arg)
{
    struct race *r = arg;
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_store_open(r->db, &s, &err)) {
        fprintf(stderr, "race open: %s\n", err.msg);
        atomic_fetch_add(&r->failures, 1);
        return NULL;
    }
    /* every range, then the finish: a worker that finds nothing waits for the others */
    while (atomic_load(&r->ended) < RACE_RANGES + 1) {
        struct vmig_store_task t;
        int got = 0;
        if (s->vt->task_claim(s, r->job, "racer", now(), LONG_LEASE, &t, &got, &err)) {
            fprintf(stderr, "race claim: %s\n", err.msg);
            atomic_fetch_add(&r->failures, 1);
            break;
        }
        if (!got) {
            usleep(1000);
            continue;
        }
        int slot = t.idx == VMIG_TASK_FINISH_IDX ? RACE_RANGES + 1 : t.idx;
        atomic_fetch_add(&r->claims[slot], 1);
        struct vmig_store_task_key k = {t.job_id, t.coll, t.idx, t.token};
        int held = 0;
        if (s->vt->task_end(s, &k, VMIG_JOB_SUCCESSFUL, NULL, now(), &held, &err) || !held)
            atomic_fetch_add(&r->failures, 1);
        atomic_fetch_add(&r->ended, 1);
        vmig_store_task_release(&t);
    }
    vmig_store_close(s);
    return NULL;
}

static void concurrent_claims_once(void **state)
{
    struct fx *f = *state;
    struct vmig_store *s = open_tasks(f);
    if (!s) return;
    char id[VMIG_JOB_ID_MAX];
    running_job(s, 1, id);
    add(s, id, 0, VMIG_TASK_SETUP_IDX, VMIG_TASK_SETUP);
    struct vmig_store_task t;
    expect_claim(s, id, 0, VMIG_TASK_SETUP_IDX, &t);
    assert_int_equal(end(s, &t, VMIG_JOB_SUCCESSFUL, NULL), 1);
    vmig_store_task_release(&t);
    for (int i = 1; i <= RACE_RANGES; i++)
        add(s, id, 0, i, VMIG_TASK_RANGE);
    add(s, id, 0, VMIG_TASK_FINISH_IDX, VMIG_TASK_FINISH);

    static struct race r; /* large and zeroed */
    memset(&r, 0, sizeof r);
    r.db = f->db;
    r.job = id;
    pthread_t th[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_worker, &r), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.failures), 0);
    for (int i = 1; i <= RACE_RANGES + 1; i++) {
        if (atomic_load(&r.claims[i]) != 1)
            fprintf(stderr, "task %d claimed %d times\n", i, atomic_load(&r.claims[i]));
        assert_int_equal(atomic_load(&r.claims[i]), 1);
    }
    struct vmig_store_task *list = NULL;
    size_t n = 0;
    struct vmig_err err;
    assert_int_equal(s->vt->task_list(s, id, -1, &list, &n, &err), VMIG_OK);
    assert_int_equal(n, RACE_RANGES + 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(list[i].status, VMIG_JOB_SUCCESSFUL);
        assert_int_equal(list[i].attempts, 1);
        vmig_store_task_release(&list[i]);
    }
    free(list);
    vmig_store_close(s);
}

int main(void)
{
#define CASES(X)                                                                                   \
    X(claim_order_and_dependencies), X(lease_expiry_and_fencing), X(reset_keep_drop_and_list),     \
        X(concurrent_claims_once)
#define ON_SQLITE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define ON_PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, teardown)
    const struct CMUnitTest sqlite_tests[] = {CASES(ON_SQLITE)};
    const struct CMUnitTest pg_tests[] = {CASES(ON_PG)};
    return RUN_ON_BOTH(sqlite_tests, pg_tests);
}

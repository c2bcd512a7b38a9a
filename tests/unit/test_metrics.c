/*
 * test_metrics.c - unit tests of the Prometheus registry (util/metrics.c): the text
 * format, label escaping, exact sums from concurrent threads, the job runner's feed
 * (deltas of cumulative progress, phase times, the run's retry counters) and the job
 * store's view of an empty store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "vmig/job.h"
#include "vmig/plan.h"

static char *render(struct vmig_metrics *m)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_metrics_render(m, &b);
    return vmig_buf_detach(&b, NULL);
}

static void render_format(void **state)
{
    struct vmig_metrics *m = vmig_metrics_new();
    const char *l[] = {"j1", "docs"};
    vmig_metrics_add(m, VMIG_MF_POINTS_WRITTEN, l, 40);
    vmig_metrics_add(m, VMIG_MF_POINTS_WRITTEN, l, 2);
    vmig_metrics_add(m, VMIG_MF_THROTTLED_SECONDS, NULL, 250); /* ms */
    vmig_metrics_tasks_running(m, "range", 3);
    vmig_metrics_tasks_running(m, "range", 2);         /* a gauge: set, not added */
    vmig_metrics_set(m, VMIG_MF_POINTS_WRITTEN, l, 7); /* a counter cannot be set */
    vmig_metrics_lease_lost(m, "j1");
    vmig_metrics_task_state(m, "range", "claimed");
    char *t = render(m);
    assert_non_null(strstr(t, "# HELP vmigrate_points_written_total "));
    assert_non_null(strstr(t, "# TYPE vmigrate_points_written_total counter\n"));
    assert_non_null(
        strstr(t, "\nvmigrate_points_written_total{job=\"j1\",collection=\"docs\"} 42\n"));
    assert_non_null(strstr(t, "\nvmigrate_throttled_seconds_total 0.250\n"));
    assert_non_null(strstr(t, "\nvmigrate_throttled_total 0\n"));
    assert_non_null(strstr(t, "# TYPE vmigrate_worker_tasks_running gauge\n"));
    assert_non_null(strstr(t, "\nvmigrate_worker_tasks_running{kind=\"range\"} 2\n"));
    assert_non_null(strstr(t, "\nvmigrate_task_lease_lost_total{job=\"j1\"} 1\n"));
    assert_non_null(
        strstr(t, "\nvmigrate_worker_tasks_total{kind=\"range\",status=\"claimed\"} 1\n"));
    assert_non_null(
        strstr(t, "\nvmigrate_retries_total{side=\"target\",cause=\"rate_limit\"} 0\n"));
    assert_non_null(strstr(t, "\nvmigrate_job_runs_total{status=\"failed\"} 0\n"));
    /* every line is a comment or a sample; the text ends with a newline */
    assert_int_equal(t[strlen(t) - 1], '\n');
    const char *const lv[] = {"j1", "docs"};
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, lv), 42);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_READ, lv), 0);
    free(t);
    vmig_metrics_free(m);
    vmig_metrics_add(NULL, VMIG_MF_THROTTLED, NULL, 1); /* NULL: nothing, no crash */
}

static void label_escaping(void **state)
{
    struct vmig_metrics *m = vmig_metrics_new();
    const char *l[] = {"j\"1", "a\\b\nc\"d"};
    vmig_metrics_add(m, VMIG_MF_POINTS_READ, l, 5);
    char *t = render(m);
    assert_non_null(
        strstr(t, "vmigrate_points_read_total{job=\"j\\\"1\",collection=\"a\\\\b\\nc\\\"d\"} 5\n"));
    free(t);
    /* a distinct value is a distinct series, even when a separator could be faked */
    const char *a[] = {"ab", "c"}, *b[] = {"a", "bc"};
    vmig_metrics_add(m, VMIG_MF_POINTS_READ, a, 1);
    vmig_metrics_add(m, VMIG_MF_POINTS_READ, b, 2);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_READ, a), 1);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_READ, b), 2);
    struct vmig_buf s = VMIG_BUF_INIT;
    vmig_metrics_family(&s, "x", "gauge", "a \\ and\na \"quote\"");
    assert_string_equal(s.p, "# HELP x a \\\\ and\\na \"quote\"\n# TYPE x gauge\n");
    vmig_buf_release(&s);
    vmig_metrics_free(m);
}

#define NTHREADS 8
#define NADDS 20000

struct worker {
    struct vmig_metrics *m;
    int i;
};

static void *adder(void *arg)
{
    struct worker *w = arg;
    char coll[16];
    snprintf(coll, sizeof coll, "c%d", w->i % 2);
    const char *l[] = {"j", coll}, *mine[] = {"j", "own"};
    char own[16];
    snprintf(own, sizeof own, "t%d", w->i);
    mine[1] = own;
    for (int k = 0; k < NADDS; k++) {
        vmig_metrics_add(w->m, VMIG_MF_POINTS_WRITTEN, l, 3);
        vmig_metrics_add(w->m, VMIG_MF_BYTES_WRITTEN, mine, 1);
        vmig_metrics_add(w->m, VMIG_MF_THROTTLED, NULL, 1);
        if (k % 1000 == 0) free(render(w->m)); /* scrapes meanwhile */
    }
    return NULL;
}

static void concurrent_sums(void **state)
{
    struct vmig_metrics *m = vmig_metrics_new();
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){m, i};
        assert_int_equal(pthread_create(&th[i], NULL, adder, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    const char *c0[] = {"j", "c0"}, *c1[] = {"j", "c1"};
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, c0), 3ull * NADDS * NTHREADS / 2);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, c1), 3ull * NADDS * NTHREADS / 2);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_THROTTLED, NULL), (uint64_t)NADDS * NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        char own[16];
        snprintf(own, sizeof own, "t%d", i);
        const char *l[] = {"j", own};
        assert_int_equal(vmig_metrics_get(m, VMIG_MF_BYTES_WRITTEN, l), NADDS);
    }
    vmig_metrics_free(m);
}

static void feed_deltas(void **state)
{
    struct vmig_metrics *m = vmig_metrics_new();
    struct vmig_metrics_feed *f = calloc(1, sizeof *f); /* zeroed: a fresh feed */
    struct vmig_run_ctx ctx;
    vmig_run_ctx_init(&ctx);
    struct vmig_progress p;
    memset(&p, 0, sizeof p);
    p.coll = "docs";
    p.phase = VMIG_PHASE_CREATING;
    p.written = 500; /* a resume: the checkpoint's count is not this run's */
    p.read = 500;
    vmig_metrics_feed(m, f, "j1", &p, ctx.stats);
    const char *l[] = {"j1", "docs"};
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, l), 0);
    usleep(20000);
    p.phase = VMIG_PHASE_COPYING;
    p.written = 700;
    p.read = 800;
    p.bytes = 4096;
    atomic_fetch_add(&ctx.stats->retries[VMIG_SIDE_TARGET][VMIG_CAUSE_UNAVAILABLE], 2);
    atomic_fetch_add(&ctx.stats->throttled, 1);
    atomic_fetch_add(&ctx.stats->throttled_ms, 1500);
    vmig_metrics_feed(m, f, "j1", &p, ctx.stats);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, l), 200);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_READ, l), 300);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_BYTES_WRITTEN, l), 4096);
    const char *ph[] = {"j1", "docs", vmig_phase_name(VMIG_PHASE_CREATING)};
    assert_true(vmig_metrics_get(m, VMIG_MF_PHASE_SECONDS, ph) >= 20); /* ms */
    const char *r[] = {"target", "unavailable"};
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_RETRIES, r), 2);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_THROTTLED, NULL), 1);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_THROTTLED_SECONDS, NULL), 1500);
    /* the same report again adds nothing; a count going down is a new base */
    vmig_metrics_feed(m, f, "j1", &p, ctx.stats);
    p.written = 100;
    vmig_metrics_feed(m, f, "j1", &p, ctx.stats);
    p.written = 150;
    vmig_metrics_feed(m, f, "j1", &p, ctx.stats);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_POINTS_WRITTEN, l), 250);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_RETRIES, r), 2);
    /* the run's end: the last retries, and its status */
    atomic_fetch_add(&ctx.stats->retries[VMIG_SIDE_TARGET][VMIG_CAUSE_UNAVAILABLE], 1);
    vmig_metrics_run_end(m, f, "j1", VMIG_JOB_SUCCESSFUL, ctx.stats);
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_RETRIES, r), 3);
    const char *st[] = {"successful"};
    assert_int_equal(vmig_metrics_get(m, VMIG_MF_JOB_RUNS, st), 1);
    free(f);
    vmig_metrics_free(m);
}

static void store_view_empty(void **state)
{
    char dir[] = "/tmp/vmig_metrics_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.db", dir);
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_store_open(path, &s, &err), VMIG_OK);
    struct vmig_buf b = VMIG_BUF_INIT;
    assert_int_equal(vmig_metrics_render_store(s, &b, &err), VMIG_OK);
    assert_non_null(strstr(b.p, "# TYPE vmigrate_jobs gauge\n"));
    assert_non_null(strstr(b.p, "\nvmigrate_jobs{status=\"in_progress\"} 0\n"));
    assert_null(strstr(b.p, "vmigrate_tasks")); /* no tasks: nothing about them */
    vmig_buf_release(&b);
    vmig_store_close(s);
    unlink(path);
    rmdir(dir);
}

/* A store whose range tasks are scripted (the SQLite store's task_list is the store
 * owner's work): a SETUP done, a RANGE running after two reclaims, a RANGE pending. */
static enum vmig_code scripted_tasks(struct vmig_store *s, const char *job_id, long coll,
                                     struct vmig_store_task **out, size_t *n, struct vmig_err *err)
{
    struct vmig_store_task *t = xcalloc(3, sizeof *t);
    t[0].kind = VMIG_TASK_SETUP;
    t[0].status = VMIG_JOB_SUCCESSFUL;
    t[1].kind = VMIG_TASK_RANGE;
    t[1].status = VMIG_JOB_IN_PROGRESS;
    t[1].reclaims = 2;
    t[1].state_json = xstrdup("{}");
    t[2].kind = VMIG_TASK_RANGE;
    t[2].status = VMIG_JOB_PENDING;
    *out = t;
    *n = 3;
    return VMIG_OK;
}

static void store_view_jobs_and_tasks(void **state)
{
    char dir[] = "/tmp/vmig_metrics_XXXXXX", path[256], cmd[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.db", dir);
    setenv("VMIGRATE_SECRET_KEY_FILE", "/dev/null/none", 1); /* no secrets stored here */
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_store_open(path, &s, &err), VMIG_OK);
    struct vmig_plan p;
    memset(&p, 0, sizeof p);
    p.n = 1;
    p.coll = xcalloc(1, sizeof *p.coll);
    struct vmig_map_opts mo;
    vmig_map_opts_init(&mo);
    struct vmig_src_coll src;
    memset(&src, 0, sizeof src);
    snprintf(src.name, sizeof src.name, "do\"cs");
    src.unnamed = 1;
    src.nvec = 1;
    src.vec[0].size = 4;
    src.vec[0].distance = VMIG_DIST_COSINE;
    snprintf(src.vec[0].datatype_name, sizeof src.vec[0].datatype_name, "float32");
    src.vec[0].hnsw_m = src.vec[0].hnsw_ef = -1;
    src.hnsw_m = src.hnsw_ef = -1;
    src.ids_probed = 1;
    vmig_plan_coll_build(&src, &mo, &p.coll[0]);
    vmig_map_opts_release(&mo);
    struct vmig_endpoint se = {.url = "http://127.0.0.1:1"}, de = {.url = "http://127.0.0.1:2"};
    char id[VMIG_JOB_ID_MAX];
    assert_int_equal(vmig_job_create(s, &se, &de, &p, NULL, 0, id, &err), VMIG_OK);

    struct vmig_buf b = VMIG_BUF_INIT;
    assert_int_equal(vmig_metrics_render_store(s, &b, &err), VMIG_OK);
    char want[200];
    assert_non_null(strstr(b.p, "\nvmigrate_jobs{status=\"pending\"} 1\n"));
    snprintf(
        want, sizeof want,
        "\nvmigrate_collection_points{job=\"%s\",collection=\"do\\\"cs\",kind=\"written\"} 0\n",
        id);
    assert_non_null(strstr(b.p, want));
    assert_null(strstr(b.p, "vmigrate_tasks")); /* the store lists no tasks */

    struct vmig_store_vt vt = *s->vt; /* the same store, its tasks scripted */
    const struct vmig_store_vt *real = s->vt;
    vt.task_list = scripted_tasks;
    s->vt = &vt;
    vmig_buf_reset(&b);
    assert_int_equal(vmig_metrics_render_store(s, &b, &err), VMIG_OK);
    s->vt = real;
    snprintf(want, sizeof want,
             "\nvmigrate_tasks{job=\"%s\",kind=\"range\",status=\"in_progress\"} 1\n", id);
    assert_non_null(strstr(b.p, want));
    snprintf(want, sizeof want,
             "\nvmigrate_tasks{job=\"%s\",kind=\"setup\",status=\"successful\"} 1\n", id);
    assert_non_null(strstr(b.p, want));
    snprintf(want, sizeof want,
             "\nvmigrate_tasks{job=\"%s\",kind=\"finish\",status=\"pending\"} 0\n", id);
    assert_non_null(strstr(b.p, want));
    snprintf(want, sizeof want, "\nvmigrate_task_reclaims_total{job=\"%s\"} 2\n", id);
    assert_non_null(strstr(b.p, want));
    assert_non_null(strstr(b.p, "# TYPE vmigrate_task_reclaims_total counter\n"));
    vmig_buf_release(&b);
    vmig_plan_release(&p);
    vmig_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_format),    cmocka_unit_test(label_escaping),
        cmocka_unit_test(concurrent_sums),  cmocka_unit_test(feed_deltas),
        cmocka_unit_test(store_view_empty), cmocka_unit_test(store_view_jobs_and_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

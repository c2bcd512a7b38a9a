/*
 * test_engine.c - the migration engine on the in-memory fakes (tests/unit/fake):
 * a crash at every step, then a resume from what was persisted, gives every point
 * exactly once; a target outage at every step (losing unflushed writes, as Milvus
 * Lite does), also with the process killed while it is repaired; a stall at every
 * step ends on cancel, through the run context the connectors were opened with,
 * and resumes exactly. Also the exactness bookkeeping (window.c) on its own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/window.h"
#include "fake/fake.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/migrate.h"

static pthread_mutex_t saved_mu = PTHREAD_MUTEX_INITIALIZER;
static char *saved; /* the last persisted state (JSON), as a job store would hold it */

static int hook_checkpoint(void *ud, const struct vmig_coll_state *st)
{
    (void)ud;
    if (fake_step()) return 1; /* crashed: nothing reaches the store any more */
    char *js = vmig_coll_state_to_json(st);
    pthread_mutex_lock(&saved_mu);
    free(saved);
    saved = js;
    pthread_mutex_unlock(&saved_mu);
    return 0;
}

static void load_saved(struct vmig_coll_state *st)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    pthread_mutex_lock(&saved_mu);
    assert_int_equal(vmig_coll_state_from_json(saved, st, &err), VMIG_OK);
    pthread_mutex_unlock(&saved_mu);
}

static void forget_saved(void)
{
    pthread_mutex_lock(&saved_mu);
    free(saved);
    saved = NULL;
    pthread_mutex_unlock(&saved_mu);
}

struct run {
    struct vmig_run_ctx ctx;
    struct vmig_coll_state st;
    struct vmig_err err;
    enum vmig_code rc;
    int done;
};

static struct vmig_plan_coll plan;

static void *run_main(void *arg)
{
    struct run *r = arg;
    struct vmig_endpoint src = {.url = "fake://source"}, dst = {.url = "fake://target"};
    struct vmig_migrate_opts o;
    vmig_migrate_opts_init(&o);
    o.readers = 3;
    o.writers = 2;
    o.page_limit = 40;
    o.flush_ms = 2;
    o.verify_sample = 20;
    o.ctx = &r->ctx;
    o.hooks.checkpoint = hook_checkpoint;
    struct vmig_verify_result vr;
    vmig_err_clear(&r->err);
    r->rc = vmig_migrate_coll(&src, &dst, &plan, &o, &r->st, &vr, &r->err);
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static enum vmig_code run(struct run *r)
{
    vmig_run_ctx_init(&r->ctx);
    run_main(r);
    return r->rc;
}

static void assert_exact(const char *what, uint64_t k)
{
    char why[256] = "";
    if (fake_check_exact(why, sizeof why)) fail_msg("%s at step %llu: %s", what, (unsigned long long)k, why);
}

/* A fresh world of p (servers and store) and a run of it not yet started. */
static void fresh(struct run *r, const struct fake_params *p)
{
    fake_reset(p);
    forget_saved();
    memset(r, 0, sizeof *r);
    vmig_coll_state_init(&r->st);
    vmig_run_ctx_init(&r->ctx);
}

/* The servers come back (after a crash or a cancel); a run that did not finish is
 * resumed from what was persisted and must finish; every point is then there once. */
static void resume_exact(struct run *r, enum vmig_code rc, const char *what, uint64_t k)
{
    fake_recover();
    if (rc != VMIG_OK) {
        load_saved(&r->st);
        if (run(r) != VMIG_OK)
            fail_msg("resume after %s at step %llu: %s", what, (unsigned long long)k, r->err.msg);
    }
    assert_exact(what, k);
}

/* The steps of a clean run of these parameters (an upper bound for the faults). */
static uint64_t clean_steps(struct fake_params p)
{
    p.fault = FAKE_NONE;
    p.fault_at = p.crash_at = 0;
    struct run r;
    fresh(&r, &p);
    assert_int_equal(run(&r), VMIG_OK);
    assert_exact("clean run", 0);
    return fake_steps();
}

static void crash_variants(int slices, int lossy)
{
    fake_plan(&plan);
    struct fake_params p = {.npoints = 1000, .slices = slices, .lossy = lossy};
    uint64_t n = clean_steps(p);
    assert_true(n > 40);
    for (uint64_t k = 1; k <= n + 2; k++) {
        /* crash at step k, bring the servers back, resume from the persisted state */
        p.fault = FAKE_CRASH;
        p.fault_at = k;
        struct run r;
        fresh(&r, &p);
        resume_exact(&r, run(&r), lossy ? "a crash (target loses unflushed writes)" : "a crash",
                     k);
    }
}

static void crash_every_step_slices(void **state) { (void)state; crash_variants(1, 0); }
static void crash_every_step_ranges(void **state) { (void)state; crash_variants(0, 0); }
static void crash_every_step_lossy(void **state) { (void)state; crash_variants(1, 1); }
static void crash_every_step_lossy_ranges(void **state) { (void)state; crash_variants(0, 1); }

/* The target restarts at step k and loses what was not flushed; the run goes on and
 * must repair it. With `then_crash`, the process is also killed a few steps later
 * (during the repair) and resumed. */
static void outages(int then_crash)
{
    fake_plan(&plan);
    struct fake_params p = {.npoints = 1000, .slices = 1, .lossy = 1};
    uint64_t n = clean_steps(p);
    for (uint64_t k = 1; k <= n; k++) {
        p.fault = FAKE_OUTAGE;
        p.fault_at = k;
        p.crash_at = then_crash ? k + 3 : 0;
        struct run r;
        fresh(&r, &p);
        enum vmig_code rc = run(&r);
        if (!then_crash && rc != VMIG_OK)
            fail_msg("outage at step %llu: %s", (unsigned long long)k, r.err.msg);
        resume_exact(&r, rc, then_crash ? "an outage, then killed" : "an outage", k);
    }
}

static void outage_every_step(void **state) { (void)state; outages(0); }
static void outage_then_kill_every_step(void **state) { (void)state; outages(1); }

/* A call hangs at step k (a stalled server): cancel ends the run, the checkpoint is
 * kept, the resume is exact. The stalled call returns only when the run context it
 * was opened with is cancelled, so a context that does not reach it hangs the test
 * (alarm below). The latency is printed, not asserted: it is the machine's. */
static void stall_every_step(void **state)
{
    (void)state;
    fake_plan(&plan);
    struct fake_params p = {.npoints = 1000, .slices = 1};
    uint64_t n = clean_steps(p);
    uint64_t worst = 0, stalls = 0;
    for (uint64_t k = 1; k <= n; k++) {
        p.fault = FAKE_STALL;
        p.fault_at = k;
        struct run r;
        fresh(&r, &p);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, run_main, &r), 0);
        while (!__atomic_load_n(&r.done, __ATOMIC_SEQ_CST) && !fake_stalled()) usleep(200);
        uint64_t t0 = vmig_now_ms();
        atomic_store(&r.ctx.cancel, 1);
        pthread_join(th, NULL);
        uint64_t took = vmig_now_ms() - t0;
        if (fake_stalled()) {
            assert_true(fake_stall_saw_cancel());
            if (r.rc != VMIG_E_CANCELLED)
                fail_msg("stall at step %llu ended with %d: %s", (unsigned long long)k, r.rc,
                         r.err.msg);
            if (took > worst) worst = took;
            stalls++;
        }
        resume_exact(&r, r.rc, "a cancel", k);
    }
    assert_true(stalls > n / 2);
    printf("stall_every_step: %llu stalls ended by cancel, the slowest in %llu ms\n",
           (unsigned long long)stalls, (unsigned long long)worst);
}

/* ---- window.c on its own ---- */

static struct vmig_point_id num(uint64_t n)
{
    struct vmig_point_id id = {0};
    id.kind = VMIG_ID_NUM;
    id.num = n;
    return id;
}

static void window_offsets(void **state)
{
    (void)state;
    struct vmig_coll_state st;
    vmig_coll_state_init(&st);
    st.nranges = 1;
    struct vmig_window w;
    memset(&w, 0, sizeof w);
    vmig_window_start(&w, &st);
    struct vmig_point_id none = {0}, a = num(10), b = num(20), c = num(30);
    int up;
    /* three pages out: hw moves before any write, Insert (nothing was ever written) */
    uint64_t s0 = vmig_window_out(&w, &st, 0, &none, &a, &up);
    assert_false(up);
    uint64_t s1 = vmig_window_out(&w, &st, 0, &a, &b, &up);
    uint64_t s2 = vmig_window_out(&w, &st, 0, &b, &c, &up);
    assert_int_equal(vmig_point_id_cmp(&st.range[0].hw, &c), 0);
    /* acknowledged out of order: acked moves only over the contiguous run */
    vmig_window_ack(&w, 0, s1, &b, 5);
    struct vmig_window_pos snap[VMIG_MAX_RANGES];
    vmig_window_snapshot(&w, snap);
    assert_int_equal(snap[0].start.kind, VMIG_ID_NONE);
    vmig_window_ack(&w, 0, s0, &a, 5);
    vmig_window_snapshot(&w, snap);
    assert_int_equal(vmig_point_id_cmp(&snap[0].start, &b), 0);
    assert_int_equal(snap[0].points, 10);
    /* persisted state does not move at an acknowledgement, only at a clean flush */
    assert_int_equal(st.range[0].start.kind, VMIG_ID_NONE);
    vmig_window_durable(&w, &st, snap);
    assert_int_equal(vmig_point_id_cmp(&st.range[0].start, &b), 0);
    assert_int_equal(st.range[0].points, 10);
    vmig_window_ack(&w, 0, s2, &c, 5);
    /* a resume from the durable offset: pages below hw go with Upsert */
    vmig_window_start(&w, &st);
    vmig_window_out(&w, &st, 0, &b, &c, &up);
    assert_true(up);
    vmig_window_out(&w, &st, 0, &c, &none, &up);
    assert_false(up);
    assert_int_equal(st.range[0].hw.kind, VMIG_ID_NONE); /* the end was handed out */
    vmig_window_release(&w);
}

int main(void)
{
    alarm(600); /* a cancel that never reaches a stalled call must fail, not hang CI */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_offsets),
        cmocka_unit_test(crash_every_step_slices),
        cmocka_unit_test(crash_every_step_ranges),
        cmocka_unit_test(crash_every_step_lossy),
        cmocka_unit_test(crash_every_step_lossy_ranges),
        cmocka_unit_test(outage_every_step),
        cmocka_unit_test(outage_then_kill_every_step),
        cmocka_unit_test(stall_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

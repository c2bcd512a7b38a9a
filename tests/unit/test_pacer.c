/*
 * test_pacer.c - the write pacer (util/pacer.c) on a simulated clock: unpaced until a
 * throttled answer, the first rate from what was acknowledged before it, one cut per
 * second whatever the number of writers refused, growth on acknowledged bytes, queued
 * reservations; and, against a simulated rate-limited target (a token bucket like
 * Milvus's and the ledger proxy's: a request passes when the bucket is not in debt and
 * is charged its bytes), the share of the quota two writers get with the pacer and
 * how many refusals it costs against back-off alone (each refusal is a whole request
 * body uploaded for nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/pacer.h"

static void unpaced_until_throttled(void **state)
{
    (void)state;
    struct vmig_pacer p;
    vmig_pacer_init(&p);
    for (uint64_t t = 0; t < 3000; t += 100) {
        assert_int_equal(vmig_pacer_reserve(&p, 1000000, t), 0);
        vmig_pacer_ok(&p, 1000000, t + 50);
    }
    assert_true(vmig_pacer_rate(&p) == 0);
    /* 1 MB every 100 ms was taken: 10 MB/s; the first rate is 90 % of it */
    vmig_pacer_throttled(&p, 3000);
    double r = vmig_pacer_rate(&p);
    assert_true(r > 8.0e6 && r < 9.5e6);
    /* writers refused together: one cut */
    vmig_pacer_throttled(&p, 3010);
    vmig_pacer_throttled(&p, 3020);
    assert_true(vmig_pacer_rate(&p) == r);
    vmig_pacer_throttled(&p, 4100);
    assert_true(vmig_pacer_rate(&p) < r * 0.81 && vmig_pacer_rate(&p) > r * 0.79);
}

static void nothing_taken_stays_unpaced(void **state)
{
    (void)state;
    struct vmig_pacer p;
    vmig_pacer_init(&p);
    vmig_pacer_throttled(&p, 10); /* refused before anything was taken: nothing to learn */
    assert_true(vmig_pacer_rate(&p) == 0);
    assert_int_equal(vmig_pacer_reserve(&p, 5000000, 20), 0);
}

static void reservations_queue(void **state)
{
    (void)state;
    struct vmig_pacer p;
    vmig_pacer_init(&p);
    vmig_pacer_ok(&p, 2000000, 0);
    vmig_pacer_ok(&p, 2000000, 1000); /* 4 MB acknowledged over the first second */
    vmig_pacer_throttled(&p, 1000);   /* 3.6 MB/s */
    /* three writers of 0.9 MB at once: each after the one before, at 3.6 MB/s */
    int w1 = vmig_pacer_reserve(&p, 900000, 1000);
    int w2 = vmig_pacer_reserve(&p, 900000, 1000);
    int w3 = vmig_pacer_reserve(&p, 900000, 1000);
    assert_in_range(w1, 245, 255);
    assert_in_range(w2, 495, 505);
    assert_in_range(w3, 745, 755);
    /* acknowledged bytes raise the rate */
    double r = vmig_pacer_rate(&p);
    vmig_pacer_ok(&p, 900000, 1600);
    assert_true(vmig_pacer_rate(&p) > r);
}

static void same_address_same_pacer(void **state)
{
    (void)state;
    struct vmig_pacer *a = vmig_pacer_for("http://127.0.0.1:19530");
    struct vmig_pacer *b = vmig_pacer_for("http://127.0.0.1:19530");
    struct vmig_pacer *c = vmig_pacer_for("http://127.0.0.1:19531");
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
}

/* ---- a simulated rate-limited target, 1 ms steps ---- */

struct sim {
    double rate, burst, tokens; /* the target's bucket, bytes/s */
    uint64_t admitted, refused;
};

static int sim_admit(struct sim *s, double n)
{
    if (s->tokens < 0) {
        s->refused++;
        return 0;
    }
    s->tokens -= n;
    s->admitted += (uint64_t)n;
    return 1;
}

struct writer {
    uint64_t next; /* when it acts next */
    int state;     /* 0: about to reserve, 1: about to send, 2: in flight */
    int in_a_row;  /* refusals of this request in a row (back-off) */
    unsigned seed;
};

/* Two writers of 2.7 MB requests (W1's Insert size) for 120 s into a 4 MB/s quota with
 * a 4 MB burst; a request takes 200 ms when admitted (upload + server), a refusal 5 ms;
 * after a refusal a writer backs off as util/retry.c does: cap/2 + random(cap/2),
 * cap = 200 ms x 2^n. Returns the share of the quota used; *refused the refusals. */
static double simulate(int paced, uint64_t *refused)
{
    const double n = 2.7e6, q = 4e6;
    const uint64_t end = 120000;
    struct sim s = {q, q, q, 0, 0};
    struct vmig_pacer p;
    vmig_pacer_init(&p);
    struct writer w[2] = {{0, 0, 0, 1}, {7, 0, 0, 2}};
    for (uint64_t t = 0; t < end; t++) {
        s.tokens += s.rate / 1000.0;
        if (s.tokens > s.burst) s.tokens = s.burst;
        for (int i = 0; i < 2; i++) {
            struct writer *x = &w[i];
            if (t < x->next) continue;
            if (x->state == 0) { /* reserve, then send after the wait */
                int wait = paced ? vmig_pacer_reserve(&p, (size_t)n, t) : 0;
                x->next = t + (uint64_t)wait;
                x->state = 1;
            } else if (x->state == 1) {
                if (sim_admit(&s, n)) {
                    x->next = t + 200;
                    x->state = 2;
                } else {
                    if (paced) vmig_pacer_throttled(&p, t);
                    x->in_a_row++;
                    long cap = 200L << (x->in_a_row < 16 ? x->in_a_row : 16);
                    if (cap > 10000) cap = 10000;
                    x->seed = x->seed * 1103515245u + 12345u;
                    x->next = t + 5 + (uint64_t)(cap / 2 + (long)(x->seed >> 8) % (cap / 2 + 1));
                    x->state = 0;
                }
            } else { /* acknowledged */
                if (paced) vmig_pacer_ok(&p, (size_t)n, t);
                x->in_a_row = 0;
                x->state = 0;
            }
        }
    }
    *refused = s.refused;
    /* the burst is free: what was taken beyond it, of what the quota allows */
    return ((double)s.admitted - s.burst) / (q * (double)end / 1000.0);
}

static void pacer_fills_the_quota_with_fewer_refusals(void **state)
{
    (void)state;
    uint64_t refused_backoff, refused_paced;
    double backoff = simulate(0, &refused_backoff);
    double paced = simulate(1, &refused_paced);
    print_message("quota share: back-off %.3f (%llu refusals), paced %.3f (%llu refusals)\n",
                  backoff, (unsigned long long)refused_backoff, paced,
                  (unsigned long long)refused_paced);
    assert_true(paced >= 0.9);
    assert_true(paced <= 1.01);
    assert_true(paced >= backoff - 0.02);
    assert_true(refused_paced * 2 < refused_backoff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unpaced_until_throttled),
        cmocka_unit_test(nothing_taken_stays_unpaced),
        cmocka_unit_test(reservations_queue),
        cmocka_unit_test(same_address_same_pacer),
        cmocka_unit_test(pacer_fills_the_quota_with_fewer_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

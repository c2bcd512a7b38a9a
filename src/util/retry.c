/*
 * retry.c - backoff with full jitter (AWS architecture blog "Exponential Backoff
 * and Jitter"): sleep = random(0, min(cap, base * 2^attempt)). Full jitter keeps
 * many readers/writers from hammering a recovering server in lockstep.
 */
#include "retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vmig/run.h"
#include "vmig/types.h"

struct vmig_retry_policy vmig_retry_default = {0, 200, 10000, 300000, 0};

struct vmig_retry_policy vmig_retry_probe(void)
{
    struct vmig_retry_policy p = vmig_retry_default;
    p.max_attempts = 3;
    if (p.max_total_ms == 0 || p.max_total_ms > 10000) p.max_total_ms = 10000;
    p.max_throttle_ms = 10000;
    return p;
}

int vmig_retry_after_ms(const char *s, size_t n)
{
    char num[32];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    if (n == 0 || n >= sizeof num) return 0;
    memcpy(num, s, n);
    num[n] = '\0';
    char *end;
    double v = strtod(num, &end);
    if (end == num || !(v > 0)) return 0;
    return v * 1000 >= VMIG_THROTTLE_WAIT_MAX_MS ? VMIG_THROTTLE_WAIT_MAX_MS : (int)(v * 1000);
}
int vmig_wait_default_s = 3600;

uint64_t vmig_wait_limit_ms(const struct vmig_endpoint *ep)
{
    int s = ep && ep->wait_s > 0 ? ep->wait_s : vmig_wait_default_s > 0 ? vmig_wait_default_s : 3600;
    return (uint64_t)s * 1000u;
}

uint64_t vmig_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t vmig_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void vmig_sleep_ms(int ms)
{
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void vmig_retry_start(struct vmig_retry *r, const struct vmig_retry_policy *p,
                      const struct vmig_run_ctx *ctx)
{
    r->ctx = ctx;
    r->p = p ? *p : vmig_retry_default;
    if (r->p.base_ms <= 0) r->p.base_ms = 200;
    if (r->p.max_ms <= 0) r->p.max_ms = 10000;
    r->attempt = 0;
    r->throttled = 0;
    r->throttled_ms = 0;
    r->start_ms = vmig_now_ms();
    r->seed = (unsigned)(r->start_ms ^ (uintptr_t)r);
    r->side = VMIG_SIDE_SOURCE;
}

/* One more try of a call, in the run's counters by side and cause. */
static void count_retry(const struct vmig_retry *r, enum vmig_code rc)
{
    if (!r->ctx || !r->ctx->stats || (unsigned)r->side >= VMIG_SIDES) return;
    enum vmig_retry_cause c = rc == VMIG_E_TIMEOUT       ? VMIG_CAUSE_TIMEOUT
                              : rc == VMIG_E_UNAVAILABLE ? VMIG_CAUSE_UNAVAILABLE
                              : rc == VMIG_E_RATE_LIMIT  ? VMIG_CAUSE_RATE_LIMIT
                                                         : VMIG_CAUSE_OTHER;
    atomic_fetch_add(&r->ctx->stats->retries[r->side][c], 1);
}

/* A throttled answer: wait what the server asked (or back off), count it. */
static int throttle(struct vmig_retry *r, struct vmig_err *err, const char *what)
{
    if (vmig_run_cancelled(r->ctx)) return 0;
    uint64_t max = r->p.max_throttle_ms > 0 ? (uint64_t)r->p.max_throttle_ms : VMIG_THROTTLE_MAX_MS;
    if (r->throttled_ms >= max) {
        if (err)
            vmig_err_suffix(err, "; throttled %d times over %.0f s", r->throttled,
                            (double)r->throttled_ms / 1000.0);
        return 0;
    }
    r->throttled++;
    int wait = err ? err->retry_after_ms : 0;
    if (wait <= 0) {
        long cap = (long)r->p.base_ms << (r->throttled < 16 ? r->throttled : 16);
        if (cap > r->p.max_ms) cap = r->p.max_ms;
        wait = (int)(cap / 2 + rand_r(&r->seed) % (unsigned)(cap / 2 + 1));
    }
    if (wait > VMIG_THROTTLE_WAIT_MAX_MS) wait = VMIG_THROTTLE_WAIT_MAX_MS;
    if (r->ctx && r->ctx->stats) atomic_fetch_add(&r->ctx->stats->throttled, 1);
    count_retry(r, VMIG_E_RATE_LIMIT);
    vmig_run_log(r->ctx, VMIG_LOG_WARN, "%s; throttled (%d in a row): waiting %.1f s%s",
                 err && err->msg[0] ? err->msg : what, r->throttled, wait / 1000.0,
                 err && err->retry_after_ms > 0 ? " as the server asked" : "");
    uint64_t t0 = vmig_now_ms();
    int cancelled = vmig_run_sleep(r->ctx, wait);
    uint64_t waited = vmig_now_ms() - t0; /* what it waited, a cancel included */
    r->throttled_ms += waited;
    if (r->ctx && r->ctx->stats) atomic_fetch_add(&r->ctx->stats->throttled_ms, waited);
    return !cancelled;
}

int vmig_retry_again(struct vmig_retry *r, enum vmig_code rc, struct vmig_err *err,
                     const char *what)
{
    if (rc == VMIG_OK || !vmig_code_is_retryable(rc)) return 0;
    if (rc == VMIG_E_RATE_LIMIT) return throttle(r, err, what);
    r->attempt++;
    uint64_t spent = vmig_now_ms() - r->start_ms - r->throttled_ms;
    int out_of_attempts = r->p.max_attempts > 0 && r->attempt >= r->p.max_attempts;
    int out_of_time = r->p.max_total_ms > 0 && spent >= (uint64_t)r->p.max_total_ms;
    int cancelled = vmig_run_cancelled(r->ctx);
    if (out_of_attempts || out_of_time || cancelled) {
        if (!cancelled && err && r->attempt > 1) {
            /* the failure's own words first: what could not be reached and why */
            vmig_err_suffix(err, "; tried %d times in %.1f s", r->attempt, (double)spent / 1000.0);
        }
        return 0;
    }
    long cap = (long)r->p.base_ms << (r->attempt < 16 ? r->attempt : 16);
    if (cap > r->p.max_ms) cap = r->p.max_ms;
    int sleep = (int)(rand_r(&r->seed) % (unsigned)(cap + 1));
    if (r->p.max_total_ms > 0 && spent + (uint64_t)sleep > (uint64_t)r->p.max_total_ms)
        sleep = (int)((uint64_t)r->p.max_total_ms - spent);
    count_retry(r, rc);
    /* the message names the call already when the caller prefixed it (the usual case) */
    if (err && err->msg[0])
        vmig_run_log(r->ctx, VMIG_LOG_WARN, "%s; retry %d in %d ms", err->msg, r->attempt, sleep);
    else
        vmig_run_log(r->ctx, VMIG_LOG_WARN, "%s (%s); retry %d in %d ms", what, vmig_strerror(rc),
                     r->attempt, sleep);
    return !vmig_run_sleep(r->ctx, sleep);
}

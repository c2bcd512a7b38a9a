/*
 * retry.h - the one retry policy of libvmig: exponential backoff with full jitter
 * for retryable codes (timeouts, unavailable, rate limits), bounded by a number of
 * attempts and a total time, and ended by the run's cancel (its back-off sleeps in
 * 100 ms slices). Connectors wrap each remote call in it; every retry is logged,
 * with its reason, to the run's log.
 *
 *   struct vmig_retry r; vmig_retry_start(&r, &policy, ctx);
 *   do { rc = call(..., err); } while (vmig_retry_again(&r, rc, err, "scroll 'docs'"));
 */
#ifndef VMIG_UTIL_RETRY_H
#define VMIG_UTIL_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "vmig/error.h"
#include "vmig/run.h"

struct vmig_retry_policy {
    int max_attempts;     /* 0 = unlimited (bounded by max_total_ms) */
    int base_ms;          /* first backoff, default 200 */
    int max_ms;           /* cap per sleep, default 10000 */
    int max_total_ms;     /* give up after this long, default 300000 (5 min) */
    int max_throttle_ms;  /* rate-limit waits in a row before giving up; 0 = VMIG_THROTTLE_MAX_MS */
};

struct vmig_retry {
    struct vmig_retry_policy p;
    int attempt;
    int throttled;        /* rate-limited answers so far (not attempts: the server is up) */
    uint64_t throttled_ms; /* time waited on them, not billed to max_total_ms */
    uint64_t start_ms;
    unsigned seed;
    const struct vmig_run_ctx *ctx; /* cancel + log (may be NULL) */
    enum vmig_side side; /* whom the calls go to, for the run's retry counters; source unless
                          * the caller sets it after vmig_retry_start */
};

/* Process-wide default policy (settable by the host, e.g. --retry-max-time). */
extern struct vmig_retry_policy vmig_retry_default;
/* The policy of a pre-flight check, which should fail fast on a wrong address or a
 * throttled server: the default's, with 3 attempts, 10 s and 10 s of throttling at most. */
struct vmig_retry_policy vmig_retry_probe(void);
/* Milliseconds from a Retry-After value (seconds, "1" or "1.5"; n bytes, not
 * NUL-terminated), bounded by VMIG_THROTTLE_WAIT_MAX_MS; 0 when it is not a number. */
int vmig_retry_after_ms(const char *s, size_t n);

/* Process-wide bound of every wait on a server (flush, index build, load), in seconds,
 * for endpoints that set none (the host sets it from --wait-timeout; jobs run from the
 * store use it). Default 3600. */
extern int vmig_wait_default_s;
struct vmig_endpoint;
/* The bound of one wait for ep in ms: its wait_s, else vmig_wait_default_s. */
uint64_t vmig_wait_limit_ms(const struct vmig_endpoint *ep);

void vmig_retry_start(struct vmig_retry *r, const struct vmig_retry_policy *p /* NULL = default */,
                      const struct vmig_run_ctx *ctx);
/* After a call returned rc: nonzero when the caller should try again (it already
 * slept). Zero when rc is OK, not retryable, the run is cancelled, or the budget is
 * spent; in the last case err's message is extended with the number of attempts.
 * A rate limit (VMIG_E_RATE_LIMIT) is pacing, not failure: it waits what the server
 * asked (err->retry_after_ms, else the backoff), counts in the run's stats and log,
 * and neither uses an attempt nor the time budget, up to VMIG_THROTTLE_MAX_MS of
 * throttling in a row. */
#define VMIG_THROTTLE_MAX_MS (3600u * 1000u) /* default max_throttle_ms */
#define VMIG_THROTTLE_WAIT_MAX_MS 120000 /* longest single wait a server may ask */
int vmig_retry_again(struct vmig_retry *r, enum vmig_code rc, struct vmig_err *err,
                     const char *what);

uint64_t vmig_now_ms(void);      /* monotonic */
uint64_t vmig_wall_ms(void);     /* realtime, ms since epoch */
void vmig_sleep_ms(int ms);      /* interruptible only by signals */

#endif

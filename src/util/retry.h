/*
 * retry.h - the one retry policy of libvmig: exponential backoff with full jitter
 * for retryable codes (timeouts, unavailable, rate limits), bounded by a number of
 * attempts and a total time, and interruptible by a cancel flag. Connectors wrap
 * each remote call in it; every retry is logged with its reason.
 *
 *   struct vmig_retry r; vmig_retry_start(&r, &policy);
 *   do { rc = call(..., err); } while (vmig_retry_again(&r, rc, err, "scroll 'docs'"));
 */
#ifndef VMIG_UTIL_RETRY_H
#define VMIG_UTIL_RETRY_H

#include <stdint.h>

#include "vmig/error.h"

struct vmig_retry_policy {
    int max_attempts;     /* 0 = unlimited (bounded by max_total_ms) */
    int base_ms;          /* first backoff, default 200 */
    int max_ms;           /* cap per sleep, default 10000 */
    int max_total_ms;     /* give up after this long, default 300000 (5 min) */
    const volatile int *cancel; /* nonzero = stop retrying (may be NULL) */
};

struct vmig_retry {
    struct vmig_retry_policy p;
    int attempt;
    uint64_t start_ms;
    unsigned seed;
};

/* Process-wide default policy (settable by the host, e.g. --retry-max-time). */
extern struct vmig_retry_policy vmig_retry_default;

void vmig_retry_start(struct vmig_retry *r, const struct vmig_retry_policy *p /* NULL = default */);
/* After a call returned rc: nonzero when the caller should try again (it already
 * slept). Zero when rc is OK, not retryable, or the budget is spent; in the last
 * case err's message is extended with the number of attempts. */
int vmig_retry_again(struct vmig_retry *r, enum vmig_code rc, struct vmig_err *err,
                     const char *what);

uint64_t vmig_now_ms(void);      /* monotonic */
uint64_t vmig_wall_ms(void);     /* realtime, ms since epoch */
void vmig_sleep_ms(int ms);      /* interruptible only by signals */

#endif

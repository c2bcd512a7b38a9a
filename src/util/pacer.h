/*
 * pacer.h - a client-side pacer for a target that rate-limits without saying how
 * long to wait (Milvus and Zilliz Cloud answer "rate limit exceeded" with no
 * retry-after). Back-off alone leaves the quota unused in bursts: every writer sleeps
 * at once, the bucket refills with nobody sending, then they all send together and
 * are throttled again. The pacer learns the rate the target takes instead: unpaced
 * until the first throttled answer, then at 90 % of the rate acknowledged just before
 * it, cut by a fifth at most once a second on further throttles, raised by 5 % of
 * each acknowledged request's bytes (additive increase, multiplicative decrease, as
 * TCP does). Writers reserve a request's bytes before sending and wait what the
 * reservation says; tokens may go negative, so writers queue in turn.
 *
 * One pacer per target address per process (vmig_pacer_for), shared by every handle
 * and writer of it: the quota is the cluster's, not one connection's. The algorithm
 * takes the clock as an argument so the unit test can drive it.
 */
#ifndef VMIG_UTIL_PACER_H
#define VMIG_UTIL_PACER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vmig_pacer {
    pthread_mutex_t mu;
    double rate;     /* bytes/s allowed; 0 = unpaced (no throttled answer yet) */
    double tokens;   /* bytes that may go now; negative = reserved ahead */
    uint64_t t_ms;   /* when tokens were last refilled */
    uint64_t cut_ms; /* the last cut of rate */
    int win_on;      /* a window has begun */
    uint64_t win_ms; /* the acknowledged-bytes window: its start, its bytes */
    double win_bytes;
    double last_rate;   /* acknowledged bytes/s of the last full window (0 = none yet) */
    uint64_t throttles; /* throttled answers seen */
};

#define VMIG_PACER_MIN_RATE (64.0 * 1024) /* never below 64 KiB/s */

void vmig_pacer_init(struct vmig_pacer *p);
/* Reserve n bytes at now_ms: the milliseconds to wait before sending (0 = now). */
int vmig_pacer_reserve(struct vmig_pacer *p, size_t n, uint64_t now_ms);
/* The target took a request of n bytes. */
void vmig_pacer_ok(struct vmig_pacer *p, size_t n, uint64_t now_ms);
/* The target refused a request with a rate limit. */
void vmig_pacer_throttled(struct vmig_pacer *p, uint64_t now_ms);
/* The bytes/s the pacer holds to (0 = unpaced). */
double vmig_pacer_rate(struct vmig_pacer *p);

/* The process's pacer for a target address (e.g. "host:port/db"); NULL when the
 * table (16 addresses) is full, which means unpaced. Never freed. */
struct vmig_pacer *vmig_pacer_for(const char *key);

#endif

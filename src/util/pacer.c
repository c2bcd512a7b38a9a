/*
 * pacer.c - the target-side pacer of pacer.h: a token bucket whose rate is learned
 * from throttled answers (AIMD), and the process's table of pacers by address.
 */
#include "pacer.h"

#include <string.h>

#define WINDOW_MS 1000 /* the acknowledged rate is measured over windows this long */
#define CUT_EVERY_MS 1000
#define FIRST_SHARE 0.9 /* the first rate: this share of the rate acknowledged before */
#define CUT 0.8         /* a later throttle: the rate times this */
#define RAISE 0.05      /* each acknowledged byte raises the rate by this many bytes/s */
#define BURST_S 0.25    /* tokens saved up while idle: this many seconds of the rate */

void vmig_pacer_init(struct vmig_pacer *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
}

static void refill(struct vmig_pacer *p, uint64_t now)
{
    if (now > p->t_ms) {
        p->tokens += (double)(now - p->t_ms) * p->rate / 1000.0;
        double burst = p->rate * BURST_S;
        if (p->tokens > burst) p->tokens = burst;
    }
    p->t_ms = now;
}

int vmig_pacer_reserve(struct vmig_pacer *p, size_t n, uint64_t now_ms)
{
    int wait = 0;
    pthread_mutex_lock(&p->mu);
    if (p->rate > 0) {
        refill(p, now_ms);
        p->tokens -= (double)n;
        if (p->tokens < 0) {
            /* what is owed, at the rate: this writer's turn comes after those reserved
             * before it; a request larger than a burst waits for its own bytes too */
            double ms = -p->tokens * 1000.0 / p->rate;
            wait = ms > 120000 ? 120000 : (int)ms;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return wait;
}

void vmig_pacer_ok(struct vmig_pacer *p, size_t n, uint64_t now_ms)
{
    pthread_mutex_lock(&p->mu);
    if (!p->win_on) p->win_on = 1, p->win_ms = now_ms;
    p->win_bytes += (double)n;
    if (now_ms - p->win_ms >= WINDOW_MS) {
        p->last_rate = p->win_bytes * 1000.0 / (double)(now_ms - p->win_ms);
        p->win_ms = now_ms;
        p->win_bytes = 0;
    }
    if (p->rate > 0) p->rate += RAISE * (double)n;
    pthread_mutex_unlock(&p->mu);
}

void vmig_pacer_throttled(struct vmig_pacer *p, uint64_t now_ms)
{
    pthread_mutex_lock(&p->mu);
    p->throttles++;
    if (p->rate == 0) {
        /* the first: a little under what the target took before it refused */
        double seen = p->last_rate;
        if (p->win_on && now_ms > p->win_ms) {
            double cur = p->win_bytes * 1000.0 / (double)(now_ms - p->win_ms);
            if (cur > seen) seen = cur;
        }
        /* nothing taken yet to learn from: stay unpaced (the back-off waits) until a
         * later refusal comes after acknowledged requests */
        p->rate = seen * FIRST_SHARE;
        if (p->rate > 0 && p->rate < VMIG_PACER_MIN_RATE) p->rate = VMIG_PACER_MIN_RATE;
        p->cut_ms = now_ms;
        p->t_ms = now_ms;
        p->tokens = 0;
    } else if (now_ms - p->cut_ms >= CUT_EVERY_MS) {
        /* once a second at most: writers refused together are one signal */
        p->rate *= CUT;
        if (p->rate < VMIG_PACER_MIN_RATE) p->rate = VMIG_PACER_MIN_RATE;
        p->cut_ms = now_ms;
    }
    if (p->tokens > 0) p->tokens = 0;
    pthread_mutex_unlock(&p->mu);
}

double vmig_pacer_rate(struct vmig_pacer *p)
{
    pthread_mutex_lock(&p->mu);
    double r = p->rate;
    pthread_mutex_unlock(&p->mu);
    return r;
}

#define NPACERS 16
static struct {
    char key[256];
    struct vmig_pacer p;
} pacers[NPACERS];
static size_t npacers;
static pthread_mutex_t pacers_mu = PTHREAD_MUTEX_INITIALIZER;

struct vmig_pacer *vmig_pacer_for(const char *key)
{
    struct vmig_pacer *out = NULL;
    pthread_mutex_lock(&pacers_mu);
    for (size_t i = 0; i < npacers && !out; i++)
        if (!strcmp(pacers[i].key, key)) out = &pacers[i].p;
    if (!out && npacers < NPACERS && strlen(key) < sizeof pacers[0].key) {
        strcpy(pacers[npacers].key, key);
        vmig_pacer_init(&pacers[npacers].p);
        out = &pacers[npacers++].p;
    }
    pthread_mutex_unlock(&pacers_mu);
    return out;
}

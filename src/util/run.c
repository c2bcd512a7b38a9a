/*
 * run.c - the run context (include/vmig/run.h): cancel checks, cancellable sleeps
 * and the per-run log sink.
 */
#include "vmig/run.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/retry.h"

void vmig_run_ctx_init(struct vmig_run_ctx *c)
{
    memset(c, 0, sizeof *c);
    atomic_init(&c->cancel, 0);
    atomic_init(&c->own.throttled, 0);
    atomic_init(&c->own.throttled_ms, 0);
    for (int i = 0; i < VMIG_SIDES; i++)
        for (int k = 0; k < VMIG_CAUSES; k++)
            atomic_init(&c->own.retries[i][k], 0);
    c->stats = &c->own;
    c->log_level = VMIG_LOG_WARN;
}

int vmig_run_cancelled(const struct vmig_run_ctx *c)
{
    return c && (atomic_load_explicit(&c->cancel, memory_order_relaxed) ||
                 (c->deadline_ms && vmig_now_ms() >= c->deadline_ms));
}

int vmig_run_sleep(const struct vmig_run_ctx *c, int ms)
{
    while (ms > 0) {
        if (vmig_run_cancelled(c)) return 1;
        int s = ms > 100 ? 100 : ms;
        vmig_sleep_ms(s);
        ms -= s;
    }
    return vmig_run_cancelled(c);
}

void vmig_run_log(const struct vmig_run_ctx *c, int level, const char *fmt, ...)
{
    int mine = c && c->log; /* a run with a sink of its own never reaches the process log */
    if (mine ? level > c->log_level : level > vmig_log_level_) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (mine) c->log(c->log_ud, level, line);
    else vmig_log_emit(level, "%s", line);
}

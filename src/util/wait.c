/*
 * wait.c - bounded, reported, cancellable waits on a server (util/wait.h).
 */
#include "util/wait.h"

#include <stddef.h>

#include "util/retry.h"

#define WAIT_REPORT_MS 10000 /* a wait logs its progress this often */
#define WAIT_LOUD_MS 60000   /* and as a warning from this long on */

void vmig_wait_init(struct vmig_wait *w, const struct vmig_run_ctx *ctx, uint64_t limit_ms)
{
    w->ctx = ctx;
    w->start = w->reported = vmig_now_ms();
    w->limit_ms = limit_ms;
    w->pause = 200;
    w->first = 1;
}

enum vmig_code vmig_wait_next(struct vmig_wait *w, const char *what, const char *progress,
                              const char *undone, struct vmig_err *err)
{
    uint64_t now = vmig_now_ms(), spent = now - w->start;
    const char *sep = progress[0] ? ", " : "";
    if (w->first || now - w->reported >= WAIT_REPORT_MS) {
        vmig_run_log(w->ctx, spent >= WAIT_LOUD_MS ? VMIG_LOG_WARN : VMIG_LOG_INFO,
                     "waiting for %s%s%s, %.0f s of at most %.0f s (--wait-timeout)", what, sep,
                     progress, (double)spent / 1000.0, (double)w->limit_ms / 1000.0);
        w->reported = now;
        w->first = 0;
    }
    if (spent > w->limit_ms) {
        vmig_err_set(err, VMIG_E_TIMEOUT, "%s: not %s after %.0f s%s%s%s; the server may be busy",
                     what, undone, (double)w->limit_ms / 1000.0, progress[0] ? " (" : "", progress,
                     progress[0] ? ")" : "");
        return vmig_err_fix(err, VMIG_FIX_WAIT_TIMEOUT, NULL);
    }
    if (vmig_run_sleep(w->ctx, w->pause))
        return vmig_err_set(err, VMIG_E_CANCELLED, "%s: cancelled while waiting", what);
    if (w->pause < 5000) w->pause *= 2;
    return VMIG_OK;
}

/*
 * progress.c - what the CLI prints while a migration runs: a progress bar per
 * collection on stderr (redrawn in place on a terminal, a line every 5 s otherwise,
 * JSON lines with --json), and library log lines. Shared by `migrate`, `jobs
 * resume|retry|restart` and `worker`.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/vmig.h"

void cli_ui_init(struct cli_ui *u, const struct cli_opts *o)
{
    u->o = o;
    u->tty = isatty(2);
    u->last_line = 0;
    u->drawn = 0;
    pthread_mutex_init(&u->mu, NULL);
}

void cli_ui_release(struct cli_ui *u)
{
    if (u->drawn && u->tty) fputc('\n', stderr);
    pthread_mutex_destroy(&u->mu);
}

static void fmt_eta(double s, char *out, size_t n)
{
    if (s < 0) snprintf(out, n, "--");
    else if (s < 60) snprintf(out, n, "%ds", (int)s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* 100000 -> "100 000": row counts of the index build are read at a glance */
static void fmt_count(uint64_t v, char *out, size_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) out[k++] = ' ';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

void cli_on_progress(void *ud, const struct vmig_progress *p)
{
    struct cli_ui *u = ud;
    if (u->o->quiet) return;
    pthread_mutex_lock(&u->mu);
    double pct = p->total ? 100.0 * (double)p->written / (double)p->total : 100.0;
    if (pct > 100) pct = 100;
    if (u->o->json) {
        fprintf(stderr, "{\"event\":\"progress\",\"collection\":");
        cli_json_str(stderr, p->coll);
        fprintf(stderr,
                ",\"phase\":\"%s\",\"written\":%llu,\"read\":%llu,\"total\":%llu,"
                "\"points_per_s\":%.0f,\"eta_s\":%.0f,\"index_rows\":%llu,\"index_total\":%llu}\n",
                vmig_phase_name(p->phase), (unsigned long long)p->written,
                (unsigned long long)p->read, (unsigned long long)p->total, p->points_per_s,
                p->eta_s, (unsigned long long)p->index_rows, (unsigned long long)p->index_total);
    } else if (p->phase == VMIG_PHASE_INDEXING) {
        /* the data is in, loaded and verified: what remains is the server's build (no
         * line before the server's first answer: 0 / 0 would say nothing) */
        char rows[32], total[32];
        fmt_count(p->index_rows, rows, sizeof rows);
        fmt_count(p->index_total, total, sizeof total);
        if (p->index_total) {
            fprintf(stderr, "%s%-24.24s indexing: %s / %s rows%-40s%s", u->tty ? "\r" : "", p->coll,
                    rows, total, "", u->tty ? "" : "\n");
            u->drawn = u->tty;
            fflush(stderr);
        }
    } else {
        uint64_t now = vmig_now_ms();
        if (u->tty || now - u->last_line >= 5000 || p->phase != VMIG_PHASE_COPYING) {
            u->last_line = now;
            char bar[31], eta[32];
            int fill = (int)(pct * 30 / 100);
            for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
            bar[30] = '\0';
            fmt_eta(p->eta_s, eta, sizeof eta);
            fprintf(stderr, "%s%-24.24s [%s] %10llu/%-10llu %5.1f%% %8.0f pts/s ETA %-7s %-9s%s",
                    u->tty ? "\r" : "", p->coll, bar, (unsigned long long)p->written,
                    (unsigned long long)p->total, pct, p->points_per_s, eta,
                    vmig_phase_name(p->phase), u->tty ? "" : "\n");
            if (u->tty && p->phase == VMIG_PHASE_DONE) fputc('\n', stderr);
            u->drawn = u->tty && p->phase != VMIG_PHASE_DONE;
            fflush(stderr);
        }
    }
    pthread_mutex_unlock(&u->mu);
}

void cli_log_stderr(void *ud, int level, const char *msg)
{
    static const char *lv[] = {"error", "warning", "info", "debug"};
    (void)ud;
    fprintf(stderr, "vmigrate: %s: %s\n", lv[level & 3], msg);
}

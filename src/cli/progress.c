/*
 * progress.c - what the CLI prints while a migration runs: a progress line per
 * collection on stderr, and library log lines. On a terminal the line fits its
 * width (TIOCGWINSZ, else $COLUMNS, else 80) and is redrawn in place, one line per
 * collection; otherwise (a file, a pipe) a line is printed at each phase change and
 * about every 10 s, never a redraw stream; with --json, JSON lines. Shared by
 * `migrate` and `jobs resume|retry|restart`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/vmig.h"

#define LINE_EVERY_MS 10000 /* not a terminal: a line at least this far apart in a phase */
#define NAME_MAX_COLS 24

/* The ui drawing on the terminal now, so that a log line first clears its bar. */
static struct cli_ui *drawing;
static pthread_mutex_t drawing_mu = PTHREAD_MUTEX_INITIALIZER;

void cli_ui_init(struct cli_ui *u, const struct cli_opts *o)
{
    u->o = o;
    u->tty = isatty(2);
    u->last_line = 0;
    u->drawn = 0;
    u->last_phase = -1;
    u->last_coll[0] = '\0';
    pthread_mutex_init(&u->mu, NULL);
    pthread_mutex_lock(&drawing_mu);
    if (u->tty) drawing = u;
    pthread_mutex_unlock(&drawing_mu);
}

void cli_ui_release(struct cli_ui *u)
{
    pthread_mutex_lock(&drawing_mu);
    if (drawing == u) drawing = NULL;
    pthread_mutex_unlock(&drawing_mu);
    if (u->drawn && u->tty) fputc('\n', stderr);
    pthread_mutex_destroy(&u->mu);
}

/* Columns a line may take: one less than the terminal's, so that writing the last
 * column never wraps the cursor onto a new line. */
static int line_cols(const struct cli_ui *u)
{
    struct winsize ws;
    int w = 0;
    if (u->tty && ioctl(2, TIOCGWINSZ, &ws) == 0) w = ws.ws_col;
    if (w <= 0) {
        const char *c = getenv("COLUMNS");
        w = c ? atoi(c) : 0;
    }
    if (w <= 0) w = 80;
    if (w > 400) w = 400;
    return w - 1 > 10 ? w - 1 : 10;
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

/* name, then [bar] when there is room, then tail; cut to cols and, on a terminal, padded
 * to cols so that a shorter line wipes the longer one it redraws. */
static void compose(char *line, int cols, int pad, const char *name, double pct, const char *tail,
                    const char *short_tail)
{
    int namew = (int)strlen(name);
    int cap = cols / 4 > NAME_MAX_COLS ? NAME_MAX_COLS : cols / 4 < 8 ? 8 : cols / 4;
    if (namew > cap) namew = cap;
    /* what gives way first on a narrow terminal: the bar (at least 8 wide or none),
     * then the rate and ETA (short_tail) */
    if (namew + (int)strlen(tail) > cols) tail = short_tail;
    int barw = cols - namew - (int)strlen(tail) - 3; /* " [" "]" */
    if (barw > 30) barw = 30;
    if (barw < 8) barw = 0;
    int k;
    if ((int)strlen(name) > namew) { /* head~tail: names that share a prefix stay apart */
        int tailw = namew / 3, headw = namew - tailw - 1;
        const char *end = name + strlen(name) - tailw;
        /* cut between UTF-8 characters, never inside one */
        while (headw > 0 && ((unsigned char)name[headw] & 0xC0) == 0x80)
            headw--;
        while (*end && ((unsigned char)*end & 0xC0) == 0x80)
            end++;
        k = snprintf(line, (size_t)cols + 1, "%.*s~%s", headw, name, end);
    } else {
        k = snprintf(line, (size_t)cols + 1, "%-*s", namew, name);
    }
    if (barw && pct >= 0) {
        char bar[32];
        int fill = (int)(pct * barw / 100);
        for (int i = 0; i < barw; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[barw] = '\0';
        k += snprintf(line + k, (size_t)(cols + 1 - k), " [%s]", bar);
    }
    if (k < cols) k += snprintf(line + k, (size_t)(cols + 1 - k), "%s", tail);
    if (k > cols) k = cols;
    while (pad && k < cols)
        line[k++] = ' ';
    line[k] = '\0';
}

void cli_on_progress(void *ud, const struct vmig_progress *p)
{
    struct cli_ui *u = ud;
    if (u->o->quiet) return;
    pthread_mutex_lock(&u->mu);
    /* 0 of 0 is no progress to draw, not a full bar */
    double pct = p->total ? 100.0 * (double)p->written / (double)p->total : -1;
    if (pct > 100) pct = 100;
    if (u->o->json) {
        fprintf(stderr, "{\"event\":\"progress\",\"collection\":");
        cli_json_str(stderr, p->coll);
        fprintf(stderr,
                ",\"phase\":\"%s\",\"written\":%llu,\"read\":%llu,\"total\":%llu,"
                "\"points_per_s\":%.0f,\"eta_s\":%.0f,\"index_rows\":%llu,\"index_total\":%llu,"
                "\"throttled\":%llu,\"throttled_ms\":%llu}\n",
                vmig_phase_name(p->phase), (unsigned long long)p->written,
                (unsigned long long)p->read, (unsigned long long)p->total, p->points_per_s,
                p->eta_s, (unsigned long long)p->index_rows, (unsigned long long)p->index_total,
                (unsigned long long)p->throttled, (unsigned long long)p->throttled_ms);
        pthread_mutex_unlock(&u->mu);
        return;
    }
    /* INDEXING: the data is in, loaded and verified; what remains is the server's build
     * (no line before the server's first answer: 0 / 0 would say nothing) */
    if (p->phase == VMIG_PHASE_INDEXING && !p->index_total) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    uint64_t now = vmig_now_ms();
    int same_coll = strncmp(u->last_coll, p->coll, sizeof u->last_coll - 1) == 0;
    int changed = !same_coll || (int)p->phase != u->last_phase;
    int built = p->phase == VMIG_PHASE_INDEXING && p->index_rows >= p->index_total;
    if (!u->tty && !changed && !built && now - u->last_line < LINE_EVERY_MS) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    char tail[160], short_tail[96], line[420];
    int cols = line_cols(u);
    if (p->phase == VMIG_PHASE_INDEXING) {
        char rows[32], total[32];
        fmt_count(p->index_rows, rows, sizeof rows);
        fmt_count(p->index_total, total, sizeof total);
        snprintf(tail, sizeof tail, " indexing: %s / %s rows", rows, total);
        snprintf(short_tail, sizeof short_tail, " indexing %llu/%llu",
                 (unsigned long long)p->index_rows, (unsigned long long)p->index_total);
        compose(line, cols, u->tty, p->coll, -1, tail, short_tail);
    } else {
        char eta[32], pcts[16] = "--";
        fmt_eta(p->eta_s, eta, sizeof eta);
        if (pct >= 0) snprintf(pcts, sizeof pcts, "%.1f%%", pct);
        /* fixed widths on a terminal: the bar keeps its size from one redraw to the next */
        char tot[24];
        int tw = snprintf(tot, sizeof tot, "%llu", (unsigned long long)p->total);
        int phw = u->tty ? 9 : 0; /* "verifying" */
        char thr[40] = "";
        if (p->throttled) /* rate-limited by a server: paced, said so */
            snprintf(thr, sizeof thr, " throttled %llux", (unsigned long long)p->throttled);
        snprintf(tail, sizeof tail, " %*llu/%s %6s %6.0f/s ETA %-6s %-*s%s", tw,
                 (unsigned long long)p->written, tot, pcts, p->points_per_s, eta, phw,
                 vmig_phase_name(p->phase), thr);
        snprintf(short_tail, sizeof short_tail, " %*llu/%s %6s %-*s", tw,
                 (unsigned long long)p->written, tot, pcts, phw, vmig_phase_name(p->phase));
        compose(line, cols, u->tty, p->coll, pct, tail, short_tail);
    }
    if (u->tty) {
        /* one line per collection: the last one's stays above */
        if (u->drawn && !same_coll) fputc('\n', stderr);
        fprintf(stderr, "\r%s", line);
        u->drawn = 1;
        if (p->phase == VMIG_PHASE_DONE) {
            fputc('\n', stderr);
            u->drawn = 0;
        }
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    u->last_line = now;
    u->last_phase = (int)p->phase;
    snprintf(u->last_coll, sizeof u->last_coll, "%s", p->coll);
    pthread_mutex_unlock(&u->mu);
}

void cli_log_stderr(void *ud, int level, const char *msg)
{
    static const char *lv[] = {"error", "warning", "info", "debug"};
    (void)ud;
    pthread_mutex_lock(&drawing_mu);
    struct cli_ui *u = drawing;
    if (u) {
        /* a line drawn in place is wiped first; the next progress call draws it again */
        pthread_mutex_lock(&u->mu);
        if (u->drawn) fprintf(stderr, "\r%*s\r", line_cols(u), "");
        u->drawn = 0;
        u->last_coll[0] = '\0';
    }
    fprintf(stderr, "vmigrate: %s: %s\n", lv[level & 3], msg);
    if (u) pthread_mutex_unlock(&u->mu);
    pthread_mutex_unlock(&drawing_mu);
}

/*
 * cmd_migrate.c - `vmigrate migrate`: plan (or load an edited plan), then migrate
 * each collection in turn with a progress bar per collection on stderr, write
 * rejected points to --rejects, and print a summary (a table, or JSON with --json).
 * Refused collections are reported and nothing is created for them; the others go on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/vmig.h"

struct ui {
    const struct cli_opts *o;
    int tty;
    FILE *rejects;
    pthread_mutex_t mu;
    uint64_t last_line;
};

static void fmt_eta(double s, char *out, size_t n)
{
    if (s < 0) snprintf(out, n, "--");
    else if (s < 60) snprintf(out, n, "%ds", (int)s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void on_progress(void *ud, const struct vmig_progress *p)
{
    struct ui *u = ud;
    if (u->o->quiet) return;
    pthread_mutex_lock(&u->mu);
    double pct = p->total ? 100.0 * (double)p->written / (double)p->total : 100.0;
    if (pct > 100) pct = 100;
    if (u->o->json) {
        fprintf(stderr,
                "{\"event\":\"progress\",\"collection\":\"%s\",\"phase\":\"%s\",\"written\":%llu,"
                "\"read\":%llu,\"total\":%llu,\"points_per_s\":%.0f,\"eta_s\":%.0f}\n",
                p->coll, vmig_phase_name(p->phase), (unsigned long long)p->written,
                (unsigned long long)p->read, (unsigned long long)p->total, p->points_per_s,
                p->eta_s);
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
            fflush(stderr);
        }
    }
    pthread_mutex_unlock(&u->mu);
}

static void on_reject(void *ud, const char *coll, const struct vmig_point_id *id,
                      const char *reason)
{
    struct ui *u = ud;
    char idt[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(id, idt);
    pthread_mutex_lock(&u->mu);
    if (u->rejects) {
        fprintf(u->rejects, "{\"collection\":");
        cli_json_str(u->rejects, coll);
        if (id->kind == VMIG_ID_NUM) fprintf(u->rejects, ",\"id\":%s,\"reason\":", idt);
        else fprintf(u->rejects, ",\"id\":\"%s\",\"reason\":", idt);
        cli_json_str(u->rejects, reason);
        fprintf(u->rejects, "}\n");
        fflush(u->rejects);
    }
    pthread_mutex_unlock(&u->mu);
}

static int load_plan_file(const char *path, struct vmig_plan *plan)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vmigrate: cannot read plan file '%s'\n", path);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = realloc(text, cap);
            if (!text) abort();
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!text) text = calloc(1, 1);
    text[len] = '\0';
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code code = vmig_plan_from_json(text, plan, &err);
    free(text);
    if (code) {
        fprintf(stderr, "vmigrate: plan file '%s': %s\n", path, err.msg);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_migrate(struct cli_opts *o)
{
    int rc = cli_need(o, 1, 1);
    if (rc) return rc;
    if (!o->plan_file && !o->ncolls && !o->all) {
        fprintf(stderr, "vmigrate migrate: name collections with -c NAME, or use --all or "
                        "--plan FILE\n");
        return EXIT_USAGE;
    }
    struct vmig_map_opts mo;
    struct vmig_plan plan;
    memset(&plan, 0, sizeof plan);
    struct ui u = {0};
    u.o = o;
    u.tty = isatty(2);
    pthread_mutex_init(&u.mu, NULL);
    rc = cli_map_opts(o, &mo);
    if (rc) goto done;
    struct vmig_endpoint src, dst;
    cli_endpoints(o, &src, &dst);
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code code;
    if (o->plan_file) {
        rc = load_plan_file(o->plan_file, &plan);
        if (rc) goto done;
        code = vmig_plan_check_file(&src, &dst, &plan, &mo, &err);
    } else {
        code = vmig_plan_make(&src, &dst, o->colls, o->ncolls, &mo, &plan, &err);
    }
    if (code) {
        cli_error(&err);
        rc = cli_exit_code(code);
        goto done;
    }
    if (o->rejects) {
        u.rejects = fopen(o->rejects, "a");
        if (!u.rejects) {
            fprintf(stderr, "vmigrate: cannot open rejects file '%s'\n", o->rejects);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    struct vmig_migrate_opts mopt;
    vmig_migrate_opts_init(&mopt);
    if (o->readers) mopt.readers = o->readers;
    if (o->writers) mopt.writers = o->writers;
    if (o->page_limit) mopt.page_limit = (uint32_t)o->page_limit;
    if (o->sample >= 0) mopt.verify_sample = o->sample;
    if (o->no_verify) mopt.verify_sample = -1;
    mopt.reject_oversize = o->rejects != NULL;
    mopt.cancel = &cli_cancel;
    mopt.hooks.ud = &u;
    mopt.hooks.progress = on_progress;
    mopt.hooks.reject = on_reject;

    if (o->json) printf("{\"collections\":[");
    int worst = EXIT_OK;
    for (size_t i = 0; i < plan.n; i++) {
        struct vmig_plan_coll *pc = &plan.coll[i];
        struct vmig_coll_state st;
        struct vmig_verify_result vr;
        memset(&vr, 0, sizeof vr);
        vmig_coll_state_init(&st);
        vmig_err_clear(&err);
        uint64_t t0 = vmig_now_ms();
        if (pc->refusal.code) {
            err = pc->refusal;
            code = err.code;
        } else if (cli_cancel) {
            code = vmig_err_set(&err, VMIG_E_CANCELLED, "cancelled before '%s' started",
                                pc->source);
        } else {
            code = vmig_migrate_coll(&src, &dst, pc, &mopt, &st, &vr, &err);
        }
        double secs = (double)(vmig_now_ms() - t0) / 1000.0;
        if (u.tty && !o->quiet && !o->json) fputc('\n', stderr);
        int ec = cli_exit_code(code);
        if (ec && (worst == EXIT_OK || ec == EXIT_CANCELLED)) worst = ec; /* first failure wins */
        if (o->json) {
            printf("%s{\"source\":", i ? "," : "");
            cli_json_str(stdout, pc->source);
            printf(",\"target\":");
            cli_json_str(stdout, pc->target);
            printf(",\"status\":\"%s\",\"points\":%llu,\"total\":%llu,\"seconds\":%.3f,"
                   "\"points_per_s\":%.0f,\"rejected\":%llu,\"nulls_dropped\":%llu,"
                   "\"verify\":{\"ran\":%s,\"source_count\":%llu,\"target_count\":%llu,"
                   "\"sampled\":%llu},\"error\":",
                   code == VMIG_OK ? "SUCCESSFUL" : code == VMIG_E_CANCELLED ? "CANCELLED" : "FAILED",
                   (unsigned long long)st.written, (unsigned long long)st.total, secs,
                   secs > 0 ? (double)st.written / secs : 0.0, (unsigned long long)st.rejected,
                   (unsigned long long)st.nulls_dropped, vr.ran ? "true" : "false",
                   (unsigned long long)vr.source_count, (unsigned long long)vr.target_count,
                   (unsigned long long)vr.sampled);
            if (code) cli_json_str(stdout, err.msg);
            else printf("null");
            printf("}");
        } else if (code) {
            cli_error(&err);
        } else if (!o->quiet) {
            fprintf(stderr,
                    "%s -> %s: %llu points in %.1f s (%.0f points/s)%s; verified: %llu = %llu, "
                    "%llu sampled points identical\n",
                    pc->source, pc->target, (unsigned long long)st.written, secs,
                    secs > 0 ? (double)st.written / secs : 0.0,
                    st.rejected ? " (some rejected: see --rejects file)" : "",
                    (unsigned long long)vr.source_count, (unsigned long long)vr.target_count,
                    (unsigned long long)vr.sampled);
            if (st.nulls_dropped)
                fprintf(stderr, "%s: %llu null payload values dropped\n", pc->source,
                        (unsigned long long)st.nulls_dropped);
        }
    }
    if (o->json) printf("]}\n");
    rc = worst;
done:
    if (u.rejects) fclose(u.rejects);
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    pthread_mutex_destroy(&u.mu);
    return rc;
}

/*
 * verify_full.c - full verification (vmig/verify.h). Pass 1: R reader threads take the
 * read ranges (planned as the copy plans them: Qdrant slices, else sampled id ranges)
 * and scroll each page by page; the target rows of a page's ids are read back by
 * primary key and the two sets compared with the sampled verification's row
 * comparison (vmig_batch_row_diff). A slice is not a contiguous id interval, so the
 * target is asked by ids, never by an id range. Pass 2 (verify_extras.c) runs only
 * when the target holds more rows than pass 1 matched: it scans the target's keys and
 * asks the source which of them it lacks (extras).
 *
 * Exactness of a resume: a page's diff lines are appended, the range's next offset and
 * counts updated and the diff file's length noted under one mutex; the state file is
 * saved from that snapshot (about every second, at each range's end and when the run
 * stops). A resumed run cuts the diff file back to the saved length and rereads each
 * range from its saved offset, so no line is lost or written twice.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/copy.h"
#include "engine/engine_int.h"
#include "engine/verify_full_int.h"
#include "target/target.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/retry.h"
#include "vmig/verify.h"

#define PROGRESS_EVERY_MS 200

void vmig_vfull_opts_init(struct vmig_vfull_opts *o)
{
    memset(o, 0, sizeof *o);
    o->readers = 4;
}

void vmig_vfull_diff_name(const char *job, const char *coll, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "vmigrate-verify-%s%s%s.jsonl", job ? job : "",
                                job ? "-" : "", coll);
    for (size_t i = strlen("vmigrate-verify-"); i < k && i < n; i++) {
        char c = out[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) out[i] = '_';
    }
}

int vmig_vfull_diff_path(const char *given, const char *job, const char *coll, size_t ncolls,
                         char *out, size_t n, struct vmig_err *err)
{
    char name[VMIG_NAME_MAX + 128];
    struct stat sb;
    vmig_vfull_diff_name(job, coll, name, sizeof name);
    if (!given || !given[0]) {
        snprintf(out, n, "%s", name);
    } else if (!stat(given, &sb) && S_ISDIR(sb.st_mode)) {
        snprintf(out, n, "%s/%s", given, name);
    } else if (ncolls > 1) {
        vmig_err_set(err, VMIG_E_USAGE,
                     "the diff file '%s' can hold one collection's differences; give a "
                     "directory for %zu collections",
                     given, ncolls);
        return -1;
    } else {
        snprintf(out, n, "%s", given);
    }
    return 0;
}

int vmig_vf_stopped(struct vf *v)
{
    return atomic_load(&v->stop) || vmig_run_cancelled(v->ctx);
}

static void fail(struct vf *v, enum vmig_code rc, const struct vmig_err *err)
{
    pthread_mutex_lock(&v->mu);
    if (!v->rc) {
        v->rc = rc;
        v->err = *err;
    }
    pthread_mutex_unlock(&v->mu);
    atomic_store(&v->stop, 1);
}

static uint64_t done_points(const struct vmig_vfull_state *st)
{
    uint64_t d = 0;
    for (size_t i = 0; i < st->nranges; i++)
        d += st->range[i].compared + st->range[i].rejected;
    return d;
}

/* Under mu: save the state file and call the hook. 0 or -1 (v->rc set). */
int vmig_vf_save_locked(struct vf *v)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    if (v->diff && (fflush(v->diff) || fsync(fileno(v->diff)))) {
        vmig_err_set(&err, VMIG_E_IO, "cannot write the diff file '%s'", v->o->diff_path);
    } else if (!vmig_vfull_state_save(v->state_path, &v->st, &err)) {
        v->last_save = vmig_now_ms();
        if (!v->o->hooks.checkpoint || !v->o->hooks.checkpoint(v->o->hooks.ud, &v->st)) return 0;
        vmig_err_set(&err, VMIG_E_IO, "cannot save the verification of '%s'", v->pc->source);
    }
    vmig_err_at(&err, v->pc->source, NULL, NULL);
    if (!v->rc) {
        v->rc = err.code;
        v->err = err;
    }
    atomic_store(&v->stop, 1);
    return -1;
}

static void progress(struct vf *v, int force)
{
    if (!v->o->hooks.progress) return;
    struct vmig_progress p;
    memset(&p, 0, sizeof p);
    pthread_mutex_lock(&v->mu);
    uint64_t now = vmig_now_ms();
    if (!force && now - v->last_progress < PROGRESS_EVERY_MS) {
        pthread_mutex_unlock(&v->mu);
        return;
    }
    v->last_progress = now;
    p.coll = v->pc->source;
    p.phase = VMIG_PHASE_VERIFYING;
    p.total = v->st.source_count;
    p.read = p.written = done_points(&v->st);
    double s = (double)(now - v->t0) / 1000.0;
    p.points_per_s = s > 0 ? (double)(p.written - v->done0) / s : 0;
    p.eta_s = p.points_per_s > 0 && p.total >= p.written
                  ? (double)(p.total - p.written) / p.points_per_s
                  : -1;
    pthread_mutex_unlock(&v->mu);
    v->o->hooks.progress(v->o->hooks.ud, &p);
}

/* One JSON line of the diff file (docs/user/cli.md "The diff file"). */
void vmig_vf_add_line(struct vf *v, struct vmig_buf *out, const struct vmig_point_id *id,
                      const char *what, const char *field, const char *detail)
{
    char t[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(id, t);
    vmig_buf_adds(out, "{\"collection\":");
    vmig_buf_add_json_str(out, v->pc->source);
    vmig_buf_adds(out, ",\"target\":");
    vmig_buf_add_json_str(out, v->pc->target);
    if (id->kind == VMIG_ID_NUM)
        vmig_buf_addf(out, ",\"id\":%s", t);
    else
        vmig_buf_addf(out, ",\"id\":\"%s\"", t);
    vmig_buf_addf(out, ",\"what\":\"%s\"", what);
    if (field) {
        vmig_buf_adds(out, ",\"field\":");
        vmig_buf_add_json_str(out, field);
    }
    if (detail) {
        vmig_buf_adds(out, ",\"detail\":");
        vmig_buf_add_json_str(out, detail);
    }
    vmig_buf_adds(out, "}\n");
}

/* Under mu: append lines, remember the first difference. 0 or -1 (v->rc set). */
int vmig_vf_write_locked(struct vf *v, const struct vmig_buf *lines, const char *first)
{
    if (lines->len && fwrite(lines->p, 1, lines->len, v->diff) != lines->len) {
        struct vmig_err err;
        vmig_err_set(&err, VMIG_E_IO, "cannot write the diff file '%s'", v->o->diff_path);
        if (!v->rc) {
            v->rc = err.code;
            v->err = err;
        }
        atomic_store(&v->stop, 1);
        return -1;
    }
    if (first[0] && !v->first_diff[0]) snprintf(v->first_diff, sizeof v->first_diff, "%s", first);
    v->st.diff_len += lines->len;
    return 0;
}

struct page_diff {
    uint64_t missing, different;
    char first[400];
};

/* Compare a source page with the target rows of its ids; lines appended to out. */
static void compare_page(struct vf *v, const struct vmig_batch *sb, const struct vmig_batch *tb,
                         struct vmig_buf *out, struct page_diff *pd)
{
    size_t *ia = xcalloc(sb->n + 1, sizeof *ia), *ib = xcalloc(tb->n + 1, sizeof *ib);
    for (size_t i = 0; i < sb->n; i++)
        ia[i] = i;
    for (size_t i = 0; i < tb->n; i++)
        ib[i] = i;
    vmig_batch_sort_rows(sb, ia, sb->n);
    vmig_batch_sort_rows(tb, ib, tb->n);
    size_t i = 0, j = 0;
    char why[400], detail[300], t[VMIG_ID_TEXT_MAX];
    while (i < sb->n) {
        const struct vmig_point_id *id = &sb->ids[ia[i]];
        int c = j < tb->n ? vmig_point_id_cmp(id, &tb->ids[ib[j]]) : -1;
        if (c > 0) { /* not asked for (or a second row of a key): never ours to judge here */
            j++;
            continue;
        }
        if (c < 0) {
            pd->missing++;
            vmig_vf_add_line(v, out, id, "missing", NULL, NULL);
            if (!pd->first[0]) {
                vmig_point_id_format(id, t);
                snprintf(pd->first, sizeof pd->first, "point %s missing in target", t);
            }
            i++;
            continue;
        }
        const char *field = NULL;
        int d = vmig_batch_row_diff(sb, ia[i], tb, ib[j], &v->lay, why, sizeof why, &field);
        if (d) {
            pd->different++;
            /* the detail names the field, never the values (payloads may be private) */
            if (d == VMIG_ROW_VECTOR_DIFFERS)
                snprintf(detail, sizeof detail, "vector '%s' differs", field ? field : "?");
            else if (field && strcmp(field, "$meta"))
                snprintf(detail, sizeof detail, "typed field '%s' differs", field);
            else
                snprintf(detail, sizeof detail, "payload differs");
            vmig_vf_add_line(v, out, id, "different", field ? field : "$meta", detail);
            if (!pd->first[0]) {
                vmig_point_id_format(id, t);
                snprintf(pd->first, sizeof pd->first, "point %s: %s", t, detail);
            }
        }
        i++;
        j++;
    }
    free(ia);
    free(ib);
}

static long take_range(struct vf *v)
{
    long ri = -1;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->st.nranges && ri < 0; i++)
        if (!v->st.range[i].done && !v->taken[i]) {
            v->taken[i] = 1;
            ri = (long)i;
        }
    pthread_mutex_unlock(&v->mu);
    return ri;
}

/* One page of range ri from offset: read, compare, record. *next = where it goes on. */
static enum vmig_code do_page(struct vf *v, struct vmig_source *s, size_t ri,
                              const struct vmig_vfull_range *rg, struct vmig_batch *sb,
                              struct vmig_batch *tb, struct vmig_buf *lines,
                              struct vmig_point_id *next, struct vmig_err *err)
{
    vmig_batch_reset(sb);
    vmig_batch_reset(tb);
    vmig_buf_reset(lines);
    struct vmig_read_req req = {0};
    req.coll = v->pc->source;
    req.layout = &v->lay;
    req.offset = rg->start;
    req.limit = v->limit;
    req.slice_total = rg->slice_total;
    req.slice_index = rg->slice_index;
    memset(next, 0, sizeof *next);
    enum vmig_code rc = v->svt->read(s, &req, sb, next, NULL, err);
    if (rc) return rc;
    if (rg->end.kind != VMIG_ID_NONE &&
        (vmig_batch_clip(sb, &rg->end) || next->kind == VMIG_ID_NONE ||
         vmig_point_id_cmp(next, &rg->end) >= 0))
        memset(next, 0, sizeof *next); /* the half-open range ends here */
    if (sb->n && (rc = v->tvt->retrieve(v->t, v->pc, &v->lay, sb->ids, sb->n, tb, err))) return rc;
    struct page_diff pd;
    memset(&pd, 0, sizeof pd);
    compare_page(v, sb, tb, lines, &pd);

    pthread_mutex_lock(&v->mu);
    int bad = vmig_vf_write_locked(v, lines, pd.first);
    struct vmig_vfull_range *r = &v->st.range[ri];
    if (!bad) {
        r->compared += sb->n;
        r->rejected += sb->nrejects;
        r->missing += pd.missing;
        r->different += pd.different;
        r->start = *next;
        r->done = next->kind == VMIG_ID_NONE;
        if (r->done || vmig_now_ms() - v->last_save >= SAVE_EVERY_MS) bad = vmig_vf_save_locked(v);
    }
    pthread_mutex_unlock(&v->mu);
    progress(v, 0);
    return bad ? VMIG_E_IO : VMIG_OK; /* v->rc holds the reason */
}

static void *reader_main(void *arg)
{
    struct vf *v = arg;
    struct vmig_source *s = NULL;
    struct vmig_batch sb, tb;
    struct vmig_buf lines = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    vmig_batch_init(&sb, &v->lay);
    vmig_batch_init(&tb, &v->lay);
    enum vmig_code rc = v->svt->open(v->src, v->ctx, &s, &err);
    long ri;
    while (!rc && !vmig_vf_stopped(v) && (ri = take_range(v)) >= 0) {
        for (;;) {
            if (vmig_vf_stopped(v)) goto out;
            pthread_mutex_lock(&v->mu);
            struct vmig_vfull_range rg = v->st.range[ri];
            pthread_mutex_unlock(&v->mu);
            if (rg.done) break;
            struct vmig_point_id next;
            vmig_err_clear(&err);
            rc = do_page(v, s, (size_t)ri, &rg, &sb, &tb, &lines, &next, &err);
            if (rc) break;
        }
    }
out:
    if (rc && err.code)
        fail(v, rc, &err);
    else if (rc)
        atomic_store(&v->stop, 1);
    if (s) v->svt->close(s);
    vmig_batch_release(&sb);
    vmig_batch_release(&tb);
    vmig_buf_release(&lines);
    return NULL;
}

/* Fresh run: count the source and plan the read ranges as the copy does. */
static enum vmig_code plan_fresh(struct vf *v, struct vmig_err *err)
{
    struct vmig_source *s = NULL;
    enum vmig_code rc = v->svt->open(v->src, v->ctx, &s, err);
    if (rc) return rc;
    struct vmig_vfull_state *st = &v->st;
    memset(st, 0, sizeof *st);
    snprintf(st->source, sizeof st->source, "%s", v->pc->source);
    snprintf(st->target, sizeof st->target, "%s", v->pc->target);
    if (!(rc = v->svt->count(s, v->pc->source, &st->source_count, err))) {
        struct vmig_migrate_opts mo;
        struct vmig_coll_state cs;
        struct eng e;
        vmig_migrate_opts_init(&mo);
        mo.readers = v->o->readers > 0 ? v->o->readers : 4;
        vmig_coll_state_init(&cs);
        cs.total = st->source_count;
        memset(&e, 0, sizeof e);
        e.src = v->src;
        e.pc = v->pc;
        e.o = &mo;
        e.ctx = v->ctx;
        e.st = &cs;
        e.svt = v->svt;
        vmig_eng_plan_ranges(&e, s);
        st->nranges = cs.nranges;
        for (size_t i = 0; i < cs.nranges; i++) {
            st->range[i].slice_total = cs.range[i].slice_total;
            st->range[i].slice_index = cs.range[i].slice_index;
            st->range[i].start = cs.range[i].start;
            st->range[i].end = cs.range[i].end;
        }
        st->planned = 1;
    }
    v->svt->close(s);
    return rc;
}

/* A saved unfinished run of the same collections, with the diff file it wrote. */
static int resume_state(struct vf *v)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    struct vmig_vfull_state st;
    int r = vmig_vfull_state_load(v->state_path, &st, &err);
    if (r < 0) vmig_run_log(v->ctx, VMIG_LOG_WARN, "%s; verifying from the start", err.msg);
    if (r <= 0) return 0;
    struct stat sb;
    if (strcmp(st.source, v->pc->source) || strcmp(st.target, v->pc->target) || !st.planned ||
        stat(v->o->diff_path, &sb) || (uint64_t)sb.st_size < st.diff_len ||
        truncate(v->o->diff_path, (off_t)st.diff_len)) {
        vmig_run_log(v->ctx, VMIG_LOG_WARN,
                     "the verification state '%s' is of other collections or its diff file "
                     "changed; verifying '%s' from the start",
                     v->state_path, v->pc->source);
        return 0;
    }
    v->st = st;
    return 1;
}

static void result(struct vf *v, struct vmig_vfull_result *vr)
{
    vr->compared = vr->missing = vr->different = vr->rejected = 0;
    vr->source_count = v->st.source_count;
    for (size_t i = 0; i < v->st.nranges; i++) {
        const struct vmig_vfull_range *r = &v->st.range[i];
        vr->compared += r->compared;
        vr->missing += r->missing;
        vr->different += r->different;
        vr->rejected += r->rejected;
    }
    vr->extra = v->st.extra;
}

static enum vmig_code run_passes(struct vf *v, struct vmig_vfull_result *vr, struct vmig_err *err)
{
    int n = v->o->readers > 0 ? v->o->readers : 4;
    if ((size_t)n > v->st.nranges) n = (int)v->st.nranges;
    pthread_t th[VMIG_MAX_RANGES];
    int started = 0;
    for (int i = 0; i < n; i++, started++)
        if (pthread_create(&th[i], NULL, reader_main, v)) break;
    if (n && !started) /* no thread at all: read on this one */
        reader_main(v);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (v->rc) {
        *err = v->err;
        return v->rc;
    }
    if (vmig_run_cancelled(v->ctx))
        return vmig_err_set(err, VMIG_E_CANCELLED, "verification of '%s' cancelled", v->pc->source);
    enum vmig_code rc = v->tvt->count(v->t, v->pc->target, &vr->target_count, err);
    if (rc) return rc;
    result(v, vr);
    uint64_t matched = vr->compared - vr->missing;
    if (!v->st.extras_done && vr->target_count > matched) {
        if (!v->tvt->scan_ids)
            return vmig_err_set(err, VMIG_E_VERIFY,
                                "verification of '%s': the target holds %llu rows more than "
                                "the source's points, and its connector cannot list them",
                                v->pc->source, (unsigned long long)(vr->target_count - matched));
        if ((rc = vmig_vf_extras_pass(v, err))) return rc;
    }
    return VMIG_OK;
}

enum vmig_code vmig_verify_full(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, const struct vmig_vfull_opts *o,
                                struct vmig_vfull_result *vr, struct vmig_err *err)
{
    struct vmig_vfull_result local;
    struct vf *v = xcalloc(1, sizeof *v);
    enum vmig_code rc;
    if (!vr) vr = &local;
    memset(vr, 0, sizeof *vr);
    v->src = src;
    v->dst = dst;
    v->pc = pc;
    v->o = o;
    v->ctx = o->ctx;
    v->svt = vmig_source_for(src);
    v->tvt = vmig_target_for(dst);
    pthread_mutex_init(&v->mu, NULL);
    vmig_layout_from_plan(&v->lay, pc, 1);
    if (!o->diff_path || !o->diff_path[0]) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "full verification of '%s' needs a diff file",
                          pc->source);
        goto out;
    }
    snprintf(v->state_path, sizeof v->state_path, "%s.state", o->diff_path);
    /* pages sized like the copy's first ones: ~8 MiB of scroll JSON */
    size_t per_point = 64 + 2048;
    for (size_t c = 0; c < v->lay.ncols; c++)
        per_point += v->lay.col[c].sparse ? 2048 : (size_t)v->lay.col[c].dim * 13;
    size_t lim = o->page_limit ? o->page_limit : (8u << 20) / per_point;
    v->limit = (uint32_t)(lim < 16 ? 16 : lim > 4096 ? 4096 : lim);

    if ((rc = v->tvt->open(dst, v->ctx, &v->t, err))) goto out;
    vr->resumed = resume_state(v);
    if (!vr->resumed && (rc = plan_fresh(v, err))) goto out;
    v->diff = fopen(o->diff_path, vr->resumed ? "a" : "w");
    if (!v->diff) {
        rc = vmig_err_set(err, VMIG_E_IO, "cannot write the diff file '%s' (use --diff FILE)",
                          o->diff_path);
        goto out;
    }
    v->t0 = v->last_save = vmig_now_ms();
    v->done0 = done_points(&v->st);
    pthread_mutex_lock(&v->mu);
    int bad = vmig_vf_save_locked(v);
    pthread_mutex_unlock(&v->mu);
    if (bad) {
        *err = v->err;
        rc = v->rc;
        goto out;
    }
    progress(v, 1);
    rc = run_passes(v, vr, err);
    pthread_mutex_lock(&v->mu);
    if (rc) {
        vmig_vf_save_locked(v); /* where to go on from (a failed save keeps the last one) */
    } else {
        fflush(v->diff);
        remove(v->state_path);
    }
    pthread_mutex_unlock(&v->mu);
    result(v, vr);
    progress(v, 1);
    if (rc) goto out;
    snprintf(vr->first_diff, sizeof vr->first_diff, "%s", v->first_diff);
    uint64_t diffs = vr->missing + vr->extra + vr->different;
    uint64_t expect = vr->compared - vr->missing + vr->extra;
    if (diffs || vr->target_count != expect) {
        if (!diffs)
            snprintf(vr->first_diff, sizeof vr->first_diff,
                     "the target holds %llu rows for %llu points (rows with the same key?)",
                     (unsigned long long)vr->target_count, (unsigned long long)expect);
        rc =
            vmig_err_set(err, VMIG_E_VERIFY,
                         "verification of '%s' failed: %llu missing, %llu extra, %llu different "
                         "of %llu points (ids in '%s')%s%s",
                         pc->source, (unsigned long long)vr->missing, (unsigned long long)vr->extra,
                         (unsigned long long)vr->different, (unsigned long long)vr->compared,
                         o->diff_path, vr->first_diff[0] ? "; first: " : "", vr->first_diff);
        vmig_err_at(err, pc->source, NULL, NULL);
    }
out:
    if (v->diff) fclose(v->diff);
    if (v->t) v->tvt->close(v->t);
    pthread_mutex_destroy(&v->mu);
    free(v);
    return rc;
}

void vmig_vfull_fold(const struct vmig_vfull_result *fr, enum vmig_code rc,
                     struct vmig_verify_result *vr)
{
    vr->ran = !rc || rc == VMIG_E_VERIFY;
    vr->source_count = fr->source_count;
    vr->target_count = fr->target_count;
    vr->sampled = fr->compared;
    vr->missing = fr->missing;
    vr->extra = fr->extra;
    vr->different = fr->different;
    vr->rejected = fr->rejected;
    snprintf(vr->first_diff, sizeof vr->first_diff, "%s", fr->first_diff);
}

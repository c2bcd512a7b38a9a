/*
 * repair.c - repair of one collection from a verification's diff file (vmig/repair.h).
 * The file is read as a stream; the ids of the collection's lines are taken in
 * batches of BATCH. For each batch, the source is asked for those points by id with
 * the plan's layout, i.e. through the very decode the copy uses (typed fields, null
 * and conflict rules, oversize and misfit rejects), and:
 *   - the points it returns are written with Upsert (a "different" or "missing" point,
 *     or an "extra" one the source has since taken back): Upsert replaces every row of
 *     the key, so a doubled row becomes one;
 *   - the ids it no longer has (an "extra" row, or a point deleted since the
 *     verification) and the points the plan keeps out (rejects) are deleted.
 * What the file calls a point is only counted: the source's answer now decides, so a
 * point that changed again after the verification is repaired to its newest state and
 * a second run of the same file writes the same rows again (idempotent). Then one
 * Flush, and the collection is verified again, every point (verify.h), into
 * NAME.after.jsonl beside the diff file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/diff_read.h"
#include "source/source.h"
#include "target/target.h"
#include "util/alloc.h"
#include "util/log.h"
#include "vmig/repair.h"
#include "vmig/verify.h"

#define BATCH 256

void vmig_repair_opts_init(struct vmig_repair_opts *o)
{
    memset(o, 0, sizeof *o);
}

static int cmp_id(const void *a, const void *b)
{
    return vmig_point_id_cmp(a, b);
}

struct rep {
    const struct vmig_plan_coll *pc;
    const struct vmig_repair_opts *o;
    const struct vmig_source_vt *svt;
    const struct vmig_target_vt *tvt;
    struct vmig_source *s;
    struct vmig_target *t;
    struct vmig_layout lay;
    struct vmig_batch b;
    struct vmig_point_id ids[BATCH], found[2 * BATCH], gone[2 * BATCH];
    size_t n;
    struct vmig_repair_result *r;
    uint64_t done;
};

/* Repair the batch of ids collected so far. */
static enum vmig_code flush_batch(struct rep *p, struct vmig_err *err)
{
    if (!p->n) return VMIG_OK;
    if (vmig_run_cancelled(p->o->ctx))
        return vmig_err_set(err, VMIG_E_CANCELLED, "repair of '%s' cancelled", p->pc->source);
    vmig_batch_reset(&p->b);
    enum vmig_code rc = p->svt->retrieve(p->s, p->pc->source, &p->lay, p->ids, p->n, &p->b, err);
    if (rc) return rc;
    /* what the source has now: rows and rejects; every other id goes */
    size_t nf = 0, ngone = 0;
    for (size_t i = 0; i < p->b.n && nf < 2 * BATCH; i++)
        p->found[nf++] = p->b.ids[i];
    for (size_t i = 0; i < p->b.nrejects && nf < 2 * BATCH; i++)
        p->found[nf++] = p->b.rejects[i].id;
    qsort(p->found, nf, sizeof *p->found, cmp_id);
    for (size_t i = 0; i < p->n; i++)
        if (!bsearch(&p->ids[i], p->found, nf, sizeof *p->found, cmp_id))
            p->gone[ngone++] = p->ids[i];
    for (size_t i = 0; i < p->b.nrejects && ngone < 2 * BATCH; i++) {
        p->gone[ngone++] = p->b.rejects[i].id;
        if (p->o->reject)
            p->o->reject(p->o->ud, p->pc->source, &p->b.rejects[i].id, p->b.rejects[i].reason);
    }
    if (p->b.n && (rc = p->tvt->write(p->t, p->pc, &p->b, 1, err))) return rc;
    if (ngone && (rc = p->tvt->delete_ids(p->t, p->pc, p->gone, ngone, err))) return rc;
    p->r->upserted += p->b.n;
    p->r->deleted += ngone > p->b.nrejects ? ngone - p->b.nrejects : 0;
    p->r->rejected += p->b.nrejects;
    p->done += p->n;
    p->n = 0;
    if (p->o->progress) {
        struct vmig_repair_progress pr = {p->pc->source, p->done, p->r->before.lines,
                                          p->r->upserted, p->r->deleted};
        p->o->progress(p->o->ud, &pr);
    }
    return VMIG_OK;
}

/* Every line of the file for this collection, in batches. */
static enum vmig_code repair_lines(struct rep *p, struct vmig_err *err)
{
    struct vmig_diff_reader rd;
    struct vmig_diff_line ln;
    enum vmig_code rc = vmig_diff_open(&rd, p->r->diff_path, err);
    if (rc) return rc;
    int got;
    while ((got = vmig_diff_next(&rd, &ln, err)) == 1) {
        if (strcmp(ln.coll, p->pc->source)) continue;
        p->r->before.lines++;
        if (ln.what == VMIG_DIFF_MISSING)
            p->r->before.missing++;
        else if (ln.what == VMIG_DIFF_EXTRA)
            p->r->before.extra++;
        else
            p->r->before.different++;
        p->ids[p->n++] = ln.id;
        if (p->n == BATCH && (rc = flush_batch(p, err))) break;
    }
    if (got < 0) rc = err->code;
    if (!rc) rc = flush_batch(p, err);
    vmig_diff_close(&rd);
    return rc;
}

/* A full verification of pc into path (vfull_result in vr). */
static enum vmig_code full_pass(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, const struct vmig_repair_opts *o,
                                const char *path, struct vmig_vfull_result *vr,
                                struct vmig_err *err)
{
    struct vmig_vfull_opts vo;
    vmig_vfull_opts_init(&vo);
    vo.diff_path = path;
    vo.ctx = o->ctx;
    if (o->readers > 0) vo.readers = o->readers;
    vmig_run_log(o->ctx, VMIG_LOG_INFO, "full verification of '%s' into '%s'", pc->source, path);
    return vmig_verify_full(src, dst, pc, &vo, vr, err);
}

/* The verification after: a full one (every point, extras included) into the diff
 * file's sibling NAME.after.jsonl (NAME: the diff file without its .jsonl), so what
 * still differs is listed for the next repair. */
static enum vmig_code verify_after(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                   struct rep *p, struct vmig_err *err)
{
    struct vmig_vfull_result vr;
    struct vmig_repair_result *r = p->r;
    size_t n = strlen(r->diff_path);
    if (n > 6 && !strcmp(r->diff_path + n - 6, ".jsonl")) n -= 6;
    if (n + sizeof ".after.jsonl" > sizeof r->after_path)
        return vmig_err_set(err, VMIG_E_USAGE, "diff file path '%s' is too long", r->diff_path);
    snprintf(r->after_path, sizeof r->after_path, "%.*s.after.jsonl", (int)n, r->diff_path);
    memset(&vr, 0, sizeof vr);
    enum vmig_code rc = full_pass(src, dst, p->pc, p->o, r->after_path, &vr, err);
    r->verified = rc == VMIG_OK || rc == VMIG_E_VERIFY;
    r->verify_code = rc;
    r->source_count = vr.source_count;
    r->target_count = vr.target_count;
    r->missing = vr.missing;
    r->different = vr.different;
    r->extra = vr.extra;
    snprintf(r->first_diff, sizeof r->first_diff, "%s", vr.first_diff);
    return rc;
}

enum vmig_code vmig_repair_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, const struct vmig_repair_opts *o,
                                struct vmig_repair_result *r, struct vmig_err *err)
{
    struct rep *p = xcalloc(1, sizeof *p);
    enum vmig_code rc = VMIG_OK;
    memset(r, 0, sizeof *r);
    p->pc = pc;
    p->o = o;
    p->r = r;
    p->svt = vmig_source_for(src);
    p->tvt = vmig_target_for(dst);
    vmig_layout_from_plan(&p->lay, pc, o->reject_oversize);
    vmig_batch_init(&p->b, &p->lay);
    if (!p->tvt->delete_ids) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "the target connector '%s' cannot delete rows",
                          p->tvt->name);
        goto out;
    }
    if (o->diff_path && *o->diff_path) {
        snprintf(r->diff_path, sizeof r->diff_path, "%s", o->diff_path);
    } else { /* a fresh pass says what differs */
        struct vmig_vfull_result vr;
        if (vmig_vfull_diff_path(NULL, o->job, pc->source, 1, r->diff_path, sizeof r->diff_path,
                                 err)) {
            rc = err->code;
            goto out;
        }
        r->fresh = 1;
        rc = full_pass(src, dst, pc, o, r->diff_path, &vr, err);
        if (rc && rc != VMIG_E_VERIFY) goto out;
        vmig_err_clear(err);
        rc = VMIG_OK;
    }
    if ((rc = p->svt->open(src, o->ctx, &p->s, err))) goto out;
    if ((rc = p->tvt->open(dst, o->ctx, &p->t, err))) goto out;
    vmig_run_log(o->ctx, VMIG_LOG_INFO, "repairing '%s' -> '%s' from diff file '%s'", pc->source,
                 pc->target, r->diff_path);
    if ((rc = repair_lines(p, err))) goto out;
    if ((rc = p->tvt->flush(p->t, pc->target, err))) goto out;
    vmig_run_log(o->ctx, VMIG_LOG_INFO,
                 "repaired '%s': %llu lines, %llu upserted, %llu deleted, %llu rejected",
                 pc->source, (unsigned long long)r->before.lines, (unsigned long long)r->upserted,
                 (unsigned long long)r->deleted, (unsigned long long)r->rejected);
    /* the handles go before the verification opens its own */
    p->svt->close(p->s);
    p->tvt->close(p->t);
    p->s = NULL;
    p->t = NULL;
    if (!o->no_verify) rc = verify_after(src, dst, p, err);
out:
    if (rc && err && !err->coll[0]) vmig_err_at(err, pc->source, NULL, NULL);
    if (p->s) p->svt->close(p->s);
    if (p->t) p->tvt->close(p->t);
    vmig_batch_release(&p->b);
    free(p);
    return rc;
}

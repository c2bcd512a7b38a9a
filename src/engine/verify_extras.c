/*
 * verify_extras.c - full verification's pass 2: rows the target holds and the source
 * does not. The target's key space is scanned span by span (an Int64 range, a VarChar
 * prefix), each span asked with the Milvus 2.3 query limit; a span that fills the limit
 * is split (halves, or one more prefix character) instead of paged, because Milvus Lite
 * does not return keys in order. The keys of a span that fits are looked up in the
 * source; those it lacks are "extra". The stack of spans left is the pass's resumable
 * state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/verify_full_int.h"
#include "util/alloc.h"
#include "util/retry.h"

#define SCAN_LIMIT 16384 /* Milvus 2.3 caps offset + limit of a query at 16384 */

static int cmp_ids(const void *a, const void *b)
{
    return vmig_point_id_cmp(a, b);
}

/* Under mu: replace the span on top of the stack by its parts (ascending keys pop
 * first). 0, or -1 when it cannot be split (one key gave `limit` rows). */
static int split_top(struct vmig_vfull_state *st)
{
    static const char alphabet[] = "-0123456789abcdef"; /* ascending bytes */
    struct vmig_key_span sp = st->span[--st->nspans];
    if (sp.kind == VMIG_SPAN_INT) {
        if (sp.lo >= sp.hi) return -1;
        int64_t mid = sp.lo + (sp.hi - sp.lo) / 2;
        st->span[st->nspans] = sp;
        st->span[st->nspans++].lo = mid + 1;
        st->span[st->nspans] = sp;
        st->span[st->nspans++].hi = mid;
        return 0;
    }
    size_t len = strlen(sp.prefix);
    if (sp.kind == VMIG_SPAN_EXACT || len + 2 > sizeof sp.prefix ||
        st->nspans + sizeof alphabet > VMIG_VFULL_SPANS)
        return -1;
    for (size_t i = sizeof alphabet - 1; i-- > 0;) {
        struct vmig_key_span *c = &st->span[st->nspans++];
        *c = sp;
        c->prefix[len] = alphabet[i];
        c->prefix[len + 1] = '\0';
    }
    if (len) { /* the key that is the prefix itself ("12" of "120".."12f") */
        st->span[st->nspans] = sp;
        st->span[st->nspans++].kind = VMIG_SPAN_EXACT;
    }
    return 0;
}

/* The ids of tb the source lacks, as lines. */
static uint64_t find_extras(struct vf *v, struct vmig_source *s, const struct vmig_layout *idlay,
                            const struct vmig_batch *tb, struct vmig_batch *sb,
                            struct vmig_buf *lines, char *first, size_t nfirst, enum vmig_code *rc,
                            struct vmig_err *err)
{
    uint64_t found = 0;
    vmig_batch_reset(sb);
    if ((*rc = v->svt->retrieve(s, v->pc->source, idlay, tb->ids, tb->n, sb, err))) return 0;
    qsort(sb->ids, sb->n, sizeof *sb->ids, cmp_ids);
    size_t *it = xcalloc(tb->n + 1, sizeof *it);
    for (size_t i = 0; i < tb->n; i++)
        it[i] = i;
    vmig_batch_sort_rows(tb, it, tb->n); /* lines in id order within the span */
    for (size_t k = 0; k < tb->n; k++) {
        const struct vmig_point_id *id = &tb->ids[it[k]];
        if (bsearch(id, sb->ids, sb->n, sizeof *sb->ids, cmp_ids)) continue;
        found++;
        vmig_vf_add_line(v, lines, id, "extra", NULL, NULL);
        if (!first[0]) {
            char t[VMIG_ID_TEXT_MAX];
            vmig_point_id_format(id, t);
            snprintf(first, nfirst, "point %s in target, not in source", t);
        }
    }
    free(it);
    return found;
}

/* Pass 2: the target's keys the source lacks, span by span of the key space (a span
 * that fills the limit is split: nothing relies on the order of the target's answer). */
enum vmig_code vmig_vf_extras_pass(struct vf *v, struct vmig_err *err)
{
    struct vmig_layout idlay;
    memset(&idlay, 0, sizeof idlay);
    idlay.coll = v->pc->source;
    struct vmig_batch tb, sb;
    struct vmig_buf lines = VMIG_BUF_INIT;
    struct vmig_source *s = NULL;
    vmig_batch_init(&tb, &idlay);
    vmig_batch_init(&sb, &idlay);
    pthread_mutex_lock(&v->mu);
    if (!v->st.extras_started) {
        struct vmig_key_span *sp = &v->st.span[0];
        memset(sp, 0, sizeof *sp);
        sp->kind = v->pc->pk_type == VMIG_PK_INT64 ? VMIG_SPAN_INT : VMIG_SPAN_PREFIX;
        sp->hi = INT64_MAX; /* point ids are unsigned: Int64 keys from 0 */
        v->st.nspans = 1;
        v->st.extras_started = 1;
    }
    pthread_mutex_unlock(&v->mu);
    enum vmig_code rc = v->svt->open(v->src, v->ctx, &s, err);
    while (!rc) {
        if (vmig_vf_stopped(v)) {
            rc = vmig_err_set(err, VMIG_E_CANCELLED, "verification of '%s' cancelled",
                              v->pc->source);
            break;
        }
        if (!v->st.nspans) break; /* only this thread changes the stack */
        struct vmig_key_span sp = v->st.span[v->st.nspans - 1];
        vmig_batch_reset(&tb);
        vmig_buf_reset(&lines);
        if ((rc = v->tvt->scan_ids(v->t, v->pc, &sp, SCAN_LIMIT, &tb, err))) break;
        uint64_t found = 0;
        char first[200] = "";
        if (tb.n < SCAN_LIMIT) {
            found = find_extras(v, s, &idlay, &tb, &sb, &lines, first, sizeof first, &rc, err);
            if (rc) break;
        }
        pthread_mutex_lock(&v->mu);
        int bad = 0;
        if (tb.n >= SCAN_LIMIT) {
            if (split_top(&v->st)) {
                rc = vmig_err_set(err, VMIG_E_VERIFY,
                                  "verification of '%s': %zu rows of the target share keys "
                                  "starting '%s' (rows with the same key?)",
                                  v->pc->source, tb.n, sp.prefix);
                bad = 1;
            }
        } else if (!(bad = vmig_vf_write_locked(v, &lines, first))) {
            v->st.extra += found;
            v->st.nspans--;
            if (vmig_now_ms() - v->last_save >= SAVE_EVERY_MS) bad = vmig_vf_save_locked(v);
        }
        pthread_mutex_unlock(&v->mu);
        if (bad && !rc) rc = VMIG_E_IO;
    }
    if (!rc) {
        pthread_mutex_lock(&v->mu);
        v->st.extras_done = 1;
        if (vmig_vf_save_locked(v)) rc = VMIG_E_IO;
        pthread_mutex_unlock(&v->mu);
    }
    if (rc == VMIG_E_IO && v->rc) *err = v->err;
    if (s) v->svt->close(s);
    vmig_batch_release(&tb);
    vmig_batch_release(&sb);
    vmig_buf_release(&lines);
    return rc;
}

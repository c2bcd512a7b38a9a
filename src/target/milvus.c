/*
 * milvus.c - the Milvus target connector (const struct vmig_target_vt
 * vmig_target_milvus): decides which RPCs to send and when, wraps each in the retry
 * policy, splits writes under the 64 MiB request limit and polls index builds and
 * loads. Messages come from milvus_codec.c, bytes travel through grpc_call.c.
 *
 * Retries and idempotency: every call is retried on retryable codes (timeout,
 * unavailable, rate limit, Status.retriable). A write that timed out may have been
 * applied by the server; Milvus's Insert does not de-duplicate primary keys, so a
 * retry of an Insert after a timeout is sent as Upsert (the two messages are
 * identical on the wire) and a resumed job writes with Upsert throughout (engine).
 * A rate-limited write also teaches the address's pacer (util/pacer.h) the rate the
 * target takes; every later Insert/Upsert to that address waits its turn there.
 * CreateCollection retried after a timeout accepts "already exists" when the
 * collection is there. Permanent answers (missing database, bad parameter,
 * permission) are not retried (milvus_codec.c vmig_milvus_status decides).
 *
 * Waits (flush, load) are bounded by --wait-timeout (endpoint wait_s), log what
 * they wait for and how far it got, and end within 100 ms of the run's cancel. Index
 * builds are not waited for here: index_progress reports them, the engine decides.
 */
#include <stdatomic.h>
#include "target/milvus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grpc_call.h"
#include "target/milvus_caps.h"
#include "target/milvus_codec.h"
#include "target/milvus_delete.h"
#include "target/milvus_int.h"
#include "target/milvus_search.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/pacer.h"
#include "util/retry.h"
#include "util/wait.h"

#define WRITE_MAX (VMIG_GRPC_MAX - 4096u) /* headroom for gRPC framing */
#define SLOW_FACTOR 5                     /* DDL, flush, index, load: 5x the call timeout */
#define QUERY_BYTES (16u << 20)           /* aim for responses of about this size */
#define QUERY_MAX_IDS 1024

typedef vmig_milvus_decode_fn decode_fn;

static int cancelled(const struct vmig_target *t)
{
    return vmig_run_cancelled(t->ctx);
}

/* The message for a --db the server does not have, with the way out. */
static enum vmig_code db_missing(const struct vmig_target *t, struct vmig_err *err)
{
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n,
             "%sdatabase '%s' does not exist on Milvus at %s", n ? "; " : "", t->db,
             vmig_grpc_address(t->g));
    err->code = VMIG_E_NOT_FOUND;
    vmig_err_fix(err, VMIG_FIX_DATABASE, NULL);
    return VMIG_E_NOT_FOUND;
}

/* A request named a database the server does not have: say so with the way out.
 * Real Milvus answers code 800 (merr ErrDatabaseNotFound); Milvus Lite answers code 1
 * with "database '...' does not exist": the status decoder marks both as
 * VMIG_SR_DB_MISSING. */
static void db_missing_hint(const struct vmig_target *t, struct vmig_err *err)
{
    if (!t->db[0] || !err || err->code == VMIG_E_CANCELLED) return;
    if (err->server_reason != VMIG_SR_DB_MISSING) return;
    db_missing(t, err);
}

/* The subject rule of vmig/error.h: a failure about target collection coll (NULL:
 * none, a server-wide call) says so in err->coll, unless it named a subject of its own
 * (a point's write names the point and the collection). Every RPC and every vtable
 * entry that fails outside one (an encoder, a wait) ends through here. */
static enum vmig_code about(enum vmig_code rc, const char *coll, struct vmig_err *err)
{
    if (rc && coll && err && !err->coll[0]) vmig_err_at(err, coll, NULL, NULL);
    return rc;
}

/* One RPC with retries: send req to rpc, decode the answer with dec. Transport
 * errors get what as a prefix; decoders put it into their own messages. The first
 * retry of an Insert after a timeout switches to Upsert (see the file comment). */
static enum vmig_code rpc_call(struct vmig_target *t, const char *rpc, const struct vmig_buf *req,
                               int timeout_ms, decode_fn dec, void *ctx, const char *what,
                               const char *coll, const struct vmig_retry_policy *pol,
                               struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf resp;
    struct vmig_retry r;
    char method[128];

    vmig_buf_init(&resp, VMIG_GRPC_RECV_MAX);
    vmig_retry_start(&r, pol, t->ctx);
    r.side = VMIG_SIDE_TARGET;
    /* writes wait their turn once the address has rate-limited (util/pacer.h) */
    struct vmig_pacer *pacer = !strcmp(rpc, "Insert") || !strcmp(rpc, "Upsert") ? t->pacer : NULL;
    do {
        vmig_err_clear(err);
        if (pacer) {
            int w = vmig_pacer_reserve(pacer, req->len, vmig_now_ms());
            if (w > 0) vmig_run_sleep(t->ctx, w);
        }
        if (cancelled(t)) {
            rc = vmig_err_set(err, VMIG_E_CANCELLED, "%s: cancelled", what);
            break;
        }
        snprintf(method, sizeof method, "%s%s", VMIG_MILVUS_SERVICE, rpc);
        rc = vmig_grpc_unary(t->g, method, rpc, req->p, req->len, timeout_ms, t->ctx, &resp, err);
        if (rc) {
            if (rc == VMIG_E_UNAVAILABLE || rc == VMIG_E_TIMEOUT) atomic_fetch_add(&t->faults, 1);
            vmig_err_prefix(err, "%s: ", what);
            if (rc == VMIG_E_TIMEOUT && !strcmp(rpc, "Insert")) {
                vmig_run_log(t->ctx, VMIG_LOG_WARN, "%s: Insert timed out and may have been applied; retrying as Upsert",
                          what);
                rpc = "Upsert";
            }
        } else {
            rc = dec(&resp, ctx, what, err);
        }
        if (pacer && rc == VMIG_E_RATE_LIMIT)
            vmig_pacer_throttled(pacer, vmig_now_ms());
        else if (pacer && rc == VMIG_OK)
            vmig_pacer_ok(pacer, req->len, vmig_now_ms());
    } while (vmig_retry_again(&r, rc, err, what));
    if (rc && vmig_code_is_retryable(rc) && cancelled(t))
        rc = vmig_err_set(err, VMIG_E_CANCELLED, "%s: cancelled", what);
    if (rc) db_missing_hint(t, err);
    vmig_buf_release(&resp);
    /* the subject rule of vmig/error.h: what names the target collection, so does coll */
    return about(rc, coll, err);
}

enum vmig_code vmig_milvus_rpc(struct vmig_target *t, const char *rpc, const struct vmig_buf *req,
                               int timeout_ms, vmig_milvus_decode_fn dec, void *ctx,
                               const char *what, const char *coll,
                               const struct vmig_retry_policy *pol, struct vmig_err *err)
{
    return rpc_call(t, rpc, req, timeout_ms, dec, ctx, what, coll, pol, err);
}

/* ---- decoders adapted to decode_fn ---- */

static enum vmig_code d_status(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    return vmig_milvus_dec_status(b->p, b->len, what, err);
}
struct flush_ctx {
    const char *name;
    uint64_t ts;
    int64_t *seg;
    size_t nseg;
};
static enum vmig_code d_flush(const struct vmig_buf *b, void *ctx, const char *what,
                              struct vmig_err *err)
{
    struct flush_ctx *c = ctx;
    c->nseg = 0;
    enum vmig_code rc = vmig_milvus_dec_flush_ts(b->p, b->len, c->name, what, &c->ts, err);
    if (!rc)
        rc = vmig_milvus_dec_flush_segments(b->p, b->len, c->name, what, &c->seg, &c->nseg, err);
    return rc;
}
static enum vmig_code d_bool(const struct vmig_buf *b, void *ctx, const char *what,
                             struct vmig_err *err)
{
    return vmig_milvus_dec_bool(b->p, b->len, what, ctx, err);
}
struct version_ctx {
    char *v;
    size_t n;
};
static enum vmig_code d_version(const struct vmig_buf *b, void *ctx, const char *what,
                                struct vmig_err *err)
{
    struct version_ctx *c = ctx;
    return vmig_milvus_dec_version(b->p, b->len, c->v, c->n, err);
}
static enum vmig_code d_health(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    return vmig_milvus_dec_health(b->p, b->len, err);
}
struct index_ctx {
    const char *field;
    int state;
    int64_t indexed, total;
};
static enum vmig_code d_index(const struct vmig_buf *b, void *ctx, const char *what,
                              struct vmig_err *err)
{
    struct index_ctx *c = ctx;
    return vmig_milvus_dec_index_progress(b->p, b->len, c->field, what, &c->state, &c->indexed,
                                          &c->total, err);
}
static enum vmig_code d_load(const struct vmig_buf *b, void *ctx, const char *what,
                             struct vmig_err *err)
{
    return vmig_milvus_dec_load_state(b->p, b->len, what, ctx, err);
}
struct mut_ctx {
    int upsert;
    size_t rows;
};
static enum vmig_code d_mutation(const struct vmig_buf *b, void *ctx, const char *what,
                                 struct vmig_err *err)
{
    struct mut_ctx *c = ctx;
    return vmig_milvus_dec_mutation(b->p, b->len, c->upsert, c->rows, what, err);
}
static enum vmig_code d_count(const struct vmig_buf *b, void *ctx, const char *what,
                              struct vmig_err *err)
{
    return vmig_milvus_dec_count(b->p, b->len, what, ctx, err);
}
struct rows_ctx {
    const struct vmig_plan_coll *pc;
    struct vmig_batch *out;
    size_t n0; /* rows of out before the call: a retry starts from there again */
};
static enum vmig_code d_rows(const struct vmig_buf *b, void *ctx, const char *what,
                             struct vmig_err *err)
{
    struct rows_ctx *c = ctx;
    vmig_batch_truncate(c->out, c->n0);
    return vmig_milvus_dec_rows(b->p, b->len, c->pc, c->out, err);
}

/* ---- the vtable ---- */

static const char *dbn(const struct vmig_target *t)
{
    return t->db[0] ? t->db : NULL;
}
static int slow(const struct vmig_target *t)
{
    return vmig_grpc_timeout_ms(t->g) * SLOW_FACTOR;
}
const char *vmig_milvus_db(const struct vmig_target *t)
{
    return dbn(t);
}
int vmig_milvus_slow_ms(const struct vmig_target *t)
{
    return slow(t);
}

static const char *const plain_schemes[] = {"http", "tcp", NULL};
static const char *const tls_schemes[] = {"https", NULL};
static const struct vmig_grpc_cfg grpc_cfg = {
    .kind = "Milvus",
    .plain_schemes = plain_schemes,
    .tls_schemes = tls_schemes,
    .plain_port = VMIG_MILVUS_PORT,
    .tls_port = 443,
    .secret_md = "authorization",
    .secret_base64 = 1,
    .auth_hint = "the token (user:password or a Zilliz API key)",
    .http_hint = "Milvus's gRPC port is usually 19530",
};

static enum vmig_code m_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                             struct vmig_target **out, struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_target *t = xcalloc(1, sizeof *t);
    *out = NULL;
    if (ep->db && strlen(ep->db) >= sizeof t->db) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "database name too long");
        goto out;
    }
    snprintf(t->db, sizeof t->db, "%s", ep->db ? ep->db : "");
    t->zilliz = vmig_milvus_url_is_zilliz(ep->url);
    if (ep->wait_s < 0) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "--wait-timeout must be 1 or more seconds, not %d",
                          ep->wait_s);
        goto out;
    }
    t->wait_limit_ms = vmig_wait_limit_ms(ep);
    t->ctx = ctx;
    t->pacer = vmig_pacer_for(ep->url ? ep->url : "");
    pthread_mutex_init(&t->mu, NULL);
    rc = vmig_grpc_open(ep, &grpc_cfg, &t->g, err);
    if (rc) goto out;
    *out = t;
    t = NULL;
out:
    if (t) free(t);
    return rc;
}

static void m_close(struct vmig_target *t)
{
    if (!t) return;
    vmig_milvus_bulk_free(t->bulk);
    vmig_grpc_close(t->g);
    pthread_mutex_destroy(&t->mu);
    free(t->flush_seg);
    free(t);
}

struct db_ctx {
    const char *db;
    int found;
};
static enum vmig_code d_has_db(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    struct db_ctx *c = ctx;
    return vmig_milvus_dec_has_database(b->p, b->len, c->db, what, &c->found, err);
}

/* --db must name a database the server has: real Milvus 2.3 answers HasCollection in
 * a missing database with "no such collection", so without this check a plan looks
 * fine and the migration fails later at CreateCollection. Servers without
 * ListDatabases (before 2.2.9) are not checked. */
static enum vmig_code check_database(struct vmig_target *t, const struct vmig_retry_policy *pol,
                                     struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    struct db_ctx c = {t->db, 0};
    vmig_milvus_enc_empty(&req);
    enum vmig_code rc = rpc_call(t, "ListDatabases", &req, 0, d_has_db, &c,
                                 "cannot list the databases of Milvus", NULL, pol, err);
    vmig_buf_release(&req);
    if (rc == VMIG_E_REMOTE && err->server_code == 12 /* gRPC UNIMPLEMENTED */) {
        vmig_err_clear(err);
        return VMIG_OK;
    }
    if (!rc && !c.found) {
        vmig_err_clear(err);
        rc = db_missing(t, err);
    }
    return rc;
}

static enum vmig_code m_probe(struct vmig_target *t, struct vmig_target_caps *caps,
                              struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf req = VMIG_BUF_INIT;
    char version[sizeof caps->version] = "";
    struct version_ctx vc = {version, sizeof version};
    /* pre-flight fails fast: a few attempts, not the job's patience */
    struct vmig_retry_policy pol = vmig_retry_probe();

    vmig_milvus_enc_empty(&req);
    rc = rpc_call(t, "GetVersion", &req, 0, d_version, &vc, "cannot get the Milvus version", NULL, &pol,
                  err);
    if (rc) goto out;
    rc = rpc_call(t, "CheckHealth", &req, 0, d_health, NULL, "Milvus health check failed", NULL, &pol,
                  err);
    if (rc) goto out;
    if (t->db[0]) rc = check_database(t, &pol, err);
    if (rc) goto out;
    vmig_milvus_caps(version, t->zilliz, caps);
out:
    vmig_buf_release(&req);
    return rc;
}

static enum vmig_code m_has_collection(struct vmig_target *t, const char *name, int *exists,
                                       struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot look up collection '%s' on target", name);
    *exists = 0;
    vmig_milvus_enc_has_collection(dbn(t), name, &req);
    enum vmig_code rc = rpc_call(t, "HasCollection", &req, 0, d_bool, exists, what, name, NULL, err);
    vmig_buf_release(&req);
    return rc;
}

static enum vmig_code m_create_collection(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                          struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    int exists = 0;

    snprintf(what, sizeof what, "cannot create collection '%s' on target", pc->target);
    if ((rc = vmig_milvus_enc_create_collection(dbn(t), pc, &req, err))) goto out;
    if ((rc = m_has_collection(t, pc->target, &exists, err))) goto out;
    if (exists) {
        rc = vmig_err_set(err, VMIG_E_EXISTS, "%s: already exists", what);
        vmig_err_fix(err, VMIG_FIX_TARGET_NAME, NULL);
        goto out;
    }
    uint64_t faults0 = atomic_load(&t->faults);
    rc = rpc_call(t, "CreateCollection", &req, slow(t), d_status, NULL, what, pc->target, NULL, err);
    if (rc == VMIG_E_REMOTE && atomic_load(&t->faults) == faults0) {
        /* no attempt of ours met a timeout or an outage: someone else made it meanwhile */
        struct vmig_err e2;
        vmig_err_clear(&e2);
        if (!m_has_collection(t, pc->target, &exists, &e2) && exists) {
            rc = vmig_err_set(err, VMIG_E_EXISTS,
                              "%s: already exists (created by someone else meanwhile)", what);
            vmig_err_fix(err, VMIG_FIX_TARGET_NAME, NULL);
        }
    } else if (rc == VMIG_E_REMOTE) {
        /* an earlier attempt that timed out may have created it */
        struct vmig_err e2;
        vmig_err_clear(&e2);
        if (!m_has_collection(t, pc->target, &exists, &e2) && exists &&
            err->server_reason == VMIG_SR_EXISTS) {
            vmig_run_log(t->ctx, VMIG_LOG_INFO, "collection '%s' was created by an earlier attempt", pc->target);
            vmig_err_clear(err);
            rc = VMIG_OK;
        }
    }
out:
    vmig_buf_release(&req);
    return about(rc, pc->target, err);
}

static enum vmig_code m_drop_collection(struct vmig_target *t, const char *name,
                                        struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot drop collection '%s' on target", name);
    vmig_milvus_enc_drop_collection(dbn(t), name, &req);
    enum vmig_code rc =
        rpc_call(t, "DropCollection", &req, slow(t), d_status, NULL, what, name, NULL, err);
    if (rc == VMIG_E_NOT_FOUND) { /* gone already: what the caller wanted */
        vmig_err_clear(err);
        rc = VMIG_OK;
    }
    vmig_buf_release(&req);
    return rc;
}

static enum vmig_code m_write(struct vmig_target *t, const struct vmig_plan_coll *pc,
                              const struct vmig_batch *b, int upsert, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    size_t lo = 0;

    /* bulk mode: an Insert is a row of an import file; an Upsert (a page that may be in
     * the target already) always goes as rows (milvus_bulk.c) */
    if (!upsert && vmig_milvus_bulk_on(t->bulk)) {
        int taken = 0;
        if ((rc = vmig_milvus_bulk_append(t, pc, b, &taken, err)) || taken)
            return about(rc, pc->target, err);
    }
    snprintf(what, sizeof what, "cannot %s into collection '%s' on target",
             upsert ? "upsert" : "insert", pc->target);
    while (lo < b->n) {
        size_t hi = b->n;
        if ((rc = vmig_milvus_enc_write(dbn(t), pc, b, lo, &hi, WRITE_MAX, &req, err))) goto out;
        if (lo != 0 || hi != b->n)
            vmig_run_log(t->ctx, VMIG_LOG_DEBUG, "%s '%s': rows %zu..%zu of %zu in one request (%zu bytes)",
                       upsert ? "upsert" : "insert", pc->target, lo, hi, b->n, req.len);
        struct mut_ctx mc = {upsert, hi - lo};
        rc = rpc_call(t, upsert ? "Upsert" : "Insert", &req, 0, d_mutation, &mc, what, pc->target, NULL, err);
        if (rc) goto out;
        lo = hi;
    }
out:
    vmig_buf_release(&req);
    return about(rc, pc->target, err);
}

static enum vmig_code m_flush(struct vmig_target *t, const char *name, struct vmig_err *err)
{
    /* bulk mode: the files written so far are imported before the rows are flushed */
    if (t->bulk) {
        enum vmig_code brc = vmig_milvus_bulk_flush(t, name, err);
        if (brc) return brc;
    }
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot flush collection '%s' on target", name);
    vmig_milvus_enc_flush(dbn(t), name, &req);
    struct flush_ctx fc = {name, 0, NULL, 0};
    enum vmig_code rc = rpc_call(t, "Flush", &req, slow(t), d_flush, &fc, what, name, NULL, err);
    vmig_run_log(t->ctx, VMIG_LOG_DEBUG, "flush of '%s': rc %d, flush ts %llu, %zu segments", name, (int)rc,
               (unsigned long long)fc.ts, fc.nseg);
    if (!rc) {
        pthread_mutex_lock(&t->mu);
        t->flush_ts = fc.ts;
        free(t->flush_seg);
        t->flush_seg = fc.seg;
        t->nflush_seg = fc.nseg;
        fc.seg = NULL;
        pthread_mutex_unlock(&t->mu);
    }
    free(fc.seg);
    vmig_buf_release(&req);
    return rc;
}

/* Flush returns before the server has sealed and persisted the segments (Milvus 2.3:
 * until then DescribeIndex counts none of their rows and reports Finished at once).
 * Wait for the last Flush of this handle, bounded and cancellable like every wait.
 * Servers that give no flush timestamp or lack GetFlushState are not waited for. */
static enum vmig_code wait_flushed(struct vmig_target *t, const char *name, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    pthread_mutex_lock(&t->mu);
    uint64_t ts = t->flush_ts;
    if (ts || t->nflush_seg)
        vmig_milvus_enc_flush_state(dbn(t), name, ts, t->flush_seg, t->nflush_seg, &req);
    pthread_mutex_unlock(&t->mu);
    if (!req.len) return VMIG_OK;
    enum vmig_code rc = VMIG_OK;
    char what[VMIG_NAME_MAX + 64];
    struct vmig_wait w;
    vmig_wait_init(&w, t->ctx, t->wait_limit_ms);
    char desc[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot wait for the flush of collection '%s'", name);
    snprintf(desc, sizeof desc, "the flush of collection '%s'", name);
    for (;;) {
        int flushed = 0;
        rc = rpc_call(t, "GetFlushState", &req, 0, d_bool, &flushed, what, name, NULL, err);
        if (rc == VMIG_E_REMOTE && err->server_code == 12 /* gRPC UNIMPLEMENTED */) {
            vmig_err_clear(err);
            rc = VMIG_OK;
            break;
        }
        if (rc || flushed) break;
        if ((rc = vmig_wait_next(&w, desc, "", "done", err))) break;
    }
    vmig_buf_release(&req);
    return about(rc, name, err);
}

static enum vmig_code m_create_indexes(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                       struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[2 * VMIG_NAME_MAX + 64];

    /* the vector fields, then the typed payload fields that have a scalar index */
    for (size_t f = 0; f < pc->nfields + pc->nscalars; f++) {
        const struct vmig_plan_scalar *sc = f < pc->nfields ? NULL : &pc->scalar[f - pc->nfields];
        if (sc && !sc->index) continue;
        const char *field = sc ? sc->dst : pc->field[f].dst;
        snprintf(what, sizeof what, "cannot create index on field '%s' of collection '%s'", field,
                 pc->target);
        if ((rc = sc ? vmig_milvus_enc_create_scalar_index(dbn(t), pc, f - pc->nfields, &req, err)
                     : vmig_milvus_enc_create_index(dbn(t), pc, f, &req, err)))
            goto out;
        rc = rpc_call(t, "CreateIndex", &req, slow(t), d_status, NULL, what, pc->target, NULL, err);
        /* A busy server (Milvus Lite compacting after a large flush holds the lock
         * CreateIndex needs) can outlast the deadline while the request is still queued
         * or running: the index phase reads its state (DescribeIndex) instead of failing. */
        if (rc == VMIG_E_TIMEOUT) {
            vmig_run_log(t->ctx, VMIG_LOG_WARN,
                         "%s: no answer in time; its state is read with the index progress", what);
            vmig_err_clear(err);
            rc = VMIG_OK;
        }
        /* a resumed job may have created it before it was killed: real Milvus answers an
         * identical CreateIndex with success, Milvus Lite with "already exists" */
        if (rc == VMIG_E_REMOTE && err->server_reason == VMIG_SR_EXISTS) {
            vmig_run_log(t->ctx, VMIG_LOG_INFO, "%s: it exists already (an earlier run of this job made it)", what);
            vmig_err_clear(err);
            rc = VMIG_OK;
        }
        if (rc) goto out;
    }
out:
    vmig_buf_release(&req);
    return about(rc, pc->target, err);
}

/* Every build is done when each field's index is Finished (3) with every row indexed;
 * Failed (4) is an error with its reason (the decoder's). */
static enum vmig_code m_index_progress(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                       uint64_t *indexed, uint64_t *total, int *built,
                                       struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[2 * VMIG_NAME_MAX + 64];
    *indexed = *total = 0;
    *built = 1;
    /* counts are whole only once the last flush is persisted */
    if ((rc = wait_flushed(t, pc->target, err))) goto out;
    for (size_t f = 0; f < pc->nfields + pc->nscalars; f++) {
        const struct vmig_plan_scalar *sc = f < pc->nfields ? NULL : &pc->scalar[f - pc->nfields];
        if (sc && !sc->index) continue;
        const char *field = sc ? sc->dst : pc->field[f].dst;
        snprintf(what, sizeof what, "the index on field '%s' of collection '%s'", field,
                 pc->target);
        vmig_milvus_enc_describe_index(dbn(t), pc->target, field, &req);
        struct index_ctx ic = {field, 0, 0, 0};
        if ((rc = rpc_call(t, "DescribeIndex", &req, 0, d_index, &ic, what, pc->target, NULL, err))) goto out;
        /* Milvus 2.3 reports Finished as soon as the index is defined, with rows still
         * to index (0 of 30000, pending 30000): built is Finished with every row the
         * server counts indexed. */
        if (ic.state != VMIG_MIDX_FINISHED || ic.indexed < ic.total) *built = 0;
        if (sc) continue; /* the rows counted are the vector fields' */
        *indexed += ic.indexed > 0 ? (uint64_t)ic.indexed : 0;
        *total += ic.total > 0 ? (uint64_t)ic.total : 0;
    }
out:
    vmig_buf_release(&req);
    return about(rc, pc->target, err);
}

static enum vmig_code m_load(struct vmig_target *t, const char *name, int wait,
                             struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot load collection '%s' on target", name);
    vmig_milvus_enc_load(dbn(t), name, 0, &req);
    if ((rc = rpc_call(t, "LoadCollection", &req, slow(t), d_status, NULL, what, name, NULL, err)) ||
        !wait)
        goto out;
    vmig_milvus_enc_load_state(dbn(t), name, &req);
    struct vmig_wait w;
    vmig_wait_init(&w, t->ctx, t->wait_limit_ms);
    char desc[VMIG_NAME_MAX + 64];
    snprintf(desc, sizeof desc, "collection '%s' to load", name);
    for (;;) {
        int state = 0;
        if ((rc = rpc_call(t, "GetLoadState", &req, 0, d_load, &state, what, name, NULL, err))) goto out;
        /* segments imported into a loaded collection come in only with a refresh load */
        if (state == VMIG_MLOAD_LOADED) {
            if (t->bulk) rc = vmig_milvus_bulk_refresh(t, name, err);
            break;
        }
        if (state == VMIG_MLOAD_NOT_EXIST) {
            rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "%s: collection does not exist", what);
            goto out;
        }
        char progress[32];
        snprintf(progress, sizeof progress, "state %d", state);
        if ((rc = vmig_wait_next(&w, desc, progress, "loaded", err))) goto out;
    }
out:
    vmig_buf_release(&req);
    return about(rc, name, err);
}

static enum vmig_code m_count(struct vmig_target *t, const char *name, uint64_t *n,
                              struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    snprintf(what, sizeof what, "cannot count rows of collection '%s' on target", name);
    *n = 0;
    vmig_milvus_enc_count(dbn(t), name, &req);
    enum vmig_code rc = rpc_call(t, "Query", &req, slow(t), d_count, n, what, name, NULL, err);
    vmig_buf_release(&req);
    return rc;
}

static enum vmig_code m_retrieve(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                 const struct vmig_layout *lay, const struct vmig_point_id *ids,
                                 size_t n, struct vmig_batch *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + 64];
    /* rows per Query so a response stays near QUERY_BYTES: dense floats plus a
     * guess of 2 KiB per sparse vector and payload */
    size_t rowbytes = 2048;
    for (size_t f = 0; f < pc->nfields; f++)
        rowbytes += pc->field[f].kind == VMIG_VEC_DENSE ? pc->field[f].dim * 4u : 2048u;
    for (size_t f = 0; f < pc->nscalars; f++)
        rowbytes += pc->scalar[f].type == VMIG_SC_VARCHAR ? 256u : 64u;
    size_t chunk = QUERY_BYTES / rowbytes;
    if (chunk < 1) chunk = 1;
    if (chunk > QUERY_MAX_IDS) chunk = QUERY_MAX_IDS;

    (void)lay; /* out was initialised with the plan's layout; columns follow pc */
    snprintf(what, sizeof what, "cannot read rows of collection '%s' on target", pc->target);
    for (size_t at = 0; at < n; at += chunk) {
        size_t k = n - at < chunk ? n - at : chunk;
        if ((rc = vmig_milvus_enc_query_ids(dbn(t), pc, ids + at, k, &req, err))) goto out;
        struct rows_ctx rc_ = {pc, out, out->n};
        if ((rc = rpc_call(t, "Query", &req, slow(t), d_rows, &rc_, what, pc->target, NULL, err))) goto out;
    }
out:
    vmig_buf_release(&req);
    return about(rc, pc->target, err);
}

static uint64_t m_faults(struct vmig_target *t)
{
    return atomic_load(&t->faults);
}

static uint64_t m_bulk_pending(struct vmig_target *t)
{
    return vmig_milvus_bulk_pending(t->bulk);
}

static const char *const schemes[] = {"http", "https", "tcp", NULL};

const struct vmig_target_vt vmig_target_milvus = {
    .name = "milvus",
    .schemes = schemes,
    .open = m_open,
    .close = m_close,
    .probe = m_probe,
    .has_collection = m_has_collection,
    .create_collection = m_create_collection,
    .drop_collection = m_drop_collection,
    .write = m_write,
    .flush = m_flush,
    .create_indexes = m_create_indexes,
    .index_progress = m_index_progress,
    .load = m_load,
    .count = m_count,
    .retrieve = m_retrieve,
    .delete_ids = vmig_milvus_delete_ids,
    .scan_ids = vmig_milvus_scan_ids,
    .faults = m_faults,
    .bulk_check = vmig_milvus_bulk_check,
    .bulk_begin = vmig_milvus_bulk_begin,
    .bulk_pending = m_bulk_pending,
    .search = vmig_milvus_search,
};

/*
 * qdrant.c - the Qdrant source connector: the scheduling part of the connector
 * (what to ask, in which order, with which retries). Bytes travel through
 * qdrant_http.c and are decoded by qdrant_codec.c; this file only builds request
 * bodies, wraps each request in the retry policy and hands answers to the codec.
 * open() does no I/O, so the engine can open one handle per reader thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/qdrant_codec.h"
#include "source/qdrant_http.h"
#include "source/qdrant_search.h"
#include "source/source.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"

struct vmig_source {
    struct vmig_qhttp *http;
    char version[64];
    int slices; /* server >= 1.19.0, known after probe */
    struct vmig_buf resp;
    struct vmig_buf req;
    const struct vmig_run_ctx *ctx; /* the run's cancel and log (may be NULL) */
    struct vmig_qdrant_cap cap; /* the strict-mode page limit of the last collection */
};

static enum vmig_code q_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                             struct vmig_source **out, struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_source *s = xcalloc(1, sizeof *s);
    *out = NULL;
    vmig_buf_init(&s->resp, 0);
    vmig_buf_init(&s->req, 0);
    s->ctx = ctx;
    if ((rc = vmig_qhttp_open(ep, ctx, &s->http, err)) != VMIG_OK) {
        vmig_buf_release(&s->resp);
        vmig_buf_release(&s->req);
        free(s);
        return rc;
    }
    *out = s;
    return VMIG_OK;
}

static void q_close(struct vmig_source *s)
{
    if (!s) return;
    vmig_qhttp_close(s->http);
    vmig_buf_release(&s->resp);
    vmig_buf_release(&s->req);
    free(s);
}

/* One request with retries for retryable codes; the answer lands in s->resp. A 429
 * waits as long as its Retry-After says (util/retry.c). */
static enum vmig_code call(struct vmig_source *s, const struct vmig_retry_policy *pol,
                           const char *method, const struct vmig_buf *path, const char *body,
                           size_t body_len, const char *coll, struct vmig_err *err)
{
    struct vmig_retry r;
    enum vmig_code rc;
    char what[160];
    snprintf(what, sizeof what, "qdrant %s %.120s", method, path->p);
    vmig_retry_start(&r, pol, s->ctx);
    do {
        vmig_err_clear(err);
        rc = vmig_qhttp_request(s->http, method, path->p, body, body_len, coll, &s->resp, err);
    } while (vmig_retry_again(&r, rc, err, what));
    return rc;
}

static void coll_path(struct vmig_buf *p, const char *coll, const char *tail)
{
    vmig_buf_reset(p);
    vmig_buf_adds(p, "/collections/");
    vmig_qhttp_escape(p, coll);
    vmig_buf_adds(p, tail);
}

static enum vmig_code q_probe(struct vmig_source *s, char *version, size_t n,
                              struct vmig_err *err)
{
    /* a pre-flight check should fail fast on a wrong address: few attempts */
    struct vmig_retry_policy pol = vmig_retry_probe();
    struct vmig_buf path = VMIG_BUF_INIT;
    enum vmig_code rc;
    vmig_buf_adds(&path, "/");
    rc = call(s, &pol, "GET", &path, NULL, 0, NULL, err);
    if (rc == VMIG_OK) rc = vmig_qdrant_parse_version(s->resp.p, s->resp.len, s->version,
                                                      sizeof s->version, err);
    if (rc == VMIG_E_NOT_FOUND || rc == VMIG_E_PROTOCOL) {
        /* an HTTP server that is not Qdrant: Milvus's proxy port answers REST too */
        int st = err ? err->server_code : 0;
        rc = vmig_err_set(err, VMIG_E_CONNECT,
                          "%s does not answer like Qdrant's REST API (GET / gave %s); give the "
                          "Qdrant REST URL (usually port 6333; 19530 is a Milvus port, 6334 "
                          "Qdrant's gRPC port)",
                          vmig_qhttp_url(s->http), st == 404 ? "HTTP 404" : "no Qdrant version");
    }
    if (rc == VMIG_OK) {
        s->slices = vmig_qdrant_version_at_least(s->version, 1, 19, 0);
        if (version && n) snprintf(version, n, "%s", s->version);
        /* `GET /` needs no key: list the collections too, so a wrong or missing API key
         * fails the pre-flight check rather than the first real request */
        vmig_buf_reset(&path);
        vmig_buf_adds(&path, "/collections");
        rc = call(s, &pol, "GET", &path, NULL, 0, NULL, err);
    }
    vmig_buf_release(&path);
    return rc;
}

static enum vmig_code q_list(struct vmig_source *s, char ***names, size_t *n,
                             struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    enum vmig_code rc;
    vmig_buf_adds(&path, "/collections");
    rc = call(s, NULL, "GET", &path, NULL, 0, NULL, err);
    if (rc == VMIG_OK) rc = vmig_qdrant_parse_list(s->resp.p, s->resp.len, names, n, err);
    vmig_buf_release(&path);
    return rc;
}

/* One scroll of at most one point from offset (id text as JSON); *id gets its id. */
static enum vmig_code probe_first(struct vmig_source *s, const char *coll, const char *offset,
                                  struct vmig_point_id *id, struct vmig_err *err)
{
    struct vmig_layout lay = {0};
    struct vmig_batch b;
    struct vmig_buf path = VMIG_BUF_INIT, body = VMIG_BUF_INIT;
    enum vmig_code rc;
    lay.coll = coll;
    lay.nulls = VMIG_NULL_KEEP;
    lay.reject_oversize = 1;
    vmig_batch_init(&b, &lay);
    memset(id, 0, sizeof *id);
    coll_path(&path, coll, "/points/scroll");
    vmig_buf_addf(&body, "{\"offset\":%s,\"limit\":1,\"with_payload\":false,\"with_vector\":false}",
                  offset);
    rc = call(s, NULL, "POST", &path, body.p, body.len, coll, err);
    if (rc == VMIG_OK)
        rc = vmig_qdrant_scan_page(s->resp.p, s->resp.len, VMIG_QDRANT_SCROLL, &lay, &b, NULL, err);
    if (rc == VMIG_OK && b.n) *id = b.ids[0];
    if (rc == VMIG_OK && !b.n && b.nrejects) *id = b.rejects[0].id;
    vmig_batch_release(&b);
    vmig_buf_release(&path);
    vmig_buf_release(&body);
    return rc;
}

/* The collection's configuration (no id probes); remembers its page limit. */
static enum vmig_code info(struct vmig_source *s, const char *coll, struct vmig_src_coll *out,
                           struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    coll_path(&path, coll, "");
    enum vmig_code rc = call(s, NULL, "GET", &path, NULL, 0, coll, err);
    if (rc == VMIG_OK) rc = vmig_qdrant_parse_info(s->resp.p, s->resp.len, coll, out, err);
    vmig_buf_release(&path);
    if (rc == VMIG_OK) vmig_qdrant_cap_note(&s->cap, out);
    return rc;
}

/* n capped by the collection's strict-mode page limit (asked on first use). */
static enum vmig_code capped(struct vmig_source *s, const char *coll, size_t n, uint32_t *out,
                             struct vmig_err *err)
{
    if (!vmig_qdrant_cap_knows(&s->cap, coll)) {
        struct vmig_src_coll sc;
        enum vmig_code rc = info(s, coll, &sc, err);
        if (rc) return rc;
    }
    *out = vmig_qdrant_cap_apply(&s->cap, n);
    return VMIG_OK;
}

static enum vmig_code q_describe(struct vmig_source *s, const char *coll,
                                 struct vmig_src_coll *out, struct vmig_err *err)
{
    struct vmig_point_id id;
    enum vmig_code rc = info(s, coll, out, err);
    if (rc != VMIG_OK) return rc;
    /* Scroll is ordered by id, integers (as u64) before UUIDs: the first point at or
     * after 2^63 is a big integer id if any exists, else the first UUID if any. */
    if ((rc = probe_first(s, coll, "9223372036854775808", &id, err)) != VMIG_OK) return rc;
    out->has_big_ids = id.kind == VMIG_ID_NUM;
    out->has_uuids = id.kind == VMIG_ID_UUID;
    if (!out->has_uuids) {
        rc = probe_first(s, coll, "\"00000000-0000-0000-0000-000000000000\"", &id, err);
        if (rc != VMIG_OK) return rc;
        out->has_uuids = id.kind == VMIG_ID_UUID;
    }
    out->ids_probed = 1;
    return VMIG_OK;
}

static enum vmig_code q_count(struct vmig_source *s, const char *coll, uint64_t *n,
                              struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    static const char body[] = "{\"exact\":true}";
    enum vmig_code rc;
    coll_path(&path, coll, "/points/count");
    rc = call(s, NULL, "POST", &path, body, sizeof body - 1, coll, err);
    if (rc == VMIG_OK) rc = vmig_qdrant_parse_count(s->resp.p, s->resp.len, n, err);
    vmig_buf_release(&path);
    return rc;
}

/* "with_vector": the layout's names, or false when it has none. */
static void put_with_vector(struct vmig_buf *b, const struct vmig_layout *lay)
{
    vmig_buf_adds(b, "\"with_vector\":");
    if (!lay->ncols) {
        vmig_buf_adds(b, "false");
        return;
    }
    vmig_buf_addch(b, '[');
    for (size_t c = 0; c < lay->ncols; c++) {
        if (c) vmig_buf_addch(b, ',');
        vmig_qdrant_put_str(b, lay->col[c].src);
    }
    vmig_buf_addch(b, ']');
}

static enum vmig_code q_read(struct vmig_source *s, const struct vmig_read_req *req,
                             struct vmig_batch *out, struct vmig_point_id *next,
                             size_t *page_bytes, struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    struct vmig_buf *body = &s->req;
    enum vmig_code rc;
    struct vmig_retry r;
    char what[160];
    uint32_t limit;
    if ((rc = capped(s, req->coll, req->limit ? req->limit : 100, &limit, err))) return rc;
    coll_path(&path, req->coll, "/points/scroll");
    vmig_buf_reset(body);
    vmig_buf_addf(body, "{\"limit\":%u,\"with_payload\":%s,", limit,
                  req->ids_only ? "false" : "true");
    if (req->ids_only) vmig_buf_adds(body, "\"with_vector\":false");
    else put_with_vector(body, req->layout);
    if (req->offset.kind != VMIG_ID_NONE) {
        vmig_buf_adds(body, ",\"offset\":");
        vmig_qdrant_put_id(body, &req->offset);
    }
    if (req->slice_total > 0)
        vmig_buf_addf(body, ",\"filter\":{\"must\":[{\"slice\":{\"total\":%u,\"index\":%u}}]}",
                      req->slice_total, req->slice_index);
    vmig_buf_addch(body, '}');
    /* a truncated page is retryable too, so the decode sits inside the retry loop */
    snprintf(what, sizeof what, "qdrant scroll '%.100s'", req->coll);
    vmig_retry_start(&r, NULL, s->ctx);
    do {
        rc = call(s, NULL, "POST", &path, body->p, body->len, req->coll, err);
        if (rc != VMIG_OK) break;
        if (page_bytes) *page_bytes = s->resp.len;
        rc = vmig_qdrant_scan_page(s->resp.p, s->resp.len, VMIG_QDRANT_SCROLL, req->layout, out,
                                   next, err);
    } while (rc == VMIG_E_UNAVAILABLE && vmig_retry_again(&r, rc, err, what));
    vmig_buf_release(&path);
    return rc;
}

static enum vmig_code retrieve_some(struct vmig_source *s, const char *coll,
                                    const struct vmig_layout *lay,
                                    const struct vmig_point_id *ids, size_t n,
                                    struct vmig_batch *out, struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    struct vmig_buf *body = &s->req;
    enum vmig_code rc;
    struct vmig_retry r;
    char what[160];
    coll_path(&path, coll, "/points");
    vmig_buf_reset(body);
    vmig_buf_adds(body, "{\"ids\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) vmig_buf_addch(body, ',');
        vmig_qdrant_put_id(body, &ids[i]);
    }
    vmig_buf_adds(body, "],\"with_payload\":true,");
    put_with_vector(body, lay);
    vmig_buf_addch(body, '}');
    snprintf(what, sizeof what, "qdrant retrieve '%.100s'", coll);
    vmig_retry_start(&r, NULL, s->ctx);
    do {
        rc = call(s, NULL, "POST", &path, body->p, body->len, coll, err);
        if (rc != VMIG_OK) break;
        rc = vmig_qdrant_scan_page(s->resp.p, s->resp.len, VMIG_QDRANT_RETRIEVE, lay, out, NULL,
                                   err);
    } while (rc == VMIG_E_UNAVAILABLE && vmig_retry_again(&r, rc, err, what));
    vmig_buf_release(&path);
    return rc;
}

/* Points by id, in calls of at most the collection's page limit. */
static enum vmig_code q_retrieve(struct vmig_source *s, const char *coll,
                                 const struct vmig_layout *lay, const struct vmig_point_id *ids,
                                 size_t n, struct vmig_batch *out, struct vmig_err *err)
{
    uint32_t per;
    enum vmig_code rc = capped(s, coll, n, &per, err);
    for (size_t off = 0; rc == VMIG_OK && off < n; off += per)
        rc = retrieve_some(s, coll, lay, ids + off, n - off < per ? n - off : per, out, err);
    return rc;
}

static int q_has_slices(struct vmig_source *s) { return s && s->slices; }

/* Random ids (the `sample` query, Qdrant >= 1.11), for splitting the id space of a
 * server without the slice filter. Appended to out (a batch of no columns). */
static enum vmig_code q_sample_ids(struct vmig_source *s, const char *coll, size_t n,
                                   struct vmig_batch *out, struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    struct vmig_buf *body = &s->req;
    struct vmig_layout lay;
    uint32_t lim;
    enum vmig_code rc = capped(s, coll, n, &lim, err);
    if (rc) return rc;
    n = lim;
    memset(&lay, 0, sizeof lay);
    lay.coll = coll;
    coll_path(&path, coll, "/points/query");
    vmig_buf_reset(body);
    vmig_buf_addf(body, "{\"query\":{\"sample\":\"random\"},\"limit\":%zu,"
                        "\"with_payload\":false,\"with_vector\":false}",
                  n);
    rc = call(s, NULL, "POST", &path, body->p, body->len, coll, err);
    if (rc == VMIG_OK)
        rc = vmig_qdrant_scan_page(s->resp.p, s->resp.len, VMIG_QDRANT_SCROLL, &lay, out, NULL,
                                   err);
    vmig_buf_release(&path);
    return rc;
}

/* Exact search with the Query API (codec: qdrant_search.c). */
static enum vmig_code q_search(struct vmig_source *s, const char *coll,
                               const struct vmig_layout *lay, const struct vmig_batch *q, size_t r,
                               size_t c, uint32_t k, struct vmig_hits *out, struct vmig_err *err)
{
    struct vmig_buf path = VMIG_BUF_INIT;
    coll_path(&path, coll, "/points/query");
    vmig_qdrant_enc_search(lay, q, r, c, k, &s->req);
    enum vmig_code rc = call(s, NULL, "POST", &path, s->req.p, s->req.len, coll, err);
    if (rc == VMIG_OK) rc = vmig_qdrant_dec_hits(s->resp.p, s->resp.len, coll, out, err);
    vmig_buf_release(&path);
    return rc;
}

static const char *const schemes[] = {"http", "https", NULL};

const struct vmig_source_vt vmig_source_qdrant = {
    .name = "qdrant",
    .schemes = schemes,
    .open = q_open,
    .close = q_close,
    .probe = q_probe,
    .list = q_list,
    .describe = q_describe,
    .info = info,
    .count = q_count,
    .read = q_read,
    .retrieve = q_retrieve,
    .has_slices = q_has_slices,
    .sample_ids = q_sample_ids,
    .search = q_search,
};

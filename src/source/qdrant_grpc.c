/*
 * qdrant_grpc.c - the Qdrant source connector over gRPC (port 6334): the same calls
 * as the REST connector (qdrant.c), asked of qdrant.Points / qdrant.Collections /
 * qdrant.Qdrant. Bytes travel through util/grpc_call.c (one channel per handle, the
 * api key as `api-key` metadata, TLS for grpcs://) and are encoded and decoded by
 * qdrant_grpc_codec.c; this file only decides what to ask and wraps each call in the
 * retry policy. open() does no I/O, so the engine can open one handle per reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/qdrant_codec.h"
#include "source/qdrant_grpc_codec.h"
#include "source/source.h"
#include "util/alloc.h"
#include "util/grpc_call.h"
#include "util/retry.h"

#define QDRANT_GRPC_PORT 6334

struct vmig_source {
    struct vmig_grpc *g;
    char version[64];
    int slices; /* server >= 1.19.0, known after probe */
    struct vmig_buf req, resp;
    const struct vmig_run_ctx *ctx;
    struct vmig_qdrant_cap cap; /* the strict-mode page limit of the last collection */
    struct vmig_qgrpc_mem mem;  /* the page decoder's memory, kept from page to page */
};

static const char *const plain_schemes[] = {"grpc", NULL};
static const char *const tls_schemes[] = {"grpcs", NULL};
static const struct vmig_grpc_cfg grpc_cfg = {
    .kind = "Qdrant",
    .plain_schemes = plain_schemes,
    .tls_schemes = tls_schemes,
    .plain_port = QDRANT_GRPC_PORT,
    .tls_port = QDRANT_GRPC_PORT,
    .secret_md = "api-key",
    .secret_base64 = 0,
    .auth_hint = "the Qdrant API key (--api-key / QDRANT_API_KEY)",
    .http_hint = "Qdrant's gRPC port is usually 6334; for its REST port (6333) give "
                 "http://host:6333 instead",
};

static enum vmig_code g_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                             struct vmig_source **out, struct vmig_err *err)
{
    struct vmig_source *s = xcalloc(1, sizeof *s);
    enum vmig_code rc;
    *out = NULL;
    if ((rc = vmig_grpc_open(ep, &grpc_cfg, &s->g, err)) != VMIG_OK) {
        free(s);
        return rc;
    }
    vmig_buf_init(&s->req, 0);
    vmig_buf_init(&s->resp, VMIG_GRPC_RECV_MAX);
    s->ctx = ctx;
    *out = s;
    return VMIG_OK;
}

static void g_close(struct vmig_source *s)
{
    if (!s) return;
    vmig_grpc_close(s->g);
    vmig_qgrpc_mem_release(&s->mem);
    vmig_buf_release(&s->req);
    vmig_buf_release(&s->resp);
    free(s);
}

/* One call of s->req with retries; the answer lands in s->resp. coll (may be NULL)
 * names the collection a NOT_FOUND is about. */
static enum vmig_code call(struct vmig_source *s, const struct vmig_retry_policy *pol,
                           const char *method, const char *rpc, const char *coll,
                           struct vmig_err *err)
{
    struct vmig_retry r;
    enum vmig_code rc;
    char what[160];
    snprintf(what, sizeof what, "qdrant %s%s%.100s%s", rpc, coll ? " '" : "", coll ? coll : "",
             coll ? "'" : "");
    vmig_retry_start(&r, pol, s->ctx);
    do {
        vmig_err_clear(err);
        rc = vmig_grpc_unary(s->g, method, rpc, s->req.p, s->req.len, 0, s->ctx, &s->resp, err);
    } while (vmig_retry_again(&r, rc, err, what));
    if (rc == VMIG_E_NOT_FOUND && coll) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "collection '%s' not found on source", coll);
        vmig_err_at(err, coll, NULL, NULL);
    }
    return rc;
}

static enum vmig_code g_probe(struct vmig_source *s, char *version, size_t n, struct vmig_err *err)
{
    /* a pre-flight check should fail fast on a wrong address: few attempts */
    struct vmig_retry_policy pol = vmig_retry_probe();
    enum vmig_code rc;
    vmig_buf_reset(&s->req); /* HealthCheckRequest is empty */
    rc = call(s, &pol, "/qdrant.Qdrant/HealthCheck", "HealthCheck", NULL, err);
    if (rc == VMIG_OK)
        rc = vmig_qgrpc_parse_health(s->resp.p, s->resp.len, s->version, sizeof s->version, err);
    if (rc == VMIG_E_REMOTE && err && err->server_code == 12 /* UNIMPLEMENTED */)
        rc = vmig_err_set(err, VMIG_E_CONNECT,
                          "%s answers gRPC but not like Qdrant (no qdrant.Qdrant/HealthCheck); "
                          "give the Qdrant gRPC URL (usually port 6334; 19530 is a Milvus port)",
                          vmig_grpc_address(s->g));
    if (rc != VMIG_OK) return rc;
    s->slices = vmig_qdrant_version_at_least(s->version, 1, 19, 0);
    if (version && n) snprintf(version, n, "%s", s->version);
    /* HealthCheck needs no key: list the collections too, so a wrong or missing API
     * key fails the pre-flight check rather than the first real call */
    vmig_buf_reset(&s->req);
    return call(s, &pol, "/qdrant.Collections/List", "Collections.List", NULL, err);
}

static enum vmig_code g_list(struct vmig_source *s, char ***names, size_t *n, struct vmig_err *err)
{
    vmig_buf_reset(&s->req);
    enum vmig_code rc = call(s, NULL, "/qdrant.Collections/List", "Collections.List", NULL, err);
    if (rc == VMIG_OK) rc = vmig_qgrpc_parse_list(s->resp.p, s->resp.len, names, n, err);
    return rc;
}

/* The collection's configuration; remembers its page limit. */
static enum vmig_code info(struct vmig_source *s, const char *coll, struct vmig_src_coll *out,
                           struct vmig_err *err)
{
    vmig_qgrpc_enc_info(&s->req, coll);
    enum vmig_code rc = call(s, NULL, "/qdrant.Collections/Get", "Collections.Get", coll, err);
    if (rc == VMIG_OK) rc = vmig_qgrpc_parse_info(s->resp.p, s->resp.len, coll, out, err);
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

/* One scroll of the given request into b. */
static enum vmig_code scroll(struct vmig_source *s, const struct vmig_read_req *req,
                             struct vmig_batch *b, struct vmig_point_id *next, size_t *page_bytes,
                             struct vmig_err *err)
{
    struct vmig_read_req r = *req;
    enum vmig_code rc = capped(s, req->coll, req->limit ? req->limit : 100, &r.limit, err);
    if (rc) return rc;
    vmig_qgrpc_enc_scroll(&s->req, &r);
    rc = call(s, NULL, "/qdrant.Points/Scroll", "Scroll", req->coll, err);
    if (rc != VMIG_OK) return rc;
    if (page_bytes) *page_bytes = s->resp.len;
    return vmig_qgrpc_scan_page_mem(s->resp.p, s->resp.len, VMIG_QGRPC_SCROLL, req->layout, b, next,
                                    &s->mem, err);
}

/* The first point at or after offset; kind NONE when there is none. */
static enum vmig_code probe_first(struct vmig_source *s, const char *coll,
                                  const struct vmig_point_id *offset, struct vmig_point_id *id,
                                  struct vmig_err *err)
{
    struct vmig_layout lay = {0};
    struct vmig_batch b;
    struct vmig_read_req req = {0};
    lay.coll = coll;
    lay.nulls = VMIG_NULL_KEEP;
    lay.reject_oversize = 1;
    vmig_batch_init(&b, &lay);
    memset(id, 0, sizeof *id);
    req.coll = coll;
    req.layout = &lay;
    req.offset = *offset;
    req.limit = 1;
    req.ids_only = 1;
    enum vmig_code rc = scroll(s, &req, &b, NULL, NULL, err);
    if (rc == VMIG_OK && b.n) *id = b.ids[0];
    vmig_batch_release(&b);
    return rc;
}

static enum vmig_code g_describe(struct vmig_source *s, const char *coll, struct vmig_src_coll *out,
                                 struct vmig_err *err)
{
    struct vmig_point_id id, at = {0};
    enum vmig_code rc = info(s, coll, out, err);
    if (rc != VMIG_OK) return rc;
    /* Scroll is ordered by id, integers (as u64) before UUIDs: the first point at or
     * after 2^63 is a big integer id if any exists, else the first UUID if any. */
    at.kind = VMIG_ID_NUM;
    at.num = (uint64_t)1 << 63;
    if ((rc = probe_first(s, coll, &at, &id, err)) != VMIG_OK) return rc;
    out->has_big_ids = id.kind == VMIG_ID_NUM;
    out->has_uuids = id.kind == VMIG_ID_UUID;
    if (!out->has_uuids) {
        memset(&at, 0, sizeof at);
        at.kind = VMIG_ID_UUID;
        if ((rc = probe_first(s, coll, &at, &id, err)) != VMIG_OK) return rc;
        out->has_uuids = id.kind == VMIG_ID_UUID;
    }
    out->ids_probed = 1;
    return VMIG_OK;
}

static enum vmig_code g_count(struct vmig_source *s, const char *coll, uint64_t *n,
                              struct vmig_err *err)
{
    vmig_qgrpc_enc_count(&s->req, coll);
    enum vmig_code rc = call(s, NULL, "/qdrant.Points/Count", "Count", coll, err);
    if (rc == VMIG_OK) rc = vmig_qgrpc_parse_count(s->resp.p, s->resp.len, n, err);
    return rc;
}

static enum vmig_code g_read(struct vmig_source *s, const struct vmig_read_req *req,
                             struct vmig_batch *out, struct vmig_point_id *next, size_t *page_bytes,
                             struct vmig_err *err)
{
    return scroll(s, req, out, next, page_bytes, err);
}

static enum vmig_code g_retrieve(struct vmig_source *s, const char *coll,
                                 const struct vmig_layout *lay, const struct vmig_point_id *ids,
                                 size_t n, struct vmig_batch *out, struct vmig_err *err)
{
    uint32_t per; /* in calls of at most the collection's page limit */
    enum vmig_code rc = capped(s, coll, n, &per, err);
    for (size_t off = 0; rc == VMIG_OK && off < n; off += per) {
        vmig_qgrpc_enc_get(&s->req, coll, lay, ids + off, n - off < per ? n - off : per);
        rc = call(s, NULL, "/qdrant.Points/Get", "Get", coll, err);
        if (rc == VMIG_OK)
            rc = vmig_qgrpc_scan_page_mem(s->resp.p, s->resp.len, VMIG_QGRPC_GET, lay, out, NULL,
                                          &s->mem, err);
    }
    return rc;
}

static int g_has_slices(struct vmig_source *s)
{
    return s && s->slices;
}

static enum vmig_code g_sample_ids(struct vmig_source *s, const char *coll, size_t n,
                                   struct vmig_batch *out, struct vmig_err *err)
{
    struct vmig_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.coll = coll;
    lay.nulls = VMIG_NULL_KEEP;
    uint32_t lim;
    enum vmig_code rc = capped(s, coll, n, &lim, err);
    if (rc) return rc;
    vmig_qgrpc_enc_sample(&s->req, coll, lim);
    rc = call(s, NULL, "/qdrant.Points/Query", "Query", coll, err);
    if (rc == VMIG_OK)
        rc = vmig_qgrpc_scan_page_mem(s->resp.p, s->resp.len, VMIG_QGRPC_QUERY, &lay, out, NULL,
                                      &s->mem, err);
    return rc;
}

static const char *const schemes[] = {"grpc", "grpcs", NULL};

const struct vmig_source_vt vmig_source_qdrant_grpc = {
    .name = "qdrant-grpc",
    .schemes = schemes,
    .open = g_open,
    .close = g_close,
    .probe = g_probe,
    .list = g_list,
    .describe = g_describe,
    .info = info,
    .count = g_count,
    .read = g_read,
    .retrieve = g_retrieve,
    .has_slices = g_has_slices,
    .sample_ids = g_sample_ids,
};

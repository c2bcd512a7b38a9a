/*
 * qdrant_http.h - the HTTP transport of the Qdrant connector: one libcurl easy
 * handle per source handle (so keep-alive connections are reused page after page),
 * TLS, the api-key header, timeouts, a bounded response buffer, and the mapping of
 * HTTP statuses and curl failures to vmig codes with messages a user can act on.
 * It knows nothing of scroll pages or collection configs (qdrant_codec.c) nor of
 * what to ask when (qdrant.c), and it does not retry: the connector does.
 */
#ifndef VMIG_SOURCE_QDRANT_HTTP_H
#define VMIG_SOURCE_QDRANT_HTTP_H

#include <stddef.h>

#include "util/buf.h"
#include "vmig/run.h"
#include "vmig/types.h"

#define VMIG_QHTTP_MAX_BODY ((size_t)512 << 20) /* largest answer accepted */

struct vmig_qhttp;

/* No I/O: sets up the easy handle. ep's strings are copied; ctx (may be NULL)
 * outlives the handle, and its cancel aborts a request in flight within ~1 s. */
enum vmig_code vmig_qhttp_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                               struct vmig_qhttp **out, struct vmig_err *err);
void vmig_qhttp_close(struct vmig_qhttp *h);

/* One request. method "GET" or "POST" (body JSON, may be NULL for GET); path starts
 * with '/'. coll (may be NULL) names the collection in error messages (404 ->
 * "collection 'x' not found on source"). On 2xx the body is in resp (reset first)
 * and VMIG_OK is returned; otherwise err is filled (err->server_code = HTTP status)
 * and resp holds whatever body came. */
enum vmig_code vmig_qhttp_request(struct vmig_qhttp *h, const char *method, const char *path,
                                  const char *body, size_t body_len, const char *coll,
                                  struct vmig_buf *resp, struct vmig_err *err);

/* The base URL (no trailing slash), for messages. */
const char *vmig_qhttp_url(const struct vmig_qhttp *h);

/* Append the URL-escaped form of s (a path segment) to out. */
void vmig_qhttp_escape(struct vmig_buf *out, const char *s);

#endif

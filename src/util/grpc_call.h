/*
 * grpc_call.h - the gRPC transport of every gRPC connector (the Milvus target, the
 * Qdrant gRPC source): one channel per handle (plaintext h2c or TLS, chosen by the
 * URL's scheme), unary calls with per-call metadata (the secret, Milvus's dbname)
 * and deadline, and gRPC statuses mapped to enum vmig_code in the server's words
 * (struct vmig_grpc_cfg). Knows nothing about protobuf or any server's messages: it
 * moves encoded bytes (codecs: milvus_codec.h, qdrant_grpc_codec.h).
 *
 * Thread safety: a struct vmig_grpc may be shared by any number of threads; each
 * call creates its own completion queue (pluck), so threads never share one.
 */
#ifndef VMIG_TARGET_GRPC_CALL_H
#define VMIG_TARGET_GRPC_CALL_H

#include <stddef.h>

#include "util/buf.h"
#include "vmig/error.h"
#include "vmig/run.h"
#include "vmig/types.h"

#define VMIG_GRPC_DEFAULT_TIMEOUT_MS 60000
#define VMIG_GRPC_RECV_MAX (256u << 20) /* largest response accepted */

struct vmig_grpc;

/* What differs between the servers a channel talks to. */
struct vmig_grpc_cfg {
    const char *kind;                 /* names the server in messages: "Milvus" */
    const char *const *plain_schemes; /* URL schemes for h2c, NULL-ended; [0] in messages */
    const char *const *tls_schemes;   /* URL schemes for TLS, NULL-ended; [0] in messages */
    int plain_port, tls_port;         /* ports when the URL has none */
    const char *secret_md;            /* metadata key carrying ep->secret ("authorization") */
    int secret_base64;                /* send the secret base64-encoded (Milvus's token) */
    const char *auth_hint;            /* what the secret is, for a refused one */
    const char *http_hint;            /* an HTTP/1 server answered: what to give instead */
};

/* Parse ep->url (a scheme of cfg's, or bare host:port = plaintext), create the
 * channel and the metadata (the secret under cfg->secret_md, Milvus's dbname). ep
 * strings are copied; the secret never appears in a message. */
enum vmig_code vmig_grpc_open(const struct vmig_endpoint *ep, const struct vmig_grpc_cfg *cfg,
                              struct vmig_grpc **out, struct vmig_err *err);
void vmig_grpc_close(struct vmig_grpc *g);

/* "host:port" as connected to (for messages). */
const char *vmig_grpc_address(const struct vmig_grpc *g);
/* The endpoint's default per-call timeout in ms. */
int vmig_grpc_timeout_ms(const struct vmig_grpc *g);

/* One unary call: send req (borrowed; copied into gRPC's buffer) to method
 * ("/milvus.proto.milvus.MilvusService/GetVersion"), wait at most timeout_ms
 * (0 = the endpoint's timeout), and replace resp's contents with the response
 * message. rpc is the short name used in messages ("GetVersion"). gRPC statuses map
 * to codes: UNAVAILABLE -> VMIG_E_UNAVAILABLE ("cannot reach Milvus at h:p: connection
 * refused"), DEADLINE_EXCEEDED -> TIMEOUT, RESOURCE_EXHAUSTED -> RATE_LIMIT (with the
 * server's `retry-after` metadata in err->retry_after_ms), NOT_FOUND -> NOT_FOUND,
 * UNAUTHENTICATED / PERMISSION_DENIED -> AUTH, UNIMPLEMENTED -> REMOTE (naming the
 * RPC), TLS handshake failures -> TLS, an HTTP/1 server at the address -> CONNECT,
 * others -> REMOTE / PROTOCOL. err->server_code carries the gRPC status. A
 * cancel of ctx (may be NULL) cancels the call within 100 ms: VMIG_E_CANCELLED. */
enum vmig_code vmig_grpc_unary(struct vmig_grpc *g, const char *method, const char *rpc,
                               const void *req, size_t len, int timeout_ms,
                               const struct vmig_run_ctx *ctx, struct vmig_buf *resp,
                               struct vmig_err *err);

/* Release gRPC core's process-wide state (threads, resolvers, caches). gRPC is
 * initialised once per process on the first vmig_grpc_open(); a host that wants a
 * leak-free exit (ASan) calls this once at exit, after closing every handle. */
void vmig_grpc_shutdown(void);

#endif

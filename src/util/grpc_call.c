/*
 * grpc_call.c - gRPC transport on the gRPC C core library (libgrpc 1.51): one
 * channel per connector handle, one completion queue per call, one batch of six ops
 * per unary call. The channel multiplexes every writer thread's calls over one
 * HTTP/2 connection and reconnects by itself; retries are the connector's job
 * (util/retry.h), so gRPC's own retry machinery is switched off.
 */
#include "grpc_call.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"
#include "util/url.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_FILE_MAX (16u << 20)

struct vmig_grpc {
    grpc_channel *ch;
    char addr[300]; /* host:port */
    struct vmig_grpc_cfg cfg; /* static strings of the connector */
    int tls;
    int timeout_ms;
    size_t nmd;
    grpc_metadata md[2]; /* the secret, dbname */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int grpc_up;

/* gRPC core logs to stderr by default; the library never prints, so its lines go
 * to our log callback (errors as debug: the failure reaches the caller as a code). */
static void grpc_log(gpr_log_func_args *a)
{
    VLOG_DEBUG("grpc: %s", a->message);
}

static void global_init(void)
{
    gpr_set_log_function(grpc_log);
    /* getaddrinfo instead of c-ares: honours nsswitch like every other program, and
     * c-ares leaks a few bytes per resolution in Debian's build (seen under LSan).
     * A GRPC_DNS_RESOLVER set by the user wins. */
    setenv("GRPC_DNS_RESOLVER", "native", 0);
    /* gRPC core is initialised once per process and kept for its life: every
     * re-initialisation would restart its thread pools and resolvers. The host
     * releases it with vmig_grpc_shutdown() at exit. */
    grpc_init();
    grpc_up = 1;
    if (sodium_init() < 0) VLOG_WARN("libsodium initialisation failed");
}

void vmig_grpc_shutdown(void)
{
    if (grpc_up) {
        grpc_up = 0;
        grpc_shutdown();
    }
}

/* Read a whole file (CA bundle) into a NUL-terminated buffer. */
static int read_file(const char *path, struct vmig_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char tmp[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (vmig_buf_add(out, tmp, n) < 0) {
            rc = -1;
            break;
        }
    if (ferror(f)) rc = -1;
    fclose(f);
    return rc;
}

/* Length of "scheme://" when url starts with one of schemes, else 0. */
static size_t scheme_len(const char *url, const char *const *schemes)
{
    for (size_t i = 0; schemes && schemes[i]; i++) {
        size_t n = strlen(schemes[i]);
        if (!strncmp(url, schemes[i], n) && !strncmp(url + n, "://", 3)) return n + 3;
    }
    return 0;
}

/* Split a URL into scheme flag, host and port. host_out gets "host" or "[v6]". */
static enum vmig_code parse_url(const char *url, const struct vmig_grpc_cfg *c, int *tls,
                                char *host, size_t hostn, int *port, struct vmig_err *err)
{
    const char *p = url, *end;
    size_t sl;
    *tls = 0;
    if (!url || !*url) return vmig_err_set(err, VMIG_E_USAGE, "no %s URL given", c->kind);
    if ((sl = scheme_len(p, c->tls_schemes)) > 0) {
        *tls = 1;
        p += sl;
    } else if ((sl = scheme_len(p, c->plain_schemes)) > 0) {
        p += sl;
    } else if (strstr(p, "://")) {
        vmig_err_set(err, VMIG_E_USAGE,
                     "unsupported %s URL '%s': use %s://host:port or %s://host[:port]", c->kind,
                     url, c->plain_schemes[0], c->tls_schemes[0]);
        vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        return VMIG_E_USAGE;
    }
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "%s URL must not carry credentials; pass the secret separately",
                            c->kind);
    /* gRPC has no path: one written in (a Milvus database, say) would be dropped unseen */
    if (vmig_url_check(url, c->kind, 0, err)) return VMIG_E_USAGE;
    const char *colon = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return vmig_err_set(err, VMIG_E_USAGE, "bad IPv6 address in URL '%s'", url);
        if (rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
        else if (rb + 1 != end)
            return vmig_err_set(err, VMIG_E_USAGE, "bad %s URL '%s'", c->kind, url);
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
    }
    const char *hend = colon ? colon : end;
    if (hend == p || (size_t)(hend - p) >= hostn)
        return vmig_err_set(err, VMIG_E_USAGE, "bad host in %s URL '%s'", c->kind, url);
    memcpy(host, p, (size_t)(hend - p));
    host[hend - p] = '\0';
    *port = *tls ? c->tls_port : c->plain_port;
    if (colon) {
        char *e = NULL;
        long v = strtol(colon + 1, &e, 10);
        if (e != end || v <= 0 || v > 65535)
            return vmig_err_set(err, VMIG_E_USAGE, "bad port in %s URL '%s'", c->kind, url);
        *port = (int)v;
    }
    return VMIG_OK;
}

static grpc_channel_credentials *make_tls_creds(const struct vmig_endpoint *ep,
                                                struct vmig_err *err)
{
    grpc_channel_credentials *creds = NULL;
    struct vmig_buf pem = VMIG_BUF_INIT;
    if (ep->insecure) {
        /* gRPC core 1.51 (experimental TLS API): no chain check, no host name check.
         * Only for self-signed test servers; the token still travels encrypted. */
        grpc_tls_credentials_options *o = grpc_tls_credentials_options_create();
        grpc_tls_certificate_verifier *v = grpc_tls_certificate_verifier_no_op_create();
        grpc_tls_credentials_options_set_verify_server_cert(o, 0);
        grpc_tls_credentials_options_set_certificate_verifier(o, v); /* takes its own ref */
        grpc_tls_certificate_verifier_release(v);
        grpc_tls_credentials_options_set_check_call_host(o, 0);
        creds = grpc_tls_credentials_create(o);
        goto out;
    }
    /* System roots, plus the endpoint's CA file when given (an extra bundle). */
    vmig_buf_init(&pem, CA_FILE_MAX);
    if (read_file(SYSTEM_CA_BUNDLE, &pem) < 0) vmig_buf_reset(&pem);
    if (ep->ca_file && *ep->ca_file) {
        vmig_buf_addch(&pem, '\n');
        if (read_file(ep->ca_file, &pem) < 0) {
            vmig_err_set(err, VMIG_E_TLS, "cannot read CA file '%s'", ep->ca_file);
            goto out;
        }
    }
    /* NULL = gRPC's default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, its roots.pem) */
    creds = grpc_ssl_credentials_create(pem.len ? pem.p : NULL, NULL, NULL, NULL);
out:
    vmig_buf_release(&pem);
    if (!creds && err && err->code == VMIG_OK)
        vmig_err_set(err, VMIG_E_TLS, "cannot set up TLS credentials");
    return creds;
}

enum vmig_code vmig_grpc_open(const struct vmig_endpoint *ep, const struct vmig_grpc_cfg *cfg,
                              struct vmig_grpc **out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_grpc *g = NULL;
    grpc_channel_credentials *creds = NULL;
    char host[256], target[300], *b64 = NULL;
    int port = 0;

    *out = NULL;
    pthread_once(&init_once, global_init);
    g = xcalloc(1, sizeof *g);
    g->cfg = *cfg;
    g->timeout_ms = ep->timeout_ms > 0 ? ep->timeout_ms : VMIG_GRPC_DEFAULT_TIMEOUT_MS;
    rc = parse_url(ep->url, cfg, &g->tls, host, sizeof host, &port, err);
    if (rc) goto out;
    snprintf(g->addr, sizeof g->addr, "%s:%d", host, port);
    snprintf(target, sizeof target, "dns:///%s:%d", host, port);

    if (ep->secret && *ep->secret) {
        size_t n = strlen(ep->secret);
        const char *v = ep->secret;
        size_t bn = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        if (cfg->secret_base64) {
            b64 = xmalloc(bn);
            sodium_bin2base64(b64, bn, (const unsigned char *)ep->secret, n,
                              sodium_base64_VARIANT_ORIGINAL);
            v = b64;
        }
        g->md[g->nmd].key = grpc_slice_from_static_string(cfg->secret_md);
        g->md[g->nmd].value = grpc_slice_from_copied_string(v);
        g->nmd++;
        if (b64) sodium_memzero(b64, bn);
    }
    if (ep->db && *ep->db) {
        g->md[g->nmd].key = grpc_slice_from_static_string("dbname");
        g->md[g->nmd].value = grpc_slice_from_copied_string(ep->db);
        g->nmd++;
    }

    creds = g->tls ? make_tls_creds(ep, err) : grpc_insecure_credentials_create();
    if (!creds) {
        rc = err ? err->code : VMIG_E_TLS;
        goto out;
    }
    char ua[64];
    snprintf(ua, sizeof ua, "vmigrate/%s", VMIG_VERSION);
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER,
         GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         {.integer = (int)VMIG_GRPC_RECV_MAX}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = (int)VMIG_GRPC_RECV_MAX}},
        {GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, {.integer = 500}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 5000}},
        {GRPC_ARG_STRING, GRPC_ARG_PRIMARY_USER_AGENT_STRING, {.string = ua}},
        /* No BDP pings: they only size our receive window (answers are small), and
         * servers with gRPC's default ping policy (Milvus Lite) answer them with
         * GOAWAY "too_many_pings", which drops in-flight writes as UNAVAILABLE. */
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_BDP_PROBE, {.integer = 0}},
        /* Keepalive pings within a Milvus server's policy (grpc-go's default
         * enforcement: at most one ping per 5 min, none without an active call;
         * more earn GOAWAY "too_many_pings"): one ping after 10 min of silence, only
         * while a call is in flight, and no more than two pings without data. */
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = 600000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = 20000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 2}},
    };
    grpc_channel_args cargs = {sizeof args / sizeof args[0], args};
    g->ch = grpc_channel_create(target, creds, &cargs);
    if (!g->ch) {
        rc = vmig_err_set(err, VMIG_E_CONNECT, "cannot create a gRPC channel to %s", g->addr);
        goto out;
    }
    VLOG_DEBUG("grpc channel to %s (%s)", g->addr, g->tls ? "tls" : "plaintext");
    *out = g;
    g = NULL;
out:
    if (creds) grpc_channel_credentials_release(creds);
    free(b64);
    vmig_grpc_close(g);
    return rc;
}

void vmig_grpc_close(struct vmig_grpc *g)
{
    if (!g) return;
    if (g->ch) grpc_channel_destroy(g->ch);
    for (size_t i = 0; i < g->nmd; i++) {
        grpc_slice_unref(g->md[i].key);
        grpc_slice_unref(g->md[i].value);
    }
    free(g);
}

const char *vmig_grpc_address(const struct vmig_grpc *g)
{
    return g->addr;
}
int vmig_grpc_timeout_ms(const struct vmig_grpc *g)
{
    return g->timeout_ms;
}

static int has(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* A gRPC status other than OK, as a vmig error. d = status details, e = core's error
 * string (more detail on transport failures). */
static enum vmig_code map_status(struct vmig_grpc *g, const char *rpc, grpc_status_code st,
                                 const char *d, const char *e, int timeout_ms, struct vmig_err *err)
{
    enum vmig_code rc;
    const char *k = g->cfg.kind;
    char both[700];
    snprintf(both, sizeof both, "%s %s", d ? d : "", e ? e : "");
    if (!d || !*d) d = vmig_strerror(VMIG_E_REMOTE);
    const char *colon = strrchr(g->addr, ':'), *port = colon ? colon + 1 : g->addr;

    switch (st) {
    case GRPC_STATUS_UNAVAILABLE:
        /* the transport's words are read here only; the message says what it means */
        if (has(both, "http1.x") || has(both, "HTTP/1") || has(both, "parsing HTTP/2")) {
            rc = vmig_err_set(err, VMIG_E_CONNECT,
                              "cannot talk to %s at %s: the server answers, but not with gRPC "
                              "(port %s looks like an HTTP port; %s)",
                              k, g->addr, port, g->cfg.http_hint);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else if (has(both, "wrong version number") || has(both, "packet length too long")) {
            rc = vmig_err_set(err, VMIG_E_CONNECT,
                              "cannot talk to %s at %s over TLS: the server does not speak TLS "
                              "(use %s://%s)",
                              k, g->addr, g->cfg.plain_schemes[0], g->addr);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else if (has(both, "andshake") || has(both, "SSL") || has(both, "ssl") ||
                   has(both, "certificate") || has(both, "TLS")) {
            rc = vmig_err_set(err, VMIG_E_TLS, "cannot reach %s at %s securely: %s", k, g->addr,
                              has(both, "verify failed") || has(both, "certificate")
                                  ? "its TLS certificate is not trusted"
                                  : "the TLS handshake failed");
            vmig_err_fix(err, VMIG_FIX_TLS, NULL);
        } else if (has(both, "Connection refused") || has(both, "connection refused")) {
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach %s at %s: connection refused (is the server running, "
                              "and is %s its gRPC port?)",
                              k, g->addr, port);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else if (has(both, "DNS") || has(both, "resolve") || has(both, "not known")) {
            rc = vmig_err_set(err, VMIG_E_CONNECT,
                              "cannot reach %s at %s: the host name '%.*s' is not known (is it "
                              "spelled right, and does this machine's DNS know it?)",
                              k, g->addr, (int)(port - 1 - g->addr), g->addr);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else if (has(both, "No route") || has(both, "unreachable")) {
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach %s at %s: no route to the host (is the address "
                              "right, and is this machine on its network?)",
                              k, g->addr);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else if (has(both, "Socket closed") || has(both, "reset") || has(both, "EOF")) {
            if (g->tls)
                rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                                  "cannot reach %s at %s: the server closed the connection (is "
                                  "the server running, and is this its gRPC port?)",
                                  k, g->addr);
            else
                rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                                  "cannot reach %s at %s: the server closed the connection (a "
                                  "TLS-only endpoint? use %s://)",
                                  k, g->addr, g->cfg.tls_schemes[0]);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else {
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach %s at %s: the server is unavailable (is it running, "
                              "and is %s its gRPC port?)",
                              k, g->addr, port);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        }
        break;
    case GRPC_STATUS_CANCELLED: /* we never cancel calls: the server did (shutting down) */
    case GRPC_STATUS_ABORTED:
        rc = vmig_err_set(err, VMIG_E_UNAVAILABLE, "%s on %s at %s was %s by the server: %s", rpc,
                          k, g->addr, st == GRPC_STATUS_CANCELLED ? "cancelled" : "aborted", d);
        break;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        if (grpc_channel_check_connectivity_state(g->ch, 0) != GRPC_CHANNEL_READY) {
            /* never connected: the address does not answer at all */
            rc = vmig_err_set(err, VMIG_E_TIMEOUT,
                              "cannot reach %s at %s: no answer to the connection within %.1f s "
                              "(is the address right, and does a firewall let port %s through?)",
                              k, g->addr, timeout_ms / 1000.0, port);
            vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        } else
            rc = vmig_err_set(err, VMIG_E_TIMEOUT,
                              "%s on %s at %s: no answer within %.1f s (the server is busy or "
                              "stalled)",
                              rpc, k, g->addr, timeout_ms / 1000.0);
        break;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        if (has(both, "larger than max"))
            rc = vmig_err_set(err, VMIG_E_DATA, "%s on %s at %s: message too large: %s", rpc, k,
                              g->addr, d);
        else
            rc = vmig_err_set(err, VMIG_E_RATE_LIMIT, "%s on %s at %s: resource exhausted: %s", rpc,
                              k, g->addr, d);
        break;
    case GRPC_STATUS_UNAUTHENTICATED:
    case GRPC_STATUS_PERMISSION_DENIED:
        rc = vmig_err_set(
            err, VMIG_E_AUTH,
            "%s on %s at %s: authentication failed (%s): %s; check %s", rpc, k, g->addr,
            st == GRPC_STATUS_UNAUTHENTICATED ? "not authenticated" : "permission denied", d,
            g->cfg.auth_hint);
        vmig_err_fix(err, VMIG_FIX_CREDENTIALS, NULL);
        break;
    case GRPC_STATUS_UNIMPLEMENTED:
        rc = vmig_err_set(err, VMIG_E_REMOTE,
                          "%s at %s does not implement %s (not a %s server, or too old): %s", k,
                          g->addr, rpc, k, d);
        break;
    case GRPC_STATUS_NOT_FOUND:
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "%s on %s at %s: not found: %s", rpc, k, g->addr,
                          d);
        break;
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_DATA_LOSS:
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s on %s at %s: gRPC protocol error: %s", rpc, k,
                          g->addr, d);
        break;
    default:
        rc = vmig_err_set(err, VMIG_E_REMOTE, "%s on %s at %s failed: gRPC status %d: %s", rpc, k,
                          g->addr, (int)st, d);
        break;
    }
    if (err) err->server_code = (int)st;
    return rc;
}

/* The `retry-after` metadata of a throttled call (seconds, as Qdrant sends it), in ms. */
static int retry_after_ms(const grpc_metadata_array *md)
{
    for (size_t i = 0; i < md->count; i++) {
        const grpc_slice *k = &md->metadata[i].key, *v = &md->metadata[i].value;
        if (GRPC_SLICE_LENGTH(*k) == 11 && !memcmp(GRPC_SLICE_START_PTR(*k), "retry-after", 11))
            return vmig_retry_after_ms((const char *)GRPC_SLICE_START_PTR(*v),
                                       GRPC_SLICE_LENGTH(*v));
    }
    return 0;
}

enum vmig_code vmig_grpc_unary(struct vmig_grpc *g, const char *method, const char *rpc,
                               const void *req, size_t len, int timeout_ms,
                               const struct vmig_run_ctx *ctx, struct vmig_buf *resp,
                               struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    grpc_completion_queue *cq = NULL;
    grpc_call *call = NULL;
    grpc_byte_buffer *send = NULL, *recv = NULL;
    grpc_metadata_array init_md, trail_md;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *errstr = NULL;
    char *dstr = NULL;
    int started = 0, tag = 0;

    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    vmig_buf_reset(resp);
    if (timeout_ms <= 0) timeout_ms = g->timeout_ms;

    cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice mslice = grpc_slice_from_copied_string(method);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    call = grpc_channel_create_call(g->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, mslice, NULL,
                                    deadline, NULL);
    grpc_slice_unref(mslice);
    if (!call) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "%s: cannot create a gRPC call", rpc);
        goto out;
    }
    /* One copy of the encoded request into gRPC's slice: gRPC may hold its buffers
     * past the call's completion, so it must not reference the caller's memory. */
    grpc_slice s = grpc_slice_from_copied_buffer(req, len);
    send = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = g->nmd;
    ops[0].data.send_initial_metadata.metadata = g->nmd ? g->md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.error_string = &errstr;
    grpc_call_error ce = grpc_call_start_batch(call, ops, 6, &tag, NULL);
    if (ce != GRPC_CALL_OK) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "%s: cannot start gRPC call (error %d)", rpc,
                          (int)ce);
        goto out;
    }
    started = 1;
    /* wait in 100 ms slices: a cancelled run cancels the call, which then completes
     * with CANCELLED at once (the server may or may not have applied it) */
    grpc_event ev;
    int cancelled = 0;
    for (;;) {
        gpr_timespec slice = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                          gpr_time_from_millis(100, GPR_TIMESPAN));
        ev = grpc_completion_queue_pluck(cq, &tag, slice, NULL);
        if (ev.type != GRPC_QUEUE_TIMEOUT) break;
        if (!cancelled && vmig_run_cancelled(ctx)) {
            cancelled = 1;
            grpc_call_cancel(call, NULL);
        }
    }
    if (cancelled && status != GRPC_STATUS_OK) {
        rc = vmig_err_set(err, VMIG_E_CANCELLED, "%s on %s at %s: cancelled", rpc, g->cfg.kind,
                          g->addr);
        goto out;
    }
    if (ev.type != GRPC_OP_COMPLETE) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "%s: completion queue failed", rpc);
        goto out;
    }
    if (status != GRPC_STATUS_OK) {
        dstr = grpc_slice_to_c_string(details);
        vmig_run_log(ctx, VMIG_LOG_DEBUG, "grpc %s -> status %d: %s [%s]", rpc, (int)status, dstr,
                     errstr ? errstr : "");
        rc = map_status(g, rpc, status, dstr, errstr, timeout_ms, err);
        if (rc == VMIG_E_RATE_LIMIT && err) err->retry_after_ms = retry_after_ms(&trail_md);
        goto out;
    }
    if (!recv) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s on %s at %s: no response message", rpc,
                          g->cfg.kind, g->addr);
        goto out;
    }
    grpc_byte_buffer_reader rd;
    if (!grpc_byte_buffer_reader_init(&rd, recv)) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: cannot read the response", rpc);
        goto out;
    }
    grpc_slice part;
    while (grpc_byte_buffer_reader_next(&rd, &part)) {
        int bad = vmig_buf_add(resp, GRPC_SLICE_START_PTR(part), GRPC_SLICE_LENGTH(part)) < 0;
        grpc_slice_unref(part);
        if (bad) {
            rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: response too large", rpc);
            break;
        }
    }
    grpc_byte_buffer_reader_destroy(&rd);
out:
    (void)started;
    if (call) grpc_call_unref(call);
    if (cq) {
        grpc_completion_queue_shutdown(cq);
        while (
            grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
            GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(cq);
    }
    if (send) grpc_byte_buffer_destroy(send);
    if (recv) grpc_byte_buffer_destroy(recv);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_slice_unref(details);
    gpr_free((void *)errstr);
    gpr_free(dstr);
    return rc;
}

/*
 * qdrant_http.c - libcurl transport for the Qdrant REST API; see qdrant_http.h.
 *
 * Why the error mapping looks the way it does:
 *  - 401/403 bodies are plain text from Qdrant's auth middleware, so they are quoted
 *    as text (trimmed), never parsed as JSON; the key itself never appears.
 *  - Connection refused/reset, 5xx and a body cut short are transient: retryable.
 *  - Pointing the tool at Qdrant's gRPC port (6334) is the most common mistake. An
 *    HTTP/2-only server answers an HTTP/1.1 request with an HTTP/2 SETTINGS/GOAWAY
 *    frame, which curl reports as an HTTP/0.9 answer or a weird server reply; that
 *    is turned into VMIG_E_CONNECT with a hint about the ports.
 */
#include "qdrant_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/qdrant_codec.h"
#include "vmig/inputs.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"
#include "util/url.h"

struct vmig_qhttp {
    CURL *curl;
    char *url; /* base, no trailing slash */
    char *key; /* api key or NULL */
    char *ca_file;
    int insecure;
    long timeout_ms;
    struct curl_slist *hdr_get, *hdr_post;
    struct vmig_buf *resp; /* during a request */
    int overflow;          /* the answer passed VMIG_QHTTP_MAX_BODY */
    int retry_after_ms;    /* Retry-After of the last answer, 0 = none */
    const struct vmig_run_ctx *ctx; /* its cancel aborts a request in flight */
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct vmig_qhttp *h = ud;
    size_t n = size * nmemb;
    if (vmig_buf_add(h->resp, ptr, n) != 0) {
        h->overflow = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct vmig_qhttp *h = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(ptr, "retry-after:", 12) == 0) {
        size_t vn = n - 12;
        while (vn && (ptr[12 + vn - 1] == '\r' || ptr[12 + vn - 1] == '\n'))
            vn--;
        h->retry_after_ms = vmig_retry_after_ms(ptr + 12, vn);
    }
    return n;
}

/* curl calls this about once a second even while a stalled server sends nothing (and
 * at every chunk): a cancelled run aborts the request (CURLE_ABORTED_BY_CALLBACK). */
static int on_xfer(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const struct vmig_qhttp *h = ud;
    return vmig_run_cancelled(h->ctx);
}

enum vmig_code vmig_qhttp_open(const struct vmig_endpoint *ep, const struct vmig_run_ctx *ctx,
                               struct vmig_qhttp **out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_qhttp *h = NULL;
    *out = NULL;
    if (!ep || !ep->url || !ep->url[0]) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "no Qdrant URL given");
        goto out;
    }
    if (strncmp(ep->url, "http://", 7) != 0 && strncmp(ep->url, "https://", 8) != 0) {
        rc = vmig_err_set(err, VMIG_E_USAGE,
                          "Qdrant URL '%s' must start with http:// or https://", ep->url);
        vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
        goto out;
    }
    if ((rc = vmig_url_check(ep->url, "Qdrant", 1, err))) goto out;
    /* the same refusal as the target's URL parser: a password in the URL would be
     * stored with the job and shown in messages; a control character in the key would
     * be sent as a header line of its own */
    if (vmig_url_has_credentials(ep->url)) {
        rc = vmig_err_set(err, VMIG_E_USAGE,
                          "source URL must not carry credentials (user:password@); pass the "
                          "Qdrant API key separately");
        goto out;
    }
    if (vmig_secret_has_control(ep->secret)) {
        rc = vmig_err_set(err, VMIG_E_USAGE,
                          "the Qdrant API key contains a control character (CR, LF or another "
                          "byte below 0x20 or 0x7f)");
        goto out;
    }
    pthread_once(&curl_once, curl_init_once);
    h = xcalloc(1, sizeof *h);
    h->url = xstrdup(ep->url);
    for (size_t n = strlen(h->url); n > 0 && h->url[n - 1] == '/'; n--) h->url[n - 1] = '\0';
    h->key = ep->secret && ep->secret[0] ? xstrdup(ep->secret) : NULL;
    h->ca_file = ep->ca_file && ep->ca_file[0] ? xstrdup(ep->ca_file) : NULL;
    h->insecure = ep->insecure;
    h->timeout_ms = ep->timeout_ms > 0 ? ep->timeout_ms : 60000;
    h->curl = curl_easy_init();
    if (!h->curl) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "cannot initialise libcurl");
        goto out;
    }
    struct curl_slist *g = NULL;
    g = curl_slist_append(g, "Accept: application/json");
    if (h->key) {
        struct vmig_buf kb = VMIG_BUF_INIT;
        vmig_buf_addf(&kb, "api-key: %s", h->key);
        g = curl_slist_append(g, kb.p);
        vmig_buf_release(&kb);
    }
    h->hdr_get = g;
    struct curl_slist *p = NULL;
    for (struct curl_slist *i = g; i; i = i->next) p = curl_slist_append(p, i->data);
    p = curl_slist_append(p, "Content-Type: application/json");
    h->hdr_post = p;

    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    if (ctx) {
        h->ctx = ctx;
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms < 10000 ? h->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    /* Compression is opt-in: float text compresses ~2x, but inflating costs more CPU than
     * the transfer saves on any link faster than ~50 MB/s (docs/internals/PERFORMANCE.md:
     * reads 3.4x faster without it on loopback); worth it only over slow WAN links. */
    if (ep->compress) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vmigrate/" VMIG_VERSION);
    if (h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    *out = h;
    h = NULL;
out:
    vmig_qhttp_close(h);
    return rc;
}

void vmig_qhttp_close(struct vmig_qhttp *h)
{
    if (!h) return;
    if (h->curl) curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->hdr_get);
    curl_slist_free_all(h->hdr_post);
    free(h->url);
    if (h->key) {
        memset(h->key, 0, strlen(h->key));
        free(h->key);
    }
    free(h->ca_file);
    free(h);
}

const char *vmig_qhttp_url(const struct vmig_qhttp *h) { return h->url; }

void vmig_qhttp_escape(struct vmig_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            vmig_buf_addch(out, (char)c);
        else
            vmig_buf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
}

/* First line of a plain-text body, trimmed, at most 200 bytes (for messages). */
static void body_text(const struct vmig_buf *b, char *out, size_t n)
{
    size_t i = 0, o = 0;
    while (i < b->len && (b->p[i] == ' ' || b->p[i] == '\n' || b->p[i] == '\r')) i++;
    for (; i < b->len && o + 1 < n && o < 200 && b->p[i] != '\n' && b->p[i] != '\r'; i++)
        out[o++] = (unsigned char)b->p[i] < 0x20 ? ' ' : b->p[i];
    while (o > 0 && out[o - 1] == ' ') o--;
    out[o] = '\0';
}

static enum vmig_code map_status(struct vmig_qhttp *h, long st, const char *what,
                                 const char *coll, const struct vmig_buf *resp,
                                 struct vmig_err *err)
{
    char text[256];
    char *qerr = vmig_qdrant_error_text(resp->p, resp->len);
    enum vmig_code rc;
    if (qerr) snprintf(text, sizeof text, "%s", qerr);
    else body_text(resp, text, sizeof text);
    free(qerr);
    if (st == 401 || st == 403) {
        rc = vmig_err_set(err, VMIG_E_AUTH, "Qdrant rejected the API key (%ld): %s", st,
                          text[0] ? text : "no reason given");
    } else if (st == 404 && coll) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "collection '%s' not found on source", coll);
    } else if (st == 404) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "%s %s: not found (is this a Qdrant REST URL?)",
                          what, h->url);
    } else if (st == 408 || st == 504) {
        rc = vmig_err_set(err, VMIG_E_TIMEOUT, "%s on %s timed out on the server (%ld)%s%s", what,
                          h->url, st, text[0] ? ": " : "", text);
    } else if (st == 429) {
        rc = vmig_err_set(err, VMIG_E_RATE_LIMIT, "%s on %s: rate limited by Qdrant (429)%s%s",
                          what, h->url, text[0] ? ": " : "", text);
        if (err) err->retry_after_ms = h->retry_after_ms;
    } else if (st == 500 || st == 502 || st == 503) {
        rc = vmig_err_set(err, VMIG_E_UNAVAILABLE, "%s on %s: Qdrant unavailable (%ld)%s%s", what,
                          h->url, st, text[0] ? ": " : "", text);
    } else {
        rc = vmig_err_set(err, VMIG_E_REMOTE, "%s on %s refused (%ld)%s%s", what, h->url, st,
                          text[0] ? ": " : "", text);
    }
    if (err) err->server_code = (int)st;
    if (st == 401 || st == 403)
        vmig_err_fix(err, VMIG_FIX_CREDENTIALS, NULL);
    else if (st == 404 && !coll)
        vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
    if (coll && st != 404 && st != 401 && st != 403) vmig_err_prefix(err, "collection '%s': ", coll);
    if (coll && st != 401 && st != 403) vmig_err_at(err, coll, NULL, NULL); /* named above */
    return rc;
}

/* After an http:// request got no HTTP answer: does the server complete a TLS
 * handshake (certificate not checked: only the protocol is in question)? */
static int speaks_tls(const struct vmig_qhttp *h)
{
    if (strncmp(h->url, "http://", 7) != 0) return 0;
    CURL *c = curl_easy_init();
    if (!c) return 0;
    struct vmig_buf u = VMIG_BUF_INIT;
    vmig_buf_addf(&u, "https://%s/", h->url + 7);
    curl_easy_setopt(c, CURLOPT_URL, u.p);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms < 5000 ? h->timeout_ms : 5000L);
    int yes = curl_easy_perform(c) == CURLE_OK;
    curl_easy_cleanup(c);
    vmig_buf_release(&u);
    return yes;
}

/* The URL's host and port (the scheme's default when the URL names none), for the
 * plain-words messages of map_curl. */
static void host_port(const struct vmig_qhttp *h, char *host, size_t hn, long *port)
{
    CURLU *u = curl_url();
    char *hp = NULL, *pp = NULL;
    *port = 0;
    snprintf(host, hn, "?");
    if (u && curl_url_set(u, CURLUPART_URL, h->url, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_HOST, &hp, 0) == CURLUE_OK) snprintf(host, hn, "%s", hp);
        if (curl_url_get(u, CURLUPART_PORT, &pp, CURLU_DEFAULT_PORT) == CURLUE_OK) *port = atol(pp);
    }
    curl_free(hp);
    curl_free(pp);
    curl_url_cleanup(u);
}

/* A failed transfer in plain words: what could not be reached, why (refused, a name that
 * does not resolve, no answer, TLS, the wrong protocol) and the question that leads out;
 * the fact of the way out in err->fix. curl's own text is read here only, never shown. */
static enum vmig_code map_curl(struct vmig_qhttp *h, CURLcode cc, const char *what,
                               struct vmig_err *err)
{
    const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
    char host[256];
    long port, oserr = 0;
    curl_off_t connect_us = 0;
    host_port(h, host, sizeof host, &port);
    curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    enum vmig_code rc;
    /* the request, as a reader knows it: the probe's GET / is the first one */
    const char *req = strcmp(what, "GET /") == 0 ? "the first request" : what;
    /* http:// to a TLS port: the server closes (curl: empty reply) or answers with a TLS
     * record (alert 0x15 / handshake 0x16, version 0x03 0x..) that curl cannot read */
    int tls_bytes = h->resp && h->resp->len >= 2 &&
                    (h->resp->p[0] == 0x15 || h->resp->p[0] == 0x16) && h->resp->p[1] == 0x03;
    if ((cc == CURLE_GOT_NOTHING || cc == CURLE_WEIRD_SERVER_REPLY ||
         cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_RECV_ERROR || tls_bytes) &&
        strncmp(h->url, "http://", 7) == 0 && (tls_bytes || speaks_tls(h))) {
        rc = vmig_err_set(err, VMIG_E_CONNECT,
                          "cannot talk to Qdrant at %s: the server at %s seems to speak TLS: use "
                          "https://%s",
                          h->url, h->url, h->url + 7);
        return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
    }
    switch (cc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
        if (strstr(detail, "HTTP/0.9") || cc == CURLE_WEIRD_SERVER_REPLY || cc == CURLE_HTTP2 ||
            (h->resp && h->resp->len >= 3 && memcmp(h->resp->p, "\0\0", 2) == 0)) {
            rc = vmig_err_set(err, VMIG_E_CONNECT,
                              "cannot talk to Qdrant at %s: the server answers, but not with "
                              "HTTP/1.1; port %ld looks like a gRPC port (Qdrant's REST API is "
                              "usually on 6333, gRPC on 6334): to read Qdrant over gRPC give "
                              "%s://%s:%ld",
                              h->url, port, strncmp(h->url, "https", 5) ? "grpc" : "grpcs", host,
                              port);
            return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
        }
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        rc = vmig_err_set(err, VMIG_E_CONNECT,
                          "cannot reach Qdrant at %s: the host name '%s' is not known (is it "
                          "spelled right, and does this machine's DNS know it?)",
                          h->url, host);
        return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
    case CURLE_COULDNT_CONNECT:
        if (oserr == ECONNREFUSED || oserr == 0)
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach Qdrant at %s: connection refused (is the server "
                              "running, and is %ld its REST port?)",
                              h->url, port);
        else if (oserr == EHOSTUNREACH || oserr == ENETUNREACH)
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach Qdrant at %s: no route to host %s (is the address "
                              "right, and is this machine on its network?)",
                              h->url, host);
        else if (oserr == ETIMEDOUT)
            rc = vmig_err_set(err, VMIG_E_TIMEOUT,
                              "cannot reach Qdrant at %s: no answer to the connection (is the "
                              "address right, and does a firewall let port %ld through?)",
                              h->url, port);
        else
            rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                              "cannot reach Qdrant at %s: %s (is the server running, and is %ld "
                              "its REST port?)",
                              h->url, strerror((int)oserr), port);
        return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        rc = vmig_err_set(err, VMIG_E_UNAVAILABLE,
                          "Qdrant at %s: the connection broke before the answer to %s was "
                          "complete (the server closed it or restarted)",
                          h->url, req);
        return vmig_err_fix(err, VMIG_FIX_RESUME, NULL), rc;
    case CURLE_BAD_CONTENT_ENCODING:
        return vmig_err_set(err, VMIG_E_UNAVAILABLE,
                            "%s on Qdrant at %s: the answer's compression could not be read", what,
                            h->url);
    case CURLE_COULDNT_RESOLVE_PROXY:
        rc = vmig_err_set(err, VMIG_E_CONNECT,
                          "cannot reach Qdrant at %s: the proxy's host name (https_proxy / "
                          "http_proxy) is not known",
                          h->url);
        return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
    case CURLE_OPERATION_TIMEDOUT:
        if (connect_us == 0) {
            rc = vmig_err_set(err, VMIG_E_TIMEOUT,
                              "cannot reach Qdrant at %s: no answer to the connection within "
                              "%.0f s (is the address right, and does a firewall let port %ld "
                              "through?)",
                              h->url, (double)(h->timeout_ms < 10000 ? h->timeout_ms : 10000) / 1e3,
                              port);
            return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
        }
        return vmig_err_set(err, VMIG_E_TIMEOUT,
                            "Qdrant at %s: no answer within %.1f s to %s (is the server "
                            "overloaded, and is %ld its REST port?)",
                            h->url, (double)h->timeout_ms / 1e3, req, port);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
        if (strstr(detail, "wrong version number") || strstr(detail, "packet length too long")) {
            rc = vmig_err_set(err, VMIG_E_CONNECT,
                              "cannot talk to Qdrant at %s over TLS: the server does not speak "
                              "TLS (use http://%s)",
                              h->url, strncmp(h->url, "https://", 8) ? h->url : h->url + 8);
            return vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL), rc;
        }
        if (cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM)
            rc = vmig_err_set(err, VMIG_E_TLS,
                              "cannot reach Qdrant at %s securely: the CA certificate file "
                              "cannot be read or is not a PEM certificate",
                              h->url);
        else {
            const char *why = detail;
            if (!strncmp(why, "SSL certificate problem: ", 25)) why += 25;
            rc =
                vmig_err_set(err, VMIG_E_TLS, "cannot reach Qdrant at %s securely: %s (%s)", h->url,
                             cc == CURLE_PEER_FAILED_VERIFICATION || strstr(detail, "certificate")
                                 ? "its TLS certificate is not trusted"
                                 : "the TLS handshake failed",
                             why);
        }
        return vmig_err_fix(err, VMIG_FIX_TLS, NULL), rc;
    case CURLE_ABORTED_BY_CALLBACK:
        return vmig_err_set(err, VMIG_E_CANCELLED, "%s on %s: cancelled", what, h->url);
    case CURLE_WRITE_ERROR:
        if (h->overflow)
            return vmig_err_set(err, VMIG_E_PROTOCOL,
                                "%s on %s: answer larger than %zu MiB (use a smaller page size)",
                                what, h->url, VMIG_QHTTP_MAX_BODY >> 20);
        break;
    default:
        break;
    }
    return vmig_err_set(err, VMIG_E_PROTOCOL, "%s on %s failed: %s", what, h->url, detail);
}

enum vmig_code vmig_qhttp_request(struct vmig_qhttp *h, const char *method, const char *path,
                                  const char *body, size_t body_len, const char *coll,
                                  struct vmig_buf *resp, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf url = VMIG_BUF_INIT;
    char what[96];
    CURL *c = h->curl;
    int post = strcmp(method, "POST") == 0;
    long st = 0;
    snprintf(what, sizeof what, "%s %.80s", method, path);
    vmig_buf_addf(&url, "%s%s", h->url, path);
    vmig_buf_reset(resp);
    resp->max = VMIG_QHTTP_MAX_BODY;
    h->resp = resp;
    h->overflow = 0;
    h->retry_after_ms = 0;
    h->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url.p);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdr_post);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdr_get);
    }
    uint64_t t0 = vmig_now_ms();
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = map_curl(h, cc, what, err);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    vmig_run_log(h->ctx, VMIG_LOG_DEBUG, "qdrant: %s -> %ld, %zu bytes in %llu ms", what, st,
                 resp->len, (unsigned long long)(vmig_now_ms() - t0));
    if (st < 200 || st > 299) rc = map_status(h, st, what, coll, resp, err);
out:
    h->resp = NULL;
    vmig_buf_release(&url);
    return rc;
}

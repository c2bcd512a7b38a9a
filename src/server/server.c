/*
 * server.c - `vmigrate serve`: libmicrohttpd with a thread per connection (the
 * handlers block on Qdrant and Milvus for seconds), bound to 127.0.0.1 unless told
 * otherwise. It reads request bodies up to SRV_BODY_MAX, checks the bearer token of
 * /api/ requests, refuses cross-site writes, hands /api/v1 to api.c and the rest to
 * files.c. It also runs the job worker in-process (vmig_worker_run), plus one thread
 * per resumed/retried/restarted job; on SIGINT/SIGTERM it stops accepting, raises the
 * stop flag (running jobs checkpoint and go back to PENDING) and joins everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "server/server.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "util/retry.h"

/* ---- per-request state ----------------------------------------------------------- */

struct conn_req {
    struct vmig_buf body;
    int too_big;
};

static void free_req(void *cls, struct MHD_Connection *c, void **con_cls,
                     enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn_req *q = *con_cls;
    if (!q) return;
    vmig_buf_release(&q->body);
    free(q);
    *con_cls = NULL;
}

const char *srv_query(const struct api_req *r, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND,
                                       key);
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, char *body,
                                 const char *extra_hdr, const char *extra_val)
{
    struct MHD_Response *rs =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!rs) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(rs, "Content-Type", "application/json");
    MHD_add_response_header(rs, "Cache-Control", "no-store");
    MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
    if (extra_hdr) MHD_add_response_header(rs, extra_hdr, extra_val);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, rs);
    MHD_destroy_response(rs);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *msg, const char *hdr, const char *val)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) abort();
    return send_json(c, status, s, hdr, val);
}

static enum MHD_Result handle_api(struct srv *s, struct MHD_Connection *c, const char *url,
                                  const char *method, struct conn_req *q)
{
    const struct srv_config *cfg = s->cfg;
    if (cfg->api_token && *cfg->api_token) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (!srv_token_ok(auth, cfg->api_token))
            return send_error(c, 401, "auth",
                              "this server needs an API token: send 'Authorization: Bearer <token>'",
                              "WWW-Authenticate", "Bearer");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
               srv_cross_site(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
                              MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"))) {
        return send_error(c, 403, "auth", "cross-origin request refused", NULL, NULL);
    }
    if (q->too_big) {
        char m[128];
        snprintf(m, sizeof m, "request body larger than %u MiB", SRV_BODY_MAX >> 20);
        return send_error(c, 413, "usage", m, NULL, NULL);
    }
    const char *path = srv_api_path(url);
    if (!path)
        return send_error(c, 404, "not_found", "unknown API version (this server speaks /api/v1)",
                          NULL, NULL);
    struct api_req r;
    memset(&r, 0, sizeof r);
    r.srv = s;
    r.method = method;
    r.path = path;
    r.conn = c;
    char m[300];
    int bad = srv_read_body(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
                            q->body.p, q->body.len, &r.body, m, sizeof m);
    if (bad) return send_error(c, bad, "usage", m, NULL, NULL);
    struct api_resp out = {500, NULL};
    api_handle(&r, &out);
    if (r.body) json_decref(r.body);
    if (!out.body) return send_error(c, 500, "internal", "no response", NULL, NULL);
    if (cfg->verbose && cfg->log) {
        char line[600];
        snprintf(line, sizeof line, "serve: %s %.400s -> %d", method, url, out.status);
        cfg->log(NULL, VMIG_LOG_INFO, line);
    }
    return send_json(c, out.status, out.body, NULL, NULL);
}

/* GET /metrics: behind the API token when the server has one (a scraper sends it as
 * its bearer token: Prometheus's `authorization: {credentials: ...}`), open otherwise
 * like the rest of a loopback server; it only reads. */
static enum MHD_Result handle_metrics(struct srv *s, struct MHD_Connection *c, const char *method)
{
    const char *token = s->cfg->api_token;
    if (token && *token &&
        !srv_token_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), token))
        return send_error(c, 401, "auth",
                          "this server needs an API token: send 'Authorization: Bearer <token>'",
                          "WWW-Authenticate", "Bearer");
    return (enum MHD_Result)srv_metrics_answer(c, method, s->store, s->metrics);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct srv *s = cls;
    struct conn_req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        vmig_buf_init(&q->body, SRV_BODY_MAX);
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* keep reading (and dropping) an oversized body so the 413 can be sent */
        if (!q->too_big && vmig_buf_add(&q->body, upload_data, *upload_data_size) != 0) {
            q->too_big = 1;
            vmig_buf_release(&q->body);
            vmig_buf_init(&q->body, SRV_BODY_MAX);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0)
        return handle_api(s, c, url, method, q);
    if (strcmp(url, "/metrics") == 0) return handle_metrics(s, c, method);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, 405, "usage", "static files are read-only (GET)", "Allow",
                          "GET, HEAD");
    return (enum MHD_Result)files_serve(s, c, url);
}

/* ---- job runs outside the worker ------------------------------------------------------- */

static void wipe_free(char *p)
{
    if (!p) return;
    volatile char *v = p;
    while (*v) *v++ = 0;
    free(p);
}

static void runner_free(struct srv_runner *ru)
{
    wipe_free(ru->src_secret);
    wipe_free(ru->dst_secret);
    struct vmig_job_retry_opts *c = &ru->ch;
    free((char *)c->null_values);
    free((char *)c->payload_conflict);
    free((char *)c->payload_misfit);
    free((char *)c->rejects);
    free((char *)c->index);
    for (size_t i = 0; i < c->nedits; i++) {
        free((char *)c->edit_kind[i]);
        free((char *)c->edit_val[i]);
    }
    free((void *)c->edit_kind);
    free((void *)c->edit_val);
    free(ru);
}

static void run_opts(struct srv *s, struct vmig_job_run_opts *ro)
{
    vmig_job_run_opts_init(ro);
    ro->cancel = &s->stop;
    ro->requeue = 1; /* stopped by the server's shutdown: back to PENDING for the next start */
    ro->log = s->cfg->log;
    ro->log_level = s->cfg->verbose ? VMIG_LOG_DEBUG : VMIG_LOG_WARN;
    ro->metrics = s->metrics;
}

/* The runner's claim, decided: wake srv_run_job. */
static void on_claim(void *ud, int claimed, const struct vmig_err *why)
{
    struct srv_runner *ru = ud;
    struct srv *s = ru->srv;
    pthread_mutex_lock(&s->mu);
    ru->decided = 1;
    ru->claimed = claimed;
    if (why) ru->why = *why;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *runner_main(void *arg)
{
    struct srv_runner *ru = arg;
    struct srv *s = ru->srv;
    struct vmig_job_run_opts ro;
    run_opts(s, &ro);
    ro.src_secret = ru->src_secret;
    ro.dst_secret = ru->dst_secret;
    struct vmig_err err;
    vmig_err_clear(&err);
    ro.on_claim = on_claim;
    ro.claim_ud = ru;
    enum vmig_code rc = vmig_job_act(s->store, ru->id, ru->action, &ru->ch, &ro, NULL, &err);
    if (rc && rc != VMIG_E_CANCELLED && s->cfg->log) {
        char line[VMIG_ERR_MSG_MAX + 64];
        snprintf(line, sizeof line, "serve: job %s (%s): %s", ru->id,
                 vmig_job_action_name(ru->action), err.msg);
        s->cfg->log(NULL, VMIG_LOG_WARN, line);
    }
    pthread_mutex_lock(&s->mu);
    ru->rc = rc;
    ru->err = err;
    ru->done = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Join runners that have ended (called with s->mu held). */
static void reap_locked(struct srv *s)
{
    struct srv_runner **pp = &s->runners;
    while (*pp) {
        struct srv_runner *ru = *pp;
        if (ru->done && !ru->waited) {
            *pp = ru->next;
            pthread_join(ru->th, NULL);
            runner_free(ru);
        } else {
            pp = &ru->next;
        }
    }
}

static char *dup_or_null(const char *p)
{
    if (!p) return NULL;
    char *d = strdup(p);
    if (!d) abort();
    return d;
}

int srv_run_job(struct srv *s, const char *id, enum vmig_job_action action, const char *src_secret,
                const char *dst_secret, const struct vmig_job_retry_opts *ch, int *claimed,
                struct vmig_err *why)
{
    struct srv_runner *ru = calloc(1, sizeof *ru);
    if (!ru) abort();
    ru->srv = s;
    snprintf(ru->id, sizeof ru->id, "%s", id);
    ru->action = action;
    ru->src_secret = dup_or_null(src_secret);
    ru->dst_secret = dup_or_null(dst_secret);
    if (ch) { /* the request's body goes away when the answer is sent */
        struct vmig_job_retry_opts *c = &ru->ch;
        c->null_values = dup_or_null(ch->null_values);
        c->payload_conflict = dup_or_null(ch->payload_conflict);
        c->payload_misfit = dup_or_null(ch->payload_misfit);
        c->rejects = dup_or_null(ch->rejects);
        c->index = dup_or_null(ch->index);
        c->max_vector_fields = ch->max_vector_fields;
        const char **k = calloc(ch->nedits + 1, sizeof *k), **v = calloc(ch->nedits + 1, sizeof *v);
        if (!k || !v) abort();
        for (size_t i = 0; i < ch->nedits; i++) {
            k[i] = dup_or_null(ch->edit_kind[i]);
            v[i] = dup_or_null(ch->edit_val[i]);
        }
        c->edit_kind = k;
        c->edit_val = v;
        c->nedits = ch->nedits;
    }
    pthread_mutex_lock(&s->mu);
    reap_locked(s);
    if (pthread_create(&ru->th, NULL, runner_main, ru) != 0) {
        pthread_mutex_unlock(&s->mu);
        runner_free(ru);
        return -1;
    }
    ru->next = s->runners;
    s->runners = ru;
    ru->waited = 1;
    /* The runner says whether it took the job (the library's on_claim hook, called
     * once, before anything runs), so the answer shows the new status and a refusal
     * (running elsewhere, wrong state, no secrets) comes back as an error. The runner
     * is reaped only under mu, when done and not waited on, so ru lives while we wait. */
    while (!ru->decided && !ru->done)
        pthread_cond_wait(&s->cv, &s->mu);
    *claimed = ru->claimed;
    if (!ru->claimed) *why = ru->decided ? ru->why : ru->err;
    ru->waited = 0;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- the daemon -------------------------------------------------------------------------- */

struct worker_arg {
    struct srv *s;
    int concurrency;
};

static void *worker_main(void *arg)
{
    struct worker_arg *w = arg;
    struct vmig_job_run_opts ro;
    run_opts(w->s, &ro);
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_worker_run(w->s->store, w->concurrency, &ro, &w->s->stop, &err) && w->s->cfg->log)
        w->s->cfg->log(NULL, VMIG_LOG_ERROR, err.msg);
    return NULL;
}

int srv_split_listen(const char *l, char *host, size_t hn, char *port, size_t pn)
{
    const char *colon;
    if (l[0] == '[') {
        const char *end = strchr(l, ']');
        if (!end || end[1] != ':') return -1;
        snprintf(host, hn, "%.*s", (int)(end - l - 1), l + 1);
        colon = end + 1;
    } else {
        colon = strrchr(l, ':');
        if (!colon) {
            snprintf(host, hn, "127.0.0.1");
            snprintf(port, pn, "%s", l);
            goto check;
        }
        snprintf(host, hn, "%.*s", (int)(colon - l), l);
        if (!host[0]) snprintf(host, hn, "127.0.0.1");
    }
    snprintf(port, pn, "%s", colon + 1);
check:
    if (!port[0] || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535) return -1;
    return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return 0;
}

/* MHD's own unescaping, except that a "%00" cannot cut a path short: the handlers see
 * C strings, so "/index.html%00.png" would otherwise be served as "/index.html". The
 * byte becomes 0x7f, which no route and no file name of the console holds. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0') s[i] = 0x7f;
    return n;
}
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct srv_config *cfg = cls;
    if (!cfg->verbose || !cfg->log) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') line[--n] = '\0';
    cfg->log(NULL, VMIG_LOG_DEBUG, line);
}

int srv_run(const struct srv_config *cfg)
{
    struct srv s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    s.metrics = vmig_metrics_new();
    struct MHD_Daemon *d = NULL;
    struct addrinfo *ai = NULL;
    pthread_t worker;
    int worker_started = 0, rc = 1;
    struct worker_arg wa = {&s, cfg->concurrency > 0 ? cfg->concurrency : 1};
    char host[256], port[16];

    if (srv_split_listen(cfg->listen ? cfg->listen : "127.0.0.1:8080", host, sizeof host, port,
                         sizeof port)) {
        fprintf(stderr,
                "vmigrate serve: --listen must be HOST:PORT with PORT from 0 to 65535 "
                "(e.g. 127.0.0.1:8080; 0 = any free port), not '%s'\n",
                cfg->listen);
        rc = 2;
        goto out;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "vmigrate serve: cannot resolve '%s': %s\n", host, gai_strerror(gai));
        rc = 2;
        goto out;
    }
    if (!is_loopback(ai->ai_addr) && !(cfg->api_token && *cfg->api_token))
        fprintf(stderr, "vmigrate serve: warning: listening on %s without --api-token: anyone who "
                        "can reach this port can start migrations\n",
                host);

    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_store_open(cfg->store, &s.store, &err)) {
        fprintf(stderr, "vmigrate serve: %s\n", err.msg);
        goto out;
    }
    files_find_root(&s);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                         MHD_OPTION_NOTIFY_COMPLETED, free_req, NULL, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)256, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)cfg,
                         MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "vmigrate serve: cannot listen on %s:%s: %s\n", host, port,
                errno ? strerror(errno) : "libmicrohttpd failed to start");
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : (unsigned)atoi(port);

    if (pthread_create(&worker, NULL, worker_main, &wa) == 0) worker_started = 1;
    else fprintf(stderr, "vmigrate serve: cannot start the job worker\n");

    fprintf(stderr, "vmigrate serve: listening on http://%s%s%s:%u\n",
            ai->ai_family == AF_INET6 ? "[" : "", host, ai->ai_family == AF_INET6 ? "]" : "",
            bound);
    if (!s.web_root[0])
        fprintf(stderr, "vmigrate serve: no web console found (give --web-root DIR); the API "
                        "works without it\n");
    else if (cfg->verbose)
        fprintf(stderr, "vmigrate serve: web console from %s\n", s.web_root);
    fflush(stderr);

    while (!*cfg->host_stop) vmig_sleep_ms(100);

    fprintf(stderr, "vmigrate serve: stopping (running jobs checkpoint and go back to "
                    "Pending)\n");
    MHD_stop_daemon(d); /* no new requests; waits for the ones being answered */
    d = NULL;
    rc = 0;
out:
    if (d) MHD_stop_daemon(d);
    s.stop = 1;
    api_verify_stop(&s);
    if (worker_started) pthread_join(worker, NULL);
    pthread_mutex_lock(&s.mu);
    struct srv_runner *ru = s.runners;
    s.runners = NULL;
    pthread_mutex_unlock(&s.mu);
    while (ru) {
        struct srv_runner *next = ru->next;
        pthread_join(ru->th, NULL);
        runner_free(ru);
        ru = next;
    }
    if (s.store) vmig_store_close(s.store);
    if (ai) freeaddrinfo(ai);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    vmig_metrics_free(s.metrics);
    if (rc == 0) fprintf(stderr, "vmigrate serve: stopped\n");
    return rc;
}

/*
 * metrics.c - `GET /metrics` in the Prometheus text format (0.0.4): the process's own
 * registry (util/metrics.h: what this process's runs did) followed by the job store's
 * view (jobs by status, collections' progress, range tasks: what every worker sharing
 * the store did). `vmigrate serve` routes /metrics here (server.c, behind its API token
 * when it has one); `vmigrate worker --metrics-listen` starts the small daemon below,
 * which serves nothing else.
 */
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "util/buf.h"
#include "util/metrics.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              char *body, size_t len)
{
    struct MHD_Response *rs = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!rs) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(rs, "Content-Type", type);
    MHD_add_response_header(rs, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, rs);
    MHD_destroy_response(rs);
    return ret;
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char *b = strdup(msg);
    if (!b) abort();
    return answer(c, status, "text/plain; charset=utf-8", b, strlen(b));
}

int srv_metrics_answer(void *conn, const char *method, struct vmig_store *s, struct vmig_metrics *m)
{
    struct MHD_Connection *c = conn;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return plain(c, 405, "/metrics is read-only (GET)\n");
    struct vmig_buf b = VMIG_BUF_INIT;
    struct vmig_err err;
    vmig_err_clear(&err);
    vmig_metrics_render(m, &b);
    if (s && vmig_metrics_render_store(s, &b, &err) != VMIG_OK) {
        /* a scrape that cannot read the store fails whole: half a view would read as
         * jobs that vanished */
        vmig_buf_release(&b);
        char msg[VMIG_ERR_MSG_MAX + 32];
        snprintf(msg, sizeof msg, "cannot read the job store: %s\n", err.msg);
        return plain(c, 503, msg);
    }
    size_t len = 0;
    char *body = vmig_buf_detach(&b, &len);
    return answer(c, 200, METRICS_TYPE, body, len);
}

/* ---- the worker's own daemon ------------------------------------------------------- */

struct srv_metrics {
    struct MHD_Daemon *d;
    struct vmig_store *store;
    struct vmig_metrics *m;
};

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct srv_metrics *sm = cls;
    if (!*con_cls) { /* first call of a request: headers only */
        *con_cls = sm;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is never read */
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0) return plain(c, 404, "only /metrics is served here\n");
    return (enum MHD_Result)srv_metrics_answer(c, method, sm->store, sm->m);
}

struct srv_metrics *srv_metrics_start(const char *listen, struct vmig_store *s,
                                      struct vmig_metrics *m, unsigned *port_out,
                                      struct vmig_err *err)
{
    char host[256], port[16];
    struct addrinfo hints, *ai = NULL;
    if (srv_split_listen(listen, host, sizeof host, port, sizeof port)) {
        vmig_err_set(err, VMIG_E_USAGE,
                     "--metrics-listen must be [HOST:]PORT with PORT from 0 to 65535, not '%s'",
                     listen);
        return NULL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) {
        vmig_err_set(err, VMIG_E_USAGE, "--metrics-listen: cannot resolve '%s': %s", host,
                     gai_strerror(gai));
        return NULL;
    }
    struct srv_metrics *sm = calloc(1, sizeof *sm);
    if (!sm) abort();
    sm->store = s;
    sm->m = m;
    /* one thread, polling: a scrape every few seconds needs no more */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    sm->d = MHD_start_daemon(flags, 0, NULL, NULL, on_metrics, sm, MHD_OPTION_SOCK_ADDR,
                             ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!sm->d) {
        free(sm);
        vmig_err_set(err, VMIG_E_IO, "cannot listen on %s:%s for /metrics", host, port);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sm->d, MHD_DAEMON_INFO_BIND_PORT);
    if (port_out) *port_out = di ? di->port : (unsigned)atoi(port);
    return sm;
}

void srv_metrics_stop(struct srv_metrics *sm)
{
    if (!sm) return;
    MHD_stop_daemon(sm->d);
    free(sm);
}

/*
 * server.h - what the HTTP face's files share. server.c runs libmicrohttpd, reads
 * request bodies (bounded), checks the bearer token, routes /api/v1/ to the
 * handlers in api.c and everything else to the static files of files.c; it also
 * owns the in-process job worker and the threads that run resumed, retried and
 * restarted jobs. Like the CLI, the server is a thin face: handlers parse JSON, call
 * libvmig and map its codes to HTTP statuses (docs/user/http-api.md).
 */
#ifndef VMIG_SERVER_H
#define VMIG_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "vmig/job.h"
#include "vmig/vmig.h"

#define SRV_BODY_MAX (16u << 20) /* request bodies: 16 MiB (a plan of many collections) */
#define SRV_MAX_SECRETS 4

/* How `vmigrate serve` was started (strings borrowed from the command line). */
struct srv_config {
    const char *listen;    /* "127.0.0.1:8080", "[::1]:0", ":8080", "8080" */
    const char *store;     /* NULL = the default job store */
    const char *api_token; /* NULL/"" = no authentication */
    const char *web_root;  /* NULL = web/ next to the repository */
    int concurrency;       /* jobs the in-process worker runs at once (>= 1) */
    int verbose;
    vmig_log_fn log; /* the host's log sink (stderr) */
    const atomic_int *host_stop; /* set by SIGINT/SIGTERM */
};

/* A job run started by resume/retry/restart (or a job whose secrets are not stored):
 * a thread of its own, joined when it ends or when the server stops. */
struct srv_runner {
    struct srv_runner *next;
    pthread_t th;
    int done;            /* under srv.mu */
    int decided;         /* the claim was decided (on_claim ran), under srv.mu */
    int claimed;         /* ... and this runner took the job */
    int waited;          /* srv_run_job still waits on it: not reaped yet, under srv.mu */
    struct vmig_err why; /* why it did not */
    enum vmig_code rc;
    struct vmig_err err;
    char id[VMIG_JOB_ID_MAX];
    enum vmig_job_action action;
    char *src_secret, *dst_secret; /* owned, wiped when freed; NULL = stored ones */
    struct vmig_job_retry_opts ch; /* owned copy (srv_run_job copies, runner_free frees) */
    struct srv *srv;
};

struct vmig_metrics; /* util/metrics.h */
struct srv_vfull;
/* Cancel the API's full verifications and join them (server stop). */
void api_verify_stop(struct srv *s);

struct srv {
    const struct srv_config *cfg;
    struct vmig_store *store;
    struct vmig_metrics *metrics; /* this process's runs (owned), for GET /metrics */
    char web_root[4096]; /* realpath, "" when there is none */
    atomic_int stop;     /* the worker's and the runners' cancel flag (requeue) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct srv_runner *runners;
    struct srv_vfull *vfulls; /* full verifications started by the API (api_verify.c) */
};

/* One API request as the handlers see it. */
struct api_req {
    struct srv *srv;
    const char *method;
    const char *path; /* after "/api/v1" */
    json_t *body;     /* parsed body object, NULL when the request had none */
    void *conn;       /* struct MHD_Connection *, for query arguments */
    /* secrets seen in the body: every error message is redacted of them */
    const char *secrets[SRV_MAX_SECRETS];
    size_t nsecrets;
};

struct api_resp {
    int status;
    char *body; /* malloc'd JSON text */
};

/* ---- reading a request (request.c, pure) ---- */
/* The Authorization header hdr carries "Bearer <token>" (constant-time compare). */
int srv_token_ok(const char *hdr, const char *token);
/* A write from another site: an Origin header (may be NULL) whose host is not Host. */
int srv_cross_site(const char *origin, const char *host);
/* The API path after "/api/v1" ("" or "/..."), or NULL for another version. */
const char *srv_api_path(const char *url);
/* A request body p[len] (none when len is 0: *body NULL) into the JSON object *body:
 * 0, or the HTTP status (415, 400) with msg[n] saying what is wrong. */
int srv_read_body(const char *content_type, const char *p, size_t len, json_t **body, char *msg,
                  size_t n);

/* Route and answer one /api/v1 request (api.c). */
void api_handle(struct api_req *r, struct api_resp *out);

/* Set out to the JSON error {"error":{"code","message"}}, redacted of r's secrets. */
void api_error(const struct api_req *r, struct api_resp *out, int status, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The HTTP status of a library code (the table in docs/user/http-api.md). */
int api_status_of(enum vmig_code code);

/* The value of query argument key, or NULL (server.c). */
const char *srv_query(const struct api_req *r, const char *key);

/* Start a thread doing action on job id with the given secrets and retry options
 * (copied; NULL = none), and wait until that run has decided its claim (the library's
 * on_claim hook). 0 with *claimed set (when 0, why says what refused it; nothing ran),
 * or -1 when no thread could be started. */
int srv_run_job(struct srv *s, const char *id, enum vmig_job_action action, const char *src_secret,
                const char *dst_secret, const struct vmig_job_retry_opts *ch,
                int *claimed, struct vmig_err *why);

/* Static files (files.c): find the web root (cfg->web_root, or web/ next to the
 * executable's repository, or ./web) into s->web_root. */
void files_find_root(struct srv *s);
/* Answer GET/HEAD of path from the web root; returns the MHD result. */
int files_serve(struct srv *s, void *conn, const char *path);

int srv_run(const struct srv_config *cfg);

/* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" into host (default 127.0.0.1) and port;
 * -1 when malformed (server.c). */
int srv_split_listen(const char *l, char *host, size_t hn, char *port, size_t pn);

/* ---- GET /metrics (metrics.c) ---------------------------------------------------------
 * Answer a request of /metrics on conn (a struct MHD_Connection *): m's families, then
 * the store's view of s (NULL = none); 503 when the store cannot be read. Returns the
 * MHD result. Authentication is the caller's (serve: its API token). */
int srv_metrics_answer(void *conn, const char *method, struct vmig_store *s,
                       struct vmig_metrics *m);
/* A daemon serving only GET /metrics on listen ([HOST:]PORT, host default 127.0.0.1,
 * unauthenticated: bind it where only the scraper reaches), for `vmigrate worker`.
 * s and m are borrowed and must outlive it. *port_out (may be NULL): the bound port.
 * NULL with err set when it cannot listen. */
struct srv_metrics;
struct srv_metrics *srv_metrics_start(const char *listen, struct vmig_store *s,
                                      struct vmig_metrics *m, unsigned *port_out,
                                      struct vmig_err *err);
void srv_metrics_stop(struct srv_metrics *sm);

#endif

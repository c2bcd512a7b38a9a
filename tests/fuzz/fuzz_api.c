/*
 * fuzz_api.c - libFuzzer harness of the HTTP API's request reading, with no
 * socket: the input is a request as a client writes it ("METHOD URL" line, header
 * lines, an empty line, the body). It goes through what `vmigrate serve` does with
 * one (src/server/request.c: the bearer token, the cross-site check, the /api/v1
 * prefix, the JSON body), then the router api_handle() (api.c) on a job store in a
 * temporary directory that holds one job ("j1", endpoints on closed local ports).
 * The routes that would call out to Qdrant or Milvus (source/target check,
 * source/collections, plan, POST /jobs) get their body readers (api_body.c) called
 * in the handler's order instead, so the fuzzer never reaches the network.
 * srv_query() and srv_run_job() (server.c, tied to libmicrohttpd and threads) are
 * this file's: the query string of the URL, and "not claimed"; so are the full
 * verification's start and status (api_verify.c: a thread that reaches the servers):
 * "not run" and "none".
 * Checks: every answer has a body and a status; a reader that returns 0 answered
 * nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/api_int.h"
#include "server/server.h"
#include "store/store.h"
#include "vmig/inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct srv the_srv;
static char store_dir[] = "/tmp/vmig_fuzz_api_XXXXXX";
static char query[1024]; /* the current request's query string ("a=1&b=2") */

const char *srv_query(const struct api_req *r, const char *key)
{
    static char val[256];
    (void)r;
    size_t kl = strlen(key);
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        if ((size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(val, sizeof val, "%.*s", (int)(end - p - (long)kl - 1), p + kl + 1);
            return val;
        }
        if ((size_t)(end - p) == kl && !strncmp(p, key, kl)) return "";
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

int srv_run_job(struct srv *s, const char *id, enum vmig_job_action action, const char *src_secret,
                const char *dst_secret, const struct vmig_job_retry_opts *ch, int *claimed,
                struct vmig_err *why)
{
    (void)s, (void)action, (void)src_secret, (void)dst_secret, (void)ch;
    *claimed = 0;
    vmig_err_set(why, VMIG_E_USAGE, "job '%s' is not run by the fuzzer", id);
    return 0;
}

void api_job_verify_full(struct api_req *r, struct api_resp *out, const char *id)
{
    (void)r;
    api_resp_obj(out, 409, json_pack("{s:s,s:s}", "error", "not run by the fuzzer", "job", id));
}

void api_job_verify_status(struct api_req *r, struct api_resp *out, const char *id)
{
    (void)r;
    api_resp_obj(out, 200, json_pack("{s:s,s:s}", "status", "none", "job", id));
}

/* The store's directory goes when the fuzzer exits. */
static void remove_store(void)
{
    static const char *const files[] = {"jobs.db", "jobs.db-wal", "jobs.db-shm", "jobs.db-journal"};
    char path[64];
    vmig_store_close(the_srv.store);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", store_dir, files[i]);
        unlink(path);
    }
    rmdir(store_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static struct srv_config cfg;
    char path[64];
    if (!mkdtemp(store_dir)) abort();
    snprintf(path, sizeof path, "%s/jobs.db", store_dir);
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_store_open(path, &the_srv.store, &err)) {
        fprintf(stderr, "fuzz_api: store: %s\n", err.msg);
        abort();
    }
    struct vmig_endpoint src, dst;
    memset(&src, 0, sizeof src);
    memset(&dst, 0, sizeof dst);
    src.url = "http://127.0.0.1:1";
    dst.url = "http://127.0.0.1:2";
    struct vmig_store_new_job nj;
    memset(&nj, 0, sizeof nj);
    nj.id = "j1";
    nj.created_ms = 1;
    nj.src = &src;
    nj.dst = &dst;
    nj.plan_json = "{}";
    nj.opts_json = "{}";
    if (the_srv.store->vt->job_insert(the_srv.store, &nj, &err)) abort();
    atexit(remove_store);
    the_srv.cfg = &cfg;
    return 0;
}

/* The readers of a route that calls out (in its handler's order); 0 when all read. */
static int readers(struct api_req *r, struct api_resp *out, const char *p)
{
    struct vmig_endpoint src, dst;
    const char **names = NULL;
    size_t n = 0;
    int rc = 0;
    if (!strcmp(p, "/source/check")) return api_get_endpoint(r, out, "source", &src);
    if (!strcmp(p, "/target/check")) return api_get_endpoint(r, out, "target", &dst);
    if (api_get_endpoint(r, out, "source", &src)) return -1;
    if (!strcmp(p, "/source/collections")) {
        rc = api_get_names(r, out, &names, &n);
        free(names);
        return rc;
    }
    if (api_get_endpoint(r, out, "target", &dst)) return -1;
    if (!strcmp(p, "/plan")) {
        rc = api_get_names(r, out, &names, &n);
        free(names);
        if (rc) return rc;
    }
    struct vmig_map_opts mo;
    vmig_map_opts_init(&mo);
    rc = api_get_map_opts(r, out, src.url, &mo);
    vmig_map_opts_release(&mo);
    if (rc || !strcmp(p, "/plan")) return rc;
    /* POST /jobs */
    int bad, v;
    json_t *o = api_get_obj(r, out, "options", &bad);
    if (bad) return -1;
    struct vmig_job_opts jo;
    vmig_job_opts_init(&jo);
    if (api_get_ranged(r, out, o, "options.", "readers", VMIG_READERS_MIN, VMIG_READERS_MAX, &v) ||
        api_get_int(r, out, o, "options.", "verify_sample", -1, VMIG_SAMPLE_MAX, &v) ||
        api_get_bool(r, out, o, "options.", "store_secrets", &v) ||
        api_get_bulk_opts(r, out, o, &jo))
        return -1;
    json_t *pj = json_object_get(r->body, "plan");
    if (pj) {
        char *text = json_dumps(pj, JSON_COMPACT | JSON_ENCODE_ANY);
        struct vmig_plan plan;
        struct vmig_err err;
        vmig_err_clear(&err);
        if (text) (void)vmig_plan_from_json(text, &plan, &err);
        if (text) vmig_plan_release(&plan);
        free(text);
    } else if (api_get_names(r, out, &names, &n)) {
        return -1;
    }
    free(names);
    return 0;
}

static const char *header(char *head, const char *name)
{
    size_t nl = strlen(name);
    for (char *l = head; l && *l;) {
        char *e = strchr(l, '\n');
        if (!strncasecmp(l, name, nl) && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            return v;
        }
        l = e ? e + 1 : NULL;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* head: up to the first empty line, its lines NUL-terminated; body: the rest */
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '\n' && data[i + 1] == '\n') {
            sep = data + i;
            break;
        }
    size_t hl = sep ? (size_t)(sep - data) : size;
    if (hl > 8192 || memchr(data, '\0', hl)) return -1;
    char *head = malloc(hl + 2);
    memcpy(head, data, hl);
    head[hl] = '\n';
    head[hl + 1] = '\0';
    const char *body = sep ? (const char *)sep + 2 : "";
    size_t blen = sep ? size - hl - 2 : 0;

    char method[16], url[4096];
    char *nl = strchr(head, '\n');
    *nl = '\0';
    int ok = sscanf(head, "%15s %4095s", method, url) == 2;
    char *hdrs = nl + 1;
    if (!ok) {
        free(head);
        return -1;
    }
    char *q = strchr(url, '?');
    snprintf(query, sizeof query, "%s", q ? q + 1 : "");
    if (q) *q = '\0';

    /* server.c's checks, in its order */
    const char *auth = header(hdrs, "Authorization");
    if (auth) {
        char tok[256];
        snprintf(tok, sizeof tok, "%.*s", (int)strcspn(auth, "\n"), auth);
        (void)srv_token_ok(tok, "fuzz-token");
    }
    const char *origin = header(hdrs, "Origin"), *host = header(hdrs, "Host");
    char o[256], h[256];
    if (origin) snprintf(o, sizeof o, "%.*s", (int)strcspn(origin, "\n"), origin);
    if (host) snprintf(h, sizeof h, "%.*s", (int)strcspn(host, "\n"), host);
    (void)srv_cross_site(origin ? o : NULL, host ? h : NULL);
    const char *path = srv_api_path(url);
    const char *ctv = header(hdrs, "Content-Type");
    char ct[256];
    if (ctv) snprintf(ct, sizeof ct, "%.*s", (int)strcspn(ctv, "\n"), ctv);
    struct api_req r;
    memset(&r, 0, sizeof r);
    r.srv = &the_srv;
    r.method = method;
    r.path = path;
    char msg[300];
    if (!path || srv_read_body(ctv ? ct : NULL, body, blen, &r.body, msg, sizeof msg)) {
        free(head);
        return 0;
    }
    struct api_resp out = {500, NULL};
    int calls_out = !strcmp(method, "POST") &&
                    (!strcmp(path, "/source/check") || !strcmp(path, "/target/check") ||
                     !strcmp(path, "/source/collections") || !strcmp(path, "/plan") ||
                     !strcmp(path, "/jobs") || !strcmp(path, "/jobs/"));
    if (calls_out) {
        char p[32];
        snprintf(p, sizeof p, "%s", path);
        if (p[strlen(p) - 1] == '/') p[strlen(p) - 1] = '\0';
        if (readers(&r, &out, p) == 0 && out.body) abort(); /* read, yet answered an error */
        if (!out.body) out.body = strdup("{}");
    } else {
        api_handle(&r, &out);
    }
    if (!out.body || !out.status) abort(); /* server.c would answer 500 "no response" */
    free(out.body);
    if (r.body) json_decref(r.body);
    free(head);
    return 0;
}

/*
 * api.c - the handlers of the HTTP API v1 (docs/user/http-api.md, docs/openapi.yaml).
 * Each one reads its JSON body, calls one libvmig function (probe, describe, plan,
 * job create/get/list/logs/cancel/resume/retry/restart) and maps the library's code
 * to an HTTP status with api_status_of(); the library's JSON forms (plan, job,
 * source collection) are passed through unchanged so the console and the CLI's
 * --json see the same documents. Secrets from request bodies are redacted from
 * every message built here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api_int.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/redact.h"
#include "vmig/inputs.h"

/* ---- responses ---------------------------------------------------------------------- */

void api_resp_text(struct api_resp *out, int status, char *text)
{
    free(out->body);
    out->status = status;
    out->body = text;
}

void api_resp_obj(struct api_resp *out, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) abort();
    api_resp_text(out, status, s);
}

int api_status_of(enum vmig_code code)
{
    switch (code) {
    case VMIG_OK: return 200;
    case VMIG_E_USAGE: return 400;
    case VMIG_E_AUTH: return 401;
    case VMIG_E_NOT_FOUND: return 404;
    case VMIG_E_EXISTS:
    case VMIG_E_BUSY:
    case VMIG_E_VERIFY: return 409;
    case VMIG_E_SCHEMA: return 422;
    case VMIG_E_CONNECT:
    case VMIG_E_TLS:
    case VMIG_E_UNAVAILABLE:
    case VMIG_E_TIMEOUT: return 502;
    default: return 500;
    }
}

json_t *api_msg_json(const struct api_req *r, const char *msg)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_adds(&b, msg);
    for (size_t i = 0; i < r->nsecrets; i++)
        vmig_redact_secret(&b, r->secrets[i]);
    vmig_redact_userinfo(&b);
    json_t *j = json_string(b.p);
    vmig_buf_release(&b);
    return j ? j : json_string("(message not UTF-8)");
}

/* The error reply; facts (may be NULL) adds the error's subject as "collection",
 * "point" and "field" members, each only when set. */
static void error_reply(const struct api_req *r, struct api_resp *out, int status, const char *code,
                        const struct vmig_err *facts, const char *fmt, va_list ap)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_vaddf(&b, fmt, ap);
    json_t *e = json_pack("{s:s,s:o}", "code", code, "message", api_msg_json(r, b.p));
    if (facts && facts->coll[0]) json_object_set_new(e, "collection", json_string(facts->coll));
    if (facts && facts->point[0]) json_object_set_new(e, "point", json_string(facts->point));
    if (facts && facts->field[0]) json_object_set_new(e, "field", json_string(facts->field));
    if (facts && facts->fix) { /* the way out: a word for the console's control, plain words */
        json_object_set_new(e, "fix", json_string(vmig_fix_name(facts->fix)));
        json_object_set_new(e, "hint", json_string(vmig_fix_hint(facts->fix)));
        if (facts->fix_arg[0]) json_object_set_new(e, "fix_arg", json_string(facts->fix_arg));
    }
    api_resp_obj(out, status, json_pack("{s:o}", "error", e));
    vmig_buf_release(&b);
}

void api_error(const struct api_req *r, struct api_resp *out, int status, const char *code,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_reply(r, out, status, code, NULL, fmt, ap);
    va_end(ap);
}

void api_error_facts(const struct api_req *r, struct api_resp *out, int status, const char *code,
                     const struct vmig_err *facts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_reply(r, out, status, code, facts, fmt, ap);
    va_end(ap);
}

/* A library failure; side ("source"/"target"/NULL: the caller knows which server it
 * asked) names the server a credentials or connection problem is about. Library
 * messages never begin with the side, so it is added without looking at the text. */
void api_lib_error(const struct api_req *r, struct api_resp *out, const struct vmig_err *e,
                   const char *side)
{
    const char *msg = e->msg[0] ? e->msg : vmig_strerror(e->code);
    int say_side =
        side && (e->code == VMIG_E_AUTH || e->code == VMIG_E_CONNECT || e->code == VMIG_E_TLS ||
                 e->code == VMIG_E_UNAVAILABLE || e->code == VMIG_E_TIMEOUT);
    api_error_facts(r, out, api_status_of(e->code), vmig_code_json_name(e->code), e, "%s%s%s",
                    say_side ? side : "", say_side ? ": " : "", msg);
}
/* ---- handlers ------------------------------------------------------------------------ */

static void h_health(struct api_req *r, struct api_resp *out)
{
    (void)r;
    api_resp_obj(out, 200, json_pack("{s:s,s:s}", "status", "ok", "version", vmig_version()));
}

static void h_check(struct api_req *r, struct api_resp *out, const char *side)
{
    struct vmig_endpoint ep;
    if (api_get_endpoint(r, out, side, &ep)) return;
    char ver[64] = "";
    struct vmig_target_caps caps;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (strcmp(side, "source") == 0) {
        if (vmig_source_probe(&ep, ver, sizeof ver, &err)) { /* checks the API key too */
            api_lib_error(r, out, &err, side);
            return;
        }
        api_resp_obj(out, 200, json_pack("{s:b,s:s}", "ok", 1, "version", ver));
        return;
    }
    if (vmig_target_probe(&ep, &caps, &err)) {
        api_lib_error(r, out, &err, side);
        return;
    }
    api_resp_obj(out, 200,
                 json_pack("{s:b,s:s,s:s,s:s,s:b}", "ok", 1, "version", caps.version, "product",
                           caps.product, "release", caps.release, "known", caps.known));
}

static void h_collections(struct api_req *r, struct api_resp *out)
{
    struct vmig_endpoint ep;
    struct vmig_src_coll *sc = NULL;
    const char **names = NULL;
    size_t n = 0, nnames = 0;
    if (api_get_endpoint(r, out, "source", &ep) || api_get_names(r, out, &names, &nnames)) goto out;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_source_describe(&ep, nnames ? names : NULL, nnames, &sc, &n, &err);
    if (rc) {
        api_lib_error(r, out, &err, "source");
        goto out;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char *js = vmig_src_coll_to_json(&sc[i], 0);
        json_array_append_new(a, json_loads(js, 0, NULL));
        free(js);
    }
    api_resp_obj(out, 200, json_pack("{s:o}", "collections", a));
out:
    free(sc);
    free(names);
}

/* Probe both servers first, so a connection or credentials problem is reported with
 * the side it is about (the session calls' own messages do not always say). */
int api_probe_both(const struct api_req *r, struct api_resp *out, const struct vmig_endpoint *src,
                   const struct vmig_endpoint *dst)
{
    char ver[64];
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_source_probe(src, ver, sizeof ver, &err)) {
        api_lib_error(r, out, &err, "source");
        return -1;
    }
    struct vmig_target_caps caps;
    if (vmig_target_probe(dst, &caps, &err)) {
        api_lib_error(r, out, &err, "target");
        return -1;
    }
    return 0;
}

static void h_plan(struct api_req *r, struct api_resp *out)
{
    struct vmig_endpoint src, dst;
    struct vmig_map_opts mo;
    struct vmig_plan plan;
    const char **names = NULL;
    size_t nnames = 0;
    memset(&plan, 0, sizeof plan);
    vmig_map_opts_init(&mo);
    if (api_get_endpoint(r, out, "source", &src) || api_get_endpoint(r, out, "target", &dst) ||
        api_get_names(r, out, &names, &nnames))
        goto out;
    vmig_map_opts_release(&mo);
    if (api_get_map_opts(r, out, src.url, &mo) || api_probe_both(r, out, &src, &dst)) goto out;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_plan_make(&src, &dst, names, nnames, &mo, &plan, &err);
    if (rc) {
        api_lib_error(r, out, &err, NULL);
        goto out;
    }
    vmig_job_plan_made_by(r->srv->store, &dst, &plan); /* "job J created it": continue J */
    api_resp_text(out, 200, vmig_plan_to_json(&plan, 0));
out:
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    free(names);
}
/* ---- routing ------------------------------------------------------------------------- */

struct route {
    const char *method, *path;
    void (*fn)(struct api_req *r, struct api_resp *out);
};

static void h_source_check(struct api_req *r, struct api_resp *out) { h_check(r, out, "source"); }
static void h_target_check(struct api_req *r, struct api_resp *out) { h_check(r, out, "target"); }

static const struct route routes[] = {
    {"GET", "/health", h_health},
    {"POST", "/source/check", h_source_check},
    {"POST", "/target/check", h_target_check},
    {"POST", "/source/collections", h_collections},
    {"POST", "/plan", h_plan},
    {"POST", "/jobs", api_jobs_create},
    {"GET", "/jobs", api_jobs_list},
};

static int method_is(const struct api_req *r, const char *m)
{
    return strcmp(r->method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(r->method, "HEAD") == 0);
}

void api_handle(struct api_req *r, struct api_resp *out)
{
    const char *p = r->path;
    size_t plen = strlen(p);
    while (plen > 1 && p[plen - 1] == '/') plen--; /* "/jobs/" = "/jobs" */
    int path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strlen(routes[i].path) != plen || strncmp(routes[i].path, p, plen) != 0) continue;
        path_known = 1;
        if (method_is(r, routes[i].method)) {
            routes[i].fn(r, out);
            return;
        }
    }
    if (!path_known && plen > 6 && strncmp(p, "/jobs/", 6) == 0) {
        /* /jobs/{id}[/logs|/cancel|/resume|/retry|/restart] */
        char id[VMIG_JOB_ID_MAX + 1], action[16] = "";
        const char *ids = p + 6, *slash = memchr(ids, '/', plen - 6);
        size_t idlen = slash ? (size_t)(slash - ids) : plen - 6;
        size_t alen = slash ? plen - 6 - idlen - 1 : 0;
        if (!idlen || idlen >= sizeof id || alen >= sizeof action) {
            api_error(r, out, 404, "not_found", "no such job");
            return;
        }
        memcpy(id, ids, idlen);
        id[idlen] = '\0';
        if (alen) memcpy(action, slash + 1, alen);
        action[alen] = '\0';
        const char *need = !alen || !strcmp(action, "logs") ? "GET" : "POST";
        if (!strcmp(action, "verify") && method_is(r, "GET")) need = "GET"; /* full's status */
        enum vmig_job_action act;
        int runs = !vmig_job_action_parse(action, &act) && act != VMIG_JOB_RUN;
        int known = !alen || !strcmp(action, "logs") || !strcmp(action, "cancel") ||
                    !strcmp(action, "verify") || runs;
        if (!known) {
            api_error(r, out, 404, "not_found", "unknown job action '%s'", action);
            return;
        }
        if (!method_is(r, need)) {
            api_error(r, out, 405, "usage", "use %s for /api/v1/jobs/{id}%s%s", need,
                      alen ? "/" : "", action);
            return;
        }
        if (!alen)
            api_job_get(r, out, id);
        else if (!strcmp(action, "logs"))
            api_job_logs(r, out, id);
        else if (!strcmp(action, "cancel"))
            api_job_cancel(r, out, id);
        else if (!strcmp(action, "verify") && !strcmp(need, "GET"))
            api_job_verify_status(r, out, id);
        else if (!strcmp(action, "verify"))
            api_job_verify(r, out, id);
        else
            api_job_run(r, out, id, act);
        return;
    }
    if (path_known) api_error(r, out, 405, "usage", "method %s not allowed here", r->method);
    else api_error(r, out, 404, "not_found", "no such API endpoint");
}

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

#include "server/server.h"
#include "util/buf.h"
#include "util/redact.h"
#include "vmig/inputs.h"

/* ---- responses ---------------------------------------------------------------------- */

static void resp_text(struct api_resp *out, int status, char *text)
{
    free(out->body);
    out->status = status;
    out->body = text;
}

static void resp_obj(struct api_resp *out, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) abort();
    resp_text(out, status, s);
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

/* The error reply; facts (may be NULL) adds the error's subject as "collection",
 * "point" and "field" members, each only when set. */
static void error_reply(const struct api_req *r, struct api_resp *out, int status, const char *code,
                        const struct vmig_err *facts, const char *fmt, va_list ap)
{
    struct vmig_buf b = VMIG_BUF_INIT;
    vmig_buf_vaddf(&b, fmt, ap);
    for (size_t i = 0; i < r->nsecrets; i++) vmig_redact_secret(&b, r->secrets[i]);
    vmig_redact_userinfo(&b);
    json_t *e = json_pack("{s:s,s:s}", "code", code, "message", b.p);
    if (facts && facts->coll[0]) json_object_set_new(e, "collection", json_string(facts->coll));
    if (facts && facts->point[0]) json_object_set_new(e, "point", json_string(facts->point));
    if (facts && facts->field[0]) json_object_set_new(e, "field", json_string(facts->field));
    if (facts && facts->fix) { /* the way out: a word for the console's control, plain words */
        json_object_set_new(e, "fix", json_string(vmig_fix_name(facts->fix)));
        json_object_set_new(e, "hint", json_string(vmig_fix_hint(facts->fix)));
        if (facts->fix_arg[0]) json_object_set_new(e, "fix_arg", json_string(facts->fix_arg));
    }
    resp_obj(out, status, json_pack("{s:o}", "error", e));
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

static void api_error_facts(const struct api_req *r, struct api_resp *out, int status,
                            const char *code, const struct vmig_err *facts, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void api_error_facts(const struct api_req *r, struct api_resp *out, int status,
                            const char *code, const struct vmig_err *facts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_reply(r, out, status, code, facts, fmt, ap);
    va_end(ap);
}

/* A library failure; side ("source"/"target"/NULL: the caller knows which server it
 * asked) names the server a credentials or connection problem is about. Library
 * messages never begin with the side, so it is added without looking at the text. */
static void lib_error(const struct api_req *r, struct api_resp *out, const struct vmig_err *e,
                      const char *side)
{
    const char *msg = e->msg[0] ? e->msg : vmig_strerror(e->code);
    int say_side =
        side && (e->code == VMIG_E_AUTH || e->code == VMIG_E_CONNECT || e->code == VMIG_E_TLS ||
                 e->code == VMIG_E_UNAVAILABLE || e->code == VMIG_E_TIMEOUT);
    api_error_facts(r, out, api_status_of(e->code), vmig_code_json_name(e->code), e, "%s%s%s",
                    say_side ? side : "", say_side ? ": " : "", msg);
}

/* ---- reading bodies ----------------------------------------------------------------- */

/* Optional string member: 0 (*v NULL when absent or null), -1 after the error reply. */
static int get_str(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                   const char *key, const char **v)
{
    *v = NULL;
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || json_is_null(x)) return 0;
    if (!json_is_string(x)) {
        api_error(r, out, 400, "usage", "%s%s must be a string", path, key);
        return -1;
    }
    *v = json_string_value(x);
    return 0;
}

static int get_bool(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                    const char *key, int *v)
{
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || json_is_null(x)) return 0;
    if (!json_is_boolean(x)) {
        api_error(r, out, 400, "usage", "%s%s must be true or false", path, key);
        return -1;
    }
    *v = json_is_true(x);
    return 0;
}

static int get_int(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                   const char *key, int lo, int hi, int *v)
{
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || json_is_null(x)) return 0;
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        api_error(r, out, 400, "usage", "%s%s must be an integer from %d to %d", path, key, lo,
                  hi);
        return -1;
    }
    *v = (int)json_integer_value(x);
    return 0;
}

/* An option with a range from vmig/inputs.h (the CLI flag takes the same); 0 is also
 * accepted and means the default, as documented for these fields. */
static int get_ranged(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                      const char *key, int lo, int hi, int *v)
{
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || json_is_null(x)) return 0;
    if (json_is_integer(x) && json_integer_value(x) == 0) {
        *v = 0;
        return 0;
    }
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        api_error(r, out, 400, "usage", "%s%s must be an integer from %d to %d (0 = default)", path,
                  key, lo, hi);
        return -1;
    }
    *v = (int)json_integer_value(x);
    return 0;
}

static json_t *get_obj(const struct api_req *r, struct api_resp *out, const char *key, int *bad)
{
    json_t *x = r->body ? json_object_get(r->body, key) : NULL;
    *bad = 0;
    if (!x || json_is_null(x)) return NULL;
    if (!json_is_object(x)) {
        api_error(r, out, 400, "usage", "%s must be an object", key);
        *bad = 1;
        return NULL;
    }
    return x;
}

/* Fill ep from body[side] ({"url","api_key"|"token","db","ca_file","insecure"}); the
 * strings stay borrowed from the body. The secret is remembered for redaction. */
static int get_endpoint(struct api_req *r, struct api_resp *out, const char *side,
                        struct vmig_endpoint *ep)
{
    int target = strcmp(side, "target") == 0, bad;
    char path[16];
    memset(ep, 0, sizeof *ep);
    json_t *o = get_obj(r, out, side, &bad);
    if (bad) return -1;
    if (!o) {
        api_error(r, out, 400, "usage", "%s is required: {\"url\": \"%s\", ...}", side,
                  target ? "http://localhost:19530" : "http://localhost:6333");
        return -1;
    }
    snprintf(path, sizeof path, "%s.", side);
    const char *secret_field = target ? "token" : "api_key";
    if (get_str(r, out, o, path, secret_field, &ep->secret)) return -1;
    if (vmig_secret_has_control(ep->secret)) { /* would be sent as a header: injection */
        api_error(r, out, 400, "usage",
                  "%s.%s contains a control character (CR, LF, tab or another byte below "
                  "0x20 or 0x7f); give the key exactly, without line breaks",
                  side, secret_field);
        return -1;
    }
    if (ep->secret && *ep->secret && r->nsecrets < SRV_MAX_SECRETS)
        r->secrets[r->nsecrets++] = ep->secret;
    if (get_str(r, out, o, path, "url", &ep->url) || get_str(r, out, o, path, "ca_file",
                                                             &ep->ca_file) ||
        get_bool(r, out, o, path, "insecure", &ep->insecure))
        return -1;
    if (target && get_str(r, out, o, path, "db", &ep->db)) return -1;
    int timeout_s = 0;
    if (get_ranged(r, out, o, path, "timeout_s", VMIG_TIMEOUT_MIN, VMIG_TIMEOUT_MAX, &timeout_s))
        return -1;
    ep->timeout_ms = timeout_s * 1000;
    if (!ep->url || !*ep->url) {
        api_error(r, out, 400, "usage", "%s.url is required (e.g. %s)", side,
                  target ? "http://localhost:19530" : "http://localhost:6333");
        return -1;
    }
    /* credentials inside the URL would be stored with a job and echoed in messages */
    if (vmig_url_has_credentials(ep->url)) {
        api_error(r, out, 400, "usage", "%s.url must not contain credentials: give them as %s.%s",
                  side, side, secret_field);
        return -1;
    }
    if (ep->secret && !*ep->secret) ep->secret = NULL;
    if (ep->db && !*ep->db) ep->db = NULL;
    if (ep->ca_file && !*ep->ca_file) ep->ca_file = NULL;
    return 0;
}

/* null_values, payload_conflict and index (each may be NULL) name words of the
 * library's tables, stored into mo (may be NULL: only checked): 0, or -1 after a 400
 * naming the field (under path) and the words. */
static int policy_words(const struct api_req *r, struct api_resp *out, const char *path,
                        const char *nulls, const char *conflict, const char *index,
                        struct vmig_map_opts *mo)
{
    static const char *const field[] = {"", "null_values", "payload_conflict", "index"};
    const char *given[] = {"", nulls, conflict, index};
    char words[64];
    int k = vmig_policy_check(nulls, conflict, index, mo ? &mo->nulls : NULL,
                              mo ? &mo->conflict : NULL, mo ? &mo->index : NULL, words,
                              sizeof words);
    if (!k) return 0;
    api_error(r, out, 400, "usage", "%s%s must be %s, not '%s'", path, field[k], words, given[k]);
    return -1;
}

/* Mapping options and edits from body.options / body.edits. mo is initialised here. */
static int get_map_opts(const struct api_req *r, struct api_resp *out, const char *source_url,
                        struct vmig_map_opts *mo)
{
    int bad;
    vmig_map_opts_init(mo);
    mo->source_url = source_url;
    json_t *o = get_obj(r, out, "options", &bad);
    if (bad) return -1;
    const char *nulls, *conflict, *index;
    if (get_str(r, out, o, "options.", "null_values", &nulls) ||
        get_str(r, out, o, "options.", "payload_conflict", &conflict) ||
        get_str(r, out, o, "options.", "index", &index) ||
        get_ranged(r, out, o, "options.", "max_vector_fields", VMIG_MAX_VECTOR_FIELDS_MIN,
                   VMIG_MAX_VECTOR_FIELDS, &mo->max_vector_fields))
        return -1;
    if (policy_words(r, out, "options.", nulls, conflict, index, mo)) return -1;
    json_t *edits = r->body ? json_object_get(r->body, "edits") : NULL;
    if (edits && !json_is_null(edits)) {
        if (!json_is_array(edits)) {
            api_error(r, out, 400, "usage", "edits must be an array of {\"kind\", \"value\"}");
            return -1;
        }
        size_t i;
        json_t *e;
        json_array_foreach(edits, i, e) {
            const char *kind = json_string_value(json_object_get(e, "kind"));
            const char *value = json_string_value(json_object_get(e, "value"));
            if (!json_is_object(e) || !kind || !value) {
                api_error(r, out, 400, "usage",
                          "edits[%zu] must be {\"kind\": \"target-name|description|rename|"
                          "skip-vector\", \"value\": \"...\"}",
                          i);
                return -1;
            }
            struct vmig_err err;
            vmig_err_clear(&err);
            if (vmig_map_opts_add(mo, kind, value, &err)) {
                api_error(r, out, 400, "usage", "edits[%zu]: %s", i, err.msg);
                return -1;
            }
        }
    }
    return 0;
}

/* body.collections: array of names (absent or empty = all). names is malloc'd. */
static int get_names(const struct api_req *r, struct api_resp *out, const char ***names,
                     size_t *n)
{
    *names = NULL;
    *n = 0;
    json_t *a = r->body ? json_object_get(r->body, "collections") : NULL;
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a)) {
        api_error(r, out, 400, "usage", "collections must be an array of collection names");
        return -1;
    }
    *names = calloc(json_array_size(a) + 1, sizeof **names);
    if (!*names) abort();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || !*json_string_value(v)) {
            api_error(r, out, 400, "usage", "collections[%zu] must be a non-empty string", i);
            return -1;
        }
        for (size_t k = 0; k < *n; k++)
            if (strcmp((*names)[k], json_string_value(v)) == 0) {
                api_error(r, out, 400, "usage",
                          "collections[%zu]: '%s' is named twice (also collections[%zu]); drop "
                          "the duplicate",
                          i, json_string_value(v), k);
                return -1;
            }
        (*names)[(*n)++] = json_string_value(v);
    }
    return 0;
}

/* ---- handlers ------------------------------------------------------------------------ */

static void h_health(struct api_req *r, struct api_resp *out)
{
    (void)r;
    resp_obj(out, 200, json_pack("{s:s,s:s}", "status", "ok", "version", vmig_version()));
}

static void h_check(struct api_req *r, struct api_resp *out, const char *side)
{
    struct vmig_endpoint ep;
    if (get_endpoint(r, out, side, &ep)) return;
    char ver[64] = "";
    struct vmig_target_caps caps;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (strcmp(side, "source") == 0) {
        if (vmig_source_probe(&ep, ver, sizeof ver, &err)) { /* checks the API key too */
            lib_error(r, out, &err, side);
            return;
        }
        resp_obj(out, 200, json_pack("{s:b,s:s}", "ok", 1, "version", ver));
        return;
    }
    if (vmig_target_probe(&ep, &caps, &err)) {
        lib_error(r, out, &err, side);
        return;
    }
    resp_obj(out, 200,
             json_pack("{s:b,s:s,s:s,s:s,s:b}", "ok", 1, "version", caps.version, "product",
                       caps.product, "release", caps.release, "known", caps.known));
}

static void h_collections(struct api_req *r, struct api_resp *out)
{
    struct vmig_endpoint ep;
    struct vmig_src_coll *sc = NULL;
    const char **names = NULL;
    size_t n = 0, nnames = 0;
    if (get_endpoint(r, out, "source", &ep) || get_names(r, out, &names, &nnames)) goto out;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_source_describe(&ep, nnames ? names : NULL, nnames, &sc, &n, &err);
    if (rc) {
        lib_error(r, out, &err, "source");
        goto out;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char *js = vmig_src_coll_to_json(&sc[i], 0);
        json_array_append_new(a, json_loads(js, 0, NULL));
        free(js);
    }
    resp_obj(out, 200, json_pack("{s:o}", "collections", a));
out:
    free(sc);
    free(names);
}

/* Probe both servers first, so a connection or credentials problem is reported with
 * the side it is about (the session calls' own messages do not always say). */
static int probe_both(const struct api_req *r, struct api_resp *out,
                      const struct vmig_endpoint *src, const struct vmig_endpoint *dst)
{
    char ver[64];
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_source_probe(src, ver, sizeof ver, &err)) {
        lib_error(r, out, &err, "source");
        return -1;
    }
    struct vmig_target_caps caps;
    if (vmig_target_probe(dst, &caps, &err)) {
        lib_error(r, out, &err, "target");
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
    if (get_endpoint(r, out, "source", &src) || get_endpoint(r, out, "target", &dst) ||
        get_names(r, out, &names, &nnames))
        goto out;
    vmig_map_opts_release(&mo);
    if (get_map_opts(r, out, src.url, &mo) || probe_both(r, out, &src, &dst)) goto out;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_plan_make(&src, &dst, names, nnames, &mo, &plan, &err);
    if (rc) {
        lib_error(r, out, &err, NULL);
        goto out;
    }
    resp_text(out, 200, vmig_plan_to_json(&plan, 0));
out:
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    free(names);
}

/* The job as stored, or with live_index the live index build of its finished
 * collections asked of the target (an unreachable target is an error of its own). */
static void job_resp_index(struct api_req *r, struct api_resp *out, int status, const char *id,
                           int live_index)
{
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        lib_error(r, out, &err, NULL);
        return;
    }
    if (live_index && vmig_job_index_live(r->srv->store, &j, NULL, &err))
        lib_error(r, out, &err, "target");
    else
        resp_text(out, status, vmig_job_to_json(&j, 1, 0));
    vmig_job_release(&j);
}

static void job_resp(struct api_req *r, struct api_resp *out, int status, const char *id)
{
    job_resp_index(r, out, status, id, 0);
}

/* options.rejects (the CLI's --rejects FILE): points Milvus cannot take are set aside in
 * that file, on the machine running the server, and the copy goes on. An absolute path:
 * the server's working directory is nothing the caller knows. */
static int get_rejects(const struct api_req *r, struct api_resp *out, json_t *o,
                       struct vmig_job_opts *jo)
{
    const char *path;
    if (get_str(r, out, o, "options.", "rejects", &path)) return -1;
    if (!path || !*path) return 0;
    if (path[0] != '/') {
        api_error(r, out, 400, "usage",
                  "options.rejects must be an absolute path on the machine running vmigrate "
                  "serve, not '%s'",
                  path);
        return -1;
    }
    if (strlen(path) >= sizeof jo->rejects) {
        api_error(r, out, 400, "usage", "options.rejects is longer than %zu bytes",
                  sizeof jo->rejects - 1);
        return -1;
    }
    jo->reject_oversize = 1;
    snprintf(jo->rejects, sizeof jo->rejects, "%s", path);
    return 0;
}

static void h_jobs_create(struct api_req *r, struct api_resp *out)
{
    struct vmig_endpoint src, dst;
    struct vmig_map_opts mo;
    struct vmig_plan plan;
    const char **names = NULL;
    size_t nnames = 0;
    char *plan_text = NULL;
    struct vmig_job_submitted sub;
    memset(&sub, 0, sizeof sub);
    memset(&plan, 0, sizeof plan);
    vmig_map_opts_init(&mo);
    struct vmig_err err;
    vmig_err_clear(&err);
    if (get_endpoint(r, out, "source", &src) || get_endpoint(r, out, "target", &dst)) goto out;
    vmig_map_opts_release(&mo);
    if (get_map_opts(r, out, src.url, &mo)) goto out;

    int bad, store_secrets = 1;
    json_t *o = get_obj(r, out, "options", &bad);
    if (bad) goto out;
    struct vmig_job_opts jo;
    vmig_job_opts_init(&jo);
    int page = 0;
    if (get_ranged(r, out, o, "options.", "readers", VMIG_READERS_MIN, VMIG_READERS_MAX,
                   &jo.readers) ||
        get_ranged(r, out, o, "options.", "writers", VMIG_WRITERS_MIN, VMIG_WRITERS_MAX,
                   &jo.writers) ||
        get_int(r, out, o, "options.", "verify_sample", -1, VMIG_SAMPLE_MAX, &jo.verify_sample) ||
        get_ranged(r, out, o, "options.", "page_size", VMIG_PAGE_SIZE_MIN, VMIG_PAGE_SIZE_MAX,
                   &page) ||
        get_bool(r, out, o, "options.", "store_secrets", &store_secrets) ||
        get_bool(r, out, o, "options.", "wait_index", &jo.wait_index) ||
        get_rejects(r, out, o, &jo))
        goto out;
    jo.page_limit = (uint32_t)page;
    if (probe_both(r, out, &src, &dst)) goto out;

    json_t *pj = r->body ? json_object_get(r->body, "plan") : NULL;
    enum vmig_code rc;
    int edited = pj && !json_is_null(pj);
    if (edited) {
        /* an edited plan: the same checks as `migrate --plan FILE` */
        if (!json_is_object(pj)) {
            api_error(r, out, 400, "usage", "plan must be a plan object as returned by "
                                            "POST /api/v1/plan");
            goto out;
        }
        plan_text = json_dumps(pj, JSON_COMPACT);
        if (!plan_text) abort();
        rc = vmig_plan_from_json(plan_text, &plan, &err);
        if (rc) {
            api_error(r, out, 400, "usage", "plan: %s", err.msg);
            goto out;
        }
    } else if (get_names(r, out, &names, &nnames)) {
        goto out; /* no plan given: one is made from collections/options/edits */
    }
    /* the library decides, as for the CLI: refused collections are left out of the job
     * and listed in "refused"; nothing runnable = no job, 422 with the first refusal */
    struct vmig_job_request req = {.src = &src,
                                   .dst = &dst,
                                   .names = names,
                                   .nnames = nnames,
                                   .mo = &mo,
                                   .plan = edited ? &plan : NULL,
                                   .opts = &jo,
                                   .store_secrets = store_secrets};
    rc = vmig_job_submit(r->srv->store, &req, &sub, &err);
    if (rc) {
        if (sub.none_runnable)
            api_error_facts(r, out, 422, vmig_code_json_name(rc), &err, "%s", err.msg);
        else
            lib_error(r, out, &err, NULL);
        goto out;
    }
    char id[VMIG_JOB_ID_MAX];
    snprintf(id, sizeof id, "%s", sub.id);
    if (!store_secrets && (src.secret || dst.secret)) {
        /* the worker has no secrets for this job: run it here with the ones given (a
         * refusal is in the job's log and status; the job exists either way) */
        int claimed = 0;
        struct vmig_err why;
        vmig_err_clear(&why);
        srv_run_job(r->srv, id, VMIG_JOB_RUN, src.secret, dst.secret, NULL, &claimed, &why);
    }
    json_t *refused = json_array(), *held = json_array();
    for (size_t i = 0; i < sub.nrefused; i++) {
        json_t *rj = json_pack("{s:s,s:s,s:s}", "source", sub.refused[i].source, "code",
                               vmig_code_json_name(sub.refused[i].code), "message",
                               sub.refused[i].message);
        if (sub.refused[i].field[0])
            json_object_set_new(rj, "field", json_string(sub.refused[i].field));
        if (sub.refused[i].fix) {
            json_object_set_new(rj, "fix", json_string(vmig_fix_name(sub.refused[i].fix)));
            json_object_set_new(rj, "hint", json_string(vmig_fix_hint(sub.refused[i].fix)));
            if (sub.refused[i].fix_arg[0])
                json_object_set_new(rj, "fix_arg", json_string(sub.refused[i].fix_arg));
        }
        json_array_append_new(refused, rj);
    }
    for (size_t i = 0; i < sub.nheld; i++)
        json_array_append_new(held, json_pack("{s:s,s:s,s:I}", "source", sub.held[i].source,
                                              "target", sub.held[i].target, "points",
                                              (json_int_t)sub.held[i].points));
    resp_obj(out, 201,
             json_pack("{s:s,s:s,s:o,s:o,s:I}", "id", id, "status", "PENDING", "refused", refused,
                       "collections", held, "points", (json_int_t)sub.points));
out:
    vmig_job_submitted_release(&sub);
    free(plan_text);
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    free(names);
}

static void h_jobs_list(struct api_req *r, struct api_resp *out)
{
    int status = -1;
    const char *st = srv_query(r, "status");
    if (st && *st) {
        enum vmig_job_status s;
        if (vmig_job_status_parse(st, &s)) {
            api_error(r, out, 400, "usage",
                      "status must be PENDING, IN_PROGRESS, SUCCESSFUL, FAILED or CANCELLED, not "
                      "'%s'",
                      st);
            return;
        }
        status = (int)s;
    }
    struct vmig_job *jobs = NULL;
    size_t n = 0;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_list(r->srv->store, status, &jobs, &n, &err)) {
        lib_error(r, out, &err, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char *js = vmig_job_to_json(&jobs[i], 0, 0);
        json_array_append_new(a, json_loads(js, 0, NULL));
        free(js);
    }
    vmig_job_list_free(jobs, n);
    resp_obj(out, 200, json_pack("{s:o}", "jobs", a));
}

struct logs_ctx {
    json_t *a;
    int64_t last;
};

static int add_log(void *ud, const struct vmig_job_log *e)
{
    static const char *const lv[] = {"error", "warn", "info", "debug"};
    struct logs_ctx *c = ud;
    c->last = e->seq;
    json_array_append_new(
        c->a, json_pack("{s:I,s:I,s:s,s:o,s:o,s:s}", "seq", (json_int_t)e->seq, "ts_ms",
                        (json_int_t)e->ts_ms, "level", lv[e->level & 3], "collection",
                        e->coll[0] ? json_string(e->coll) : json_null(), "point_id",
                        e->point_id[0] ? json_string(e->point_id) : json_null(), "message",
                        e->msg));
    return 0;
}

static int query_num(struct api_req *r, struct api_resp *out, const char *key, long long lo,
                     long long hi, long long *v)
{
    const char *s = srv_query(r, key);
    if (!s || !*s) return 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (*end || x < lo || x > hi) {
        api_error(r, out, 400, "usage", "%s must be an integer from %lld to %lld, not '%s'", key,
                  lo, hi, s);
        return -1;
    }
    *v = x;
    return 0;
}

static void h_job_logs(struct api_req *r, struct api_resp *out, const char *id)
{
    long long after = 0, limit = 1000;
    if (query_num(r, out, "after", 0, INT64_MAX, &after) ||
        query_num(r, out, "limit", 1, 10000, &limit))
        return;
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        lib_error(r, out, &err, NULL);
        return;
    }
    vmig_job_release(&j);
    struct logs_ctx c = {json_array(), after};
    if (vmig_job_logs(r->srv->store, id, after, (size_t)limit, add_log, &c, &err)) {
        json_decref(c.a);
        lib_error(r, out, &err, NULL);
        return;
    }
    resp_obj(out, 200, json_pack("{s:o,s:I}", "logs", c.a, "next", (json_int_t)c.last));
}

static void h_job_cancel(struct api_req *r, struct api_resp *out, const char *id)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    int immediate = 0;
    if (vmig_job_cancel(r->srv->store, id, &immediate, &err)) {
        lib_error(r, out, &err, NULL);
        return;
    }
    job_resp(r, out, immediate ? 200 : 202, id);
}

/* A retry's changes from its body (the contract in docs/openapi.yaml): the words for
 * every retried collection, and per collection ("collections": {"SRC": {...}}) its
 * target_name, skip_vectors, null_values, payload_conflict, index, as the library's
 * edits "SRC=VALUE" / "SRC.VECTOR" (the strings it makes are owned[]). */
#define RETRY_MAX_EDITS 256
struct retry_body {
    struct vmig_job_retry_opts ch;
    const char *kind[RETRY_MAX_EDITS], *val[RETRY_MAX_EDITS];
    size_t n;
};

static void retry_body_release(struct retry_body *b)
{
    for (size_t i = 0; i < b->n; i++) free((char *)b->val[i]);
}

static int retry_edit(const struct api_req *r, struct api_resp *out, struct retry_body *b,
                      const char *kind, const char *src, char sep, const char *value)
{
    if (b->n == RETRY_MAX_EDITS) {
        api_error(r, out, 400, "usage", "collections: at most %d changes", RETRY_MAX_EDITS);
        return -1;
    }
    struct vmig_buf v = VMIG_BUF_INIT;
    vmig_buf_addf(&v, "%s%c%s", src, sep, value);
    b->kind[b->n] = kind;
    b->val[b->n++] = v.p; /* owned now */
    return 0;
}

static int retry_body(const struct api_req *r, struct api_resp *out, struct retry_body *b)
{
    static const char *const keys[][2] = {{"target_name", "target-name"},
                                          {"null_values", "null-values"},
                                          {"payload_conflict", "payload-conflict"},
                                          {"index", "index"}};
    memset(b, 0, sizeof *b);
    struct vmig_job_retry_opts *ch = &b->ch;
    if (get_str(r, out, r->body, "", "null_values", &ch->null_values) ||
        get_str(r, out, r->body, "", "payload_conflict", &ch->payload_conflict) ||
        get_str(r, out, r->body, "", "index", &ch->index) ||
        get_str(r, out, r->body, "", "rejects", &ch->rejects) ||
        get_int(r, out, r->body, "", "max_vector_fields", VMIG_MAX_VECTOR_FIELDS_MIN,
                VMIG_MAX_VECTOR_FIELDS, &ch->max_vector_fields) ||
        policy_words(r, out, "", ch->null_values, ch->payload_conflict, ch->index, NULL))
        return -1;
    int bad;
    json_t *cs = get_obj(r, out, "collections", &bad), *co;
    if (bad) return -1;
    const char *src;
    json_object_foreach(cs, src, co) {
        char path[VMIG_SRC_NAME_MAX + 32];
        snprintf(path, sizeof path, "collections.%s.", src);
        if (!json_is_object(co)) {
            api_error(r, out, 400, "usage", "collections.%s must be an object", src);
            return -1;
        }
        const char *k;
        json_t *x;
        json_object_foreach(co, k, x) {
            size_t i = 0;
            while (i < sizeof keys / sizeof *keys && strcmp(keys[i][0], k) != 0) i++;
            if (strcmp(k, "skip_vectors") == 0) {
                size_t n;
                json_t *v;
                if (!json_is_array(x)) {
                    api_error(r, out, 400, "usage", "%sskip_vectors must be a list of names", path);
                    return -1;
                }
                json_array_foreach(x, n, v) {
                    if (!json_is_string(v)) {
                        api_error(r, out, 400, "usage", "%sskip_vectors[%zu] must be a string",
                                  path, n);
                        return -1;
                    }
                    if (retry_edit(r, out, b, "skip-vector", src, '.', json_string_value(v)))
                        return -1;
                }
            } else if (i < sizeof keys / sizeof *keys) {
                const char *v;
                if (get_str(r, out, co, path, k, &v)) return -1;
                if (v && retry_edit(r, out, b, keys[i][1], src, '=', v)) return -1;
            } else {
                api_error(r, out, 400, "usage",
                          "%s%s is not a retry change (target_name, skip_vectors, null_values, "
                          "payload_conflict, index)",
                          path, k);
                return -1;
            }
        }
    }
    ch->nedits = b->n;
    ch->edit_kind = b->kind;
    ch->edit_val = b->val;
    return 0;
}

/* resume / retry / restart: run in a thread of the server, answer once it has claimed
 * the job (202 with the job), or with why it did not (nothing ran). */
static void h_job_run(struct api_req *r, struct api_resp *out, const char *id,
                      enum vmig_job_action act)
{
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        lib_error(r, out, &err, NULL);
        return;
    }
    enum vmig_job_status st = j.status;
    int orphaned = j.orphaned;
    vmig_job_release(&j);
    /* optional secrets for jobs created with store_secrets false (or rotated keys) */
    const char *src_secret = NULL, *dst_secret = NULL;
    struct retry_body rb;
    memset(&rb, 0, sizeof rb);
    int bad;
    json_t *so = get_obj(r, out, "source", &bad);
    if (bad) return;
    json_t *to = get_obj(r, out, "target", &bad);
    if (bad) return;
    if (get_str(r, out, so, "source.", "api_key", &src_secret) ||
        get_str(r, out, to, "target.", "token", &dst_secret))
        return;
    if (src_secret && *src_secret && r->nsecrets < SRV_MAX_SECRETS)
        r->secrets[r->nsecrets++] = src_secret;
    if (dst_secret && *dst_secret && r->nsecrets < SRV_MAX_SECRETS)
        r->secrets[r->nsecrets++] = dst_secret;
    if (act == VMIG_JOB_RETRY && retry_body(r, out, &rb)) {
        retry_body_release(&rb);
        return;
    }
    if (act == VMIG_JOB_RESUME && st == VMIG_JOB_PENDING && !orphaned && !src_secret &&
        !dst_secret) {
        job_resp(r, out, 202, id); /* already queued: the worker takes it */
        return;
    }
    int claimed = 0;
    vmig_err_clear(&err);
    int started = srv_run_job(r->srv, id, act, src_secret, dst_secret, &rb.ch, &claimed, &err);
    retry_body_release(&rb); /* copied by the runner */
    if (started) {
        api_error(r, out, 500, "internal", "cannot start a thread for job '%s'", id);
        return;
    }
    if (!claimed) {
        /* a job another run holds is a conflict of states, not a malformed request */
        int busy = err.code == VMIG_E_USAGE && st == VMIG_JOB_IN_PROGRESS && !orphaned;
        if (busy)
            api_error(r, out, 409, vmig_code_json_name(err.code), "%s",
                      err.msg[0] ? err.msg : vmig_strerror(err.code));
        else
            lib_error(r, out, &err, NULL);
        return;
    }
    job_resp(r, out, 202, id);
}

/* POST /jobs/{id}/verify: verify the job's collections again with its own plan (target
 * names, renames, skipped vectors), endpoints and stored secrets; body (all optional):
 * {"sample":N,"source":{"api_key"},"target":{"token"}}. 200 with a verdict per collection
 * ("different" also when the target collection is gone); a failure to reach a server or
 * read the job answers as an error. */
static void h_job_verify(struct api_req *r, struct api_resp *out, const char *id)
{
    const char *src_secret = NULL, *dst_secret = NULL;
    int bad, sample = -1;
    json_t *so = get_obj(r, out, "source", &bad);
    if (bad) return;
    json_t *to = get_obj(r, out, "target", &bad);
    if (bad) return;
    if (get_str(r, out, so, "source.", "api_key", &src_secret) ||
        get_str(r, out, to, "target.", "token", &dst_secret) ||
        get_int(r, out, r->body, "", "sample", VMIG_SAMPLE_MIN, VMIG_SAMPLE_MAX, &sample))
        return;
    if (src_secret && *src_secret && r->nsecrets < SRV_MAX_SECRETS)
        r->secrets[r->nsecrets++] = src_secret;
    if (dst_secret && *dst_secret && r->nsecrets < SRV_MAX_SECRETS)
        r->secrets[r->nsecrets++] = dst_secret;
    struct vmig_job_verified v;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc =
        vmig_job_verify(r->srv->store, id, src_secret, dst_secret, sample, NULL, &v, &err);
    json_t *a = json_array();
    for (size_t i = 0; i < v.n && a; i++) {
        const struct vmig_job_verify_coll *c = &v.coll[i];
        if (c->code && c->code != VMIG_E_VERIFY && c->code != VMIG_E_NOT_FOUND) {
            err = c->err; /* not verified: the server could not be asked */
            json_decref(a);
            a = NULL;
            break;
        }
        const struct vmig_verify_result *vr = &c->result;
        json_array_append_new(
            a, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "source", c->source, "target",
                         c->target, "verdict", c->code ? "different" : "same", "source_count",
                         (json_int_t)vr->source_count, "target_count", (json_int_t)vr->target_count,
                         "sampled", (json_int_t)vr->sampled, "missing", (json_int_t)vr->missing,
                         "vector_diffs", (json_int_t)vr->vector_diffs, "payload_diffs",
                         (json_int_t)vr->payload_diffs, "error",
                         c->code ? json_string(c->err.msg) : json_null()));
    }
    size_t n = v.n;
    vmig_job_verified_release(&v);
    if (!a || (rc && !n)) {
        if (a) json_decref(a);
        lib_error(r, out, &err, NULL);
        return;
    }
    resp_obj(out, 200, json_pack("{s:o}", "collections", a));
}

/* ?index=live asks Milvus for the live index build of the finished collections (the job
 * stored how far it was when it ended) */
static void h_job_get(struct api_req *r, struct api_resp *out, const char *id)
{
    const char *ix = srv_query(r, "index");
    if (ix && strcmp(ix, "stored") != 0 && strcmp(ix, "live") != 0) {
        api_error(r, out, 400, "usage", "index must be live or stored, not '%s'", ix);
        return;
    }
    job_resp_index(r, out, 200, id, ix && !strcmp(ix, "live"));
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
    {"POST", "/jobs", h_jobs_create},
    {"GET", "/jobs", h_jobs_list},
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
        if (!alen) h_job_get(r, out, id);
        else if (!strcmp(action, "logs")) h_job_logs(r, out, id);
        else if (!strcmp(action, "cancel")) h_job_cancel(r, out, id);
        else if (!strcmp(action, "verify"))
            h_job_verify(r, out, id);
        else h_job_run(r, out, id, act);
        return;
    }
    if (path_known) api_error(r, out, 405, "usage", "method %s not allowed here", r->method);
    else api_error(r, out, 404, "not_found", "no such API endpoint");
}

/*
 * api_jobs.c - the HTTP API's job handlers: create (the library decides what is
 * refused), list, get (with the live index build), logs, cancel, verify again, and
 * resume / retry (with changes) / restart run in a thread of the server that answers
 * once the run has claimed the job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "server/api_int.h"
#include "util/buf.h"
#include "util/redact.h"
#include "vmig/inputs.h"
#include "vmig/vmig.h"

/* The job as stored, or with live_index the live index build of its finished
 * collections asked of the target (an unreachable target is an error of its own). */
static void api_job_resp_index(struct api_req *r, struct api_resp *out, int status, const char *id,
                               int live_index)
{
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    if (live_index && vmig_job_index_live(r->srv->store, &j, NULL, &err))
        api_lib_error(r, out, &err, "target");
    else
        api_resp_text(out, status, vmig_job_to_json(&j, 1, 0));
    vmig_job_release(&j);
}

static void api_job_resp(struct api_req *r, struct api_resp *out, int status, const char *id)
{
    api_job_resp_index(r, out, status, id, 0);
}

/* options.rejects (the CLI's --rejects FILE): points Milvus cannot take are set aside in
 * that file, on the machine running the server, and the copy goes on. An absolute path:
 * the server's working directory is nothing the caller knows. */
static int get_rejects(const struct api_req *r, struct api_resp *out, json_t *o,
                       struct vmig_job_opts *jo)
{
    const char *path;
    if (api_get_str(r, out, o, "options.", "rejects", &path)) return -1;
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

/* options.verify_diff (with options.verify_full): where the full verification's diff file
 * goes, an absolute file or directory path on the machine running the server; without it
 * the server's working directory, made absolute here so the job says where. */
static int get_verify_diff(const struct api_req *r, struct api_resp *out, json_t *o,
                           struct vmig_job_opts *jo)
{
    const char *path;
    if (api_get_str(r, out, o, "options.", "verify_diff", &path)) return -1;
    if (path && *path && !jo->verify_full) {
        api_error(r, out, 400, "usage", "options.verify_diff goes with options.verify_full");
        return -1;
    }
    if (!jo->verify_full) return 0;
    if (path && *path && path[0] != '/') {
        api_error(r, out, 400, "usage",
                  "options.verify_diff must be an absolute path on the machine running "
                  "vmigrate serve, not '%s'",
                  path);
        return -1;
    }
    if (path && strlen(path) >= sizeof jo->verify_diff) {
        api_error(r, out, 400, "usage", "options.verify_diff is longer than %zu bytes",
                  sizeof jo->verify_diff - 1);
        return -1;
    }
    if (path && *path)
        snprintf(jo->verify_diff, sizeof jo->verify_diff, "%s", path);
    else if (!getcwd(jo->verify_diff, sizeof jo->verify_diff))
        jo->verify_diff[0] = '\0';
    return 0;
}

void api_jobs_create(struct api_req *r, struct api_resp *out)
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
    if (api_get_endpoint(r, out, "source", &src) || api_get_endpoint(r, out, "target", &dst))
        goto out;
    vmig_map_opts_release(&mo);
    if (api_get_map_opts(r, out, src.url, &mo)) goto out;

    int bad, store_secrets = 1;
    json_t *o = api_get_obj(r, out, "options", &bad);
    if (bad) goto out;
    struct vmig_job_opts jo;
    vmig_job_opts_init(&jo);
    int page = 0;
    if (api_get_ranged(r, out, o, "options.", "readers", VMIG_READERS_MIN, VMIG_READERS_MAX,
                       &jo.readers) ||
        api_get_ranged(r, out, o, "options.", "writers", VMIG_WRITERS_MIN, VMIG_WRITERS_MAX,
                       &jo.writers) ||
        api_get_ranged(r, out, o, "options.", "tasks", VMIG_TASKS_MIN, VMIG_TASKS_MAX, &jo.tasks) ||
        api_get_int(r, out, o, "options.", "verify_sample", -1, VMIG_SAMPLE_MAX,
                    &jo.verify_sample) ||
        api_get_ranged(r, out, o, "options.", "page_size", VMIG_PAGE_SIZE_MIN, VMIG_PAGE_SIZE_MAX,
                       &page) ||
        api_get_bool(r, out, o, "options.", "store_secrets", &store_secrets) ||
        api_get_bool(r, out, o, "options.", "wait_index", &jo.wait_index) ||
        api_get_bool(r, out, o, "options.", "verify_full", &jo.verify_full) ||
        get_verify_diff(r, out, o, &jo) || get_rejects(r, out, o, &jo) ||
        api_get_bulk_opts(r, out, o, &jo))
        goto out;
    jo.page_limit = (uint32_t)page;
    if (api_probe_both(r, out, &src, &dst)) goto out;

    json_t *pj = r->body ? json_object_get(r->body, "plan") : NULL;
    enum vmig_code rc;
    int edited = pj && !json_is_null(pj);
    if (edited) {
        /* an edited plan: the same checks as `migrate --plan FILE` */
        if (!json_is_object(pj)) {
            api_error(r, out, 400, "usage",
                      "plan must be a plan object as returned by "
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
    } else if (api_get_names(r, out, &names, &nnames)) {
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
            api_lib_error(r, out, &err, NULL);
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
        const struct vmig_err *e = &sub.refused[i].err;
        json_t *rj = json_pack("{s:s,s:s,s:s}", "source", sub.refused[i].source, "code",
                               vmig_code_json_name(e->code), "message", e->msg);
        if (e->field[0]) json_object_set_new(rj, "field", json_string(e->field));
        if (e->fix) {
            json_object_set_new(rj, "fix", json_string(vmig_fix_name(e->fix)));
            json_object_set_new(rj, "hint", json_string(vmig_fix_hint(e->fix)));
            if (e->fix_arg[0]) json_object_set_new(rj, "fix_arg", json_string(e->fix_arg));
        }
        json_array_append_new(refused, rj);
    }
    for (size_t i = 0; i < sub.nheld; i++)
        json_array_append_new(held, json_pack("{s:s,s:s,s:I}", "source", sub.held[i].source,
                                              "target", sub.held[i].target, "points",
                                              (json_int_t)sub.held[i].points));
    api_resp_obj(out, 201,
                 json_pack("{s:s,s:s,s:o,s:o,s:I}", "id", id, "status", "PENDING", "refused",
                           refused, "collections", held, "points", (json_int_t)sub.points));
out:
    vmig_job_submitted_release(&sub);
    free(plan_text);
    vmig_plan_release(&plan);
    vmig_map_opts_release(&mo);
    free(names);
}

void api_jobs_list(struct api_req *r, struct api_resp *out)
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
        api_lib_error(r, out, &err, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char *js = vmig_job_to_json(&jobs[i], 0, 0);
        json_array_append_new(a, json_loads(js, 0, NULL));
        free(js);
    }
    vmig_job_list_free(jobs, n);
    api_resp_obj(out, 200, json_pack("{s:o}", "jobs", a));
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
    json_array_append_new(c->a,
                          json_pack("{s:I,s:I,s:s,s:o,s:o,s:s}", "seq", (json_int_t)e->seq, "ts_ms",
                                    (json_int_t)e->ts_ms, "level", lv[e->level & 3], "collection",
                                    e->coll[0] ? json_string(e->coll) : json_null(), "point_id",
                                    e->point_id[0] ? json_string(e->point_id) : json_null(),
                                    "message", e->msg));
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

void api_job_logs(struct api_req *r, struct api_resp *out, const char *id)
{
    long long after = 0, limit = 1000;
    if (query_num(r, out, "after", 0, INT64_MAX, &after) ||
        query_num(r, out, "limit", 1, 10000, &limit))
        return;
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    vmig_job_release(&j);
    struct logs_ctx c = {json_array(), after};
    if (vmig_job_logs(r->srv->store, id, after, (size_t)limit, add_log, &c, &err)) {
        json_decref(c.a);
        api_lib_error(r, out, &err, NULL);
        return;
    }
    api_resp_obj(out, 200, json_pack("{s:o,s:I}", "logs", c.a, "next", (json_int_t)c.last));
}

void api_job_cancel(struct api_req *r, struct api_resp *out, const char *id)
{
    struct vmig_err err;
    vmig_err_clear(&err);
    int immediate = 0;
    if (vmig_job_cancel(r->srv->store, id, &immediate, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    api_job_resp(r, out, immediate ? 200 : 202, id);
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
    for (size_t i = 0; i < b->n; i++)
        free((char *)b->val[i]);
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
                                          {"payload_misfit", "payload-misfit"},
                                          {"index", "index"}};
    memset(b, 0, sizeof *b);
    struct vmig_job_retry_opts *ch = &b->ch;
    if (api_get_str(r, out, r->body, "", "null_values", &ch->null_values) ||
        api_get_str(r, out, r->body, "", "payload_conflict", &ch->payload_conflict) ||
        api_get_str(r, out, r->body, "", "index", &ch->index) ||
        api_get_str(r, out, r->body, "", "payload_misfit", &ch->payload_misfit) ||
        api_get_str(r, out, r->body, "", "rejects", &ch->rejects) ||
        api_get_int(r, out, r->body, "", "max_vector_fields", VMIG_MAX_VECTOR_FIELDS_MIN,
                    VMIG_MAX_VECTOR_FIELDS, &ch->max_vector_fields) ||
        api_policy_words(r, out, "",
                         &(struct vmig_policy_words){ch->null_values, ch->payload_conflict,
                                                     ch->index, ch->payload_misfit},
                         NULL))
        return -1;
    int bad;
    json_t *cs = api_get_obj(r, out, "collections", &bad), *co;
    if (bad) return -1;
    const char *src;
    json_object_foreach(cs, src, co)
    {
        char path[VMIG_SRC_NAME_MAX + 32];
        snprintf(path, sizeof path, "collections.%s.", src);
        if (!json_is_object(co)) {
            api_error(r, out, 400, "usage", "collections.%s must be an object", src);
            return -1;
        }
        const char *k;
        json_t *x;
        json_object_foreach(co, k, x)
        {
            size_t i = 0;
            while (i < sizeof keys / sizeof *keys && strcmp(keys[i][0], k) != 0)
                i++;
            if (strcmp(k, "skip_vectors") == 0) {
                size_t n;
                json_t *v;
                if (!json_is_array(x)) {
                    api_error(r, out, 400, "usage", "%sskip_vectors must be a list of names", path);
                    return -1;
                }
                json_array_foreach(x, n, v)
                {
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
                if (api_get_str(r, out, co, path, k, &v)) return -1;
                if (v && retry_edit(r, out, b, keys[i][1], src, '=', v)) return -1;
            } else {
                api_error(r, out, 400, "usage",
                          "%s%s is not a retry change (target_name, skip_vectors, null_values, "
                          "payload_conflict, payload_misfit, index)",
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
void api_job_run(struct api_req *r, struct api_resp *out, const char *id, enum vmig_job_action act)
{
    struct vmig_job j;
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_get(r->srv->store, id, &j, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    enum vmig_job_status st = j.status;
    int orphaned = j.orphaned;
    vmig_job_release(&j);
    /* optional secrets for jobs created with store_secrets false (or rotated keys) */
    const char *src_secret, *dst_secret;
    struct retry_body rb;
    memset(&rb, 0, sizeof rb);
    if (api_get_secrets(r, out, &src_secret, &dst_secret)) return;
    if (act == VMIG_JOB_RETRY && retry_body(r, out, &rb)) {
        retry_body_release(&rb);
        return;
    }
    if (act == VMIG_JOB_RESUME && st == VMIG_JOB_PENDING && !orphaned && !src_secret &&
        !dst_secret) {
        api_job_resp(r, out, 202, id); /* already queued: the worker takes it */
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
            api_lib_error(r, out, &err, NULL);
        return;
    }
    api_job_resp(r, out, 202, id);
}

/* POST /jobs/{id}/verify: verify the job's collections again with its own plan (target
 * names, renames, skipped vectors), endpoints and stored secrets; body (all optional):
 * {"sample":N,"source":{"api_key"},"target":{"token"}}. 200 with a verdict per collection
 * ("different" also when the target collection is gone); a failure to reach a server or
 * read the job answers as an error. */
void api_job_verify(struct api_req *r, struct api_resp *out, const char *id)
{
    const char *src_secret, *dst_secret;
    int sample = -1, full = 0;
    if (api_get_bool(r, out, r->body, "", "full", &full)) return;
    if (full) {
        api_job_verify_full(r, out, id);
        return;
    }
    if (api_get_secrets(r, out, &src_secret, &dst_secret) ||
        api_get_int(r, out, r->body, "", "sample", VMIG_SAMPLE_MIN, VMIG_SAMPLE_MAX, &sample))
        return;
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
                         c->code ? api_msg_json(r, c->err.msg) : json_null()));
    }
    size_t n = v.n;
    vmig_job_verified_release(&v);
    if (!a || (rc && !n)) {
        if (a) json_decref(a);
        api_lib_error(r, out, &err, NULL);
        return;
    }
    api_resp_obj(out, 200, json_pack("{s:o}", "collections", a));
}

/* ?index=live asks Milvus for the live index build of the finished collections (the job
 * stored how far it was when it ended) */
void api_job_get(struct api_req *r, struct api_resp *out, const char *id)
{
    const char *ix = srv_query(r, "index");
    if (ix && strcmp(ix, "stored") != 0 && strcmp(ix, "live") != 0) {
        api_error(r, out, 400, "usage", "index must be live or stored, not '%s'", ix);
        return;
    }
    api_job_resp_index(r, out, 200, id, ix && !strcmp(ix, "live"));
}

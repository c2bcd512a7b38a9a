/*
 * api_body.c - reading the HTTP API's request bodies: typed members, endpoints (their
 * secrets remembered for redaction), the mapping options and edits, collection names.
 * Each reader answers the 400 naming the member (with its path) and returns -1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api_int.h"
#include "util/buf.h"
#include "util/redact.h"
#include "vmig/inputs.h"
#include "vmig/vmig.h"

/* Optional string member: 0 (*v NULL when absent or null), -1 after the error reply. */
int api_get_str(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
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

int api_get_bool(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
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

int api_get_int(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                const char *key, int lo, int hi, int *v)
{
    json_t *x = o ? json_object_get(o, key) : NULL;
    if (!x || json_is_null(x)) return 0;
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        api_error(r, out, 400, "usage", "%s%s must be an integer from %d to %d", path, key, lo, hi);
        return -1;
    }
    *v = (int)json_integer_value(x);
    return 0;
}

/* An option with a range from vmig/inputs.h (the CLI flag takes the same); 0 is also
 * accepted and means the default, as documented for these fields. */
int api_get_ranged(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
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

json_t *api_get_obj(const struct api_req *r, struct api_resp *out, const char *key, int *bad)
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
/* body[side].api_key (source) or .token (target): checked (it is sent as a header) and
 * remembered for redaction. */
static int get_secret(struct api_req *r, struct api_resp *out, json_t *o, const char *side,
                      const char **v)
{
    char path[16];
    snprintf(path, sizeof path, "%s.", side);
    const char *field = strcmp(side, "target") == 0 ? "token" : "api_key";
    if (api_get_str(r, out, o, path, field, v)) return -1;
    if (vmig_secret_has_control(*v)) { /* would be sent as a header: injection */
        api_error(r, out, 400, "usage",
                  "%s.%s contains a control character (CR, LF, tab or another byte below "
                  "0x20 or 0x7f); give the key exactly, without line breaks",
                  side, field);
        return -1;
    }
    if (*v && **v && r->nsecrets < SRV_MAX_SECRETS) r->secrets[r->nsecrets++] = *v;
    return 0;
}

int api_get_secrets(struct api_req *r, struct api_resp *out, const char **src, const char **dst)
{
    int bad;
    *src = *dst = NULL;
    json_t *so = api_get_obj(r, out, "source", &bad);
    if (bad) return -1;
    json_t *to = api_get_obj(r, out, "target", &bad);
    if (bad) return -1;
    return get_secret(r, out, so, "source", src) || get_secret(r, out, to, "target", dst) ? -1 : 0;
}

int api_get_endpoint(struct api_req *r, struct api_resp *out, const char *side,
                     struct vmig_endpoint *ep)
{
    int target = strcmp(side, "target") == 0, bad;
    char path[16];
    memset(ep, 0, sizeof *ep);
    json_t *o = api_get_obj(r, out, side, &bad);
    if (bad) return -1;
    if (!o) {
        api_error(r, out, 400, "usage", "%s is required: {\"url\": \"%s\", ...}", side,
                  target ? "http://localhost:19530" : "http://localhost:6333");
        return -1;
    }
    snprintf(path, sizeof path, "%s.", side);
    if (get_secret(r, out, o, side, &ep->secret)) return -1;
    if (api_get_str(r, out, o, path, "url", &ep->url) ||
        api_get_str(r, out, o, path, "ca_file", &ep->ca_file) ||
        api_get_bool(r, out, o, path, "insecure", &ep->insecure))
        return -1;
    if (target && api_get_str(r, out, o, path, "db", &ep->db)) return -1;
    const char *proto = NULL;
    if (!target && api_get_str(r, out, o, path, "protocol", &proto)) return -1;
    if (proto && *proto) { /* the URL carries the choice from here on (the job stores it) */
        char url[2048];
        struct vmig_err err;
        vmig_err_clear(&err);
        if (vmig_source_url_for(ep->url, proto, url, sizeof url, &err)) {
            api_error(r, out, 400, "usage", "source.protocol %s", err.msg);
            return -1;
        }
        if (ep->url) {
            json_object_set_new(o, "url", json_string(url));
            ep->url = json_string_value(json_object_get(o, "url"));
        }
    }
    int timeout_s = 0;
    if (api_get_ranged(r, out, o, path, "timeout_s", VMIG_TIMEOUT_MIN, VMIG_TIMEOUT_MAX,
                       &timeout_s))
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
                  side, side, target ? "token" : "api_key");
        return -1;
    }
    if (ep->secret && !*ep->secret) ep->secret = NULL;
    if (ep->db && !*ep->db) ep->db = NULL;
    if (ep->ca_file && !*ep->ca_file) ep->ca_file = NULL;
    return 0;
}

/* null_values, payload_conflict, index and payload_misfit (each may be NULL) name
 * words of the library's tables, stored into mo (may be NULL: only checked): 0, or -1 after a 400
 * naming the field (under path) and the words. */
int api_policy_words(const struct api_req *r, struct api_resp *out, const char *path,
                     const struct vmig_policy_words *w, struct vmig_map_opts *mo)
{
    static const char *const field[] = {"", "null_values", "payload_conflict", "index",
                                        "payload_misfit"};
    const char *given[] = {"", w->nulls, w->conflict, w->index, w->misfit};
    char words[64];
    int k = vmig_policy_check(w, mo, words, sizeof words);
    if (!k) return 0;
    api_error(r, out, 400, "usage", "%s%s must be %s, not '%s'", path, field[k], words, given[k]);
    return -1;
}

/* body.profile: true, {"sample": N} or {"full": true} (the CLI's --profile, --sample N,
 * --full); absent or false = no profile. 0, or -1 after a 400. */
static int get_profile(const struct api_req *r, struct api_resp *out, struct vmig_map_opts *mo)
{
    json_t *p = r->body ? json_object_get(r->body, "profile") : NULL, *v;
    const char *k;
    int full = 0, sample = 0;
    if (!p || json_is_null(p) || json_is_false(p)) return 0;
    mo->profile = 1;
    if (json_is_true(p)) return 0;
    if (!json_is_object(p)) {
        api_error(r, out, 400, "usage",
                  "profile must be true, {\"sample\": N} or {\"full\": true}");
        return -1;
    }
    json_object_foreach(p, k, v)
    {
        if (strcmp(k, "sample") != 0 && strcmp(k, "full") != 0) {
            api_error(r, out, 400, "usage", "profile.%s: unknown key (sample or full)", k);
            return -1;
        }
    }
    if (api_get_int(r, out, p, "profile.", "sample", VMIG_PROFILE_SAMPLE_MIN,
                    VMIG_PROFILE_SAMPLE_MAX, &sample) ||
        api_get_bool(r, out, p, "profile.", "full", &full))
        return -1;
    if (full && sample) {
        api_error(r, out, 400, "usage",
                  "profile.full reads every point; give it or profile.sample, not both");
        return -1;
    }
    if (sample) mo->profile_sample = (uint64_t)sample;
    if (full) mo->profile_sample = 0;
    return 0;
}

/* Mapping options and edits from body.options / body.edits. mo is initialised here. */
int api_get_map_opts(const struct api_req *r, struct api_resp *out, const char *source_url,
                     struct vmig_map_opts *mo)
{
    int bad;
    vmig_map_opts_init(mo);
    mo->source_url = source_url;
    json_t *o = api_get_obj(r, out, "options", &bad);
    if (bad) return -1;
    struct vmig_policy_words w;
    if (api_get_str(r, out, o, "options.", "null_values", &w.nulls) ||
        api_get_str(r, out, o, "options.", "payload_conflict", &w.conflict) ||
        api_get_str(r, out, o, "options.", "index", &w.index) ||
        api_get_str(r, out, o, "options.", "payload_misfit", &w.misfit) ||
        api_get_ranged(r, out, o, "options.", "max_vector_fields", VMIG_MAX_VECTOR_FIELDS_MIN,
                       VMIG_MAX_VECTOR_FIELDS, &mo->max_vector_fields))
        return -1;
    if (api_policy_words(r, out, "options.", &w, mo)) return -1;
    if (get_profile(r, out, mo)) return -1;
    json_t *edits = r->body ? json_object_get(r->body, "edits") : NULL;
    if (edits && !json_is_null(edits)) {
        if (!json_is_array(edits)) {
            api_error(r, out, 400, "usage", "edits must be an array of {\"kind\", \"value\"}");
            return -1;
        }
        size_t i;
        json_t *e;
        json_array_foreach(edits, i, e)
        {
            const char *kind = json_string_value(json_object_get(e, "kind"));
            const char *value = json_string_value(json_object_get(e, "value"));
            if (!json_is_object(e) || !kind || !value) {
                api_error(r, out, 400, "usage",
                          "edits[%zu] must be {\"kind\": \"target-name|description|rename|"
                          "skip-vector|field\", \"value\": \"...\"}",
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
int api_get_names(const struct api_req *r, struct api_resp *out, const char ***names, size_t *n)
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
    json_array_foreach(a, i, v)
    {
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

/* options.write_mode ("rows", "bulk", "auto"), options.bulk_dir (an absolute path the
 * Milvus server reads), options.bulk_url (s3://bucket/prefix), options.bulk_endpoint and
 * options.bulk_file_size_mib: the CLI's --write-mode, --bulk-dir, --bulk-url,
 * --bulk-endpoint, --bulk-file-size. 0, or -1 after a 400 naming the field. */
int api_get_bulk_opts(const struct api_req *r, struct api_resp *out, json_t *o,
                      struct vmig_job_opts *jo)
{
    const char *mode, *dir, *url, *endpoint;
    int mib = 0;
    if (api_get_str(r, out, o, "options.", "write_mode", &mode) ||
        api_get_str(r, out, o, "options.", "bulk_dir", &dir) ||
        api_get_str(r, out, o, "options.", "bulk_url", &url) ||
        api_get_str(r, out, o, "options.", "bulk_endpoint", &endpoint) ||
        api_get_ranged(r, out, o, "options.", "bulk_file_size_mib", VMIG_BULK_FILE_MIB_MIN,
                       VMIG_BULK_FILE_MIB_MAX, &mib))
        return -1;
    if (mode && *mode && vmig_write_mode_parse(mode, &jo->write_mode)) {
        api_error(r, out, 400, "usage", "options.write_mode must be rows, bulk or auto, not '%s'",
                  mode);
        return -1;
    }
    if (dir && *dir && dir[0] != '/') {
        api_error(r, out, 400, "usage",
                  "options.bulk_dir must be an absolute path the Milvus server reads, not '%s'",
                  dir);
        return -1;
    }
    const char *v[] = {dir, url, endpoint};
    char *dst[] = {jo->bulk_dir, jo->bulk_url, jo->bulk_endpoint};
    static const char *const key[] = {"bulk_dir", "bulk_url", "bulk_endpoint"};
    for (int i = 0; i < 3; i++) {
        if (v[i] && strlen(v[i]) >= VMIG_PATH_MAX) {
            api_error(r, out, 400, "usage", "options.%s is longer than %d bytes", key[i],
                      VMIG_PATH_MAX - 1);
            return -1;
        }
        snprintf(dst[i], VMIG_PATH_MAX, "%s", v[i] ? v[i] : "");
    }
    jo->bulk_file_bytes = (uint64_t)mib << 20;
    return 0;
}

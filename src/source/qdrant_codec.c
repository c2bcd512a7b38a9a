/*
 * qdrant_codec.c - pure decoding of Qdrant's small REST answers (version, list,
 * count, collection info) and encoding of ids/strings for request bodies; see
 * qdrant_codec.h. These go through jansson: they are rare and their shape changes
 * between releases, so a DOM with "ignore unknown, accept absent or null" is the
 * robust choice. Scroll pages, the hot path, are qdrant_scan.c.
 */
#include "qdrant_codec.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/fastfloat.h"
#include "util/alloc.h"

/* ======================================================================
 * jansson side: version, list, count, collection info
 * ====================================================================== */

static json_t *load(const char *body, size_t len, const char *what, struct vmig_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    if (!j)
        vmig_err_set(err, VMIG_E_PROTOCOL, "cannot parse the answer to %s: %s at byte %d", what,
                     je.text, je.position);
    return j;
}

static json_t *result_of(json_t *root, const char *what, struct vmig_err *err)
{
    json_t *r = json_is_object(root) ? json_object_get(root, "result") : NULL;
    if (!r || json_is_null(r))
        vmig_err_set(err, VMIG_E_PROTOCOL, "the answer to %s has no 'result'", what);
    return r;
}

enum vmig_code vmig_qdrant_parse_version(const char *body, size_t len, char *version, size_t n,
                                         struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    json_t *root = load(body, len, "GET /", err);
    if (!root) return VMIG_E_PROTOCOL;
    const char *v = json_string_value(json_object_get(root, "version"));
    if (!v) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "the answer to GET / has no 'version': is this a Qdrant server?");
        goto out;
    }
    snprintf(version, n, "%s", v);
out:
    json_decref(root);
    return rc;
}

int vmig_qdrant_version_at_least(const char *version, int major, int minor, int patch)
{
    int a = 0, b = 0, c = 0;
    if (!version || sscanf(version, "%d.%d.%d", &a, &b, &c) < 1) return 0;
    if (a != major) return a > major;
    if (b != minor) return b > minor;
    return c >= patch;
}

enum vmig_code vmig_qdrant_parse_list(const char *body, size_t len, char ***names, size_t *n,
                                      struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    char **v = NULL;
    size_t cnt = 0;
    json_t *root = load(body, len, "GET /collections", err);
    if (!root) return VMIG_E_PROTOCOL;
    json_t *res = result_of(root, "GET /collections", err);
    if (!res) {
        rc = VMIG_E_PROTOCOL;
        goto out;
    }
    json_t *arr = json_object_get(res, "collections");
    if (!json_is_array(arr)) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "the answer to GET /collections has no list");
        goto out;
    }
    v = xcalloc(json_array_size(arr) + 1, sizeof *v);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name) v[cnt++] = xstrdup(name);
    }
out:
    json_decref(root);
    if (rc == VMIG_OK) {
        *names = v;
        *n = cnt;
    } else {
        for (size_t k = 0; k < cnt; k++) free(v[k]);
        free(v);
    }
    return rc;
}

enum vmig_code vmig_qdrant_parse_count(const char *body, size_t len, uint64_t *count,
                                       struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    json_t *root = load(body, len, "count", err);
    if (!root) return VMIG_E_PROTOCOL;
    json_t *res = result_of(root, "count", err);
    json_t *c = res ? json_object_get(res, "count") : NULL;
    if (!json_is_integer(c) || json_integer_value(c) < 0) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "the answer to count has no 'count'");
        goto out;
    }
    *count = (uint64_t)json_integer_value(c);
out:
    json_decref(root);
    return rc;
}

static int int_or(json_t *o, const char *key, int dflt)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static enum vmig_distance distance_of(const char *s)
{
    if (!s) return VMIG_DIST_NONE;
    if (!strcmp(s, "Cosine")) return VMIG_DIST_COSINE;
    if (!strcmp(s, "Euclid")) return VMIG_DIST_EUCLID;
    if (!strcmp(s, "Dot")) return VMIG_DIST_DOT;
    if (!strcmp(s, "Manhattan")) return VMIG_DIST_MANHATTAN;
    return VMIG_DIST_NONE;
}

void vmig_qdrant_set_datatype(struct vmig_src_vector *v, const char *dt)
{
    if (!dt) dt = "float32";
    snprintf(v->datatype_name, sizeof v->datatype_name, "%s", dt);
    if (!strcmp(dt, "float32")) v->datatype = VMIG_DT_FLOAT32;
    else if (!strcmp(dt, "float16")) v->datatype = VMIG_DT_FLOAT16;
    else if (!strcmp(dt, "uint8")) v->datatype = VMIG_DT_UINT8;
    else v->datatype = VMIG_DT_OTHER;
}

struct vmig_src_vector *vmig_qdrant_add_vec(struct vmig_src_coll *c, const char *name)
{
    if (c->nvec >= VMIG_SRC_MAX_VECTORS) {
        c->too_many_vectors = 1;
        return NULL;
    }
    struct vmig_src_vector *v = &c->vec[c->nvec++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->hnsw_m = v->hnsw_ef = -1;
    vmig_qdrant_set_datatype(v, NULL);
    return v;
}

static void dense_params(struct vmig_src_vector *v, json_t *p)
{
    json_t *size = json_object_get(p, "size");
    v->size = json_is_integer(size) && json_integer_value(size) > 0
                  ? (uint32_t)json_integer_value(size)
                  : 0;
    v->distance = distance_of(json_string_value(json_object_get(p, "distance")));
    json_t *h = json_object_get(p, "hnsw_config");
    v->hnsw_m = int_or(h, "m", -1);
    v->hnsw_ef = int_or(h, "ef_construct", -1);
    vmig_qdrant_set_datatype(v, json_string_value(json_object_get(p, "datatype")));
    json_t *mv = json_object_get(p, "multivector_config");
    v->multivector = mv && !json_is_null(mv);
}

void vmig_qdrant_add_index(struct vmig_src_coll *c, const char *key, const char *type, int gtype,
                           uint64_t points, int is_tenant)
{
    /* in the order of enum vmig_payload_index, which is gRPC's PayloadSchemaType */
    static const char *const names[] = {"",     "keyword", "integer",  "float", "geo",
                                        "text", "bool",    "datetime", "uuid"};
    enum vmig_payload_index t = VMIG_PIDX_OTHER;
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (type ? strcmp(type, names[i]) == 0 : gtype == i) t = (enum vmig_payload_index)i;
    if (strlen(key) >= VMIG_NAME_MAX) return;
    if (c->nindexes == VMIG_SRC_MAX_INDEXES) {
        c->too_many_indexes = 1;
        return;
    }
    struct vmig_src_index *x = &c->index[c->nindexes++];
    snprintf(x->key, sizeof x->key, "%s", key);
    x->type = t;
    x->points = points;
    x->is_tenant = is_tenant;
}

enum vmig_code vmig_qdrant_parse_info(const char *body, size_t len, const char *coll,
                                      struct vmig_src_coll *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    json_t *root = load(body, len, "collection info", err);
    if (!root) goto fail;
    json_t *res = result_of(root, "collection info", err);
    if (!json_is_object(res)) goto fail;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", coll);
    const char *st = json_string_value(json_object_get(res, "status"));
    snprintf(out->status, sizeof out->status, "%s", st ? st : "");
    json_t *pc = json_object_get(res, "points_count");
    out->points_approx = json_is_integer(pc) && json_integer_value(pc) > 0
                             ? (uint64_t)json_integer_value(pc)
                             : 0;
    json_t *config = json_object_get(res, "config");
    json_t *params = json_object_get(config, "params");
    if (!json_is_object(params)) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "the info of collection '%s' has no config.params", coll);
        goto out;
    }
    json_t *h = json_object_get(config, "hnsw_config");
    out->hnsw_m = int_or(h, "m", -1);
    out->hnsw_ef = int_or(h, "ef_construct", -1);
    json_t *strict = json_object_get(config, "strict_mode_config");
    if (json_is_true(json_object_get(strict, "enabled"))) {
        int ql = int_or(strict, "max_query_limit", 0), rl = int_or(strict, "read_rate_limit", 0);
        out->max_query_limit = ql > 0 ? (uint32_t)ql : 0;
        out->read_rate_limit = rl > 0 ? (uint32_t)rl : 0;
    }

    json_t *vectors = json_object_get(params, "vectors");
    if (json_is_object(vectors) && json_object_get(vectors, "size")) {
        out->unnamed = 1;
        dense_params(vmig_qdrant_add_vec(out, ""), vectors);
    } else if (json_is_object(vectors)) {
        const char *name;
        json_t *p;
        json_object_foreach(vectors, name, p)
        {
            struct vmig_src_vector *v = vmig_qdrant_add_vec(out, name);
            if (!v) break;
            if (json_is_object(p)) dense_params(v, p);
        }
    }
    json_t *sparse = json_object_get(params, "sparse_vectors");
    if (json_is_object(sparse)) {
        const char *name;
        json_t *p;
        json_object_foreach(sparse, name, p)
        {
            struct vmig_src_vector *v = vmig_qdrant_add_vec(out, name);
            if (!v) break;
            v->sparse = 1;
            const char *mod = json_string_value(json_object_get(p, "modifier"));
            v->sparse_idf = mod && !strcmp(mod, "idf");
            json_t *idx = json_object_get(p, "index");
            vmig_qdrant_set_datatype(v, json_string_value(json_object_get(idx, "datatype")));
        }
    }
    /* a sparse-only collection is not the unnamed form even if "vectors" were odd */
    if (out->unnamed && out->nvec != 1) out->unnamed = 0;
    json_t *schema = json_object_get(res, "payload_schema");
    const char *key;
    json_t *ix;
    json_object_foreach(schema, key, ix)
    {
        json_t *pts = json_object_get(ix, "points");
        json_t *ip = json_object_get(ix, "params");
        const char *dt = json_string_value(json_object_get(ix, "data_type"));
        vmig_qdrant_add_index(out, key, dt ? dt : "?", 0,
                              json_is_integer(pts) && json_integer_value(pts) > 0
                                  ? (uint64_t)json_integer_value(pts)
                                  : 0,
                              json_is_true(json_object_get(ip, "is_tenant")));
    }
    goto out;
fail:
    rc = VMIG_E_PROTOCOL;
out:
    json_decref(root);
    return rc;
}

char *vmig_qdrant_error_text(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *st = json_is_object(root) ? json_object_get(root, "status") : NULL;
    const char *e = json_string_value(json_object_get(st, "error"));
    char *s = e ? xstrdup(e) : NULL;
    json_decref(root);
    return s;
}

/* ======================================================================
 * request helpers
 * ====================================================================== */

void vmig_qdrant_put_id(struct vmig_buf *out, const struct vmig_point_id *id)
{
    char t[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(id, t);
    if (id->kind == VMIG_ID_UUID) vmig_buf_addf(out, "\"%s\"", t);
    else vmig_buf_adds(out, t);
}

void vmig_qdrant_put_str(struct vmig_buf *out, const char *s)
{
    vmig_buf_add_json_str(out, s);
}

void vmig_qdrant_cap_note(struct vmig_qdrant_cap *c, const struct vmig_src_coll *sc)
{
    snprintf(c->coll, sizeof c->coll, "%s", sc->name);
    c->limit = sc->max_query_limit;
    c->known = 1;
}

int vmig_qdrant_cap_knows(const struct vmig_qdrant_cap *c, const char *coll)
{
    return c->known && strcmp(c->coll, coll) == 0;
}

uint32_t vmig_qdrant_cap_apply(const struct vmig_qdrant_cap *c, size_t n)
{
    if (n > UINT32_MAX) n = UINT32_MAX;
    return c->limit && n > c->limit ? c->limit : (uint32_t)n;
}

/*
 * plan_json.c - the JSON forms of the mapping stage: the plan (shown by
 * `plan --json`, edited by users, read back by `migrate --plan FILE`) and the
 * source collection description (`collections --json`, the unit tests' input).
 * Both formats are documented in docs/user/mapping.md and are stable: keys are
 * only ever added. Readers refuse unknown keys, because these files are edited by
 * hand and a misspelt key must not be silently ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mapping/mapping_int.h"
#include "util/alloc.h"
#include "vmig/profile.h"

/* ---- names of enum values ----------------------------------------------------- */

static const struct {
    enum vmig_code code;
    const char *name;
} code_names[] = {
    {VMIG_OK, "ok"},
    {VMIG_E_TIMEOUT, "timeout"},
    {VMIG_E_UNAVAILABLE, "unavailable"},
    {VMIG_E_RATE_LIMIT, "rate_limit"},
    {VMIG_E_AUTH, "auth"},
    {VMIG_E_TLS, "tls"},
    {VMIG_E_CONNECT, "connect"},
    {VMIG_E_USAGE, "usage"},
    {VMIG_E_NOT_FOUND, "not_found"},
    {VMIG_E_EXISTS, "exists"},
    {VMIG_E_SCHEMA, "schema"},
    {VMIG_E_DATA, "data"},
    {VMIG_E_VERIFY, "verify"},
    {VMIG_E_BUSY, "busy"},
    {VMIG_E_PROTOCOL, "protocol"},
    {VMIG_E_REMOTE, "remote"},
    {VMIG_E_IO, "io"},
    {VMIG_E_INTERNAL, "internal"},
    {VMIG_E_CANCELLED, "cancelled"},
};

const char *vmig_code_json_name(enum vmig_code code)
{
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (code_names[i].code == code) return code_names[i].name;
    return "internal";
}

enum vmig_code vmig_code_from_json_name(const char *name)
{
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (strcmp(code_names[i].name, name) == 0) return code_names[i].code;
    return VMIG_E_INTERNAL;
}

static const char *const metric_names[] = {"COSINE", "IP", "L2"};
static const char *const datatype_names[] = {"float32", "uint8", "float16", "other"};
static const char *const distance_names[] = {"", "Cosine", "Euclid", "Dot", "Manhattan"};

#define NAME_OF(tab, v) ((size_t)(v) < sizeof tab / sizeof tab[0] ? tab[(size_t)(v)] : "?")

const char *vmig_metric_name(enum vmig_metric m)
{
    return NAME_OF(metric_names, m);
}
const char *vmig_datatype_name(enum vmig_datatype dt)
{
    return NAME_OF(datatype_names, dt);
}
/* ---- policy words: one table each, for every face (flags, API fields, plan files) -- */

struct word {
    const char *word;
    int value;
};
/* The first entry of a value is its name (as written into plan files). */
static const struct word null_words[] = {
    {"fail", VMIG_NULL_FAIL}, {"drop", VMIG_NULL_DROP}, {"keep", VMIG_NULL_KEEP}, {NULL, 0}};
static const struct word conflict_words[] = {
    {"fail", VMIG_CONFLICT_FAIL}, {"prefix", VMIG_CONFLICT_PREFIX}, {NULL, 0}};
static const struct word index_words[] = {{"AUTOINDEX", VMIG_INDEX_AUTO},
                                          {"HNSW", VMIG_INDEX_HNSW},
                                          {"auto", VMIG_INDEX_AUTO},
                                          {NULL, 0}};

static const char *word_name(const struct word *t, int v)
{
    for (; t->word; t++)
        if (t->value == v) return t->word;
    return "?";
}

static int word_parse(const struct word *t, const char *s, int *out)
{
    for (; s && t->word; t++)
        if (!strcasecmp(t->word, s)) {
            *out = t->value;
            return 0;
        }
    return -1;
}

/* "fail, drop or keep" */
static const char *word_list(const struct word *t, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; t[i].word && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s",
                                i == 0          ? ""
                                : t[i + 1].word ? ", "
                                                : " or ",
                                t[i].word);
    return buf;
}

#define POLICY_WORDS(fn, type, tab)                                                                \
    const char *vmig_##fn##_name(type v)                                                           \
    {                                                                                              \
        return word_name(tab, (int)v);                                                             \
    }                                                                                              \
    int vmig_##fn##_parse(const char *s, type *out)                                                \
    {                                                                                              \
        int v;                                                                                     \
        if (word_parse(tab, s, &v)) return -1;                                                     \
        *out = (type)v;                                                                            \
        return 0;                                                                                  \
    }                                                                                              \
    const char *vmig_##fn##_words(char *buf, size_t n)                                             \
    {                                                                                              \
        return word_list(tab, buf, n);                                                             \
    }

POLICY_WORDS(null_policy, enum vmig_null_policy, null_words)
POLICY_WORDS(conflict_policy, enum vmig_conflict_policy, conflict_words)
POLICY_WORDS(index_kind, enum vmig_index_kind, index_words)

static const struct word misfit_words[] = {{"dynamic", VMIG_MISFIT_DYNAMIC},
                                           {"reject", VMIG_MISFIT_REJECT},
                                           {"fail", VMIG_MISFIT_FAIL},
                                           {NULL, 0}};

int vmig_policy_check(const struct vmig_policy_words *w, struct vmig_map_opts *mo, char *list,
                      size_t n)
{
    const char *given[] = {w->nulls, w->conflict, w->index, w->misfit};
    const struct word *tabs[] = {null_words, conflict_words, index_words, misfit_words};
    int v[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        if (given[i] && word_parse(tabs[i], given[i], &v[i])) {
            word_list(tabs[i], list, n);
            return i + 1;
        }
    if (!mo) return 0;
    if (w->nulls) mo->nulls = (enum vmig_null_policy)v[0];
    if (w->conflict) mo->conflict = (enum vmig_conflict_policy)v[1];
    if (w->index) mo->index = (enum vmig_index_kind)v[2];
    if (w->misfit) mo->misfit = (enum vmig_misfit_policy)v[3];
    return 0;
}

static int lookup(const char *const *tab, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i], s) == 0) return (int)i;
    return -1;
}
#define LOOKUP(tab, s) lookup(tab, sizeof tab / sizeof tab[0], s)

/* ---- writing ------------------------------------------------------------------- */

/* A JSON string from C text; bytes that are not valid UTF-8 (a name cut by a
 * buffer, a description from a terminal in another encoding) become '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *c = xstrdup(s);
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (*p >= 0x80) *p = '?';
    j = json_string(c);
    free(c);
    return j;
}

static json_t *hnsw_json(int m, int ef)
{
    json_t *h = json_object();
    if (m >= 0) json_object_set_new(h, "m", json_integer(m));
    if (ef >= 0) json_object_set_new(h, "ef_construct", json_integer(ef));
    return h;
}

/* A default value as JSON: VARCHAR defaults are kept as their text. */
static json_t *default_json(const struct vmig_plan_scalar *s)
{
    if (!s->has_default) return json_null();
    if (s->type == VMIG_SC_VARCHAR) return jstr(s->default_json);
    json_t *v = json_loads(s->default_json, JSON_DECODE_ANY, NULL);
    return v ? v : jstr(s->default_json);
}

static json_t *scalars_json(const struct vmig_plan_coll *pc)
{
    json_t *a = json_array();
    for (size_t i = 0; i < pc->nscalars; i++) {
        const struct vmig_plan_scalar *s = &pc->scalar[i];
        json_t *v = json_object();
        int str =
            s->type == VMIG_SC_VARCHAR || (s->type == VMIG_SC_ARRAY && s->elem == VMIG_SC_VARCHAR);
        json_object_set_new(v, "key", jstr(s->src));
        json_object_set_new(v, "field", jstr(s->dst));
        json_object_set_new(v, "type", json_string(vmig_scalar_type_name(s->type)));
        if (s->type == VMIG_SC_ARRAY) {
            json_object_set_new(v, "element_type", json_string(vmig_scalar_type_name(s->elem)));
            json_object_set_new(v, "max_capacity", json_integer(s->max_capacity));
        }
        if (str) json_object_set_new(v, "max_length", json_integer(s->max_length));
        json_object_set_new(v, "nullable", json_boolean(s->nullable));
        json_object_set_new(v, "default", default_json(s));
        json_object_set_new(v, "index", json_string(vmig_scalar_index_name(s->index)));
        json_object_set_new(v, "qdrant_index",
                            s->from_index ? json_string(vmig_payload_index_name(s->from_index))
                                          : json_null());
        json_array_append_new(a, v);
    }
    return a;
}

static json_t *plan_coll_json(const struct vmig_plan_coll *pc)
{
    json_t *c = json_object(), *pk = json_object(), *vecs = json_array(), *sk = json_array(),
           *notes = json_array();
    json_object_set_new(c, "source", jstr(pc->source));
    json_object_set_new(c, "target", jstr(pc->target));
    json_object_set_new(c, "description", jstr(pc->description));
    json_object_set_new(pk, "name", jstr(pc->pk_name));
    json_object_set_new(pk, "type",
                        json_string(pc->pk_type == VMIG_PK_VARCHAR ? "VarChar" : "Int64"));
    if (pc->pk_type == VMIG_PK_VARCHAR)
        json_object_set_new(pk, "max_length", json_integer(pc->pk_max_length));
    json_object_set_new(c, "primary_key", pk);
    for (size_t i = 0; i < pc->nfields; i++) {
        const struct vmig_plan_field *f = &pc->field[i];
        json_t *v = json_object();
        json_object_set_new(v, "source", jstr(f->src));
        json_object_set_new(v, "field", jstr(f->dst));
        if (f->kind == VMIG_VEC_SPARSE) {
            json_object_set_new(v, "type", json_string("SPARSE_FLOAT_VECTOR"));
        } else {
            json_object_set_new(v, "type", json_string("FLOAT_VECTOR"));
            json_object_set_new(v, "dim", json_integer(f->dim));
        }
        json_object_set_new(v, "metric", json_string(vmig_metric_name(f->metric)));
        json_object_set_new(v, "source_datatype", json_string(vmig_datatype_name(f->src_datatype)));
        if (f->kind == VMIG_VEC_DENSE && (f->hnsw_m >= 0 || f->hnsw_ef >= 0))
            json_object_set_new(v, "hnsw", hnsw_json(f->hnsw_m, f->hnsw_ef));
        json_array_append_new(vecs, v);
    }
    json_object_set_new(c, "vectors", vecs);
    for (size_t i = 0; i < pc->nskipped; i++)
        json_array_append_new(sk, jstr(pc->skipped[i]));
    json_object_set_new(c, "skipped_vectors", sk);
    json_object_set_new(c, "typed_fields", scalars_json(pc));
    json_object_set_new(c, "dynamic_field", json_true());
    const char *pkey = NULL;
    for (size_t i = 0; i < pc->nscalars; i++)
        if (pc->scalar[i].partition_key) pkey = pc->scalar[i].dst;
    json_object_set_new(c, "partition_key", pkey ? jstr(pkey) : json_false());
    if (pkey) json_object_set_new(c, "num_partitions", json_integer(pc->num_partitions));
    json_object_set_new(c, "payload_misfit", json_string(vmig_misfit_policy_name(pc->misfit)));
    json_object_set_new(c, "auto_id", json_false());
    json_object_set_new(c, "null_values", json_string(vmig_null_policy_name(pc->null_policy)));
    json_object_set_new(c, "payload_conflict",
                        json_string(vmig_conflict_policy_name(pc->conflict_policy)));
    if (pc->conflict_policy == VMIG_CONFLICT_PREFIX)
        json_object_set_new(c, "payload_prefix", jstr(pc->conflict_prefix));
    json_object_set_new(c, "index", json_string(vmig_index_kind_name(pc->index)));
    for (size_t i = 0; i < pc->nnotes; i++)
        json_array_append_new(notes, jstr(pc->notes[i]));
    json_object_set_new(c, "notes", notes);
    json_object_set_new(c, "source_count", json_integer((json_int_t)pc->source_count));
    json_object_set_new(c, "target_exists", json_boolean(pc->target_exists));
    if (pc->refusal.code == VMIG_OK) {
        json_object_set_new(c, "error", json_null());
    } else {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(vmig_code_json_name(pc->refusal.code)));
        json_object_set_new(e, "message", jstr(pc->refusal.msg));
        if (pc->refusal.field[0]) json_object_set_new(e, "field", jstr(pc->refusal.field));
        if (pc->refusal.fix) {
            json_object_set_new(e, "fix", json_string(vmig_fix_name(pc->refusal.fix)));
            json_object_set_new(e, "hint", json_string(vmig_fix_hint(pc->refusal.fix)));
            if (pc->refusal.fix_arg[0])
                json_object_set_new(e, "fix_arg", jstr(pc->refusal.fix_arg));
        }
        json_object_set_new(c, "error", e);
    }
    return c;
}

static char *dump(json_t *j, int pretty)
{
    char *s = json_dumps(j, pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(j);
    if (!s) abort(); /* only on out-of-memory: keep OOM out of signatures (alloc.h) */
    return s;
}

char *vmig_plan_coll_to_json(const struct vmig_plan_coll *pc, int pretty)
{
    return dump(plan_coll_json(pc), pretty);
}

char *vmig_plan_to_json(const struct vmig_plan *p, int pretty)
{
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "version", json_integer(1));
    for (size_t i = 0; i < p->n; i++) {
        json_t *c = plan_coll_json(&p->coll[i]);
        if (p->profile && p->profile[i]) /* what `plan --profile` measured, kept with the plan */
            json_object_set_new(c, "profile", vmig_profile_json(p->profile[i]));
        json_array_append_new(arr, c);
    }
    json_object_set_new(root, "collections", arr);
    if (p->target.product[0]) /* informative: a plan file is checked against the target again */
        json_object_set_new(root, "target_server",
                            json_pack("{s:s,s:s,s:s,s:b}", "product", p->target.product, "version",
                                      p->target.version, "release", p->target.release, "known",
                                      p->target.known));
    return dump(root, pretty);
}

/* ---- reading: small typed getters that report the JSON path ----------------- */

struct rd {
    struct vmig_err *err;
    char path[128];
};

static enum vmig_code bad(struct rd *r, const char *key, const char *what)
{
    return vmig_err_set(r->err, VMIG_E_USAGE, "%s%s%s: %s", r->path, r->path[0] ? "." : "", key,
                        what);
}

static enum vmig_code check_keys(struct rd *r, json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) ok = 1;
        if (!ok) return bad(r, k, "unknown key");
    }
    return VMIG_OK;
}

/* string into dst[n]; missing: required → error, else dst untouched */
static enum vmig_code get_str(struct rd *r, json_t *obj, const char *key, int required, char *dst,
                              size_t n)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return required ? bad(r, key, "missing") : VMIG_OK;
    if (!json_is_string(v)) return bad(r, key, "must be a string");
    if (json_string_length(v) >= n) {
        char what[64];
        snprintf(what, sizeof what, "longer than %zu bytes", n - 1);
        return bad(r, key, what);
    }
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(r, key, "must not contain NUL characters");
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return VMIG_OK;
}

static enum vmig_code get_int(struct rd *r, json_t *obj, const char *key, int required,
                              json_int_t lo, json_int_t hi, json_int_t *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return required ? bad(r, key, "missing") : VMIG_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char what[96];
        snprintf(what, sizeof what, "must be an integer from %lld to %lld", (long long)lo,
                 (long long)hi);
        return bad(r, key, what);
    }
    *dst = json_integer_value(v);
    return VMIG_OK;
}

static enum vmig_code get_bool(struct rd *r, json_t *obj, const char *key, int *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return VMIG_OK;
    if (!json_is_boolean(v)) return bad(r, key, "must be true or false");
    *dst = json_is_true(v);
    return VMIG_OK;
}

/* an enum given by name: tab[i] ↔ value i */
static enum vmig_code get_enum(struct rd *r, json_t *obj, const char *key, int required,
                               const char *const *tab, size_t n, int *dst)
{
    char s[32] = "";
    enum vmig_code rc = get_str(r, obj, key, required, s, sizeof s);
    if (rc || !s[0]) return rc ? rc : (required ? bad(r, key, "must not be empty") : VMIG_OK);
    int i = lookup(tab, n, s);
    if (i < 0) {
        char what[160] = "must be one of";
        for (size_t k = 0; k < n; k++)
            if (tab[k][0])
                snprintf(what + strlen(what), sizeof what - strlen(what), "%s \"%s\"", k ? "," : "",
                         tab[k]);
        return bad(r, key, what);
    }
    *dst = i;
    return VMIG_OK;
}
#define GET_ENUM(r, o, key, req, tab, dst)                                                         \
    get_enum(r, o, key, req, tab, sizeof tab / sizeof tab[0], dst)

/* Optional policy word (left out = *dst unchanged). */
static enum vmig_code get_word(struct rd *r, json_t *obj, const char *key, const struct word *tab,
                               int *dst)
{
    char s[32] = "", what[96] = "must be ";
    enum vmig_code rc = get_str(r, obj, key, 0, s, sizeof s);
    if (rc || !s[0]) return rc;
    if (!word_parse(tab, s, dst)) return VMIG_OK;
    word_list(tab, what + strlen(what), sizeof what - strlen(what));
    return bad(r, key, what);
}

static enum vmig_code get_hnsw(struct rd *r, json_t *obj, int *m, int *ef)
{
    static const char *const keys[] = {"m", "ef_construct", NULL};
    json_t *h = json_object_get(obj, "hnsw");
    json_int_t x;
    enum vmig_code rc;
    if (!h || json_is_null(h)) return VMIG_OK;
    if (!json_is_object(h)) return bad(r, "hnsw", "must be an object");
    size_t pl = strlen(r->path);
    snprintf(r->path + pl, sizeof r->path - pl, "%shnsw", pl ? "." : "");
    if ((rc = check_keys(r, h, keys))) return rc;
    x = *m;
    if ((rc = get_int(r, h, "m", 0, 0, 1000000, &x))) return rc; /* leave it out for the default */
    *m = (int)x;
    x = *ef;
    if ((rc = get_int(r, h, "ef_construct", 0, 0, 1000000000, &x))) return rc;
    *ef = (int)x;
    r->path[pl] = '\0';
    return VMIG_OK;
}

/* ---- reading the plan ------------------------------------------------------------- */

static enum vmig_code plan_field_read(struct rd *r, json_t *v, struct vmig_plan_field *f)
{
    static const char *const keys[] = {"source", "field",           "type", "dim",
                                       "metric", "source_datatype", "hnsw", NULL};
    static const char *const types[] = {"FLOAT_VECTOR", "SPARSE_FLOAT_VECTOR"};
    enum vmig_code rc;
    int t = 0, m = 0, dt = 0;
    json_int_t dim = 0;
    if (!json_is_object(v)) return bad(r, "", "must be an object");
    memset(f, 0, sizeof *f);
    f->hnsw_m = f->hnsw_ef = -1;
    if ((rc = check_keys(r, v, keys)) || (rc = get_str(r, v, "source", 1, f->src, sizeof f->src)) ||
        (rc = get_str(r, v, "field", 1, f->dst, sizeof f->dst)) ||
        (rc = GET_ENUM(r, v, "type", 1, types, &t)) ||
        (rc = GET_ENUM(r, v, "metric", 1, metric_names, &m)))
        return rc;
    f->kind = t ? VMIG_VEC_SPARSE : VMIG_VEC_DENSE;
    f->metric = (enum vmig_metric)m;
    if (f->kind == VMIG_VEC_DENSE) {
        if ((rc = get_int(r, v, "dim", 1, 1, 1 << 20, &dim))) return rc;
        f->dim = (uint32_t)dim;
    } else if (json_object_get(v, "dim") && !json_is_null(json_object_get(v, "dim"))) {
        return bad(r, "dim", "a SPARSE_FLOAT_VECTOR has no dim");
    }
    if ((rc = get_enum(r, v, "source_datatype", 0, datatype_names, 3, &dt))) return rc;
    f->src_datatype = (enum vmig_datatype)dt;
    return get_hnsw(r, v, &f->hnsw_m, &f->hnsw_ef);
}

static enum vmig_code plan_scalar_read(struct rd *r, json_t *v, struct vmig_plan_scalar *s)
{
    static const char *const keys[] = {"key",          "field",        "type",     "element_type",
                                       "max_capacity", "max_length",   "nullable", "default",
                                       "index",        "qdrant_index", NULL};
    char w[32];
    enum vmig_code rc;
    json_int_t n;
    if (!json_is_object(v)) return bad(r, "", "must be an object");
    memset(s, 0, sizeof *s);
    if ((rc = check_keys(r, v, keys)) || (rc = get_str(r, v, "key", 1, s->src, sizeof s->src)) ||
        (rc = get_str(r, v, "field", 1, s->dst, sizeof s->dst)) ||
        (rc = get_str(r, v, "type", 1, w, sizeof w)))
        return rc;
    if (vmig_scalar_type_parse(w, strlen(w), &s->type))
        return bad(r, "type", "must be BOOL, INT64, DOUBLE, VARCHAR, ARRAY or JSON");
    if (s->type == VMIG_SC_ARRAY) {
        if ((rc = get_str(r, v, "element_type", 1, w, sizeof w))) return rc;
        if (vmig_scalar_type_parse(w, strlen(w), &s->elem) || s->elem == VMIG_SC_ARRAY ||
            s->elem == VMIG_SC_JSON)
            return bad(r, "element_type", "must be BOOL, INT64, DOUBLE or VARCHAR");
        if ((rc = get_int(r, v, "max_capacity", 1, 1, VMIG_ARRAY_MAX_CAPACITY, &n))) return rc;
        s->max_capacity = (uint32_t)n;
    }
    if (s->type == VMIG_SC_VARCHAR || s->elem == VMIG_SC_VARCHAR) {
        if ((rc = get_int(r, v, "max_length", 1, 1, VMIG_VARCHAR_MAX, &n))) return rc;
        s->max_length = (uint32_t)n;
    }
    if ((rc = get_bool(r, v, "nullable", &s->nullable))) return rc;
    json_t *d = json_object_get(v, "default");
    if (d && !json_is_null(d)) {
        s->has_default = 1;
        if (json_is_string(d) && s->type == VMIG_SC_VARCHAR) {
            if (json_string_length(d) >= sizeof s->default_json)
                return bad(r, "default", "is too long");
            snprintf(s->default_json, sizeof s->default_json, "%s", json_string_value(d));
        } else {
            char *t = json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
            if (!t || strlen(t) >= sizeof s->default_json) {
                free(t);
                return bad(r, "default", "is too long");
            }
            snprintf(s->default_json, sizeof s->default_json, "%s", t);
            free(t);
        }
    }
    snprintf(w, sizeof w, "NONE");
    if ((rc = get_str(r, v, "index", 0, w, sizeof w))) return rc;
    if (vmig_scalar_index_parse(w, strlen(w), &s->index))
        return bad(r, "index", "must be NONE, INVERTED, STL_SORT, BITMAP, Trie or AUTOINDEX");
    json_t *q = json_object_get(v, "qdrant_index");
    if (q && !json_is_null(q) &&
        (!json_is_string(q) || vmig_payload_index_parse(json_string_value(q), &s->from_index)))
        return bad(r, "qdrant_index",
                   "must be null or a Qdrant payload index type (keyword, integer, ...)");
    return VMIG_OK;
}

static enum vmig_code plan_coll_read(struct rd *r, json_t *c, struct vmig_plan_coll *pc)
{
    static const char *const keys[] = {"source",
                                       "target",
                                       "description",
                                       "primary_key",
                                       "vectors",
                                       "skipped_vectors",
                                       "typed_fields",
                                       "dynamic_field",
                                       "partition_key",
                                       "num_partitions",
                                       "payload_misfit",
                                       "auto_id",
                                       "null_values",
                                       "payload_conflict",
                                       "payload_prefix",
                                       "index",
                                       "notes",
                                       "source_count",
                                       "target_exists",
                                       "error",
                                       "profile", /* read by vmig_plan_from_json() */
                                       NULL};
    static const char *const pk_keys[] = {"name", "type", "max_length", NULL};
    static const char *const pk_types[] = {"Int64", "VarChar"};
    static const char *const err_keys[] = {"code", "message", "field", "fix",
                                           "hint", "fix_arg", NULL};
    enum vmig_code rc;
    json_t *a, *v;
    size_t i, pl = strlen(r->path);
    int x, fixed;
    json_int_t n;

    if (!json_is_object(c)) return bad(r, "", "must be an object");
    memset(pc, 0, sizeof *pc);
    snprintf(pc->conflict_prefix, sizeof pc->conflict_prefix, "payload_");
    if ((rc = check_keys(r, c, keys)) ||
        (rc = get_str(r, c, "source", 1, pc->source, sizeof pc->source)) ||
        (rc = get_str(r, c, "target", 1, pc->target, sizeof pc->target)) ||
        (rc = get_str(r, c, "description", 0, pc->description, sizeof pc->description)))
        return rc;

    a = json_object_get(c, "primary_key");
    if (!json_is_object(a)) return bad(r, "primary_key", "must be an object");
    snprintf(r->path + pl, sizeof r->path - pl, ".primary_key");
    x = 0;
    if ((rc = check_keys(r, a, pk_keys)) ||
        (rc = get_str(r, a, "name", 1, pc->pk_name, sizeof pc->pk_name)) ||
        (rc = GET_ENUM(r, a, "type", 1, pk_types, &x)))
        return rc;
    pc->pk_type = x ? VMIG_PK_VARCHAR : VMIG_PK_INT64;
    if (pc->pk_type == VMIG_PK_VARCHAR) {
        if ((rc = get_int(r, a, "max_length", 1, 1, VMIG_VARCHAR_MAX, &n))) return rc;
        pc->pk_max_length = (uint32_t)n;
    } else if (json_object_get(a, "max_length") &&
               !json_is_null(json_object_get(a, "max_length"))) {
        return bad(r, "max_length", "only a VarChar primary key has a max_length");
    }
    r->path[pl] = '\0';

    a = json_object_get(c, "vectors");
    if (!json_is_array(a)) return bad(r, "vectors", "must be an array");
    if (json_array_size(a) > VMIG_MAX_VECTOR_FIELDS) {
        char what[64];
        snprintf(what, sizeof what, "more than %d vector fields", VMIG_MAX_VECTOR_FIELDS);
        return bad(r, "vectors", what);
    }
    json_array_foreach(a, i, v)
    {
        snprintf(r->path + pl, sizeof r->path - pl, ".vectors[%zu]", i);
        if ((rc = plan_field_read(r, v, &pc->field[i]))) return rc;
        pc->nfields++;
    }
    r->path[pl] = '\0';

    a = json_object_get(c, "skipped_vectors");
    if (a && !json_is_array(a)) return bad(r, "skipped_vectors", "must be an array");
    if (a && json_array_size(a) > VMIG_SRC_MAX_VECTORS)
        return bad(r, "skipped_vectors", "too many");
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) >= sizeof pc->skipped[0])
            return bad(r, "skipped_vectors", "must hold vector names (strings)");
        snprintf(pc->skipped[pc->nskipped++], sizeof pc->skipped[0], "%s", json_string_value(v));
    }

    /* fixed by vmigrate: present only to be shown; refuse a change rather than ignore it */
    fixed = 1;
    if ((rc = get_bool(r, c, "dynamic_field", &fixed))) return rc;
    if (!fixed)
        return bad(r, "dynamic_field", "must be true (the payload goes to the dynamic field)");
    a = json_object_get(c, "typed_fields");
    if (a && !json_is_array(a)) return bad(r, "typed_fields", "must be an array");
    if (a && json_array_size(a) > VMIG_MAX_SCALAR_FIELDS) {
        char what[64];
        snprintf(what, sizeof what, "more than %d typed fields", VMIG_MAX_SCALAR_FIELDS);
        return bad(r, "typed_fields", what);
    }
    json_array_foreach(a, i, v)
    {
        snprintf(r->path + pl, sizeof r->path - pl, ".typed_fields[%zu]", i);
        if ((rc = plan_scalar_read(r, v, &pc->scalar[i]))) return rc;
        pc->nscalars++;
    }
    r->path[pl] = '\0';
    a = json_object_get(c, "partition_key");
    if (json_is_string(a)) {
        struct vmig_plan_scalar *hit = NULL;
        for (size_t k = 0; k < pc->nscalars; k++)
            if (!strcmp(pc->scalar[k].dst, json_string_value(a))) hit = &pc->scalar[k];
        if (!hit)
            return bad(r, "partition_key", "must name one of typed_fields[].field, or be false");
        hit->partition_key = 1;
        pc->num_partitions = 16;
        if ((rc = get_int(r, c, "num_partitions", 0, 1, 1024, &n))) return rc;
        if (json_object_get(c, "num_partitions")) pc->num_partitions = (uint32_t)n;
    } else if (a && !json_is_false(a) && !json_is_null(a)) {
        return bad(r, "partition_key", "must be the name of a typed field, or false");
    }
    a = json_object_get(c, "payload_misfit");
    if (a) {
        if (!json_is_string(a) || vmig_misfit_policy_parse(json_string_value(a), &pc->misfit))
            return bad(r, "payload_misfit", "must be \"dynamic\", \"reject\" or \"fail\"");
    }
    fixed = 0;
    if ((rc = get_bool(r, c, "auto_id", &fixed))) return rc;
    if (fixed) return bad(r, "auto_id", "must be false (the Qdrant point ids are kept)");

    x = 0;
    if ((rc = get_word(r, c, "null_values", null_words, &x))) return rc;
    pc->null_policy = (enum vmig_null_policy)x;
    x = 0;
    if ((rc = get_word(r, c, "payload_conflict", conflict_words, &x))) return rc;
    pc->conflict_policy = (enum vmig_conflict_policy)x;
    if ((rc = get_str(r, c, "payload_prefix", 0, pc->conflict_prefix, sizeof pc->conflict_prefix)))
        return rc;
    x = 0;
    if ((rc = get_word(r, c, "index", index_words, &x))) return rc;
    pc->index = (enum vmig_index_kind)x;

    a = json_object_get(c, "notes");
    if (a && !json_is_array(a)) return bad(r, "notes", "must be an array");
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v)) return bad(r, "notes", "must hold strings");
        if (pc->nnotes < VMIG_PLAN_NOTES)
            snprintf(pc->notes[pc->nnotes++], sizeof pc->notes[0], "%s", json_string_value(v));
    }
    n = 0;
    if ((rc = get_int(r, c, "source_count", 0, 0, INT64_MAX, &n))) return rc;
    pc->source_count = (uint64_t)n;
    if ((rc = get_bool(r, c, "target_exists", &pc->target_exists))) return rc;

    a = json_object_get(c, "error");
    vmig_err_clear(&pc->refusal);
    if (a && !json_is_null(a)) {
        char code[32], fix[32] = "", hint[256], arg[VMIG_ERR_FIX_ARG_MAX] = "";
        if (!json_is_object(a)) return bad(r, "error", "must be null or an object");
        snprintf(r->path + pl, sizeof r->path - pl, ".error");
        if ((rc = check_keys(r, a, err_keys)) ||
            (rc = get_str(r, a, "code", 1, code, sizeof code)) ||
            (rc = get_str(r, a, "message", 0, pc->refusal.msg, sizeof pc->refusal.msg)) ||
            (rc = get_str(r, a, "field", 0, pc->refusal.field, sizeof pc->refusal.field)) ||
            (rc = get_str(r, a, "fix", 0, fix, sizeof fix)) ||
            (rc = get_str(r, a, "hint", 0, hint, sizeof hint)) ||
            (rc = get_str(r, a, "fix_arg", 0, arg, sizeof arg)))
            return rc;
        pc->refusal.code = vmig_code_from_json_name(code);
        vmig_err_fix(&pc->refusal, vmig_fix_from_name(fix), arg); /* the hint is shown only */
        vmig_err_at(&pc->refusal, pc->source, NULL, NULL); /* a refusal is about its collection */
        r->path[pl] = '\0';
    }
    return VMIG_OK;
}

void vmig_plan_release(struct vmig_plan *p)
{
    if (p->profile)
        for (size_t i = 0; i < p->n; i++)
            free(p->profile[i]);
    free(p->profile);
    p->profile = NULL;
    free(p->coll);
    p->coll = NULL;
    p->n = 0;
}

static json_t *parse(const char *text, const char *what, struct vmig_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        vmig_err_set(err, VMIG_E_USAGE, "cannot read %s: %s at line %d, column %d", what, je.text,
                     je.line, je.column);
    return root;
}

enum vmig_code vmig_plan_from_json(const char *text, struct vmig_plan *out, struct vmig_err *err)
{
    static const char *const keys[] = {"version", "collections", "target_server", NULL};
    struct rd r = {err, ""};
    enum vmig_code rc = VMIG_OK;
    json_t *root, *arr, *c;
    json_int_t version = 1;
    size_t i;

    memset(out, 0, sizeof *out); /* target_server is not read back: the target is probed again */
    if (!(root = parse(text, "plan", err))) return VMIG_E_USAGE;
    if (!json_is_object(root)) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "plan: must be a JSON object");
        goto out;
    }
    if ((rc = check_keys(&r, root, keys)) || (rc = get_int(&r, root, "version", 0, 1, 1, &version)))
        goto out;
    arr = json_object_get(root, "collections");
    if (!json_is_array(arr)) {
        rc = bad(&r, "collections", "must be an array");
        goto out;
    }
    out->coll = xcalloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof *out->coll);
    json_array_foreach(arr, i, c)
    {
        snprintf(r.path, sizeof r.path, "collections[%zu]", i);
        if ((rc = plan_coll_read(&r, c, &out->coll[i]))) goto out;
        out->n++;
        /* a collection listed twice would be copied twice into one target: name both
         * entries (the pair check of targets would only say "would both become") */
        for (size_t k = 0; k < i; k++)
            if (strcmp(out->coll[k].source, out->coll[i].source) == 0) {
                rc = vmig_err_set(err, VMIG_E_USAGE,
                                  "%s.source: collection '%.200s' is listed twice (also "
                                  "collections[%zu]); drop the duplicate",
                                  r.path, out->coll[i].source, k);
                goto out;
            }
        json_t *pj = json_object_get(c, "profile");
        if (!pj || json_is_null(pj)) continue;
        if (!out->profile) out->profile = xcalloc(json_array_size(arr), sizeof *out->profile);
        out->profile[i] = xmalloc(sizeof *out->profile[i]);
        snprintf(r.path + strlen(r.path), sizeof r.path - strlen(r.path), ".profile");
        if ((rc = vmig_profile_read_json(pj, r.path, out->profile[i], err))) goto out;
    }
out:
    json_decref(root);
    return rc;
}

/* ---- the source collection ---------------------------------------------------------- */

char *vmig_src_coll_to_json(const struct vmig_src_coll *src, int pretty)
{
    json_t *c = json_object(), *vecs = json_array();
    json_object_set_new(c, "name", jstr(src->name));
    json_object_set_new(c, "unnamed", json_boolean(src->unnamed));
    for (size_t i = 0; i < src->nvec; i++) {
        const struct vmig_src_vector *v = &src->vec[i];
        json_t *j = json_object();
        json_object_set_new(j, "name", jstr(v->name));
        if (v->sparse) {
            json_object_set_new(j, "sparse", json_true());
            if (v->sparse_idf) json_object_set_new(j, "modifier", json_string("idf"));
        } else {
            json_object_set_new(j, "size", json_integer(v->size));
            json_object_set_new(j, "distance", json_string(NAME_OF(distance_names, v->distance)));
        }
        json_object_set_new(j, "datatype",
                            jstr(v->datatype == VMIG_DT_OTHER && v->datatype_name[0]
                                     ? v->datatype_name
                                     : vmig_datatype_name(v->datatype)));
        if (v->multivector) json_object_set_new(j, "multivector", json_true());
        if (v->hnsw_m >= 0 || v->hnsw_ef >= 0)
            json_object_set_new(j, "hnsw", hnsw_json(v->hnsw_m, v->hnsw_ef));
        json_array_append_new(vecs, j);
    }
    json_object_set_new(c, "vectors", vecs);
    if (src->too_many_vectors) json_object_set_new(c, "too_many_vectors", json_true());
    if (src->hnsw_m >= 0 || src->hnsw_ef >= 0)
        json_object_set_new(c, "hnsw", hnsw_json(src->hnsw_m, src->hnsw_ef));
    json_object_set_new(c, "status", jstr(src->status));
    json_object_set_new(c, "points_approx", json_integer((json_int_t)src->points_approx));
    json_object_set_new(c, "ids_probed", json_boolean(src->ids_probed));
    json_object_set_new(c, "has_big_ids", json_boolean(src->has_big_ids));
    json_object_set_new(c, "has_uuids", json_boolean(src->has_uuids));
    return dump(c, pretty);
}

static enum vmig_code src_vector_read(struct rd *r, json_t *j, struct vmig_src_vector *v)
{
    static const char *const keys[] = {"name",        "sparse", "size",     "distance", "datatype",
                                       "multivector", "hnsw",   "modifier", NULL};
    static const char *const modifiers[] = {"none", "idf"};
    enum vmig_code rc;
    json_int_t size = 0;
    int d = 0, mod = 0;
    if (!json_is_object(j)) return bad(r, "", "must be an object");
    memset(v, 0, sizeof *v);
    v->hnsw_m = v->hnsw_ef = -1;
    snprintf(v->datatype_name, sizeof v->datatype_name, "float32");
    if ((rc = check_keys(r, j, keys)) || (rc = get_str(r, j, "name", 1, v->name, sizeof v->name)) ||
        (rc = get_bool(r, j, "sparse", &v->sparse)) ||
        (rc = get_bool(r, j, "multivector", &v->multivector)) ||
        (rc = get_str(r, j, "datatype", 0, v->datatype_name, sizeof v->datatype_name)) ||
        (rc = GET_ENUM(r, j, "modifier", 0, modifiers, &mod)) ||
        (rc = get_hnsw(r, j, &v->hnsw_m, &v->hnsw_ef)))
        return rc;
    v->sparse_idf = mod == 1;
    int dt = LOOKUP(datatype_names, v->datatype_name);
    v->datatype = dt < 0 || dt == VMIG_DT_OTHER ? VMIG_DT_OTHER : (enum vmig_datatype)dt;
    if (!v->sparse) {
        /* Qdrant allows 1..65536; the mapping refuses what Milvus cannot take */
        if ((rc = get_int(r, j, "size", 1, 0, UINT32_MAX, &size)) ||
            (rc = get_enum(r, j, "distance", 1, distance_names + 1, 4, &d)))
            return rc;
        v->size = (uint32_t)size;
        v->distance = (enum vmig_distance)(d + 1);
    }
    return VMIG_OK;
}

enum vmig_code vmig_src_coll_from_json(const char *text, struct vmig_src_coll *out,
                                       struct vmig_err *err)
{
    static const char *const keys[] = {
        "name",          "unnamed",    "vectors",     "too_many_vectors", "hnsw", "status",
        "points_approx", "ids_probed", "has_big_ids", "has_uuids",        NULL};
    struct rd r = {err, ""};
    enum vmig_code rc = VMIG_OK;
    json_t *root, *arr, *v;
    json_int_t n = 0;
    size_t i;
    int unnamed = -1;

    memset(out, 0, sizeof *out);
    out->hnsw_m = out->hnsw_ef = -1;
    if (!(root = parse(text, "source collection", err))) return VMIG_E_USAGE;
    if (!json_is_object(root)) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "source collection: must be a JSON object");
        goto out;
    }
    if ((rc = check_keys(&r, root, keys)) ||
        (rc = get_str(&r, root, "name", 1, out->name, sizeof out->name)) ||
        (rc = get_bool(&r, root, "unnamed", &unnamed)) ||
        (rc = get_bool(&r, root, "too_many_vectors", &out->too_many_vectors)) ||
        (rc = get_hnsw(&r, root, &out->hnsw_m, &out->hnsw_ef)) ||
        (rc = get_str(&r, root, "status", 0, out->status, sizeof out->status)) ||
        (rc = get_int(&r, root, "points_approx", 0, 0, INT64_MAX, &n)) ||
        (rc = get_bool(&r, root, "ids_probed", &out->ids_probed)) ||
        (rc = get_bool(&r, root, "has_big_ids", &out->has_big_ids)) ||
        (rc = get_bool(&r, root, "has_uuids", &out->has_uuids)))
        goto out;
    out->points_approx = (uint64_t)n;
    arr = json_object_get(root, "vectors");
    if (!json_is_array(arr)) {
        rc = bad(&r, "vectors", "must be an array");
        goto out;
    }
    if (json_array_size(arr) > VMIG_SRC_MAX_VECTORS) {
        char what[64];
        snprintf(what, sizeof what, "more than %d vectors", VMIG_SRC_MAX_VECTORS);
        rc = bad(&r, "vectors", what);
        goto out;
    }
    json_array_foreach(arr, i, v)
    {
        snprintf(r.path, sizeof r.path, "vectors[%zu]", i);
        if ((rc = src_vector_read(&r, v, &out->vec[i]))) goto out;
        out->nvec++;
    }
    out->unnamed =
        unnamed >= 0 ? unnamed : out->nvec == 1 && !out->vec[0].name[0] && !out->vec[0].sparse;
out:
    json_decref(root);
    return rc;
}

/*
 * profile_json.c - the payload profile's faces: its JSON form (the "profile" of a
 * plan collection, docs/user/mapping.md; written and read back so a plan file
 * round-trips) and the readable table `vmigrate plan --profile` prints. Pure, like
 * the rest of the mapping stage; the facts themselves are made in profile.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping_int.h"
#include "util/buf.h"
#include "vmig/profile.h"

static const char *const type_words[VMIG_JT_COUNT] = {"null",   "bool",  "int",   "float",
                                                      "string", "array", "object"};

const char *vmig_profile_sample_name(const struct vmig_profile *p, char *buf, size_t n)
{
    if (p->full)
        snprintf(buf, n, "full");
    else
        snprintf(buf, n, "first %llu", (unsigned long long)p->points);
    return buf;
}

static json_t *types_json(unsigned bits)
{
    json_t *a = json_array();
    for (int t = 0; t < VMIG_JT_COUNT; t++)
        if (bits & 1u << t) json_array_append_new(a, json_string(type_words[t]));
    return a;
}

#define JU(x) json_integer((json_int_t)(x))

json_t *vmig_profile_json(const struct vmig_profile *p)
{
    char how[32];
    json_t *o = json_object(), *keys = json_object();
    json_object_set_new(o, "sample", json_string(vmig_profile_sample_name(p, how, sizeof how)));
    json_object_set_new(o, "full", json_boolean(p->full));
    json_object_set_new(o, "points", JU(p->points));
    json_object_set_new(o, "total", JU(p->total));
    json_object_set_new(o, "payload_bytes", JU(p->payload_bytes));
    json_object_set_new(o, "vector_bytes", JU(p->vector_bytes));
    json_object_set_new(o, "sparse_bytes", JU(p->sparse_bytes));
    json_object_set_new(o, "wire_bytes", JU(p->wire_bytes));
    json_object_set_new(o, "read_s", json_real(p->read_s));
    json_object_set_new(o, "other_keys", JU(p->other_keys));
    json_object_set_new(o, "malformed", JU(p->malformed));
    for (size_t i = 0; i < p->nkeys; i++) {
        const struct vmig_profile_key *k = &p->key[i];
        json_t *j = json_object();
        json_object_set_new(j, "types", types_json(k->types));
        json_object_set_new(j, "present", JU(k->present));
        json_object_set_new(j, "nulls", JU(k->nulls));
        json_object_set_new(j, "str_max", JU(k->str_max));
        if (k->has_int) {
            json_object_set_new(j, "int_min", json_integer(k->int_min));
            json_object_set_new(j, "int_max", json_integer(k->int_max));
        }
        json_object_set_new(j, "int_big", JU(k->int_big));
        json_object_set_new(j, "elem_types", types_json(k->elem_types));
        json_object_set_new(j, "arr_max", JU(k->arr_max));
        json_object_set_new(j, "depth", JU(k->depth));
        json_object_set_new(j, "distinct", JU(k->distinct));
        json_object_set_new(j, "distinct_over", json_boolean(k->distinct_over));
        json_object_set_new(j, "bytes", JU(k->bytes));
        json_object_set_new(keys, k->key, j);
    }
    json_object_set_new(o, "keys", keys);
    const struct vmig_estimate *e = &p->est;
    json_object_set_new(
        o, "estimate",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "read_bytes", (json_int_t)e->read_bytes,
                  "write_bytes", (json_int_t)e->write_bytes, "vector_bytes",
                  (json_int_t)e->vector_bytes, "scalar_bytes", (json_int_t)e->scalar_bytes,
                  "meta_bytes", (json_int_t)e->meta_bytes, "read_pps", e->read_pps, "copy_s",
                  e->copy_s));
    return o;
}

char *vmig_profile_to_json(const struct vmig_profile *p, int pretty)
{
    json_t *o = vmig_profile_json(p);
    char *s = json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(o);
    if (!s) abort(); /* out of memory only (alloc.h) */
    return s;
}

/* ---- reading ------------------------------------------------------------------ */

struct prd {
    struct vmig_err *err;
    const char *path;
};

static enum vmig_code pbad(struct prd *r, const char *k1, const char *k2, const char *what)
{
    return vmig_err_set(r->err, VMIG_E_USAGE, "%s%s%s%s%s: %s", r->path, r->path[0] ? "." : "", k1,
                        k2 ? "." : "", k2 ? k2 : "", what);
}

static enum vmig_code known(struct prd *r, json_t *o, const char *const *allowed, const char *at)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, k) != 0)
            a++;
        if (!*a) return pbad(r, at ? at : k, at ? k : NULL, "unknown key");
    }
    return VMIG_OK;
}

/* A non-negative number, 0 when absent: an integer into *u, or (u NULL) any number into *d. */
static enum vmig_code num(struct prd *r, json_t *o, const char *k, const char *at, uint64_t *u,
                          double *d)
{
    json_t *v = json_object_get(o, k);
    if (u)
        *u = 0;
    else
        *d = 0;
    if (!v) return VMIG_OK;
    if (!(u ? json_is_integer(v) : json_is_number(v)) || json_number_value(v) < 0)
        return pbad(r, at ? at : k, at ? k : NULL,
                    u ? "must be a non-negative integer" : "must be a non-negative number");
    if (u)
        *u = (uint64_t)json_integer_value(v);
    else
        *d = json_number_value(v);
    return VMIG_OK;
}
#define count(r, o, k, at, u) num(r, o, k, at, u, NULL)
#define real(r, o, k, at, d) num(r, o, k, at, NULL, d)

static enum vmig_code types_read(struct prd *r, json_t *o, const char *k, const char *at,
                                 unsigned *bits)
{
    json_t *a = json_object_get(o, k), *v;
    size_t i;
    *bits = 0;
    if (!a) return VMIG_OK;
    if (!json_is_array(a)) return pbad(r, at, k, "must be an array of type names");
    json_array_foreach(a, i, v)
    {
        int t = 0;
        while (t < VMIG_JT_COUNT &&
               !(json_is_string(v) && !strcmp(type_words[t], json_string_value(v))))
            t++;
        if (t == VMIG_JT_COUNT)
            return pbad(r, at, k, "must hold null, bool, int, float, string, array or object");
        *bits |= 1u << t;
    }
    return VMIG_OK;
}

static enum vmig_code key_read(struct prd *r, const char *name, json_t *j,
                               struct vmig_profile_key *k)
{
    static const char *const keys[] = {"types",   "present",  "nulls",         "str_max", "int_min",
                                       "int_max", "int_big",  "elem_types",    "arr_max", "depth",
                                       "bytes",   "distinct", "distinct_over", NULL};
    uint64_t u;
    enum vmig_code rc;
    if (!json_is_object(j)) return pbad(r, name, NULL, "must be an object");
    if (strlen(name) >= sizeof k->key) return pbad(r, name, NULL, "key too long");
    memset(k, 0, sizeof *k);
    memcpy(k->key, name, strlen(name) + 1);
    if ((rc = known(r, j, keys, name)) || (rc = types_read(r, j, "types", name, &k->types)) ||
        (rc = types_read(r, j, "elem_types", name, &k->elem_types)) ||
        (rc = count(r, j, "present", name, &k->present)) ||
        (rc = count(r, j, "nulls", name, &k->nulls)) ||
        (rc = count(r, j, "int_big", name, &k->int_big)) ||
        (rc = count(r, j, "bytes", name, &k->bytes)))
        return rc;
    if ((rc = count(r, j, "str_max", name, &u))) return rc;
    k->str_max = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
    if ((rc = count(r, j, "arr_max", name, &u))) return rc;
    k->arr_max = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
    if ((rc = count(r, j, "depth", name, &u))) return rc;
    k->depth = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
    if ((rc = count(r, j, "distinct", name, &u))) return rc;
    k->distinct = u > VMIG_PROFILE_DISTINCT ? VMIG_PROFILE_DISTINCT : (uint32_t)u;
    json_t *over = json_object_get(j, "distinct_over");
    if (over && !json_is_boolean(over)) return pbad(r, name, NULL, "distinct_over must be a bool");
    k->distinct_over = json_is_true(over);
    json_t *lo = json_object_get(j, "int_min"), *hi = json_object_get(j, "int_max");
    if (!lo != !hi || (lo && (!json_is_integer(lo) || !json_is_integer(hi))))
        return pbad(r, name, NULL, "int_min and int_max must be integers, given together");
    if (lo) {
        k->has_int = 1;
        k->int_min = json_integer_value(lo);
        k->int_max = json_integer_value(hi);
    }
    return VMIG_OK;
}

enum vmig_code vmig_profile_read_json(json_t *o, const char *path, struct vmig_profile *p,
                                      struct vmig_err *err)
{
    static const char *const keys[] = {
        "sample",       "full",         "points",     "total",  "payload_bytes",
        "vector_bytes", "sparse_bytes", "wire_bytes", "read_s", "other_keys",
        "malformed",    "keys",         "estimate",   NULL};
    static const char *const est_keys[] = {"read_bytes",   "write_bytes", "vector_bytes",
                                           "scalar_bytes", "meta_bytes",  "read_pps",
                                           "copy_s",       NULL};
    struct prd r = {err, path};
    struct vmig_estimate *e = &p->est;
    enum vmig_code rc;
    vmig_profile_init(p);
    if (!json_is_object(o)) return vmig_err_set(err, VMIG_E_USAGE, "%s: must be an object", path);
    json_t *full = json_object_get(o, "full"), *ks = json_object_get(o, "keys"), *v;
    if (full && !json_is_boolean(full)) return pbad(&r, "full", NULL, "must be true or false");
    p->full = full && json_is_true(full);
    if ((rc = known(&r, o, keys, NULL)) || (rc = count(&r, o, "points", NULL, &p->points)) ||
        (rc = count(&r, o, "total", NULL, &p->total)) ||
        (rc = count(&r, o, "payload_bytes", NULL, &p->payload_bytes)) ||
        (rc = count(&r, o, "vector_bytes", NULL, &p->vector_bytes)) ||
        (rc = count(&r, o, "sparse_bytes", NULL, &p->sparse_bytes)) ||
        (rc = count(&r, o, "wire_bytes", NULL, &p->wire_bytes)) ||
        (rc = real(&r, o, "read_s", NULL, &p->read_s)) ||
        (rc = count(&r, o, "other_keys", NULL, &p->other_keys)) ||
        (rc = count(&r, o, "malformed", NULL, &p->malformed)))
        return rc;
    if (ks && !json_is_object(ks)) return pbad(&r, "keys", NULL, "must be an object");
    if (ks && json_object_size(ks) > VMIG_PROFILE_KEYS)
        return pbad(&r, "keys", NULL, "more keys than a profile tracks (256)");
    const char *name;
    char kpath[160];
    snprintf(kpath, sizeof kpath, "%s%skeys", path, path[0] ? "." : "");
    struct prd kr = {err, kpath};
    json_object_foreach(ks, name, v)
    {
        if ((rc = key_read(&kr, name, v, &p->key[p->nkeys]))) return rc;
        p->nkeys++;
    }
    json_t *eo = json_object_get(o, "estimate");
    if (!eo) return VMIG_OK;
    if (!json_is_object(eo)) return pbad(&r, "estimate", NULL, "must be an object");
    if ((rc = known(&r, eo, est_keys, "estimate")) ||
        (rc = count(&r, eo, "read_bytes", "estimate", &e->read_bytes)) ||
        (rc = count(&r, eo, "write_bytes", "estimate", &e->write_bytes)) ||
        (rc = count(&r, eo, "vector_bytes", "estimate", &e->vector_bytes)) ||
        (rc = count(&r, eo, "scalar_bytes", "estimate", &e->scalar_bytes)) ||
        (rc = count(&r, eo, "meta_bytes", "estimate", &e->meta_bytes)) ||
        (rc = real(&r, eo, "read_pps", "estimate", &e->read_pps)) ||
        (rc = real(&r, eo, "copy_s", "estimate", &e->copy_s)))
        return rc;
    return VMIG_OK;
}

enum vmig_code vmig_profile_from_json(const char *text, struct vmig_profile *out,
                                      struct vmig_err *err)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        vmig_profile_init(out);
        return vmig_err_set(err, VMIG_E_USAGE, "cannot read profile: %s at line %d, column %d",
                            je.text, je.line, je.column);
    }
    enum vmig_code rc = vmig_profile_read_json(o, "profile", out, err);
    json_decref(o);
    return rc;
}

/* ---- the table ------------------------------------------------------------------ */

static void size_str(uint64_t b, char *out, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)b;
    int i = 0;
    while (x >= 1024 && i < 4)
        x /= 1024, i++;
    if (i == 0)
        snprintf(out, n, "%llu B", (unsigned long long)b);
    else
        snprintf(out, n, "%.1f %s", x, u[i]);
}

static void types_str(unsigned bits, char *out, size_t n)
{
    out[0] = '\0';
    for (int t = 0; t < VMIG_JT_COUNT; t++)
        if (bits & 1u << t)
            snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "," : "", type_words[t]);
    if (!out[0]) snprintf(out, n, "-");
}

static void key_line(const struct vmig_profile *p, const struct vmig_profile_key *k,
                     struct vmig_buf *out)
{
    char name[28], types[64], elem[64], range[64] = "-", smax[16] = "-", amax[16] = "-";
    vmig_name_shorten(k->key, name, sizeof name);
    types_str(k->types, types, sizeof types);
    if (k->types & 1u << VMIG_JT_ARRAY) {
        types_str(k->elem_types, elem, sizeof elem);
        snprintf(types + strlen(types), sizeof types - strlen(types), " [%s]", elem);
    }
    if (k->has_int)
        snprintf(range, sizeof range, "%lld..%lld%s", (long long)k->int_min, (long long)k->int_max,
                 k->int_big ? " +big" : "");
    else if (k->int_big)
        snprintf(range, sizeof range, "big only");
    if (k->str_max) snprintf(smax, sizeof smax, "%u", k->str_max);
    if (k->types & 1u << VMIG_JT_ARRAY) snprintf(amax, sizeof amax, "%u", k->arr_max);
    double share = p->points ? 100.0 * (double)k->present / (double)p->points : 0;
    char dist[16] = "-";
    if (k->distinct_over)
        snprintf(dist, sizeof dist, ">%d", VMIG_PROFILE_DISTINCT);
    else if (k->distinct)
        snprintf(dist, sizeof dist, "%u", k->distinct);
    vmig_buf_addf(out, "    %-26s %-30s %6.1f%% %7llu %8s %-24s %7s %5u %8s\n", name, types, share,
                  (unsigned long long)k->nulls, smax, range, amax, k->depth, dist);
}

void vmig_profile_describe(const struct vmig_profile *p, struct vmig_buf *out)
{
    char how[32], a[32], b[32], c[32], d[32], e[32];
    const struct vmig_estimate *es = &p->est;
    vmig_buf_addf(out, "  payload profile (%s): %llu of %llu points read in %.2f s, %zu keys\n",
                  vmig_profile_sample_name(p, how, sizeof how), (unsigned long long)p->points,
                  (unsigned long long)p->total, p->read_s, p->nkeys);
    if (p->nkeys)
        vmig_buf_addf(out, "    %-26s %-30s %7s %7s %8s %-24s %7s %5s %8s\n", "key", "types",
                      "present", "nulls", "str_max", "int range", "arr_max", "depth", "distinct");
    for (size_t i = 0; i < p->nkeys; i++)
        key_line(p, &p->key[i], out);
    if (p->other_keys)
        vmig_buf_addf(out,
                      "    (%llu more key occurrences not tracked: over %d keys or too long)\n",
                      (unsigned long long)p->other_keys, VMIG_PROFILE_KEYS);
    if (p->malformed)
        vmig_buf_addf(out, "    (%llu payloads were not JSON objects and were skipped)\n",
                      (unsigned long long)p->malformed);
    size_str(es->read_bytes, a, sizeof a);
    size_str(es->write_bytes, b, sizeof b);
    size_str(es->vector_bytes, c, sizeof c);
    size_str(es->scalar_bytes, d, sizeof d);
    size_str(es->meta_bytes, e, sizeof e);
    vmig_buf_addf(out,
                  "  estimate: read %s, write %s; target storage: vectors %s, scalars %s, "
                  "$meta %s\n",
                  a, b, c, d, e);
    if (es->read_pps > 0)
        vmig_buf_addf(out,
                      "  estimate: copy about %.0f s at %.0f points/s (the read rate measured)\n",
                      es->copy_s, es->read_pps);
}

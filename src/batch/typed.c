/*
 * typed.c - moves the plan's typed payload keys out of a row's payload JSON into
 * the batch's scalar columns, as the row is closed (vmig_batch_type_row). The
 * payload text left behind keeps every other key byte for byte, so $meta is what
 * it was without the typed keys; a typed value is checked against its field (JSON
 * type, max_length, INT64 range, exact DOUBLE, array element types and capacity).
 *
 * A value that does not fit follows the plan's misfit policy: dynamic (it stays in
 * $meta under its key and the field is null: only a nullable field can be null),
 * reject, or fail. The scanner takes the JSON the source codecs write (compact,
 * valid); on anything else it refuses the row instead of guessing.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "util/datetime.h"
#include "util/json_canon.h"

/* ---- a small scanner over one JSON value ------------------------------------------------ */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* End of the string starting at p (p[0] == '"'), past its closing quote; NULL if cut. */
static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"') return p + 1;
    }
    return NULL;
}

/* End of the value starting at p; NULL when malformed. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;
    do {
        p = skip_ws(p, e);
        if (p >= e) return NULL;
        if (*p == '"') {
            if (!(p = skip_string(p, e))) return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
            continue;
        } else if (*p == '}' || *p == ']') {
            if (!depth) return NULL;
            depth--;
            p++;
        } else if (*p == ',' || *p == ':') {
            if (!depth) return NULL;
            p++;
            continue;
        } else {
            const char *s = p;
            while (p < e && !strchr(",:]} \t\r\n", *p))
                p++;
            if (p == s) return NULL;
        }
    } while (depth > 0);
    return p;
}

/* The JSON string token [p, e) (with its quotes) as UTF-8 into out; -1 when malformed. */
static int unescape(const char *p, const char *e, struct vmig_buf *out)
{
    return vmig_json_unescape(p, (size_t)(e - p), out);
}

/* Does the JSON string token [p, e) (quotes included) spell key? */
static int key_is(const char *p, const char *e, const char *key, struct vmig_buf *tmp)
{
    size_t n = strlen(key);
    if (!memchr(p, '\\', (size_t)(e - p)))
        return (size_t)(e - p) == n + 2 && memcmp(p + 1, key, n) == 0;
    return unescape(p, e, tmp) == 0 && tmp->len == n && memcmp(tmp->p, key, n) == 0;
}

/* ---- one value against its field ------------------------------------------------------- */

static int is_int_token(const char *p, const char *e)
{
    if (p < e && *p == '-') p++;
    if (p == e) return 0;
    for (; p < e; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* A scalar token as the element type t; the bytes to store into out. NULL when it fits,
 * else why not. */
static const char *fit_scalar(enum vmig_scalar_type t, uint32_t max_length, const char *p,
                              const char *e, struct vmig_buf *tmp, struct vmig_buf *out)
{
    char num[64];
    size_t n = (size_t)(e - p);
    switch (t) {
    case VMIG_SC_BOOL: {
        uint8_t v;
        if (n == 4 && !memcmp(p, "true", 4))
            v = 1;
        else if (n == 5 && !memcmp(p, "false", 5))
            v = 0;
        else
            return "is not a bool";
        vmig_buf_add(out, (const char *)&v, 1);
        return NULL;
    }
    case VMIG_SC_INT64: {
        if (!is_int_token(p, e))
            return *p == '"' ? "is a string, not an integer" : "is not an integer";
        if (n >= sizeof num) return "is out of the INT64 range";
        memcpy(num, p, n);
        num[n] = '\0';
        errno = 0;
        long long v = strtoll(num, NULL, 10);
        if (errno == ERANGE) return "is out of the INT64 range";
        int64_t x = v;
        vmig_buf_add(out, (const char *)&x, 8);
        return NULL;
    }
    case VMIG_SC_DOUBLE: {
        if (*p == '"' || *p == 't' || *p == 'f' || *p == 'n' || *p == '{' || *p == '[')
            return "is not a number";
        if (n >= sizeof num) return "is not a number";
        memcpy(num, p, n);
        num[n] = '\0';
        char *end;
        double d = strtod(num, &end);
        if (*end || !isfinite(d)) return "is not a number";
        if (is_int_token(p, e)) { /* an integer must survive the trip through a double */
            errno = 0;
            long long v = strtoll(num, NULL, 10);
            if (errno == ERANGE || fabs(d) > 9007199254740992.0 || (double)v != d)
                return "cannot be held exactly by a DOUBLE";
        }
        vmig_buf_add(out, (const char *)&d, 8);
        return NULL;
    }
    case VMIG_SC_VARCHAR:
        if (*p != '"') return "is not a string";
        if (unescape(p, e, tmp)) return "is not a valid string";
        if (tmp->len > max_length) return "is longer than the field's max_length";
        if (memchr(tmp->p, '\0', tmp->len)) return "holds a NUL character, which VARCHAR cannot";
        vmig_buf_add(out, tmp->p, tmp->len);
        return NULL;
    case VMIG_SC_TIMESTAMPTZ: {
        if (*p != '"') return "is not a datetime string";
        if (unescape(p, e, tmp)) return "is not a valid string";
        int64_t us;
        int r = vmig_datetime_parse(tmp->p, tmp->len, &us);
        if (r < 0) return "is not a datetime Qdrant reads";
        if (r > 0) return "has digits below a microsecond, which TIMESTAMPTZ cannot hold";
        vmig_buf_add(out, (const char *)&us, 8);
        return NULL;
    }
    default:
        return "has no typed form";
    }
}

/* A Qdrant geo point {"lon": x, "lat": y} as WKT "POINT(x y)", the shortest digits
 * that read back as each double. */
static const char *fit_geo(const char *p, const char *e, struct vmig_buf *tmp, struct vmig_buf *out)
{
    double v[2];
    int got = 0;
    if (*p != '{') return "is not a geo point {\"lon\", \"lat\"}";
    const char *q = skip_ws(p + 1, e);
    while (q < e && *q != '}') {
        const char *ke = *q == '"' ? skip_string(q, e) : NULL;
        if (!ke) return "is not valid JSON";
        const char *vs = skip_ws(skip_ws(ke, e) + 1, e), *ve = skip_value(vs, e);
        if (!ve) return "is not valid JSON";
        int which = key_is(q, ke, "lon", tmp) ? 0 : key_is(q, ke, "lat", tmp) ? 1 : -1;
        if (which < 0 || (got & (1 << which)))
            return "is not a geo point {\"lon\", \"lat\"} (another key)";
        size_t len0 = out->len; /* the double is read through out: no buffer per point */
        const char *bad = fit_scalar(VMIG_SC_DOUBLE, 0, vs, ve, tmp, out);
        if (!bad) memcpy(&v[which], out->p + len0, 8);
        vmig_buf_setlen(out, len0);
        if (bad) return "is not a geo point (lon and lat must be numbers)";
        got |= 1 << which;
        q = skip_ws(ve, e);
        if (q < e && *q == ',') q = skip_ws(q + 1, e);
    }
    if (got != 3) return "is not a geo point {\"lon\", \"lat\"}";
    if (v[0] < -180 || v[0] > 180 || v[1] < -90 || v[1] > 90)
        return "is a geo point out of range (lon -180..180, lat -90..90)";
    vmig_buf_adds(out, "POINT(");
    vmig_buf_add_double(out, v[0]);
    vmig_buf_addch(out, ' ');
    vmig_buf_add_double(out, v[1]);
    vmig_buf_addch(out, ')');
    return NULL;
}

/* The value [p, e) for field s: its column bytes into out. NULL when it fits. */
static const char *fit(const struct vmig_plan_scalar *s, const char *p, const char *e,
                       struct vmig_buf *tmp, struct vmig_buf *out)
{
    if (s->type == VMIG_SC_GEOMETRY) return fit_geo(p, e, tmp, out);
    if (s->type == VMIG_SC_JSON) {
        vmig_buf_add(out, p, (size_t)(e - p));
        return NULL;
    }
    if (s->type != VMIG_SC_ARRAY) return fit_scalar(s->type, s->max_length, p, e, tmp, out);
    if (*p != '[') return "is not an array";
    /* check every element, keep the array's text (the target codec encodes it) */
    size_t len0 = out->len; /* elements are checked through out, then cut: no buffer per row */
    const char *q = skip_ws(p + 1, e), *why = NULL;
    uint32_t count = 0;
    while (!why && q < e && *q != ']') {
        const char *qe = skip_value(q, e);
        if (!qe) {
            why = "is not valid JSON";
            break;
        }
        if (*q == 'n')
            why = "holds a null element";
        else if (*q == '[' || *q == '{')
            why = "holds a nested array or object";
        else if (++count > s->max_capacity)
            why = "has more elements than the field's max_capacity";
        else {
            why = fit_scalar(s->elem, s->max_length, q, qe, tmp, out);
            vmig_buf_setlen(out, len0);
        }
        q = skip_ws(qe, e);
        if (q < e && *q == ',') q = skip_ws(q + 1, e);
    }
    if (why) return why;
    vmig_buf_add(out, p, (size_t)(e - p));
    return NULL;
}

/* ---- the row -------------------------------------------------------------------------------- */

struct entry {
    const char *start, *end;   /* the "key":value text */
    const char *vstart, *vend; /* the value */
    int typed;                 /* moved to a column */
    int rename;                /* kept, but under the conflict prefix (its key is a field's name) */
};

static void put_null(struct vmig_batch_scalar *c)
{
    vmig_buf_addch(&c->valid, 0);
}

int vmig_batch_type_row(struct vmig_batch *b, const struct vmig_layout *lay, size_t meta0,
                        char *why, size_t nwhy, const char **key_out)
{
    const char *p = b->meta.p + meta0, *e = b->meta.p + b->meta.len;
    struct entry ent[64];
    int at[VMIG_MAX_SCALAR_FIELDS]; /* each typed field's entry, -1 = its key is missing */
    size_t nent = 0, big = 0;
    int rc = 0;
    *key_out = NULL;
    for (size_t s = 0; s < lay->nscalars; s++)
        at[s] = -1;

    /* the top-level entries */
    p = skip_ws(p, e);
    if (p >= e)
        p = e; /* an empty payload: every key is missing */
    else if (*p != '{')
        return snprintf(why, nwhy, "the payload is not a JSON object"), -1;
    else
        p = skip_ws(p + 1, e);
    while (p < e && *p != '}') {
        struct entry x;
        x.start = p;
        const char *ke = *p == '"' ? skip_string(p, e) : NULL;
        if (!ke) return snprintf(why, nwhy, "the payload is not valid JSON"), -1;
        const char *v = skip_ws(ke, e);
        if (v >= e || *v != ':') return snprintf(why, nwhy, "the payload is not valid JSON"), -1;
        x.vstart = skip_ws(v + 1, e);
        x.vend = skip_value(x.vstart, e);
        if (!x.vend) return snprintf(why, nwhy, "the payload is not valid JSON"), -1;
        x.end = x.vend;
        x.typed = x.rename = 0;
        /* only the keys of typed fields matter: remember those entries */
        for (size_t s = 0; s < lay->nscalars; s++)
            if (key_is(p, ke, lay->scalar_key[s], &b->scratch)) {
                if (nent < sizeof ent / sizeof ent[0]) {
                    at[s] = (int)nent; /* a key given twice: the last, as JSON readers take it */
                    ent[nent++] = x;
                } else {
                    big = 1;
                }
                break;
            }
        p = skip_ws(x.vend, e);
        if (p < e && *p == ',') p = skip_ws(p + 1, e);
    }
    if (big) return snprintf(why, nwhy, "the payload has too many typed keys"), -1;

    /* each typed field: its value, null, or a misfit */
    for (size_t s = 0; s < lay->nscalars && !rc; s++) {
        const struct vmig_plan_scalar *f = lay->scalar[s];
        struct vmig_batch_scalar *c = &b->sc[s];
        struct entry *x = at[s] >= 0 ? &ent[at[s]] : NULL;
        const char *bad = NULL;
        size_t len0 = c->data.len;
        if (!x || (x->vend - x->vstart == 4 && !memcmp(x->vstart, "null", 4))) {
            if (f->nullable || f->has_default) {
                put_null(c);
                if (x) x->typed = 1; /* a null in a nullable field is the field's null */
                continue;
            }
            bad = x ? "is null, and the field is not nullable"
                    : "is missing, and the field is not nullable";
        } else {
            bad = fit(f, x->vstart, x->vend, &b->scratch, &c->data);
        }
        if (!bad) {
            vmig_buf_addch(&c->valid, 1);
            x->typed = 1;
            continue;
        }
        vmig_buf_setlen(&c->data, len0);
        *key_out = f->src;
        if (x && lay->misfit == VMIG_MISFIT_DYNAMIC && (f->nullable || f->has_default)) {
            put_null(c); /* the value stays in $meta; Milvus takes no key named as a field */
            x->rename = strcmp(f->src, f->dst) == 0;
            b->misfits++;
            continue;
        }
        snprintf(why, nwhy, "payload key '%.*s' %s%s", 200, f->src, bad,
                 x && lay->misfit == VMIG_MISFIT_DYNAMIC
                     ? " (it cannot stay in $meta: the field is not nullable)"
                     : "");
        rc = lay->misfit == VMIG_MISFIT_FAIL ? -1 : 1;
    }
    if (rc) return rc;

    /* the payload without the typed keys, every other byte kept */
    size_t moved = 0;
    for (size_t k = 0; k < nent; k++)
        moved += ent[k].typed || ent[k].rename;
    if (!moved) return 0;
    struct vmig_buf *o = &b->scratch;
    vmig_buf_reset(o);
    const char *q = b->meta.p + meta0;
    q = skip_ws(q, e);
    if (q >= e) return 0;
    q = skip_ws(q + 1, e);
    vmig_buf_addch(o, '{');
    int first = 1;
    while (q < e && *q != '}') {
        const char *ke = skip_string(q, e), *vs = skip_ws(skip_ws(ke, e) + 1, e);
        const char *ve = skip_value(vs, e);
        int drop = 0, rename = 0;
        for (size_t k = 0; k < nent; k++)
            if (ent[k].start == q) drop = ent[k].typed, rename = ent[k].rename;
        if (!drop) {
            if (!first) vmig_buf_addch(o, ',');
            if (rename) { /* "key" -> "<prefix>key" */
                vmig_buf_addch(o, '"');
                vmig_buf_adds(o, lay->prefix);
                q++;
            }
            vmig_buf_add(o, q, (size_t)(ve - q));
            first = 0;
        }
        q = skip_ws(ve, e);
        if (q < e && *q == ',') q = skip_ws(q + 1, e);
    }
    vmig_buf_addch(o, '}');
    vmig_buf_setlen(&b->meta, meta0);
    vmig_buf_add(&b->meta, o->p, o->len);
    return 0;
}

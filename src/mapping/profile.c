/*
 * profile.c - the payload profile's arithmetic (`plan --profile`): one point's
 * payload JSON text at a time, as the batch holds it, is scanned without building
 * a tree and folded into per-key facts (types, presence, nulls, string bytes, int
 * range, arrays, nesting); then the estimate of the copy is made from the facts and
 * the plan. Pure: no I/O. engine/profile.c feeds it pages from the source; the JSON
 * form and the table are profile_json.c.
 *
 * Any byte string is accepted: a payload that is not one well-formed JSON object is
 * counted in `malformed` and contributes nothing else, so a validating pass runs
 * before the recording one (no partial facts from a point cut in the middle).
 */
#include <string.h>

#include "vmig/plan.h"
#include "vmig/profile.h"

#define MAX_NEST 200 /* deeper nesting is refused as malformed (bounded recursion) */

struct cur {
    const char *p, *end;
    int bad;
};

/* the facts of one value of a top-level key */
struct vf {
    enum vmig_json_type type;
    unsigned elem_types;
    uint32_t str_max, arr_len, depth;
    int has_int;
    int64_t imin, imax;
    uint64_t big;
};

void vmig_profile_init(struct vmig_profile *p)
{
    memset(p, 0, sizeof *p);
}

const struct vmig_profile_key *vmig_profile_find(const struct vmig_profile *p, const char *key)
{
    for (size_t i = 0; i < p->nkeys; i++)
        if (strcmp(p->key[i].key, key) == 0) return &p->key[i];
    return NULL;
}

static void ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int fail(struct cur *c)
{
    c->bad = 1;
    c->p = c->end;
    return -1;
}

static int hex4(struct cur *c, unsigned *u)
{
    if (c->end - c->p < 4) return fail(c);
    *u = 0;
    for (int i = 0; i < 4; i++) {
        char h = *c->p++;
        unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                            : 16u;
        if (d > 15) return fail(c);
        *u = *u << 4 | d;
    }
    return 0;
}

static size_t utf8(unsigned u, char *o)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | u >> 12);
        o[1] = (char)(0x80 | (u >> 6 & 0x3F));
        o[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | u >> 18);
    o[1] = (char)(0x80 | (u >> 12 & 0x3F));
    o[2] = (char)(0x80 | (u >> 6 & 0x3F));
    o[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* One \u escape (after the 'u'), a surrogate pair taken whole; a lone surrogate
 * counts as U+FFFD (what a UTF-8 decoder stores for it). */
static unsigned uescape(struct cur *c)
{
    unsigned u, lo;
    if (hex4(c, &u)) return 0;
    if (u >= 0xD800 && u <= 0xDBFF && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
        struct cur save = *c;
        c->p += 2;
        if (hex4(c, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF)
            return 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        *c = save;
    }
    return u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u;
}

/* A string at c->p (on the opening quote): its unescaped UTF-8 length. When out is
 * given, the first cap bytes are copied there and *nul is set for a U+0000. */
static uint64_t string(struct cur *c, char *out, size_t cap, int *nul)
{
    uint64_t n = 0;
    c->p++;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p++;
        char enc[4];
        size_t k = 1;
        if (ch == '"') return n;
        if (ch < 0x20) break;
        enc[0] = (char)ch;
        if (ch == '\\') {
            if (c->p >= c->end) break;
            char e = *c->p++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *hit = e ? strchr(from, e) : NULL;
            if (e == 'u') {
                unsigned u = uescape(c);
                if (c->bad) return 0;
                if (u == 0 && nul) *nul = 1;
                k = utf8(u, enc);
            } else if (hit) {
                enc[0] = to[hit - from];
            } else {
                break;
            }
        }
        for (size_t i = 0; i < k; i++, n++)
            if (out && n < cap) out[n] = enc[i];
    }
    fail(c);
    return 0;
}

/* A number at c->p: *is_int for an integer literal, then *v or *big (outside int64). */
static void number(struct cur *c, int *is_int, int64_t *v, int *big)
{
    int neg = 0, digits = 0;
    uint64_t mag = 0, lim;
    *is_int = 1;
    *big = 0;
    if (c->p < c->end && *c->p == '-') neg = 1, c->p++;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (c->p < c->end && *c->p == '0') {
        c->p++, digits = 1;
    } else {
        for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++, digits++) {
            unsigned d = (unsigned)(*c->p - '0');
            if (mag > (lim - d) / 10)
                *big = 1;
            else
                mag = mag * 10 + d;
        }
    }
    if (!digits) {
        fail(c);
        return;
    }
    if (c->p < c->end && *c->p == '.') {
        *is_int = 0;
        c->p++;
        const char *s = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == s) fail(c);
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        *is_int = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        const char *s = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == s) fail(c);
    }
    *v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
}

static int literal(struct cur *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return fail(c);
    c->p += n;
    return 0;
}

static void note_int(struct vf *f, int64_t v, int big)
{
    if (big) {
        f->big++;
        return;
    }
    if (!f->has_int || v < f->imin) f->imin = v;
    if (!f->has_int || v > f->imax) f->imax = v;
    f->has_int = 1;
}

static void value(struct cur *c, int level, struct vf *f);

/* a scalar or container at c->p, its type returned; f (top-level or array element
 * facts) gets strings and ints; *depth its nesting */
static enum vmig_json_type item(struct cur *c, int level, struct vf *f, uint32_t *depth)
{
    int is_int = 0, big = 0;
    int64_t v = 0;
    *depth = 0;
    if (c->p >= c->end) {
        fail(c);
        return VMIG_JT_NULL;
    }
    switch (*c->p) {
    case '"': {
        uint64_t n = string(c, NULL, 0, NULL);
        if (n > f->str_max) f->str_max = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        return VMIG_JT_STRING;
    }
    case 't':
        literal(c, "true");
        return VMIG_JT_BOOL;
    case 'f':
        literal(c, "false");
        return VMIG_JT_BOOL;
    case 'n':
        literal(c, "null");
        return VMIG_JT_NULL;
    case '[':
    case '{': {
        struct vf sub = {0};
        value(c, level + 1, &sub);
        *depth = sub.depth;
        return sub.type;
    }
    default:
        number(c, &is_int, &v, &big);
        if (!is_int) return VMIG_JT_FLOAT;
        note_int(f, v, big);
        return VMIG_JT_INT;
    }
}

/* A value at c->p into f: arrays record their elements in f; objects only nest. */
static void value(struct cur *c, int level, struct vf *f)
{
    if (level > MAX_NEST) {
        fail(c);
        return;
    }
    ws(c);
    if (c->p >= c->end) {
        fail(c);
        return;
    }
    char open = *c->p;
    if (open != '[' && open != '{') {
        f->type = item(c, level, f, &f->depth);
        return;
    }
    f->type = open == '[' ? VMIG_JT_ARRAY : VMIG_JT_OBJECT;
    char close = open == '[' ? ']' : '}';
    uint32_t deepest = 0;
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        f->depth = 1;
        return;
    }
    struct vf scratch = {0}; /* object members: nothing of theirs is recorded */
    while (!c->bad) {
        ws(c);
        if (open == '{') {
            if (c->p >= c->end || *c->p != '"') break;
            string(c, NULL, 0, NULL);
            ws(c);
            if (c->p >= c->end || *c->p++ != ':') break;
            ws(c);
        }
        uint32_t d;
        enum vmig_json_type t = item(c, level, open == '[' ? f : &scratch, &d);
        if (open == '[') {
            f->elem_types |= 1u << t;
            f->arr_len++;
        }
        if (d > deepest) deepest = d;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            f->depth = deepest + 1;
            return;
        }
        break;
    }
    fail(c);
}

/* Keys become JSON object keys (profile_json.c), which must be valid UTF-8. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], need = c < 0x80                 ? 0
                                  : c >= 0xC2 && c <= 0xDF ? 1
                                  : c >= 0xE0 && c <= 0xEF ? 2
                                  : c >= 0xF0 && c <= 0xF4 ? 3
                                                           : 9;
        if (need == 9 || n - i <= need) return 0; /* a bad lead byte, or cut short */
        for (unsigned k = 1; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return 0;
        i += need + 1;
    }
    return 1;
}

static struct vmig_profile_key *key_slot(struct vmig_profile *p, const char *k)
{
    for (size_t i = 0; i < p->nkeys; i++)
        if (strcmp(p->key[i].key, k) == 0) return &p->key[i];
    if (p->nkeys == VMIG_PROFILE_KEYS) return NULL;
    struct vmig_profile_key *e = &p->key[p->nkeys++];
    memset(e, 0, sizeof *e);
    memcpy(e->key, k, strlen(k) + 1);
    return e;
}

/* Count the value text [v, v + n) among e's distinct values (scalars only). */
static void note_distinct(struct vmig_profile_key *e, const char *v, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)v[i]) * 1099511628211ull;
    for (uint32_t i = 0; i < e->distinct; i++)
        if (e->value_hash[i] == h) return;
    if (e->distinct == VMIG_PROFILE_DISTINCT) {
        e->distinct_over = 1;
        return;
    }
    e->value_hash[e->distinct++] = h;
}

static void merge(struct vmig_profile_key *e, const struct vf *f, uint64_t bytes)
{
    e->types |= 1u << f->type;
    e->elem_types |= f->elem_types;
    if (f->type == VMIG_JT_NULL) e->nulls++;
    if (f->str_max > e->str_max) e->str_max = f->str_max;
    if (f->has_int) {
        if (!e->has_int || f->imin < e->int_min) e->int_min = f->imin;
        if (!e->has_int || f->imax > e->int_max) e->int_max = f->imax;
        e->has_int = 1;
    }
    e->int_big += f->big;
    if (f->type == VMIG_JT_ARRAY && f->arr_len > e->arr_max) e->arr_max = f->arr_len;
    if (f->depth > e->depth) e->depth = f->depth;
    e->bytes += bytes;
}

/* One pass over the payload object; p NULL = only check it is well-formed. */
static int scan(struct vmig_profile *p, const char *json, size_t len)
{
    struct cur c = {json, json + len, 0};
    unsigned char seen[VMIG_PROFILE_KEYS] = {0}; /* a key given twice counts once as present */
    ws(&c);
    if (c.p >= c.end || *c.p != '{') return -1;
    c.p++;
    ws(&c);
    if (c.p < c.end && *c.p == '}')
        c.p++;
    else
        for (;;) {
            char k[VMIG_NAME_MAX];
            int nul = 0;
            ws(&c);
            if (c.p >= c.end || *c.p != '"') return -1;
            uint64_t kl = string(&c, k, sizeof k - 1, &nul);
            ws(&c);
            if (c.bad || c.p >= c.end || *c.p++ != ':') return -1;
            ws(&c);
            const char *v0 = c.p;
            struct vf f = {0};
            value(&c, 0, &f);
            if (c.bad) return -1;
            if (p) {
                k[kl < sizeof k ? kl : sizeof k - 1] = '\0';
                struct vmig_profile_key *e =
                    kl < sizeof k && !nul && utf8_valid((unsigned char *)k, kl) ? key_slot(p, k)
                                                                                : NULL;
                if (!e) {
                    p->other_keys++;
                } else {
                    size_t i = (size_t)(e - p->key);
                    if (!seen[i]) e->present++;
                    seen[i] = 1;
                    merge(e, &f, (uint64_t)(c.p - v0));
                    if (f.type != VMIG_JT_ARRAY && f.type != VMIG_JT_OBJECT &&
                        f.type != VMIG_JT_NULL)
                        note_distinct(e, v0, (size_t)(c.p - v0));
                }
            }
            ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                continue;
            }
            if (c.p < c.end && *c.p == '}') {
                c.p++;
                break;
            }
            return -1;
        }
    ws(&c);
    return c.p == c.end ? 0 : -1;
}

void vmig_profile_add(struct vmig_profile *p, const char *json, size_t len)
{
    p->points++;
    if (len == 0) return; /* no payload at all */
    if (scan(NULL, json, len) != 0) {
        p->malformed++;
        return;
    }
    p->payload_bytes += len;
    scan(p, json, len);
}

/* Bytes of the payload that go to typed fields rather than $meta: the measured JSON
 * bytes of the typed keys (with their quotes and separators). */
static uint64_t typed_bytes(const struct vmig_profile *p, const struct vmig_plan_coll *pc)
{
    uint64_t n = 0;
    for (size_t i = 0; pc && i < pc->nscalars; i++) {
        const struct vmig_profile_key *k = vmig_profile_find(p, pc->scalar[i].src);
        if (k) n += k->bytes + k->present * (strlen(k->key) + 4);
    }
    return n;
}

static uint64_t scale(const struct vmig_profile *p, uint64_t measured)
{
    if (!p->points || p->full || p->total <= p->points) return measured;
    return (uint64_t)((double)measured * (double)p->total / (double)p->points);
}

void vmig_profile_estimate(struct vmig_profile *p, const struct vmig_plan_coll *pc)
{
    struct vmig_estimate *e = &p->est;
    uint64_t total = p->total > p->points ? p->total : p->points, dense = 0;
    memset(e, 0, sizeof *e);
    for (size_t i = 0; pc && i < pc->nfields; i++)
        if (pc->field[i].kind == VMIG_VEC_DENSE) dense += (uint64_t)pc->field[i].dim * 4;
    e->vector_bytes = dense * total + scale(p, p->sparse_bytes);
    uint64_t typed = scale(p, typed_bytes(p, pc)), payload = scale(p, p->payload_bytes);
    e->scalar_bytes = typed;
    e->meta_bytes = payload > typed ? payload - typed : 0;
    uint64_t pk = pc && pc->pk_type == VMIG_PK_VARCHAR ? 36 : 8;
    e->write_bytes = e->vector_bytes + payload + pk * total;
    e->read_bytes = p->wire_bytes ? scale(p, p->wire_bytes) : e->write_bytes;
    e->read_pps = p->read_s > 0 ? (double)p->points / p->read_s : 0;
    e->copy_s = e->read_pps > 0 ? (double)total / e->read_pps : 0;
}

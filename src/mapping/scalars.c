/*
 * scalars.c - typed payload fields in the plan: which top-level payload keys get a
 * Milvus column of their own (instead of the dynamic field), of what type, size,
 * nullability, scalar index and partition key. Proposed from the source's payload
 * indexes (Qdrant payload_schema) and sized by the profile when there is one;
 * changed by the user's --field edits (or a plan file); checked against Milvus's
 * limits and what the target holds. Pure, like the rest of the mapping stage.
 *
 * A key the target cannot type as proposed (a missing-in-some-points key on a
 * server without nullable fields) is left in $meta with a note, never refused: the
 * collection still migrates. What the user asks for explicitly and cannot be done
 * is refused, with the --field edit as the way out.
 */
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping/mapping_int.h"
#include "vmig/profile.h"

#define SHORT 100

/* ---- words ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum vmig_scalar_type t;
} type_words[] = {{"BOOL", VMIG_SC_BOOL},
                  {"INT64", VMIG_SC_INT64},
                  {"DOUBLE", VMIG_SC_DOUBLE},
                  {"VARCHAR", VMIG_SC_VARCHAR},
                  {"ARRAY", VMIG_SC_ARRAY},
                  {"JSON", VMIG_SC_JSON},
                  {"TIMESTAMPTZ", VMIG_SC_TIMESTAMPTZ},
                  {"GEOMETRY", VMIG_SC_GEOMETRY}};

static const char *const index_words[] = {"NONE",   "INVERTED", "STL_SORT",
                                          "BITMAP", "Trie",     "AUTOINDEX"};
static const char *const pidx_words[] = {"",     "keyword", "integer",  "float", "geo",
                                         "text", "bool",    "datetime", "uuid",  "other"};
static const char *const misfit_words[] = {"dynamic", "reject", "fail"};

const char *vmig_scalar_type_name(enum vmig_scalar_type t)
{
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
        if (type_words[i].t == t) return type_words[i].name;
    return "NONE";
}

int vmig_scalar_type_parse(const char *s, size_t n, enum vmig_scalar_type *out)
{
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
        if (strlen(type_words[i].name) == n && strncasecmp(type_words[i].name, s, n) == 0) {
            *out = type_words[i].t;
            return 0;
        }
    return -1;
}

const char *vmig_scalar_index_name(enum vmig_scalar_index x)
{
    return (unsigned)x < sizeof index_words / sizeof index_words[0] ? index_words[x] : "NONE";
}

int vmig_scalar_index_parse(const char *s, size_t n, enum vmig_scalar_index *out)
{
    for (size_t i = 0; i < sizeof index_words / sizeof index_words[0]; i++)
        if (strlen(index_words[i]) == n && strncasecmp(index_words[i], s, n) == 0) {
            *out = (enum vmig_scalar_index)i;
            return 0;
        }
    if (n == 4 && strncasecmp(s, "AUTO", 4) == 0) {
        *out = VMIG_SIDX_AUTO;
        return 0;
    }
    return -1;
}

const char *vmig_payload_index_name(enum vmig_payload_index x)
{
    return (unsigned)x < sizeof pidx_words / sizeof pidx_words[0] ? pidx_words[x] : "other";
}

int vmig_payload_index_parse(const char *s, enum vmig_payload_index *out)
{
    for (size_t i = 0; i < sizeof pidx_words / sizeof pidx_words[0]; i++)
        if (strcmp(pidx_words[i], s) == 0) {
            *out = (enum vmig_payload_index)i;
            return 0;
        }
    return -1;
}

const char *vmig_misfit_policy_name(enum vmig_misfit_policy p)
{
    return (unsigned)p < 3 ? misfit_words[p] : "dynamic";
}

int vmig_misfit_policy_parse(const char *s, enum vmig_misfit_policy *out)
{
    for (int i = 0; i < 3; i++)
        if (strcasecmp(misfit_words[i], s) == 0) {
            *out = (enum vmig_misfit_policy)i;
            return 0;
        }
    return -1;
}

/* "VARCHAR(64)", "ARRAY<VARCHAR(16)>[8]", "INT64 NULL" for previews and messages */
void vmig_scalar_type_text(const struct vmig_plan_scalar *s, char *out, size_t n)
{
    char el[48] = "";
    if (s->type == VMIG_SC_ARRAY) {
        if (s->elem == VMIG_SC_VARCHAR)
            snprintf(el, sizeof el, "VARCHAR(%u)", s->max_length);
        else
            snprintf(el, sizeof el, "%s", vmig_scalar_type_name(s->elem));
        snprintf(out, n, "ARRAY<%s>[%u]", el, s->max_capacity);
    } else if (s->type == VMIG_SC_VARCHAR) {
        snprintf(out, n, "VARCHAR(%u)", s->max_length);
    } else {
        snprintf(out, n, "%s", vmig_scalar_type_name(s->type));
    }
}

/* ---- sizes ------------------------------------------------------------------------- */

/* max_length for strings seen up to len bytes: the next power of two (at least 16),
 * doubled first when only a sample was read; at most 65 535. */
static uint32_t round_len(uint64_t len, int sampled)
{
    uint64_t want = sampled ? len * 2 : len, r = 16;
    while (r < want && r < VMIG_VARCHAR_MAX)
        r <<= 1;
    return r > VMIG_VARCHAR_MAX ? VMIG_VARCHAR_MAX : (uint32_t)r;
}

static uint32_t round_cap(uint64_t n, int sampled)
{
    uint64_t want = sampled ? n * 2 : n, r = 4;
    while (r < want && r < VMIG_ARRAY_MAX_CAPACITY)
        r <<= 1;
    return r > VMIG_ARRAY_MAX_CAPACITY ? VMIG_ARRAY_MAX_CAPACITY : (uint32_t)r;
}

/* ---- the proposal from a payload index ---------------------------------------------- */

static int has(const struct vmig_map_opts *o, enum vmig_feature f)
{
    return !o->target || (o->target->has & (1u << f)) != 0;
}

/* The scalar index a Qdrant payload index implies, among what the target builds; a
 * keyword or integer of few distinct values (profiled) takes BITMAP where there is one. */
static enum vmig_scalar_index implied_index(const struct vmig_map_opts *o,
                                            const struct vmig_plan_scalar *s,
                                            const struct vmig_profile_key *pk)
{
    int inv = has(o, VMIG_FEAT_INVERTED), sort = has(o, VMIG_FEAT_SORT_INDEX);
    if (s->type == VMIG_SC_JSON || s->type == VMIG_SC_GEOMETRY) return VMIG_SIDX_NONE;
    if (s->type == VMIG_SC_TIMESTAMPTZ)
        return inv ? VMIG_SIDX_INVERTED : sort ? VMIG_SIDX_STL_SORT : VMIG_SIDX_NONE;
    if (pk && !pk->distinct_over && pk->distinct && has(o, VMIG_FEAT_BITMAP) &&
        (s->type == VMIG_SC_VARCHAR || s->type == VMIG_SC_INT64) &&
        (s->from_index == VMIG_PIDX_KEYWORD || s->from_index == VMIG_PIDX_INTEGER))
        return VMIG_SIDX_BITMAP;
    if (s->type == VMIG_SC_ARRAY) return inv ? VMIG_SIDX_INVERTED : VMIG_SIDX_NONE;
    switch (s->from_index) {
    case VMIG_PIDX_BOOL:
        return has(o, VMIG_FEAT_BITMAP) ? VMIG_SIDX_BITMAP
               : inv                    ? VMIG_SIDX_INVERTED
                                        : VMIG_SIDX_NONE;
    case VMIG_PIDX_INTEGER:
    case VMIG_PIDX_FLOAT:
        return sort ? VMIG_SIDX_STL_SORT : inv ? VMIG_SIDX_INVERTED : VMIG_SIDX_NONE;
    case VMIG_PIDX_KEYWORD:
    case VMIG_PIDX_UUID:
    case VMIG_PIDX_DATETIME:
    case VMIG_PIDX_TEXT:
        return inv ? VMIG_SIDX_INVERTED : sort ? VMIG_SIDX_TRIE : VMIG_SIDX_NONE;
    default:
        return VMIG_SIDX_NONE;
    }
}

/* Fill s for payload index x; 0 when the key is best left in $meta (reason in why). */
static int propose(const struct vmig_src_coll *src, const struct vmig_src_index *x, int timestamptz,
                   int geometry, struct vmig_plan_scalar *s, char *why, size_t nwhy)
{
    const struct vmig_profile_key *pk =
        src->profile ? vmig_profile_find(src->profile, x->key) : NULL;
    int sampled = src->profile && !src->profile->full;
    memset(s, 0, sizeof *s);
    snprintf(s->src, sizeof s->src, "%s", x->key);
    s->from_index = x->type;
    switch (x->type) {
    case VMIG_PIDX_DATETIME:
        if (timestamptz) {
            s->type = VMIG_SC_TIMESTAMPTZ;
            break;
        }
        /* the text, on targets without TIMESTAMPTZ */
        __attribute__((fallthrough));
    case VMIG_PIDX_KEYWORD:
    case VMIG_PIDX_TEXT:
    case VMIG_PIDX_UUID:
        s->type = VMIG_SC_VARCHAR;
        s->max_length = x->type == VMIG_PIDX_UUID       ? 36
                        : x->type == VMIG_PIDX_DATETIME ? 64
                                                        : VMIG_VARCHAR_MAX;
        if (pk && pk->str_max) s->max_length = round_len(pk->str_max, sampled);
        if (x->type == VMIG_PIDX_UUID && (!pk || pk->str_max <= 36))
            s->max_length = 36; /* the canonical text; longer forms were measured */
        break;
    case VMIG_PIDX_INTEGER:
        s->type = VMIG_SC_INT64;
        break;
    case VMIG_PIDX_FLOAT:
        s->type = VMIG_SC_DOUBLE;
        break;
    case VMIG_PIDX_BOOL:
        s->type = VMIG_SC_BOOL;
        break;
    case VMIG_PIDX_GEO:
        s->type = geometry ? VMIG_SC_GEOMETRY : VMIG_SC_JSON;
        break;
    default:
        snprintf(why, nwhy, "its payload index type is not known to this version");
        return 0;
    }
    /* arrays of the index's type (Qdrant indexes every element) */
    if (pk && (pk->types & (1u << VMIG_JT_ARRAY)) && s->type != VMIG_SC_JSON &&
        s->type != VMIG_SC_GEOMETRY) {
        if (pk->types & ~(1u << VMIG_JT_ARRAY | 1u << VMIG_JT_NULL)) {
            snprintf(why, nwhy, "its values are arrays in some points and single values in others");
            return 0;
        }
        s->elem = s->type;
        s->type = VMIG_SC_ARRAY;
        s->max_capacity = round_cap(pk->arr_max ? pk->arr_max : 1, sampled);
    }
    return 1;
}

/* Some points lack a value of the key's type (or hold null): the field must be nullable. */
static int needs_null(const struct vmig_src_coll *src, const struct vmig_src_index *x)
{
    const struct vmig_profile_key *pk =
        src->profile ? vmig_profile_find(src->profile, x->key) : NULL;
    if (pk && (pk->nulls || pk->present < src->profile->points)) return 1;
    return src->points_approx > 0 && x->points < src->points_approx;
}

/* ---- the user's --field edits --------------------------------------------------------- */

/* Parse "TYPE[:opt,opt...]" or "dynamic" into s (src already set). 0, or -1 with the
 * problem in why. */
static int parse_spec(const char *spec, struct vmig_plan_scalar *s, int *demote, int *pk_parts,
                      int *retyped, int *index_given, char *why, size_t nwhy)
{
    const char *colon = strchr(spec, ':');
    size_t tn = colon ? (size_t)(colon - spec) : strlen(spec);
    *demote = 0;
    if ((tn == 7 && strncasecmp(spec, "dynamic", 7) == 0) ||
        (tn == 4 && strncasecmp(spec, "none", 4) == 0)) {
        *demote = 1;
        return colon ? (snprintf(why, nwhy, "'dynamic' takes no options"), -1) : 0;
    }
    enum vmig_scalar_type t, e = VMIG_SC_NONE;
    if (tn > 6 && strncasecmp(spec, "ARRAY_", 6) == 0) {
        if (vmig_scalar_type_parse(spec + 6, tn - 6, &e) || e == VMIG_SC_ARRAY ||
            e == VMIG_SC_JSON || e == VMIG_SC_TIMESTAMPTZ || e == VMIG_SC_GEOMETRY) {
            snprintf(why, nwhy,
                     "'%.*s' is not a type (ARRAY_ takes BOOL, INT64, DOUBLE or VARCHAR)", (int)tn,
                     spec);
            return -1;
        }
        t = VMIG_SC_ARRAY;
    } else if (vmig_scalar_type_parse(spec, tn, &t) || t == VMIG_SC_ARRAY) {
        snprintf(
            why, nwhy,
            "'%.*s' is not a type: give INT64, DOUBLE, BOOL, VARCHAR, JSON, TIMESTAMPTZ, GEOMETRY, "
            "ARRAY_INT64, ARRAY_DOUBLE, ARRAY_BOOL, ARRAY_VARCHAR or dynamic",
            (int)tn, spec);
        return -1;
    }
    *retyped = t != s->type || e != s->elem;
    s->type = t;
    s->elem = e;
    int str = t == VMIG_SC_VARCHAR || (t == VMIG_SC_ARRAY && e == VMIG_SC_VARCHAR);
    if (str && !s->max_length) s->max_length = VMIG_VARCHAR_MAX;
    if (t == VMIG_SC_ARRAY && !s->max_capacity) s->max_capacity = VMIG_ARRAY_MAX_CAPACITY;
    for (const char *p = colon ? colon + 1 : NULL; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        char val[260] = "";
        if (eq) snprintf(val, sizeof val, "%.*s", (int)(n - kn - 1), eq + 1);
        char *end;
        if (kn == 8 && !strncmp(p, "nullable", 8) && !eq) {
            s->nullable = 1;
        } else if (kn == 8 && !strncmp(p, "not_null", 8) && !eq) {
            s->nullable = 0;
        } else if (kn == 7 && !strncmp(p, "default", 7) && eq) {
            snprintf(s->default_json, sizeof s->default_json, "%s", val);
            s->has_default = 1;
        } else if ((kn == 10 && !strncmp(p, "max_length", 10)) ||
                   (kn == 12 && !strncmp(p, "max_capacity", 12)) ||
                   (kn == 10 && !strncmp(p, "partitions", 10))) {
            unsigned long v = strtoul(val, &end, 10);
            if (!eq || !val[0] || *end || v > 1000000) {
                snprintf(why, nwhy, "%.*s needs a number, got '%s'", (int)kn, p, val);
                return -1;
            }
            if (p[4] == 'l')
                s->max_length = (uint32_t)v;
            else if (p[4] == 'c')
                s->max_capacity = (uint32_t)v;
            else
                *pk_parts = (int)v;
        } else if (kn == 5 && !strncmp(p, "index", 5) && eq) {
            *index_given = 1;
            if (vmig_scalar_index_parse(val, strlen(val), &s->index)) {
                snprintf(why, nwhy,
                         "index '%s' is not a scalar index: give INVERTED, STL_SORT, BITMAP, Trie, "
                         "AUTOINDEX or NONE",
                         val);
                return -1;
            }
        } else if (kn == 13 && !strncmp(p, "partition_key", 13) && !eq) {
            s->partition_key = 1;
        } else if (kn == 16 && !strncmp(p, "no_partition_key", 16) && !eq) {
            s->partition_key = 0;
        } else {
            snprintf(why, nwhy,
                     "'%.*s' is not an option: give nullable, not_null, default=V, max_length=N, "
                     "max_capacity=N, index=NAME, partition_key, no_partition_key or "
                     "partitions=N",
                     (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

static struct vmig_plan_scalar *find_scalar(struct vmig_plan_coll *pc, const char *key)
{
    for (size_t i = 0; i < pc->nscalars; i++)
        if (strcmp(pc->scalar[i].src, key) == 0) return &pc->scalar[i];
    return NULL;
}

static void drop_scalar(struct vmig_plan_coll *pc, struct vmig_plan_scalar *s)
{
    size_t i = (size_t)(s - pc->scalar);
    memmove(&pc->scalar[i], &pc->scalar[i + 1], (pc->nscalars - i - 1) * sizeof *s);
    pc->nscalars--;
}

/* ---- the checks (also of plan files) ---------------------------------------------------- */

static int target_lacks(const struct vmig_target_caps *tc, enum vmig_feature f)
{
    return tc && !(tc->has & (1u << f));
}

static void lacks_text(const struct vmig_target_caps *tc, enum vmig_feature f, const char *what,
                       char *out, size_t n)
{
    if (tc->since[f][0])
        snprintf(out, n, "%s %s does not support %s (Milvus %s or newer does)", tc->product,
                 tc->release[0] ? tc->release : tc->version, what, tc->since[f]);
    else
        snprintf(out, n, "%s %s does not support %s", tc->product,
                 tc->release[0] ? tc->release : tc->version, what);
}

/* Does default_json hold a value of s's type? */
static int default_fits(const struct vmig_plan_scalar *s)
{
    const char *d = s->default_json;
    char *end;
    switch (s->type) {
    case VMIG_SC_BOOL:
        return !strcmp(d, "true") || !strcmp(d, "false");
    case VMIG_SC_INT64:
        if (!*d) return 0;
        (void)strtoll(d, &end, 10);
        return *end == '\0' && strspn(d, "-0123456789") == strlen(d);
    case VMIG_SC_DOUBLE:
        if (!*d) return 0;
        (void)strtod(d, &end);
        return *end == '\0' && strspn(d, "-+.eE0123456789") == strlen(d);
    case VMIG_SC_VARCHAR:
        return strlen(d) <= s->max_length;
    default:
        return 0;
    }
}

/* Check s against Milvus's rules and the target; NULL when fine, else the problem
 * (into why) and *fix the way out. */
static const char *check_one(const struct vmig_plan_scalar *s, const struct vmig_target_caps *tc,
                             char *why, size_t n)
{
    char t[48];
    const char *nm = vmig_name_problem(s->dst, 1);
    vmig_scalar_type_text(s, t, sizeof t);
    if (nm) return snprintf(why, n, "a Milvus field name %s", nm), why;
    if (!strcmp(s->dst, "$meta")) return snprintf(why, n, "'$meta' is the dynamic field"), why;
    if ((s->type == VMIG_SC_VARCHAR || (s->type == VMIG_SC_ARRAY && s->elem == VMIG_SC_VARCHAR)) &&
        (s->max_length < 1 || s->max_length > VMIG_VARCHAR_MAX))
        return snprintf(why, n, "max_length must be 1 to %d, got %u", VMIG_VARCHAR_MAX,
                        s->max_length),
               why;
    if (s->type == VMIG_SC_ARRAY &&
        (s->max_capacity < 1 || s->max_capacity > VMIG_ARRAY_MAX_CAPACITY))
        return snprintf(why, n, "max_capacity must be 1 to %d, got %u", VMIG_ARRAY_MAX_CAPACITY,
                        s->max_capacity),
               why;
    if (s->type == VMIG_SC_TIMESTAMPTZ && target_lacks(tc, VMIG_FEAT_TIMESTAMPTZ))
        return lacks_text(tc, VMIG_FEAT_TIMESTAMPTZ, "TIMESTAMPTZ fields", why, n), why;
    if (s->type == VMIG_SC_GEOMETRY && target_lacks(tc, VMIG_FEAT_GEOMETRY))
        return lacks_text(tc, VMIG_FEAT_GEOMETRY, "GEOMETRY fields", why, n), why;
    if (s->type == VMIG_SC_GEOMETRY && s->index != VMIG_SIDX_NONE && s->index != VMIG_SIDX_AUTO)
        return snprintf(why, n, "a GEOMETRY field takes no %s index",
                        vmig_scalar_index_name(s->index)),
               why;
    if (s->nullable && target_lacks(tc, VMIG_FEAT_NULLABLE))
        return lacks_text(tc, VMIG_FEAT_NULLABLE, "nullable fields", why, n), why;
    if (s->has_default) {
        if (target_lacks(tc, VMIG_FEAT_DEFAULT_VALUE))
            return lacks_text(tc, VMIG_FEAT_DEFAULT_VALUE, "default values", why, n), why;
        if (s->type == VMIG_SC_ARRAY || s->type == VMIG_SC_JSON || s->type == VMIG_SC_TIMESTAMPTZ ||
            s->type == VMIG_SC_GEOMETRY)
            return snprintf(why, n, "vmigrate sets no default value for a %s field", t), why;
        if (!default_fits(s))
            return snprintf(why, n, "the default '%s' is not a %s value (strings without quotes)",
                            s->default_json, t),
                   why;
    }
    enum vmig_scalar_type vt = s->type == VMIG_SC_ARRAY ? s->elem : s->type;
    switch (s->index) {
    case VMIG_SIDX_NONE:
        break;
    case VMIG_SIDX_AUTO:
        break;
    case VMIG_SIDX_INVERTED:
        if (s->type == VMIG_SC_JSON)
            return snprintf(why, n,
                            "an INVERTED index on a JSON field needs a path; use index=NONE"),
                   why;
        if (target_lacks(tc, VMIG_FEAT_INVERTED))
            return lacks_text(tc, VMIG_FEAT_INVERTED, "the INVERTED index", why, n), why;
        break;
    case VMIG_SIDX_BITMAP:
        if (vt == VMIG_SC_DOUBLE || s->type == VMIG_SC_JSON)
            return snprintf(why, n, "a BITMAP index does not take %s values", t), why;
        if (target_lacks(tc, VMIG_FEAT_BITMAP))
            return lacks_text(tc, VMIG_FEAT_BITMAP, "the BITMAP index", why, n), why;
        break;
    case VMIG_SIDX_STL_SORT:
        if (s->type != VMIG_SC_INT64 && s->type != VMIG_SC_DOUBLE && s->type != VMIG_SC_TIMESTAMPTZ)
            return snprintf(why, n, "an STL_SORT index takes numbers, not %s", t), why;
        if (target_lacks(tc, VMIG_FEAT_SORT_INDEX))
            return lacks_text(tc, VMIG_FEAT_SORT_INDEX, "the STL_SORT index", why, n), why;
        break;
    case VMIG_SIDX_TRIE:
        if (s->type != VMIG_SC_VARCHAR)
            return snprintf(why, n, "a Trie index takes VARCHAR, not %s", t), why;
        if (target_lacks(tc, VMIG_FEAT_SORT_INDEX))
            return lacks_text(tc, VMIG_FEAT_SORT_INDEX, "the Trie index", why, n), why;
        break;
    }
    if (s->partition_key) {
        if (s->type != VMIG_SC_INT64 && s->type != VMIG_SC_VARCHAR)
            return snprintf(why, n, "a partition key must be INT64 or VARCHAR, not %s", t), why;
        if (s->nullable)
            return snprintf(why, n,
                            "a partition key cannot be nullable (the key is missing or null in "
                            "some points)"),
                   why;
    }
    return NULL;
}

/* The refusal of a check: about pc's collection and payload key field. */
static enum vmig_code bad(struct vmig_err *err, const struct vmig_plan_coll *pc, const char *field,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum vmig_code bad(struct vmig_err *err, const struct vmig_plan_coll *pc, const char *field,
                          const char *fmt, ...)
{
    va_list ap;
    if (!err) return VMIG_E_USAGE;
    va_start(ap, fmt);
    vmig_err_setv(err, VMIG_E_USAGE, fmt, ap);
    va_end(ap);
    vmig_err_at(err, pc->source, NULL, field);
    vmig_err_fix(err, VMIG_FIX_TYPED_FIELD, NULL);
    return VMIG_E_USAGE;
}

enum vmig_code vmig_plan_scalars_check(const struct vmig_plan_coll *pc,
                                       const struct vmig_target_caps *tc, struct vmig_err *err)
{
    char why[300], s1[SHORT], cn[SHORT];
    int npk = 0;
    vmig_name_shorten(pc->source, cn, sizeof cn);
    if (pc->nscalars + pc->nfields + 1 > 64)
        return bad(err, pc, NULL,
                   "collection '%s': %zu typed payload fields and %zu vectors are "
                   "more than the 64 fields Milvus allows",
                   cn, pc->nscalars, pc->nfields);
    for (size_t i = 0; i < pc->nscalars; i++) {
        const struct vmig_plan_scalar *s = &pc->scalar[i];
        vmig_name_shorten(s->src, s1, sizeof s1);
        if (check_one(s, tc, why, sizeof why))
            return bad(err, pc, s->src,
                       "collection '%s': payload key '%s' cannot be typed as given: %s", cn, s1,
                       why);
        npk += s->partition_key;
    }
    if (npk > 1)
        return bad(err, pc, NULL,
                   "collection '%s': %d fields are marked partition_key; Milvus takes "
                   "one",
                   cn, npk);
    if (npk && (pc->num_partitions < 1 || pc->num_partitions > 1024))
        return bad(err, pc, NULL, "collection '%s': partitions must be 1 to 1024, got %u", cn,
                   pc->num_partitions);
    return VMIG_OK;
}

/* ---- building ----------------------------------------------------------------------------- */

/* A proposed field's name must not be the primary key's, a vector's or an earlier typed
 * field's: "_2", "_3", ... as for vectors, with a note. */
static void unique_name(struct vmig_plan_coll *pc, struct vmig_plan_scalar *s, const char *k)
{
    const char *taken[1 + VMIG_MAX_VECTOR_FIELDS + VMIG_MAX_SCALAR_FIELDS];
    size_t nt = 0;
    char before[VMIG_NAME_MAX];
    taken[nt++] = pc->pk_name;
    for (size_t i = 0; i < pc->nfields; i++)
        taken[nt++] = pc->field[i].dst;
    for (size_t i = 0; i < pc->nscalars; i++)
        taken[nt++] = pc->scalar[i].dst;
    snprintf(before, sizeof before, "%s", s->dst);
    vmig_name_unique(s->dst, taken, nt);
    if (strcmp(before, s->src) != 0 || strcmp(before, s->dst) != 0) {
        char d[SHORT];
        vmig_name_shorten(s->dst, d, sizeof d);
        vmig_plan_note(pc, "payload key '%s' becomes field '%s' (%s)", k, d,
                       strcmp(before, s->dst) ? "the name is taken"
                                              : "Milvus names allow only letters, digits and '_'");
    }
}

void vmig_plan_scalars(const struct vmig_src_coll *src, const struct vmig_map_opts *o,
                       struct vmig_plan_coll *pc)
{
    char why[300], k[SHORT], cn[SHORT];
    vmig_name_shorten(src->name, cn, sizeof cn);
    pc->misfit = o->misfit;
    pc->num_partitions = 0;

    /* 1. every payload index proposes a field */
    for (size_t i = 0; i < src->nindexes; i++) {
        const struct vmig_src_index *x = &src->index[i];
        struct vmig_plan_scalar s;
        vmig_name_shorten(x->key, k, sizeof k);
        if (strchr(x->key, '.') || strchr(x->key, '[')) {
            vmig_plan_note(pc, "payload index '%s' is on a nested path: it stays in $meta", k);
            pc->nuntyped++;
            continue;
        }
        if (!propose(src, x, has(o, VMIG_FEAT_TIMESTAMPTZ), has(o, VMIG_FEAT_GEOMETRY), &s, why,
                     sizeof why)) {
            vmig_plan_note(pc, "payload key '%s' stays in $meta: %s", k, why);
            pc->nuntyped++;
            continue;
        }
        vmig_field_name_sanitize(x->key, s.dst);
        unique_name(pc, &s, k);
        if (needs_null(src, x)) {
            if (!has(o, VMIG_FEAT_NULLABLE)) {
                lacks_text(o->target, VMIG_FEAT_NULLABLE, "nullable fields", why, sizeof why);
                vmig_plan_note(pc,
                               "payload key '%s' is missing in some points, so a typed field "
                               "needs to be nullable, and %s: it stays in $meta",
                               k, why);
                pc->nuntyped++;
                continue;
            }
            s.nullable = 1;
        }
        s.index =
            implied_index(o, &s, src->profile ? vmig_profile_find(src->profile, x->key) : NULL);
        if (x->type == VMIG_PIDX_DATETIME && s.type == VMIG_SC_TIMESTAMPTZ)
            vmig_plan_note(pc,
                           "payload key '%s' (a Qdrant datetime index) is TIMESTAMPTZ: UTC "
                           "microseconds (a naive time is taken as UTC, as Qdrant does)",
                           k);
        else if (x->type == VMIG_PIDX_GEO && s.type == VMIG_SC_GEOMETRY)
            vmig_plan_note(
                pc, "payload key '%s' (a Qdrant geo index) is GEOMETRY: WKT POINT(lon lat)", k);
        else if (x->type == VMIG_PIDX_DATETIME || x->type == VMIG_PIDX_GEO)
            vmig_plan_note(
                pc,
                x->type == VMIG_PIDX_DATETIME
                    ? "payload key '%s' (a Qdrant datetime index) is VARCHAR holding its "
                      "text exactly (the target has no TIMESTAMPTZ)"
                    : "payload key '%s' (a Qdrant geo index) is JSON ({\"lon\", "
                      "\"lat\"}: the target has no GEOMETRY)",
                k);
        if (x->is_tenant && !s.nullable && (s.type == VMIG_SC_VARCHAR || s.type == VMIG_SC_INT64) &&
            !pc->num_partitions) {
            s.partition_key = 1;
            pc->num_partitions = 16;
            vmig_plan_note(
                pc, "payload key '%s' is a tenant index in Qdrant: it is the partition key", k);
        }
        if (pc->nscalars == VMIG_MAX_SCALAR_FIELDS) {
            vmig_plan_note(pc, "payload key '%s' stays in $meta: at most %d typed fields", k,
                           VMIG_MAX_SCALAR_FIELDS);
            pc->nuntyped++;
            continue;
        }
        pc->scalar[pc->nscalars++] = s;
    }

    /* 2. the user's --field edits: promote, change or demote */
    for (size_t e = 0; e < o->nedits; e++) {
        const struct vmig_map_edit *ed = &o->edits[e];
        const char *key;
        if (ed->kind != VMIG_EDIT_FIELD || !(key = vmig_plan_field_part(ed->key, src->name)))
            continue;
        vmig_plan_mark_used(ed);
        vmig_name_shorten(key, k, sizeof k);
        struct vmig_plan_scalar *s = find_scalar(pc, key), fresh;
        int demote, parts = 0, retyped = 0, index_given = 0;
        if (!s) {
            memset(&fresh, 0, sizeof fresh);
            snprintf(fresh.src, sizeof fresh.src, "%s", key);
            vmig_field_name_sanitize(key, fresh.dst);
            const struct vmig_profile_key *pk =
                src->profile ? vmig_profile_find(src->profile, key) : NULL;
            if (pk && (pk->nulls || pk->present < src->profile->points)) fresh.nullable = 1;
            for (size_t i = 0; i < src->nindexes; i++)
                if (!strcmp(src->index[i].key, key)) { /* an index left in $meta */
                    fresh.from_index = src->index[i].type;
                    fresh.nullable |= needs_null(src, &src->index[i]);
                }
            if (pk && pk->str_max) fresh.max_length = round_len(pk->str_max, !src->profile->full);
            if (pk && pk->arr_max) fresh.max_capacity = round_cap(pk->arr_max, !src->profile->full);
            s = &fresh;
        }
        if (strlen(key) >= VMIG_NAME_MAX || !key[0]) {
            vmig_plan_refuse(pc, key, VMIG_E_USAGE, VMIG_FIX_TYPED_FIELD,
                             "collection '%s': --field '%s': a typed field's payload key must be "
                             "1 to %d bytes",
                             cn, k, VMIG_NAME_MAX - 1);
            continue;
        }
        if (parse_spec(ed->value, s, &demote, &parts, &retyped, &index_given, why, sizeof why)) {
            vmig_plan_refuse(pc, key, VMIG_E_USAGE, VMIG_FIX_TYPED_FIELD,
                             "collection '%s': --field '%s=%s': %s", cn, k, ed->value, why);
            continue;
        }
        if (demote) {
            if (s != &fresh) drop_scalar(pc, s);
            continue;
        }
        if (s->partition_key) /* the edit's partition key replaces any other (one per collection) */
            for (size_t i = 0; i < pc->nscalars; i++)
                if (&pc->scalar[i] != s) pc->scalar[i].partition_key = 0;
        if (retyped && !index_given)
            s->index = s->from_index ? implied_index(o, s, NULL) : VMIG_SIDX_NONE;
        if (parts) pc->num_partitions = (uint32_t)parts;
        if (s->partition_key && !pc->num_partitions) pc->num_partitions = 16;
        if (s == &fresh) {
            if (pc->nscalars == VMIG_MAX_SCALAR_FIELDS) {
                vmig_plan_refuse(pc, key, VMIG_E_USAGE, VMIG_FIX_TYPED_FIELD,
                                 "collection '%s': at most %d typed payload fields", cn,
                                 VMIG_MAX_SCALAR_FIELDS);
                continue;
            }
            pc->scalar[pc->nscalars++] = fresh;
        }
    }
    int npk = 0;
    for (size_t i = 0; i < pc->nscalars; i++)
        npk += pc->scalar[i].partition_key;
    if (!npk) pc->num_partitions = 0;
}

/* The typed field whose payload key is key, or NULL. */
const struct vmig_plan_scalar *vmig_plan_scalar_of(const struct vmig_plan_coll *pc, const char *key)
{
    return find_scalar((struct vmig_plan_coll *)pc, key);
}

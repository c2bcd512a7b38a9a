/*
 * plan.c - builds the Milvus schema plan of one Qdrant collection: primary key
 * type from the id facts, one vector field per Qdrant vector, metric, names made
 * valid, the user's edits (target name, description, renames, skips), and the
 * check of an edited plan against a fresh one. Pure code; the rules and why they
 * are what they are: docs/internals/MAPPING.md.
 *
 * A refusal never stops the build: the first problem found is kept in
 * plan_coll.refusal and the rest of the plan is still filled in for the preview.
 * Problems are looked for in a fixed order (option values, per-vector shape,
 * vector count, edits) so the message a user sees is deterministic.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping_int.h"
#include "util/alloc.h"
#include "util/buf.h"

#define SHORT 100 /* bytes of a name quoted in a message or note */

/* ---- options ------------------------------------------------------------------- */

void vmig_map_opts_init(struct vmig_map_opts *o)
{
    memset(o, 0, sizeof *o);
    o->profile_sample = VMIG_PROFILE_SAMPLE_DEFAULT;
}

void vmig_map_opts_release(struct vmig_map_opts *o)
{
    for (size_t i = 0; i < o->nedits; i++) {
        free(o->edits[i].key);
        free(o->edits[i].value);
    }
    free(o->edits);
    memset(o, 0, sizeof *o);
}

static const char *const edit_flag[] = {"--target-name", "--description", "--rename",
                                        "--skip-vector", "--field"};

static void push_edit(struct vmig_map_opts *o, enum vmig_edit_kind kind, const char *key,
                      size_t keylen, const char *value)
{
    o->edits = xrealloc(o->edits, (o->nedits + 1) * sizeof *o->edits);
    struct vmig_map_edit *e = &o->edits[o->nedits++];
    e->kind = kind;
    e->key = xstrndup(key, keylen);
    e->value = value ? xstrdup(value) : NULL;
    e->used = 0;
}

enum vmig_code vmig_map_opts_add(struct vmig_map_opts *o, const char *kind, const char *value,
                                 struct vmig_err *err)
{
    enum vmig_edit_kind k;
    if (strcmp(kind, "target-name") == 0)
        k = VMIG_EDIT_TARGET_NAME;
    else if (strcmp(kind, "description") == 0)
        k = VMIG_EDIT_DESCRIPTION;
    else if (strcmp(kind, "rename") == 0)
        k = VMIG_EDIT_RENAME;
    else if (strcmp(kind, "skip-vector") == 0)
        k = VMIG_EDIT_SKIP_VECTOR;
    else if (strcmp(kind, "field") == 0)
        k = VMIG_EDIT_FIELD;
    else
        return vmig_err_set(err, VMIG_E_USAGE, "unknown plan edit '%s'", kind);

    if (k == VMIG_EDIT_SKIP_VECTOR) {
        if (!value[0])
            return vmig_err_set(err, VMIG_E_USAGE,
                                "--skip-vector expects COLLECTION.VECTOR or VECTOR, got ''");
        push_edit(o, k, value, strlen(value), NULL);
        return VMIG_OK;
    }
    /* A description or a field's type options may contain '=', a Milvus name cannot:
     * split a description and a field at the first '=', the others at their last. */
    const char *eq = k == VMIG_EDIT_DESCRIPTION || k == VMIG_EDIT_FIELD ? strchr(value, '=')
                                                                        : strrchr(value, '=');
    const char *form = k == VMIG_EDIT_TARGET_NAME   ? "COLLECTION=NEW_NAME"
                       : k == VMIG_EDIT_DESCRIPTION ? "COLLECTION=TEXT"
                       : k == VMIG_EDIT_FIELD       ? "COLLECTION.KEY=TYPE[:OPTIONS] or "
                                                      "COLLECTION.KEY=dynamic"
                                                    : "COLLECTION.FIELD=NEW_NAME";
    if (!eq || eq == value || (k != VMIG_EDIT_DESCRIPTION && !eq[1]))
        return vmig_err_set(err, VMIG_E_USAGE, "%s expects %s, got '%s'", edit_flag[k], form,
                            value);
    size_t keylen = (size_t)(eq - value);
    if (k == VMIG_EDIT_RENAME || k == VMIG_EDIT_FIELD) {
        const char *dot = memchr(value, '.', keylen);
        if (!dot || dot == value || dot == eq - 1)
            return vmig_err_set(err, VMIG_E_USAGE, "%s expects %s, got '%s'", edit_flag[k], form,
                                value);
    }
    for (size_t i = 0; i < o->nedits; i++) {
        const struct vmig_map_edit *e = &o->edits[i];
        if (e->kind == k && strlen(e->key) == keylen && memcmp(e->key, value, keylen) == 0)
            return vmig_err_set(err, VMIG_E_USAGE, "%s given twice for '%.*s'", edit_flag[k],
                                (int)keylen, value);
    }
    push_edit(o, k, value, keylen, eq + 1);
    return VMIG_OK;
}

void vmig_map_opts_add_skips_of(struct vmig_map_opts *o, const struct vmig_plan_coll *pc)
{
    for (size_t i = 0; i < pc->nskipped; i++) {
        struct vmig_buf b = VMIG_BUF_INIT;
        vmig_buf_addf(&b, "%s.%s", pc->source, pc->skipped[i]);
        push_edit(o, VMIG_EDIT_SKIP_VECTOR, b.p, b.len, NULL);
        vmig_buf_release(&b);
    }
}

enum vmig_code vmig_map_opts_check_unused(const struct vmig_map_opts *o, struct vmig_err *err)
{
    for (size_t i = 0; i < o->nedits; i++) {
        const struct vmig_map_edit *e = &o->edits[i];
        if (e->used) continue;
        switch (e->kind) {
        case VMIG_EDIT_TARGET_NAME:
        case VMIG_EDIT_DESCRIPTION:
            return vmig_err_set(err, VMIG_E_USAGE, "%s %s=...: no source collection '%s'",
                                edit_flag[e->kind], e->key, e->key);
        case VMIG_EDIT_RENAME:
            return vmig_err_set(err, VMIG_E_USAGE,
                                "--rename %s=%s: no collection has a vector or field by that "
                                "name (expected COLLECTION.FIELD, FIELD being the Qdrant vector "
                                "name or the Milvus field name)",
                                e->key, e->value);
        case VMIG_EDIT_SKIP_VECTOR:
            return vmig_err_set(err, VMIG_E_USAGE,
                                "--skip-vector %s: no collection has that vector (expected "
                                "COLLECTION.VECTOR or VECTOR)",
                                e->key);
        case VMIG_EDIT_FIELD:
            return vmig_err_set(err, VMIG_E_USAGE,
                                "--field %s=%s: no source collection of that name (expected "
                                "COLLECTION.KEY=TYPE)",
                                e->key, e->value);
        }
    }
    return VMIG_OK;
}

/* ---- small helpers ------------------------------------------------------------- */

/* Refuse pc: the refusal is about pc's source collection (its message names it) and,
 * with refuse_at, about one source vector (field: its Qdrant name, "" = unnamed). */
/* A refusal says what and where; its way out is the fix fact, worded by each face
 * (a flag in the CLI, a control in the console). */
static void refuse_v(struct vmig_plan_coll *pc, const char *field, enum vmig_code code,
                     enum vmig_fix fix, const char *fmt, va_list ap)
{
    if (pc->refusal.code != VMIG_OK) return; /* the first problem found is reported */
    vmig_err_setv(&pc->refusal, code, fmt, ap);
    vmig_err_at(&pc->refusal, pc->source, NULL, field);
    vmig_err_fix(&pc->refusal, fix, NULL);
}

static void refuse(struct vmig_plan_coll *pc, enum vmig_code code, enum vmig_fix fix,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void refuse(struct vmig_plan_coll *pc, enum vmig_code code, enum vmig_fix fix,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    refuse_v(pc, NULL, code, fix, fmt, ap);
    va_end(ap);
}

static void refuse_at(struct vmig_plan_coll *pc, const char *field, enum vmig_code code,
                      enum vmig_fix fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void refuse_at(struct vmig_plan_coll *pc, const char *field, enum vmig_code code,
                      enum vmig_fix fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    refuse_v(pc, field, code, fix, fmt, ap);
    va_end(ap);
}

static void note_v(struct vmig_plan_coll *pc, const char *fmt, va_list ap)
{
    if (pc->nnotes == VMIG_PLAN_NOTES) {
        snprintf(pc->notes[VMIG_PLAN_NOTES - 1], sizeof pc->notes[0], "(more notes omitted)");
        return;
    }
    vsnprintf(pc->notes[pc->nnotes++], sizeof pc->notes[0], fmt, ap);
}

static void note(struct vmig_plan_coll *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct vmig_plan_coll *pc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_v(pc, fmt, ap);
    va_end(ap);
}

void vmig_plan_note(struct vmig_plan_coll *pc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_v(pc, fmt, ap);
    va_end(ap);
}

enum vmig_code vmig_plan_refuse(struct vmig_plan_coll *pc, const char *field, enum vmig_code code,
                                enum vmig_fix fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    refuse_v(pc, field, code, fix, fmt, ap);
    va_end(ap);
    return pc->refusal.code;
}

/* "vector 'x'" or "the unnamed vector", for messages */
static const char *vec_label(const char *name, char *out, size_t n)
{
    char s[SHORT];
    if (!name[0]) {
        snprintf(out, n, "the unnamed vector");
    } else {
        vmig_name_shorten(name, s, sizeof s);
        snprintf(out, n, "vector '%s'", s);
    }
    return out;
}

static const char *shortname(const char *name, char out[SHORT])
{
    vmig_name_shorten(name, out, SHORT);
    return out;
}

static int max_fields(const struct vmig_map_opts *o)
{
    int m = o->max_vector_fields;
    if (m <= 0) return VMIG_DEFAULT_MAX_VECTOR_FIELDS;
    return m > VMIG_MAX_VECTOR_FIELDS ? VMIG_MAX_VECTOR_FIELDS : m;
}

/* Copy url without credentials, query or fragment: "https://u:p@h:6333/x?k=v" → "https://h:6333/x".
 */
static void url_without_secrets(const char *url, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t end = strcspn(url, "?#");
    size_t auth_end = (size_t)(auth - url) + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < url + auth_end; p++)
        if (*p == '@') at = p;
    struct vmig_buf b = VMIG_BUF_INIT;
    if (at) {
        vmig_buf_add(&b, url, (size_t)(auth - url));
        vmig_buf_add(&b, at + 1, (size_t)(url + end - (at + 1)));
    } else {
        vmig_buf_add(&b, url, end);
    }
    snprintf(out, n, "%s", b.p);
    vmig_buf_release(&b);
}

static const struct vmig_map_edit *find_edit(const struct vmig_map_opts *o, enum vmig_edit_kind k,
                                             const char *key)
{
    for (size_t i = 0; i < o->nedits; i++)
        if (o->edits[i].kind == k && strcmp(o->edits[i].key, key) == 0) return &o->edits[i];
    return NULL;
}

void vmig_plan_mark_used(const struct vmig_map_edit *e)
{
    ((struct vmig_map_edit *)e)->used = 1; /* the one write through const opts, see plan.h */
}
#define mark_used vmig_plan_mark_used

const char *vmig_plan_field_part(const char *key, const char *coll)
{
    size_t n = strlen(coll);
    if (strncmp(key, coll, n) == 0 && key[n] == '.') return key + n + 1;
    return NULL;
}
#define field_part vmig_plan_field_part

static int is_skipped(const struct vmig_map_opts *o, const char *coll, const char *vec)
{
    int hit = 0;
    if (!vec[0]) return 0; /* the unnamed vector is the whole collection */
    for (size_t i = 0; i < o->nedits; i++) {
        const struct vmig_map_edit *e = &o->edits[i];
        if (e->kind != VMIG_EDIT_SKIP_VECTOR) continue;
        const char *f = field_part(e->key, coll);
        if ((f && strcmp(f, vec) == 0) || strcmp(e->key, vec) == 0) {
            mark_used(e);
            hit = 1;
        }
    }
    return hit;
}

static void type_text(const struct vmig_plan_field *f, char *out, size_t n)
{
    if (f->kind == VMIG_VEC_SPARSE)
        snprintf(out, n, "SPARSE_FLOAT_VECTOR");
    else
        snprintf(out, n, "FLOAT_VECTOR(%u)", (unsigned)f->dim);
}

/* ---- what the target can hold --------------------------------------------------- */

static int target_has(const struct vmig_map_opts *o, enum vmig_feature f)
{
    return !o->target || (o->target->has & (1u << f)) != 0;
}

/* "Milvus 2.3.5" (or the reported version when the release is unknown) */
static void target_label(const struct vmig_target_caps *tc, char *out, size_t n)
{
    snprintf(out, n, "%s %s", tc->product, tc->release[0] ? tc->release : tc->version);
}

/* ", or migrate into Milvus 2.4.0 or newer" / ", or migrate into a Milvus server" */
static void newer_target(const struct vmig_target_caps *tc, enum vmig_feature f, char *out,
                         size_t n)
{
    if (tc->since[f][0])
        snprintf(out, n, "migrate into Milvus %s or newer", tc->since[f]);
    else
        snprintf(out, n, "migrate into a Milvus server instead of %s", tc->product);
}

/* Refuse what the target (o->target) cannot hold among the mapped vectors cand[]:
 * several vector fields, sparse vectors. The way out names the --skip-vector flags
 * that leave a collection the target can hold, and the first release that has it. */
static void check_target(const struct vmig_src_coll *src, const struct vmig_map_opts *o,
                         const struct vmig_plan_field *cand, size_t ncand,
                         struct vmig_plan_coll *pc)
{
    const struct vmig_target_caps *tc = o->target;
    char cn[SHORT], tl[96], way[128], lab[SHORT + 16];
    if (!tc) return;
    shortname(src->name, cn);
    target_label(tc, tl, sizeof tl);
    if (!tc->known)
        note(pc,
             "the target reports version '%s', which vmigrate does not recognise; it is "
             "planned as the newest %s",
             tc->version, tc->product);
    /* the dense vector to keep when only one fits: the first */
    size_t keep = ncand;
    for (size_t i = 0; i < ncand && keep == ncand; i++)
        if (cand[i].kind == VMIG_VEC_DENSE) keep = i;
    int sparse_ok = target_has(o, VMIG_FEAT_SPARSE);

    if (ncand > 1 && !target_has(o, VMIG_FEAT_MULTI_VECTOR)) {
        struct vmig_buf names = VMIG_BUF_INIT, skips = VMIG_BUF_INIT;
        for (size_t i = 0; i < ncand; i++) {
            char v[48];
            vmig_name_shorten(cand[i].src, v, sizeof v);
            vmig_buf_addf(&names, "%s%s", i ? ", " : "", v);
            if (i != (keep == ncand ? 0 : keep))
                vmig_buf_addf(&skips, "%s%s", skips.len ? ", " : "", v);
        }
        char since[64] = "";
        if (tc->since[VMIG_FEAT_MULTI_VECTOR][0])
            snprintf(since, sizeof since, " (several arrived in Milvus %s)",
                     tc->since[VMIG_FEAT_MULTI_VECTOR]);
        newer_target(tc, VMIG_FEAT_MULTI_VECTOR, way, sizeof way);
        refuse(pc, VMIG_E_SCHEMA, VMIG_FIX_VECTOR_LIMIT,
               "collection '%s' has %zu vector fields (%s), but the target, %s, holds one "
               "vector field per collection%s; keep one (leave out %s), or %s",
               cn, ncand, names.p, tl, since, skips.p, way);
        vmig_buf_release(&names);
        vmig_buf_release(&skips);
        return;
    }
    for (size_t i = 0; i < ncand && !sparse_ok; i++) {
        if (cand[i].kind != VMIG_VEC_SPARSE) continue;
        char v[48], skip[2 * SHORT + 48] = "";
        vmig_name_shorten(cand[i].src, v, sizeof v);
        vec_label(cand[i].src, lab, sizeof lab);
        char since[64] = "";
        if (keep != ncand) snprintf(skip, sizeof skip, "leave it out, or ");
        if (tc->since[VMIG_FEAT_SPARSE][0])
            snprintf(since, sizeof since, " (SPARSE_FLOAT_VECTOR arrived in Milvus %s)",
                     tc->since[VMIG_FEAT_SPARSE]);
        newer_target(tc, VMIG_FEAT_SPARSE, way, sizeof way);
        refuse_at(pc, cand[i].src, VMIG_E_SCHEMA,
                  keep != ncand ? VMIG_FIX_SKIP_VECTOR : VMIG_FIX_NONE,
                  "collection '%s': %s is sparse, but the target, %s, has no sparse vectors%s; "
                  "%s%s",
                  cn, lab, tl, since, skip, way);
        return;
    }
}

/* ---- building -------------------------------------------------------------------- */

/* Map one source vector to a field; 0 when it cannot be (pc->refusal says why). */
static int map_vector(const struct vmig_src_coll *src, const struct vmig_src_vector *v,
                      const struct vmig_map_opts *o, struct vmig_plan_coll *pc,
                      struct vmig_plan_field *f)
{
    char lab[SHORT + 16], cn[SHORT], vn[SHORT];
    char hint[2 * SHORT + 64] = "";
    vec_label(v->name, lab, sizeof lab);
    shortname(src->name, cn);
    shortname(v->name, vn);
    enum vmig_fix skip = v->name[0] ? VMIG_FIX_SKIP_VECTOR : VMIG_FIX_NONE;
    if (v->name[0]) snprintf(hint, sizeof hint, "; it can be left out of the migration");

    if (v->multivector) {
        refuse_at(pc, v->name, VMIG_E_SCHEMA, skip,
                  "collection '%s': %s is a multivector (max_sim); Milvus has no equivalent field "
                  "type%s",
                  cn, lab, hint);
        return 0;
    }
    if (v->datatype == VMIG_DT_OTHER) {
        refuse_at(
            pc, v->name, VMIG_E_SCHEMA, skip,
            "collection '%s': %s has datatype '%s', which vmigrate cannot convert to a Milvus "
            "vector type%s",
            cn, lab, v->datatype_name[0] ? v->datatype_name : "unknown", hint);
        return 0;
    }
    memset(f, 0, sizeof *f);
    snprintf(f->src, sizeof f->src, "%s", v->name);
    f->src_datatype = v->datatype;
    f->hnsw_m = f->hnsw_ef = -1;
    if (v->sparse) {
        f->kind = VMIG_VEC_SPARSE;
        f->metric = VMIG_METRIC_IP; /* Qdrant scores sparse vectors by dot product */
        if (v->sparse_idf)
            note(pc,
                 "sparse %s uses Qdrant's idf modifier; Milvus stores the raw weights, so "
                 "queries must apply IDF themselves",
                 lab);
    } else {
        switch (v->distance) {
        case VMIG_DIST_COSINE:
            f->metric = VMIG_METRIC_COSINE;
            break;
        case VMIG_DIST_DOT:
            f->metric = VMIG_METRIC_IP;
            break;
        case VMIG_DIST_EUCLID:
            f->metric = VMIG_METRIC_L2;
            break;
        case VMIG_DIST_MANHATTAN:
            refuse_at(
                pc, v->name, VMIG_E_SCHEMA, skip,
                "collection '%s': %s uses Manhattan distance, which Milvus does not support%s", cn,
                lab, hint);
            return 0;
        case VMIG_DIST_NONE:
        default:
            refuse_at(pc, v->name, VMIG_E_SCHEMA, skip, "collection '%s': %s has no distance%s", cn, lab,
                      hint);
            return 0;
        }
        if (v->size < 2 || v->size > VMIG_MAX_DIM) {
            refuse_at(pc, v->name, VMIG_E_SCHEMA, skip,
                      "collection '%s': %s has dimension %u; Milvus vectors need 2 to %d "
                      "dimensions%s",
                      cn, lab, (unsigned)v->size, VMIG_MAX_DIM, hint);
            return 0;
        }
        f->kind = VMIG_VEC_DENSE;
        f->dim = v->size;
        /* HNSW: the vector's own override, else the collection's, else Qdrant's defaults */
        f->hnsw_m = v->hnsw_m >= 0 ? v->hnsw_m : src->hnsw_m >= 0 ? src->hnsw_m : 16;
        f->hnsw_ef = v->hnsw_ef >= 0 ? v->hnsw_ef : src->hnsw_ef >= 0 ? src->hnsw_ef : 100;
    }
    if (v->datatype == VMIG_DT_FLOAT16 || v->datatype == VMIG_DT_UINT8)
        note(pc, "%s is stored as %s in Qdrant; it becomes %s of float32, an exact conversion", lab,
             vmig_datatype_name(v->datatype), v->sparse ? "SPARSE_FLOAT_VECTOR" : "FLOAT_VECTOR");
    return 1;
}

/* Default field names: the unnamed vector is "vector"; a name already valid (and
 * not the primary key's) is kept; the others are sanitized and made unique in
 * source order, after the kept names have been claimed. */
static void default_names(struct vmig_plan_coll *pc, int *autonamed)
{
    const char *taken[VMIG_MAX_VECTOR_FIELDS + 1];
    size_t nt = 0;
    int keep[VMIG_MAX_VECTOR_FIELDS];
    taken[nt++] = pc->pk_name;
    for (size_t i = 0; i < pc->nfields; i++) {
        struct vmig_plan_field *f = &pc->field[i];
        keep[i] = 0;
        autonamed[i] = 0;
        if (!f->src[0]) {
            snprintf(f->dst, sizeof f->dst, "vector");
            keep[i] = 1;
        } else if (vmig_field_name_is_valid(f->src) && strcmp(f->src, pc->pk_name) != 0) {
            memcpy(f->dst, f->src, strlen(f->src) + 1); /* valid: at most 255 bytes */
            keep[i] = 1;
        }
        if (keep[i]) taken[nt++] = f->dst;
    }
    for (size_t i = 0; i < pc->nfields; i++) {
        struct vmig_plan_field *f = &pc->field[i];
        if (keep[i]) continue;
        vmig_field_name_sanitize(f->src, f->dst);
        vmig_name_unique(f->dst, taken, nt);
        taken[nt++] = f->dst;
        autonamed[i] = 1;
    }
}

/* Find the field FIELD names: a Qdrant vector name first, then a Milvus field name.
 * Returns the field index, -1 for the primary key, -2 for a source vector that is
 * not a field (skipped or refused), -3 when nothing matches. */
static int resolve_field(const struct vmig_src_coll *src, const struct vmig_plan_coll *pc,
                         const char *name)
{
    for (size_t i = 0; i < pc->nfields; i++)
        if (pc->field[i].src[0] && strcmp(pc->field[i].src, name) == 0) return (int)i;
    for (size_t i = 0; i < src->nvec; i++)
        if (src->vec[i].name[0] && strcmp(src->vec[i].name, name) == 0) return -2;
    for (size_t i = 0; i < pc->nfields; i++)
        if (strcmp(pc->field[i].dst, name) == 0) return (int)i;
    if (strcmp(pc->pk_name, name) == 0) return -1;
    return -3;
}

/* The name of field i: -1 the primary key, 0..nfields-1 the vectors, then the typed
 * payload fields. */
static const char *name_at(const struct vmig_plan_coll *pc, int i)
{
    if (i < 0) return pc->pk_name;
    if ((size_t)i < pc->nfields) return pc->field[i].dst;
    return pc->scalar[(size_t)i - pc->nfields].dst;
}

/* First pair of equal names among the primary key, the vectors and the typed fields,
 * as indexes of name_at(); 0 when all are unique. */
static int find_duplicate(const struct vmig_plan_coll *pc, int *a, int *b)
{
    int n = (int)(pc->nfields + pc->nscalars);
    for (int i = -1; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(name_at(pc, i), name_at(pc, j)) == 0) {
                *a = i;
                *b = j;
                return 1;
            }
    return 0;
}

static void field_label(const struct vmig_plan_coll *pc, int i, char *out, size_t n)
{
    char s[SHORT];
    if (i < 0) {
        snprintf(out, n, "the primary key");
    } else if ((size_t)i < pc->nfields) {
        vec_label(pc->field[i].src, out, n);
    } else {
        vmig_name_shorten(pc->scalar[(size_t)i - pc->nfields].src, s, sizeof s);
        snprintf(out, n, "payload key '%s'", s);
    }
}

/* The typed field a rename's FIELD names: its payload key, then its Milvus name. */
static struct vmig_plan_scalar *resolve_scalar(struct vmig_plan_coll *pc, const char *name)
{
    for (size_t i = 0; i < pc->nscalars; i++)
        if (strcmp(pc->scalar[i].src, name) == 0) return &pc->scalar[i];
    for (size_t i = 0; i < pc->nscalars; i++)
        if (strcmp(pc->scalar[i].dst, name) == 0) return &pc->scalar[i];
    return NULL;
}

enum vmig_code vmig_plan_coll_build(const struct vmig_src_coll *src, const struct vmig_map_opts *o,
                                    struct vmig_plan_coll *pc)
{
    char cn[SHORT], tmp[SHORT], lab[SHORT + 16];
    struct vmig_plan_field cand[VMIG_SRC_MAX_VECTORS];
    size_t ncand = 0;
    int autonamed[VMIG_MAX_VECTOR_FIELDS] = {0}, renamed[VMIG_MAX_VECTOR_FIELDS] = {0};
    int maxf = max_fields(o);

    memset(pc, 0, sizeof *pc);
    shortname(src->name, cn);
    snprintf(pc->source, sizeof pc->source, "%s", src->name);
    snprintf(pc->pk_name, sizeof pc->pk_name, "id");
    pc->pk_type = VMIG_PK_INT64;
    pc->null_policy = o->nulls;
    pc->conflict_policy = o->conflict;
    snprintf(pc->conflict_prefix, sizeof pc->conflict_prefix, "payload_");
    pc->index = o->index;
    pc->source_count = src->points_approx;
    vmig_err_clear(&pc->refusal);

    if (o->max_vector_fields < 0 || o->max_vector_fields > VMIG_MAX_VECTOR_FIELDS)
        refuse(pc, VMIG_E_USAGE, VMIG_FIX_VECTOR_LIMIT,
               "the vector limit must be between 1 and %d, got %d",
               VMIG_MAX_VECTOR_FIELDS, o->max_vector_fields);

    /* target collection and description */
    vmig_name_sanitize(src->name, pc->target);
    if (strcmp(pc->target, src->name) != 0 && !find_edit(o, VMIG_EDIT_TARGET_NAME, src->name))
        note(pc, "'%s' is not a valid Milvus collection name; the target is '%s'", cn,
             shortname(pc->target, tmp));
    if (o->source_url && o->source_url[0]) {
        char url[512];
        url_without_secrets(o->source_url, url, sizeof url);
        snprintf(pc->description, sizeof pc->description,
                 "Migrated by vmigrate from Qdrant collection '%s' at %s", cn, url);
    } else {
        snprintf(pc->description, sizeof pc->description,
                 "Migrated by vmigrate from Qdrant collection '%s'", cn);
    }

    /* primary key: Int64 only when every id is known to be an integer < 2^63 */
    if (!src->ids_probed || src->has_big_ids || src->has_uuids) {
        pc->pk_type = VMIG_PK_VARCHAR;
        pc->pk_max_length = 36;
        note(pc,
             "the primary key is VarChar(36) because %s; it holds the decimal id (at most "
             "20 digits) or the canonical UUID text (36 characters)",
             !src->ids_probed                     ? "the ids were not probed"
             : src->has_uuids && src->has_big_ids ? "the source has UUID ids and ids >= 2^63"
             : src->has_uuids                     ? "the source has UUID ids"
                                                  : "the source has integer ids >= 2^63");
    }

    /* vectors */
    if (src->too_many_vectors)
        refuse(pc, VMIG_E_SCHEMA, VMIG_FIX_NONE,
               "collection '%s' has more than %d vectors; Milvus allows at most %d per collection",
               cn, VMIG_SRC_MAX_VECTORS, maxf);
    for (size_t i = 0; i < src->nvec && i < VMIG_SRC_MAX_VECTORS; i++) {
        const struct vmig_src_vector *v = &src->vec[i];
        if (is_skipped(o, src->name, v->name)) {
            snprintf(pc->skipped[pc->nskipped++], sizeof pc->skipped[0], "%s", v->name);
            continue;
        }
        if (map_vector(src, v, o, pc, &cand[ncand])) ncand++;
    }
    check_target(src, o, cand, ncand, pc);
    if (ncand == 0 && !src->too_many_vectors) {
        refuse(pc, VMIG_E_SCHEMA, pc->nskipped ? VMIG_FIX_SKIP_VECTOR : VMIG_FIX_NONE,
               "collection '%s' has no vector field to migrate%s; Milvus needs at least one "
               "vector field per collection",
               cn, pc->nskipped ? " (all were left out)" : "");
    } else if (ncand > (size_t)maxf) {
        struct vmig_buf names = VMIG_BUF_INIT;
        for (size_t i = 0; i < ncand; i++) {
            char s[48];
            vmig_name_shorten(cand[i].src, s, sizeof s);
            vmig_buf_addf(&names, "%s%s", i ? ", " : "", s);
        }
        refuse(pc, VMIG_E_SCHEMA, VMIG_FIX_VECTOR_LIMIT,
               "collection '%s' has %zu vector fields (%s); %s allows at most %d per "
               "collection",
               cn, ncand, names.p,
               maxf < VMIG_MAX_VECTOR_FIELDS ? "the vector limit" : "Milvus", maxf);
        vmig_buf_release(&names);
    }
    pc->nfields = ncand < VMIG_MAX_VECTOR_FIELDS ? ncand : VMIG_MAX_VECTOR_FIELDS;
    memcpy(pc->field, cand, pc->nfields * sizeof cand[0]);
    default_names(pc, autonamed);
    vmig_plan_scalars(src, o, pc);

    /* edits: renames, then uniqueness over the final names (so swaps work) */
    for (size_t e = 0; e < o->nedits; e++) {
        const struct vmig_map_edit *ed = &o->edits[e];
        const char *fname;
        if (ed->kind != VMIG_EDIT_RENAME || !(fname = field_part(ed->key, src->name))) continue;
        int idx = resolve_field(src, pc, fname);
        struct vmig_plan_scalar *sc = idx == -3 ? resolve_scalar(pc, fname) : NULL;
        if (idx == -3 && !sc) continue;
        mark_used(ed);
        if (idx == -2) continue; /* a skipped or refused vector: nothing to rename */
        if (sc)
            snprintf(lab, sizeof lab, "payload key '%s'", shortname(sc->src, tmp));
        else if (idx >= 0)
            vec_label(pc->field[idx].src, lab, sizeof lab);
        else
            snprintf(lab, sizeof lab, "the primary key");
        const char *why = vmig_name_problem(ed->value, 1);
        if (why) {
            refuse_at(pc,
                      sc         ? sc->src
                      : idx >= 0 ? pc->field[idx].src
                                 : NULL,
                      VMIG_E_USAGE, VMIG_FIX_RENAME_FIELD,
                      "collection '%s': cannot rename %s to '%s': a Milvus field name %s", cn, lab,
                      shortname(ed->value, tmp), why);
            continue;
        }
        if (sc) {
            snprintf(sc->dst, sizeof sc->dst, "%s", ed->value);
        } else if (idx >= 0) {
            snprintf(pc->field[idx].dst, sizeof pc->field[idx].dst, "%s", ed->value);
            renamed[idx] = 1;
        } else {
            snprintf(pc->pk_name, sizeof pc->pk_name, "%s", ed->value);
        }
    }
    int da, db;
    if (find_duplicate(pc, &da, &db)) {
        char la[SHORT + 16], lb[SHORT + 16];
        field_label(pc, da, la, sizeof la);
        field_label(pc, db, lb, sizeof lb);
        refuse(pc, VMIG_E_USAGE, VMIG_FIX_RENAME_FIELD,
               "collection '%s': field name '%s' is given to both %s and %s; field names must be "
               "unique within a collection",
               cn, shortname(name_at(pc, db), tmp), la, lb);
    }
    struct vmig_err serr;
    if (vmig_plan_scalars_check(pc, o->target, &serr) && pc->refusal.code == VMIG_OK)
        pc->refusal = serr;
    for (size_t i = 0; i < pc->nfields; i++) {
        if (!autonamed[i] || renamed[i]) continue;
        char s[48], d[48];
        vmig_name_shorten(pc->field[i].src, s, sizeof s);
        vmig_name_shorten(pc->field[i].dst, d, sizeof d);
        note(pc, "vector '%s' becomes field '%s' (%s)", s, d,
             vmig_field_name_is_valid(pc->field[i].src)
                 ? "the name is taken"
                 : "Milvus names allow only letters, digits and '_', at most 255 bytes");
    }

    const struct vmig_map_edit *ed = find_edit(o, VMIG_EDIT_TARGET_NAME, src->name);
    if (ed) {
        mark_used(ed);
        const char *why = vmig_name_problem(ed->value, 0);
        if (why)
            refuse(pc, VMIG_E_USAGE, VMIG_FIX_TARGET_NAME,
                   "collection '%s': target name '%s' is not valid: a Milvus collection name %s",
                   cn, shortname(ed->value, tmp), why);
        else
            snprintf(pc->target, sizeof pc->target, "%s", ed->value);
    }
    ed = find_edit(o, VMIG_EDIT_DESCRIPTION, src->name);
    if (ed) {
        mark_used(ed);
        if (strlen(ed->value) >= sizeof pc->description)
            refuse(pc, VMIG_E_USAGE, VMIG_FIX_DESCRIPTION,
                   "collection '%s': the description is longer than %zu bytes", cn,
                   sizeof pc->description - 1);
        else
            snprintf(pc->description, sizeof pc->description, "%s", ed->value);
    }
    return pc->refusal.code;
}

void vmig_plan_coll_set_target_exists(struct vmig_plan_coll *pc, int exists)
{
    char t[SHORT], s[SHORT];
    pc->target_exists = exists != 0;
    if (exists)
        refuse(pc, VMIG_E_EXISTS, VMIG_FIX_TARGET_NAME,
               "collection '%s': target collection '%s' already exists in Milvus",
               shortname(pc->source, s), shortname(pc->target, t));
}

enum vmig_code vmig_plan_check_targets(struct vmig_plan *p)
{
    enum vmig_code first = VMIG_OK;
    for (size_t i = 0; i < p->n; i++)
        for (size_t j = i + 1; j < p->n; j++) {
            struct vmig_plan_coll *a = &p->coll[i], *b = &p->coll[j];
            if (strcmp(a->target, b->target) != 0) continue;
            char sa[SHORT], sb[SHORT], t[SHORT];
            shortname(a->source, sa);
            shortname(b->source, sb);
            shortname(a->target, t);
            refuse(a, VMIG_E_SCHEMA, VMIG_FIX_TARGET_NAME,
                   "collections '%s' and '%s' would both become Milvus collection '%s'", sa, sb,
                   t);
            refuse(b, VMIG_E_SCHEMA, VMIG_FIX_TARGET_NAME,
                   "collections '%s' and '%s' would both become Milvus collection '%s'", sa, sb,
                   t);
        }
    for (size_t i = 0; i < p->n && first == VMIG_OK; i++)
        first = p->coll[i].refusal.code;
    return first;
}

/* ---- edited plans ------------------------------------------------------------------ */

static const struct vmig_plan_field *field_by_src(const struct vmig_plan_coll *pc, const char *src)
{
    for (size_t i = 0; i < pc->nfields; i++)
        if (strcmp(pc->field[i].src, src) == 0) return &pc->field[i];
    return NULL;
}

static const char *pk_text(enum vmig_pk_type t)
{
    return t == VMIG_PK_VARCHAR ? "VarChar" : "Int64";
}

enum vmig_code vmig_plan_coll_check_edit(const struct vmig_plan_coll *fresh,
                                         const struct vmig_plan_coll *edited, struct vmig_err *err)
{
    char cn[SHORT], tmp[SHORT], lab[SHORT + 16], a[64], b[64];
    const char *why;
    shortname(fresh->source, cn);

    if (fresh->refusal.code == VMIG_E_SCHEMA) {
        if (err) *err = fresh->refusal; /* with its facts */
        return VMIG_E_SCHEMA;
    }
    if (strcmp(fresh->source, edited->source) != 0)
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': the plan file is for source collection '%s'", cn,
                            shortname(edited->source, tmp));
    if (fresh->pk_type != edited->pk_type ||
        (fresh->pk_type == VMIG_PK_VARCHAR && fresh->pk_max_length != edited->pk_max_length)) {
        snprintf(a, sizeof a, "%s", pk_text(fresh->pk_type));
        snprintf(b, sizeof b, "%s", pk_text(edited->pk_type));
        if (fresh->pk_type == VMIG_PK_VARCHAR)
            snprintf(a, sizeof a, "VarChar(%u)", (unsigned)fresh->pk_max_length);
        if (edited->pk_type == VMIG_PK_VARCHAR)
            snprintf(b, sizeof b, "VarChar(%u)", (unsigned)edited->pk_max_length);
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': primary key type cannot change (%s in the source "
                            "mapping, %s in the plan file)",
                            cn, a, b);
    }
    for (size_t i = 0; i < fresh->nfields; i++)
        if (!field_by_src(edited, fresh->field[i].src))
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': %s is missing from the plan file; vectors cannot "
                                "be added or removed by editing (make a new plan with "
                                "--skip-vector to leave one out)",
                                cn, vec_label(fresh->field[i].src, lab, sizeof lab));
    for (size_t i = 0; i < fresh->nfields; i++) {
        const struct vmig_plan_field *f = &fresh->field[i];
        const struct vmig_plan_field *g = field_by_src(edited, f->src);
        type_text(f, a, sizeof a);
        type_text(g, b, sizeof b);
        if (strcmp(a, b) != 0)
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': field '%s' type cannot change (%s in the source "
                                "mapping, %s in the plan file)",
                                cn, shortname(g->dst, tmp), a, b);
        if (f->metric != g->metric)
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': field '%s' metric cannot change (%s in the "
                                "source mapping, %s in the plan file)",
                                cn, shortname(g->dst, tmp), vmig_metric_name(f->metric),
                                vmig_metric_name(g->metric));
        if (f->src_datatype != g->src_datatype)
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': field '%s' source_datatype cannot change (%s in "
                                "the source mapping, %s in the plan file)",
                                cn, shortname(g->dst, tmp), vmig_datatype_name(f->src_datatype),
                                vmig_datatype_name(g->src_datatype));
        /* hnsw may be left out (-1: Milvus's own defaults), not set out of range */
        if (g->kind == VMIG_VEC_DENSE &&
            ((g->hnsw_m != -1 && (g->hnsw_m < 2 || g->hnsw_m > 2048)) ||
             (g->hnsw_ef != -1 && g->hnsw_ef < 1)))
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': field '%s': hnsw m must be 2..2048 and "
                                "ef_construct at least 1 (got %d and %d)",
                                cn, shortname(g->dst, tmp), g->hnsw_m, g->hnsw_ef);
    }
    for (size_t i = 0; i < edited->nfields; i++)
        if (!field_by_src(fresh, edited->field[i].src))
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': %s in the plan file is not in the source "
                                "mapping; vectors cannot be added by editing",
                                cn, vec_label(edited->field[i].src, lab, sizeof lab));
    if (fresh->nskipped != edited->nskipped)
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': skipped_vectors cannot change by editing", cn);
    for (size_t i = 0; i < fresh->nskipped; i++) {
        int found = 0;
        for (size_t j = 0; j < edited->nskipped; j++)
            if (strcmp(fresh->skipped[i], edited->skipped[j]) == 0) found = 1;
        if (!found)
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': skipped_vectors cannot change by editing", cn);
    }

    /* the editable parts must obey Milvus's rules */
    if ((why = vmig_name_problem(edited->target, 0)))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': target '%s' is not valid: a Milvus collection name %s",
                            cn, shortname(edited->target, tmp), why);
    if ((why = vmig_name_problem(edited->pk_name, 1)))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': primary key name '%s' is not valid: a Milvus field "
                            "name %s",
                            cn, shortname(edited->pk_name, tmp), why);
    for (size_t i = 0; i < edited->nfields; i++)
        if ((why = vmig_name_problem(edited->field[i].dst, 1)))
            return vmig_err_set(err, VMIG_E_USAGE,
                                "plan for '%s': field '%s' (%s) is not valid: a Milvus field "
                                "name %s",
                                cn, shortname(edited->field[i].dst, tmp),
                                vec_label(edited->field[i].src, lab, sizeof lab), why);
    int da, db;
    if (find_duplicate(edited, &da, &db))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "plan for '%s': field name '%s' is used twice; field names must be "
                            "unique within a collection",
                            cn, shortname(name_at(edited, db), tmp));
    /* typed payload fields may be changed freely within Milvus's rules; the target's
     * own limits are checked by the caller, which knows the target */
    if (vmig_plan_scalars_check(edited, NULL, err)) return err ? err->code : VMIG_E_USAGE;
    if (edited->conflict_policy == VMIG_CONFLICT_PREFIX && !edited->conflict_prefix[0])
        return vmig_err_set(err, VMIG_E_USAGE, "plan for '%s': payload_prefix must not be empty",
                            cn);
    if (edited->target_exists)
        return vmig_err_set(err, VMIG_E_EXISTS,
                            "target collection '%s' already exists in Milvus (change \"target\" "
                            "for '%s' in the plan file, or drop it)",
                            shortname(edited->target, tmp), cn);
    return VMIG_OK;
}

/* ---- preview ----------------------------------------------------------------------- */

void vmig_plan_coll_describe(const struct vmig_plan_coll *pc, struct vmig_buf *out)
{
    char t[64];
    vmig_buf_addf(out, "collection '%s' -> Milvus collection '%s'%s\n", pc->source, pc->target,
                  pc->refusal.code ? "  [REFUSED]" : "");
    vmig_buf_addf(out, "  description: %s\n", pc->description);
    if (pc->pk_type == VMIG_PK_VARCHAR)
        snprintf(t, sizeof t, "VarChar(%u)", (unsigned)pc->pk_max_length);
    else
        snprintf(t, sizeof t, "Int64");
    vmig_buf_addf(out, "  %-24s %-26s primary key, auto_id off, from the point id\n", pc->pk_name,
                  t);
    for (size_t i = 0; i < pc->nfields; i++) {
        const struct vmig_plan_field *f = &pc->field[i];
        type_text(f, t, sizeof t);
        vmig_buf_addf(out, "  %-24s %-26s %-6s from ", f->dst, t, vmig_metric_name(f->metric));
        if (f->src[0])
            vmig_buf_addf(out, "vector '%s'", f->src);
        else
            vmig_buf_adds(out, "the unnamed vector");
        if (f->src_datatype != VMIG_DT_FLOAT32)
            vmig_buf_addf(out, " (%s, converted exactly)", vmig_datatype_name(f->src_datatype));
        if (f->kind == VMIG_VEC_DENSE && pc->index == VMIG_INDEX_HNSW)
            vmig_buf_addf(out, ", HNSW m=%d ef_construct=%d", f->hnsw_m, f->hnsw_ef);
        vmig_buf_addch(out, '\n');
    }
    const char *pkey = NULL;
    for (size_t i = 0; i < pc->nscalars; i++) {
        const struct vmig_plan_scalar *sc = &pc->scalar[i];
        char ty[64];
        vmig_scalar_type_text(sc, ty, sizeof ty);
        if (sc->nullable)
            snprintf(t, sizeof t, "%s NULL", ty);
        else
            snprintf(t, sizeof t, "%s", ty);
        vmig_buf_addf(out, "  %-24s %-26s from payload key '%s'", sc->dst, t, sc->src);
        if (sc->from_index)
            vmig_buf_addf(out, " (Qdrant %s index)", vmig_payload_index_name(sc->from_index));
        if (sc->index) vmig_buf_addf(out, ", index %s", vmig_scalar_index_name(sc->index));
        if (sc->has_default) vmig_buf_addf(out, ", default %s", sc->default_json);
        if (sc->partition_key) {
            vmig_buf_adds(out, ", partition key");
            pkey = sc->dst;
        }
        vmig_buf_addch(out, '\n');
    }
    if (pc->nscalars)
        vmig_buf_addf(out, "  %-24s %-26s values that do not fit: %s\n", "", "",
                      vmig_misfit_policy_name(pc->misfit));
    vmig_buf_addf(out, "  %-24s %-26s null values: %s, key conflicts: %s", "$meta",
                  "dynamic field (JSON)", vmig_null_policy_name(pc->null_policy),
                  vmig_conflict_policy_name(pc->conflict_policy));
    if (pc->conflict_policy == VMIG_CONFLICT_PREFIX)
        vmig_buf_addf(out, " (prefix '%s')", pc->conflict_prefix);
    vmig_buf_adds(out, "\n");
    if (pkey)
        vmig_buf_addf(out, "  index: %s; partition key: %s (%u partitions); points: %llu\n",
                      vmig_index_kind_name(pc->index), pkey, (unsigned)pc->num_partitions,
                      (unsigned long long)pc->source_count);
    else
        vmig_buf_addf(out, "  index: %s; partition key: off; points: %llu\n",
                      vmig_index_kind_name(pc->index), (unsigned long long)pc->source_count);
    for (size_t i = 0; i < pc->nskipped; i++)
        vmig_buf_addf(out, "  skipped: vector '%s'\n", pc->skipped[i]);
    for (size_t i = 0; i < pc->nnotes; i++)
        vmig_buf_addf(out, "  note: %s\n", pc->notes[i]);
    if (pc->refusal.code)
        vmig_buf_addf(out, "  refused (%s): %s\n", vmig_code_json_name(pc->refusal.code),
                      pc->refusal.msg);
}

/*
 * milvus_bulk_codec.c - the pure half of bulk import (milvus_bulk.h): rows of a batch
 * as the objects of a row-based JSON import file, and the protobuf messages of
 * Import, GetImportState, ListImportTasks and the refresh Load. No I/O.
 *
 * Exactness: int64 ids are printed as integers (Go's JSON decoder in Milvus's import
 * reads them as json.Number, never through a double); float32 vector values with %.9g,
 * the shortest width that brings every float32 back bit for bit; doubles with %.17g.
 * Strings go through the one JSON string escaper (util/buf). Typed fields that are null
 * are written as an explicit null: a key left out fails the whole import on Milvus 2.5
 * (milvus#39036).
 */
#include "target/milvus_bulk.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "milvus.pb-c.h"
#include "target/milvus_codec.h"

#define S(x) ((char *)(x)) /* protobuf-c structs take char *; we never write through it */
#define DB(db) S((db) ? (db) : "")

int vmig_milvus_import_done(int state)
{
    return state == VMIG_MIMPORT_COMPLETED || state == VMIG_MIMPORT_FAILED ||
           state == VMIG_MIMPORT_FAILED_CLEANED;
}

enum vmig_code vmig_milvus_bulk_shape(const struct vmig_plan_coll *pc, struct vmig_err *err)
{
    for (size_t f = 0; f < pc->nfields; f++)
        if (pc->field[f].kind != VMIG_VEC_DENSE) {
            vmig_err_set(err, VMIG_E_SCHEMA,
                         "collection '%s' cannot be bulk imported: vector '%s' is sparse, which "
                         "the JSON import files do not carry",
                         pc->target, pc->field[f].dst);
            vmig_err_at(err, pc->target, NULL, pc->field[f].dst);
            return vmig_err_fix(err, VMIG_FIX_WRITE_MODE, NULL);
        }
    for (size_t s = 0; s < pc->nscalars; s++) {
        enum vmig_scalar_type t = pc->scalar[s].type;
        if (t == VMIG_SC_GEOMETRY || t == VMIG_SC_TIMESTAMPTZ) {
            vmig_err_set(err, VMIG_E_SCHEMA,
                         "collection '%s' cannot be bulk imported: field '%s' is a %s field, "
                         "which the JSON import files do not carry",
                         pc->target, pc->scalar[s].dst,
                         t == VMIG_SC_GEOMETRY ? "GEOMETRY" : "TIMESTAMPTZ");
            vmig_err_at(err, pc->target, NULL, pc->scalar[s].dst);
            return vmig_err_fix(err, VMIG_FIX_WRITE_MODE, NULL);
        }
    }
    return VMIG_OK;
}

static enum vmig_code bad_point(const struct vmig_plan_coll *pc, const struct vmig_point_id *id,
                                const char *why, const char *field, struct vmig_err *err)
{
    char t[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(id, t);
    vmig_err_set(err, VMIG_E_DATA, "cannot write point %s to an import file of '%s': %s", t,
                 pc->target, why);
    vmig_err_at(err, pc->target, t, field);
    return VMIG_E_DATA;
}

static enum vmig_code enc_pk(const struct vmig_plan_coll *pc, const struct vmig_point_id *id,
                             struct vmig_buf *out, struct vmig_err *err)
{
    char t[VMIG_ID_TEXT_MAX];
    vmig_buf_addch(out, '{');
    vmig_buf_add_json_str(out, pc->pk_name);
    vmig_buf_addch(out, ':');
    if (pc->pk_type == VMIG_PK_INT64) {
        if (id->kind != VMIG_ID_NUM || id->num > INT64_MAX)
            return bad_point(pc, id, "the id does not fit the Int64 primary key", NULL, err);
        vmig_buf_addf(out, "%" PRIu64, id->num);
        return VMIG_OK;
    }
    size_t len = vmig_point_id_format(id, t);
    if (len > pc->pk_max_length)
        return bad_point(pc, id, "the id is longer than the pk max_length", NULL, err);
    vmig_buf_add_json_strn(out, t, len);
    return VMIG_OK;
}

static enum vmig_code enc_dense(const struct vmig_plan_coll *pc, const struct vmig_batch *b,
                                size_t c, size_t r, struct vmig_buf *out, struct vmig_err *err)
{
    const float *v = vmig_batch_dense_at(b, c, r);
    uint32_t dim = b->col[c].dim;
    vmig_buf_addch(out, ',');
    vmig_buf_add_json_str(out, pc->field[c].dst);
    vmig_buf_adds(out, ":[");
    /* one grow for the row: at most 16 bytes per "%.9g," */
    vmig_buf_grow(out, (size_t)dim * 16 + 2);
    for (uint32_t i = 0; i < dim; i++) {
        if (!isfinite(v[i]))
            return bad_point(pc, &b->ids[r], "a vector value is not finite", pc->field[c].dst, err);
        char num[32];
        int n = snprintf(num, sizeof num, i ? ",%.9g" : "%.9g", (double)v[i]);
        vmig_buf_add(out, num, (size_t)n);
    }
    vmig_buf_addch(out, ']');
    return VMIG_OK;
}

static void enc_scalar(const struct vmig_plan_coll *pc, const struct vmig_batch *b, size_t s,
                       size_t r, struct vmig_buf *out)
{
    size_t len;
    const char *v = vmig_batch_scalar_at(b, s, r, &len);
    vmig_buf_addch(out, ',');
    vmig_buf_add_json_str(out, pc->scalar[s].dst);
    vmig_buf_addch(out, ':');
    if (!v) {
        vmig_buf_adds(out, "null");
        return;
    }
    switch (pc->scalar[s].type) {
    case VMIG_SC_BOOL:
        vmig_buf_adds(out, *v ? "true" : "false");
        break;
    case VMIG_SC_INT64: {
        int64_t x;
        memcpy(&x, v, sizeof x);
        vmig_buf_addf(out, "%" PRId64, x);
        break;
    }
    case VMIG_SC_DOUBLE: {
        double x;
        memcpy(&x, v, sizeof x);
        vmig_buf_addf(out, "%.17g", x);
        break;
    }
    case VMIG_SC_VARCHAR:
        vmig_buf_add_json_strn(out, v, len);
        break;
    default: /* JSON and ARRAY: the value's JSON text */
        vmig_buf_add(out, v, len);
        break;
    }
}

enum vmig_code vmig_milvus_bulk_enc_rows(const struct vmig_plan_coll *pc,
                                         const struct vmig_batch *b, size_t lo, size_t hi,
                                         int first, struct vmig_buf *out, struct vmig_err *err)
{
    enum vmig_code rc;
    if (hi > b->n || b->ncols != pc->nfields || b->nscalars != pc->nscalars)
        return vmig_err_set(err, VMIG_E_INTERNAL, "import file rows [%zu, %zu) of a %zu-row batch",
                            lo, hi, b->n);
    if ((rc = vmig_milvus_bulk_shape(pc, err))) return rc;
    for (size_t r = lo; r < hi; r++) {
        if (!(first && r == lo)) vmig_buf_adds(out, ",\n");
        if ((rc = enc_pk(pc, &b->ids[r], out, err))) return rc;
        for (size_t c = 0; c < pc->nfields; c++)
            if ((rc = enc_dense(pc, b, c, r, out, err))) return rc;
        for (size_t s = 0; s < pc->nscalars; s++)
            enc_scalar(pc, b, s, r, out);
        size_t mlen;
        const char *m = vmig_batch_meta_at(b, r, &mlen);
        vmig_buf_adds(out, ",\"" VMIG_MILVUS_META "\":");
        if (mlen)
            vmig_buf_add(out, m, mlen);
        else
            vmig_buf_adds(out, "{}");
        vmig_buf_addch(out, '}');
    }
    return VMIG_OK;
}

/* ------------------------------------------------------------------ messages */

static void pack(const ProtobufCMessage *m, struct vmig_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    if (n) protobuf_c_message_pack(m, (uint8_t *)out->p);
    vmig_buf_setlen(out, n);
}

#define UNPACK(type, var, p, len, what)                                                            \
    var = vmig__milvus__##type##__unpack(NULL, (len), (const uint8_t *)(p));                       \
    if (!var) {                                                                                    \
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: cannot decode the %s response", (what),       \
                          #type);                                                                  \
        goto out;                                                                                  \
    }

void vmig_milvus_enc_import(const char *db, const char *coll, const char *file,
                            struct vmig_buf *out)
{
    Vmig__Milvus__ImportRequest r = VMIG__MILVUS__IMPORT_REQUEST__INIT;
    char *files[1] = {S(file)};
    r.db_name = DB(db);
    r.collection_name = S(coll);
    r.row_based = 1;
    r.n_files = 1;
    r.files = files;
    pack(&r.base, out);
}

enum vmig_code vmig_milvus_dec_import(const void *p, size_t len, const char *what, int64_t *task,
                                      struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__ImportResponse *r = NULL;
    UNPACK(import_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    if (!r->n_tasks) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: the server named no import task", what);
        goto out;
    }
    *task = r->tasks[0];
out:
    if (r) vmig__milvus__import_response__free_unpacked(r, NULL);
    return rc;
}

void vmig_milvus_enc_import_state(int64_t task, struct vmig_buf *out)
{
    Vmig__Milvus__GetImportStateRequest r = VMIG__MILVUS__GET_IMPORT_STATE_REQUEST__INIT;
    r.task = task;
    pack(&r.base, out);
}

static void state_of(const Vmig__Milvus__GetImportStateResponse *r,
                     struct vmig_milvus_import_state *st)
{
    memset(st, 0, sizeof *st);
    st->id = r->id;
    st->state = r->state;
    st->rows = r->row_count;
    for (size_t i = 0; i < r->n_infos; i++)
        if (r->infos[i]->key && !strcmp(r->infos[i]->key, "failed_reason") && r->infos[i]->value)
            snprintf(st->reason, sizeof st->reason, "%s", r->infos[i]->value);
}

enum vmig_code vmig_milvus_dec_import_state(const void *p, size_t len, const char *what,
                                            struct vmig_milvus_import_state *st,
                                            struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__GetImportStateResponse *r = NULL;
    UNPACK(get_import_state_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    state_of(r, st);
out:
    if (r) vmig__milvus__get_import_state_response__free_unpacked(r, NULL);
    return rc;
}

void vmig_milvus_enc_list_imports(const char *db, const char *coll, struct vmig_buf *out)
{
    Vmig__Milvus__ListImportTasksRequest r = VMIG__MILVUS__LIST_IMPORT_TASKS_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(coll);
    pack(&r.base, out);
}

enum vmig_code vmig_milvus_dec_list_imports(const void *p, size_t len, const char *what,
                                            size_t *running, int64_t *first, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__ListImportTasksResponse *r = NULL;
    *running = 0;
    *first = 0;
    UNPACK(list_import_tasks_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    for (size_t i = 0; i < r->n_tasks; i++)
        if (!vmig_milvus_import_done(r->tasks[i]->state)) {
            if (!*running) *first = r->tasks[i]->id;
            (*running)++;
        }
out:
    if (r) vmig__milvus__list_import_tasks_response__free_unpacked(r, NULL);
    return rc;
}

void vmig_milvus_enc_loading_progress(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__GetLoadingProgressRequest r = VMIG__MILVUS__GET_LOADING_PROGRESS_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    pack(&r.base, out);
}

enum vmig_code vmig_milvus_dec_refresh_progress(const void *p, size_t len, const char *what,
                                                int64_t *progress, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__GetLoadingProgressResponse *r = NULL;
    UNPACK(get_loading_progress_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    *progress = r->refresh_progress;
out:
    if (r) vmig__milvus__get_loading_progress_response__free_unpacked(r, NULL);
    return rc;
}

/* ------------------------------------------------------------------ NumPy */

void vmig_npy_header(char out[VMIG_NPY_HEADER], const char *descr, uint64_t rows, uint32_t dim)
{
    char shape[64];
    if (dim)
        snprintf(shape, sizeof shape, "(%" PRIu64 ", %u)", rows, dim);
    else
        snprintf(shape, sizeof shape, "(%" PRIu64 ",)", rows);
    /* magic, version 1.0, little-endian header length, then the dict padded with spaces to
     * the fixed size and ended by '\n' (numpy's format: the data starts 64-byte aligned) */
    memset(out, ' ', VMIG_NPY_HEADER);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((VMIG_NPY_HEADER - 10) & 0xff);
    out[9] = (char)((VMIG_NPY_HEADER - 10) >> 8);
    char dict[VMIG_NPY_HEADER];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, shape);
    if (n > 0 && (size_t)n < VMIG_NPY_HEADER - 11) memcpy(out + 10, dict, (size_t)n);
    out[VMIG_NPY_HEADER - 1] = '\n';
}

size_t vmig_utf8_to_utf32le(const char *s, size_t n, uint8_t *out, size_t max_chars)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max_chars;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (i + len > n) len = 1;
        cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t j = 1; j < len; j++)
            cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
        if (out) {
            out[4 * k] = (uint8_t)cp;
            out[4 * k + 1] = (uint8_t)(cp >> 8);
            out[4 * k + 2] = (uint8_t)(cp >> 16);
            out[4 * k + 3] = (uint8_t)(cp >> 24);
        }
        k++;
        i += len;
    }
    return k;
}

int vmig_milvus_bulk_npy_fits(const struct vmig_plan_coll *pc)
{
    if (pc->nscalars) return 0; /* typed fields (and their nulls) go as JSON rows */
    for (size_t f = 0; f < pc->nfields; f++)
        if (pc->field[f].kind != VMIG_VEC_DENSE) return 0;
    return 1;
}

void vmig_milvus_enc_import_files(const char *db, const char *coll, int row_based,
                                  const char *const *files, size_t n, struct vmig_buf *out)
{
    Vmig__Milvus__ImportRequest r = VMIG__MILVUS__IMPORT_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(coll);
    r.row_based = row_based;
    r.n_files = n;
    r.files = (char **)files;
    pack(&r.base, out);
}

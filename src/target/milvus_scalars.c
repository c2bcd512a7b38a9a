/*
 * milvus_scalars.c - the typed payload columns of a batch as Milvus FieldData, for
 * Insert/Upsert, and back from Query results, for verification. Pure, like the rest
 * of the codec: the write side points into the batch where it can (ints, doubles,
 * JSON bytes) and copies only what protobuf-c needs in its own form (NUL-ended
 * strings, bools, the elements of arrays).
 *
 * Nullable columns go in the compact form pymilvus sends (valid_data for every row,
 * the values of the valid rows only); reading takes the compact and the full form.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/milvus_codec.h"
#include "util/alloc.h"
#include "util/datetime.h"

struct vmig_mscol {
    Vmig__Milvus__ScalarField sf;
    Vmig__Milvus__BoolArray ba;
    Vmig__Milvus__LongArray la;
    Vmig__Milvus__DoubleArray da;
    Vmig__Milvus__StringArray sa;
    Vmig__Milvus__JSONArray ja;
    Vmig__Milvus__ArrayArray aa;
    Vmig__Milvus__TimestamptzArray ta;
    Vmig__Milvus__GeometryWktArray ga;
    size_t *prefix; /* prefix[r] = valid rows among the first r */
    protobuf_c_boolean *valid;
    protobuf_c_boolean *bools;
    char **strs;
    char *arena;
    ProtobufCBinaryData *bins;
    Vmig__Milvus__ScalarField *rows, **rowp; /* arrays: one ScalarField per valid row */
    void **elems;                            /* their element arrays */
    size_t nelems;
    Vmig__Milvus__FieldData *fd;
    int compact;
};

void vmig_milvus_scalar_free(struct vmig_mscol *c)
{
    if (!c) return;
    free(c->prefix);
    free(c->valid);
    free(c->bools);
    free(c->strs);
    free(c->arena);
    free(c->bins);
    free(c->rows);
    free(c->rowp);
    for (size_t i = 0; i < c->nelems; i++)
        free(c->elems[i]);
    free(c->elems);
    free(c);
}

/* One array row (its JSON text, checked when it was typed) as a ScalarField. */
static int array_row(struct vmig_mscol *c, enum vmig_scalar_type elem, const char *text, size_t len,
                     Vmig__Milvus__ScalarField *out)
{
    json_t *a = json_loadb(text, len, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    size_t n = json_array_size(a), i;
    json_t *v;
    vmig__milvus__scalar_field__init(out);
    void *mem = NULL;
    size_t strbytes = 0;
    json_array_foreach(a, i, v) strbytes += json_is_string(v) ? json_string_length(v) + 1 : 0;
    switch (elem) {
    case VMIG_SC_BOOL: {
        protobuf_c_boolean *d = mem = xcalloc(n ? n : 1, sizeof *d);
        json_array_foreach(a, i, v) d[i] = json_is_true(v);
        Vmig__Milvus__BoolArray *ba = xcalloc(1, sizeof *ba);
        vmig__milvus__bool_array__init(ba);
        ba->n_data = n;
        ba->data = d;
        out->data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA;
        out->bool_data = ba;
        c->elems[c->nelems++] = ba;
        break;
    }
    case VMIG_SC_INT64: {
        int64_t *d = mem = xcalloc(n ? n : 1, sizeof *d);
        json_array_foreach(a, i, v) d[i] = json_integer_value(v);
        Vmig__Milvus__LongArray *la = xcalloc(1, sizeof *la);
        vmig__milvus__long_array__init(la);
        la->n_data = n;
        la->data = d;
        out->data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA;
        out->long_data = la;
        c->elems[c->nelems++] = la;
        break;
    }
    case VMIG_SC_DOUBLE: {
        double *d = mem = xcalloc(n ? n : 1, sizeof *d);
        json_array_foreach(a, i, v) d[i] = json_number_value(v);
        Vmig__Milvus__DoubleArray *da = xcalloc(1, sizeof *da);
        vmig__milvus__double_array__init(da);
        da->n_data = n;
        da->data = d;
        out->data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA;
        out->double_data = da;
        c->elems[c->nelems++] = da;
        break;
    }
    default: { /* VARCHAR: pointers and their text in one block */
        char **d = mem = xcalloc(1, (n ? n : 1) * sizeof *d + strbytes);
        char *t = (char *)(d + (n ? n : 1));
        json_array_foreach(a, i, v)
        {
            size_t l = json_string_length(v);
            memcpy(t, json_string_value(v), l);
            t[l] = '\0';
            d[i] = t;
            t += l + 1;
        }
        Vmig__Milvus__StringArray *sa = xcalloc(1, sizeof *sa);
        vmig__milvus__string_array__init(sa);
        sa->n_data = n;
        sa->data = d;
        out->data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA;
        out->string_data = sa;
        c->elems[c->nelems++] = sa;
        break;
    }
    }
    c->elems[c->nelems++] = mem;
    json_decref(a);
    return 0;
}

struct vmig_mscol *vmig_milvus_scalar_col(const struct vmig_plan_scalar *sc,
                                          const struct vmig_batch *b, size_t s, size_t lo,
                                          size_t rows, Vmig__Milvus__FieldData *fd,
                                          struct vmig_err *err)
{
    struct vmig_mscol *c = xcalloc(1, sizeof *c);
    const struct vmig_batch_scalar *col = &b->sc[s];
    size_t nv = 0, strbytes = 0;
    c->fd = fd;
    c->compact = sc->nullable || sc->has_default;
    c->prefix = xcalloc(rows + 1, sizeof *c->prefix);
    c->valid = xcalloc(rows ? rows : 1, sizeof *c->valid);
    for (size_t r = 0; r < rows; r++) {
        c->valid[r] = col->valid.p[lo + r] != 0;
        nv += c->valid[r];
        c->prefix[r + 1] = nv;
        strbytes += col->off[lo + r + 1] - col->off[lo + r] + 1;
    }
    if (!c->compact && nv != rows) { /* typing guarantees a value in a non-nullable field */
        vmig_err_set(err, VMIG_E_INTERNAL, "a null in non-nullable field '%s'", sc->dst);
        vmig_milvus_scalar_free(c);
        return NULL;
    }
    vmig__milvus__field_data__init(fd);
    vmig__milvus__scalar_field__init(&c->sf);
    fd->type = (int32_t)sc->type;
    fd->field_name = (char *)sc->dst;
    fd->field_case = VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS;
    fd->scalars = &c->sf;
    if (c->compact) {
        fd->n_valid_data = rows;
        fd->valid_data = c->valid;
    }
    /* the valid rows' values, in row order */
    size_t k = 0;
    switch (sc->type) {
    case VMIG_SC_BOOL:
        c->bools = xcalloc(nv ? nv : 1, sizeof *c->bools);
        for (size_t r = 0; r < rows; r++)
            if (c->valid[r]) c->bools[k++] = col->data.p[col->off[lo + r]] != 0;
        vmig__milvus__bool_array__init(&c->ba);
        c->ba.data = c->bools;
        c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA;
        c->sf.bool_data = &c->ba;
        break;
    case VMIG_SC_INT64:
    case VMIG_SC_DOUBLE:
    case VMIG_SC_TIMESTAMPTZ: {
        /* 8 bytes per valid row, contiguous in the column: point at them */
        const void *base = col->data.p + col->off[lo];
        if (sc->type == VMIG_SC_TIMESTAMPTZ) {
            vmig__milvus__timestamptz_array__init(&c->ta);
            c->ta.data = (int64_t *)(uintptr_t)base;
            c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_TIMESTAMPTZ_DATA;
            c->sf.timestamptz_data = &c->ta;
        } else if (sc->type == VMIG_SC_INT64) {
            vmig__milvus__long_array__init(&c->la);
            c->la.data = (int64_t *)(uintptr_t)base;
            c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA;
            c->sf.long_data = &c->la;
        } else {
            vmig__milvus__double_array__init(&c->da);
            c->da.data = (double *)(uintptr_t)base;
            c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA;
            c->sf.double_data = &c->da;
        }
        break;
    }
    case VMIG_SC_VARCHAR:
    case VMIG_SC_GEOMETRY: {
        c->strs = xcalloc(nv ? nv : 1, sizeof *c->strs);
        char *a = c->arena = xmalloc(strbytes ? strbytes : 1);
        for (size_t r = 0; r < rows; r++) {
            if (!c->valid[r]) continue;
            size_t l = col->off[lo + r + 1] - col->off[lo + r];
            memcpy(a, col->data.p + col->off[lo + r], l);
            a[l] = '\0';
            c->strs[k++] = a;
            a += l + 1;
        }
        if (sc->type == VMIG_SC_GEOMETRY) { /* WKT text */
            vmig__milvus__geometry_wkt_array__init(&c->ga);
            c->ga.data = c->strs;
            c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_GEOMETRY_WKT_DATA;
            c->sf.geometry_wkt_data = &c->ga;
            break;
        }
        vmig__milvus__string_array__init(&c->sa);
        c->sa.data = c->strs;
        c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA;
        c->sf.string_data = &c->sa;
        break;
    }
    case VMIG_SC_JSON:
        c->bins = xcalloc(nv ? nv : 1, sizeof *c->bins);
        for (size_t r = 0; r < rows; r++) {
            if (!c->valid[r]) continue;
            c->bins[k].data = (uint8_t *)col->data.p + col->off[lo + r];
            c->bins[k++].len = col->off[lo + r + 1] - col->off[lo + r];
        }
        vmig__milvus__jsonarray__init(&c->ja);
        c->ja.data = c->bins;
        c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA;
        c->sf.json_data = &c->ja;
        break;
    case VMIG_SC_ARRAY:
        c->rows = xcalloc(nv ? nv : 1, sizeof *c->rows);
        c->rowp = xcalloc(nv ? nv : 1, sizeof *c->rowp);
        c->elems = xcalloc(2 * (nv ? nv : 1), sizeof *c->elems);
        for (size_t r = 0; r < rows; r++) {
            if (!c->valid[r]) continue;
            if (array_row(c, sc->elem, col->data.p + col->off[lo + r],
                          col->off[lo + r + 1] - col->off[lo + r], &c->rows[k])) {
                vmig_err_set(err, VMIG_E_INTERNAL, "array row of field '%s' is not JSON", sc->dst);
                vmig_milvus_scalar_free(c);
                return NULL;
            }
            c->rowp[k] = &c->rows[k];
            k++;
        }
        vmig__milvus__array_array__init(&c->aa);
        c->aa.data = c->rowp;
        c->aa.element_type = (int32_t)sc->elem;
        c->sf.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_ARRAY_DATA;
        c->sf.array_data = &c->aa;
        break;
    default:
        vmig_err_set(err, VMIG_E_INTERNAL, "field '%s' has no scalar type", sc->dst);
        vmig_milvus_scalar_free(c);
        return NULL;
    }
    vmig_milvus_scalar_rows(c, rows);
    return c;
}

void vmig_milvus_scalar_rows(struct vmig_mscol *c, size_t rows)
{
    size_t nv = c->prefix[rows];
    if (c->compact) c->fd->n_valid_data = rows;
    c->ba.n_data = c->la.n_data = c->da.n_data = c->sa.n_data = c->ja.n_data = c->ta.n_data = nv;
    c->ga.n_data = nv;
    c->aa.n_data = nv;
}

/* ---- reading back ---------------------------------------------------------------------- */

/* Row i's value of one typed column in a Query result, appended to out as the batch
 * holds it (typed.c): data bytes and the valid byte. at: the value index of each row. */
static int put_value(const struct vmig_plan_scalar *sc, const Vmig__Milvus__ScalarField *f,
                     size_t at, struct vmig_batch_scalar *out)
{
    switch (sc->type) {
    case VMIG_SC_BOOL: {
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA ||
            at >= f->bool_data->n_data)
            return -1;
        uint8_t v = f->bool_data->data[at] != 0;
        vmig_buf_add(&out->data, (const char *)&v, 1);
        return 0;
    }
    case VMIG_SC_INT64:
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA ||
            at >= f->long_data->n_data)
            return -1;
        vmig_buf_add(&out->data, (const char *)&f->long_data->data[at], 8);
        return 0;
    case VMIG_SC_DOUBLE:
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA ||
            at >= f->double_data->n_data)
            return -1;
        vmig_buf_add(&out->data, (const char *)&f->double_data->data[at], 8);
        return 0;
    case VMIG_SC_VARCHAR:
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA ||
            at >= f->string_data->n_data)
            return -1;
        vmig_buf_adds(&out->data, f->string_data->data[at]);
        return 0;
    case VMIG_SC_GEOMETRY: { /* WKT POINT(x y), laid out as the typing writes it */
        const char *t = f->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_GEOMETRY_WKT_DATA &&
                                at < f->geometry_wkt_data->n_data
                            ? f->geometry_wkt_data->data[at]
                        : f->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA &&
                                at < f->string_data->n_data
                            ? f->string_data->data[at]
                            : NULL;
        double x, y;
        char tail;
        if (!t || sscanf(t, " %*[Pp]%*[Oo]%*[Ii]%*[Nn]%*[Tt] ( %lf %lf %c", &x, &y, &tail) != 3 ||
            tail != ')')
            return -1;
        vmig_buf_adds(&out->data, "POINT(");
        vmig_buf_add_double(&out->data, x);
        vmig_buf_addch(&out->data, ' ');
        vmig_buf_add_double(&out->data, y);
        vmig_buf_addch(&out->data, ')');
        return 0;
    }
    case VMIG_SC_TIMESTAMPTZ: { /* microseconds, or the ISO text pymilvus reads */
        int64_t us;
        if (f->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_TIMESTAMPTZ_DATA &&
            at < f->timestamptz_data->n_data)
            us = f->timestamptz_data->data[at];
        else if (f->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA &&
                 at < f->string_data->n_data) {
            const char *t = f->string_data->data[at];
            if (vmig_datetime_parse(t, strlen(t), &us) != 0) return -1;
        } else {
            return -1;
        }
        vmig_buf_add(&out->data, (const char *)&us, 8);
        return 0;
    }
    case VMIG_SC_JSON:
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA ||
            at >= f->json_data->n_data)
            return -1;
        vmig_buf_add(&out->data, (const char *)f->json_data->data[at].data,
                     f->json_data->data[at].len);
        return 0;
    case VMIG_SC_ARRAY: {
        if (f->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_ARRAY_DATA ||
            at >= f->array_data->n_data)
            return -1;
        const Vmig__Milvus__ScalarField *e = f->array_data->data[at];
        vmig_buf_addch(&out->data, '[');
        size_t n =
            e->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA     ? e->bool_data->n_data
            : e->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA   ? e->long_data->n_data
            : e->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA ? e->double_data->n_data
            : e->data_case == VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA ? e->string_data->n_data
                                                                           : 0;
        for (size_t k = 0; k < n; k++) {
            if (k) vmig_buf_addch(&out->data, ',');
            switch (e->data_case) {
            case VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA:
                vmig_buf_adds(&out->data, e->bool_data->data[k] ? "true" : "false");
                break;
            case VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA:
                vmig_buf_addf(&out->data, "%lld", (long long)e->long_data->data[k]);
                break;
            case VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA:
                if (vmig_buf_add_double(&out->data, e->double_data->data[k])) return -1;
                break;
            default:
                vmig_buf_add_json_str(&out->data, e->string_data->data[k]);
                break;
            }
        }
        vmig_buf_addch(&out->data, ']');
        return 0;
    }
    default:
        return -1;
    }
}

/* The values of f: rows in a compact (valid rows only) or full form. */
static size_t value_count(const Vmig__Milvus__ScalarField *f)
{
    switch (f->data_case) {
    case VMIG__MILVUS__SCALAR_FIELD__DATA_BOOL_DATA:
        return f->bool_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA:
        return f->long_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_DOUBLE_DATA:
        return f->double_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA:
        return f->string_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA:
        return f->json_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_ARRAY_DATA:
        return f->array_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_TIMESTAMPTZ_DATA:
        return f->timestamptz_data->n_data;
    case VMIG__MILVUS__SCALAR_FIELD__DATA_GEOMETRY_WKT_DATA:
        return f->geometry_wkt_data->n_data;
    default:
        return 0;
    }
}

int vmig_milvus_scalar_read(const struct vmig_plan_scalar *sc, const Vmig__Milvus__FieldData *fd,
                            size_t n, size_t i, size_t *nvalid_before,
                            struct vmig_batch_scalar *out)
{
    if (!fd || fd->field_case != VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS || !fd->scalars) return -1;
    int valid = fd->n_valid_data == 0 || (i < fd->n_valid_data && fd->valid_data[i]);
    if (fd->n_valid_data && fd->n_valid_data != n) return -1;
    size_t count = value_count(fd->scalars);
    size_t at = count == n ? i : *nvalid_before; /* full form, or compact */
    if (valid) {
        if (put_value(sc, fd->scalars, at, out)) return -1;
        (*nvalid_before)++;
    }
    vmig_buf_addch(&out->valid, (char)valid);
    return 0;
}

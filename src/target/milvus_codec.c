/*
 * milvus_codec.c - protobuf-c encode/decode of the Milvus requests vmigrate sends;
 * see milvus_codec.h. Requests are built as stack/arena structs whose pointers
 * reference the caller's data (plan strings, batch buffers); protobuf_c_message_pack
 * is the one copy. Responses are unpacked with protobuf-c and freed before return.
 */
#include "milvus_codec.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/milvus_delete.h"
#include "util/alloc.h"
#include "vmig/plan.h"

#define S(x) ((char *)(x)) /* protobuf-c structs take char *; we never write through it */
#define DB(db) S((db) ? (db) : "")

static void pack(const ProtobufCMessage *m, struct vmig_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    if (n) {
        protobuf_c_message_pack(m, (uint8_t *)out->p);
        vmig_buf_setlen(out, n);
    }
}

/* ------------------------------------------------------------------ status */

enum vmig_code vmig_milvus_status(const Vmig__Milvus__Status *st, const char *what,
                                  struct vmig_err *err)
{
    if (!st || (st->code == 0 && st->error_code == 0)) return VMIG_OK;
    int code = st->code ? st->code : st->error_code;
    const char *reason = st->reason && *st->reason   ? st->reason
                         : st->detail && *st->detail ? st->detail
                                                     : "no reason given";
    /* A restarted Milvus 2.3 answers with the generic code 65535 and no retriable flag
     * while its nodes re-register ("node not match[expectedNodeID=1][actualNodeID=2]",
     * "session not found->datanode-1"); the same call succeeds a moment later. */
    static const char *const transient[] = {"node not match", "session not found", "node not found",
                                            "not ready",      "channel not found", "not healthy"};
    int restarting = 0;
    for (size_t i = 0; i < sizeof transient / sizeof transient[0] && !restarting; i++)
        restarting = strstr(reason, transient[i]) != NULL;
    /* Milvus Lite has no codes of its own for these two (it answers code 1): only then
     * its reason is read, once, while decoding, and becomes err->server_reason. Whole
     * phrases: a reason quotes user names ("collection not found[collection=exist_docs]"). */
    enum vmig_server_reason why = VMIG_SR_NONE;
    int lite = st->code == 1;
    if (restarting)
        why = VMIG_SR_TRANSIENT;
    else if (st->code == 800 || (lite && strstr(reason, "database '") &&
                                 strstr(reason, "' does not exist")))
        why = VMIG_SR_DB_MISSING;
    else if (lite && strstr(reason, "already exist"))
        why = VMIG_SR_EXISTS; /* "already exists", "already existed" */
    /* Retry only what the server marks retriable (Status.retriable: not ready,
     * unavailable, rate limits), the rate-limit codes and a 2.3 server re-registering
     * its nodes. Everything else is permanent and fails at once: Milvus Lite answers
     * code 1 ("service not ready" in merr) both for "database does not exist" and for
     * "collection already exists", so code 1 alone is no reason to retry. */
    enum vmig_code rc;
    if (st->code == 4 || st->code == 8)
        rc = VMIG_E_RATE_LIMIT; /* request / rate limit */
    else if (st->retriable || st->code == 2 || restarting)
        rc = VMIG_E_UNAVAILABLE; /* unavailable, restarting, or flagged retriable */
    else if (st->code == 100 || st->code == 800 || (st->code == 0 && st->error_code == 4))
        rc = VMIG_E_NOT_FOUND; /* collection / database not found, legacy CollectionNotExists */
    else if (st->code == 1400 || st->code == 1401)
        rc = VMIG_E_AUTH;
    else
        rc = VMIG_E_REMOTE;
    /* the reason is cut so the code at the end always fits in the message */
    vmig_err_set(err, rc, "%s: %.600s (milvus code %d)", what, reason, code);
    if (err) {
        err->server_code = code;
        err->retriable = st->retriable != 0;
        err->server_reason = why;
    }
    return rc;
}

/* ------------------------------------------------------------------ small requests */

void vmig_milvus_enc_connect(struct vmig_buf *out)
{
    Vmig__Milvus__ClientInfo ci = VMIG__MILVUS__CLIENT_INFO__INIT;
    Vmig__Milvus__ConnectRequest r = VMIG__MILVUS__CONNECT_REQUEST__INIT;
    ci.sdk_type = S("vmigrate");
    ci.sdk_version = S(VMIG_VERSION);
    r.client_info = &ci;
    pack(&r.base, out);
}

void vmig_milvus_enc_empty(struct vmig_buf *out)
{
    Vmig__Milvus__GetVersionRequest r = VMIG__MILVUS__GET_VERSION_REQUEST__INIT;
    pack(&r.base, out);
}

void vmig_milvus_enc_has_collection(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__HasCollectionRequest r = VMIG__MILVUS__HAS_COLLECTION_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    pack(&r.base, out);
}

void vmig_milvus_enc_describe_collection(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__DescribeCollectionRequest r = VMIG__MILVUS__DESCRIBE_COLLECTION_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    pack(&r.base, out);
}

void vmig_milvus_enc_drop_collection(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__DropCollectionRequest r = VMIG__MILVUS__DROP_COLLECTION_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    pack(&r.base, out);
}

void vmig_milvus_enc_describe_index(const char *db, const char *name, const char *field,
                                    struct vmig_buf *out)
{
    Vmig__Milvus__DescribeIndexRequest r = VMIG__MILVUS__DESCRIBE_INDEX_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    r.field_name = S(field);
    pack(&r.base, out);
}

void vmig_milvus_enc_flush(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__FlushRequest r = VMIG__MILVUS__FLUSH_REQUEST__INIT;
    char *names[1] = {S(name)};
    r.db_name = DB(db);
    r.n_collection_names = 1;
    r.collection_names = names;
    pack(&r.base, out);
}

void vmig_milvus_enc_load(const char *db, const char *name, int refresh, struct vmig_buf *out)
{
    Vmig__Milvus__LoadCollectionRequest r = VMIG__MILVUS__LOAD_COLLECTION_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    r.refresh = refresh ? 1 : 0;
    pack(&r.base, out);
}

void vmig_milvus_enc_load_state(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__GetLoadStateRequest r = VMIG__MILVUS__GET_LOAD_STATE_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    pack(&r.base, out);
}

void vmig_milvus_enc_count(const char *db, const char *name, struct vmig_buf *out)
{
    Vmig__Milvus__QueryRequest r = VMIG__MILVUS__QUERY_REQUEST__INIT;
    char *of[1] = {S("count(*)")};
    r.db_name = DB(db);
    r.collection_name = S(name);
    r.n_output_fields = 1;
    r.output_fields = of;
    /* Strong (0) and use_default_consistency false: the proxy waits until every
     * acknowledged write is visible (task_query.go), so the count is exact. */
    r.consistency_level = VMIG_MCL_STRONG;
    r.use_default_consistency = 0;
    pack(&r.base, out);
}

/* ------------------------------------------------------------------ schema */

const char *vmig_milvus_metric_of(const struct vmig_plan_field *f)
{
    if (f->kind == VMIG_VEC_SPARSE) return "IP"; /* the one metric of sparse vectors */
    switch (f->metric) {
    case VMIG_METRIC_IP:
        return "IP";
    case VMIG_METRIC_L2:
        return "L2";
    case VMIG_METRIC_COSINE:
        break;
    }
    return "COSINE";
}

static enum vmig_code check_plan(const struct vmig_plan_coll *pc, struct vmig_err *err)
{
    if (!pc->target[0] || !pc->pk_name[0])
        return vmig_err_set(err, VMIG_E_SCHEMA, "collection plan has no target name or pk name");
    if (pc->nfields == 0 || pc->nfields > VMIG_MAX_VECTOR_FIELDS)
        return vmig_err_set(err, VMIG_E_SCHEMA,
                            "cannot create collection '%s' on target: %zu vector fields (1 to %d)",
                            pc->target, pc->nfields, VMIG_MAX_VECTOR_FIELDS);
    if (pc->pk_type != VMIG_PK_INT64 && pc->pk_type != VMIG_PK_VARCHAR)
        return vmig_err_set(err, VMIG_E_SCHEMA, "collection '%s': bad pk type %d", pc->target,
                            (int)pc->pk_type);
    if (pc->pk_type == VMIG_PK_VARCHAR &&
        (pc->pk_max_length == 0 || pc->pk_max_length > VMIG_VARCHAR_MAX))
        return vmig_err_set(err, VMIG_E_SCHEMA,
                            "collection '%s': VarChar pk max_length %u not in 1..%d", pc->target,
                            pc->pk_max_length, VMIG_VARCHAR_MAX);
    for (size_t i = 0; i < pc->nfields; i++) {
        const struct vmig_plan_field *f = &pc->field[i];
        if (!f->dst[0] || !strcmp(f->dst, VMIG_MILVUS_META))
            return vmig_err_set(err, VMIG_E_SCHEMA, "collection '%s': bad field name '%s'",
                                pc->target, f->dst);
        if (f->kind == VMIG_VEC_DENSE && (f->dim == 0 || f->dim > VMIG_MAX_DIM))
            return vmig_err_set(err, VMIG_E_SCHEMA,
                                "collection '%s': field '%s' has dimension %u; Milvus allows "
                                "1 to %d",
                                pc->target, f->dst, f->dim, VMIG_MAX_DIM);
        if (f->kind != VMIG_VEC_DENSE && f->kind != VMIG_VEC_SPARSE)
            return vmig_err_set(err, VMIG_E_SCHEMA, "collection '%s': field '%s' bad kind",
                                pc->target, f->dst);
    }
    if (pc->nscalars > VMIG_MAX_SCALAR_FIELDS)
        return vmig_err_set(err, VMIG_E_SCHEMA, "collection '%s': %zu typed fields", pc->target,
                            pc->nscalars);
    for (size_t i = 0; i < pc->nscalars; i++)
        if (!pc->scalar[i].dst[0] || !strcmp(pc->scalar[i].dst, VMIG_MILVUS_META))
            return vmig_err_set(err, VMIG_E_SCHEMA, "collection '%s': bad field name '%s'",
                                pc->target, pc->scalar[i].dst);
    return VMIG_OK;
}

/* The FieldSchema of typed payload field sc: type params and value slots point into
 * kv[2] / val[2][16] / dv, which the caller keeps until the schema is packed. */
static void scalar_schema(const struct vmig_plan_scalar *sc, Vmig__Milvus__FieldSchema *x,
                          Vmig__Milvus__KeyValuePair *kv, Vmig__Milvus__KeyValuePair **kvp,
                          char val[2][16], Vmig__Milvus__ValueField *dv)
{
    size_t n = 0;
    x->name = S(sc->dst);
    x->data_type = (int32_t)sc->type;
    int str =
        sc->type == VMIG_SC_VARCHAR || (sc->type == VMIG_SC_ARRAY && sc->elem == VMIG_SC_VARCHAR);
    if (sc->type == VMIG_SC_ARRAY) {
        x->element_type = (int32_t)sc->elem;
        vmig__milvus__key_value_pair__init(&kv[n]);
        snprintf(val[n], sizeof val[0], "%u", sc->max_capacity);
        kv[n].key = S("max_capacity");
        kv[n].value = val[n];
        kvp[n] = &kv[n];
        n++;
    }
    if (str) {
        vmig__milvus__key_value_pair__init(&kv[n]);
        snprintf(val[n], sizeof val[0], "%u", sc->max_length);
        kv[n].key = S("max_length");
        kv[n].value = val[n];
        kvp[n] = &kv[n];
        n++;
    }
    x->n_type_params = n;
    x->type_params = n ? kvp : NULL;
    x->nullable = sc->nullable != 0;
    x->is_partition_key = sc->partition_key != 0;
    if (sc->has_default) {
        vmig__milvus__value_field__init(dv);
        switch (sc->type) {
        case VMIG_SC_BOOL:
            dv->data_case = VMIG__MILVUS__VALUE_FIELD__DATA_BOOL_DATA;
            dv->bool_data = strcmp(sc->default_json, "true") == 0;
            break;
        case VMIG_SC_INT64:
            dv->data_case = VMIG__MILVUS__VALUE_FIELD__DATA_LONG_DATA;
            dv->long_data = strtoll(sc->default_json, NULL, 10);
            break;
        case VMIG_SC_DOUBLE:
            dv->data_case = VMIG__MILVUS__VALUE_FIELD__DATA_DOUBLE_DATA;
            dv->double_data = strtod(sc->default_json, NULL);
            break;
        default:
            dv->data_case = VMIG__MILVUS__VALUE_FIELD__DATA_STRING_DATA;
            dv->string_data = S(sc->default_json);
            break;
        }
        x->default_value = dv;
    }
}

enum vmig_code vmig_milvus_enc_create_collection(const char *db, const struct vmig_plan_coll *pc,
                                                 struct vmig_buf *out, struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_buf sbuf = VMIG_BUF_INIT;
    size_t nf = 1 + pc->nfields + pc->nscalars;
    Vmig__Milvus__FieldSchema *fs = xcalloc(nf, sizeof *fs), **fsp = xcalloc(nf, sizeof *fsp);
    Vmig__Milvus__KeyValuePair *kv = xcalloc(nf * 2, sizeof *kv),
                               **kvp = xcalloc(nf * 2, sizeof *kvp);
    char(*val)[16] = xcalloc(nf * 2, sizeof *val);
    Vmig__Milvus__ValueField *dv = xcalloc(nf, sizeof *dv);
    Vmig__Milvus__CollectionSchema cs = VMIG__MILVUS__COLLECTION_SCHEMA__INIT;
    Vmig__Milvus__CreateCollectionRequest r = VMIG__MILVUS__CREATE_COLLECTION_REQUEST__INIT;

    if ((rc = check_plan(pc, err))) goto out;
    /* the primary key: never autoID, its values are the Qdrant point ids */
    vmig__milvus__field_schema__init(&fs[0]);
    fs[0].name = S(pc->pk_name);
    fs[0].is_primary_key = 1;
    fs[0].autoid = 0;
    fs[0].data_type = pc->pk_type == VMIG_PK_INT64 ? VMIG_MDT_INT64 : VMIG_MDT_VARCHAR;
    if (pc->pk_type == VMIG_PK_VARCHAR) {
        vmig__milvus__key_value_pair__init(&kv[0]);
        snprintf(val[0], sizeof val[0], "%u", pc->pk_max_length);
        kv[0].key = S("max_length");
        kv[0].value = val[0];
        kvp[0] = &kv[0];
        fs[0].n_type_params = 1;
        fs[0].type_params = &kvp[0];
    }
    fsp[0] = &fs[0];
    for (size_t i = 0; i < pc->nfields; i++) {
        const struct vmig_plan_field *f = &pc->field[i];
        Vmig__Milvus__FieldSchema *x = &fs[i + 1];
        size_t k = 2 * (i + 1);
        vmig__milvus__field_schema__init(x);
        x->name = S(f->dst);
        if (f->kind == VMIG_VEC_DENSE) {
            x->data_type = VMIG_MDT_FLOAT_VECTOR;
            vmig__milvus__key_value_pair__init(&kv[k]);
            snprintf(val[k], sizeof val[0], "%u", f->dim);
            kv[k].key = S("dim");
            kv[k].value = val[k];
            kvp[k] = &kv[k];
            x->n_type_params = 1;
            x->type_params = &kvp[k];
        } else {
            x->data_type = VMIG_MDT_SPARSE_VECTOR; /* no dim for sparse */
        }
        fsp[i + 1] = x;
    }
    for (size_t i = 0; i < pc->nscalars; i++) {
        size_t at = 1 + pc->nfields + i;
        vmig__milvus__field_schema__init(&fs[at]);
        scalar_schema(&pc->scalar[i], &fs[at], &kv[2 * at], &kvp[2 * at], &val[2 * at], &dv[at]);
        fsp[at] = &fs[at];
        if (pc->scalar[i].partition_key) r.num_partitions = pc->num_partitions;
    }
    /* schema.name must equal collection_name on real Milvus (rootcoord prepareSchema).
     * The dynamic field is switched on, never declared: Milvus adds "$meta" itself. */
    cs.name = S(pc->target);
    cs.description = S(pc->description);
    cs.n_fields = nf;
    cs.fields = fsp;
    cs.enable_dynamic_field = 1;
    pack(&cs.base, &sbuf);

    r.db_name = DB(db);
    r.collection_name = S(pc->target);
    r.schema.data = (uint8_t *)sbuf.p;
    r.schema.len = sbuf.len;
    /* Bounded, the level pymilvus and Milvus give new collections: the users of the
     * migrated collection get the usual search latency. vmigrate's own reads (count,
     * verification) ask for Strong per request, so they do not depend on this. */
    r.consistency_level = VMIG_MILVUS_COLL_CONSISTENCY;
    pack(&r.base, out);
out:
    vmig_buf_release(&sbuf);
    free(fs);
    free(fsp);
    free(kv);
    free(kvp);
    free(val);
    free(dv);
    return rc;
}

enum vmig_code vmig_milvus_enc_create_scalar_index(const char *db, const struct vmig_plan_coll *pc,
                                                   size_t si, struct vmig_buf *out,
                                                   struct vmig_err *err)
{
    Vmig__Milvus__CreateIndexRequest r = VMIG__MILVUS__CREATE_INDEX_REQUEST__INIT;
    Vmig__Milvus__KeyValuePair kv = VMIG__MILVUS__KEY_VALUE_PAIR__INIT, *kvp = &kv;
    if (si >= pc->nscalars || !pc->scalar[si].index)
        return vmig_err_set(err, VMIG_E_INTERNAL, "scalar index %zu of %zu", si, pc->nscalars);
    kv.key = S("index_type");
    kv.value = S(vmig_scalar_index_name(pc->scalar[si].index));
    r.db_name = DB(db);
    r.collection_name = S(pc->target);
    r.field_name = S(pc->scalar[si].dst);
    r.index_name = S(pc->scalar[si].dst);
    r.n_extra_params = 1;
    r.extra_params = &kvp;
    pack(&r.base, out);
    return VMIG_OK;
}

enum vmig_code vmig_milvus_enc_create_index(const char *db, const struct vmig_plan_coll *pc,
                                            size_t fi, struct vmig_buf *out, struct vmig_err *err)
{
    Vmig__Milvus__CreateIndexRequest r = VMIG__MILVUS__CREATE_INDEX_REQUEST__INIT;
    Vmig__Milvus__KeyValuePair kv[3], *kvp[3];
    char params[96];
    size_t n = 0;
    if (fi >= pc->nfields)
        return vmig_err_set(err, VMIG_E_INTERNAL, "index on field %zu of %zu", fi, pc->nfields);
    const struct vmig_plan_field *f = &pc->field[fi];
    for (int i = 0; i < 3; i++) {
        vmig__milvus__key_value_pair__init(&kv[i]);
        kvp[i] = &kv[i];
    }
    kv[n].key = S("index_type");
    if (f->kind == VMIG_VEC_SPARSE) {
        kv[n++].value = S("SPARSE_INVERTED_INDEX");
        kv[n].key = S("metric_type");
        kv[n++].value = S(vmig_milvus_metric_of(f));
    } else if (pc->index == VMIG_INDEX_HNSW) {
        kv[n++].value = S("HNSW");
        kv[n].key = S("metric_type");
        kv[n++].value = S(vmig_milvus_metric_of(f));
        /* Qdrant's defaults (m 16, ef_construct 100) when the source did not say */
        snprintf(params, sizeof params, "{\"M\":%d,\"efConstruction\":%d}",
                 f->hnsw_m > 0 ? f->hnsw_m : 16, f->hnsw_ef > 0 ? f->hnsw_ef : 100);
        kv[n].key = S("params");
        kv[n++].value = params;
    } else {
        kv[n++].value = S("AUTOINDEX");
        kv[n].key = S("metric_type");
        kv[n++].value = S(vmig_milvus_metric_of(f));
    }
    r.db_name = DB(db);
    r.collection_name = S(pc->target);
    r.field_name = S(f->dst);
    r.index_name = S(f->dst);
    r.n_extra_params = n;
    r.extra_params = kvp;
    pack(&r.base, out);
    return VMIG_OK;
}

/* ------------------------------------------------------------------ query by ids */

enum vmig_code vmig_milvus_enc_query_ids(const char *db, const struct vmig_plan_coll *pc,
                                         const struct vmig_point_id *ids, size_t n,
                                         struct vmig_buf *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct vmig_buf expr = VMIG_BUF_INIT;
    char *of[VMIG_MAX_VECTOR_FIELDS + 1 + VMIG_MAX_SCALAR_FIELDS], limit[24];
    Vmig__Milvus__KeyValuePair kv = VMIG__MILVUS__KEY_VALUE_PAIR__INIT, *kvp = &kv;
    Vmig__Milvus__QueryRequest r = VMIG__MILVUS__QUERY_REQUEST__INIT;

    if ((rc = vmig_milvus_expr_pk_in(pc, ids, n, &expr, err))) goto out;
    for (size_t i = 0; i < pc->nfields; i++)
        of[i] = S(pc->field[i].dst);
    for (size_t i = 0; i < pc->nscalars; i++)
        of[pc->nfields + i] = S(pc->scalar[i].dst);
    of[pc->nfields + pc->nscalars] = S(VMIG_MILVUS_META);
    snprintf(limit, sizeof limit, "%zu", n ? n : 1);
    kv.key = S("limit");
    kv.value = limit;
    r.db_name = DB(db);
    r.collection_name = S(pc->target);
    r.expr = expr.p;
    r.n_output_fields = pc->nfields + pc->nscalars + 1;
    r.output_fields = of;
    r.n_query_params = 1;
    r.query_params = &kvp;
    r.consistency_level = VMIG_MCL_STRONG;
    pack(&r.base, out);
out:
    vmig_buf_release(&expr);
    return rc;
}

/* ------------------------------------------------------------------ insert / upsert */

/* Everything one write request points at, allocated per request, freed at once. */
struct wmsg {
    Vmig__Milvus__InsertRequest req;
    Vmig__Milvus__FieldData fd[VMIG_MAX_VECTOR_FIELDS + 2 + VMIG_MAX_SCALAR_FIELDS];
    Vmig__Milvus__FieldData *fdp[VMIG_MAX_VECTOR_FIELDS + 2 + VMIG_MAX_SCALAR_FIELDS];
    struct vmig_mscol *sc[VMIG_MAX_SCALAR_FIELDS];
    Vmig__Milvus__ScalarField pk_sc, meta_sc;
    Vmig__Milvus__LongArray pk_long;
    Vmig__Milvus__StringArray pk_str;
    Vmig__Milvus__JSONArray meta_json;
    Vmig__Milvus__VectorField vf[VMIG_MAX_VECTOR_FIELDS];
    Vmig__Milvus__FloatArray fa[VMIG_MAX_VECTOR_FIELDS];
    Vmig__Milvus__SparseFloatArray sp[VMIG_MAX_VECTOR_FIELDS];
    int64_t *ids;              /* Int64 pk */
    char **sids, *arena;       /* VarChar pk: pointers into one text arena */
    ProtobufCBinaryData *json; /* rows of b->meta */
    ProtobufCBinaryData *sparse[VMIG_MAX_VECTOR_FIELDS]; /* rows of col data */
};

static void wmsg_free(struct wmsg *m)
{
    free(m->ids);
    free(m->sids);
    free(m->arena);
    free(m->json);
    for (size_t c = 0; c < VMIG_MAX_VECTOR_FIELDS; c++)
        free(m->sparse[c]);
    for (size_t c = 0; c < VMIG_MAX_SCALAR_FIELDS; c++)
        vmig_milvus_scalar_free(m->sc[c]);
}

static uint32_t le32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

/* Point the message at rows [lo, lo + rows) (arrays were filled for a larger range
 * starting at lo; only counts change). */
static void wmsg_set_rows(struct wmsg *m, const struct vmig_plan_coll *pc,
                          const struct vmig_batch *b, size_t lo, size_t rows)
{
    m->req.num_rows = (uint32_t)rows;
    m->pk_long.n_data = rows;
    m->pk_str.n_data = rows;
    m->meta_json.n_data = rows;
    for (size_t c = 0; c < pc->nfields; c++) {
        if (b->col[c].sparse) {
            uint32_t dim = 0;
            m->sp[c].n_contents = rows;
            for (size_t r = 0; r < rows; r++) {
                const ProtobufCBinaryData *d = &m->sparse[c][r];
                if (d->len >= 8) { /* pairs sorted by index: the last has the largest */
                    uint32_t ix = le32((const char *)d->data + d->len - 8);
                    if (ix + 1 > dim) dim = ix + 1;
                }
            }
            m->sp[c].dim = dim;
        } else {
            m->fa[c].n_data = rows * b->col[c].dim;
        }
    }
    for (size_t s = 0; s < pc->nscalars; s++)
        vmig_milvus_scalar_rows(m->sc[s], rows);
    (void)lo;
}

enum vmig_code vmig_milvus_enc_write(const char *db, const struct vmig_plan_coll *pc,
                                     const struct vmig_batch *b, size_t lo, size_t *hi, size_t max,
                                     struct vmig_buf *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    struct wmsg *m = xcalloc(1, sizeof *m);
    size_t rows = *hi > lo ? *hi - lo : 0, nf = 0;
    char t[VMIG_ID_TEXT_MAX];

    if (rows == 0 || *hi > b->n) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "write of rows [%zu, %zu) of a %zu-row batch", lo,
                          *hi, b->n);
        goto out;
    }
    if (b->ncols != pc->nfields || b->nscalars != pc->nscalars) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "batch has %zu columns, plan of '%s' has %zu",
                          b->ncols + b->nscalars, pc->target, pc->nfields + pc->nscalars);
        goto out;
    }
    vmig__milvus__insert_request__init(&m->req);

    /* primary key column */
    Vmig__Milvus__FieldData *fd = &m->fd[nf];
    vmig__milvus__field_data__init(fd);
    vmig__milvus__scalar_field__init(&m->pk_sc);
    fd->field_name = S(pc->pk_name);
    fd->field_case = VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS;
    fd->scalars = &m->pk_sc;
    if (pc->pk_type == VMIG_PK_INT64) {
        fd->type = VMIG_MDT_INT64;
        vmig__milvus__long_array__init(&m->pk_long);
        m->ids = xmalloc(rows * sizeof *m->ids);
        for (size_t r = 0; r < rows; r++) {
            const struct vmig_point_id *id = &b->ids[lo + r];
            if (id->kind != VMIG_ID_NUM || id->num > INT64_MAX) {
                vmig_point_id_format(id, t);
                rc = vmig_err_set(err, VMIG_E_DATA,
                                  "cannot write point %s to collection '%s': the id does not fit "
                                  "the Int64 primary key",
                                  t, pc->target);
                vmig_err_at(err, pc->target, t, NULL);
                goto out;
            }
            m->ids[r] = (int64_t)id->num;
        }
        m->pk_long.data = m->ids;
        m->pk_sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA;
        m->pk_sc.long_data = &m->pk_long;
    } else {
        fd->type = VMIG_MDT_VARCHAR;
        vmig__milvus__string_array__init(&m->pk_str);
        m->sids = xmalloc(rows * sizeof *m->sids);
        m->arena = xmalloc(rows * VMIG_ID_TEXT_MAX);
        char *a = m->arena;
        for (size_t r = 0; r < rows; r++) {
            size_t len = vmig_point_id_format(&b->ids[lo + r], a);
            if (len > pc->pk_max_length) {
                rc = vmig_err_set(err, VMIG_E_DATA,
                                  "cannot write point %s to collection '%s': the id is longer "
                                  "than the pk max_length %u",
                                  a, pc->target, pc->pk_max_length);
                vmig_err_at(err, pc->target, a, NULL);
                goto out;
            }
            m->sids[r] = a;
            a += len + 1;
        }
        m->pk_str.data = m->sids;
        m->pk_sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA;
        m->pk_sc.string_data = &m->pk_str;
    }
    m->fdp[nf] = fd;
    nf++;

    /* vector columns */
    for (size_t c = 0; c < pc->nfields; c++) {
        const struct vmig_plan_field *pf = &pc->field[c];
        const struct vmig_batch_col *col = &b->col[c];
        int sparse = pf->kind == VMIG_VEC_SPARSE;
        if (col->sparse != sparse || (!sparse && (col->dim != pf->dim || pf->dim > VMIG_MAX_DIM))) {
            rc = vmig_err_set(err, VMIG_E_INTERNAL,
                              "batch column %zu does not match field '%s' of '%s'", c, pf->dst,
                              pc->target);
            goto out;
        }
        fd = &m->fd[nf];
        vmig__milvus__field_data__init(fd);
        vmig__milvus__vector_field__init(&m->vf[c]);
        fd->field_name = S(pf->dst);
        fd->field_case = VMIG__MILVUS__FIELD_DATA__FIELD_VECTORS;
        fd->vectors = &m->vf[c];
        if (sparse) {
            fd->type = VMIG_MDT_SPARSE_VECTOR;
            vmig__milvus__sparse_float_array__init(&m->sp[c]);
            m->sparse[c] = xmalloc(rows * sizeof *m->sparse[c]);
            for (size_t r = 0; r < rows; r++) {
                m->sparse[c][r].data = (uint8_t *)col->data.p + col->off[lo + r];
                m->sparse[c][r].len = col->off[lo + r + 1] - col->off[lo + r];
            }
            m->sp[c].contents = m->sparse[c];
            m->vf[c].data_case = VMIG__MILVUS__VECTOR_FIELD__DATA_SPARSE_FLOAT_VECTOR;
            m->vf[c].sparse_float_vector = &m->sp[c];
        } else {
            fd->type = VMIG_MDT_FLOAT_VECTOR;
            vmig__milvus__float_array__init(&m->fa[c]);
            m->fa[c].data = (float *)(void *)(col->data.p) + lo * col->dim;
            m->vf[c].dim = col->dim; /* required by milvus-lite, checked by Milvus */
            m->vf[c].data_case = VMIG__MILVUS__VECTOR_FIELD__DATA_FLOAT_VECTOR;
            m->vf[c].float_vector = &m->fa[c];
        }
        m->fdp[nf] = fd;
        nf++;
    }

    /* the typed payload fields */
    for (size_t s = 0; s < pc->nscalars; s++) {
        fd = &m->fd[nf];
        if (!(m->sc[s] = vmig_milvus_scalar_col(&pc->scalar[s], b, s, lo, rows, fd, err))) {
            rc = VMIG_E_INTERNAL;
            goto out;
        }
        m->fdp[nf++] = fd;
    }

    /* the dynamic field: one JSON object per row, the Qdrant payload */
    fd = &m->fd[nf];
    vmig__milvus__field_data__init(fd);
    vmig__milvus__scalar_field__init(&m->meta_sc);
    vmig__milvus__jsonarray__init(&m->meta_json);
    m->json = xmalloc(rows * sizeof *m->json);
    for (size_t r = 0; r < rows; r++) {
        size_t len;
        const char *js = vmig_batch_meta_at(b, lo + r, &len);
        if (len == 0) { /* Milvus wants an object in every row */
            js = "{}";
            len = 2;
        }
        if (len > VMIG_JSON_MAX) {
            vmig_point_id_format(&b->ids[lo + r], t);
            rc = vmig_err_set(err, VMIG_E_DATA,
                              "cannot write point %s to collection '%s': payload is %zu bytes, "
                              "over Milvus's %d-byte limit for the dynamic field",
                              t, pc->target, len, VMIG_JSON_MAX);
            vmig_err_at(err, pc->target, t, NULL);
            goto out;
        }
        m->json[r].data = (uint8_t *)js;
        m->json[r].len = len;
    }
    m->meta_json.data = m->json;
    m->meta_sc.data_case = VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA;
    m->meta_sc.json_data = &m->meta_json;
    fd->type = VMIG_MDT_JSON;
    fd->field_name = S(VMIG_MILVUS_META);
    fd->is_dynamic = 1;
    fd->field_case = VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS;
    fd->scalars = &m->meta_sc;
    m->fdp[nf] = fd;
    nf++;

    m->req.db_name = DB(db);
    m->req.collection_name = S(pc->target);
    m->req.n_fields_data = nf;
    m->req.fields_data = m->fdp;

    /* Fit under max: shrink the row count in proportion to the overshoot (with 10%
     * slack for per-row framing), at least one row less each round. */
    for (;;) {
        wmsg_set_rows(m, pc, b, lo, rows);
        size_t size = protobuf_c_message_get_packed_size(&m->req.base);
        if (size <= max) break;
        if (rows == 1) {
            vmig_point_id_format(&b->ids[lo], t);
            rc = vmig_err_set(err, VMIG_E_DATA,
                              "cannot write point %s to collection '%s': one row encodes to %zu "
                              "bytes, over the %zu-byte request limit",
                              t, pc->target, size, max);
            vmig_err_at(err, pc->target, t, NULL);
            goto out;
        }
        size_t next = (size_t)((double)rows * (double)max / (double)size * 0.9);
        if (next >= rows) next = rows - 1;
        if (next == 0) next = 1;
        rows = next;
    }
    pack(&m->req.base, out);
    *hi = lo + rows;
out:
    wmsg_free(m);
    free(m);
    return rc;
}

/* ------------------------------------------------------------------ responses */

#define UNPACK(type, var, p, len, what)                                                            \
    var = vmig__milvus__##type##__unpack(NULL, (len), (const uint8_t *)(p));                       \
    if (!var) {                                                                                    \
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: cannot decode the %s response", (what),       \
                          #type);                                                                  \
        goto out;                                                                                  \
    }

enum vmig_code vmig_milvus_dec_status(const void *p, size_t len, const char *what,
                                      struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__Status *st = NULL;
    UNPACK(status, st, p, len, what);
    rc = vmig_milvus_status(st, what, err);
out:
    if (st) vmig__milvus__status__free_unpacked(st, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_version(const void *p, size_t len, char *version, size_t n,
                                       struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__GetVersionResponse *r = NULL;
    const char *what = "cannot get the Milvus version";
    UNPACK(get_version_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    if (n) snprintf(version, n, "%s", r->version);
out:
    if (r) vmig__milvus__get_version_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_health(const void *p, size_t len, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__CheckHealthResponse *r = NULL;
    const char *what = "Milvus health check failed";
    UNPACK(check_health_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    if (!r->ishealthy) {
        char reasons[512] = "";
        size_t at = 0;
        for (size_t i = 0; i < r->n_reasons && at < sizeof reasons - 1; i++)
            at += (size_t)snprintf(reasons + at, sizeof reasons - at, "%s%s", i ? "; " : "",
                                   r->reasons[i]);
        rc = vmig_err_set(err, VMIG_E_UNAVAILABLE, "Milvus reports it is not healthy%s%s",
                          reasons[0] ? ": " : "", reasons);
    }
out:
    if (r) vmig__milvus__check_health_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_connect(const void *p, size_t len, int64_t *identifier,
                                       struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__ConnectResponse *r = NULL;
    const char *what = "cannot connect to Milvus";
    UNPACK(connect_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    *identifier = r->identifier;
out:
    if (r) vmig__milvus__connect_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_bool(const void *p, size_t len, const char *what, int *value,
                                    struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__BoolResponse *r = NULL;
    UNPACK(bool_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    *value = r->value != 0;
out:
    if (r) vmig__milvus__bool_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_flush(const void *p, size_t len, const char *what,
                                     struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__FlushResponse *r = NULL;
    UNPACK(flush_response, r, p, len, what);
    rc = vmig_milvus_status(r->status, what, err);
out:
    if (r) vmig__milvus__flush_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_flush_ts(const void *p, size_t len, const char *name,
                                        const char *what, uint64_t *ts, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__FlushResponse *r = NULL;
    *ts = 0;
    UNPACK(flush_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    for (size_t i = 0; i < r->n_coll_flush_ts; i++)
        if (!strcmp(r->coll_flush_ts[i]->key, name)) *ts = r->coll_flush_ts[i]->value;
out:
    if (r) vmig__milvus__flush_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_flush_segments(const void *p, size_t len, const char *name,
                                              const char *what, int64_t **ids, size_t *n,
                                              struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__FlushResponse *r = NULL;
    UNPACK(flush_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    for (int k = 0; k < 2; k++) {
        size_t ne = k ? r->n_flush_coll_segids : r->n_coll_segids;
        Vmig__Milvus__SegIdsEntry **e = k ? r->flush_coll_segids : r->coll_segids;
        for (size_t i = 0; i < ne; i++) {
            if (strcmp(e[i]->key, name) || !e[i]->value || !e[i]->value->n_data) continue;
            const Vmig__Milvus__LongArray *a = e[i]->value;
            *ids = xrealloc(*ids, (*n + a->n_data) * sizeof **ids);
            memcpy(*ids + *n, a->data, a->n_data * sizeof **ids);
            *n += a->n_data;
        }
    }
out:
    if (r) vmig__milvus__flush_response__free_unpacked(r, NULL);
    return rc;
}

void vmig_milvus_enc_flush_state(const char *db, const char *name, uint64_t ts, const int64_t *ids,
                                 size_t n, struct vmig_buf *out)
{
    Vmig__Milvus__GetFlushStateRequest r = VMIG__MILVUS__GET_FLUSH_STATE_REQUEST__INIT;
    r.db_name = DB(db);
    r.collection_name = S(name);
    r.n_segmentids = n;
    r.segmentids = (int64_t *)ids;
    if (!n) r.flush_ts = ts;
    pack(&r.base, out);
}

enum vmig_code vmig_milvus_dec_index_progress(const void *p, size_t len, const char *field,
                                              const char *what, int *state, int64_t *indexed,
                                              int64_t *total, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__DescribeIndexResponse *r = NULL;
    *state = 0;
    *indexed = *total = 0;
    UNPACK(describe_index_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    for (size_t i = 0; i < r->n_index_descriptions; i++) {
        const Vmig__Milvus__IndexDescription *d = r->index_descriptions[i];
        if (strcmp(d->field_name, field) && strcmp(d->index_name, field)) continue;
        *state = d->state;
        *indexed = d->indexed_rows;
        *total = d->total_rows;
        if (d->state == VMIG_MIDX_FAILED)
            rc = vmig_err_set(err, VMIG_E_REMOTE, "%s: index build failed: %s", what,
                              d->index_state_fail_reason[0] ? d->index_state_fail_reason
                                                            : "no reason given");
        break;
    }
out:
    if (r) vmig__milvus__describe_index_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_index_state(const void *p, size_t len, const char *field,
                                           const char *what, int *state, struct vmig_err *err)
{
    int64_t indexed, total;
    return vmig_milvus_dec_index_progress(p, len, field, what, state, &indexed, &total, err);
}

enum vmig_code vmig_milvus_dec_has_database(const void *p, size_t len, const char *db,
                                            const char *what, int *found, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__ListDatabasesResponse *r = NULL;
    *found = 0;
    UNPACK(list_databases_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    for (size_t i = 0; i < r->n_db_names && !*found; i++)
        *found = !strcmp(r->db_names[i], db);
out:
    if (r) vmig__milvus__list_databases_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_load_state(const void *p, size_t len, const char *what, int *state,
                                          struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__GetLoadStateResponse *r = NULL;
    UNPACK(get_load_state_response, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    *state = r->state;
out:
    if (r) vmig__milvus__get_load_state_response__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_mutation(const void *p, size_t len, int upsert, size_t rows,
                                        const char *what, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__MutationResult *r = NULL;
    UNPACK(mutation_result, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    int64_t cnt = upsert ? r->upsert_cnt : r->insert_cnt;
    if (upsert && cnt == 0) cnt = r->insert_cnt; /* servers that only fill insert_cnt */
    if (r->n_err_index || cnt != (int64_t)rows)
        rc = vmig_err_set(err, VMIG_E_REMOTE,
                          "%s: the server acknowledged %" PRId64 " of %zu rows (%zu errors)", what,
                          cnt, rows, r->n_err_index);
out:
    if (r) vmig__milvus__mutation_result__free_unpacked(r, NULL);
    return rc;
}

static const Vmig__Milvus__FieldData *find_field(const Vmig__Milvus__QueryResults *r,
                                                 const char *name)
{
    for (size_t i = 0; i < r->n_fields_data; i++)
        if (!strcmp(r->fields_data[i]->field_name, name)) return r->fields_data[i];
    return NULL;
}

enum vmig_code vmig_milvus_dec_count(const void *p, size_t len, const char *what, uint64_t *n,
                                     struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__QueryResults *r = NULL;
    UNPACK(query_results, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    const Vmig__Milvus__FieldData *f = find_field(r, "count(*)");
    if (!f || f->field_case != VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS ||
        f->scalars->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA ||
        f->scalars->long_data->n_data != 1 || f->scalars->long_data->data[0] < 0) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: no count(*) in the query results", what);
        goto out;
    }
    *n = (uint64_t)f->scalars->long_data->data[0];
out:
    if (r) vmig__milvus__query_results__free_unpacked(r, NULL);
    return rc;
}

enum vmig_code vmig_milvus_dec_rows(const void *p, size_t len, const struct vmig_plan_coll *pc,
                                    struct vmig_batch *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__QueryResults *r = NULL;
    const Vmig__Milvus__FieldData *pk, *meta = NULL, *vec[VMIG_MAX_VECTOR_FIELDS];
    const Vmig__Milvus__FieldData *sfd[VMIG_MAX_SCALAR_FIELDS];
    size_t seen[VMIG_MAX_SCALAR_FIELDS] = {0};
    char what[VMIG_NAME_MAX + 64];
    size_t n;

    snprintf(what, sizeof what, "cannot read rows of collection '%s' on target", pc->target);
    UNPACK(query_results, r, p, len, what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    if (out->ncols != pc->nfields || out->nscalars != pc->nscalars) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "%s: batch layout does not match the plan", what);
        goto out;
    }
    for (size_t s = 0; s < pc->nscalars; s++)
        sfd[s] = find_field(r, pc->scalar[s].dst);
    for (size_t i = 0; i < r->n_fields_data; i++)
        if (r->fields_data[i]->is_dynamic ||
            !strcmp(r->fields_data[i]->field_name, VMIG_MILVUS_META))
            meta = r->fields_data[i];
    /* pk column: an empty result may come without any column */
    pk = find_field(r, pc->pk_name);
    if (!pk) {
        if (r->n_fields_data == 0) goto out;
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: no '%s' column in the query results", what,
                          pc->pk_name);
        goto out;
    }
    if (pk->field_case != VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS) goto bad_pk;
    if (pc->pk_type == VMIG_PK_INT64) {
        if (pk->scalars->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_LONG_DATA) goto bad_pk;
        n = pk->scalars->long_data->n_data;
    } else {
        if (pk->scalars->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_STRING_DATA) goto bad_pk;
        n = pk->scalars->string_data->n_data;
    }
    /* vector columns, checked against the plan */
    for (size_t c = 0; c < pc->nfields; c++) {
        const struct vmig_plan_field *pf = &pc->field[c];
        const Vmig__Milvus__FieldData *f = vec[c] = find_field(r, pf->dst);
        int ok = f && f->field_case == VMIG__MILVUS__FIELD_DATA__FIELD_VECTORS;
        if (ok && pf->kind == VMIG_VEC_SPARSE)
            ok = f->vectors->data_case == VMIG__MILVUS__VECTOR_FIELD__DATA_SPARSE_FLOAT_VECTOR &&
                 f->vectors->sparse_float_vector->n_contents == n;
        else if (ok)
            ok = f->vectors->data_case == VMIG__MILVUS__VECTOR_FIELD__DATA_FLOAT_VECTOR &&
                 f->vectors->float_vector->n_data == n * (size_t)pf->dim;
        if (!ok) {
            rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                              "%s: column '%s' missing or not %zu rows of its type", what, pf->dst,
                              n);
            goto out;
        }
    }
    if (meta && (meta->field_case != VMIG__MILVUS__FIELD_DATA__FIELD_SCALARS ||
                 meta->scalars->data_case != VMIG__MILVUS__SCALAR_FIELD__DATA_JSON_DATA ||
                 meta->scalars->json_data->n_data != n)) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: bad dynamic field column", what);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct vmig_point_id id = {0};
        if (pc->pk_type == VMIG_PK_INT64) {
            int64_t v = pk->scalars->long_data->data[i];
            if (v < 0) goto bad_pk;
            id.kind = VMIG_ID_NUM;
            id.num = (uint64_t)v;
        } else {
            const char *s = pk->scalars->string_data->data[i];
            if (vmig_point_id_parse(s, strlen(s), &id)) {
                rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: '%s' is not a point id", what, s);
                goto out;
            }
        }
        vmig_batch_begin_row(out, &id);
        for (size_t c = 0; c < pc->nfields; c++) {
            if (pc->field[c].kind == VMIG_VEC_SPARSE) {
                const ProtobufCBinaryData *d = &vec[c]->vectors->sparse_float_vector->contents[i];
                vmig_buf_add(&out->col[c].data, d->data, d->len);
            } else {
                size_t dim = pc->field[c].dim;
                memcpy(vmig_batch_dense(out, c), vec[c]->vectors->float_vector->data + i * dim,
                       dim * sizeof(float));
            }
        }
        for (size_t s = 0; s < pc->nscalars; s++)
            if (vmig_milvus_scalar_read(&pc->scalar[s], sfd[s], n, i, &seen[s], &out->sc[s])) {
                rc =
                    vmig_err_set(err, VMIG_E_PROTOCOL, "%s: column '%s' missing or not of its type",
                                 what, pc->scalar[s].dst);
                goto out;
            }
        if (meta) {
            const ProtobufCBinaryData *d = &meta->scalars->json_data->data[i];
            vmig_buf_add(&out->meta, d->data, d->len);
        } else {
            vmig_buf_adds(&out->meta, "{}");
        }
        vmig_batch_end_row(out);
    }
    goto out;
bad_pk:
    rc = vmig_err_set(err, VMIG_E_PROTOCOL, "%s: primary key column '%s' has the wrong type", what,
                      pc->pk_name);
out:
    if (r) vmig__milvus__query_results__free_unpacked(r, NULL);
    return rc;
}

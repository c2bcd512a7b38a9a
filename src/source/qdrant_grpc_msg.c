/*
 * qdrant_grpc_msg.c - the requests the gRPC source connector sends (Scroll, Get,
 * Count, Collections.Get, the random-sample Query) and the small answers it reads
 * (health, collection list, count, collection info with strict mode), on protobuf-c
 * and our src/source/qdrant.proto; see qdrant_grpc_codec.h. Pages of points are
 * decoded in qdrant_grpc_codec.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdrant.pb-c.h"
#include "source/qdrant_codec.h"
#include "source/qdrant_grpc_codec.h"
#include "util/alloc.h"

/* ======================================================================
 * requests
 * ====================================================================== */

/* Pack any message into out (replacing its contents). */
static void pack(struct vmig_buf *out, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    protobuf_c_message_pack(m, (uint8_t *)out->p);
    vmig_buf_setlen(out, n);
}

/* id -> PointId; uuid_text (VMIG_ID_TEXT_MAX) holds a UUID's text. */
static void set_id(Vmig__Qdrant__PointId *m, const struct vmig_point_id *id, char *uuid_text)
{
    vmig__qdrant__point_id__init(m);
    if (id->kind == VMIG_ID_UUID) {
        vmig_point_id_format(id, uuid_text);
        m->point_id_options_case = VMIG__QDRANT__POINT_ID__POINT_ID_OPTIONS_UUID;
        m->uuid = uuid_text;
    } else {
        m->point_id_options_case = VMIG__QDRANT__POINT_ID__POINT_ID_OPTIONS_NUM;
        m->num = id->num;
    }
}

/* The vectors to send: lay's names, or none. names has room for lay->ncols. */
static void set_vectors(Vmig__Qdrant__WithVectorsSelector *w, Vmig__Qdrant__VectorsSelector *sel,
                        char **names, const struct vmig_layout *lay, int none)
{
    vmig__qdrant__with_vectors_selector__init(w);
    if (none || !lay || !lay->ncols) {
        w->selector_options_case = VMIG__QDRANT__WITH_VECTORS_SELECTOR__SELECTOR_OPTIONS_ENABLE;
        w->enable = 0;
        return;
    }
    if (lay->unnamed) { /* the unnamed vector has no name to select by */
        w->selector_options_case = VMIG__QDRANT__WITH_VECTORS_SELECTOR__SELECTOR_OPTIONS_ENABLE;
        w->enable = 1;
        return;
    }
    vmig__qdrant__vectors_selector__init(sel);
    for (size_t c = 0; c < lay->ncols; c++)
        names[c] = (char *)lay->col[c].src;
    sel->n_names = lay->ncols;
    sel->names = names;
    w->selector_options_case = VMIG__QDRANT__WITH_VECTORS_SELECTOR__SELECTOR_OPTIONS_INCLUDE;
    w->include = sel;
}

static void set_payload(Vmig__Qdrant__WithPayloadSelector *w, int on)
{
    vmig__qdrant__with_payload_selector__init(w);
    w->selector_options_case = VMIG__QDRANT__WITH_PAYLOAD_SELECTOR__SELECTOR_OPTIONS_ENABLE;
    w->enable = on ? 1 : 0;
}

void vmig_qgrpc_enc_scroll(struct vmig_buf *out, const struct vmig_read_req *req)
{
    Vmig__Qdrant__ScrollPoints m;
    Vmig__Qdrant__PointId off;
    Vmig__Qdrant__Filter f;
    Vmig__Qdrant__Condition cond, *conds[1] = {&cond};
    Vmig__Qdrant__SliceCondition slice;
    Vmig__Qdrant__WithPayloadSelector wp;
    Vmig__Qdrant__WithVectorsSelector wv;
    Vmig__Qdrant__VectorsSelector sel;
    char *names[VMIG_MAX_VECTOR_FIELDS];
    char uuid[VMIG_ID_TEXT_MAX];

    vmig__qdrant__scroll_points__init(&m);
    m.collection_name = (char *)req->coll;
    m.limit = req->limit ? req->limit : 100;
    if (req->offset.kind != VMIG_ID_NONE) {
        set_id(&off, &req->offset, uuid);
        m.offset = &off;
    }
    if (req->slice_total > 0) {
        vmig__qdrant__filter__init(&f);
        vmig__qdrant__condition__init(&cond);
        vmig__qdrant__slice_condition__init(&slice);
        slice.total = req->slice_total;
        slice.index = req->slice_index;
        cond.condition_one_of_case = VMIG__QDRANT__CONDITION__CONDITION_ONE_OF_SLICE;
        cond.slice = &slice;
        f.n_must = 1;
        f.must = conds;
        m.filter = &f;
    }
    set_payload(&wp, !req->ids_only);
    m.with_payload = &wp;
    set_vectors(&wv, &sel, names, req->layout, req->ids_only);
    m.with_vectors = &wv;
    pack(out, &m.base);
}

void vmig_qgrpc_enc_get(struct vmig_buf *out, const char *coll, const struct vmig_layout *lay,
                        const struct vmig_point_id *ids, size_t n)
{
    Vmig__Qdrant__GetPoints m;
    Vmig__Qdrant__WithPayloadSelector wp;
    Vmig__Qdrant__WithVectorsSelector wv;
    Vmig__Qdrant__VectorsSelector sel;
    char *names[VMIG_MAX_VECTOR_FIELDS];
    Vmig__Qdrant__PointId *pid = xcalloc(n ? n : 1, sizeof *pid);
    Vmig__Qdrant__PointId **pids = xcalloc(n ? n : 1, sizeof *pids);
    char(*uuids)[VMIG_ID_TEXT_MAX] = xcalloc(n ? n : 1, VMIG_ID_TEXT_MAX);

    vmig__qdrant__get_points__init(&m);
    m.collection_name = (char *)coll;
    for (size_t i = 0; i < n; i++) {
        set_id(&pid[i], &ids[i], uuids[i]);
        pids[i] = &pid[i];
    }
    m.n_ids = n;
    m.ids = pids;
    set_payload(&wp, 1);
    m.with_payload = &wp;
    set_vectors(&wv, &sel, names, lay, 0);
    m.with_vectors = &wv;
    pack(out, &m.base);
    free(pid);
    free(pids);
    free(uuids);
}

void vmig_qgrpc_enc_count(struct vmig_buf *out, const char *coll)
{
    Vmig__Qdrant__CountPoints m;
    vmig__qdrant__count_points__init(&m);
    m.collection_name = (char *)coll;
    m.exact = 1;
    pack(out, &m.base);
}

void vmig_qgrpc_enc_info(struct vmig_buf *out, const char *coll)
{
    Vmig__Qdrant__GetCollectionInfoRequest m;
    vmig__qdrant__get_collection_info_request__init(&m);
    m.collection_name = (char *)coll;
    pack(out, &m.base);
}

void vmig_qgrpc_enc_sample(struct vmig_buf *out, const char *coll, size_t n)
{
    Vmig__Qdrant__QueryPoints m;
    Vmig__Qdrant__Query q;
    Vmig__Qdrant__WithPayloadSelector wp;
    Vmig__Qdrant__WithVectorsSelector wv;
    vmig__qdrant__query_points__init(&m);
    vmig__qdrant__query__init(&q);
    q.variant_case = VMIG__QDRANT__QUERY__VARIANT_SAMPLE;
    q.sample = 0; /* Sample.Random */
    m.collection_name = (char *)coll;
    m.query = &q;
    m.limit = n;
    set_payload(&wp, 0);
    m.with_payload = &wp;
    set_vectors(&wv, NULL, NULL, NULL, 1);
    m.with_vectors = &wv;
    pack(out, &m.base);
}

/* ======================================================================
 * small answers
 * ====================================================================== */

enum vmig_code vmig_qgrpc_malformed(struct vmig_err *err, const char *what, const char *coll)
{
    enum vmig_code rc;
    if (coll) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "malformed gRPC answer (%s) for collection '%s': not the message "
                          "Qdrant sends",
                          what, coll);
        vmig_err_at(err, coll, NULL, NULL);
    } else {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "malformed gRPC answer (%s): not the message Qdrant sends", what);
    }
    return rc;
}

enum vmig_code vmig_qgrpc_parse_health(const void *msg, size_t len, char *version, size_t n,
                                       struct vmig_err *err)
{
    Vmig__Qdrant__HealthCheckReply *r = vmig__qdrant__health_check_reply__unpack(NULL, len, msg);
    if (!r || !r->version || !r->version[0]) {
        if (r) vmig__qdrant__health_check_reply__free_unpacked(r, NULL);
        return vmig_qgrpc_malformed(err, "health check", NULL);
    }
    snprintf(version, n, "%s", r->version);
    vmig__qdrant__health_check_reply__free_unpacked(r, NULL);
    return VMIG_OK;
}

enum vmig_code vmig_qgrpc_parse_list(const void *msg, size_t len, char ***names, size_t *n,
                                     struct vmig_err *err)
{
    Vmig__Qdrant__ListCollectionsResponse *r =
        vmig__qdrant__list_collections_response__unpack(NULL, len, msg);
    *names = NULL;
    *n = 0;
    if (!r) return vmig_qgrpc_malformed(err, "collection list", NULL);
    *names = xcalloc(r->n_collections ? r->n_collections : 1, sizeof **names);
    for (size_t i = 0; i < r->n_collections; i++)
        (*names)[(*n)++] = xstrdup(r->collections[i]->name ? r->collections[i]->name : "");
    vmig__qdrant__list_collections_response__free_unpacked(r, NULL);
    return VMIG_OK;
}

enum vmig_code vmig_qgrpc_parse_count(const void *msg, size_t len, uint64_t *count,
                                      struct vmig_err *err)
{
    Vmig__Qdrant__CountResponse *r = vmig__qdrant__count_response__unpack(NULL, len, msg);
    if (!r || !r->result) {
        if (r) vmig__qdrant__count_response__free_unpacked(r, NULL);
        return vmig_qgrpc_malformed(err, "count", NULL);
    }
    *count = r->result->count;
    vmig__qdrant__count_response__free_unpacked(r, NULL);
    return VMIG_OK;
}

static enum vmig_distance distance_of(int d)
{
    switch (d) {
    case 1:
        return VMIG_DIST_COSINE;
    case 2:
        return VMIG_DIST_EUCLID;
    case 3:
        return VMIG_DIST_DOT;
    case 4:
        return VMIG_DIST_MANHATTAN;
    default:
        return VMIG_DIST_NONE;
    }
}

/* Datatype enum -> the name REST gives it (Default = float32). */
static void set_datatype(struct vmig_src_vector *v, int dt)
{
    static const char *const names[] = {"float32", "float32", "uint8",  "float16",
                                        "turbo4",  "turbo8",  "turbo16"};
    char other[32];
    snprintf(other, sizeof other, "datatype %d", dt);
    vmig_qdrant_set_datatype(v, dt >= 0 && dt < (int)(sizeof names / sizeof *names) ? names[dt]
                                                                                    : other);
}

#define add_vec vmig_qdrant_add_vec

static int hnsw_or(uint64_t v)
{
    return v > 0 && v < 1000000 ? (int)v : -1;
}

static void dense_params(struct vmig_src_vector *v, const Vmig__Qdrant__VectorParams *p)
{
    if (!v || !p) return;
    v->size = p->size > 0 && p->size <= UINT32_MAX ? (uint32_t)p->size : 0;
    v->distance = distance_of(p->distance);
    if (p->hnsw_config) {
        v->hnsw_m = hnsw_or(p->hnsw_config->m);
        v->hnsw_ef = hnsw_or(p->hnsw_config->ef_construct);
    }
    set_datatype(v, p->datatype);
    v->multivector = p->multivector_config != NULL;
}

enum vmig_code vmig_qgrpc_parse_info(const void *msg, size_t len, const char *coll,
                                     struct vmig_src_coll *out, struct vmig_err *err)
{
    static const char *const status[] = {"", "green", "yellow", "red", "grey"};
    Vmig__Qdrant__GetCollectionInfoResponse *r =
        vmig__qdrant__get_collection_info_response__unpack(NULL, len, msg);
    if (!r) return vmig_qgrpc_malformed(err, "collection info", coll);
    const Vmig__Qdrant__CollectionInfo *ci = r->result;
    const Vmig__Qdrant__CollectionConfig *cfg = ci ? ci->config : NULL;
    const Vmig__Qdrant__CollectionParams *params = cfg ? cfg->params : NULL;
    if (!params) {
        vmig__qdrant__get_collection_info_response__free_unpacked(r, NULL);
        vmig_err_set(err, VMIG_E_PROTOCOL, "the info of collection '%s' has no config.params",
                     coll);
        vmig_err_at(err, coll, NULL, NULL);
        return VMIG_E_PROTOCOL;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", coll);
    snprintf(out->status, sizeof out->status, "%s",
             ci->status >= 0 && ci->status <= 4 ? status[ci->status] : "");
    out->points_approx = ci->points_count;
    out->hnsw_m = out->hnsw_ef = -1;
    if (cfg->hnsw_config) {
        out->hnsw_m = hnsw_or(cfg->hnsw_config->m);
        out->hnsw_ef = hnsw_or(cfg->hnsw_config->ef_construct);
    }
    if (cfg->strict_mode_config && cfg->strict_mode_config->enabled) {
        out->max_query_limit = cfg->strict_mode_config->max_query_limit;
        out->read_rate_limit = cfg->strict_mode_config->read_rate_limit;
    }
    const Vmig__Qdrant__VectorsConfig *vc = params->vectors_config;
    if (vc && vc->config_case == VMIG__QDRANT__VECTORS_CONFIG__CONFIG_PARAMS) {
        out->unnamed = 1;
        dense_params(add_vec(out, ""), vc->params);
    } else if (vc && vc->config_case == VMIG__QDRANT__VECTORS_CONFIG__CONFIG_PARAMS_MAP &&
               vc->params_map) {
        for (size_t i = 0; i < vc->params_map->n_map; i++) {
            struct vmig_src_vector *v = add_vec(out, vc->params_map->map[i]->key);
            if (!v) break;
            dense_params(v, vc->params_map->map[i]->value);
        }
    }
    if (params->sparse_vectors_config) {
        for (size_t i = 0; i < params->sparse_vectors_config->n_map; i++) {
            const Vmig__Qdrant__SparseVectorConfig__MapEntry *e =
                params->sparse_vectors_config->map[i];
            struct vmig_src_vector *v = add_vec(out, e->key);
            if (!v) break;
            v->sparse = 1;
            v->sparse_idf = e->value && e->value->modifier == 1;
            if (e->value && e->value->index) set_datatype(v, e->value->index->datatype);
        }
    }
    if (out->unnamed && out->nvec != 1) out->unnamed = 0;
    for (size_t i = 0; i < ci->n_payload_schema; i++) {
        const Vmig__Qdrant__CollectionInfo__PayloadSchemaEntry *e = ci->payload_schema[i];
        if (e->key && e->value)
            vmig_qdrant_add_index(out, e->key, NULL, e->value->data_type, e->value->points, 0);
    }
    vmig__qdrant__get_collection_info_response__free_unpacked(r, NULL);
    return VMIG_OK;
}

/*
 * milvus_search_codec.c - the codec half of milvus_search.h. The query vectors
 * travel as a serialized common.PlaceholderGroup inside SearchRequest.placeholder_group
 * (bytes): one PlaceholderValue tagged "$0" whose values are the raw vectors, dense as
 * dim float32 LE, sparse as the row's (u32 index, f32 value) pairs, exactly the
 * batch's own bytes. The parameters go as key/value pairs (anns_field, topk,
 * metric_type, params JSON, round_decimal -1 = unrounded scores).
 */
#include "target/milvus_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milvus.pb-c.h"
#include "target/milvus_codec.h"
#include "util/alloc.h"

#define S(x) ((char *)(x)) /* protobuf-c takes char *; never written through */
#define PH_FLOAT_VECTOR 101
#define PH_SPARSE_VECTOR 104
#define DSL_BOOL_EXPR 1

enum vmig_code vmig_milvus_enc_search(const char *db, const struct vmig_plan_coll *pc, size_t c,
                                      const struct vmig_batch *q, size_t lo, size_t hi, uint32_t k,
                                      struct vmig_buf *out, struct vmig_err *err)
{
    if (c >= pc->nfields || c >= q->ncols || hi <= lo || hi > q->n)
        return vmig_err_set(err, VMIG_E_INTERNAL, "search of field %zu, rows %zu..%zu of %zu", c,
                            lo, hi, q->n);
    const struct vmig_plan_field *f = &pc->field[c];
    const struct vmig_batch_col *col = &q->col[c];
    size_t nq = hi - lo;
    ProtobufCBinaryData *vals = xcalloc(nq, sizeof *vals);
    for (size_t i = 0; i < nq; i++) {
        size_t r = lo + i;
        if (col->sparse) {
            vals[i].data = (uint8_t *)col->data.p + col->off[r];
            vals[i].len = col->off[r + 1] - col->off[r];
        } else {
            vals[i].data = (uint8_t *)(uintptr_t)vmig_batch_dense_at(q, c, r);
            vals[i].len = (size_t)col->dim * sizeof(float);
        }
    }
    Vmig__Milvus__PlaceholderValue pv = VMIG__MILVUS__PLACEHOLDER_VALUE__INIT, *pvp = &pv;
    pv.tag = S("$0");
    pv.type = col->sparse ? PH_SPARSE_VECTOR : PH_FLOAT_VECTOR;
    pv.n_values = nq;
    pv.values = vals;
    Vmig__Milvus__PlaceholderGroup pg = VMIG__MILVUS__PLACEHOLDER_GROUP__INIT;
    pg.n_placeholders = 1;
    pg.placeholders = &pvp;
    size_t pglen = vmig__milvus__placeholder_group__get_packed_size(&pg);
    uint8_t *pgbytes = xmalloc(pglen ? pglen : 1);
    vmig__milvus__placeholder_group__pack(&pg, pgbytes);

    char topk[16], params[64];
    snprintf(topk, sizeof topk, "%u", k ? k : 1);
    if (col->sparse)
        snprintf(params, sizeof params, "{\"drop_ratio_search\":0}");
    else
        snprintf(params, sizeof params, "{\"ef\":%u}", VMIG_MILVUS_SEARCH_EF(k));
    const char *kvs[][2] = {
        {"anns_field", f->dst}, {"topk", topk},          {"metric_type", vmig_milvus_metric_of(f)},
        {"params", params},     {"round_decimal", "-1"}, {"offset", "0"}};
    enum { NKV = sizeof kvs / sizeof kvs[0] };
    Vmig__Milvus__KeyValuePair kv[NKV], *kvp[NKV];
    for (size_t i = 0; i < NKV; i++) {
        vmig__milvus__key_value_pair__init(&kv[i]);
        kv[i].key = S(kvs[i][0]);
        kv[i].value = S(kvs[i][1]);
        kvp[i] = &kv[i];
    }
    Vmig__Milvus__SearchRequest r = VMIG__MILVUS__SEARCH_REQUEST__INIT;
    r.db_name = S(db ? db : "");
    r.collection_name = S(pc->target);
    r.dsl = S("");
    r.dsl_type = DSL_BOOL_EXPR;
    r.placeholder_group.data = pgbytes;
    r.placeholder_group.len = pglen;
    r.n_search_params = NKV;
    r.search_params = kvp;
    r.nq = (int64_t)nq;
    /* Strong: every row the copy wrote is searched */
    r.consistency_level = VMIG_MCL_STRONG;
    r.use_default_consistency = 0;
    size_t n = vmig__milvus__search_request__get_packed_size(&r);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    vmig__milvus__search_request__pack(&r, (uint8_t *)out->p);
    vmig_buf_setlen(out, n);
    free(pgbytes);
    free(vals);
    return VMIG_OK;
}

enum vmig_code vmig_milvus_dec_search(const void *p, size_t len, const char *what, size_t nq,
                                      struct vmig_hits *out, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    Vmig__Milvus__SearchResults *r = vmig__milvus__search_results__unpack(NULL, len, p);
    if (!r)
        return vmig_err_set(err, VMIG_E_PROTOCOL, "%s: cannot decode the search response", what);
    if ((rc = vmig_milvus_status(r->status, what, err))) goto out;
    const Vmig__Milvus__SearchResultData *d = r->results;
    /* a search that found nothing may leave results (or its lists) out */
    size_t ntopks = d ? d->n_topks : 0, nids = 0;
    const Vmig__Milvus__IDs *ids = d ? d->ids : NULL;
    if (ids && ids->id_field_case == VMIG__MILVUS__IDS__ID_FIELD_INT_ID && ids->int_id)
        nids = ids->int_id->n_data;
    else if (ids && ids->id_field_case == VMIG__MILVUS__IDS__ID_FIELD_STR_ID && ids->str_id)
        nids = ids->str_id->n_data;
    size_t total = 0;
    for (size_t i = 0; i < ntopks; i++)
        total += d->topks[i] > 0 ? (size_t)d->topks[i] : 0;
    if ((ntopks && ntopks != nq) || total != nids || (d && d->n_scores != nids)) {
        rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                          "%s: the answer holds %zu query results, %zu ids and %zu scores for %zu "
                          "queries",
                          what, ntopks, nids, d ? d->n_scores : 0, nq);
        goto out;
    }
    size_t at = 0;
    for (size_t qi = 0; qi < ntopks; qi++) {
        for (int64_t j = 0; j < d->topks[qi]; j++, at++) {
            struct vmig_point_id id;
            memset(&id, 0, sizeof id);
            if (ids->id_field_case == VMIG__MILVUS__IDS__ID_FIELD_INT_ID) {
                id.kind = VMIG_ID_NUM;
                id.num = (uint64_t)ids->int_id->data[at];
            } else {
                const char *s = ids->str_id->data[at];
                if (vmig_point_id_parse(s, strlen(s), &id)) {
                    rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                                      "%s: the primary key '%.60s' is not a Qdrant point id", what,
                                      s);
                    goto out;
                }
            }
            vmig_hits_add(&out[qi], &id, d->scores[at]);
        }
    }
out:
    vmig__milvus__search_results__free_unpacked(r, NULL);
    return rc;
}

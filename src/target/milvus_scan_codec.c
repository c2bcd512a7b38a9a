/*
 * milvus_scan_codec.c - the codec of the target's primary-key scan (full
 * verification's pass for extra rows): a Query "pk > after" with a limit and the pk
 * as the only output field, and its answer read back as a batch of ids, checked to be
 * in strictly ascending pk order above `after` (the paging relies on the server
 * returning the lowest `limit` keys in order, as Milvus 2.3+ and Milvus Lite do for a
 * query with a limit). Pure: no I/O (transport: milvus_scan.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milvus_codec.h"
#include "util/alloc.h"
#include "vmig/plan.h"

#define S(x) ((char *)(x)) /* protobuf-c structs take char *; we never write through it */

enum vmig_code vmig_milvus_enc_scan_ids(const char *db, const struct vmig_plan_coll *pc,
                                        const struct vmig_point_id *after, uint32_t limit,
                                        struct vmig_buf *out, struct vmig_err *err)
{
    char expr[VMIG_NAME_MAX + 64], lim[16], at[VMIG_ID_TEXT_MAX];
    int has = after && after->kind != VMIG_ID_NONE;
    if (has) vmig_point_id_format(after, at);
    if (pc->pk_type == VMIG_PK_INT64) {
        if (has && (after->kind != VMIG_ID_NUM || after->num > INT64_MAX)) {
            vmig_err_set(err, VMIG_E_INTERNAL,
                         "cannot scan collection '%s' on target: id %s does not fit its Int64 "
                         "primary key",
                         pc->target, at);
            vmig_err_at(err, pc->target, at, NULL);
            return VMIG_E_INTERNAL;
        }
        /* point ids are unsigned: the lowest is 0 */
        snprintf(expr, sizeof expr, has ? "%s > %s" : "%s >= 0", pc->pk_name, at);
    } else {
        /* decimal digits, hex and hyphens: nothing to escape */
        snprintf(expr, sizeof expr, has ? "%s > \"%s\"" : "%s > \"\"", pc->pk_name, at);
    }
    snprintf(lim, sizeof lim, "%" PRIu32, limit ? limit : 1);
    char *of[1] = {S(pc->pk_name)};
    Vmig__Milvus__KeyValuePair kv = VMIG__MILVUS__KEY_VALUE_PAIR__INIT, *kvp = &kv;
    Vmig__Milvus__QueryRequest r = VMIG__MILVUS__QUERY_REQUEST__INIT;
    kv.key = S("limit");
    kv.value = lim;
    r.db_name = S(db ? db : "");
    r.collection_name = S(pc->target);
    r.expr = expr;
    r.n_output_fields = 1;
    r.output_fields = of;
    r.n_query_params = 1;
    r.query_params = &kvp;
    r.consistency_level = VMIG_MCL_STRONG;
    size_t n = protobuf_c_message_get_packed_size(&r.base);
    vmig_buf_reset(out);
    vmig_buf_grow(out, n);
    if (n) {
        protobuf_c_message_pack(&r.base, (uint8_t *)out->p);
        vmig_buf_setlen(out, n);
    }
    return VMIG_OK;
}

/* pk order of the target: Int64 by value, VarChar by bytes */
static int pk_cmp(const struct vmig_plan_coll *pc, const struct vmig_point_id *a,
                  const struct vmig_point_id *b)
{
    if (pc->pk_type == VMIG_PK_INT64) return a->num < b->num ? -1 : a->num > b->num;
    char ta[VMIG_ID_TEXT_MAX], tb[VMIG_ID_TEXT_MAX];
    vmig_point_id_format(a, ta);
    vmig_point_id_format(b, tb);
    return strcmp(ta, tb);
}

enum vmig_code vmig_milvus_dec_scan_ids(const void *p, size_t len, const struct vmig_plan_coll *pc,
                                        const struct vmig_point_id *after, struct vmig_batch *out,
                                        struct vmig_err *err)
{
    /* the rows decoder on the plan's pk alone: no vector or typed columns expected */
    struct vmig_plan_coll *only = xmalloc(sizeof *only);
    memcpy(only, pc, sizeof *only);
    only->nfields = 0;
    only->nscalars = 0;
    size_t n0 = out->n;
    enum vmig_code rc = vmig_milvus_dec_rows(p, len, only, out, err);
    free(only);
    if (rc) return rc;
    for (size_t i = n0; i < out->n; i++) {
        const struct vmig_point_id *prev =
            i > n0 ? &out->ids[i - 1] : after && after->kind != VMIG_ID_NONE ? after : NULL;
        if (prev && pk_cmp(pc, prev, &out->ids[i]) >= 0) {
            char t[VMIG_ID_TEXT_MAX];
            vmig_point_id_format(&out->ids[i], t);
            rc = vmig_err_set(err, VMIG_E_PROTOCOL,
                              "cannot scan the primary keys of collection '%s' on target: the "
                              "server answered key %s out of order (full verification needs a "
                              "Milvus that sorts query results by primary key, 2.3 or later)",
                              pc->target, t);
            vmig_err_at(err, pc->target, t, NULL);
            return rc;
        }
    }
    return VMIG_OK;
}

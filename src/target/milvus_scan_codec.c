/*
 * milvus_scan_codec.c - the codec of the target's primary-key scan (full
 * verification's pass for extra rows): a Query of the keys in one span of the key
 * space - an Int64 range "pk >= lo && pk <= hi", a VarChar prefix 'pk like "P%"' or one
 * VarChar key - with a limit and the pk as the only output field, and its answer read
 * back as a batch of ids. Nothing relies on the order of the answer: Milvus Lite does
 * not sort query results by key (the real 2.3 server does), so a span that fills the
 * limit is split by the caller instead of paged. Pure: no I/O (transport:
 * milvus_scan.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milvus_codec.h"
#include "util/alloc.h"
#include "vmig/plan.h"

#define S(x) ((char *)(x)) /* protobuf-c structs take char *; we never write through it */

/* the prefix alphabet of point ids as text: decimal digits, lowercase hex, hyphens */
static int id_text(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || *s == '-')) return 0;
    return 1;
}

enum vmig_code vmig_milvus_enc_scan_ids(const char *db, const struct vmig_plan_coll *pc,
                                        const struct vmig_key_span *sp, uint32_t limit,
                                        struct vmig_buf *out, struct vmig_err *err)
{
    char expr[VMIG_NAME_MAX + 96], lim[16];
    int intpk = pc->pk_type == VMIG_PK_INT64;
    if (intpk != (sp->kind == VMIG_SPAN_INT) || (!intpk && !id_text(sp->prefix))) {
        return vmig_err_set(err, VMIG_E_INTERNAL,
                            "cannot scan collection '%s' on target: a key span of the wrong kind",
                            pc->target);
    }
    if (intpk)
        snprintf(expr, sizeof expr, "%s >= %" PRId64 " && %s <= %" PRId64, pc->pk_name, sp->lo,
                 pc->pk_name, sp->hi);
    else if (sp->kind == VMIG_SPAN_EXACT)
        snprintf(expr, sizeof expr, "%s == \"%s\"", pc->pk_name, sp->prefix);
    else /* '%' and '_' are like's wildcards: the alphabet has neither */
        snprintf(expr, sizeof expr, "%s like \"%s%%\"", pc->pk_name, sp->prefix);
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

enum vmig_code vmig_milvus_dec_scan_ids(const void *p, size_t len, const struct vmig_plan_coll *pc,
                                        struct vmig_batch *out, struct vmig_err *err)
{
    /* the rows decoder on the plan's pk alone: no vector or typed columns expected */
    struct vmig_plan_coll *only = xmalloc(sizeof *only);
    memcpy(only, pc, sizeof *only);
    only->nfields = 0;
    only->nscalars = 0;
    enum vmig_code rc = vmig_milvus_dec_rows(p, len, only, out, err);
    free(only);
    return rc;
}

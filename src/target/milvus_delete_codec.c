/*
 * milvus_delete_codec.c - the pure codec of deletes by primary key (milvus_delete.h):
 * the `pk in [...]` expression (shared with the Query by ids of milvus_codec.c) and the
 * DeleteRequest around it, and the MutationResult that answers it. No I/O.
 */
#include "target/milvus_delete.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "milvus.pb-c.h"
#include "target/milvus_codec.h"

#define S(x) ((char *)(x)) /* protobuf-c structs take char *; we never write through it */

enum vmig_code vmig_milvus_expr_pk_in(const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_buf *out, struct vmig_err *err)
{
    vmig_buf_reset(out);
    vmig_buf_addf(out, "%s in [", pc->pk_name);
    for (size_t i = 0; i < n; i++) {
        char t[VMIG_ID_TEXT_MAX];
        if (i) vmig_buf_addch(out, ',');
        if (pc->pk_type == VMIG_PK_INT64) {
            if (ids[i].kind != VMIG_ID_NUM || ids[i].num > INT64_MAX) {
                vmig_point_id_format(&ids[i], t);
                enum vmig_code rc = vmig_err_set(
                    err, VMIG_E_DATA, "point id %s does not fit the Int64 primary key of '%s'", t,
                    pc->target);
                vmig_err_at(err, pc->target, t, NULL);
                return rc;
            }
            vmig_buf_addf(out, "%" PRIu64, ids[i].num);
        } else {
            /* decimal digits, hex and hyphens: nothing to escape */
            vmig_point_id_format(&ids[i], t);
            vmig_buf_addf(out, "\"%s\"", t);
        }
    }
    vmig_buf_addch(out, ']');
    return VMIG_OK;
}

enum vmig_code vmig_milvus_enc_delete(const char *db, const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_buf *out, struct vmig_err *err)
{
    struct vmig_buf expr = VMIG_BUF_INIT;
    Vmig__Milvus__DeleteRequest r = VMIG__MILVUS__DELETE_REQUEST__INIT;
    enum vmig_code rc = vmig_milvus_expr_pk_in(pc, ids, n, &expr, err);
    if (rc) goto out;
    r.db_name = S(db ? db : "");
    r.collection_name = S(pc->target);
    r.partition_name = S("");
    r.expr = expr.p;
    size_t len = protobuf_c_message_get_packed_size(&r.base);
    vmig_buf_reset(out);
    vmig_buf_grow(out, len);
    protobuf_c_message_pack(&r.base, (uint8_t *)out->p);
    vmig_buf_setlen(out, len);
out:
    vmig_buf_release(&expr);
    return rc;
}

enum vmig_code vmig_milvus_dec_delete(const void *p, size_t len, const char *what,
                                      uint64_t *deleted, struct vmig_err *err)
{
    *deleted = 0;
    Vmig__Milvus__MutationResult *r =
        vmig__milvus__mutation_result__unpack(NULL, len, (const uint8_t *)p);
    if (!r)
        return vmig_err_set(err, VMIG_E_PROTOCOL,
                            "%s: cannot decode the server's answer (%zu bytes)", what, len);
    enum vmig_code rc = vmig_milvus_status(r->status, what, err);
    if (!rc && r->delete_cnt > 0) *deleted = (uint64_t)r->delete_cnt;
    vmig__milvus__mutation_result__free_unpacked(r, NULL);
    return rc;
}

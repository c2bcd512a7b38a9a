/*
 * milvus_delete.h - deleting rows of a Milvus collection by primary key: the pure
 * codec (the "pk in [...]" expression and the DeleteRequest, milvus_delete_codec.c)
 * and the connector call behind vmig_target_vt.delete_ids (milvus_delete.c), which
 * batches ids under the request limits and retries like every write.
 */
#ifndef VMIG_TARGET_MILVUS_DELETE_H
#define VMIG_TARGET_MILVUS_DELETE_H

#include <stddef.h>
#include <stdint.h>

#include "target/target.h"
#include "util/buf.h"
#include "vmig/plan.h"

/* Ids per Delete request, and the most bytes of expression one request carries. */
#define VMIG_MILVUS_DELETE_MAX_IDS 1024
#define VMIG_MILVUS_EXPR_MAX (1u << 20)

/* out = `<pk> in [1,2]` (Int64) or `<pk> in ["a","b"]` (VarChar), replacing what it held.
 * A uuid or an id past INT64_MAX under an Int64 key is VMIG_E_DATA naming the point. */
enum vmig_code vmig_milvus_expr_pk_in(const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_buf *out, struct vmig_err *err);
/* DeleteRequest{db, collection pc->target, partition "" (all), expr pk in [ids]}. */
enum vmig_code vmig_milvus_enc_delete(const char *db, const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_buf *out, struct vmig_err *err);
/* MutationResult of a Delete: the status, and *deleted = delete_cnt (what the server
 * says it deleted; real Milvus counts the ids asked for, present or not). */
enum vmig_code vmig_milvus_dec_delete(const void *p, size_t len, const char *what,
                                      uint64_t *deleted, struct vmig_err *err);

/* The connector's delete_ids (target.h). */
enum vmig_code vmig_milvus_delete_ids(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_point_id *ids, size_t n,
                                      struct vmig_err *err);

#endif

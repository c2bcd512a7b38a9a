/*
 * milvus.h - Milvus-specific calls on a target handle opened through
 * vmig_target_milvus (target.h), beyond the vtable.
 */
#ifndef VMIG_TARGET_MILVUS_H
#define VMIG_TARGET_MILVUS_H

#include "target/target.h"
#include "util/retry.h"

/* Use this retry policy (copied; its cancel pointer is kept and must outlive the
 * handle) for every remote call of t instead of vmig_retry_default. */
void vmig_milvus_set_retry(struct vmig_target *t, const struct vmig_retry_policy *p);

/* Longest wait for a flush, an index build or a load, in ms (default: the endpoint's
 * wait_s, else vmig_milvus_wait_default_s). */
void vmig_milvus_set_wait_limit(struct vmig_target *t, uint64_t ms);

/* Process-wide bound of every wait, in seconds, for endpoints that set none (the
 * host sets it from --wait-timeout; jobs run from the store use it). Default 3600. */
extern int vmig_milvus_wait_default_s;

#endif

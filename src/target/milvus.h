/*
 * milvus.h - Milvus-specific calls on a target handle opened through
 * vmig_target_milvus (target.h), beyond the vtable.
 */
#ifndef VMIG_TARGET_MILVUS_H
#define VMIG_TARGET_MILVUS_H

#include "target/target.h"
#include "util/retry.h"

#endif

/*
 * copy_bulk.h - the write mode of a copy (copy_bulk.c): rows or bulk import for one
 * collection, decided when its copy starts; and the job-level check of --write-mode
 * bulk against the target the plan was made for.
 */
#ifndef VMIG_ENGINE_COPY_BULK_H
#define VMIG_ENGINE_COPY_BULK_H

#include "engine/copy.h"
#include "vmig/job.h"
#include "vmig/migrate.h"

/* Before the copy: with o.bulk.mode bulk, begin the target's bulk mode or fail with why
 * it cannot (err.fix = write_mode); with auto, begin it when the target can import, a
 * storage is given and the collection has at least VMIG_BULK_AUTO_POINTS points. One log
 * line says which mode and why. */
enum vmig_code vmig_eng_bulk_start(struct eng *e, struct vmig_err *err);
/* The target holds rows in import files not yet imported. */
int vmig_eng_bulk_pending(const struct eng *e);
/* Job submission: bulk mode on a target product that cannot import (Milvus Lite,
 * Zilliz Cloud) or without a storage is refused before anything is created. */
enum vmig_code vmig_job_bulk_precheck(const struct vmig_job_opts *jo,
                                      const struct vmig_target_caps *caps, struct vmig_err *err);

#endif

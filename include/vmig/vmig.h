/*
 * vmig.h - libvmig's public API, the one header the CLI, the HTTP server and
 * other programs include. It brings in the error type, the shared types, the
 * mapping stage (plan.h) and the engine (migrate.h), and adds the session calls
 * that talk to both servers: pre-flight probes, listing and planning.
 */
#ifndef VMIG_VMIG_H
#define VMIG_VMIG_H

#include "error.h"
#include "log.h"
#include "migrate.h"
#include "plan.h"
#include "profile.h"
#include "types.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *vmig_version(void);

/* Pre-flight: reach the server, check credentials and TLS; the source's version
 * string, the target's version, product and what it can hold (caps) out. */
enum vmig_code vmig_source_probe(const struct vmig_endpoint *src, char *version, size_t n,
                                 struct vmig_err *err);
enum vmig_code vmig_target_probe(const struct vmig_endpoint *dst, struct vmig_target_caps *caps,
                                 struct vmig_err *err);

/* Describe source collections: names (NULL = all of them). *out is malloc'd. */
enum vmig_code vmig_source_describe(const struct vmig_endpoint *src, const char *const *names,
                                    size_t nnames, struct vmig_src_coll **out, size_t *n,
                                    struct vmig_err *err);

/* Build the plan of the named collections (all when nnames == 0): describe each, count
 * it exactly, map it with mo, and ask the target whether the target name exists. A
 * collection that cannot be migrated is in the plan with its refusal set; the call
 * itself fails only when a server cannot be reached or an edit is malformed/unused. */
enum vmig_code vmig_plan_make(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                              const char *const *names, size_t nnames, struct vmig_map_opts *mo,
                              struct vmig_plan *plan, struct vmig_err *err);

/* Check an edited plan (from a plan file) against fresh plans of the same sources
 * and refresh its facts (source counts, target existence). */
enum vmig_code vmig_plan_check_file(const struct vmig_endpoint *src,
                                    const struct vmig_endpoint *dst, struct vmig_plan *plan,
                                    const struct vmig_map_opts *mo, struct vmig_err *err);

/* The live index build of a planned collection on the target: rows indexed of total
 * (over its vector fields), *built when every build is finished. */
enum vmig_code vmig_target_index_progress(const struct vmig_endpoint *dst,
                                          const struct vmig_plan_coll *pc, uint64_t *rows,
                                          uint64_t *total, int *built, struct vmig_err *err);

/* Drop a target collection (used only for collections a job created). */
enum vmig_code vmig_target_drop(const struct vmig_endpoint *dst, const char *name,
                                struct vmig_err *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * job_int.h - what the job center's files (job.c, job_json.c, job_run.c, job_retry.c) share
 * privately: the JSON forms of stored columns and a few helpers.
 */
#ifndef VMIG_JOB_INT_H
#define VMIG_JOB_INT_H

#include "store/store.h"
#include "vmig/job.h"

/* JSON columns of the store (malloc'd text; the readers tolerate NULL/garbage). */
char *vmig_job_verify_to_json(const struct vmig_verify_result *vr);
void vmig_job_verify_from_json(const char *text, struct vmig_verify_result *vr);
char *vmig_job_opts_to_json(const struct vmig_job_opts *o);
void vmig_job_opts_from_json(const char *text, struct vmig_job_opts *o);

/* The job's secrets: the given ones (NULL/"" = none given), else the stored ones
 * (decrypted), else NULL. *src / *dst are malloc'd; wipe and free them. Either out
 * pointer may be NULL when that secret is not wanted. */
enum vmig_code vmig_job_secrets_get(struct vmig_store *s, const struct vmig_job *j,
                                    const char *src_given, const char *dst_given, char **src,
                                    char **dst, struct vmig_err *err);
/* Wipe and free a secret vmig_job_secrets_get() gave (NULL is fine). */
void vmig_job_secret_free(char *secret);
/* The endpoints a job runs against (strings borrowed from j and the secrets). */
void vmig_job_endpoints(const struct vmig_job *j, const char *src_secret, const char *dst_secret,
                        struct vmig_endpoint *src, struct vmig_endpoint *dst);

/* A retry's changes (job_retry.c) applied to j's plan and options before the claim:
 * only to FAILED and CANCELLED collections; remake[i] (j->ncolls bytes, zeroed) is set
 * for a collection whose target collection changes and must be made again. */
enum vmig_code vmig_job_retry_apply(struct vmig_job *j, const struct vmig_job_retry_opts *ch,
                                    unsigned char *remake, struct vmig_err *err);

/* This machine's host name (for job owners). */
void vmig_job_host_name(char out[256]);
/* What a claim expects to find unchanged in the store (compare-and-swap). */
void vmig_job_expect_of(const struct vmig_job *j, struct vmig_store_expect *ex);

/* Run fn on each collection of job id in plan order, with the job (plan, options,
 * state), its endpoints and its secrets (the given ones, NULL = stored): the frame of
 * vmig_job_verify, vmig_job_search and vmig_job_repair. before (may be NULL) runs once
 * with the job and the number of collections, before the secrets are opened; a nonzero
 * code from it ends the call (nothing ran). fn fills its own row i and returns its
 * code, *row_err its error; the walk stops after a cancelled one. Returns the first
 * collection's failure (*err = its error), or VMIG_OK; or the failure to read the job
 * or its secrets. */
struct vmig_job_each {
    void *ud;
    enum vmig_code (*before)(void *ud, const struct vmig_job *j, size_t n, struct vmig_err *err);
    enum vmig_code (*fn)(void *ud, const struct vmig_job *j, size_t i, size_t n,
                         const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                         const struct vmig_err **row_err);
};
enum vmig_code vmig_job_each_coll(struct vmig_store *s, const char *id, const char *src_secret,
                                  const char *dst_secret, const struct vmig_job_each *each,
                                  struct vmig_err *err);

#endif

/*
 * api_int.h - what the HTTP API's files share: answers and errors (api.c), reading
 * request bodies (api_body.c) and the job handlers (api_jobs.c), which the router in
 * api.c dispatches to. Every reader answers the 400 itself and returns -1.
 */
#ifndef VMIG_API_INT_H
#define VMIG_API_INT_H

#include <jansson.h>

#include "server/server.h"
#include "vmig/plan.h"

/* ---- answers (api.c) ---- */
void api_resp_text(struct api_resp *out, int status, char *text);
void api_resp_obj(struct api_resp *out, int status, json_t *o);
void api_lib_error(const struct api_req *r, struct api_resp *out, const struct vmig_err *e,
                   const char *side);
/* A message of a 200 answer (a verdict's error): redacted as error answers are. */
json_t *api_msg_json(const struct api_req *r, const char *msg);
/* An error answer with the facts of facts (collection, point, field, fix; may be NULL). */
void api_error_facts(const struct api_req *r, struct api_resp *out, int status, const char *code,
                     const struct vmig_err *facts, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int api_probe_both(const struct api_req *r, struct api_resp *out, const struct vmig_endpoint *src,
                   const struct vmig_endpoint *dst);

/* ---- reading bodies (api_body.c): 0, or -1 after the error answer ---- */
struct vmig_job_opts;
/* options.write_mode and the bulk storage fields into jo: 0, or -1 after a 400. */
int api_get_bulk_opts(const struct api_req *r, struct api_resp *out, json_t *o,
                      struct vmig_job_opts *jo);
int api_get_str(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                const char *key, const char **v);
int api_get_bool(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                 const char *key, int *v);
int api_get_int(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                const char *key, int lo, int hi, int *v);
int api_get_ranged(const struct api_req *r, struct api_resp *out, json_t *o, const char *path,
                   const char *key, int lo, int hi, int *v);
/* The optional run secrets of a job action: body.source.api_key, body.target.token. */
int api_get_secrets(struct api_req *r, struct api_resp *out, const char **src, const char **dst);
json_t *api_get_obj(const struct api_req *r, struct api_resp *out, const char *key, int *bad);
int api_get_endpoint(struct api_req *r, struct api_resp *out, const char *side,
                     struct vmig_endpoint *ep);
int api_policy_words(const struct api_req *r, struct api_resp *out, const char *path,
                     const struct vmig_policy_words *w, struct vmig_map_opts *mo);
int api_get_map_opts(const struct api_req *r, struct api_resp *out, const char *source_url,
                     struct vmig_map_opts *mo);
int api_get_names(const struct api_req *r, struct api_resp *out, const char ***names, size_t *n);

/* ---- the job handlers (api_jobs.c) ---- */
void api_jobs_create(struct api_req *r, struct api_resp *out);
void api_jobs_list(struct api_req *r, struct api_resp *out);
void api_job_get(struct api_req *r, struct api_resp *out, const char *id);
void api_job_logs(struct api_req *r, struct api_resp *out, const char *id);
void api_job_cancel(struct api_req *r, struct api_resp *out, const char *id);
void api_job_verify(struct api_req *r, struct api_resp *out, const char *id);
/* POST /jobs/{id}/verify {"full":true}: start it (202); GET: how far, or its result. */
void api_job_verify_full(struct api_req *r, struct api_resp *out, const char *id);
void api_job_verify_status(struct api_req *r, struct api_resp *out, const char *id);
void api_job_run(struct api_req *r, struct api_resp *out, const char *id, enum vmig_job_action act);

#endif

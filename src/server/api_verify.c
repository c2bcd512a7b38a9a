/*
 * api_verify.c - the full verification of a job from the HTTP API: POST
 * /jobs/{id}/verify with {"full": true} starts it on a thread of its own and answers 202
 * at once (verifying a million points takes minutes: no request waits that long); GET
 * /jobs/{id}/verify tells how far it is (points compared of the source's, points/s, ETA)
 * and, once it ended, its counts and diff files per collection. One full verification
 * per job at a time; the server's stop cancels it (its state files stay: the next start
 * continues it). Results live in memory only, as the sampled verification's do.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/api_int.h"
#include "server/server.h"
#include "util/alloc.h"
#include "util/retry.h"

struct srv_vfull {
    struct srv_vfull *next;
    struct srv *srv;
    pthread_t th;
    char id[VMIG_JOB_ID_MAX];
    char *src_secret, *dst_secret; /* owned, NULL = stored ones */
    char diff[VMIG_PATH_MAX];
    struct vmig_run_ctx ctx;
    /* under srv.mu */
    int done;
    char coll[VMIG_SRC_NAME_MAX];
    uint64_t compared, total;
    double pps, eta_s;
    struct vmig_job_verified v;
    enum vmig_code rc;
    struct vmig_err err;
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (!s) return;
    memset(s, 0, strlen(s));
    free(s);
}

static void vf_free(struct srv_vfull *f)
{
    wipe_free(f->src_secret);
    wipe_free(f->dst_secret);
    vmig_job_verified_release(&f->v);
    free(f);
}

static void on_progress(void *ud, const struct vmig_progress *p)
{
    struct srv_vfull *f = ud;
    pthread_mutex_lock(&f->srv->mu);
    snprintf(f->coll, sizeof f->coll, "%s", p->coll);
    f->compared = p->written;
    f->total = p->total;
    f->pps = p->points_per_s;
    f->eta_s = p->eta_s;
    pthread_mutex_unlock(&f->srv->mu);
}

static void *vf_main(void *arg)
{
    struct srv_vfull *f = arg;
    struct vmig_vfull_opts o;
    struct vmig_job_verified v;
    struct vmig_err err;
    vmig_err_clear(&err);
    vmig_vfull_opts_init(&o);
    o.ctx = &f->ctx;
    o.hooks.ud = f;
    o.hooks.progress = on_progress;
    enum vmig_code rc = vmig_job_verify_full(f->srv->store, f->id, f->src_secret, f->dst_secret, &o,
                                             f->diff, &v, &err);
    pthread_mutex_lock(&f->srv->mu);
    f->v = v;
    f->rc = rc;
    f->err = err;
    f->done = 1;
    pthread_mutex_unlock(&f->srv->mu);
    return NULL;
}

/* under srv.mu */
static struct srv_vfull *find(struct srv *s, const char *id)
{
    for (struct srv_vfull *f = s->vfulls; f; f = f->next)
        if (!strcmp(f->id, id)) return f;
    return NULL;
}

void api_job_verify_full(struct api_req *r, struct api_resp *out, const char *id)
{
    const char *src_secret, *dst_secret, *diff = NULL;
    if (api_get_secrets(r, out, &src_secret, &dst_secret) ||
        api_get_str(r, out, r->body, "", "diff", &diff))
        return;
    if (diff && *diff && diff[0] != '/') {
        api_error(r, out, 400, "usage",
                  "diff must be an absolute file or directory path on the machine running "
                  "vmigrate serve, not '%s'",
                  diff);
        return;
    }
    char full_id[VMIG_JOB_ID_MAX];
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_resolve(r->srv->store, id, full_id, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    struct srv_vfull *f = xcalloc(1, sizeof *f);
    f->srv = r->srv;
    snprintf(f->id, sizeof f->id, "%s", full_id);
    f->src_secret = dup_or_null(src_secret);
    f->dst_secret = dup_or_null(dst_secret);
    /* no diff given: the server's working directory, said in the answer */
    if (diff && *diff)
        snprintf(f->diff, sizeof f->diff, "%s", diff);
    else if (!getcwd(f->diff, sizeof f->diff))
        f->diff[0] = '\0';
    vmig_run_ctx_init(&f->ctx);
    struct srv *s = r->srv;
    pthread_mutex_lock(&s->mu);
    struct srv_vfull **pp = &s->vfulls, *old = find(s, full_id);
    if (old && !old->done) {
        pthread_mutex_unlock(&s->mu);
        vf_free(f);
        api_error(r, out, 409, "busy",
                  "job %s is being verified in full already; GET /api/v1/jobs/%s/verify "
                  "says how far",
                  full_id, full_id);
        return;
    }
    if (old) { /* the last one's result gives way to the new run */
        while (*pp != old)
            pp = &(*pp)->next;
        *pp = old->next;
        pthread_join(old->th, NULL);
        vf_free(old);
    }
    if (pthread_create(&f->th, NULL, vf_main, f)) {
        pthread_mutex_unlock(&s->mu);
        vf_free(f);
        api_error(r, out, 500, "internal", "cannot start the verification thread");
        return;
    }
    f->next = s->vfulls;
    s->vfulls = f;
    pthread_mutex_unlock(&s->mu);
    char poll[VMIG_JOB_ID_MAX + 32];
    snprintf(poll, sizeof poll, "/api/v1/jobs/%s/verify", full_id);
    api_resp_obj(out, 202,
                 json_pack("{s:s,s:s,s:s,s:s}", "job", full_id, "status", "running", "diff",
                           f->diff, "poll", poll));
}

static json_t *coll_json(const struct api_req *r, const struct vmig_job_verify_coll *c)
{
    const struct vmig_vfull_result *fr = &c->full_result;
    const char *verdict = !c->code                   ? "same"
                          : c->code == VMIG_E_VERIFY ? "different"
                                                     : "not_verified";
    return json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:o}", "source", c->source, "target",
        c->target, "verdict", verdict, "source_count", (json_int_t)fr->source_count, "target_count",
        (json_int_t)fr->target_count, "compared", (json_int_t)fr->compared, "missing",
        (json_int_t)fr->missing, "extra", (json_int_t)fr->extra, "different",
        (json_int_t)fr->different, "rejected", (json_int_t)fr->rejected, "resumed", fr->resumed,
        "diff_file", c->diff_path, "error",
        c->code && c->code != VMIG_E_VERIFY ? api_msg_json(r, c->err.msg) : json_null());
}

void api_job_verify_status(struct api_req *r, struct api_resp *out, const char *id)
{
    char full_id[VMIG_JOB_ID_MAX];
    struct vmig_err err;
    vmig_err_clear(&err);
    if (vmig_job_resolve(r->srv->store, id, full_id, &err)) {
        api_lib_error(r, out, &err, NULL);
        return;
    }
    struct srv *s = r->srv;
    pthread_mutex_lock(&s->mu);
    struct srv_vfull *f = find(s, full_id);
    json_t *o;
    if (!f) {
        o = json_pack("{s:s,s:s}", "job", full_id, "status", "none");
    } else if (!f->done) {
        o = json_pack("{s:s,s:s,s:s,s:{s:s,s:I,s:I,s:f,s:f}}", "job", full_id, "status", "running",
                      "diff", f->diff, "progress", "collection", f->coll, "compared",
                      (json_int_t)f->compared, "total", (json_int_t)f->total, "points_per_s",
                      f->pps, "eta_s", f->eta_s);
    } else {
        json_t *a = json_array();
        for (size_t i = 0; i < f->v.n; i++)
            json_array_append_new(a, coll_json(r, &f->v.coll[i]));
        const char *st = f->rc == VMIG_E_CANCELLED ? "interrupted"
                         : !f->rc                  ? "same"
                         : f->rc == VMIG_E_VERIFY  ? "different"
                                                   : "failed";
        o = json_pack("{s:s,s:s,s:s,s:o,s:o}", "job", full_id, "status", "done", "verdict", st,
                      "collections", a, "error",
                      f->rc && f->rc != VMIG_E_VERIFY ? api_msg_json(r, f->err.msg) : json_null());
    }
    pthread_mutex_unlock(&s->mu);
    api_resp_obj(out, 200, o);
}

void api_verify_stop(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    struct srv_vfull *f = s->vfulls;
    s->vfulls = NULL;
    for (struct srv_vfull *g = f; g; g = g->next)
        atomic_store(&g->ctx.cancel, 1);
    pthread_mutex_unlock(&s->mu);
    while (f) {
        struct srv_vfull *next = f->next;
        pthread_join(f->th, NULL);
        vf_free(f);
        f = next;
    }
}

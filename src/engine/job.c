/*
 * job.c - the job center's records on top of the job store (store/store.h):
 * statuses, opening the store, and creating, reading, listing and cancelling jobs.
 * Running them is job_run.c; their JSON forms are job_json.c.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/job_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/retry.h"
#include "vmig/job.h"
#include "vmig/plan.h"
#include "vmig/vmig.h"

_Static_assert(VMIG_ERR_FIX_ARG_MAX == VMIG_JOB_ID_MAX, "err.fix_arg holds a job id");

#define STALE_MS 30000 /* a heartbeat this old means the owner is gone */
/* ---- statuses ------------------------------------------------------------------ */

static const char *const status_names[] = {"PENDING", "IN_PROGRESS", "SUCCESSFUL", "FAILED",
                                           "CANCELLED"};
static const char *const status_labels[] = {"Pending", "In Progress", "Successful", "Failed",
                                            "Canceled"};

const char *vmig_job_status_name(enum vmig_job_status s)
{
    return (unsigned)s < 5 ? status_names[s] : "?";
}

const char *vmig_job_status_label(enum vmig_job_status s)
{
    return (unsigned)s < 5 ? status_labels[s] : "?";
}

int vmig_job_status_parse(const char *s, enum vmig_job_status *out)
{
    for (int i = 0; i < 5; i++) {
        if (!strcasecmp(s, status_names[i]) || !strcasecmp(s, status_labels[i])) {
            *out = (enum vmig_job_status)i;
            return 0;
        }
    }
    if (!strcasecmp(s, "CANCELED") || !strcasecmp(s, "in-progress") ||
        !strcasecmp(s, "running")) {
        *out = !strcasecmp(s, "CANCELED") ? VMIG_JOB_CANCELLED : VMIG_JOB_IN_PROGRESS;
        return 0;
    }
    return -1;
}

/* ---- the store ------------------------------------------------------------------- */

int vmig_store_default_path(char *out, size_t n)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg) {
        snprintf(out, n, "%s/vmigrate/vmigrate.db", xdg);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) return -1;
    snprintf(out, n, "%s/.local/share/vmigrate/vmigrate.db", home);
    return 0;
}

enum vmig_code vmig_store_open(const char *path, struct vmig_store **out, struct vmig_err *err)
{
    char def[VMIG_PATH_MAX];
    if (!path || !*path) {
        if (vmig_store_default_path(def, sizeof def))
            return vmig_err_set(err, VMIG_E_USAGE,
                                "cannot find a place for the job store: set HOME, "
                                "XDG_DATA_HOME or --store PATH");
        path = def;
    }
    if (!strncmp(path, "postgres://", 11) || !strncmp(path, "postgresql://", 13))
        return vmig_store_pg_open(path, out, err);
    return vmig_store_sqlite_open(path, out, err);
}

void vmig_store_close(struct vmig_store *s)
{
    if (s) s->vt->close(s);
}

int vmig_store_schema_version(struct vmig_store *s)
{
    return s->vt->schema_version(s);
}

/* ---- jobs ----------------------------------------------------------------------- */

void vmig_job_host_name(char out[256])
{
    if (gethostname(out, 256) != 0) snprintf(out, 256, "localhost");
    out[255] = '\0';
}

/* IN_PROGRESS, but its process is gone: same host and the pid is dead, or no
 * heartbeat for STALE_MS (another host, or a pid reused after a reboot). */
static int orphaned(const struct vmig_job *j)
{
    if (j->status != VMIG_JOB_IN_PROGRESS) return 0;
    int64_t now = (int64_t)vmig_wall_ms();
    if (!j->heartbeat_ms || now - j->heartbeat_ms > STALE_MS) return 1;
    char host[256];
    vmig_job_host_name(host);
    if (strcmp(host, j->owner_host) == 0 && j->owner_pid > 0 &&
        kill((pid_t)j->owner_pid, 0) != 0 && errno == ESRCH)
        return 1;
    return 0;
}

/* A job run as range tasks: its tasks, each collection's progress summed over its
 * range tasks (each worker writes its own task's row), and orphaned only when no task
 * holds a live lease and no worker renewed one for STALE_MS. */
static enum vmig_code tasks_of(struct vmig_store *s, struct vmig_job *j, struct vmig_err *err)
{
    struct vmig_store_task *t = NULL;
    size_t n = 0;
    if (!s->vt->task_list) return VMIG_OK;
    enum vmig_code rc = s->vt->task_list(s, j->id, -1, &t, &n, err);
    if (rc || !n) {
        free(t);
        return rc;
    }
    j->tasks = xcalloc(n, sizeof *j->tasks);
    j->ntasks = n;
    int64_t now = (int64_t)vmig_wall_ms();
    int live = 0;
    for (size_t i = 0; i < j->ncolls; i++) {
        int ranges = 0;
        for (size_t k = 0; k < n; k++)
            ranges += t[k].coll == i && t[k].kind == VMIG_TASK_RANGE;
        if (!ranges || j->coll[i].phase != VMIG_PHASE_COPYING) continue;
        j->coll[i].read = j->coll[i].written = j->coll[i].bytes = 0;
        j->coll[i].rate = 0;
    }
    for (size_t k = 0; k < n; k++) {
        struct vmig_job_task *o = &j->tasks[k];
        o->coll = t[k].coll;
        o->idx = t[k].idx;
        o->kind = vmig_task_kind_name(t[k].kind);
        o->status = t[k].status;
        snprintf(o->owner, sizeof o->owner, "%s", t[k].owner);
        o->attempts = t[k].attempts;
        o->reclaims = t[k].reclaims;
        o->read = t[k].read;
        o->written = t[k].written;
        o->lease_until_ms = t[k].lease_until_ms;
        snprintf(o->error, sizeof o->error, "%s", t[k].error);
        live |= t[k].status == VMIG_JOB_IN_PROGRESS && t[k].lease_until_ms > now;
        if (t[k].kind == VMIG_TASK_RANGE && t[k].coll < j->ncolls &&
            j->coll[t[k].coll].phase == VMIG_PHASE_COPYING) {
            struct vmig_job_coll *c = &j->coll[t[k].coll];
            c->read += t[k].read;
            c->written += t[k].written;
            c->bytes += t[k].bytes;
            if (t[k].status == VMIG_JOB_IN_PROGRESS) c->rate += t[k].rate;
        }
        vmig_store_task_release(&t[k]);
    }
    free(t);
    if (j->status == VMIG_JOB_IN_PROGRESS)
        j->orphaned = !live && (!j->heartbeat_ms || now - j->heartbeat_ms > STALE_MS);
    return VMIG_OK;
}

void vmig_job_release(struct vmig_job *j)
{
    if (!j) return;
    free(j->src_url);
    free(j->src_ca_file);
    free(j->dst_url);
    free(j->dst_db);
    free(j->dst_ca_file);
    vmig_plan_release(&j->plan);
    free(j->coll);
    free(j->tasks);
    memset(j, 0, sizeof *j);
}

void vmig_job_list_free(struct vmig_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) vmig_job_release(&jobs[i]);
    free(jobs);
}

enum vmig_code vmig_job_get(struct vmig_store *s, const char *id, struct vmig_job *out,
                            struct vmig_err *err)
{
    char *plan = NULL, *opts = NULL, **state = NULL, **verify = NULL;
    enum vmig_code rc = s->vt->job_get(s, id, out, &plan, &opts, &state, &verify, err);
    size_t n = out->ncolls;
    if (rc) goto out;
    vmig_job_opts_from_json(opts, &out->opts);
    rc = vmig_plan_from_json(plan ? plan : "{}", &out->plan, err);
    if (rc) {
        vmig_err_prefix(err, "job '%s': stored plan: ", id);
        rc = VMIG_E_IO;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rc = vmig_coll_state_from_json(state[i], &out->coll[i].state, err);
        if (rc) goto out;
        vmig_job_verify_from_json(verify[i], &out->coll[i].verify);
    }
    out->orphaned = orphaned(out);
    rc = tasks_of(s, out, err);
out:
    free(plan);
    free(opts);
    for (size_t i = 0; i < n; i++) {
        if (state) free(state[i]);
        if (verify) free(verify[i]);
    }
    free(state);
    free(verify);
    if (rc) vmig_job_release(out);
    return rc;
}

enum vmig_code vmig_job_list(struct vmig_store *s, int status, struct vmig_job **out, size_t *n,
                             struct vmig_err *err)
{
    char (*ids)[VMIG_JOB_ID_MAX] = NULL;
    size_t nids = 0;
    *out = NULL;
    *n = 0;
    enum vmig_code rc = s->vt->job_ids(s, status, 0, &ids, &nids, err);
    if (rc) return rc;
    struct vmig_job *jobs = xcalloc(nids ? nids : 1, sizeof *jobs);
    size_t k = 0;
    for (size_t i = 0; i < nids; i++) {
        rc = vmig_job_get(s, ids[i], &jobs[k], err);
        if (rc == VMIG_E_NOT_FOUND) continue; /* deleted meanwhile */
        if (rc) break;
        k++;
    }
    free(ids);
    if (rc && rc != VMIG_E_NOT_FOUND) {
        vmig_job_list_free(jobs, k);
        return rc;
    }
    *out = jobs;
    *n = k;
    return VMIG_OK;
}

enum vmig_code vmig_job_create(struct vmig_store *s, const struct vmig_endpoint *src,
                               const struct vmig_endpoint *dst, const struct vmig_plan *plan,
                               const struct vmig_job_opts *opts, int store_secrets,
                               char id_out[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    struct vmig_job_opts defo;
    struct vmig_store_new_job nj;
    memset(&nj, 0, sizeof nj);
    char *plan_json = NULL, *opts_json = NULL;
    const char **srcs = NULL, **tgts = NULL;
    enum vmig_code rc = VMIG_OK;
    if (!opts) {
        vmig_job_opts_init(&defo);
        opts = &defo;
    }
    if (!src->url || !dst->url)
        return vmig_err_set(err, VMIG_E_USAGE, "a job needs a source and a target URL");
    if (store_secrets) {
        rc = vmig_secret_seal(src->secret, &nj.src_secret, err);
        if (!rc) rc = vmig_secret_seal(dst->secret, &nj.dst_secret, err);
        if (rc) goto out;
    }
    plan_json = vmig_plan_to_json(plan, 0);
    opts_json = vmig_job_opts_to_json(opts);
    srcs = xcalloc(plan->n + 1, sizeof *srcs);
    tgts = xcalloc(plan->n + 1, sizeof *tgts);
    for (size_t i = 0; i < plan->n; i++) {
        srcs[i] = plan->coll[i].source;
        tgts[i] = plan->coll[i].target;
    }
    nj.created_ms = (int64_t)vmig_wall_ms();
    nj.src = src;
    nj.dst = dst;
    nj.plan_json = plan_json;
    nj.opts_json = opts_json;
    nj.secrets_stored = store_secrets && ((src->secret && *src->secret) ||
                                          (dst->secret && *dst->secret));
    nj.ncolls = plan->n;
    nj.coll_source = srcs;
    nj.coll_target = tgts;
    if (sodium_init() < 0) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "cannot initialise libsodium");
        goto out;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        unsigned char r[4];
        randombytes_buf(r, sizeof r);
        snprintf(id_out, VMIG_JOB_ID_MAX, "j%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
        nj.id = id_out;
        rc = s->vt->job_insert(s, &nj, err);
        if (rc != VMIG_E_EXISTS) break; /* else: id collision (the store's key is taken) */
    }
out:
    vmig_store_blob_release(&nj.src_secret);
    vmig_store_blob_release(&nj.dst_secret);
    free(plan_json);
    free(opts_json);
    free(srcs);
    free(tgts);
    return rc;
}

void vmig_job_expect_of(const struct vmig_job *j, struct vmig_store_expect *ex)
{
    ex->status = j->status;
    ex->owner_pid = j->owner_pid;
    ex->heartbeat_ms = j->heartbeat_ms;
}

enum vmig_code vmig_job_cancel(struct vmig_store *s, const char *id, int *immediate,
                               struct vmig_err *err)
{
    struct vmig_job j;
    struct vmig_store_expect ex;
    int done = 0;
    if (immediate) *immediate = 0;
    enum vmig_code rc = vmig_job_get(s, id, &j, err);
    if (rc) return rc;
    if (j.status != VMIG_JOB_PENDING && j.status != VMIG_JOB_IN_PROGRESS) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' has already ended (%s)", id,
                          vmig_job_status_label(j.status));
        goto out;
    }
    int64_t now = (int64_t)vmig_wall_ms();
    vmig_job_expect_of(&j, &ex);
    /* a pending or orphaned job has no runner to stop: change its status now (CAS,
     * so a runner claiming it at the same moment wins or loses cleanly) */
    int direct = j.status == VMIG_JOB_PENDING || j.orphaned;
    rc = s->vt->job_cancel(s, id, direct ? &ex : NULL, now, &done, err);
    if (rc) goto out;
    if (done == 1) {
        for (size_t i = 0; i < j.ncolls && !rc; i++)
            if (j.coll[i].status == VMIG_JOB_PENDING || j.coll[i].status == VMIG_JOB_IN_PROGRESS)
                rc = s->vt->coll_status(s, id, i, VMIG_JOB_CANCELLED, NULL, 0, now, err);
        if (rc) { /* the job is Canceled; some collection still says it is not */
            char why[VMIG_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            rc = vmig_err_set(err, VMIG_E_IO,
                              "job '%s' is cancelled, but the job store could not be written "
                              "for its collections (%.400s): check the free disk space and the "
                              "permissions of the store file and its directory; `vmigrate jobs "
                              "resume %s` continues it",
                              id, why, id);
        }
        if (immediate) *immediate = 1;
    } else if (done == 0) {
        rc = vmig_err_set(err, VMIG_E_USAGE, "job '%s' changed meanwhile; try again", id);
    }
    if (!rc) {
        char line[128];
        snprintf(line, sizeof line, "cancel requested%s", done == 1 ? "; job cancelled" : "");
        s->vt->log_add(s, id, now, VMIG_LOG_INFO, NULL, NULL, line, NULL);
    }
out:
    vmig_job_release(&j);
    return rc;
}

enum vmig_code vmig_job_log_add(struct vmig_store *s, const char *id, int level,
                                const char *coll, const char *point_id, const char *msg,
                                struct vmig_err *err)
{
    return s->vt->log_add(s, id, (int64_t)vmig_wall_ms(), level, coll, point_id, msg, err);
}

enum vmig_code vmig_job_logs(struct vmig_store *s, const char *id, int64_t after_seq,
                             size_t limit, vmig_job_log_fn fn, void *ud, struct vmig_err *err)
{
    return s->vt->log_list(s, id, after_seq, limit, fn, ud, err);
}

void vmig_job_secret_free(char *secret)
{
    if (!secret) return;
    sodium_memzero(secret, strlen(secret));
    free(secret);
}

enum vmig_code vmig_job_secrets_get(struct vmig_store *s, const struct vmig_job *j,
                                    const char *src_given, const char *dst_given, char **src,
                                    char **dst, struct vmig_err *err)
{
    struct vmig_store_blob bs = {0}, bd = {0};
    enum vmig_code rc = VMIG_OK;
    if (src) *src = src_given && *src_given ? xstrdup(src_given) : NULL;
    if (dst) *dst = dst_given && *dst_given ? xstrdup(dst_given) : NULL;
    int want_src = src && !*src, want_dst = dst && !*dst;
    if (j->secrets_stored && (want_src || want_dst)) {
        rc = s->vt->job_secrets(s, j->id, &bs, &bd, err);
        if (!rc && want_src && bs.len) rc = vmig_secret_open(&bs, src, err);
        if (!rc && want_dst && bd.len) rc = vmig_secret_open(&bd, dst, err);
    }
    vmig_store_blob_release(&bs);
    vmig_store_blob_release(&bd);
    if (rc) vmig_err_prefix(err, "job '%s': ", j->id);
    return rc;
}

void vmig_job_endpoints(const struct vmig_job *j, const char *src_secret, const char *dst_secret,
                        struct vmig_endpoint *src, struct vmig_endpoint *dst)
{
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->url = j->src_url;
    src->secret = src_secret;
    src->ca_file = j->src_ca_file;
    src->insecure = j->src_insecure;
    src->timeout_ms = j->timeout_ms;
    dst->url = j->dst_url;
    dst->secret = dst_secret;
    dst->db = j->dst_db;
    dst->ca_file = j->dst_ca_file;
    dst->insecure = j->dst_insecure;
    dst->timeout_ms = j->timeout_ms;
}

enum vmig_code vmig_job_each_coll(struct vmig_store *s, const char *id, const char *src_secret,
                                  const char *dst_secret, const struct vmig_job_each *each,
                                  struct vmig_err *err)
{
    struct vmig_job j;
    char *ssec = NULL, *dsec = NULL;
    enum vmig_code rc = vmig_job_get(s, id, &j, err), first = VMIG_OK;
    if (rc) return rc;
    size_t n = j.ncolls < j.plan.n ? j.ncolls : j.plan.n;
    if (each->before && (rc = each->before(each->ud, &j, n, err))) goto out;
    if ((rc = vmig_job_secrets_get(s, &j, src_secret, dst_secret, &ssec, &dsec, err))) goto out;
    struct vmig_endpoint src, dst;
    vmig_job_endpoints(&j, ssec, dsec, &src, &dst);
    for (size_t i = 0; i < n; i++) {
        const struct vmig_err *row_err = NULL;
        enum vmig_code c = each->fn(each->ud, &j, i, n, &src, &dst, &row_err);
        if (c && !first) {
            first = c;
            if (row_err) *err = *row_err;
        }
        if (c == VMIG_E_CANCELLED) break;
    }
    rc = first;
out:
    vmig_job_secret_free(ssec);
    vmig_job_secret_free(dsec);
    vmig_job_release(&j);
    return rc;
}

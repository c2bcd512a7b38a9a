/*
 * job_index.c - the live index build of a job's collections: the job records how far
 * Milvus had indexed each collection when it ended (without wait_index the build goes
 * on in the server after that); this asks the target again, with the job's endpoint and
 * stored (or given) token, for `jobs show --refresh-index` and GET /jobs/{id}?index=live.
 * Nothing is written to the store: the answer is for showing only.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

/* The target token: the caller's, else the job's stored one (decrypted), else none. */
static enum vmig_code dst_token(struct vmig_store *s, const struct vmig_job *j, const char *given,
                                char **out, struct vmig_err *err)
{
    *out = NULL;
    if (given && *given) {
        *out = strdup(given);
        if (!*out) abort();
        return VMIG_OK;
    }
    if (!j->secrets_stored) return VMIG_OK;
    struct vmig_store_blob bs = {0}, bd = {0};
    enum vmig_code rc = s->vt->job_secrets(s, j->id, &bs, &bd, err);
    if (!rc && bd.len) rc = vmig_secret_open(&bd, out, err);
    vmig_store_blob_release(&bs);
    vmig_store_blob_release(&bd);
    if (rc) vmig_err_prefix(err, "job '%s': ", j->id);
    return rc;
}

enum vmig_code vmig_job_index_live(struct vmig_store *s, struct vmig_job *j, const char *dst_secret,
                                   struct vmig_err *err)
{
    char *token = NULL;
    enum vmig_code rc = VMIG_OK;
    for (size_t i = 0; i < j->ncolls && i < j->plan.n && rc == VMIG_OK; i++) {
        struct vmig_job_coll *c = &j->coll[i];
        /* only what the job finished: a running one reports its own progress */
        if (c->status != VMIG_JOB_SUCCESSFUL || c->state.index_built || !c->state.indexed) continue;
        if (!token && (rc = dst_token(s, j, dst_secret, &token, err))) break;
        struct vmig_endpoint dst;
        memset(&dst, 0, sizeof dst);
        dst.url = j->dst_url;
        dst.secret = token;
        dst.db = j->dst_db;
        dst.ca_file = j->dst_ca_file;
        dst.insecure = j->dst_insecure;
        dst.timeout_ms = j->timeout_ms;
        uint64_t rows = 0, total = 0;
        int built = 0;
        rc = vmig_target_index_progress(&dst, &j->plan.coll[i], &rows, &total, &built, err);
        if (rc) {
            vmig_err_prefix(err, "live index progress of collection '%s': ", c->target);
            break;
        }
        c->state.index_rows = rows;
        c->state.index_total = total;
        c->state.index_built = built;
        c->index_live = 1;
    }
    if (token) {
        sodium_memzero(token, strlen(token));
        free(token);
    }
    return rc;
}

/*
 * job_index.c - the live index build of a job's collections: the job records how far
 * Milvus had indexed each collection when it ended (without wait_index the build goes
 * on in the server after that); this asks the target again, with the job's endpoint and
 * stored (or given) token, for `jobs show --refresh-index` and GET /jobs/{id}?index=live.
 * Nothing is written to the store: the answer is for showing only.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/job_int.h"
#include "store/store.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

enum vmig_code vmig_job_index_live(struct vmig_store *s, struct vmig_job *j, const char *dst_secret,
                                   struct vmig_err *err)
{
    char *token = NULL;
    int have_token = 0;
    enum vmig_code rc = VMIG_OK;
    struct vmig_endpoint src, dst;
    for (size_t i = 0; i < j->ncolls && i < j->plan.n && rc == VMIG_OK; i++) {
        struct vmig_job_coll *c = &j->coll[i];
        /* only what the job finished: a running one reports its own progress */
        if (c->status != VMIG_JOB_SUCCESSFUL || c->state.index_built || !c->state.indexed) continue;
        if (!have_token) {
            if ((rc = vmig_job_secrets_get(s, j, NULL, dst_secret, NULL, &token, err))) break;
            have_token = 1;
            vmig_job_endpoints(j, NULL, token, &src, &dst);
        }
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
    vmig_job_secret_free(token);
    return rc;
}

/*
 * job_find.c - a job named by a unique prefix of its id (git's abbreviated object
 * names, kubectl's unique pod-name prefixes): `jobs show j1a` finds j1a2b3c4d when no
 * other job's id begins with j1a. Every face resolves the id it is given here, from
 * the store's listing of job ids, so they all take the same prefixes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job_int.h"
#include "store/store.h"
#include "util/buf.h"
#include "vmig/job.h"

#define SHOWN_MAX 10 /* candidates named in an ambiguity error */

enum vmig_code vmig_job_resolve(struct vmig_store *s, const char *prefix,
                                char id_out[VMIG_JOB_ID_MAX], struct vmig_err *err)
{
    id_out[0] = '\0';
    if (!prefix || !*prefix) return vmig_err_set(err, VMIG_E_USAGE, "no job id given");
    char(*ids)[VMIG_JOB_ID_MAX] = NULL;
    size_t nids = 0, nmatch = 0, first = 0, plen = strlen(prefix);
    enum vmig_code rc = s->vt->job_ids(s, -1, 0, &ids, &nids, err);
    if (rc) return rc;
    for (size_t i = 0; i < nids; i++) {
        if (strcmp(ids[i], prefix) == 0) { /* a whole id is never ambiguous */
            snprintf(id_out, VMIG_JOB_ID_MAX, "%s", ids[i]);
            free(ids);
            return VMIG_OK;
        }
        if (strncmp(ids[i], prefix, plen) == 0 && nmatch++ == 0) first = i;
    }
    if (nmatch == 1) {
        snprintf(id_out, VMIG_JOB_ID_MAX, "%s", ids[first]);
    } else if (nmatch == 0) {
        rc = vmig_err_set(err, VMIG_E_NOT_FOUND, "job '%s' not found (no job id begins with it)",
                          prefix);
    } else {
        struct vmig_buf b = VMIG_BUF_INIT;
        size_t shown = 0;
        for (size_t i = first; i < nids && shown < SHOWN_MAX; i++)
            if (strncmp(ids[i], prefix, plen) == 0)
                vmig_buf_addf(&b, "%s%s", shown++ ? ", " : "", ids[i]);
        if (nmatch > shown) vmig_buf_addf(&b, " and %zu more", nmatch - shown);
        rc = vmig_err_set(err, VMIG_E_USAGE,
                          "job id '%s' is ambiguous: %zu jobs begin with it (%s); give more of "
                          "the id",
                          prefix, nmatch, b.p);
        vmig_buf_release(&b);
    }
    free(ids);
    return rc;
}

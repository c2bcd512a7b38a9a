/*
 * job_retry.c - a retry's changes applied to the job's plan, before the retry runs:
 * the same changes from every face (CLI flags, the API's body, the console's card),
 * one place that decides them. Only failed and cancelled collections are changed; a
 * collection whose target changes (name, vectors, index) is marked to be made again,
 * the others go on from their checkpoints with the new policies.
 */
#include <stdio.h>
#include <string.h>

#include "engine/job_int.h"
#include "vmig/plan.h"

static int retried(const struct vmig_job *j, size_t i)
{
    return j->coll[i].status == VMIG_JOB_FAILED || j->coll[i].status == VMIG_JOB_CANCELLED;
}

static int coll_named(const struct vmig_job *j, const char *name, size_t len)
{
    for (size_t i = 0; i < j->ncolls; i++)
        if (strlen(j->plan.coll[i].source) == len && memcmp(j->plan.coll[i].source, name, len) == 0)
            return (int)i;
    return -1;
}

/* The collection an edit is for ("SRC=VALUE", split at the last '='). */
static enum vmig_code edit_target(const struct vmig_job *j, const char *kind, const char *val,
                                  int *idx, const char **value, struct vmig_err *err)
{
    const char *eq = strrchr(val, '=');
    if (!eq || eq == val || !eq[1])
        return vmig_err_set(err, VMIG_E_USAGE, "the retry's %s expects COLLECTION=VALUE, got '%s'",
                            kind, val);
    int i = coll_named(j, val, (size_t)(eq - val));
    if (i < 0)
        return vmig_err_set(err, VMIG_E_USAGE, "the retry's %s names collection '%.*s', which "
                            "job %s does not hold", kind, (int)(eq - val), val, j->id);
    *idx = i;
    *value = eq + 1;
    return VMIG_OK;
}

static enum vmig_code not_retried(const struct vmig_job *j, size_t i, struct vmig_err *err)
{
    vmig_err_set(err, VMIG_E_USAGE,
                 "collection '%s' of job %s is %s: a retry changes only failed or cancelled "
                 "collections",
                 j->plan.coll[i].source, j->id, vmig_job_status_label(j->coll[i].status));
    vmig_err_at(err, j->plan.coll[i].source, "", "");
    return VMIG_E_USAGE;
}

static enum vmig_code edit(struct vmig_job *j, size_t i, const char *kind, const char *value,
                           unsigned char *remake, struct vmig_err *err)
{
    int schema = 0;
    enum vmig_code rc = vmig_plan_coll_edit(&j->plan.coll[i], kind, value, &schema, err);
    if (rc) return rc;
    if (schema) remake[i] = 1;
    return VMIG_OK;
}

/* "SRC.VECTOR" for one collection, or "VECTOR" for every retried one that has it. */
static enum vmig_code skip(struct vmig_job *j, const char *val, unsigned char *remake,
                           struct vmig_err *err)
{
    int hit = 0;
    for (size_t i = 0; i < j->ncolls; i++) {
        const char *src = j->plan.coll[i].source;
        size_t n = strlen(src);
        const char *vec = strncmp(val, src, n) == 0 && val[n] == '.' ? val + n + 1 : NULL;
        if (vec) {
            if (!retried(j, i)) return not_retried(j, i, err);
            return edit(j, i, "skip-vector", vec, remake, err);
        }
    }
    for (size_t i = 0; i < j->ncolls; i++) {
        const struct vmig_plan_coll *pc = &j->plan.coll[i];
        if (!retried(j, i)) continue;
        for (size_t k = 0; k < pc->nfields; k++) {
            if (strcmp(pc->field[k].src, val) != 0) continue;
            enum vmig_code rc = edit(j, i, "skip-vector", val, remake, err);
            if (rc) return rc;
            hit = 1;
            break;
        }
    }
    if (!hit)
        return vmig_err_set(err, VMIG_E_USAGE, "the retry's skip-vector '%s': no failed or "
                            "cancelled collection of job %s has that vector (expected "
                            "COLLECTION.VECTOR or VECTOR)", val, j->id);
    return VMIG_OK;
}

enum vmig_code vmig_job_retry_apply(struct vmig_job *j, const struct vmig_job_retry_opts *ch,
                                    unsigned char *remake, struct vmig_err *err)
{
    if (!ch) return VMIG_OK;
    char words[64];
    const struct vmig_policy_words w = {ch->null_values, ch->payload_conflict, ch->index,
                                        ch->payload_misfit};
    int k = vmig_policy_check(&w, NULL, words, sizeof words);
    if (k) { /* the faces name their own flag or field first; this is the library's word */
        static const char *const what[] = {"", "null values", "payload conflict", "index",
                                           "payload misfit"};
        const char *given[] = {"", w.nulls, w.conflict, w.index, w.misfit};
        return vmig_err_set(err, VMIG_E_USAGE, "the retry's %s must be %s, not '%s'", what[k],
                            words, given[k]);
    }
    enum vmig_code rc = VMIG_OK;
    char num[16];
    snprintf(num, sizeof num, "%d", ch->max_vector_fields);
    for (size_t i = 0; i < j->ncolls && !rc; i++) {
        if (!retried(j, i)) continue;
        if (ch->null_values) rc = edit(j, i, "null-values", ch->null_values, remake, err);
        if (!rc && ch->payload_conflict)
            rc = edit(j, i, "payload-conflict", ch->payload_conflict, remake, err);
        if (!rc && ch->index) rc = edit(j, i, "index", ch->index, remake, err);
        if (!rc && ch->payload_misfit)
            rc = edit(j, i, "payload-misfit", ch->payload_misfit, remake, err);
    }
    for (size_t e = 0; e < ch->nedits && !rc; e++) {
        const char *kind = ch->edit_kind[e], *val = ch->edit_val[e];
        if (strcmp(kind, "skip-vector") == 0) {
            rc = skip(j, val, remake, err);
            continue;
        }
        int i = 0;
        const char *value = NULL;
        rc = edit_target(j, kind, val, &i, &value, err);
        if (!rc && !retried(j, (size_t)i)) rc = not_retried(j, (size_t)i, err);
        if (!rc) rc = edit(j, (size_t)i, kind, value, remake, err);
    }
    for (size_t i = 0; i < j->ncolls && !rc && ch->max_vector_fields; i++)
        if (retried(j, i)) rc = edit(j, i, "max-vector-fields", num, remake, err);
    if (rc) return rc;
    if (ch->rejects && *ch->rejects) {
        snprintf(j->opts.rejects, sizeof j->opts.rejects, "%s", ch->rejects);
        j->opts.reject_oversize = 1;
    }
    /* two collections of the job may not end up with one target */
    for (size_t a = 0; a < j->ncolls; a++)
        for (size_t b = a + 1; b < j->ncolls; b++)
            if (strcmp(j->plan.coll[a].target, j->plan.coll[b].target) == 0) {
                vmig_err_set(err, VMIG_E_USAGE,
                             "collections '%s' and '%s' of job %s would both be written to '%s'",
                             j->plan.coll[a].source, j->plan.coll[b].source, j->id,
                             j->plan.coll[a].target);
                vmig_err_at(err, j->plan.coll[remake[b] ? b : a].source, "", "");
                return vmig_err_fix(err, VMIG_FIX_TARGET_NAME, NULL);
            }
    return VMIG_OK;
}

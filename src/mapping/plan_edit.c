/*
 * plan_edit.c - one change to a collection's plan after the job was made: what a
 * retry with changes does to a failed or cancelled collection. The same name rules
 * and policy words as planning; the caller learns whether the change alters what
 * the target collection is (its name, fields or index), so that a collection already
 * created must be made again, or only how points are written (null and conflict
 * policies), so that the copy goes on from its checkpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmig/plan.h"

static int field_of(const struct vmig_plan_coll *pc, const char *vec)
{
    for (size_t i = 0; i < pc->nfields; i++)
        if (strcmp(pc->field[i].src, vec) == 0) return (int)i;
    return -1;
}

static enum vmig_code skip_vector(struct vmig_plan_coll *pc, const char *vec, int *schema,
                                  struct vmig_err *err)
{
    int k = field_of(pc, vec);
    if (k < 0) {
        for (size_t i = 0; i < pc->nskipped; i++)
            if (strcmp(pc->skipped[i], vec) == 0) return VMIG_OK; /* left out already */
        vmig_err_set(err, VMIG_E_USAGE, "collection '%s' has no vector '%s' to leave out",
                     pc->source, vec);
        vmig_err_at(err, pc->source, "", vec);
        return VMIG_E_USAGE;
    }
    if (pc->nfields == 1) {
        vmig_err_set(err, VMIG_E_USAGE,
                     "collection '%s': vector '%s' is its only vector field; Milvus needs at "
                     "least one",
                     pc->source, vec);
        vmig_err_at(err, pc->source, "", vec);
        return VMIG_E_USAGE;
    }
    if (pc->nskipped < sizeof pc->skipped / sizeof pc->skipped[0])
        snprintf(pc->skipped[pc->nskipped++], sizeof pc->skipped[0], "%s", vec);
    memmove(&pc->field[k], &pc->field[k + 1], (pc->nfields - (size_t)k - 1) * sizeof pc->field[0]);
    pc->nfields--;
    *schema = 1;
    return VMIG_OK;
}

enum vmig_code vmig_plan_coll_edit(struct vmig_plan_coll *pc, const char *kind, const char *value,
                                   int *schema, struct vmig_err *err)
{
    char words[64];
    if (strcmp(kind, "target-name") == 0) {
        const char *why = vmig_name_problem(value, 0);
        if (why) {
            vmig_err_set(err, VMIG_E_USAGE,
                         "collection '%s': target name '%s' is not valid: a Milvus collection "
                         "name %s",
                         pc->source, value, why);
            vmig_err_at(err, pc->source, "", "");
            return vmig_err_fix(err, VMIG_FIX_TARGET_NAME, NULL);
        }
        if (strcmp(pc->target, value) != 0) *schema = 1;
        snprintf(pc->target, sizeof pc->target, "%s", value);
        return VMIG_OK;
    }
    if (strcmp(kind, "skip-vector") == 0) return skip_vector(pc, value, schema, err);
    if (strcmp(kind, "max-vector-fields") == 0) {
        char *end;
        long n = strtol(value, &end, 10);
        if (*end || n < 1 || n > VMIG_MAX_VECTOR_FIELDS)
            return vmig_err_set(err, VMIG_E_USAGE, "the vector limit must be between 1 and %d, "
                                "got '%s'", VMIG_MAX_VECTOR_FIELDS, value);
        if (pc->nfields > (size_t)n) {
            vmig_err_set(err, VMIG_E_SCHEMA,
                         "collection '%s' has %zu vector fields; with a limit of %ld, leave "
                         "%zu of them out",
                         pc->source, pc->nfields, n, pc->nfields - (size_t)n);
            vmig_err_at(err, pc->source, "", "");
            return vmig_err_fix(err, VMIG_FIX_SKIP_VECTOR, NULL);
        }
        return VMIG_OK; /* the plan's vectors fit: nothing to change */
    }
    if (strcmp(kind, "index") == 0) {
        enum vmig_index_kind ik;
        if (vmig_index_kind_parse(value, &ik))
            return vmig_err_set(err, VMIG_E_USAGE, "index must be %s, not '%s'",
                                vmig_index_kind_words(words, sizeof words), value);
        if (ik != pc->index) *schema = 1; /* indexes are defined when the collection is made */
        pc->index = ik;
        return VMIG_OK;
    }
    if (strcmp(kind, "null-values") == 0) {
        if (vmig_null_policy_parse(value, &pc->null_policy))
            return vmig_err_set(err, VMIG_E_USAGE, "null values must be %s, not '%s'",
                                vmig_null_policy_words(words, sizeof words), value);
        return VMIG_OK;
    }
    if (strcmp(kind, "payload-conflict") == 0) {
        if (vmig_conflict_policy_parse(value, &pc->conflict_policy))
            return vmig_err_set(err, VMIG_E_USAGE, "payload conflict must be %s, not '%s'",
                                vmig_conflict_policy_words(words, sizeof words), value);
        return VMIG_OK;
    }
    if (strcmp(kind, "payload-misfit") == 0) {
        if (vmig_misfit_policy_parse(value, &pc->misfit))
            return vmig_err_set(err, VMIG_E_USAGE, "payload misfit must be %s, not '%s'",
                                "dynamic, reject or fail", value);
        return VMIG_OK;
    }
    return vmig_err_set(err, VMIG_E_USAGE, "unknown change '%s'", kind);
}

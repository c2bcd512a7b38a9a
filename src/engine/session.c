/*
 * session.c - the calls that talk to both servers before a migration starts:
 * pre-flight probes, describing source collections and making or checking plans.
 * The CLI and the HTTP server both go through here, so a plan previewed in the
 * console is the plan the engine runs.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source.h"
#include "target/target.h"
#include "util/alloc.h"
#include "vmig/vmig.h"

const char *vmig_version(void)
{
    return VMIG_VERSION;
}

enum vmig_code vmig_source_probe(const struct vmig_endpoint *src, char *version, size_t n,
                                 struct vmig_err *err)
{
    const struct vmig_source_vt *vt = vmig_source_for(src);
    struct vmig_source *s = NULL;
    enum vmig_code rc = vt->open(src, NULL, &s, err);
    if (rc == VMIG_OK) rc = vt->probe(s, version, n, err);
    if (s) vt->close(s);
    return rc;
}

enum vmig_code vmig_target_probe(const struct vmig_endpoint *dst, struct vmig_target_caps *caps,
                                 struct vmig_err *err)
{
    const struct vmig_target_vt *vt = vmig_target_for(dst);
    struct vmig_target *t = NULL;
    enum vmig_code rc = vt->open(dst, NULL, &t, err);
    if (rc == VMIG_OK) rc = vt->probe(t, caps, err);
    if (t) vt->close(t);
    return rc;
}

enum vmig_code vmig_target_index_progress(const struct vmig_endpoint *dst,
                                          const struct vmig_plan_coll *pc, uint64_t *rows,
                                          uint64_t *total, int *built, struct vmig_err *err)
{
    const struct vmig_target_vt *vt = vmig_target_for(dst);
    struct vmig_target *t = NULL;
    enum vmig_code rc = vt->open(dst, NULL, &t, err);
    if (rc == VMIG_OK) rc = vt->index_progress(t, pc, rows, total, built, err);
    if (t) vt->close(t);
    return rc;
}

enum vmig_code vmig_target_drop(const struct vmig_endpoint *dst, const char *name,
                                struct vmig_err *err)
{
    const struct vmig_target_vt *vt = vmig_target_for(dst);
    struct vmig_target *t = NULL;
    enum vmig_code rc = vt->open(dst, NULL, &t, err);
    if (rc == VMIG_OK) rc = vt->drop_collection(t, name, err);
    if (t) vt->close(t);
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

enum vmig_code vmig_source_describe(const struct vmig_endpoint *src, const char *const *names,
                                    size_t nnames, struct vmig_src_coll **out, size_t *n,
                                    struct vmig_err *err)
{
    const struct vmig_source_vt *vt = vmig_source_for(src);
    struct vmig_source *s = NULL;
    char **all = NULL;
    size_t nall = 0;
    char ver[64];
    *out = NULL;
    *n = 0;
    enum vmig_code rc = vt->open(src, NULL, &s, err);
    if (rc) goto out;
    rc = vt->probe(s, ver, sizeof ver, err);
    if (rc) goto out;
    if (nnames == 0) {
        rc = vt->list(s, &all, &nall, err);
        if (rc) goto out;
        names = (const char *const *)all;
        nnames = nall;
    }
    *out = xcalloc(nnames ? nnames : 1, sizeof **out);
    for (size_t i = 0; i < nnames; i++) {
        rc = vt->describe(s, names[i], &(*out)[i], err);
        if (rc) {
            free(*out);
            *out = NULL;
            goto out;
        }
        (*n)++;
    }
out:
    free_names(all, nall);
    if (s) vt->close(s);
    return rc;
}

enum vmig_code vmig_plan_make(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                              const char *const *names, size_t nnames, struct vmig_map_opts *mo,
                              struct vmig_plan *plan, struct vmig_err *err)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    const struct vmig_target_vt *tvt = vmig_target_for(dst);
    struct vmig_src_coll *sc = NULL;
    struct vmig_source *s = NULL;
    struct vmig_target *t = NULL;
    size_t nsc = 0;
    memset(plan, 0, sizeof *plan);
    if (!mo->source_url) mo->source_url = src->url;

    enum vmig_code rc = vmig_source_describe(src, names, nnames, &sc, &nsc, err);
    if (rc) goto out;
    rc = tvt->open(dst, NULL, &t, err);
    if (rc) goto out;
    rc = tvt->probe(t, &plan->target, err);
    if (rc) goto out;
    mo->target = &plan->target;
    rc = svt->open(src, NULL, &s, err);
    if (rc) goto out;
    plan->coll = xcalloc(nsc ? nsc : 1, sizeof *plan->coll);
    if (mo->profile) plan->profile = xcalloc(nsc ? nsc : 1, sizeof *plan->profile);
    for (size_t i = 0; i < nsc; i++) {
        struct vmig_plan_coll *pc = &plan->coll[plan->n++];
        uint64_t count = 0;
        /* the exact count first: a payload index on fewer points means nullable */
        rc = svt->count(s, sc[i].name, &count, err);
        if (rc) goto out;
        sc[i].points_approx = count;
        if (mo->profile) { /* measured before the build: typed fields are sized from it */
            plan->profile[i] = xmalloc(sizeof *plan->profile[i]);
            rc = vmig_profile_run(src, &sc[i], mo->profile_sample, plan->profile[i], err);
            if (rc) goto out;
            sc[i].profile = plan->profile[i];
        }
        vmig_plan_coll_build(&sc[i], mo, pc);
        pc->source_count = count;
        if (mo->profile) vmig_profile_estimate(plan->profile[i], pc);
        int exists = 0;
        if (pc->target[0]) {
            rc = tvt->has_collection(t, pc->target, &exists, err);
            if (rc) goto out;
        }
        vmig_plan_coll_set_target_exists(pc, exists);
    }
    vmig_plan_check_targets(plan);
    rc = vmig_map_opts_check_unused(mo, err);
out:
    mo->target = NULL; /* borrowed from plan, which the caller may release first */
    free(sc);
    if (s) svt->close(s);
    if (t) tvt->close(t);
    return rc;
}

enum vmig_code vmig_plan_check_file(const struct vmig_endpoint *src,
                                    const struct vmig_endpoint *dst, struct vmig_plan *plan,
                                    const struct vmig_map_opts *base, struct vmig_err *err)
{
    const struct vmig_source_vt *svt = vmig_source_for(src);
    const struct vmig_target_vt *tvt = vmig_target_for(dst);
    struct vmig_source *s = NULL;
    struct vmig_target *t = NULL;
    char ver[64];
    enum vmig_code rc = svt->open(src, NULL, &s, err);
    if (rc) goto out;
    rc = svt->probe(s, ver, sizeof ver, err);
    if (rc) goto out;
    rc = tvt->open(dst, NULL, &t, err);
    if (rc) goto out;
    rc = tvt->probe(t, &plan->target, err);
    if (rc) goto out;
    for (size_t i = 0; i < plan->n; i++) {
        struct vmig_plan_coll *ed = &plan->coll[i];
        struct vmig_src_coll sc;
        rc = svt->describe(s, ed->source, &sc, err);
        if (rc) goto out;
        struct vmig_map_opts mo;
        vmig_map_opts_init(&mo);
        mo.max_vector_fields = base->max_vector_fields;
        mo.source_url = src->url;
        mo.target = &plan->target;
        vmig_map_opts_add_skips_of(&mo, ed);
        struct vmig_plan_coll fresh;
        vmig_plan_coll_build(&sc, &mo, &fresh);
        vmig_map_opts_release(&mo);
        int exists = 0;
        rc = tvt->has_collection(t, ed->target, &exists, err);
        if (rc) goto out;
        ed->target_exists = exists;
        rc = svt->count(s, ed->source, &ed->source_count, err);
        if (rc) goto out;
        vmig_err_clear(&ed->refusal);
        struct vmig_err e;
        vmig_err_clear(&e);
        if (vmig_plan_coll_check_edit(&fresh, ed, &e) != VMIG_OK ||
            vmig_plan_scalars_check(ed, &plan->target, &e) != VMIG_OK)
            ed->refusal = e;
    }
    vmig_plan_check_targets(plan);
out:
    if (s) svt->close(s);
    if (t) tvt->close(t);
    return rc;
}

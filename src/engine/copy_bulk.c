/*
 * copy_bulk.c - the write mode of a copy (--write-mode rows|bulk|auto): the rule that
 * picks rows or bulk import for one collection, and the job-level refusal of bulk on
 * a target that cannot import, before anything is created. The import machinery is the
 * target connector's (target.h bulk_*; Milvus: target/milvus_bulk.c); the engine's
 * exactness model is unchanged: a page written with Insert is acknowledged when it is in
 * an import file, and the target's Flush returns only when the files are imported.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/copy.h"
#include "engine/copy_bulk.h"
#include "util/log.h"

static const char *const mode_names[] = {"rows", "bulk", "auto"};

const char *vmig_write_mode_name(enum vmig_write_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "rows";
}

int vmig_write_mode_parse(const char *s, enum vmig_write_mode *out)
{
    for (unsigned i = 0; s && i < 3; i++)
        if (!strcmp(s, mode_names[i])) {
            *out = (enum vmig_write_mode)i;
            return 0;
        }
    return -1;
}

static int has_storage(const struct vmig_bulk_opts *o)
{
    return (o->dir && *o->dir) || (o->url && *o->url);
}

/* Why caps cannot import ("" = it can, as far as the product tells). */
static const char *product_refusal(const struct vmig_target_caps *caps)
{
    if (!strcmp(caps->product, "Milvus Lite"))
        return "Milvus Lite does not implement bulk import (the Import RPC)";
    if (!strcmp(caps->product, "Zilliz Cloud"))
        return "Zilliz Cloud imports through its REST API, which vmigrate does not drive";
    return "";
}

enum vmig_code vmig_job_bulk_precheck(const struct vmig_job_opts *jo,
                                      const struct vmig_target_caps *caps, struct vmig_err *err)
{
    if (jo->write_mode != VMIG_WRITE_BULK) return VMIG_OK;
    const char *why = product_refusal(caps);
    if (!*why && !jo->bulk_dir[0] && !jo->bulk_url[0])
        why = "no storage for the import files is given (a directory the server reads, or an "
              "s3:// URL)";
    if (!*why) return VMIG_OK;
    vmig_err_set(err, VMIG_E_USAGE, "cannot write with bulk import: %s", why);
    return vmig_err_fix(err, VMIG_FIX_WRITE_MODE, NULL);
}

enum vmig_code vmig_eng_bulk_start(struct eng *e, struct vmig_err *err)
{
    const struct vmig_bulk_opts *o = &e->o->bulk;
    const char *coll = e->pc->source;
    struct vmig_err why;
    vmig_err_clear(&why);
    if (o->mode == VMIG_WRITE_ROWS) return VMIG_OK;
    if (!e->tvt->bulk_check || !e->tvt->bulk_begin) {
        vmig_err_set(&why, VMIG_E_USAGE, "the %s connector has no bulk import", e->tvt->name);
        vmig_err_fix(&why, VMIG_FIX_WRITE_MODE, NULL);
        goto rows;
    }
    if (o->mode == VMIG_WRITE_BULK) goto bulk;
    /* auto */
    if (!has_storage(o)) {
        vmig_err_set(&why, VMIG_E_USAGE, "no storage for import files is given");
        goto rows;
    }
    if (e->st->total < VMIG_BULK_AUTO_POINTS) {
        vmig_err_set(&why, VMIG_E_USAGE, "%" PRIu64 " points, under the %u of bulk import",
                     e->st->total, VMIG_BULK_AUTO_POINTS);
        goto rows;
    }
    if (e->tvt->bulk_check(e->t, e->pc, o, &why)) goto rows;
bulk:
    if (e->tvt->bulk_begin(e->t, e->pc, o, err)) return err->code;
    vmig_run_log(e->ctx, VMIG_LOG_INFO,
                 "collection '%s': writing with bulk import (%s%s, %" PRIu64 " points)", coll,
                 vmig_write_mode_name(o->mode),
                 o->mode == VMIG_WRITE_AUTO ? ": the target imports and a storage is given" : "",
                 e->st->total);
    return VMIG_OK;
rows:
    if (o->mode == VMIG_WRITE_BULK) {
        *err = why;
        return why.code;
    }
    vmig_run_log(e->ctx, VMIG_LOG_INFO, "collection '%s': writing rows (auto: %s)", coll, why.msg);
    return VMIG_OK;
}

int vmig_eng_bulk_pending(const struct eng *e)
{
    return e->tvt->bulk_pending && e->tvt->bulk_pending(e->t) > 0;
}

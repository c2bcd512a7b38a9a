/*
 * job_json.c - JSON forms of the job center's records: point ids, a collection's
 * checkpoint state (struct vmig_coll_state, what resume starts from), verification
 * results, job options, and the whole job as the CLI, the HTTP API and the console
 * show it (never with secrets).
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

/* ---- JSON of ids, state, verification, options ------------------------------------ */

static json_t *id_json(const struct vmig_point_id *id)
{
    char t[VMIG_ID_TEXT_MAX];
    if (id->kind == VMIG_ID_NONE) return json_null();
    vmig_point_id_format(id, t);
    return json_pack("{s:s}", id->kind == VMIG_ID_NUM ? "num" : "uuid", t);
}

static int id_from_json(json_t *v, struct vmig_point_id *id)
{
    memset(id, 0, sizeof *id);
    if (!v || json_is_null(v)) return 0;
    json_t *n = json_object_get(v, "num"), *u = json_object_get(v, "uuid");
    const char *s = n ? json_string_value(n) : u ? json_string_value(u) : NULL;
    if (n && json_is_integer(n)) { /* tolerate plain numbers */
        id->kind = VMIG_ID_NUM;
        id->num = (uint64_t)json_integer_value(n);
        return 0;
    }
    if (!s || vmig_point_id_parse(s, strlen(s), id)) return -1;
    if ((n && id->kind != VMIG_ID_NUM) || (u && id->kind != VMIG_ID_UUID)) return -1;
    return 0;
}

static json_t *u64_json(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static uint64_t u64_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static int bool_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

char *vmig_coll_state_to_json(const struct vmig_coll_state *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "creating", json_boolean(st->creating));
    json_object_set_new(o, "created", json_boolean(st->created));
    json_object_set_new(o, "copied", json_boolean(st->copied));
    json_object_set_new(o, "indexed", json_boolean(st->indexed));
    json_object_set_new(o, "loaded", json_boolean(st->loaded));
    json_object_set_new(o, "index_built", json_boolean(st->index_built));
    json_object_set_new(o, "index_rows", u64_json(st->index_rows));
    json_object_set_new(o, "index_total", u64_json(st->index_total));
    json_object_set_new(o, "total", u64_json(st->total));
    json_object_set_new(o, "written", u64_json(st->written));
    json_object_set_new(o, "read", u64_json(st->read));
    json_object_set_new(o, "bytes", u64_json(st->bytes));
    json_object_set_new(o, "rejected", u64_json(st->rejected));
    json_object_set_new(o, "nulls_dropped", u64_json(st->nulls_dropped));
    json_object_set_new(o, "misfits", u64_json(st->misfits));
    json_t *a = json_array();
    for (size_t i = 0; i < st->nranges && i < VMIG_MAX_RANGES; i++) {
        const struct vmig_range *r = &st->range[i];
        json_t *ro = json_object();
        json_object_set_new(ro, "slice_total", json_integer(r->slice_total));
        json_object_set_new(ro, "slice_index", json_integer(r->slice_index));
        json_object_set_new(ro, "start", id_json(&r->start));
        json_object_set_new(ro, "end", id_json(&r->end));
        json_object_set_new(ro, "hw", id_json(&r->hw));
        json_object_set_new(ro, "hw_set", json_boolean(r->hw_set));
        json_object_set_new(ro, "done", json_boolean(r->done));
        json_object_set_new(ro, "points", u64_json(r->points));
        json_array_append_new(a, ro);
    }
    json_object_set_new(o, "ranges", a);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) abort();
    return s;
}

enum vmig_code vmig_coll_state_from_json(const char *text, struct vmig_coll_state *st,
                                         struct vmig_err *err)
{
    vmig_coll_state_init(st);
    if (!text || !*text) return VMIG_OK;
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return vmig_err_set(err, VMIG_E_IO, "stored collection state is not valid JSON: %s",
                            je.text);
    }
    enum vmig_code rc = VMIG_OK;
    st->creating = bool_of(o, "creating");
    st->created = bool_of(o, "created");
    st->copied = bool_of(o, "copied");
    st->indexed = bool_of(o, "indexed");
    st->loaded = bool_of(o, "loaded");
    st->index_built = bool_of(o, "index_built");
    st->index_rows = u64_of(o, "index_rows");
    st->index_total = u64_of(o, "index_total");
    st->total = u64_of(o, "total");
    st->written = u64_of(o, "written");
    st->read = u64_of(o, "read");
    st->bytes = u64_of(o, "bytes");
    st->rejected = u64_of(o, "rejected");
    st->nulls_dropped = u64_of(o, "nulls_dropped");
    st->misfits = u64_of(o, "misfits");
    json_t *a = json_object_get(o, "ranges");
    size_t n = json_array_size(a);
    if (n > VMIG_MAX_RANGES) {
        rc = vmig_err_set(err, VMIG_E_IO, "stored collection state has %zu ranges", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *ro = json_array_get(a, i);
        struct vmig_range *r = &st->range[i];
        r->slice_total = (uint32_t)u64_of(ro, "slice_total");
        r->slice_index = (uint32_t)u64_of(ro, "slice_index");
        if (id_from_json(json_object_get(ro, "start"), &r->start) ||
            id_from_json(json_object_get(ro, "end"), &r->end) ||
            id_from_json(json_object_get(ro, "hw"), &r->hw)) {
            rc = vmig_err_set(err, VMIG_E_IO, "stored collection state: bad id in range %zu", i);
            goto out;
        }
        r->hw_set = bool_of(ro, "hw_set");
        r->done = bool_of(ro, "done");
        r->points = u64_of(ro, "points");
    }
    st->nranges = n;
out:
    json_decref(o);
    if (rc) vmig_coll_state_init(st);
    return rc;
}

char *vmig_job_verify_to_json(const struct vmig_verify_result *vr)
{
    json_t *o = json_object();
    json_object_set_new(o, "ran", json_boolean(vr->ran));
    json_object_set_new(o, "source_count", u64_json(vr->source_count));
    json_object_set_new(o, "target_count", u64_json(vr->target_count));
    json_object_set_new(o, "sampled", u64_json(vr->sampled));
    json_object_set_new(o, "missing", u64_json(vr->missing));
    json_object_set_new(o, "vector_diffs", u64_json(vr->vector_diffs));
    json_object_set_new(o, "payload_diffs", u64_json(vr->payload_diffs));
    json_object_set_new(o, "rejected", u64_json(vr->rejected));
    json_object_set_new(o, "first_diff", json_string(vr->first_diff));
    if (vr->full) {
        json_object_set_new(o, "full", json_true());
        json_object_set_new(o, "extra", u64_json(vr->extra));
        json_object_set_new(o, "different", u64_json(vr->different));
        json_object_set_new(o, "diff_file", json_string(vr->diff_path));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) abort();
    return s;
}

void vmig_job_verify_from_json(const char *text, struct vmig_verify_result *vr)
{
    memset(vr, 0, sizeof *vr);
    if (!text) return;
    json_t *o = json_loads(text, 0, NULL);
    if (!o) return;
    vr->ran = bool_of(o, "ran");
    vr->source_count = u64_of(o, "source_count");
    vr->target_count = u64_of(o, "target_count");
    vr->sampled = u64_of(o, "sampled");
    vr->missing = u64_of(o, "missing");
    vr->vector_diffs = u64_of(o, "vector_diffs");
    vr->payload_diffs = u64_of(o, "payload_diffs");
    vr->rejected = u64_of(o, "rejected");
    vr->full = bool_of(o, "full");
    vr->extra = u64_of(o, "extra");
    vr->different = u64_of(o, "different");
    const char *df = json_string_value(json_object_get(o, "diff_file"));
    snprintf(vr->diff_path, sizeof vr->diff_path, "%s", df ? df : "");
    const char *fd = json_string_value(json_object_get(o, "first_diff"));
    snprintf(vr->first_diff, sizeof vr->first_diff, "%s", fd ? fd : "");
    json_decref(o);
}

void vmig_job_opts_init(struct vmig_job_opts *o)
{
    memset(o, 0, sizeof *o);
    o->verify_sample = 100;
}

char *vmig_job_opts_to_json(const struct vmig_job_opts *o)
{
    json_t *j = json_pack("{s:i,s:i,s:I,s:i,s:b,s:b,s:b,s:s}", "readers", o->readers, "writers",
                          o->writers, "page_limit", (json_int_t)o->page_limit, "verify_sample",
                          o->verify_sample, "reject_oversize", o->reject_oversize, "skip_index",
                          o->skip_index, "wait_index", o->wait_index, "rejects", o->rejects);
    json_object_set_new(j, "tasks", json_integer(o->tasks));
    if (o->verify_full) { /* only when asked: the JSON of other jobs stays as it was */
        json_object_set_new(j, "verify_full", json_true());
        json_object_set_new(j, "verify_diff", json_string(o->verify_diff));
    }
    /* bulk import: only when asked, so the JSON of a rows job stays as it was */
    if (o->write_mode != VMIG_WRITE_ROWS) {
        json_object_set_new(j, "write_mode", json_string(vmig_write_mode_name(o->write_mode)));
        json_object_set_new(j, "bulk_dir", json_string(o->bulk_dir));
        json_object_set_new(j, "bulk_url", json_string(o->bulk_url));
        json_object_set_new(j, "bulk_endpoint", json_string(o->bulk_endpoint));
        json_object_set_new(j, "bulk_file_bytes", json_integer((json_int_t)o->bulk_file_bytes));
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) abort();
    return s;
}

void vmig_job_opts_from_json(const char *text, struct vmig_job_opts *o)
{
    vmig_job_opts_init(o);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (!j) return;
    o->readers = (int)u64_of(j, "readers");
    o->writers = (int)u64_of(j, "writers");
    o->page_limit = (uint32_t)u64_of(j, "page_limit");
    json_t *vs = json_object_get(j, "verify_sample");
    if (json_is_integer(vs)) o->verify_sample = (int)json_integer_value(vs);
    o->reject_oversize = bool_of(j, "reject_oversize");
    o->skip_index = bool_of(j, "skip_index");
    o->wait_index = bool_of(j, "wait_index");
    o->verify_full = bool_of(j, "verify_full");
    const char *vd = json_string_value(json_object_get(j, "verify_diff"));
    snprintf(o->verify_diff, sizeof o->verify_diff, "%s", vd ? vd : "");
    const char *r = json_string_value(json_object_get(j, "rejects"));
    snprintf(o->rejects, sizeof o->rejects, "%s", r ? r : "");
    o->tasks = (int)u64_of(j, "tasks");
    const char *wm = json_string_value(json_object_get(j, "write_mode"));
    if (!wm || vmig_write_mode_parse(wm, &o->write_mode)) o->write_mode = VMIG_WRITE_ROWS;
    const char *bd = json_string_value(json_object_get(j, "bulk_dir"));
    const char *bu = json_string_value(json_object_get(j, "bulk_url"));
    const char *be = json_string_value(json_object_get(j, "bulk_endpoint"));
    snprintf(o->bulk_dir, sizeof o->bulk_dir, "%s", bd ? bd : "");
    snprintf(o->bulk_url, sizeof o->bulk_url, "%s", bu ? bu : "");
    snprintf(o->bulk_endpoint, sizeof o->bulk_endpoint, "%s", be ? be : "");
    o->bulk_file_bytes = u64_of(j, "bulk_file_bytes");
    json_decref(j);
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *ms_json(int64_t ms)
{
    return ms ? json_integer((json_int_t)ms) : json_null();
}

char *vmig_job_to_json(const struct vmig_job *j, int with_plan, int pretty)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(o, "status", json_string(vmig_job_status_name(j->status)));
    json_object_set_new(o, "label", json_string(vmig_job_status_label(j->status)));
    json_object_set_new(o, "created_ms", ms_json(j->created_ms));
    json_object_set_new(o, "started_ms", ms_json(j->started_ms));
    json_object_set_new(o, "finished_ms", ms_json(j->finished_ms));
    json_object_set_new(o, "heartbeat_ms", ms_json(j->heartbeat_ms));
    json_object_set_new(o, "source", json_pack("{s:o,s:o,s:b}", "url", str_or_null(j->src_url),
                                               "ca_file", str_or_null(j->src_ca_file),
                                               "insecure", j->src_insecure));
    json_object_set_new(o, "target",
                        json_pack("{s:o,s:o,s:o,s:b}", "url", str_or_null(j->dst_url), "db",
                                  str_or_null(j->dst_db), "ca_file", str_or_null(j->dst_ca_file),
                                  "insecure", j->dst_insecure));
    json_object_set_new(o, "secrets_stored", json_boolean(j->secrets_stored));
    char *oj = vmig_job_opts_to_json(&j->opts);
    json_object_set_new(o, "options", json_loads(oj, 0, NULL));
    free(oj);
    json_object_set_new(o, "owner", j->owner_pid ? json_pack("{s:s,s:i}", "host", j->owner_host,
                                                             "pid", j->owner_pid)
                                                 : json_null());
    json_object_set_new(o, "cancel_requested", json_boolean(j->cancel_requested));
    json_object_set_new(o, "orphaned", json_boolean(j->orphaned));
    json_object_set_new(o, "error", str_or_null(j->error));
    {
        /* the running run counts until now (an orphaned one until its last heartbeat) */
        int64_t run = j->run_ms;
        if (j->status == VMIG_JOB_IN_PROGRESS && j->run_started_ms) {
            int64_t end = j->orphaned && j->heartbeat_ms ? j->heartbeat_ms : (int64_t)vmig_wall_ms();
            if (end > j->run_started_ms) run += end - j->run_started_ms;
        }
        json_object_set_new(o, "run_ms", json_integer((json_int_t)run));
    }
    uint64_t total = 0, written = 0;
    json_t *a = json_array();
    for (size_t i = 0; i < j->ncolls; i++) {
        const struct vmig_job_coll *c = &j->coll[i];
        json_t *co = json_object();
        json_object_set_new(co, "source", json_string(c->source));
        json_object_set_new(co, "target", json_string(c->target));
        json_object_set_new(co, "status", json_string(vmig_job_status_name(c->status)));
        json_object_set_new(co, "label", json_string(vmig_job_status_label(c->status)));
        json_object_set_new(co, "phase", json_string(vmig_phase_name(c->phase)));
        json_object_set_new(co, "total", u64_json(c->total ? c->total : c->state.total));
        json_object_set_new(co, "read", u64_json(c->read));
        json_object_set_new(co, "written", u64_json(c->state.written > c->written
                                                        ? c->state.written
                                                        : c->written));
        json_object_set_new(co, "bytes", u64_json(c->bytes));
        json_object_set_new(co, "points_per_s", json_real(c->rate));
        json_object_set_new(co, "started_ms", ms_json(c->started_ms));
        json_object_set_new(co, "finished_ms", ms_json(c->finished_ms));
        /* the index build as last seen by the job: with the default (no wait_index) it
         * goes on in the server after the job ends, the collection searchable already */
        json_object_set_new(co, "index_built", json_boolean(c->state.index_built));
        json_object_set_new(co, "index_rows", u64_json(c->state.index_rows));
        json_object_set_new(co, "index_total", u64_json(c->state.index_total));
        json_object_set_new(co, "index_live", json_boolean(c->index_live));
        char *sj = vmig_coll_state_to_json(&c->state);
        json_object_set_new(co, "state", json_loads(sj, 0, NULL));
        free(sj);
        if (c->verify.ran) {
            char *vj = vmig_job_verify_to_json(&c->verify);
            json_object_set_new(co, "verify", json_loads(vj, 0, NULL));
            free(vj);
        } else {
            json_object_set_new(co, "verify", json_null());
        }
        json_object_set_new(co, "error", str_or_null(c->error));
        json_object_set_new(co, "error_point", str_or_null(c->error_point));
        json_object_set_new(co, "error_field", str_or_null(c->error_field));
        json_object_set_new(co, "error_code", c->error_code
                                                  ? json_string(vmig_code_json_name(c->error_code))
                                                  : json_null());
        json_object_set_new(co, "error_fix",
                            c->error_fix ? json_string(vmig_fix_name(c->error_fix)) : json_null());
        json_object_set_new(co, "error_fix_arg", str_or_null(c->error_fix_arg));
        json_object_set_new(co, "error_hint",
                            c->error_fix ? json_string(vmig_fix_hint(c->error_fix)) : json_null());
        json_array_append_new(a, co);
        total += c->total ? c->total : c->state.total;
        written += c->state.written > c->written ? c->state.written : c->written;
    }
    json_object_set_new(o, "total", u64_json(total));
    json_object_set_new(o, "written", u64_json(written));
    json_object_set_new(o, "collections", a);
    if (j->ntasks) {
        /* a job run as range tasks: who holds what (jobs show, the API, the console) */
        json_t *ta = json_array();
        for (size_t k = 0; k < j->ntasks; k++) {
            const struct vmig_job_task *t = &j->tasks[k];
            json_t *to = json_object();
            json_object_set_new(to, "collection",
                                json_string(t->coll < j->ncolls ? j->coll[t->coll].source : ""));
            json_object_set_new(to, "task", json_integer(t->idx));
            json_object_set_new(to, "kind", json_string(t->kind));
            json_object_set_new(to, "status", json_string(vmig_job_status_name(t->status)));
            json_object_set_new(to, "owner", t->owner[0] ? json_string(t->owner) : json_null());
            json_object_set_new(to, "attempts", json_integer(t->attempts));
            json_object_set_new(to, "reclaims", json_integer(t->reclaims));
            json_object_set_new(to, "read", u64_json(t->read));
            json_object_set_new(to, "written", u64_json(t->written));
            json_object_set_new(to, "lease_until_ms", ms_json(t->lease_until_ms));
            json_object_set_new(to, "error", t->error[0] ? json_string(t->error) : json_null());
            json_array_append_new(ta, to);
        }
        json_object_set_new(o, "tasks", ta);
    }
    if (with_plan) {
        char *pj = vmig_plan_to_json(&j->plan, 0);
        json_object_set_new(o, "plan", json_loads(pj, 0, NULL));
        free(pj);
    }
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
    json_decref(o);
    if (!s) abort();
    return s;
}


/*
 * diff_read.c - reads the diff file of a full verification line by line
 * (diff_read.h) and checks it against a plan (vmig_diff_check, vmig/repair.h). Each
 * line is parsed with jansson; only collection, id and what are read, the other
 * fields are for people. An id above INT64_MAX is more than jansson's integers hold:
 * such a line is parsed again with the number's digits quoted, so every u64 id reads.
 */
#include "engine/diff_read.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "vmig/repair.h"

enum vmig_code vmig_diff_open(struct vmig_diff_reader *r, const char *path, struct vmig_err *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "r");
    if (!r->f) /* a name that is not there is a wrong argument; anything else a local fault */
        return vmig_err_set(err, errno == ENOENT ? VMIG_E_USAGE : VMIG_E_IO,
                            "cannot open diff file '%s': %s", path, strerror(errno));
    return VMIG_OK;
}

void vmig_diff_close(struct vmig_diff_reader *r)
{
    if (r->f) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static int bad(struct vmig_diff_reader *r, struct vmig_err *err, const char *what)
{
    vmig_err_set(err, VMIG_E_USAGE, "diff file '%s' line %zu: %s", r->path, r->line, what);
    return -1;
}

/* jansson refused a too big integer at pos: the line again with its digits quoted,
 * or NULL when there is no run of digits there. */
static json_t *reparse_big(const char *s, size_t len, size_t pos, json_error_t *je)
{
    size_t a = pos < len ? pos : len, b;
    while (a > 0 && s[a - 1] >= '0' && s[a - 1] <= '9')
        a--;
    for (b = a; b < len && s[b] >= '0' && s[b] <= '9'; b++) {
    }
    if (b == a) return NULL;
    struct vmig_buf t = VMIG_BUF_INIT;
    vmig_buf_add(&t, s, a);
    vmig_buf_addf(&t, "{\"$big\":\"%.*s\"}", (int)(b - a), s + a);
    vmig_buf_add(&t, s + b, len - b);
    json_t *j = json_loadb(t.p, t.len, 0, je);
    vmig_buf_release(&t);
    return j;
}

static int parse_id(json_t *v, struct vmig_point_id *id)
{
    const char *big = json_is_object(v) ? json_string_value(json_object_get(v, "$big")) : NULL;
    if (big) return vmig_point_id_parse(big, strlen(big), id) == 0 && id->kind == VMIG_ID_NUM;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        id->kind = VMIG_ID_NUM;
        id->num = (uint64_t)json_integer_value(v);
        return 1;
    }
    const char *s = json_string_value(v);
    return s && vmig_point_id_parse(s, strlen(s), id) == 0 && id->kind == VMIG_ID_UUID;
}

int vmig_diff_next(struct vmig_diff_reader *r, struct vmig_diff_line *out, struct vmig_err *err)
{
    for (;;) {
        ssize_t n = getline(&r->buf, &r->cap, r->f);
        if (n < 0) {
            if (ferror(r->f)) {
                vmig_err_set(err, VMIG_E_IO, "cannot read diff file '%s' after line %zu", r->path,
                             r->line);
                return -1;
            }
            return 0;
        }
        r->line++;
        size_t len = (size_t)n;
        while (len && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r' ||
                       r->buf[len - 1] == ' ' || r->buf[len - 1] == '\t'))
            len--;
        if (!len) continue;
        json_error_t je;
        json_t *j = json_loadb(r->buf, len, 0, &je);
        if (!j && strstr(je.text, "too big"))
            j = reparse_big(r->buf, len, (size_t)je.position, &je);
        if (!j) {
            char m[300];
            snprintf(m, sizeof m, "not a JSON line (%s at column %d)", je.text, je.column);
            return bad(r, err, m);
        }
        int rc = 1;
        const char *coll = json_string_value(json_object_get(j, "collection"));
        const char *what = json_string_value(json_object_get(j, "what"));
        json_t *id = json_object_get(j, "id");
        if (!json_is_object(j))
            rc = bad(r, err, "not a JSON object (one object per line)");
        else if (!coll || !*coll)
            rc = bad(r, err, "no \"collection\" (the source collection's name)");
        else if (strlen(coll) >= sizeof out->coll)
            rc = bad(r, err, "\"collection\" is too long");
        else if (!id)
            rc = bad(r, err, "no \"id\" (the point id: a number or a uuid)");
        else if (!parse_id(id, &out->id))
            rc = bad(r, err, "\"id\" is not a point id (an unsigned 64-bit number or a uuid)");
        else if (!what)
            rc = bad(r, err, "no \"what\" (missing, extra or different)");
        else if (!strcmp(what, "missing"))
            out->what = VMIG_DIFF_MISSING;
        else if (!strcmp(what, "extra"))
            out->what = VMIG_DIFF_EXTRA;
        else if (!strcmp(what, "different"))
            out->what = VMIG_DIFF_DIFFERENT;
        else {
            char m[200];
            snprintf(m, sizeof m, "\"what\" is '%.60s'; it must be missing, extra or different",
                     what);
            rc = bad(r, err, m);
        }
        if (rc == 1) snprintf(out->coll, sizeof out->coll, "%s", coll);
        json_decref(j);
        return rc;
    }
}

enum vmig_code vmig_diff_check(const char *path, const struct vmig_plan *plan,
                               struct vmig_diff_counts *counts, struct vmig_err *err)
{
    struct vmig_diff_reader r;
    struct vmig_diff_line ln;
    enum vmig_code rc = vmig_diff_open(&r, path, err);
    if (rc) return rc;
    if (counts) memset(counts, 0, plan->n * sizeof *counts);
    size_t last = 0; /* lines of one collection come together: try the last one first */
    int got;
    while ((got = vmig_diff_next(&r, &ln, err)) == 1) {
        size_t i = last < plan->n && !strcmp(plan->coll[last].source, ln.coll) ? last : plan->n;
        for (size_t k = 0; i == plan->n && k < plan->n; k++)
            if (!strcmp(plan->coll[k].source, ln.coll)) i = k;
        if (i == plan->n) {
            struct vmig_buf names = VMIG_BUF_INIT;
            for (size_t k = 0; k < plan->n && names.len < 400; k++)
                vmig_buf_addf(&names, "%s'%s'", k ? ", " : "", plan->coll[k].source);
            rc = vmig_err_set(err, VMIG_E_USAGE,
                              "diff file '%s' line %zu: collection '%.200s' is not one of the "
                              "collections repaired (%s)",
                              path, r.line, ln.coll, names.len ? names.p : "none");
            vmig_err_at(err, ln.coll, NULL, NULL);
            vmig_buf_release(&names);
            goto out;
        }
        last = i;
        if (!counts) continue;
        counts[i].lines++;
        if (ln.what == VMIG_DIFF_MISSING)
            counts[i].missing++;
        else if (ln.what == VMIG_DIFF_EXTRA)
            counts[i].extra++;
        else
            counts[i].different++;
    }
    if (got < 0) rc = err->code;
out:
    vmig_diff_close(&r);
    return rc;
}

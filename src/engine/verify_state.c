/*
 * verify_state.c - the state file of a full verification (FILE.state beside the diff
 * file): what each read range has compared and where it goes on, the extras pass's
 * position, and how many bytes of the diff file those account for. A small line
 * format of our own, written to a temporary file and renamed over the old one, so a
 * run killed at any moment leaves the previous state or the new one, never half.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmig/verify.h"

#define MAGIC "vmigrate-verify-state 1"

static void put_id(FILE *f, const struct vmig_point_id *id)
{
    char t[VMIG_ID_TEXT_MAX];
    if (id->kind == VMIG_ID_NONE) {
        fputs(" -", f);
        return;
    }
    vmig_point_id_format(id, t);
    fprintf(f, " %s", t);
}

int vmig_vfull_state_save(const char *path, const struct vmig_vfull_state *st,
                          struct vmig_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        vmig_err_set(err, VMIG_E_IO, "cannot write the verification state '%s': %s", tmp,
                     strerror(errno));
        return -1;
    }
    fprintf(f, MAGIC "\nsource %s\ntarget %s\nsource_count %" PRIu64 "\ndiff_len %" PRIu64
                     "\nextras %d %" PRIu64,
            st->source, st->target, st->source_count, st->diff_len, st->extras_done, st->extra);
    put_id(f, &st->extra_at);
    fprintf(f, "\nranges %zu\n", st->planned ? st->nranges : 0);
    for (size_t i = 0; st->planned && i < st->nranges; i++) {
        const struct vmig_vfull_range *r = &st->range[i];
        fprintf(f, "range %" PRIu32 " %" PRIu32, r->slice_total, r->slice_index);
        put_id(f, &r->start);
        put_id(f, &r->end);
        fprintf(f, " %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", r->done, r->compared,
                r->missing, r->different, r->rejected);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        vmig_err_set(err, VMIG_E_IO, "cannot write the verification state '%s': %s", path,
                     strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int get_id(const char *s, struct vmig_point_id *id)
{
    memset(id, 0, sizeof *id);
    if (!strcmp(s, "-")) return 0;
    return vmig_point_id_parse(s, strlen(s), id);
}

/* "key rest-of-line" into rest (no newline) */
static int line(FILE *f, const char *key, char *rest, size_t n)
{
    char buf[VMIG_NAME_MAX + 200];
    if (!fgets(buf, sizeof buf, f)) return -1;
    buf[strcspn(buf, "\n")] = '\0';
    size_t k = strlen(key);
    if (strncmp(buf, key, k) || buf[k] != ' ') return -1;
    snprintf(rest, n, "%s", buf + k + 1);
    return 0;
}

int vmig_vfull_state_load(const char *path, struct vmig_vfull_state *st, struct vmig_err *err)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        vmig_err_set(err, VMIG_E_IO, "cannot read the verification state '%s': %s", path,
                     strerror(errno));
        return -1;
    }
    char buf[VMIG_NAME_MAX + 200], a[VMIG_ID_TEXT_MAX + 8], b[VMIG_ID_TEXT_MAX + 8];
    size_t nr = 0;
    int ok = fgets(buf, sizeof buf, f) && !strncmp(buf, MAGIC "\n", sizeof MAGIC) &&
             !line(f, "source", st->source, sizeof st->source) &&
             !line(f, "target", st->target, sizeof st->target) &&
             !line(f, "source_count", buf, sizeof buf) &&
             sscanf(buf, "%" SCNu64, &st->source_count) == 1 &&
             !line(f, "diff_len", buf, sizeof buf) &&
             sscanf(buf, "%" SCNu64, &st->diff_len) == 1 && !line(f, "extras", buf, sizeof buf) &&
             sscanf(buf, "%d %" SCNu64 " %40s", &st->extras_done, &st->extra, a) == 3 &&
             !get_id(a, &st->extra_at) && !line(f, "ranges", buf, sizeof buf) &&
             sscanf(buf, "%zu", &nr) == 1 && nr <= VMIG_MAX_RANGES;
    for (size_t i = 0; ok && i < nr; i++) {
        struct vmig_vfull_range *r = &st->range[i];
        ok = !line(f, "range", buf, sizeof buf) &&
             sscanf(buf,
                    "%" SCNu32 " %" SCNu32 " %40s %40s %d %" SCNu64 " %" SCNu64 " %" SCNu64
                    " %" SCNu64,
                    &r->slice_total, &r->slice_index, a, b, &r->done, &r->compared, &r->missing,
                    &r->different, &r->rejected) == 9 &&
             !get_id(a, &r->start) && !get_id(b, &r->end);
    }
    fclose(f);
    if (!ok) {
        memset(st, 0, sizeof *st);
        vmig_err_set(err, VMIG_E_IO,
                     "cannot read the verification state '%s': not a state file of this version "
                     "(remove it to verify from the start)",
                     path);
        return -1;
    }
    st->nranges = nr;
    st->planned = nr > 0;
    return 1;
}

/*
 * milvus_bulk.c - bulk import on a Milvus target handle (milvus_int.h): the rows the
 * engine writes with Insert are appended to row-based JSON import files instead of
 * sent; at each durable step (the engine's Flush) the files are closed, handed to the
 * server's storage, imported with the Import RPC and polled until the server reports
 * them Completed, and only then does the Flush succeed. Upserts never come here.
 *
 * Storage. A directory (--bulk-dir) is read by the server by ABSOLUTE path: measured on
 * Milvus 2.3.5 standalone with local storage, Import takes "/abs/dir/f.json" inside or
 * outside localStorage.path, and fails a path relative to localStorage.path ("stat
 * vmig/b.json: no such file or directory": it is resolved against the server's working
 * directory). So the directory must be one the server sees under the same absolute path
 * (its own machine, or a shared mount). With s3:// the files are staged in a temporary
 * directory, uploaded (util/s3.c) and imported by object key, which Milvus resolves in
 * its own bucket: the URL must name the bucket and a prefix of the Milvus deployment.
 *
 * Memory stays bounded: a page is encoded into a per-call buffer and written to the open
 * file; files close at file_bytes (256 MiB by default, so no single import is huge).
 * Milvus 2.3 takes one JSON file per Import request, so each file is one import task.
 *
 * Failure: an import that fails is tried once more; a second failure ends bulk mode for
 * the handle and moves its fault counter, so the engine repeats the pass from the
 * durable offsets, where every page lies below its high-water mark and goes as Upsert
 * (the rows path). Upsert deletes every row of its primary key, so a file that may or
 * may not have been imported before a crash never doubles a point, provided no import
 * lands AFTER the Upserts: a resumed run first waits for every import of the collection
 * still running on the server (ListImportTasks).
 *
 * Test-only fault points: VMIG_TEST_BULK_CRASH=after-upload stops the process (SIGKILL)
 * right after a file is made available to the server, =after-import right after the
 * Import request was accepted (the crash tests of tests/integration/test_bulk_import.py).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "target/milvus_caps.h"
#include "target/milvus_codec.h"
#include "target/milvus_int.h"
#include "util/alloc.h"
#include "util/s3.h"
#include "util/wait.h"

struct bfile {
    char path[PATH_MAX]; /* local file (JSON), or the directory of a NumPy set */
    char name[VMIG_NAME_MAX + 64];
    uint64_t rows;
};

struct vmig_milvus_bulk {
    pthread_mutex_t mu; /* guards everything below but the constants */
    char coll[VMIG_NAME_MAX];
    char dir[PATH_MAX]; /* absolute: where the files are written */
    int use_s3, staged; /* staged: dir is our temporary directory (removed at the end) */
    struct vmig_s3 s3;
    uint64_t file_max;
    char tag[64]; /* unique per handle: files of two runs never share a name */
    unsigned seq;
    FILE *f; /* the open file (NULL = none) */
    struct bfile cur;
    uint64_t cur_bytes;
    struct bfile *ready; /* closed files not yet imported */
    size_t nready, capready;
    uint64_t pending; /* rows in files not yet imported */
    int on;           /* writes with Insert go to files */
    /* NumPy sets: one <field>.npy per field in a directory per import task */
    int npy;
    char pk[VMIG_NAME_MAX];
    int pk_int;        /* Int64 primary key ('<i8'), else VarChar ('<U<pk_width>') */
    uint32_t pk_width; /* characters */
    size_t nvec;
    char vec[VMIG_MAX_VECTOR_FIELDS][VMIG_NAME_MAX];
    uint32_t dim[VMIG_MAX_VECTOR_FIELDS];
    FILE *fpk, *fvec[VMIG_MAX_VECTOR_FIELDS], *fmeta; /* fmeta: lengths + UTF-8 (meta.tmp) */
    uint32_t meta_max;                                /* longest payload in characters */
    int imported; /* something was imported through this handle (refresh at load) */
};

static void crash_point(const char *at)
{
    const char *v = getenv("VMIG_TEST_BULK_CRASH");
    if (v && !strcmp(v, at)) raise(SIGKILL);
}

static int older_than_23(const struct vmig_target_caps *c)
{
    int maj = 0, min = 0;
    if (!c->known || sscanf(c->release, "%d.%d", &maj, &min) != 2) return 0;
    return maj < 2 || (maj == 2 && min < 3);
}

static enum vmig_code refuse(struct vmig_err *err, const char *coll, const char *fmt, const char *a)
{
    vmig_err_set(err, VMIG_E_USAGE, fmt, coll, a);
    vmig_err_at(err, coll, NULL, NULL);
    return vmig_err_fix(err, VMIG_FIX_WRITE_MODE, NULL);
}

enum vmig_code vmig_milvus_bulk_check(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_bulk_opts *o, struct vmig_err *err)
{
    struct vmig_target_caps caps;
    enum vmig_code rc = vmig_target_milvus.probe(t, &caps, err);
    const char *what = "cannot bulk import into collection '%s': %s";
    if (rc) return rc;
    if (!strcmp(caps.product, "Milvus Lite"))
        return refuse(err, pc->target, what,
                      "Milvus Lite does not implement bulk import (the Import RPC)");
    if (t->zilliz || !strcmp(caps.product, "Zilliz Cloud"))
        return refuse(err, pc->target, what,
                      "Zilliz Cloud imports through its REST API, which vmigrate does not "
                      "drive");
    if (older_than_23(&caps))
        return refuse(err, pc->target, what, "the server is older than Milvus 2.3");
    int has_dir = o->dir && *o->dir, has_url = o->url && *o->url;
    if (!has_dir && !has_url)
        return refuse(err, pc->target, what,
                      "no storage for the import files is given (a directory the server "
                      "reads, or an s3:// URL)");
    if (has_dir && !has_url) {
        struct stat sb;
        if (stat(o->dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(o->dir, W_OK) != 0)
            return refuse(err, pc->target,
                          "cannot bulk import into collection '%s': '%s' is "
                          "not a writable directory",
                          o->dir);
    }
    if (has_url) {
        struct vmig_s3 s3;
        if ((rc = vmig_s3_init(&s3, o->url, o->endpoint, err))) return rc;
    }
    return vmig_milvus_bulk_shape(pc, err);
}

/* ---- decoders adapted to vmig_milvus_decode_fn ---- */

struct list_ctx {
    size_t running;
    int64_t first;
};
static enum vmig_code d_list(const struct vmig_buf *b, void *ctx, const char *what,
                             struct vmig_err *err)
{
    struct list_ctx *c = ctx;
    return vmig_milvus_dec_list_imports(b->p, b->len, what, &c->running, &c->first, err);
}
static enum vmig_code d_import(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    return vmig_milvus_dec_import(b->p, b->len, what, ctx, err);
}
static enum vmig_code d_state(const struct vmig_buf *b, void *ctx, const char *what,
                              struct vmig_err *err)
{
    return vmig_milvus_dec_import_state(b->p, b->len, what, ctx, err);
}
static enum vmig_code d_status(const struct vmig_buf *b, void *ctx, const char *what,
                               struct vmig_err *err)
{
    (void)ctx;
    return vmig_milvus_dec_status(b->p, b->len, what, err);
}
static enum vmig_code d_refresh(const struct vmig_buf *b, void *ctx, const char *what,
                                struct vmig_err *err)
{
    return vmig_milvus_dec_refresh_progress(b->p, b->len, what, ctx, err);
}

/* Wait until no import task of coll is still running on the server. */
static enum vmig_code wait_running(struct vmig_target *t, const char *coll, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    struct vmig_wait w;
    char what[VMIG_NAME_MAX + 64], desc[VMIG_NAME_MAX + 96], progress[64];
    enum vmig_code rc;
    snprintf(what, sizeof what, "cannot list the imports of collection '%s'", coll);
    snprintf(desc, sizeof desc, "the imports of an earlier run into collection '%s'", coll);
    vmig_wait_init(&w, t->ctx, t->wait_limit_ms);
    vmig_milvus_enc_list_imports(vmig_milvus_db(t), coll, &req);
    for (;;) {
        struct list_ctx lc = {0, 0};
        rc = vmig_milvus_rpc(t, "ListImportTasks", &req, 0, d_list, &lc, what, coll, NULL, err);
        if (rc || !lc.running) break;
        snprintf(progress, sizeof progress, "%zu still running (task %" PRId64 ")", lc.running,
                 lc.first);
        if ((rc = vmig_wait_next(&w, desc, progress, "finished", err))) break;
    }
    vmig_buf_release(&req);
    return rc;
}

static enum vmig_code make_dir(struct vmig_milvus_bulk *b, const struct vmig_bulk_opts *o,
                               struct vmig_err *err)
{
    if (!b->use_s3) {
        if (!realpath(o->dir, b->dir))
            return vmig_err_set(err, VMIG_E_IO, "cannot use bulk directory '%s': %s", o->dir,
                                strerror(errno));
        return VMIG_OK;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(b->dir, sizeof b->dir, "%s/vmigrate-bulk-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->dir))
        return vmig_err_set(err, VMIG_E_IO, "cannot make a staging directory for import files: %s",
                            strerror(errno));
    b->staged = 1;
    return VMIG_OK;
}

enum vmig_code vmig_milvus_bulk_begin(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                      const struct vmig_bulk_opts *o, struct vmig_err *err)
{
    enum vmig_code rc;
    struct vmig_milvus_bulk *b = NULL;
    if ((rc = vmig_milvus_bulk_check(t, pc, o, err))) return rc;
    /* a late import of an earlier run must never land after this run's Upserts */
    if ((rc = wait_running(t, pc->target, err))) return rc;
    b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    snprintf(b->coll, sizeof b->coll, "%s", pc->target);
    b->use_s3 = o->url && *o->url;
    if (b->use_s3 && (rc = vmig_s3_init(&b->s3, o->url, o->endpoint, err))) goto out;
    if ((rc = make_dir(b, o, err))) goto out;
    b->file_max = o->file_bytes ? o->file_bytes : VMIG_BULK_FILE_BYTES;
    b->npy = vmig_milvus_bulk_npy_fits(pc) && !getenv("VMIG_BULK_JSON");
    snprintf(b->pk, sizeof b->pk, "%s", pc->pk_name);
    b->pk_int = pc->pk_type == VMIG_PK_INT64;
    b->pk_width = pc->pk_max_length ? pc->pk_max_length : 36;
    if (b->pk_width > 64) b->pk_width = 64;
    b->nvec = pc->nfields;
    for (size_t v = 0; v < pc->nfields; v++) {
        snprintf(b->vec[v], sizeof b->vec[v], "%s", pc->field[v].dst);
        b->dim[v] = pc->field[v].dim;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(b->tag, sizeof b->tag, "%ld-%lld%03ld", (long)getpid(), (long long)ts.tv_sec,
             ts.tv_nsec / 1000000L);
    b->on = 1;
    b->imported = 1; /* an earlier run may have imported: the final load refreshes */
    vmig_milvus_bulk_free(t->bulk);
    t->bulk = b;
    b = NULL;
    vmig_run_log(t->ctx, VMIG_LOG_INFO,
                 "collection '%s': import files (%s) go to %s (closed at %" PRIu64 " bytes)",
                 pc->target, t->bulk->npy ? "NumPy columns" : "JSON rows",
                 o->url && *o->url ? o->url : t->bulk->dir, t->bulk->file_max);
out:
    vmig_milvus_bulk_free(b);
    return rc;
}

/* The paths of a NumPy set's files under base (the set's directory or key prefix):
 * <pk>.npy, <vector>.npy..., $meta.npy. Returns how many. */
static size_t set_files(const struct vmig_milvus_bulk *b, const char *base, char out[][PATH_MAX])
{
    size_t n = 0;
    snprintf(out[n++], PATH_MAX, "%s/%s.npy", base, b->pk);
    for (size_t v = 0; v < b->nvec; v++)
        snprintf(out[n++], PATH_MAX, "%s/%s.npy", base, b->vec[v]);
    snprintf(out[n++], PATH_MAX, "%s/$meta.npy", base);
    return n;
}
#define SET_MAX (VMIG_MAX_VECTOR_FIELDS + 3)

static void drop_file(const struct vmig_milvus_bulk *b, const struct bfile *f)
{
    if (!f->path[0]) return;
    if (!b->npy) {
        unlink(f->path);
        return;
    }
    char files[SET_MAX][PATH_MAX], tmp[PATH_MAX];
    size_t n = set_files(b, f->path, files);
    for (size_t i = 0; i < n; i++)
        unlink(files[i]);
    snprintf(tmp, sizeof tmp, "%s/meta.tmp", f->path);
    unlink(tmp);
    rmdir(f->path);
}

/* Close the open file(s) without finishing them. */
static void close_handles(struct vmig_milvus_bulk *b)
{
    if (!b->npy && b->f) fclose(b->f);
    if (b->npy) {
        if (b->fpk) fclose(b->fpk);
        for (size_t v = 0; v < b->nvec; v++)
            if (b->fvec[v]) fclose(b->fvec[v]);
        if (b->fmeta) fclose(b->fmeta);
        b->fpk = b->fmeta = NULL;
        memset(b->fvec, 0, sizeof b->fvec);
    }
    b->f = NULL;
}

void vmig_milvus_bulk_free(struct vmig_milvus_bulk *b)
{
    if (!b) return;
    if (b->f) {
        close_handles(b);
        drop_file(b, &b->cur);
    }
    for (size_t i = 0; i < b->nready; i++)
        drop_file(b, &b->ready[i]);
    free(b->ready);
    if (b->staged) rmdir(b->dir);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

int vmig_milvus_bulk_on(const struct vmig_milvus_bulk *b)
{
    if (!b) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&b->mu);
    int on = b->on;
    pthread_mutex_unlock((pthread_mutex_t *)&b->mu);
    return on;
}

uint64_t vmig_milvus_bulk_pending(const struct vmig_milvus_bulk *b)
{
    if (!b) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&b->mu);
    uint64_t n = b->pending;
    pthread_mutex_unlock((pthread_mutex_t *)&b->mu);
    return n;
}

/* ---- NumPy sets ---- */

static FILE *open_npy(const char *dir, const char *field)
{
    char path[PATH_MAX], hdr[VMIG_NPY_HEADER];
    snprintf(path, sizeof path, "%s/%s.npy", dir, field);
    FILE *f = fopen(path, "w");
    memset(hdr, ' ', sizeof hdr); /* rewritten with the row count at close */
    if (f && fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr) {
        fclose(f);
        f = NULL;
    }
    return f;
}

/* Open the next set. Caller holds b->mu. */
static enum vmig_code open_set(struct vmig_milvus_bulk *b, struct vmig_err *err)
{
    char tmp[PATH_MAX];
    memset(&b->cur, 0, sizeof b->cur);
    snprintf(b->cur.name, sizeof b->cur.name, "%s-%s-%u", b->coll, b->tag, b->seq++);
    snprintf(b->cur.path, sizeof b->cur.path, "%s/%s", b->dir, b->cur.name);
    b->meta_max = 1;
    int ok = mkdir(b->cur.path, 0755) == 0;
    if (ok) ok = (b->fpk = open_npy(b->cur.path, b->pk)) != NULL;
    for (size_t v = 0; ok && v < b->nvec; v++)
        ok = (b->fvec[v] = open_npy(b->cur.path, b->vec[v])) != NULL;
    snprintf(tmp, sizeof tmp, "%s/meta.tmp", b->cur.path);
    if (ok) ok = (b->fmeta = fopen(tmp, "w+")) != NULL;
    if (ok) {
        b->f = b->fpk;
        b->cur_bytes = 0;
        return VMIG_OK;
    }
    vmig_err_set(err, VMIG_E_IO, "cannot write import files in '%s': %s", b->cur.path,
                 strerror(errno));
    b->f = b->fpk; /* what close_handles closes */
    close_handles(b);
    drop_file(b, &b->cur);
    return VMIG_E_IO;
}

/* The rows of bt as columns: ids, the vectors' floats as they are, the payloads to
 * meta.tmp (length + UTF-8) until the set closes. Caller holds b->mu. */
static enum vmig_code append_set(struct vmig_milvus_bulk *b, const struct vmig_plan_coll *pc,
                                 const struct vmig_batch *bt, struct vmig_err *err)
{
    int bad = 0;
    uint8_t ubuf[4 * 64];
    for (size_t r = 0; r < bt->n && !bad; r++) {
        const struct vmig_point_id *id = &bt->ids[r];
        char t[VMIG_ID_TEXT_MAX];
        if (b->pk_int) {
            if (id->kind != VMIG_ID_NUM || id->num > INT64_MAX) {
                vmig_point_id_format(id, t);
                vmig_err_set(err, VMIG_E_DATA,
                             "cannot write point %s to an import file of '%s': the id does not "
                             "fit the Int64 primary key",
                             t, pc->target);
                vmig_err_at(err, pc->target, t, NULL);
                return VMIG_E_DATA;
            }
            int64_t v = (int64_t)id->num; /* little-endian hosts ('<i8') */
            bad |= fwrite(&v, sizeof v, 1, b->fpk) != 1;
        } else {
            size_t len = vmig_point_id_format(id, t);
            memset(ubuf, 0, (size_t)b->pk_width * 4);
            vmig_utf8_to_utf32le(t, len, ubuf, b->pk_width);
            bad |= fwrite(ubuf, 4, b->pk_width, b->fpk) != b->pk_width;
        }
        size_t mlen;
        const char *m = vmig_batch_meta_at(bt, r, &mlen);
        if (!mlen) {
            m = "{}";
            mlen = 2;
        }
        uint32_t l32 = (uint32_t)mlen;
        size_t chars = vmig_utf8_to_utf32le(m, mlen, NULL, SIZE_MAX);
        if (chars > b->meta_max) b->meta_max = (uint32_t)chars;
        bad |= fwrite(&l32, sizeof l32, 1, b->fmeta) != 1;
        bad |= fwrite(m, 1, mlen, b->fmeta) != mlen;
        b->cur_bytes += b->pk_int ? 8 : 4u * b->pk_width;
    }
    for (size_t v = 0; v < b->nvec && !bad; v++) {
        const float *x = vmig_batch_dense_at(bt, v, 0);
        for (size_t k = 0; k < (size_t)bt->n * b->dim[v]; k++)
            if (!isfinite(x[k])) {
                char t[VMIG_ID_TEXT_MAX];
                vmig_point_id_format(&bt->ids[k / b->dim[v]], t);
                vmig_err_set(err, VMIG_E_DATA,
                             "cannot write point %s to an import file of '%s': a vector value "
                             "is not finite",
                             t, pc->target);
                vmig_err_at(err, pc->target, t, b->vec[v]);
                return VMIG_E_DATA;
            }
        size_t n = (size_t)bt->n * b->dim[v];
        bad |= fwrite(x, sizeof *x, n, b->fvec[v]) != n;
        b->cur_bytes += n * sizeof *x;
    }
    if (bad)
        return vmig_err_set(err, VMIG_E_IO, "cannot write import files in '%s': %s", b->cur.path,
                            strerror(errno));
    return VMIG_OK;
}

static int finish_npy(FILE *f, const char *descr, uint64_t rows, uint32_t dim)
{
    char hdr[VMIG_NPY_HEADER];
    vmig_npy_header(hdr, descr, rows, dim);
    int bad =
        fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0 || fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr;
    bad |= fclose(f) != 0;
    return bad;
}

/* Finish the set: headers with the row count, $meta.npy from meta.tmp ('<U<longest>'). */
static int close_set(struct vmig_milvus_bulk *b)
{
    char descr[32], path[PATH_MAX];
    int bad = 0;
    if (b->pk_int)
        bad |= finish_npy(b->fpk, "<i8", b->cur.rows, 0);
    else {
        snprintf(descr, sizeof descr, "<U%u", b->pk_width);
        bad |= finish_npy(b->fpk, descr, b->cur.rows, 0);
    }
    for (size_t v = 0; v < b->nvec; v++)
        bad |= finish_npy(b->fvec[v], "<f4", b->cur.rows, b->dim[v]);
    b->fpk = NULL;
    memset(b->fvec, 0, sizeof b->fvec);
    snprintf(path, sizeof path, "%s/$meta.npy", b->cur.path);
    FILE *out = bad ? NULL : fopen(path, "w");
    if (!out) bad = 1;
    if (!bad) {
        snprintf(descr, sizeof descr, "<U%u", b->meta_max);
        char hdr[VMIG_NPY_HEADER];
        vmig_npy_header(hdr, descr, b->cur.rows, 0);
        bad |= fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr;
        bad |= fflush(b->fmeta) != 0 || fseek(b->fmeta, 0, SEEK_SET) != 0;
        size_t cap = (size_t)b->meta_max * 4;
        uint8_t *u = xmalloc(cap);
        char *m = xmalloc(VMIG_JSON_MAX * 4 + 16);
        for (uint64_t r = 0; r < b->cur.rows && !bad; r++) {
            uint32_t l32;
            if (fread(&l32, sizeof l32, 1, b->fmeta) != 1 || l32 > VMIG_JSON_MAX * 4 ||
                fread(m, 1, l32, b->fmeta) != l32) {
                bad = 1;
                break;
            }
            memset(u, 0, cap);
            vmig_utf8_to_utf32le(m, l32, u, b->meta_max);
            bad |= fwrite(u, 1, cap, out) != cap;
        }
        free(u);
        free(m);
    }
    if (out) bad |= fclose(out) != 0;
    fclose(b->fmeta);
    b->fmeta = NULL;
    b->f = NULL;
    snprintf(path, sizeof path, "%s/meta.tmp", b->cur.path);
    unlink(path);
    return bad;
}

/* Open the next file. Caller holds b->mu. */
static enum vmig_code open_file(struct vmig_milvus_bulk *b, struct vmig_err *err)
{
    memset(&b->cur, 0, sizeof b->cur);
    snprintf(b->cur.name, sizeof b->cur.name, "%s-%s-%u.json", b->coll, b->tag, b->seq++);
    snprintf(b->cur.path, sizeof b->cur.path, "%s/%s", b->dir, b->cur.name);
    b->f = fopen(b->cur.path, "w");
    if (b->f && fputs(VMIG_BULK_FILE_HEAD, b->f) >= 0) {
        b->cur_bytes = strlen(VMIG_BULK_FILE_HEAD);
        return VMIG_OK;
    }
    vmig_err_set(err, VMIG_E_IO, "cannot write import file '%s': %s", b->cur.path, strerror(errno));
    if (b->f) fclose(b->f);
    b->f = NULL;
    drop_file(b, &b->cur);
    return VMIG_E_IO;
}

/* Close the open file and queue it for import. Caller holds b->mu. */
static enum vmig_code close_file(struct vmig_milvus_bulk *b, struct vmig_err *err)
{
    if (!b->f) return VMIG_OK;
    int bad;
    if (b->npy) {
        bad = close_set(b);
    } else {
        bad = fputs(VMIG_BULK_FILE_TAIL, b->f) < 0;
        bad |= fclose(b->f) != 0;
        b->f = NULL;
    }
    if (bad) {
        drop_file(b, &b->cur);
        return vmig_err_set(err, VMIG_E_IO, "cannot write import file '%s': %s", b->cur.path,
                            strerror(errno));
    }
    if (b->nready == b->capready) {
        b->capready = b->capready ? 2 * b->capready : 8;
        b->ready = xrealloc(b->ready, b->capready * sizeof *b->ready);
    }
    b->ready[b->nready++] = b->cur;
    memset(&b->cur, 0, sizeof b->cur);
    return VMIG_OK;
}

enum vmig_code vmig_milvus_bulk_append(struct vmig_target *t, const struct vmig_plan_coll *pc,
                                       const struct vmig_batch *bt, int *taken,
                                       struct vmig_err *err)
{
    struct vmig_milvus_bulk *b = t->bulk;
    struct vmig_buf rows = VMIG_BUF_INIT;
    enum vmig_code rc = VMIG_OK;
    *taken = 0;
    if (b->npy) { /* columns: little to encode, written under the lock */
        pthread_mutex_lock(&b->mu);
        if (b->on) {
            *taken = 1;
            /* $meta.npy pads every payload to the longest one: counted as it will be */
            if (b->f && b->cur.rows &&
                b->cur_bytes + b->cur.rows * 4ull * b->meta_max >= b->file_max)
                rc = close_file(b, err);
            if (!rc && !b->f) rc = open_set(b, err);
            if (!rc) rc = append_set(b, pc, bt, err);
            if (!rc) {
                b->cur.rows += bt->n;
                b->pending += bt->n;
            }
        }
        pthread_mutex_unlock(&b->mu);
        return rc;
    }
    /* encoded outside the lock: writers share the file, not the work */
    if ((rc = vmig_milvus_bulk_enc_rows(pc, bt, 0, bt->n, 0, &rows, err))) goto out;
    pthread_mutex_lock(&b->mu);
    if (!b->on) { /* a failed import ended bulk mode meanwhile: the caller sends rows */
        pthread_mutex_unlock(&b->mu);
        goto out;
    }
    *taken = 1;
    /* files stay under the limit: one that this page would take past it is closed first
     * (a single page larger than the limit gets a file of its own) */
    if (b->f && b->cur.rows &&
        b->cur_bytes + rows.len + strlen(VMIG_BULK_FILE_TAIL) > b->file_max &&
        (rc = close_file(b, err)))
        goto unlock;
    if (!b->f && (rc = open_file(b, err))) goto unlock;
    /* every row is encoded after ",\n"; the file's first row goes without it */
    size_t skip = b->cur.rows ? 0 : 2;
    if (rows.len > skip && fwrite(rows.p + skip, 1, rows.len - skip, b->f) != rows.len - skip) {
        rc = vmig_err_set(err, VMIG_E_IO, "cannot write import file '%s': %s", b->cur.path,
                          strerror(errno));
        goto unlock;
    }
    b->cur.rows += bt->n;
    b->cur_bytes += rows.len - skip;
    b->pending += bt->n;
unlock:
    pthread_mutex_unlock(&b->mu);
out:
    vmig_buf_release(&rows);
    return rc;
}

/* Make file (or set) f available to the server; *path receives what Import is to be
 * given (a NumPy set: the directory or key prefix its files are under). */
static enum vmig_code publish(struct vmig_target *t, struct bfile *f, char *path, size_t n,
                              struct vmig_err *err)
{
    struct vmig_milvus_bulk *b = t->bulk;
    enum vmig_code rc = VMIG_OK;
    if (!b->use_s3) {
        snprintf(path, n, "%s", f->path);
        return VMIG_OK;
    }
    snprintf(path, n, "%s%s%s", b->s3.prefix, b->s3.prefix[0] ? "/" : "", f->name);
    if (!b->npy) {
        rc = vmig_s3_put_file(&b->s3, f->name, f->path, vmig_milvus_slow_ms(t), err);
    } else {
        char local[SET_MAX][PATH_MAX], key[SET_MAX][PATH_MAX];
        size_t k = set_files(b, f->path, local);
        set_files(b, f->name, key);
        for (size_t i = 0; i < k && !rc; i++)
            rc = vmig_s3_put_file(&b->s3, key[i], local[i], vmig_milvus_slow_ms(t), err);
    }
    if (rc) return rc;
    drop_file(b, f); /* in the bucket now */
    f->path[0] = 0;
    return VMIG_OK;
}

static enum vmig_code start_import(struct vmig_target *t, const char *name, const char *path,
                                   int64_t *task, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    char what[VMIG_NAME_MAX + PATH_MAX + 64];
    snprintf(what, sizeof what, "cannot import '%s' into collection '%s'", path, name);
    if (t->bulk->npy) { /* one task takes the set: a .npy file per field */
        char files[SET_MAX][PATH_MAX];
        const char *fp[SET_MAX];
        size_t k = set_files(t->bulk, path, files);
        for (size_t i = 0; i < k; i++)
            fp[i] = files[i];
        vmig_milvus_enc_import_files(vmig_milvus_db(t), name, 0, fp, k, &req);
    } else {
        vmig_milvus_enc_import(vmig_milvus_db(t), name, path, &req);
    }
    /* not idempotent: an Import that timed out may have been accepted, and a second one
     * would import the file twice; so one attempt (a rate limit is still waited out: the
     * server refused it), and a failure ends bulk mode (fall_back) */
    struct vmig_retry_policy once = vmig_retry_default;
    once.max_attempts = 1;
    enum vmig_code rc =
        vmig_milvus_rpc(t, "Import", &req, 0, d_import, task, what, name, &once, err);
    vmig_buf_release(&req);
    return rc;
}

struct itask {
    struct bfile f;
    char path[PATH_MAX];
    int64_t task;
    int tries, done;
};

/* Poll every task until each is Completed; a failed one is started again once. */
static enum vmig_code poll_tasks(struct vmig_target *t, const char *name, struct itask *it,
                                 size_t n, struct vmig_err *err)
{
    struct vmig_buf req = VMIG_BUF_INIT;
    struct vmig_wait w;
    char what[VMIG_NAME_MAX + 64], desc[VMIG_NAME_MAX + 64], progress[96];
    enum vmig_code rc = VMIG_OK;
    snprintf(what, sizeof what, "cannot read the import state of collection '%s'", name);
    snprintf(desc, sizeof desc, "the import into collection '%s'", name);
    vmig_wait_init(&w, t->ctx, t->wait_limit_ms);
    for (;;) {
        size_t left = 0;
        uint64_t rows = 0;
        for (size_t i = 0; i < n; i++) {
            if (it[i].done) continue;
            struct vmig_milvus_import_state st;
            vmig_milvus_enc_import_state(it[i].task, &req);
            if ((rc = vmig_milvus_rpc(t, "GetImportState", &req, 0, d_state, &st, what, name, NULL,
                                      err)))
                goto out;
            if (st.state == VMIG_MIMPORT_COMPLETED) {
                it[i].done = 1;
                vmig_run_log(t->ctx, VMIG_LOG_DEBUG,
                             "collection '%s': import task %" PRId64 " completed (%" PRId64
                             " rows of %" PRIu64 ")",
                             name, it[i].task, st.rows, it[i].f.rows);
                continue;
            }
            if (vmig_milvus_import_done(st.state)) { /* failed */
                if (it[i].tries >= 2) {
                    rc = vmig_err_set(err, VMIG_E_REMOTE,
                                      "import of '%s' into collection '%s' failed twice: %s",
                                      it[i].path, name, st.reason[0] ? st.reason : "no reason");
                    vmig_err_at(err, name, NULL, NULL);
                    goto out;
                }
                vmig_run_log(t->ctx, VMIG_LOG_WARN,
                             "collection '%s': import of '%s' failed (%s); trying it once more",
                             name, it[i].path, st.reason[0] ? st.reason : "no reason");
                it[i].tries++;
                if ((rc = start_import(t, name, it[i].path, &it[i].task, err))) goto out;
            }
            left++;
            rows += it[i].f.rows;
        }
        if (!left) break;
        snprintf(progress, sizeof progress, "%zu files (%" PRIu64 " rows) still importing", left,
                 rows);
        if ((rc = vmig_wait_next(&w, desc, progress, "in", err))) goto out;
    }
out:
    vmig_buf_release(&req);
    return rc;
}

/* A failed import: bulk mode ends, the fault counter moves (the engine repeats the pass
 * from the durable offsets, as rows), the files are dropped. Any task of ours that may
 * still run (a sibling, an Import that timed out) is waited for first: it must not land
 * after the Upserts of the repair. */
static enum vmig_code fall_back(struct vmig_target *t, const char *name, struct itask *it, size_t n,
                                const struct vmig_err *why, struct vmig_err *err)
{
    enum vmig_code rc = wait_running(t, name, err);
    if (rc) return rc;
    struct vmig_milvus_bulk *b = t->bulk;
    vmig_run_log(t->ctx, VMIG_LOG_WARN,
                 "collection '%s': bulk import failed (%s); writing rows from the last durable "
                 "point on",
                 name, why->msg);
    pthread_mutex_lock(&b->mu);
    b->on = 0;
    if (b->f) {
        close_handles(b);
        drop_file(b, &b->cur);
    }
    for (size_t i = 0; i < b->nready; i++)
        drop_file(b, &b->ready[i]);
    b->nready = 0;
    b->pending = 0;
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < n; i++)
        drop_file(t->bulk, &it[i].f);
    atomic_fetch_add(&t->faults, 1);
    return VMIG_OK;
}

enum vmig_code vmig_milvus_bulk_flush(struct vmig_target *t, const char *name, struct vmig_err *err)
{
    struct vmig_milvus_bulk *b = t->bulk;
    enum vmig_code rc = VMIG_OK;
    struct itask *it = NULL;
    size_t n = 0;
    uint64_t rows = 0;
    if (!b) return VMIG_OK;
    /* what was appended before this point is what the engine's snapshot holds */
    pthread_mutex_lock(&b->mu);
    if (b->on) rc = close_file(b, err);
    if (!rc && b->nready) {
        n = b->nready;
        it = xcalloc(n, sizeof *it);
        for (size_t i = 0; i < n; i++) {
            it[i].f = b->ready[i];
            rows += it[i].f.rows;
        }
        b->nready = 0;
    }
    pthread_mutex_unlock(&b->mu);
    if (rc || !n) goto out;
    uint64_t t0 = vmig_now_ms();
    struct vmig_err e;
    vmig_err_clear(&e);
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = publish(t, &it[i].f, it[i].path, sizeof it[i].path, &e))) break;
        crash_point("after-upload");
        it[i].tries = 1;
        rc = start_import(t, name, it[i].path, &it[i].task, &e);
        crash_point("after-import");
    }
    if (!rc) rc = poll_tasks(t, name, it, n, &e);
    if (rc == VMIG_E_CANCELLED) {
        *err = e;
        goto out;
    }
    if (rc) {
        /* the fault counter tells the engine; the flush itself is fine */
        rc = fall_back(t, name, it, n, &e, err);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        drop_file(t->bulk, &it[i].f);
    pthread_mutex_lock(&b->mu);
    b->pending -= rows < b->pending ? rows : b->pending;
    b->imported = 1;
    pthread_mutex_unlock(&b->mu);
    vmig_run_log(t->ctx, VMIG_LOG_INFO,
                 "collection '%s': %zu import file%s (%" PRIu64 " rows) imported in %.1f s", name,
                 n, n == 1 ? "" : "s", rows, (double)(vmig_now_ms() - t0) / 1000.0);
out:
    free(it);
    return rc;
}

enum vmig_code vmig_milvus_bulk_refresh(struct vmig_target *t, const char *name,
                                        struct vmig_err *err)
{
    struct vmig_milvus_bulk *b = t->bulk;
    struct vmig_buf req = VMIG_BUF_INIT;
    struct vmig_wait w;
    char what[VMIG_NAME_MAX + 64], desc[VMIG_NAME_MAX + 64], progress[32];
    enum vmig_code rc;
    if (!b || !b->imported) return VMIG_OK;
    snprintf(what, sizeof what, "cannot load the imported rows of collection '%s'", name);
    snprintf(desc, sizeof desc, "the imported rows of collection '%s' to load", name);
    vmig_milvus_enc_load(vmig_milvus_db(t), name, 1, &req);
    rc = vmig_milvus_rpc(t, "LoadCollection", &req, vmig_milvus_slow_ms(t), d_status, NULL, what,
                         name, NULL, err);
    if (rc) goto out;
    vmig_milvus_enc_loading_progress(vmig_milvus_db(t), name, &req);
    vmig_wait_init(&w, t->ctx, t->wait_limit_ms);
    for (;;) {
        int64_t pct = 0;
        if ((rc = vmig_milvus_rpc(t, "GetLoadingProgress", &req, 0, d_refresh, &pct, what, name,
                                  NULL, err)))
            goto out;
        if (pct >= 100) break;
        snprintf(progress, sizeof progress, "%" PRId64 " %%", pct);
        if ((rc = vmig_wait_next(&w, desc, progress, "loaded", err))) goto out;
    }
out:
    vmig_buf_release(&req);
    return rc;
}

/*
 * milvus_bulk.h - Milvus bulk import: the row-based JSON import file codec and the
 * Import / GetImportState / ListImportTasks messages (milvus_bulk_codec.c, pure, unit-
 * tested on bytes), and the import machinery of a target handle (milvus_bulk.c: files
 * streamed to disk, handed to the server's storage, imported and polled at each Flush).
 *
 * File format (Milvus 2.3 and later take it): {"rows":[{...},{...}]}, one object per
 * row with the primary key, each vector as an array of float32 printed with %.9g (which
 * round-trips every float32 exactly), the typed payload fields (null written out, never
 * left out: milvus#39036) and the payload as the "$meta" object.
 */
#ifndef VMIG_TARGET_MILVUS_BULK_H
#define VMIG_TARGET_MILVUS_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "util/buf.h"
#include "vmig/migrate.h"
#include "vmig/types.h"

/* common.ImportState */
enum {
    VMIG_MIMPORT_PENDING = 0,
    VMIG_MIMPORT_FAILED = 1,
    VMIG_MIMPORT_STARTED = 2,
    VMIG_MIMPORT_PERSISTED = 5,
    VMIG_MIMPORT_COMPLETED = 6,
    VMIG_MIMPORT_FAILED_CLEANED = 7,
    VMIG_MIMPORT_FLUSHED = 8,
};
/* The state is final: completed or failed. */
int vmig_milvus_import_done(int state);

/* ---- the JSON row file ---- */

#define VMIG_BULK_FILE_HEAD "{\"rows\":[\n"
#define VMIG_BULK_FILE_TAIL "\n]}\n"

/* Whether pc's shape can go through a JSON row file: dense vectors and the typed field
 * types 2.3 has (no sparse vectors, geometry or timestamptz). 0, or VMIG_E_SCHEMA with
 * the field that cannot. */
enum vmig_code vmig_milvus_bulk_shape(const struct vmig_plan_coll *pc, struct vmig_err *err);

/* Append rows [lo, hi) of b to out as JSON objects, each after ",\n" unless it is the
 * file's first row (first != 0 for row lo). Fails (VMIG_E_DATA, naming the point) on a
 * non-finite vector value or an id that does not fit the primary key. */
enum vmig_code vmig_milvus_bulk_enc_rows(const struct vmig_plan_coll *pc,
                                         const struct vmig_batch *b, size_t lo, size_t hi,
                                         int first, struct vmig_buf *out, struct vmig_err *err);

/* ---- NumPy column files (one .npy per field, a set per import task) ---- */

/* Collections of a primary key and dense vectors only go as NumPy columns: binary
 * float32, parsed by Milvus many times faster than JSON text (bench W1). */
int vmig_milvus_bulk_npy_fits(const struct vmig_plan_coll *pc);
#define VMIG_NPY_HEADER 128 /* fixed size: rewritten in place with the row count at close */
/* A .npy v1.0 header of exactly VMIG_NPY_HEADER bytes: descr ("<f4", "<i8", "<U36"),
 * shape (rows,) or (rows, dim) when dim != 0. */
void vmig_npy_header(char out[VMIG_NPY_HEADER], const char *descr, uint64_t rows, uint32_t dim);
/* UTF-8 text as UTF-32LE code units (numpy's 'U'), at most max_chars; out may be NULL
 * (count only). Returns the number of code points. */
size_t vmig_utf8_to_utf32le(const char *s, size_t n, uint8_t *out, size_t max_chars);

/* ---- the import messages ---- */

/* Import of several files in one task (row_based 0: a set of NumPy columns). */
void vmig_milvus_enc_import_files(const char *db, const char *coll, int row_based,
                                  const char *const *files, size_t n, struct vmig_buf *out);

void vmig_milvus_enc_import(const char *db, const char *coll, const char *file,
                            struct vmig_buf *out);
/* The first task id of an ImportResponse. */
enum vmig_code vmig_milvus_dec_import(const void *p, size_t len, const char *what, int64_t *task,
                                      struct vmig_err *err);
void vmig_milvus_enc_import_state(int64_t task, struct vmig_buf *out);
/* state, rows imported, and the failure reason (infos "failed_reason", may be ""). */
struct vmig_milvus_import_state {
    int64_t id;
    int state;
    int64_t rows;
    char reason[512];
};
enum vmig_code vmig_milvus_dec_import_state(const void *p, size_t len, const char *what,
                                            struct vmig_milvus_import_state *st,
                                            struct vmig_err *err);
void vmig_milvus_enc_list_imports(const char *db, const char *coll, struct vmig_buf *out);
/* How many listed tasks are not final yet (*running), and the id of one (*first). */
enum vmig_code vmig_milvus_dec_list_imports(const void *p, size_t len, const char *what,
                                            size_t *running, int64_t *first, struct vmig_err *err);
void vmig_milvus_enc_loading_progress(const char *db, const char *name, struct vmig_buf *out);
enum vmig_code vmig_milvus_dec_refresh_progress(const void *p, size_t len, const char *what,
                                                int64_t *progress, struct vmig_err *err);

/* ---- the machinery (milvus_bulk.c) ---- */

struct vmig_target;
struct vmig_milvus_bulk;

#endif

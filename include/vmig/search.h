/*
 * search.h - search parity (`vmigrate verify --search N`): N points sampled from
 * the source lend their vectors as queries, each run on both sides (Qdrant exact
 * search; Milvus Search with a high ef, exact on FLAT), and the top-k ids compared
 * per vector field. Exact search on float32 copies should agree completely
 * (overlap 1.0); less says vectors differ, or the Milvus index is approximate
 * (docs/user/cli.md, `verify`).
 */
#ifndef VMIG_SEARCH_H
#define VMIG_SEARCH_H

#include <stdint.h>

#include "vmig/error.h"
#include "vmig/run.h"
#include "vmig/types.h"

#define VMIG_SEARCH_QUERIES_MIN 1 /* --search N */
#define VMIG_SEARCH_QUERIES_MAX 10000
#define VMIG_SEARCH_TOPK_MIN 1 /* --top-k K */
#define VMIG_SEARCH_TOPK_MAX 1024
#define VMIG_SEARCH_TOPK_DEFAULT 10

/* One vector field's figures. Overlap of a query = |A ∩ B| / max(|A|, |B|) for the id
 * lists A (source) and B (target), 1 when both are empty. */
struct vmig_search_field {
    char field[VMIG_NAME_MAX];      /* Milvus field */
    char vector[VMIG_SRC_NAME_MAX]; /* Qdrant vector, "" = the unnamed one */
    int sparse;
    int compared; /* 0: not compared, why says why */
    char why[300];
    uint32_t k;
    uint32_t queries; /* run on both sides */
    uint32_t skipped; /* sampled points without this vector (all zeros / empty) */
    double mean_overlap, min_overlap;
    uint32_t identical; /* queries whose ranked id lists are the same */
    /* Each hit of the source's exact list the target did not return is looked up on
     * both sides: the same vector there = an index miss (an approximate index's recall,
     * not a copying error); absent or different = a difference. A target hit scoring
     * better than the source's k-th hit (beyond rounding) is a difference too (the
     * target holds a vector the source does not). Only differences fail the check. */
    uint32_t index_misses, differences;
    char diff_point[VMIG_ID_TEXT_MAX]; /* the first hit that differs */
    char diff_query[VMIG_ID_TEXT_MAX]; /* the query point it came from */
    /* the largest score difference of a point both sides returned, after putting both
     * in one convention (Milvus L2 is squared, Qdrant Euclid is not); scores_compared 0
     * when no point was returned by both */
    int scores_compared;
    double max_score_diff;
    char worst[VMIG_ID_TEXT_MAX]; /* the point whose vector gave min_overlap */
};
struct vmig_search_result {
    int ran;    /* both sides were reached */
    uint32_t k; /* top-k asked */
    size_t nfields;
    struct vmig_search_field field[VMIG_MAX_VECTOR_FIELDS];
};

/* Search parity of one planned collection: queries points sampled at random from the
 * source (their vectors as queries), top k (0 = VMIG_SEARCH_TOPK_DEFAULT), on every
 * vector field of pc. The target collection is loaded first (waits, bounded). Returns
 * VMIG_OK when no compared field found a difference (overlap below 1.0 made only of
 * index misses is reported, not failed), VMIG_E_VERIFY (err names the collection,
 * field and point) when one did, else the failure. A field the connectors cannot search is "not
 * compared" (why), not an error. */
enum vmig_code vmig_search_coll(const struct vmig_endpoint *src, const struct vmig_endpoint *dst,
                                const struct vmig_plan_coll *pc, int queries, int k,
                                const struct vmig_run_ctx *ctx, struct vmig_search_result *out,
                                struct vmig_err *err);

struct vmig_store;
/* One collection of a job (vmig_job_search). */
struct vmig_job_search_coll {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    enum vmig_code code;
    struct vmig_search_result result;
    struct vmig_err err;
};
struct vmig_job_searched {
    size_t n;
    struct vmig_job_search_coll *coll; /* owned, plan order */
};
void vmig_job_searched_release(struct vmig_job_searched *v);
/* vmig_search_coll for every collection of job id, with its plan, endpoints and
 * secrets (the given ones, NULL = stored). Codes as vmig_job_verify. */
enum vmig_code vmig_job_search(struct vmig_store *s, const char *id, const char *src_secret,
                               const char *dst_secret, int queries, int k,
                               const struct vmig_run_ctx *ctx, struct vmig_job_searched *out,
                               struct vmig_err *err);

#endif

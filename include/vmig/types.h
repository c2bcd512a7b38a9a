/*
 * types.h - the data types every stage of libvmig shares: point ids, the
 * description of a source collection as read from Qdrant, and the plan (the
 * Milvus schema vmigrate will create for it). The plan is public because the
 * CLI, the HTTP API and the console show and edit it.
 */
#ifndef VMIG_TYPES_H
#define VMIG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMIG_NAME_MAX 256         /* Milvus names are <= 255 bytes; +1 for NUL */
#define VMIG_SRC_NAME_MAX 1024    /* Qdrant vector/collection names can be longer */
#define VMIG_SRC_MAX_VECTORS 16   /* more than this in one Qdrant collection is refused */
#define VMIG_MAX_VECTOR_FIELDS 10 /* Milvus proxy.maxVectorFieldNum upper bound */
#define VMIG_DEFAULT_MAX_VECTOR_FIELDS 4
#define VMIG_MAX_DIM 32768
#define VMIG_JSON_MAX 65536       /* Milvus common.JSONMaxLength, per row */
#define VMIG_GRPC_MAX (64u << 20) /* Milvus proxy.grpc.serverMaxRecvSize */
#define VMIG_VARCHAR_MAX 65535

/* ---- point ids ---------------------------------------------------------- */

enum vmig_id_kind { VMIG_ID_NONE = 0, VMIG_ID_NUM = 1, VMIG_ID_UUID = 2 };

/* A Qdrant point id: an unsigned 64-bit integer or a UUID (16 bytes). */
struct vmig_point_id {
    uint8_t kind; /* enum vmig_id_kind */
    uint64_t num;
    uint8_t uuid[16];
};

#define VMIG_ID_TEXT_MAX 40 /* "18446744073709551615" or a 36-char UUID, + NUL */

/* Qdrant's scroll order: every integer before every UUID, integers as u64, UUIDs by bytes.
 * VMIG_ID_NONE sorts after everything (an open upper bound). */
int vmig_point_id_cmp(const struct vmig_point_id *a, const struct vmig_point_id *b);
/* Decimal or canonical lowercase hyphenated UUID. Returns the length written. */
size_t vmig_point_id_format(const struct vmig_point_id *id, char out[VMIG_ID_TEXT_MAX]);
/* Parse a decimal u64 or a UUID (any case, with or without hyphens). 0 on success. */
int vmig_point_id_parse(const char *s, size_t len, struct vmig_point_id *out);

/* ---- the source collection ---------------------------------------------- */

enum vmig_distance {
    VMIG_DIST_NONE = 0,
    VMIG_DIST_COSINE,
    VMIG_DIST_EUCLID,
    VMIG_DIST_DOT,
    VMIG_DIST_MANHATTAN,
};

enum vmig_datatype {
    VMIG_DT_FLOAT32 = 0,
    VMIG_DT_UINT8,
    VMIG_DT_FLOAT16,
    VMIG_DT_OTHER, /* e.g. turbo4: see vmig_src_vector.datatype_name */
};

struct vmig_src_vector {
    char name[VMIG_SRC_NAME_MAX]; /* "" for the unnamed vector */
    int sparse;                   /* a sparse vector (sparse_vectors config) */
    int multivector;              /* multivector_config present */
    uint32_t size;                /* dense dimension; 0 for sparse */
    enum vmig_distance distance;  /* dense only */
    enum vmig_datatype datatype;
    char datatype_name[32]; /* as Qdrant names it, "float32" when absent */
    int hnsw_m, hnsw_ef;    /* per-vector HNSW override, -1 when absent */
    int sparse_idf;         /* sparse modifier "idf" */
};

/* A payload index of the source collection (Qdrant's payload_schema). */
enum vmig_payload_index {
    VMIG_PIDX_NONE = 0, /* not indexed */
    VMIG_PIDX_KEYWORD,
    VMIG_PIDX_INTEGER,
    VMIG_PIDX_FLOAT,
    VMIG_PIDX_GEO,
    VMIG_PIDX_TEXT,
    VMIG_PIDX_BOOL,
    VMIG_PIDX_DATETIME,
    VMIG_PIDX_UUID,
    VMIG_PIDX_OTHER, /* a type this version does not know */
};
#define VMIG_SRC_MAX_INDEXES 64

struct vmig_src_index {
    char key[VMIG_NAME_MAX]; /* the payload key (a top-level key; paths are kept as given) */
    enum vmig_payload_index type;
    uint64_t points; /* points it indexes (that have a value of its type) */
    int is_tenant;   /* keyword/uuid params.is_tenant */
};

struct vmig_profile;

struct vmig_src_coll {
    char name[VMIG_SRC_NAME_MAX];
    int unnamed; /* the single unnamed dense vector form: {"size":..,"distance":..} */
    size_t nvec;
    struct vmig_src_vector vec[VMIG_SRC_MAX_VECTORS];
    int too_many_vectors; /* the config had more than VMIG_SRC_MAX_VECTORS */
    int hnsw_m, hnsw_ef;  /* collection HNSW config, -1 when absent */
    char status[16];      /* green / yellow / grey / red */
    uint64_t points_approx;
    /* strict mode (config.strict_mode_config when enabled), 0 = no limit: the largest
     * page a read may ask for, and read requests per minute the server allows */
    uint32_t max_query_limit, read_rate_limit;
    /* facts about ids, filled by probes (scroll is ordered by id): */
    int ids_probed;
    int has_big_ids; /* some integer id >= 2^63 */
    int has_uuids;   /* some UUID id */
    /* payload indexes (payload_schema), in the order the server lists them */
    size_t nindexes;
    struct vmig_src_index index[VMIG_SRC_MAX_INDEXES];
    int too_many_indexes; /* more than VMIG_SRC_MAX_INDEXES: the rest are not listed */
    /* what `plan --profile` measured (borrowed; NULL = not profiled) */
    const struct vmig_profile *profile;
};

/* ---- the plan: what will be created in Milvus --------------------------- */

enum vmig_pk_type { VMIG_PK_INT64 = 5, VMIG_PK_VARCHAR = 21 }; /* Milvus DataType numbers */
enum vmig_vec_kind { VMIG_VEC_DENSE = 101, VMIG_VEC_SPARSE = 104 };
enum vmig_metric { VMIG_METRIC_COSINE = 0, VMIG_METRIC_IP, VMIG_METRIC_L2 };
enum vmig_null_policy { VMIG_NULL_FAIL = 0, VMIG_NULL_DROP, VMIG_NULL_KEEP };
enum vmig_conflict_policy { VMIG_CONFLICT_FAIL = 0, VMIG_CONFLICT_PREFIX };
enum vmig_index_kind { VMIG_INDEX_AUTO = 0, VMIG_INDEX_HNSW };

struct vmig_plan_field {
    char src[VMIG_SRC_NAME_MAX]; /* Qdrant vector name ("" = unnamed) */
    char dst[VMIG_NAME_MAX];     /* Milvus field name */
    enum vmig_vec_kind kind;
    uint32_t dim; /* dense only */
    enum vmig_metric metric;
    enum vmig_datatype src_datatype; /* float16/uint8 are converted exactly to float32 */
    int hnsw_m, hnsw_ef;             /* effective Qdrant HNSW params, -1 unknown */
};

/* A typed payload field: one top-level payload key stored in its own Milvus column
 * instead of the dynamic field (docs/user/mapping.md, "Typed payload fields"). */
enum vmig_scalar_type {                   /* Milvus DataType numbers */
                        VMIG_SC_NONE = 0, /* not typed: the key stays in $meta */
                        VMIG_SC_BOOL = 1,
                        VMIG_SC_INT64 = 5,
                        VMIG_SC_DOUBLE = 11,
                        VMIG_SC_VARCHAR = 21,
                        VMIG_SC_ARRAY = 22,
                        VMIG_SC_JSON = 23,
                        VMIG_SC_GEOMETRY =
                            24, /* WKT POINT(lon lat); Milvus Lite 3.x, Milvus 2.6+ */
                        VMIG_SC_TIMESTAMPTZ =
                            26, /* UTC microseconds; Milvus Lite 3.x, Milvus 2.6+ */
};
enum vmig_scalar_index {
    VMIG_SIDX_NONE = 0,
    VMIG_SIDX_INVERTED,
    VMIG_SIDX_STL_SORT,
    VMIG_SIDX_BITMAP,
    VMIG_SIDX_TRIE,
    VMIG_SIDX_AUTO, /* AUTOINDEX */
};
/* A value that does not fit its typed field (wrong type, too long, out of range). */
enum vmig_misfit_policy { VMIG_MISFIT_DYNAMIC = 0, VMIG_MISFIT_REJECT, VMIG_MISFIT_FAIL };

#define VMIG_MAX_SCALAR_FIELDS 48 /* Milvus allows 64 fields per collection in all */
#define VMIG_ARRAY_MAX_CAPACITY 4096

struct vmig_plan_scalar {
    char src[VMIG_NAME_MAX]; /* the top-level payload key */
    char dst[VMIG_NAME_MAX]; /* Milvus field name */
    enum vmig_scalar_type type;
    enum vmig_scalar_type elem; /* ARRAY only: BOOL, INT64, DOUBLE or VARCHAR */
    uint32_t max_length;        /* VARCHAR, or ARRAY of VARCHAR: bytes */
    uint32_t max_capacity;      /* ARRAY */
    int nullable;
    int has_default;        /* default_value (nullable fields; Milvus >= 2.5) */
    char default_json[256]; /* the default as a JSON value of the field's type */
    enum vmig_scalar_index index;
    enum vmig_payload_index from_index; /* the Qdrant payload index it came from, or NONE */
    int partition_key;
};

#define VMIG_PLAN_NOTES 24

struct vmig_plan_coll {
    char source[VMIG_SRC_NAME_MAX];
    char target[VMIG_NAME_MAX];
    char description[1024];
    char pk_name[VMIG_NAME_MAX]; /* "id" */
    enum vmig_pk_type pk_type;
    uint32_t pk_max_length; /* VarChar only */
    size_t nfields;
    struct vmig_plan_field field[VMIG_MAX_VECTOR_FIELDS];
    size_t nskipped;
    char skipped[VMIG_SRC_MAX_VECTORS][VMIG_SRC_NAME_MAX]; /* source vectors left out */
    size_t nnotes;
    char notes[VMIG_PLAN_NOTES][256]; /* human-readable remarks (conversions, renames) */
    enum vmig_null_policy null_policy;
    enum vmig_conflict_policy conflict_policy;
    char conflict_prefix[32]; /* "payload_" */
    enum vmig_index_kind index;
    /* typed payload fields, in the order of the schema after the vectors */
    size_t nscalars;
    struct vmig_plan_scalar scalar[VMIG_MAX_SCALAR_FIELDS];
    enum vmig_misfit_policy misfit;
    uint32_t num_partitions; /* with a partition key: 1..1024 (Milvus's default 16) */
    size_t nuntyped;         /* indexed keys left in $meta, and why (in notes) */
    /* state seen when the plan was made */
    uint64_t source_count; /* exact, when counted */
    int target_exists;     /* the target collection already exists */
    /* refusal: code != VMIG_OK means this collection cannot be migrated as planned */
    struct vmig_err refusal;
};

/* ---- what the target server can hold ------------------------------------- */

enum vmig_feature {
    VMIG_FEAT_MULTI_VECTOR = 0, /* more than one vector field per collection */
    VMIG_FEAT_SPARSE,           /* SPARSE_FLOAT_VECTOR fields */
    VMIG_FEAT_FLOAT16,          /* FLOAT16_VECTOR / BFLOAT16_VECTOR fields */
    VMIG_FEAT_NULLABLE,         /* nullable scalar fields */
    VMIG_FEAT_DEFAULT_VALUE,    /* default values of scalar fields */
    VMIG_FEAT_JSON_PATH_INDEX,  /* indexes on a path inside a JSON field */
    VMIG_FEAT_INVERTED,         /* the INVERTED scalar index */
    VMIG_FEAT_BITMAP,           /* the BITMAP scalar index */
    VMIG_FEAT_SORT_INDEX,       /* STL_SORT (numbers) and Trie (VarChar) scalar indexes */
    VMIG_FEAT_TIMESTAMPTZ,      /* TIMESTAMPTZ fields */
    VMIG_FEAT_GEOMETRY,         /* GEOMETRY fields */
    VMIG_FEAT_COUNT
};

/* Filled by the target connector's probe from what the server reports; the plan is
 * checked against it before anything is created. */
struct vmig_target_caps {
    char product[32]; /* "Milvus", "Milvus Lite", "Zilliz Cloud" */
    char version[64]; /* as the server reports it, e.g. "v2.3.5-lite" */
    char release[32]; /* the release it is (or is compatible with), "2.3.5"; "" unknown */
    int known;        /* 0: not recognised; planned as the newest Milvus (a note says so) */
    unsigned has;     /* bit (1u << enum vmig_feature) per feature it holds */
    char since[VMIG_FEAT_COUNT][16]; /* first release of product with it; "" = none */
};

struct vmig_plan {
    size_t n;
    struct vmig_plan_coll *coll;    /* owned */
    struct vmig_profile **profile;  /* owned, n entries (NULL = not profiled), or NULL */
    struct vmig_target_caps target; /* the server the plan was checked against */
};

/* ---- endpoints ------------------------------------------------------------ */

/* Where to connect. All strings are borrowed. */
struct vmig_endpoint {
    const char *url;    /* http://host:port or https://host:port */
    const char *secret; /* Qdrant API key or Milvus token (user:password / API key); never logged */
    const char *db;     /* Milvus database; NULL or "" = default */
    const char *ca_file; /* extra CA bundle for https */
    int insecure;        /* skip TLS verification (self-signed test servers) */
    int timeout_ms;      /* per request; 0 = default (60 s) */
    int compress;        /* ask for compressed responses (slow links only) */
    int wait_s;          /* bound on each wait for the server (index build, load); 0 = 3600 */
};

#ifdef __cplusplus
}
#endif
#endif

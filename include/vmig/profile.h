/*
 * profile.h - what vmigrate measured of a collection's payloads before planning
 * (`plan --profile`): per top-level payload key the JSON types seen, how many
 * points have it, nulls, string lengths, integer range, arrays and nesting; and
 * the estimate of the copy made from it. The plan's typed fields are sized from
 * it (max_length, max_capacity, nullable); it is shown by every face and kept in
 * the plan's JSON. Memory is bounded: at most VMIG_PROFILE_KEYS keys are tracked,
 * the rest are only counted.
 */
#ifndef VMIG_PROFILE_H
#define VMIG_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* JSON value types, one bit each in vmig_profile_key.types / elem_types */
enum vmig_json_type {
    VMIG_JT_NULL = 0,
    VMIG_JT_BOOL,
    VMIG_JT_INT,   /* an integer literal (no fraction, no exponent) */
    VMIG_JT_FLOAT, /* any other number */
    VMIG_JT_STRING,
    VMIG_JT_ARRAY,
    VMIG_JT_OBJECT,
    VMIG_JT_COUNT
};

#define VMIG_PROFILE_KEYS 256
#define VMIG_PROFILE_DISTINCT 32

struct vmig_profile_key {
    char key[VMIG_NAME_MAX]; /* a top-level payload key (longer keys are not tracked) */
    uint64_t present;        /* points that have the key, null values included */
    uint64_t nulls;          /* of those, points whose value is null */
    unsigned types;          /* 1u << enum vmig_json_type of each value seen */
    unsigned elem_types;     /* the same for the elements of array values */
    uint32_t str_max; /* longest string value or string element, in bytes (unescaped UTF-8) */
    int has_int;      /* int_min/int_max hold integer values or elements seen */
    int64_t int_min, int_max;
    uint64_t int_big; /* integers outside the int64 range */
    uint32_t arr_max; /* most elements of an array value */
    uint32_t depth;   /* deepest nesting: 0 scalar, 1 array/object of scalars, ... */
    uint64_t bytes;   /* JSON text bytes of its values */
    /* distinct scalar values (strings, numbers, bools: their JSON text) seen, counted
     * up to VMIG_PROFILE_DISTINCT, then distinct_over is set: a key of few values
     * (a category, a status) is better served by a BITMAP index */
    uint32_t distinct;
    int distinct_over;
    uint64_t value_hash[VMIG_PROFILE_DISTINCT]; /* FNV-1a of the values counted */
};

/* The estimate of a copy, from the profile and the plan. */
struct vmig_estimate {
    uint64_t read_bytes;   /* bytes to read from the source */
    uint64_t write_bytes;  /* bytes to write to the target */
    uint64_t vector_bytes; /* target storage: vectors */
    uint64_t scalar_bytes; /* target storage: typed payload fields */
    uint64_t meta_bytes;   /* target storage: $meta */
    double read_pps;       /* points per second measured while profiling */
    double copy_s;         /* expected copy time at that rate */
};

struct vmig_profile {
    int full;               /* every point was read, else a sample */
    uint64_t points;        /* points read */
    uint64_t total;         /* points in the collection (exact count) */
    uint64_t payload_bytes; /* payload JSON bytes of the points read */
    uint64_t vector_bytes;  /* vector bytes of the points read, as written to Milvus */
    uint64_t wire_bytes;    /* bytes read from the source for them (0 unknown) */
    double read_s;          /* wall time of the reads */
    uint64_t other_keys;    /* key occurrences not tracked (table full or key too long) */
    uint64_t malformed;     /* payloads that were not one JSON object (counted, skipped) */
    uint64_t sparse_bytes;  /* of vector_bytes, the sparse rows' (Milvus encoding) */
    size_t nkeys;
    struct vmig_profile_key key[VMIG_PROFILE_KEYS];
    struct vmig_estimate est;
};

struct vmig_plan_coll;
struct vmig_buf;

/* An empty profile (caller-owned storage; it holds no heap memory). */
void vmig_profile_init(struct vmig_profile *p);
/* Fold one point's payload in: the JSON object text as the batch holds it (keys as the
 * source codec wrote them, conflict prefix included). Any bytes are taken: a payload
 * that is not one well-formed JSON object counts in points and malformed only;
 * len 0 is a point without payload. */
void vmig_profile_add(struct vmig_profile *p, const char *json, size_t len);
/* The profile's entry of key, NULL when it was not seen. */
const struct vmig_profile_key *vmig_profile_find(const struct vmig_profile *p, const char *key);
/* Fill p->est from the facts (a sample scaled to p->total) and the plan of the collection
 * (vector dims, primary key; pc may be NULL). */
void vmig_profile_estimate(struct vmig_profile *p, const struct vmig_plan_coll *pc);
/* The profile as JSON (docs/user/mapping.md, "profile"); malloc'd, caller frees. */
char *vmig_profile_to_json(const struct vmig_profile *p, int pretty);
/* Parse that JSON into out (initialised here). VMIG_E_USAGE naming the key on a
 * malformed document. */
enum vmig_code vmig_profile_from_json(const char *text, struct vmig_profile *out,
                                      struct vmig_err *err);
/* The readable table (one line per key) and the estimate, appended to out. */
void vmig_profile_describe(const struct vmig_profile *p, struct vmig_buf *out);
/* Profile the payloads of collection sc (as described by the source) at src: its exact
 * count, then the first `sample` points in scroll order (0 = every point), one page in
 * memory at a time, through the source connector vmigrate copies with. out is
 * initialised here; out->full is set when the scroll reached the end. */
enum vmig_code vmig_profile_run(const struct vmig_endpoint *src, const struct vmig_src_coll *sc,
                                uint64_t sample, struct vmig_profile *out, struct vmig_err *err);
/* "full" or "first N": how the points were chosen, into buf (returned). */
const char *vmig_profile_sample_name(const struct vmig_profile *p, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

/*
 * plan.h - the mapping stage: from the description of a Qdrant collection
 * (struct vmig_src_coll, filled by the source connector) to the Milvus schema
 * vmigrate will create for it (struct vmig_plan_coll), with the user's edits
 * applied, Milvus's real limits enforced, and the plan's JSON form.
 *
 * Everything here is pure: no I/O, no logging. A collection that cannot be
 * migrated as planned still gets a plan as complete as possible, with the reason
 * in plan_coll.refusal, so the preview can show both. The rules and their
 * rationale are in docs/internals/MAPPING.md; the JSON formats in
 * docs/user/mapping.md.
 */
#ifndef VMIG_PLAN_H
#define VMIG_PLAN_H

#include <stddef.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmig_buf;

/* ---- options and edits ------------------------------------------------------ */

enum vmig_edit_kind {
    VMIG_EDIT_TARGET_NAME = 0, /* --target-name SRC=DST */
    VMIG_EDIT_DESCRIPTION,     /* --description SRC=TEXT */
    VMIG_EDIT_RENAME,          /* --rename SRC.FIELD=NEW */
    VMIG_EDIT_SKIP_VECTOR,     /* --skip-vector SRC.VECTOR or VECTOR */
    VMIG_EDIT_FIELD,           /* --field SRC.KEY=TYPE[:OPTIONS] | dynamic (typed payload) */
};

/* One edit as given on the command line. key is "SRC", "SRC.FIELD", "SRC.VECTOR"
 * or "VECTOR"; collection and vector names may themselves contain '.', so the
 * split is resolved against the real names when a plan is built. */
struct vmig_map_edit {
    enum vmig_edit_kind kind;
    char *key;   /* owned */
    char *value; /* owned; NULL for skip-vector */
    int used;    /* set by vmig_plan_coll_build() when the edit matched */
};

struct vmig_map_opts {
    int max_vector_fields; /* 0 = VMIG_DEFAULT_MAX_VECTOR_FIELDS; 1..VMIG_MAX_VECTOR_FIELDS */
    enum vmig_null_policy nulls;
    enum vmig_conflict_policy conflict;
    enum vmig_index_kind index;
    enum vmig_misfit_policy misfit; /* a payload value that does not fit its typed field */
    const char *source_url; /* borrowed; for the default description, credentials stripped */
    const struct vmig_target_caps *target; /* borrowed; NULL = the newest Milvus */
    size_t nedits;
    struct vmig_map_edit *edits; /* owned; filled by vmig_map_opts_add() */
    /* `plan --profile`: vmig_plan_make() profiles each collection's payloads first */
    int profile;
    uint64_t profile_sample; /* points read; 0 = --full (every point) */
};

#define VMIG_PROFILE_SAMPLE_DEFAULT 10000 /* --sample when only --profile is given */

/* Zeroed, with profile_sample VMIG_PROFILE_SAMPLE_DEFAULT (profile itself off). */
void vmig_map_opts_init(struct vmig_map_opts *o);
/* Add an edit given as on the command line. kind is "target-name", "description",
 * "rename" or "skip-vector"; value is copied. VMIG_E_USAGE with a clear message when
 * the value is malformed, or when the same target-name/description/rename is given
 * twice. The new name itself is checked when the plan is built (it may be valid for
 * one collection and collide in another). */
enum vmig_code vmig_map_opts_add(struct vmig_map_opts *o, const char *kind, const char *value,
                                 struct vmig_err *err);
/* Add a skip-vector edit "SRC.VECTOR" for each vector pc skips (used to rebuild the
 * fresh plan that an edited plan file is checked against). */
void vmig_map_opts_add_skips_of(struct vmig_map_opts *o, const struct vmig_plan_coll *pc);
void vmig_map_opts_release(struct vmig_map_opts *o);

/* ---- policy words (one table each; every face parses with these) -------------- */

/* Names as plan files write them: "fail"/"drop"/"keep", "fail"/"prefix",
 * "AUTOINDEX"/"HNSW". */
const char *vmig_null_policy_name(enum vmig_null_policy p);
const char *vmig_conflict_policy_name(enum vmig_conflict_policy p);
const char *vmig_index_kind_name(enum vmig_index_kind k);
/* Parse a word, any case ("auto" is AUTOINDEX): 0 and *out, or -1 for another word
 * (the caller's message names its own flag or field and lists the _words()). */
int vmig_null_policy_parse(const char *s, enum vmig_null_policy *out);
int vmig_conflict_policy_parse(const char *s, enum vmig_conflict_policy *out);
int vmig_index_kind_parse(const char *s, enum vmig_index_kind *out);
/* The accepted words for messages, "fail, drop or keep", into buf (returned). */
const char *vmig_null_policy_words(char *buf, size_t n);
const char *vmig_conflict_policy_words(char *buf, size_t n);
const char *vmig_index_kind_words(char *buf, size_t n);
/* A face's policy words (each may be NULL: not given): --null-values,
 * --payload-conflict, --index, --payload-misfit or their API fields. */
struct vmig_policy_words {
    const char *nulls, *conflict, *index, *misfit;
};
#define VMIG_POLICY_WORDS 4
/* Parse them once: each given word is stored into mo (which may be NULL: only checked).
 * 0 when every given word is taken, else 1..4 (which one, in the struct's order;
 * nothing stored) with the words its table takes in list, for the face's message
 * naming its own flag or field. */
int vmig_policy_check(const struct vmig_policy_words *w, struct vmig_map_opts *mo, char *list,
                      size_t n);

/* ---- typed payload fields (scalars.c) ---------------------------------------- */

/* Words of the plan file and the flags: "INT64", "VARCHAR", ...; "INVERTED",
 * "STL_SORT", ...; Qdrant's "keyword", ...; "dynamic"/"reject"/"fail". Parsers take any
 * case; 0 on success, -1 for another word. */
const char *vmig_scalar_type_name(enum vmig_scalar_type t);
int vmig_scalar_type_parse(const char *s, size_t n, enum vmig_scalar_type *out);
const char *vmig_scalar_index_name(enum vmig_scalar_index x);
int vmig_scalar_index_parse(const char *s, size_t n, enum vmig_scalar_index *out);
const char *vmig_payload_index_name(enum vmig_payload_index x);
int vmig_payload_index_parse(const char *s, enum vmig_payload_index *out);
const char *vmig_misfit_policy_name(enum vmig_misfit_policy p);
int vmig_misfit_policy_parse(const char *s, enum vmig_misfit_policy *out);
/* "VARCHAR(64)", "ARRAY<INT64>[16]" */
void vmig_scalar_type_text(const struct vmig_plan_scalar *s, char *out, size_t n);
/* Check pc's typed fields against Milvus's rules and the target tc (NULL = newest):
 * names, sizes, nullable/default support, index types, the one partition key. The
 * first problem → VMIG_E_USAGE in err (about the payload key, fix
 * VMIG_FIX_TYPED_FIELD). */
enum vmig_code vmig_plan_scalars_check(const struct vmig_plan_coll *pc,
                                       const struct vmig_target_caps *tc, struct vmig_err *err);
/* The typed field of payload key key, NULL when it stays in $meta. */
const struct vmig_plan_scalar *vmig_plan_scalar_of(const struct vmig_plan_coll *pc,
                                                   const char *key);

/* ---- building --------------------------------------------------------------- */

/* Build the plan of one collection. Always fills out completely (out is
 * overwritten; it owns no heap memory) and returns out->refusal.code: VMIG_OK,
 * VMIG_E_SCHEMA (the source shape cannot be mapped), VMIG_E_USAGE (an edit or
 * option is invalid for this collection). The only thing written through o is
 * edits[].used (so the builds of one opts must not run concurrently). */
enum vmig_code vmig_plan_coll_build(const struct vmig_src_coll *src, const struct vmig_map_opts *o,
                                    struct vmig_plan_coll *out);

/* Record whether pc->target already exists in Milvus (the caller asks). When it
 * does and pc is not refused for another reason, pc->refusal becomes VMIG_E_EXISTS. */
void vmig_plan_coll_set_target_exists(struct vmig_plan_coll *pc, int exists);

/* After building every collection: edits that matched no collection/field →
 * VMIG_E_USAGE naming the first such edit. */
enum vmig_code vmig_map_opts_check_unused(const struct vmig_map_opts *o, struct vmig_err *err);

/* Across the plan: two collections mapped to the same target name are both
 * refused (VMIG_E_SCHEMA, or kept if already refused). Returns the first code. */
enum vmig_code vmig_plan_check_targets(struct vmig_plan *p);

/* ---- names (Milvus rules, docs/internals/MAPPING.md) ----------------------- */

/* Collection name: [A-Za-z_][A-Za-z0-9_]*, 1..255 bytes. */
int vmig_name_is_valid(const char *name);
/* Field name: the same, and not a Milvus expression keyword ("and", "in", "$meta"...). */
int vmig_field_name_is_valid(const char *name);
/* NULL when valid, else the violated rule as a phrase ("must start with a letter or
 * '_'"), for messages. field selects the field-name rule. */
const char *vmig_name_problem(const char *name, int field);

/* One change to a planned collection (plan_edit.c), as a retry makes it: kind
 * "target-name" (value: the new name), "skip-vector" (the source vector), "index",
 * "null-values", "payload-conflict", "payload-misfit" (a policy word) or "max-vector-fields" (a
 * number the plan's vectors must fit). *schema is set to 1 when the change alters the target
 * collection itself (name, fields, index), left alone otherwise. VMIG_E_USAGE (or
 * VMIG_E_SCHEMA) naming the collection and what is wrong; pc unchanged then. */
enum vmig_code vmig_plan_coll_edit(struct vmig_plan_coll *pc, const char *kind, const char *value,
                                   int *schema, struct vmig_err *err);
/* Make a valid name: each invalid character (a whole UTF-8 sequence counts as one)
 * becomes '_', a leading digit gets a '_' prefix, "" becomes "_", the result is cut
 * to 255 bytes. */
void vmig_name_sanitize(const char *in, char out[VMIG_NAME_MAX]);
/* The same for field names; a keyword gets a '_' suffix. */
void vmig_field_name_sanitize(const char *in, char out[VMIG_NAME_MAX]);

/* ---- JSON ---------------------------------------------------------------------- */

/* The plan as JSON (docs/user/mapping.md); malloc'd, caller frees. */
char *vmig_plan_to_json(const struct vmig_plan *p, int pretty);
char *vmig_plan_coll_to_json(const struct vmig_plan_coll *pc, int pretty);
/* Parse a plan file. out is initialised here and owns its collections (release with
 * vmig_plan_release(), also after a failure). Unknown keys are refused (typos in a
 * hand-edited file must not pass silently); VMIG_E_USAGE with the JSON path. */
enum vmig_code vmig_plan_from_json(const char *text, struct vmig_plan *out, struct vmig_err *err);
void vmig_plan_release(struct vmig_plan *p);

/* Check a plan collection edited by the user (from a plan file) against a fresh plan
 * of the same source, built with the same skips (vmig_map_opts_add_skips_of()) and
 * --max-vector-fields. Allowed changes: target name, description, field and primary
 * key names, HNSW m/ef_construct, null/conflict/index options. Anything else
 * (a type, dim, metric, primary key type, the set of vectors) → VMIG_E_USAGE. A fresh
 * plan refused for VMIG_E_SCHEMA cannot be fixed by editing: that refusal is returned.
 * The caller fills edited->target_exists for the edited target name first; when set →
 * VMIG_E_EXISTS. */
enum vmig_code vmig_plan_coll_check_edit(const struct vmig_plan_coll *fresh,
                                         const struct vmig_plan_coll *edited, struct vmig_err *err);

/* The source collection as JSON: the CLI's `collections --json` output and the unit
 * tests' input. from_json: VMIG_E_USAGE with the JSON path on a malformed document. */
char *vmig_src_coll_to_json(const struct vmig_src_coll *src, int pretty);
enum vmig_code vmig_src_coll_from_json(const char *text, struct vmig_src_coll *out,
                                       struct vmig_err *err);

/* Short stable name of a code for JSON ("schema", "exists", "usage", ...), and back
 * (VMIG_E_INTERNAL for an unknown name). */
const char *vmig_code_json_name(enum vmig_code code);
enum vmig_code vmig_code_from_json_name(const char *name);

/* ---- preview -------------------------------------------------------------------- */

/* Human-readable preview of one collection's plan, appended to out. */
void vmig_plan_coll_describe(const struct vmig_plan_coll *pc, struct vmig_buf *out);

#ifdef __cplusplus
}
#endif
#endif

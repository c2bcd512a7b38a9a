/*
 * mapping_int.h - helpers shared by the files of the mapping stage (plan.c,
 * names.c, plan_json.c); not part of the library's API.
 */
#ifndef VMIG_MAPPING_INT_H
#define VMIG_MAPPING_INT_H

#include <stddef.h>

#include "vmig/plan.h"

/* Milvus field-name keyword, any casing. */
int vmig_name_is_keyword(const char *name);
/* If name equals one of taken[], append "_2", "_3", ... (cutting the base so the
 * result stays <= 255 bytes) until it is unique. */
void vmig_name_unique(char name[VMIG_NAME_MAX], const char *const *taken, size_t ntaken);
/* Copy in to out (outsz bytes), cut with "..." when longer: names in messages. */
void vmig_name_shorten(const char *in, char *out, size_t outsz);

/* Text forms shared by the JSON codec and the preview. */
const char *vmig_metric_name(enum vmig_metric m);
const char *vmig_datatype_name(enum vmig_datatype dt);

/* plan.c's refusal and note of a collection plan (field: the source vector or
 * payload key it is about, NULL = the collection); refuse returns pc's code. */
enum vmig_code vmig_plan_refuse(struct vmig_plan_coll *pc, const char *field, enum vmig_code code,
                                enum vmig_fix fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void vmig_plan_note(struct vmig_plan_coll *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "COLL.FIELD" → FIELD when COLL is coll, else NULL */
const char *vmig_plan_field_part(const char *key, const char *coll);
/* Mark an edit as matched (the one write through const opts, see plan.h). */
void vmig_plan_mark_used(const struct vmig_map_edit *e);

/* scalars.c: propose and edit the typed payload fields of pc (after its vectors). */
void vmig_plan_scalars(const struct vmig_src_coll *src, const struct vmig_map_opts *o,
                       struct vmig_plan_coll *pc);

/* The payload profile as a jansson value, and back (profile_json.c): plan_json.c embeds
 * it as a collection's "profile"; path names the document's place in messages. */
struct vmig_profile;
struct json_t;
struct json_t *vmig_profile_json(const struct vmig_profile *p);
enum vmig_code vmig_profile_read_json(struct json_t *o, const char *path, struct vmig_profile *p,
                                      struct vmig_err *err);

#endif

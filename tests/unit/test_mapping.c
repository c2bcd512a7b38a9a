/*
 * test_mapping.c - unit tests of the mapping stage (include/vmig/plan.h).
 *
 * Most cases are data: each tests/data/mapping/TOPIC.json holds an array of cases
 * {"name", "source": <source collection JSON>, "options": {...}, "expect": <subset
 * of the plan collection JSON>, "error": {"code", "message_contains"}, ...} (the
 * format is described in tests/data/mapping/README.md), one cmocka test per case.
 * Every case also checks that the source and plan JSON round-trip exactly. A few
 * hand-written tests cover what does not fit the data form (names, option
 * parsing, cross-collection checks, the preview).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "target/milvus_caps.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "vmig/plan.h"

/* ---- data-driven cases ------------------------------------------------------------ */

struct dcase {
    char name[256];
    json_t *c; /* the case object */
};

static int report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(fmt, ap);
    va_end(ap);
    print_error("\n");
    return 1;
}

/* expect ⊆ actual: objects by key (subset), arrays element-wise with equal length,
 * scalars equal. "notes_contain": [s...] asks each s to be a substring of a note. */
static int match(json_t *expect, json_t *actual, const char *path)
{
    char sub[512];
    if (json_is_object(expect)) {
        const char *k;
        json_t *v;
        if (!json_is_object(actual)) return report("%s: expected an object", path);
        json_object_foreach(expect, k, v)
        {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            if (strcmp(k, "notes_contain") == 0) {
                size_t i;
                json_t *s;
                json_t *notes = json_object_get(actual, "notes");
                json_array_foreach(v, i, s)
                {
                    int found = 0;
                    size_t j;
                    json_t *n;
                    json_array_foreach(notes, j, n)
                    {
                        if (strstr(json_string_value(n), json_string_value(s))) found = 1;
                    }
                    if (!found) {
                        char *d = json_dumps(notes, 0);
                        report("%s: no note contains '%s' (notes: %s)", sub, json_string_value(s),
                               d);
                        free(d);
                        return 1;
                    }
                }
                continue;
            }
            json_t *a = json_object_get(actual, k);
            if (!a) return report("%s: missing", sub);
            if (match(v, a, sub)) return 1;
        }
        return 0;
    }
    if (json_is_array(expect)) {
        size_t i;
        json_t *v;
        if (!json_is_array(actual) || json_array_size(actual) != json_array_size(expect))
            return report("%s: expected an array of %zu", path, json_array_size(expect));
        json_array_foreach(expect, i, v)
        {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (match(v, json_array_get(actual, i), sub)) return 1;
        }
        return 0;
    }
    if (!json_equal(expect, actual)) {
        char *e = json_dumps(expect, JSON_ENCODE_ANY), *a = json_dumps(actual, JSON_ENCODE_ANY);
        report("%s: expected %s, got %s", path, e, a);
        free(e);
        free(a);
        return 1;
    }
    return 0;
}

/* {"code":"schema","message_contains":"..."} against a code and message */
/* want: {"code", "message_contains", "fix"} (each optional; fix is the way out's word) */
static int match_error_fix(json_t *want, enum vmig_code code, enum vmig_fix fix, const char *msg,
                           const char *what)
{
    const char *wc = json_string_value(json_object_get(want, "code"));
    const char *wm = json_string_value(json_object_get(want, "message_contains"));
    const char *wf = json_string_value(json_object_get(want, "fix"));
    if (wc && strcmp(wc, vmig_code_json_name(code)) != 0)
        return report("%s: expected code %s, got %s: %s", what, wc, vmig_code_json_name(code), msg);
    if (wf && strcmp(wf, vmig_fix_name(fix)) != 0)
        return report("%s: expected the way out '%s', got '%s': %s", what, wf, vmig_fix_name(fix),
                      msg);
    if (wm && !strstr(msg, wm))
        return report("%s: message '%s' does not contain '%s'", what, msg, wm);
    return 0;
}

static int match_error(json_t *want, enum vmig_code code, const char *msg, const char *what)
{
    return match_error_fix(want, code, VMIG_FIX_NONE, msg, what);
}

static void strarr_add(struct vmig_map_opts *o, json_t *opts, const char *key, const char *kind)
{
    size_t i;
    json_t *v;
    struct vmig_err err;
    json_array_foreach(json_object_get(opts, key), i, v)
    {
        vmig_err_clear(&err);
        assert_int_equal(vmig_map_opts_add(o, kind, json_string_value(v), &err), VMIG_OK);
    }
}

static struct vmig_target_caps case_caps; /* options.target_version of the running case */

static void opts_from_json(struct vmig_map_opts *o, json_t *opts)
{
    const char *s;
    vmig_map_opts_init(o);
    if (!opts) return;
    if ((s = json_string_value(json_object_get(opts, "target_version")))) {
        vmig_milvus_caps(s, json_is_true(json_object_get(opts, "target_zilliz")), &case_caps);
        o->target = &case_caps;
    }
    o->max_vector_fields = (int)json_integer_value(json_object_get(opts, "max_vector_fields"));
    o->source_url = json_string_value(json_object_get(opts, "source_url"));
    if ((s = json_string_value(json_object_get(opts, "null_values"))))
        o->nulls = !strcmp(s, "drop")   ? VMIG_NULL_DROP
                   : !strcmp(s, "keep") ? VMIG_NULL_KEEP
                                        : VMIG_NULL_FAIL;
    if ((s = json_string_value(json_object_get(opts, "payload_conflict"))))
        o->conflict = !strcmp(s, "prefix") ? VMIG_CONFLICT_PREFIX : VMIG_CONFLICT_FAIL;
    if ((s = json_string_value(json_object_get(opts, "index"))))
        o->index = !strcmp(s, "HNSW") ? VMIG_INDEX_HNSW : VMIG_INDEX_AUTO;
    strarr_add(o, opts, "target_name", "target-name");
    strarr_add(o, opts, "description", "description");
    strarr_add(o, opts, "rename", "rename");
    strarr_add(o, opts, "skip_vector", "skip-vector");
}

/* deep merge: objects by key, arrays of the same length element-wise (an array of
 * another length replaces), null deletes a key */
static void merge(json_t *dst, json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v)
    {
        json_t *d = json_object_get(dst, k);
        if (json_is_null(v)) {
            json_object_del(dst, k);
        } else if (d && json_is_object(d) && json_is_object(v)) {
            merge(d, v);
        } else if (d && json_is_array(d) && json_is_array(v) &&
                   json_array_size(d) == json_array_size(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (json_is_object(e))
                    merge(json_array_get(d, i), e);
                else
                    json_array_set(d, i, e);
            }
        } else {
            json_object_set(dst, k, v);
        }
    }
}

static void run_case(void **state)
{
    struct dcase *dc = *state;
    json_t *c = dc->c, *j;
    struct vmig_src_coll src, src2;
    struct vmig_map_opts o;
    struct vmig_plan_coll pc;
    struct vmig_plan plan = {.n = 1, .coll = &pc}, back;
    struct vmig_err err;
    int bad = 0;

    /* source JSON: parse, and round-trip */
    char *stext = json_dumps(json_object_get(c, "source"), 0);
    vmig_err_clear(&err);
    if (vmig_src_coll_from_json(stext, &src, &err) != VMIG_OK) {
        report("%s: source: %s", dc->name, err.msg);
        fail();
    }
    free(stext);
    char *s1 = vmig_src_coll_to_json(&src, 0);
    assert_int_equal(vmig_src_coll_from_json(s1, &src2, &err), VMIG_OK);
    char *s2 = vmig_src_coll_to_json(&src2, 0);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);

    json_t *opts = json_object_get(c, "options");
    opts_from_json(&o, opts);
    enum vmig_code rc = vmig_plan_coll_build(&src, &o, &pc);
    if (opts && json_is_true(json_object_get(opts, "target_exists")))
        vmig_plan_coll_set_target_exists(&pc, 1);
    assert_int_equal(rc == VMIG_OK, pc.refusal.code == VMIG_OK || pc.refusal.code == VMIG_E_EXISTS);

    char *ptext = vmig_plan_coll_to_json(&pc, 1);
    json_t *actual = json_loads(ptext, 0, NULL);
    assert_non_null(actual);

    if ((j = json_object_get(c, "error"))) {
        if (pc.refusal.code == VMIG_OK)
            bad |= report("%s: expected a refusal", dc->name);
        else
            bad |= match_error_fix(j, pc.refusal.code, pc.refusal.fix, pc.refusal.msg, dc->name);
    } else if (pc.refusal.code != VMIG_OK) {
        bad |= report("%s: unexpected refusal (%s): %s", dc->name,
                      vmig_code_json_name(pc.refusal.code), pc.refusal.msg);
    }
    if ((j = json_object_get(c, "expect"))) bad |= match(j, actual, dc->name);
    if ((j = json_object_get(c, "unused_error"))) {
        vmig_err_clear(&err);
        rc = vmig_map_opts_check_unused(&o, &err);
        bad |= match_error(j, rc, err.msg, "unused edits");
    } else {
        vmig_err_clear(&err);
        if (vmig_map_opts_check_unused(&o, &err) != VMIG_OK)
            bad |= report("%s: %s", dc->name, err.msg);
    }

    /* plan JSON round trip */
    char *p1 = vmig_plan_to_json(&plan, 0);
    vmig_err_clear(&err);
    if (vmig_plan_from_json(p1, &back, &err) != VMIG_OK)
        bad |= report("%s: plan_from_json: %s", dc->name, err.msg);
    else {
        char *p2 = vmig_plan_to_json(&back, 0);
        if (strcmp(p1, p2) != 0) bad |= report("round trip:\n%s\n%s", p1, p2);
        free(p2);
    }
    vmig_plan_release(&back);
    free(p1);

    /* an edited plan file checked against a fresh plan of the same source */
    if ((j = json_object_get(c, "edit"))) {
        json_t *root = json_pack("{s:[O]}", "collections", actual);
        merge(json_array_get(json_object_get(root, "collections"), 0), j);
        char *etext = json_dumps(root, 0);
        json_decref(root);
        struct vmig_plan edited;
        struct vmig_plan_coll fresh;
        struct vmig_map_opts fo;
        vmig_err_clear(&err);
        rc = vmig_plan_from_json(etext, &edited, &err);
        if (rc == VMIG_OK) {
            vmig_map_opts_init(&fo);
            fo.max_vector_fields = o.max_vector_fields;
            fo.target = o.target;
            vmig_map_opts_add_skips_of(&fo, &edited.coll[0]);
            vmig_plan_coll_build(&src, &fo, &fresh);
            vmig_map_opts_release(&fo);
            rc = vmig_plan_coll_check_edit(&fresh, &edited.coll[0], &err);
        }
        json_t *want = json_object_get(c, "edit_error");
        if (want)
            bad |= match_error(want, rc, err.msg, "edit");
        else if (rc != VMIG_OK)
            bad |= report("%s: edit refused: %s", dc->name, err.msg);
        vmig_plan_release(&edited);
        free(etext);
    }

    if (bad) print_error("plan:\n%s\n", ptext);
    free(ptext);
    json_decref(actual);
    vmig_map_opts_release(&o);
    if (bad) fail();
}

/* ---- hand-written tests ------------------------------------------------------------- */

/* what each reported version can hold (target/milvus_caps.c) */
static void target_caps(void **state)
{
    struct vmig_target_caps c;
#define HAS(f) ((c.has >> (f)) & 1u)
    vmig_milvus_caps("v2.3.5-lite", 0, &c); /* PyPI `milvus`: the embedded real server */
    assert_string_equal(c.product, "Milvus");
    assert_string_equal(c.release, "2.3.5");
    assert_true(c.known);
    assert_false(HAS(VMIG_FEAT_MULTI_VECTOR) || HAS(VMIG_FEAT_SPARSE) || HAS(VMIG_FEAT_FLOAT16));
    assert_string_equal(c.since[VMIG_FEAT_SPARSE], "2.4.0");
    vmig_milvus_caps("v2.4.0", 0, &c);
    assert_true(HAS(VMIG_FEAT_MULTI_VECTOR) && HAS(VMIG_FEAT_SPARSE) && HAS(VMIG_FEAT_FLOAT16));
    assert_false(HAS(VMIG_FEAT_NULLABLE) || HAS(VMIG_FEAT_DEFAULT_VALUE));
    vmig_milvus_caps("v2.5.10", 0, &c);
    assert_true(HAS(VMIG_FEAT_NULLABLE) && !HAS(VMIG_FEAT_JSON_PATH_INDEX));
    vmig_milvus_caps("2.5.11", 0, &c);
    assert_true(HAS(VMIG_FEAT_JSON_PATH_INDEX));
    vmig_milvus_caps("v3.0.0-beta", 0, &c);
    assert_true(c.known && c.has == (1u << VMIG_FEAT_COUNT) - 1);
    vmig_milvus_caps("milvus_lite-3.2.2", 0, &c);
    assert_string_equal(c.product, "Milvus Lite");
    assert_true(HAS(VMIG_FEAT_MULTI_VECTOR) && HAS(VMIG_FEAT_SPARSE) && !HAS(VMIG_FEAT_FLOAT16));
    assert_string_equal(c.since[VMIG_FEAT_FLOAT16], ""); /* no Lite release has it */
    vmig_milvus_caps("", 0, &c);
    assert_false(c.known);
    assert_true(c.has == (1u << VMIG_FEAT_COUNT) - 1);
    vmig_milvus_caps("v1.1.0", 0, &c);
    assert_false(c.known);
    assert_true(
        vmig_milvus_url_is_zilliz("https://in03-ab.serverless.gcp-us-west1.cloud.zilliz.com"));
    assert_true(
        vmig_milvus_url_is_zilliz("https://in01-x.aws-us-west-2.vectordb.zillizcloud.com:19530"));
    assert_false(vmig_milvus_url_is_zilliz("https://zilliz.com.example.org"));
    assert_false(vmig_milvus_url_is_zilliz("http://127.0.0.1:19530"));
#undef HAS
}

static void names(void **state)
{
    char out[VMIG_NAME_MAX];
    assert_true(vmig_name_is_valid("docs_2024"));
    assert_true(vmig_name_is_valid("_x"));
    assert_false(vmig_name_is_valid("1st"));
    assert_false(vmig_name_is_valid("my-vec"));
    assert_false(vmig_name_is_valid(""));
    assert_true(vmig_name_is_valid("and"));
    assert_false(vmig_field_name_is_valid("and"));
    assert_false(vmig_field_name_is_valid("NULL"));
    assert_false(vmig_field_name_is_valid("$meta"));
    assert_string_equal(vmig_name_problem("a b", 1), "may contain only letters, digits and '_'");
    vmig_name_sanitize("my-vec", out);
    assert_string_equal(out, "my_vec");
    vmig_name_sanitize("1st", out);
    assert_string_equal(out, "_1st");
    vmig_name_sanitize("caf\xc3\xa9 \xe6\x96\x87", out); /* "café 文": one '_' per character */
    assert_string_equal(out, "caf___");
    vmig_name_sanitize("", out);
    assert_string_equal(out, "_");
    vmig_field_name_sanitize("in", out);
    assert_string_equal(out, "in_");
    vmig_field_name_sanitize("$meta", out);
    assert_string_equal(out, "_meta");
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    vmig_name_sanitize(longname, out);
    assert_int_equal(strlen(out), 255);
    assert_true(vmig_name_is_valid(out));
}

static void opts_parsing(void **state)
{
    struct vmig_map_opts o;
    struct vmig_err err;
    vmig_map_opts_init(&o);
    assert_int_equal(vmig_map_opts_add(&o, "target-name", "a=b", &err), VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "target-name", "a=c", &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "given twice"));
    assert_int_equal(vmig_map_opts_add(&o, "target-name", "a", &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "--target-name expects COLLECTION=NEW_NAME"));
    assert_int_equal(vmig_map_opts_add(&o, "target-name", "=b", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_add(&o, "description", "a=x = y", &err), VMIG_OK);
    assert_string_equal(o.edits[1].key, "a");
    assert_string_equal(o.edits[1].value, "x = y");
    assert_int_equal(vmig_map_opts_add(&o, "description", "b=", &err), VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "rename", "a=b", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_add(&o, "rename", "a.=b", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_add(&o, "rename", "a.v=", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_add(&o, "rename", "a.b.c=d", &err), VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "skip-vector", "", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_add(&o, "skip-vector", "colbert", &err), VMIG_OK);
    assert_int_equal(vmig_map_opts_add(&o, "frobnicate", "x", &err), VMIG_E_USAGE);
    assert_int_equal(vmig_map_opts_check_unused(&o, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "no source collection 'a'"));
    vmig_map_opts_release(&o);
}

static void simple_src(struct vmig_src_coll *s, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->unnamed = 1;
    s->nvec = 1;
    s->vec[0].size = 8;
    s->vec[0].distance = VMIG_DIST_COSINE;
    s->vec[0].hnsw_m = s->vec[0].hnsw_ef = -1;
    s->hnsw_m = s->hnsw_ef = -1;
    s->ids_probed = 1;
}

static void target_collisions(void **state)
{
    struct vmig_src_coll a, b;
    struct vmig_map_opts o;
    struct vmig_plan_coll pcs[2];
    struct vmig_plan p = {.n = 2, .coll = pcs};
    simple_src(&a, "my-docs");
    simple_src(&b, "my_docs");
    vmig_map_opts_init(&o);
    assert_int_equal(vmig_plan_coll_build(&a, &o, &pcs[0]), VMIG_OK);
    assert_int_equal(vmig_plan_coll_build(&b, &o, &pcs[1]), VMIG_OK);
    assert_int_equal(vmig_plan_check_targets(&p), VMIG_E_SCHEMA);
    assert_non_null(strstr(pcs[0].refusal.msg, "would both become Milvus collection 'my_docs'"));
    assert_int_equal(pcs[1].refusal.code, VMIG_E_SCHEMA);
    vmig_map_opts_release(&o);
}

static void description_url(void **state)
{
    struct vmig_src_coll a;
    struct vmig_map_opts o;
    struct vmig_plan_coll pc;
    simple_src(&a, "docs");
    vmig_map_opts_init(&o);
    o.source_url = "https://admin:s3cret@qdrant.example:6333/?api-key=k#x";
    vmig_plan_coll_build(&a, &o, &pc);
    assert_string_equal(pc.description, "Migrated by vmigrate from Qdrant collection 'docs' at "
                                        "https://qdrant.example:6333/");
    o.source_url = "http://localhost:6333";
    vmig_plan_coll_build(&a, &o, &pc);
    assert_string_equal(
        pc.description,
        "Migrated by vmigrate from Qdrant collection 'docs' at http://localhost:6333");
    vmig_map_opts_release(&o);
}

/* A refusal names its collection and vector in fields, kept through a plan file. */
static void refusal_subject(void **state)
{
    (void)state;
    struct vmig_src_coll a;
    struct vmig_map_opts o;
    struct vmig_plan p;
    memset(&p, 0, sizeof p);
    simple_src(&a, "docs");
    snprintf(a.vec[0].name, sizeof a.vec[0].name, "image");
    a.vec[0].distance = VMIG_DIST_MANHATTAN;
    vmig_map_opts_init(&o);
    p.n = 1;
    p.coll = xcalloc(1, sizeof *p.coll);
    vmig_plan_coll_build(&a, &o, &p.coll[0]);
    assert_int_equal(p.coll[0].refusal.code, VMIG_E_SCHEMA);
    assert_string_equal(p.coll[0].refusal.coll, "docs");
    assert_string_equal(p.coll[0].refusal.field, "image");
    assert_string_equal(p.coll[0].refusal.point, "");
    char *js = vmig_plan_to_json(&p, 0);
    struct vmig_plan back;
    struct vmig_err err;
    vmig_err_clear(&err);
    assert_int_equal(vmig_plan_from_json(js, &back, &err), VMIG_OK);
    assert_string_equal(back.coll[0].refusal.coll, "docs");
    assert_string_equal(back.coll[0].refusal.field, "image");
    free(js);
    vmig_plan_release(&back);
    vmig_plan_release(&p);
    vmig_map_opts_release(&o);
}

static void preview(void **state)
{
    struct vmig_src_coll a;
    struct vmig_map_opts o;
    struct vmig_plan_coll pc;
    struct vmig_buf b;
    simple_src(&a, "docs");
    a.vec[0].distance = VMIG_DIST_MANHATTAN;
    vmig_map_opts_init(&o);
    vmig_plan_coll_build(&a, &o, &pc);
    vmig_buf_init(&b, 0);
    vmig_plan_coll_describe(&pc, &b);
    assert_non_null(strstr(b.p, "collection 'docs' -> Milvus collection 'docs'  [REFUSED]"));
    assert_non_null(strstr(b.p, "refused (schema): collection 'docs': the unnamed vector uses "
                                "Manhattan distance"));
    a.vec[0].distance = VMIG_DIST_DOT;
    a.vec[0].datatype = VMIG_DT_UINT8;
    vmig_plan_coll_build(&a, &o, &pc);
    vmig_buf_reset(&b);
    vmig_plan_coll_describe(&pc, &b);
    assert_non_null(strstr(b.p, "FLOAT_VECTOR(8)"));
    assert_non_null(strstr(b.p, "from the unnamed vector (uint8, converted exactly)"));
    assert_null(strstr(b.p, "REFUSED"));
    vmig_buf_release(&b);
    vmig_map_opts_release(&o);
}

static void plan_file_errors(void **state)
{
    struct vmig_plan p;
    struct vmig_err err;
    assert_int_equal(vmig_plan_from_json("{", &p, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "cannot read plan"));
    vmig_plan_release(&p);
    assert_int_equal(vmig_plan_from_json("{\"collections\":[{\"source\":\"a\",\"target\":\"a\","
                                         "\"descripton\":\"x\"}]}",
                                         &p, &err),
                     VMIG_E_USAGE);
    assert_string_equal(err.msg, "collections[0].descripton: unknown key");
    vmig_plan_release(&p);
    assert_int_equal(
        vmig_plan_from_json("{\"collections\":[{\"source\":\"a\",\"target\":\"a\",\"primary_key\":"
                            "{\"name\":\"id\",\"type\":\"Int64\"},\"vectors\":[{\"source\":\"\","
                            "\"field\":\"vector\",\"type\":\"FLOAT_VECTOR\",\"metric\":\"L1\","
                            "\"dim\":4}]}]}",
                            &p, &err),
        VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "collections[0].vectors[0].metric: must be one of"));
    vmig_plan_release(&p);
    assert_int_equal(vmig_plan_from_json("{\"collections\":[]}", &p, &err), VMIG_OK);
    assert_int_equal(p.n, 0);
    vmig_plan_release(&p);
}

/* ---- policy words: one table each, for every face -------------------------------- */

static void policy_words(void **state)
{
    (void)state;
    enum vmig_null_policy np;
    enum vmig_conflict_policy cp;
    enum vmig_index_kind ik;
    char w[64];
    assert_int_equal(vmig_null_policy_parse("Drop", &np), 0);
    assert_int_equal(np, VMIG_NULL_DROP);
    assert_int_equal(vmig_null_policy_parse("sometimes", &np), -1);
    assert_int_equal(vmig_null_policy_parse(NULL, &np), -1);
    assert_int_equal(vmig_conflict_policy_parse("prefix", &cp), 0);
    assert_int_equal(cp, VMIG_CONFLICT_PREFIX);
    assert_int_equal(vmig_index_kind_parse("auto", &ik), 0);
    assert_int_equal(ik, VMIG_INDEX_AUTO);
    assert_int_equal(vmig_index_kind_parse("hnsw", &ik), 0);
    assert_int_equal(ik, VMIG_INDEX_HNSW);
    assert_string_equal(vmig_index_kind_name(VMIG_INDEX_AUTO), "AUTOINDEX");
    assert_string_equal(vmig_null_policy_name(VMIG_NULL_KEEP), "keep");
    assert_string_equal(vmig_null_policy_words(w, sizeof w), "fail, drop or keep");
    assert_string_equal(vmig_conflict_policy_words(w, sizeof w), "fail or prefix");
    struct vmig_map_opts mo;
    vmig_map_opts_init(&mo);
    mo.conflict = VMIG_CONFLICT_PREFIX;
    assert_int_equal(
        vmig_policy_check(&(struct vmig_policy_words){"keep", "fail", "HNSW", "reject"}, &mo, w,
                          sizeof w),
        0);
    assert_int_equal(mo.nulls, VMIG_NULL_KEEP); /* parsed once, stored */
    assert_int_equal(mo.conflict, VMIG_CONFLICT_FAIL);
    assert_int_equal(mo.index, VMIG_INDEX_HNSW);
    assert_int_equal(mo.misfit, VMIG_MISFIT_REJECT);
    mo.nulls = VMIG_NULL_DROP;
    assert_int_equal(vmig_policy_check(&(struct vmig_policy_words){NULL, "suffix", NULL, NULL}, &mo,
                                       w, sizeof w),
                     2);
    assert_int_equal(mo.nulls, VMIG_NULL_DROP); /* not given, or a bad word: nothing stored */
    assert_string_equal(w, "fail or prefix");
    assert_int_equal(
        vmig_policy_check(&(struct vmig_policy_words){NULL, NULL, "ivf", NULL}, NULL, w, sizeof w),
        3);
    assert_string_equal(w, "AUTOINDEX, HNSW or auto");
    assert_int_equal(
        vmig_policy_check(&(struct vmig_policy_words){NULL, NULL, NULL, "keep"}, NULL, w, sizeof w),
        4);
    assert_string_equal(w, "dynamic, reject or fail");
}

/* ---- runner ------------------------------------------------------------------------- */

/* a retry's changes to a planned collection (plan_edit.c): which ones remake the target */
static void retry_edits(void **state)
{
    (void)state;
    static struct vmig_plan_coll pc;
    memset(&pc, 0, sizeof pc);
    snprintf(pc.source, sizeof pc.source, "docs");
    snprintf(pc.target, sizeof pc.target, "docs");
    pc.nfields = 2;
    snprintf(pc.field[0].src, sizeof pc.field[0].src, "text");
    snprintf(pc.field[1].src, sizeof pc.field[1].src, "image");
    struct vmig_err err;
    int schema = 0;
    vmig_err_clear(&err);
    assert_int_equal(vmig_plan_coll_edit(&pc, "null-values", "drop", &schema, &err), VMIG_OK);
    assert_int_equal(pc.null_policy, VMIG_NULL_DROP);
    assert_int_equal(vmig_plan_coll_edit(&pc, "payload-conflict", "prefix", &schema, &err),
                     VMIG_OK);
    assert_int_equal(vmig_plan_coll_edit(&pc, "target-name", "docs", &schema, &err), VMIG_OK);
    assert_int_equal(schema, 0); /* policies and the same name: the checkpoint stays */
    assert_int_equal(vmig_plan_coll_edit(&pc, "null-values", "often", &schema, &err),
                     VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "fail, drop or keep"));
    assert_int_equal(vmig_plan_coll_edit(&pc, "target-name", "docs-v2", &schema, &err),
                     VMIG_E_USAGE);
    assert_int_equal(err.fix, VMIG_FIX_TARGET_NAME);
    assert_string_equal(pc.target, "docs");
    assert_int_equal(vmig_plan_coll_edit(&pc, "max-vector-fields", "1", &schema, &err),
                     VMIG_E_SCHEMA);
    assert_int_equal(err.fix, VMIG_FIX_SKIP_VECTOR);
    assert_int_equal(schema, 0);
    assert_int_equal(vmig_plan_coll_edit(&pc, "skip-vector", "image", &schema, &err), VMIG_OK);
    assert_int_equal(schema, 1);
    assert_int_equal(pc.nfields, 1);
    assert_string_equal(pc.field[0].src, "text");
    assert_int_equal(pc.nskipped, 1);
    assert_string_equal(pc.skipped[0], "image");
    assert_int_equal(vmig_plan_coll_edit(&pc, "max-vector-fields", "1", &schema, &err), VMIG_OK);
    assert_int_equal(vmig_plan_coll_edit(&pc, "skip-vector", "text", &schema, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "only vector field"));
    assert_int_equal(vmig_plan_coll_edit(&pc, "skip-vector", "audio", &schema, &err),
                     VMIG_E_USAGE);
    assert_string_equal(err.field, "audio");
    schema = 0;
    assert_int_equal(vmig_plan_coll_edit(&pc, "target-name", "docs_v2", &schema, &err), VMIG_OK);
    assert_int_equal(schema, 1);
    assert_string_equal(pc.target, "docs_v2");
    assert_int_equal(vmig_plan_coll_edit(&pc, "rename", "x=y", &schema, &err), VMIG_E_USAGE);
}

int main(void)
{
    const char *root = getenv("VMIG_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data/mapping", root ? root : ".");
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(policy_words),
        cmocka_unit_test(opts_parsing),
        cmocka_unit_test(target_caps),
        cmocka_unit_test(target_collisions),
        cmocka_unit_test(description_url),
        cmocka_unit_test(preview),
        cmocka_unit_test(refusal_subject),
        cmocka_unit_test(plan_file_errors),
        cmocka_unit_test(retry_edits),
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0], n = nfixed, cap = 64;
    struct CMUnitTest *tests = calloc(cap, sizeof *tests);
    struct dcase *cases = calloc(512, sizeof *cases);
    size_t ncases = 0;
    json_t *files = json_array();
    memcpy(tests, fixed, sizeof fixed);

    struct dirent **ents;
    int nents = scandir(dir, &ents, NULL, alphasort);
    if (nents < 0) {
        fprintf(stderr, "cannot read %s\n", dir);
        return 1;
    }
    for (int e = 0; e < nents; e++) {
        const char *fn = ents[e]->d_name;
        size_t l = strlen(fn);
        if (l > 5 && strcmp(fn + l - 5, ".json") == 0) {
            char path[1300];
            json_error_t je;
            snprintf(path, sizeof path, "%s/%s", dir, fn);
            json_t *arr = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_array(arr)) {
                fprintf(stderr, "%s:%d: %s\n", path, je.line, arr ? "not an array" : je.text);
                return 1;
            }
            json_array_append_new(files, arr);
            size_t i;
            json_t *c;
            json_array_foreach(arr, i, c)
            {
                struct dcase *dc = &cases[ncases++];
                snprintf(dc->name, sizeof dc->name, "%.*s: %s", (int)(l - 5), fn,
                         json_string_value(json_object_get(c, "name")));
                dc->c = c;
                if (n == cap) tests = realloc(tests, (cap *= 2) * sizeof *tests);
                tests[n] = (struct CMUnitTest){dc->name, run_case, NULL, NULL, dc};
                n++;
            }
        }
        free(ents[e]);
    }
    free(ents);
    int rc = _cmocka_run_group_tests("mapping", tests, n, NULL, NULL);
    json_decref(files);
    free(cases);
    free(tests);
    return rc;
}

/*
 * test_qdrant_grpc_codec.c - the gRPC codec held to the REST scanner's fixtures.
 *
 * Every scroll fixture of tests/data/qdrant/scroll whose page is valid JSON is turned
 * into the protobuf answer a Qdrant server sends for the same points - in the
 * pre-1.17 wire format (deprecated data / indices / vectors_count), in the 1.17+
 * format (the oneof), and in the 1.17+ format with the empty dense placeholders of
 * hybrid collections - by a protobuf writer of this file (not the generated code the
 * codec uses), then decoded by vmig_qgrpc_scan_page(). The dump must equal the
 * fixture's expectation: the same rows, vectors and rejects, payloads equal as JSON
 * values (the REST scanner copies number text, gRPC carries doubles), and for a
 * point that cannot be migrated the same error, subject and way out. Fixtures about
 * JSON syntax (malformed, truncated) have no gRPC counterpart and are skipped, each
 * named in a skip list (any other skipped fixture fails); the 2^64-1 id fixture,
 * which jansson cannot read, is built by hand (big_and_uuid_ids).
 * Then: request encodings read back, small answers, doubles, and a mutation fuzz of
 * the decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "batch/batch.h"
#include "fake/fixture.h"
#include "qdrant.pb-c.h"
#include "source/qdrant_grpc_codec.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json_canon.h"
#include "vmig/inputs.h"

/* ---- a small protobuf writer ---------------------------------------------- */

static void varint(struct vmig_buf *b, uint64_t v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) c |= 0x80;
        vmig_buf_addch(b, (char)c);
    } while (v);
}

static void tag(struct vmig_buf *b, unsigned field, unsigned wt)
{
    varint(b, field << 3 | wt);
}

static void bytes_field(struct vmig_buf *b, unsigned field, const void *p, size_t n)
{
    tag(b, field, 2);
    varint(b, n);
    vmig_buf_add(b, p, n);
}

/* A submessage: sub's bytes under field. */
static void msg_field(struct vmig_buf *b, unsigned field, const struct vmig_buf *sub)
{
    bytes_field(b, field, sub->p, sub->len);
}

static void packed_floats(struct vmig_buf *b, unsigned field, const float *v, size_t n)
{
    bytes_field(b, field, v, n * sizeof *v); /* little-endian hosts */
}

static void packed_u32(struct vmig_buf *b, unsigned field, const uint32_t *v, size_t n)
{
    struct vmig_buf s = VMIG_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        varint(&s, v[i]);
    msg_field(b, field, &s);
    vmig_buf_release(&s);
}

/* ---- JSON (the fixture's page) to protobuf -------------------------------- */

enum fmt { OLD = 0, NEW = 1, NEW_PLACEHOLDER = 2 };

static void value(struct vmig_buf *b, json_t *v);

static void map_entry(struct vmig_buf *b, unsigned field, const char *key, json_t *v)
{
    struct vmig_buf e = VMIG_BUF_INIT, val = VMIG_BUF_INIT;
    bytes_field(&e, 1, key, strlen(key));
    value(&val, v);
    msg_field(&e, 2, &val);
    msg_field(b, field, &e);
    vmig_buf_release(&e);
    vmig_buf_release(&val);
}

/* Value (json_with_int.proto) as Qdrant's json_to_proto makes it. */
static void value(struct vmig_buf *b, json_t *v)
{
    struct vmig_buf s = VMIG_BUF_INIT;
    if (json_is_null(v)) {
        tag(b, 1, 0);
        varint(b, 0);
    } else if (json_is_integer(v)) {
        tag(b, 3, 0);
        varint(b, (uint64_t)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        tag(b, 2, 1);
        vmig_buf_add(b, &d, 8);
    } else if (json_is_string(v)) {
        bytes_field(b, 4, json_string_value(v), json_string_length(v));
    } else if (json_is_boolean(v)) {
        tag(b, 5, 0);
        varint(b, json_is_true(v));
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) map_entry(&s, 1, k, x);
        msg_field(b, 6, &s);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            struct vmig_buf e = VMIG_BUF_INIT;
            value(&e, x);
            msg_field(&s, 1, &e);
            vmig_buf_release(&e);
        }
        msg_field(b, 7, &s);
    }
    vmig_buf_release(&s);
}

static size_t floats_of(json_t *a, float *out, size_t cap)
{
    size_t i, n = 0;
    json_t *x;
    json_array_foreach(a, i, x) if (n < cap) out[n++] = (float)json_number_value(x);
    return n;
}

/* VectorOutput of one JSON vector (dense array, multivector array of arrays, or
 * sparse {indices, values}). */
static void vector_output(struct vmig_buf *b, json_t *v, enum fmt f)
{
    static float fl[65536];
    static uint32_t ix[65536];
    struct vmig_buf s = VMIG_BUF_INIT;
    if (json_is_object(v)) { /* sparse */
        size_t nv = floats_of(json_object_get(v, "values"), fl, 65536), ni = 0, i;
        json_t *x;
        json_array_foreach(json_object_get(v, "indices"), i, x) ix[ni++] =
            (uint32_t)json_number_value(x);
        if (f == OLD) {
            packed_floats(b, 1, fl, nv);
            struct vmig_buf si = VMIG_BUF_INIT;
            packed_u32(&si, 1, ix, ni);
            msg_field(b, 2, &si);
            vmig_buf_release(&si);
        } else {
            packed_floats(&s, 1, fl, nv);
            packed_u32(&s, 2, ix, ni);
            msg_field(b, 102, &s);
        }
    } else if (json_is_array(json_array_get(v, 0))) { /* multivector */
        size_t n = 0, rows = json_array_size(v), i;
        json_t *row;
        if (f == OLD) {
            json_array_foreach(v, i, row) n += floats_of(row, fl + n, 65536 - n);
            packed_floats(b, 1, fl, n);
            tag(b, 3, 0);
            varint(b, rows);
        } else {
            json_array_foreach(v, i, row)
            {
                struct vmig_buf d = VMIG_BUF_INIT;
                packed_floats(&d, 1, fl, floats_of(row, fl, 65536));
                msg_field(&s, 1, &d);
                vmig_buf_release(&d);
            }
            msg_field(b, 103, &s);
        }
    } else {
        size_t n = floats_of(v, fl, 65536);
        if (f == OLD) {
            if (n) packed_floats(b, 1, fl, n);
        } else {
            if (n) packed_floats(&s, 1, fl, n);
            msg_field(b, 101, &s);
        }
    }
    vmig_buf_release(&s);
}

static void named_entry(struct vmig_buf *nv, const char *name, json_t *v, enum fmt f)
{
    struct vmig_buf e = VMIG_BUF_INIT, vo = VMIG_BUF_INIT;
    bytes_field(&e, 1, name, strlen(name));
    vector_output(&vo, v, f);
    msg_field(&e, 2, &vo);
    msg_field(nv, 1, &e);
    vmig_buf_release(&e);
    vmig_buf_release(&vo);
}

static void point_id(struct vmig_buf *b, unsigned field, json_t *id)
{
    struct vmig_buf p = VMIG_BUF_INIT;
    if (json_is_string(id))
        bytes_field(&p, 2, json_string_value(id), json_string_length(id));
    else {
        tag(&p, 1, 0);
        varint(&p, (uint64_t)json_integer_value(id));
    }
    msg_field(b, field, &p);
    vmig_buf_release(&p);
}

/* RetrievedPoint of one JSON record: ids and payload from r, vectors from rf (the
 * same record read with every number a double, so "-0" stays -0). */
static void record(struct vmig_buf *b, json_t *r, json_t *rf, const struct vmig_layout *lay,
                   enum fmt f)
{
    struct vmig_buf p = VMIG_BUF_INIT, vs = VMIG_BUF_INIT, nv = VMIG_BUF_INIT;
    json_t *id = json_object_get(r, "id"), *pl = json_object_get(r, "payload");
    json_t *vec = json_object_get(rf, "vector");
    if (id) point_id(&p, 1, id);
    if (json_is_object(pl)) {
        const char *k;
        json_t *x;
        json_object_foreach(pl, k, x) map_entry(&p, 2, k, x);
    }
    if (json_is_array(vec)) {
        struct vmig_buf vo = VMIG_BUF_INIT;
        vector_output(&vo, vec, f);
        msg_field(&vs, 1, &vo);
        vmig_buf_release(&vo);
        msg_field(&p, 4, &vs);
    } else if (json_is_object(vec)) {
        const char *k;
        json_t *x;
        json_object_foreach(vec, k, x) named_entry(&nv, k, x, f);
        if (f == NEW_PLACEHOLDER) /* hybrid collections: an empty dense for each dense one
                                   * absent (Qdrant sends none for an absent sparse vector) */
            for (size_t c = 0; c < lay->ncols; c++)
                if (!lay->col[c].sparse && !json_object_get(vec, lay->col[c].src)) {
                    json_t *empty = json_array();
                    named_entry(&nv, lay->col[c].src, empty, f);
                    json_decref(empty);
                }
        msg_field(&vs, 2, &nv);
        msg_field(&p, 4, &vs);
    }
    vmig_buf_add(b, p.p, p.len); /* unframed: the caller knows the field */
    vmig_buf_release(&p);
    vmig_buf_release(&vs);
    vmig_buf_release(&nv);
}

/* ScrollResponse / GetResponse of the fixture's page; 0, or -1 when it has no
 * protobuf counterpart (not JSON, no result). */
static int page(struct vmig_buf *out, const char *input, size_t len, int retrieve,
                const struct vmig_layout *lay, enum fmt f)
{
    /* a map holds each key once: pages with a key twice have no protobuf form */
    json_t *root = json_loadb(input, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    json_t *res = json_object_get(root, "result");
    json_t *rootf = json_loadb(input, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    json_t *resf = json_object_get(rootf, "result");
    json_t *points = retrieve ? res : json_object_get(res, "points");
    json_t *pointsf = retrieve ? resf : json_object_get(resf, "points");
    if (!json_is_array(points) || !json_is_array(pointsf)) {
        json_decref(root);
        json_decref(rootf);
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(points, i, r)
    {
        struct vmig_buf one = VMIG_BUF_INIT;
        record(&one, r, json_array_get(pointsf, i), lay, f);
        bytes_field(out, retrieve ? 1 : 2, one.p, one.len);
        vmig_buf_release(&one);
    }
    json_t *next = retrieve ? NULL : json_object_get(res, "next_page_offset");
    if (next && !json_is_null(next)) point_id(out, 1, next);
    json_decref(root);
    json_decref(rootf);
    return 0;
}

/* ---- the fixtures, through gRPC -------------------------------------------- */

/* The dump with each "meta" line's JSON in canonical form. */
static void canon_meta(const char *dump, struct vmig_buf *out)
{
    for (const char *p = dump; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > 7 && !strncmp(p, "  meta ", 7)) {
            vmig_buf_adds(out, "  meta ");
            if (vmig_json_canon(p + 7, n - 7, out)) vmig_buf_add(out, p + 7, n - 7);
        } else {
            vmig_buf_add(out, p, n);
        }
        vmig_buf_addch(out, '\n');
        p += n + (nl ? 1 : 0);
    }
}

static size_t converted, skipped;

/* The fixtures without a gRPC form, each named with why; any other fixture skipped fails. */
static const char *const no_grpc_form[] = {
    "04_big_and_mixed_ids.test", /* jansson cannot read 2^64-1: big_and_uuid_ids covers it */
    "05_unicode_escapes.test",   /* 1e400: no double; escapes are JSON's own */
    "12_conflict_prefix.test",   /* the key "id" twice (once escaped): a map holds it once */
    "20_malformed_comma.test",   /* JSON syntax */
    "21_malformed_bare_word.test",
    "22_truncated.test",
    "23_trailing_garbage.test",
    "24_no_result.test", /* no result object */
    "25_bad_ids.test",   /* ids a PointId cannot carry (negative, ...) */
    "26_id_overflow.test",
    "29_control_char.test",
    "31_too_deep.test", /* deeper than jansson reads */
};

static void skip_fixture(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof no_grpc_form / sizeof *no_grpc_form; i++)
        if (!strcmp(base, no_grpc_form[i])) {
            skipped++;
            return;
        }
    fail_msg("%s has no gRPC form but is not in the skip list (no_grpc_form)", path);
}

static void run_fixture(const char *path)
{
    size_t len;
    char *text = fx_slurp(path, &len);
    struct fx_scroll fx;
    fx_parse(text, &fx, path);
    /* errors about JSON itself (and its number ranges) have no gRPC counterpart */
    if (!strncmp(fx.expect, "error 30 ", 9) || !strncmp(fx.expect, "error 2 ", 8) ||
        strstr(fx.expect, "outside the float32 range")) {
        skip_fixture(path);
        free(text);
        return;
    }
    for (int f = OLD; f <= NEW_PLACEHOLDER; f++) {
        struct vmig_buf msg = VMIG_BUF_INIT, got = VMIG_BUF_INIT, a = VMIG_BUF_INIT,
                        b2 = VMIG_BUF_INIT;
        if (page(&msg, fx.input, fx.input_len, fx.retrieve, &fx.lay, (enum fmt)f) < 0) {
            if (f == OLD) skip_fixture(path);
            vmig_buf_release(&msg);
            break;
        }
        struct vmig_batch b;
        struct vmig_point_id next = {0};
        struct vmig_err err;
        vmig_err_clear(&err);
        vmig_batch_init(&b, &fx.lay);
        enum vmig_code rc =
            vmig_qgrpc_scan_page(msg.p, msg.len, fx.retrieve ? VMIG_QGRPC_GET : VMIG_QGRPC_SCROLL,
                                 &fx.lay, &b, fx.retrieve ? NULL : &next, &err);
        if (rc) {
            vmig_buf_addf(&got, "error %d %s\n", (int)rc, err.msg);
            vmig_buf_addf(&got, "at collection '%s' point '%s' field '%s'%s%s\n", err.coll,
                          err.point, err.field, err.fix ? " way out " : "", vmig_fix_name(err.fix));
            if (b.n || b.nrejects) vmig_buf_addf(&got, "BATCH NOT RESTORED\n");
        } else {
            fx_dump_batch(&got, &b, fx.retrieve ? NULL : &next);
        }
        canon_meta(fx.expect, &a);
        canon_meta(got.p ? got.p : "", &b2);
        if (strcmp(a.p ? a.p : "", b2.p ? b2.p : ""))
            fail_msg("%s (%s format):\n--- expected\n%s--- got\n%s", path,
                     f == OLD   ? "pre-1.17"
                     : f == NEW ? "1.17+"
                                : "1.17+ with placeholders",
                     a.p, b2.p);
        if (f == OLD) converted++;
        vmig_batch_release(&b);
        vmig_buf_release(&msg);
        vmig_buf_release(&got);
        vmig_buf_release(&a);
        vmig_buf_release(&b2);
    }
    free(text);
}

static void rest_fixtures_over_grpc(void **state)
{
    (void)state;
    fx_each_file("scroll", ".test", run_fixture);
    print_message("  %zu fixtures decoded in three wire forms, %zu without a gRPC form\n",
                  converted, skipped);
    assert_true(converted >= 20);
}

/* 04_big_and_mixed_ids.test in protobuf, built by hand (jansson reads no 2^64-1): the
 * largest numeric id and UUIDs (the smallest and largest) as ids and as the next offset;
 * int64 payload extremes (a Value integer is an int64). */
static void big_and_uuid_ids(void **state)
{
    (void)state;
    struct vmig_layout lay = {0};
    lay.coll = "c";
    lay.prefix = "payload_";
    lay.ncols = 1;
    lay.col[0].src = lay.col[0].dst = "";
    lay.col[0].dim = 2;
    static const char *const uuids[] = {"00000000-0000-0000-0000-000000000000",
                                        "ffffffff-ffff-ffff-ffff-ffffffffffff"};
    static const char want[] = "next 1d675313-d3dd-4646-8b98-8052364872da\n"
                               "row 18446744073709551615\n"
                               "  c0 1.5 -2\n"
                               "  meta {\"max\":9223372036854775807,\"min\":-9223372036854775808}\n"
                               "row 00000000-0000-0000-0000-000000000000\n"
                               "  c0 0.25 3\n"
                               "  meta {}\n"
                               "row ffffffff-ffff-ffff-ffff-ffffffffffff\n"
                               "  c0 0.25 3\n"
                               "  meta {}\n";
    for (int f = OLD; f <= NEW; f++) {
        struct vmig_buf resp = VMIG_BUF_INIT, got = VMIG_BUF_INIT, a = VMIG_BUF_INIT,
                        b2 = VMIG_BUF_INIT;
        for (int k = 0; k < 3; k++) {
            struct vmig_buf p = VMIG_BUF_INIT, id = VMIG_BUF_INIT, vs = VMIG_BUF_INIT,
                            vo = VMIG_BUF_INIT;
            if (k == 0) {
                tag(&id, 1, 0);
                varint(&id, UINT64_MAX);
            } else {
                bytes_field(&id, 2, uuids[k - 1], strlen(uuids[k - 1]));
            }
            msg_field(&p, 1, &id);
            if (k == 0) {
                json_t *mx = json_integer(INT64_MAX), *mn = json_integer(INT64_MIN);
                map_entry(&p, 2, "max", mx);
                map_entry(&p, 2, "min", mn);
                json_decref(mx);
                json_decref(mn);
            }
            json_t *v = k == 0 ? json_pack("[f,f]", 1.5, -2.0) : json_pack("[f,f]", 0.25, 3.0);
            vector_output(&vo, v, (enum fmt)f);
            json_decref(v);
            msg_field(&vs, 1, &vo);
            msg_field(&p, 4, &vs);
            msg_field(&resp, 2, &p);
            struct vmig_buf *all[] = {&p, &id, &vs, &vo};
            for (size_t i = 0; i < 4; i++)
                vmig_buf_release(all[i]);
        }
        json_t *next = json_string("1d675313-d3dd-4646-8b98-8052364872da");
        point_id(&resp, 1, next);
        json_decref(next);
        struct vmig_batch b;
        struct vmig_point_id nx = {0};
        struct vmig_err err;
        vmig_err_clear(&err);
        vmig_batch_init(&b, &lay);
        assert_int_equal(
            vmig_qgrpc_scan_page(resp.p, resp.len, VMIG_QGRPC_SCROLL, &lay, &b, &nx, &err),
            VMIG_OK);
        assert_int_equal(b.n, 3);
        assert_true(b.ids[0].kind == VMIG_ID_NUM && b.ids[0].num == UINT64_MAX);
        fx_dump_batch(&got, &b, &nx);
        canon_meta(want, &a);
        canon_meta(got.p ? got.p : "", &b2);
        if (strcmp(a.p, b2.p ? b2.p : ""))
            fail_msg("%s format:\n--- expected\n%s--- got\n%s", f == OLD ? "pre-1.17" : "1.17+",
                     a.p, b2.p);
        vmig_batch_release(&b);
        struct vmig_buf *all[] = {&resp, &got, &a, &b2};
        for (size_t i = 0; i < 4; i++)
            vmig_buf_release(all[i]);
    }
}

/* ---- requests, small answers, doubles --------------------------------------- */

static void requests_read_back(void **state)
{
    (void)state;
    struct vmig_buf out = VMIG_BUF_INIT;
    struct vmig_layout lay = {0};
    lay.coll = "docs";
    lay.ncols = 2;
    lay.col[0].src = "text";
    lay.col[1].src = "sparse";
    struct vmig_read_req req = {0};
    req.coll = "docs";
    req.layout = &lay;
    req.limit = 256;
    req.slice_total = 4;
    req.slice_index = 3;
    req.offset.kind = VMIG_ID_UUID;
    req.offset.uuid[15] = 1;
    vmig_qgrpc_enc_scroll(&out, &req);
    Vmig__Qdrant__ScrollPoints *m =
        vmig__qdrant__scroll_points__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(m);
    assert_string_equal(m->collection_name, "docs");
    assert_int_equal(m->limit, 256);
    assert_string_equal(m->offset->uuid, "00000000-0000-0000-0000-000000000001");
    assert_int_equal(m->filter->n_must, 1);
    assert_int_equal(m->filter->must[0]->slice->total, 4);
    assert_int_equal(m->filter->must[0]->slice->index, 3);
    assert_int_equal(m->with_payload->enable, 1);
    assert_int_equal(m->with_vectors->selector_options_case,
                     VMIG__QDRANT__WITH_VECTORS_SELECTOR__SELECTOR_OPTIONS_INCLUDE);
    assert_int_equal(m->with_vectors->include->n_names, 2);
    assert_string_equal(m->with_vectors->include->names[1], "sparse");
    vmig__qdrant__scroll_points__free_unpacked(m, NULL);

    /* ids only: payload and vectors explicitly off (unset payload would mean "on") */
    req.ids_only = 1;
    req.slice_total = 0;
    memset(&req.offset, 0, sizeof req.offset);
    vmig_qgrpc_enc_scroll(&out, &req);
    m = vmig__qdrant__scroll_points__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(m);
    assert_null(m->filter);
    assert_null(m->offset);
    assert_int_equal(m->with_payload->selector_options_case,
                     VMIG__QDRANT__WITH_PAYLOAD_SELECTOR__SELECTOR_OPTIONS_ENABLE);
    assert_int_equal(m->with_payload->enable, 0);
    assert_int_equal(m->with_vectors->enable, 0);
    vmig__qdrant__scroll_points__free_unpacked(m, NULL);

    /* Get by ids; the random sample query */
    struct vmig_point_id ids[2] = {{.kind = VMIG_ID_NUM, .num = UINT64_MAX},
                                   {.kind = VMIG_ID_UUID}};
    vmig_qgrpc_enc_get(&out, "docs", &lay, ids, 2);
    Vmig__Qdrant__GetPoints *g =
        vmig__qdrant__get_points__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(g);
    assert_int_equal(g->n_ids, 2);
    assert_true(g->ids[0]->num == UINT64_MAX);
    assert_string_equal(g->ids[1]->uuid, "00000000-0000-0000-0000-000000000000");
    vmig__qdrant__get_points__free_unpacked(g, NULL);
    vmig_qgrpc_enc_sample(&out, "docs", 33);
    Vmig__Qdrant__QueryPoints *q =
        vmig__qdrant__query_points__unpack(NULL, out.len, (const uint8_t *)out.p);
    assert_non_null(q);
    assert_int_equal(q->query->variant_case, VMIG__QDRANT__QUERY__VARIANT_SAMPLE);
    assert_int_equal(q->limit, 33);
    vmig__qdrant__query_points__free_unpacked(q, NULL);
    /* a oneof's zero value is on the wire: Query{sample = Random (0)} is not empty */
    assert_non_null(memchr(out.p, 7 << 3, out.len));
    vmig_buf_release(&out);
}

static void info_answer(void **state)
{
    (void)state;
    /* named dense "text" (768, Dot, float16, hnsw m 32) + sparse "kw" (idf), strict mode */
    struct vmig_buf vp = VMIG_BUF_INIT, h = VMIG_BUF_INIT, e = VMIG_BUF_INIT, map = VMIG_BUF_INIT,
                    vc = VMIG_BUF_INIT, sp = VMIG_BUF_INIT, se = VMIG_BUF_INIT, sc = VMIG_BUF_INIT,
                    params = VMIG_BUF_INIT, strict = VMIG_BUF_INIT, cfg = VMIG_BUF_INIT,
                    ci = VMIG_BUF_INIT, resp = VMIG_BUF_INIT;
    tag(&vp, 1, 0), varint(&vp, 768);
    tag(&vp, 2, 0), varint(&vp, 3);
    tag(&h, 1, 0), varint(&h, 32);
    msg_field(&vp, 3, &h);
    tag(&vp, 6, 0), varint(&vp, 3);
    bytes_field(&e, 1, "text", 4);
    msg_field(&e, 2, &vp);
    msg_field(&map, 1, &e);
    msg_field(&vc, 2, &map);
    msg_field(&params, 5, &vc);
    tag(&sp, 2, 0), varint(&sp, 1);
    bytes_field(&se, 1, "kw", 2);
    msg_field(&se, 2, &sp);
    msg_field(&sc, 1, &se);
    msg_field(&params, 10, &sc);
    msg_field(&cfg, 1, &params);
    tag(&strict, 1, 0), varint(&strict, 1);
    tag(&strict, 2, 0), varint(&strict, 100);
    tag(&strict, 11, 0), varint(&strict, 600);
    msg_field(&cfg, 6, &strict);
    tag(&ci, 1, 0), varint(&ci, 2);
    msg_field(&ci, 7, &cfg);
    tag(&ci, 9, 0), varint(&ci, 12345);
    msg_field(&resp, 1, &ci);
    struct vmig_src_coll out;
    struct vmig_err err;
    assert_int_equal(vmig_qgrpc_parse_info(resp.p, resp.len, "docs", &out, &err), VMIG_OK);
    assert_string_equal(out.status, "yellow");
    assert_int_equal(out.points_approx, 12345);
    assert_int_equal(out.unnamed, 0);
    assert_int_equal(out.nvec, 2);
    assert_string_equal(out.vec[0].name, "text");
    assert_int_equal(out.vec[0].size, 768);
    assert_int_equal(out.vec[0].distance, VMIG_DIST_DOT);
    assert_int_equal(out.vec[0].datatype, VMIG_DT_FLOAT16);
    assert_int_equal(out.vec[0].hnsw_m, 32);
    assert_int_equal(out.vec[1].sparse, 1);
    assert_int_equal(out.vec[1].sparse_idf, 1);
    assert_int_equal(out.max_query_limit, 100);
    assert_int_equal(out.read_rate_limit, 600);
    /* bytes that are not the message */
    assert_int_equal(vmig_qgrpc_parse_info("\xff\xff\xff", 3, "docs", &out, &err), VMIG_E_PROTOCOL);
    assert_non_null(strstr(err.msg, "docs"));
    struct vmig_buf *all[] = {&vp, &h,      &e,      &map, &vc, &sp,  &se,
                              &sc, &params, &strict, &cfg, &ci, &resp};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vmig_buf_release(all[i]);
}

static void doubles(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {{2.0, "2.0"},
                 {0.1, "0.1"},
                 {-1.5, "-1.5"},
                 {1e300, "1e300"},
                 {1e21, "1e21"},
                 {123456789.0, "123456789.0"},
                 {1.0 / 3, "0.3333333333333333"},
                 {9007199254740993.0, "9007199254740992.0"},
                 {-0.0, "-0.0"},
                 {5e-324, "5e-324"},
                 {1.7976931348623157e308, "1.7976931348623157e308"},
                 {10.0, "10.0"},
                 {100.0, "100.0"},
                 {980.0, "980.0"},
                 {1e15, "1000000000000000.0"},
                 {1e16, "1e16"},
                 {1e-5, "0.00001"},
                 {1e-6, "1e-6"},
                 {0.000123, "0.000123"},
                 {-2.5e-7, "-2.5e-7"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct vmig_buf b = VMIG_BUF_INIT;
        assert_int_equal(vmig_buf_add_double(&b, cases[i].v), 0);
        assert_string_equal(b.p, cases[i].text);
        assert_true(strtod(b.p, NULL) == cases[i].v);
        vmig_buf_release(&b);
    }
    struct vmig_buf b = VMIG_BUF_INIT;
    assert_int_equal(vmig_buf_add_double(&b, 1.0 / 0.0), -1);
    vmig_buf_release(&b);
}

/* Found by tests/fuzz/fuzz_qdrant_grpc: protobuf-c hands an empty bytes field (a
 * payload key "", a string value "") over as {0, NULL}; the decoder did arithmetic
 * on that NULL (UBSan). Both are valid JSON and must come out as "". */
static void empty_key_and_string(void **state)
{
    (void)state;
    struct vmig_layout lay = {0};
    lay.coll = "c";
    lay.prefix = "payload_";
    lay.ncols = 1;
    lay.col[0].src = lay.col[0].dst = "";
    lay.col[0].dim = 2;
    static const char page_json[] =
        "{\"result\":{\"points\":[{\"id\":1,\"payload\":{\"\":\"\",\"a\":{\"\":[\"\"]}},"
        "\"vector\":[1,2]}],\"next_page_offset\":null}}";
    for (int f = OLD; f <= NEW; f++) {
        struct vmig_buf resp = VMIG_BUF_INIT, got = VMIG_BUF_INIT;
        assert_int_equal(page(&resp, page_json, strlen(page_json), 0, &lay, (enum fmt)f), 0);
        struct vmig_batch b;
        struct vmig_err err;
        vmig_err_clear(&err);
        vmig_batch_init(&b, &lay);
        assert_int_equal(
            vmig_qgrpc_scan_page(resp.p, resp.len, VMIG_QGRPC_SCROLL, &lay, &b, NULL, &err),
            VMIG_OK);
        assert_int_equal(b.n, 1);
        vmig_buf_add(&got, b.meta.p + b.meta_off[0], b.meta_off[1] - b.meta_off[0]);
        assert_string_equal(got.p, "{\"\":\"\",\"a\":{\"\":[\"\"]}}");
        vmig_batch_release(&b);
        vmig_buf_release(&resp);
        vmig_buf_release(&got);
    }
}

/* Random byte flips, cuts and inserts of a real page: the decoder answers OK or an
 * error, never reads out of bounds (ASan/UBSan in CI), and leaves the batch whole. */
static void mutation_fuzz(void **state)
{
    (void)state;
    static const char json[] =
        "{\"result\":{\"points\":[{\"id\":1,\"payload\":{\"a\":[1,2.5,null,{\"b\":\"x\"}],\"id\":3}"
        ","
        "\"vector\":{\"d\":[1,2,3],\"s\":{\"indices\":[3,1],\"values\":[0.5,0.25]}}},"
        "{\"id\":\"1d675313-d3dd-4646-8b98-8052364872da\",\"vector\":{\"d\":[4,5,6]}}],"
        "\"next_page_offset\":7}}";
    struct vmig_layout lay = {0};
    lay.coll = "c";
    lay.ncols = 2;
    lay.col[0].src = lay.col[0].dst = "d";
    lay.col[0].dim = 3;
    lay.col[1].src = lay.col[1].dst = "s";
    lay.col[1].sparse = 1;
    lay.nulls = VMIG_NULL_KEEP;
    lay.conflict = VMIG_CONFLICT_PREFIX;
    lay.prefix = "payload_";
    lay.nreserved = 1;
    lay.reserved[0] = "id";
    unsigned seed = 12345;
    size_t ok = 0, n = 0;
    for (int f = OLD; f <= NEW_PLACEHOLDER; f++) {
        struct vmig_buf msg = VMIG_BUF_INIT;
        assert_int_equal(page(&msg, json, sizeof json - 1, 0, &lay, (enum fmt)f), 0);
        for (int it = 0; it < 10000; it++, n++) {
            struct vmig_buf m = VMIG_BUF_INIT;
            vmig_buf_add(&m, msg.p, msg.len);
            int edits = 1 + (int)(rand_r(&seed) % 4);
            for (int k = 0; k < edits && m.len; k++) {
                size_t at = rand_r(&seed) % m.len;
                switch (rand_r(&seed) % 3) {
                case 0:
                    m.p[at] = (char)(rand_r(&seed) & 0xff);
                    break;
                case 1:
                    vmig_buf_setlen(&m, at);
                    break;
                default:
                    m.p[at] ^= (char)(1u << (rand_r(&seed) % 8));
                    break;
                }
            }
            struct vmig_batch b;
            struct vmig_point_id next;
            struct vmig_err err;
            vmig_batch_init(&b, &lay);
            enum vmig_code rc = vmig_qgrpc_scan_page(m.p ? m.p : "", m.len, VMIG_QGRPC_SCROLL, &lay,
                                                     &b, &next, &err);
            if (rc == VMIG_OK)
                ok++;
            else
                assert_true(b.n == 0 && b.nrejects == 0);
            vmig_batch_release(&b);
            vmig_buf_release(&m);
        }
        vmig_buf_release(&msg);
    }
    print_message("  %zu mutated pages, %zu decoded\n", n, ok);
}

/* --source-protocol / source.protocol: the URL that carries the choice. */
static void source_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url, *proto, *want;
    } cases[] = {
        {"http://h:6334", "grpc", "grpc://h:6334"},
        {"https://h:6334", "grpc", "grpcs://h:6334"},
        {"grpc://h:6334", "grpc", "grpc://h:6334"},
        {"h:6334", "grpc", "grpc://h:6334"},
        {"grpcs://h:1", "rest", "https://h:1"},
        {"grpc://h:1", "rest", "http://h:1"},
        {"http://h:6333", "rest", "http://h:6333"},
        {"http://h:6333", NULL, "http://h:6333"},
        {"grpc://h", "", "grpc://h"},
    };
    char out[256];
    struct vmig_err err;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(vmig_source_url_for(cases[i].url, cases[i].proto, out, sizeof out, &err),
                         VMIG_OK);
        assert_string_equal(out, cases[i].want);
    }
    assert_int_equal(vmig_source_url_for("http://h", "soap", out, sizeof out, &err), VMIG_E_USAGE);
    assert_non_null(strstr(err.msg, "rest or grpc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rest_fixtures_over_grpc),
        cmocka_unit_test(big_and_uuid_ids),
        cmocka_unit_test(requests_read_back),
        cmocka_unit_test(info_answer),
        cmocka_unit_test(doubles),
        cmocka_unit_test(empty_key_and_string),
        cmocka_unit_test(mutation_fuzz),
        cmocka_unit_test(source_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * qdrant_search.c - the codec of qdrant_search.h: the exact nearest-vector query
 * body (Query API, Qdrant >= 1.10: "query" + "using" + params.exact) and its
 * answer's ids and scores. Floats are printed with 9 significant digits, enough
 * for every float32 to parse back to itself, so Qdrant searches with the very
 * vector it stores.
 */
#include "source/qdrant_search.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "source/qdrant_codec.h"

static void put_float(struct vmig_buf *out, float f)
{
    vmig_buf_addf(out, "%.9g", (double)f);
}

void vmig_qdrant_enc_search(const struct vmig_layout *lay, const struct vmig_batch *q, size_t r,
                            size_t c, uint32_t k, struct vmig_buf *out)
{
    const struct vmig_batch_col *col = &q->col[c];
    vmig_buf_reset(out);
    vmig_buf_adds(out, "{\"query\":");
    if (col->sparse) {
        const unsigned char *p = (const unsigned char *)col->data.p + col->off[r];
        size_t n = (col->off[r + 1] - col->off[r]) / 8;
        vmig_buf_adds(out, "{\"indices\":[");
        for (size_t i = 0; i < n; i++) {
            uint32_t ix;
            memcpy(&ix, p + i * 8, 4);
            vmig_buf_addf(out, "%s%u", i ? "," : "", ix);
        }
        vmig_buf_adds(out, "],\"values\":[");
        for (size_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, p + i * 8 + 4, 4);
            if (i) vmig_buf_addch(out, ',');
            put_float(out, v);
        }
        vmig_buf_adds(out, "]}");
    } else {
        const float *v = vmig_batch_dense_at(q, c, r);
        vmig_buf_addch(out, '[');
        for (uint32_t i = 0; i < col->dim; i++) {
            if (i) vmig_buf_addch(out, ',');
            put_float(out, v[i]);
        }
        vmig_buf_addch(out, ']');
    }
    if (!lay->unnamed && lay->col[c].src && lay->col[c].src[0]) {
        vmig_buf_adds(out, ",\"using\":");
        vmig_qdrant_put_str(out, lay->col[c].src);
    }
    vmig_buf_addf(out,
                  ",\"limit\":%u,\"params\":{\"exact\":true},\"with_payload\":false,"
                  "\"with_vector\":false}",
                  k ? k : 1);
}

static enum vmig_code bad(struct vmig_err *err, const char *coll, const char *why)
{
    vmig_err_set(err, VMIG_E_PROTOCOL,
                 "cannot read the search answer of collection '%s' on "
                 "source: %s",
                 coll, why);
    vmig_err_at(err, coll, NULL, NULL);
    return VMIG_E_PROTOCOL;
}

enum vmig_code vmig_qdrant_dec_hits(const char *body, size_t len, const char *coll,
                                    struct vmig_hits *out, struct vmig_err *err)
{
    json_error_t je;
    enum vmig_code rc = VMIG_OK;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root) return bad(err, coll, je.text);
    json_t *res = json_is_object(root) ? json_object_get(root, "result") : NULL;
    json_t *pts = json_is_object(res) ? json_object_get(res, "points") : NULL;
    if (!json_is_array(pts)) {
        rc = bad(err, coll, "no result.points list");
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(pts, i, e)
    {
        json_t *id = json_object_get(e, "id"), *sc = json_object_get(e, "score");
        struct vmig_point_id pid;
        char t[VMIG_ID_TEXT_MAX];
        int ok = 0;
        if (json_is_integer(id) && json_integer_value(id) >= 0) {
            snprintf(t, sizeof t, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            ok = !vmig_point_id_parse(t, strlen(t), &pid);
        } else if (json_is_string(id)) {
            ok = !vmig_point_id_parse(json_string_value(id), json_string_length(id), &pid);
        }
        if (!ok || !json_is_number(sc)) {
            rc = bad(err, coll, "a point without a valid id and score");
            goto out;
        }
        vmig_hits_add(out, &pid, (float)json_number_value(sc));
    }
out:
    json_decref(root);
    return rc;
}

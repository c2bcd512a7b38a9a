/*
 * milvus_caps.c - what a Milvus-compatible server can hold, from the version it
 * reports (GetVersion) and its address. Pure: no I/O, unit-tested on strings.
 *
 *   "v2.3.5", "2.4.13", "v2.5.0-beta"    Milvus (a "-lite" suffix is the embedded
 *                                         Milvus of PyPI `milvus`: a real server)
 *   "milvus_lite-3.2.2"                  Milvus Lite (pymilvus[milvus-lite])
 *   a *.zillizcloud.com / *.zilliz.com   Zilliz Cloud, as the Milvus release its
 *   address                              version names, else the newest
 * Anything else is not recognised: it is treated as the newest Milvus (known = 0),
 * and the plan says so in a note rather than refusing what may well work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/milvus_caps.h"

/* First Milvus release with each feature (Milvus release notes). */
static const struct {
    enum vmig_feature f;
    int major, minor, patch;
} since_milvus[] = {
    {VMIG_FEAT_MULTI_VECTOR, 2, 4, 0},  {VMIG_FEAT_SPARSE, 2, 4, 0},
    {VMIG_FEAT_FLOAT16, 2, 4, 0},       {VMIG_FEAT_NULLABLE, 2, 5, 0},
    {VMIG_FEAT_DEFAULT_VALUE, 2, 5, 0}, {VMIG_FEAT_JSON_PATH_INDEX, 2, 5, 11},
    {VMIG_FEAT_INVERTED, 2, 4, 0},      {VMIG_FEAT_BITMAP, 2, 5, 0},
    {VMIG_FEAT_SORT_INDEX, 2, 0, 0},    {VMIG_FEAT_TIMESTAMPTZ, 2, 6, 0},
    {VMIG_FEAT_GEOMETRY, 2, 6, 0},
};

/* What Milvus Lite 3.x holds (shared/reference/milvus.md §10.2): several vectors,
 * sparse, nullable and default values, the INVERTED scalar index, TIMESTAMPTZ and
 * GEOMETRY; no
 * float16/bfloat16, no JSON path index, no other scalar index. */
static const unsigned lite_has = 1u << VMIG_FEAT_MULTI_VECTOR | 1u << VMIG_FEAT_SPARSE |
                                 1u << VMIG_FEAT_NULLABLE | 1u << VMIG_FEAT_DEFAULT_VALUE |
                                 1u << VMIG_FEAT_INVERTED | 1u << VMIG_FEAT_TIMESTAMPTZ |
                                 1u << VMIG_FEAT_GEOMETRY;

/* "2.3.5" at the start of s (after an optional 'v') → 1 */
static int parse_release(const char *s, int *maj, int *min, int *pat)
{
    if (*s == 'v' || *s == 'V') s++;
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '.') return 0;
    s = end + 1;
    long b = strtol(s, &end, 10);
    if (end == s) return 0;
    long c = 0;
    if (*end == '.') {
        s = end + 1;
        c = strtol(s, &end, 10);
        if (end == s) return 0;
    }
    if (a < 0 || b < 0 || c < 0 || a > 99 || b > 999 || c > 9999) return 0;
    *maj = (int)a;
    *min = (int)b;
    *pat = (int)c;
    return 1;
}

int vmig_milvus_url_is_zilliz(const char *url)
{
    if (!url) return 0;
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, ":/?#");
    static const char *const suffix[] = {".zillizcloud.com", ".zilliz.com"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t k = strlen(suffix[i]);
        if (n >= k && strncasecmp(h + n - k, suffix[i], k) == 0) return 1;
    }
    return 0;
}

static void all_features(struct vmig_target_caps *c)
{
    c->has = (1u << VMIG_FEAT_COUNT) - 1;
}

static void milvus_since(struct vmig_target_caps *c)
{
    for (size_t i = 0; i < sizeof since_milvus / sizeof since_milvus[0]; i++)
        snprintf(c->since[since_milvus[i].f], sizeof c->since[0], "%d.%d.%d", since_milvus[i].major,
                 since_milvus[i].minor, since_milvus[i].patch);
}

static void milvus_release(struct vmig_target_caps *c, int maj, int min, int pat)
{
    snprintf(c->release, sizeof c->release, "%d.%d.%d", maj, min, pat);
    c->known = 1;
    c->has = 0;
    for (size_t i = 0; i < sizeof since_milvus / sizeof since_milvus[0]; i++) {
        long want = since_milvus[i].major * 10000000L + since_milvus[i].minor * 10000L +
                    since_milvus[i].patch;
        if (maj * 10000000L + min * 10000L + pat >= want) c->has |= 1u << since_milvus[i].f;
    }
}

void vmig_milvus_caps(const char *version, int zilliz, struct vmig_target_caps *out)
{
    int maj, min, pat;
    memset(out, 0, sizeof *out);
    snprintf(out->version, sizeof out->version, "%s", version ? version : "");
    milvus_since(out);
    const char *v = out->version;

    if (strncmp(v, "milvus_lite-", 12) == 0) {
        snprintf(out->product, sizeof out->product, "Milvus Lite");
        memset(out->since, 0, sizeof out->since); /* what Lite lacks, no Lite release has */
        if (parse_release(v + 12, &maj, &min, &pat))
            snprintf(out->release, sizeof out->release, "%d.%d.%d", maj, min, pat);
        out->known = 1;
        out->has = lite_has;
        return;
    }
    if (zilliz) {
        snprintf(out->product, sizeof out->product, "Zilliz Cloud");
        /* "…(Compatible with Milvus 2.5)" or a plain release */
        const char *m = strstr(v, "Milvus ");
        if (parse_release(m ? m + 7 : v, &maj, &min, &pat))
            milvus_release(out, maj, min, pat);
        else
            all_features(out);
        return;
    }
    snprintf(out->product, sizeof out->product, "Milvus");
    if (parse_release(v, &maj, &min, &pat) && maj >= 2) {
        milvus_release(out, maj, min, pat);
        return;
    }
    all_features(out); /* unknown: the newest Milvus */
}

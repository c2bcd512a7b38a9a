/*
 * point_id.c - Qdrant point ids: parse, format and compare in the server's scroll
 * order (integers as u64 first, then UUIDs by their 16 bytes).
 */
#include <stdio.h>
#include <string.h>

#include "vmig/types.h"

int vmig_point_id_cmp(const struct vmig_point_id *a, const struct vmig_point_id *b)
{
    int ka = a->kind == VMIG_ID_NONE ? 3 : a->kind;
    int kb = b->kind == VMIG_ID_NONE ? 3 : b->kind;
    if (ka != kb) return ka < kb ? -1 : 1;
    if (ka == VMIG_ID_NUM) return a->num < b->num ? -1 : a->num > b->num;
    if (ka == VMIG_ID_UUID) {
        int c = memcmp(a->uuid, b->uuid, 16);
        return c < 0 ? -1 : c > 0;
    }
    return 0;
}

size_t vmig_point_id_format(const struct vmig_point_id *id, char out[VMIG_ID_TEXT_MAX])
{
    if (id->kind == VMIG_ID_NUM) return (size_t)snprintf(out, VMIG_ID_TEXT_MAX, "%llu",
                                                          (unsigned long long)id->num);
    if (id->kind != VMIG_ID_UUID) {
        out[0] = '\0';
        return 0;
    }
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[id->uuid[i] >> 4];
        out[o++] = hex[id->uuid[i] & 15];
    }
    out[o] = '\0';
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int vmig_point_id_parse(const char *s, size_t len, struct vmig_point_id *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return -1;
    size_t i;
    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {}
    if (i == len && len <= 20) {
        unsigned long long v = 0;
        for (i = 0; i < len; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (v > (18446744073709551615ULL - d) / 10) return -1;
            v = v * 10 + d;
        }
        out->kind = VMIG_ID_NUM;
        out->num = v;
        return 0;
    }
    /* UUID: 32 hex digits, hyphens anywhere Qdrant's parser would allow them */
    int n = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '-') continue;
        int h = hexval(s[i]);
        if (h < 0 || n >= 32) return -1;
        if (n % 2 == 0) out->uuid[n / 2] = (uint8_t)(h << 4);
        else out->uuid[n / 2] |= (uint8_t)h;
        n++;
    }
    if (n != 32) return -1;
    out->kind = VMIG_ID_UUID;
    return 0;
}

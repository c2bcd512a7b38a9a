/*
 * url.c - URL scheme matching for the connector registries and the host/port check
 * of the connectors (util/url.h). Only the shape is checked here; whether the host
 * resolves or the port answers is the transport's to say.
 */
#include "util/url.h"

#include <string.h>
#include <strings.h>

#include "vmig/error.h"

int vmig_url_scheme_in(const char *url, const char *const *schemes)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep) return 0;
    size_t n = (size_t)(sep - url);
    for (const char *const *s = schemes; s && *s; s++)
        if (strlen(*s) == n && strncasecmp(*s, url, n) == 0) return 1;
    return 0;
}

static enum vmig_code bad(struct vmig_err *err, const char *kind, const char *url, const char *what)
{
    vmig_err_set(err, VMIG_E_USAGE, "%s URL '%.300s' %s", kind, url, what);
    vmig_err_fix(err, VMIG_FIX_ENDPOINT, NULL);
    return VMIG_E_USAGE;
}

enum vmig_code vmig_url_check(const char *url, const char *kind, int path_ok, struct vmig_err *err)
{
    const char *p = url ? strstr(url, "://") : NULL;
    p = p ? p + 3 : url;
    if (!p) return bad(err, kind, "", "is empty");
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c == 0x7f)
            return bad(err, kind, url, "contains a space or a control character");
    if (strpbrk(p, "?#"))
        return bad(err, kind, url, "has a query or fragment ('?', '#'): give scheme://HOST:PORT");
    const char *end = p + strcspn(p, "/"), *colon = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return bad(err, kind, url, "has an unclosed IPv6 address ('[' without ']')");
        if (rb + 1 < end && rb[1] != ':')
            return bad(err, kind, url, "has text after the IPv6 address");
        if (rb + 1 < end) colon = rb + 1;
        if (rb == p + 1) return bad(err, kind, url, "has no host: give scheme://HOST:PORT");
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        if ((colon ? colon : end) == p)
            return bad(err, kind, url, "has no host: give scheme://HOST:PORT");
    }
    if (colon) {
        long v = 0;
        const char *d = colon + 1;
        for (; d < end && *d >= '0' && *d <= '9' && v <= 65535; d++)
            v = v * 10 + (*d - '0');
        if (d != end || d == colon + 1 || v < 1 || v > 65535)
            return bad(err, kind, url, "has a bad port: give a number from 1 to 65535");
    }
    if (!path_ok && *end && strcmp(end, "/") != 0)
        return bad(err, kind, url, "has a path: the server takes none (give scheme://HOST:PORT)");
    return VMIG_OK;
}

/*
 * url.c - URL scheme matching for the connector registries (util/url.h).
 */
#include "util/url.h"

#include <string.h>
#include <strings.h>

int vmig_url_scheme_in(const char *url, const char *const *schemes)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep) return 0;
    size_t n = (size_t)(sep - url);
    for (const char *const *s = schemes; s && *s; s++)
        if (strlen(*s) == n && strncasecmp(*s, url, n) == 0) return 1;
    return 0;
}

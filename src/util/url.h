/*
 * url.h - the one URL scheme test the connector registries use.
 */
#ifndef VMIG_UTIL_URL_H
#define VMIG_UTIL_URL_H

/* Nonzero when url starts with one of schemes (NULL-ended, any case) and "://". */
int vmig_url_scheme_in(const char *url, const char *const *schemes);

#endif

/*
 * url.h - the one URL scheme test the connector registries use, and the check of a
 * URL's host and port every connector runs before its first request, so a typo is
 * a usage error naming the URL, not a connect failure or a strange answer.
 */
#ifndef VMIG_UTIL_URL_H
#define VMIG_UTIL_URL_H

/* Nonzero when url starts with one of schemes (NULL-ended, any case) and "://". */
int vmig_url_scheme_in(const char *url, const char *const *schemes);

#include "vmig/error.h"

/* VMIG_E_USAGE (fix: endpoint) naming kind ("Qdrant") and url when the part after
 * "scheme://" (or the whole url without one) has no host, a space or control
 * character, an unclosed "[v6" address, or a port that is not a number from 1 to
 * 65535; and when it carries a query or fragment ("?", "#"), or with path_ok 0 a path
 * other than "/". VMIG_OK otherwise. */
enum vmig_code vmig_url_check(const char *url, const char *kind, int path_ok, struct vmig_err *err);

#endif

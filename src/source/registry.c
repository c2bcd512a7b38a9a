/*
 * registry.c - which source connector serves an endpoint, by its URL's scheme (as
 * curl's vtls picks a TLS backend). Registered connectors (tests' fakes, embedders)
 * come first, then the built-in ones; a URL whose scheme no connector claims goes to
 * the first built-in one, whose open() explains what URLs it takes.
 * vmig_source_url_for() turns a URL and a protocol word into the URL whose scheme
 * picks that connector, so the URL alone carries the choice everywhere after (the
 * store, job retries, the API).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "source/source.h"
#include "vmig/inputs.h"
#include "util/url.h"

static const struct vmig_source_vt *const builtin[] = {&vmig_source_qdrant,
                                                       &vmig_source_qdrant_grpc};
static const struct vmig_source_vt *extra[8];
static size_t nextra;

void vmig_source_register(const struct vmig_source_vt *vt)
{
    if (nextra < sizeof extra / sizeof *extra) extra[nextra++] = vt;
}

const struct vmig_source_vt *vmig_source_for(const struct vmig_endpoint *ep)
{
    for (size_t i = 0; i < nextra; i++)
        if (vmig_url_scheme_in(ep->url, extra[i]->schemes)) return extra[i];
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
        if (vmig_url_scheme_in(ep->url, builtin[i]->schemes)) return builtin[i];
    return builtin[0];
}

enum vmig_code vmig_source_url_for(const char *url, const char *protocol, char *out, size_t n,
                                   struct vmig_err *err)
{
    static const struct {
        const char *from, *to;
    } to_grpc[] = {{"http://", "grpc://"}, {"https://", "grpcs://"}},
      to_rest[] = {{"grpc://", "http://"}, {"grpcs://", "https://"}};
    const char *u = url ? url : "";
    int grpc;
    if (!protocol || !*protocol) {
        snprintf(out, n, "%s", u);
        return VMIG_OK;
    }
    if (!strcmp(protocol, "grpc")) grpc = 1;
    else if (!strcmp(protocol, "rest")) grpc = 0;
    else
        return vmig_err_set(err, VMIG_E_USAGE, "must be rest or grpc, not '%s'", protocol);
    const char *to = NULL, *rest = u;
    for (size_t i = 0; i < 2 && !to; i++) {
        const char *from = grpc ? to_grpc[i].from : to_rest[i].from;
        if (!strncmp(u, from, strlen(from))) {
            to = grpc ? to_grpc[i].to : to_rest[i].to;
            rest = u + strlen(from);
        }
    }
    if (!to) to = strstr(u, "://") ? "" : grpc ? "grpc://" : "http://";
    if ((size_t)snprintf(out, n, "%s%s", to, rest) >= n)
        return vmig_err_set(err, VMIG_E_USAGE, "makes the source URL longer than %zu bytes", n - 1);
    return VMIG_OK;
}

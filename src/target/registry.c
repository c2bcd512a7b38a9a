/*
 * registry.c - which target connector serves an endpoint, by its URL's scheme (as
 * curl's vtls picks a TLS backend). Registered connectors (tests' fakes, embedders)
 * come first, then the built-in ones; a URL whose scheme no connector claims goes to
 * the first built-in one, whose open() explains what URLs it takes.
 */
#include <stddef.h>

#include "target/target.h"
#include "util/url.h"

static const struct vmig_target_vt *const builtin[] = {&vmig_target_milvus};
static const struct vmig_target_vt *extra[8];
static size_t nextra;

void vmig_target_register(const struct vmig_target_vt *vt)
{
    if (nextra < sizeof extra / sizeof *extra) extra[nextra++] = vt;
}

const struct vmig_target_vt *vmig_target_for(const struct vmig_endpoint *ep)
{
    for (size_t i = 0; i < nextra; i++)
        if (vmig_url_scheme_in(ep->url, extra[i]->schemes)) return extra[i];
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
        if (vmig_url_scheme_in(ep->url, builtin[i]->schemes)) return builtin[i];
    return builtin[0];
}

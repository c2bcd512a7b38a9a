/*
 * fuzz_qdrant_info.c - libFuzzer harness of the Qdrant REST answer parsers of
 * src/source/qdrant_codec.c: the collection info (vmig_qdrant_parse_info, what
 * `plan` and every job start read), and on the same bytes the collection list,
 * count, server version and error envelope readers the connector calls on its
 * other answers. Seeds: the recorded infos of tests/data/qdrant/info.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/qdrant_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the transport's buffer is NUL-terminated past its length */
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    struct vmig_err err;
    vmig_err_clear(&err);

    struct vmig_src_coll *c = calloc(1, sizeof *c);
    if (vmig_qdrant_parse_info(body, size, "c", c, &err) == VMIG_OK) {
        if (c->nvec > VMIG_SRC_MAX_VECTORS) abort();
        struct vmig_qdrant_cap cap;
        memset(&cap, 0, sizeof cap);
        vmig_qdrant_cap_note(&cap, c);
        (void)vmig_qdrant_cap_apply(&cap, 1000);
    } else if (!err.msg[0]) {
        abort();
    }
    free(c);

    char **names = NULL;
    size_t n = 0;
    vmig_err_clear(&err);
    if (vmig_qdrant_parse_list(body, size, &names, &n, &err) == VMIG_OK) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    uint64_t count;
    vmig_err_clear(&err);
    (void)vmig_qdrant_parse_count(body, size, &count, &err);
    char version[64];
    vmig_err_clear(&err);
    if (vmig_qdrant_parse_version(body, size, version, sizeof version, &err) == VMIG_OK)
        (void)vmig_qdrant_version_at_least(version, 1, 16, 0);
    free(vmig_qdrant_error_text(body, size));
    free(body);
    return 0;
}

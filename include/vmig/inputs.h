/*
 * inputs.h - checks every face applies to what a user hands in, so the CLI, the
 * HTTP API and the connectors refuse the same things with the same limits: the
 * one table of numeric option ranges, credentials written into a URL
 * (user:password@host), and control characters in API keys and tokens (a CR/LF in
 * a key sent as a header would inject headers).
 */
#ifndef VMIG_INPUTS_H
#define VMIG_INPUTS_H

#include <stddef.h>
#include <string.h>

#include "vmig/error.h"

/* Numeric option ranges, inclusive. The CLI flag and the HTTP API field named in
 * each comment take exactly this range (docs/user/cli.md, docs/user/http-api.md). */
#define VMIG_READERS_MIN 1 /* --readers, options.readers */
#define VMIG_READERS_MAX 64
#define VMIG_WRITERS_MIN 1 /* --writers, options.writers */
#define VMIG_WRITERS_MAX 64
#define VMIG_PAGE_SIZE_MIN 1 /* --page-size, options.page_size */
#define VMIG_PAGE_SIZE_MAX 100000
#define VMIG_BULK_FILE_MIB_MIN 1     /* --bulk-file-size, options.bulk_file_size_mib */
#define VMIG_BULK_FILE_MIB_MAX 16384 /* Milvus's own limit: 16 GiB per import file */
#define VMIG_SAMPLE_MIN 0 /* --sample, options.verify_sample (-1 there = no verification) */
#define VMIG_SAMPLE_MAX 1000000
#define VMIG_PROFILE_SAMPLE_MIN 1 /* plan --sample, profile.sample (--full for every point) */
#define VMIG_PROFILE_SAMPLE_MAX 2000000000
#define VMIG_TIMEOUT_MIN 1 /* --timeout, source/target.timeout_s (seconds) */
#define VMIG_TIMEOUT_MAX 86400
#define VMIG_WAIT_TIMEOUT_MIN 0 /* --wait-timeout (seconds; 0 = the default, 3600) */
#define VMIG_WAIT_TIMEOUT_MAX 604800
#define VMIG_CONCURRENCY_MIN 1 /* --concurrency (worker, serve) */
#define VMIG_CONCURRENCY_MAX 64
#define VMIG_TASKS_MIN 1 /* --tasks, options.tasks (range tasks per collection; 0 = auto) */
#define VMIG_TASKS_MAX 64
#define VMIG_LEASE_MIN 2 /* --lease (seconds a range task is held without renewal) */
#define VMIG_LEASE_MAX 3600
#define VMIG_MAX_VECTOR_FIELDS_MIN 1 /* --max-vector-fields, options.max_vector_fields */
/* its maximum is VMIG_MAX_VECTOR_FIELDS (vmig/plan.h) */

/* Whether url carries user information before its host ("http://u:p@host:6333"). */
static inline int vmig_url_has_credentials(const char *url)
{
    if (!url) return 0;
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    return auth[strcspn(auth, "/?#@")] == '@';
}

/* The source URL that reads url over protocol ("rest" or "grpc"; NULL or "" = as
 * the URL says) into out[n]: http(s):// <-> grpc(s)://, a bare host:port gets the
 * scheme (source/registry.c). VMIG_E_USAGE for another protocol word. The faces call
 * it for --source-protocol / source.protocol, so the URL alone carries the choice
 * after (the store, retries, the registry). */
enum vmig_code vmig_source_url_for(const char *url, const char *protocol, char *out, size_t n,
                                   struct vmig_err *err);

/* Whether a key or token holds a control character (any byte < 0x20, or 0x7f). */
static inline int vmig_secret_has_control(const char *s)
{
    if (!s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

#endif

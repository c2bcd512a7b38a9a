/*
 * s3.h - the one S3 call vmigrate makes: upload a local file as an object (PUT), to any
 * S3-compatible store, signed with AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4).
 * Credentials come from the environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_REGION, default us-east-1); they are never logged nor put into a message.
 * Path-style addressing: PUT {endpoint}/{bucket}/{key}.
 */
#ifndef VMIG_UTIL_S3_H
#define VMIG_UTIL_S3_H

#include "vmig/error.h"

#define VMIG_S3_BUCKET_MAX 64
#define VMIG_S3_KEY_MAX 1024

struct vmig_s3 {
    char endpoint[512]; /* http(s)://host:port, no trailing slash */
    char bucket[VMIG_S3_BUCKET_MAX];
    char prefix[VMIG_S3_KEY_MAX]; /* key prefix without leading or trailing '/', may be "" */
};

/* Parse url (s3://bucket[/prefix]) and endpoint into s3. VMIG_E_USAGE when malformed or
 * when the credentials are not in the environment. */
enum vmig_code vmig_s3_init(struct vmig_s3 *s3, const char *url, const char *endpoint,
                            struct vmig_err *err);
/* PUT the file at path as object key (prefixed), streamed from disk. timeout_ms 0 = none. */
enum vmig_code vmig_s3_put_file(const struct vmig_s3 *s3, const char *key, const char *path,
                                int timeout_ms, struct vmig_err *err);

#endif

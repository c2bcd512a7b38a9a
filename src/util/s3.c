/*
 * s3.c - upload of one file to S3-compatible object storage (s3.h) with libcurl: a
 * streamed PUT (the file is read from disk as curl sends it, never held in memory),
 * signed by curl's own SigV4 (CURLOPT_AWS_SIGV4, "aws:amz:<region>:s3"). The payload
 * is declared UNSIGNED-PAYLOAD, which S3 and its clones accept over any transport and
 * which spares hashing a 256 MiB file before sending it.
 */
#include "util/s3.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

enum vmig_code vmig_s3_init(struct vmig_s3 *s3, const char *url, const char *endpoint,
                            struct vmig_err *err)
{
    memset(s3, 0, sizeof *s3);
    if (!url || strncmp(url, "s3://", 5) != 0 || !url[5] || url[5] == '/')
        return vmig_err_set(err, VMIG_E_USAGE,
                            "bulk storage URL must look like s3://bucket/prefix, not '%s'",
                            url ? url : "");
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen >= sizeof s3->bucket)
        return vmig_err_set(err, VMIG_E_USAGE, "bulk storage bucket name is too long");
    memcpy(s3->bucket, b, blen);
    const char *p = slash ? slash + 1 : "";
    snprintf(s3->prefix, sizeof s3->prefix, "%s", p);
    size_t pl = strlen(s3->prefix);
    while (pl && s3->prefix[pl - 1] == '/')
        s3->prefix[--pl] = 0;
    if (!endpoint || (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "bulk storage s3:// needs an endpoint http(s)://host:port, not '%s'",
                            endpoint ? endpoint : "");
    snprintf(s3->endpoint, sizeof s3->endpoint, "%s", endpoint);
    size_t el = strlen(s3->endpoint);
    while (el && s3->endpoint[el - 1] == '/')
        s3->endpoint[--el] = 0;
    if (!env("AWS_ACCESS_KEY_ID") || !env("AWS_SECRET_ACCESS_KEY"))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "bulk storage s3:// needs AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY in the environment");
    return VMIG_OK;
}

enum vmig_code vmig_s3_put_file(const struct vmig_s3 *s3, const char *key, const char *path,
                                int timeout_ms, struct vmig_err *err)
{
    enum vmig_code rc = VMIG_OK;
    CURL *c = NULL;
    struct curl_slist *hdr = NULL;
    char *url = NULL, *userpwd = NULL, sigv4[128], errbuf[CURL_ERROR_SIZE] = "";
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0) {
        rc = vmig_err_set(err, VMIG_E_IO, "cannot upload '%s': cannot open it", path);
        goto out;
    }
    pthread_once(&curl_once, curl_init_once);
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *region = env("AWS_REGION") ? env("AWS_REGION") : "us-east-1";
    if (!id || !secret) {
        rc = vmig_err_set(err, VMIG_E_AUTH,
                          "cannot upload to s3://%s: AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY are not set",
                          s3->bucket);
        goto out;
    }
    if (!(c = curl_easy_init())) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL, "cannot start an HTTP client");
        goto out;
    }
    /* the key's characters are safe as they are: the engine names objects
     * <collection>-<tag>-<n>.json, collection names are [A-Za-z0-9_] */
    size_t ulen = strlen(s3->endpoint) + strlen(s3->bucket) + strlen(s3->prefix) + strlen(key) + 8;
    url = malloc(ulen);
    size_t plen = strlen(id) + strlen(secret) + 2;
    userpwd = malloc(plen);
    if (!url || !userpwd) abort();
    snprintf(url, ulen, "%s/%s/%s%s%s", s3->endpoint, s3->bucket, s3->prefix,
             s3->prefix[0] ? "/" : "", key);
    snprintf(userpwd, plen, "%s:%s", id, secret);
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", region);
    hdr = curl_slist_append(hdr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, f);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sb.st_size);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        rc = vmig_err_set(err, VMIG_E_UNAVAILABLE, "cannot upload '%s' to s3://%s: %s", key,
                          s3->bucket, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else if (status < 200 || status >= 300) {
        enum vmig_code code = status == 401 || status == 403   ? VMIG_E_AUTH
                              : status == 429 || status >= 500 ? VMIG_E_UNAVAILABLE
                                                               : VMIG_E_REMOTE;
        rc = vmig_err_set(err, code, "cannot upload '%s' to s3://%s: HTTP %ld", key, s3->bucket,
                          status);
        if (err) err->server_code = (int)status;
    }
out:
    if (userpwd) {
        memset(userpwd, 0, strlen(userpwd)); /* the secret does not outlive the call */
        free(userpwd);
    }
    free(url);
    curl_slist_free_all(hdr);
    if (c) curl_easy_cleanup(c);
    if (f) fclose(f);
    return rc;
}

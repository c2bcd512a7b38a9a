/*
 * request.c - the pure part of reading an HTTP API request (server.c does the
 * I/O with libmicrohttpd): the bearer token check, the cross-site write check, the
 * /api/v1 prefix, and the JSON body (Content-Type, syntax, an object). Apart so
 * tests/fuzz/fuzz_api.c can feed these the bytes a client sends, with no socket.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/server.h"

int srv_token_ok(const char *hdr, const char *token)
{
    if (!hdr || strncasecmp(hdr, "Bearer ", 7) != 0) return 0;
    const char *got = hdr + 7;
    while (*got == ' ')
        got++;
    size_t a = strlen(got), b = strlen(token);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)(got[i < a ? i : 0] ^ token[i]);
    return diff == 0 && a == b;
}

int srv_cross_site(const char *origin, const char *host)
{
    if (!origin) return 0;
    if (!host) return 1;
    const char *p = strstr(origin, "://");
    p = p ? p + 3 : origin;
    return strcasecmp(p, host) != 0;
}

static int is_json_type(const char *ct)
{
    if (!ct) return 0;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", 16) == 0 &&
           (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

const char *srv_api_path(const char *url)
{
    if (strncmp(url, "/api/v1/", 8) != 0 && strcmp(url, "/api/v1") != 0) return NULL;
    return url + 7;
}

int srv_read_body(const char *content_type, const char *p, size_t len, json_t **body, char *msg,
                  size_t n)
{
    *body = NULL;
    if (!len) return 0;
    if (!is_json_type(content_type)) {
        snprintf(msg, n, "request bodies must be JSON (Content-Type: application/json)");
        return 415;
    }
    json_error_t je;
    *body = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
    if (!*body) {
        snprintf(msg, n, "malformed JSON body at line %d column %d: %s", je.line, je.column,
                 je.text);
        return 400;
    }
    if (!json_is_object(*body)) {
        json_decref(*body);
        *body = NULL;
        snprintf(msg, n, "the request body must be a JSON object");
        return 400;
    }
    return 0;
}

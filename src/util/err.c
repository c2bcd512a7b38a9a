/*
 * err.c - the error type: code names, retry classification, message and subject
 * helpers.
 */
#include <stdio.h>
#include <string.h>

#include "vmig/error.h"
#include "vmig/types.h"

_Static_assert(VMIG_ERR_COLL_MAX == VMIG_SRC_NAME_MAX, "err.coll holds a source name");
_Static_assert(VMIG_ERR_POINT_MAX == VMIG_ID_TEXT_MAX, "err.point holds a point id");

const char *vmig_strerror(enum vmig_code code)
{
    switch (code) {
    case VMIG_OK: return "ok";
    case VMIG_E_TIMEOUT: return "timeout";
    case VMIG_E_UNAVAILABLE: return "service unavailable";
    case VMIG_E_RATE_LIMIT: return "rate limited";
    case VMIG_E_AUTH: return "authentication failed";
    case VMIG_E_TLS: return "TLS failure";
    case VMIG_E_CONNECT: return "cannot connect";
    case VMIG_E_USAGE: return "invalid usage";
    case VMIG_E_NOT_FOUND: return "not found";
    case VMIG_E_EXISTS: return "already exists";
    case VMIG_E_SCHEMA: return "schema cannot be mapped";
    case VMIG_E_DATA: return "invalid data";
    case VMIG_E_VERIFY: return "verification failed";
    case VMIG_E_BUSY: return "target held by another job";
    case VMIG_E_PROTOCOL: return "protocol error";
    case VMIG_E_REMOTE: return "refused by server";
    case VMIG_E_IO: return "I/O error";
    case VMIG_E_INTERNAL: return "internal error";
    case VMIG_E_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

int vmig_code_is_retryable(enum vmig_code code)
{
    return code == VMIG_E_TIMEOUT || code == VMIG_E_UNAVAILABLE || code == VMIG_E_RATE_LIMIT;
}

enum vmig_code vmig_err_setv(struct vmig_err *err, enum vmig_code code, const char *fmt,
                             va_list ap)
{
    if (err) {
        /* a new error: no fact of an earlier one may stay with it */
        vmig_err_clear(err);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

enum vmig_code vmig_err_set(struct vmig_err *err, enum vmig_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmig_err_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void vmig_err_prefix(struct vmig_err *err, const char *fmt, ...)
{
    if (!err) return;
    char pre[VMIG_ERR_MSG_MAX], old[VMIG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s%s", pre, old);
}

void vmig_err_at(struct vmig_err *err, const char *coll, const char *point, const char *field)
{
    if (!err) return;
    if (coll) snprintf(err->coll, sizeof err->coll, "%s", coll);
    if (point) snprintf(err->point, sizeof err->point, "%s", point);
    if (field) snprintf(err->field, sizeof err->field, "%s", field);
}

void vmig_err_clear(struct vmig_err *err)
{
    if (!err) return;
    err->code = VMIG_OK;
    err->server_code = 0;
    err->retriable = 0;
    err->server_reason = VMIG_SR_NONE;
    err->coll[0] = err->point[0] = err->field[0] = '\0';
    err->msg[0] = '\0';
}

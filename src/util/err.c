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

void vmig_err_suffix(struct vmig_err *err, const char *fmt, ...)
{
    if (!err) return;
    if (!err->msg[0]) snprintf(err->msg, sizeof err->msg, "%s", vmig_strerror(err->code));
    size_t len = strlen(err->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + len, sizeof err->msg - len, fmt, ap);
    va_end(ap);
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
    err->fix = VMIG_FIX_NONE;
    err->fix_arg[0] = '\0';
    err->msg[0] = '\0';
}

enum vmig_code vmig_err_fix(struct vmig_err *err, enum vmig_fix fix, const char *arg)
{
    if (!err) return VMIG_OK;
    err->fix = fix;
    snprintf(err->fix_arg, sizeof err->fix_arg, "%s", arg ? arg : "");
    return err->code;
}

static const struct {
    const char *name, *hint;
} fixes[] = {
    [VMIG_FIX_NONE] = {"", ""},
    [VMIG_FIX_NULL_VALUES] = {"null_values", "Retry with null values dropped or kept"},
    [VMIG_FIX_PAYLOAD_CONFLICT] = {"payload_conflict",
                                   "Retry with conflicting payload keys stored as payload_<key>"},
    [VMIG_FIX_TARGET_NAME] = {"target_name", "Give the target collection another name"},
    [VMIG_FIX_SKIP_VECTOR] = {"skip_vector", "Leave this vector out of the migration"},
    [VMIG_FIX_VECTOR_LIMIT] = {"vector_limit",
                               "Leave some vectors out, or raise the vector limit to what your "
                               "Milvus cluster allows"},
    [VMIG_FIX_RENAME_FIELD] = {"rename_field", "Rename the field"},
    [VMIG_FIX_DESCRIPTION] = {"description", "Shorten the description"},
    [VMIG_FIX_REJECTS] = {"rejects", "Retry with oversized points set aside in a rejects file"},
    [VMIG_FIX_RESUME] = {"resume", "Resume the job"},
    [VMIG_FIX_WAIT_TIMEOUT] = {"wait_timeout", "Resume the job, or allow the server more time"},
    [VMIG_FIX_CREDENTIALS] = {"credentials", "Check the API key or token"},
    [VMIG_FIX_TLS] = {"tls", "Give the server's CA certificate (or allow an untrusted one for a "
                             "test server)"},
    [VMIG_FIX_ENDPOINT] = {"endpoint", "Check the URL, port and protocol, and that the server "
                                       "runs"},
    [VMIG_FIX_DATABASE] = {"database", "Create the database in Milvus, or choose another one"},
    [VMIG_FIX_BUSY] = {"busy", "Wait for the other job to end or cancel it, or give the target "
                               "collection another name"},
    [VMIG_FIX_JOB] = {"job", "Continue the job that created it (Retry or Resume it), or give the "
                             "target collection another name"},
    [VMIG_FIX_TYPED_FIELD] = {"typed_field", "Change the typed field, or keep the key in the "
                                             "dynamic field"},
    [VMIG_FIX_PAYLOAD_MISFIT] = {"payload_misfit",
                                 "Retry with such values kept in the dynamic field, or with "
                                 "those points set aside in a rejects file"},
    [VMIG_FIX_WRITE_MODE] = {"write_mode", "Write rows instead of bulk import files"},
};

const char *vmig_fix_name(enum vmig_fix fix)
{
    return (unsigned)fix < sizeof fixes / sizeof *fixes ? fixes[fix].name : "";
}

enum vmig_fix vmig_fix_from_name(const char *name)
{
    for (size_t i = 1; name && *name && i < sizeof fixes / sizeof *fixes; i++)
        if (strcmp(fixes[i].name, name) == 0) return (enum vmig_fix)i;
    return VMIG_FIX_NONE;
}

const char *vmig_fix_hint(enum vmig_fix fix)
{
    return (unsigned)fix < sizeof fixes / sizeof *fixes ? fixes[fix].hint : "";
}

/*
 * error.h - the one error type of libvmig.
 *
 * Every fallible library call returns an enum vmig_code and fills a caller-owned
 * struct vmig_err once, where the failure happens, with a message that names the
 * subject (collection, point id, field) and never contains a secret. Codes are
 * grouped by what the caller can do about them; the list is append-only.
 */
#ifndef VMIG_ERROR_H
#define VMIG_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vmig_code {
    VMIG_OK = 0,
    /* retry: transient, the same call may succeed later */
    VMIG_E_TIMEOUT = 1,     /* deadline exceeded, 408, gRPC DEADLINE_EXCEEDED */
    VMIG_E_UNAVAILABLE = 2, /* connection refused/reset, 502/503/504, gRPC UNAVAILABLE */
    VMIG_E_RATE_LIMIT = 3,  /* 429, Milvus rate limit, Status.retriable */
    /* fix credentials or connection settings */
    VMIG_E_AUTH = 10, /* 401/403, gRPC UNAUTHENTICATED / PERMISSION_DENIED */
    VMIG_E_TLS = 11,  /* certificate or handshake failure */
    VMIG_E_CONNECT = 12, /* wrong host/port/protocol (e.g. gRPC port given as REST) */
    /* fix input */
    VMIG_E_USAGE = 20,     /* bad option or argument */
    VMIG_E_NOT_FOUND = 21, /* collection or job does not exist */
    VMIG_E_EXISTS = 22,    /* target collection already exists */
    VMIG_E_SCHEMA = 23,    /* source shape cannot be mapped (5 vectors, Manhattan, ...) */
    VMIG_E_DATA = 24,      /* a point cannot be written (null payload value, key conflict, size) */
    VMIG_E_VERIFY = 25,    /* verification found a difference */
    VMIG_E_BUSY = 26,      /* target collection reserved by another active job */
    /* give up */
    VMIG_E_PROTOCOL = 30, /* unexpected answer from a server */
    VMIG_E_REMOTE = 31,   /* the server refused the request (non-retriable status) */
    VMIG_E_IO = 32,       /* local file or store error */
    VMIG_E_INTERNAL = 33,
    VMIG_E_CANCELLED = 34, /* the job was cancelled */
};

#define VMIG_ERR_MSG_MAX 1024
#define VMIG_ERR_COLL_MAX 1024 /* = VMIG_SRC_NAME_MAX: a whole Qdrant collection name */
#define VMIG_ERR_POINT_MAX 40  /* = VMIG_ID_TEXT_MAX: "18446744073709551615" or a UUID */
#define VMIG_ERR_FIELD_MAX 256 /* longer field/key names are cut here; the message has them whole  \
                                */

/* What a server's answer said besides its code, decided by the decoder that reads the
 * answer (the only place that may look at a server's reason text). */
enum vmig_server_reason {
    VMIG_SR_NONE = 0,
    VMIG_SR_EXISTS,     /* the object the request creates exists already */
    VMIG_SR_DB_MISSING, /* the database the request names does not exist */
    VMIG_SR_TRANSIENT,  /* the server is restarting / re-registering its nodes */
};

/* The way out of an error, decided where the error is found, worded by each face:
 * the CLI names its flag or command, the API answers the word (vmig_fix_name) and a
 * plain-language hint (vmig_fix_hint), the console offers the control. A message in
 * msg says what was wrong and where, never a face's flag. The list is append-only;
 * the JSON words are part of the HTTP API. */
enum vmig_fix {
    VMIG_FIX_NONE = 0,
    VMIG_FIX_NULL_VALUES,      /* "null_values": a payload value is null: drop or keep nulls */
    VMIG_FIX_PAYLOAD_CONFLICT, /* "payload_conflict": a payload key is a field's name: prefix it */
    VMIG_FIX_TARGET_NAME,      /* "target_name": the target collection exists / name invalid */
    VMIG_FIX_SKIP_VECTOR,      /* "skip_vector": vector err.field cannot be mapped: leave it out */
    VMIG_FIX_VECTOR_LIMIT,     /* "vector_limit": too many vectors: skip some or raise the limit */
    VMIG_FIX_RENAME_FIELD,     /* "rename_field": field err.field collides or is not a valid name */
    VMIG_FIX_DESCRIPTION,      /* "description": the description is too long */
    VMIG_FIX_REJECTS,          /* "rejects": a point is too large: set aside in a rejects file */
    VMIG_FIX_RESUME,           /* "resume": transient or interrupted: resume the job */
    VMIG_FIX_WAIT_TIMEOUT, /* "wait_timeout": a server-side wait ran out: resume or wait longer */
    VMIG_FIX_CREDENTIALS,  /* "credentials": check the API key / token */
    VMIG_FIX_TLS,          /* "tls": trust the server's CA certificate (or insecure, tests) */
    VMIG_FIX_ENDPOINT,     /* "endpoint": the URL / port / protocol is wrong or down */
    VMIG_FIX_DATABASE,     /* "database": the Milvus database does not exist */
    VMIG_FIX_BUSY,         /* "busy": job err.fix_arg writes the target: wait, cancel it, rename */
    VMIG_FIX_JOB,          /* "job": the target was made by job err.fix_arg: continue that job */
    VMIG_FIX_TYPED_FIELD,  /* "typed_field": payload key err.field cannot be typed as given */
    VMIG_FIX_PAYLOAD_MISFIT, /* "payload_misfit": a value does not fit its typed field */
    VMIG_FIX_WRITE_MODE,     /* "write_mode": bulk import cannot be used here: write rows */
};
#define VMIG_ERR_FIX_ARG_MAX 16 /* = VMIG_JOB_ID_MAX: the only fix_arg is a job id */

/*
 * The facts of an error are fields; nothing reads them back out of msg.
 *
 * Subject rule: whoever writes a collection, point id or field into msg sets the
 * matching field too (vmig_err_at), so msg always names what the fields say. A layer
 * that adds context reads the fields to decide: vmig_migrate_coll() prefixes
 * "collection 'SRC': " exactly once, unless coll already is SRC, and leaves with coll
 * = SRC (the source collection of the plan). vmig_err_prefix() keeps every field.
 */
struct vmig_err {
    enum vmig_code code;
    int server_code; /* HTTP status, gRPC status or Milvus code when known, else 0 */
    int retriable;   /* the server marked the failure retriable (Milvus Status.retriable) */
    int retry_after_ms; /* the server said when to ask again (Retry-After, retry-after), 0 = not */
    enum vmig_server_reason server_reason;
    char coll[VMIG_ERR_COLL_MAX];   /* collection the error is about, "" = none */
    char point[VMIG_ERR_POINT_MAX]; /* point id as text, "" = none */
    char field[VMIG_ERR_FIELD_MAX]; /* vector / payload field or key, "" = none */
    enum vmig_fix fix;                  /* the way out, VMIG_FIX_NONE = none known */
    char fix_arg[VMIG_ERR_FIX_ARG_MAX]; /* what the fix needs beyond the subject (busy: holder) */
    char msg[VMIG_ERR_MSG_MAX];
};

/* Short description of a code ("timeout", "schema cannot be mapped", ...). */
const char *vmig_strerror(enum vmig_code code);

/* Nonzero for codes a caller may retry with backoff. */
int vmig_code_is_retryable(enum vmig_code code);

/* Fill err (may be NULL) and return code. The message is printf-formatted. A new
 * error: the subject and server fields are reset (set them after, with vmig_err_at). */
enum vmig_code vmig_err_set(struct vmig_err *err, enum vmig_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum vmig_code vmig_err_setv(struct vmig_err *err, enum vmig_code code, const char *fmt,
                             va_list ap);

/* Prepend context ("collection 'docs': ") to an already set message. */
void vmig_err_prefix(struct vmig_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append context ("; tried 3 times in 1.0 s") to the message; an empty message is
 * first the code's description, so the text never begins with the suffix. */
void vmig_err_suffix(struct vmig_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Set the subject of err (may be NULL). A NULL argument leaves that field as it is,
 * "" clears it. Longer names are cut to the field's size. */
void vmig_err_at(struct vmig_err *err, const char *coll, const char *point, const char *field);

/* Set the way out (err may be NULL; arg NULL = none). Returns err->code. */
enum vmig_code vmig_err_fix(struct vmig_err *err, enum vmig_fix fix, const char *arg);

/* The fix's JSON word ("null_values", ...; "" for none) and back (unknown = NONE). */
const char *vmig_fix_name(enum vmig_fix fix);
enum vmig_fix vmig_fix_from_name(const char *name);

/* The way out in plain words for a face without flags (the console, API answers):
 * "Retry with null values dropped or kept". "" for none. */
const char *vmig_fix_hint(enum vmig_fix fix);

/* Reset err to VMIG_OK with no message, subject or server facts. */
void vmig_err_clear(struct vmig_err *err);

#ifdef __cplusplus
}
#endif
#endif

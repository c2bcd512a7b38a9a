/*
 * redact.h - the one secret redaction of libvmig and its faces: every text that
 * leaves the process (job logs, API answers, CLI errors) goes through these.
 */
#ifndef VMIG_UTIL_REDACT_H
#define VMIG_UTIL_REDACT_H

#include "util/buf.h"

/* Replace every occurrence of secret in b with "***"; for a Milvus token
 * "user:password" the password alone too. Secrets shorter than 3 bytes are left
 * alone (they cannot be told from ordinary text). secret may be NULL. */
void vmig_redact_secret(struct vmig_buf *b, const char *secret);

/* Credentials written into URLs in the text (scheme://user:pass@host) become
 * "***" in place of the user:pass part. */
void vmig_redact_userinfo(struct vmig_buf *b);

#endif

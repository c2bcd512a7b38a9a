/*
 * log.h - how a host (CLI, server) receives libvmig's log lines.
 */
#ifndef VMIG_LOG_H
#define VMIG_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum vmig_log_level { VMIG_LOG_ERROR = 0, VMIG_LOG_WARN, VMIG_LOG_INFO, VMIG_LOG_DEBUG };

/* msg is one line without a trailing newline, already redacted of secrets. */
typedef void (*vmig_log_fn)(void *ud, int level, const char *msg);

/* Install the callback (NULL = discard) and the most verbose level to deliver. */
void vmig_log_set(vmig_log_fn fn, void *ud, int level);

#ifdef __cplusplus
}
#endif
#endif

/*
 * log.h - library logging through a host-installed callback (SQLite's
 * SQLITE_CONFIG_LOG). The level check sits inside the macro, so disabled levels
 * cost one comparison. The library never writes to stdout/stderr itself.
 */
#ifndef VMIG_UTIL_LOG_H
#define VMIG_UTIL_LOG_H

#include "vmig/log.h"

extern int vmig_log_level_;
void vmig_log_emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VLOG(level, ...)                                                                           \
    do {                                                                                           \
        if ((level) <= vmig_log_level_) vmig_log_emit((level), __VA_ARGS__);                      \
    } while (0)
#define VLOG_ERROR(...) VLOG(VMIG_LOG_ERROR, __VA_ARGS__)
#define VLOG_WARN(...) VLOG(VMIG_LOG_WARN, __VA_ARGS__)
#define VLOG_INFO(...) VLOG(VMIG_LOG_INFO, __VA_ARGS__)
#define VLOG_DEBUG(...) VLOG(VMIG_LOG_DEBUG, __VA_ARGS__)

#endif

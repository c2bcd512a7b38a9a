/*
 * log.c - delivers library log lines to the host callback; see util/log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

int vmig_log_level_ = -1; /* nothing until a host installs a callback */
static vmig_log_fn log_fn;
static void *log_ud;

void vmig_log_set(vmig_log_fn fn, void *ud, int level)
{
    log_fn = fn;
    log_ud = ud;
    vmig_log_level_ = fn ? level : -1;
}

void vmig_log_emit(int level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_fn) log_fn(log_ud, level, line);
}

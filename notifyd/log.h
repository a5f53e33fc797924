/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * notifyd's own diagnostics: one line per message on stderr, with a <N> syslog prefix when stderr
 * is the journal ($JOURNAL_STREAM names it), which systemd's stdout/stderr→journal stream turns
 * into the right priority; plain text on a terminal or file. Messages about a monitored service
 * go to that service's journal view instead (unit-log.h).
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

void ks_log_set_max_level(int level);
int ks_log_get_max_level(void);
/* Whether $JOURNAL_STREAM names stderr's device and inode (read again at each call). */
bool ks_log_stderr_is_journal(void);

/* Logs and returns -abs(error) (or 0 when error is 0), so callers can "return log_error_errno(r, ...)".
 * errno is set to abs(error) while formatting, so %m prints it. */
int ks_log_internal(int level, int error, const char *func, const char *format, ...) _printf_(4, 5);

#define log_full_errno(level, error, ...) ks_log_internal((level), (error), __func__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, -ENOMEM, "Out of memory.")

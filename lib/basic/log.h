/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The programs' own diagnostics, one line per message. By default on stderr, with a <N> syslog
 * prefix when stderr is the journal ($JOURNAL_STREAM names it), which systemd's stdout/stderr
 * stream turns into the right priority; plain text on a terminal, a file or a pipe. A program
 * run by systemd with no stderr of its own (the generator) opens the journal's native socket,
 * /dev/kmsg, or keeps the messages in memory to hand them on later. Library code never logs: it
 * returns errors and diagnostics to the program, which logs them here.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

typedef enum ks_log_target {
        KS_LOG_TARGET_CONSOLE,  /* stderr */
        KS_LOG_TARGET_JOURNAL,  /* journald's native socket */
        KS_LOG_TARGET_KMSG,     /* /dev/kmsg, a real character device only */
        KS_LOG_TARGET_MEMORY,   /* kept, for ks_log_take_kept() */
} ks_log_target;

void ks_log_set_max_level(int level);
int ks_log_get_max_level(void);
/* "emerg" ... "debug" to LOG_EMERG ... LOG_DEBUG, or -EINVAL. */
int ks_log_level_from_string(const char *s);

/* SYSLOG_IDENTIFIER= on the journal and the "NAME[PID]: " tag on /dev/kmsg; the program's name
 * unless set. s must outlive the logger. */
void ks_log_set_identifier(const char *s);
/* Sends what follows to target; a negative errno and the console when it cannot be opened. A
 * record the target does not take (the socket gone, out of memory) goes to stderr instead. */
int ks_log_open(ks_log_target target);
ks_log_target ks_log_get_target(void);
/* KS_LOG_TARGET_MEMORY: hands out the messages kept so far (a strv, NULL for none). */
char **ks_log_take_kept(void);
/* Back to the console, closing what ks_log_open() opened and freeing what was kept. */
void ks_log_close(void);

/* Whether $JOURNAL_STREAM names stderr's device and inode (read again at each call). */
bool ks_log_stderr_is_journal(void);

/* Logs text as it is (already formatted, one line); returns 0. */
int ks_log_string(int level, const char *text);
/* Logs and returns -abs(error) (or 0 when error is 0), so callers can "return log_error_errno(r, ...)".
 * errno is abs(error) while formatting, so %m prints it; it is restored afterwards. */
int ks_log_internal(int level, int error, const char *func, const char *format, ...) _printf_(4, 5);

#define log_full_errno(level, error, ...) ks_log_internal((level), (error), __func__, __VA_ARGS__)
#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, -ENOMEM, "Out of memory.")

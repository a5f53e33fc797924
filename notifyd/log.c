/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notifyd's own stderr logging, with syslog priority prefixes when stderr is the journal (see log.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static int stderr_is_journal = -1;

void ks_log_set_max_level(int level) {
        max_level = level;
}

int ks_log_get_max_level(void) {
        return max_level;
}

/* systemd's convention (systemd.exec(5), $JOURNAL_STREAM): stderr is connected to the journal when
 * the variable names stderr's device and inode. An inherited variable with a redirected stderr (a
 * shell started from a service, a test) does not match, and a terminal gets no "<3>". */
bool ks_log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        uintmax_t dev, ino;
        struct stat st;
        int n = 0;

        if (!e || sscanf(e, "%ju:%ju%n", &dev, &ino, &n) != 2 || e[n] != 0)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (uintmax_t) st.st_dev == dev && (uintmax_t) st.st_ino == ino;
}

int ks_log_internal(int level, int error, const char *func, const char *format, ...) {
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                char buf[1024];
                va_list ap;

                if (stderr_is_journal < 0)
                        stderr_is_journal = ks_log_stderr_is_journal();
                errno = e;
                va_start(ap, format);
                vsnprintf(buf, sizeof buf, format, ap);
                va_end(ap);
                if (stderr_is_journal)
                        fprintf(stderr, "<%d>%s\n", level, buf);
                else
                        fprintf(stderr, "%s\n", buf);
        }
        return -e;
}

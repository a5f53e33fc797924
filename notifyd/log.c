/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notifyd's own stderr logging with syslog priority prefixes (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static int max_level = LOG_INFO;

void ks_log_set_max_level(int level) {
        max_level = level;
}

int ks_log_get_max_level(void) {
        return max_level;
}

int ks_log_internal(int level, int error, const char *func, const char *format, ...) {
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                char buf[1024];
                va_list ap;

                errno = e;
                va_start(ap, format);
                vsnprintf(buf, sizeof buf, format, ap);
                va_end(ap);
                fprintf(stderr, "<%d>%s\n", level, buf);
        }
        return -e;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Journal messages attributed to a service's unit (see unit-log.h). */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "time-util.h"
#include "log.h"
#include "unit-log.h"

#define MAX_FIELDS 16

void ks_unit_log(ks_ratelimit *rl, const char *unit, int priority, const char *const *fields, const char *format,
                 ...) {
        char message[512], msgfield[520], unitfield[300], prio[16], suppressed[48];
        struct iovec iov[MAX_FIELDS + 6];
        unsigned dropped = 0;
        size_t n = 0;
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);

        if (rl && !ks_ratelimit_check(rl, message, ks_now_usec(), &dropped))
                return;

        snprintf(msgfield, sizeof msgfield, "MESSAGE=%s", message);
        snprintf(unitfield, sizeof unitfield, "OBJECT_SYSTEMD_UNIT=%s", unit);
        snprintf(prio, sizeof prio, "PRIORITY=%d", priority);
        iov[n++] = (struct iovec) { msgfield, strlen(msgfield) };
        iov[n++] = (struct iovec) { unitfield, strlen(unitfield) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        iov[n++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=kservice-notifyd", 34 };
        if (dropped > 0) {
                snprintf(suppressed, sizeof suppressed, "KSERVICE_SUPPRESSED=%u", dropped);
                iov[n++] = (struct iovec) { suppressed, strlen(suppressed) };
        }
        for (size_t i = 0; fields && fields[i] && i < MAX_FIELDS; i++)
                iov[n++] = (struct iovec) { (char *) fields[i], strlen(fields[i]) };

        if (sd_journal_sendv(iov, (int) n) < 0)
                /* No journal (tests, early boot): keep the message on stderr at least. */
                log_full_errno(priority, 0, "%s: %s", unit, message);
}

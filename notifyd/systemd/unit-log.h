/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Journal messages about a monitored service, attributed to it with OBJECT_SYSTEMD_UNIT= so
 * that `journalctl -u konivrer@NAME` shows them next to the service's own output. Structured
 * fields carry the details (KSERVICE_NAME=, KSERVICE_STATE=, KSERVICE_RESULT=, ...).
 */
#pragma once

#include <stdarg.h>

#include "macro.h"
#include "ratelimit.h"

/* fields: NULL-terminated list of "KEY=value" strings (may be NULL). Goes through rl, which
 * may drop it; a message after dropped ones carries KSERVICE_SUPPRESSED=N. */
void ks_unit_log(ks_ratelimit *rl, const char *unit, int priority, const char *const *fields, const char *format,
                 ...) _printf_(5, 6);

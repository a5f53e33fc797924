/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Proof, at start, that notifyd can send notifications on behalf of another process.
 * sd_pid_notify() quietly retries with the sender's own credentials when the kernel refuses a
 * foreign PID in SCM_CREDENTIALS, so without this check a daemon lacking CAP_SYS_ADMIN would
 * "work" while systemd ignores (or misattributes) every READY=1 and WATCHDOG=1 it sends.
 */
#pragma once

#include <stddef.h>

/* 0 when a datagram carrying a foreign PID (a forked child's) arrives with exactly that PID.
 * Otherwise a negative errno, and a human explanation in reason. */
int ks_privilege_check_foreign_pid(char *reason, size_t size);

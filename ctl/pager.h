/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pager, as systemctl runs it: only when stdout is a terminal, $SYSTEMD_PAGER, else $PAGER,
 * else "less"; an empty value or "cat" means none. less gets LESS=FRSXMK unless $LESS is set
 * (F: quit when the text fits one screen, R: colours, S: no line wrap, X: no screen clearing,
 * M: verbose prompt, K: quit on Ctrl-C).
 */
#pragma once

#include <stdbool.h>

/* Starts the pager with stdout redirected into it, when stdout is a terminal. Returns 1 when
 * one runs, 0 when not (no terminal, none configured, it could not be started). */
int ks_pager_open(void);

/* Flushes stdout, closes the pipe and waits for the pager to exit. */
void ks_pager_close(void);

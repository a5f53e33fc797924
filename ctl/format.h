/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one kservicectl command prints, and the two ways of printing it: text for a person
 * (format-text.c, after systemctl's habits) and one JSON object per invocation (format-json.c,
 * the shape ctl/kservicectl.schema.json documents). Both are pure: the output depends only on
 * the ks_ctl_output and the context (the time "now", colour, the time zone for text).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json-writer.h"
#include "service-view.h"

typedef enum ks_ctl_command {
        KS_CTL_STATUS,
        KS_CTL_SHOW,
        KS_CTL_HISTORY,
        KS_CTL_CHECK,
        KS_CTL_RESET,
        _KS_CTL_COMMAND_MAX,
} ks_ctl_command;

const char *ks_ctl_command_to_string(ks_ctl_command c);

/* CheckNow's answer. */
typedef struct ks_check_now {
        bool passed;
        char *reason;
        uint64_t latency_usec;
} ks_check_now;

typedef struct ks_ctl_output {
        ks_ctl_command command;
        bool overview;                  /* status without NAME: one line per definition */
        ks_service_view **services;     /* status: each shown; the others: exactly one */
        size_t n_services;
        ks_check_now check;             /* check */
        const char *notes[4];           /* one-line notes ("kservice-notifyd is not running..."), NULL-terminated */
} ks_ctl_output;

typedef struct ks_format_context {
        uint64_t now_usec;              /* realtime, for "5min ago" */
        bool color;                     /* ANSI colours (a terminal, NO_COLOR unset) */
} ks_format_context;

/* Text to f. Returns 0, or -EIO when writing failed. */
int ks_format_text(FILE *f, const ks_ctl_output *o, const ks_format_context *c);

/* The JSON document, newline-terminated, in *ret. */
int ks_format_json(const ks_ctl_output *o, ks_json_flags flags, char **ret);

/* The notes that apply to these services (notifyd not running, not watching one), into
 * o->notes. */
void ks_ctl_output_add_notes(ks_ctl_output *o);

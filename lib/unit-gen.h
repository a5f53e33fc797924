/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Turns one validated ks_service into the files a generator writes for it: the service unit,
 * the wants-symlinks and the hot-reload units. Shared by kservice-generator (which writes them)
 * and kservicectl verify / --dry-run (which print them), so both show exactly the same bytes.
 *
 * What is produced for service NAME (paths relative to the generator's normal directory):
 *
 *   konivrer@NAME.service                         always
 *   TARGET.wants/konivrer@NAME.service -> ../konivrer@NAME.service
 *                                                 enabled = true, one per wanted_by target
 *   konivrer-reload@NAME.path                     reload_on_change: pulled in by the service
 *                                                 (Wants=), stopped with it (PartOf=); starts
 *                                                 konivrer-reload@NAME.service, an instance of
 *                                                 the installed template units/konivrer-reload@
 *                                                 .service: "systemctl reload konivrer@NAME.service"
 *
 * on_give_up becomes OnFailure=: systemd triggers OnFailure= when the unit enters the "failed"
 * state. Before systemd 254 an automatic restart never does (the unit goes through
 * "auto-restart"); from 254 on it does unless RestartMode=direct, which the generator therefore
 * emits there. So OnFailure= fires only when the restart policy gives up: the start limit is hit
 * (StartLimitBurst= is max_restarts + 1 starts within restart_window), or the exit is one
 * restart does not cover.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "macro.h"
#include "service.h"

/* The systemd version the units are written for; RestartSteps=, RestartMaxDelaySec= and
 * RestartMode= need 254. */
#define KS_SYSTEMD_VERSION_RESTART_STEPS 254
#define KS_SYSTEMD_VERSION_RESTART_MODE 254
/* systemd's DefaultTimeoutStartSec= and DefaultTimeoutStopSec=, for a timeout a definition leaves unset. */
#define KS_SYSTEMD_DEFAULT_TIMEOUT_USEC (90 * KS_USEC_PER_SEC)

typedef struct ks_unit_file {
        char *path;             /* relative to the output directory, e.g. "konivrer@web.service" */
        char *content;          /* NULL for a symlink */
        size_t size;
        char *symlink;          /* symlink target, e.g. "../konivrer@web.service" */
} ks_unit_file;

typedef struct ks_unit_files {
        ks_unit_file *items;
        size_t n;
} ks_unit_files;

typedef struct ks_unit_gen_options {
        unsigned systemd_version;       /* 0: unknown, treated as older than every feature */
} ks_unit_gen_options;

/* The longest a job of the unit may run, written as JobRunningTimeoutSec= where RestartMode=direct
 * would otherwise keep a start job running across restarts: start_timeout + stop_timeout (each
 * KS_SYSTEMD_DEFAULT_TIMEOUT_USEC when unset), KS_USEC_INFINITY when either is infinite. */
uint64_t ks_unit_job_timeout_usec(const ks_service *s);

/* Builds the files for s. Values a unit file cannot carry become diagnostics ("FILE:LINE:COL:
 * key ...") and the result is -EINVAL with nothing in *ret. Notices (a feature degraded for an
 * old systemd) go to notices, if non-NULL, with the position of the key concerned. */
int ks_unit_gen(const ks_service *s, const ks_unit_gen_options *o, ks_unit_files *ret,
                ks_diag_list *diags, ks_diag_list *notices);

void ks_unit_files_done(ks_unit_files *f);

/* The files as --dry-run and kservicectl verify show them: each preceded by a line
 * "==> PATH <==" (or "==> PATH -> TARGET <==" for a symlink) and followed by an empty line. */
int ks_unit_files_format(const ks_unit_files *f, char **ret, size_t *ret_size);

/* Runs the whole pipeline over a definition set: for each entry that is not masked, load and
 * validate (ks_service_load_files()) and generate (ks_unit_gen()); every problem of the set, every
 * diagnostic and every notice is handed to log() (level as in syslog.h: LOG_ERR for errors,
 * LOG_NOTICE for degraded features, LOG_INFO for masked definitions), every successfully generated
 * service to emit(). A negative return of emit() counts as a failure of that service. Returns the
 * number of definitions (or problems) that failed, or -ENOMEM. */
typedef struct ks_unit_gen_callbacks {
        void (*log)(int level, const char *text, void *userdata);
        int (*emit)(const ks_service *s, const ks_unit_files *files, void *userdata);
        /* Optional: the drop-in of ks_unit_gen_invalid() for each definition that does not load
         * (path: the definition's file), which the generator writes and a dry run does not. */
        int (*emit_invalid)(const char *path, const ks_unit_files *files, void *userdata);
        void *userdata;
} ks_unit_gen_callbacks;

/* For a definition NAME that does not load, no unit is generated and systemd falls back to the
 * installed template konivrer@.service, which fails. This builds the drop-in
 * konivrer@NAME.service.d/50-kservice-invalid.conf that makes the fallback say so where the user
 * looks (systemctl status): a Description= with the first error (FILE:LINE:COL: message), and
 * an ExecStart= printing it with the number of errors into the unit's journal. */
int ks_unit_gen_invalid(const char *name, const char *path, const char *first_error, size_t n_errors,
                        ks_unit_files *ret);

typedef struct ks_config_set ks_config_set;
int ks_unit_gen_set(const ks_config_set *set, const ks_unit_gen_options *o, const ks_unit_gen_callbacks *cb);

/* The systemd version installed on this machine, without asking the (maybe not yet running)
 * manager: $KSERVICE_SYSTEMD_VERSION if set, else the number in the file name of systemd's
 * private shared library (libsystemd-shared-NNN.so, which is versioned with systemd itself) in
 * the usual library directories. 0 when it cannot be told. */
unsigned ks_systemd_version(void);

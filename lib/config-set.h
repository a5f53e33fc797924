/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The set of kservice definitions found on a search path, as the generator, notifyd and
 * kservicectl all see it.
 *
 * Search path: KSERVICE_CONFIG_PATH if set (colon-separated), else KSERVICE_CONFIG_PATH_DEFAULT
 * from config.h (/etc/kservice:/run/kservice:/usr/lib/kservice). For each NAME:
 *  - NAME.toml from the earliest directory that has one wins; the others are ignored;
 *  - the winner masks NAME when it is empty or a symlink to /dev/null (no unit at all);
 *  - drop-ins NAME.toml.d/ *.toml are gathered from every directory; for the same file name the
 *    earliest directory wins, and an empty or /dev/null winner removes that drop-in; they are
 *    applied in file name order (byte order, strcmp);
 *  - drop-ins for a NAME without a NAME.toml anywhere are ignored;
 *  - hidden files (starting with '.') and files not ending in ".toml" are ignored;
 *  - a NAME that breaks ks_service_name_is_valid() (lib/service.h) is reported as a problem.
 * Entries come out sorted by NAME. Work is O(n log n) in the number of files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct ks_config_entry {
        char *name;             /* NAME */
        char *path;             /* the winning NAME.toml */
        bool masked;            /* path is empty or a symlink to /dev/null: produce nothing */
        char **dropins;         /* full paths, in the order they apply */
        size_t n_dropins;
} ks_config_entry;

/* Something found on the search path that is not a usable definition (an invalid NAME, an
 * unreadable directory, a NAME.toml that is not a regular file). Reported, never fatal. */
typedef struct ks_config_problem {
        char *path;
        int error;              /* negative errno */
        char *message;          /* "not a valid service name: ..." */
} ks_config_problem;

typedef struct ks_config_set {
        ks_config_entry *entries;
        size_t n_entries;
        ks_config_problem *problems;
        size_t n_problems;
} ks_config_set;

/* The search path in effect: $KSERVICE_CONFIG_PATH or the built-in default. */
const char *ks_config_search_path(void);

/* Scans the search path (NULL means ks_config_search_path()). Fails only on OOM or an
 * unusable search path (-EINVAL); everything else ends up in problems. */
int ks_config_set_load(const char *search_path, ks_config_set **ret);

/* A set made of explicitly named files (kservicectl verify, --dry-run FILE...): NAME is the
 * file name without ".toml" and drop-ins come from FILE.d/ next to it. */
int ks_config_set_load_files(char *const *files, size_t n, ks_config_set **ret);

ks_config_set *ks_config_set_free(ks_config_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_config_set *, ks_config_set_free);

const ks_config_entry *ks_config_set_find(const ks_config_set *s, const char *name);

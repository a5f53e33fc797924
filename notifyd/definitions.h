/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service definitions notifyd acts on: every NAME.toml on the search path (lib/config-set.h,
 * the same view the generator has) that loads without errors and has health checks. A
 * definition that fails to load is reported and listed in failed, so that a running monitor for
 * it can be kept as it was rather than dropped.
 */
#pragma once

#include <stddef.h>

#include "macro.h"
#include "service.h"

typedef struct ks_definitions {
        ks_service **services;  /* with health checks, sorted by unit name */
        size_t n_services;
        char **failed;          /* NAMEs whose files did not load */
        size_t n_failed;
        size_t n_total;         /* definitions seen (masked ones excluded) */
} ks_definitions;

/* search_path NULL: $KSERVICE_CONFIG_PATH or the built-in default. Fails only on OOM or an
 * unusable search path; each broken definition is logged. */
int ks_definitions_load(const char *search_path, ks_definitions **ret);
ks_definitions *ks_definitions_free(ks_definitions *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_definitions *, ks_definitions_free);

bool ks_definitions_failed(const ks_definitions *d, const char *name);

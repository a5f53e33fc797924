/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the definitions with health checks (see definitions.h). */
#include <errno.h>
#include <string.h>

#include "config-set.h"
#include "definitions.h"
#include "log.h"

static int compare_unit(const void *a, const void *b) {
        const ks_service *const *x = a, *const *y = b;

        return strcmp((*x)->unit, (*y)->unit);
}

int ks_definitions_load(const char *search_path, ks_definitions **ret) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        _cleanup_(ks_definitions_freep) ks_definitions *d = NULL;
        int r;

        r = ks_config_set_load(search_path, &set);
        if (r < 0)
                return log_error_errno(r, "Failed to scan the definitions search path %s: %m",
                                       search_path ?: ks_config_search_path());
        for (size_t i = 0; i < set->n_problems; i++)
                log_warning("%s: %s", set->problems[i].path, set->problems[i].message);

        d = calloc(1, sizeof *d);
        if (!d)
                return log_oom();
        d->services = calloc(set->n_entries ?: 1, sizeof(ks_service *));
        d->failed = calloc(set->n_entries ?: 1, sizeof(char *));
        if (!d->services || !d->failed)
                return log_oom();

        for (size_t i = 0; i < set->n_entries; i++) {
                const ks_config_entry *e = &set->entries[i];
                _cleanup_diag_list_ ks_diag_list diags = {};
                ks_service *s = NULL;

                if (e->masked)
                        continue;
                d->n_total++;
                r = ks_service_load_files(e->name, e->path, (const char *const *) e->dropins, e->n_dropins, &s,
                                          &diags);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        for (size_t j = 0; j < diags.n; j++)
                                log_warning("%s", diags.items[j].text);
                        log_warning("%s: not loaded, its health checks (if any) stay as they were.", e->path);
                        d->failed[d->n_failed] = strdup(e->name);
                        if (!d->failed[d->n_failed])
                                return log_oom();
                        d->n_failed++;
                        continue;
                }
                if (!ks_service_has_health(s)) {
                        ks_service_free(s);
                        continue;
                }
                /* Kept for as long as notifyd runs, one per service: only what checking needs. */
                ks_service_drop_origins(s);
                d->services[d->n_services++] = s;
        }
        qsort(d->services, d->n_services, sizeof(ks_service *), compare_unit);

        *ret = TAKE_PTR(d);
        return 0;
}

ks_definitions *ks_definitions_free(ks_definitions *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_services; i++)
                ks_service_free(d->services[i]);
        free(d->services);
        for (size_t i = 0; i < d->n_failed; i++)
                free(d->failed[i]);
        free(d->failed);
        return mfree(d);
}

bool ks_definitions_failed(const ks_definitions *d, const char *name) {
        for (size_t i = 0; i < d->n_failed; i++)
                if (streq(d->failed[i], name))
                        return true;
        return false;
}

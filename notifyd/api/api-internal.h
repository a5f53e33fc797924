/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the API's two halves share: the ks_api object (api.c: the name, the manager, the waiting
 * CheckNow calls) and the per-service objects (api-service.c: the fallback vtable, its node
 * enumerator, PropertiesChanged).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "api.h"
#include "daemon.h"

/* A CheckNow call waiting for its monitor's round. */
typedef struct ks_api_call ks_api_call;
struct ks_api_call {
        ks_monitor *monitor;
        sd_bus_message *message;
        ks_api_call *prev, *next;
};

struct ks_api {
        sd_bus *bus;
        ks_daemon *daemon;
        sd_bus_slot *manager_slot, *service_slot, *enumerator_slot, *name_slot;
        uid_t privileged_uid;
        ks_api_call *calls;             /* waiting CheckNow calls, newest first */
        size_t n_calls;
};

/* The service objects: the vtable, the fallback's find function (userdata: the ks_api; *found:
 * the ks_monitor) and the node enumerator, registered by api.c. */
extern const sd_bus_vtable ks_api_service_vtable[];
int ks_api_service_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error);
int ks_api_service_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* Appends s as a D-Bus string; bytes that are not UTF-8 (a server's words in a reason) as '?'. */
int ks_api_append_string(sd_bus_message *m, const char *s);

/* PropertiesChanged for the state-change properties that what (KS_RECORD_*) names; nothing for
 * the per-round ones. */
void ks_api_service_changed(ks_api *a, ks_monitor *m, unsigned what);

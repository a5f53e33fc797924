/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * notifyd's D-Bus API, org.kservice.Notifyd1 (kservice-notifyd(8), "D-BUS API"): the well-known
 * name, the manager object /org/kservice/Notifyd1 (ListServices, GetService, CheckNow,
 * ResetHistory) and one object per service with health checks under
 * /org/kservice/Notifyd1/service/, all served from the daemon's monitors (nothing copied).
 * ks_api_new() makes the API the daemon's observer: state changes of a service's health record
 * become PropertiesChanged, per-round values never do.
 */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "daemon.h"
#include "macro.h"

#define KS_API_BUS_NAME "org.kservice.Notifyd1"
#define KS_API_MANAGER_PATH "/org/kservice/Notifyd1"
#define KS_API_SERVICE_PREFIX "/org/kservice/Notifyd1/service"
#define KS_API_MANAGER_INTERFACE "org.kservice.Notifyd1.Manager"
#define KS_API_SERVICE_INTERFACE "org.kservice.Notifyd1.Service"
#define KS_API_ERROR_NO_SUCH_SERVICE "org.kservice.Notifyd1.NoSuchService"
#define KS_API_ERROR_NOT_RUNNING "org.kservice.Notifyd1.NotRunning"

typedef struct ks_api ks_api;

/* Registers the objects on bus, becomes d's observer (ks_daemon_set_observer()) and asks for the
 * name without waiting: not getting it is logged as a warning, the checks go on without the API.
 * Fails (logged) only when the objects cannot be registered. d must outlive the API. */
int ks_api_new(sd_bus *bus, ks_daemon *d, ks_api **ret);
/* Answers the CheckNow calls still waiting with an error, stops observing the daemon and
 * unregisters the objects. */
ks_api *ks_api_free(ks_api *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_api *, ks_api_free);

/* The EUID allowed to call CheckNow and ResetHistory: 0 (root), unless a test sets another. */
void ks_api_set_privileged_uid(ks_api *a, uid_t uid);

/* A service's object path, /org/kservice/Notifyd1/service/ and NAME escaped (sd_bus_path_encode()). */
int ks_api_service_path(const char *name, char **ret);

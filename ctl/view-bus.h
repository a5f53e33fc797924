/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Filling a ks_service_view from the system bus: the unit from systemd (org.freedesktop.systemd1),
 * the health from notifyd (org.kservice.Notifyd1, see kservice-notifyd(8)), and notifyd's two
 * methods. Calls never start a service by bus activation.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "format.h"
#include "service-view.h"

/* Reads the unit's state into v->u (v->unit_read), or sets v->unit_error. Fails only on OOM. */
int ks_view_read_unit(sd_bus *bus, ks_service_view *v);

/* Reads the health into v->h and sets v->health_source (NOT_RUNNING, NOT_WATCHED, ERROR with
 * v->health_error). Fails only on OOM. Does nothing for a view whose source is NO_CHECKS or INVALID. */
int ks_view_read_health(sd_bus *bus, ks_service_view *v);

/* CheckNow(name) and ResetHistory(name). On failure, returns a negative errno and fills error
 * (org.kservice.Notifyd1.NoSuchService, .NotRunning, org.freedesktop.DBus.Error.AccessDenied,
 * ServiceUnknown/NameHasNoOwner when notifyd is not running). */
int ks_notifyd_check_now(sd_bus *bus, const char *name, ks_check_now *ret, sd_bus_error *error);
int ks_notifyd_reset_history(sd_bus *bus, const char *name, sd_bus_error *error);

/* The error says that notifyd is not on the bus. */
bool ks_notifyd_error_is_absent(const sd_bus_error *error);

#define KS_NOTIFYD_SERVICE "org.kservice.Notifyd1"
#define KS_NOTIFYD_PATH "/org/kservice/Notifyd1"
#define KS_NOTIFYD_MANAGER KS_NOTIFYD_SERVICE ".Manager"
#define KS_NOTIFYD_SERVICE_IFACE KS_NOTIFYD_SERVICE ".Service"
#define KS_NOTIFYD_ERROR_NO_SUCH_SERVICE KS_NOTIFYD_SERVICE ".NoSuchService"
#define KS_NOTIFYD_ERROR_NOT_RUNNING KS_NOTIFYD_SERVICE ".NotRunning"

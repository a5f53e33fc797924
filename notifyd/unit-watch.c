/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unit watcher (see unit-watch.h). Why one namespace match instead of one match per unit:
 * the system bus allows a connection 512 match rules by default, and notifyd may watch
 * thousands of units. systemd already broadcasts PropertiesChanged for every unit once we are
 * subscribed; we decode the unit name from the object path and drop what is not ours at once.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "unit-watch.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"
#define IFACE_UNIT "org.freedesktop.systemd1.Unit"
#define IFACE_SERVICE "org.freedesktop.systemd1.Service"

struct ks_watcher {
        sd_bus *bus;
        sd_bus_slot *match_properties;
        sd_bus_slot *match_reloading;
        ks_watch_unit_t on_unit;
        ks_watch_reloaded_t on_reloaded;
        void *userdata;
};

static const struct {
        const char *iface, *name, *signature;
        unsigned mask;
} props[] = {
        /* In the order a refresh asks for them: MainPID last, so that a unit is seen running
         * (which needs a MainPID) only once the rest is known, and is started on just once. */
        { IFACE_UNIT, "ActiveState", "s", KS_UNIT_ACTIVE_STATE },
        { IFACE_UNIT, "SubState", "s", KS_UNIT_SUB_STATE },
        { IFACE_UNIT, "InvocationID", "ay", KS_UNIT_INVOCATION_ID },
        { IFACE_SERVICE, "ExecMainStartTimestampMonotonic", "t", KS_UNIT_MAIN_START },
        { IFACE_SERVICE, "MainPID", "u", KS_UNIT_MAIN_PID },
};

int ks_unit_object_path(const char *unit, char **ret) {
        return sd_bus_path_encode(UNIT_PATH_PREFIX, unit, ret);
}

/* Reads one property value (the message is positioned at the variant). 0: not ours (skipped). */
static int read_value(sd_bus_message *m, const char *iface, const char *name, ks_unit_state *st,
                      unsigned *mask) {
        for (size_t i = 0; i < ELEMENTSOF(props); i++) {
                const char *s;
                const void *p;
                size_t n;
                int r;

                if (!streq(props[i].name, name) || (iface && !streq(props[i].iface, iface)))
                        continue;
                r = sd_bus_message_enter_container(m, 'v', props[i].signature);
                if (r < 0)
                        return r;
                switch (props[i].mask) {
                case KS_UNIT_ACTIVE_STATE:
                case KS_UNIT_SUB_STATE:
                        r = sd_bus_message_read_basic(m, 's', &s);
                        if (r < 0)
                                return r;
                        if (props[i].mask == KS_UNIT_ACTIVE_STATE)
                                snprintf(st->active_state, sizeof st->active_state, "%s", s);
                        else
                                snprintf(st->sub_state, sizeof st->sub_state, "%s", s);
                        break;
                case KS_UNIT_INVOCATION_ID:
                        r = sd_bus_message_read_array(m, 'y', &p, &n);
                        if (r < 0)
                                return r;
                        if (n == sizeof st->invocation_id.bytes)
                                memcpy(st->invocation_id.bytes, p, n);
                        else
                                st->invocation_id = SD_ID128_NULL;
                        break;
                case KS_UNIT_MAIN_PID:
                        r = sd_bus_message_read_basic(m, 'u', &st->main_pid);
                        if (r < 0)
                                return r;
                        break;
                case KS_UNIT_MAIN_START:
                        r = sd_bus_message_read_basic(m, 't', &st->main_start_usec);
                        if (r < 0)
                                return r;
                        break;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                *mask |= props[i].mask;
                return 1;
        }
        return sd_bus_message_skip(m, "v");
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ks_watcher *w = userdata;
        _cleanup_free_ char *unit = NULL;
        const char *path = sd_bus_message_get_path(m), *iface, *name;
        ks_unit_state st = {};
        unsigned mask = 0;
        bool invalidated = false;
        int r;

        if (!path || sd_bus_path_decode(path, UNIT_PATH_PREFIX, &unit) <= 0)
                return 0;
        if (strncmp(unit, KS_UNIT_PREFIX, strlen(KS_UNIT_PREFIX)) != 0)
                return 0;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                goto bad;
        if (!streq(iface, IFACE_UNIT) && !streq(iface, IFACE_SERVICE))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                goto bad;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        goto bad;
                r = read_value(m, iface, name, &st, &mask);
                if (r < 0)
                        goto bad;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto bad;
        }
        if (r < 0)
                goto bad;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto bad;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                goto bad;
        while ((r = sd_bus_message_read_basic(m, 's', &name)) > 0)
                for (size_t i = 0; i < ELEMENTSOF(props); i++)
                        if (streq(props[i].iface, iface) && streq(props[i].name, name))
                                invalidated = true;
        if (r < 0)
                goto bad;

        if (mask)
                w->on_unit(unit, &st, mask, w->userdata);
        if (invalidated)
                (void) ks_watcher_refresh(w, unit);
        return 0;
bad:
        log_debug_errno(r, "Malformed PropertiesChanged from %s: %m", path);
        return 0;
}

static int on_reloading(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ks_watcher *w = userdata;
        int active, r;

        r = sd_bus_message_read(m, "b", &active);
        if (r < 0)
                return 0;
        /* Reloading(true) comes before the reload, Reloading(false) after: then definitions and
         * generated units are in their new state. */
        if (!active)
                w->on_reloaded(w->userdata);
        return 0;
}

/* ---- a full read of one unit: five Get calls ---- */

typedef struct refresh refresh;
typedef struct refresh_call {
        refresh *f;
        size_t prop;            /* index in props[] */
} refresh_call;

struct refresh {
        ks_watcher *watcher;
        unsigned refs;          /* the caller's reference plus one per slot still alive */
        refresh_call calls[ELEMENTSOF(props)];
        char unit[];
};

static void refresh_unref(refresh *f) {
        if (--f->refs == 0)
                free(f);
}

static void call_destroy(void *userdata) {
        refresh_call *c = userdata;

        refresh_unref(c->f);
}

static int on_get_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        refresh_call *c = userdata;
        refresh *f = c->f;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        ks_unit_state st = {};
        unsigned mask = 0;

        /* Each reply is applied as soon as it arrives, never held back to be combined with the
         * others: systemd answers with the value at the time it handles the call, and signals
         * about later changes reach us after the reply (one connection keeps the order). A value
         * held back could be older than a signal received meanwhile, and undo it. */
        if (!e) {
                if (read_value(reply, props[c->prop].iface, props[c->prop].name, &st, &mask) > 0 && mask)
                        f->watcher->on_unit(f->unit, &st, mask, f->watcher->userdata);
        } else
                log_debug("Reading %s of %s failed: %s", props[c->prop].name, f->unit, e->message);
        return 0;
}

int ks_watcher_refresh(ks_watcher *w, const char *unit) {
        _cleanup_free_ char *path = NULL;
        refresh *f;
        int r = 0;

        r = ks_unit_object_path(unit, &path);
        if (r < 0)
                return r;
        f = calloc(1, sizeof *f + strlen(unit) + 1);
        if (!f)
                return -ENOMEM;
        f->watcher = w;
        strcpy(f->unit, unit);
        f->refs = 1;

        for (size_t i = 0; i < ELEMENTSOF(props); i++) {
                sd_bus_slot *slot = NULL;

                f->calls[i] = (refresh_call) { .f = f, .prop = i };
                r = sd_bus_call_method_async(w->bus, &slot, SYSTEMD_DEST, path, "org.freedesktop.DBus.Properties",
                                             "Get", on_get_reply, &f->calls[i], "ss", props[i].iface, props[i].name);
                if (r < 0)
                        break;
                f->refs++;
                (void) sd_bus_slot_set_destroy_callback(slot, call_destroy);
                (void) sd_bus_slot_set_floating(slot, 1);
                sd_bus_slot_unref(slot);
        }
        refresh_unref(f);
        return r < 0 ? r : 0;
}

/* ---- setup ---- */

int ks_watcher_new(sd_bus *bus, ks_watch_unit_t on_unit, ks_watch_reloaded_t on_reloaded, void *userdata,
                   ks_watcher **ret) {
        _cleanup_(ks_watcher_freep) ks_watcher *w = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->bus = sd_bus_ref(bus);
        w->on_unit = on_unit;
        w->on_reloaded = on_reloaded;
        w->userdata = userdata;

        r = sd_bus_add_match(bus, &w->match_properties,
                             "type='signal',sender='" SYSTEMD_DEST "',"
                             "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                             "path_namespace='" UNIT_PATH_PREFIX "'",
                             on_properties_changed, w);
        if (r < 0)
                return log_error_errno(r, "Failed to add the PropertiesChanged match: %m");
        r = sd_bus_add_match(bus, &w->match_reloading,
                             "type='signal',sender='" SYSTEMD_DEST "',"
                             "interface='org.freedesktop.systemd1.Manager',member='Reloading',"
                             "path='" SYSTEMD_PATH "'",
                             on_reloading, w);
        if (r < 0)
                return log_error_errno(r, "Failed to add the Reloading match: %m");

        /* Without Subscribe systemd does not emit unit signals at all. */
        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, "org.freedesktop.systemd1.Manager", "Subscribe",
                               &error, NULL, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to subscribe to systemd: %s", error.message ?: "?");
                sd_bus_error_free(&error);
                return r;
        }

        *ret = TAKE_PTR(w);
        return 0;
}

ks_watcher *ks_watcher_free(ks_watcher *w) {
        if (!w)
                return NULL;
        sd_bus_slot_unref(w->match_properties);
        sd_bus_slot_unref(w->match_reloading);
        sd_bus_unref(w->bus);
        return mfree(w);
}

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
#include "ratelimit.h"
#include "refresh-queue.h"
#include "service.h"
#include "unit-watch.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"
#define IFACE_UNIT "org.freedesktop.systemd1.Unit"
#define IFACE_SERVICE "org.freedesktop.systemd1.Service"

/* Full reads in flight at once: 16 units are 96 calls (six properties each), under the 128
 * pending replies the system bus allows one connection (max_replies_per_connection). */
#define REFRESH_MAX_ACTIVE 16
#define REFRESH_RETRY_MIN_USEC (1 * 1000000ull)
#define REFRESH_RETRY_MAX_USEC (30 * 1000000ull)

struct ks_watcher {
        sd_bus *bus;
        sd_bus_slot *match_properties;
        sd_bus_slot *match_reloading;
        ks_watch_unit_t on_unit;
        ks_watch_reloaded_t on_reloaded;
        void *userdata;
        sd_event *event;
        ks_refresh_queue *queue;        /* units waiting for, or in, a full read */
        bool pumping;
        ks_ratelimit rl;                /* for the "cannot read" warnings */
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
        { IFACE_SERVICE, "WatchdogUSec", "t", KS_UNIT_WATCHDOG_USEC },
        { IFACE_SERVICE, "NRestarts", "u", KS_UNIT_N_RESTARTS },
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
                case KS_UNIT_N_RESTARTS:
                        r = sd_bus_message_read_basic(m, 'u', &st->n_restarts);
                        if (r < 0)
                                return r;
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
                case KS_UNIT_WATCHDOG_USEC:
                        r = sd_bus_message_read_basic(m, 't', &st->watchdog_usec);
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

        /* A new invocation: systemd fixes its WatchdogUSec at start (a drop-in changed since
         * applies now) and does not signal it, so read it again. Not on every signal that carries
         * the InvocationID: at 1000 services that was 70 full reads (420 calls) a second. */
        if (mask && w->on_unit(unit, &st, mask, w->userdata))
                invalidated = true;
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
        ks_refresh_item item;   /* first: the queue hands this back */
        ks_watcher *watcher;
        sd_bus_slot *slots[ELEMENTSOF(props)];
        refresh_call calls[ELEMENTSOF(props)];
        unsigned pending;       /* calls of this round still in flight */
        bool failed;            /* a call of this round failed in a way a retry can fix */
        char error[160];        /* the first such failure, for the log */
        sd_event_source *retry;
        char unit[];
};

static refresh *refresh_free(refresh *f) {
        if (!f)
                return NULL;
        /* Unreferencing a pending call's slot cancels it: a late reply is dropped by sd-bus. */
        for (size_t i = 0; i < ELEMENTSOF(f->slots); i++)
                sd_bus_slot_unref(f->slots[i]);
        sd_event_source_disable_unref(f->retry);
        return mfree(f);
}

static void refresh_release(ks_refresh_item *it) {
        refresh_free((refresh *) it);
}

/* Errors after which the same call can succeed: the bus refused it for now (too many pending
 * replies on our connection), nobody answered in time (a busy or re-executing PID 1), or the
 * connection is going away. Others (no such property, access denied...) will not change. */
static bool error_is_transient(const sd_bus_error *e) {
        static const char *const transient[] = {
                SD_BUS_ERROR_LIMITS_EXCEEDED,
                SD_BUS_ERROR_NO_REPLY,
                SD_BUS_ERROR_TIMEOUT,
                "org.freedesktop.DBus.Error.TimedOut",
                SD_BUS_ERROR_NO_MEMORY,
                SD_BUS_ERROR_SERVICE_UNKNOWN,
                SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                SD_BUS_ERROR_DISCONNECTED,
                SD_BUS_ERROR_NO_SERVER,
        };

        for (size_t i = 0; i < ELEMENTSOF(transient); i++)
                if (e->name && streq(e->name, transient[i]))
                        return true;
        return false;
}

static void round_failed(refresh *f, size_t prop, const char *what) {
        if (!f->failed)
                snprintf(f->error, sizeof f->error, "reading %s: %s", props[prop].name, what);
        f->failed = true;
}

static void on_retry_logged(ks_watcher *w, refresh *f, uint64_t delay) {
        uint64_t now = 0;
        unsigned suppressed = 0;

        (void) sd_event_now(w->event, CLOCK_MONOTONIC, &now);
        /* Once per unit and outage, and not a flood when all units fail at once. */
        if (f->item.failures == 1 && ks_ratelimit_check(&w->rl, f->unit, now, &suppressed))
                log_warning("%s: cannot read its unit's state (%s); trying again in %llu s%s",
                            f->unit, f->error, (unsigned long long) (delay / 1000000),
                            suppressed ? " (similar messages about other units suppressed)" : "");
        else
                log_debug("%s: cannot read its unit's state (%s, %u times); trying again in %llu s", f->unit,
                          f->error, f->item.failures, (unsigned long long) (delay / 1000000));
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);
static void pump(ks_watcher *w);

/* All calls of the round are answered (or could not be made). */
static void round_finished(refresh *f) {
        ks_watcher *w = f->watcher;
        unsigned failures = f->item.failures;
        uint64_t delay = 0;
        int r;

        switch (ks_refresh_queue_done(w->queue, &f->item, !f->failed, &delay)) {
        case KS_REFRESH_NONE:
                if (failures > 0)
                        log_info("%s: read its unit's state after %u failed attempts.", f->unit, failures);
                refresh_free(f);
                return;
        case KS_REFRESH_BACKOFF:
                on_retry_logged(w, f, delay);
                if (f->retry)
                        r = sd_event_source_set_time_relative(f->retry, delay) < 0 ? -1 :
                            sd_event_source_set_enabled(f->retry, SD_EVENT_ONESHOT);
                else
                        r = sd_event_add_time_relative(w->event, &f->retry, CLOCK_MONOTONIC, delay, 100000,
                                                       on_retry, f);
                if (r < 0)
                        /* No timer: back into the queue at once rather than never. */
                        ks_refresh_queue_wake(w->queue, &f->item);
                return;
        default:
                /* Asked for again while in flight: it waits in the queue. */
                return;
        }
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        refresh *f = userdata;
        ks_watcher *w = f->watcher;

        ks_refresh_queue_wake(w->queue, &f->item);
        pump(w);
        return 0;
}

static int on_get_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        refresh_call *c = userdata;
        refresh *f = c->f;
        ks_watcher *w = f->watcher;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        ks_unit_state st = {};
        unsigned mask = 0;

        /* sd-bus holds its own reference on the slot while this runs. */
        f->slots[c->prop] = sd_bus_slot_unref(f->slots[c->prop]);
        f->pending--;

        /* Each reply is applied as soon as it arrives, never held back to be combined with the
         * others: systemd answers with the value at the time it handles the call, and signals
         * about later changes reach us after the reply (one connection keeps the order). A value
         * held back could be older than a signal received meanwhile, and undo it.
         * After a call failed that a retry will repeat, the later ones of the round are not
         * applied: MainPID comes last so that the rest is known when a unit is seen running, and
         * the retry reads them all again in that order. */
        if (e) {
                if (error_is_transient(e))
                        round_failed(f, c->prop, e->message ?: e->name);
                else
                        log_debug("Reading %s of %s failed: %s", props[c->prop].name, f->unit, e->message);
        } else if (!f->failed) {
                if (read_value(reply, props[c->prop].iface, props[c->prop].name, &st, &mask) > 0 && mask)
                        (void) w->on_unit(f->unit, &st, mask, w->userdata);
        }

        if (f->pending == 0) {
                round_finished(f);
                pump(w);
        }
        return 0;
}

static void refresh_start(refresh *f) {
        ks_watcher *w = f->watcher;
        _cleanup_free_ char *path = NULL;
        int r;

        f->failed = false;
        f->pending = 0;
        r = ks_unit_object_path(f->unit, &path);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(props); i++) {
                f->calls[i] = (refresh_call) { .f = f, .prop = i };
                r = sd_bus_call_method_async(w->bus, &f->slots[i], SYSTEMD_DEST, path,
                                             "org.freedesktop.DBus.Properties", "Get", on_get_reply, &f->calls[i],
                                             "ss", props[i].iface, props[i].name);
                if (r < 0)
                        round_failed(f, i, strerror(-r));
                else
                        f->pending++;
        }
        if (r < 0 && !f->failed)
                round_failed(f, 0, strerror(-r));
        if (f->pending == 0)
                round_finished(f);
}

/* Starts waiting refreshes while fewer than the maximum are in flight. */
static void pump(ks_watcher *w) {
        ks_refresh_item *it;

        /* round_finished() may run inside refresh_start() and must not start another loop. */
        if (w->pumping)
                return;
        w->pumping = true;
        /* Bounded: a unit whose calls cannot even be sent and that gets no retry timer comes
         * straight back to the queue. */
        for (size_t n = ks_refresh_queue_size(w->queue); n > 0 && (it = ks_refresh_queue_next(w->queue)); n--)
                refresh_start((refresh *) it);
        w->pumping = false;
}

int ks_watcher_refresh(ks_watcher *w, const char *unit) {
        refresh *f;
        size_t n = strlen(unit);
        int r;

        f = (refresh *) ks_refresh_queue_find(w->queue, unit);
        if (f) {
                (void) ks_refresh_queue_request(w->queue, &f->item);
                return 0;
        }

        f = calloc(1, sizeof *f + n + 1);
        if (!f)
                return -ENOMEM;
        f->watcher = w;
        memcpy(f->unit, unit, n + 1);
        f->item.unit = f->unit;
        r = ks_refresh_queue_add(w->queue, &f->item);
        if (r < 0) {
                free(f);
                return r;
        }
        pump(w);
        return 0;
}

void ks_watcher_forget(ks_watcher *w, const char *unit) {
        refresh *f;

        if (!w)
                return;
        f = (refresh *) ks_refresh_queue_find(w->queue, unit);
        if (!f)
                return;
        ks_refresh_queue_remove(w->queue, &f->item);
        refresh_free(f);
        /* Its calls were cancelled: room for another unit. */
        pump(w);
}

size_t ks_watcher_refreshes_queued(const ks_watcher *w) {
        return ks_refresh_queue_size(w->queue);
}

/* ---- setup ---- */

int ks_watcher_new(sd_bus *bus, ks_watch_unit_t on_unit, ks_watch_reloaded_t on_reloaded, void *userdata,
                   ks_watcher **ret) {
        _cleanup_(ks_watcher_freep) ks_watcher *w = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return log_oom();
        w->bus = sd_bus_ref(bus);
        w->on_unit = on_unit;
        w->on_reloaded = on_reloaded;
        w->userdata = userdata;
        w->event = sd_event_ref(sd_bus_get_event(bus));
        if (!w->event)
                return log_error_errno(-EINVAL, "The bus is not attached to an event loop.");
        r = ks_refresh_queue_new(REFRESH_MAX_ACTIVE, REFRESH_RETRY_MIN_USEC, REFRESH_RETRY_MAX_USEC, &w->queue);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the unit refresh queue: %m");
        ks_ratelimit_init(&w->rl, 30 * 1000000ull, 10);

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
        /* Cancels the calls in flight and the retry timers before anything they point to goes. */
        ks_refresh_queue_free(w->queue, refresh_release);
        sd_event_unref(w->event);
        sd_bus_unref(w->bus);
        return mfree(w);
}

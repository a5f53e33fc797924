/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake systemd for the tests of notifyd's bus side: a child process at the other end of a
 * socket pair plays PID 1 behind the system bus. Here only what every such fake needs: starting
 * the child and connecting to it (fake_systemd_start(), fake_systemd_stop()), the child's bus
 * (fake_systemd_bus_new()), the value of one unit property as a Properties.Get reply carries it
 * (fake_systemd_append_property()), and the signals systemd sends: PropertiesChanged of a unit's
 * Unit interface and the manager's Reloading. How the fake answers (at once, in batches,
 * failing) is each test's own.
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "test.h"
#include "unit-watch.h"

/* The child's end: a server bus on fd (no bus daemon in between). */
static inline int fake_systemd_bus_new(int fd, sd_bus **ret) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r >= 0)
                r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(bus, 1, id);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* The child's main loop: a server bus on fd whose filter on_call answers the calls; whenever
 * nothing is left to process it calls idle(bus) (may be NULL), which sends what the test asked
 * for and returns > 0 when it sent something, < 0 on failure (exit 3). Exits 0 once the test
 * closed its end. */
static inline _Noreturn void fake_systemd_serve(int fd, sd_bus_message_handler_t on_call, int (*idle)(sd_bus *bus)) {
        sd_bus *bus = NULL;

        if (fake_systemd_bus_new(fd, &bus) < 0 || sd_bus_add_filter(bus, NULL, on_call, NULL) < 0)
                _exit(2);
        for (;;) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        _exit(0);       /* the test closed its end */
                if (r > 0)
                        continue;
                r = idle ? idle(bus) : 0;
                if (r < 0)
                        _exit(3);
                if (r > 0) {
                        (void) sd_bus_flush(bus);
                        continue;
                }
                if (sd_bus_wait(bus, 10000) < 0)
                        _exit(0);
        }
}

/* Forks the fake (serve(fd) never returns) and connects to it: *ret_bus is attached to event. */
static inline void fake_systemd_start(sd_event *event, void (*serve)(int fd), pid_t *ret_child,
                                      sd_bus **ret_bus) {
        sd_bus *bus = NULL;
        int sv[2];
        pid_t child;

        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        child = fork();
        ASSERT_TRUE(child >= 0);
        if (child == 0) {
                close(sv[0]);
                serve(sv[1]);
                _exit(2);
        }
        close(sv[1]);
        ASSERT_EQ(sd_bus_new(&bus), 0);
        ASSERT_EQ(sd_bus_set_fd(bus, sv[0], sv[0]), 0);
        ASSERT_EQ(sd_bus_start(bus), 0);
        ASSERT_EQ(sd_bus_attach_event(bus, event, 0), 0);
        *ret_child = child;
        *ret_bus = bus;
}

/* Closes our end, which ends the fake, and checks that it exited cleanly. */
static inline void fake_systemd_stop(sd_bus *bus, pid_t child) {
        int status = 0;

        sd_bus_flush_close_unref(bus);
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The variant a Properties.Get of name answers with, from st (unit-watch.h names the seven). */
static inline int fake_systemd_append_property(sd_bus_message *m, const char *name, const ks_unit_state *st) {
        int r;

        if (streq(name, "ActiveState"))
                return sd_bus_message_append(m, "v", "s", st->active_state);
        if (streq(name, "SubState"))
                return sd_bus_message_append(m, "v", "s", st->sub_state);
        if (streq(name, "MainPID"))
                return sd_bus_message_append(m, "v", "u", st->main_pid);
        if (streq(name, "ExecMainStartTimestampMonotonic"))
                return sd_bus_message_append(m, "v", "t", st->main_start_usec);
        if (streq(name, "WatchdogUSec"))
                return sd_bus_message_append(m, "v", "t", st->watchdog_usec);
        if (streq(name, "NRestarts"))
                return sd_bus_message_append(m, "v", "u", st->n_restarts);
        if (!streq(name, "InvocationID"))
                return -EINVAL;
        r = sd_bus_message_open_container(m, 'v', "ay");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', st->invocation_id.bytes, sizeof st->invocation_id.bytes);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* A PropertiesChanged of the unit's Unit interface, as systemd sends after a STATUS= or a state
 * change: ActiveState, SubState and InvocationID changed; invalidated (may be NULL) names
 * properties to read again. */
static inline int fake_systemd_emit_unit_changed(sd_bus *bus, const char *unit, const ks_unit_state *st,
                                                 const char *invalidated) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = ks_unit_object_path(unit, &path);
        if (r >= 0)
                r = sd_bus_message_new_signal(bus, &m, path, "org.freedesktop.DBus.Properties", "PropertiesChanged");
        if (r >= 0)
                r = sd_bus_message_set_sender(m, "org.freedesktop.systemd1");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "org.freedesktop.systemd1.Unit");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (st) {
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sv}{sv}", "ActiveState", "s", st->active_state, "SubState",
                                                  "s", st->sub_state);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "InvocationID");
                if (r >= 0)
                        r = fake_systemd_append_property(m, "InvocationID", st);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = invalidated ? sd_bus_message_append(m, "as", 1, invalidated) : sd_bus_message_append(m, "as", 0);
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        return r;
}

/* The manager's Reloading(active): true before a daemon-reload, false once it is done. */
static inline int fake_systemd_emit_reloading(sd_bus *bus, bool active) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_signal(bus, &m, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                      "Reloading");
        if (r >= 0)
                r = sd_bus_message_set_sender(m, "org.freedesktop.systemd1");
        if (r >= 0)
                r = sd_bus_message_append(m, "b", (int) active);
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        return r;
}

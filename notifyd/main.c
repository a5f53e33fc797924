/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservice-notifyd: runs the health checks of kservice definitions and speaks to systemd for
 * each service (READY=1, WATCHDOG=1, STATUS=, WATCHDOG=trigger) with its MainPID.
 *
 * main: event loop, signals (blocked first), bus attached to the loop, the foreign-PID proof,
 * definitions, the D-Bus API (org.kservice.Notifyd1), READY=1, our own watchdog, loop. SIGHUP and systemd's Reloading re-read the
 * definitions; SIGTERM relaxes the watchdogs of the services we feed, then exits.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api.h"
#include "curl-dl.h"
#include "daemon.h"
#include "log.h"
#include "notifier.h"
#include "privilege.h"
#include "probe.h"

#define STATUS_INTERVAL_USEC (5 * 1000000ull)

static ks_daemon_options arg_opts = {};
static bool arg_check_privilege = false;

static int help(void) {
        printf("kservice-notifyd [OPTIONS...]\n\n"
               "Runs the health checks of kservice definitions and drives each service's systemd\n"
               "watchdog. See kservice-notifyd(8).\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --reuse-connections    Keep HTTP connections open between checks\n"
               "     --curl-only            Run every check through libcurl, also those notifyd\n"
               "                            would run itself\n"
               "     --config-path=PATH     Definitions search path (default: $KSERVICE_CONFIG_PATH\n"
               "                            or the built-in one)\n"
               "     --log-level=LEVEL      emerg, alert, crit, err, warning, notice, info (default)\n"
               "                            or debug\n"
               "     --check-privilege      Only test whether notifications on behalf of other\n"
               "                            processes work, and exit\n");
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_REUSE, ARG_CONFIG_PATH, ARG_LOG_LEVEL, ARG_CHECK_PRIVILEGE, ARG_CURL_ONLY };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "reuse-connections", no_argument, NULL, ARG_REUSE },
                { "curl-only", no_argument, NULL, ARG_CURL_ONLY },
                { "config-path", required_argument, NULL, ARG_CONFIG_PATH },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "check-privilege", no_argument, NULL, ARG_CHECK_PRIVILEGE },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("kservice-notifyd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_REUSE:
                        arg_opts.reuse_connections = true;
                        break;
                case ARG_CURL_ONLY:
                        ks_probe_set_curl_only(true);
                        break;
                case ARG_CONFIG_PATH:
                        arg_opts.search_path = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        r = ks_log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(r, "Unknown log level: %s", optarg);
                        ks_log_set_max_level(r);
                        break;
                case ARG_CHECK_PRIVILEGE:
                        arg_check_privilege = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "This program takes no arguments.");
        return 1;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        ks_daemon *d = userdata;

        (void) sd_notify(0, "STOPPING=1\nSTATUS=Stopping: relaxing the watchdogs of the services it fed");
        ks_daemon_relax_all(d);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static uint64_t now(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int on_hangup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        ks_daemon *d = userdata;

        log_info("SIGHUP: reading the definitions again.");
        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now(CLOCK_MONOTONIC));
        (void) ks_daemon_reload(d);
        (void) sd_notify(0, "READY=1");
        return 0;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        static char last[256];
        ks_daemon *d = userdata;
        ks_notifier_stats st;
        char status[256], sent[256], msg[540];

        ks_daemon_status(d, status, sizeof status);
        if (!streq(status, last)) {
                /* What we said to systemd for the services, in the line that goes out anyway:
                 * bench/notifyd reads it (per round, the rounds being in the same line). */
                ks_notifier_get_totals(&st);
                if (ks_notifier_format_stats(&st, sent, sizeof sent) < 0)
                        sent[0] = 0;
                snprintf(msg, sizeof msg, "STATUS=%s%s%s", status, sent[0] ? "; " : "", sent);
                (void) sd_notify(0, msg);
                snprintf(last, sizeof last, "%s", status);
        }
        (void) sd_event_source_set_time_relative(s, STATUS_INTERVAL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int run(int argc, char *argv[]) {
        /* Freed in reverse order: the API (its waiting calls answered), the daemon it observes,
         * then the bus they use, then the loop. */
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(ks_daemon_freep) ks_daemon *d = NULL;
        _cleanup_(ks_api_freep) ks_api *api = NULL;
        sigset_t mask;
        char reason[256];
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        /* Before anything else: without this privilege every notification would be ignored or
         * misattributed by systemd while we believed all was well. */
        r = ks_privilege_check_foreign_pid(reason, sizeof reason);
        if (r < 0) {
                log_error_errno(r, "Cannot send notifications on behalf of other processes: %s. "
                                   "kservice-notifyd needs CAP_SYS_ADMIN (see kservice-notifyd(8)); refusing to start.",
                                reason);
                (void) sd_notifyf(0, "STATUS=Refusing to start: cannot notify on behalf of other processes (%s)", reason);
                return r;
        }
        if (arg_check_privilege) {
                printf("Notifications on behalf of other processes work.\n");
                return 0;
        }

        /* libcurl is loaded, and curl_global_init run, by the first check that needs it
         * (curl-dl.h): most setups never map it. */
        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Lost the bus (systemd re-executed, dbus restarted): exit and let Restart= bring us back. */
        (void) sd_bus_set_exit_on_disconnect(bus, true);

        /* Logs its own failures, like ks_daemon_reload() below. */
        r = ks_daemon_new(event, bus, &arg_opts, &d);
        if (r < 0)
                return r;

        r = sd_event_add_signal(event, NULL, SIGTERM, on_terminate, d);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_terminate, d);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGHUP, on_hangup, d);
        if (r >= 0)
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 1000000,
                                               on_status_timer, d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up event sources: %m");

        r = ks_daemon_reload(d);
        if (r < 0)
                return r;

        /* The checks matter more than the API: without it (logged), notifyd goes on. */
        (void) ks_api_new(bus, d, &api);

        (void) sd_notify(0, "READY=1\nSTATUS=Running health checks");
        r = sd_event_set_watchdog(event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog: %m");

        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        /* After run()'s cleanups: the checks that used libcurl are gone. */
        ks_curl_dl_cleanup();
        return r < 0 ? EXIT_FAILURE : r;
}

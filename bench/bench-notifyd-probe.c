/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-notifyd-probe: the cost of notifyd's check layer (probe.c on check-loop.c on sd-event)
 * without systemd around it, so that changes to it can be compared on a noisy machine.
 *
 *   bench-notifyd-probe [-n CHECKS] [-s SERVICES] [-p IN_FLIGHT] [--reuse] [--tcp] [--curl] URL|HOST:PORT
 *   bench-notifyd-probe --paced SECONDS [-s SERVICES] [-i INTERVAL_MS] [--base-port P] [--reuse] [--curl] URL
 *
 * --curl runs every check through libcurl, also those notifyd runs itself (URLs to IP addresses).
 *
 * Creates SERVICES checks for the same endpoint (a loopback server: tests/helpers/ks-testd or
 * nginx), runs CHECKS checks in total with at most IN_FLIGHT at a time, and prints the process's
 * user+sys CPU per check (getrusage; on loopback this includes the kernel's TCP work charged to
 * us) and its RSS at each stage: at start, with the SERVICES checks created, at the end and the
 * peak, and whether libcurl was loaded (curl-dl.h: only checks that need it load it). Exits 1 if any check failed, so a broken endpoint cannot pass for a fast one.
 *
 * --paced runs the checks the way the daemon does instead: each service once per interval on its
 * schedule (ks_schedule: random phase, jitter) in one due set, for SECONDS. With --base-port, service i checks
 * port P+i (the URL's %u), so each has its own connection. It prints checks/s achieved vs asked and
 * the fewest checks any service got: a starved service shows there.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "curl-dl.h"
#include "due-set.h"
#include "probe.h"
#include "schedule.h"

static unsigned long arg_checks = 20000, arg_services = 1, arg_in_flight = 1;
static bool arg_reuse, arg_tcp;
static unsigned long arg_paced_seconds, arg_interval_ms = 1000, arg_base_port;

static unsigned long started, finished, failed;
static ks_check_loop *loop;
static sd_event *event;
static char last_failure[192];

/* VmRSS or VmHWM from /proc/self/status, in KiB. */
static long proc_status_kib(const char *field) {
        char line[256];
        long v = -1;
        size_t n = strlen(field);
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, field, n) == 0 && line[n] == ':') {
                        v = strtol(line + n + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

static uint64_t cpu_usec(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t wall_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void on_done(ks_probe *c, const ks_probe_result *result, void *userdata) {
        finished++;
        if (!result->passed) {
                failed++;
                snprintf(last_failure, sizeof last_failure, "%s", result->reason);
        }
        if (started < arg_checks) {
                int r = ks_probe_start(c, loop, 0, on_done, NULL);
                if (r < 0) {
                        fprintf(stderr, "Failed to start a check: %s\n", strerror(-r));
                        (void) sd_event_exit(event, 1);
                        return;
                }
                started++;
        }
        if (finished >= arg_checks)
                (void) sd_event_exit(event, 0);
}

/* ---- --paced: the daemon's pattern, each service's next check in one due set ---- */

typedef struct paced {
        ks_probe *probe;
        ks_schedule sched;
        ks_due due;
        unsigned long checks;
        bool busy;
} paced;

static paced *services;
static ks_due_set *due_set;
static unsigned long skipped;
static uint64_t mark_cpu, mark_wall;
static unsigned long mark_finished;

static void on_paced_due(ks_due *d, uint64_t usec, void *userdata);

static void paced_arm(paced *p) {
        uint64_t now = wall_usec();

        (void) ks_due_set_schedule(due_set, &p->due, ks_schedule_when(&p->sched, now),
                                   ks_schedule_accuracy(p->sched.interval_usec), on_paced_due, p);
}

static void on_paced_done(ks_probe *c, const ks_probe_result *result, void *userdata) {
        paced *p = userdata;

        p->busy = false;
        p->checks++;
        finished++;
        if (!result->passed) {
                failed++;
                snprintf(last_failure, sizeof last_failure, "%s", result->reason);
        }
        paced_arm(p);
}

static void on_paced_due(ks_due *d, uint64_t usec, void *userdata) {
        paced *p = userdata;
        int r;

        if (p->busy) {
                skipped++;
                return;
        }
        ks_schedule_advance(&p->sched, wall_usec());
        r = ks_probe_start(p->probe, loop, 0, on_paced_done, p);
        if (r < 0) {
                fprintf(stderr, "Failed to start a check: %s\n", strerror(-r));
                (void) sd_event_exit(event, 2);
                return;
        }
        p->busy = true;
        started++;
}

static int on_mark(sd_event_source *s, uint64_t usec, void *userdata) {
        mark_cpu = cpu_usec();
        mark_wall = wall_usec();
        mark_finished = finished;
        return 0;
}

static int on_end(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(event, 0);
}

/* Every service once per interval for arg_paced_seconds; measured after one interval of warm-up. */
static int run_paced(const ks_check *tmpl, const ks_probe_options *opts, const char *url_format) {
        uint64_t interval = arg_interval_ms * 1000, now = wall_usec(), cpu, wall, n;
        unsigned long min_checks = ULONG_MAX, max_checks = 0;
        long rss_services;
        int r;

        services = calloc(arg_services, sizeof *services);
        if (!services)
                return -ENOMEM;
        r = ks_due_set_new(event, &due_set);
        if (r < 0)
                return r;
        for (unsigned long i = 0; i < arg_services; i++) {
                ks_check check = *tmpl;
                char url[512];

                if (arg_base_port) {
                        const char *pct = strstr(url_format, "%u");
                        if (!pct)
                                return -EINVAL;
                        snprintf(url, sizeof url, "%.*s%u%s", (int) (pct - url_format), url_format,
                                 (unsigned) (arg_base_port + i), pct + 2);
                        check.url = url;
                }
                r = ks_probe_new(&check, opts, &services[i].probe);
                if (r < 0)
                        return r;
                ks_schedule_init(&services[i].sched, interval, now, interval, 0);
                services[i].due = (ks_due) KS_DUE_INIT;
                paced_arm(&services[i]);
        }
        rss_services = proc_status_kib("VmRSS");
        r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, interval + 500000, 1000, on_mark, NULL);
        if (r >= 0)
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC,
                                               interval + 500000 + arg_paced_seconds * 1000000ull, 1000, on_end, NULL);
        if (r < 0)
                return r;
        r = sd_event_loop(event);
        if (r != 0)
                return r < 0 ? r : -EIO;
        cpu = cpu_usec() - mark_cpu;
        wall = wall_usec() - mark_wall;
        n = finished - mark_finished;
        for (unsigned long i = 0; i < arg_services; i++) {
                min_checks = MIN(min_checks, services[i].checks);
                max_checks = MAX(max_checks, services[i].checks);
        }
        printf("paced%s: %lu services every %lu ms, %" PRIu64 " checks in %.1f s (%lu failed, %lu skipped while busy)\n",
               arg_reuse ? " reuse" : "", arg_services, arg_interval_ms, n, wall / 1e6, failed, skipped);
        printf("checks_per_s %.1f asked %.1f\n", n / (wall / 1e6), arg_services * 1000.0 / arg_interval_ms);
        printf("per_service_checks min %lu max %lu (whole run)\n", min_checks, max_checks);
        printf("cpu_us_per_check %.2f\n", n ? (double) cpu / n : 0.0);
        printf("rss_kib with_services %ld end %ld peak %ld\n", rss_services, proc_status_kib("VmRSS"),
               proc_status_kib("VmHWM"));
        if (failed)
                printf("last failure: %s\n", last_failure);
        for (unsigned long i = 0; i < arg_services; i++) {
                ks_due_set_cancel(due_set, &services[i].due);
                ks_probe_free(services[i].probe);
        }
        due_set = ks_due_set_free(due_set);
        free(services);
        return failed ? 1 : 0;
}

static int parse_argv(int argc, char *argv[], const char **ret_target) {
        static const struct option options[] = {
                { "checks", required_argument, NULL, 'n' },
                { "services", required_argument, NULL, 's' },
                { "in-flight", required_argument, NULL, 'p' },
                { "reuse", no_argument, NULL, 'r' },
                { "tcp", no_argument, NULL, 't' },
                { "paced", required_argument, NULL, 'P' },
                { "interval", required_argument, NULL, 'i' },
                { "base-port", required_argument, NULL, 'b' },
                { "curl", no_argument, NULL, 'c' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "n:s:p:rtP:i:b:c", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        arg_checks = strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        arg_services = strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        arg_in_flight = strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        arg_reuse = true;
                        break;
                case 't':
                        arg_tcp = true;
                        break;
                case 'P':
                        arg_paced_seconds = strtoul(optarg, NULL, 10);
                        break;
                case 'i':
                        arg_interval_ms = strtoul(optarg, NULL, 10);
                        break;
                case 'b':
                        arg_base_port = strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        ks_probe_set_curl_only(true);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind != argc - 1 || arg_services == 0 || arg_in_flight == 0) {
                fprintf(stderr, "Usage: %s [-n CHECKS] [-s SERVICES] [-p IN_FLIGHT] [--reuse] [--tcp] [--curl] URL|HOST:PORT\n",
                        argv[0]);
                return -EINVAL;
        }
        arg_in_flight = MIN(arg_in_flight, arg_services);
        *ret_target = argv[optind];
        return 0;
}

int main(int argc, char *argv[]) {
        ks_check check = {};
        ks_probe_options opts = { .timeout_usec = 5000000 };
        _cleanup_free_ char *host = NULL;
        ks_probe **probes = NULL;
        const char *target;
        long rss_start, rss_services;
        uint64_t cpu0, wall0, cpu, wall;
        int r;

        if (parse_argv(argc, argv, &target) < 0)
                return 2;

        rss_start = proc_status_kib("VmRSS");

        if (arg_tcp) {
                const char *colon = strrchr(target, ':');
                if (!colon)
                        return 2;
                host = strndup(target, (size_t) (colon - target));
                if (!host)
                        return 2;
                check.type = KS_CHECK_TCP;
                check.host = host;
                check.port = (uint16_t) strtoul(colon + 1, NULL, 10);
        } else {
                check.type = KS_CHECK_HTTP;
                check.url = (char *) target;
                opts.reuse_connection = arg_reuse;
        }

        if (sd_event_new(&event) < 0 || ks_check_loop_new(event, &loop) < 0)
                return 2;
        if (arg_reuse)
                (void) ks_check_loop_set_max_connections(loop, (long) arg_services + 16);
        if (arg_paced_seconds > 0) {
                r = run_paced(&check, &opts, target);
                if (r < 0)
                        fprintf(stderr, "paced run failed: %s\n", strerror(-r));
                ks_check_loop_free(loop);
                sd_event_unref(event);
                ks_curl_dl_cleanup();
                return r < 0 ? 2 : r;
        }
        probes = calloc(arg_services, sizeof *probes);
        if (!probes)
                return 2;
        for (unsigned long i = 0; i < arg_services; i++) {
                r = ks_probe_new(&check, &opts, &probes[i]);
                if (r < 0) {
                        fprintf(stderr, "Failed to create a check: %s\n", strerror(-r));
                        return 2;
                }
        }
        rss_services = proc_status_kib("VmRSS");

        cpu0 = cpu_usec();
        wall0 = wall_usec();
        for (unsigned long i = 0; i < arg_in_flight && started < arg_checks; i++) {
                r = ks_probe_start(probes[i], loop, 0, on_done, NULL);
                if (r < 0) {
                        fprintf(stderr, "Failed to start a check: %s\n", strerror(-r));
                        return 2;
                }
                started++;
        }
        r = arg_checks > 0 ? sd_event_loop(event) : 0;
        cpu = cpu_usec() - cpu0;
        wall = wall_usec() - wall0;

        printf("%s%s: %lu checks (%lu failed), %lu services, %lu in flight\n", arg_tcp ? "tcp" : "http",
               arg_reuse ? " reuse" : "", finished, failed, arg_services, arg_in_flight);
        printf("cpu_us_per_check %.2f\nwall_us_per_check %.2f\n", finished ? (double) cpu / finished : 0.0,
               finished ? (double) wall / finished : 0.0);
        printf("rss_kib start %ld with_services %ld end %ld peak %ld libcurl %s\n", rss_start, rss_services,
               proc_status_kib("VmRSS"), proc_status_kib("VmHWM"), ks_curl_dl_loaded() ? "loaded" : "not-loaded");
        if (failed)
                printf("last failure: %s\n", last_failure);

        for (unsigned long i = 0; i < arg_services; i++)
                ks_probe_free(probes[i]);
        free(probes);
        ks_check_loop_free(loop);
        sd_event_unref(event);
        ks_curl_dl_cleanup();
        return r != 0 || failed ? 1 : 0;
}

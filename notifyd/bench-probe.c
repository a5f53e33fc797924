/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-notifyd-probe: the cost of notifyd's check layer (probe.c on curl-glue.c on sd-event)
 * without systemd around it, so that changes to it can be compared on a noisy machine.
 *
 *   bench-notifyd-probe [-n CHECKS] [-s SERVICES] [-p IN_FLIGHT] [--reuse] [--tcp] URL|HOST:PORT
 *
 * Creates SERVICES checks for the same endpoint (a loopback server: tests/helpers/ks-testd or
 * nginx), runs CHECKS checks in total with at most IN_FLIGHT at a time, and prints the process's
 * user+sys CPU per check (getrusage; on loopback this includes the kernel's TCP work charged to
 * us) and its RSS at each stage: after curl_global_init, with the SERVICES checks created, and
 * the peak. Exits 1 if any check failed, so a broken endpoint cannot pass for a fast one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "probe.h"

static unsigned long arg_checks = 20000, arg_services = 1, arg_in_flight = 1;
static bool arg_reuse, arg_tcp;

static unsigned long started, finished, failed;
static ks_curl_loop *loop;
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

static int parse_argv(int argc, char *argv[], const char **ret_target) {
        static const struct option options[] = {
                { "checks", required_argument, NULL, 'n' },
                { "services", required_argument, NULL, 's' },
                { "in-flight", required_argument, NULL, 'p' },
                { "reuse", no_argument, NULL, 'r' },
                { "tcp", no_argument, NULL, 't' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "n:s:p:rt", options, NULL)) >= 0)
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
                default:
                        return -EINVAL;
                }
        if (optind != argc - 1 || arg_services == 0 || arg_in_flight == 0) {
                fprintf(stderr, "Usage: %s [-n CHECKS] [-s SERVICES] [-p IN_FLIGHT] [--reuse] [--tcp] URL|HOST:PORT\n",
                        argv[0]);
                return -EINVAL;
        }
        arg_in_flight = MIN(arg_in_flight, arg_services);
        *ret_target = argv[optind];
        return 0;
}

int main(int argc, char *argv[]) {
        ks_probe_spec spec = { .timeout_usec = 5000000 };
        _cleanup_free_ char *host = NULL;
        ks_probe **probes = NULL;
        const char *target;
        long rss_start, rss_init, rss_services;
        uint64_t cpu0, wall0, cpu, wall;
        int r;

        if (parse_argv(argc, argv, &target) < 0)
                return 2;

        rss_start = proc_status_kib("VmRSS");
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 2;
        rss_init = proc_status_kib("VmRSS");

        if (arg_tcp) {
                const char *colon = strrchr(target, ':');
                if (!colon)
                        return 2;
                host = strndup(target, (size_t) (colon - target));
                if (!host)
                        return 2;
                spec.type = KS_PROBE_TCP;
                spec.host = host;
                spec.port = (uint16_t) strtoul(colon + 1, NULL, 10);
        } else {
                spec.type = KS_PROBE_HTTP;
                spec.url = (char *) target;
                spec.reuse_connection = arg_reuse;
        }

        if (sd_event_new(&event) < 0 || ks_curl_loop_new(event, &loop) < 0)
                return 2;
        if (arg_reuse)
                (void) ks_curl_loop_set_max_connections(loop, (long) arg_services + 16);
        probes = calloc(arg_services, sizeof *probes);
        if (!probes)
                return 2;
        for (unsigned long i = 0; i < arg_services; i++) {
                r = ks_probe_new(&spec, &probes[i]);
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
        printf("rss_kib start %ld after_curl_init %ld with_services %ld end %ld peak %ld\n", rss_start, rss_init,
               rss_services, proc_status_kib("VmRSS"), proc_status_kib("VmHWM"));
        if (failed)
                printf("last failure: %s\n", last_failure);

        for (unsigned long i = 0; i < arg_services; i++)
                ks_probe_free(probes[i]);
        free(probes);
        ks_curl_loop_free(loop);
        sd_event_unref(event);
        curl_global_cleanup();
        return r != 0 || failed ? 1 : 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus API (notifyd/api/api.h) on a real daemon (daemon.h): a fake systemd on a private bus
 * (fake-systemd.h) says every unit runs, with the test's own PID as MainPID; each service's
 * health check is a TCP or HTTP check against a loopback listener of the test; the API is
 * served on a second private bus whose other end, the client, is the test itself (both ends on
 * the test's event loop, every call asynchronous).
 * Checks: introspection (manager, the node enumerator's service objects, each property's
 * EmitsChangedSignal as the spec says), ListServices sorted by NAME, GetService with the three
 * spellings of a name and NoSuchService, property reads, CheckNow passing and failing, NotRunning
 * for a unit that is not running, AccessDenied for a caller who is not the privileged UID,
 * ResetHistory, PropertiesChanged for a health change and none for plain rounds, and the
 * CheckNow calls still waiting answered when their unit stops, when their service is removed and
 * when the API is freed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "api.h"
#include "daemon.h"
#include "fake-systemd.h"
#include "loop-helpers.h"
#include "notify-socket.h"
#include "test.h"
#include "time-util.h"

/* alpha and alpha-b checked often (the daemon sorts by unit, konivrer@alpha-b.service first;
 * the API by NAME, alpha first), slow answers nothing (its round hangs until the timeout),
 * stopped is not running. */
enum { ALPHA, BETA, SLOW, STOPPED, N_UNITS };
static const char *const names[N_UNITS] = { "alpha", "alpha-b", "slow", "stopped" };

typedef struct shared {
        ks_unit_state units[N_UNITS];
        int changed_unit;               /* the fake signals this unit's state (then -1), or -1 */
} shared;

static shared *sh;

/* ---- the fake systemd (child process): answers Subscribe and Properties.Get ---- */

static int on_systemd_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        const char *iface, *name;

        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "Subscribe"))
                return sd_bus_reply_method_return(m, NULL) < 0 ? -1 : 1;
        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get"))
                return 0;
        if (sd_bus_path_decode(sd_bus_message_get_path(m), "/org/freedesktop/systemd1/unit", &unit) <= 0 ||
            sd_bus_message_read(m, "ss", &iface, &name) < 0)
                return -1;
        for (int u = 0; u < N_UNITS; u++) {
                char want[64];

                snprintf(want, sizeof want, "konivrer@%s.service", names[u]);
                if (!streq(unit, want))
                        continue;
                if (sd_bus_message_new_method_return(m, &reply) < 0 ||
                    fake_systemd_append_property(reply, name, &sh->units[u]) < 0 || sd_bus_send(NULL, reply, NULL) < 0)
                        return -1;
                return 1;
        }
        return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT, "no such unit (test)") < 0 ? -1 : 1;
}

/* The unit the test changed, as systemd signals it. */
static int send_changed(sd_bus *bus) {
        int u = __atomic_load_n(&sh->changed_unit, __ATOMIC_SEQ_CST);
        char unit[64];

        if (u < 0)
                return 0;
        snprintf(unit, sizeof unit, "konivrer@%s.service", names[u]);
        if (fake_systemd_emit_unit_changed(bus, unit, &sh->units[u], NULL) < 0)
                return -1;
        __atomic_store_n(&sh->changed_unit, -1, __ATOMIC_SEQ_CST);
        return 1;
}

static _Noreturn void fake_systemd(int fd) {
        alarm(60);
        fake_systemd_serve(fd, on_systemd_call, send_changed);
}

/* Unit u stops, as systemd says. */
static void stop_unit(int u) {
        snprintf(sh->units[u].active_state, sizeof sh->units[u].active_state, "inactive");
        snprintf(sh->units[u].sub_state, sizeof sh->units[u].sub_state, "dead");
        __atomic_store_n(&sh->changed_unit, u, __ATOMIC_SEQ_CST);
}

/* ---- the test side ---- */

static char dir[] = "/tmp/ks-api-test-XXXXXX";
static sd_event *event;
static sd_bus *systemd_bus, *api_bus, *client;
static pid_t child;
static ks_daemon *daemon_;
static ks_api *api;
static int listen_fd[N_UNITS] = { -1, -1, -1, -1 };
static uint16_t ports[N_UNITS];
static sd_event_source *accept_io[N_UNITS];

/* PropertiesChanged seen by the client: how many, and "PATH NAME" lines of the properties. */
static unsigned n_changed;
static char changed[8192];

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int c;

        while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                close(c);
        return 0;
}

/* A loopback listener for unit u; accepting (and closing) connections, or never accepting:
 * the kernel completes the handshake, and an HTTP request then waits for an answer. */
static void listen_on(int u, bool accepting) {
        listen_fd[u] = loopback_listener(&ports[u]);
        if (accepting)
                ASSERT_OK(sd_event_add_io(event, &accept_io[u], listen_fd[u], EPOLLIN, on_accept, NULL));
}

/* Connections to u are refused from now on. */
static void stop_listening(int u) {
        accept_io[u] = sd_event_source_disable_unref(accept_io[u]);
        listen_fd[u] = safe_close(listen_fd[u]);
}

static void write_definition(int u, bool health) {
        FILE *f = definition_open(dir, names[u]);

        if (health && u == SLOW)
                fprintf(f, "[health]\ninterval = \"1h\"\ntimeout = \"20s\"\nwatchdog = \"2h\"\n"
                           "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/healthz\"\n",
                        ports[u]);
        else if (health)
                fprintf(f, "[health]\ninterval = \"100ms\"\ntimeout = \"90ms\"\nwatchdog = \"30s\"\n"
                           "failure_threshold = 2\n[[health.check]]\ntype = \"tcp\"\nhost = \"127.0.0.1\"\nport = %u\n",
                        ports[u]);
        ASSERT_EQ(fclose(f), 0);
}

static void step(void) {
        note n;

        (void) next_note(&n, 10);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *iface, *name;

        n_changed++;
        ASSERT_OK(sd_bus_message_read(m, "s", &iface));
        ASSERT_STREQ(iface, KS_API_SERVICE_INTERFACE);
        ASSERT_OK(sd_bus_message_enter_container(m, 'a', "{sv}"));
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                ASSERT_OK(sd_bus_message_read(m, "s", &name));
                ASSERT_OK(sd_bus_message_skip(m, "v"));
                ASSERT_OK(sd_bus_message_exit_container(m));
                size_t len = strlen(changed);

                ASSERT_TRUE(len + 300 < sizeof changed);
                snprintf(changed + len, sizeof changed - len, "%s %s\n", sd_bus_message_get_path(m), name);
        }
        return 0;
}

/* The two ends of the API's bus, p2p: the server side for the API, the client for the test. */
static void api_buses(void) {
        sd_id128_t id;
        int sv[2];

        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        ASSERT_OK(sd_bus_new(&api_bus));
        ASSERT_OK(sd_bus_set_fd(api_bus, sv[0], sv[0]));
        ASSERT_OK(sd_id128_randomize(&id));
        ASSERT_OK(sd_bus_set_server(api_bus, 1, id));
        ASSERT_OK(sd_bus_start(api_bus));
        ASSERT_OK(sd_bus_attach_event(api_bus, event, 0));
        ASSERT_OK(sd_bus_new(&client));
        ASSERT_OK(sd_bus_set_fd(client, sv[1], sv[1]));
        ASSERT_OK(sd_bus_start(client));
        ASSERT_OK(sd_bus_attach_event(client, event, 0));
        ASSERT_OK(sd_bus_match_signal(client, NULL, NULL, NULL, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged", on_properties_changed, NULL));
}

static void setup(void) {
        char path[160];

        signal(SIGPIPE, SIG_IGN);
        /* Shared with the fake systemd, which forks at each setup. */
        if (!sh) {
                sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                ASSERT_TRUE(sh != MAP_FAILED);
        }
        memset(sh, 0, sizeof *sh);
        sh->changed_unit = -1;
        n_changed = 0;
        changed[0] = 0;
        ASSERT_NOT_NULL(mkdtemp(strcpy(dir, "/tmp/ks-api-test-XXXXXX")));
        ASSERT_OK(sd_event_new(&event));
        for (int u = 0; u < N_UNITS; u++) {
                ks_unit_state *st = &sh->units[u];

                listen_on(u, u != SLOW);
                strcpy(st->active_state, u == STOPPED ? "inactive" : "active");
                strcpy(st->sub_state, u == STOPPED ? "dead" : "running");
                st->main_pid = u == STOPPED ? 0 : (uint32_t) getpid();
                st->main_start_usec = ks_now_usec();
                st->watchdog_usec = (u == SLOW ? 7200 : 30) * 1000000ull;
                st->invocation_id.bytes[0] = (uint8_t) (u + 1);
                write_definition(u, true);
        }
        snprintf(path, sizeof path, "%s/notify", dir);
        notify_socket_open(path, event);
        ASSERT_EQ(setenv("NOTIFY_SOCKET", path, 1), 0);
        fake_systemd_start(event, fake_systemd, &child, &systemd_bus);
        ASSERT_OK(ks_daemon_new(event, systemd_bus, &(ks_daemon_options) { .search_path = dir }, &daemon_));
        ASSERT_OK(ks_daemon_reload(daemon_));
        api_buses();
        /* No bus daemon at the other end: the name cannot be had, the API works all the same. */
        ASSERT_OK(ks_api_new(api_bus, daemon_, &api));
        ks_api_set_privileged_uid(api, geteuid());
}

static void teardown(void) {
        char cmd[200];

        api = ks_api_free(api);
        client = sd_bus_flush_close_unref(client);
        api_bus = sd_bus_flush_close_unref(api_bus);
        daemon_ = ks_daemon_free(daemon_);
        fake_systemd_stop(systemd_bus, child);
        systemd_bus = NULL;
        for (int u = 0; u < N_UNITS; u++)
                stop_listening(u);
        notify_socket_close();
        event = sd_event_unref(event);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

/* ---- calls from the client ---- */

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        *(sd_bus_message **) userdata = sd_bus_message_ref(m);
        return 0;
}

/* Starts a call; *ret is set to its reply when it comes. */
static void call_start(sd_bus_message **ret, const char *path, const char *iface, const char *member,
                       const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;

        *ret = NULL;
        ASSERT_OK(sd_bus_message_new_method_call(client, &m, NULL, path, iface, member));
        if (types) {
                va_start(ap, types);
                ASSERT_OK(sd_bus_message_appendv(m, types, ap));
                va_end(ap);
        }
        ASSERT_OK(sd_bus_call_async(client, NULL, m, on_reply, ret, 30 * 1000000ull));
}

#define CALL(ret, path, iface, member, ...)                                                        \
        do {                                                                                       \
                call_start(ret, path, iface, member, __VA_ARGS__);                                 \
                WAIT_FOR(*(ret), 10000);                                                           \
        } while (0)

#define MANAGER(ret, member, ...) CALL(ret, KS_API_MANAGER_PATH, KS_API_MANAGER_INTERFACE, member, __VA_ARGS__)

static void assert_error(sd_bus_message *m, const char *name, const char *in_message) {
        const sd_bus_error *e = sd_bus_message_get_error(m);

        ASSERT_NOT_NULL(e);
        if (!streq(e->name, name) || (in_message && !strstr(e->message, in_message)))
                ks_test_fail(true, __FILE__, __LINE__, "got %s: %s; expected %s with \"%s\"", e->name, e->message,
                             name, in_message ?: "");
}

static void assert_ok(sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                ks_test_fail(true, __FILE__, __LINE__, "call failed: %s: %s", e->name, e->message);
}

static char *service_path(int u) {
        static char buf[N_UNITS][256];
        _cleanup_free_ char *p = NULL;

        ASSERT_OK(ks_api_service_path(names[u], &p));
        snprintf(buf[u], sizeof buf[u], "%s", p);
        return buf[u];
}

/* Properties.Get of a service's property, the reply entered into its variant. */
static sd_bus_message *get(int u, const char *property, const char *type) {
        sd_bus_message *reply;

        CALL(&reply, service_path(u), "org.freedesktop.DBus.Properties", "Get", "ss", KS_API_SERVICE_INTERFACE,
             property);
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_enter_container(reply, 'v', type));
        return reply;
}

/* A property of a basic type (type: 's', 't', 'u', 'd'...) into *ret; a string is copied. */
static void get_basic(int u, const char *property, char type, void *ret) {
        const char signature[2] = { type, 0 };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get(u, property, signature);

        ASSERT_OK(sd_bus_message_read_basic(reply, type, ret));
        if (type == 's')
                *(char **) ret = strdup(*(char **) ret);
}

static char *get_string(int u, const char *property) {
        static char *last;

        free(last);
        get_basic(u, property, 's', &last);
        return last;
}

/* A numeric property (t, u or d), as a double: exact for the integers here (below 2^53). */
static double get_number(int u, const char *property) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *type;
        union {
                uint64_t t;
                uint32_t u;
                double d;
        } v;

        CALL(&reply, service_path(u), "org.freedesktop.DBus.Properties", "Get", "ss", KS_API_SERVICE_INTERFACE,
             property);
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_peek_type(reply, NULL, &type));
        ASSERT_OK(sd_bus_message_enter_container(reply, 'v', type));
        ASSERT_OK(sd_bus_message_read_basic(reply, type[0], &v));
        return type[0] == 't' ? (double) v.t : type[0] == 'u' ? (double) v.u : v.d;
}

static unsigned n_incidents(int u) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = get(u, "Incidents", "a(ttsss)");
        uint64_t started, ended;
        const char *action, *outcome, *reason;
        unsigned n = 0;

        ASSERT_OK(sd_bus_message_enter_container(reply, 'a', "(ttsss)"));
        while (sd_bus_message_read(reply, "(ttsss)", &started, &ended, &action, &outcome, &reason) > 0) {
                ASSERT_TRUE(started > 0);
                ASSERT_TRUE(*reason);
                n++;
        }
        return n;
}

static char *introspect(const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *xml;

        CALL(&reply, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL);
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_read(reply, "s", &xml));
        return strdup(xml);
}

/* The <property> element of name in xml, up to its end. */
static char *property_xml(const char *xml, const char *name) {
        char start[128];
        const char *p, *end;

        snprintf(start, sizeof start, "<property name=\"%s\"", name);
        p = strstr(xml, start);
        if (!p)
                ks_test_fail(true, __FILE__, __LINE__, "no property %s in the introspection", name);
        end = strstr(p, "</property>");
        ASSERT_NOT_NULL(end);
        return strndup(p, end - p);
}

/* Whether unit u's property was signalled as changed. */
static bool signalled(int u, const char *property) {
        char line[300];

        snprintf(line, sizeof line, "%s %s\n", service_path(u), property);
        return strstr(changed, line);
}

/* The daemon has seen unit u running. */
static void wait_seen(int u) {
        WAIT_FOR(!streq(get_string(u, "Health"), "unknown"), 10000);
}

/* A service healthy and its first rounds done. */
static void wait_healthy(int u) {
        WAIT_FOR(streq(get_string(u, "Health"), "healthy") && get_number(u, "LastRoundUSec") > 0, 10000);
}

/* ---- the tests ---- */

TEST(introspection) {
        static const char *const signalled[] = { "Health", "HealthSinceUSec", "ConsecutiveFailures", "FailureThreshold",
                                                 "RestartsByKservice", "RestartsSeen", "Flapping", "Incidents" };
        static const char *const polled[] = { "LastRoundUSec", "LastResult", "LastReason", "LastLatencyUSec",
                                              "Checks", "FlapPercent", "Score" };
        _cleanup_free_ char *root = NULL, *manager = NULL, *services = NULL, *alpha = NULL, *wrong = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char other[300];

        setup();
        root = introspect("/org/kservice");
        ASSERT_NOT_NULL(strstr(root, "<node name=\"Notifyd1\"/>"));
        manager = introspect(KS_API_MANAGER_PATH);
        ASSERT_NOT_NULL(strstr(manager, "<interface name=\"" KS_API_MANAGER_INTERFACE "\">"));
        ASSERT_NOT_NULL(strstr(manager, "<method name=\"CheckNow\">"));
        ASSERT_NOT_NULL(strstr(manager, "<arg type=\"b\" name=\"passed\" direction=\"out\"/>"));
        ASSERT_NOT_NULL(strstr(manager, "<node name=\"service\"/>"));

        /* The node enumerator: every service with health checks, escaped. */
        services = introspect(KS_API_SERVICE_PREFIX);
        ASSERT_NOT_NULL(strstr(services, "<node name=\"alpha\"/>"));
        ASSERT_NOT_NULL(strstr(services, "<node name=\"alpha_2db\"/>"));
        ASSERT_NOT_NULL(strstr(services, "<node name=\"stopped\"/>"));

        alpha = introspect(service_path(ALPHA));
        ASSERT_NOT_NULL(strstr(alpha, "<interface name=\"" KS_API_SERVICE_INTERFACE "\">"));
        for (size_t i = 0; i < ELEMENTSOF(signalled); i++) {
                _cleanup_free_ char *p = property_xml(alpha, signalled[i]);

                /* EmitsChangedSignal's default, true: no annotation. */
                if (strstr(p, "EmitsChangedSignal"))
                        ks_test_fail(true, __FILE__, __LINE__, "%s: %s", signalled[i], p);
        }
        for (size_t i = 0; i < ELEMENTSOF(polled); i++) {
                _cleanup_free_ char *p = property_xml(alpha, polled[i]);

                if (!strstr(p, "<annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"false\"/>"))
                        ks_test_fail(true, __FILE__, __LINE__, "%s: %s", polled[i], p);
        }
        _cleanup_free_ char *name = property_xml(alpha, "Name");
        ASSERT_NOT_NULL(strstr(name, "value=\"const\""));

        /* konivrer@alpha is a name the methods take, not a second object of alpha. */
        snprintf(other, sizeof other, "%s/konivrer_40alpha", KS_API_SERVICE_PREFIX);
        CALL(&reply, other, "org.freedesktop.DBus.Properties", "Get", "ss", KS_API_SERVICE_INTERFACE, "Name");
        ASSERT_NOT_NULL(sd_bus_message_get_error(reply));
        teardown();
}

TEST(list_get_and_properties) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *checks = NULL;
        const char *name, *unit, *path, *health, *description, *reason;
        uint64_t by_kservice, seen, latency, at, reserved;
        static const char *const spellings[] = { "alpha", "konivrer@alpha", "konivrer@alpha.service" };
        int flapping, result;
        double score;
        unsigned i = 0;

        setup();
        wait_healthy(ALPHA);

        /* Sorted by NAME: alpha before alpha-b. */
        MANAGER(&reply, "ListServices", NULL);
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_enter_container(reply, 'a', "(ssosdbtt)"));
        while (sd_bus_message_read(reply, "(ssosdbtt)", &name, &unit, &path, &health, &score, &flapping,
                                   &by_kservice, &seen) > 0) {
                char want[64];

                ASSERT_TRUE(i < N_UNITS);
                ASSERT_STREQ(name, names[i]);
                snprintf(want, sizeof want, "konivrer@%s.service", names[i]);
                ASSERT_STREQ(unit, want);
                ASSERT_STREQ(path, service_path(i));
                ASSERT_TRUE(score >= 0 && score <= 1);
                ASSERT_FALSE(flapping);
                if (i == ALPHA)
                        ASSERT_STREQ(health, "healthy");
                if (i == STOPPED)
                        ASSERT_STREQ(health, "unknown");
                i++;
        }
        ASSERT_EQ(i, N_UNITS);
        reply = sd_bus_message_unref(reply);

        for (size_t k = 0; k < ELEMENTSOF(spellings); k++) {
                MANAGER(&reply, "GetService", "s", spellings[k]);
                assert_ok(reply);
                ASSERT_OK(sd_bus_message_read(reply, "o", &path));
                ASSERT_STREQ(path, service_path(ALPHA));
                reply = sd_bus_message_unref(reply);
        }
        MANAGER(&reply, "GetService", "s", "nope");
        assert_error(reply, KS_API_ERROR_NO_SUCH_SERVICE, "nope");
        reply = sd_bus_message_unref(reply);

        /* Manager properties. */
        CALL(&reply, KS_API_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", KS_API_MANAGER_INTERFACE,
             "NServices");
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_enter_container(reply, 'v', "u"));
        ASSERT_OK(sd_bus_message_read(reply, "u", &i));
        ASSERT_EQ(i, N_UNITS);
        reply = sd_bus_message_unref(reply);

        /* The service's. */
        ASSERT_STREQ(get_string(ALPHA, "Name"), "alpha");
        ASSERT_STREQ(get_string(ALPHA, "Unit"), "konivrer@alpha.service");
        ASSERT_STREQ(get_string(ALPHA, "LastResult"), "passed");
        ASSERT_TRUE(get_number(ALPHA, "HealthSinceUSec") > 0);
        ASSERT_EQ(get_number(ALPHA, "ConsecutiveFailures"), 0);
        ASSERT_EQ(get_number(ALPHA, "FailureThreshold"), 2);
        ASSERT_TRUE(get_number(ALPHA, "LastRoundUSec") <= ks_now_realtime_usec());
        ASSERT_EQ(get_number(ALPHA, "RestartsByKservice"), 0);
        ASSERT_NEAR(get_number(ALPHA, "FlapPercent"), 0, 1e-9);
        ASSERT_TRUE(get_number(ALPHA, "Score") > 0.5);
        ASSERT_EQ(n_incidents(ALPHA), 0);
        ASSERT_STREQ(get_string(STOPPED, "Health"), "unknown");
        ASSERT_STREQ(get_string(STOPPED, "LastResult"), "");

        checks = get(ALPHA, "Checks", "a(sisttt)");
        ASSERT_OK(sd_bus_message_read(checks, "a(sisttt)", 1, &description, &result, &reason, &latency, &at, &reserved));
        ASSERT_NOT_NULL(strstr(description, "127.0.0.1"));
        ASSERT_EQ(result, 1);
        ASSERT_TRUE(at > 0);
        ASSERT_EQ(reserved, 0);
        teardown();
}

TEST(check_now_and_access) {
        static const char *const root_only[] = { "CheckNow", "ResetHistory" };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned incidents;
        const char *reason;
        uint64_t latency;
        int passed;

        setup();
        wait_healthy(ALPHA);

        MANAGER(&reply, "CheckNow", "s", "konivrer@alpha.service");
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_read(reply, "bst", &passed, &reason, &latency));
        ASSERT_TRUE(passed);
        reply = sd_bus_message_unref(reply);

        /* A round in flight when the listener goes may still pass: CheckNow waits for the one in
         * flight. Once a round failed, the next does too. */
        stop_listening(BETA);
        WAIT_FOR(streq(get_string(BETA, "LastResult"), "failed"), 10000);
        MANAGER(&reply, "CheckNow", "s", "alpha-b");
        assert_ok(reply);
        ASSERT_OK(sd_bus_message_read(reply, "bst", &passed, &reason, &latency));
        ASSERT_FALSE(passed);
        ASSERT_TRUE(*reason);
        reply = sd_bus_message_unref(reply);

        MANAGER(&reply, "CheckNow", "s", "stopped");
        assert_error(reply, KS_API_ERROR_NOT_RUNNING, "konivrer@stopped.service");
        reply = sd_bus_message_unref(reply);
        MANAGER(&reply, "CheckNow", "s", "nope");
        assert_error(reply, KS_API_ERROR_NO_SUCH_SERVICE, "nope");
        reply = sd_bus_message_unref(reply);

        /* Another user: refused, and nothing done (alpha-b failed: it has an incident). */
        incidents = n_incidents(BETA);
        ASSERT_TRUE(incidents > 0);
        ks_api_set_privileged_uid(api, geteuid() + 1);
        for (size_t i = 0; i < ELEMENTSOF(root_only); i++) {
                char want[64];

                snprintf(want, sizeof want, "%s needs root", root_only[i]);
                MANAGER(&reply, root_only[i], "s", "alpha-b");
                assert_error(reply, SD_BUS_ERROR_ACCESS_DENIED, want);
                reply = sd_bus_message_unref(reply);
        }
        ASSERT_EQ(n_incidents(BETA), incidents);
        /* Reading is for everyone. */
        MANAGER(&reply, "ListServices", NULL);
        assert_ok(reply);
        teardown();
}

TEST(signals_and_reset) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        double round;
        unsigned seen;

        setup();
        wait_healthy(ALPHA);
        wait_healthy(BETA);

        /* Rounds every 100 ms, all passing: no signal at all. */
        run_for(200);
        seen = n_changed;
        changed[0] = 0;
        round = get_number(ALPHA, "LastRoundUSec");
        run_for(1000);
        ASSERT_TRUE(get_number(ALPHA, "LastRoundUSec") > round);
        ASSERT_EQ(n_changed, seen);

        /* alpha-b fails: its failures, then its health (2 failures: unhealthy, an incident, a
         * restart requested) are signalled on its own object, alpha's nothing. */
        stop_listening(BETA);
        WAIT_FOR(streq(get_string(BETA, "Health"), "unhealthy"), 10000);
        WAIT_FOR(signalled(BETA, "Health") && signalled(BETA, "Incidents"), 10000);
        ASSERT_TRUE(signalled(BETA, "HealthSinceUSec"));
        ASSERT_TRUE(signalled(BETA, "ConsecutiveFailures"));
        ASSERT_FALSE(signalled(BETA, "LastRoundUSec"));
        ASSERT_FALSE(signalled(BETA, "Score"));
        ASSERT_FALSE(signalled(ALPHA, "Health"));
        ASSERT_TRUE(n_incidents(BETA) >= 1);

        /* ResetHistory: incidents and counters gone, signalled; the health stays. */
        changed[0] = 0;
        MANAGER(&reply, "ResetHistory", "s", "konivrer@alpha-b");
        assert_ok(reply);
        WAIT_FOR(signalled(BETA, "Incidents") && signalled(BETA, "RestartsByKservice"), 10000);
        ASSERT_EQ(n_incidents(BETA), 0);
        ASSERT_EQ(get_number(BETA, "RestartsByKservice"), 0);
        teardown();
}

TEST(waiting_calls_answered) {
        sd_bus_message *stopped = NULL, *removed = NULL, *freed = NULL;

        /* slow's round hangs (its server never answers): a CheckNow waits. The unit stops: the
         * call is answered NotRunning. */
        setup();
        wait_seen(SLOW);
        call_start(&stopped, KS_API_MANAGER_PATH, KS_API_MANAGER_INTERFACE, "CheckNow", "s", "slow");
        run_for(300);
        ASSERT_NULL(stopped);
        stop_unit(SLOW);
        WAIT_FOR(stopped, 10000);
        assert_error(stopped, KS_API_ERROR_NOT_RUNNING, "stopped running");
        stopped = sd_bus_message_unref(stopped);
        teardown();

        /* Again; its definition loses [health]: answered NoSuchService. */
        setup();
        wait_seen(SLOW);
        call_start(&removed, KS_API_MANAGER_PATH, KS_API_MANAGER_INTERFACE, "CheckNow", "s", "slow");
        run_for(300);
        ASSERT_NULL(removed);
        write_definition(SLOW, false);
        ASSERT_OK(ks_daemon_reload(daemon_));
        WAIT_FOR(removed, 10000);
        assert_error(removed, KS_API_ERROR_NO_SUCH_SERVICE, "removed");
        removed = sd_bus_message_unref(removed);

        /* Again, and the API freed while it waits: answered too. */
        write_definition(SLOW, true);
        ASSERT_OK(ks_daemon_reload(daemon_));
        wait_seen(SLOW);
        call_start(&freed, KS_API_MANAGER_PATH, KS_API_MANAGER_INTERFACE, "CheckNow", "s", "slow");
        run_for(300);
        ASSERT_NULL(freed);
        api = ks_api_free(api);
        WAIT_FOR(freed, 10000);
        assert_error(freed, SD_BUS_ERROR_FAILED, "stopping");
        freed = sd_bus_message_unref(freed);
        teardown();
}

TEST_MAIN()

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon as a whole (daemon.h), through its public calls only, against a fake systemd on a
 * private bus (fake-systemd.h), a fake notify socket (notify-socket.h, $NOTIFY_SOCKET) and one
 * loopback TCP listener per service for its health check; the definitions come from a temporary
 * directory (the search_path option). Every unit the fake knows is active with the test's own
 * PID as MainPID, so notifications need no privilege.
 * Checks: ks_daemon_new() reads nothing until the first reload, which watches exactly the
 * definitions with [health] (their units are read, a running one is greeted) and ignores the
 * signals of the others; a reload reconfigures a changed definition in place (no second
 * greeting, the new interval applies), releases a service whose [health] is gone
 * (WATCHDOG_USEC=infinity to its MainPID, no more checks, its signals ignored), starts watching
 * an added one and keeps the monitor of a definition that no longer loads; systemd's
 * Reloading(false) reloads, Reloading(true) does not; ks_daemon_free() with monitors checking
 * and reads in flight leaves nothing behind (run under ASan) and nothing fires afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "state-file.h"
#include "fake-systemd.h"
#include "loop-helpers.h"
#include "notify-socket.h"
#include "test.h"
#include "time-util.h"

enum { ALPHA, BETA, GAMMA, DELTA, N_UNITS };
static const char *const names[N_UNITS] = { "alpha", "beta", "gamma", "delta" };

#define WATCHDOG_SEC 30
#define PROPS 7         /* Get calls of one full read of a unit (unit-watch.h) */

/* ---- the fake systemd (child process) ---- */

enum { SEND_CHANGED, SEND_INVALIDATED, SEND_RELOADING };

typedef struct shared {
        ks_unit_state units[N_UNITS];   /* what the fake says of each unit */
        unsigned gets[N_UNITS];         /* Properties.Get calls seen per unit */
        unsigned subscribes;
        struct {
                int what, arg;
        } signals[64];                  /* to send, in this order */
        unsigned queued, sent;
} shared;

static shared *sh;

static int unit_index(const char *path) {
        _cleanup_free_ char *unit = NULL;

        if (!path || sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0)
                return -1;
        for (int i = 0; i < N_UNITS; i++) {
                char want[64];

                snprintf(want, sizeof want, "konivrer@%s.service", names[i]);
                if (streq(unit, want))
                        return i;
        }
        return -1;
}

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *iface, *name;
        int u;

        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "Subscribe")) {
                __atomic_add_fetch(&sh->subscribes, 1, __ATOMIC_SEQ_CST);
                return sd_bus_reply_method_return(m, NULL) < 0 ? -1 : 1;
        }
        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get"))
                return 0;
        u = unit_index(sd_bus_message_get_path(m));
        if (u < 0 || sd_bus_message_read(m, "ss", &iface, &name) < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT, "no such unit (test)") < 0 ? -1 : 1;
        __atomic_add_fetch(&sh->gets[u], 1, __ATOMIC_SEQ_CST);
        if (sd_bus_message_new_method_return(m, &reply) < 0 ||
            fake_systemd_append_property(reply, name, &sh->units[u]) < 0 || sd_bus_send(NULL, reply, NULL) < 0)
                return -1;
        return 1;
}

static int send_queued(sd_bus *bus, unsigned i) {
        char unit[64];
        int arg = sh->signals[i].arg;

        snprintf(unit, sizeof unit, "konivrer@%s.service", names[arg % N_UNITS]);
        switch (sh->signals[i].what) {
        case SEND_CHANGED:
                return fake_systemd_emit_unit_changed(bus, unit, &sh->units[arg], NULL);
        case SEND_INVALIDATED:
                return fake_systemd_emit_unit_changed(bus, unit, NULL, "ActiveState");
        default:
                return fake_systemd_emit_reloading(bus, arg);
        }
}

/* The next queued signal, if any. */
static int send_next(sd_bus *bus) {
        unsigned sent = __atomic_load_n(&sh->sent, __ATOMIC_SEQ_CST);

        if (sent >= __atomic_load_n(&sh->queued, __ATOMIC_SEQ_CST))
                return 0;
        if (send_queued(bus, sent) < 0)
                return -1;
        __atomic_store_n(&sh->sent, sent + 1, __ATOMIC_SEQ_CST);
        return 1;
}

static _Noreturn void fake_systemd(int fd) {
        alarm(60);
        fake_systemd_serve(fd, on_call, send_next);
}

/* The fake sends this signal next (after those queued before). */
static void queue_signal(int what, int arg) {
        unsigned i = __atomic_load_n(&sh->queued, __ATOMIC_SEQ_CST);

        ASSERT_TRUE(i < ELEMENTSOF(sh->signals));
        sh->signals[i].what = what;
        sh->signals[i].arg = arg;
        __atomic_store_n(&sh->queued, i + 1, __ATOMIC_SEQ_CST);
}

static unsigned gets(int u) {
        return __atomic_load_n(&sh->gets[u], __ATOMIC_SEQ_CST);
}

/* ---- the test side: the daemon, a listener per service, the notifications ---- */

typedef struct listener {
        int fd;
        uint16_t port;
        unsigned accepted;      /* health checks that connected */
        sd_event_source *io;
} listener;

static char dir[] = "/tmp/ks-daemon-test-XXXXXX";
static sd_event *event;
static sd_bus *bus;
static pid_t child;
static ks_daemon *daemon_;
static listener listeners[N_UNITS];
static note notes[4096];        /* every notification so far, in order */
static unsigned n_notes;

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        listener *l = userdata;
        int c;

        while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                l->accepted++;
                close(c);
        }
        return 0;
}

static void listen_on(listener *l) {
        *l = (listener) {};
        l->fd = loopback_listener(&l->port);
        ASSERT_OK(sd_event_add_io(event, &l->io, l->fd, EPOLLIN, on_accept, l));
}

/* NAME.toml of unit u: with [health] at this interval (a TCP check on its listener), without
 * (interval NULL), or text that does not load (broken). */
static void write_definition(int u, const char *interval, bool broken) {
        FILE *f = definition_open(dir, names[u]);

        if (interval)
                fprintf(f,
                        "[health]\ninterval = \"%s\"\ntimeout = \"100ms\"\nwatchdog = \"%ds\"\n"
                        "[[health.check]]\ntype = \"tcp\"\nhost = \"127.0.0.1\"\nport = %u\n",
                        interval, WATCHDOG_SEC, listeners[u].port);
        if (broken)
                fprintf(f, "[health\n");
        ASSERT_EQ(fclose(f), 0);
}

/* Runs the loop for up to 10 ms, keeping what arrives at the notify socket. */
static void step(void) {
        note n;

        if (next_note(&n, 10)) {
                ASSERT_TRUE(n_notes < ELEMENTSOF(notes));
                notes[n_notes++] = n;
        }
}


/* Notifications since note number from that contain what, sent in the name of our PID. */
static unsigned count_notes(unsigned from, const char *what) {
        unsigned k = 0;

        for (unsigned i = from; i < n_notes; i++)
                if (strstr(notes[i].text, what)) {
                        ASSERT_EQ(notes[i].pid, getpid());
                        k++;
                }
        return k;
}

#define GREETING "WATCHDOG_USEC=30000000\n"     /* a monitor's first word to a running unit */
#define RELEASE "WATCHDOG_USEC=18446744073709551615\n"

/* The daemon's own status: services watched, and of those running and ready. */
static unsigned watching(unsigned *ret_running, unsigned *ret_ready) {
        char buf[256];
        unsigned n = 0, running = 0, ready = 0;

        ks_daemon_status(daemon_, buf, sizeof buf);
        if (sscanf(buf, "watching %u services with health checks (%u running, %u ready)", &n, &running, &ready) != 3)
                ks_test_fail(true, __FILE__, __LINE__, "unexpected status: %s", buf);
        if (ret_running)
                *ret_running = running;
        if (ret_ready)
                *ret_ready = ready;
        return n;
}

/* Waits until the watcher's reads of unit u since before are all answered by the fake. */
static void wait_read(int u, unsigned before) {
        WAIT_FOR(gets(u) >= before + PROPS, 10000);
}

/* A unit's next invocation, as after a restart. */
static void restart_unit(int u) {
        sh->units[u].invocation_id.bytes[1]++;
}

/* alpha and beta with health checks at these intervals, gamma without; the fake, the daemon
 * (not reloaded yet). */
static void setup(const char *alpha_interval, const char *beta_interval) {
        char path[160];

        memset(sh, 0, sizeof *sh);
        n_notes = 0;
        ASSERT_NOT_NULL(mkdtemp(strcpy(dir, "/tmp/ks-daemon-test-XXXXXX")));
        ASSERT_OK(sd_event_new(&event));
        for (int u = 0; u < N_UNITS; u++) {
                ks_unit_state *st = &sh->units[u];

                listen_on(&listeners[u]);
                strcpy(st->active_state, "active");
                strcpy(st->sub_state, "running");
                st->main_pid = (uint32_t) getpid();
                st->main_start_usec = ks_now_usec();
                st->watchdog_usec = WATCHDOG_SEC * 1000000ull;
                st->invocation_id.bytes[0] = (uint8_t) (u + 1);
        }
        write_definition(ALPHA, alpha_interval, false);
        write_definition(BETA, beta_interval, false);
        write_definition(GAMMA, NULL, false);

        snprintf(path, sizeof path, "%s/notify", dir);
        notify_socket_open(path, event);
        ASSERT_EQ(setenv("NOTIFY_SOCKET", path, 1), 0);
        fake_systemd_start(event, fake_systemd, &child, &bus);
        ASSERT_OK(ks_daemon_new(event, bus, &(ks_daemon_options) { .search_path = dir, .state_dir = dir }, &daemon_));
}

static void teardown(void) {
        char cmd[200];

        daemon_ = ks_daemon_free(daemon_);
        fake_systemd_stop(bus, child);
        bus = NULL;
        for (int u = 0; u < N_UNITS; u++) {
                listeners[u].io = sd_event_source_disable_unref(listeners[u].io);
                close(listeners[u].fd);
        }
        notify_socket_close();
        event = sd_event_unref(event);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

/* The first reload and both services greeted. */
static void start(void) {
        ASSERT_OK(ks_daemon_reload(daemon_));
        ASSERT_EQ(watching(NULL, NULL), 2);
        wait_read(ALPHA, 0);
        wait_read(BETA, 0);
        WAIT_FOR(count_notes(0, GREETING) == 2, 10000);
}

TEST(new_watches_the_definitions_with_health) {
        unsigned running, ready, alpha, seen;

        setup("5s", "5s");
        /* Subscribed at once; nothing watched before the first reload. */
        ASSERT_EQ(__atomic_load_n(&sh->subscribes, __ATOMIC_SEQ_CST), 1);
        ASSERT_EQ(watching(NULL, NULL), 0);
        run_for(100);
        ASSERT_EQ(gets(ALPHA) + gets(BETA) + gets(GAMMA), 0);

        start();
        /* Both read in full, found running and greeted (notifyd (re)started while they ran). */
        ASSERT_EQ(watching(&running, &ready), 2);
        ASSERT_EQ(running, 2);
        ASSERT_EQ(ready, 2);
        ASSERT_EQ(gets(GAMMA), 0);

        /* gamma's signals are not ours to act on: a new invocation of it is not read, while one
         * of alpha is (the reads of alpha, queued after, are the barrier). */
        seen = n_notes;
        alpha = gets(ALPHA);
        restart_unit(GAMMA);
        queue_signal(SEND_CHANGED, GAMMA);
        restart_unit(ALPHA);
        queue_signal(SEND_CHANGED, ALPHA);
        wait_read(ALPHA, alpha);
        WAIT_FOR(count_notes(seen, GREETING) == 1, 10000);
        ASSERT_EQ(gets(GAMMA), 0);
        teardown();
}

TEST(reload_reconfigures_releases_adds_and_keeps) {
        unsigned alpha, beta, seen, accepted;

        /* beta checked often, so that its checks are seen to stop. */
        setup("5s", "200ms");
        start();
        WAIT_FOR(listeners[BETA].accepted >= 2, 10000);

        /* alpha checked every 100 ms, beta without [health], delta new. */
        write_definition(ALPHA, "100ms", false);
        write_definition(BETA, NULL, false);
        write_definition(DELTA, "5s", false);
        seen = n_notes;
        alpha = gets(ALPHA);
        beta = gets(BETA);
        accepted = listeners[ALPHA].accepted;
        ASSERT_OK(ks_daemon_reload(daemon_));
        ASSERT_EQ(watching(NULL, NULL), 2);

        /* beta's running invocation has its watchdog turned off, in its MainPID's name. */
        WAIT_FOR(count_notes(seen, RELEASE) == 1, 10000);
        ASSERT_EQ(count_notes(seen, "STATUS=no health checks any more"), 1);
        /* delta is read and greeted; alpha is read again (a drop-in may have changed its
         * WatchdogSec) but not greeted: the same monitor, it knows the invocation. */
        wait_read(DELTA, 0);
        wait_read(ALPHA, alpha);
        WAIT_FOR(count_notes(seen, GREETING) == 1, 10000);
        /* The new interval applies: a check every 100 ms, not one in 5 s. */
        WAIT_FOR(listeners[ALPHA].accepted >= accepted + 5, 10000);
        ASSERT_EQ(count_notes(seen, GREETING), 1);
        ASSERT_EQ(gets(BETA), beta);

        /* beta is not checked any more (one check may have been under way), and its signals
         * are ignored: a new invocation of it is neither read nor greeted. */
        accepted = listeners[BETA].accepted;
        run_for(1000);
        ASSERT_TRUE(listeners[BETA].accepted <= accepted + 1);
        alpha = gets(ALPHA);
        restart_unit(BETA);
        queue_signal(SEND_CHANGED, BETA);
        queue_signal(SEND_INVALIDATED, ALPHA);
        wait_read(ALPHA, alpha);
        run_for(100);
        ASSERT_EQ(gets(BETA), beta);
        ASSERT_EQ(count_notes(seen, GREETING), 1);
        ASSERT_EQ(count_notes(seen, RELEASE), 1);

        /* alpha's definition breaks: its monitor stays, checking as before, not released. */
        write_definition(ALPHA, "100ms", true);
        seen = n_notes;
        accepted = listeners[ALPHA].accepted;
        ASSERT_OK(ks_daemon_reload(daemon_));
        ASSERT_EQ(watching(NULL, NULL), 2);
        WAIT_FOR(listeners[ALPHA].accepted >= accepted + 5, 10000);
        ASSERT_EQ(count_notes(seen, RELEASE), 0);
        ASSERT_EQ(count_notes(seen, GREETING), 0);
        teardown();
}

TEST(reloading_signal_reloads) {
        unsigned alpha;

        setup("5s", "5s");
        start();
        write_definition(GAMMA, "5s", false);

        /* Reloading(true): systemd is about to reload, nothing is read yet. A refresh of alpha
         * queued after it is the barrier. */
        alpha = gets(ALPHA);
        queue_signal(SEND_RELOADING, true);
        queue_signal(SEND_INVALIDATED, ALPHA);
        wait_read(ALPHA, alpha);
        run_for(100);
        ASSERT_EQ(watching(NULL, NULL), 2);
        ASSERT_EQ(gets(GAMMA), 0);

        /* Reloading(false): the definitions are read again, gamma is watched now. */
        queue_signal(SEND_RELOADING, false);
        WAIT_FOR(watching(NULL, NULL) == 3, 10000);
        wait_read(GAMMA, 0);
        WAIT_FOR(count_notes(0, GREETING) == 3, 10000);
        teardown();
}

/* Reads dir/NAME.state; -ENOENT when there is none. */
static int load_state(const char *name, ks_service_state *ret) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        return ks_service_state_load(fd, name, ret, NULL, NULL);
}

static void write_file(const char *name, const char *content) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        ASSERT_NOT_NULL(f = fopen(path, "we"));
        ASSERT_TRUE(fputs(content, f) >= 0);
        ASSERT_EQ(fclose(f), 0);
}

TEST(state_is_kept) {
        _cleanup_free_ char *saved = NULL;
        ks_service_state st;
        char pattern[PATH_MAX];
        glob_t g;

        setup("100ms", "100ms");
        start();
        WAIT_FOR(listeners[ALPHA].accepted >= 3 && listeners[BETA].accepted >= 3, 10000);
        /* Healthy now: written within the store's period, not per round. */
        WAIT_FOR(load_state("alpha", &st) == 0 && st.health == KS_HEALTH_HEALTHY, 5000);
        ASSERT_EQ(ks_health_record_health(ks_monitor_record(ks_daemon_find(daemon_, "konivrer@alpha.service"))),
                  KS_HEALTH_HEALTHY);
        ASSERT_NOT_NULL(ks_daemon_find(daemon_, "konivrer@beta"));
        ASSERT_NULL(ks_daemon_find(daemon_, "gamma"));  /* no health checks */
        /* A clean stop: paused, written at once. */
        ks_daemon_relax_all(daemon_);
        ASSERT_OK(load_state("alpha", &st));
        ASSERT_EQ(st.health, KS_HEALTH_PAUSED);
        ASSERT_STREQ(st.systemd_invocation_id, "01000000000000000000000000000000");
        ASSERT_OK(ks_service_state_format(&st, &saved, NULL));
        teardown();

        /* Next start (a new directory, given the old file): a good file is read back, a corrupt
         * one is set aside and its service starts fresh. */
        setup("100ms", "100ms");
        write_file("alpha.state", saved);
        write_file("beta.state", "garbage\n");
        start();
        ASSERT_EQ(ks_monitor_record(ks_daemon_find(daemon_, "alpha"))->st->systemd_invocation_id[1], '1');
        ASSERT_EQ(ks_monitor_record(ks_daemon_find(daemon_, "beta"))->st->n_incidents, 0);
        snprintf(pattern, sizeof pattern, "%s/beta.state.bad-*", dir);
        ASSERT_EQ(glob(pattern, 0, NULL, &g), 0);
        ASSERT_EQ(g.gl_pathc, 1);
        globfree(&g);
        teardown();
}

TEST(free_with_monitors) {
        unsigned accepted[N_UNITS], seen;

        setup("100ms", "100ms");
        start();
        write_definition(DELTA, "100ms", false);
        ASSERT_OK(ks_daemon_reload(daemon_));
        WAIT_FOR(listeners[ALPHA].accepted >= 2 && listeners[BETA].accepted >= 2 &&
                 listeners[DELTA].accepted >= 2, 10000);
        /* Reads in flight too: new invocations, whose signals the watcher follows with reads. */
        restart_unit(ALPHA);
        queue_signal(SEND_CHANGED, ALPHA);
        restart_unit(BETA);
        queue_signal(SEND_CHANGED, BETA);
        WAIT_FOR(__atomic_load_n(&sh->sent, __ATOMIC_SEQ_CST) == 2, 10000);
        step();

        daemon_ = ks_daemon_free(daemon_);
        /* Nothing of it runs any more: no check, no notification (ASan finds what is left).
         * What it sent before is still in the socket: read without running the loop. */
        for (note n; next_note(&n, 0);)
                ;
        for (int u = 0; u < N_UNITS; u++)
                accepted[u] = listeners[u].accepted;
        seen = n_notes;
        run_for(500);
        for (int u = 0; u < N_UNITS; u++)
                ASSERT_TRUE(listeners[u].accepted <= accepted[u] + 1);
        ASSERT_EQ(n_notes, seen);
        teardown();
}

int main(int argc, char *argv[]) {
        signal(SIGPIPE, SIG_IGN);
        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(sh != MAP_FAILED);
        return ks_test_run(argc, argv);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One monitored service end to end, without systemd: a definition from TOML, a forked child as
 * the service's MainPID, a loopback HTTP server whose /health answer the test switches, and a
 * datagram socket standing in for systemd's notify socket. Checks what arrives there, in whose
 * name: READY=1 on the first pass (the third in a row with success_threshold = 3), WATCHDOG=1
 * while healthy, WATCHDOG=trigger after failure_threshold failures (a pass between them that is
 * not success_threshold passes in a row does not reset the count), a fresh start for a new
 * invocation, silence once the unit stops, the greeting of an already running service (WATCHDOG_USEC= restored) and the relax on stop.
 * A READY=1 systemd did not take (the unit stays "activating") is said again (1 s, 2 s ... apart), also to
 * a MainPID that changed after the InvocationID, and no more once the unit is active.
 * A changed definition's watchdog reaches the running invocation (WATCHDOG_USEC=), healthy,
 * unhealthy, not ready yet or still without a MainPID, but not once a restart was requested nor a
 * later invocation; the pings follow the new watchdog, raised or lowered.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "curl-dl.h"
#include "notify-socket.h"
#include "test.h"
#include "service.h"
#include "time-util.h"
#include "toml.h"

typedef struct shared {
        int status;             /* what /health answers */
        unsigned hits;          /* /health requests seen */
        unsigned delay_ms;      /* how long /health takes to answer */
        unsigned hits_t11;      /* /t11 requests seen (none come from earlier monitors) */
        int script[8];          /* answers of the next script_len /t11 requests, then status */
        unsigned script_len, script_pos;
} shared;

static shared *sh;
static pid_t server_pid;
static uint16_t port;
static sd_event *event;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* ---- the HTTP server (child process): every request gets sh->status, connection closed ---- */

static _Noreturn void serve(int lfd) {
        for (;;) {
                char buf[2048], out[256];
                ssize_t k;
                int fd = accept(lfd, NULL, NULL), n;

                if (fd < 0)
                        continue;
                k = recv(fd, buf, sizeof buf - 1, 0);
                if (k > 0) {
                        int status = __atomic_load_n(&sh->status, __ATOMIC_SEQ_CST);
                        unsigned pos = __atomic_load_n(&sh->script_pos, __ATOMIC_SEQ_CST);

                        buf[k] = 0;
                        if (strstr(buf, "GET /health"))
                                __atomic_add_fetch(&sh->hits, 1, __ATOMIC_SEQ_CST);
                        if (strstr(buf, "GET /t11 ")) {
                                __atomic_add_fetch(&sh->hits_t11, 1, __ATOMIC_SEQ_CST);
                                if (pos < __atomic_load_n(&sh->script_len, __ATOMIC_SEQ_CST)) {
                                        status = sh->script[pos];
                                        __atomic_store_n(&sh->script_pos, pos + 1, __ATOMIC_SEQ_CST);
                                }
                        }
                        usleep(__atomic_load_n(&sh->delay_ms, __ATOMIC_SEQ_CST) * 1000u);
                        n = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                                     status);
                        (void) send(fd, out, (size_t) n, MSG_NOSIGNAL);
                }
                close(fd);
        }
}

static void start_server(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(sh != MAP_FAILED);
        sh->status = 200;
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(fd, 64), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        port = ntohs(sa.sin_port);
        server_pid = fork();
        ASSERT_TRUE(server_pid >= 0);
        if (server_pid == 0) {
                alarm(60);
                serve(fd);
        }
        close(fd);
}

static pid_t spawn_service(void) {
        pid_t p = fork();
        ASSERT_TRUE(p >= 0);
        if (p == 0) {
                alarm(60);
                pause();
                _exit(0);
        }
        return p;
}

static void reap(pid_t p) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
}

static ks_service *load(const char *toml) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        _cleanup_diag_list_ ks_diag_list diags = {};
        ks_toml_error err;
        ks_service *s = NULL;

        ASSERT_EQ(ks_toml_parse(toml, strlen(toml), &doc, &err), 0);
        if (ks_service_load("web", doc, "web.toml", &s, &diags) < 0) {
                for (size_t i = 0; i < diags.n; i++)
                        fprintf(stderr, "%s\n", diags.items[i].text);
                abort();
        }
        return s;
}

static ks_unit_state state(const char *active, pid_t pid, uint8_t inv) {
        ks_unit_state st = { .main_pid = (uint32_t) pid, .main_start_usec = now_usec() };
        snprintf(st.active_state, sizeof st.active_state, "%s", active);
        snprintf(st.sub_state, sizeof st.sub_state, "%s", "running");
        st.invocation_id.bytes[0] = inv;
        st.invocation_id.bytes[15] = 1;
        return st;
}

#define ALL (KS_UNIT_ACTIVE_STATE | KS_UNIT_SUB_STATE | KS_UNIT_MAIN_PID | KS_UNIT_INVOCATION_ID | KS_UNIT_MAIN_START)

/* The definition of "web" with these health values (failure threshold 10). */
static ks_service *def(const char *interval, const char *timeout, const char *watchdog) {
        char toml[1024];

        snprintf(toml, sizeof toml,
                 "exec = [\"/bin/true\"]\n"
                 "[health]\ninterval = \"%s\"\ntimeout = \"%s\"\nfailure_threshold = 10\nwatchdog = \"%s\"\n"
                 "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/health\"\n",
                 interval, timeout, watchdog, port);
        return load(toml);
}

/* The longest gap in ms between notifications that restart systemd's watchdog timer (WATCHDOG=1
 * or WATCHDOG_USEC=) over ms milliseconds, counted from now. */
static unsigned longest_ping_gap(unsigned ms) {
        uint64_t t0 = now_usec(), last = t0, gap = 0;
        note n;

        while (now_usec() < t0 + ms * 1000ull)
                if (next_note(&n, 10) && (strstr(n.text, "WATCHDOG=1\n") || strstr(n.text, "WATCHDOG_USEC="))) {
                        gap = MAX(gap, now_usec() - last);
                        last = now_usec();
                }
        gap = MAX(gap, now_usec() - last);
        return (unsigned) (gap / 1000);
}

/* Issue 11: systemd fixes an invocation's watchdog at its start; a reload that changes the
 * definition's must hand the new one to the running invocation, or a raised interval leaves no
 * check within the old watchdog. */
static void test_reload_watchdog(ks_monitor_context *ctx, pid_t pid) {
        ks_monitor *m = NULL;
        ks_unit_state st;
        unsigned hits, gap;
        note n;

        ASSERT_EQ(ks_monitor_new(ctx, def("200ms", "100ms", "2s"), &m), 0);
        st = state("active", pid, 20);
        ks_monitor_update_unit(m, &st, ALL);
        st.watchdog_usec = 2000000;
        ks_monitor_update_unit(m, &st, KS_UNIT_WATCHDOG_USEC);
        n = expect_note("STATUS=healthy", 1500);
        drain();

        /* Raised: the invocation is told at once, and the pings follow 10 s (about every 4.5 s
         * here), not the 2 s it started with (every check). */
        ASSERT_EQ(ks_monitor_reconfigure(m, def("400ms", "100ms", "10s")), 1);
        ASSERT_TRUE(next_note(&n, 0));
        ASSERT_EQ(n.pid, pid);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG_USEC=10000000\n") != NULL);
        hits = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
        expect_none("WATCHDOG=1", 2500);
        ASSERT_TRUE(__atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST) >= hits + 4);
        /* systemd's own value, read again after the reload, is the one we set. */
        st.watchdog_usec = 10000000;
        ks_monitor_update_unit(m, &st, KS_UNIT_WATCHDOG_USEC);
        expect_none("WATCHDOG=1", 500);

        /* Lowered (interval and watchdog): told at once, then pinged at least every half of the
         * new 1 s. */
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "50ms", "1s")), 1);
        ASSERT_TRUE(next_note(&n, 0));
        ASSERT_TRUE(strstr(n.text, "WATCHDOG_USEC=1000000\n") != NULL);
        gap = longest_ping_gap(2000);
        fprintf(stderr, "watchdog 1 s after a reload: pings at most %u ms apart\n", gap);
        /* 500 ms, plus 100 ms for a round that a busy machine starts late. */
        ASSERT_TRUE(gap <= 600);

        /* Only the timeout changed, not the watchdog: the invocation is left alone. */
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "1s")), 1);
        expect_none("WATCHDOG_USEC=", 300);

        /* Unhealthy (below the threshold): told too. */
        __atomic_store_n(&sh->status, 500, __ATOMIC_SEQ_CST);
        n = expect_note("STATUS=unhealthy (1/10)", 1000);
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "3s")), 1);
        n = expect_note("WATCHDOG_USEC=3000000\n", 100);
        ASSERT_EQ(n.pid, pid);
        /* A restart requested: the next invocation starts with the new watchdog anyway. */
        n = expect_note("WATCHDOG=trigger", 2000);
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "4s")), 1);
        expect_none("WATCHDOG_USEC=", 300);

        /* A new invocation, not ready yet (checks failing): told, and still no READY=1. */
        st = state("activating", pid, 21);
        ks_monitor_update_unit(m, &st, ALL);
        n = expect_note("STATUS=", 1000);
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "5s")), 1);
        n = expect_note("WATCHDOG_USEC=5000000\n", 100);
        ASSERT_TRUE(!strstr(n.text, "READY=1"));

        /* Started (a new InvocationID) but no MainPID yet (ExecStartPre=): told at its greeting. */
        st = state("activating", 0, 22);
        ks_monitor_update_unit(m, &st, ALL);
        ASSERT_TRUE(!ks_monitor_is_checking(m));
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "6s")), 1);
        expect_none("WATCHDOG_USEC=", 200);
        st.main_pid = (uint32_t) pid;
        ks_monitor_update_unit(m, &st, KS_UNIT_MAIN_PID);
        n = expect_note("WATCHDOG_USEC=6000000\n", 100);
        ASSERT_EQ(n.pid, pid);

        /* Stopped, reconfigured, started again: the new invocation has the new watchdog from
         * systemd already, nothing to tell it. */
        st = state("inactive", 0, 22);
        ks_monitor_update_unit(m, &st, ALL);
        ASSERT_EQ(ks_monitor_reconfigure(m, def("100ms", "60ms", "7s")), 1);
        st = state("activating", pid, 23);
        ks_monitor_update_unit(m, &st, ALL);
        expect_none("WATCHDOG_USEC=", 500);

        __atomic_store_n(&sh->status, 200, __ATOMIC_SEQ_CST);
        ks_monitor_free(m);
        drain();
}

int main(void) {
        char dir[] = "/tmp/ks-monitor-test-XXXXXX", path[128], toml[1024];
        ks_monitor_context ctx = {};
        ks_monitor *m = NULL;
        ks_unit_state st;
        pid_t p1, p2;
        unsigned hits;
        note n;

        if (geteuid() != 0) {
                printf("SKIP: notifications with another process's PID need root\n");
                return 77;
        }
        signal(SIGPIPE, SIG_IGN);
        start_server();

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/notify", dir);
        ASSERT_TRUE(sd_event_new(&event) >= 0);
        notify_socket_open(path, event);
        ctx.event = event;
        ASSERT_EQ(ks_admission_new(event, 0, &ctx.admission), 0);
        ASSERT_EQ(ks_due_set_new(event, &ctx.due), 0);
        ASSERT_EQ(ks_check_loop_new(event, &ctx.checks), 0);
        ASSERT_EQ(ks_notifier_new(event, path, &ctx.notifier), 0);

        snprintf(toml, sizeof toml,
                 "exec = [\"/bin/true\"]\n"
                 "[health]\ninterval = \"200ms\"\ntimeout = \"100ms\"\nfailure_threshold = 3\nwatchdog = \"7s\"\n"
                 "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/health\"\n", port);
        ASSERT_EQ(ks_monitor_new(&ctx, load(toml), &m), 0);
        ASSERT_STREQ(ks_monitor_unit(m), "konivrer@web.service");

        /* A new invocation, activating: the first pass makes it ready, in the MainPID's name. */
        p1 = spawn_service();
        st = state("activating", p1, 1);
        ks_monitor_update_unit(m, &st, ALL);
        ASSERT_TRUE(ks_monitor_is_checking(m));
        n = expect_note("READY=1", 2000);
        ASSERT_EQ(n.pid, p1);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG=1\n") != NULL);
        ASSERT_TRUE(strstr(n.text, "STATUS=healthy; HTTP 200 in ") != NULL);
        /* systemd did not take it (still "activating"): READY=1 again, 1 s and then 2 s later
         * (the gap doubles, so thousands of starting services do not flood systemd). */
        for (unsigned i = 0, gap = 1000; i < 2; i++, gap *= 2) {
                uint64_t t0 = now_usec(), dt;

                n = expect_note("READY=1", gap + 800);
                dt = (now_usec() - t0) / 1000;
                ASSERT_EQ(n.pid, p1);
                ASSERT_TRUE(dt + 50 >= gap);
                ASSERT_TRUE(dt < gap + 600);
        }
        st = state("active", p1, 1);
        ks_monitor_update_unit(m, &st, KS_UNIT_ACTIVE_STATE);
        while (next_note(&n, 0))
                ;

        /* Healthy: pings at the interval, no second READY=1. */
        for (int i = 0; i < 3; i++) {
                n = expect_note("WATCHDOG=1", 1000);
                ASSERT_EQ(n.pid, p1);
                ASSERT_TRUE(!strstr(n.text, "READY=1"));
        }

        /* Once systemd's WatchdogUSec (7 s) is known, a healthy service is pinged only as often
         * as that needs (every ~3 s here, schedule.h), while checks go on every 200 ms. */
        st.watchdog_usec = 7000000;
        ks_monitor_update_unit(m, &st, KS_UNIT_WATCHDOG_USEC);
        n = expect_note("WATCHDOG=1", 4000);
        hits = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
        {
                uint64_t t0 = now_usec();
                while (now_usec() < t0 + 2000000ull)
                        if (next_note(&n, 100))
                                ASSERT_TRUE(!strstr(n.text, "WATCHDOG=1"));
        }
        ASSERT_TRUE(__atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST) >= hits + 6);
        n = expect_note("WATCHDOG=1", 2500);
        ASSERT_EQ(n.pid, p1);
        /* A shorter WatchdogSec from a drop-in wins over the definition's. */
        st.watchdog_usec = 800000;
        ks_monitor_update_unit(m, &st, KS_UNIT_WATCHDOG_USEC);
        n = expect_note("WATCHDOG=1", 700);
        n = expect_note("WATCHDOG=1", 700);
        st.watchdog_usec = 0;
        ks_monitor_update_unit(m, &st, KS_UNIT_WATCHDOG_USEC);

        /* Failing: pings go on below the threshold, then exactly one trigger. */
        __atomic_store_n(&sh->status, 500, __ATOMIC_SEQ_CST);
        n = expect_note("STATUS=unhealthy (1/3); HTTP 500 (expected 2xx)", 1500);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG=1\n") != NULL);
        n = expect_note("WATCHDOG=trigger", 1500);
        ASSERT_EQ(n.pid, p1);
        ASSERT_TRUE(strstr(n.text, "STATUS=failed (3/3)") != NULL);

        /* systemd restarts it: the new invocation starts from scratch and is greeted again. */
        st = state("deactivating", p1, 1);
        ks_monitor_update_unit(m, &st, ALL);
        ASSERT_TRUE(!ks_monitor_is_checking(m));
        __atomic_store_n(&sh->status, 200, __ATOMIC_SEQ_CST);
        /* The new InvocationID comes with the old MainPID (two signals): READY=1 goes to the old
         * process, which systemd would drop; the new MainPID gets it as soon as it is known. */
        p2 = spawn_service();
        st = state("activating", p1, 2);
        ks_monitor_update_unit(m, &st, ALL);
        n = expect_note("READY=1", 2000);
        ASSERT_EQ(n.pid, p1);
        reap(p1);
        st.main_pid = (uint32_t) p2;
        ks_monitor_update_unit(m, &st, KS_UNIT_MAIN_PID);
        ASSERT_TRUE(next_note(&n, 0));
        ASSERT_EQ(n.pid, p2);
        ASSERT_TRUE(strstr(n.text, "READY=1\n") != NULL);
        st = state("active", p2, 2);
        ks_monitor_update_unit(m, &st, KS_UNIT_ACTIVE_STATE);

        /* Stopped: no more checks at all. */
        st = state("deactivating", p2, 2);
        ks_monitor_update_unit(m, &st, KS_UNIT_ACTIVE_STATE);
        while (next_note(&n, 100))
                ;
        hits = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
        ASSERT_TRUE(!next_note(&n, 800));
        ASSERT_EQ(__atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST), hits);
        m = ks_monitor_free(m);

        /* notifyd (re)starts while the service runs: WATCHDOG=1 at once, its WatchdogSec restored. */
        ASSERT_EQ(ks_monitor_new(&ctx, load(toml), &m), 0);
        st = state("active", p2, 2);
        ks_monitor_update_unit(m, &st, ALL);
        n = expect_note("WATCHDOG_USEC=7000000\n", 500);
        ASSERT_EQ(n.pid, p2);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG=1\n") != NULL);
        ASSERT_TRUE(!strstr(n.text, "READY=1"));
        n = expect_note("STATUS=healthy; HTTP 200", 1500);

        /* A changed definition: the new interval applies (more checks per second). */
        hits = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
        {
                uint64_t t0 = now_usec();
                while (now_usec() < t0 + 1000000)
                        (void) next_note(&n, 50);
        }
        unsigned slow = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST) - hits;
        snprintf(toml, sizeof toml,
                 "exec = [\"/bin/true\"]\n"
                 "[health]\ninterval = \"100ms\"\ntimeout = \"50ms\"\nfailure_threshold = 3\nwatchdog = \"7s\"\n"
                 "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/health\"\n", port);
        ASSERT_EQ(ks_monitor_reconfigure(m, load(toml)), 1);
        ASSERT_EQ(ks_monitor_reconfigure(m, load(toml)), 0);     /* unchanged: nothing to do */
        hits = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
        {
                uint64_t t0 = now_usec();
                while (now_usec() < t0 + 1000000)
                        (void) next_note(&n, 50);
        }
        unsigned fast = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST) - hits;
        fprintf(stderr, "checks per second: %u at 200ms, %u at 100ms\n", slow, fast);
        ASSERT_TRUE(slow >= 3 && slow <= 7);
        ASSERT_TRUE(fast >= 8 && fast <= 12);

        /* The endpoint answers after 80 ms, over the 50 ms timeout: a real timeout, counted. */
        __atomic_store_n(&sh->delay_ms, 80, __ATOMIC_SEQ_CST);
        n = expect_note("STATUS=unhealthy (1/3); timed out after 50ms", 1000);
        __atomic_store_n(&sh->delay_ms, 0, __ATOMIC_SEQ_CST);
        n = expect_note("STATUS=healthy", 1000);
        /* The same timeout while notifyd's own loop stalls (an overloaded machine): the timeout
         * reaches it 300 ms late, and the result is not counted (no "unhealthy"). */
        for (unsigned i = 0; i < 20 && next_note(&n, 150); i++)
                ;
        ASSERT_EQ(ctx.uncounted, 0);
        {
                unsigned h0 = __atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST);
                uint64_t t0 = now_usec();

                /* The next request gets the slow answer; once it is in flight, stall the loop. */
                __atomic_store_n(&sh->delay_ms, 80, __ATOMIC_SEQ_CST);
                while (__atomic_load_n(&sh->hits, __ATOMIC_SEQ_CST) == h0 && now_usec() < t0 + 2000000)
                        ASSERT_TRUE(sd_event_run(event, 1000) >= 0);
                usleep(300000);
                __atomic_store_n(&sh->delay_ms, 0, __ATOMIC_SEQ_CST);
                for (t0 = now_usec(); now_usec() < t0 + 500000;)
                        if (next_note(&n, 10))
                                ASSERT_TRUE(!strstr(n.text, "unhealthy"));
        }
        ASSERT_EQ(ctx.uncounted, 1);

        /* A clean stop of notifyd relaxes the watchdog. */
        while (next_note(&n, 10))
                ;
        ks_monitor_relax(m);
        ASSERT_TRUE(next_note(&n, 100));
        ASSERT_EQ(n.pid, p2);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG_USEC=18446744073709551615\n") != NULL);
        ASSERT_TRUE(strstr(n.text, "STATUS=health checks paused") != NULL);

        m = ks_monitor_free(m);

        /* Its health checks removed from the definition (daemon-reload): systemd keeps the running
         * invocation's watchdog, which nobody feeds any more, so it is turned off. */
        snprintf(toml, sizeof toml,
                 "exec = [\"/bin/true\"]\n"
                 "[health]\ninterval = \"1s\"\ntimeout = \"500ms\"\nwatchdog = \"7s\"\n"
                 "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/health\"\n", port);
        ASSERT_EQ(ks_monitor_new(&ctx, load(toml), &m), 0);
        st = state("active", p2, 40);
        ks_monitor_update_unit(m, &st, ALL);
        while (next_note(&n, 100))
                ;
        ks_monitor_release(m);
        ASSERT_TRUE(next_note(&n, 100));
        ASSERT_EQ(n.pid, p2);
        ASSERT_TRUE(strstr(n.text, "WATCHDOG_USEC=18446744073709551615\n") != NULL);
        ASSERT_TRUE(strstr(n.text, "STATUS=no health checks any more") != NULL);
        m = ks_monitor_free(m);

        /* At most max_in_flight rounds at once; due ones wait their turn (FIFO), none starves,
         * and their timeout starts when they do: three services on an endpoint that takes
         * 150 ms, one slot, 1 s interval and timeout (not ready yet: rounds every second). */
        {
                ks_monitor *ms[3];
                unsigned max_seen = 0;

                ks_admission_set_max(ctx.admission, 1);
                __atomic_store_n(&sh->delay_ms, 150, __ATOMIC_SEQ_CST);
                snprintf(toml, sizeof toml,
                         "exec = [\"/bin/true\"]\n"
                         "[health]\ninterval = \"1s\"\ntimeout = \"1s\"\nfailure_threshold = 1\nwatchdog = \"7s\"\n"
                         "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/health\"\n", port);
                for (unsigned i = 0; i < 3; i++) {
                        ASSERT_EQ(ks_monitor_new(&ctx, load(toml), &ms[i]), 0);
                        st = state("active", p2, (uint8_t) (10 + i));
                        ks_monitor_update_unit(ms[i], &st, ALL);
                }
                for (uint64_t t0 = ks_now_usec(); ks_now_usec() < t0 + 2500000;) {
                        (void) next_note(&n, 5);
                        ASSERT_TRUE(!strstr(n.text, "failed"));
                        max_seen = MAX(max_seen, ks_admission_in_flight(ctx.admission));
                }
                ASSERT_EQ(max_seen, 1);
                for (unsigned i = 0; i < 3; i++) {
                        ASSERT_TRUE(ks_monitor_rounds(ms[i]) >= 1);
                        ms[i] = ks_monitor_free(ms[i]);
                }
                ASSERT_EQ(ks_admission_in_flight(ctx.admission), 0);
                ASSERT_EQ(ks_admission_waiting(ctx.admission), 0);
                __atomic_store_n(&sh->delay_ms, 0, __ATOMIC_SEQ_CST);
        }

        /* success_threshold (issue #11). Readiness: READY=1 only after the third pass in a row,
         * the first time too. Then 500, 500, 200, 500 of the ready service: the pass between the
         * failures does not reset their count (2 passes would), so the 4th round is (3/3).
         * Its own path, /t11, whose requests only this monitor makes (those of the monitors above
         * may still arrive), and a timeout above the 150 ms for which one of them may still hold
         * the serial server, so that every answer counts as the script says. */
        {
                unsigned h0;

                ks_admission_set_max(ctx.admission, 0);
                snprintf(toml, sizeof toml,
                         "exec = [\"/bin/true\"]\n"
                         "[health]\ninterval = \"400ms\"\ntimeout = \"300ms\"\nfailure_threshold = 3\n"
                         "success_threshold = 3\nwatchdog = \"7s\"\n"
                         "[[health.check]]\ntype = \"http\"\nurl = \"http://127.0.0.1:%u/t11\"\n", port);
                ASSERT_EQ(ks_monitor_new(&ctx, load(toml), &m), 0);
                while (next_note(&n, 0))
                        ;
                h0 = __atomic_load_n(&sh->hits_t11, __ATOMIC_SEQ_CST);
                st = state("activating", p2, 30);
                ks_monitor_update_unit(m, &st, ALL);
                do
                        ASSERT_TRUE(next_note(&n, 4000));
                while (!strstr(n.text, "READY=1"));
                ASSERT_EQ(__atomic_load_n(&sh->hits_t11, __ATOMIC_SEQ_CST) - h0, 3);
                ASSERT_EQ(n.pid, p2);
                ASSERT_TRUE(strstr(n.text, "STATUS=healthy; HTTP 200") != NULL);
                st = state("active", p2, 30);
                ks_monitor_update_unit(m, &st, KS_UNIT_ACTIVE_STATE);

                h0 = __atomic_load_n(&sh->hits_t11, __ATOMIC_SEQ_CST);
                memcpy(sh->script, (const int[]) { 500, 500, 200, 500 }, 4 * sizeof(int));
                __atomic_store_n(&sh->script_pos, 0, __ATOMIC_SEQ_CST);
                __atomic_store_n(&sh->script_len, 4, __ATOMIC_SEQ_CST);
                n = expect_note("WATCHDOG=trigger", 4000);
                ASSERT_EQ(__atomic_load_n(&sh->hits_t11, __ATOMIC_SEQ_CST) - h0, 4);
                ASSERT_TRUE(strstr(n.text, "STATUS=failed (3/3)") != NULL);
                __atomic_store_n(&sh->script_len, 0, __ATOMIC_SEQ_CST);
                m = ks_monitor_free(m);
        }

        ks_admission_set_max(ctx.admission, 0);
        test_reload_watchdog(&ctx, p2);

        reap(p2);
        ks_check_loop_free(ctx.checks);
        ks_notifier_free(ctx.notifier);
        ks_due_set_free(ctx.due);
        ks_admission_free(ctx.admission);
        sd_event_unref(event);
        reap(server_pid);
        notify_socket_close();
        unlink(path);
        rmdir(dir);
        ks_curl_dl_cleanup();
        TEST_DONE();
}

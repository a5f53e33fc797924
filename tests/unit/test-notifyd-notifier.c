/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The notification sender against a local datagram socket standing in for systemd's: the text
 * arrives intact, with the PID we asked for (a forked child's, when run as root), and a dead
 * PID is an error, never a silent send with our own credentials. A receiver that stops reading
 * never makes a send wait: 1000 sends to 200 PIDs return at once, and once it reads again every
 * READY=1, WATCHDOG=trigger and the newest STATUS= of each PID arrive. A re-created socket is
 * reconnected; the shutdown flush waits (bounded) for room. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notifier.h"
#include "test.h"

static int receive(int fd, char *buf, size_t size, pid_t *ret_pid) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct iovec iov = { buf, size - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

        if (n < 0)
                return -errno;
        buf[n] = 0;
        *ret_pid = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred u;
                        memcpy(&u, CMSG_DATA(c), sizeof u);
                        *ret_pid = u.pid;
                }
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int bind_receiver(const char *sock) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0), one = 1;

        ASSERT_TRUE(fd >= 0);
        strcpy(sa.sun_path, sock);
        (void) unlink(sock);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
        /* As small as the kernel allows; what limits a datagram socket's queue is its length
         * (net.unix.max_dgram_qlen) and the sender's buffer, both small enough here. */
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int) { 1 }, sizeof(int)), 0);
        return fd;
}

/* What Linux promises and the notifier builds on: a connected datagram socket polls writable
 * only while its peer's queue has room, and becomes writable once the peer reads. */
static void test_connected_poll(const char *sock) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct pollfd pfd = { .events = POLLOUT };
        int rfd = bind_receiver(sock), fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        char buf[64];
        unsigned sent = 0;

        strcpy(sa.sun_path, sock);
        ASSERT_EQ(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        while (send(fd, "x", 1, 0) == 1 && sent < 100000)
                sent++;
        ASSERT_EQ(errno, EAGAIN);
        pfd.fd = fd;
        ASSERT_EQ(poll(&pfd, 1, 0), 0);
        ASSERT_EQ(recv(rfd, buf, sizeof buf, 0), 1);
        ASSERT_EQ(poll(&pfd, 1, 1000), 1);
        ASSERT_TRUE(pfd.revents & POLLOUT);
        printf("a connected socket: EAGAIN after %u datagrams, writable again after one was read\n", sent);
        close(fd);
        close(rfd);
}

#define N_PIDS 200
#define N_ROUNDS 5

typedef struct seen {
        bool ready, trigger;
        unsigned watchdog;
        char status[64];
} seen;

static pid_t children[N_PIDS];

static int child_index(pid_t p) {
        for (int i = 0; i < N_PIDS; i++)
                if (children[i] == p)
                        return i;
        return -1;
}

/* Reads everything that arrived into per-PID records; returns the number of datagrams. */
static unsigned drain(int fd, seen *s) {
        unsigned k = 0;
        char buf[512];
        pid_t got;

        while (receive(fd, buf, sizeof buf, &got) == 0) {
                int i = child_index(got);
                const char *st;

                ASSERT_TRUE(i >= 0);
                k++;
                s[i].ready |= strstr(buf, "READY=1\n") != NULL;
                s[i].trigger |= strstr(buf, "WATCHDOG=trigger\n") != NULL;
                s[i].watchdog += strstr(buf, "WATCHDOG=1\n") != NULL;
                st = strstr(buf, "STATUS=");
                if (st)
                        snprintf(s[i].status, sizeof s[i].status, "%.*s", (int) strcspn(st + 7, "\n"), st + 7);
        }
        return k;
}

/* Many services at once, and a receiver that does not read for a while. */
static void test_burst(const char *sock) {
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        static seen s[N_PIDS];
        ks_notifier_stats st;
        sd_event *e = NULL;
        uint64_t t0, took, deadline;
        unsigned got = 0, queued = 0;
        int rfd = bind_receiver(sock);

        ASSERT_TRUE(sd_event_new(&e) >= 0);
        ASSERT_EQ(ks_notifier_new(e, sock, &n), 0);
        for (int i = 0; i < N_PIDS; i++) {
                children[i] = fork();
                ASSERT_TRUE(children[i] >= 0);
                if (children[i] == 0) {
                        alarm(60);
                        pause();
                        _exit(0);
                }
        }

        t0 = now_usec();
        for (int round = 0; round < N_ROUNDS; round++)
                for (int i = 0; i < N_PIDS; i++) {
                        char status[64];
                        unsigned what = KS_NOTIFY_WATCHDOG;
                        int r;

                        snprintf(status, sizeof status, "round %d of %d", round, i);
                        if (round == 0)
                                what |= KS_NOTIFY_READY;
                        if (round == 2 && i % 2 == 0)
                                what = KS_NOTIFY_TRIGGER;
                        r = ks_notifier_send(n, children[i], what, 0, round == 3 ? NULL : status);
                        ASSERT_TRUE(r == 0 || r == 1);
                        queued += r == 1;
                }
        took = now_usec() - t0;
        ks_notifier_get_stats(n, &st);
        printf("%d sends in %" PRIu64 " us: %" PRIu64 " sent, %u queued (%" PRIu64 " merged), %zu waiting\n",
               N_PIDS * N_ROUNDS, took, st.sent, queued, st.merged, st.waiting);
        ASSERT_TRUE(took < 50000);
        /* The receiver's queue filled up: the rest had to wait, one entry per PID at most. */
        ASSERT_TRUE(queued > 0);
        ASSERT_TRUE(st.waiting > 0 && st.waiting <= N_PIDS);
        ASSERT_EQ(st.sent + queued, N_PIDS * N_ROUNDS);

        /* Nobody reads: the loop has nothing to do (no busy wakeups on a full queue). */
        ASSERT_EQ(sd_event_run(e, 200000), 0);

        /* The receiver reads again: everything that matters arrives. */
        deadline = now_usec() + 5000000;
        for (;;) {
                got += drain(rfd, s);
                ks_notifier_get_stats(n, &st);
                if (st.waiting == 0 || now_usec() > deadline)
                        break;
                ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
        }
        got += drain(rfd, s);
        ks_notifier_get_stats(n, &st);
        printf("received %u datagrams for %d sends; %zu left waiting, %" PRIu64 " dropped\n", got,
               N_PIDS * N_ROUNDS, st.waiting, st.dropped);
        ASSERT_EQ(st.waiting, 0);
        ASSERT_EQ(st.dropped, 0);
        ASSERT_EQ(got, st.sent);
        for (int i = 0; i < N_PIDS; i++) {
                char want[64];

                snprintf(want, sizeof want, "round %d of %d", N_ROUNDS - 1, i);
                ASSERT_TRUE(s[i].ready);
                ASSERT_EQ(s[i].trigger, i % 2 == 0);
                /* WATCHDOG=trigger stands for WATCHDOG=1 in a merged message. */
                ASSERT_TRUE(s[i].watchdog >= 1 || s[i].trigger);
                ASSERT_STREQ(s[i].status, want);
        }

        /* The shutdown flush: waits for room, bounded. Nobody reads: it gives up in time. */
        for (int i = 0; i < N_PIDS; i++)
                ASSERT_TRUE(ks_notifier_send(n, children[i], KS_NOTIFY_WATCHDOG_USEC, UINT64_MAX, "paused") >= 0);
        ks_notifier_get_stats(n, &st);
        ASSERT_TRUE(st.waiting > 0);
        t0 = now_usec();
        ASSERT_EQ(ks_notifier_flush(n, 100000), -ETIMEDOUT);
        took = now_usec() - t0;
        ASSERT_TRUE(took >= 90000 && took < 1000000);
        /* A reader that comes back in time: flush returns once everything went out. */
        {
                pid_t reader = fork();
                unsigned left;

                ASSERT_TRUE(reader >= 0);
                if (reader == 0) {
                        char buf[512];
                        uint64_t end = now_usec() + 3000000;

                        usleep(50000);
                        while (now_usec() < end)
                                if (recv(rfd, buf, sizeof buf, MSG_DONTWAIT) < 0)
                                        usleep(1000);
                        _exit(0);
                }
                ASSERT_EQ(ks_notifier_flush(n, 2000000), 0);
                ks_notifier_get_stats(n, &st);
                left = (unsigned) st.waiting;
                ASSERT_EQ(left, 0);
                kill(reader, SIGKILL);
                ASSERT_EQ(waitpid(reader, NULL, 0), reader);
        }

        for (int i = 0; i < N_PIDS; i++) {
                kill(children[i], SIGKILL);
                ASSERT_EQ(waitpid(children[i], NULL, 0), children[i]);
        }
        close(rfd);
        n = ks_notifier_free(n);
        sd_event_unref(e);
}

/* systemd's socket goes away and comes back at the same path: the next send reconnects; while
 * it is missing, messages wait and go out once it is back. */
static void test_reconnect(const char *sock) {
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        ks_notifier_stats st;
        sd_event *e = NULL;
        char buf[512];
        pid_t got;
        uint64_t deadline;
        int rfd = bind_receiver(sock);

        ASSERT_TRUE(sd_event_new(&e) >= 0);
        ASSERT_EQ(ks_notifier_new(e, sock, &n), 0);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG, 0, "one"), 0);
        ASSERT_EQ(receive(rfd, buf, sizeof buf, &got), 0);

        close(rfd);
        rfd = bind_receiver(sock);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG, 0, "two"), 0);
        ASSERT_EQ(receive(rfd, buf, sizeof buf, &got), 0);
        ASSERT_STREQ(buf, "WATCHDOG=1\nSTATUS=two\n");

        close(rfd);
        unlink(sock);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_READY, 0, "three"), 1);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG, 0, "four"), 1);
        /* Missing for a while: retried on a timer, not in a busy loop. */
        {
                unsigned iterations = 0;
                uint64_t end = now_usec() + 300000;

                while (now_usec() < end) {
                        ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
                        iterations++;
                }
                ASSERT_TRUE(iterations < 100);
        }
        rfd = bind_receiver(sock);
        deadline = now_usec() + 5000000;
        while (receive(rfd, buf, sizeof buf, &got) < 0) {
                ASSERT_TRUE(now_usec() < deadline);
                ASSERT_TRUE(sd_event_run(e, 10000) >= 0);
        }
        ASSERT_STREQ(buf, "READY=1\nWATCHDOG=1\nSTATUS=four\n");
        ASSERT_EQ(got, getpid());
        ks_notifier_get_stats(n, &st);
        ASSERT_TRUE(st.reconnects >= 2);
        ASSERT_EQ(st.waiting, 0);
        close(rfd);
        n = ks_notifier_free(n);
        sd_event_unref(e);
}

static void test_notify_format(void) {
        char buf[256];

        ASSERT_EQ(ks_notify_format(buf, sizeof buf, KS_NOTIFY_READY | KS_NOTIFY_WATCHDOG, 0, "healthy"), 34);
        ASSERT_STREQ(buf, "READY=1\nWATCHDOG=1\nSTATUS=healthy\n");
        ks_notify_format(buf, sizeof buf, KS_NOTIFY_TRIGGER | KS_NOTIFY_WATCHDOG, 0, NULL);
        ASSERT_STREQ(buf, "WATCHDOG=trigger\n");
        ks_notify_format(buf, sizeof buf, KS_NOTIFY_WATCHDOG_USEC | KS_NOTIFY_WATCHDOG, 30000000, NULL);
        ASSERT_STREQ(buf, "WATCHDOG_USEC=30000000\nWATCHDOG=1\n");
        /* No injection of further assignments through the status text. */
        ks_notify_format(buf, sizeof buf, 0, 0, "x\nREADY=1");
        ASSERT_STREQ(buf, "STATUS=x READY=1\n");
        ASSERT_EQ(ks_notify_format(buf, 10, KS_NOTIFY_READY | KS_NOTIFY_WATCHDOG, 0, NULL), -ENOBUFS);
}

int main(void) {
        char path[] = "/tmp/ks-notify-test-XXXXXX", sock[128], buf[512];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        int fd, one = 1;
        pid_t got, child;

        setvbuf(stdout, NULL, _IOLBF, 0);
        test_notify_format();
        ASSERT_TRUE(mkdtemp(path) != NULL);
        snprintf(sock, sizeof sock, "%s/notify", path);
        strcpy(sa.sun_path, sock);
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);

        ASSERT_EQ(ks_notifier_new(NULL, "relative", &n), -EINVAL);
        unsetenv("NOTIFY_SOCKET");
        ASSERT_EQ(ks_notifier_new(NULL, NULL, &n), -ENXIO);
        setenv("NOTIFY_SOCKET", sock, 1);
        ASSERT_EQ(ks_notifier_new(NULL, NULL, &n), 0);

        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_READY | KS_NOTIFY_WATCHDOG, 0, "healthy; HTTP 200"), 0);
        ASSERT_EQ(receive(fd, buf, sizeof buf, &got), 0);
        ASSERT_STREQ(buf, "READY=1\nWATCHDOG=1\nSTATUS=healthy; HTTP 200\n");
        ASSERT_EQ(got, getpid());

        ASSERT_EQ(ks_notifier_send(n, 0, KS_NOTIFY_WATCHDOG, 0, NULL), -ESRCH);
        ASSERT_EQ(receive(fd, buf, sizeof buf, &got), -EAGAIN);

        /* Counted by what each datagram said, only when it went out. */
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG, 0, NULL), 0);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG, 0, "healthy"), 0);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_WATCHDOG_USEC | KS_NOTIFY_WATCHDOG, 30000000, NULL), 0);
        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_TRIGGER | KS_NOTIFY_WATCHDOG, 0, "failed"), 0);
        for (int i = 0; i < 4; i++)
                ASSERT_EQ(receive(fd, buf, sizeof buf, &got), 0);
        {
                ks_notifier_stats st, tot;
                char line[256];

                ks_notifier_get_stats(n, &st);
                ASSERT_EQ(st.sent, 5u);
                ASSERT_EQ(st.sent_ready, 1u);
                ASSERT_EQ(st.sent_watchdog, 4u);
                ASSERT_EQ(st.sent_watchdog_only, 1u);
                ASSERT_EQ(st.sent_status, 3u);
                ASSERT_EQ(st.sent_trigger, 1u);
                ASSERT_EQ(st.sent_watchdog_usec, 1u);
                ks_notifier_get_totals(&tot);
                ASSERT_EQ(tot.sent_status, 3u);
                ASSERT_TRUE(ks_notifier_format_stats(&st, line, sizeof line) > 0);
                ASSERT_STREQ(line, "sent 1 READY=1, 4 WATCHDOG=1 (1 alone), 3 STATUS=, 1 WATCHDOG=trigger, 1 WATCHDOG_USEC=");
                ASSERT_EQ(ks_notifier_format_stats(&st, line, 20), -ENOBUFS);
        }

        if (geteuid() == 0) {
                int status;

                child = fork();
                ASSERT_TRUE(child >= 0);
                if (child == 0) {
                        pause();
                        _exit(0);
                }
                ASSERT_EQ(ks_notifier_send(n, child, KS_NOTIFY_TRIGGER, 0, NULL), 0);
                ASSERT_EQ(receive(fd, buf, sizeof buf, &got), 0);
                ASSERT_STREQ(buf, "WATCHDOG=trigger\n");
                ASSERT_EQ(got, child);

                /* Once the process is gone the send fails, and nothing arrives in our name. */
                kill(child, SIGKILL);
                ASSERT_EQ(waitpid(child, &status, 0), child);
                ASSERT_TRUE(ks_notifier_send(n, child, KS_NOTIFY_TRIGGER, 0, NULL) < 0);
                ASSERT_EQ(receive(fd, buf, sizeof buf, &got), -EAGAIN);
        } else
                printf("not root: foreign-PID sends not tested here\n");

        close(fd);
        test_connected_poll(sock);
        test_reconnect(sock);
        if (geteuid() == 0)
                test_burst(sock);
        else
                printf("not root: the burst of many PIDs not tested here\n");
        unlink(sock);
        rmdir(path);
        TEST_DONE();
}

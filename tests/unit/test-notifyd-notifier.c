/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The notification sender against a local datagram socket standing in for systemd's: the text
 * arrives intact, with the PID we asked for (a forked child's, when run as root), and a dead
 * PID is an error, never a silent send with our own credentials. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notifier.h"
#include "notifyd-test.h"

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

int main(void) {
        char path[] = "/tmp/ks-notify-test-XXXXXX", sock[128], buf[512];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        int fd, one = 1;
        pid_t got, child;

        ASSERT_TRUE(mkdtemp(path) != NULL);
        snprintf(sock, sizeof sock, "%s/notify", path);
        strcpy(sa.sun_path, sock);
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);

        ASSERT_EQ(ks_notifier_new("relative", &n), -EINVAL);
        unsetenv("NOTIFY_SOCKET");
        ASSERT_EQ(ks_notifier_new(NULL, &n), -ENXIO);
        setenv("NOTIFY_SOCKET", sock, 1);
        ASSERT_EQ(ks_notifier_new(NULL, &n), 0);

        ASSERT_EQ(ks_notifier_send(n, getpid(), KS_NOTIFY_READY | KS_NOTIFY_WATCHDOG, 0, "healthy; HTTP 200"), 0);
        ASSERT_EQ(receive(fd, buf, sizeof buf, &got), 0);
        ASSERT_STREQ(buf, "READY=1\nWATCHDOG=1\nSTATUS=healthy; HTTP 200\n");
        ASSERT_EQ(got, getpid());

        ASSERT_EQ(ks_notifier_send(n, 0, KS_NOTIFY_WATCHDOG, 0, NULL), -ESRCH);
        ASSERT_EQ(receive(fd, buf, sizeof buf, &got), -EAGAIN);

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
        unlink(sock);
        rmdir(path);
        TEST_DONE();
}

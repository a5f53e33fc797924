/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The foreign-PID notification probe (see privilege.h). It exercises exactly the kernel check
 * notifier.c's sender depends on, with that sender: SCM_CREDENTIALS whose pid is not our own, which
 * needs CAP_SYS_ADMIN in the user namespace owning our PID namespace. We fork a child that only
 * waits, send a datagram over a private socketpair with the child's PID, and read back what the
 * kernel delivered. Nothing is sent to systemd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "macro.h"
#include "notifier.h"
#include "privilege.h"

static int have_effective_cap(int cap) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

static int probe(int sock_send, int sock_recv, pid_t child, char *reason, size_t size) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        char byte = 'x';
        struct iovec iov = { &byte, 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        struct cmsghdr *cmsg;
        int one = 1, r;

        if (setsockopt(sock_recv, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
                return -errno;

        /* The very sender the notifier uses, so that what is proven is what will run. */
        r = ks_notify_send_as(sock_send, child, &byte, 1);
        if (r < 0) {
                snprintf(reason, size, "the kernel refused a notification carrying another process's PID (%s)",
                         strerror(-r));
                return r;
        }

        if (recvmsg(sock_recv, &mh, MSG_DONTWAIT) < 0)
                return -errno;
        for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg))
                if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred got;
                        memcpy(&got, CMSG_DATA(cmsg), sizeof got);
                        if (got.pid == child)
                                return 0;
                        snprintf(reason, size, "a notification sent with PID %d arrived with PID %d", (int) child,
                                 (int) got.pid);
                        return -EPERM;
                }
        snprintf(reason, size, "no credentials arrived with the probe datagram");
        return -EPROTO;
}

int ks_privilege_check_foreign_pid(char *reason, size_t size) {
        int sv[2], pipefd[2], r, cap;
        pid_t child;

        reason[0] = 0;
        cap = have_effective_cap(CAP_SYS_ADMIN);

        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }

        /* The child only waits for the pipe to close; it exists so its PID is a live one. */
        child = fork();
        if (child < 0) {
                r = -errno;
                goto finish;
        }
        if (child == 0) {
                char c;
                close(pipefd[1]);
                (void) read(pipefd[0], &c, 1);
                _exit(0);
        }

        r = probe(sv[0], sv[1], child, reason, size);

finish:
        close(pipefd[1]);
        if (child > 0) {
                /* Bounded: the child exits as soon as the pipe closed; SIGKILL just in case. */
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
        }
        close(pipefd[0]);
        close(sv[0]);
        close(sv[1]);

        if (r < 0 && cap == 0) {
                size_t l = strlen(reason);
                snprintf(reason + l, size - l, "%sCAP_SYS_ADMIN is not in the effective capability set",
                         l ? "; " : "");
        }
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Notifications on behalf of services, and the STATUS= line (see notifier.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notifier.h"

int ks_notify_format(char *buf, size_t size, unsigned what, uint64_t watchdog_usec, const char *status) {
        size_t off = 0;
        int k;

#define APPEND(...)                                                   \
        do {                                                          \
                k = snprintf(buf + off, size - off, __VA_ARGS__);     \
                if (k < 0 || (size_t) k >= size - off)                \
                        return -ENOBUFS;                              \
                off += (size_t) k;                                    \
        } while (0)

        if (size == 0)
                return -ENOBUFS;
        buf[0] = 0;
        if (what & KS_NOTIFY_READY)
                APPEND("READY=1\n");
        if (what & KS_NOTIFY_WATCHDOG_USEC)
                APPEND("WATCHDOG_USEC=%" PRIu64 "\n", watchdog_usec);
        if (what & KS_NOTIFY_TRIGGER)
                APPEND("WATCHDOG=trigger\n");
        else if (what & KS_NOTIFY_WATCHDOG)
                APPEND("WATCHDOG=1\n");
        if (status) {
                size_t start;

                APPEND("STATUS=");
                start = off;
                APPEND("%.*s", KS_STATUS_MAX, status);
                for (size_t i = start; i < off; i++)
                        if (buf[i] == '\n' || buf[i] == '\r')
                                buf[i] = ' ';
                APPEND("\n");
        }
#undef APPEND
        return (int) off;
}

struct ks_notifier {
        int fd;
        struct sockaddr_un addr;
        socklen_t addr_len;
};

int ks_notifier_new(const char *socket_path, ks_notifier **ret) {
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        const char *p = socket_path ?: getenv("NOTIFY_SOCKET");
        size_t l;

        if (!p || !*p)
                return -ENXIO;
        l = strlen(p);
        if ((p[0] != '/' && p[0] != '@') || l >= sizeof n->addr.sun_path)
                return -EINVAL;

        n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->fd = -EBADF;
        n->addr.sun_family = AF_UNIX;
        memcpy(n->addr.sun_path, p, l);
        if (p[0] == '@')
                n->addr.sun_path[0] = 0;
        n->addr_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l + (p[0] == '/'));

        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (n->fd < 0)
                return -errno;
        /* A notification is small, but thousands may be sent in a burst. */
        (void) setsockopt(n->fd, SOL_SOCKET, SO_SNDBUF, &(int) { 1024 * 1024 }, sizeof(int));

        *ret = TAKE_PTR(n);
        return 0;
}

ks_notifier *ks_notifier_free(ks_notifier *n) {
        if (!n)
                return NULL;
        if (n->fd >= 0)
                close(n->fd);
        return mfree(n);
}

int ks_notifier_send(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        char buf[512];
        struct iovec iov;
        struct msghdr mh = {
                .msg_name = &n->addr,
                .msg_namelen = n->addr_len,
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        struct cmsghdr *cmsg;
        struct ucred cred = { .pid = pid, .uid = getuid(), .gid = getgid() };
        int r;

        if (pid <= 0)
                return -ESRCH;
        r = ks_notify_format(buf, sizeof buf, what, watchdog_usec, status);
        if (r <= 0)
                return r;
        iov = (struct iovec) { buf, (size_t) r };
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_CREDENTIALS;
        cmsg->cmsg_len = CMSG_LEN(sizeof cred);
        memcpy(CMSG_DATA(cmsg), &cred, sizeof cred);

        for (unsigned attempt = 0;; attempt++) {
                if (sendmsg(n->fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                /* systemd reads the socket quickly; a full queue is a momentary burst. Retry a
                 * few times, bounded, rather than lose a READY=1 or a watchdog ping. */
                if (errno != EAGAIN || attempt >= 20)
                        return -errno;
                usleep(1000);
        }
}

static void format_latency(uint64_t usec, char *buf, size_t size) {
        if (usec < 10000)
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "ms", usec / 1000, (usec % 1000) / 100);
        else if (usec < 10000000)
                snprintf(buf, size, "%" PRIu64 "ms", usec / 1000);
        else
                snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
}

void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, const char *last_result,
                    uint64_t latency_usec) {
        char state[48], lat[24];

        switch (h->state) {
        case KS_TRACKER_STARTING:
                snprintf(state, sizeof state, "%s", in_start_period ? "starting (start period)" : "starting");
                break;
        case KS_TRACKER_UNHEALTHY:
        case KS_TRACKER_FAILED:
                snprintf(state, sizeof state, "%s (%u/%u)", ks_tracker_state_to_string(h->state), h->failures,
                         h->params.failure_threshold);
                break;
        default:
                snprintf(state, sizeof state, "%s", ks_tracker_state_to_string(h->state));
        }
        if (h->state == KS_TRACKER_STARTING && !h->ready && !in_start_period && h->failures > 0)
                snprintf(state, sizeof state, "not ready (%u failed)", h->failures);

        if (!last_result) {
                snprintf(buf, size, "%s; no check yet", state);
                return;
        }
        format_latency(latency_usec, lat, sizeof lat);
        snprintf(buf, size, "%s; %s in %s", state, last_result, lat);
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}

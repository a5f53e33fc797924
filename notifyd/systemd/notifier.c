/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Notifications on behalf of services, and the STATUS= line (see notifier.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "log.h"
#include "list.h"
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

/* ---- the sender ----
 *
 * systemd's notify socket has a short receive queue (net.unix.max_dgram_qlen: 10 unless raised,
 * and a container's PID 1 usually cannot raise it), and PID 1 reads it between other work. A
 * burst (notifyd's start greets every running service; many services start at once) fills it.
 * Waiting for room would stall every other check on the event loop, so a message that finds the
 * queue full waits in ours instead, one entry per PID, and an io source sends it when the socket
 * polls writable. That works because the socket is connected: for a connected datagram socket,
 * Linux reports EPOLLOUT only when the peer's queue has room (unix_dgram_poll() registers the
 * sender on the peer's wait queue), so we are woken when systemd has read. */

/* Messages sent per io event, so one flush does not hog the loop either. */
#define FLUSH_BATCH 256
/* Reconnect attempts while systemd's socket is missing: first after this, doubling to the max. */
#define RECONNECT_MIN_USEC (50 * 1000ull)
#define RECONNECT_MAX_USEC (2 * 1000 * 1000ull)
#define N_BUCKETS 4096

typedef struct pending {
        struct pending *next, *prev;    /* the FIFO */
        struct pending *hnext;          /* the hash bucket of its PID */
        pid_t pid;
        unsigned what;
        uint64_t watchdog_usec;
        bool has_status;
        char status[KS_STATUS_MAX + 1];
} pending;

struct ks_notifier {
        int fd;
        struct sockaddr_un addr;
        socklen_t addr_len;
        bool connected;

        sd_event *event;
        sd_event_source *io;            /* EPOLLOUT while something waits and we are connected */
        sd_event_source *retry;         /* the next connect() while systemd's socket is missing */
        uint64_t retry_delay;

        pending *head, *tail;
        pending *buckets[N_BUCKETS];
        size_t n_pending;
        ks_notifier_stats stats;
};

static bool is_disconnect(int r) {
        return r == -ECONNREFUSED || r == -ENOTCONN || r == -ENOENT || r == -ECONNRESET;
}

static int do_connect(ks_notifier *n) {
        if (connect(n->fd, (const struct sockaddr *) &n->addr, n->addr_len) < 0) {
                n->connected = false;
                return -errno;
        }
        n->connected = true;
        return 0;
}

int ks_notify_send_as(int fd, pid_t pid, const void *data, size_t len) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct iovec iov = { (void *) data, len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
        struct ucred cred = { .pid = pid, .uid = getuid(), .gid = getgid() };

        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_CREDENTIALS;
        cmsg->cmsg_len = CMSG_LEN(sizeof cred);
        memcpy(CMSG_DATA(cmsg), &cred, sizeof cred);
        if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return -errno;
        return 0;
}

/* Every notifier's counters, summed (ks_notifier_get_totals()). */
static ks_notifier_stats totals;

static void count_sent(ks_notifier_stats *st, unsigned what, bool status) {
        st->sent++;
        st->sent_ready += !!(what & KS_NOTIFY_READY);
        st->sent_trigger += !!(what & KS_NOTIFY_TRIGGER);
        st->sent_watchdog_usec += !!(what & KS_NOTIFY_WATCHDOG_USEC);
        st->sent_status += status;
        /* As ks_notify_format() says it: a trigger replaces the ping. */
        if ((what & KS_NOTIFY_WATCHDOG) && !(what & KS_NOTIFY_TRIGGER)) {
                st->sent_watchdog++;
                st->sent_watchdog_only += what == KS_NOTIFY_WATCHDOG && !status;
        }
}

static int transmit_once(ks_notifier *n, pid_t pid, unsigned what, bool status, const char *text, size_t len) {
        int r = ks_notify_send_as(n->fd, pid, text, len);

        if (r < 0)
                return r;
        count_sent(&n->stats, what, status);
        count_sent(&totals, what, status);
        return 0;
}

/* One datagram, never waiting: 0, -EAGAIN (systemd's queue is full), a disconnect error when
 * systemd's socket is gone and one reconnect did not help, or the kernel's verdict on the
 * message (-ESRCH: the PID is gone). */
static int transmit(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status) {
        char buf[512];
        int r, len;

        len = ks_notify_format(buf, sizeof buf, what, watchdog_usec, status);
        if (len < 0)
                return -EMSGSIZE;       /* not -ENOBUFS: that must not read as "wait for room" */
        if (len == 0)
                return 0;
        if (!n->connected) {
                r = do_connect(n);
                if (r < 0)
                        return r;
        }
        r = transmit_once(n, pid, what, status != NULL, buf, (size_t) len);
        if (!is_disconnect(r))
                return r;
        /* systemd's socket was closed (and maybe bound anew at the same path): connect again,
         * once; if that fails the caller waits for the retry timer. */
        n->stats.reconnects++;
        r = do_connect(n);
        if (r < 0)
                return r;
        return transmit_once(n, pid, what, status != NULL, buf, (size_t) len);
}

static pending **bucket_of(ks_notifier *n, pid_t pid) {
        return &n->buckets[(unsigned) pid % N_BUCKETS];
}

static pending *find_pending(ks_notifier *n, pid_t pid) {
        for (pending *p = *bucket_of(n, pid); p; p = p->hnext)
                if (p->pid == pid)
                        return p;
        return NULL;
}

static void merge(pending *p, unsigned what, uint64_t watchdog_usec, const char *status) {
        p->what |= what;
        if (what & KS_NOTIFY_WATCHDOG_USEC)
                p->watchdog_usec = watchdog_usec;
        if (status) {
                snprintf(p->status, sizeof p->status, "%.*s", KS_STATUS_MAX, status);
                p->has_status = true;
        }
}

static int enqueue(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status) {
        pending *p = find_pending(n, pid);

        if (p) {
                merge(p, what, watchdog_usec, status);
                n->stats.queued++;
                n->stats.merged++;
                return 1;
        }
        if (n->n_pending >= KS_NOTIFIER_QUEUE_MAX) {
                n->stats.overflows++;
                return -ENOBUFS;
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->pid = pid;
        merge(p, what, watchdog_usec, status);
        LIST_APPEND(n->head, n->tail, p);
        p->hnext = *bucket_of(n, pid);
        *bucket_of(n, pid) = p;
        n->n_pending++;
        n->stats.queued++;
        return 1;
}

static void remove_pending(ks_notifier *n, pending *p) {
        for (pending **q = bucket_of(n, p->pid); *q; q = &(*q)->hnext)
                if (*q == p) {
                        *q = p->hnext;
                        break;
                }
        LIST_REMOVE_TAIL(n->head, n->tail, p);
        n->n_pending--;
        free(p);
}

/* Sends from the head of the queue, at most max messages. Returns 0 when the queue is empty,
 * -EAGAIN when systemd's queue is full, a disconnect error, or 1 when max was reached. */
static int flush_some(ks_notifier *n, unsigned max) {
        for (unsigned i = 0; n->head; i++) {
                pending *p = n->head;
                int r;

                if (i >= max)
                        return 1;
                r = transmit(n, p->pid, p->what, p->watchdog_usec, p->has_status ? p->status : NULL);
                if (r == -EAGAIN || is_disconnect(r))
                        return r;
                if (r < 0) {
                        /* Said to a process that is gone: nobody is left to hear it. */
                        n->stats.dropped++;
                        log_debug_errno(r, "Dropped a queued notification for PID %d: %m", (int) p->pid);
                }
                remove_pending(n, p);
        }
        return 0;
}

static void update_sources(ks_notifier *n, int flush_result);

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ks_notifier *n = userdata;

        update_sources(n, flush_some(n, FLUSH_BATCH));
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        ks_notifier *n = userdata;

        update_sources(n, flush_some(n, FLUSH_BATCH));
        return 0;
}

/* After a flush (or a send that queued): wait for room, or for systemd's socket to return. */
static void update_sources(ks_notifier *n, int flush_result) {
        bool wait_room = n->head && !is_disconnect(flush_result);
        bool wait_socket = n->head && is_disconnect(flush_result);
        int r;

        if (!n->event)
                return;
        if (!n->head || !wait_socket)
                n->retry_delay = 0;
        if (n->io)
                (void) sd_event_source_set_enabled(n->io, wait_room ? SD_EVENT_ON : SD_EVENT_OFF);
        if (!wait_socket) {
                if (n->retry)
                        (void) sd_event_source_set_enabled(n->retry, SD_EVENT_OFF);
                return;
        }
        /* A disconnected datagram socket always polls writable: wait on a timer instead. */
        n->retry_delay = n->retry_delay == 0 ? RECONNECT_MIN_USEC : MIN(n->retry_delay * 2, RECONNECT_MAX_USEC);
        if (!n->retry)
                r = sd_event_add_time_relative(n->event, &n->retry, CLOCK_MONOTONIC, n->retry_delay, 0, on_retry, n);
        else {
                r = sd_event_source_set_time_relative(n->retry, n->retry_delay);
                if (r >= 0)
                        r = sd_event_source_set_enabled(n->retry, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_error_errno(r, "Cannot arm the reconnect timer for the notification socket: %m");
}

int ks_notifier_new(sd_event *event, const char *socket_path, ks_notifier **ret) {
        _cleanup_(ks_notifier_freep) ks_notifier *n = NULL;
        const char *p = socket_path ?: getenv("NOTIFY_SOCKET");
        size_t l;
        int r;

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
        /* Not fatal: systemd's socket may appear later; the first send connects again. */
        (void) do_connect(n);

        if (event) {
                n->event = sd_event_ref(event);
                r = sd_event_add_io(event, &n->io, n->fd, EPOLLOUT, on_writable, n);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_enabled(n->io, SD_EVENT_OFF);
                /* Room in systemd's queue goes to what waits before new checks run. */
                (void) sd_event_source_set_priority(n->io, SD_EVENT_PRIORITY_IMPORTANT);
                (void) sd_event_source_set_description(n->io, "notify-writer");
        }

        *ret = TAKE_PTR(n);
        return 0;
}

ks_notifier *ks_notifier_free(ks_notifier *n) {
        if (!n)
                return NULL;
        if (n->n_pending > 0)
                log_debug("Dropping %zu queued notification(s).", n->n_pending);
        while (n->head) {
                n->stats.dropped++;
                remove_pending(n, n->head);
        }
        sd_event_source_disable_unref(n->io);
        sd_event_source_disable_unref(n->retry);
        sd_event_unref(n->event);
        if (n->fd >= 0)
                close(n->fd);
        return mfree(n);
}

int ks_notifier_send(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status) {
        bool was_empty = !n->head;
        int r = -EAGAIN, q;

        if (pid <= 0)
                return -ESRCH;
        /* Behind what already waits, so a newer STATUS= never overtakes an older one. */
        if (was_empty) {
                r = transmit(n, pid, what, watchdog_usec, status);
                if (r != -EAGAIN && !is_disconnect(r))
                        return r;
        }
        /* The kernel would refuse a process that is gone at the flush; say so now. */
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return -ESRCH;
        q = enqueue(n, pid, what, watchdog_usec, status);
        if (q < 0)
                return q;
        if (was_empty)
                update_sources(n, r);
        return q;
}

int ks_notifier_flush(ks_notifier *n, uint64_t timeout_usec) {
        uint64_t deadline = ks_now_usec() + timeout_usec;
        int r;

        for (;;) {
                uint64_t now;

                r = flush_some(n, UINT_MAX);
                if (r == 0)
                        break;
                now = ks_now_usec();
                if (now >= deadline)
                        break;
                if (r == -EAGAIN) {
                        struct pollfd pfd = { .fd = n->fd, .events = POLLOUT };
                        uint64_t left = deadline - now;

                        (void) poll(&pfd, 1, (int) MIN((left + 999) / 1000, (uint64_t) INT_MAX));
                } else {
                        /* Not connected: poll would return at once. */
                        struct timespec ts = { .tv_nsec = (long) MIN(deadline - now, RECONNECT_MIN_USEC) * 1000 };

                        (void) nanosleep(&ts, NULL);
                }
        }
        update_sources(n, r);
        return n->head ? -ETIMEDOUT : 0;
}

void ks_notifier_get_stats(const ks_notifier *n, ks_notifier_stats *ret) {
        *ret = n->stats;
        ret->waiting = n->n_pending;
}

void ks_notifier_get_totals(ks_notifier_stats *ret) {
        *ret = totals;
}

int ks_notifier_format_stats(const ks_notifier_stats *st, char *buf, size_t size) {
        int k = snprintf(buf, size,
                         "sent %" PRIu64 " READY=1, %" PRIu64 " WATCHDOG=1 (%" PRIu64 " alone), %" PRIu64
                         " STATUS=, %" PRIu64 " WATCHDOG=trigger, %" PRIu64 " WATCHDOG_USEC=",
                         st->sent_ready, st->sent_watchdog, st->sent_watchdog_only, st->sent_status,
                         st->sent_trigger, st->sent_watchdog_usec);

        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        return k;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The curl multi ↔ sd-event glue. curl tells us through the socket callback which sockets to
 * watch for what (we keep them in one inner epoll set, watched by a single io source) and through
 * the timer callback when it next wants to be called (we only re-arm one timer there: calling
 * curl from inside its own callback is not allowed). Both event handlers call
 * curl_multi_socket_action and then drain the finished transfers.
 *
 * The loop also keeps a small pool of idle easy handles: setting up a handle (curl_easy_init and
 * its first transfer's allocations) costs more than a loopback check itself, so a finished
 * check's handle is reset and handed to the next check. The pool is bounded by a constant, not by
 * the number of services: it only has to cover the checks in flight at the same time.
 *
 * With connection reuse the transfers are spread over several multi handles (shards), each with
 * its own connection cache. libcurl 7.88 walks the whole connection cache whenever a handle whose
 * connection was kept is removed (curl_multi_remove_handle looks for a connect-only connection to
 * close), which with one cache of N connections makes every check cost O(N).
 *
 * libcurl itself is loaded (curl-dl.c) with the first transfer, not with the loop: a notifyd
 * whose checks never need curl never maps it. Until then the loop has no shard.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "curl-dl.h"
#include "curl-glue.h"

typedef struct ks_curl_shard {
        ks_curl_loop *loop;
        unsigned index;                 /* in loop->shards */
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *now;           /* for curl's timeout 0: run at the next iteration */
} ks_curl_shard;

struct ks_curl_loop {
        sd_event *event;
        ks_curl_shard *shards[KS_CURL_SHARDS_MAX];
        unsigned n_shards;
        long max_connections;           /* per shard; 0: curl's default */
        int epoll_fd;                   /* every socket curl asked us to watch */
        sd_event_source *epoll_io;
        unsigned running;
        CURL *idle[KS_CURL_POOL_MAX];   /* reset handles ready for the next check */
        unsigned n_idle;
        ks_io_set *io;                  /* the sockets of the checks notifyd runs without curl */
};

/* What an inner epoll entry carries: the socket and the shard whose multi owns it. */
static uint64_t socket_key(unsigned shard, curl_socket_t fd) {
        return (uint64_t) shard << 32 | (uint32_t) fd;
}

static void drain(ks_curl_shard *sh) {
        ks_curl_loop *l = sh->loop;
        CURLMsg *msg;
        int left;

        while ((msg = sym_curl_multi_info_read(sh->multi, &left))) {
                ks_curl_done *done = NULL;
                CURL *easy;
                CURLcode result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                easy = msg->easy_handle;
                result = msg->data.result;
                sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &done);
                sym_curl_multi_remove_handle(sh->multi, easy);
                if (done)
                        done->shard = NULL;
                if (l->running > 0)
                        l->running--;
                if (done && done->callback)
                        done->callback(easy, result, done->userdata);
        }
}

/* All of curl's sockets are in one inner epoll set, watched by one sd-event source: a wakeup
 * handles every socket that became ready, instead of one sd-event iteration (an epoll_wait and
 * the loop's bookkeeping) per socket. */
static int on_epoll(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ks_curl_loop *l = userdata;
        struct epoll_event ev[64];
        int n;

        n = epoll_wait(l->epoll_fd, ev, ELEMENTSOF(ev), 0);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                unsigned shard = (unsigned) (ev[i].data.u64 >> 32);
                curl_socket_t s = (curl_socket_t) (uint32_t) ev[i].data.u64;
                int action = 0, still;

                /* A socket curl closed while handling an earlier one may have been reused by
                 * another transfer: curl ignores an event for a socket it does not watch. */
                if (shard >= l->n_shards)
                        continue;
                if (ev[i].events & EPOLLIN)
                        action |= CURL_CSELECT_IN;
                if (ev[i].events & EPOLLOUT)
                        action |= CURL_CSELECT_OUT;
                if (ev[i].events & (EPOLLERR | EPOLLHUP))
                        action |= CURL_CSELECT_ERR;
                sym_curl_multi_socket_action(l->shards[shard]->multi, s, action, &still);
                drain(l->shards[shard]);
        }
        return 0;
}

static void on_timeout(ks_curl_shard *sh) {
        int still;

        sym_curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &still);
        drain(sh);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        on_timeout(userdata);
        return 0;
}

static int on_now(sd_event_source *source, void *userdata) {
        on_timeout(userdata);
        return 0;
}

static int socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        ks_curl_shard *sh = userp;
        ks_curl_loop *l = sh->loop;
        struct epoll_event ev = { .data.u64 = socket_key(sh->index, fd) };

        if (what == CURL_POLL_REMOVE) {
                /* curl says so before it closes the socket; if it is closed already, the kernel
                 * dropped it from the set by itself. */
                if (socketp)
                        (void) epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
                return 0;
        }

        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                ev.events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                ev.events |= EPOLLOUT;

        if (socketp)
                return epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -1 : 0;
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -1;
        /* Any non-NULL pointer: only "this socket is in the set" is remembered. */
        if (sym_curl_multi_assign(sh->multi, fd, sh) != CURLM_OK) {
                (void) epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
                return -1;
        }
        return 0;
}

static int timer_callback(CURLM *multi, long timeout_ms, void *userp) {
        ks_curl_shard *sh = userp;
        uint64_t usec;
        int r;

        /* curl keeps one deadline: each call replaces the previous one. */
        if (timeout_ms <= 0)
                (void) sd_event_source_set_enabled(sh->timer, SD_EVENT_OFF);
        else
                (void) sd_event_source_set_enabled(sh->now, SD_EVENT_OFF);
        if (timeout_ms < 0)
                return sd_event_source_set_enabled(sh->now, SD_EVENT_OFF) < 0 ? -1 : 0;
        /* 0: "as soon as possible", which curl asks for with every new transfer. A defer source
         * runs in the next iteration without arming the timerfd and waking up for it. It is
         * one-shot, and curl asks again only for new work, so it cannot keep the loop from
         * polling. */
        if (timeout_ms == 0)
                return sd_event_source_set_enabled(sh->now, SD_EVENT_ONESHOT) < 0 ? -1 : 0;

        /* Rounded up to whole milliseconds by curl already. */
        usec = (uint64_t) timeout_ms * 1000;
        r = sd_event_source_set_time_relative(sh->timer, usec);
        if (r < 0)
                return -1;
        r = sd_event_source_set_enabled(sh->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
}

static ks_curl_shard *shard_free(ks_curl_shard *sh) {
        if (!sh)
                return NULL;
        if (sh->multi)
                sym_curl_multi_cleanup(sh->multi);
        sd_event_source_disable_unref(sh->timer);
        sd_event_source_disable_unref(sh->now);
        return mfree(sh);
}

static int shard_new(ks_curl_loop *l, ks_curl_shard **ret) {
        ks_curl_shard *sh;
        int r;

        sh = calloc(1, sizeof *sh);
        if (!sh)
                return -ENOMEM;
        sh->loop = l;
        sh->index = l->n_shards;
        /* A disabled timer made once and re-armed by timer_callback; 1 ms accuracy, because the
         * default (250 ms) would blur every check's timeout. */
        r = sd_event_add_time_relative(l->event, &sh->timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 1000, on_timer, sh);
        if (r >= 0)
                r = sd_event_source_set_enabled(sh->timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(l->event, &sh->now, on_now, sh);
        if (r >= 0)
                r = sd_event_source_set_enabled(sh->now, SD_EVENT_OFF);
        if (r < 0) {
                shard_free(sh);
                return r;
        }
        (void) sd_event_source_set_description(sh->timer, "curl-timer");
        (void) sd_event_source_set_description(sh->now, "curl-now");

        sh->multi = sym_curl_multi_init();
        if (!sh->multi) {
                shard_free(sh);
                return -ENOMEM;
        }
        if (sym_curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, socket_callback) != CURLM_OK ||
            sym_curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh) != CURLM_OK ||
            sym_curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timer_callback) != CURLM_OK ||
            sym_curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh) != CURLM_OK ||
            (l->max_connections > 0 &&
             sym_curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, l->max_connections) != CURLM_OK)) {
                shard_free(sh);
                return -EINVAL;
        }
        *ret = sh;
        return 0;
}

int ks_curl_loop_new(sd_event *event, ks_curl_loop **ret) {
        _cleanup_(ks_curl_loop_freep) ks_curl_loop *l = NULL;
        int r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(event);
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &l->epoll_io, l->epoll_fd, EPOLLIN, on_epoll, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->epoll_io, "curl-sockets");
        r = ks_io_set_new(event, &l->io);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The caches the connections to keep call for: about KS_CURL_SHARD_CONNECTIONS each keeps the
 * walk in curl_multi_remove_handle short while a shard (three hash tables and a handle of its
 * own, ~40 KiB) stays rare. */
static unsigned shards_wanted(long max_connections) {
        long n = (max_connections + KS_CURL_SHARD_CONNECTIONS - 1) / KS_CURL_SHARD_CONNECTIONS;

        return (unsigned) MAX(MIN(n, (long) KS_CURL_SHARDS_MAX), 1L);
}

static int add_shards(ks_curl_loop *l) {
        unsigned want = shards_wanted(l->max_connections);
        int r;

        while (l->n_shards < want) {
                r = shard_new(l, &l->shards[l->n_shards]);
                if (r < 0)
                        return r;
                l->n_shards++;
        }
        return 0;
}

int ks_curl_loop_load(ks_curl_loop *l) {
        int r;

        if (l->n_shards > 0)
                return 0;
        r = ks_curl_dl_open();
        if (r < 0)
                return r;
        return add_shards(l);
}

ks_curl_loop *ks_curl_loop_free(ks_curl_loop *l) {
        if (!l)
                return NULL;
        /* curl may still tell us about sockets while it closes them: the set goes last. */
        for (unsigned i = 0; i < l->n_shards; i++)
                shard_free(l->shards[i]);
        sd_event_source_disable_unref(l->epoll_io);
        ks_io_set_free(l->io);
        if (l->epoll_fd >= 0)
                close(l->epoll_fd);
        while (l->n_idle > 0)
                sym_curl_easy_cleanup(l->idle[--l->n_idle]);
        sd_event_unref(l->event);
        return mfree(l);
}

int ks_curl_loop_add(ks_curl_loop *l, CURL *easy, unsigned key) {
        ks_curl_done *done = NULL;
        ks_curl_shard *sh;
        CURLMcode c;
        int r;

        /* Loaded already when easy came from ks_curl_loop_take_easy; not if it came from elsewhere. */
        r = ks_curl_loop_load(l);
        if (r < 0)
                return r;
        sh = l->shards[key % l->n_shards];
        if (sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &done) != CURLE_OK || !done)
                return -EINVAL;
        c = sym_curl_multi_add_handle(sh->multi, easy);
        if (c == CURLM_OUT_OF_MEMORY)
                return -ENOMEM;
        if (c != CURLM_OK)
                return -EINVAL;
        done->shard = sh;
        l->running++;
        return 0;
}

void ks_curl_loop_remove(ks_curl_loop *l, CURL *easy) {
        ks_curl_done *done = NULL;
        ks_curl_shard *sh;

        if (sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &done) != CURLE_OK || !done || !done->shard)
                return;
        sh = done->shard;
        done->shard = NULL;
        if (sym_curl_multi_remove_handle(sh->multi, easy) == CURLM_OK && l->running > 0)
                l->running--;
}

int ks_curl_loop_set_max_connections(ks_curl_loop *l, long n) {
        /* Only ever more shards: a probe's connection lives in the shard its key picks, and the
         * existing ones keep their (cached) connections. Each cache may hold all n. Before
         * libcurl is loaded only the number is kept: ks_curl_loop_load makes the shards. */
        l->max_connections = n;
        for (unsigned i = 0; i < l->n_shards; i++)
                if (sym_curl_multi_setopt(l->shards[i]->multi, CURLMOPT_MAXCONNECTS, n) != CURLM_OK)
                        return -EINVAL;
        if (l->n_shards == 0)
                return 0;
        return add_shards(l);
}

unsigned ks_curl_loop_running(const ks_curl_loop *l) {
        return l->running;
}

CURL *ks_curl_loop_take_easy(ks_curl_loop *l) {
        if (l->n_idle > 0)
                return l->idle[--l->n_idle];
        if (ks_curl_loop_load(l) < 0)
                return NULL;
        return sym_curl_easy_init();
}

bool ks_curl_loop_loaded(const ks_curl_loop *l) {
        return l->n_shards > 0;
}

void ks_curl_loop_give_easy(ks_curl_loop *l, CURL *easy) {
        if (!easy)
                return;
        if (l->n_idle >= ELEMENTSOF(l->idle)) {
                sym_curl_easy_cleanup(easy);
                return;
        }
        /* Back to the defaults, so nothing of one check's setup leaks into another's. */
        sym_curl_easy_reset(easy);
        l->idle[l->n_idle++] = easy;
}

ks_io_set *ks_curl_loop_get_io_set(const ks_curl_loop *l) {
        return l->io;
}

sd_event *ks_curl_loop_get_event(const ks_curl_loop *l) {
        return l->event;
}

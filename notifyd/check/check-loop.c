/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check loop; most of it is the curl multi ↔ sd-event glue. curl tells us through the socket callback which sockets to
 * watch for what and through the timer callback when it next wants to be called. Both go into
 * the io set the native checks use (io-set.h): curl's sockets as watches (one small allocation
 * per socket, found again through curl_multi_assign), its timeout as a deadline per multi, so
 * that every check socket and every check deadline of notifyd is behind one io source and one
 * timer. We only arm there: calling curl from inside its own callback is not allowed. Both event
 * handlers call curl_multi_socket_action and then drain the finished transfers.
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
#include "check-loop.h"
#include "list.h"
#include "time-util.h"

typedef struct ks_curl_shard {
        ks_check_loop *loop;
        CURLM *multi;
        ks_io_deadline timeout;         /* the one curl keeps per multi */
} ks_curl_shard;

/* A socket curl asked us to watch: curl_multi_assign points it here until CURL_POLL_REMOVE. */
typedef struct ks_curl_socket {
        ks_io_watch watch;
        ks_curl_shard *shard;
        struct ks_curl_socket *prev, *next;
} ks_curl_socket;

struct ks_check_loop {
        sd_event *event;
        ks_curl_shard *shards[KS_CURL_SHARDS_MAX];
        unsigned n_shards;
        long max_connections;           /* per shard; 0: curl's default */
        ks_curl_socket *sockets;        /* watched for curl, to free any it never removes */
        unsigned running;
        CURL *idle[KS_CURL_POOL_MAX];   /* reset handles ready for the next check */
        unsigned n_idle;
        ks_io_set *io;                  /* every check socket and deadline, curl's and ours */
};

static void drain(ks_curl_shard *sh) {
        ks_check_loop *l = sh->loop;
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

static void on_socket(ks_io_watch *w, uint32_t revents, void *userdata) {
        ks_curl_socket *cs = userdata;
        /* curl may remove (and we free) this very socket while it handles the event. */
        ks_curl_shard *sh = cs->shard;
        curl_socket_t fd = w->fd;
        int action = 0, still;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        sym_curl_multi_socket_action(sh->multi, fd, action, &still);
        drain(sh);
}

static void on_timeout(ks_io_deadline *d, void *userdata) {
        ks_curl_shard *sh = userdata;
        int still;

        sym_curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &still);
        drain(sh);
}

static void socket_unwatch(ks_check_loop *l, ks_curl_socket *cs) {
        ks_io_set_remove(l->io, &cs->watch);
        LIST_REMOVE(l->sockets, cs);
        free(cs);
}

static int socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        ks_curl_shard *sh = userp;
        ks_check_loop *l = sh->loop;
        ks_curl_socket *cs = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                /* curl says so before it closes the socket. */
                if (cs)
                        socket_unwatch(l, cs);
                return 0;
        }

        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;

        if (cs)
                return ks_io_set_modify(l->io, &cs->watch, events) < 0 ? -1 : 0;

        cs = calloc(1, sizeof *cs);
        if (!cs)
                return -1;
        cs->watch = (ks_io_watch) KS_IO_WATCH_INIT;
        cs->shard = sh;
        if (ks_io_set_add(l->io, &cs->watch, fd, events, on_socket, cs) < 0) {
                free(cs);
                return -1;
        }
        LIST_PREPEND(l->sockets, cs);
        if (sym_curl_multi_assign(sh->multi, fd, cs) != CURLM_OK) {
                socket_unwatch(l, cs);
                return -1;
        }
        return 0;
}

static int timer_callback(CURLM *multi, long timeout_ms, void *userp) {
        ks_curl_shard *sh = userp;
        ks_io_set *io = sh->loop->io;

        /* curl keeps one deadline per multi: each call replaces the previous one. -1: none. */
        if (timeout_ms < 0) {
                ks_io_set_disarm(io, &sh->timeout);
                return 0;
        }
        /* 0 ("at once", asked with every new transfer) becomes the next wakeup: the io set
         * never runs a deadline armed while it is running its expired ones. curl has rounded
         * up to whole milliseconds already. */
        return ks_io_set_arm(io, &sh->timeout, ks_now_usec() + (uint64_t) timeout_ms * 1000,
                             on_timeout, sh) < 0 ? -1 : 0;
}

static ks_curl_shard *shard_free(ks_curl_shard *sh) {
        if (!sh)
                return NULL;
        /* curl may still tell us about sockets and its timeout while it closes them. */
        if (sh->multi)
                sym_curl_multi_cleanup(sh->multi);
        ks_io_set_disarm(sh->loop->io, &sh->timeout);
        return mfree(sh);
}

static int shard_new(ks_check_loop *l, ks_curl_shard **ret) {
        ks_curl_shard *sh;

        sh = calloc(1, sizeof *sh);
        if (!sh)
                return -ENOMEM;
        sh->loop = l;

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

int ks_check_loop_new(sd_event *event, ks_check_loop **ret) {
        _cleanup_(ks_check_loop_freep) ks_check_loop *l = NULL;
        int r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(event);
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

static int add_shards(ks_check_loop *l) {
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

int ks_check_loop_load(ks_check_loop *l) {
        int r;

        if (l->n_shards > 0)
                return 0;
        r = ks_curl_dl_open();
        if (r < 0)
                return r;
        return add_shards(l);
}

ks_check_loop *ks_check_loop_free(ks_check_loop *l) {
        if (!l)
                return NULL;
        /* curl may still tell us about sockets while it closes them: the set goes last. */
        for (unsigned i = 0; i < l->n_shards; i++)
                shard_free(l->shards[i]);
        while (l->sockets)
                socket_unwatch(l, l->sockets);
        ks_io_set_free(l->io);
        while (l->n_idle > 0)
                sym_curl_easy_cleanup(l->idle[--l->n_idle]);
        sd_event_unref(l->event);
        return mfree(l);
}

int ks_check_loop_add(ks_check_loop *l, CURL *easy, unsigned key) {
        ks_curl_done *done = NULL;
        ks_curl_shard *sh;
        CURLMcode c;
        int r;

        /* Loaded already when easy came from ks_check_loop_take_easy; not if it came from elsewhere. */
        r = ks_check_loop_load(l);
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

void ks_check_loop_remove(ks_check_loop *l, CURL *easy) {
        ks_curl_done *done = NULL;
        ks_curl_shard *sh;

        if (sym_curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &done) != CURLE_OK || !done || !done->shard)
                return;
        sh = done->shard;
        done->shard = NULL;
        if (sym_curl_multi_remove_handle(sh->multi, easy) == CURLM_OK && l->running > 0)
                l->running--;
}

int ks_check_loop_set_max_connections(ks_check_loop *l, long n) {
        /* Only ever more shards: a probe's connection lives in the shard its key picks, and the
         * existing ones keep their (cached) connections. Each cache may hold all n. Before
         * libcurl is loaded only the number is kept: ks_check_loop_load makes the shards. */
        l->max_connections = n;
        for (unsigned i = 0; i < l->n_shards; i++)
                if (sym_curl_multi_setopt(l->shards[i]->multi, CURLMOPT_MAXCONNECTS, n) != CURLM_OK)
                        return -EINVAL;
        if (l->n_shards == 0)
                return 0;
        return add_shards(l);
}

unsigned ks_check_loop_running(const ks_check_loop *l) {
        return l->running;
}

CURL *ks_check_loop_take_easy(ks_check_loop *l) {
        if (l->n_idle > 0)
                return l->idle[--l->n_idle];
        if (ks_check_loop_load(l) < 0)
                return NULL;
        return sym_curl_easy_init();
}

bool ks_check_loop_loaded(const ks_check_loop *l) {
        return l->n_shards > 0;
}

void ks_check_loop_give_easy(ks_check_loop *l, CURL *easy) {
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

ks_io_set *ks_check_loop_get_io_set(const ks_check_loop *l) {
        return l->io;
}

sd_event *ks_check_loop_get_event(const ks_check_loop *l) {
        return l->event;
}

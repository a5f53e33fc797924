/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check loop: where every health check runs, on one sd-event loop. It owns the io set
 * (io-set.h: one inner epoll set behind one io source, one deadline list behind one timer) that
 * native checks and libcurl's sockets and timeouts share, and libcurl's multi handles and idle
 * easy handles. Finished curl transfers are handed to the callback stored in each easy handle's
 * CURLOPT_PRIVATE (a ks_curl_done).
 *
 * libcurl is not linked but loaded (curl-dl.h) with the loop's first transfer, so creating a loop
 * never maps it. Callers use the sym_curl_* functions of curl-dl.h on the handles they get.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "io-set.h"
#include "macro.h"

typedef struct ks_check_loop ks_check_loop;

/* Idle easy handles kept for reuse (see ks_check_loop_take_easy). */
#define KS_CURL_POOL_MAX 32
/* Connection caches (multi handles) for connection reuse, and the connections each aims at. */
#define KS_CURL_SHARDS_MAX 16
#define KS_CURL_SHARD_CONNECTIONS 64

/* Put one of these in the object that owns an easy handle and point CURLOPT_PRIVATE at it. The
 * callback runs after the handle has been removed from the multi, so it may re-add it. */
typedef struct ks_curl_done {
        void (*callback)(CURL *easy, CURLcode result, void *userdata);
        void *userdata;
        void *shard;            /* the loop's: which multi the handle is in, while it is */
} ks_curl_done;

int ks_check_loop_new(sd_event *event, ks_check_loop **ret);
ks_check_loop *ks_check_loop_free(ks_check_loop *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_check_loop *, ks_check_loop_free);

/* Loads libcurl (once per process, see ks_curl_dl_open) and sets up the loop's multi handles,
 * unless done already. 0, or -EOPNOTSUPP when libcurl cannot be loaded (ks_curl_dl_error() says
 * why), -EIO, -ENOMEM. ks_check_loop_take_easy and ks_check_loop_add call it themselves. */
int ks_check_loop_load(ks_check_loop *l);
/* Whether this loop has loaded libcurl (for tests and the daemon's status). */
bool ks_check_loop_loaded(const ks_check_loop *l);

/* Starts a transfer. The easy handle's CURLOPT_PRIVATE must point to a ks_curl_done. key picks
 * the connection cache: a check that reuses its connection must always pass the same key. */
int ks_check_loop_add(ks_check_loop *l, CURL *easy, unsigned key);
/* Aborts a running transfer without calling its callback. Only for a handle that was added and
 * has not finished (the caller tracks that). */
void ks_check_loop_remove(ks_check_loop *l, CURL *easy);

/* Connections kept open for reuse: n in all (more caches as n grows, see check-loop.c). */
int ks_check_loop_set_max_connections(ks_check_loop *l, long n);

/* The event loop it runs on, and the socket set of the checks that do not need curl. */
sd_event *ks_check_loop_get_event(const ks_check_loop *l);
ks_io_set *ks_check_loop_get_io_set(const ks_check_loop *l);

/* Number of transfers currently running. */
unsigned ks_check_loop_running(const ks_check_loop *l);

/* An easy handle with default options: from the pool when one is idle, else a new one (NULL when
 * libcurl cannot be loaded, see ks_check_loop_load, or on ENOMEM). Give it back with ks_check_loop_give_easy (not added to the multi), which resets it or frees it when
 * the pool is full. */
CURL *ks_check_loop_take_easy(ks_check_loop *l);
void ks_check_loop_give_easy(ks_check_loop *l, CURL *easy);

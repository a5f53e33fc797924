/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notifyd's state directory and its coalesced writes (see state-store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "list.h"
#include "log.h"
#include "state-store.h"
#include "time-util.h"

#define DEFAULT_DIR "/var/lib/kservice"
/* The least time between two writes of one service's file, and the timer's period. */
#define SAVE_PERIOD_USEC (1000 * 1000ull)
/* How long a first change waits for others to write them together. */
#define COALESCE_USEC (100 * 1000ull)
/* How long one batch may take before the loop gets back to the checks. */
#define BATCH_BUDGET_USEC (20 * 1000ull)
/* When a batch was cut short, the next one follows after this. */
#define BATCH_PAUSE_USEC (50 * 1000ull)
/* Failed writes are logged at most this often. */
#define WRITE_ERROR_LOG_USEC (60 * 1000 * 1000ull)

struct ks_state_store {
        sd_event *event;
        sd_event_source *timer;
        char *dir;
        int dir_fd;                     /* -EBADF: nothing is kept */
        ks_state_entry *head, *tail;    /* the queue */
        uint64_t error_logged_at;
};

int ks_state_store_new(sd_event *event, const char *dir, ks_state_store **ret) {
        _cleanup_(ks_state_store_freep) ks_state_store *s = NULL;
        const char *env = getenv("STATE_DIRECTORY");

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->dir_fd = -EBADF;
        if (!dir && env && *env)
                /* systemd lists every StateDirectory= separated by ':'; ours is the only one. */
                s->dir = strndup(env, strcspn(env, ":"));
        else
                s->dir = strdup(dir ?: DEFAULT_DIR);
        if (!s->dir)
                return -ENOMEM;
        s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0) {
                s->dir_fd = -errno;
                log_warning_errno(s->dir_fd, "Cannot open the state directory %s, health history will not be kept "
                                  "across restarts: %m", s->dir);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void dequeue(ks_state_store *s, ks_state_entry *e) {
        if (!e->queued)
                return;
        LIST_REMOVE_TAIL(s->head, s->tail, e);
        e->queued = false;
}

ks_state_store *ks_state_store_free(ks_state_store *s) {
        if (!s)
                return NULL;
        while (s->head)
                dequeue(s, s->head);
        sd_event_source_disable_unref(s->timer);
        if (s->dir_fd >= 0)
                close(s->dir_fd);
        free(s->dir);
        sd_event_unref(s->event);
        return mfree(s);
}

/* One file, without the directory's fsync. */
static int write_one(ks_state_store *s, ks_state_entry *e, uint64_t now) {
        /* ~10 KiB: static rather than on the stack of the loop, and written by one thread. */
        static ks_service_state snapshot;
        int r;

        ks_health_record_snapshot(e->rec, &snapshot);
        r = ks_service_state_write(s->dir_fd, e->name, &snapshot);
        e->saved_at = now;
        if (r < 0) {
                if (s->error_logged_at == 0 || now >= s->error_logged_at + WRITE_ERROR_LOG_USEC) {
                        log_warning_errno(r, "Cannot write %s/%s.state (tried again on its next change): %m",
                                          s->dir, e->name);
                        s->error_logged_at = now;
                }
                return r;
        }
        ks_health_record_saved(e->rec);
        return 0;
}

static void sync_dir(ks_state_store *s) {
        if (fsync(s->dir_fd) < 0)
                log_debug_errno(errno, "fsync(%s) failed: %m", s->dir);
}

static int arm(ks_state_store *s, uint64_t usec);

/* Writes what is due; what was written less than a period ago waits its turn. */
static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        ks_state_store *s = userdata;
        uint64_t start = ks_now_usec(), next = 0;
        ks_state_entry *e, *n;
        bool wrote = false;

        for (e = s->head; e; e = n) {
                uint64_t now = ks_now_usec();

                n = e->next;
                if (now - start >= BATCH_BUDGET_USEC) {
                        next = now + BATCH_PAUSE_USEC;
                        break;
                }
                if (e->saved_at && now < e->saved_at + SAVE_PERIOD_USEC) {
                        next = next ? MIN(next, e->saved_at + SAVE_PERIOD_USEC) : e->saved_at + SAVE_PERIOD_USEC;
                        continue;
                }
                dequeue(s, e);
                (void) write_one(s, e, now);
                wrote = true;
        }
        if (wrote)
                sync_dir(s);
        if (s->head)
                (void) arm(s, next ?: ks_now_usec() + SAVE_PERIOD_USEC);
        return 0;
}

static int arm(ks_state_store *s, uint64_t usec) {
        int r;

        if (!s->timer) {
                r = sd_event_add_time(s->event, &s->timer, CLOCK_MONOTONIC, usec, 10 * 1000, on_timer, s);
                if (r < 0)
                        return log_error_errno(r, "Cannot arm the state writer: %m");
                (void) sd_event_source_set_description(s->timer, "state-store");
                return 0;
        }
        r = sd_event_source_set_time(s->timer, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        return r;
}

int ks_state_store_attach(ks_state_store *s, ks_state_entry *e, const char *name, ks_health_record *rec) {
        _cleanup_free_ char *reason = NULL, *aside = NULL;
        static ks_service_state loaded;
        int r;

        *e = (ks_state_entry) { .name = strdup(name), .rec = rec };
        if (!e->name)
                return -ENOMEM;
        if (s->dir_fd < 0)
                return 0;
        r = ks_service_state_load(s->dir_fd, name, &loaded, &reason, &aside);
        if (r == -ENOENT)
                return 0;
        if (r == -EBADMSG) {
                if (aside)
                        log_warning("%s/%s.state: %s; set aside as %s/%s, %s starts with no history.", s->dir, name,
                                    reason ?: "rejected", s->dir, aside, name);
                else
                        log_warning("%s/%s.state: %s; it could not be set aside, %s starts with no history.", s->dir,
                                    name, reason ?: "rejected", name);
                return 0;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot read %s/%s.state, %s starts with no history: %m", s->dir, name, name);
                return 0;
        }
        ks_health_record_restore(rec, &loaded, ks_now_realtime_usec());
        return 1;
}

void ks_state_store_touch(ks_state_store *s, ks_state_entry *e) {
        if (e->queued || s->dir_fd < 0 || !e->name || !ks_health_record_save_due(e->rec))
                return;
        LIST_APPEND(s->head, s->tail, e);
        e->queued = true;
        /* The first in an empty queue arms the timer, after a short window for what changes
         * together (a round's several changes, many services at once); later ones ride along. */
        if (!e->prev)
                (void) arm(s, ks_now_usec() + COALESCE_USEC);
}

void ks_state_store_detach(ks_state_store *s, ks_state_entry *e) {
        if (e->queued) {
                dequeue(s, e);
                if (write_one(s, e, ks_now_usec()) >= 0)
                        sync_dir(s);
        }
        e->rec = NULL;
        e->name = mfree(e->name);
}

void ks_state_store_flush(ks_state_store *s) {
        bool wrote = false;

        while (s->head) {
                ks_state_entry *e = s->head;

                dequeue(s, e);
                (void) write_one(s, e, ks_now_usec());
                wrote = true;
        }
        if (wrote)
                sync_dir(s);
}

void ks_state_store_clean(ks_state_store *s, char *const *keep, size_t n_keep) {
        _cleanup_free_ const char **names = NULL;
        int r;

        if (s->dir_fd < 0)
                return;
        names = calloc(n_keep + 1, sizeof *names);
        if (!names)
                return (void) log_oom();
        for (size_t i = 0; i < n_keep; i++)
                names[i] = keep[i];
        r = ks_service_state_remove_stale(s->dir_fd, names, KS_STATE_GRACE_USEC, ks_now_realtime_usec());
        if (r < 0)
                log_warning_errno(r, "Cannot clean the state directory %s: %m", s->dir);
        else if (r > 0)
                log_info("Removed %d state file(s) of definitions gone for more than %llu days from %s.", r,
                         (unsigned long long) (KS_STATE_GRACE_USEC / (24 * 3600 * 1000000ull)), s->dir);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where notifyd keeps its services' health records across restarts and reboots: one
 * NAME.state file per service (model/state-file.h) in the state directory, /var/lib/kservice
 * ($STATE_DIRECTORY, set by the unit's StateDirectory=kservice).
 *
 * Writes are coalesced: a record with something worth saving (ks_health_record_save_due()) is
 * queued, and a timer writes the queue at most once a second, so a service's file is written at
 * most about once a second and never per check. A batch is written file by file (each
 * written, fsync()ed and renamed) and then the directory is fsync()ed once; a batch stops after
 * BATCH_BUDGET of work and the rest follows soon after, so thousands of services changing at
 * once (notifyd restarting) never stall the checks. At a clean stop everything queued is written.
 *
 * The store never stops notifyd: a directory that cannot be opened means no persistence (logged
 * once), a file that cannot be written is logged (rate-limited) and tried again later, and a bad
 * file is set aside by the loader (logged once with its path and reason).
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "health-record.h"
#include "list.h"
#include "macro.h"

/* A removed definition's state is kept this long after its last write, so that a rename with a
 * typo, or a definition moved away for a while, does not erase its history. */
#define KS_STATE_GRACE_USEC (7ull * 24 * 3600 * 1000000)

typedef struct ks_state_store ks_state_store;

/* One service's place in the store: embedded in its owner (the monitor), which outlives it in
 * the queue (ks_state_store_forget() before freeing). */
typedef struct ks_state_entry {
        char *name;                     /* NAME (a copy: the owner's definition may be replaced) */
        ks_health_record *rec;
        bool queued;
        uint64_t saved_at;              /* monotonic usec of the last write */
        struct ks_state_entry *prev, *next;     /* in the queue */
} ks_state_entry;

/* dir NULL: $STATE_DIRECTORY (its first entry), else /var/lib/kservice. Never fails for a
 * missing or unusable directory (the store then keeps nothing); -ENOMEM. */
int ks_state_store_new(sd_event *event, const char *dir, ks_state_store **ret);
ks_state_store *ks_state_store_free(ks_state_store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_state_store *, ks_state_store_free);

/* A new service's entry: loads NAME.state into e->rec if there is one (a bad one is set aside and
 * logged) and returns 1 when it did, 0 when it starts fresh; -ENOMEM. */
int ks_state_store_attach(ks_state_store *s, ks_state_entry *e, const char *name, ks_health_record *rec);
/* The record may need a save: queues it when ks_health_record_save_due() says so. */
void ks_state_store_touch(ks_state_store *s, ks_state_entry *e);
/* The owner goes away: written now if queued (its last state is kept), then out of the store.
 * Also for an entry whose attach failed (-ENOMEM). */
void ks_state_store_detach(ks_state_store *s, ks_state_entry *e);
/* Writes everything queued now (a clean stop). */
void ks_state_store_flush(ks_state_store *s);

/* Removes the files of services not in keep (removed definitions) older than the grace period,
 * and killed writers' temporary files. */
void ks_state_store_clean(ks_state_store *s, char *const *keep, size_t n_keep);

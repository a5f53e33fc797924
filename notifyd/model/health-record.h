/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What notifyd knows of one service beyond the current invocation (issue 13): its health state
 * and since when, the last round and each check's last result, the restarts kservice caused and
 * those it saw, the incident history, flapping (flap.h) and the health score (score.h). Pure: no
 * I/O, no clock (callers pass realtime usec), fed by the monitor's events; the persisted part is
 * a ks_service_state (state-file.h).
 *
 * Health: unknown until the unit is seen running and after it stops; starting, healthy or
 * unhealthy as the tracker says (a restart requested counts as unhealthy); flapping instead of
 * those three, and of unknown while the unit is between two invocations (stopping or waiting
 * for its automatic restart), while the flap detector says so; paused while notifyd stops (it is saved so, and
 * read back as unknown).
 *
 * What counts, for flapping, the score and incidents: the rounds of a service that is ready;
 * rounds of a service still starting say nothing about its health yet (its first check may
 * come before it listens; TimeoutStartSec= decides about a service that never gets ready). A restart kservice requested is a
 * change (flap.h) and weighs as ten failed rounds (score.h).
 *
 * Incidents: one opens at the first counted failure when none is open, with that failure's
 * reason. kservice's restart trigger makes its action "restart"; the unit ending "failed" (systemd
 * gave up restarting it) ends it "gave-up". It ends "recovered" (no action) or "restarted" when
 * the service is healthy again, "stopped" when the unit is stopped (inactive) by someone else.
 * "failed" and "inactive" are final only when they last: on an automatic restart systemd passes
 * through them (252: failed, then auto-restart; 254 and later: the *-before-auto-restart
 * states), so the unit reports them as pending and the caller settles them a few seconds later
 * (ks_health_record_settle()) if the unit has not started again. An incident with nothing done
 * that opened at most KS_STOP_RACE_USEC before the unit was seen stopping (for any reason: a
 * stop, a restart, a crash) is dropped, and flapping and the score are taken back to what
 * they were before its first failure: the stop explains the failure (the service closed its
 * socket before systemd's signal reached notifyd), and a restart by systemd shows in the
 * restarts seen.
 *
 * Restarts seen: systemd's automatic restarts of the unit, whoever caused them: increments of its
 * NRestarts, which systemd resets on a manual stop and on an unload; a value lower than the last
 * one seen counts from 0.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flap.h"
#include "score.h"
#include "state-file.h"

#define KS_RECORD_REASON_MAX 200
#define KS_STOP_RACE_USEC (5 * 1000 * 1000ull)

/* What changed, returned by the events: a state change (Health, counters, incidents, flapping)
 * is saved within a second and signalled on the bus; per-round values (the last round, the
 * checks, the score) are neither. */
enum {
        KS_RECORD_HEALTH = 1 << 0,              /* health, health_since */
        KS_RECORD_FAILURES = 1 << 1,            /* consecutive failures, failure threshold */
        KS_RECORD_RESTARTS = 1 << 2,            /* restarts by kservice, restarts seen */
        KS_RECORD_FLAPPING = 1 << 3,
        KS_RECORD_INCIDENTS = 1 << 4,
        KS_RECORD_STATE_CHANGES = (1 << 5) - 1,
        KS_RECORD_ROUND = 1 << 5,               /* last round, checks, score, flap percent */
};

#define KS_CHECK_NOT_RUN (-1)

/* A check's result the last time it ran. */
typedef struct ks_check_last {
        int result;                             /* KS_CHECK_NOT_RUN, 0 failed, 1 passed */
        char reason[KS_RECORD_REASON_MAX];
        uint64_t latency_usec;
        uint64_t at_usec;                       /* realtime; 0: never */
} ks_check_last;

typedef struct ks_health_params {
        unsigned failure_threshold;
        double flap_low, flap_high;             /* percent, flap.h */
        uint64_t score_half_life_usec;
} ks_health_params;

/* A round as the monitor saw it. */
typedef struct ks_round_report {
        bool passed;
        const char *reason;
        uint64_t latency_usec;
        ks_health_state health;                 /* starting, healthy or unhealthy: the tracker's */
        unsigned failures;                      /* the tracker's failure count */
        bool counts;                            /* the service was ready (see top) */
        bool counted_failure;                   /* of a ready service, towards failure_threshold */
        bool triggered;                         /* kservice sent WATCHDOG=trigger with it */
} ks_round_report;

typedef struct ks_health_record {
        /* Persisted; its score and flap fields are synced on save. An allocation of its own,
         * malloc()ed and written up to its incidents only: its 50 incident slots (9.5 KiB) cost
         * no memory until used (calloc() or a struct around it would touch them all: 47 MB more
         * at 5000 services). */
        ks_service_state *st;
        ks_flap flap;
        ks_score score;
        unsigned failure_threshold;

        int last_result;                        /* KS_CHECK_NOT_RUN, 0, 1 */
        char last_reason[KS_RECORD_REASON_MAX];
        uint64_t last_latency_usec;
        uint64_t last_round_usec;               /* realtime; 0: never */
        ks_check_last *checks;
        size_t n_checks;

        bool running;                           /* the unit runs and is being checked */
        bool restarting;                        /* not running: stopping or about to start again */
        ks_incident_outcome pending_end;        /* ONGOING, or STOPPED/GAVE_UP to settle */
        ks_flap before_incident_flap;           /* before the open incident's first failure */
        ks_score before_incident_score;
        ks_health_state base;                   /* health before flapping overrides it */
        bool dirty;                             /* a state change not saved yet */
        double saved_score;                     /* the score in the last save */
} ks_health_record;

/* A new service at now (no history): -EINVAL for bad params, -ENOMEM. */
int ks_health_record_init(ks_health_record *rec, size_t n_checks, const ks_health_params *p, uint64_t now);
void ks_health_record_done(ks_health_record *rec);

/* Takes a loaded state: counters, incidents, flap history and score. An invalid flap history or
 * score (hand-edited file) is started afresh. Health is unknown until the unit is seen. */
void ks_health_record_restore(ks_health_record *rec, const ks_service_state *loaded, uint64_t now);

/* A changed definition: thresholds, half-life and the number of checks (their results are
 * dropped when it changes). -EINVAL, -ENOMEM (rec untouched). Returns the changes. */
int ks_health_record_set_params(ks_health_record *rec, size_t n_checks, const ks_health_params *p);

/* One check's result inside a round. */
void ks_health_record_check(ks_health_record *rec, size_t index, bool passed, const char *reason,
                            uint64_t latency_usec, uint64_t now);

/* A completed round. Returns the changes. */
unsigned ks_health_record_round(ks_health_record *rec, const ks_round_report *r, uint64_t now);

/* The unit as systemd reports it: running (being checked) or not, its ActiveState, InvocationID
 * (32 hex digits, "" unknown) and NRestarts (n_restarts_known false: not read yet). */
unsigned ks_health_record_unit(ks_health_record *rec, bool running, const char *active_state,
                               const char *invocation_id, bool n_restarts_known, uint32_t n_restarts,
                               uint64_t now);

/* Whether an incident's end waits to be settled, and settles it: ends the open incident as the
 * unit's last state said, if it did not run again since. Returns the changes. */
static inline bool ks_health_record_settle_pending(const ks_health_record *rec) {
        return rec->pending_end != KS_INCIDENT_ONGOING;
}
unsigned ks_health_record_settle(ks_health_record *rec, uint64_t now);

/* notifyd stops: health paused. */
unsigned ks_health_record_pause(ks_health_record *rec, uint64_t now);

/* ResetHistory: incidents, both restart counters, flap history and score as a new service's;
 * health and the current round's state stay. */
unsigned ks_health_record_reset(ks_health_record *rec, uint64_t now);

/* The current health (flapping applied). */
static inline ks_health_state ks_health_record_health(const ks_health_record *rec) {
        return rec->st->health;
}
double ks_health_record_score(const ks_health_record *rec);

/* Whether a save is due: a state change, or the score moved by 0.001 or more since the last save. */
bool ks_health_record_save_due(const ks_health_record *rec);
/* The state to save (score and flap fields synced); then ks_health_record_saved() once written. */
void ks_health_record_snapshot(const ks_health_record *rec, ks_service_state *ret);
void ks_health_record_saved(ks_health_record *rec);

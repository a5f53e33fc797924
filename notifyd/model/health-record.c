/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One service's health record (see health-record.h). */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health-record.h"
#include "macro.h"
#include "string-util.h"

/* A score change smaller than this is not worth a write of its own (it rides along the next). */
#define SCORE_SAVE_DELTA 0.001

static int check_params(const ks_health_params *p) {
        if (p->failure_threshold == 0 || p->score_half_life_usec == 0)
                return -EINVAL;
        return ks_flap_thresholds_validate(p->flap_low, p->flap_high) < 0 ? -EINVAL : 0;
}

static ks_check_last *new_checks(size_t n) {
        ks_check_last *c = calloc(MAX(n, 1u), sizeof *c);

        for (size_t i = 0; c && i < n; i++)
                c[i].result = KS_CHECK_NOT_RUN;
        return c;
}

int ks_health_record_init(ks_health_record *rec, size_t n_checks, const ks_health_params *p, uint64_t now) {
        ks_check_last *checks;
        ks_service_state *st;

        if (check_params(p) < 0)
                return -EINVAL;
        checks = new_checks(n_checks);
        /* malloc(), not calloc(): see health-record.h. */
        st = malloc(sizeof *st);
        if (!checks || !st) {
                free(checks);
                free(st);
                return -ENOMEM;
        }
        *rec = (ks_health_record) {
                .st = st,
                .failure_threshold = p->failure_threshold,
                .last_result = KS_CHECK_NOT_RUN,
                .checks = checks,
                .n_checks = n_checks,
                .base = KS_HEALTH_UNKNOWN,
        };
        ks_service_state_init(rec->st);
        rec->st->health_since_usec = now;
        (void) ks_flap_init(&rec->flap, p->flap_low, p->flap_high);
        (void) ks_score_init(&rec->score, p->score_half_life_usec, now);
        rec->saved_score = ks_health_record_score(rec);
        /* A new service has nothing on disk yet: its first state is worth a file. */
        rec->dirty = true;
        return 0;
}

void ks_health_record_done(ks_health_record *rec) {
        rec->st = mfree(rec->st);
        rec->checks = mfree(rec->checks);
        rec->n_checks = 0;
}

double ks_health_record_score(const ks_health_record *rec) {
        return ks_score_get(&rec->score, rec->flap.flapping);
}

/* The health shown: flapping overrides the tracker's three states while the unit is checked,
 * and "unknown" while it is between two invocations (a flapping service is often restarting). */
static unsigned set_health(ks_health_record *rec, ks_health_state base, uint64_t now) {
        ks_health_state h = base;

        rec->base = base;
        if (rec->flap.flapping && (base == KS_HEALTH_STARTING || base == KS_HEALTH_HEALTHY ||
                                   base == KS_HEALTH_UNHEALTHY || (base == KS_HEALTH_UNKNOWN && rec->restarting)))
                h = KS_HEALTH_FLAPPING;
        if (h == rec->st->health)
                return 0;
        rec->st->health = h;
        rec->st->health_since_usec = now;
        return KS_RECORD_HEALTH;
}

static ks_incident *open_incident(ks_health_record *rec) {
        ks_incident *x;

        if (rec->st->n_incidents == 0)
                return NULL;
        x = &rec->st->incidents[rec->st->n_incidents - 1];
        return x->outcome == KS_INCIDENT_ONGOING ? x : NULL;
}

static unsigned end_incident(ks_health_record *rec, ks_incident_outcome outcome, uint64_t now) {
        ks_incident *x = open_incident(rec);

        if (!x)
                return 0;
        x->ended_usec = MAX(now, x->started_usec);
        x->outcome = outcome;
        return KS_RECORD_INCIDENTS;
}

void ks_health_record_restore(ks_health_record *rec, const ks_service_state *loaded, uint64_t now) {
        ks_flap flap = rec->flap;
        ks_score score = rec->score;
        uint32_t bits;

        ks_service_state_copy(rec->st, loaded);
        /* Read back from the bits the file keeps; anything inconsistent starts afresh. */
        bits = loaded->flap_changes | (loaded->flap_last == 1 ? 1u << 20 : 0) | (loaded->flap_last >= 0 ? 1u << 21 : 0);
        if (ks_flap_unpack(&flap, bits, loaded->flap_n_changes, loaded->flapping) >= 0)
                rec->flap = flap;
        if (ks_score_restore(&score, rec->score.half_life_usec, loaded->score_numerator, loaded->score_denominator,
                             loaded->score_updated_usec) >= 0)
                rec->score = score;
        /* Until the unit is seen: what it was before notifyd stopped is not what it is now. */
        rec->base = KS_HEALTH_UNKNOWN;
        rec->st->health = KS_HEALTH_UNKNOWN;
        rec->st->health_since_usec = now;
        rec->st->consecutive_failures = 0;
        rec->saved_score = ks_health_record_score(rec);
        rec->dirty = loaded->health != KS_HEALTH_UNKNOWN || loaded->consecutive_failures != 0;
}

int ks_health_record_set_params(ks_health_record *rec, size_t n_checks, const ks_health_params *p) {
        unsigned changes = 0;

        if (check_params(p) < 0)
                return -EINVAL;
        if (n_checks != rec->n_checks) {
                ks_check_last *checks = new_checks(n_checks);

                if (!checks)
                        return -ENOMEM;
                free(rec->checks);
                rec->checks = checks;
                rec->n_checks = n_checks;
                changes |= KS_RECORD_ROUND;
        }
        if (p->failure_threshold != rec->failure_threshold) {
                rec->failure_threshold = p->failure_threshold;
                changes |= KS_RECORD_FAILURES;
        }
        (void) ks_flap_set_thresholds(&rec->flap, p->flap_low, p->flap_high);
        rec->score.half_life_usec = p->score_half_life_usec;
        if (changes & KS_RECORD_STATE_CHANGES)
                rec->dirty = true;
        return (int) changes;
}

void ks_health_record_check(ks_health_record *rec, size_t index, bool passed, const char *reason,
                            uint64_t latency_usec, uint64_t now) {
        ks_check_last *c;

        if (index >= rec->n_checks)
                return;
        c = &rec->checks[index];
        c->result = passed;
        strscpy(c->reason, sizeof c->reason, reason ?: "");
        c->latency_usec = latency_usec;
        c->at_usec = now;
}

unsigned ks_health_record_round(ks_health_record *rec, const ks_round_report *r, uint64_t now) {
        unsigned changes = KS_RECORD_ROUND;
        bool was_flapping = rec->flap.flapping;
        ks_incident *x;

        rec->last_result = r->passed;
        strscpy(rec->last_reason, sizeof rec->last_reason, r->reason ?: "");
        rec->last_latency_usec = r->latency_usec;
        rec->last_round_usec = now;
        rec->running = true;

        if (r->failures != rec->st->consecutive_failures) {
                rec->st->consecutive_failures = r->failures;
                changes |= KS_RECORD_FAILURES;
        }

        if (r->counted_failure && !open_incident(rec)) {
                /* What it was before: if this failure turns out to be a stop's (see top), it is
                 * taken back. */
                rec->before_incident_flap = rec->flap;
                rec->before_incident_score = rec->score;
        }
        if (r->counts) {
                (void) ks_flap_record(&rec->flap, r->passed);
                ks_score_round(&rec->score, now, r->passed);
        }
        if (r->counted_failure && !open_incident(rec)) {
                (void) ks_service_state_add_incident(rec->st, now, r->reason ?: "");
                changes |= KS_RECORD_INCIDENTS;
        }
        if (r->triggered) {
                rec->st->restarts_by_kservice++;
                changes |= KS_RECORD_RESTARTS;
                (void) ks_flap_record_restart(&rec->flap);
                ks_score_restart(&rec->score, now);
                x = open_incident(rec);
                if (x && x->action == KS_INCIDENT_ACTION_NONE) {
                        x->action = KS_INCIDENT_ACTION_RESTART;
                        changes |= KS_RECORD_INCIDENTS;
                }
        }
        if (r->health == KS_HEALTH_HEALTHY) {
                x = open_incident(rec);
                if (x)
                        changes |= end_incident(rec, x->action == KS_INCIDENT_ACTION_RESTART ? KS_INCIDENT_RESTARTED
                                                                                           : KS_INCIDENT_RECOVERED,
                                                now);
        }
        if (rec->flap.flapping != was_flapping) {
                rec->st->flapping = rec->flap.flapping;
                changes |= KS_RECORD_FLAPPING;
        }
        changes |= set_health(rec, r->health, now);
        if (changes & KS_RECORD_STATE_CHANGES)
                rec->dirty = true;
        return changes;
}

unsigned ks_health_record_unit(ks_health_record *rec, bool running, const char *active_state,
                               const char *invocation_id, bool n_restarts_known, uint32_t n_restarts,
                               uint64_t now) {
        unsigned changes = 0;
        ks_incident *x;

        if (n_restarts_known && n_restarts != rec->st->systemd_n_restarts) {
                /* systemd counts from 0 again after a manual stop or an unload: a lower value is
                 * that many restarts since. */
                uint64_t added = n_restarts > rec->st->systemd_n_restarts ? n_restarts - rec->st->systemd_n_restarts
                                                                         : n_restarts;

                rec->st->systemd_n_restarts = n_restarts;
                if (added > 0) {
                        rec->st->restarts_seen += added;
                        changes |= KS_RECORD_RESTARTS;
                }
                rec->dirty = true;
        }
        if (invocation_id && invocation_id[0] && strlen(invocation_id) == KS_INVOCATION_ID_LEN &&
            !streq(invocation_id, rec->st->systemd_invocation_id)) {
                memcpy(rec->st->systemd_invocation_id, invocation_id, KS_INVOCATION_ID_LEN + 1);
                rec->dirty = true;
        }

        if (running) {
                rec->pending_end = KS_INCIDENT_ONGOING;
                rec->restarting = false;
                /* A new invocation is "starting" until its first round says otherwise. */
                if (!rec->running) {
                        rec->running = true;
                        changes |= set_health(rec, KS_HEALTH_STARTING, now);
                }
        } else {
                /* Stopping or waiting for an automatic restart, not stopped for good. */
                rec->restarting = streq_ptr(active_state, "activating") || streq_ptr(active_state, "deactivating");
                x = open_incident(rec);
                if (rec->running && x && x->action == KS_INCIDENT_ACTION_NONE &&
                    x->started_usec + KS_STOP_RACE_USEC >= now) {
                        /* The stop itself, seen by a round before systemd's signal (see top):
                         * neither an incident nor a change for flapping and the score. */
                        rec->st->n_incidents--;
                        changes |= KS_RECORD_INCIDENTS;
                        rec->flap = rec->before_incident_flap;
                        rec->score = rec->before_incident_score;
                        if (rec->st->flapping != rec->flap.flapping) {
                                rec->st->flapping = rec->flap.flapping;
                                changes |= KS_RECORD_FLAPPING;
                        }
                }
                rec->running = false;
                /* Final only if it lasts (see top). */
                if (streq_ptr(active_state, "failed") && open_incident(rec))
                        rec->pending_end = KS_INCIDENT_GAVE_UP;
                else if (streq_ptr(active_state, "inactive") && open_incident(rec))
                        rec->pending_end = KS_INCIDENT_STOPPED;
                else if (!streq_ptr(active_state, "deactivating"))
                        rec->pending_end = KS_INCIDENT_ONGOING;
                if (rec->st->consecutive_failures != 0) {
                        rec->st->consecutive_failures = 0;
                        changes |= KS_RECORD_FAILURES;
                }
                changes |= set_health(rec, KS_HEALTH_UNKNOWN, now);
        }
        if (changes & KS_RECORD_STATE_CHANGES)
                rec->dirty = true;
        return changes;
}

unsigned ks_health_record_settle(ks_health_record *rec, uint64_t now) {
        ks_incident_outcome outcome = rec->pending_end;
        ks_incident *x = open_incident(rec);
        unsigned changes = 0;

        rec->pending_end = KS_INCIDENT_ONGOING;
        if (outcome == KS_INCIDENT_ONGOING || rec->running || !x)
                return 0;
        if (outcome == KS_INCIDENT_GAVE_UP)
                x->action = KS_INCIDENT_ACTION_GAVE_UP;
        changes = end_incident(rec, outcome, now);
        rec->dirty = true;
        return changes;
}

unsigned ks_health_record_pause(ks_health_record *rec, uint64_t now) {
        unsigned changes;

        rec->running = false;
        changes = set_health(rec, KS_HEALTH_PAUSED, now);
        if (changes)
                rec->dirty = true;
        return changes;
}

unsigned ks_health_record_reset(ks_health_record *rec, uint64_t now) {
        unsigned changes = KS_RECORD_INCIDENTS | KS_RECORD_RESTARTS | KS_RECORD_ROUND;
        uint64_t half_life = rec->score.half_life_usec;

        rec->st->n_incidents = 0;
        rec->st->restarts_by_kservice = 0;
        rec->st->restarts_seen = 0;
        (void) ks_flap_init(&rec->flap, rec->flap.low, rec->flap.high);
        (void) ks_score_init(&rec->score, half_life, now);
        if (rec->st->flapping) {
                rec->st->flapping = false;
                changes |= KS_RECORD_FLAPPING;
        }
        changes |= set_health(rec, rec->base, now);
        rec->dirty = true;
        return changes;
}

bool ks_health_record_save_due(const ks_health_record *rec) {
        return rec->dirty || fabs(ks_health_record_score(rec) - rec->saved_score) >= SCORE_SAVE_DELTA;
}

void ks_health_record_snapshot(const ks_health_record *rec, ks_service_state *ret) {
        uint32_t bits, count, flapping;

        ks_service_state_copy(ret, rec->st);
        ks_flap_pack(&rec->flap, &bits, &count, &flapping);
        ret->flap_changes = bits & ((1u << 20) - 1);
        ret->flap_n_changes = count;
        ret->flap_last = bits & (1u << 21) ? (int) ((bits >> 20) & 1) : -1;
        ret->flapping = flapping;
        ret->score_numerator = rec->score.n;
        ret->score_denominator = rec->score.d;
        ret->score_updated_usec = rec->score.t_usec;
}

void ks_health_record_saved(ks_health_record *rec) {
        rec->dirty = false;
        rec->saved_score = ks_health_record_score(rec);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* health-record.h: health states, incidents and their outcomes, restarts counted across systemd's
 * NRestarts resets, flapping seen as health, save decisions, snapshot and restore, reset. */
#include <string.h>

#include "health-record.h"
#include "macro.h"
#include "test.h"

#define S 1000000ull
#define INV_A "0123456789abcdef0123456789abcdef"
#define INV_B "fedcba9876543210fedcba9876543210"

static const ks_health_params params = {
        .failure_threshold = 3,
        .flap_low = KS_FLAP_LOW_THRESHOLD_DEFAULT,
        .flap_high = KS_FLAP_HIGH_THRESHOLD_DEFAULT,
        .score_half_life_usec = KS_SCORE_HALF_LIFE_USEC_DEFAULT,
};

static uint64_t now = 1700000000 * S;

static ks_health_record new_record(void) {
        ks_health_record rec;

        ASSERT_OK(ks_health_record_init(&rec, 2, &params, now));
        return rec;
}

static unsigned pass(ks_health_record *rec) {
        now += 10 * S;
        return ks_health_record_round(rec, &(ks_round_report) { .passed = true, .reason = "HTTP 200",
                                                                .latency_usec = 1500, .health = KS_HEALTH_HEALTHY,
                                                                .counts = true },
                                      now);
}

static unsigned fail(ks_health_record *rec, unsigned failures, bool triggered) {
        now += 10 * S;
        return ks_health_record_round(rec, &(ks_round_report) { .passed = false, .reason = "HTTP 503",
                                                                .health = KS_HEALTH_UNHEALTHY, .failures = failures,
                                                                .counts = true, .counted_failure = true,
                                                                .triggered = triggered },
                                      now);
}

static unsigned unit(ks_health_record *rec, bool running, const char *state, const char *inv, uint32_t n_restarts) {
        now += S;
        return ks_health_record_unit(rec, running, state, inv, true, n_restarts, now);
}

TEST(new_service) {
        ks_health_record rec = new_record();

        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_UNKNOWN);
        ASSERT_NEAR(ks_health_record_score(&rec), 1.0, 1e-12);
        ASSERT_TRUE(ks_health_record_save_due(&rec));   /* nothing on disk yet */
        ASSERT_EQ(rec.checks[0].result, KS_CHECK_NOT_RUN);
        ASSERT_EQ(rec.last_result, KS_CHECK_NOT_RUN);

        ASSERT_EQ(unit(&rec, true, "activating", INV_A, 0), KS_RECORD_HEALTH);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_STARTING);
        ASSERT_EQ(rec.st->health_since_usec, now);
        ASSERT_EQ(pass(&rec), KS_RECORD_ROUND | KS_RECORD_HEALTH);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_HEALTHY);
        ASSERT_STREQ(rec.last_reason, "HTTP 200");
        ASSERT_EQ(rec.last_latency_usec, 1500);
        /* A pass on a healthy service changes nothing worth a signal. */
        ASSERT_EQ(pass(&rec), KS_RECORD_ROUND);
        ks_health_record_done(&rec);
}

TEST(incident_restarted) {
        ks_health_record rec = new_record();
        uint64_t started;

        unit(&rec, true, "active", INV_A, 0);
        pass(&rec);
        ASSERT_EQ(fail(&rec, 1, false), KS_RECORD_ROUND | KS_RECORD_HEALTH | KS_RECORD_FAILURES | KS_RECORD_INCIDENTS);
        started = now;
        ASSERT_EQ(rec.st->n_incidents, 1);
        ASSERT_STREQ(rec.st->incidents[0].reason, "HTTP 503");
        ASSERT_EQ(rec.st->incidents[0].action, KS_INCIDENT_ACTION_NONE);
        /* Later failures of the same episode open nothing new. */
        ASSERT_EQ(fail(&rec, 2, false), KS_RECORD_ROUND | KS_RECORD_FAILURES);
        ASSERT_EQ(fail(&rec, 3, true) & (KS_RECORD_RESTARTS | KS_RECORD_INCIDENTS), KS_RECORD_RESTARTS | KS_RECORD_INCIDENTS);
        ASSERT_EQ(rec.st->restarts_by_kservice, 1);
        ASSERT_EQ(rec.st->incidents[0].action, KS_INCIDENT_ACTION_RESTART);
        ASSERT_EQ(rec.st->incidents[0].outcome, KS_INCIDENT_ONGOING);

        /* systemd restarts it: auto-restart (not running), NRestarts 1, a new invocation. */
        ASSERT_EQ(unit(&rec, false, "activating", INV_A, 1), KS_RECORD_HEALTH | KS_RECORD_FAILURES | KS_RECORD_RESTARTS);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_UNKNOWN);
        ASSERT_EQ(rec.st->restarts_seen, 1);
        ASSERT_EQ(rec.st->incidents[0].outcome, KS_INCIDENT_ONGOING);
        unit(&rec, true, "activating", INV_B, 1);
        ASSERT_STREQ(rec.st->systemd_invocation_id, INV_B);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_STARTING);
        ASSERT_EQ(pass(&rec) & KS_RECORD_INCIDENTS, KS_RECORD_INCIDENTS);
        ASSERT_EQ(rec.st->incidents[0].outcome, KS_INCIDENT_RESTARTED);
        ASSERT_EQ(rec.st->incidents[0].started_usec, started);
        ASSERT_EQ(rec.st->incidents[0].ended_usec, now);
        ks_health_record_done(&rec);
}

TEST(incident_outcomes) {
        ks_health_record rec = new_record();

        unit(&rec, true, "active", INV_A, 0);
        fail(&rec, 1, false);
        pass(&rec);
        ASSERT_EQ(rec.st->incidents[0].outcome, KS_INCIDENT_RECOVERED);

        /* Final only once settled: systemd passes through inactive and failed on automatic restarts. */
        fail(&rec, 1, false);
        now += 10 * S;
        ASSERT_EQ(unit(&rec, false, "inactive", INV_A, 0) & KS_RECORD_INCIDENTS, 0);
        ASSERT_TRUE(ks_health_record_settle_pending(&rec));
        ASSERT_EQ(ks_health_record_settle(&rec, now), KS_RECORD_INCIDENTS);
        ASSERT_EQ(rec.st->incidents[1].outcome, KS_INCIDENT_STOPPED);

        /* A failure that only raced the stop (the service closed its socket first): dropped, and
         * neither flapping nor the score remember it. */
        unit(&rec, true, "active", INV_A, 0);
        pass(&rec);
        ks_flap flap = rec.flap;
        double score = ks_health_record_score(&rec);
        fail(&rec, 1, false);
        ASSERT_TRUE(ks_health_record_score(&rec) < score);
        ASSERT_EQ(rec.st->n_incidents, 3);
        ASSERT_EQ(unit(&rec, false, "deactivating", INV_A, 0) & KS_RECORD_INCIDENTS, KS_RECORD_INCIDENTS);
        ASSERT_EQ(rec.st->n_incidents, 2);
        ASSERT_NEAR(ks_health_record_score(&rec), score, 0);
        ASSERT_EQ(rec.flap.changes, flap.changes);
        ASSERT_EQ(rec.flap.n_changes, flap.n_changes);
        /* ... also when it starts again at once (systemctl restart). */
        unit(&rec, true, "active", INV_B, 0);
        pass(&rec);
        fail(&rec, 1, false);
        unit(&rec, false, "activating", INV_B, 0);
        unit(&rec, true, "active", INV_A, 0);
        pass(&rec);
        ASSERT_EQ(rec.st->n_incidents, 2);

        unit(&rec, true, "active", INV_B, 0);
        fail(&rec, 3, true);
        /* 252: failed, then auto-restart (activating), then running: the incident goes on. */
        unit(&rec, false, "failed", INV_B, 0);
        ASSERT_TRUE(ks_health_record_settle_pending(&rec));
        unit(&rec, false, "activating", INV_B, 1);
        ASSERT_FALSE(ks_health_record_settle_pending(&rec));
        ASSERT_EQ(ks_health_record_settle(&rec, now), 0);
        ASSERT_EQ(rec.st->incidents[2].outcome, KS_INCIDENT_ONGOING);
        /* A failed that lasts: systemd gave up. */
        unit(&rec, false, "failed", INV_B, 1);
        ASSERT_EQ(ks_health_record_settle(&rec, now), KS_RECORD_INCIDENTS);
        ASSERT_EQ(rec.st->n_incidents, 3);
        ASSERT_EQ(rec.st->incidents[2].action, KS_INCIDENT_ACTION_GAVE_UP);
        ASSERT_EQ(rec.st->incidents[2].outcome, KS_INCIDENT_GAVE_UP);
        /* A stop with nothing open has nothing to settle. */
        unit(&rec, false, "inactive", INV_B, 0);
        ASSERT_FALSE(ks_health_record_settle_pending(&rec));

        /* Bounded: the oldest go first. */
        for (unsigned i = 0; i < KS_SERVICE_STATE_INCIDENTS_MAX + 5; i++) {
                unit(&rec, true, "active", INV_A, 0);
                fail(&rec, 1, false);
                pass(&rec);
        }
        ASSERT_EQ(rec.st->n_incidents, KS_SERVICE_STATE_INCIDENTS_MAX);
        ASSERT_EQ(rec.st->incidents[KS_SERVICE_STATE_INCIDENTS_MAX - 1].outcome, KS_INCIDENT_RECOVERED);
        ks_health_record_done(&rec);
}

TEST(restarts_seen_across_resets) {
        ks_health_record rec = new_record();

        unit(&rec, true, "active", INV_A, 3);
        ASSERT_EQ(rec.st->restarts_seen, 3);
        /* A manual stop and start: NRestarts from 0 again, nothing added; later ones count. */
        unit(&rec, true, "active", INV_B, 0);
        ASSERT_EQ(rec.st->restarts_seen, 3);
        unit(&rec, true, "active", INV_A, 2);
        ASSERT_EQ(rec.st->restarts_seen, 5);
        /* Unloaded while notifyd was away and restarted once since: a lower value counts whole. */
        unit(&rec, true, "active", INV_B, 1);
        ASSERT_EQ(rec.st->restarts_seen, 6);
        /* Unknown NRestarts (not read yet) changes nothing. */
        ASSERT_EQ(ks_health_record_unit(&rec, true, "active", INV_B, false, 0, now) & KS_RECORD_RESTARTS, 0);
        ASSERT_EQ(rec.st->restarts_seen, 6);
        ks_health_record_done(&rec);
}

TEST(flapping_is_health) {
        ks_health_record rec = new_record();
        unsigned round = 0, changes = 0;

        unit(&rec, true, "active", INV_A, 0);
        for (unsigned i = 0; i < 30; i++)
                pass(&rec);
        /* Alternating from a steadily healthy history: flapping at the 4th alternating round (flap.h). */
        while (!rec.flap.flapping && round < 10) {
                round++;
                changes = round % 2 ? fail(&rec, 1, false) : pass(&rec);
        }
        ASSERT_EQ(round, 4);
        ASSERT_TRUE(changes & KS_RECORD_FLAPPING);
        ASSERT_TRUE(rec.st->flapping);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_FLAPPING);
        ASSERT_NEAR(ks_health_record_score(&rec), 0.5 * rec.score.n / rec.score.d, 1e-12);
        /* Between two invocations it is still flapping; stopped, unknown. */
        unit(&rec, false, "activating", INV_A, 0);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_FLAPPING);
        unit(&rec, false, "inactive", INV_A, 0);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_UNKNOWN);
        unit(&rec, true, "active", INV_B, 0);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_FLAPPING);
        /* Still flapping while it fails: the health stays "flapping". */
        ASSERT_EQ(fail(&rec, 1, false) & KS_RECORD_HEALTH, 0);
        /* Settled: the first pass is itself a change; it stops 19 rounds after that one (flap.h). */
        round = 0;
        do {
                round++;
                changes = pass(&rec);
        } while (rec.flap.flapping && round < 40);
        ASSERT_EQ(round, 1 + 19);
        ASSERT_TRUE(changes & KS_RECORD_FLAPPING);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_HEALTHY);
        ks_health_record_done(&rec);
}

TEST(rounds_that_do_not_count) {
        ks_health_record rec = new_record();

        unit(&rec, true, "activating", INV_A, 0);
        for (unsigned i = 0; i < 10; i++) {
                now += S;
                ks_health_record_round(&rec, &(ks_round_report) { .passed = i % 2, .reason = "x",
                                                                  .health = KS_HEALTH_STARTING },
                                       now);
        }
        ASSERT_EQ(rec.flap.n_changes, 0);
        ASSERT_NEAR(ks_health_record_score(&rec), 1.0, 1e-12);
        ASSERT_EQ(rec.st->n_incidents, 0);
        ks_health_record_done(&rec);
}

TEST(save_decisions) {
        ks_health_record rec = new_record();

        unit(&rec, true, "active", INV_A, 0);
        pass(&rec);
        ASSERT_TRUE(ks_health_record_save_due(&rec));
        ks_health_record_saved(&rec);
        /* Steady passes: no state change, the score stays 1: never a write per check. */
        for (unsigned i = 0; i < 1000; i++) {
                pass(&rec);
                ASSERT_FALSE(ks_health_record_save_due(&rec));
        }
        fail(&rec, 1, false);
        ASSERT_TRUE(ks_health_record_save_due(&rec));
        ks_health_record_saved(&rec);
        ks_health_record_done(&rec);

        /* A young service, whose score moves a lot per round: a pass that leaves the state as it is (success_threshold 2: still unhealthy, failures
         * kept) lifts the score: saved once it moved by 0.001. */
        rec = new_record();
        unit(&rec, true, "active", INV_A, 0);
        fail(&rec, 1, false);
        ks_health_record_saved(&rec);
        now += 10 * S;
        ASSERT_EQ(ks_health_record_round(&rec, &(ks_round_report) { .passed = true, .reason = "HTTP 200",
                                                                   .health = KS_HEALTH_UNHEALTHY, .failures = 1,
                                                                   .counts = true },
                                         now),
                  KS_RECORD_ROUND);
        ASSERT_FALSE(rec.dirty);
        ASSERT_TRUE(ks_health_record_score(&rec) - rec.saved_score >= 0.001);
        ASSERT_TRUE(ks_health_record_save_due(&rec));
        ks_health_record_done(&rec);
}

TEST(snapshot_restore) {
        ks_health_record rec = new_record(), back;
        ks_service_state st;
        _cleanup_free_ char *text = NULL;

        unit(&rec, true, "active", INV_A, 2);
        for (unsigned i = 0; i < 5; i++)
                pass(&rec);
        fail(&rec, 1, false);
        fail(&rec, 2, false);
        fail(&rec, 3, true);
        ks_health_record_snapshot(&rec, &st);
        /* What is saved can be written and read. */
        ASSERT_OK(ks_service_state_format(&st, &text, NULL));
        ASSERT_OK(ks_service_state_parse(text, strlen(text), &st, NULL));

        back = new_record();
        ks_health_record_restore(&back, &st, now + S);
        ASSERT_EQ(ks_health_record_health(&back), KS_HEALTH_UNKNOWN);
        ASSERT_EQ(back.st->health_since_usec, now + S);
        ASSERT_EQ(back.st->restarts_by_kservice, 1);
        ASSERT_EQ(back.st->restarts_seen, 2);
        ASSERT_EQ(back.st->n_incidents, 1);
        ASSERT_EQ(back.flap.changes, rec.flap.changes);
        ASSERT_EQ(back.flap.n_changes, rec.flap.n_changes);
        ASSERT_EQ(back.flap.have_last, rec.flap.have_last);
        ASSERT_EQ(back.flap.last_passed, rec.flap.last_passed);
        ASSERT_NEAR(ks_health_record_score(&back), ks_health_record_score(&rec), 1e-15);
        ASSERT_TRUE(ks_health_record_save_due(&back));  /* its health changed to unknown */

        /* A hand-edited flap history or score is started afresh, the rest kept. */
        st.flap_changes = 1u << 19;
        st.flap_n_changes = 3;
        st.score_numerator = 5;
        st.score_denominator = 1;
        ks_health_record_done(&back);
        back = new_record();
        ks_health_record_restore(&back, &st, now);
        ASSERT_EQ(back.flap.n_changes, 0);
        ASSERT_NEAR(ks_health_record_score(&back), 1.0, 1e-12);
        ASSERT_EQ(back.st->restarts_by_kservice, 1);
        ks_health_record_done(&back);
        ks_health_record_done(&rec);
}

TEST(reset_and_pause) {
        ks_health_record rec = new_record();

        unit(&rec, true, "active", INV_A, 4);
        fail(&rec, 3, true);
        ASSERT_EQ(ks_health_record_reset(&rec, now) & (KS_RECORD_INCIDENTS | KS_RECORD_RESTARTS),
                  KS_RECORD_INCIDENTS | KS_RECORD_RESTARTS);
        ASSERT_EQ(rec.st->n_incidents, 0);
        ASSERT_EQ(rec.st->restarts_by_kservice, 0);
        ASSERT_EQ(rec.st->restarts_seen, 0);
        ASSERT_NEAR(ks_health_record_score(&rec), 1.0, 1e-12);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_UNHEALTHY);
        /* NRestarts is still 4: only later restarts count. */
        unit(&rec, true, "active", INV_A, 5);
        ASSERT_EQ(rec.st->restarts_seen, 1);

        ASSERT_EQ(ks_health_record_pause(&rec, now), KS_RECORD_HEALTH);
        ASSERT_EQ(ks_health_record_health(&rec), KS_HEALTH_PAUSED);
        ks_health_record_done(&rec);
}

TEST(bad_params) {
        ks_health_record rec = new_record();
        ks_health_params p = params;

        p.flap_low = 30;
        ASSERT_ERROR(ks_health_record_set_params(&rec, 2, &p), EINVAL);
        p = params;
        p.failure_threshold = 5;
        ASSERT_EQ(ks_health_record_set_params(&rec, 3, &p), KS_RECORD_FAILURES | KS_RECORD_ROUND);
        ASSERT_EQ(rec.n_checks, 3);
        ASSERT_EQ(rec.checks[2].result, KS_CHECK_NOT_RUN);
        ks_health_record_check(&rec, 2, false, "refused", 10, now);
        ks_health_record_check(&rec, 7, false, "ignored", 10, now);
        ASSERT_EQ(rec.checks[2].result, 0);
        ASSERT_STREQ(rec.checks[2].reason, "refused");
        ks_health_record_done(&rec);
}

TEST_MAIN();

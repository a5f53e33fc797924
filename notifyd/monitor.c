/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A monitored service (see monitor.h).
 *
 * Life of an invocation, as notifyd sees it on the bus: the unit becomes activating/active with
 * a MainPID and an InvocationID. A new InvocationID starts a new health history (tracker.h):
 * start period from ExecMainStartTimestampMonotonic, thresholds from zero. Rounds run at the
 * configured interval (more often, at most every second, while the service is not ready yet,
 * so readiness is not delayed by a long interval). After each round the tracker says what to
 * send to the MainPID: READY=1, WATCHDOG=1, WATCHDOG=trigger, and STATUS= when its text changed.
 *
 * A READY=1 can be lost: systemd drops a notification whose sender is not the unit's MainPID at
 * the moment it reads it (ours may carry a MainPID the bus told us about late, or an old one),
 * and under load ours may wait long in the notifier's queue. So while we hold the invocation
 * ready but systemd still says "activating", rounds (at most a second apart) say READY=1 again,
 * 1 s, 2 s, 4 s ... at most 30 s apart (systemd ignores repeats; thousands of services starting
 * at once must not flood it), and so does the greeting of a MainPID that changed.
 *
 * notifyd's own lateness: a check that timed out while notifyd's loop ran late (its timers fired
 * long after their time, or the timeout itself was delivered late) says nothing about the
 * service: the answer may have been waiting unread. Such a result is not counted, so an
 * overloaded machine (thousands of services starting) does not turn into a restart storm.
 *
 * notifyd's own restarts: a service that is already active when we first see it gets WATCHDOG=1
 * at once together with WATCHDOG_USEC= set to its configured WatchdogSec (undoing a relax by a
 * previous clean stop), and its checks are spread over one interval.
 *
 * A changed definition (daemon-reload, SIGHUP): systemd fixes an invocation's watchdog when it
 * starts and keeps it across daemon-reload, but the checks (and so the pings) follow the new
 * interval at once: a raised interval would leave no check within the old watchdog. So an
 * invocation that started before the definition's watchdog changed is told the new one
 * (WATCHDOG_USEC=, which restarts systemd's timer too) as soon as we check it: at once when it
 * runs, at its greeting when it had no MainPID yet. Not once a restart was requested.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "curl-dl.h"
#include "time-util.h"
#include "log.h"
#include "monitor.h"
#include "probe.h"
#include "ratelimit.h"
#include "schedule.h"
#include "status-line.h"
#include "tracker.h"
#include "unit-log.h"

/* A READY=1 systemd has not taken is said again after these gaps, doubling. */
#define READY_REPEAT_MIN_USEC (1000 * 1000ull)
#define READY_REPEAT_MAX_USEC (30 * 1000 * 1000ull)
/* While not ready, rounds run at least this often. */
#define NOT_READY_INTERVAL_MAX_USEC (1000 * 1000ull)
/* How long a unit must stay failed or inactive for that to end an incident: systemd passes
 * through those states on an automatic restart (health-record.h). */
#define SETTLE_USEC (5 * 1000 * 1000ull)
/* What a clean stop of notifyd sets WATCHDOG_USEC= to: "infinity", which turns the service's
 * watchdog off until notifyd restores it (or the service restarts). */
#define RELAXED_WATCHDOG_USEC UINT64_MAX

struct ks_monitor {
        ks_monitor_context *ctx;
        ks_service *svc;
        ks_probe **probes;
        size_t n_probes;
        ks_tracker_params params;
        uint64_t watchdog_usec;         /* the definition's, ks_service_watchdog_usec(svc) */
        ks_ratelimit rl;

        ks_unit_state unit;
        bool unit_watchdog_known;       /* unit.watchdog_usec was read, or set by our WATCHDOG_USEC= */
        sd_id128_t watchdog_stale;      /* invocation started before watchdog_usec changed (see top) */
        uint64_t last_ping;             /* when WATCHDOG=1 last went out for this invocation */
        bool checking;                  /* an invocation is being checked */
        sd_id128_t tracked_invocation;
        uint32_t hello_pid;             /* the MainPID we last greeted for this invocation */
        unsigned hello_actions;
        unsigned ready_repeats;         /* READY=1 said again for this invocation (see top) */
        uint64_t ready_repeat_at, ready_repeat_gap;
        bool uncounted_streak;          /* the last result was a timeout not counted (see top) */
        bool already_ready;
        bool n_restarts_known;          /* unit.n_restarts was read */
        ks_tracker tracker;
        ks_schedule sched;
        bool sched_ready;               /* the schedule's interval is the ready one */
        ks_due due;                     /* the next round, in ctx->due */

        bool round_active;              /* a round is running (it holds a slot) */
        ks_admission_ticket ticket;     /* its slot, or its place among the due rounds waiting */
        size_t round_index;
        uint64_t round_start, round_deadline;

        bool have_result;
        char last_result[200];
        size_t last_probe;              /* index of the check that gave last_result */
        uint64_t last_latency;
        uint64_t status_key;            /* hash of the last STATUS= text without its latency */
        uint64_t rounds;
        uint64_t probe_start;           /* when the check in flight started */

        ks_health_record rec;           /* what the API shows and the state file keeps */
        ks_state_entry state;           /* its place in the state store (the daemon's) */
        sd_event_source *settle;        /* settles an incident's end (health-record.h) */
};

const char *ks_monitor_name(const ks_monitor *m) {
        return m->svc->name;
}

const char *ks_monitor_unit(const ks_monitor *m) {
        return m->svc->unit;
}

bool ks_monitor_is_checking(const ks_monitor *m) {
        return m->checking;
}

bool ks_monitor_is_ready(const ks_monitor *m) {
        return m->checking && m->tracker.ready;
}

uint64_t ks_monitor_rounds(const ks_monitor *m) {
        return m->rounds;
}

const ks_health_record *ks_monitor_record(const ks_monitor *m) {
        return &m->rec;
}

ks_health_record *ks_monitor_record_mut(ks_monitor *m) {
        return &m->rec;
}

ks_state_entry *ks_monitor_state_entry(ks_monitor *m) {
        return &m->state;
}

static void emit_changed(ks_monitor *m, unsigned what) {
        const ks_monitor_events *ev = m->ctx->events;

        if (what && ev && ev->changed)
                ev->changed(m, what, m->ctx->events_userdata);
}

static void emit_round_done(ks_monitor *m, bool passed, const char *reason, uint64_t latency) {
        const ks_monitor_events *ev = m->ctx->events;

        if (ev && ev->round_done)
                ev->round_done(m, passed, reason, latency, m->ctx->events_userdata);
}

/* ---- definition → probes ---- */

static void free_probes(ks_probe **probes, size_t n) {
        for (size_t i = 0; i < n; i++)
                ks_probe_free(probes[i]);
        free(probes);
}

static int make_probes(ks_monitor_context *ctx, const ks_service *svc, ks_probe ***ret, size_t *ret_n) {
        const ks_health *h = &svc->health;
        ks_probe **probes;
        int r;

        probes = calloc(h->n_checks, sizeof(ks_probe *));
        if (!probes)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_checks; i++) {
                ks_probe_options opts = {
                        .timeout_usec = h->timeout_usec,
                        .reuse_connection = ctx->reuse_connections,
                };

                r = ks_probe_new(&h->checks[i], &opts, &probes[i]);
                if (r < 0) {
                        free_probes(probes, i);
                        return r;
                }
        }
        *ret = probes;
        *ret_n = h->n_checks;
        return 0;
}

static ks_health_params health_params_from_service(const ks_service *svc) {
        return (ks_health_params) {
                .failure_threshold = svc->health.failure_threshold,
                .flap_low = svc->health.flap_low_threshold,
                .flap_high = svc->health.flap_high_threshold,
                .score_half_life_usec = svc->health.score_half_life_usec,
        };
}

static ks_tracker_params params_from_service(const ks_service *svc) {
        const ks_health *h = &svc->health;

        return (ks_tracker_params) {
                .interval_usec = h->interval_usec,
                .timeout_usec = h->timeout_usec,
                .start_period_usec = h->start_period_usec,
                .failure_threshold = h->failure_threshold,
                .success_threshold = h->success_threshold,
                .gate_ready = h->ready_on_pass,
                .self_ready = svc->type == KS_SERVICE_NOTIFY,
        };
}

/* ---- notifications and logs ---- */

static void unit_log(ks_monitor *m, int priority, const char *format, ...) _printf_(3, 4);
/* What the check that gave the last result is, for messages ("GET http://...", "tcp host:port"). */
static void describe_last_probe(const ks_monitor *m, char *buf, size_t size) {
        if (m->last_probe < m->n_probes)
                ks_probe_describe(m->probes[m->last_probe], buf, size);
        else
                snprintf(buf, size, "?");
}

static void unit_log(ks_monitor *m, int priority, const char *format, ...) {
        char msg[480], name[300], state[64], result[240], failures[48], threshold[48], latency[64], check[200],
                invocation[64] = "", id[SD_ID128_STRING_MAX], probe[160];
        va_list ap;

        va_start(ap, format);
        vsnprintf(msg, sizeof msg, format, ap);
        va_end(ap);

        snprintf(name, sizeof name, "KSERVICE_NAME=%s", m->svc->name);
        snprintf(state, sizeof state, "KSERVICE_HEALTH=%s", ks_tracker_state_to_string(m->tracker.state));
        snprintf(result, sizeof result, "KSERVICE_RESULT=%s", m->have_result ? m->last_result : "");
        snprintf(failures, sizeof failures, "KSERVICE_FAILURES=%u", m->tracker.failures);
        snprintf(threshold, sizeof threshold, "KSERVICE_FAILURE_THRESHOLD=%u", m->params.failure_threshold);
        snprintf(latency, sizeof latency, "KSERVICE_LATENCY_USEC=%" PRIu64, m->last_latency);
        describe_last_probe(m, probe, sizeof probe);
        snprintf(check, sizeof check, "KSERVICE_CHECK=%s", probe);
        if (!sd_id128_is_null(m->tracked_invocation))
                snprintf(invocation, sizeof invocation, "OBJECT_SYSTEMD_INVOCATION_ID=%s",
                         sd_id128_to_string(m->tracked_invocation, id));
        ks_unit_log(&m->rl, m->svc->unit, priority,
                    (const char *const[]) { name, state, result, failures, threshold, latency, check,
                                            invocation[0] ? invocation : NULL, NULL },
                    "%s", msg);
}

/* The watchdog systemd enforces: the one the generator wrote, or a shorter one from a drop-in.
 * 0 (always ping) while systemd's value has not been read: only then is skipping pings safe. */
static uint64_t effective_watchdog(const ks_monitor *m) {
        uint64_t ours = m->watchdog_usec, theirs = m->unit.watchdog_usec;

        if (!m->unit_watchdog_known)
                return 0;
        /* infinity: relaxed by our own clean stop, and restored to ours by hello(). */
        if (theirs > 0 && theirs != UINT64_MAX && (ours == 0 || theirs < ours))
                return theirs;
        return ours;
}

static bool ping_due(const ks_monitor *m, uint64_t now) {
        uint64_t interval = m->sched.interval_usec;

        return ks_watchdog_ping_due(m->last_ping, now, effective_watchdog(m),
                                    interval + ks_schedule_max_jitter(interval) + ks_schedule_accuracy(interval) +
                                            (m->params.timeout_usec ?: interval));
}

/* We said READY=1 (or would have, for readiness not gated on checks) but systemd has not taken
 * it yet. Not for self_ready services: their program speaks for itself. */
static bool ready_unconfirmed(const ks_monitor *m) {
        return m->checking && m->tracker.ready && !m->params.self_ready && m->tracker.state != KS_TRACKER_FAILED &&
               streq(m->unit.active_state, "activating");
}

/* FNV-1a over what the STATUS= text says but its latency (the inputs of ks_status_line), only to
 * tell whether it changed without formatting it at every check. 0 is "none". */
static uint64_t status_hash(const ks_monitor *m, bool in_start) {
        const unsigned fields[] = { m->tracker.state, m->tracker.failures, m->tracker.params.failure_threshold,
                                    /* only as far as STATUS= shows it: not a new text per pass */
                                    MIN(m->tracker.successes, m->tracker.params.success_threshold),
                                    m->tracker.params.success_threshold,
                                    m->tracker.ready, in_start, m->have_result, m->rec.flap.flapping };
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                h = (h ^ fields[i]) * 0x100000001b3ull;
        if (m->have_result)
                for (const char *t = m->last_result; *t; t++)
                        h = (h ^ (uint8_t) *t) * 0x100000001b3ull;
        return h ?: 1;
}

/* Returns < 0 only when a notification that had to go out could not be sent. */
static int notify(ks_monitor *m, unsigned what, uint64_t watchdog_usec, bool force_status, uint64_t now) {
        char status[KS_STATUS_MAX];
        uint64_t key_hash;
        bool in_start = ks_tracker_in_start_period(&m->tracker, now);
        const char *st = NULL;
        int r;

        /* The STATUS= text without the latency decides whether it changed: it changes with the
         * health state, never for the latency alone (each STATUS= costs PID 1 a PropertiesChanged
         * to every subscriber; the latency of every round is in the API). */
        key_hash = status_hash(m, in_start);
        if (force_status || key_hash != m->status_key) {
                ks_status_line(status, sizeof status, &m->tracker, in_start, m->rec.flap.flapping,
                               m->have_result ? m->last_result : NULL, m->last_latency);
                st = status;
        }
        /* A ping alone only when the watchdog needs it (schedule.h); with anything else it
         * rides along for free. */
        if (what == KS_NOTIFY_WATCHDOG && !st && !ping_due(m, now))
                return 0;
        if (what == 0 && !st)
                return 0;

        r = ks_notifier_send(m->ctx->notifier, (pid_t) m->unit.main_pid, what, watchdog_usec, st);
        if (r < 0) {
                /* The process may have just exited; the bus will tell us about its successor. */
                log_debug_errno(r, "%s: notification to PID %" PRIu32 " failed: %m", m->svc->unit, m->unit.main_pid);
                return r;
        }
        if (st)
                m->status_key = key_hash;
        if (what & KS_NOTIFY_WATCHDOG)
                m->last_ping = now;
        if ((what & KS_NOTIFY_WATCHDOG_USEC) && watchdog_usec > 0 && watchdog_usec != KS_USEC_INFINITY) {
                /* systemd enforces it from now on and restarts its timer with it. */
                m->unit.watchdog_usec = watchdog_usec;
                m->unit_watchdog_known = true;
                m->last_ping = now;
                if (watchdog_usec == m->watchdog_usec && sd_id128_equal(m->watchdog_stale, m->tracked_invocation))
                        m->watchdog_stale = SD_ID128_NULL;
        }
        return 0;
}

/* An invocation that started with an older definition's watchdog gets the current one (see top). */
static void update_invocation_watchdog(ks_monitor *m, uint64_t now) {
        uint64_t wd = m->watchdog_usec;

        if (!m->checking || sd_id128_is_null(m->watchdog_stale) ||
            !sd_id128_equal(m->watchdog_stale, m->tracked_invocation))
                return;
        /* Restart requested: the next invocation starts with the new watchdog anyway. */
        if (m->tracker.state == KS_TRACKER_FAILED)
                return;
        if (wd == 0 || wd == KS_USEC_INFINITY) {
                m->watchdog_stale = SD_ID128_NULL;
                return;
        }
        /* Not sent (the MainPID just exited?): the next greeting or round tries again. */
        if (notify(m, KS_NOTIFY_WATCHDOG_USEC, wd, false, now) < 0)
                return;
        unit_log(m, LOG_INFO, "watchdog of the running invocation set to %" PRIu64 " ms, as the definition has it",
                 wd / 1000);
}

/* ---- rounds ---- */

static void arm(ks_monitor *m, uint64_t now);
static void start_probe(ks_monitor *m, uint64_t now);

static void start_round(ks_monitor *m, uint64_t now);

/* Every end of a round goes through here: its slot goes to a waiting round, from the loop. */
static void end_round(ks_monitor *m) {
        if (!m->round_active)
                return;
        m->round_active = false;
        ks_admission_leave(m->ctx->admission, &m->ticket);
}

static void cancel_round(ks_monitor *m) {
        if (m->round_active && m->round_index < m->n_probes)
                ks_probe_cancel(m->probes[m->round_index]);
        end_round(m);
        /* Not due any more: out of the queue too. */
        ks_admission_leave(m->ctx->admission, &m->ticket);
}

static ks_health_state health_of(const ks_tracker *t) {
        switch (t->state) {
        case KS_TRACKER_HEALTHY:
                return KS_HEALTH_HEALTHY;
        case KS_TRACKER_UNHEALTHY:
        case KS_TRACKER_FAILED:
                return KS_HEALTH_UNHEALTHY;
        default:
                return KS_HEALTH_STARTING;
        }
}

/* The round in the health record (flapping, score, incidents), and what changed to the owner. */
static void record_round(ks_monitor *m, bool passed, const char *reason, uint64_t latency, unsigned a,
                         bool was_ready) {
        bool was_flapping = m->rec.flap.flapping;
        unsigned changes;

        changes = ks_health_record_round(&m->rec,
                                         &(ks_round_report) {
                                                 .passed = passed,
                                                 .reason = reason,
                                                 .latency_usec = latency,
                                                 .health = health_of(&m->tracker),
                                                 .failures = m->tracker.failures,
                                                 /* A service not ready yet is starting, not
                                                  * unhealthy: its failures (its first check may
                                                  * come before it listens) open no incident. */
                                                 .counts = was_ready,
                                                 .counted_failure = was_ready && (a & KS_TRACKER_COUNTED_FAILURE),
                                                 .triggered = a & KS_TRACKER_SEND_TRIGGER,
                                         },
                                         ks_now_realtime_usec());
        if (m->rec.flap.flapping && !was_flapping)
                unit_log(m, LOG_WARNING, "flapping: %.1f%% state change over the last 21 results (starts at %g%%)",
                         ks_flap_percent(&m->rec.flap), m->rec.flap.high);
        else if (!m->rec.flap.flapping && was_flapping)
                unit_log(m, LOG_NOTICE, "no longer flapping: %.1f%% state change over the last 21 results (stops at %g%%)",
                         ks_flap_percent(&m->rec.flap), m->rec.flap.low);
        emit_changed(m, changes);
}

static void finish_round(ks_monitor *m, bool passed, const char *reason, uint64_t latency, uint64_t now) {
        bool was_ready = m->tracker.ready;
        ks_tracker_state before = m->tracker.state;
        unsigned a, what = 0;
        char probe[160];

        end_round(m);
        m->rounds++;
        m->have_result = true;
        snprintf(m->last_result, sizeof m->last_result, "%s", reason);
        m->last_latency = latency;

        a = ks_tracker_record(&m->tracker, passed, now);
        /* Before the notification, so that STATUS= already says "flapping". */
        record_round(m, passed, reason, latency, a, was_ready);

        if (a & KS_TRACKER_SEND_READY)
                what |= KS_NOTIFY_READY;
        if (a & KS_TRACKER_SEND_TRIGGER)
                what |= KS_NOTIFY_TRIGGER;
        else if (a & KS_TRACKER_SEND_WATCHDOG)
                what |= KS_NOTIFY_WATCHDOG;
        else if (m->tracker.state == KS_TRACKER_FAILED)
                /* Still the same invocation after our trigger: say it again (idempotent). */
                what |= KS_NOTIFY_TRIGGER;
        if (!(what & (KS_NOTIFY_READY | KS_NOTIFY_TRIGGER)) && ready_unconfirmed(m) && now >= m->ready_repeat_at) {
                what |= KS_NOTIFY_READY;
                if (m->ready_repeats++ == 0)
                        unit_log(m, LOG_NOTICE, "systemd still reports the service as activating after READY=1; "
                                 "saying READY=1 again until it is active");
        }
        if (what & KS_NOTIFY_READY) {
                /* The next repeat, if systemd still has not taken it: 1 s, 2 s, 4 s ... 30 s. */
                m->ready_repeat_gap = m->ready_repeat_gap ? MIN(m->ready_repeat_gap * 2, READY_REPEAT_MAX_USEC)
                                                          : READY_REPEAT_MIN_USEC;
                m->ready_repeat_at = now + m->ready_repeat_gap;
        }
        notify(m, what, 0, a & (KS_TRACKER_STATE_CHANGED | KS_TRACKER_SEND_READY), now);
        update_invocation_watchdog(m, now);

        if ((a & KS_TRACKER_SEND_READY) && m->params.success_threshold > 1)
                unit_log(m, LOG_INFO, "ready: health check passed %u times in a row (%s in %" PRIu64 " ms)",
                         m->params.success_threshold, reason, (latency + 999) / 1000);
        else if (a & KS_TRACKER_SEND_READY)
                unit_log(m, LOG_INFO, "ready: health check passed (%s in %" PRIu64 " ms)", reason,
                         (latency + 999) / 1000);
        else if (passed && before == KS_TRACKER_UNHEALTHY && m->tracker.state == KS_TRACKER_HEALTHY)
                unit_log(m, LOG_NOTICE, "healthy again: %s", reason);
        else if (passed && m->tracker.state == KS_TRACKER_UNHEALTHY)
                /* success_threshold > 1: why the next failure still counts on. */
                unit_log(m, LOG_INFO,
                         "health check passed: %s (%u/%u in a row to be healthy again; failures stay at %u/%u)",
                         reason, m->tracker.successes, m->params.success_threshold, m->tracker.failures,
                         m->params.failure_threshold);
        else if (passed && m->tracker.state == KS_TRACKER_STARTING && !m->tracker.ready &&
                 !m->params.self_ready)
                unit_log(m, LOG_INFO, "health check passed: %s (%u/%u in a row to be ready)", reason,
                         m->tracker.successes, m->params.success_threshold);

        if (!passed)
                describe_last_probe(m, probe, sizeof probe);
        if (!passed && (a & KS_TRACKER_COUNTED_FAILURE)) {
                if (was_ready)
                        unit_log(m, LOG_WARNING, "health check failed: %s from %s (%u/%u)", reason, probe,
                                 m->tracker.failures, m->params.failure_threshold);
                else
                        unit_log(m, LOG_NOTICE, "health check failed: %s from %s (not ready yet, %u failed)", reason,
                                 probe, m->tracker.failures);
        } else if (!passed && before != KS_TRACKER_FAILED)
                unit_log(m, LOG_INFO, "health check failed during start period: %s from %s", reason, probe);

        if ((a & KS_TRACKER_SEND_TRIGGER) && m->params.success_threshold > 1)
                /* Passes may have come between them, fewer than success_threshold in a row. */
                unit_log(m, LOG_ERR, "restarting: %u failures without %u passes in a row (last: %s)",
                         m->tracker.failures, m->params.success_threshold, reason);
        else if (a & KS_TRACKER_SEND_TRIGGER)
                unit_log(m, LOG_ERR, "restarting: %u consecutive failures (last: %s)", m->tracker.failures, reason);

        if (m->checking)
                arm(m, now);
        emit_round_done(m, passed, reason, latency);
}

/* A timeout notifyd may have caused itself: its loop ran late by a quarter of the timeout (at
 * least 50 ms), or delivered this timeout that much after it was due. */
static bool timeout_inconclusive(ks_monitor *m, const ks_probe_result *r, uint64_t now) {
        uint64_t timeout = m->params.timeout_usec ?: m->params.interval_usec, slack = MAX(timeout / 4, 50000u);

        if (!r->timed_out)
                return false;
        return ks_lag_meter_get(&m->ctx->lag, now) > slack || now - m->round_start > timeout + slack;
}

/* notifyd's own summary, at most every 10 s while it lasts. */
static void report_uncounted(ks_monitor_context *ctx, uint64_t late, uint64_t now) {
        ctx->uncounted++;
        ctx->uncounted_worst = MAX(ctx->uncounted_worst, late);
        if (now < ctx->uncounted_report_at)
                return;
        log_notice("%" PRIu64 " timed-out check(s) not counted since the last report: notifyd ran up to %" PRIu64
                   " ms late (the machine or notifyd is overloaded).", ctx->uncounted - ctx->uncounted_reported,
                   ctx->uncounted_worst / 1000);
        ctx->uncounted_reported = ctx->uncounted;
        ctx->uncounted_worst = 0;
        ctx->uncounted_report_at = now + 10 * 1000000ull;
}

static void on_probe_done(ks_probe *p, const ks_probe_result *r, void *userdata) {
        ks_monitor *m = userdata;
        uint64_t now = ks_now_usec();

        if (timeout_inconclusive(m, r, now)) {
                uint64_t timeout = m->params.timeout_usec ?: m->params.interval_usec, elapsed = now - m->round_start;
                uint64_t late = MAX(ks_lag_meter_get(&m->ctx->lag, now), elapsed > timeout ? elapsed - timeout : 0);

                end_round(m);
                report_uncounted(m->ctx, late, now);
                /* Once per episode in the service's own log; overloaded, thousands of services
                 * would otherwise add a line each per check. */
                if (!m->uncounted_streak)
                        unit_log(m, LOG_NOTICE, "health check not counted: %s while notifyd ran %" PRIu64 " ms late "
                                 "(the machine or notifyd is overloaded)", r->reason, late / 1000);
                m->uncounted_streak = true;
                if (m->checking)
                        arm(m, now);
                return;
        }
        m->uncounted_streak = false;

        m->last_probe = m->round_index;
        ks_health_record_check(&m->rec, m->round_index, r->passed, r->reason, now - m->probe_start,
                               ks_now_realtime_usec());
        if (r->passed && m->round_index + 1 < m->n_probes) {
                m->round_index++;
                start_probe(m, now);
                return;
        }
        finish_round(m, r->passed, r->reason, now - m->round_start, now);
}

static void start_probe(ks_monitor *m, uint64_t now) {
        uint64_t left = m->round_deadline > now ? m->round_deadline - now : 1000;
        int r;

        m->probe_start = now;
        /* The first check of a round gets the whole timeout (0: the options' own, so its messages
         * name the configured value); later ones what is left of the round's. */
        r = ks_probe_start(m->probes[m->round_index], m->ctx->checks, m->round_index == 0 ? 0 : MAX(left, 1000u),
                           on_probe_done, m);
        if (r < 0) {
                char reason[192];
                /* The check needs libcurl (https, a host name...) and it cannot be loaded: say
                 * which library and why, the fix is to install it. */
                if (r == -EOPNOTSUPP && ks_curl_dl_error())
                        snprintf(reason, sizeof reason, "libcurl not available: %s", ks_curl_dl_error());
                else
                        snprintf(reason, sizeof reason, "could not start the check: %s", strerror(-r));
                finish_round(m, false, reason, 0, now);
        }
}

/* A due round that waited got its slot. */
static void on_admitted(ks_admission_ticket *t, void *userdata) {
        ks_monitor *m = userdata;

        if (!m->checking || m->round_active) {
                ks_admission_leave(m->ctx->admission, t);
                return;
        }
        start_round(m, ks_now_usec());
}

static void on_due(ks_due *d, uint64_t usec, void *userdata) {
        ks_monitor *m = userdata;
        uint64_t now = ks_now_usec();

        /* usec: when it was due; the accuracy window is lateness by design. */
        if (now > usec)
                ks_lag_meter_note(&m->ctx->lag, now - usec - MIN(now - usec, ks_schedule_accuracy(m->sched.interval_usec)),
                                  now);

        if (!m->checking || m->round_active || m->ticket.waiting)
                return;
        ks_schedule_advance(&m->sched, now);
        /* Without a free slot it waits; its timeout starts when it does, not while it waits. */
        if (ks_admission_enter(m->ctx->admission, &m->ticket, on_admitted, m))
                start_round(m, now);
}

static void start_round(ks_monitor *m, uint64_t now) {
        m->round_active = true;
        m->round_index = 0;
        m->round_start = now;
        m->round_deadline = now + (m->params.timeout_usec ?: m->params.interval_usec);
        start_probe(m, now);
}

static uint64_t current_interval(const ks_monitor *m) {
        /* A READY=1 systemd has not taken is said again each round: soon, not an interval later. */
        if (m->tracker.ready && !ready_unconfirmed(m))
                return m->params.interval_usec;
        return MIN(m->params.interval_usec, NOT_READY_INTERVAL_MAX_USEC);
}

static void arm(ks_monitor *m, uint64_t now) {
        int r;

        if (m->sched.interval_usec != current_interval(m))
                ks_schedule_set_interval(&m->sched, current_interval(m), now);
        r = ks_due_set_schedule(m->ctx->due, &m->due, ks_schedule_when(&m->sched, now),
                                ks_schedule_accuracy(m->sched.interval_usec), on_due, m);
        if (r < 0)
                log_error_errno(r, "%s: cannot arm the check timer: %m", m->svc->unit);
}

/* ---- the unit's state ---- */

static bool unit_running(const ks_unit_state *u) {
        return u->main_pid > 0 &&
               (streq(u->active_state, "active") || streq(u->active_state, "activating") ||
                streq(u->active_state, "reloading"));
}

static void stop_checks(ks_monitor *m) {
        if (!m->checking)
                return;
        cancel_round(m);
        ks_due_set_cancel(m->ctx->due, &m->due);
        m->checking = false;
        log_debug("%s: checks stopped (%s/%s)", m->svc->unit, m->unit.active_state, m->unit.sub_state);
        /* Nothing to wait for any more (CheckNow). */
        emit_round_done(m, false, NULL, 0);
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata) {
        ks_monitor *m = userdata;

        emit_changed(m, ks_health_record_settle(&m->rec, ks_now_realtime_usec()));
        return 0;
}

static void record_unit(ks_monitor *m, unsigned mask) {
        char id[SD_ID128_STRING_MAX] = "";
        int r;

        if (!sd_id128_is_null(m->unit.invocation_id))
                sd_id128_to_string(m->unit.invocation_id, id);
        emit_changed(m, ks_health_record_unit(&m->rec, unit_running(&m->unit), m->unit.active_state, id,
                                              m->n_restarts_known, m->unit.n_restarts, ks_now_realtime_usec()));
        if (!ks_health_record_settle_pending(&m->rec))
                return;
        if (m->settle)
                r = sd_event_source_set_time_relative(m->settle, SETTLE_USEC) < 0 ? -1 :
                    sd_event_source_set_enabled(m->settle, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_time_relative(m->ctx->event, &m->settle, CLOCK_MONOTONIC, SETTLE_USEC, 100 * 1000,
                                               on_settle, m);
        if (r < 0)
                /* Settled now rather than never. */
                emit_changed(m, ks_health_record_settle(&m->rec, ks_now_realtime_usec()));
}

static void hello(ks_monitor *m) {
        unsigned what = 0;
        uint64_t wd = 0;

        m->hello_pid = m->unit.main_pid;
        /* Ready not gated on checks, or ready already while the first greeting went to an old
         * MainPID (see update_unit): the new MainPID says it. */
        if (ready_unconfirmed(m))
                what |= KS_NOTIFY_READY;
        if (m->already_ready) {
                /* notifyd (re)started while the service ran: feed it at once, and undo a relax. */
                what |= KS_NOTIFY_WATCHDOG;
                wd = m->watchdog_usec;
                if (wd > 0 && wd != KS_USEC_INFINITY)
                        what |= KS_NOTIFY_WATCHDOG_USEC;
        }
        notify(m, what, wd, true, ks_now_usec());
        if (m->hello_actions & KS_TRACKER_SEND_READY)
                unit_log(m, LOG_INFO, "ready: readiness not gated on health checks");
        m->hello_actions = 0;
        /* Checked only now: it started before the definition changed. */
        update_invocation_watchdog(m, ks_now_usec());
}

static void begin_invocation(ks_monitor *m, bool first_seen) {
        uint64_t now = ks_now_usec(), start = m->unit.main_start_usec;

        cancel_round(m);
        if (start == 0 || start > now)
                start = now;
        m->already_ready = streq(m->unit.active_state, "active") || streq(m->unit.active_state, "reloading");
        m->hello_actions = ks_tracker_begin(&m->tracker, &m->params, start, m->already_ready);
        m->tracked_invocation = m->unit.invocation_id;
        m->have_result = false;
        m->status_key = 0;
        m->last_ping = 0;
        m->ready_repeats = 0;
        m->ready_repeat_at = 0;
        m->ready_repeat_gap = 0;
        m->checking = true;
        /* Found starting when notifyd (re)started: the invocation's watchdog is the one of the
         * definition it started with, which may have changed while notifyd was away. A running
         * one gets the definition's in hello(). */
        if (first_seen && !m->already_ready && m->unit_watchdog_known && m->watchdog_usec > 0 &&
            m->unit.watchdog_usec != m->watchdog_usec)
                m->watchdog_stale = m->unit.invocation_id;

        /* A service found running when notifyd starts is checked at a random point of its
         * interval, so a restart of notifyd does not fire thousands of checks at once; a freshly
         * started one right away, for prompt readiness. */
        ks_schedule_init(&m->sched, current_interval(m), now, first_seen && m->already_ready ? current_interval(m) : 0,
                         0);
        arm(m, now);

        hello(m);
}

bool ks_monitor_update_unit(ks_monitor *m, const ks_unit_state *st, unsigned mask) {
        bool first_seen = m->unit.active_state[0] == 0, new_invocation = false;

        if (mask & KS_UNIT_ACTIVE_STATE)
                snprintf(m->unit.active_state, sizeof m->unit.active_state, "%s", st->active_state);
        if (mask & KS_UNIT_SUB_STATE)
                snprintf(m->unit.sub_state, sizeof m->unit.sub_state, "%s", st->sub_state);
        if (mask & KS_UNIT_MAIN_PID)
                m->unit.main_pid = st->main_pid;
        if ((mask & KS_UNIT_INVOCATION_ID) && !sd_id128_equal(m->unit.invocation_id, st->invocation_id)) {
                new_invocation = !sd_id128_is_null(st->invocation_id);
                m->unit.invocation_id = st->invocation_id;
                /* systemd fixes each invocation's watchdog when it starts; until the watcher has
                 * read this one's (it does on every new InvocationID), ping at every check. */
                m->unit_watchdog_known = false;
        }
        if (mask & KS_UNIT_MAIN_START)
                m->unit.main_start_usec = st->main_start_usec;
        if (mask & KS_UNIT_WATCHDOG_USEC) {
                m->unit.watchdog_usec = st->watchdog_usec;
                m->unit_watchdog_known = true;
        }
        if (mask & KS_UNIT_N_RESTARTS) {
                m->unit.n_restarts = st->n_restarts;
                m->n_restarts_known = true;
        }
        /* Before acting: a new invocation is "starting" before its greeting and first round. */
        if (m->unit.active_state[0])
                record_unit(m, mask);

        if (!unit_running(&m->unit)) {
                stop_checks(m);
                return new_invocation;
        }
        if (!m->checking || !sd_id128_equal(m->unit.invocation_id, m->tracked_invocation)) {
                begin_invocation(m, first_seen);
                return new_invocation;
        }
        /* systemd sends the Unit and the Service properties in two signals, so a new InvocationID
         * can come with the old MainPID for a moment: greet again when the MainPID changes. */
        if (m->unit.main_pid != m->hello_pid)
                hello(m);
        /* activating → active: our READY=1 (or the service's own) went through. */
        if (!m->tracker.ready && streq(m->unit.active_state, "active"))
                ks_tracker_mark_ready(&m->tracker);
        return new_invocation;
}

void ks_monitor_relax(ks_monitor *m) {
        char status[] = "health checks paused: kservice-notifyd stopped";

        emit_changed(m, ks_health_record_pause(&m->rec, ks_now_realtime_usec()));
        if (!m->checking || !m->tracker.ready)
                return;
        cancel_round(m);
        (void) ks_notifier_send(m->ctx->notifier, (pid_t) m->unit.main_pid, KS_NOTIFY_WATCHDOG_USEC | KS_NOTIFY_WATCHDOG,
                                RELAXED_WATCHDOG_USEC, status);
        unit_log(m, LOG_NOTICE, "health checks paused: kservice-notifyd is stopping; watchdog relaxed until it returns");
}

void ks_monitor_release(ks_monitor *m) {
        char status[] = "no health checks any more";

        if (!m->checking || m->unit.main_pid == 0)
                return;
        cancel_round(m);
        /* systemd keeps the invocation's watchdog across daemon-reload, and nobody feeds it now. */
        (void) ks_notifier_send(m->ctx->notifier, (pid_t) m->unit.main_pid, KS_NOTIFY_WATCHDOG_USEC | KS_NOTIFY_WATCHDOG,
                                RELAXED_WATCHDOG_USEC, status);
        unit_log(m, LOG_NOTICE, "health checks removed from the definition: watchdog of the running invocation turned off");
}

/* ---- construction ---- */

int ks_monitor_new(ks_monitor_context *ctx, ks_service *svc, ks_monitor **ret) {
        _cleanup_(ks_monitor_freep) ks_monitor *m = NULL;
        int r;

        if (!ks_service_has_health(svc))
                return -EINVAL;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->ctx = ctx;
        r = make_probes(ctx, svc, &m->probes, &m->n_probes);
        if (r < 0)
                return r;
        m->params = params_from_service(svc);
        m->watchdog_usec = ks_service_watchdog_usec(svc);
        ks_health_params hp = health_params_from_service(svc);
        r = ks_health_record_init(&m->rec, m->n_probes, &hp, ks_now_realtime_usec());
        if (r < 0) {
                free_probes(m->probes, m->n_probes);
                m->probes = NULL;
                m->n_probes = 0;
                return r;
        }
        ks_ratelimit_init(&m->rl, 30 * 1000000ull, 20);
        m->due = (ks_due) KS_DUE_INIT;
        m->svc = svc;
        *ret = TAKE_PTR(m);
        return 0;
}

ks_monitor *ks_monitor_free(ks_monitor *m) {
        if (!m)
                return NULL;
        cancel_round(m);
        ks_due_set_cancel(m->ctx->due, &m->due);
        free_probes(m->probes, m->n_probes);
        sd_event_source_disable_unref(m->settle);
        ks_health_record_done(&m->rec);
        ks_service_free(m->svc);
        return mfree(m);
}

int ks_monitor_reconfigure(ks_monitor *m, ks_service *svc) {
        ks_probe **probes;
        uint64_t old_watchdog = m->watchdog_usec;
        size_t n;
        int r;

        if (ks_health_equal(&m->svc->health, &svc->health)) {
                /* Other keys may have changed (the watchdog we restore comes from them). */
                ks_service_free(m->svc);
                m->svc = svc;
                return 0;
        }

        r = make_probes(m->ctx, svc, &probes, &n);
        if (r < 0)
                return r;
        ks_health_params hp = health_params_from_service(svc);
        r = ks_health_record_set_params(&m->rec, n, &hp);
        if (r < 0) {
                free_probes(probes, n);
                return r;
        }
        emit_changed(m, (unsigned) r);
        cancel_round(m);
        free_probes(m->probes, m->n_probes);
        m->probes = probes;
        m->n_probes = n;
        ks_service_free(m->svc);
        m->svc = svc;
        m->params = params_from_service(svc);
        m->watchdog_usec = ks_service_watchdog_usec(svc);
        ks_tracker_update_params(&m->tracker, &m->params);
        unit_log(m, LOG_INFO, "health checks reconfigured: %zu check(s) every %" PRIu64 " ms, timeout %" PRIu64
                 " ms, failure threshold %u, watchdog %" PRIu64 " ms", n, m->params.interval_usec / 1000,
                 m->params.timeout_usec / 1000, m->params.failure_threshold, m->watchdog_usec / 1000);
        /* The current invocation (running, or started and waiting for its MainPID) keeps the
         * watchdog systemd fixed at its start. */
        if (m->watchdog_usec != old_watchdog && !sd_id128_is_null(m->unit.invocation_id))
                m->watchdog_stale = m->unit.invocation_id;
        if (m->checking) {
                uint64_t now = ks_now_usec();

                update_invocation_watchdog(m, now);
                arm(m, now);
        }
        return 1;
}

void ks_monitor_describe_check(const ks_monitor *m, size_t i, char *buf, size_t size) {
        if (i < m->n_probes)
                ks_probe_describe(m->probes[i], buf, size);
        else
                snprintf(buf, size, "?");
}

int ks_monitor_check_now(ks_monitor *m) {
        uint64_t now = ks_now_usec();

        if (!m->checking)
                return -ESRCH;
        /* One in flight or waiting for a slot: its end answers. */
        if (m->round_active || m->ticket.waiting)
                return 0;
        if (ks_admission_enter(m->ctx->admission, &m->ticket, on_admitted, m))
                start_round(m, now);
        return 0;
}

void ks_monitor_reset_history(ks_monitor *m) {
        emit_changed(m, ks_health_record_reset(&m->rec, ks_now_realtime_usec()));
        unit_log(m, LOG_NOTICE, "history reset: incidents, restart counters, flap history and score cleared");
}

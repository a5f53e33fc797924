/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl's output, golden: services in each state (healthy, unhealthy, flapping, health
 * unknown with notifyd absent, a broken definition, not running, no health checks, masked),
 * built by hand as view-bus.c would fill them, printed by every command in short (text, with
 * and without colour) and JSON form and compared with tests/ctl/golden/COMMAND-CASE.{txt,json}.
 * The JSON golden files are -o json-pretty; -o json must be the same document without the layout.
 * test-ctl-schema.py validates every golden .json against ctl/kservicectl.schema.json.
 *
 * KS_CTL_GOLDEN=DIR names the golden directory; KS_CTL_GOLDEN_UPDATE=1 rewrites the files
 * instead of comparing (then review the diff).
 */
#include <time.h>

#include "format.h"
#include "service.h"
#include "test.h"

#define SEC KS_USEC_PER_SEC
#define NOW (UINT64_C(1796119200) * SEC) /* Tue 2026-12-01 10:00:00 UTC */
#define MINUTE (60 * SEC)

static char *xstrdup(const char *s) {
        char *t = strdup(s);
        ASSERT_NOT_NULL(t);
        return t;
}

static ks_service_view *view(const char *name) {
        ks_service_view *v = calloc(1, sizeof(*v));
        ASSERT_NOT_NULL(v);
        v->name = xstrdup(name);
        ASSERT_TRUE(asprintf(&v->unit, "konivrer@%s.service", name) > 0);
        ASSERT_TRUE(asprintf(&v->definition_path, "/etc/kservice/%s.toml", name) > 0);
        v->has_checks = true;
        v->max_restarts = 5;
        v->restart_window_usec = 10 * MINUTE;
        v->restart_policy = KS_RESTART_ON_FAILURE;
        v->health_source = KS_HEALTH_SOURCE_NOTIFYD;
        return v;
}

static void set_unit(ks_service_view *v, const char *active, const char *sub, const char *result, uint32_t pid,
                     uint32_t n_restarts, uint64_t since) {
        v->unit_read = true;
        v->u.load_state = xstrdup("loaded");
        v->u.active_state = xstrdup(active);
        v->u.sub_state = xstrdup(sub);
        v->u.result = xstrdup(result);
        ASSERT_TRUE(asprintf(&v->u.fragment_path, "/run/systemd/generator/%s", v->unit) > 0);
        v->u.main_pid = pid;
        v->u.n_restarts = n_restarts;
        v->u.state_change_usec = since;
}

static void set_health(ks_service_view *v, const char *health, uint64_t since, double score, uint32_t failures) {
        ks_health_info *h = &v->h;
        h->health = xstrdup(health);
        h->health_since_usec = since;
        h->score = score;
        h->consecutive_failures = failures;
        h->failure_threshold = 3;
        h->last_result = xstrdup("");
        h->last_reason = xstrdup("");
}

static void set_round(ks_service_view *v, const char *result, const char *reason, uint64_t latency, uint64_t at) {
        free(v->h.last_result);
        free(v->h.last_reason);
        v->h.last_result = xstrdup(result);
        v->h.last_reason = xstrdup(reason);
        v->h.last_latency_usec = latency;
        v->h.last_round_usec = at;
}

static void add_check(ks_service_view *v, const char *desc, int result, const char *reason, uint64_t latency,
                      uint64_t at) {
        ks_health_info *h = &v->h;
        h->checks = realloc(h->checks, (h->n_checks + 1) * sizeof(*h->checks));
        ASSERT_NOT_NULL(h->checks);
        h->checks[h->n_checks++] = (ks_check_info) { xstrdup(desc), result, xstrdup(reason), latency, at };
}

static void add_incident(ks_service_view *v, uint64_t started, uint64_t ended, const char *action,
                         const char *outcome, const char *reason) {
        ks_health_info *h = &v->h;
        h->incidents = realloc(h->incidents, (h->n_incidents + 1) * sizeof(*h->incidents));
        ASSERT_NOT_NULL(h->incidents);
        h->incidents[h->n_incidents++] =
                (ks_incident_info) { started, ended, xstrdup(action), xstrdup(outcome), xstrdup(reason) };
}

/* The cases, by name. */
static ks_service_view *make(const char *c) {
        ks_service_view *v;

        if (streq(c, "healthy")) {
                v = view("web");
                set_unit(v, "active", "running", "success", 1234, 1, NOW - 65 * MINUTE);
                set_health(v, "healthy", NOW - 60 * MINUTE, 0.9812, 0);
                set_round(v, "passed", "HTTP 200", 1234, NOW - 12 * SEC);
                add_check(v, "GET http://127.0.0.1:8080/healthz", 1, "HTTP 200", 1234, NOW - 12 * SEC);
                add_check(v, "tcp 127.0.0.1:5432", 1, "connected", 310, NOW - 12 * SEC);
                v->h.restarts_by_kservice = 1;
                v->h.restarts_seen = 2;
                v->h.flap_percent = 4.5;
                add_incident(v, NOW - 70 * MINUTE, NOW - 65 * MINUTE - 30 * SEC, "restart", "restarted",
                             "HTTP 500 (expected 2xx)");
        } else if (streq(c, "unhealthy")) {
                v = view("api");
                set_unit(v, "active", "running", "success", 2345, 0, NOW - 3 * 3600 * SEC);
                set_health(v, "unhealthy", NOW - 20 * SEC, 0.61, 2);
                set_round(v, "failed", "connection refused", 150, NOW - 5 * SEC);
                add_check(v, "GET http://127.0.0.1:9090/health", 0, "connection refused", 150, NOW - 5 * SEC);
                add_incident(v, NOW - 20 * SEC, 0, "none", "ongoing", "connection refused");
        } else if (streq(c, "flapping")) {
                v = view("queue");
                set_unit(v, "active", "running", "success", 3456, 4, NOW - 2 * MINUTE);
                set_health(v, "flapping", NOW - 9 * MINUTE, 0.2345, 0);
                set_round(v, "passed", "HTTP 204", 2500, NOW - 2 * SEC);
                add_check(v, "GET http://127.0.0.1:7070/ok", 1, "HTTP 204", 2500, NOW - 2 * SEC);
                v->h.flapping = true;
                v->h.flap_percent = 47.5;
                v->h.restarts_by_kservice = 4;
                v->h.restarts_seen = 4;
                add_incident(v, NOW - 30 * MINUTE, NOW - 29 * MINUTE, "restart", "restarted", "HTTP 503 (expected 2xx)");
                add_incident(v, NOW - 20 * MINUTE, NOW - 19 * MINUTE, "restart", "restarted", "timeout after 2s");
                add_incident(v, NOW - 10 * MINUTE, NOW - 9 * MINUTE, "restart", "restarted", "HTTP 503 (expected 2xx)");
        } else if (streq(c, "notifyd-absent")) {
                v = view("cache");
                set_unit(v, "active", "running", "success", 4567, 0, NOW - 5 * MINUTE);
                v->health_source = KS_HEALTH_SOURCE_NOT_RUNNING;
        } else if (streq(c, "broken")) {
                v = view("broken");
                v->has_checks = false;
                v->restart_policy = -1;
                v->max_restarts = KS_RESTARTS_INFINITY;
                v->definition_error = xstrdup("/etc/kservice/broken.toml:2:1: unknown key \"restrat\" (did you mean \"restart\"?)");
                v->health_source = KS_HEALTH_SOURCE_INVALID;
                set_unit(v, "failed", "failed", "exit-code", 0, 0, NOW - 40 * SEC);
                free(v->u.fragment_path);
                v->u.fragment_path = xstrdup("/usr/lib/systemd/system/konivrer@.service");
        } else if (streq(c, "not-running")) {
                v = view("batch");
                v->max_restarts = 3;
                v->restart_window_usec = MINUTE;
                set_unit(v, "failed", "failed", "exit-code", 0, 4, NOW - 3 * MINUTE);
                set_health(v, "unknown", NOW - 3 * MINUTE, 0.05, 3);
                set_round(v, "failed", "HTTP 500 (expected 2xx)", 800, NOW - 3 * MINUTE - 5 * SEC);
                add_check(v, "GET http://127.0.0.1:6060/health", 0, "HTTP 500 (expected 2xx)", 800, NOW - 3 * MINUTE - 5 * SEC);
                v->h.restarts_by_kservice = 3;
                v->h.restarts_seen = 3;
                add_incident(v, NOW - 4 * MINUTE, NOW - 3 * MINUTE, "gave-up", "gave-up", "HTTP 500 (expected 2xx)");
        } else if (streq(c, "no-checks")) {
                v = view("plain");
                v->has_checks = false;
                v->health_source = KS_HEALTH_SOURCE_NO_CHECKS;
                set_unit(v, "inactive", "dead", "success", 0, 0, NOW - 2 * 86400 * SEC);
        } else if (streq(c, "masked")) {
                v = view("off");
                v->masked = true;
                v->has_checks = false;
                v->health_source = KS_HEALTH_SOURCE_NO_CHECKS;
        } else
                abort();
        return v;
}

static const char *const all_cases[] = { "healthy", "unhealthy", "flapping", "notifyd-absent", "broken",
                                          "not-running", "no-checks", "masked" };

/* Compares text with DIR/file (or writes it there with KS_CTL_GOLDEN_UPDATE=1). */
static void golden(const char *file, const char *text) {
        const char *dir = getenv("KS_CTL_GOLDEN");
        char path[512];

        ASSERT_NOT_NULL(dir);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (getenv("KS_CTL_GOLDEN_UPDATE")) {
                FILE *f = fopen(path, "we");
                ASSERT_NOT_NULL(f);
                fputs(text, f);
                ASSERT_EQ(fclose(f), 0);
                return;
        }
        FILE *f = fopen(path, "re");
        if (!f) {
                TEST_FAILED("%s: missing (KS_CTL_GOLDEN_UPDATE=1 writes it); output:\n%s", path, text);
                return;
        }
        char *want = NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&want, &cap, 0, f);
        fclose(f);
        if (n < 0 || !streq(want, text))
                TEST_FAILED("%s differs; got:\n%s", path, text);
        free(want);
}

/* The JSON text without the whitespace between tokens. */
static char *minify(const char *s) {
        char *out = malloc(strlen(s) + 2), *o = out;
        bool in_string = false;
        ASSERT_NOT_NULL(out);
        for (; *s; s++) {
                if (in_string) {
                        *o++ = *s;
                        if (*s == '\\' && s[1])
                                *o++ = *++s;
                        else if (*s == '"')
                                in_string = false;
                } else if (*s == '"') {
                        in_string = true;
                        *o++ = *s;
                } else if (*s != ' ' && *s != '\n')
                        *o++ = *s;
        }
        *o++ = '\n';
        *o = 0;
        return out;
}

static void text_golden(const char *file, const ks_ctl_output *o, const ks_format_context *ctx) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        ASSERT_NOT_NULL(f);
        ASSERT_OK(ks_format_text(f, o, ctx));
        ASSERT_EQ(fclose(f), 0);
        golden(file, text);
        free(text);
}

/* One command on the services: BASE.txt (plain), BASE.color.txt when asked, BASE.json. */
static void run(const char *base, ks_ctl_output *o, bool with_color) {
        ks_format_context ctx = { .now_usec = NOW };
        char file[256];

        ks_ctl_output_add_notes(o);
        snprintf(file, sizeof file, "%s.txt", base);
        text_golden(file, o, &ctx);
        if (with_color) {
                ctx.color = true;
                snprintf(file, sizeof file, "%s.color.txt", base);
                text_golden(file, o, &ctx);
        }

        _cleanup_free_ char *pretty = NULL, *compact = NULL, *min = NULL;
        ASSERT_OK(ks_format_json(o, KS_JSON_PRETTY, &pretty));
        ASSERT_OK(ks_format_json(o, 0, &compact));
        snprintf(file, sizeof file, "%s.json", base);
        golden(file, pretty);
        min = minify(pretty);
        if (!streq(min, compact))
                TEST_FAILED("%s: -o json is not -o json-pretty without the layout:\n%s\n%s", base, compact, min);
}

static void run_one(ks_ctl_command command, const char *c) {
        ks_service_view *v = make(c);
        ks_ctl_output o = { .command = command, .services = &v, .n_services = 1 };
        char base[128];

        snprintf(base, sizeof base, "%s-%s", ks_ctl_command_to_string(command), c);
        run(base, &o, command == KS_CTL_STATUS && streq(c, "healthy"));
        ks_service_view_free(v);
}

TEST(status_each) {
        for (size_t i = 0; i < ELEMENTSOF(all_cases); i++)
                run_one(KS_CTL_STATUS, all_cases[i]);
}

TEST(status_several) {
        ks_service_view *v[ELEMENTSOF(all_cases)];
        for (size_t i = 0; i < ELEMENTSOF(all_cases); i++)
                v[i] = make(all_cases[i]);

        ks_ctl_output o = { .command = KS_CTL_STATUS, .services = v, .n_services = ELEMENTSOF(v), .overview = true };
        run("status-overview", &o, true);

        ks_ctl_output blocks = { .command = KS_CTL_STATUS, .services = v, .n_services = 3 };
        run("status-three", &blocks, false);

        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                ks_service_view_free(v[i]);
}

TEST(show) {
        static const char *const cases[] = { "healthy", "unhealthy", "flapping", "notifyd-absent", "broken", "not-running", "no-checks" };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_one(KS_CTL_SHOW, cases[i]);
}

TEST(history) {
        static const char *const cases[] = { "healthy", "unhealthy", "flapping", "notifyd-absent", "not-running" };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_one(KS_CTL_HISTORY, cases[i]);

        /* Healthy and never had an incident. */
        ks_service_view *v = make("unhealthy");
        free(v->h.incidents[0].action);
        free(v->h.incidents[0].outcome);
        free(v->h.incidents[0].reason);
        v->h.n_incidents = 0;
        ks_ctl_output o = { .command = KS_CTL_HISTORY, .services = &v, .n_services = 1 };
        run("history-none", &o, false);
        ks_service_view_free(v);
}

TEST(check) {
        ks_service_view *v = make("healthy");
        ks_ctl_output o = { .command = KS_CTL_CHECK, .services = &v, .n_services = 1,
                            .check = { .passed = true, .reason = (char *) "HTTP 200", .latency_usec = 1500 } };
        run("check-passed", &o, true);

        o.check = (ks_check_now) { .passed = false, .reason = (char *) "HTTP 500 (expected 2xx)", .latency_usec = 2100 };
        run("check-failed", &o, false);
        ks_service_view_free(v);
}

TEST(reset) {
        run_one(KS_CTL_RESET, "healthy");
}

/* Text a service controls goes into JSON escaped, and its invalid UTF-8 replaced. */
TEST(json_escaping) {
        ks_service_view *v = make("unhealthy");
        free(v->h.last_reason);
        v->h.last_reason = xstrdup("bad \"body\"\n\x01\xff");
        ks_ctl_output o = { .command = KS_CTL_SHOW, .services = &v, .n_services = 1 };
        _cleanup_free_ char *j = NULL;
        ASSERT_OK(ks_format_json(&o, 0, &j));
        EXPECT_TRUE(strstr(j, "\"LastReason\":\"bad \\\"body\\\"\\n\\u0001\xef\xbf\xbd\"") != NULL);
        ks_service_view_free(v);
}

/* NAME, konivrer@NAME, konivrer@NAME.service all name NAME. */
TEST(name_from_arg) {
        static const struct {
                const char *arg, *name;
        } table[] = {
                { "web", "web" },
                { "konivrer@web", "web" },
                { "konivrer@web.service", "web" },
                { "konivrer@a.b.service", "a.b" },
                { "web.service", "web.service" },       /* no prefix: taken as it is, no such definition */
                { "konivrer@", NULL },
                { "konivrer@.service", NULL },
                { "", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char *name = NULL;
                int r = ks_service_name_from_arg(table[i].arg, &name);
                if (table[i].name) {
                        EXPECT_OK(r);
                        EXPECT_STREQ(name, table[i].name);
                } else
                        EXPECT_ERROR(r, EINVAL);
                free(name);
        }
}

/* systemd's NRestarts after it gave up counts the refused restart; the view says what happened. */
TEST(restarts) {
        ks_service_view *v = make("not-running");
        bool gave_up;
        EXPECT_EQ(ks_service_view_restarts(v, &gave_up), 3);
        EXPECT_TRUE(gave_up);
        free(v->u.result);
        v->u.result = xstrdup("start-limit-hit");
        EXPECT_EQ(ks_service_view_restarts(v, &gave_up), 4);     /* on-failure: a start refused */
        EXPECT_TRUE(gave_up);
        v->restart_policy = KS_RESTART_ALWAYS;
        EXPECT_EQ(ks_service_view_restarts(v, &gave_up), 3);
        v->max_restarts = KS_RESTARTS_INFINITY;
        EXPECT_EQ(ks_service_view_restarts(v, &gave_up), 4);
        EXPECT_FALSE(gave_up);
        free(v->u.active_state);
        v->u.active_state = xstrdup("active");
        EXPECT_EQ(ks_service_view_restarts(v, &gave_up), 4);
        EXPECT_FALSE(gave_up);
        EXPECT_TRUE(ks_service_view_is_active(v));
        EXPECT_FALSE(ks_service_view_is_fallback(v));
        ks_service_view_free(v);
}

static int setup(void) {
        /* The text shows local time: the golden files are in UTC. */
        if (setenv("TZ", "UTC", 1) < 0)
                return -errno;
        tzset();
        return 0;
}

int main(int argc, char *argv[]) {
        if (setup() < 0)
                return EXIT_FAILURE;
        return ks_test_run(argc, argv);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the kservice.toml model (lib/service.c): defaults, every key, derived values,
 * drop-in merging, and every validation error with its exact message and position.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "service.h"
#include "test.h"
#include "toml.h"
#include "unit-name.h"

#define SEC KS_USEC_PER_SEC

/* Loads text as "web.toml" for service "web"; returns the service or NULL, diagnostics in d. */
static ks_service *load(const char *text, ks_diag_list *d) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        ks_service *s = NULL;

        if (ks_toml_parse(text, strlen(text), &doc, &err) < 0) {
                TEST_FAILED("test input does not parse: %u:%u: %s\n%s", err.line, err.column, err.message, text);
                return NULL;
        }
        int r = ks_service_load("web", doc, "web.toml", &s, d);
        if (r < 0 && r != -EINVAL) {
                TEST_FAILED("unexpected error %d", r);
        }
        if ((r < 0) != (d->n > 0)) {
                TEST_FAILED("return value %d does not match %zu diagnostics", r, d->n);
        }
        return r < 0 ? NULL : s;
}

static ks_service *load_ok_at(int line, const char *text) {
        _cleanup_diag_list_ ks_diag_list d = {};
        ks_service *s = load(text, &d);

        ks_test_checks++;
        if (!s) {
                ks_test_failed++;
                fprintf(stderr, "%s:%d: FAILED: expected to load:\n%s\n", __FILE__, line, text);
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "  %s\n", d.items[i].text);
        }
        return s;
}
#define load_ok(text) load_ok_at(__LINE__, text)

/* Expects loading to fail with exactly the given diagnostics (NULL-terminated). */
static void expect_diags_at(int line, const char *text, const char *const *expected) {
        _cleanup_diag_list_ ks_diag_list d = {};
        ks_service *s = load(text, &d);
        size_t n = 0;
        bool ok = !s;

        while (expected[n])
                n++;
        if (d.n != n)
                ok = false;
        for (size_t i = 0; ok && i < n; i++)
                if (strcmp(d.items[i].text, expected[i]) != 0)
                        ok = false;
        ks_test_checks++;
        if (!ok) {
                ks_test_failed++;
                fprintf(stderr, "%s:%d: FAILED: for input\n%s\n  expected:\n", __FILE__, line, text);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "    %s\n", expected[i]);
                fprintf(stderr, "  got:\n");
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "    %s\n", d.items[i].text);
        }
        ks_service_free(s);
}
#define expect_diags(text, ...) expect_diags_at(__LINE__, text, (const char *const[]) { __VA_ARGS__, NULL })

#define E "exec = [\"/usr/bin/web\"]\n"

/* ------------------------------------------------------------------------------------------- */

TEST(defaults) {
        _cleanup_service_ ks_service *s = load_ok(E);
        if (!s)
                return;

        EXPECT_STREQ(s->name, "web");
        EXPECT_STREQ(s->unit, "konivrer@web.service");
        EXPECT_STREQ(s->files[0], "web.toml");
        EXPECT_TRUE(s->files[1] == NULL);
        EXPECT_STREQ(s->description, "kservice web");
        EXPECT_EQ(s->n_exec, 1);
        EXPECT_STREQ(s->exec[0], "/usr/bin/web");
        EXPECT_TRUE(s->exec[1] == NULL);
        EXPECT_EQ(s->exec_origin[0].line, 1);
        EXPECT_EQ(s->exec_origin[0].column, 9);
        EXPECT_TRUE(s->working_directory == NULL);
        EXPECT_TRUE(s->user == NULL && s->group == NULL);
        EXPECT_EQ(s->n_environment, 0);
        EXPECT_TRUE(s->environment_file == NULL);
        EXPECT_TRUE(s->type == KS_SERVICE_EXEC);
        EXPECT_TRUE(ks_service_unit_type(s) == KS_SERVICE_EXEC);
        EXPECT_EQ(s->start_timeout_usec, KS_USEC_UNSET);
        EXPECT_EQ(ks_service_start_timeout_usec(s), KS_USEC_UNSET);
        EXPECT_EQ(s->stop_timeout_usec, KS_USEC_UNSET);
        EXPECT_TRUE(s->kill_signal == 0 && s->reload_signal == 0);

        EXPECT_TRUE(s->restart == KS_RESTART_ON_FAILURE);
        EXPECT_EQ(s->restart_delay_usec, 1 * SEC);
        EXPECT_EQ(s->restart_max_delay_usec, KS_USEC_UNSET);
        EXPECT_EQ(s->restart_steps, 0);
        EXPECT_EQ(s->max_restarts, 5);
        EXPECT_EQ(s->restart_window_usec, 600 * SEC);
        EXPECT_TRUE(s->on_give_up == NULL);

        EXPECT_TRUE(!s->after && !s->before && !s->requires && !s->wants && !s->part_of);
        EXPECT_TRUE(!s->enabled);
        EXPECT_STREQ(s->wanted_by[0], "multi-user.target");
        EXPECT_TRUE(s->wanted_by[1] == NULL);
        EXPECT_TRUE(s->reload_on_change == NULL);

        EXPECT_TRUE(!ks_service_has_health(s));
        EXPECT_EQ(ks_service_watchdog_usec(s), 0);

        EXPECT_TRUE(s->resources.memory_max.kind == KS_LIMIT_UNSET);
        EXPECT_TRUE(s->resources.memory_high.kind == KS_LIMIT_UNSET);
        EXPECT_TRUE(s->resources.tasks_max.kind == KS_LIMIT_UNSET);
        EXPECT_TRUE(s->resources.cpu_quota == 0 && s->resources.io_weight == 0 && !s->resources.nice_set);

        /* The default sandbox preset is "default", exactly as the table says. */
        EXPECT_TRUE(s->sandbox.preset == KS_SANDBOX_DEFAULT);
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                EXPECT_STREQ(s->sandbox.value[i], ks_sandbox_settings[i].preset[KS_SANDBOX_DEFAULT]);
                EXPECT_TRUE(s->sandbox.paths[i] == NULL);
        }
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PROTECT_SYSTEM], "full");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PRIVATE_TMP], "yes");
        EXPECT_TRUE(s->sandbox.value[KS_SANDBOX_PRIVATE_DEVICES] == NULL);

        /* Key origins: exec set at 1:8, nothing else. */
        size_t set = 0;
        for (size_t i = 0; i < ks_service_n_keys; i++)
                if (s->key_origin[i].file)
                        set++;
        EXPECT_EQ(set, 1);
}

TEST(full) {
        _cleanup_service_ ks_service *s = load_ok(
                "version = 1\n"
                "description = \"The web front end\"\n"
                "exec = [\"/usr/bin/web\", \"--port\", \"8080\", \"\", \"a b\"]\n"
                "working_directory = \"/srv/web\"\n"
                "user = \"www-data\"\n"
                "group = \"1001\"\n"
                "type = \"simple\"\n"
                "start_timeout = \"2min\"\n"
                "stop_timeout = 20\n"
                "kill_signal = \"SIGINT\"\n"
                "reload_signal = \"hup\"\n"
                "environment_file = [\"/etc/default/web\", \"-/etc/web/extra.env\"]\n"
                "restart = \"always\"\n"
                "restart_delay = \"500ms\"\n"
                "restart_max_delay = \"1min\"\n"
                "restart_steps = 6\n"
                "max_restarts = 20\n"
                "restart_window = \"1h\"\n"
                "on_give_up = \"alert@.service\"\n"
                "after = [\"db\", \"network-online.target\"]\n"
                "before = \"nginx.service\"\n"
                "requires = [\"db\"]\n"
                "wants = [\"network-online.target\", \"cache.v2\"]\n"
                "part_of = [\"app.target\"]\n"
                "enabled = true\n"
                "wanted_by = [\"kservice.target\", \"graphical.target\"]\n"
                "reload_on_change = [\"/srv/models/current\"]\n"
                "[environment]\n"
                "PORT = \"8080\"\n"
                "LANG = \"C.UTF-8\"\n"
                "[resources]\n"
                "memory_max = \"1G\"\n"
                "memory_high = \"768M\"\n"
                "cpu_quota = \"150%\"\n"
                "tasks_max = 512\n"
                "io_weight = 200\n"
                "nice = -5\n"
                "[sandbox]\n"
                "preset = \"strict\"\n"
                "private_devices = false\n"
                "protect_system = true\n"
                "protect_home = \"tmpfs\"\n"
                "capability_bounding_set = [\"CAP_NET_BIND_SERVICE\"]\n"
                "read_write_paths = [\"/var/lib/web\", \"-/var/cache/web\"]\n"
                "umask = \"0027\"\n"
                "[health]\n"
                "interval = \"2s\"\n"
                "timeout = \"1s\"\n"
                "start_period = \"30s\"\n"
                "failure_threshold = 4\n"
                "success_threshold = 2\n"
                "ready_on_pass = true\n"
                "flap_low_threshold = 2.5\n"
                "flap_high_threshold = 30\n"
                "score_half_life = \"10min\"\n"
                "[[health.check]]\n"
                "type = \"http\"\n"
                "url = \"https://127.0.0.1:8443/health\"\n"
                "method = \"HEAD\"\n"
                "expect_status = [\"2xx\", 301, \"400-404\"]\n"
                "expect_body = \"ok\"\n"
                "headers = { Host = \"web.example\", X-Probe = \"kservice\" }\n"
                "tls_verify = false\n"
                "follow_redirects = true\n"
                "max_response_bytes = \"1M\"\n"
                "[[health.check]]\n"
                "type = \"tcp\"\n"
                "host = \"::1\"\n"
                "port = 5432\n");
        if (!s)
                return;

        EXPECT_STREQ(s->description, "The web front end");
        EXPECT_EQ(s->n_exec, 5);
        EXPECT_STREQ(s->exec[2], "8080");
        EXPECT_STREQ(s->exec[3], "");
        EXPECT_STREQ(s->exec[4], "a b");
        EXPECT_EQ(s->exec_origin[4].column, 47);
        EXPECT_STREQ(s->working_directory, "/srv/web");
        EXPECT_STREQ(s->user, "www-data");
        EXPECT_STREQ(s->group, "1001");
        EXPECT_TRUE(s->type == KS_SERVICE_SIMPLE);
        EXPECT_TRUE(ks_service_unit_type(s) == KS_SERVICE_NOTIFY);
        EXPECT_EQ(s->start_timeout_usec, 120 * SEC);
        EXPECT_EQ(ks_service_start_timeout_usec(s), 120 * SEC);
        EXPECT_EQ(s->stop_timeout_usec, 20 * SEC);
        EXPECT_TRUE(s->kill_signal == SIGINT);
        EXPECT_TRUE(s->reload_signal == SIGHUP);
        EXPECT_STREQ(s->environment_file[0], "/etc/default/web");
        EXPECT_STREQ(s->environment_file[1], "-/etc/web/extra.env");
        EXPECT_TRUE(s->environment_file[2] == NULL);

        EXPECT_TRUE(s->restart == KS_RESTART_ALWAYS);
        EXPECT_EQ(s->restart_delay_usec, 500000);
        EXPECT_EQ(s->restart_max_delay_usec, 60 * SEC);
        EXPECT_EQ(s->restart_steps, 6);
        EXPECT_EQ(s->max_restarts, 20);
        EXPECT_EQ(s->restart_window_usec, 3600 * SEC);
        EXPECT_STREQ(s->on_give_up, "alert@.service");

        EXPECT_STREQ(s->after[0], "konivrer@db.service");
        EXPECT_STREQ(s->after[1], "network-online.target");
        EXPECT_TRUE(s->after[2] == NULL);
        EXPECT_STREQ(s->before[0], "nginx.service");
        EXPECT_STREQ(s->requires[0], "konivrer@db.service");
        EXPECT_STREQ(s->wants[1], "konivrer@cache.v2.service");
        EXPECT_STREQ(s->part_of[0], "app.target");
        EXPECT_TRUE(s->enabled);
        EXPECT_STREQ(s->wanted_by[0], "kservice.target");
        EXPECT_STREQ(s->wanted_by[1], "graphical.target");
        EXPECT_STREQ(s->reload_on_change[0], "/srv/models/current");

        EXPECT_EQ(s->n_environment, 2);
        EXPECT_STREQ(s->environment[0].key, "PORT");
        EXPECT_STREQ(s->environment[0].value, "8080");
        EXPECT_STREQ(s->environment[1].key, "LANG");
        EXPECT_EQ(s->environment[1].origin.line, 30);
        EXPECT_EQ(s->environment[1].origin.column, 8);

        EXPECT_TRUE(s->resources.memory_max.kind == KS_LIMIT_ABSOLUTE);
        EXPECT_EQ(s->resources.memory_max.value, UINT64_C(1) << 30);
        EXPECT_EQ(s->resources.memory_high.value, UINT64_C(768) << 20);
        EXPECT_EQ(s->resources.cpu_quota, 15000);
        EXPECT_TRUE(s->resources.tasks_max.kind == KS_LIMIT_ABSOLUTE);
        EXPECT_EQ(s->resources.tasks_max.value, 512);
        EXPECT_EQ(s->resources.io_weight, 200);
        EXPECT_TRUE(s->resources.nice_set && s->resources.nice == -5);

        EXPECT_TRUE(s->sandbox.preset == KS_SANDBOX_STRICT);
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PRIVATE_DEVICES], "no");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PROTECT_SYSTEM], "yes");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PROTECT_HOME], "tmpfs");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_CAPABILITY_BOUNDING_SET], "CAP_NET_BIND_SERVICE");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_UMASK], "0027");
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_MEMORY_DENY_WRITE_EXECUTE], "yes");    /* from the preset */
        EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_SYSTEM_CALL_FILTER], "@system-service");
        EXPECT_STREQ(s->sandbox.paths[KS_SANDBOX_READ_WRITE_PATHS][0], "/var/lib/web");
        EXPECT_STREQ(s->sandbox.paths[KS_SANDBOX_READ_WRITE_PATHS][1], "-/var/cache/web");
        EXPECT_TRUE(s->sandbox.paths[KS_SANDBOX_READ_ONLY_PATHS] == NULL);

        const ks_health *h = &s->health;
        EXPECT_EQ(h->n_checks, 2);
        EXPECT_EQ(h->interval_usec, 2 * SEC);
        EXPECT_EQ(h->timeout_usec, 1 * SEC);
        EXPECT_EQ(h->start_period_usec, 30 * SEC);
        EXPECT_EQ(h->failure_threshold, 4);
        EXPECT_EQ(h->success_threshold, 2);
        EXPECT_TRUE(h->ready_on_pass);
        EXPECT_NEAR(h->flap_low_threshold, 2.5, 0);
        EXPECT_NEAR(h->flap_high_threshold, 30.0, 0);
        EXPECT_EQ(h->score_half_life_usec, 600 * SEC);
        /* 4 * 2s + 1s + 300s */
        EXPECT_EQ(ks_service_watchdog_usec(s), 309 * SEC);

        const ks_check *c = &h->checks[0];
        EXPECT_TRUE(c->type == KS_CHECK_HTTP);
        EXPECT_EQ(c->origin.line, 56);
        EXPECT_EQ(c->origin.column, 1);
        EXPECT_STREQ(c->url, "https://127.0.0.1:8443/health");
        EXPECT_STREQ(c->method, "HEAD");
        EXPECT_EQ(c->n_expect_status, 3);
        EXPECT_TRUE(c->expect_status[0].lo == 200 && c->expect_status[0].hi == 299);
        EXPECT_TRUE(c->expect_status[1].lo == 301 && c->expect_status[1].hi == 301);
        EXPECT_TRUE(c->expect_status[2].lo == 400 && c->expect_status[2].hi == 404);
        EXPECT_STREQ(c->expect_body, "ok");
        EXPECT_EQ(c->n_headers, 2);
        EXPECT_STREQ(c->headers[0].key, "Host");
        EXPECT_STREQ(c->headers[1].key, "X-Probe");
        EXPECT_STREQ(c->headers[1].value, "kservice");
        EXPECT_TRUE(!c->tls_verify && c->follow_redirects);
        EXPECT_EQ(c->max_response_bytes, 1024 * 1024);

        c = &h->checks[1];
        EXPECT_TRUE(c->type == KS_CHECK_TCP);
        EXPECT_STREQ(c->host, "::1");
        EXPECT_EQ(c->port, 5432);
        EXPECT_TRUE(c->url == NULL);

        /* Where keys were set. */
        EXPECT_EQ(s->key_origin[0].line, 1);     /* version */
        EXPECT_STREQ(s->key_origin[0].file, "web.toml");
}

TEST(exec_string) {
        _cleanup_service_ ks_service *s = load_ok(
                "exec = \"/bin/sh -c 'echo \\\"$HOME\\\" %h' a\\\\ b \\\"x\\\\\\\"y z\\\" ''   \\\"\\\" \\\\$x\"\n");
        if (!s)
                return;
        /* TOML decoded: /bin/sh -c 'echo "$HOME" %h' a\ b "x\"y z" ''   "" \$x */
        EXPECT_EQ(s->n_exec, 8);
        EXPECT_STREQ(s->exec[0], "/bin/sh");
        EXPECT_STREQ(s->exec[1], "-c");
        EXPECT_STREQ(s->exec[2], "echo \"$HOME\" %h");
        EXPECT_STREQ(s->exec[3], "a b");
        EXPECT_STREQ(s->exec[4], "x\"y z");
        EXPECT_STREQ(s->exec[5], "");
        EXPECT_STREQ(s->exec[6], "");
        EXPECT_STREQ(s->exec[7], "$x");
        EXPECT_STREQ(s->exec[8], NULL);

        _cleanup_service_ ks_service *t = load_ok("exec = \"web --flag=a'b c'd\"\n");
        if (t) {
                EXPECT_EQ(t->n_exec, 2);
                EXPECT_STREQ(t->exec[0], "web");  /* a plain command name, systemd searches PATH */
                EXPECT_STREQ(t->exec[1], "--flag=ab cd");
        }
        _cleanup_service_ ks_service *u = load_ok("exec = \"/bin/x \\\\$y\"\n");
        if (u)
                EXPECT_STREQ(u->exec[1], "$y");
}

TEST(derived) {
        /* The watchdog formula, rounded up to whole seconds: 3 * 1.5s + 1s + 300s = 305.5s -> 306s. */
        _cleanup_service_ ks_service *a = load_ok(
                E "[health]\ninterval = \"1500ms\"\ntimeout = \"1s\"\n[[health.check]]\ntype = \"tcp\"\nport = 80\n");
        if (a) {
                EXPECT_EQ(ks_service_watchdog_usec(a), 306 * SEC);
                EXPECT_EQ(ks_service_start_timeout_usec(a), KS_START_TIMEOUT_DEFAULT_USEC);
                EXPECT_TRUE(a->health.ready_on_pass);
                EXPECT_STREQ(a->health.checks[0].host, "127.0.0.1");
        }

        /* Defaults: 3 * 10s + 5s + 300s; a long start period lengthens TimeoutStartSec. */
        _cleanup_service_ ks_service *b = load_ok(
                E "[health]\nstart_period = \"5min\"\n[[health.check]]\ntype = \"http\"\nurl = \"http://localhost/\"\n");
        if (b) {
                EXPECT_EQ(ks_service_watchdog_usec(b), 335 * SEC);
                EXPECT_EQ(ks_service_start_timeout_usec(b), (300 + 30 + 5) * SEC);
                EXPECT_STREQ(b->health.checks[0].method, "GET");
                EXPECT_TRUE(b->health.checks[0].tls_verify);
                EXPECT_TRUE(!b->health.checks[0].follow_redirects);
                EXPECT_EQ(b->health.checks[0].max_response_bytes, 65536);
                EXPECT_EQ(b->health.checks[0].n_expect_status, 1);
                EXPECT_TRUE(b->health.checks[0].expect_status[0].lo == 200 && b->health.checks[0].expect_status[0].hi == 299);
        }

        /* Readiness needs success_threshold passes in a row: (3 + 4 - 1) rounds of 10 s. */
        _cleanup_service_ ks_service *b4 = load_ok(
                E "[health]\nstart_period = \"5min\"\nsuccess_threshold = 4\n[[health.check]]\ntype = \"tcp\"\nport = 80\n");
        if (b4)
                EXPECT_EQ(ks_service_start_timeout_usec(b4), (300 + 60 + 5) * SEC);

        /* Explicit watchdog wins; type notify: readiness comes from the program. */
        _cleanup_service_ ks_service *c = load_ok(
                E "type = \"notify\"\n[health]\nwatchdog = \"2min\"\n[[health.check]]\ntype = \"tcp\"\nport = 1\n");
        if (c) {
                EXPECT_EQ(ks_service_watchdog_usec(c), 120 * SEC);
                EXPECT_TRUE(!c->health.ready_on_pass);
                EXPECT_EQ(ks_service_start_timeout_usec(c), KS_USEC_UNSET);
                EXPECT_TRUE(ks_service_unit_type(c) == KS_SERVICE_NOTIFY);
        }

        /* Backoff: restart_steps defaults to 10 with restart_max_delay. */
        _cleanup_service_ ks_service *d = load_ok(E "restart_max_delay = \"5min\"\nmax_restarts = \"infinity\"\n");
        if (d) {
                EXPECT_EQ(d->restart_steps, 10);
                EXPECT_EQ(d->max_restarts, KS_RESTARTS_INFINITY);
        }

        /* ks_health_equal() */
        const char *h1 = E "[health]\n[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nheaders = { A = \"1\" }\n";
        const char *h2 = E "[health]\ninterval = \"11s\"\n[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nheaders = { A = \"1\" }\n";
        const char *h3 = E "[health]\n[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nheaders = { A = \"2\" }\n";
        _cleanup_service_ ks_service *x1 = load_ok(h1), *x2 = load_ok(h1), *y = load_ok(h2), *z = load_ok(h3);
        if (x1 && x2 && y && z) {
                EXPECT_TRUE(ks_health_equal(&x1->health, &x2->health));
                EXPECT_TRUE(!ks_health_equal(&x1->health, &y->health));
                EXPECT_TRUE(!ks_health_equal(&x1->health, &z->health));
        }
}

TEST(values) {
        _cleanup_service_ ks_service *a = load_ok(
                E "kill_signal = \"TERM\"\nreload_signal = \"SIGRTMIN+2\"\nstart_timeout = \"infinity\"\n"
                  "[resources]\nmemory_max = \"80%\"\nmemory_high = \"12.5%\"\ntasks_max = \"infinity\"\n"
                  "cpu_quota = \"12.5%\"\n[sandbox]\npreset = \"none\"\nprivate_network = true\n"
                  "system_call_filter = [\"@system-service\", \"~@privileged\"]\ncapability_bounding_set = []\n");
        if (a) {
                EXPECT_TRUE(a->kill_signal == SIGTERM);
                EXPECT_TRUE(a->reload_signal == SIGRTMIN + 2);
                EXPECT_EQ(a->start_timeout_usec, KS_USEC_INFINITY);
                EXPECT_TRUE(a->resources.memory_max.kind == KS_LIMIT_PERCENT);
                EXPECT_EQ(a->resources.memory_max.value, 8000);
                EXPECT_EQ(a->resources.memory_high.value, 1250);
                EXPECT_TRUE(a->resources.tasks_max.kind == KS_LIMIT_INFINITY);
                EXPECT_EQ(a->resources.cpu_quota, 1250);
                EXPECT_TRUE(a->sandbox.preset == KS_SANDBOX_NONE);
                EXPECT_STREQ(a->sandbox.value[KS_SANDBOX_PRIVATE_NETWORK], "yes");
                EXPECT_STREQ(a->sandbox.value[KS_SANDBOX_SYSTEM_CALL_FILTER], "@system-service ~@privileged");
                EXPECT_STREQ(a->sandbox.value[KS_SANDBOX_CAPABILITY_BOUNDING_SET], "");
                EXPECT_TRUE(a->sandbox.value[KS_SANDBOX_NO_NEW_PRIVILEGES] == NULL);
        }
        _cleanup_service_ ks_service *k = load_ok(E "kill_signal = \"SIGKILL\"\nenabled = false\nwanted_by = []\n");
        if (k)
                EXPECT_TRUE(k->kill_signal == SIGKILL);
        _cleanup_service_ ks_service *b = load_ok(E "on_give_up = \"nothing\"\n[resources]\nmemory_max = 1048576\ntasks_max = \"10%\"\n");
        if (b) {
                EXPECT_TRUE(b->on_give_up == NULL);
                EXPECT_EQ(b->resources.memory_max.value, 1048576);
                EXPECT_TRUE(b->resources.tasks_max.kind == KS_LIMIT_PERCENT);
                EXPECT_EQ(b->resources.tasks_max.value, 1000);
        }
        /* Dotted keys and inline tables are the same tables. */
        _cleanup_service_ ks_service *c = load_ok(E "sandbox.preset = \"strict\"\nresources = { nice = 19 }\n");
        if (c) {
                EXPECT_TRUE(c->sandbox.preset == KS_SANDBOX_STRICT);
                EXPECT_TRUE(c->resources.nice == 19);
        }
}

TEST(errors) {
        /* unknown keys, with and without a suggestion, in every table */
        expect_diags(E "restart_dealy = \"3s\"\n",
                     "web.toml:2:1: unknown key \"restart_dealy\"; did you mean \"restart_delay\"?");
        expect_diags(E "colour = \"red\"\n", "web.toml:2:1: unknown key \"colour\"");
        expect_diags(E "Restart = \"always\"\n", "web.toml:2:1: unknown key \"Restart\"; did you mean \"restart\"?");
        expect_diags(E "[health]\nintervall = \"5s\"\n",
                     "web.toml:3:1: unknown key \"intervall\" in [health]; did you mean \"interval\"?");
        expect_diags(E "[[health.check]]\ntype = \"tcp\"\nprot = 80\n",
                     "web.toml:4:1: unknown key \"prot\" in [health.check]; did you mean \"port\"?");
        expect_diags(E "[resources]\nmemory_mx = \"1G\"\n",
                     "web.toml:3:1: unknown key \"memory_mx\" in [resources]; did you mean \"memory_max\"?");
        expect_diags(E "[sandbox]\nprivte_tmp = true\n",
                     "web.toml:3:1: unknown key \"privte_tmp\" in [sandbox]; did you mean \"private_tmp\"?");
        expect_diags(E "  restart_dealy = 1\nfoo = 2\n",
                     "web.toml:2:3: unknown key \"restart_dealy\"; did you mean \"restart_delay\"?",
                     "web.toml:3:1: unknown key \"foo\"");

        /* whatever the input holds, a diagnostic is one line */
        expect_diags(E "\"a\\nb\\u001b[31m\" = 1\n", "web.toml:2:1: unknown key \"a\\nb\\x1b[31m\"");
        expect_diags(E "kill_signal = \"TERM\\r\\n<3>fake\"\n",
                     "web.toml:2:15: \"kill_signal\": \"TERM\\r\\n<3>fake\" is not a signal name (like \"SIGTERM\")");

        /* flap thresholds: bounds, type, and low below high */
        expect_diags(E "[health]\nflap_high_threshold = 100.5\n[[health.check]]\ntype = \"tcp\"\nport = 80\n",
                     "web.toml:3:23: \"health.flap_high_threshold\" must be between 0 and 100, not 100.5");
        expect_diags(E "[health]\nflap_low_threshold = \"5%\"\n[[health.check]]\ntype = \"tcp\"\nport = 80\n",
                     "web.toml:3:22: \"health.flap_low_threshold\" must be a number, not a string");
        expect_diags(E "[health]\nflap_low_threshold = 25\n[[health.check]]\ntype = \"tcp\"\nport = 80\n",
                     "web.toml:3:22: \"health.flap_low_threshold\" (25) must be lower than \"health.flap_high_threshold\" "
                     "(20): flapping starts at the high one and stops at the low one");
        expect_diags(E "[health]\nscore_half_life = \"500ms\"\n[[health.check]]\ntype = \"tcp\"\nport = 80\n",
                     "web.toml:3:19: \"health.score_half_life\" must be at least 1s");

        /* wrong types */
        expect_diags(E "description = 5\n", "web.toml:2:15: \"description\" must be a string, not an integer");
        expect_diags(E "enabled = \"yes\"\n",
                     "web.toml:2:11: \"enabled\" must be a boolean (true or false), not a string");
        expect_diags(E "health = 5\n", "web.toml:2:10: \"health\" must be a table ([health]), not an integer");
        expect_diags(E "after = 1.5\n", "web.toml:2:9: \"after\" must be an array of strings or a string, not a float");
        expect_diags(E "max_restarts = 1.5\n",
                     "web.toml:2:16: \"max_restarts\" must be an integer or \"infinity\", not a float");
        expect_diags(E "restart_delay = true\n",
                     "web.toml:2:17: \"restart_delay\" must be a duration (a string like \"30s\" or an integer of "
                     "seconds), not a boolean");
        expect_diags(E "[environment]\nPORT = 8080\n",
                     "web.toml:3:8: \"environment.PORT\" must be a string, not an integer (quote it: PORT = \"...\")");
        expect_diags(E "[sandbox]\nprivate_tmp = \"yes\"\n",
                     "web.toml:3:15: \"sandbox.private_tmp\" must be a boolean (true or false), not a string");
        expect_diags(E "[health]\n[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nexpect_status = [true]\n",
                     "web.toml:6:18: \"health.check.expect_status\" must be an HTTP status (200, \"2xx\" or "
                     "\"200-299\"), not a boolean");

        /* values */
        expect_diags(E "restart_delay = \"3 parsecs\"\n",
                     "web.toml:2:17: \"restart_delay\" must be a duration like \"30s\" or \"1min 30s\", not \"3 parsecs\"");
        expect_diags(E "restart_delay = -1\n",
                     "web.toml:2:17: \"restart_delay\" must not be negative or absurdly large, not -1");
        expect_diags(E "restart_window = \"infinity\"\n", "web.toml:2:18: \"restart_window\" cannot be \"infinity\"");
        expect_diags(E "[health]\ninterval = 0\n", "web.toml:3:12: \"health.interval\" must be longer than 0");
        expect_diags(E "[health]\ninterval = \"50ms\"\n", "web.toml:3:12: \"health.interval\" must be at least 100ms");
        expect_diags(E "[health]\nfailure_threshold = 0\n",
                     "web.toml:3:21: \"health.failure_threshold\" must be between 1 and 1000, not 0");
        expect_diags(E "restart = \"on-falure\"\n",
                     "web.toml:2:11: \"restart\" must be one of \"no\", \"on-failure\", \"on-abnormal\", "
                     "\"on-watchdog\", \"always\", not \"on-falure\"; did you mean \"on-failure\"?");
        expect_diags(E "type = \"daemon\"\n",
                     "web.toml:2:8: \"type\" must be one of \"exec\", \"simple\", \"forking\", \"notify\", not \"daemon\"");
        expect_diags(E "version = 2\n",
                     "web.toml:2:11: \"version\" 2 is not supported: this kservice reads format version 1");
        expect_diags(E "description = \"two\\nlines\"\n", "web.toml:2:15: \"description\" must be one line");

        /* exec */
        expect_diags("description = \"x\"\n", "web.toml:1:1: \"exec\" is required: the command line of the service");
        expect_diags("exec = []\n", "web.toml:1:8: \"exec\" must name a program");
        expect_diags("exec = \"  \"\n", "web.toml:1:8: \"exec\" must name a program");
        expect_diags("exec = [\"bin/web\"]\n",
                     "web.toml:1:9: \"exec\": the program must be an absolute path or a plain command name, not \"bin/web\"");
        expect_diags("exec = \"/bin/web 'oops\"\n", "web.toml:1:8: \"exec\": unterminated single quote");
        expect_diags("exec = \"/bin/web \\\"oops\"\n", "web.toml:1:8: \"exec\": unterminated double quote");
        expect_diags("exec = \"/bin/web oops\\\\\"\n", "web.toml:1:8: \"exec\": trailing backslash");
        expect_diags("exec = [\"/bin/web\", 5]\n", "web.toml:1:21: \"exec[1]\" must be a string, not an integer");
        expect_diags("exec = [\"/bin/web\", \"a\\u0000b\"]\n",
                     "web.toml:1:21: \"exec[1]\" must not contain a NUL character");

        /* process */
        expect_diags(E "[environment]\n1FOO = \"x\"\n",
                     "web.toml:3:1: \"environment\": \"1FOO\" is not a valid variable name (letters, digits and "
                     "\"_\", not starting with a digit)");
        expect_diags(E "environment_file = [\"env\"]\n",
                     "web.toml:2:21: \"environment_file[0]\" must be an absolute, normalized path (optionally "
                     "prefixed with \"-\"), not \"env\"");
        expect_diags(E "working_directory = \"/srv/../etc\"\n",
                     "web.toml:2:21: \"working_directory\" must be an absolute, normalized path, not \"/srv/../etc\"");
        expect_diags(E "working_directory = \"/srv/\"\n",
                     "web.toml:2:21: \"working_directory\" must be an absolute, normalized path, not \"/srv/\"");
        expect_diags(E "user = \"bad user\"\n", "web.toml:2:8: \"user\": \"bad user\" is not a valid user or group name");
        expect_diags(E "group = \"-g\"\n", "web.toml:2:9: \"group\": \"-g\" is not a valid user or group name");
        expect_diags(E "kill_signal = \"SIGFOO\"\n",
                     "web.toml:2:15: \"kill_signal\": \"SIGFOO\" is not a signal name (like \"SIGTERM\")");
        expect_diags(E "kill_signal = \"STOP\"\n", "web.toml:2:15: \"kill_signal\" cannot be SIGSTOP");
        expect_diags(E "reload_signal = \"KILL\"\n", "web.toml:2:17: \"reload_signal\" cannot be SIGKILL");
        expect_diags(E "after = [\"network.target\", \"web\"]\n",
                     "web.toml:2:9: \"after\" names the service itself (konivrer@web.service)");
        expect_diags(E "requires = \"konivrer@web.service\"\n",
                     "web.toml:2:12: \"requires\" names the service itself (konivrer@web.service)");
        expect_diags(E "enabled = true\nwanted_by = []\n",
                     "web.toml:3:13: \"wanted_by\" must name at least one unit when enabled = true");

        /* dependencies and boot */
        expect_diags(E "after = [\"foo bar\"]\n",
                     "web.toml:2:10: \"after[0]\": \"foo bar\" is neither a kservice name nor a unit name with a "
                     "type suffix such as \".service\"");
        expect_diags(E "requires = [\"foo@.service\"]\n",
                     "web.toml:2:13: \"requires[0]\": \"foo@.service\" is not a valid unit name (templates need an instance)");
        expect_diags(E "wants = \".hidden\"\n",
                     "web.toml:2:9: \"wants\": \".hidden\" is neither a kservice name nor a unit name with a type "
                     "suffix such as \".service\"");
        expect_diags(E "wanted_by = \"multi-user\"\n", "web.toml:2:13: \"wanted_by\": \"multi-user\" is not a valid unit name");
        expect_diags(E "on_give_up = \"page me\"\n",
                     "web.toml:2:14: \"on_give_up\" must be \"nothing\" or a unit name like \"alert@.service\", not \"page me\"");
        expect_diags(E "reload_on_change = [\"models\"]\nreload_signal = \"HUP\"\n",
                     "web.toml:2:21: \"reload_on_change[0]\" must be an absolute, normalized path, not \"models\"");

        /* restart policy combinations */
        expect_diags(E "max_restarts = \"lots\"\n",
                     "web.toml:2:16: \"max_restarts\" must be a number or \"infinity\", not \"lots\"");
        expect_diags(E "max_restarts = 0\n", "web.toml:2:16: \"max_restarts\" must be between 1 and 10000, not 0");
        expect_diags(E "restart = \"no\"\nmax_restarts = 3\nrestart_delay = \"5s\"\n",
                     "web.toml:4:17: \"restart_delay\" has no effect with restart = \"no\"",
                     "web.toml:3:16: \"max_restarts\" has no effect with restart = \"no\"");
        expect_diags(E "restart_steps = 5\n", "web.toml:2:17: \"restart_steps\" needs \"restart_max_delay\"");
        expect_diags(E "restart_delay = \"10s\"\nrestart_max_delay = \"5s\"\n",
                     "web.toml:3:21: \"restart_max_delay\" must be longer than \"restart_delay\"");
        expect_diags(E "max_restarts = \"infinity\"\nrestart_window = \"1h\"\n",
                     "web.toml:3:18: \"restart_window\" has no effect with max_restarts = \"infinity\"");
        expect_diags(E "restart = \"always\"\nmax_restarts = \"infinity\"\non_give_up = \"alert.service\"\n",
                     "web.toml:4:14: \"on_give_up\" is never reached with max_restarts = \"infinity\" and restart = \"always\"");
        expect_diags(E "restart_delay = \"1min\"\nmax_restarts = 5\nrestart_window = \"5min\"\n",
                     "web.toml:4:18: max_restarts = 5 within \"restart_window\" can never be reached when restarts "
                     "are \"restart_delay\" apart: make the window longer than max_restarts * restart_delay");
        expect_diags(E "reload_on_change = \"/srv/model\"\n",
                     "web.toml:2:20: \"reload_on_change\" needs \"reload_signal\": the signal that makes the service reload");

        /* health */
#define CHK "[[health.check]]\ntype = \"tcp\"\nport = 80\n"
        expect_diags(E "[health]\ninterval = \"5s\"\n", "web.toml:2:1: [health] needs at least one [[health.check]]");
        expect_diags(E "restart = \"no\"\n" CHK,
                     "web.toml:2:11: restart = \"no\" cannot be combined with [health]: an unhealthy service would "
                     "be stopped for good instead of restarted");
        expect_diags(E "type = \"forking\"\n" CHK,
                     "web.toml:2:8: type = \"forking\" cannot be combined with [health]: notifyd speaks for the main "
                     "process, which systemd can only guess for a forking service");
        expect_diags(E "type = \"notify\"\n[health]\nready_on_pass = true\n" CHK,
                     "web.toml:4:17: \"health.ready_on_pass\" cannot be true with type = \"notify\": the program "
                     "reports readiness itself");
        expect_diags(E "[health]\ninterval = \"5s\"\ntimeout = \"6s\"\n" CHK,
                     "web.toml:4:11: \"health.timeout\" must not be longer than \"health.interval\"");
        expect_diags(E "[health]\ninterval = \"2s\"\n" CHK,
                     "web.toml:3:12: \"health.interval\" must not be shorter than \"health.timeout\" (5s unless set)");
        expect_diags(E "[health]\nwatchdog = \"15s\"\n" CHK,
                     "web.toml:3:12: \"health.watchdog\" must be longer than health.interval + health.timeout, or a "
                     "healthy service is killed between two checks");
        expect_diags(E "start_timeout = \"1min\"\n[health]\nstart_period = \"2min\"\n" CHK,
                     "web.toml:2:17: \"start_timeout\" must be longer than \"health.start_period\", or the service "
                     "is killed before its health checks count");
        expect_diags(E "[[health.check]]\nurl = \"http://x/\"\n",
                     "web.toml:2:1: [[health.check]] needs \"type\" (\"http\" or \"tcp\")");
        expect_diags(E "[[health.check]]\ntype = \"http\"\n", "web.toml:2:1: an http check needs \"url\"");
        expect_diags(E "[[health.check]]\ntype = \"tcp\"\nhost = \"db\"\n", "web.toml:2:1: a tcp check needs \"port\"");
        expect_diags(E "[[health.check]]\ntype = \"udp\"\n",
                     "web.toml:3:8: \"health.check.type\" must be one of \"http\", \"tcp\", not \"udp\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nport = 80\n",
                     "web.toml:5:8: \"health.check.port\" does not apply to type = \"http\"");
        expect_diags(E "[[health.check]]\ntype = \"tcp\"\nport = 80\nurl = \"http://x/\"\nexpect_body = \"ok\"\n",
                     "web.toml:5:7: \"health.check.url\" does not apply to type = \"tcp\"",
                     "web.toml:6:15: \"health.check.expect_body\" does not apply to type = \"tcp\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"ftp://x/\"\n",
                     "web.toml:4:7: \"health.check.url\" must be an http:// or https:// URL with a host, not \"ftp://x/\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http:///health\"\n",
                     "web.toml:4:7: \"health.check.url\" must be an http:// or https:// URL with a host, not \"http:///health\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nexpect_status = [\"2xx\", 700]\n",
                     "web.toml:5:25: \"health.check.expect_status\": 700 is not an HTTP status (100-599)");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nexpect_status = \"abc\"\n",
                     "web.toml:5:17: \"health.check.expect_status\": \"abc\" is not an HTTP status, a class like "
                     "\"2xx\" or a range like \"200-299\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nexpect_status = \"299-200\"\n",
                     "web.toml:5:17: \"health.check.expect_status\": \"299-200\" is not within 100-599");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nexpect_status = []\n",
                     "web.toml:5:17: \"health.check.expect_status\" must list at least one status");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\ntls_verify = false\n",
                     "web.toml:5:14: \"health.check.tls_verify\" needs an https:// URL");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nmethod = \"get\"\n",
                     "web.toml:5:10: \"health.check.method\" must be one of \"GET\", \"HEAD\", \"POST\", \"PUT\", "
                     "\"OPTIONS\", not \"get\"");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nheaders = { \"Bad Name\" = \"x\" }\n",
                     "web.toml:5:13: \"health.check.headers\": \"Bad Name\" is not a valid header name");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nheaders = { X = \"a\\r\\nEvil: 1\" }\n",
                     "web.toml:5:17: \"health.check.headers\": the value of \"X\" must not contain a line break");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nmax_response_bytes = \"1G\"\n",
                     "web.toml:5:22: \"health.check.max_response_bytes\" must be at most 64M");
        expect_diags(E "[[health.check]]\ntype = \"http\"\nurl = \"http://x/\"\nmax_response_bytes = \"infinity\"\n",
                     "web.toml:5:22: \"health.check.max_response_bytes\" must be a size like \"64K\" or an integer of bytes");
        expect_diags(E "[[health.check]]\ntype = \"tcp\"\nport = 70000\n",
                     "web.toml:4:8: \"health.check.port\" must be between 1 and 65535, not 70000");
        expect_diags(E "[health]\ncheck = []\n", "web.toml:3:9: \"health.check\" must hold at least one check");

        /* resources */
        expect_diags(E "[resources]\nmemory_max = \"1G\"\nmemory_high = \"2G\"\n",
                     "web.toml:4:15: \"resources.memory_high\" must not be above \"resources.memory_max\"");
        expect_diags(E "[resources]\nmemory_max = \"lots\"\n",
                     "web.toml:3:14: \"resources.memory_max\" must be a size like \"512M\" or \"2G\", a percentage or "
                     "\"infinity\", not \"lots\"");
        expect_diags(E "[resources]\nmemory_max = \"150%\"\n",
                     "web.toml:3:14: \"resources.memory_max\" must be a percentage between 0.01% and 100%, not \"150%\"");
        expect_diags(E "[resources]\ncpu_quota = \"50\"\n",
                     "web.toml:3:13: \"resources.cpu_quota\" must be a percentage of one CPU like \"50%\" or \"200%\", not \"50\"");
        expect_diags(E "[resources]\nio_weight = 0\n", "web.toml:3:13: \"resources.io_weight\" must be between 1 and 10000, not 0");
        expect_diags(E "[resources]\nnice = 20\n", "web.toml:3:8: \"resources.nice\" must be between -20 and 19, not 20");
        expect_diags(E "[resources]\ntasks_max = \"many\"\n",
                     "web.toml:3:13: \"resources.tasks_max\" must be a number, a percentage or \"infinity\", not \"many\"");
        expect_diags(E "[resources]\ntasks_max = 0\n", "web.toml:3:13: \"resources.tasks_max\" must be greater than 0, not 0");

        /* sandbox */
        expect_diags(E "[sandbox]\npreset = \"strickt\"\n",
                     "web.toml:3:10: \"sandbox.preset\" must be one of \"none\", \"default\", \"strict\", not "
                     "\"strickt\"; did you mean \"strict\"?");
        expect_diags(E "[sandbox]\nprotect_system = \"paranoid\"\n",
                     "web.toml:3:18: \"sandbox.protect_system\" must be one of \"yes\", \"no\", \"full\", \"strict\", not \"paranoid\"");
        expect_diags(E "[sandbox]\nprotect_proc = true\n",
                     "web.toml:3:16: \"sandbox.protect_proc\" must be a string, not a boolean");
        expect_diags(E "[sandbox]\numask = \"999\"\n", "web.toml:3:9: \"sandbox.umask\" must be an octal mode like \"0027\", not \"999\"");
        expect_diags(E "[sandbox]\nread_write_paths = [\"/ok\", \"var/lib\"]\n",
                     "web.toml:3:28: \"sandbox.read_write_paths[1]\" must be an absolute, normalized path (optionally "
                     "prefixed with \"-\"), not \"var/lib\"");
        expect_diags(E "[sandbox]\ncapability_bounding_set = [\"CAP SYS\"]\n",
                     "web.toml:3:28: \"sandbox.capability_bounding_set[0]\": \"CAP SYS\" is not a valid word (letters, "
                     "digits and _@:~+.- only)");
}

TEST(load_api) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        _cleanup_diag_list_ ks_diag_list d = {};
        ks_service *s = NULL;

        EXPECT_TRUE(ks_toml_parse(E, strlen(E), &doc, NULL) == 0);
        EXPECT_TRUE(ks_service_load("-bad", doc, "-bad.toml", &s, &d) == -EINVAL);
        EXPECT_TRUE(s == NULL);
        EXPECT_EQ(d.n, 1);
        if (d.n == 1) {
                EXPECT_STREQ(d.items[0].text, "-bad.toml: \"-bad\" is not a valid service name: use 1-238 of A-Z a-z "
                                            "0-9 _ . : -, not starting with . or -, not ending in a unit type like .service");
                EXPECT_EQ(d.items[0].line, 0);
                EXPECT_STREQ(d.items[0].file, "-bad.toml");
        }
        EXPECT_TRUE(ks_service_new("x.service", &s) == -EINVAL);
}

/* ------------------------------------------------------------------------------------------- */

static char tmpdir[] = "/tmp/test-service.XXXXXX";

static const char *write_file(const char *name, const char *text) {
        static char path[4][256];
        static int slot;
        char *p = path[slot++ % 4];

        snprintf(p, 256, "%s/%s", tmpdir, name);
        FILE *f = fopen(p, "we");
        if (!f) {
                TEST_FAILED("%s: %m", p);
                return p;
        }
        fputs(text, f);
        fclose(f);
        return p;
}

TEST(dropins) {
        _cleanup_diag_list_ ks_diag_list d = {};
        ks_service *s = NULL;

        const char *main_path = write_file(
                "web.toml",
                "exec = [\"/usr/bin/web\"]\n"
                "restart_delay = \"2s\"\n"
                "after = [\"db\", \"cache\"]\n"
                "[environment]\n"
                "FOO = \"1\"\n"
                "BAR = \"2\"\n"
                "[health]\n"
                "interval = \"20s\"\n"
                "[[health.check]]\n"
                "type = \"tcp\"\n"
                "port = 80\n"
                "[[health.check]]\n"
                "type = \"tcp\"\n"
                "port = 81\n"
                "[sandbox]\n"
                "preset = \"strict\"\n");
        char p1[256], p2[256];
        snprintf(p1, sizeof(p1), "%s", write_file("10-env.toml",
                                                   "restart_delay = \"3s\"\n"
                                                   "after = []\n"
                                                   "[environment]\n"
                                                   "FOO = \"one\"\n"
                                                   "BAZ = \"3\"\n"
                                                   "[health]\n"
                                                   "timeout = \"2s\"\n"
                                                   "[sandbox]\n"
                                                   "private_network = true\n"));
        snprintf(p2, sizeof(p2), "%s", write_file("20-check.toml",
                                                   "[[health.check]]\n"
                                                   "type = \"http\"\n"
                                                   "url = \"http://127.0.0.1/\"\n"
                                                   "[sandbox]\n"
                                                   "preset = \"default\"\n"));
        const char *dropins[] = { p1, p2 };
        char mp[256];
        snprintf(mp, sizeof(mp), "%s", main_path);

        int r = ks_service_load_files("web", mp, dropins, 2, &s, &d);
        EXPECT_TRUE(r == 0);
        for (size_t i = 0; i < d.n; i++)
                fprintf(stderr, "  %s\n", d.items[i].text);
        if (s) {
                EXPECT_STREQ(s->files[0], mp);
                EXPECT_STREQ(s->files[1], p1);
                EXPECT_STREQ(s->files[2], p2);
                EXPECT_EQ(s->restart_delay_usec, 3 * SEC);           /* later file wins */
                EXPECT_TRUE(s->after && s->after[0] == NULL);              /* arrays replace, even with [] */
                EXPECT_EQ(s->n_environment, 3);                      /* tables merge per key */
                EXPECT_STREQ(s->environment[0].key, "FOO");
                EXPECT_STREQ(s->environment[0].value, "one");
                EXPECT_STREQ(s->environment[0].origin.file, p1);
                EXPECT_STREQ(s->environment[1].value, "2");
                EXPECT_STREQ(s->environment[2].key, "BAZ");
                EXPECT_EQ(s->health.interval_usec, 20 * SEC);        /* [health] merges */
                EXPECT_EQ(s->health.timeout_usec, 2 * SEC);
                EXPECT_EQ(s->health.n_checks, 1);                    /* [[health.check]] replaces */
                EXPECT_TRUE(s->health.checks[0].type == KS_CHECK_HTTP);
                EXPECT_STREQ(s->health.checks[0].origin.file, p2);
                EXPECT_TRUE(s->sandbox.preset == KS_SANDBOX_DEFAULT);
                EXPECT_STREQ(s->sandbox.value[KS_SANDBOX_PRIVATE_NETWORK], "yes");       /* override kept */
                EXPECT_TRUE(s->sandbox.value[KS_SANDBOX_PRIVATE_DEVICES] == NULL);          /* preset "default" */
                EXPECT_STREQ(s->key_origin[0].file, NULL);                               /* version: unset */
        }
        s = ks_service_free(s);

        /* Errors name the file they are in; all files are read; a syntax error is one diagnostic. */
        char p3[256], p4[256];
        snprintf(p3, sizeof(p3), "%s", write_file("30-typo.toml", "\n\nrestart_dealy = 1\n"));
        snprintf(p4, sizeof(p4), "%s", write_file("40-broken.toml", "exec = [\n"));
        const char *bad[] = { p3, p4 };
        ks_diag_list_clear(&d);
        r = ks_service_load_files("web", mp, bad, 2, &s, &d);
        EXPECT_TRUE(r == -EINVAL);
        EXPECT_TRUE(s == NULL);
        EXPECT_EQ(d.n, 2);
        if (d.n == 2) {
                char want[512];
                snprintf(want, sizeof(want), "%s:3:1: unknown key \"restart_dealy\"; did you mean \"restart_delay\"?", p3);
                EXPECT_STREQ(d.items[0].text, want);
                snprintf(want, sizeof(want), "%s:2:1: ", p4);
                EXPECT_TRUE(strncmp(d.items[1].text, want, strlen(want)) == 0);
                EXPECT_EQ(d.items[1].line, 2);
        }

        /* A combination error spanning files points at the key in the file that set it. */
        char p5[256];
        snprintf(p5, sizeof(p5), "%s", write_file("50-norestart.toml", "# no restarts\nrestart = \"no\"\n"));
        const char *nr[] = { p5 };
        ks_diag_list_clear(&d);
        r = ks_service_load_files("web", mp, nr, 1, &s, &d);
        EXPECT_TRUE(r == -EINVAL);
        if (d.n >= 1) {
                char want[512];
                snprintf(want, sizeof(want), "%s:2:17: \"restart_delay\" has no effect with restart = \"no\"", mp);
                EXPECT_STREQ(d.items[0].text, want);
        }
        if (d.n >= 2) {
                char want[512];
                snprintf(want, sizeof(want), "%s:2:11: restart = \"no\" cannot be combined with [health]", p5);
                EXPECT_TRUE(strncmp(d.items[1].text, want, strlen(want)) == 0);
        }

        /* A missing file is one diagnostic without a position. */
        char missing[300];
        snprintf(missing, sizeof(missing), "%s/nonexistent.toml", tmpdir);
        ks_diag_list_clear(&d);
        r = ks_service_load_files("web", missing, NULL, 0, &s, &d);
        EXPECT_TRUE(r == -EINVAL);
        EXPECT_EQ(d.n, 1);
        if (d.n == 1) {
                EXPECT_EQ(d.items[0].line, 0);
                EXPECT_TRUE(strncmp(d.items[0].text, missing, strlen(missing)) == 0);
                EXPECT_TRUE(strstr(d.items[0].text, ".toml: ") != NULL);
        }
}

TEST(names) {
        char longest[KS_NAME_MAX + 2];

        EXPECT_TRUE(ks_service_name_is_valid("web"));
        EXPECT_TRUE(ks_service_name_is_valid("api.v2"));
        EXPECT_TRUE(ks_service_name_is_valid("a_b-c:d"));
        EXPECT_TRUE(ks_service_name_is_valid("0"));
        EXPECT_TRUE(!ks_service_name_is_valid(""));
        EXPECT_TRUE(!ks_service_name_is_valid(".web"));
        EXPECT_TRUE(!ks_service_name_is_valid("-web"));
        EXPECT_TRUE(!ks_service_name_is_valid("web app"));
        EXPECT_TRUE(!ks_service_name_is_valid("web@1"));
        EXPECT_TRUE(!ks_service_name_is_valid("a\\x2d"));
        EXPECT_TRUE(!ks_service_name_is_valid("web/x"));
        EXPECT_TRUE(!ks_service_name_is_valid("web.service"));
        EXPECT_TRUE(!ks_service_name_is_valid("web.target"));
        EXPECT_TRUE(!ks_service_name_is_valid("wéb"));
        memset(longest, 'a', KS_NAME_MAX);
        longest[KS_NAME_MAX] = '\0';
        EXPECT_TRUE(ks_service_name_is_valid(longest));
        EXPECT_EQ(strlen("konivrer@") + strlen(longest) + strlen(".service"), 255);
        longest[KS_NAME_MAX] = 'a';
        longest[KS_NAME_MAX + 1] = '\0';
        EXPECT_TRUE(!ks_service_name_is_valid(longest));

        EXPECT_TRUE(unit_name_is_valid("network-online.target", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(unit_name_is_valid("getty@tty1.service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(unit_name_is_valid("alert@.service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(unit_name_is_valid("foo@a@b.service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(unit_name_is_valid("dev-sda1.device", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(unit_name_is_valid("x\\x2dy.mount", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(!unit_name_is_valid("foo", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(!unit_name_is_valid(".service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(!unit_name_is_valid("@x.service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(!unit_name_is_valid("a b.service", KS_UNIT_NAME_ANY));
        EXPECT_TRUE(!unit_name_is_valid("foo.services", KS_UNIT_NAME_ANY));

        char *u = NULL;
        EXPECT_TRUE(ks_dependency_to_unit("db", &u) == 0);
        EXPECT_STREQ(u, "konivrer@db.service");
        free(u);
        EXPECT_TRUE(ks_dependency_to_unit("postgresql.service", &u) == 0);
        EXPECT_STREQ(u, "postgresql.service");
        free(u);
        EXPECT_TRUE(ks_dependency_to_unit("x@.service", &u) == -EINVAL);
        EXPECT_TRUE(ks_dependency_to_unit("a b", &u) == -EINVAL);
}

TEST(helpers) {
        EXPECT_TRUE(ks_signal_from_string("SIGTERM") == SIGTERM);
        EXPECT_TRUE(ks_signal_from_string("term") == SIGTERM);
        EXPECT_TRUE(ks_signal_from_string("SIGRTMIN") == SIGRTMIN);
        EXPECT_TRUE(ks_signal_from_string("SIGRTMIN+1") == SIGRTMIN + 1);
        EXPECT_TRUE(ks_signal_from_string("SIGRTMIN+100") < 0);
        EXPECT_TRUE(ks_signal_from_string("15") < 0);
        EXPECT_TRUE(ks_signal_from_string("") < 0);
        EXPECT_STREQ(ks_signal_to_string(SIGHUP), "SIGHUP");
        EXPECT_STREQ(ks_signal_to_string(SIGRTMIN + 3), "SIGRTMIN+3");
        EXPECT_STREQ(ks_signal_to_string(0), NULL);

        EXPECT_STREQ(ks_service_type_to_string(KS_SERVICE_NOTIFY), "notify");
        EXPECT_STREQ(ks_restart_to_string(KS_RESTART_ON_WATCHDOG), "on-watchdog");
        EXPECT_STREQ(ks_check_type_to_string(KS_CHECK_TCP), "tcp");
        EXPECT_STREQ(ks_sandbox_preset_to_string(KS_SANDBOX_STRICT), "strict");
        EXPECT_STREQ(ks_restart_to_string(_KS_RESTART_MAX), NULL);
}

/* The key table: unique paths, every table's parent listed, sandbox keys match the settings. */
TEST(key_table) {
        for (size_t i = 0; i < ks_service_n_keys; i++) {
                const char *p = ks_service_keys[i].path;
                if (!p)         /* keeps gcc's -Wformat-truncation quiet under -fsanitize */
                        continue;
                for (size_t j = i + 1; j < ks_service_n_keys; j++)
                        EXPECT_TRUE(strcmp(p, ks_service_keys[j].path) != 0);
                const char *dot = strrchr(p, '.');
                if (dot) {
                        bool parent = false;
                        for (size_t j = 0; j < ks_service_n_keys; j++)
                                if (strlen(ks_service_keys[j].path) == (size_t) (dot - p) &&
                                    strncmp(ks_service_keys[j].path, p, (size_t) (dot - p)) == 0 &&
                                    (ks_service_keys[j].type == KS_KEY_TABLE ||
                                     ks_service_keys[j].type == KS_KEY_ARRAY_OF_TABLES))
                                        parent = true;
                        EXPECT_TRUE(parent);
                }
        }
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                char path[128];
                bool found = false;
                snprintf(path, sizeof(path), "sandbox.%s", ks_sandbox_settings[i].key);
                for (size_t j = 0; j < ks_service_n_keys; j++)
                        if (strcmp(ks_service_keys[j].path, path) == 0)
                                found = true;
                EXPECT_TRUE(found);

                /* Every preset value is one the setting itself accepts. */
                const ks_sandbox_setting_info *info = &ks_sandbox_settings[i];
                for (int p = 0; p < _KS_SANDBOX_PRESET_MAX; p++) {
                        const char *v = info->preset[p];
                        if (!v)
                                continue;
                        EXPECT_TRUE(p != KS_SANDBOX_NONE);
                        EXPECT_TRUE(info->kind != KS_SANDBOX_KIND_PATHS);
                        if (info->kind == KS_SANDBOX_KIND_BOOL)
                                EXPECT_TRUE(strcmp(v, "yes") == 0 || strcmp(v, "no") == 0);
                        if (info->kind == KS_SANDBOX_KIND_ENUM) {
                                bool ok = false;
                                for (const char *const *c = info->choices; *c; c++)
                                        if (strcmp(*c, v) == 0)
                                                ok = true;
                                EXPECT_TRUE(ok);
                        }
                }
        }

        /* Every leaf key is accepted: a file setting each one must not produce "unknown key". */
        for (size_t i = 0; i < ks_service_n_keys; i++) {
                const char *p = ks_service_keys[i].path;
                if (!p)         /* keeps gcc's -Wformat-truncation quiet under -fsanitize */
                        continue;
                char text[512];
                if (ks_service_keys[i].type == KS_KEY_TABLE || ks_service_keys[i].type == KS_KEY_ARRAY_OF_TABLES)
                        continue;
                if (strcmp(p, "exec") == 0)
                        snprintf(text, sizeof(text), "exec = 1\n");
                else if (strncmp(p, "health.check.", 13) == 0)
                        snprintf(text, sizeof(text), E "[[health.check]]\n%s = 1\n", p + 13);
                else
                        snprintf(text, sizeof(text), E "%s = 1\n", p);
                _cleanup_diag_list_ ks_diag_list d = {};
                ks_service *s = load(text, &d);
                ks_service_free(s);
                for (size_t j = 0; j < d.n; j++)
                        EXPECT_TRUE(strstr(d.items[j].text, "unknown key") == NULL);
        }
}

/* Every key, given a date, is rejected with one diagnostic that names the key and points at the
 * value. */
TEST(every_key_type_error) {
        for (size_t i = 0; i < ks_service_n_keys; i++) {
                const char *p = ks_service_keys[i].path;
                if (!p)         /* keeps gcc's -Wformat-truncation quiet under -fsanitize */
                        continue;
                char text[512], want_pos[64], want_key[160];
                unsigned line = 2, col;

                if (strcmp(p, "exec") == 0) {
                        snprintf(text, sizeof(text), "exec = 1979-05-27\n");
                        line = 1;
                        col = 8;
                } else if (strncmp(p, "health.check.", 13) == 0) {
                        snprintf(text, sizeof(text), E "[[health.check]]\n%s = 1979-05-27\n", p + 13);
                        line = 3;
                        col = (unsigned) strlen(p + 13) + 4;
                } else {
                        snprintf(text, sizeof(text), E "%s = 1979-05-27\n", p);
                        col = (unsigned) strlen(p) + 4;
                }
                /* A dotted key at the root makes the intermediate tables; the value is the leaf. */
                snprintf(want_pos, sizeof(want_pos), "web.toml:%u:%u: ", line, col);
                snprintf(want_key, sizeof(want_key), "\"%s\"", p);

                _cleanup_diag_list_ ks_diag_list d = {};
                ks_service *s = load(text, &d);
                ks_test_checks++;
                if (s || d.n != 1 || strncmp(d.items[0].text, want_pos, strlen(want_pos)) != 0 ||
                    !strstr(d.items[0].text, want_key) || !strstr(d.items[0].text, "not a date")) {
                        TEST_FAILED("wrong type for %s:\n%s", p, text);
                        for (size_t j = 0; j < d.n; j++)
                                fprintf(stderr, "  %s\n", d.items[j].text);
                }
                ks_service_free(s);
        }
}

int main(int argc, char *argv[]) {
        return ks_test_run_in_tmpdir(argc, argv, tmpdir, NULL);
}

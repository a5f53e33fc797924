/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* definitions.c: the definitions notifyd acts on, from a directory of NAME.toml: those with health
 * checks loaded and sorted, a broken one reported and listed as failed while the others load, a
 * masked one skipped, one without checks counted and left out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "definitions.h"
#include "test.h"

#define CHECKED "exec = [\"/usr/bin/true\"]\n[[health.check]]\ntype = \"tcp\"\nport = 80\n"

static char root[] = "/tmp/ks-definitions.XXXXXX";

static const char *at(const char *rel) {
        static char buf[4][512];
        static unsigned i;

        i = (i + 1) % 4;
        snprintf(buf[i], sizeof buf[i], "%s/%s", root, rel);
        return buf[i];
}

static void put(const char *rel, const char *content) {
        FILE *f = fopen(at(rel), "we");

        ASSERT_NOT_NULL(f);
        fputs(content, f);
        ASSERT_EQ(fclose(f), 0);
}

TEST(load) {
        _cleanup_(ks_definitions_freep) ks_definitions *d = NULL;

        ASSERT_EQ(mkdir(at("a"), 0755), 0);
        put("a/web.toml", CHECKED);
        put("a/api.toml", CHECKED);
        put("a/plain.toml", "exec = [\"/usr/bin/true\"]\n");               /* no health checks */
        put("a/broken.toml", CHECKED "restart_dealy = \"1s\"\n");          /* unknown key */
        put("a/masked.toml", "");                                           /* masked */

        ASSERT_OK(ks_definitions_load(at("a"), &d));
        ASSERT_NOT_NULL(d);
        /* web, api, plain, broken: seen; masked is not. */
        EXPECT_EQ(d->n_total, 4);
        /* Only those with checks, by unit name. */
        ASSERT_EQ(d->n_services, 2);
        EXPECT_STREQ(d->services[0]->unit, "konivrer@api.service");
        EXPECT_STREQ(d->services[1]->unit, "konivrer@web.service");
        EXPECT_EQ(d->services[0]->health.n_checks, 1);
        EXPECT_EQ(d->services[1]->health.checks[0].port, 80);
        /* The broken one is listed, the others are not. */
        ASSERT_EQ(d->n_failed, 1);
        EXPECT_STREQ(d->failed[0], "broken");
        EXPECT_TRUE(ks_definitions_failed(d, "broken"));
        EXPECT_FALSE(ks_definitions_failed(d, "web"));
        EXPECT_FALSE(ks_definitions_failed(d, "masked"));
        EXPECT_FALSE(ks_definitions_failed(d, "plain"));
}

/* A masked definition earlier in the path hides the one after it; $KSERVICE_CONFIG_PATH is the
 * default search path. */
TEST(search_path) {
        _cleanup_(ks_definitions_freep) ks_definitions *d = NULL;
        char path[1100];

        ASSERT_EQ(mkdir(at("etc"), 0755), 0);
        ASSERT_EQ(mkdir(at("usr"), 0755), 0);
        put("usr/web.toml", CHECKED);
        put("usr/db.toml", CHECKED);
        put("etc/db.toml", "");

        snprintf(path, sizeof path, "%s:%s", at("etc"), at("usr"));
        ASSERT_EQ(setenv("KSERVICE_CONFIG_PATH", path, 1), 0);
        ASSERT_OK(ks_definitions_load(NULL, &d));
        unsetenv("KSERVICE_CONFIG_PATH");
        EXPECT_EQ(d->n_total, 1);
        ASSERT_EQ(d->n_services, 1);
        EXPECT_STREQ(d->services[0]->unit, "konivrer@web.service");
        EXPECT_EQ(d->n_failed, 0);
}

TEST(empty_and_unusable) {
        _cleanup_(ks_definitions_freep) ks_definitions *d = NULL;

        ASSERT_EQ(mkdir(at("empty"), 0755), 0);
        ASSERT_OK(ks_definitions_load(at("empty"), &d));
        EXPECT_EQ(d->n_total, 0);
        EXPECT_EQ(d->n_services, 0);
        EXPECT_EQ(d->n_failed, 0);
        EXPECT_FALSE(ks_definitions_failed(d, "web"));
        d = ks_definitions_free(d);

        /* A search path without a directory in it cannot be used. */
        ASSERT_ERROR(ks_definitions_load(":", &d), EINVAL);
        EXPECT_NULL(d);
        EXPECT_NULL(ks_definitions_free(NULL));
}

int main(int argc, char *argv[]) {
        return ks_test_run_in_tmpdir(argc, argv, root, NULL);
}

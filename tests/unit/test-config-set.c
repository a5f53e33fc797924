/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests for lib/config-set.c: search path precedence, masking (empty file, /dev/null symlink),
 * drop-ins from several directories, invalid names, sorting, and explicit file lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-set.h"
#include "test.h"

static char root[] = "/tmp/ks-config-set.XXXXXX";

static void put(const char *rel, const char *content) {
        char p[512], dir[512];

        snprintf(p, sizeof p, "%s/%s", root, rel);
        snprintf(dir, sizeof dir, "%s", p);
        for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                (void) mkdir(dir, 0755);
                *s = '/';
        }
        if (content) {
                FILE *f = fopen(p, "we");
                if (!f)
                        abort();
                fputs(content, f);
                fclose(f);
        } else if (symlink("/dev/null", p) < 0)
                abort();
}

static char *at(const char *rel) {
        static char buf[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof buf[i], "%s/%s", root, rel);
        return buf[i];
}

/* The tree every test but the last reads. */
static void put_fixture(void) {
        put("etc/web.toml", "exec = [\"/bin/true\"]\n");
        put("usr/web.toml", "exec = [\"/bin/false\"]\n");
        put("usr/db.toml", "exec = [\"/bin/true\"]\n");
        put("run/db.toml", "");                         /* masks usr/db.toml */
        put("etc/cache.toml", NULL);                    /* /dev/null symlink: masked */
        put("usr/cache.toml", "exec = [\"/bin/true\"]\n");
        put("usr/api.toml", "exec = [\"/bin/true\"]\n");
        put("etc/bad name.toml", "exec = [\"/bin/true\"]\n");
        put("etc/x.service.toml", "exec = [\"/bin/true\"]\n");
        put("etc/.hidden.toml", "exec = [\"/bin/true\"]\n");
        put("etc/notes.txt", "hello");
        put("etc/web.toml.d/20-b.toml", "a = 1\n");
        put("usr/web.toml.d/20-b.toml", "a = 2\n");     /* shadowed by etc's 20-b */
        put("usr/web.toml.d/10-a.toml", "a = 3\n");
        put("run/web.toml.d/30-c.toml", "a = 4\n");
        put("run/web.toml.d/15-masked.toml", "");
        put("usr/web.toml.d/15-masked.toml", "a = 5\n");
        put("usr/web.toml.d/readme.md", "no");
        put("usr/orphan.toml.d/10.toml", "a = 1\n");    /* no orphan.toml anywhere */
        put("usr/api.toml.d/.hidden.toml", "a = 1\n");
        put("etc/dir.toml/x", "not a file");            /* a directory named like a definition */
}

TEST(search_path) {
        ks_config_set *s = NULL;
        const ks_config_entry *e;
        char path[2048];

        snprintf(path, sizeof path, "%s:%s::%s:%s", at("etc"), at("run"), at("usr"), at("missing"));
        EXPECT_TRUE(ks_config_set_load(path, &s) == 0);
        EXPECT_TRUE(s != NULL);
        if (!s)
                return;

        EXPECT_TRUE(s->n_entries == 4);
        const char *names[] = { "api", "cache", "db", "web" };
        for (size_t i = 0; i < 4 && i < s->n_entries; i++)
                EXPECT_TRUE(streq(s->entries[i].name, names[i]));

        e = ks_config_set_find(s, "web");
        EXPECT_TRUE(e && streq(e->path, at("etc/web.toml")) && !e->masked);
        EXPECT_TRUE(e && e->n_dropins == 3);
        if (e && e->n_dropins == 3) {
                EXPECT_TRUE(streq(e->dropins[0], at("usr/web.toml.d/10-a.toml")));
                EXPECT_TRUE(streq(e->dropins[1], at("etc/web.toml.d/20-b.toml")));
                EXPECT_TRUE(streq(e->dropins[2], at("run/web.toml.d/30-c.toml")));
        }
        e = ks_config_set_find(s, "db");
        EXPECT_TRUE(e && e->masked && streq(e->path, at("run/db.toml")) && e->n_dropins == 0);
        e = ks_config_set_find(s, "cache");
        EXPECT_TRUE(e && e->masked);
        e = ks_config_set_find(s, "api");
        EXPECT_TRUE(e && !e->masked && e->n_dropins == 0 && streq(e->path, at("usr/api.toml")));
        EXPECT_TRUE(!ks_config_set_find(s, "orphan"));
        EXPECT_TRUE(!ks_config_set_find(s, "zzz"));

        /* "bad name", "x.service" and the directory "dir.toml" are reported. */
        EXPECT_TRUE(s->n_problems == 3);
        bool saw_bad = false, saw_svc = false, saw_dir = false;
        for (size_t i = 0; i < s->n_problems; i++) {
                if (streq(s->problems[i].path, at("etc/bad name.toml")))
                        saw_bad = strstr(s->problems[i].message, "not a valid service name") != NULL;
                if (streq(s->problems[i].path, at("etc/x.service.toml")))
                        saw_svc = true;
                if (streq(s->problems[i].path, at("etc/dir.toml")))
                        saw_dir = strstr(s->problems[i].message, "not a regular file") != NULL;
        }
        EXPECT_TRUE(saw_bad && saw_svc && saw_dir);
        s = ks_config_set_free(s);
}

/* The environment variable is the default search path. */
TEST(environment) {
        ks_config_set *s = NULL;

        setenv("KSERVICE_CONFIG_PATH", at("usr"), 1);
        EXPECT_TRUE(streq(ks_config_search_path(), at("usr")));
        EXPECT_TRUE(ks_config_set_load(NULL, &s) == 0);
        EXPECT_TRUE(s && s->n_entries == 4);          /* api cache db web, none masked here */
        if (s)
                for (size_t i = 0; i < s->n_entries; i++)
                        EXPECT_TRUE(!s->entries[i].masked);
        s = ks_config_set_free(s);
        unsetenv("KSERVICE_CONFIG_PATH");

        EXPECT_TRUE(ks_config_set_load(":", &s) == -EINVAL);
}

/* Explicit files. */
TEST(files) {
        ks_config_set *s = NULL;
        const ks_config_entry *e;

        char *files[] = { at("usr/web.toml"), at("etc/bad name.toml"), at("run/db.toml") };
        EXPECT_TRUE(ks_config_set_load_files(files, 3, &s) == 0);
        EXPECT_TRUE(s && s->n_entries == 2 && s->n_problems == 1);
        e = s ? ks_config_set_find(s, "web") : NULL;
        EXPECT_TRUE(e && e->n_dropins == 3);     /* usr/web.toml.d: 10-a, 15-masked (a real file here), 20-b */
        e = s ? ks_config_set_find(s, "db") : NULL;
        EXPECT_TRUE(e && e->masked);
        s = ks_config_set_free(s);
}

/* A file that cannot be read: a problem with the reason. */
TEST(unreadable) {
        ks_config_set *s = NULL;

        char *missing[] = { at("etc/nonexistent.toml") };
        EXPECT_TRUE(ks_config_set_load_files(missing, 1, &s) == 0);
        EXPECT_TRUE(s && s->n_entries == 0 && s->n_problems == 1);
        if (s && s->n_problems == 1) {
                EXPECT_TRUE(s->problems[0].error == -ENOENT);
                EXPECT_TRUE(streq(s->problems[0].message, "cannot read: No such file or directory"));
        }
        s = ks_config_set_free(s);
}

/* Many definitions: sorted and found. */
TEST(many) {
        ks_config_set *s = NULL;

        put("many/.keep", "");
        for (unsigned i = 0; i < 3000; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "many/svc-%04u.toml", (i * 7919) % 3000);
                put(rel, "exec = [\"/bin/true\"]\n");
        }
        EXPECT_TRUE(ks_config_set_load(at("many"), &s) == 0);
        EXPECT_TRUE(s && s->n_entries == 3000);
        for (size_t i = 1; s && i < s->n_entries; i++)
                EXPECT_TRUE(strcmp(s->entries[i - 1].name, s->entries[i].name) < 0);
        s = ks_config_set_free(s);
}

int main(int argc, char *argv[]) {
        return ks_test_run_in_tmpdir(argc, argv, root, put_fixture);
}

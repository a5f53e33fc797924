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

static unsigned failures, checks;

#define CHECK(cond)                                                                 \
        do {                                                                        \
                checks++;                                                           \
                if (!(cond)) {                                                      \
                        failures++;                                                 \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                   \
        } while (0)

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

int main(void) {
        ks_config_set *s = NULL;
        char path[2048];

        if (!mkdtemp(root))
                return EXIT_FAILURE;

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

        snprintf(path, sizeof path, "%s:%s::%s:%s", at("etc"), at("run"), at("usr"), at("missing"));
        CHECK(ks_config_set_load(path, &s) == 0);
        CHECK(s != NULL);
        if (!s)
                return EXIT_FAILURE;

        CHECK(s->n_entries == 4);
        const char *names[] = { "api", "cache", "db", "web" };
        for (size_t i = 0; i < 4 && i < s->n_entries; i++)
                CHECK(streq(s->entries[i].name, names[i]));

        const ks_config_entry *e = ks_config_set_find(s, "web");
        CHECK(e && streq(e->path, at("etc/web.toml")) && !e->masked);
        CHECK(e && e->n_dropins == 3);
        if (e && e->n_dropins == 3) {
                CHECK(streq(e->dropins[0], at("usr/web.toml.d/10-a.toml")));
                CHECK(streq(e->dropins[1], at("etc/web.toml.d/20-b.toml")));
                CHECK(streq(e->dropins[2], at("run/web.toml.d/30-c.toml")));
        }
        e = ks_config_set_find(s, "db");
        CHECK(e && e->masked && streq(e->path, at("run/db.toml")) && e->n_dropins == 0);
        e = ks_config_set_find(s, "cache");
        CHECK(e && e->masked);
        e = ks_config_set_find(s, "api");
        CHECK(e && !e->masked && e->n_dropins == 0 && streq(e->path, at("usr/api.toml")));
        CHECK(!ks_config_set_find(s, "orphan"));
        CHECK(!ks_config_set_find(s, "zzz"));

        /* "bad name", "x.service" and the directory "dir.toml" are reported. */
        CHECK(s->n_problems == 3);
        bool saw_bad = false, saw_svc = false, saw_dir = false;
        for (size_t i = 0; i < s->n_problems; i++) {
                if (streq(s->problems[i].path, at("etc/bad name.toml")))
                        saw_bad = strstr(s->problems[i].message, "not a valid service name") != NULL;
                if (streq(s->problems[i].path, at("etc/x.service.toml")))
                        saw_svc = true;
                if (streq(s->problems[i].path, at("etc/dir.toml")))
                        saw_dir = strstr(s->problems[i].message, "not a regular file") != NULL;
        }
        CHECK(saw_bad && saw_svc && saw_dir);
        s = ks_config_set_free(s);

        /* The environment variable is the default search path. */
        setenv("KSERVICE_CONFIG_PATH", at("usr"), 1);
        CHECK(streq(ks_config_search_path(), at("usr")));
        CHECK(ks_config_set_load(NULL, &s) == 0);
        CHECK(s && s->n_entries == 4);          /* api cache db web, none masked here */
        if (s)
                for (size_t i = 0; i < s->n_entries; i++)
                        CHECK(!s->entries[i].masked);
        s = ks_config_set_free(s);
        unsetenv("KSERVICE_CONFIG_PATH");

        CHECK(ks_config_set_load(":", &s) == -EINVAL);

        /* Explicit files. */
        char *files[] = { at("usr/web.toml"), at("etc/bad name.toml"), at("run/db.toml") };
        CHECK(ks_config_set_load_files(files, 3, &s) == 0);
        CHECK(s && s->n_entries == 2 && s->n_problems == 1);
        e = s ? ks_config_set_find(s, "web") : NULL;
        CHECK(e && e->n_dropins == 3);     /* usr/web.toml.d: 10-a, 15-masked (a real file here), 20-b */
        e = s ? ks_config_set_find(s, "db") : NULL;
        CHECK(e && e->masked);
        s = ks_config_set_free(s);

        /* A file that cannot be read: a problem with the reason. */
        char *missing[] = { at("etc/nonexistent.toml") };
        CHECK(ks_config_set_load_files(missing, 1, &s) == 0);
        CHECK(s && s->n_entries == 0 && s->n_problems == 1);
        if (s && s->n_problems == 1) {
                CHECK(s->problems[0].error == -ENOENT);
                CHECK(streq(s->problems[0].message, "cannot read: No such file or directory"));
        }
        s = ks_config_set_free(s);

        /* Many definitions: sorted and found. */
        put("many/.keep", "");
        for (unsigned i = 0; i < 3000; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "many/svc-%04u.toml", (i * 7919) % 3000);
                put(rel, "exec = [\"/bin/true\"]\n");
        }
        CHECK(ks_config_set_load(at("many"), &s) == 0);
        CHECK(s && s->n_entries == 3000);
        for (size_t i = 1; s && i < s->n_entries; i++)
                CHECK(strcmp(s->entries[i - 1].name, s->entries[i].name) < 0);
        s = ks_config_set_free(s);

        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", root);

        printf("%u checks, %u failed\n", checks, failures);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

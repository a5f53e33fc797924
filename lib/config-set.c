/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enumerates definitions on the search path (rules in config-set.h). Everything found is first
 * collected into flat arrays, then sorted once and de-duplicated, so 10 000 definitions cost a
 * sort, not a quadratic number of comparisons.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "config-set.h"
#include "config.h"
#include "service.h"

#define NAME_RULE "not a valid service name (up to 238 characters from A-Z a-z 0-9 _ . : -, " \
        "not starting with '.' or '-', not ending in a unit type suffix such as \".service\")"

typedef struct candidate {
        char *name;             /* NAME */
        char *file;             /* drop-in file name, NULL for a main NAME.toml */
        char *path;
        size_t dir_index;       /* position on the search path: lower wins */
} candidate;

typedef struct collector {
        candidate *mains, *dropins;
        size_t n_mains, n_dropins, a_mains, a_dropins;
        ks_config_set *set;
} collector;

const char *ks_config_search_path(void) {
        const char *e = getenv("KSERVICE_CONFIG_PATH");
        return e && *e ? e : KSERVICE_CONFIG_PATH_DEFAULT;
}

static void candidate_done(candidate *c) {
        free(c->name);
        free(c->file);
        free(c->path);
}

static void entry_done(ks_config_entry *e) {
        free(e->name);
        free(e->path);
        for (size_t i = 0; i < e->n_dropins; i++)
                free(e->dropins[i]);
        free(e->dropins);
}

ks_config_set *ks_config_set_free(ks_config_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_entries; i++)
                entry_done(&s->entries[i]);
        free(s->entries);
        for (size_t i = 0; i < s->n_problems; i++) {
                free(s->problems[i].path);
                free(s->problems[i].message);
        }
        free(s->problems);
        free(s);
        return NULL;
}

static int add_problem(ks_config_set *s, const char *path, int error, const char *message) {
        ks_config_problem *p;

        p = reallocarray(s->problems, s->n_problems + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        s->problems = p;
        p = &s->problems[s->n_problems];
        p->path = strdup(path);
        p->message = strdup(message);
        p->error = error;
        if (!p->path || !p->message) {
                free(p->path);
                free(p->message);
                return -ENOMEM;
        }
        s->n_problems++;
        return 0;
}

/* A definition or drop-in that cannot be used: why, in words (no "ignoring": the caller fails). */
static int add_unreadable(ks_config_set *s, const char *path, int error) {
        char msg[128];

        if (error == -EBADFD)
                snprintf(msg, sizeof msg, "not a regular file");
        else
                snprintf(msg, sizeof msg, "cannot read: %s", strerror(-error));
        return add_problem(s, path, error, msg);
}

static int push(candidate **array, size_t *n, size_t *allocated, candidate c) {
        if (*n == *allocated) {
                size_t a = MAX(*allocated * 2, (size_t) 64);
                candidate *p = reallocarray(*array, a, sizeof(candidate));
                if (!p)
                        return -ENOMEM;
                *array = p;
                *allocated = a;
        }
        (*array)[(*n)++] = c;
        return 0;
}

static char *path_join2(const char *dir, const char *file) {
        char *p;
        size_t n = strlen(dir);

        if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", file) < 0)
                return NULL;
        return p;
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_stem) {
        size_t n = strlen(s), m = strlen(suffix);

        if (n <= m || !streq(s + n - m, suffix))
                return false;
        *ret_stem = n - m;
        return true;
}

static int scan_dropin_dir(collector *c, const char *dirpath, const char *name, size_t dir_index) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        d = opendir(dirpath);
        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return add_problem(c->set, dirpath, -errno, "cannot read drop-in directory");
        }
        while ((errno = 0, de = readdir(d))) {
                size_t stem;

                if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".toml", &stem))
                        continue;
                candidate cand = {
                        .name = strdup(name),
                        .file = strdup(de->d_name),
                        .path = path_join2(dirpath, de->d_name),
                        .dir_index = dir_index,
                };
                if (!cand.name || !cand.file || !cand.path) {
                        candidate_done(&cand);
                        return -ENOMEM;
                }
                r = push(&c->dropins, &c->n_dropins, &c->a_dropins, cand);
                if (r < 0) {
                        candidate_done(&cand);
                        return r;
                }
        }
        if (errno != 0)
                return add_problem(c->set, dirpath, -errno, "cannot read drop-in directory");
        return 0;
}

static int scan_dir(collector *c, const char *dir, size_t dir_index) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return add_problem(c->set, dir, -errno, "cannot read configuration directory");
        }
        while ((errno = 0, de = readdir(d))) {
                size_t stem;

                if (de->d_name[0] == '.')
                        continue;

                if (has_suffix(de->d_name, ".toml.d", &stem)) {
                        _cleanup_free_ char *name = strndup(de->d_name, stem);
                        _cleanup_free_ char *sub = path_join2(dir, de->d_name);
                        if (!name || !sub)
                                return -ENOMEM;
                        /* Invalid names are reported for their main file; a stray drop-in
                         * directory for one is simply never used. */
                        if (!ks_service_name_is_valid(name))
                                continue;
                        r = scan_dropin_dir(c, sub, name, dir_index);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!has_suffix(de->d_name, ".toml", &stem))
                        continue;

                candidate cand = {
                        .name = strndup(de->d_name, stem),
                        .path = path_join2(dir, de->d_name),
                        .dir_index = dir_index,
                };
                if (!cand.name || !cand.path) {
                        candidate_done(&cand);
                        return -ENOMEM;
                }
                if (!ks_service_name_is_valid(cand.name)) {
                        r = add_problem(c->set, cand.path, -EINVAL,
                                        NAME_RULE ", ignoring");
                        candidate_done(&cand);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = push(&c->mains, &c->n_mains, &c->a_mains, cand);
                if (r < 0) {
                        candidate_done(&cand);
                        return r;
                }
        }
        if (errno != 0)
                return add_problem(c->set, dir, -errno, "cannot read configuration directory");
        return 0;
}

static int cmp_candidate(const void *a, const void *b) {
        const candidate *x = a, *y = b;
        int r = strcmp(x->name, y->name);

        if (r != 0)
                return r;
        if (x->file || y->file) {
                r = strcmp(x->file ?: "", y->file ?: "");
                if (r != 0)
                        return r;
        }
        return x->dir_index < y->dir_index ? -1 : x->dir_index > y->dir_index;
}

/* Whether path is a mask: an empty file or a symlink to /dev/null. 1 masked, 0 a usable regular
 * file, negative errno when it cannot be used. */
static int check_masked(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                char target[16];
                ssize_t n = readlink(path, target, sizeof target - 1);
                if (n >= 0) {
                        target[n] = 0;
                        if (streq(target, "/dev/null"))
                                return 1;
                }
                if (stat(path, &st) < 0)
                        return -errno;
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return 1;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return st.st_size == 0;
}

static int finish(collector *c, ks_config_set **ret) {
        ks_config_set *s = c->set;
        const char *prev = NULL;       /* the previous name, wherever it lives now */
        size_t di = 0;
        int r;

        if (c->n_mains > 0)
                qsort(c->mains, c->n_mains, sizeof(candidate), cmp_candidate);
        if (c->n_dropins > 0)
                qsort(c->dropins, c->n_dropins, sizeof(candidate), cmp_candidate);

        s->entries = calloc(MAX(c->n_mains, (size_t) 1), sizeof(ks_config_entry));
        if (!s->entries)
                return -ENOMEM;

        for (size_t i = 0; i < c->n_mains; i++) {
                candidate *m = &c->mains[i];

                if (prev && streq(m->name, prev))
                        continue;       /* shadowed by an earlier directory */
                prev = m->name;

                r = check_masked(m->path);
                if (r < 0) {
                        r = add_unreadable(s, m->path, r);
                        if (r < 0)
                                return r;
                        continue;
                }

                ks_config_entry *e = &s->entries[s->n_entries++];
                e->name = TAKE_PTR(m->name);
                prev = e->name;
                e->path = TAKE_PTR(m->path);
                e->masked = r > 0;

                /* Both arrays are sorted by name: walk the drop-ins along. */
                while (di < c->n_dropins && strcmp(c->dropins[di].name, e->name) < 0)
                        di++;
                size_t first = di, count = 0;
                while (di < c->n_dropins && streq(c->dropins[di].name, e->name)) {
                        di++;
                        count++;
                }
                if (e->masked || count == 0)
                        continue;
                e->dropins = calloc(count, sizeof(char *));
                if (!e->dropins)
                        return -ENOMEM;
                for (size_t k = first; k < first + count; k++) {
                        candidate *d = &c->dropins[k];

                        if (k > first && streq(d->file, c->dropins[k - 1].file))
                                continue;
                        r = check_masked(d->path);
                        if (r > 0)
                                continue;
                        if (r < 0) {
                                r = add_unreadable(s, d->path, r);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        e->dropins[e->n_dropins++] = TAKE_PTR(d->path);
                }
        }
        *ret = TAKE_PTR(c->set);
        return 0;
}

static void collector_done(collector *c) {
        for (size_t i = 0; i < c->n_mains; i++)
                candidate_done(&c->mains[i]);
        for (size_t i = 0; i < c->n_dropins; i++)
                candidate_done(&c->dropins[i]);
        free(c->mains);
        free(c->dropins);
        ks_config_set_free(c->set);
}

int ks_config_set_load(const char *search_path, ks_config_set **ret) {
        collector c = {};
        const char *p;
        size_t index = 0;
        int r;

        if (!search_path)
                search_path = ks_config_search_path();

        c.set = calloc(1, sizeof(ks_config_set));
        if (!c.set)
                return -ENOMEM;

        p = search_path;
        for (;;) {
                size_t n = strcspn(p, ":");
                if (n > 0) {
                        _cleanup_free_ char *dir = strndup(p, n);
                        if (!dir) {
                                r = -ENOMEM;
                                goto out;
                        }
                        r = scan_dir(&c, dir, index++);
                        if (r < 0)
                                goto out;
                }
                if (!p[n])
                        break;
                p += n + 1;
        }
        if (index == 0) {
                r = -EINVAL;
                goto out;
        }
        r = finish(&c, ret);
out:
        collector_done(&c);
        return r;
}

/* SourcePath= and messages want an absolute path, but "kservicectl verify web.toml" names a
 * relative one: resolve its directory, keep the file name itself (it may be a /dev/null mask). */
static int path_make_absolute(const char *p, char **ret) {
        _cleanup_free_ char *dir = NULL, *real = NULL;
        const char *slash = strrchr(p, '/');
        char *abs;

        if (p[0] == '/') {
                abs = strdup(p);
                if (!abs)
                        return -ENOMEM;
                *ret = abs;
                return 0;
        }
        dir = slash ? strndup(p, slash - p) : strdup(".");
        if (!dir)
                return -ENOMEM;
        real = realpath(dir, NULL);
        if (!real)
                return errno == ENOMEM ? -ENOMEM : -errno;
        if (asprintf(&abs, "%s/%s", streq(real, "/") ? "" : real, slash ? slash + 1 : p) < 0)
                return -ENOMEM;
        *ret = abs;
        return 0;
}

int ks_config_set_load_files(char *const *files, size_t n, ks_config_set **ret) {
        collector c = {};
        int r = 0;

        c.set = calloc(1, sizeof(ks_config_set));
        if (!c.set)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                const char *base = strrchr(files[i], '/');
                size_t stem;

                base = base ? base + 1 : files[i];
                candidate cand = {
                        .name = has_suffix(base, ".toml", &stem) ? strndup(base, stem) : strdup(base),
                        .dir_index = i,
                };
                r = path_make_absolute(files[i], &cand.path);
                if (r == -ENOMEM) {
                        candidate_done(&cand);
                        goto out;
                }
                if (r < 0) {
                        r = add_problem(c.set, files[i], r, "cannot resolve the directory of the file");
                        candidate_done(&cand);
                        if (r < 0)
                                goto out;
                        continue;
                }
                if (!cand.name) {
                        candidate_done(&cand);
                        r = -ENOMEM;
                        goto out;
                }
                if (!ks_service_name_is_valid(cand.name)) {
                        r = add_problem(c.set, cand.path, -EINVAL,
                                        NAME_RULE);
                        candidate_done(&cand);
                        if (r < 0)
                                goto out;
                        continue;
                }
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s.d", cand.path) < 0) {
                        candidate_done(&cand);
                        r = -ENOMEM;
                        goto out;
                }
                r = scan_dropin_dir(&c, sub, cand.name, i);
                if (r >= 0)
                        r = push(&c.mains, &c.n_mains, &c.a_mains, cand);
                if (r < 0) {
                        candidate_done(&cand);
                        goto out;
                }
        }
        r = finish(&c, ret);
out:
        collector_done(&c);
        return r;
}

const ks_config_entry *ks_config_set_find(const ks_config_set *s, const char *name) {
        size_t lo = 0, hi = s->n_entries;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = strcmp(name, s->entries[mid].name);

                if (r == 0)
                        return &s->entries[mid];
                if (r < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

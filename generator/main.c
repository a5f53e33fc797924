/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservice-generator: a systemd generator (systemd.generator(7)) writing konivrer@NAME.service
 * and its companions for every /etc/kservice/NAME.toml, and, with --dry-run, printing them.
 * The definitions are read by lib/config-set.c and lib/service.c and turned into text by
 * lib/unit-gen.c; this file only chooses where output and logs go.
 *
 * It never talks to D-Bus (the manager is busy running generators) and never fails the boot: a
 * broken definition is logged as FILE:LINE:COL and skipped, the others are still written, and the
 * exit status (1) only tells that something was skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config-set.h"
#include "macro.h"
#include "unit-gen.h"

static int log_fd = -EBADF;     /* /dev/kmsg when run by systemd, else stderr */
static int max_level = LOG_INFO;

/* systemd's generator environment: $SYSTEMD_SCOPE (systemd >= 251) says we run under the manager,
 * where stderr goes nowhere useful and /dev/kmsg ends up in the journal of the boot.
 * $KSERVICE_LOG_TARGET=stderr|kmsg overrides the guess (tests). */
static void log_open(void) {
        const char *t = getenv("KSERVICE_LOG_TARGET");
        const char *level = getenv("SYSTEMD_LOG_LEVEL");
        bool kmsg;

        if (t && streq(t, "kmsg"))
                kmsg = true;
        else if (t && streq(t, "stderr"))
                kmsg = false;
        else if ((t = getenv("SYSTEMD_LOG_TARGET")) && *t)
                kmsg = !streq(t, "console");
        else
                kmsg = getenv("SYSTEMD_SCOPE") != NULL;

        if (kmsg)
                log_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);

        if (level) {
                static const char *const names[] = { "emerg", "alert", "crit", "err", "warning",
                                                     "notice", "info", "debug" };
                for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                        if (streq(level, names[i]) || (level[0] == '0' + i && !level[1]))
                                max_level = MAX(i, LOG_ERR);
        }
}

static void log_text(int level, const char *text) {
        if (level > max_level)
                return;
        if (log_fd >= 0) {
                char buf[1024];
                /* One write per record: the kernel takes it as one message. LOG_DAEMON, since
                 * kernel facility 0 is refused for user space. */
                int n = snprintf(buf, sizeof buf, "<%d>kservice-generator[%d]: %s\n",
                                 LOG_DAEMON | level, (int) getpid(), text);
                if (n >= (int) sizeof buf) {
                        n = sizeof buf - 1;
                        buf[n - 1] = '\n';
                }
                if (write(log_fd, buf, n) == n)
                        return;
        }
        fprintf(stderr, "%s\n", text);
}

_printf_(2, 3)
static int log_full(int level, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r >= 0)
                log_text(level, s);
        return -EIO;
}

static void log_cb(int level, const char *text, void *userdata) {
        log_text(level, text);
}

/* ---- writing the normal directory --------------------------------------------------------- */

typedef struct writer {
        const char *dir;
        int dir_fd;
} writer;

static int mkdir_parents_at(int dfd, const char *rel) {
        _cleanup_free_ char *p = strdup(rel);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdirat(dfd, p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

/* Writes to a temporary name in the same directory and renames it into place, so systemd (or a
 * concurrent reader) never sees a half-written unit, and a failure leaves nothing behind. */
static int write_atomic(int dfd, const ks_unit_file *u) {
        _cleanup_free_ char *tmp = NULL;
        const char *slash = strrchr(u->path, '/');
        int r;

        r = mkdir_parents_at(dfd, u->path);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%.*s.#%s.%d.tmp", slash ? (int) (slash - u->path + 1) : 0, u->path,
                     slash ? slash + 1 : u->path, (int) getpid()) < 0)
                return -ENOMEM;

        if (u->symlink) {
                (void) unlinkat(dfd, tmp, 0);
                if (symlinkat(u->symlink, dfd, tmp) < 0)
                        return -errno;
        } else {
                _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return -errno;
                for (size_t done = 0; done < u->size;) {
                        ssize_t n = write(fd, u->content + done, u->size - done);
                        if (n < 0) {
                                r = -errno;
                                (void) unlinkat(dfd, tmp, 0);
                                return r;
                        }
                        done += n;
                }
                if (fchmod(fd, 0644) < 0 || close(TAKE_FD(fd)) < 0) {
                        r = -errno;
                        (void) unlinkat(dfd, tmp, 0);
                        return r;
                }
        }
        if (renameat(dfd, tmp, dfd, u->path) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static int emit_write(const ks_service *s, const ks_unit_files *files, void *userdata) {
        writer *w = userdata;

        for (size_t i = 0; i < files->n; i++) {
                int r = write_atomic(w->dir_fd, &files->items[i]);
                if (r < 0) {
                        log_full(LOG_ERR, "%s: cannot write %s/%s: %s", s->files[0], w->dir,
                                 files->items[i].path, strerror(-r));
                        return r;
                }
        }
        return 0;
}

static int emit_print(const ks_service *s, const ks_unit_files *files, void *userdata) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = ks_unit_files_format(files, &text, &size);
        if (r < 0)
                return r;
        if (fwrite(text, 1, size, stdout) != size)
                return -EIO;
        return 0;
}

static int run(const char *normal, const char *early, const char *late) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        _cleanup_close_ int dfd = -EBADF;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        r = ks_config_set_load(NULL, &set);
        if (r < 0)
                return log_full(LOG_ERR, "Cannot read the definitions on %s: %s", ks_config_search_path(),
                                strerror(-r));

        if (set->n_entries == 0 && set->n_problems == 0)
                return 0;

        dfd = open(normal, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT && mkdir(normal, 0755) >= 0)
                dfd = open(normal, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return log_full(LOG_ERR, "Cannot open output directory %s: %m", normal);

        writer w = { .dir = normal, .dir_fd = dfd };
        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_write, .userdata = &w };
        r = ks_unit_gen_set(set, &o, &cb);
        if (r < 0)
                return log_full(LOG_ERR, "Out of memory");
        return r > 0 ? -EIO : 0;
}

static int dry_run(char **files, size_t n) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        r = n > 0 ? ks_config_set_load_files(files, n, &set) : ks_config_set_load(NULL, &set);
        if (r < 0)
                return log_full(LOG_ERR, "Cannot read the definitions: %s", strerror(-r));

        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_print };
        r = ks_unit_gen_set(set, &o, &cb);
        if (fflush(stdout) != 0)
                return log_full(LOG_ERR, "Cannot write to standard output: %m");
        if (r < 0)
                return log_full(LOG_ERR, "Out of memory");
        return r > 0 ? -EIO : 0;
}

static void help(void) {
        printf("Usage: kservice-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
               "       kservice-generator --dry-run [FILE...]\n\n"
               "Turns kservice definitions (kservice.toml(5)) into konivrer@NAME.service units.\n\n"
               "  --dry-run    print the units that would be written, write nothing\n"
               "  -h --help    show this help\n"
               "  --version    show the version\n\n"
               "Definitions are read from $KSERVICE_CONFIG_PATH or %s.\n",
               ks_config_search_path());
}

int main(int argc, char **argv) {
        enum { ARG_VERSION = 0x100, ARG_DRY_RUN };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                {}
        };
        bool dry = false;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("kservice-generator %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ARG_DRY_RUN:
                        dry = true;
                        break;
                default:
                        return 2;
                }

        if (dry) {
                log_fd = -EBADF;        /* a person is watching: always stderr */
                return dry_run(argv + optind, argc - optind) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        if (argc - optind != 1 && argc - optind != 3) {
                fprintf(stderr, "Expected one or three output directories (see --help).\n");
                return 2;
        }
        log_open();
        return run(argv[optind], argc - optind > 1 ? argv[optind + 1] : NULL,
                   argc - optind > 2 ? argv[optind + 2] : NULL) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservice-generator: a systemd generator (systemd.generator(7)) writing konivrer@NAME.service
 * and its companions for every /etc/kservice/NAME.toml, and, with --dry-run, printing them.
 * The definitions are read by lib/config-set.c and lib/service.c and turned into text by
 * lib/unit-gen.c; this file only chooses where output and logs go.
 *
 * It never talks to D-Bus (the manager is busy running generators) and never fails the boot: a
 * broken definition is logged as FILE:LINE:COL and gets no unit, only a drop-in that makes the
 * fallback template fail with its first error; the others are still written, and the exit status
 * (1) only tells that something was skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-set.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "unit-gen.h"
#include "unit-writer.h"

/* Where messages go. Under systemd the generator's stdout and stderr are /dev/null, so:
 *  - the journal's native socket when journald is up (daemon-reload);
 *  - else /dev/kmsg when it is a real kernel log (boot on a machine: journald imports it later);
 *  - else (boot in a container, where /dev/kmsg is missing and journald not yet started) the
 *    messages are kept and written as kservice-generator-report.service into the normal
 *    directory, a oneshot pulled in by multi-user.target that prints them into the journal
 *    once it runs;
 *  - stderr when a person runs the generator.
 * $KSERVICE_LOG_TARGET=stderr|kmsg|journal|report forces one (tests); $SYSTEMD_LOG_TARGET=console
 * means stderr. */
static void log_setup(void) {
        const char *t = getenv("KSERVICE_LOG_TARGET");
        const char *level = getenv("SYSTEMD_LOG_LEVEL");
        const char *sd_target = getenv("SYSTEMD_LOG_TARGET");
        bool under_systemd = getenv("SYSTEMD_SCOPE") || sd_target;

        ks_log_set_identifier("kservice-generator");
        if (!t && sd_target && streq(sd_target, "console"))
                t = "stderr";

        /* ks_log_open() stays on stderr when it cannot open the target. */
        if (t && streq(t, "report"))
                (void) ks_log_open(KS_LOG_TARGET_MEMORY);
        else if (t && streq(t, "journal"))
                (void) ks_log_open(KS_LOG_TARGET_JOURNAL);
        else if (t && streq(t, "kmsg"))
                (void) ks_log_open(KS_LOG_TARGET_KMSG);
        else if (!t && under_systemd && ks_log_open(KS_LOG_TARGET_JOURNAL) < 0 &&
                 ks_log_open(KS_LOG_TARGET_KMSG) < 0)
                (void) ks_log_open(KS_LOG_TARGET_MEMORY);

        if (level) {
                int l = ks_log_level_from_string(level);
                if (l < 0 && level[0] >= '0' && level[0] <= '7' && !level[1])
                        l = level[0] - '0';
                if (l >= 0)
                        ks_log_set_max_level(MAX(l, LOG_ERR));
        }
}

static void log_cb(int level, const char *text, void *userdata) {
        (void) ks_log_string(level, text);
}

/* ---- writing the normal directory --------------------------------------------------------- */

typedef struct writer {
        const char *dir;
        int dir_fd;
        char *last_dir;         /* the last subdirectory made, to skip mkdir for its siblings */
        int pid;
} writer;

static int mkdir_parents_at(writer *w, const char *rel) {
        const char *slash = strrchr(rel, '/');
        _cleanup_free_ char *p = NULL;

        if (!slash)
                return 0;
        p = strndup(rel, slash - rel);
        if (!p)
                return -ENOMEM;
        if (w->last_dir && streq(w->last_dir, p))
                return 0;
        for (char *s = strchr(p, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = 0;
                if (mkdirat(w->dir_fd, p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (!s)
                        break;
                *s = '/';
        }
        free(w->last_dir);
        w->last_dir = TAKE_PTR(p);
        return 0;
}

/* Writes to a temporary name in the same directory and renames it into place, so systemd (or a
 * concurrent reader) never sees a half-written unit, and a failure leaves nothing behind. */
static int write_atomic(writer *w, const ks_unit_file *u) {
        _cleanup_free_ char *tmp = NULL;
        const char *slash = strrchr(u->path, '/');
        int dfd = w->dir_fd, r;

        r = mkdir_parents_at(w, u->path);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%.*s.#%s.%d.tmp", slash ? (int) (slash - u->path + 1) : 0, u->path,
                     slash ? slash + 1 : u->path, w->pid) < 0)
                return -ENOMEM;

        if (u->symlink) {
                if (symlinkat(u->symlink, dfd, tmp) < 0) {
                        /* A leftover of a killed earlier run with our PID: replace it. */
                        if (errno != EEXIST || unlinkat(dfd, tmp, 0) < 0 || symlinkat(u->symlink, dfd, tmp) < 0)
                                return -errno;
                }
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
                if (close(TAKE_FD(fd)) < 0) {
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

static int write_files(writer *w, const char *definition, const ks_unit_files *files) {
        for (size_t i = 0; i < files->n; i++) {
                int r = write_atomic(w, &files->items[i]);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot write %s/%s: %m", definition, w->dir, files->items[i].path);
        }
        return 0;
}

static int emit_write(const ks_service *s, const ks_unit_files *files, void *userdata) {
        return write_files(userdata, s->files[0], files);
}

/* The drop-in that makes the fallback template name the error of an invalid definition. */
static int emit_invalid_write(const char *path, const ks_unit_files *files, void *userdata) {
        return write_files(userdata, path, files);
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

/* KS_LOG_TARGET_MEMORY: the messages become a oneshot unit printing them (see log_setup()). */
static int write_report(writer *w, char *const *report) {
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        int r;

        r = ks_unit_text_comment(&t, "Generated by kservice-generator: the messages of its last run, which could not\n"
                                 "be logged when it ran (no journal and no /dev/kmsg yet). Prints them once.", NULL);
        if (r >= 0)
                r = ks_unit_text_section(&t, "Unit");
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Description", "Messages of kservice-generator");
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Documentation", "man:kservice-generator(8)");
        if (r >= 0)
                r = ks_unit_text_section(&t, "Service");
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Type", "oneshot");
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "SyslogIdentifier", "kservice-generator");
        for (char *const *m = report; r >= 0 && m && *m; m++) {
                _cleanup_free_ char *line = NULL;
                /* "<3>": journald reads the priority from this prefix (SyslogLevelPrefix=yes). */
                if (asprintf(&line, "<%d>%s", LOG_ERR, *m) < 0)
                        r = -ENOMEM;
                else {
                        const char *argv[] = { "/bin/echo", line };
                        r = ks_unit_text_add_exec(&t, "ExecStart", argv, 2, NULL, NULL);
                }
        }
        if (r >= 0) {
                size_t size;
                _cleanup_free_ char *content = ks_unit_text_steal(&t, &size);
                ks_unit_file f = { .path = (char *) "kservice-generator-report.service", .content = content, .size = size };
                ks_unit_file l = { .path = (char *) "multi-user.target.wants/kservice-generator-report.service",
                                   .symlink = (char *) "../kservice-generator-report.service" };
                r = content ? write_atomic(w, &f) : -ENOMEM;
                if (r >= 0)
                        r = write_atomic(w, &l);
        }
        ks_unit_text_done(&t);
        return r;
}

static void writer_done(writer *w) {
        free(w->last_dir);
}

/* A negative errno, the number of definitions skipped, or 0. */
static int run(const char *normal, const char *early, const char *late) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_(writer_done) writer w = { .dir = normal, .dir_fd = -EBADF, .pid = (int) getpid() };
        _cleanup_strv_free_ char **report = NULL;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        /* Units are 0644 and directories 0755 whatever umask we were started with, without a
         * chmod per file. */
        umask(0022);

        r = ks_config_set_load(NULL, &set);
        if (r < 0)
                return log_error_errno(r, "Cannot read the definitions on %s: %m", ks_config_search_path());

        if (set->n_entries == 0 && set->n_problems == 0)
                return 0;

        dfd = open(normal, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT && mkdir(normal, 0755) >= 0)
                dfd = open(normal, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return log_error_errno(-errno, "Cannot open output directory %s: %m", normal);
        w.dir_fd = dfd;

        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_write, .emit_invalid = emit_invalid_write,
                                     .userdata = &w };
        r = ks_unit_gen_set(set, &o, &cb);
        if (r < 0)
                log_error_errno(r, "Failed to generate units: %m");

        if (ks_log_get_target() == KS_LOG_TARGET_MEMORY) {
                int k;

                report = ks_log_take_kept();
                ks_log_close();         /* stderr from here on: the report is all we can leave */
                if (report) {
                        k = write_report(&w, report);
                        if (k < 0)
                                return log_error_errno(k, "Cannot write kservice-generator-report.service: %m");
                }
        }
        return r;
}

/* A negative errno, the number of definitions that did not make units, or 0. */
static int dry_run(char **files, size_t n) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        r = n > 0 ? ks_config_set_load_files(files, n, &set) : ks_config_set_load(NULL, &set);
        if (r < 0)
                return log_error_errno(r, "Cannot read the definitions: %m");

        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_print };
        r = ks_unit_gen_set(set, &o, &cb);
        if (fflush(stdout) != 0)
                return log_error_errno(-errno, "Cannot write to standard output: %m");
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        return r;
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

        /* --dry-run: a person is watching, so stderr whatever the environment says. */
        if (dry)
                return dry_run(argv + optind, argc - optind) != 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        if (argc - optind != 1 && argc - optind != 3) {
                log_error("Expected one or three output directories (see --help).");
                return 2;
        }
        log_setup();
        return run(argv[optind], argc - optind > 1 ? argv[optind + 1] : NULL,
                   argc - optind > 2 ? argv[optind + 2] : NULL) != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

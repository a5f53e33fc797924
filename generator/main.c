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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "config-set.h"
#include "macro.h"
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
typedef enum log_target {
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_KMSG,
        LOG_TARGET_REPORT,
} log_target;

static log_target target = LOG_TARGET_STDERR;
static int log_fd = -EBADF;
static int max_level = LOG_INFO;
static char **report;           /* LOG_TARGET_REPORT: the messages, for the report unit */
static size_t n_report;

static int open_journal(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        /* connect() on a datagram socket fails unless journald is listening. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int open_kmsg(void) {
        struct stat st;

        /* In containers /dev/kmsg may be missing or a plain file: only a real device will do. */
        if (stat("/dev/kmsg", &st) < 0 || !S_ISCHR(st.st_mode))
                return -ENODEV;
        int fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void log_open(void) {
        const char *t = getenv("KSERVICE_LOG_TARGET");
        const char *level = getenv("SYSTEMD_LOG_LEVEL");
        const char *sd_target = getenv("SYSTEMD_LOG_TARGET");
        bool under_systemd = getenv("SYSTEMD_SCOPE") || sd_target;

        if (!t && sd_target && streq(sd_target, "console"))
                t = "stderr";

        if (t && streq(t, "stderr"))
                target = LOG_TARGET_STDERR;
        else if (t && streq(t, "report"))
                target = LOG_TARGET_REPORT;
        else if ((t && streq(t, "journal")) || (!t && under_systemd && (log_fd = open_journal()) >= 0))
                target = LOG_TARGET_JOURNAL;
        else if ((t && streq(t, "kmsg")) || (!t && under_systemd))
                target = LOG_TARGET_KMSG;
        else
                target = LOG_TARGET_STDERR;

        if (target == LOG_TARGET_JOURNAL && log_fd < 0 && (log_fd = open_journal()) < 0)
                target = LOG_TARGET_STDERR;
        if (target == LOG_TARGET_KMSG && (log_fd = open_kmsg()) < 0)
                target = t ? LOG_TARGET_STDERR : LOG_TARGET_REPORT;

        if (level) {
                static const char *const names[] = { "emerg", "alert", "crit", "err", "warning",
                                                     "notice", "info", "debug" };
                for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                        if (streq(level, names[i]) || (level[0] == '0' + i && !level[1]))
                                max_level = MAX(i, LOG_ERR);
        }
}

static void log_text(int level, const char *text) {
        char buf[2048];
        int n;

        if (level > max_level)
                return;
        switch (target) {
        case LOG_TARGET_JOURNAL:
                /* The native protocol; text is one line (control characters are escaped). */
                n = snprintf(buf, sizeof buf, "PRIORITY=%d\nSYSLOG_FACILITY=%d\nSYSLOG_IDENTIFIER=kservice-generator\n"
                             "MESSAGE=%s\n", level, LOG_DAEMON >> 3, text);
                if (n >= (int) sizeof buf) {
                        n = sizeof buf - 1;
                        buf[n - 1] = '\n';
                }
                if (send(log_fd, buf, n, MSG_NOSIGNAL) == n)
                        return;
                break;
        case LOG_TARGET_KMSG:
                /* One write per record: the kernel takes it as one message. LOG_DAEMON, since
                 * kernel facility 0 is refused for user space. */
                n = snprintf(buf, 1024, "<%d>kservice-generator[%d]: %s\n", LOG_DAEMON | level, (int) getpid(), text);
                if (n >= 1024) {
                        n = 1023;
                        buf[n - 1] = '\n';
                }
                if (write(log_fd, buf, n) == n)
                        return;
                break;
        case LOG_TARGET_REPORT: {
                char **l = reallocarray(report, n_report + 1, sizeof(char *));
                if (l) {
                        report = l;
                        if ((report[n_report] = strdup(text)))
                                n_report++;
                        return;
                }
                break;
        }
        case LOG_TARGET_STDERR:
                break;
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

static int emit_write(const ks_service *s, const ks_unit_files *files, void *userdata) {
        writer *w = userdata;

        for (size_t i = 0; i < files->n; i++) {
                int r = write_atomic(w, &files->items[i]);
                if (r < 0) {
                        log_full(LOG_ERR, "%s: cannot write %s/%s: %s", s->files[0], w->dir,
                                 files->items[i].path, strerror(-r));
                        return r;
                }
        }
        return 0;
}

/* The drop-in that makes the fallback template name the error of an invalid definition. */
static int emit_invalid_write(const char *path, const ks_unit_files *files, void *userdata) {
        writer *w = userdata;

        for (size_t i = 0; i < files->n; i++) {
                int r = write_atomic(w, &files->items[i]);
                if (r < 0) {
                        log_full(LOG_ERR, "%s: cannot write %s/%s: %s", path, w->dir, files->items[i].path,
                                 strerror(-r));
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

/* LOG_TARGET_REPORT: the messages become a oneshot unit printing them (see log_open()). */
static int write_report(writer *w) {
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
        for (size_t i = 0; r >= 0 && i < n_report; i++) {
                _cleanup_free_ char *line = NULL;
                /* "<3>": journald reads the priority from this prefix (SyslogLevelPrefix=yes). */
                if (asprintf(&line, "<%d>%s", LOG_ERR, report[i]) < 0)
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

static int run(const char *normal, const char *early, const char *late) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        _cleanup_close_ int dfd = -EBADF;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        /* Units are 0644 and directories 0755 whatever umask we were started with, without a
         * chmod per file. */
        umask(0022);

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

        writer w = { .dir = normal, .dir_fd = dfd, .pid = (int) getpid() };
        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_write, .emit_invalid = emit_invalid_write,
                                     .userdata = &w };
        r = ks_unit_gen_set(set, &o, &cb);
        if (r < 0)
                log_full(LOG_ERR, "Out of memory");
        if (target == LOG_TARGET_REPORT && n_report > 0 && write_report(&w) < 0)
                r = -EIO;
        free(w.last_dir);
        for (size_t i = 0; i < n_report; i++)
                free(report[i]);
        free(report);
        return r != 0 ? -EIO : 0;
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

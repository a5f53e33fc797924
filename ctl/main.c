/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl: the command line tool for kservice definitions. Each verb is one function in the
 * table at the bottom; "verify" prints exactly what kservice-generator --dry-run prints (both go
 * through ks_unit_gen_set() and ks_unit_files_format()).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config-set.h"
#include "log.h"
#include "macro.h"
#include "status.h"
#include "unit-gen.h"

static void log_cb(int level, const char *text, void *userdata) {
        (void) ks_log_string(level, text);
}

static int emit_print(const ks_service *s, const ks_unit_files *files, void *userdata) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = ks_unit_files_format(files, &text, &size);
        if (r < 0)
                return r;
        return fwrite(text, 1, size, stdout) == size ? 0 : -EIO;
}

/* verify FILE...: parse, validate and generate, print units or errors; exit 1 on any error. */
static int verb_verify(int argc, char **argv) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        ks_unit_gen_options o = { .systemd_version = ks_systemd_version() };
        int r;

        if (argc < 1) {
                log_error("verify: expected at least one FILE.");
                return 2;
        }
        r = ks_config_set_load_files(argv, argc, &set);
        if (r < 0) {
                log_error_errno(r, "Cannot read the definitions: %m");
                return EXIT_FAILURE;
        }
        ks_unit_gen_callbacks cb = { .log = log_cb, .emit = emit_print };
        r = ks_unit_gen_set(set, &o, &cb);
        if (fflush(stdout) != 0 || r < 0) {
                log_error_errno(r < 0 ? r : -EIO, "verify: %m");
                return EXIT_FAILURE;
        }
        return r > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
} verbs[] = {
#if HAVE_STATUS
        { "status", verb_status },
#endif
        { "verify", verb_verify },
};

static void help(void) {
        printf("Usage: kservicectl [OPTIONS] COMMAND ...\n\n"
               "Commands:\n"
               "  status [NAME...] show state, restarts and health of the definitions' units\n"
               "  verify FILE...   validate definitions and print the units they generate\n\n"
               "Options:\n"
               "  -h --help        show this help\n"
               "  --version        show the version\n");
}

int main(int argc, char **argv) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        /* Options stop at the verb, so a verb's own arguments are its own. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("kservicectl %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return 2;
                }
        if (optind >= argc) {
                help();
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name))
                        return verbs[i].run(argc - optind - 1, argv + optind + 1);
        log_error("Unknown command \"%s\" (see --help).", argv[optind]);
        return 2;
}

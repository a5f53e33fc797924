/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl: the command line tool for kservice definitions and their services. Each verb is
 * one function in the table at the bottom. The state commands gather ks_service_views from
 * systemd and notifyd (view-bus.c) and print them through format-text.c or format-json.c;
 * "verify" prints exactly what kservice-generator --dry-run prints (both go through
 * ks_unit_gen_set() and ks_unit_files_format()).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config-set.h"
#include "log.h"
#include "macro.h"
#include "format.h"
#include "pager.h"
#include "time-util.h"
#include "unit-gen.h"
#if HAVE_STATUS
#include "view-bus.h"
#endif

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

typedef enum output_mode { OUTPUT_SHORT, OUTPUT_JSON, OUTPUT_JSON_PRETTY } output_mode;
static output_mode arg_output = OUTPUT_SHORT;
static bool arg_pager = true;

#if HAVE_STATUS
/* ---- output ------------------------------------------------------------------------------ */


/* Colour only on a terminal, and not when NO_COLOR is set to anything (no-color.org) or the
 * terminal is "dumb". Decided before the pager takes stdout over. */
static bool use_color(void) {
        const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
        return isatty(STDOUT_FILENO) && !(no_color && no_color[0]) && !(term && streq(term, "dumb"));
}

static int output(const ks_ctl_output *o) {
        int r;

        if (arg_output != OUTPUT_SHORT) {
                _cleanup_free_ char *text = NULL;
                r = ks_format_json(o, arg_output == OUTPUT_JSON_PRETTY ? KS_JSON_PRETTY : 0, &text);
                if (r < 0)
                        return log_error_errno(r, "Cannot format the output: %m");
                fputs(text, stdout);
        } else {
                ks_format_context c = { .now_usec = ks_now_realtime_usec(), .color = use_color() };
                if (arg_pager)
                        (void) ks_pager_open();
                r = ks_format_text(stdout, o, &c);
                if (r < 0)
                        return log_error_errno(r, "Cannot write the output: %m");
        }
        if (fflush(stdout) != 0)
                return log_error_errno(-EIO, "Cannot write the output: %m");
        return 0;
}

/* ---- the commands that ask the bus -------------------------------------------------------- */

/* systemctl's exit codes, and which one wins when services differ: 1 over 4 over 3 over 0. */
enum { EXIT_NOT_ACTIVE = 3, EXIT_NO_SUCH = 4 };

static int worse(int a, int b) {
        static const int rank[] = { [0] = 0, [EXIT_NOT_ACTIVE] = 1, [EXIT_NO_SUCH] = 2, [EXIT_FAILURE] = 3 };
        return rank[b] > rank[a] ? b : a;
}

typedef struct ctl_context {
        ks_config_set *set;
        sd_bus *bus;
        ks_ctl_output out;
} ctl_context;

static void ctl_context_done(ctl_context *c) {
        for (size_t i = 0; i < c->out.n_services; i++)
                ks_service_view_free(c->out.services[i]);
        free(c->out.services);
        free(c->out.check.reason);
        ks_config_set_free(c->set);
        sd_bus_flush_close_unref(c->bus);
}

static int ctl_context_open(ctl_context *c, ks_ctl_command command) {
        int r;

        c->out.command = command;
        r = ks_config_set_load(NULL, &c->set);
        if (r < 0)
                return log_error_errno(r, "Failed to read the definitions on %s: %m", ks_config_search_path());
        r = sd_bus_open_system(&c->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        return 0;
}

/* Adds the view of the definition called arg (NAME, konivrer@NAME, konivrer@NAME.service):
 * 1 when there is none (logged), 0, or a negative errno. */
static int add_view(ctl_context *c, const char *arg, const ks_config_entry *e) {
        _cleanup_(ks_service_view_freep) ks_service_view *v = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        if (!e) {
                r = ks_service_name_from_arg(arg, &name);
                if (r == -ENOMEM)
                        return r;
                e = r < 0 ? NULL : ks_config_set_find(c->set, name);
                if (!e) {
                        log_error("No definition %s.toml on %s.", name ?: arg, ks_config_search_path());
                        return 1;
                }
        }
        r = ks_service_view_new(e, &v);
        if (r < 0)
                return r;
        ks_service_view **a = realloc(c->out.services, (c->out.n_services + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        c->out.services = a;
        a[c->out.n_services++] = TAKE_PTR(v);
        return 0;
}

static int verb_status(int argc, char **argv) {
        _cleanup_(ctl_context_done) ctl_context c = {};
        int ret = 0, r;

        if (ctl_context_open(&c, KS_CTL_STATUS) < 0)
                return EXIT_FAILURE;
        for (size_t i = 0; i < c.set->n_problems; i++) {
                log_error("%s: %s", c.set->problems[i].path, c.set->problems[i].message);
                ret = EXIT_FAILURE;
        }
        c.out.overview = argc == 0;
        for (size_t i = 0; i < (argc == 0 ? c.set->n_entries : (size_t) argc); i++) {
                r = add_view(&c, argc == 0 ? NULL : argv[i], argc == 0 ? &c.set->entries[i] : NULL);
                if (r < 0)
                        return log_error_errno(r, "status: %m"), EXIT_FAILURE;
                if (r > 0)
                        ret = worse(ret, EXIT_NO_SUCH);
        }
        for (size_t i = 0; i < c.out.n_services; i++) {
                ks_service_view *v = c.out.services[i];
                if (v->masked)
                        continue;
                if ((r = ks_view_read_unit(c.bus, v)) < 0 || (r = ks_view_read_health(c.bus, v)) < 0)
                        return log_error_errno(r, "status: %m"), EXIT_FAILURE;
                if (v->definition_error || !v->unit_read)
                        ret = worse(ret, EXIT_FAILURE);
                else if (!ks_service_view_is_active(v))
                        ret = worse(ret, EXIT_NOT_ACTIVE);
        }
        if (argc == 0 && c.set->n_entries == 0 && arg_output == OUTPUT_SHORT) {
                printf("No definitions on %s.\n", ks_config_search_path());
                return ret;
        }
        if (argc > 0 && c.out.n_services == 0 && arg_output == OUTPUT_SHORT)
                return ret;
        ks_ctl_output_add_notes(&c.out);
        if (output(&c.out) < 0)
                return EXIT_FAILURE;
        return ret;
}

/* show NAME, history NAME: notifyd's side of one service. */
static int show_or_history(ks_ctl_command command, int argc, char **argv) {
        _cleanup_(ctl_context_done) ctl_context c = {};
        int r;

        if (argc != 1) {
                log_error("%s: expected exactly one NAME.", ks_ctl_command_to_string(command));
                return 2;
        }
        if (ctl_context_open(&c, command) < 0)
                return EXIT_FAILURE;
        r = add_view(&c, argv[0], NULL);
        if (r < 0)
                return log_error_errno(r, "%s: %m", ks_ctl_command_to_string(command)), EXIT_FAILURE;
        if (r > 0)
                return EXIT_NO_SUCH;
        r = ks_view_read_health(c.bus, c.out.services[0]);
        if (r < 0)
                return log_error_errno(r, "%s: %m", ks_ctl_command_to_string(command)), EXIT_FAILURE;
        ks_ctl_output_add_notes(&c.out);
        return output(&c.out) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int verb_show(int argc, char **argv) {
        return show_or_history(KS_CTL_SHOW, argc, argv);
}

static int verb_history(int argc, char **argv) {
        return show_or_history(KS_CTL_HISTORY, argc, argv);
}

/* check NAME, reset NAME: notifyd's two root-only methods. */
static int check_or_reset(ks_ctl_command command, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_context_done) ctl_context c = {};
        const char *verb = ks_ctl_command_to_string(command), *what = command == KS_CTL_CHECK
                ? "running a health check now" : "resetting the history";
        int r;

        if (argc != 1) {
                log_error("%s: expected exactly one NAME.", verb);
                return 2;
        }
        /* Refused here without a round trip; notifyd (and the bus policy) refuse it anyway. */
        if (geteuid() != 0) {
                log_error("Access denied: kservicectl %s needs root (%s).", verb, what);
                return EXIT_FAILURE;
        }
        if (ctl_context_open(&c, command) < 0)
                return EXIT_FAILURE;
        r = add_view(&c, argv[0], NULL);
        if (r < 0)
                return log_error_errno(r, "%s: %m", verb), EXIT_FAILURE;
        if (r > 0)
                return EXIT_NO_SUCH;
        const char *name = c.out.services[0]->name;
        if (command == KS_CTL_CHECK)
                r = ks_notifyd_check_now(c.bus, name, &c.out.check, &error);
        else
                r = ks_notifyd_reset_history(c.bus, name, &error);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
                        log_error("Access denied: kservicectl %s needs root (%s).", verb, what);
                else if (ks_notifyd_error_is_absent(&error))
                        log_error("kservice-notifyd is not running: cannot %s %s.", verb, name);
                else if (sd_bus_error_has_name(&error, KS_NOTIFYD_ERROR_NO_SUCH_SERVICE)) {
                        log_error("kservice-notifyd has no service %s with health checks: %s", name, error.message);
                        return EXIT_NO_SUCH;
                } else if (sd_bus_error_has_name(&error, KS_NOTIFYD_ERROR_NOT_RUNNING)) {
                        log_error("%s is not running: nothing to check.", c.out.services[0]->unit);
                        return EXIT_NOT_ACTIVE;
                } else
                        log_error("%s %s: %s", verb, name, sd_bus_error_is_set(&error) ? error.message : strerror(-r));
                return EXIT_FAILURE;
        }
        if (output(&c.out) < 0)
                return EXIT_FAILURE;
        return command == KS_CTL_CHECK && !c.out.check.passed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int verb_check(int argc, char **argv) {
        return check_or_reset(KS_CTL_CHECK, argc, argv);
}

static int verb_reset(int argc, char **argv) {
        return check_or_reset(KS_CTL_RESET, argc, argv);
}
#endif

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        bool json;      /* has JSON output */
} verbs[] = {
#if HAVE_STATUS
        { "status", verb_status, true },
        { "show", verb_show, true },
        { "history", verb_history, true },
        { "check", verb_check, true },
        { "reset", verb_reset, true },
#endif
        { "verify", verb_verify, false },
};

static void help(void) {
        printf("Usage: kservicectl [OPTIONS] COMMAND ...\n\n"
               "Commands:\n"
               "  status [NAME...]     show state, restarts and health of the definitions' services\n"
               "  show NAME            show every property notifyd has of a service\n"
               "  history NAME         show the incidents of a service, oldest first\n"
               "  check NAME           run the health checks of a service now (root)\n"
               "  reset NAME           forget the incidents, counters and score of a service (root)\n"
               "  verify FILE...       validate definitions and print the units they generate\n\n"
               "Options:\n"
               "  -h --help            show this help\n"
               "  --version            show the version\n"
               "  -o --output=MODE     short (the default), json or json-pretty\n"
               "  --json               the same as -o json\n"
               "  --no-pager           do not pipe the output into a pager\n");
}

int main(int argc, char **argv) {
        enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_PAGER };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "output", required_argument, NULL, 'o' },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                {}
        };
        int c, r;

        /* Options may come before or after the command, as with systemctl ("--" ends them). */
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("kservicectl %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case 'o':
                        if (streq(optarg, "short"))
                                arg_output = OUTPUT_SHORT;
                        else if (streq(optarg, "json"))
                                arg_output = OUTPUT_JSON;
                        else if (streq(optarg, "json-pretty"))
                                arg_output = OUTPUT_JSON_PRETTY;
                        else {
                                log_error("Unknown output mode \"%s\": short, json or json-pretty.", optarg);
                                return 2;
                        }
                        break;
                case ARG_JSON:
                        arg_output = OUTPUT_JSON;
                        break;
                case ARG_NO_PAGER:
                        arg_pager = false;
                        break;
                default:
                        return 2;
                }
        if (optind >= argc) {
                help();
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        if (arg_output != OUTPUT_SHORT && !verbs[i].json) {
                                log_error("%s has no JSON output.", verbs[i].name);
                                return 2;
                        }
                        r = verbs[i].run(argc - optind - 1, argv + optind + 1);
                        ks_pager_close();
                        return r;
                }
        log_error("Unknown command \"%s\" (see --help).", argv[optind]);
        return 2;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cross-key validation of kservice.toml: each rule relating keys, reported at the key out of place. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "service-keys.h"
#include "service-validate.h"

/* The verdict so far: 0, -EINVAL once a rule was broken, or -ENOMEM. Every broken rule is
 * reported, so one run shows all of them. */
typedef struct verdict {
        ks_diag_list *diags;
        int r;
} verdict;

_printf_(3, 4) static void complain(verdict *v, const ks_origin *o, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = ks_diag_addv(v->diags, o->file, o->line, o->column, fmt, ap);
        va_end(ap);
        if (r == -ENOMEM)
                v->r = r;
        else if (v->r == 0)
                v->r = -EINVAL;
}

int ks_check_validate(const ks_check *chk, const ks_origin *o, ks_diag_list *diags) {
        verdict v = { .diags = diags };

        if (chk->type == _KS_CHECK_TYPE_MAX) {
                complain(&v, &chk->origin, "[[health.check]] needs \"type\" (\"http\" or \"tcp\")");
                return v.r;
        }

        /* Keys of the other check type are errors: they would silently do nothing. */
        static const key_id http_only[] = { K_CHECK_URL,         K_CHECK_METHOD,     K_CHECK_EXPECT_STATUS,
                                            K_CHECK_EXPECT_BODY, K_CHECK_HEADERS,    K_CHECK_TLS_VERIFY,
                                            K_CHECK_FOLLOW_REDIRECTS, K_CHECK_MAX_RESPONSE_BYTES };
        static const key_id tcp_only[] = { K_CHECK_HOST, K_CHECK_PORT };
        bool http = chk->type == KS_CHECK_HTTP;
        const key_id *other = http ? tcp_only : http_only;
        size_t n_other = http ? ELEMENTSOF(tcp_only) : ELEMENTSOF(http_only);
        for (size_t i = 0; i < n_other; i++)
                if (o[other[i]].file)
                        complain(&v, &o[other[i]], "\"%s\" does not apply to type = \"%s\"",
                                 ks_service_keys[other[i]].path, ks_check_type_to_string(chk->type));

        if (http && !o[K_CHECK_URL].file)
                complain(&v, &chk->origin, "an http check needs \"url\"");
        else if (http && strncmp(chk->url, "http://", 7) == 0 && o[K_CHECK_TLS_VERIFY].file)
                complain(&v, &o[K_CHECK_TLS_VERIFY], "\"health.check.tls_verify\" needs an https:// URL");
        else if (!http && !o[K_CHECK_PORT].file)
                complain(&v, &chk->origin, "a tcp check needs \"port\"");
        return v.r;
}

static void validate_restart(verdict *v, const ks_service *s) {
        const ks_origin *o = s->key_origin;

        if (s->restart == KS_RESTART_NO) {
                static const key_id moot[] = { K_RESTART_DELAY, K_RESTART_MAX_DELAY, K_RESTART_STEPS,
                                               K_MAX_RESTARTS, K_RESTART_WINDOW };
                for (size_t i = 0; i < ELEMENTSOF(moot); i++)
                        if (key_set(s, moot[i]))
                                complain(v, &o[moot[i]], "\"%s\" has no effect with restart = \"no\"",
                                         ks_service_keys[moot[i]].path);
                return;
        }

        if (key_set(s, K_RESTART_STEPS) && s->restart_max_delay_usec == KS_USEC_UNSET)
                complain(v, &o[K_RESTART_STEPS], "\"restart_steps\" needs \"restart_max_delay\"");
        if (s->restart_max_delay_usec != KS_USEC_UNSET && s->restart_max_delay_usec <= s->restart_delay_usec)
                complain(v, &o[K_RESTART_MAX_DELAY], "\"restart_max_delay\" must be longer than \"restart_delay\"");

        if (s->max_restarts == KS_RESTARTS_INFINITY) {
                if (key_set(s, K_RESTART_WINDOW))
                        complain(v, &o[K_RESTART_WINDOW],
                                 "\"restart_window\" has no effect with max_restarts = \"infinity\"");
                /* With restart = "always" nothing ever ends the service, so nothing can give up;
                 * with other policies an uncovered failure still ends it. */
                if (s->on_give_up && s->restart == KS_RESTART_ALWAYS)
                        complain(v, &o[K_ON_GIVE_UP],
                                 "\"on_give_up\" is never reached with max_restarts = \"infinity\" and restart = "
                                 "\"always\"");
        } else if (s->restart_window_usec / s->max_restarts <= s->restart_delay_usec) {
                /* max_restarts + 1 starts take at least max_restarts * restart_delay. */
                key_id at = key_set(s, K_RESTART_WINDOW) ? K_RESTART_WINDOW
                            : key_set(s, K_MAX_RESTARTS) ? K_MAX_RESTARTS
                                                         : K_RESTART_DELAY;
                complain(v, &o[at],
                         "max_restarts = %" PRIu32 " within \"restart_window\" can never be reached when restarts "
                         "are \"restart_delay\" apart: make the window longer than max_restarts * restart_delay",
                         s->max_restarts);
        }
}

static void validate_dependencies(verdict *v, const ks_service *s) {
        const ks_origin *o = s->key_origin;
        static const key_id lists[] = { K_AFTER, K_BEFORE, K_REQUIRES, K_WANTS, K_PART_OF };

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                const ks_key_info *k = &ks_service_keys[lists[i]];
                char **l = *(char **const *) ((const uint8_t *) s + k->offset);
                for (size_t j = 0; l && l[j]; j++)
                        if (streq(l[j], s->unit))
                                complain(v, &o[lists[i]], "\"%s\" names the service itself (%s)", k->path, s->unit);
        }
        if (s->enabled && (!s->wanted_by || !s->wanted_by[0]))
                complain(v, &o[K_WANTED_BY], "\"wanted_by\" must name at least one unit when enabled = true");
        if (s->reload_on_change && s->reload_on_change[0] && !s->reload_signal)
                complain(v, &o[K_RELOAD_ON_CHANGE],
                         "\"reload_on_change\" needs \"reload_signal\": the signal that makes the service reload");
}

static void validate_health(verdict *v, const ks_service *s) {
        const ks_health *h = &s->health;
        const ks_origin *o = s->key_origin;

        if (key_set(s, K_HEALTH) && h->n_checks == 0 && !key_set(s, K_HEALTH_CHECK))
                complain(v, &o[K_HEALTH], "[health] needs at least one [[health.check]]");
        /* Health keys without checks were reported above (when [health] exists). */
        if (!ks_service_has_health(s))
                return;

        if (s->restart == KS_RESTART_NO)
                complain(v, &o[K_RESTART],
                         "restart = \"no\" cannot be combined with [health]: an unhealthy service would be "
                         "stopped for good instead of restarted");
        if (s->type == KS_SERVICE_FORKING)
                complain(v, &o[K_TYPE],
                         "type = \"forking\" cannot be combined with [health]: notifyd speaks for the main "
                         "process, which systemd can only guess for a forking service");
        if (s->type == KS_SERVICE_NOTIFY && h->ready_on_pass)
                complain(v, &o[K_HEALTH_READY_ON_PASS],
                         "\"health.ready_on_pass\" cannot be true with type = \"notify\": the program reports "
                         "readiness itself");
        if (h->timeout_usec > h->interval_usec && key_set(s, K_HEALTH_TIMEOUT))
                complain(v, &o[K_HEALTH_TIMEOUT], "\"health.timeout\" must not be longer than \"health.interval\"");
        else if (h->timeout_usec > h->interval_usec)
                complain(v, &o[K_HEALTH_INTERVAL],
                         "\"health.interval\" must not be shorter than \"health.timeout\" (5s unless set)");
        if (h->watchdog_usec != KS_USEC_UNSET && h->watchdog_usec <= h->interval_usec + h->timeout_usec)
                complain(v, &o[K_HEALTH_WATCHDOG],
                         "\"health.watchdog\" must be longer than health.interval + health.timeout, or a "
                         "healthy service is killed between two checks");
        if (h->ready_on_pass && s->start_timeout_usec != KS_USEC_UNSET && s->start_timeout_usec != KS_USEC_INFINITY &&
            s->start_timeout_usec <= h->start_period_usec)
                complain(v, &o[K_START_TIMEOUT],
                         "\"start_timeout\" must be longer than \"health.start_period\", or the service is "
                         "killed before its health checks count");
        if (h->flap_low_threshold >= h->flap_high_threshold)
                complain(v, key_set(s, K_HEALTH_FLAP_LOW_THRESHOLD) ? &o[K_HEALTH_FLAP_LOW_THRESHOLD]
                                                                   : &o[K_HEALTH_FLAP_HIGH_THRESHOLD],
                         "\"health.flap_low_threshold\" (%g) must be lower than \"health.flap_high_threshold\" "
                         "(%g): flapping starts at the high one and stops at the low one",
                         h->flap_low_threshold, h->flap_high_threshold);
}

int ks_service_validate(const ks_service *s, ks_diag_list *diags) {
        const ks_resources *res = &s->resources;
        verdict v = { .diags = diags };

        if (!s->exec)
                complain(&v, &(const ks_origin) { .file = s->files ? s->files[0] : NULL, .line = 1, .column = 1 },
                         "\"exec\" is required: the command line of the service");
        validate_restart(&v, s);
        validate_dependencies(&v, s);
        validate_health(&v, s);
        if (res->memory_high.kind == res->memory_max.kind &&
            (res->memory_high.kind == KS_LIMIT_ABSOLUTE || res->memory_high.kind == KS_LIMIT_PERCENT) &&
            res->memory_high.value > res->memory_max.value)
                complain(&v, &s->key_origin[K_MEMORY_HIGH],
                         "\"resources.memory_high\" must not be above \"resources.memory_max\"");
        return v.r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd's time span and size syntax, reimplemented: the definitions validate them so that an
 * invalid duration is reported at its position in kservice.toml instead of by systemd later.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time-util.h"

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800 * USEC_PER_SEC)
#define USEC_PER_YEAR (31557600 * USEC_PER_SEC)

#define WHITESPACE " \t\n\r"

typedef struct unit {
        const char *name;
        uint64_t factor;
} unit;

static const unit time_units[] = {
        { "seconds", USEC_PER_SEC }, { "second", USEC_PER_SEC }, { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },       { "minutes", USEC_PER_MINUTE }, { "minute", USEC_PER_MINUTE },
        { "min", USEC_PER_MINUTE },  { "months", USEC_PER_MONTH },   { "month", USEC_PER_MONTH },
        { "M", USEC_PER_MONTH },     { "msec", USEC_PER_MSEC },      { "ms", USEC_PER_MSEC },
        { "m", USEC_PER_MINUTE },    { "hours", USEC_PER_HOUR },     { "hour", USEC_PER_HOUR },
        { "hr", USEC_PER_HOUR },     { "h", USEC_PER_HOUR },         { "days", USEC_PER_DAY },
        { "day", USEC_PER_DAY },     { "d", USEC_PER_DAY },          { "weeks", USEC_PER_WEEK },
        { "week", USEC_PER_WEEK },   { "w", USEC_PER_WEEK },         { "years", USEC_PER_YEAR },
        { "year", USEC_PER_YEAR },   { "y", USEC_PER_YEAR },         { "usec", 1 },
        { "us", 1 },                 { "\xce\xbcs", 1 } /* U+03BC */, { "\xc2\xb5s", 1 } /* U+00B5 */,
};

static const unit size_units[] = {
        { "E", UINT64_C(1) << 60 }, { "P", UINT64_C(1) << 50 }, { "T", UINT64_C(1) << 40 },
        { "G", UINT64_C(1) << 30 }, { "M", UINT64_C(1) << 20 }, { "K", UINT64_C(1) << 10 },
        { "B", 1 },
};

/* The longest unit name that s starts with, or NULL. */
static const unit *match_unit(const char *s, const unit *units, size_t n) {
        const unit *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(units[i].name);
                if (l > best_len && strncmp(s, units[i].name, l) == 0) {
                        best = &units[i];
                        best_len = l;
                }
        }
        return best;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Sums components "<number>[.<fraction>][ws][<unit>]" of s; units missing → default_factor. */
static int parse_components(const char *s, const unit *units, size_t n_units, uint64_t default_factor,
                            bool frac_needs_unit, uint64_t *ret) {
        uint64_t total = 0;
        bool any = false;
        const char *p = s;

        for (;;) {
                uint64_t ip = 0, factor, add;
                const char *frac = NULL;
                size_t nfrac = 0;
                bool digits = false;
                const unit *u;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                if (*p == '-')
                        return -ERANGE;
                if (*p == '+')
                        return -EINVAL;
                for (; is_digit(*p); p++) {
                        digits = true;
                        if (ip > (UINT64_MAX - (*p - '0')) / 10)
                                return -ERANGE;
                        ip = ip * 10 + (*p - '0');
                }
                if (*p == '.') {
                        p++;
                        frac = p;
                        while (is_digit(*p))
                                p++;
                        nfrac = p - frac;
                        digits = digits || nfrac > 0;
                }
                if (!digits)
                        return -EINVAL;
                p += strspn(p, WHITESPACE);
                u = match_unit(p, units, n_units);
                if (u) {
                        factor = u->factor;
                        p += strlen(u->name);
                } else {
                        if (*p && !is_digit(*p) && *p != '.')
                                return -EINVAL;
                        if (frac_needs_unit && nfrac > 0)
                                return -EINVAL;
                        factor = default_factor;
                }
                if (frac_needs_unit && nfrac > 0 && factor == 1)
                        return -EINVAL;
                if (ip > UINT64_MAX / factor)
                        return -ERANGE;
                add = ip * factor;
                /* The fraction, exactly: digits beyond 18 are dropped (finer than any unit). */
                if (nfrac > 0) {
                        unsigned __int128 num = 0, den = 1;
                        for (size_t i = 0; i < nfrac && i < 18; i++) {
                                num = num * 10 + (frac[i] - '0');
                                den *= 10;
                        }
                        num = num * factor / den;
                        if (add > UINT64_MAX - (uint64_t) num)
                                return -ERANGE;
                        add += (uint64_t) num;
                }
                if (total > UINT64_MAX - add)
                        return -ERANGE;
                total += add;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

int ks_parse_timespan(const char *s, uint64_t *ret_usec) {
        uint64_t v;
        size_t l;
        int r;

        if (!s)
                return -EINVAL;
        s += strspn(s, WHITESPACE);
        if (strncmp(s, "infinity", 8) == 0) {
                l = strspn(s + 8, WHITESPACE);
                if (s[8 + l] == '\0') {
                        if (ret_usec)
                                *ret_usec = UINT64_MAX;
                        return 0;
                }
        }
        r = parse_components(s, time_units, sizeof time_units / sizeof time_units[0], USEC_PER_SEC, false, &v);
        if (r < 0)
                return r;
        if (v == UINT64_MAX) /* would read back as infinity */
                return -ERANGE;
        if (ret_usec)
                *ret_usec = v;
        return 0;
}

int ks_format_timespan(char *buf, size_t n, uint64_t usec) {
        static const unit table[] = {
                { "y", USEC_PER_YEAR }, { "month", USEC_PER_MONTH }, { "w", USEC_PER_WEEK },
                { "d", USEC_PER_DAY },  { "h", USEC_PER_HOUR },      { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },  { "ms", USEC_PER_MSEC },     { "us", 1 },
        };
        size_t o = 0;

        if (!buf || n == 0)
                return -ENOBUFS;
        if (usec == UINT64_MAX || usec == 0) {
                int k = snprintf(buf, n, "%s", usec ? "infinity" : "0");
                return (size_t) k >= n ? -ENOBUFS : 0;
        }
        for (size_t i = 0; i < sizeof table / sizeof table[0] && usec > 0; i++) {
                int k;
                if (usec < table[i].factor)
                        continue;
                k = snprintf(buf + o, n - o, "%s%" PRIu64 "%s", o ? " " : "", usec / table[i].factor,
                             table[i].name);
                if (k < 0 || (size_t) k >= n - o)
                        return -ENOBUFS;
                o += k;
                usec %= table[i].factor;
        }
        return 0;
}

int ks_parse_size(const char *s, uint64_t *ret) {
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_components(s, size_units, sizeof size_units / sizeof size_units[0], 1, true, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v;
        return 0;
}

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * KS_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t ks_now_usec(void) {
        return now_usec(CLOCK_MONOTONIC);
}

uint64_t ks_now_realtime_usec(void) {
        return now_usec(CLOCK_REALTIME);
}

static int format_tm(char *buf, size_t n, uint64_t usec, bool utc) {
        struct tm tm;
        time_t t;

        if (usec == 0 || usec == KS_USEC_INFINITY)
                return -EINVAL;
        t = (time_t) (usec / USEC_PER_SEC);
        if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
                return -EINVAL;
        return strftime(buf, n, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%a %Y-%m-%d %H:%M:%S %Z", &tm) > 0 ? 0 : -ENOBUFS;
}

int ks_format_timestamp(char *buf, size_t n, uint64_t usec) {
        return format_tm(buf, n, usec, false);
}

int ks_format_timestamp_iso8601(char *buf, size_t n, uint64_t usec) {
        return format_tm(buf, n, usec, true);
}

/* After systemd's format_timestamp_relative(): two units at most, coarser the longer ago. */
int ks_format_timestamp_relative(char *buf, size_t n, uint64_t usec, uint64_t now) {
        const char *s;
        uint64_t d;
        int k;

        if (usec == 0 || usec == KS_USEC_INFINITY)
                return -EINVAL;
        if (usec == now)
                k = snprintf(buf, n, "now");
        else {
                d = now > usec ? now - usec : usec - now;
                s = now > usec ? "ago" : "left";
                if (d >= USEC_PER_YEAR)
                        k = snprintf(buf, n, "%" PRIu64 " years %" PRIu64 " months %s", d / USEC_PER_YEAR,
                                     (d % USEC_PER_YEAR) / USEC_PER_MONTH, s);
                else if (d >= USEC_PER_MONTH)
                        k = snprintf(buf, n, "%" PRIu64 " months %" PRIu64 " days %s", d / USEC_PER_MONTH,
                                     (d % USEC_PER_MONTH) / USEC_PER_DAY, s);
                else if (d >= USEC_PER_WEEK)
                        k = snprintf(buf, n, "%" PRIu64 " weeks %" PRIu64 " days %s", d / USEC_PER_WEEK,
                                     (d % USEC_PER_WEEK) / USEC_PER_DAY, s);
                else if (d >= 2 * USEC_PER_DAY)
                        k = snprintf(buf, n, "%" PRIu64 " days %s", d / USEC_PER_DAY, s);
                else if (d >= 25 * USEC_PER_HOUR)
                        k = snprintf(buf, n, "1 day %" PRIu64 "h %s", (d - USEC_PER_DAY) / USEC_PER_HOUR, s);
                else if (d >= 6 * USEC_PER_HOUR)
                        k = snprintf(buf, n, "%" PRIu64 "h %s", d / USEC_PER_HOUR, s);
                else if (d >= USEC_PER_HOUR)
                        k = snprintf(buf, n, "%" PRIu64 "h %" PRIu64 "min %s", d / USEC_PER_HOUR,
                                     (d % USEC_PER_HOUR) / USEC_PER_MINUTE, s);
                else if (d >= 5 * USEC_PER_MINUTE)
                        k = snprintf(buf, n, "%" PRIu64 "min %s", d / USEC_PER_MINUTE, s);
                else if (d >= USEC_PER_MINUTE)
                        k = snprintf(buf, n, "%" PRIu64 "min %" PRIu64 "s %s", d / USEC_PER_MINUTE,
                                     (d % USEC_PER_MINUTE) / USEC_PER_SEC, s);
                else if (d >= USEC_PER_SEC)
                        k = snprintf(buf, n, "%" PRIu64 "s %s", d / USEC_PER_SEC, s);
                else if (d >= USEC_PER_MSEC)
                        k = snprintf(buf, n, "%" PRIu64 "ms %s", d / USEC_PER_MSEC, s);
                else
                        k = snprintf(buf, n, "%" PRIu64 "us %s", d, s);
        }
        return k >= 0 && (size_t) k < n ? 0 : -ENOBUFS;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Time spans and sizes in the syntax systemd accepts in unit files ("1min 30s", "500ms",
 * "infinity"; "512M", "1.5G"), so values from kservice.toml can be checked here and written
 * into units unchanged in meaning.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KS_USEC_INFINITY UINT64_MAX
#define KS_USEC_PER_SEC UINT64_C(1000000)

/* CLOCK_MONOTONIC now, in microseconds (the clock systemd's monotonic timestamps use). */
uint64_t ks_now_usec(void);
/* CLOCK_REALTIME now, in microseconds since the epoch: for times kept across reboots (state files). */
uint64_t ks_now_realtime_usec(void);

/* Parses a time span as systemd's parse_sec() does: components "<number>[<unit>]" separated by
 * optional whitespace and summed; a number may have a fraction ("1.5h"); no unit means seconds;
 * units us/usec/µs, ms/msec, s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s),
 * w/week(s), M/month(s) (30.44 d), y/year(s) (365.25 d). "infinity" is UINT64_MAX.
 * Returns -EINVAL on syntax errors, -ERANGE on overflow or a negative number. */
int ks_parse_timespan(const char *s, uint64_t *ret_usec);

/* Formats usec as text ks_parse_timespan() and systemd read back to the same value, largest units
 * first ("1min 30s", "500ms", "0", "infinity"). Returns -ENOBUFS if n is too small. */
int ks_format_timespan(char *buf, size_t n, uint64_t usec);

/* Parses a size in bytes as systemd's parse_size(..., 1024) does: "<number>[<suffix>]" with
 * suffixes B, K, M, G, T, P, E (powers of 1024), fractions allowed ("1.5G"), components summed
 * ("1G 512M"). Returns -EINVAL on syntax errors, -ERANGE on overflow or a negative number. */
int ks_parse_size(const char *s, uint64_t *ret);

/* A realtime timestamp (usec since the epoch) in local time as systemctl prints it:
 * "Tue 2026-12-01 10:00:00 UTC" (strftime "%a %Y-%m-%d %H:%M:%S %Z"). -ENOBUFS if n is too
 * small, -EINVAL for 0 or KS_USEC_INFINITY (no time). */
int ks_format_timestamp(char *buf, size_t n, uint64_t usec);

/* The same as ISO 8601 / RFC 3339 in UTC to the second: "2026-12-01T10:00:00Z". */
int ks_format_timestamp_iso8601(char *buf, size_t n, uint64_t usec);

/* How long ago usec was, seen at now, in systemd's words: "5min ago", "4min 55s ago",
 * "1h 5min ago", "3 days ago", "now"; a time after now is "... left". */
int ks_format_timestamp_relative(char *buf, size_t n, uint64_t usec, uint64_t now);

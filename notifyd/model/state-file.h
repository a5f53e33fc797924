/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What notifyd keeps of one service across its own restarts and reboots (issue 13), as a flat
 * record, and its file: /var/lib/kservice/NAME.state, one per service, so that a torn or corrupt
 * file costs one service its history and never the daemon its start.
 *
 * The file format, major version 1. Text, one record per line, every line ending in "\n":
 *
 *   # kservice-notifyd state 1                 the first line, exactly (the major version)
 *   HEALTH=healthy                             KEY=VALUE lines, any order, each key at most once
 *   HEALTH_SINCE=1718000000000000
 *   ...
 *   INCIDENT=1718000000000000,0,restart,ongoing,HTTP 503 from /healthz
 *   CHECKSUM=1c291ca3                          the last line
 *
 * - Values: integers in decimal (uint64, no sign or spaces); booleans 0 or 1; doubles as "%.17g"
 *   (exactly the same double read back: finite, never NaN or infinite); times are CLOCK_REALTIME
 *   microseconds since the epoch, 0 meaning never; enums by name; strings escaped so a line never
 *   breaks: "\\" for a backslash, "\n" "\t" "\r", "\xNN" for other bytes below 0x20 and 0x7f;
 *   other bytes (UTF-8 or not) as they are.
 * - Keys (struct fields below): HEALTH (starting, healthy, unhealthy, flapping, paused, unknown),
 *   HEALTH_SINCE, CONSECUTIVE_FAILURES, RESTARTS_BY_KSERVICE, RESTARTS_SEEN, SYSTEMD_NRESTARTS,
 *   SYSTEMD_INVOCATION_ID (32 lowercase hex digits, or empty), SCORE_NUMERATOR,
 *   SCORE_DENOMINATOR, SCORE_UPDATED, FLAP_CHANGES (the flap detector's change flags, flap.h:
 *   '1' a change, '0' none, oldest first, at most 20), FLAP_LAST (none, passed or failed: the
 *   last round's verdict), FLAPPING.
 * - INCIDENT=STARTED,ENDED,ACTION,OUTCOME,REASON, repeated, oldest first, at most 50: ENDED 0
 *   while ongoing; ACTION none, restart or gave-up; OUTCOME ongoing, recovered, restarted,
 *   stopped, gave-up or unknown; REASON last (it may hold commas), escaped, at most 160 bytes once
 *   unescaped.
 * - CHECKSUM= is the CRC-32 (crc32.h) of every byte before its line, 8 lowercase hex digits.
 * - Lines starting with "#" after the first are comments.
 * - Compatibility: a key a file lacks keeps its ks_service_state_init() value, and a key this
 *   version does not know is skipped (KEY: [A-Z0-9_]+), so adding a key needs no new major
 *   version. A change that an older reader would misread (a key whose meaning or syntax changes)
 *   takes a new major version, which this version rejects as foreign.
 * - Not checked: how fields agree with each other (an incident's ENDED and OUTCOME, the score's
 *   numerator and denominator): the model's code keeps those, the file only keeps what it is given.
 * - Rejected, with a reason: a file over 64 KiB, empty or with a NUL byte; another first line
 *   (a foreign version or not a state file); a last line that is not CHECKSUM= with a newline
 *   (truncated); a checksum that does not match; a line with no "=" or a malformed key; a known
 *   key given twice or with a bad value; more than 50 incidents; CHECKSUM= before the end.
 *
 * Files in the directory (all renames stay in it):
 *   NAME.state                 the state; NAME is a kservice NAME (ks_service_name_is_valid()) of
 *                              at most KS_STATE_NAME_MAX bytes, so it never leaves the directory
 *   NAME.state.tmp-XXXXXX      a save in progress (6 random letters and digits), or the leftover
 *                              of a writer that was killed; ks_service_state_remove_stale()
 *                              removes those older than KS_STATE_TEMP_MAX_AGE_USEC
 *   NAME.state.bad-USEC        a rejected file set aside by ks_service_state_load() at realtime
 *                              USEC, content intact
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_SERVICE_STATE_VERSION 1
#define KS_SERVICE_STATE_HEADER "# kservice-notifyd state 1"
#define KS_SERVICE_STATE_SIZE_MAX (64u * 1024u)
#define KS_SERVICE_STATE_INCIDENTS_MAX 50
#define KS_INCIDENT_REASON_MAX 160
#define KS_FLAP_CHANGES_MAX 20
#define KS_INVOCATION_ID_LEN 32

/* The longest NAME whose set-aside file name ("NAME.state.bad-" and 20 digits) fits in 255 bytes. */
#define KS_STATE_NAME_MAX (255 - 11 - 20)
/* A temporary file older than this is a killed writer's leftover, never a save in progress. */
#define KS_STATE_TEMP_MAX_AGE_USEC (60u * 1000000u)

typedef enum ks_health_state {
        KS_HEALTH_STARTING,
        KS_HEALTH_HEALTHY,
        KS_HEALTH_UNHEALTHY,
        KS_HEALTH_FLAPPING,
        KS_HEALTH_PAUSED,       /* notifyd is stopping */
        KS_HEALTH_UNKNOWN,
        _KS_HEALTH_STATE_MAX,
} ks_health_state;

typedef enum ks_incident_action {
        KS_INCIDENT_ACTION_NONE,        /* nothing done yet */
        KS_INCIDENT_ACTION_RESTART,
        KS_INCIDENT_ACTION_GAVE_UP,
        _KS_INCIDENT_ACTION_MAX,
} ks_incident_action;

typedef enum ks_incident_outcome {
        KS_INCIDENT_ONGOING,
        KS_INCIDENT_RECOVERED,          /* healthy again without a restart */
        KS_INCIDENT_RESTARTED,          /* healthy again after a restart */
        KS_INCIDENT_STOPPED,            /* the unit was stopped (by someone else than kservice) */
        KS_INCIDENT_GAVE_UP,
        KS_INCIDENT_UNKNOWN,            /* ended while notifyd was not watching */
        _KS_INCIDENT_OUTCOME_MAX,
} ks_incident_outcome;

/* One unhealthy episode. */
typedef struct ks_incident {
        uint64_t started_usec;          /* realtime */
        uint64_t ended_usec;            /* realtime; 0 while ongoing */
        ks_incident_action action;
        ks_incident_outcome outcome;
        char reason[KS_INCIDENT_REASON_MAX + 1];        /* the first failure's */
} ks_incident;

/* Flat (no pointers): copied with ks_service_state_copy(), kept in an array, freed with its owner. */
typedef struct ks_service_state {
        unsigned version;                       /* KS_SERVICE_STATE_VERSION */

        ks_health_state health;
        uint64_t health_since_usec;             /* realtime */
        uint64_t consecutive_failures;

        /* Counted by kservice, so they survive what resets systemd's NRestarts (a manual stop,
         * an unload): the wiring compares the last NRestarts and InvocationID it saw with the
         * unit's, and only ever adds. */
        uint64_t restarts_by_kservice;          /* its WATCHDOG=trigger's */
        uint64_t restarts_seen;                 /* every restart, whoever caused it */
        uint64_t systemd_n_restarts;            /* the NRestarts last seen */
        char systemd_invocation_id[KS_INVOCATION_ID_LEN + 1];  /* the InvocationID last seen, or "" */

        /* The health score's state: a time-decayed sum of verdict weights and of their maximum. */
        double score_numerator;
        double score_denominator;
        uint64_t score_updated_usec;            /* realtime of the last decay */

        /* The flap detector's state (flap.h): bit i is set when the event i events ago was a
         * change; the last round's verdict: -1 none yet, 0 failed, 1 passed. */
        uint32_t flap_changes;
        unsigned flap_n_changes;                /* <= KS_FLAP_CHANGES_MAX */
        int flap_last;
        bool flapping;

        size_t n_incidents;
        ks_incident incidents[KS_SERVICE_STATE_INCIDENTS_MAX];  /* oldest first */
} ks_service_state;

/* A fresh state: health unknown, everything else 0 or empty. The incidents array past
 * n_incidents is not touched (nor read by anything here). */
void ks_service_state_init(ks_service_state *s);
/* *dst = *src, up to src's n_incidents: what to copy a state with. */
void ks_service_state_copy(ks_service_state *dst, const ks_service_state *src);

/* Same content (doubles bit for bit, incidents up to n_incidents): whether a save is needed. */
bool ks_service_state_equal(const ks_service_state *a, const ks_service_state *b);

/* Opens a new ongoing incident with no action yet, the oldest dropped when there are already 50.
 * reason is cut to KS_INCIDENT_REASON_MAX bytes, not inside a UTF-8 sequence. Returns it. */
ks_incident *ks_service_state_add_incident(ks_service_state *s, uint64_t started_usec, const char *reason);

/* The names the file uses (and the API will); NULL for a value out of range. */
const char *ks_health_state_to_string(ks_health_state h);
const char *ks_incident_action_to_string(ks_incident_action a);
const char *ks_incident_outcome_to_string(ks_incident_outcome o);

/* The file's content. -EINVAL if a field is out of its range (an enum, a count, a reason too
 * long or a double not finite), -ENOMEM. *ret is NUL-terminated, *ret_size excludes the NUL. */
int ks_service_state_format(const ks_service_state *s, char **ret, size_t *ret_size);

/* Reads the file's content (size bytes at data, NUL not needed). -EBADMSG with *ret_reason (may
 * be NULL) a one-line reason for an operator when the file is rejected; -ENOMEM. */
int ks_service_state_parse(const char *data, size_t size, ks_service_state *ret, char **ret_reason);

/* Replaces NAME.state in dir_fd (opened O_RDONLY|O_DIRECTORY, not O_PATH: it is fsync()ed)
 * atomically and durably: NAME.state.tmp-XXXXXX written, fsync()ed, renamed over NAME.state, the
 * directory fsync()ed. A crash at any moment leaves the old or the new file, complete. -EINVAL
 * for a bad name or state, -ENAMETOOLONG, or the errno of the failed call (the temporary file
 * is removed then). */
int ks_service_state_save(int dir_fd, const char *name, const ks_service_state *s);
/* The same without the directory's fsync(), for a batch of saves followed by one fsync(dir_fd):
 * until then a crash may leave the old file instead of the new one (never a torn one). */
int ks_service_state_write(int dir_fd, const char *name, const ks_service_state *s);

/* Loads NAME.state. -ENOENT when there is none (a fresh start). A file that is rejected (see the
 * format; also a symbolic link or not a regular file) is renamed to NAME.state.bad-USEC, never
 * deleted, and -EBADMSG is returned with *ret_reason and *ret_set_aside (the new name, or NULL
 * if the rename failed) for the caller to log once; either may be NULL. Other errors: -EINVAL
 * for a bad name, -ENAMETOOLONG, -ENOMEM, the errno of the failed read. *ret is written on
 * success only; whatever it returns, the caller starts from ks_service_state_init(). */
int ks_service_state_load(int dir_fd, const char *name, ks_service_state *ret, char **ret_reason,
                          char **ret_set_aside);

/* Cleans dir_fd: NAME.state and NAME.state.bad-* of every NAME not in keep_names whose mtime is
 * more than grace_usec before now_realtime (a definition removed for longer than the grace: a
 * typo in a rename must not erase history), and every NAME.state.tmp-* older than
 * KS_STATE_TEMP_MAX_AGE_USEC whatever its NAME (a killed writer's). Other files are left alone.
 * Returns how many files it removed, or the first error (after trying every file). */
int ks_service_state_remove_stale(int dir_fd, const char *const *keep_names, uint64_t grace_usec,
                                  uint64_t now_realtime);

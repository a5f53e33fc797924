/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * notifyd/model/state-file.c: the state round-trips exactly (doubles, any reason bytes, 0 to 50
 * incidents); every truncation and every single-byte change of a valid file is rejected; a
 * foreign version is rejected and an unknown key skipped; save/load in a directory, a rejected
 * file set aside with its content; remove_stale's grace; and kill -9 of a writer at random
 * moments never leaves an unreadable file or a counter gone backwards.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crc32.h"
#include "macro.h"
#include "state-file.h"
#include "test.h"
#include "time-util.h"

static char tmpdir[] = "/tmp/test-state-file-XXXXXX";

/* ---- helpers -------------------------------------------------------------------------------- */

/* A state with every field away from its default. */
static void fill(ks_service_state *s, size_t n_incidents) {
        static const char *const reasons[] = {
                "HTTP 503 from http://127.0.0.1:8080/healthz",
                "two\nlines, \"quoted\", a \\ backslash, a tab\t and \x01\x1f\x7f",
                "not UTF-8: \xff\xfe\xc3 and UTF-8: \xc3\xa9\xe2\x82\xac",
                "",
                "commas,,,at,the,end,",
        };

        ks_service_state_init(s);
        s->health = KS_HEALTH_FLAPPING;
        s->health_since_usec = UINT64_C(1718000000123456);
        s->consecutive_failures = 7;
        s->restarts_by_kservice = UINT64_MAX;
        s->restarts_seen = UINT64_MAX - 1;
        s->systemd_n_restarts = 42;
        strcpy(s->systemd_invocation_id, "0123456789abcdef0123456789abcdef");
        s->score_numerator = 1.0 / 3.0;
        s->score_denominator = 0.1 + 0.2;
        s->score_updated_usec = 1;
        s->flap_changes = 0x5a5a5;
        s->flap_n_changes = 20;
        s->flap_last = 1;
        s->flapping = true;
        for (size_t i = 0; i < n_incidents; i++) {
                ks_incident *x = ks_service_state_add_incident(s, 1000 + i, reasons[i % ELEMENTSOF(reasons)]);

                x->ended_usec = i % 3 == 0 ? 0 : 2000 + i;
                x->action = (ks_incident_action) (i % _KS_INCIDENT_ACTION_MAX);
                x->outcome = (ks_incident_outcome) (i % _KS_INCIDENT_OUTCOME_MAX);
        }
        if (n_incidents > 0)
                memset(s->incidents[0].reason, 'r', KS_INCIDENT_REASON_MAX);        /* the longest */
}

/* format, parse, compare; and format again gives the same bytes. */
static void round_trip(const ks_service_state *s) {
        _cleanup_free_ char *text = NULL, *again = NULL, *reason = NULL;
        ks_service_state back;
        size_t size, size2;

        ASSERT_OK(ks_service_state_format(s, &text, &size));
        ASSERT_EQ(strlen(text), size);
        ASSERT_OK(ks_service_state_parse(text, size, &back, &reason));
        ASSERT_NULL(reason);
        ASSERT_TRUE(ks_service_state_equal(s, &back));
        ASSERT_OK(ks_service_state_format(&back, &again, &size2));
        ASSERT_EQ(size, size2);
        ASSERT_TRUE(memcmp(text, again, size) == 0);
}

/* body + "CHECKSUM=" line with the right CRC. */
static char *with_checksum(const char *body) {
        char *s;

        ASSERT_TRUE(asprintf(&s, "%sCHECKSUM=%08" PRIx32 "\n", body, crc32_ieee(0, body, strlen(body))) > 0);
        return s;
}

/* Parses text (of size bytes): rejected, with a reason containing want (if not NULL). */
static void expect_rejected(const char *text, size_t size, const char *want, int line) {
        _cleanup_free_ char *reason = NULL;
        ks_service_state s;
        int r = ks_service_state_parse(text, size, &s, &reason);

        if (r != -EBADMSG) {
                TEST_FAILED("line %d: parse returned %d, expected -EBADMSG", line, r);
                return;
        }
        if (!reason || !*reason || strchr(reason, '\n'))
                TEST_FAILED("line %d: no one-line reason", line);
        else if (want && !strstr(reason, want))
                TEST_FAILED("line %d: reason \"%s\" does not say \"%s\"", line, reason, want);
}

static int subdir(const char *name) {
        char path[256];
        int fd;

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        ASSERT_OK(mkdir(path, 0755));
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        return fd;
}

static void write_file(int dfd, const char *name, const char *data, size_t size) {
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, data, size), (ssize_t) size);
}

static char *read_file(int dfd, const char *name, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        char *buf = calloc(1, 1 << 17);
        ssize_t n;

        ASSERT_TRUE(fd >= 0);
        ASSERT_NOT_NULL(buf);
        n = read(fd, buf, (1 << 17) - 1);
        ASSERT_TRUE(n >= 0);
        *ret_size = (size_t) n;
        return buf;
}

/* Files in dfd whose name contains part. */
static unsigned count_files(int dfd, const char *part) {
        _cleanup_(closedirp) DIR *d = fdopendir(openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        unsigned n = 0;

        ASSERT_NOT_NULL(d);
        for (struct dirent *de; (de = readdir(d));)
                n += strstr(de->d_name, part) != NULL;
        return n;
}

static void set_age(int dfd, const char *name, uint64_t now, uint64_t age_usec) {
        uint64_t t = now - age_usec;
        struct timespec ts[2] = {
                { .tv_sec = (time_t) (t / KS_USEC_PER_SEC), .tv_nsec = (long) (t % KS_USEC_PER_SEC) * 1000 },
                { .tv_sec = (time_t) (t / KS_USEC_PER_SEC), .tv_nsec = (long) (t % KS_USEC_PER_SEC) * 1000 },
        };

        ASSERT_OK(utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW));
}

/* ---- the record ----------------------------------------------------------------------------- */

TEST(empty_state) {
        _cleanup_free_ char *text = NULL;
        ks_service_state s;
        size_t size;

        ks_service_state_init(&s);
        ASSERT_EQ(s.version, KS_SERVICE_STATE_VERSION);
        ASSERT_EQ(s.health, KS_HEALTH_UNKNOWN);
        round_trip(&s);
        /* The format, as a reader with cat sees it. */
        ASSERT_OK(ks_service_state_format(&s, &text, &size));
        _cleanup_free_ char *want = with_checksum(
                "# kservice-notifyd state 1\n"
                "HEALTH=unknown\n"
                "HEALTH_SINCE=0\n"
                "CONSECUTIVE_FAILURES=0\n"
                "RESTARTS_BY_KSERVICE=0\n"
                "RESTARTS_SEEN=0\n"
                "SYSTEMD_NRESTARTS=0\n"
                "SYSTEMD_INVOCATION_ID=\n"
                "SCORE_NUMERATOR=0\n"
                "SCORE_DENOMINATOR=0\n"
                "SCORE_UPDATED=0\n"
                "FLAP_CHANGES=\n"
                "FLAP_LAST=none\n"
                "FLAPPING=0\n");
        ASSERT_STREQ(text, want);
}

TEST(round_trip) {
        static const double doubles[] = {
                0.0, -0.0, 1.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-310 /* subnormal */, 5e-324, 1.7976931348623157e308,
                123456.789012345678, 0.99999999999999989, 86400.0 * 365 * 1000,
        };
        ks_service_state s;

        for (size_t n = 0; n <= KS_SERVICE_STATE_INCIDENTS_MAX; n += n < 5 ? 1 : 15) {
                fill(&s, n);
                round_trip(&s);
        }
        fill(&s, KS_SERVICE_STATE_INCIDENTS_MAX);
        ASSERT_EQ(s.n_incidents, KS_SERVICE_STATE_INCIDENTS_MAX);
        round_trip(&s);
        for (size_t i = 0; i < ELEMENTSOF(doubles); i++) {
                s.score_numerator = doubles[i];
                s.score_denominator = -doubles[i];
                round_trip(&s);
        }
        /* Every reason byte but NUL, each health state, every verdict count. */
        for (int c = 1; c < 256; c++) {
                s.incidents[c % 50].reason[0] = (char) c;
                s.incidents[c % 50].reason[1] = '\0';
        }
        for (unsigned h = 0; h < _KS_HEALTH_STATE_MAX; h++) {
                s.health = (ks_health_state) h;
                s.flap_n_changes = MIN(h * 4, KS_FLAP_CHANGES_MAX);
                s.flap_changes = (1u << s.flap_n_changes) - 1;
                s.flap_last = (int) (h % 3) - 1;
                round_trip(&s);
        }
}

TEST(state_is_checked_before_formatting) {
        _cleanup_free_ char *text = NULL;
        ks_service_state s;

        fill(&s, 2);
        s.health = _KS_HEALTH_STATE_MAX;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.flap_n_changes = 3;
        s.flap_changes = 8;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.flap_last = 2;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.score_numerator = NAN;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.score_denominator = INFINITY;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.incidents[1].outcome = _KS_INCIDENT_OUTCOME_MAX;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        memset(s.incidents[1].reason, 'x', sizeof s.incidents[1].reason);     /* no NUL */
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        strcpy(s.systemd_invocation_id, "0123456789ABCDEF0123456789ABCDEF");
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        fill(&s, 2);
        s.n_incidents = KS_SERVICE_STATE_INCIDENTS_MAX + 1;
        ASSERT_ERROR(ks_service_state_format(&s, &text, NULL), EINVAL);
        ASSERT_NULL(text);
}

TEST(incidents_bounded) {
        char long_reason[400];
        ks_service_state s;
        ks_incident *x;

        ks_service_state_init(&s);
        for (unsigned i = 0; i < KS_SERVICE_STATE_INCIDENTS_MAX + 1; i++) {
                char r[32];

                snprintf(r, sizeof r, "incident %u", i);
                x = ks_service_state_add_incident(&s, 100 + i, r);
                ASSERT_TRUE(x == &s.incidents[s.n_incidents - 1]);
                ASSERT_EQ(x->outcome, KS_INCIDENT_ONGOING);
                ASSERT_EQ(x->action, KS_INCIDENT_ACTION_NONE);
                ASSERT_EQ(x->ended_usec, 0);
        }
        /* The 51st dropped the oldest. */
        ASSERT_EQ(s.n_incidents, KS_SERVICE_STATE_INCIDENTS_MAX);
        ASSERT_STREQ(s.incidents[0].reason, "incident 1");
        ASSERT_EQ(s.incidents[0].started_usec, 101);
        ASSERT_STREQ(s.incidents[49].reason, "incident 50");
        round_trip(&s);

        /* A long reason is cut at 160 bytes, or before a UTF-8 sequence that would be split. */
        memset(long_reason, 'a', sizeof long_reason - 1);
        long_reason[sizeof long_reason - 1] = '\0';
        x = ks_service_state_add_incident(&s, 1, long_reason);
        ASSERT_EQ(strlen(x->reason), KS_INCIDENT_REASON_MAX);
        memcpy(long_reason + 158, "\xe2\x82\xac", 3);  /* "€" over bytes 158..160 */
        x = ks_service_state_add_incident(&s, 1, long_reason);
        ASSERT_EQ(strlen(x->reason), 158);
        round_trip(&s);
}

/* ---- rejections ----------------------------------------------------------------------------- */

TEST(every_truncation_rejected) {
        _cleanup_free_ char *text = NULL;
        ks_service_state s;
        size_t size;

        fill(&s, KS_SERVICE_STATE_INCIDENTS_MAX);
        ASSERT_OK(ks_service_state_format(&s, &text, &size));
        for (size_t n = 0; n < size; n++)
                expect_rejected(text, n, NULL, __LINE__);
}

TEST(every_byte_change_rejected) {
        /* CRC-32 catches any change within 32 bits of the content; the header, the checksum line
         * and its final newline are checked literally (the digits lowercase only), so no change
         * of one byte to any other value goes through. */
        _cleanup_free_ char *text = NULL;
        ks_service_state s;
        size_t size;

        fill(&s, 3);
        ASSERT_OK(ks_service_state_format(&s, &text, &size));
        for (size_t i = 0; i < size; i++)
                for (unsigned mask = 1; mask < 256; mask++) {
                        text[i] ^= (char) mask;
                        expect_rejected(text, size, NULL, __LINE__);
                        text[i] ^= (char) mask;
                }
        /* The checksum's digits in upper case are another byte too. */
        for (char *p = strstr(text, "CHECKSUM=") + 9; *p != '\n'; p++)
                *p = (char) toupper((unsigned char) *p);
        if (strpbrk(strstr(text, "CHECKSUM="), "ABCDEF"))
                expect_rejected(text, size, "malformed CHECKSUM", __LINE__);
}

TEST(foreign_and_malformed_files) {
        static const char header[] = "# kservice-notifyd state 1\n";
        static const struct {
                const char *body;       /* after the header; the checksum is added */
                const char *reason;
        } bad[] = {
                { "HEALTH=healthy\nHEALTH=healthy\n", "HEALTH given twice" },
                { "HEALTH=fine\n", "bad value for HEALTH: \"fine\"" },
                { "HEALTH_SINCE=-1\n", "bad value for HEALTH_SINCE" },
                { "HEALTH_SINCE=18446744073709551616\n", "bad value for HEALTH_SINCE" },
                { "HEALTH_SINCE= 1\n", "bad value" },
                { "HEALTH_SINCE=\n", "bad value" },
                { "SCORE_NUMERATOR=nan\n", "bad value for SCORE_NUMERATOR" },
                { "SCORE_NUMERATOR=inf\n", "bad value" },
                { "SCORE_NUMERATOR=1e999\n", "bad value" },
                { "SCORE_NUMERATOR=1.5x\n", "bad value" },
                { "SCORE_DENOMINATOR= 1\n", "bad value" },
                { "FLAPPING=2\n", "bad value for FLAPPING" },
                { "FLAPPING=yes\n", "bad value" },
                { "FLAP_CHANGES=0102\n", "bad value for FLAP_CHANGES" },
                { "FLAP_CHANGES=010101010101010101010\n", "bad value" },
                { "FLAP_LAST=maybe\n", "bad value for FLAP_LAST" },
                { "SYSTEMD_INVOCATION_ID=0123\n", "bad value" },
                { "SYSTEMD_INVOCATION_ID=0123456789ABCDEF0123456789ABCDEF\n", "bad value" },
                { "HEALTH\n", "line 2: no '='" },
                { "health=healthy\n", "malformed key" },
                { "=1\n", "malformed key" },
                { "HEALTH=healthy\n\n", "line 3: no '='" },
                { "CHECKSUM=00000000\n", "CHECKSUM= before the last line" },
                { "INCIDENT=1,0,none,ongoing\n", "malformed INCIDENT" },
                { "INCIDENT=1,0,reboot,ongoing,x\n", "malformed INCIDENT" },
                { "INCIDENT=1,0,none,done,x\n", "malformed INCIDENT" },
                { "INCIDENT=x,0,none,ongoing,x\n", "malformed INCIDENT" },
                { "INCIDENT=1,,none,ongoing,x\n", "malformed INCIDENT" },
                { "INCIDENT=1,0,none,ongoing,bad \\q escape\n", "malformed INCIDENT" },
                { "INCIDENT=1,0,none,ongoing,a raw\ttab\n", "malformed INCIDENT" },
                { "INCIDENT=1,0,none,ongoing,\\x00\n", "malformed INCIDENT" },
        };
        _cleanup_free_ char *long_reason = NULL, *many = NULL, *big = NULL;
        char *t;

        /* Not ours, or another version of ours, with a valid checksum all the same. */
        t = with_checksum("# kservice-notifyd state 2\nHEALTH=healthy\n");
        expect_rejected(t, strlen(t), "foreign format version (first line \"# kservice-notifyd state 2\"", __LINE__);
        free(t);
        t = with_checksum("# kservice-notifyd state 1.1\n");
        expect_rejected(t, strlen(t), "foreign format version", __LINE__);
        free(t);
        t = with_checksum("[Unit]\nDescription=x\n");
        expect_rejected(t, strlen(t), "not a kservice-notifyd state file (first line \"[Unit]\")", __LINE__);
        free(t);
        expect_rejected("", 0, "empty", __LINE__);
        expect_rejected("# kservice-notifyd sta", 22, "truncated (within the first line)", __LINE__);
        expect_rejected("# kservice-notifyd state 1", 26, "truncated (within the first line)", __LINE__);
        expect_rejected("# kservice-notifyd state 10\n", 28, "foreign format version", __LINE__);
        expect_rejected("# kservice-notifyd state 1\nHEALTH=healthy\n", 42, "truncated", __LINE__);
        expect_rejected("# kservice-notifyd state 1\nCHECKSUM=00000000\n", 45, "checksum mismatch", __LINE__);
        expect_rejected("# kservice-notifyd state 1\nCHECKSUM=0\n", 38, "malformed CHECKSUM", __LINE__);
        expect_rejected("# kservice-notifyd state 1\nCHECKSUM=0000000000\n", 47, "malformed CHECKSUM", __LINE__);
        expect_rejected("# kservice-notifyd state 1\n\0\nCHECKSUM=00000000\n", 47, "NUL byte", __LINE__);
        expect_rejected("CHECKSUM=00000000\n", 18, "not a kservice-notifyd state file", __LINE__);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *body = NULL, *file = NULL;

                ASSERT_TRUE(asprintf(&body, "%s%s", header, bad[i].body) > 0);
                file = with_checksum(body);
                expect_rejected(file, strlen(file), bad[i].reason, __LINE__);
        }

        /* A reason of 161 bytes once unescaped ("\\n" is one). */
        ASSERT_TRUE(asprintf(&long_reason, "%sINCIDENT=1,0,none,ongoing,\\n%0160d\n", header, 0) > 0);
        t = with_checksum(long_reason);
        expect_rejected(t, strlen(t), "malformed INCIDENT", __LINE__);
        free(t);

        /* 51 incidents. */
        ASSERT_TRUE(asprintf(&many, "%s", header) > 0);
        for (int i = 0; i <= KS_SERVICE_STATE_INCIDENTS_MAX; i++) {
                char *m;
                ASSERT_TRUE(asprintf(&m, "%sINCIDENT=%d,0,none,ongoing,x\n", many, i) > 0);
                free(many);
                many = m;
        }
        t = with_checksum(many);
        expect_rejected(t, strlen(t), "line 52: more than 50 incidents", __LINE__);
        free(t);

        /* Over 64 KiB, in comments that would otherwise be fine. */
        big = malloc(70000);
        ASSERT_NOT_NULL(big);
        strcpy(big, header);
        while (strlen(big) < 66000)
                strcat(big, "# padding padding padding padding padding padding padding padding\n");
        t = with_checksum(big);
        expect_rejected(t, strlen(t), "larger than 65536 bytes", __LINE__);
        free(t);
}

TEST(compatible_additions) {
        /* Keys a later version adds are skipped; keys this one knows but the file lacks keep their
         * defaults; comments and any order are fine. */
        _cleanup_free_ char *reason = NULL;
        ks_service_state s;
        char *t = with_checksum("# kservice-notifyd state 1\n"
                                "# written by a later notifyd\n"
                                "RESTARTS_SEEN=5\n"
                                "LAST_CHECK_LATENCY=0.25\n"
                                "INCIDENT=10,20,restart,restarted,the first, with a comma\n"
                                "FUTURE_TABLE=a,b,c\n"
                                "HEALTH=healthy\n"
                                "INCIDENT=30,0,none,ongoing,\n"
                                "FLAP_CHANGES=0011\n");

        ASSERT_OK(ks_service_state_parse(t, strlen(t), &s, &reason));
        free(t);
        ASSERT_NULL(reason);
        ASSERT_EQ(s.health, KS_HEALTH_HEALTHY);
        ASSERT_EQ(s.restarts_seen, 5);
        ASSERT_EQ(s.restarts_by_kservice, 0);
        ASSERT_EQ(s.flap_n_changes, 4);
        ASSERT_EQ(s.flap_changes, 3);    /* the last two events were changes */
        ASSERT_EQ(s.flap_last, -1);
        ASSERT_EQ(s.n_incidents, 2);
        ASSERT_STREQ(s.incidents[0].reason, "the first, with a comma");
        ASSERT_EQ(s.incidents[0].action, KS_INCIDENT_ACTION_RESTART);
        ASSERT_EQ(s.incidents[0].outcome, KS_INCIDENT_RESTARTED);
        ASSERT_EQ(s.incidents[0].ended_usec, 20);
        ASSERT_STREQ(s.incidents[1].reason, "");
        ASSERT_EQ(s.incidents[1].outcome, KS_INCIDENT_ONGOING);
        ASSERT_STREQ(ks_health_state_to_string(s.health), "healthy");
        ASSERT_STREQ(ks_incident_action_to_string(KS_INCIDENT_ACTION_GAVE_UP), "gave-up");
        ASSERT_STREQ(ks_incident_outcome_to_string(KS_INCIDENT_UNKNOWN), "unknown");
        ASSERT_NULL(ks_health_state_to_string(_KS_HEALTH_STATE_MAX));
}

/* ---- files ---------------------------------------------------------------------------------- */

TEST(save_load) {
        _cleanup_close_ int dfd = subdir("save");
        _cleanup_free_ char *text = NULL, *want = NULL;
        ks_service_state s, back;
        struct stat st;
        size_t size, want_size;

        ASSERT_ERROR(ks_service_state_load(dfd, "web", &back, NULL, NULL), ENOENT);
        for (unsigned i = 0; i < 10; i++) {
                fill(&s, i * 5);
                s.restarts_seen = i;
                ASSERT_OK(ks_service_state_save(dfd, "web", &s));
                ASSERT_OK(ks_service_state_load(dfd, "web", &back, NULL, NULL));
                ASSERT_TRUE(ks_service_state_equal(&s, &back));
        }
        /* The file is what format gives, readable by all, and nothing else is left behind. */
        text = read_file(dfd, "web.state", &size);
        ASSERT_OK(ks_service_state_format(&s, &want, &want_size));
        ASSERT_EQ(size, want_size);
        ASSERT_TRUE(memcmp(text, want, size) == 0);
        ASSERT_OK(fstatat(dfd, "web.state", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 0644);
        ASSERT_EQ(count_files(dfd, ".state"), 1);

        /* Names that could leave the directory, or are not service names, or are too long. */
        static const char *const bad_names[] = { "", ".", "..", "../web", "a/b", ".hidden", "-x", "x.service" };
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                EXPECT_ERROR(ks_service_state_save(dfd, bad_names[i], &s), EINVAL);
                EXPECT_ERROR(ks_service_state_load(dfd, bad_names[i], &back, NULL, NULL), EINVAL);
        }
        char name[KS_STATE_NAME_MAX + 2];
        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        ASSERT_ERROR(ks_service_state_save(dfd, name, &s), ENAMETOOLONG);
        name[KS_STATE_NAME_MAX] = '\0';
        ASSERT_OK(ks_service_state_save(dfd, name, &s));
        ASSERT_OK(ks_service_state_load(dfd, name, &back, NULL, NULL));
        /* ... and its set-aside name still fits. */
        char file[sizeof name + sizeof ".state"];
        snprintf(file, sizeof file, "%s.state", name);
        write_file(dfd, file, "x", 1);
        _cleanup_free_ char *aside = NULL;
        ASSERT_ERROR(ks_service_state_load(dfd, name, &back, NULL, &aside), EBADMSG);
        ASSERT_NOT_NULL(aside);

        /* A state the format refuses is not written, and the old file stays. */
        s.health = _KS_HEALTH_STATE_MAX;
        ASSERT_ERROR(ks_service_state_save(dfd, "web", &s), EINVAL);
        ASSERT_OK(ks_service_state_load(dfd, "web", &back, NULL, NULL));
        ASSERT_EQ(back.restarts_seen, 9);
}

TEST(rejected_file_set_aside) {
        _cleanup_close_ int dfd = subdir("aside");
        static const char garbage[] = "# kservice-notifyd state 1\nHEALTH=healthy\nCHECKSUM=deadbeef\n";
        _cleanup_free_ char *reason = NULL, *aside = NULL, *content = NULL;
        ks_service_state s;
        size_t size;

        write_file(dfd, "db.state", garbage, sizeof garbage - 1);
        s.restarts_seen = 77;
        ASSERT_ERROR(ks_service_state_load(dfd, "db", &s, &reason, &aside), EBADMSG);
        ASSERT_EQ(s.restarts_seen, 77);   /* untouched */
        ASSERT_NOT_NULL(reason);
        ASSERT_TRUE(strstr(reason, "checksum mismatch") != NULL);
        ASSERT_NOT_NULL(aside);
        ASSERT_TRUE(strncmp(aside, "db.state.bad-", 13) == 0);
        ASSERT_TRUE(strspn(aside + 13, "0123456789") == strlen(aside + 13) && strlen(aside + 13) >= 16);
        /* renamed, not deleted, content intact; the service starts fresh */
        content = read_file(dfd, aside, &size);
        ASSERT_EQ(size, sizeof garbage - 1);
        ASSERT_TRUE(memcmp(content, garbage, size) == 0);
        ASSERT_ERROR(ks_service_state_load(dfd, "db", &s, NULL, NULL), ENOENT);

        /* Twice in the same microsecond or not, each rejected file gets its own name. */
        for (int i = 0; i < 3; i++) {
                write_file(dfd, "db.state", "junk", 4);
                ASSERT_ERROR(ks_service_state_load(dfd, "db", &s, NULL, NULL), EBADMSG);
        }
        ASSERT_EQ(count_files(dfd, "db.state.bad-"), 4);

        /* A symbolic link and a directory are set aside the same way (the link, not its target). */
        ASSERT_OK(symlinkat("/etc/passwd", dfd, "link.state"));
        reason = mfree(reason);
        aside = mfree(aside);
        ASSERT_ERROR(ks_service_state_load(dfd, "link", &s, &reason, &aside), EBADMSG);
        ASSERT_STREQ(reason, "a symbolic link");
        ASSERT_NOT_NULL(aside);
        ASSERT_OK(mkdirat(dfd, "dir.state", 0755));
        reason = mfree(reason);
        aside = mfree(aside);
        ASSERT_ERROR(ks_service_state_load(dfd, "dir", &s, &reason, &aside), EBADMSG);
        ASSERT_STREQ(reason, "not a regular file");
        ASSERT_ERROR(ks_service_state_load(dfd, "dir", &s, NULL, NULL), ENOENT);
}

TEST(remove_stale) {
        _cleanup_close_ int dfd = subdir("stale");
        static const struct {
                const char *file;
                uint64_t age_sec;
                bool removed;
        } files[] = {
                { "kept.state", 86400 * 365, false },           /* listed: kept however old */
                { "kept.state.bad-1", 86400 * 365, false },
                { "gone.state", 86400 * 8, true },              /* not listed, past the grace */
                { "gone.state.bad-1718000000000000", 86400 * 8, true },
                { "recent.state", 86400 * 6, false },           /* not listed, within the grace */
                { "recent.state.bad-2", 3600, false },
                { "kept.state.tmp-aB3dE9", 120, true },         /* a killed writer's, listed or not */
                { "gone.state.tmp-000000", 61, true },
                { "kept.state.tmp-Zz9Zz9", 10, false },         /* perhaps being written */
                { "README", 86400 * 365, false },               /* not ours */
                { ".state", 86400 * 365, false },
                { "kept.state.tmp-short", 86400 * 365, false },
                { "x.state.bad-", 86400 * 365, false },
                { "a.state.bad-1.state", 86400 * 8, true },     /* the state of "a.state.bad-1" */
                { "kept.state.bad-1.state.bad-5", 86400 * 8, true }, /* set aside for "kept.state.bad-1" */
        };
        const char *const keep[] = { "kept", "other", NULL };
        uint64_t now = ks_now_realtime_usec();

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                write_file(dfd, files[i].file, "x", 1);
                set_age(dfd, files[i].file, now, files[i].age_sec * KS_USEC_PER_SEC);
        }
        ASSERT_OK(mkdirat(dfd, "olddir.state", 0755));
        set_age(dfd, "olddir.state", now, 86400 * 30 * KS_USEC_PER_SEC);

        ASSERT_EQ(ks_service_state_remove_stale(dfd, keep, 7 * 86400 * KS_USEC_PER_SEC, now), 6);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                bool there = faccessat(dfd, files[i].file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

                if (there == files[i].removed)
                        TEST_FAILED("%s: %s", files[i].file, there ? "not removed" : "removed");
        }
        ASSERT_OK(faccessat(dfd, "olddir.state", F_OK, 0));
        /* Again: nothing left to remove. NULL keeps nothing: kept's files go, recent's stay within
         * the grace, and a grace of 0 takes them too. */
        ASSERT_EQ(ks_service_state_remove_stale(dfd, keep, 7 * 86400 * KS_USEC_PER_SEC, now), 0);
        ASSERT_EQ(ks_service_state_remove_stale(dfd, NULL, 7 * 86400 * KS_USEC_PER_SEC, now), 2);
        ASSERT_EQ(ks_service_state_remove_stale(dfd, NULL, 0, now), 2);
        ASSERT_EQ(count_files(dfd, ".state"), 5);       /* the young temporary file and what is not ours */
}

TEST(kill_9_at_random_moments) {
        /* A writer that saves a growing counter as fast as it can, killed at random moments: after
         * each kill the file loads, and the counter never went backwards. */
        _cleanup_close_ int dfd = subdir("crash");
        const char *const keep[] = { "svc", NULL };
        uint64_t last = 0, deadline = ks_now_usec() + 30 * KS_USEC_PER_SEC;
        unsigned kills = 0, leftovers;
        ks_service_state s;

        srand(13);
        ks_service_state_init(&s);
        ASSERT_OK(ks_service_state_save(dfd, "svc", &s));
        for (; kills < 200 && ks_now_usec() < deadline; kills++) {
                _cleanup_free_ char *reason = NULL, *aside = NULL;
                int status, r;
                pid_t pid = fork();

                ASSERT_TRUE(pid >= 0);
                if (pid == 0) {
                        ks_service_state c;

                        if (ks_service_state_load(dfd, "svc", &c, NULL, NULL) < 0)
                                _exit(2);
                        for (;;) {
                                c.restarts_seen++;
                                c.health = (ks_health_state) (c.restarts_seen % _KS_HEALTH_STATE_MAX);
                                /* the file grows and shrinks, so a torn write would show */
                                if (c.restarts_seen % 7 == 0)
                                        c.n_incidents = 0;
                                ks_service_state_add_incident(&c, c.restarts_seen, "a reason long enough to matter");
                                if (ks_service_state_save(dfd, "svc", &c) < 0)
                                        _exit(3);
                        }
                }
                usleep((useconds_t) (rand() % 8000));
                ASSERT_OK(kill(pid, SIGKILL));
                ASSERT_EQ(waitpid(pid, &status, 0), pid);
                ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

                r = ks_service_state_load(dfd, "svc", &s, &reason, &aside);
                if (r < 0)
                        TEST_FAILED("after kill %u: load: %s (%s)", kills, strerror(-r), strna(reason));
                ASSERT_OK(r);
                ASSERT_TRUE(s.restarts_seen >= last);
                last = s.restarts_seen;
        }
        /* Each kill may have left its temporary file: remove_stale() takes them once they are a
         * minute old, and keeps the state. */
        leftovers = count_files(dfd, ".state.tmp-");
        printf("%u kills, the counter reached %" PRIu64 ", %u killed in the middle of a save\n", kills, last,
               leftovers);
        ASSERT_EQ(kills, 200);
        ASSERT_TRUE(last > 0);
        ASSERT_TRUE(leftovers <= kills);
        ASSERT_EQ(ks_service_state_remove_stale(dfd, keep, 0, ks_now_realtime_usec()), 0);
        ASSERT_EQ(ks_service_state_remove_stale(dfd, keep, 0, ks_now_realtime_usec() + 2 * 60 * KS_USEC_PER_SEC),
                  (int) leftovers);
        ASSERT_EQ(count_files(dfd, ".state.tmp-"), 0);
        ASSERT_OK(ks_service_state_load(dfd, "svc", &s, NULL, NULL));
        ASSERT_EQ(s.restarts_seen, last);
}

int main(int argc, char *argv[]) {
        return ks_test_run_in_tmpdir(argc, argv, tmpdir, NULL);
}

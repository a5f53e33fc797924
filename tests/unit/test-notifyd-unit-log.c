/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unit-log.c: the journal fields of a message about a service, the rate limiter in front of them,
 * and stderr when there is no journal. The journal call is this file's, recording each message. */
#include <errno.h>
#include <stdio.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"
#include "unit-log.h"

#define HOUR (3600ull * 1000000ull)

static struct {
        unsigned calls;
        int n;
        char fields[32][600];
        int result;             /* what the next call returns */
} sent;

/* Takes the place of libsystemd's: the executable's definition is the one unit-log.o links to.
 * sd-journal.h makes sd_journal_sendv() this call, with the caller's CODE_FILE= and CODE_LINE=. */
int sd_journal_sendv_with_location(const char *file, const char *line, const char *func, const struct iovec *iov,
                                   int n) {
        sent.calls++;
        sent.n = n;
        for (int i = 0; i < n && i < (int) ELEMENTSOF(sent.fields); i++)
                snprintf(sent.fields[i], sizeof sent.fields[i], "%.*s", (int) iov[i].iov_len,
                         (const char *) iov[i].iov_base);
        return sent.result;
}

static bool has_field(const char *field) {
        for (int i = 0; i < sent.n; i++)
                if (streq(sent.fields[i], field))
                        return true;
        return false;
}

static bool has_key(const char *prefix) {
        for (int i = 0; i < sent.n; i++)
                if (strncmp(sent.fields[i], prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

TEST(fields) {
        const char *const fields[] = { "KSERVICE_NAME=web", "KSERVICE_STATE=unhealthy", NULL };

        sent.calls = 0;
        ks_unit_log(NULL, "konivrer@web.service", LOG_WARNING, fields, "check %d of %s failed", 3, "web");
        ASSERT_EQ(sent.calls, 1);
        ASSERT_EQ(sent.n, 6);
        EXPECT_STREQ(sent.fields[0], "MESSAGE=check 3 of web failed");
        EXPECT_STREQ(sent.fields[1], "OBJECT_SYSTEMD_UNIT=konivrer@web.service");
        EXPECT_STREQ(sent.fields[2], "PRIORITY=4");
        EXPECT_STREQ(sent.fields[3], "SYSLOG_IDENTIFIER=kservice-notifyd");
        EXPECT_STREQ(sent.fields[4], "KSERVICE_NAME=web");
        EXPECT_STREQ(sent.fields[5], "KSERVICE_STATE=unhealthy");
        EXPECT_FALSE(has_key("KSERVICE_SUPPRESSED="));

        /* No fields of the caller's: the four of every message. */
        ks_unit_log(NULL, "konivrer@db.service", LOG_INFO, NULL, "ready");
        ASSERT_EQ(sent.calls, 2);
        ASSERT_EQ(sent.n, 4);
        EXPECT_STREQ(sent.fields[0], "MESSAGE=ready");
        EXPECT_STREQ(sent.fields[2], "PRIORITY=6");
}

TEST(field_limits) {
        const char *many[21];
        char names[20][32];
        char long_message[2000];

        for (unsigned i = 0; i < 20; i++) {
                snprintf(names[i], sizeof names[i], "KSERVICE_F%u=%u", i, i);
                many[i] = names[i];
        }
        many[20] = NULL;
        sent.calls = 0;
        ks_unit_log(NULL, "konivrer@web.service", LOG_INFO, many, "many fields");
        ASSERT_EQ(sent.calls, 1);
        /* At most 16 of the caller's fields, the first 16. */
        ASSERT_EQ(sent.n, 4 + 16);
        EXPECT_STREQ(sent.fields[4], "KSERVICE_F0=0");
        EXPECT_STREQ(sent.fields[19], "KSERVICE_F15=15");
        EXPECT_FALSE(has_field("KSERVICE_F16=16"));

        /* A long message is cut at 511 bytes, not sent past its buffer. */
        memset(long_message, 'x', sizeof long_message - 1);
        long_message[sizeof long_message - 1] = '\0';
        ks_unit_log(NULL, "konivrer@web.service", LOG_INFO, NULL, "%s", long_message);
        ASSERT_EQ(sent.calls, 2);
        EXPECT_EQ(strlen(sent.fields[0]), strlen("MESSAGE=") + 511);
}

TEST(ratelimit) {
        ks_ratelimit rl;

        /* An hour's window: the real clock unit-log reads cannot leave it during the test. */
        ks_ratelimit_init(&rl, HOUR, 3);
        sent.calls = 0;
        ks_unit_log(&rl, "konivrer@web.service", LOG_WARNING, NULL, "check failed");
        ASSERT_EQ(sent.calls, 1);
        /* Repeats are dropped, and the next message that passes says how many. */
        ks_unit_log(&rl, "konivrer@web.service", LOG_WARNING, NULL, "check failed");
        ks_unit_log(&rl, "konivrer@web.service", LOG_WARNING, NULL, "check failed");
        ASSERT_EQ(sent.calls, 1);
        ks_unit_log(&rl, "konivrer@web.service", LOG_NOTICE, NULL, "check passed");
        ASSERT_EQ(sent.calls, 2);
        EXPECT_STREQ(sent.fields[0], "MESSAGE=check passed");
        EXPECT_TRUE(has_field("KSERVICE_SUPPRESSED=2"));
        /* The burst of 3 per window is used up: even a new message waits. */
        ks_unit_log(&rl, "konivrer@web.service", LOG_NOTICE, NULL, "third");
        ASSERT_EQ(sent.calls, 3);
        EXPECT_FALSE(has_key("KSERVICE_SUPPRESSED="));
        ks_unit_log(&rl, "konivrer@web.service", LOG_NOTICE, NULL, "fourth");
        EXPECT_EQ(sent.calls, 3);
}

/* Without a journal the message goes to stderr, prefixed with the unit. */
TEST(no_journal) {
        char path[] = "/tmp/ks-unit-log.XXXXXX", buf[256] = "";
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);

        ASSERT_TRUE(fd >= 0 && saved >= 0);
        unlink(path);
        unsetenv("JOURNAL_STREAM");
        sent.calls = 0;
        sent.result = -ENOENT;
        fflush(stderr);
        ASSERT_TRUE(dup2(fd, STDERR_FILENO) >= 0);
        ks_unit_log(NULL, "konivrer@web.service", LOG_ERR, NULL, "gave up after %u restarts", 5u);
        fflush(stderr);
        ASSERT_TRUE(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        sent.result = 0;

        EXPECT_EQ(sent.calls, 1);
        ASSERT_TRUE(pread(fd, buf, sizeof buf - 1, 0) > 0);
        close(fd);
        EXPECT_STREQ(buf, "konivrer@web.service: gave up after 5 restarts\n");
}

TEST_MAIN()

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-line.c: the STATUS= text of a service in each state of its tracker. */
#include <string.h>

#include "notifier.h"
#include "test.h"
#include "status-line.h"

static void test_status_line(void) {
        ks_tracker_params p = { .interval_usec = 1000000, .failure_threshold = 3, .success_threshold = 1,
                               .gate_ready = true, .start_period_usec = 5000000 };
        ks_tracker h;
        char buf[KS_STATUS_MAX];

        ks_tracker_begin(&h, &p, 0, false);
        ks_status_line(buf, sizeof buf, &h, true, false, NULL, 0);
        ASSERT_STREQ(buf, "starting (start period); no check yet");
        ks_status_line(buf, sizeof buf, &h, true, false, "Connection refused", 1200);
        ASSERT_STREQ(buf, "starting (start period); Connection refused in 1.2ms");
        ks_tracker_record(&h, true, 1000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "healthy; HTTP 200 in 3.4ms");
        ks_status_line(buf, sizeof buf, &h, false, true, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "flapping, healthy; HTTP 200 in 3.4ms");
        ks_tracker_record(&h, false, 6000000);
        ks_tracker_record(&h, false, 7000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 500 (expected 2xx)", 45000);
        ASSERT_STREQ(buf, "unhealthy (2/3); HTTP 500 (expected 2xx) in 45ms");
        ks_tracker_record(&h, false, 8000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "timed out after 2s", 2000500);
        ASSERT_STREQ(buf, "failed (3/3); timed out after 2s in 2000ms");
        ks_status_line(buf, 12, &h, false, false, "x", 1);
        ASSERT_EQ(strlen(buf), 11);

        /* success_threshold 3: passes that are not enough yet are shown, before readiness and
         * after failures. */
        p.success_threshold = 3;
        p.start_period_usec = 0;
        ks_tracker_begin(&h, &p, 0, false);
        ks_tracker_record(&h, true, 1000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "starting (1/3 passed); HTTP 200 in 3.4ms");
        ks_tracker_record(&h, false, 2000000);
        ks_tracker_record(&h, true, 3000000);
        ks_tracker_record(&h, true, 4000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "not ready (1 failed, 2/3 passed); HTTP 200 in 3.4ms");
        ks_tracker_record(&h, true, 5000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "healthy; HTTP 200 in 3.4ms");
        ks_tracker_record(&h, false, 6000000);
        ks_tracker_record(&h, false, 7000000);
        ks_tracker_record(&h, true, 8000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 200", 3400);
        ASSERT_STREQ(buf, "unhealthy (2/3, 1/3 passed); HTTP 200 in 3.4ms");
        ks_tracker_record(&h, false, 9000000);
        ks_status_line(buf, sizeof buf, &h, false, false, "HTTP 500 (expected 2xx)", 3400);
        ASSERT_STREQ(buf, "failed (3/3); HTTP 500 (expected 2xx) in 3.4ms");
}

int main(void) {
        test_status_line();
        TEST_DONE();
}

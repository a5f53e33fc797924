/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal assertion macros shared by the notifyd unit tests. A failed check aborts the test
 * with file:line and the expression; the program exits 0 only when every check held. */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned ks_test_checks;

#define ASSERT_TRUE(expr)                                                                         \
        do {                                                                                      \
                ks_test_checks++;                                                                 \
                if (!(expr)) {                                                                    \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                  \
                }                                                                                 \
        } while (0)

#define ASSERT_EQ(a, b)                                                                           \
        do {                                                                                      \
                long long _a = (long long) (a), _b = (long long) (b);                             \
                ks_test_checks++;                                                                 \
                if (_a != _b) {                                                                   \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                                #a, _a, #b, _b);                                                  \
                        abort();                                                                  \
                }                                                                                 \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                        \
        do {                                                                                      \
                const char *_a = (a), *_b = (b);                                                  \
                ks_test_checks++;                                                                 \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                          \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
                                _a ? _a : "(null)", _b ? _b : "(null)");                           \
                        abort();                                                                  \
                }                                                                                 \
        } while (0)

#define TEST_DONE()                                                                               \
        do {                                                                                      \
                printf("%u checks passed\n", ks_test_checks);                                     \
                return 0;                                                                         \
        } while (0)

/* Whether a file whose name contains name (libcurl.so.4 matches the mapped libcurl.so.4.8.0) is
 * mapped into this process: which libraries a test has loaded. */
static inline bool ks_test_mapped(const char *name) {
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        bool found = false;

        ASSERT_TRUE(f != NULL);
        while (!found && fgets(line, sizeof line, f)) {
                const char *slash = strrchr(line, '/');
                found = slash && strstr(slash, name);
        }
        fclose(f);
        return found;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one test harness of every unit test (after systemd's src/shared/tests.h). Each check says
 * file:line, the expression and the values when it fails:
 *   ASSERT_*  stop the test at once (abort()), for checks whose failure makes the rest meaningless;
 *   EXPECT_*  record the failure and go on, for long tables where every wrong row should be seen;
 *             the program then exits non-zero (TEST_DONE(), ks_test_run()).
 * Checks: _TRUE(e), _FALSE(e), _EQ(a, b) (as integers), _STREQ(a, b) (NULL equals only NULL),
 * _OK(r) (r >= 0), _ERROR(r, E) (r == -E), _NULL(p), _NOT_NULL(p), _NEAR(a, b, eps) (doubles,
 * |a - b| <= eps, NaN never); TEST_FAILED(fmt, ...) records a failure a test found its own way;
 * ks_test_random(&state) is a deterministic PRNG, so a failure reproduces.
 * Tests: TEST(name) { ... } defines test_name() and registers it; TEST_MAIN() runs them all in
 * the order they are written, or only those named on the command line (test-diag edit_distance).
 * A main() of its own returns ks_test_run(argc, argv), or ks_test_run_in_tmpdir() for tests that
 * share a temporary directory; an older main() that calls the tests itself ends with TEST_DONE().
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned ks_test_checks, ks_test_failed;

/* One failed check: the message, then abort() (fatal) or a recorded failure. */
__attribute__((format(printf, 4, 5)))
static inline void ks_test_fail(bool fatal, const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (fatal)
                abort();
        ks_test_failed++;
}

/* An integer for a message; a huge unsigned value as unsigned (2^63 and above would read as a
 * large negative number), with_errno: a negative errno with its description. */
static inline const char *ks_test_int(char buf[static 96], long long v, bool with_errno) {
        if (with_errno && v < 0 && v > -4096)
                snprintf(buf, 96, "%lld (%s)", v, strerror((int) -v));
        else if (v < -4096)
                snprintf(buf, 96, "%llu", (unsigned long long) v);
        else
                snprintf(buf, 96, "%lld", v);
        return buf;
}

static inline bool ks_test_streq(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define KS_TEST_TRUE_(fatal, expr, text)                                                           \
        do {                                                                                       \
                ks_test_checks++;                                                                  \
                if (!(expr))                                                                       \
                        ks_test_fail(fatal, __FILE__, __LINE__, "assertion failed: %s", text);     \
        } while (0)

#define KS_TEST_EQ_(fatal, a, b, ta, tb)                                                           \
        do {                                                                                       \
                long long _a = (long long) (a), _b = (long long) (b);                              \
                char _sa[96], _sb[96];                                                             \
                ks_test_checks++;                                                                  \
                if (_a != _b)                                                                      \
                        ks_test_fail(fatal, __FILE__, __LINE__, "%s == %s, expected %s == %s", ta, \
                                     ks_test_int(_sa, _a, false), tb,                              \
                                     ks_test_int(_sb, _b, false));                                 \
        } while (0)

#define KS_TEST_STREQ_(fatal, a, b, ta)                                                            \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                ks_test_checks++;                                                                  \
                if (!ks_test_streq(_a, _b))                                                        \
                        ks_test_fail(fatal, __FILE__, __LINE__,                                    \
                                     "%s: got \"%s\", expected \"%s\"", ta, _a ?: "(null)",        \
                                     _b ?: "(null)");                                              \
        } while (0)

#define KS_TEST_OK_(fatal, r, tr)                                                                  \
        do {                                                                                       \
                long long _r = (long long) (r);                                                    \
                char _s[96];                                                                       \
                ks_test_checks++;                                                                  \
                if (_r < 0)                                                                        \
                        ks_test_fail(fatal, __FILE__, __LINE__, "%s failed: %s", tr,               \
                                     ks_test_int(_s, _r, true));                                   \
        } while (0)

#define KS_TEST_ERROR_(fatal, r, e, tr)                                                            \
        do {                                                                                       \
                long long _r = (long long) (r), _e = (e);                                          \
                char _s[96], _se[96];                                                              \
                ks_test_checks++;                                                                  \
                if (_r != -_e)                                                                     \
                        ks_test_fail(fatal, __FILE__, __LINE__, "%s == %s, expected %s", tr,       \
                                     ks_test_int(_s, _r, true),                                    \
                                     ks_test_int(_se, -_e, true));                                 \
        } while (0)

#define KS_TEST_NEAR_(fatal, a, b, eps, ta)                                                        \
        do {                                                                                       \
                double _a = (a), _b = (b), _eps = (eps);                                           \
                ks_test_checks++;                                                                  \
                if (!(fabs(_a - _b) <= _eps))                                                      \
                        ks_test_fail(fatal, __FILE__, __LINE__, "%s == %.17g, expected %.17g ± %g", \
                                     ta, _a, _b, _eps);                                            \
        } while (0)

#define ASSERT_TRUE(expr)       KS_TEST_TRUE_(true, expr, #expr)
#define ASSERT_FALSE(expr)      KS_TEST_TRUE_(true, !(expr), "!(" #expr ")")
#define ASSERT_NULL(p)          KS_TEST_TRUE_(true, (p) == NULL, #p " == NULL")
#define ASSERT_NOT_NULL(p)      KS_TEST_TRUE_(true, (p) != NULL, #p " != NULL")
#define ASSERT_EQ(a, b)         KS_TEST_EQ_(true, a, b, #a, #b)
#define ASSERT_STREQ(a, b)      KS_TEST_STREQ_(true, a, b, #a)
#define ASSERT_OK(r)            KS_TEST_OK_(true, r, #r)
#define ASSERT_ERROR(r, e)      KS_TEST_ERROR_(true, r, e, #r)
#define ASSERT_NEAR(a, b, eps)  KS_TEST_NEAR_(true, a, b, eps, #a)

#define EXPECT_TRUE(expr)       KS_TEST_TRUE_(false, expr, #expr)
#define EXPECT_FALSE(expr)      KS_TEST_TRUE_(false, !(expr), "!(" #expr ")")
#define EXPECT_NULL(p)          KS_TEST_TRUE_(false, (p) == NULL, #p " == NULL")
#define EXPECT_NOT_NULL(p)      KS_TEST_TRUE_(false, (p) != NULL, #p " != NULL")
#define EXPECT_EQ(a, b)         KS_TEST_EQ_(false, a, b, #a, #b)
#define EXPECT_STREQ(a, b)      KS_TEST_STREQ_(false, a, b, #a)
#define EXPECT_OK(r)            KS_TEST_OK_(false, r, #r)
#define EXPECT_ERROR(r, e)      KS_TEST_ERROR_(false, r, e, #r)
#define EXPECT_NEAR(a, b, eps)  KS_TEST_NEAR_(false, a, b, eps, #a)

/* A failure the test detected itself (a table row, a whole output): said with file:line, recorded,
 * and the test goes on. */
#define TEST_FAILED(...) ks_test_fail(false, __FILE__, __LINE__, __VA_ARGS__)

/* xorshift64* (Vigna): a deterministic stream from a nonzero state, the same on every machine. */
static inline uint64_t ks_test_random(uint64_t *state) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * UINT64_C(2685821657736338717);
}

/* The summary line; 0 when every check held, 1 otherwise. */
static inline int ks_test_done(void) {
        if (ks_test_failed) {
                fprintf(stderr, "%u checks, %u failed\n", ks_test_checks, ks_test_failed);
                return EXIT_FAILURE;
        }
        printf("%u checks passed\n", ks_test_checks);
        return EXIT_SUCCESS;
}

#define TEST_DONE() return ks_test_done()

/* ---- named tests ---------------------------------------------------------------------------- */

typedef struct ks_test {
        const char *name;
        void (*run)(void);
        int line;
        struct ks_test *next;
} ks_test;

static inline ks_test **ks_test_list(void) {
        static ks_test *list;
        return &list;
}

/* Called by TEST() before main(); keeps the list in the order of the source. */
static inline void ks_test_register(ks_test *t) {
        ks_test **p = ks_test_list();

        while (*p && (*p)->line < t->line)
                p = &(*p)->next;
        t->next = *p;
        *p = t;
}

#define TEST(name)                                                                                 \
        static void test_##name(void);                                                             \
        static ks_test ks_test_entry_##name = { #name, test_##name, __LINE__, NULL };              \
        __attribute__((constructor)) static void ks_test_register_##name(void) {                   \
                ks_test_register(&ks_test_entry_##name);                                           \
        }                                                                                          \
        static void test_##name(void)

/* Runs every registered test, or those named in argv[1..]; a name that matches none fails. */
static inline int ks_test_run(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                bool found = false;
                for (ks_test *t = *ks_test_list(); t; t = t->next)
                        found = found || strcmp(t->name, argv[i]) == 0;
                if (!found) {
                        fprintf(stderr, "no test named \"%s\"\n", argv[i]);
                        return EXIT_FAILURE;
                }
        }
        for (ks_test *t = *ks_test_list(); t; t = t->next) {
                bool selected = argc <= 1;
                for (int i = 1; i < argc; i++)
                        selected = selected || strcmp(t->name, argv[i]) == 0;
                if (!selected)
                        continue;
                printf("/* test_%s */\n", t->name);
                fflush(stdout);
                t->run();
        }
        return ks_test_done();
}

#define TEST_MAIN()                                                                                \
        int main(int argc, char *argv[]) {                                                         \
                return ks_test_run(argc, argv);                                                    \
        }

/* ks_test_run() with a fresh directory made from the mkdtemp() template dir (a static buffer the
 * tests read), filled by setup (may be NULL) and removed afterwards. */
static inline int ks_test_run_in_tmpdir(int argc, char *argv[], char *dir, void (*setup)(void)) {
        char cmd[600];
        int r;

        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return EXIT_FAILURE;
        }
        if (setup)
                setup();
        r = ks_test_run(argc, argv);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        return r;
}

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

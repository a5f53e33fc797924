/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for ks-testd's command-file language and HTTP request-head parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "testd-command.h"

static unsigned failures;

#define CHECK(cond)                                                                     \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        failures++;                                                     \
                }                                                                       \
        } while (0)

static void test_behaviours(void) {
        TestdCommand c;
        unsigned line = 0;

        testd_command_init(&c);
        CHECK(c.behaviour.mode == TESTD_MODE_STATUS && c.behaviour.status == 200);

        CHECK(testd_command_parse("fail\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_STATUS && c.behaviour.status == 500);
        CHECK(testd_command_parse("# comment\n\n  ok  \n", &c, &line) == 0);
        CHECK(c.behaviour.status == 200);
        CHECK(testd_command_parse("status 503", &c, &line) == 0);
        CHECK(c.behaviour.status == 503);
        CHECK(testd_command_parse("slow 1500\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_SLOW && c.behaviour.delay_ms == 1500 && c.behaviour.status == 200);
        CHECK(testd_command_parse("slow 20 500\r\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_SLOW && c.behaviour.delay_ms == 20 && c.behaviour.status == 500);
        CHECK(testd_command_parse("hang", &c, &line) == 0 && c.behaviour.mode == TESTD_MODE_HANG);
        CHECK(testd_command_parse("close", &c, &line) == 0 && c.behaviour.mode == TESTD_MODE_CLOSE);
        CHECK(testd_command_parse("garbage", &c, &line) == 0 && c.behaviour.mode == TESTD_MODE_GARBAGE);
        /* the last one wins */
        CHECK(testd_command_parse("fail\nhang\nok\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_STATUS && c.behaviour.status == 200);
        CHECK(c.action == TESTD_ACTION_NONE && !c.body);

        CHECK(testd_command_parse("sequence 500 500 200 500 200\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_SEQUENCE && c.behaviour.n_sequence == 5);
        CHECK(testd_sequence_status(&c.behaviour, 0) == 500 && testd_sequence_status(&c.behaviour, 2) == 200 &&
              testd_sequence_status(&c.behaviour, 3) == 500 && testd_sequence_status(&c.behaviour, 4) == 200 &&
              testd_sequence_status(&c.behaviour, 1000) == 200);
        CHECK(!c.behaviour.cycle);
        CHECK(testd_command_parse("cycle 200 500\n", &c, &line) == 0);
        CHECK(c.behaviour.mode == TESTD_MODE_SEQUENCE && c.behaviour.cycle && c.behaviour.n_sequence == 2);
        CHECK(testd_sequence_status(&c.behaviour, 0) == 200 && testd_sequence_status(&c.behaviour, 1) == 500 &&
              testd_sequence_status(&c.behaviour, 2) == 200 && testd_sequence_status(&c.behaviour, 1001) == 500);
        CHECK(testd_command_parse("port 8081 sequence 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", &c, &line) < 0);
        CHECK(testd_command_parse("port 8081 sequence 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 503",
                                  &c, &line) == 0);
        CHECK(testd_command_behaviour(&c, 8081)->n_sequence == 16 &&
              testd_sequence_status(testd_command_behaviour(&c, 8081), 15) == 503);

        CHECK(testd_command_parse("body all good here\n", &c, &line) == 0);
        CHECK(c.body && streq(c.body, "all good here\n"));

        testd_command_done(&c);
}

static void test_ports(void) {
        TestdCommand c;
        unsigned line = 0;

        testd_command_init(&c);
        CHECK(testd_command_parse("fail\nport 8081 ok\nport 8082 slow 100\nport 8081 hang\n", &c, &line) == 0);
        CHECK(c.n_ports == 3);
        CHECK(testd_command_behaviour(&c, 8080)->status == 500);
        CHECK(testd_command_behaviour(&c, 8081)->mode == TESTD_MODE_HANG);
        CHECK(testd_command_behaviour(&c, 8082)->mode == TESTD_MODE_SLOW);
        testd_command_done(&c);
}

static void test_actions(void) {
        TestdCommand c;
        unsigned line = 0;
        char *t;

        testd_command_init(&c);
        CHECK(testd_command_parse("fail\nexit 3\n", &c, &line) == 0);
        CHECK(c.action == TESTD_ACTION_EXIT && c.exit_code == 3 && !c.action_repeat && c.action_line == 2);
        CHECK(testd_command_parse("repeat crash\nok\n", &c, &line) == 0);
        CHECK(c.action == TESTD_ACTION_CRASH && c.action_repeat && c.action_line == 1);
        CHECK(testd_command_parse("abort", &c, &line) == 0);
        CHECK(c.action == TESTD_ACTION_ABORT && !c.action_repeat);
        CHECK(testd_command_parse("repeat exit 0", &c, &line) == 0);
        CHECK(c.action == TESTD_ACTION_EXIT && c.exit_code == 0 && c.action_repeat);

        t = testd_text_drop_line("fail\nexit 3\nok\n", 2);
        CHECK(t && streq(t, "fail\nok\n"));
        free(t);
        t = testd_text_drop_line("exit 3", 1);
        CHECK(t && streq(t, ""));
        free(t);
        t = testd_text_drop_line("a\nb", 2);
        CHECK(t && streq(t, "a\n"));
        free(t);
        testd_command_done(&c);
}

static void test_errors(void) {
        static const struct {
                const char *text;
                unsigned line;
        } bad[] = {
                { "nonsense", 1 },
                { "ok\nstatus", 2 },
                { "status 99", 1 },
                { "status 600", 1 },
                { "status 2xx", 1 },
                { "slow", 1 },
                { "slow -1", 1 },
                { "slow 10 5000", 1 },
                { "ok extra", 1 },
                { "\n\nexit 256", 3 },
                { "exit", 1 },
                { "repeat ok", 1 },
                { "port 70000 ok", 1 },
                { "port 80", 1 },
                { "port 80 bogus", 1 },
                { "a b c d e f g", 1 },
                { "sequence", 1 },
                { "sequence 200 2xx", 1 },
                { "cycle", 1 },
                { "cycle 200 99", 1 },
                { "sequence 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", 1 },
        };
        TestdCommand c;

        testd_command_init(&c);
        CHECK(testd_command_parse("status 404", &c, NULL) == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                unsigned line = 0;
                int r = testd_command_parse(bad[i].text, &c, &line);
                if (r != -EINVAL || line != bad[i].line) {
                        fprintf(stderr, "bad case %zu (%s): r=%d line=%u\n", i, bad[i].text, r, line);
                        failures++;
                }
                /* a failed parse leaves the previous behaviour alone */
                CHECK(c.behaviour.status == 404);
        }
        testd_command_done(&c);
}

static void test_http(void) {
        TestdRequest r;
        const char *s;

        s = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == (int) strlen(s));
        CHECK(streq(r.method, "GET") && streq(r.path, "/health") && r.keep_alive && r.content_length == 0);

        /* incomplete heads */
        CHECK(testd_http_parse_head(s, strlen(s) - 1, &r) == 0);
        CHECK(testd_http_parse_head("GET / HTTP/1.1\r\n", 16, &r) == 0);
        CHECK(testd_http_parse_head("", 0, &r) == 0);

        s = "GET /x HTTP/1.0\n\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == (int) strlen(s));
        CHECK(!r.keep_alive && streq(r.path, "/x"));

        s = "HEAD /ping HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\nGET";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == (int) strlen(s) - 3);
        CHECK(r.keep_alive && streq(r.method, "HEAD"));

        s = "POST /health HTTP/1.1\r\nConnection: close\r\nContent-Length: 12\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) > 0);
        CHECK(!r.keep_alive && r.content_length == 12);

        s = "\x16\x03\x01 garbage\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);
        s = "GET /health HTTP/2.0\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);
        s = "GET health HTTP/1.1\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);
        s = "GET /health HTTP/1.1\r\nno colon here\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);
        s = "GET /health HTTP/1.1\r\nContent-Length: lots\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);
        s = "get /health HTTP/1.1\r\n\r\n";
        CHECK(testd_http_parse_head(s, strlen(s), &r) == -EBADMSG);

        CHECK(streq(testd_reason_phrase(500), "Internal Server Error"));
}

int main(void) {
        test_behaviours();
        test_ports();
        test_actions();
        test_errors();
        test_http();
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return 1;
        }
        printf("all checks passed\n");
        return 0;
}

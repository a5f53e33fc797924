/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parsing half of ks-testd (the integration suite's test service), kept apart from its event
 * loop so that it can be unit-tested: the command-file language that switches /health between
 * behaviours and triggers exits and crashes, and the HTTP/1.x request-head parser.
 *
 * Command file: one directive per line; blank lines and lines starting with '#' are ignored.
 * The last /health directive wins (per port for "port N ...").
 *
 *   ok                  /health answers 200
 *   fail                /health answers 500
 *   status CODE         /health answers CODE (100..599)
 *   slow MS [CODE]      /health answers CODE (default 200) after MS milliseconds
 *   sequence CODE...    /health answers these codes in turn (1 to 16 of them), one request
 *                       each from when the file was written, then the last one for good
 *   cycle CODE...       like sequence, but over and over: "cycle 200 500" alternates for good
 *   hang                /health never answers; the connection is held open until the client gives up
 *   close               the connection is closed without an answer
 *   garbage             non-HTTP bytes are sent, then the connection is closed
 *   body TEXT           the body of /health answers (default "ok\n" for 2xx, "fail\n" otherwise)
 *   port N DIRECTIVE    one of the /health directives above, for listening port N only
 *   exit CODE           the process exits with CODE (0..255)
 *   crash               the process dies of SIGSEGV
 *   abort               the process calls abort() (SIGABRT)
 *   repeat ACTION       ACTION is one of exit/crash/abort, done by every instance that reads the file
 *
 * exit, crash and abort are one-shot: ks-testd removes their line from the file before acting, so
 * an instance restarted by systemd does not repeat them. With "repeat" the line stays, which makes
 * a crash loop (every start dies at once).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum TestdMode {
        TESTD_MODE_STATUS,      /* answer at once with .status */
        TESTD_MODE_SLOW,        /* answer with .status after .delay_ms */
        TESTD_MODE_HANG,
        TESTD_MODE_CLOSE,
        TESTD_MODE_GARBAGE,
        TESTD_MODE_SEQUENCE,    /* answer .sequence[i] to the i-th request, the last one after
                                 * (or .sequence[i % n] with .cycle) */
} TestdMode;

#define TESTD_SEQUENCE_MAX 16

typedef struct TestdBehaviour {
        TestdMode mode;
        int status;
        unsigned delay_ms;
        int sequence[TESTD_SEQUENCE_MAX];
        unsigned n_sequence;
        bool cycle;             /* "cycle": the sequence starts over after its last code */
} TestdBehaviour;

typedef enum TestdAction {
        TESTD_ACTION_NONE,
        TESTD_ACTION_EXIT,
        TESTD_ACTION_CRASH,
        TESTD_ACTION_ABORT,
} TestdAction;

typedef struct TestdPortBehaviour {
        unsigned port;
        TestdBehaviour behaviour;
} TestdPortBehaviour;

#define TESTD_BODY_MAX 512

typedef struct TestdCommand {
        TestdBehaviour behaviour;       /* for every port without an override */
        TestdPortBehaviour *ports;      /* overrides, later ones win */
        size_t n_ports;
        char *body;                     /* NULL: default body */
        TestdAction action;
        int exit_code;
        bool action_repeat;
        unsigned action_line;           /* 1-based line of the action, to remove it when one-shot */
} TestdCommand;

void testd_command_init(TestdCommand *c);
void testd_command_done(TestdCommand *c);

/* Parses the whole file text. On error returns -EINVAL and stores the 1-based line in *reterr_line;
 * *c is then left as it was (initialised, empty). */
int testd_command_parse(const char *text, TestdCommand *c, unsigned *reterr_line);

/* The behaviour for a listening port, taking per-port overrides into account. */
const TestdBehaviour *testd_command_behaviour(const TestdCommand *c, unsigned port);

/* The status a TESTD_MODE_SEQUENCE behaviour answers to request number index (0-based). */
int testd_sequence_status(const TestdBehaviour *b, uint64_t index);

/* Returns a newly allocated copy of text without line number 'line' (1-based). */
char *testd_text_drop_line(const char *text, unsigned line);

const char *testd_reason_phrase(int status);

typedef struct TestdRequest {
        char method[16];
        char path[256];
        bool keep_alive;
        size_t content_length;
} TestdRequest;

/* Parses an HTTP/1.x request head at the start of buf. Returns 0 when the head is not complete yet,
 * the length of the head (including the empty line) when it is, -EBADMSG when it is not HTTP/1.x. */
int testd_http_parse_head(const char *buf, size_t len, TestdRequest *ret);

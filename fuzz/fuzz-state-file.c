/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for notifyd's state file parser (notifyd/model/state-file.c). Beyond "does not
 * crash or leak": a rejected file comes with a one-line reason; whatever parses formats and parses
 * back to the same state, and formatting is a fixed point. Random bytes almost never carry a
 * valid CRC-32, so each input is also tried with its checksum line replaced by the right one:
 * that is what lets mutations reach the parser behind the checksum.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "state-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *in, size_t size) {
        char *reason = NULL, *text = NULL, *again = NULL;
        ks_service_state s, back;
        size_t n, n2;
        int r;

        r = ks_service_state_parse(in, size, &s, &reason);
        if (r < 0) {
                assert(r == -EBADMSG);
                assert(reason && reason[0] && !strchr(reason, '\n'));
                free(reason);
                return;
        }
        assert(r == 0 && !reason);
        assert(ks_service_state_format(&s, &text, &n) == 0);
        assert(strlen(text) == n && n <= KS_SERVICE_STATE_SIZE_MAX);
        assert(ks_service_state_parse(text, n, &back, &reason) == 0);
        assert(ks_service_state_equal(&s, &back));
        assert(ks_service_state_format(&back, &again, &n2) == 0);
        assert(n == n2 && memcmp(text, again, n) == 0);
        free(text);
        free(again);
}

/* The input without its last line if that is a CHECKSUM= line, then "CHECKSUM=" and the right CRC. */
static void check_with_checksum(const char *in, size_t size) {
        size_t body = size, start;
        char *fixed;
        int k;

        if (body > 0 && in[body - 1] == '\n') {
                for (start = body - 1; start > 0 && in[start - 1] != '\n'; start--)
                        ;
                if (body - start >= 9 && memcmp(in + start, "CHECKSUM=", 9) == 0)
                        body = start;
        }
        fixed = malloc(body + 1 + 32);
        assert(fixed);
        memcpy(fixed, in, body);
        if (body > 0 && fixed[body - 1] != '\n')
                fixed[body++] = '\n';
        k = snprintf(fixed + body, 32, "CHECKSUM=%08" PRIx32 "\n", crc32_ieee(0, fixed, body));
        check(fixed, body + (size_t) k);
        free(fixed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check((const char *) data, size);
        check_with_checksum((const char *) data, size);
        return 0;
}

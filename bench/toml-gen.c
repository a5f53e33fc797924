/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Generates the benchmark's TOML document: blocks that look like real configuration (a service
 * table with dotted keys, inline tables, arrays, every string kind with escapes, every number
 * syntax, every date-time kind, comments, and arrays of tables under it), varied by a fixed-seed
 * PRNG so the parser does not just see one line repeated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "toml-gen.h"

typedef struct buf {
        char *p;
        size_t len, cap;
        int oom;
} buf;

_printf_(2, 3) static void put(buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        if (b->oom)
                return;
        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->oom = 1;
                        return;
                }
                if ((size_t) n < b->cap - b->len)
                        break;
                size_t ncap = (b->cap + (size_t) n + 1) * 2;
                char *np = realloc(b->p, ncap);
                if (!np) {
                        b->oom = 1;
                        return;
                }
                b->p = np;
                b->cap = ncap;
        }
        b->len += (size_t) n;
}

static uint64_t rng_state = 0x6b73657276696365ULL; /* "kservice" */

static uint64_t rnd(void) {
        /* splitmix64: tiny, fast, and the same sequence on every platform */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static unsigned pick(unsigned n) {
        return (unsigned) (rnd() % n);
}

static const char *const words[] = {
        "api", "web", "worker", "cache", "queue", "model", "gateway", "auth", "search", "index",
        "ingest", "export", "billing", "metrics", "logs", "scheduler", "notifier", "storage",
        "résumé", "naïve", "東京", "Zürich",
};

static const char *word(void) {
        return words[pick(ELEMENTSOF(words))];
}

static void gen_block(buf *b, unsigned i) {
        unsigned port = 1024 + pick(60000);
        unsigned nchecks = 1 + pick(3), nenv = 2 + pick(5), nargs = 2 + pick(6);

        put(b, "# ---------------------------------------------------------------------------\n"
               "# Service %u: %s-%s, generated for the parser benchmark.\n", i, word(), word());
        put(b, "[service.s%06u]\n", i);
        put(b, "name = \"%s-%u\"\n", word(), i);
        put(b, "description = \"The \\\"%s\\\" service\\tfor %s \\\\ tier %u, caf\\u00e9 \\U0001F680\"\n",
            word(), word(), pick(5));
        put(b, "exec = [\"/usr/bin/%s\"", word());
        for (unsigned a = 0; a < nargs; a++) {
                switch (pick(4)) {
                case 0: put(b, ", \"--port=%u\"", port); break;
                case 1: put(b, ", '--root=C:\\data\\%s'", word()); break;
                case 2: put(b, ", \"--label=%s\\n%s\"", word(), word()); break;
                default: put(b, ", \"-v\""); break;
                }
        }
        put(b, "]\n");
        put(b, "working_directory = '/srv/%s/%u'   # literal string: no escapes\n", word(), i);
        put(b, "user = \"svc%u\"\nenabled = %s\n", i % 100, pick(2) ? "true" : "false");
        put(b, "port = %u\nworkers = %d\nmask = 0o%o\nflags = 0x%x\nbits = 0b%s\n", port,
            (int) pick(64) - 8, pick(0777), (unsigned) rnd(), pick(2) ? "1010_0101" : "11110000");
        put(b, "max_bytes = %u_%03u_%03u\n", 1 + pick(999), pick(1000), pick(1000));
        put(b, "ratio = %u.%03u\nscale = %u.%ue%d\ntiny = -%u.5E-%u\n", pick(10), pick(1000),
            1 + pick(9), pick(100), (int) pick(40) - 20, pick(100), 1 + pick(9));
        put(b, "limit = %s\n", pick(3) == 0 ? "inf" : pick(2) ? "+inf" : "nan");
        put(b, "created = %04u-%02u-%02uT%02u:%02u:%02uZ\n", 2000 + pick(30), 1 + pick(12),
            1 + pick(28), pick(24), pick(60), pick(60));
        put(b, "updated = %04u-%02u-%02uT%02u:%02u:%02u.%06u-07:00\n", 2000 + pick(30), 1 + pick(12),
            1 + pick(28), pick(24), pick(60), pick(60), pick(1000000));
        put(b, "local = %04u-%02u-%02u %02u:%02u:%02u\nday = %04u-%02u-%02u\nat = %02u:%02u:%02u.%03u\n",
            2000 + pick(30), 1 + pick(12), 1 + pick(28), pick(24), pick(60), pick(60),
            2000 + pick(30), 1 + pick(12), 1 + pick(28), pick(24), pick(60), pick(60), pick(1000));
        put(b, "environment = { ");
        for (unsigned e = 0; e < nenv; e++)
                put(b, "%sVAR_%u = \"%s=%u\"", e ? ", " : "", e, word(), pick(100000));
        put(b, ", \"quoted key\" = true }\n");
        put(b, "limits.memory_max = \"%uM\"\nlimits.cpu_quota = %u.%u\nlimits.tasks = %u\n",
            64 * (1 + pick(64)), pick(8), pick(10), 16 + pick(4096));
        put(b, "limits.io.weight = %u\n", 1 + pick(10000));
        put(b, "script = \"\"\"\n#!/bin/sh\n# start %s\necho \"starting %u\"\\t>&2\n"
               "exec /usr/bin/%s \\\n    --flag \\\n    --other\n\"\"\"\n", word(), i, word());
        put(b, "raw = '''\nC:\\Users\\%s\\config\nno escapes \\n here, \"quotes\" kept\n'''\n", word());
        put(b, "tags = [\"%s\", \"%s\", '%s', \"\"\"%s\"\"\"]\n", word(), word(), word(), word());
        put(b, "matrix = [ [1, 2, 3], [%u.5, -0.25], [\"x\", \"y\"], [], ]  # mixed, trailing comma\n",
            pick(100));
        put(b, "weights = [\n");
        for (unsigned w = 0; w < 8; w++)
                put(b, "  %u.%02u,  # %s\n", pick(10), pick(100), word());
        put(b, "]\n\n");

        for (unsigned c = 0; c < nchecks; c++) {
                put(b, "[[service.s%06u.health.check]]\n", i);
                if (pick(2)) {
                        put(b, "type = \"http\"\nurl = \"http://127.0.0.1:%u/health?x=%u&y=%s\"\n", port,
                            c, word());
                        put(b, "method = \"%s\"\nexpect_status = [\"2xx\", 301, 302]\n",
                            pick(2) ? "GET" : "HEAD");
                        put(b, "headers = { Accept = \"application/json\", \"X-Request-Id\" = \"%016llx\" }\n",
                            (unsigned long long) rnd());
                        put(b, "body_contains = \"\\\"status\\\": \\\"ok\\\"\"\n");
                } else {
                        put(b, "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = %u\n", port);
                }
                put(b, "interval = \"%us\"\ntimeout = \"%ums\"\nfailure_threshold = %u\n\n",
                    1 + pick(30), 100 + pick(900), 1 + pick(5));
        }
        put(b, "[service.s%06u.sandbox]\npreset = \"%s\"\nprotect_home = %s\n\n", i,
            pick(2) ? "strict" : "default", pick(2) ? "true" : "false");
}

int bench_toml_generate(size_t target_bytes, char **ret, size_t *ret_len) {
        buf b = {};

        rng_state = 0x6b73657276696365ULL;
        put(&b, "# Benchmark document for kservice's TOML parser.\ntitle = \"bench\"\n"
                "version = 1\nowner.name = \"Tom\"\nowner.\"e-mail\" = \"tom@example.com\"\n\n");
        for (unsigned i = 0; b.len < target_bytes && !b.oom; i++)
                gen_block(&b, i);
        if (b.oom) {
                free(b.p);
                return -ENOMEM;
        }
        *ret = b.p;
        *ret_len = b.len;
        return 0;
}

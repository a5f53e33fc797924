/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-toml: parse throughput of kservice's TOML parser against toml++ on the same generated
 * document, in memory, in the same process and run. The two parsers alternate run by run so that
 * frequency scaling or a noisy neighbour hits both alike; best and median MB/s are reported with
 * the ratio ours/toml++. Both trees are fingerprinted first and must agree, so a parser that
 * skips work cannot win. Exits non-zero only when a parse fails or the trees differ: the speed
 * is reported, never asserted (machines are noisy).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "toml.h"
#include "toml-bench.h"
#include "toml-gen.h"
#include "toml-hash.h"

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static uint64_t walk(const ks_toml_value *v, uint64_t path) {
        uint64_t sum = 0;
        const ks_toml_datetime *d = &v->datetime;

        switch (v->type) {
        case KS_TOML_TABLE:
                sum += th_node(path, TH_TABLE, 0);
                for (size_t i = 0; i < v->table.n; i++)
                        sum += walk(v->table.items[i].value,
                                    th_key(path, v->table.items[i].key, v->table.items[i].key_len));
                break;
        case KS_TOML_ARRAY:
                sum += th_node(path, TH_ARRAY, 0);
                for (size_t i = 0; i < v->array.n; i++)
                        sum += walk(v->array.items[i], th_index(path, i));
                break;
        case KS_TOML_STRING:
                sum += th_node(path, TH_STRING, th_bytes(TH_SEED, v->string.str, v->string.len));
                break;
        case KS_TOML_INTEGER:
                sum += th_node(path, TH_INTEGER, th_u64(TH_SEED, (uint64_t) v->integer));
                break;
        case KS_TOML_FLOAT:
                sum += th_node(path, TH_FLOAT, th_u64(TH_SEED, th_float_bits(v->fp)));
                break;
        case KS_TOML_BOOL:
                sum += th_node(path, TH_BOOL, th_u64(TH_SEED, v->boolean));
                break;
        case KS_TOML_DATETIME:
                sum += th_node(path, TH_DATETIME, th_datetime(d->year, d->month, d->day, d->hour, d->minute,
                                                              d->second, d->nanosecond, d->offset_minutes));
                break;
        case KS_TOML_DATETIME_LOCAL:
                sum += th_node(path, TH_DATETIME_LOCAL, th_datetime(d->year, d->month, d->day, d->hour,
                                                                    d->minute, d->second, d->nanosecond, 0));
                break;
        case KS_TOML_DATE_LOCAL:
                sum += th_node(path, TH_DATE, th_datetime(d->year, d->month, d->day, 0, 0, 0, 0, 0));
                break;
        case KS_TOML_TIME_LOCAL:
                sum += th_node(path, TH_TIME, th_datetime(0, 0, 0, d->hour, d->minute, d->second,
                                                          d->nanosecond, 0));
                break;
        default:
                break;
        }
        return sum;
}

static int ours_parse(const char *buf, size_t len, uint64_t *ret_nsec, uint64_t *ret_fingerprint) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        uint64_t t0 = now_nsec();
        int r = ks_toml_parse(buf, len, &doc, &err);
        uint64_t t1 = now_nsec();

        if (r < 0) {
                fprintf(stderr, "kservice: %u:%u: %s\n", err.line, err.column, err.message);
                return r;
        }
        *ret_nsec = t1 - t0;
        if (ret_fingerprint)
                *ret_fingerprint = walk(ks_toml_root(doc), TH_SEED);
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static double mbps(size_t len, uint64_t nsec) {
        return nsec ? (double) len / 1e6 / ((double) nsec / 1e9) : 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *p = NULL;
        size_t len = 0, cap = 0, n;

        if (!f)
                return negative_errno();
        do {
                if (cap - len < 65536) {
                        char *np = realloc(p, cap = cap * 2 + 65536);
                        if (!np)
                                return -ENOMEM;
                        p = np;
                }
                n = fread(p + len, 1, cap - len, f);
                len += n;
        } while (n > 0);
        if (ferror(f))
                return -EIO;
        *ret = TAKE_PTR(p);
        *ret_len = len;
        return 0;
}

static void usage(void) {
        printf("Usage: bench-toml [--size MB] [--runs N] [--input FILE] [--write FILE] [--only ours|tomlpp]\n"
               "  --size MB      size of the generated document (default 20)\n"
               "  --runs N       timed parses per parser (default 10)\n"
               "  --input FILE   benchmark this file instead of a generated document\n"
               "  --write FILE   write the generated document to FILE and exit\n"
               "  --only P       time only one parser (for perf record)\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "size", required_argument, NULL, 's' },
                { "runs", required_argument, NULL, 'n' },
                { "input", required_argument, NULL, 'i' },
                { "write", required_argument, NULL, 'w' },
                { "only", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        double size_mb = 20;
        long runs = 10;
        const char *input = NULL, *write_to = NULL, *only = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ uint64_t *t_ours = NULL, *t_pp = NULL;
        uint64_t fp_ours = 0, fp_pp = 0, ns, tgen;
        size_t len;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 's': size_mb = strtod(optarg, NULL); break;
                case 'n': runs = strtol(optarg, NULL, 10); break;
                case 'i': input = optarg; break;
                case 'w': write_to = optarg; break;
                case 'o': only = optarg; break;
                case 'h': usage(); return 0;
                default: return 2;
                }
        if (size_mb <= 0 || size_mb > 4096 || runs < 1 || runs > 10000 ||
            (only && strcmp(only, "ours") != 0 && strcmp(only, "tomlpp") != 0)) {
                usage();
                return 2;
        }

        tgen = now_nsec();
        r = input ? read_file(input, &buf, &len) : bench_toml_generate((size_t) (size_mb * 1e6), &buf, &len);
        if (r < 0) {
                fprintf(stderr, "Failed to %s document: %s\n", input ? "read" : "generate", strerror(-r));
                return 1;
        }
        tgen = now_nsec() - tgen;
        if (write_to) {
                _cleanup_fclose_ FILE *f = fopen(write_to, "we");
                if (!f || fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
                        fprintf(stderr, "Failed to write %s: %m\n", write_to);
                        return 1;
                }
                return 0;
        }
        printf("document: %.2f MB (%s in %.2f s), %ld runs per parser\n", (double) len / 1e6,
               input ?: "generated", (double) tgen / 1e9, runs);

        /* Untimed first pass: warms caches and the allocator, and checks that both trees agree. */
        if (!only || strcmp(only, "ours") == 0) {
                if (ours_parse(buf, len, &ns, &fp_ours) < 0)
                        return 1;
        }
        if (!only || strcmp(only, "tomlpp") == 0) {
                if (bench_tomlpp_parse(buf, len, &ns, &fp_pp) < 0)
                        return 1;
        }
        if (!only) {
                printf("fingerprint: kservice %016" PRIx64 ", toml++ %016" PRIx64 " (%s)\n", fp_ours, fp_pp,
                       fp_ours == fp_pp ? "equal" : "DIFFERENT");
                if (fp_ours != fp_pp) {
                        fprintf(stderr, "The two parsers disagree about the document; not timing them.\n");
                        return 1;
                }
        }

        t_ours = calloc(runs, sizeof(uint64_t));
        t_pp = calloc(runs, sizeof(uint64_t));
        if (!t_ours || !t_pp)
                return 1;
        for (long i = 0; i < runs; i++) {
                if ((!only || strcmp(only, "ours") == 0) && ours_parse(buf, len, &t_ours[i], NULL) < 0)
                        return 1;
                if ((!only || strcmp(only, "tomlpp") == 0) && bench_tomlpp_parse(buf, len, &t_pp[i], NULL) < 0)
                        return 1;
        }
        qsort(t_ours, runs, sizeof(uint64_t), cmp_u64);
        qsort(t_pp, runs, sizeof(uint64_t), cmp_u64);

        double ob = mbps(len, t_ours[0]), om = mbps(len, t_ours[runs / 2]);
        double pb = mbps(len, t_pp[0]), pm = mbps(len, t_pp[runs / 2]);
        printf("%-10s %12s %12s\n", "parser", "best MB/s", "median MB/s");
        if (!only || strcmp(only, "ours") == 0)
                printf("%-10s %12.1f %12.1f\n", "kservice", ob, om);
        if (!only || strcmp(only, "tomlpp") == 0)
                printf("%-10s %12.1f %12.1f\n", "toml++", pb, pm);
        if (!only) {
                printf("ratio kservice/toml++: best %.2f, median %.2f (target >= 1.00)\n", ob / pb, om / pm);
                printf("RESULT toml size_mb=%.1f ours_best=%.1f ours_median=%.1f tomlpp_best=%.1f "
                       "tomlpp_median=%.1f ratio_best=%.2f ratio_median=%.2f\n",
                       (double) len / 1e6, ob, om, pb, pm, ob / pb, om / pm);
        }
        return 0;
}

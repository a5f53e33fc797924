/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-generator: wall time of kservice-generator on 1, 100, 1000 and 10 000 definitions,
 * against the floor of merely copying the same files (same number, same sizes) into a fresh
 * directory with cp(1), in the same run. Both are one process started the same way and both
 * write into a fresh, empty directory, so the ratio shows what parsing, validating and writing
 * units costs on top of the I/O any tool would do. Runs alternate so noise hits both alike.
 * CPU time (user + system, from wait4) is reported beside wall time because it is much less
 * sensitive to a loaded machine. Exits non-zero when the generator fails or does not write one
 * unit per definition; the times are reported, never asserted.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "macro.h"

extern char **environ;

#define MAX_TEMPLATES 16

typedef struct template {
        char *text;
        size_t len;
} template;

static void closedirp_(DIR **d) {
        if (*d)
                closedir(*d);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* stderr_to: NULL keeps stderr, else a file to send it to ("/dev/null" for timed runs). */
static int run(char *const argv[], char *const envp[], const char *stderr_to, uint64_t *ret_nsec,
               uint64_t *ret_cpu_nsec) {
        posix_spawn_file_actions_t fa;
        uint64_t t0, t1;
        pid_t pid;
        int r, status;

        posix_spawn_file_actions_init(&fa);
        if (stderr_to)
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        t0 = now_nsec();
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp ?: environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                fprintf(stderr, "Failed to start %s: %s\n", argv[0], strerror(r));
                return -r;
        }
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0)
                return negative_errno();
        t1 = now_nsec();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "%s failed (status 0x%x)\n", argv[0], (unsigned) status);
                return -EPROTO;
        }
        if (ret_nsec)
                *ret_nsec = t1 - t0;
        if (ret_cpu_nsec)
                *ret_cpu_nsec = (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
                                (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
        return 0;
}

static int rm_rf(const char *path) {
        char *argv[] = { (char *) "rm", (char *) "-rf", (char *) path, NULL };
        return run(argv, NULL, NULL, NULL, NULL);
}

static int read_templates(const char *dir, template *t, size_t *ret_n) {
        _cleanup_(closedirp_) DIR *d = NULL;
        char *names[MAX_TEMPLATES];
        size_t n = 0;
        struct dirent *de;

        d = opendir(dir);
        if (!d)
                return negative_errno();
        while ((de = readdir(d)) && n < MAX_TEMPLATES) {
                size_t l = strlen(de->d_name);
                if (l > 5 && strcmp(de->d_name + l - 5, ".toml") == 0)
                        names[n++] = strdup(de->d_name);
        }
        /* directory order is not stable across file systems; the definitions must be */
        qsort(names, n, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        return -ENOMEM;
                f = fopen(path, "re");
                if (!f)
                        return negative_errno();
                t[i].text = malloc(65536);
                if (!t[i].text)
                        return -ENOMEM;
                t[i].len = fread(t[i].text, 1, 65535, f);
                t[i].text[t[i].len] = 0;
                free(names[i]);
        }
        *ret_n = n;
        return n > 0 ? 0 : -ENOENT;
}

/* Writes definition number i: template i % n with @I@ replaced by the index and @PORT@ by a
 * port derived from it, so every file differs like real ones do. */
static int write_definition(const char *dir, unsigned i, const template *t, size_t nt) {
        const template *tp = &t[i % nt];
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;

        if (asprintf(&path, "%s/svc-%05u.toml", dir, i) < 0)
                return -ENOMEM;
        f = fopen(path, "we");
        if (!f)
                return negative_errno();
        for (const char *p = tp->text; *p;) {
                if (strncmp(p, "@I@", 3) == 0) {
                        fprintf(f, "%u", i);
                        p += 3;
                } else if (strncmp(p, "@PORT@", 6) == 0) {
                        fprintf(f, "%u", 10000 + i);
                        p += 6;
                } else
                        fputc(*p++, f);
        }
        return fflush(f) == 0 ? 0 : negative_errno();
}

static int count_units(const char *dir, unsigned *ret) {
        _cleanup_(closedirp_) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                /* konivrer@svc-N.service, not its .service.wants/ directory or helper units */
                if (strncmp(de->d_name, "konivrer@svc-", 13) == 0 && l > 8 &&
                    strcmp(de->d_name + l - 8, ".service") == 0)
                        n++;
        }
        *ret = n;
        return 0;
}

static void print_head(const char *path, unsigned lines) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[4096];

        while (f && lines-- > 0 && fgets(line, sizeof line, f))
                fputs(line, stderr);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static void usage(void) {
        printf("Usage: bench-generator --generator PATH --templates DIR [--counts 1,100,1000,10000]\n"
               "                       [--reps N] [--workdir DIR]\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "generator", required_argument, NULL, 'g' },
                { "templates", required_argument, NULL, 't' },
                { "counts", required_argument, NULL, 'c' },
                { "reps", required_argument, NULL, 'r' },
                { "workdir", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *generator = NULL, *templates = NULL, *counts = "1,100,1000,10000";
        /* tmpfs by default: systemd runs generators with their output dirs under /run, which is
         * tmpfs; a disk-backed /tmp would mostly measure writeback and the neighbours' I/O. */
        const char *workbase = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ?: "/tmp";
        char work[PATH_MAX];
        template t[MAX_TEMPLATES] = {};
        size_t nt = 0;
        long reps = 0;
        int c, r, failed = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'g': generator = optarg; break;
                case 't': templates = optarg; break;
                case 'c': counts = optarg; break;
                case 'r': reps = strtol(optarg, NULL, 10); break;
                case 'w': workbase = optarg; break;
                case 'h': usage(); return 0;
                default: return 2;
                }
        if (!generator || !templates || reps < 0 || reps > 1000) {
                usage();
                return 2;
        }
        r = read_templates(templates, t, &nt);
        if (r < 0) {
                fprintf(stderr, "Failed to read templates from %s: %s\n", templates, strerror(-r));
                return 1;
        }
        snprintf(work, sizeof work, "%s/bench-generator.XXXXXX", workbase);
        if (!mkdtemp(work)) {
                fprintf(stderr, "Failed to create a work directory in %s: %m\n", workbase);
                return 1;
        }

        printf("%zu templates from %s, work directory %s\n", nt, templates, work);
        printf("wall clock (ms, median and best) and CPU time of the process (ms, median)\n");
        printf("%8s %6s %12s %12s %12s %12s %8s %12s %12s %8s\n", "defs", "runs", "gen med", "gen best",
               "copy med", "copy best", "ratio", "gen cpu", "copy cpu", "ratio");

        _cleanup_free_ char *list = strdup(counts);
        char *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                unsigned n = (unsigned) strtoul(tok, NULL, 10), units = 0;
                long nreps = reps ?: n >= 10000 ? 5 : n >= 1000 ? 11 : 21;
                char defs[PATH_MAX + 32], env[PATH_MAX + 64], errlog[PATH_MAX + 32];
                uint64_t tg[1000], tc[1000], ug[1000], uc[1000];
                off_t bytes = 0;

                if (n < 1 || n > 1000000)
                        continue;
                snprintf(defs, sizeof defs, "%s/defs-%u", work, n);
                snprintf(errlog, sizeof errlog, "%s/stderr-%u", work, n);
                if (mkdir(defs, 0755) < 0)
                        goto fail;
                for (unsigned i = 0; i < n; i++)
                        if (write_definition(defs, i, t, nt) < 0)
                                goto fail;
                snprintf(env, sizeof env, "KSERVICE_CONFIG_PATH=%s", defs);
                char *envp[] = { env, (char *) "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

                for (long k = 0; k < nreps + 1; k++) {
                        char out[PATH_MAX + 64], early[PATH_MAX + 128], late[PATH_MAX + 128], copy[PATH_MAX + 64];
                        snprintf(out, sizeof out, "%s/out-%u-%ld", work, n, k);
                        snprintf(early, sizeof early, "%s.early", out);
                        snprintf(late, sizeof late, "%s.late", out);
                        snprintf(copy, sizeof copy, "%s/copy-%u-%ld", work, n, k);
                        if (mkdir(out, 0755) < 0 || mkdir(early, 0755) < 0 || mkdir(late, 0755) < 0 ||
                            mkdir(copy, 0755) < 0)
                                goto fail;

                        char srcdot[PATH_MAX + 40];
                        snprintf(srcdot, sizeof srcdot, "%s/.", defs);
                        char *cp_argv[] = { (char *) "cp", (char *) "-R", srcdot, copy, NULL };
                        char *gen_argv[] = { (char *) generator, out, early, late, NULL };
                        uint64_t gns, cns, gcpu, ccpu;

                        /* Run 0 is a warm-up that is not counted, but checked: it must write one
                         * unit per definition, and its messages are kept to show on failure. */
                        if (run(cp_argv, NULL, NULL, &cns, &ccpu) < 0)
                                goto fail;
                        r = run(gen_argv, envp, k > 0 ? "/dev/null" : errlog, &gns, &gcpu);
                        if (r < 0) {
                                fprintf(stderr, "The generator failed on %u definitions in %s; its messages:\n", n, defs);
                                print_head(errlog, 20);
                                failed = 1;
                                break;
                        }
                        if (k == 0) {
                                struct stat st;
                                if (count_units(out, &units) < 0)
                                        goto fail;
                                if (units != n) {
                                        fprintf(stderr, "The generator wrote %u units for %u definitions (%s); its messages:\n",
                                                units, n, out);
                                        print_head(errlog, 20);
                                        failed = 1;
                                        break;
                                }
                                for (unsigned i = 0; i < n; i++) {
                                        char p[PATH_MAX + 64];
                                        snprintf(p, sizeof p, "%s/svc-%05u.toml", defs, i);
                                        if (stat(p, &st) == 0)
                                                bytes += st.st_size;
                                }
                        } else {
                                tg[k - 1] = gns;
                                tc[k - 1] = cns;
                                ug[k - 1] = gcpu;
                                uc[k - 1] = ccpu;
                        }
                        rm_rf(out);
                        rm_rf(early);
                        rm_rf(late);
                        rm_rf(copy);
                }
                if (failed)
                        break;
                qsort(tg, nreps, sizeof(uint64_t), cmp_u64);
                qsort(tc, nreps, sizeof(uint64_t), cmp_u64);
                qsort(ug, nreps, sizeof(uint64_t), cmp_u64);
                qsort(uc, nreps, sizeof(uint64_t), cmp_u64);
                double gm = tg[nreps / 2] / 1e6, gb = tg[0] / 1e6, cm = tc[nreps / 2] / 1e6, cb = tc[0] / 1e6;
                double gu = ug[nreps / 2] / 1e6, cu = uc[nreps / 2] / 1e6;
                printf("%8u %6ld %12.2f %12.2f %12.2f %12.2f %8.2f %12.2f %12.2f %8.2f\n", n, nreps, gm, gb, cm, cb,
                       gm / cm, gu, cu, cu > 0 ? gu / cu : 0);
                printf("RESULT generator defs=%u bytes=%lld gen_median_ms=%.2f gen_best_ms=%.2f "
                       "copy_median_ms=%.2f copy_best_ms=%.2f ratio_median=%.2f ratio_best=%.2f "
                       "gen_cpu_ms=%.2f copy_cpu_ms=%.2f ratio_cpu=%.2f\n",
                       n, (long long) bytes, gm, gb, cm, cb, gm / cm, gb / cb, gu, cu, cu > 0 ? gu / cu : 0);
                fflush(stdout);
                rm_rf(defs);
        }
        rm_rf(work);
        return failed;
fail:
        fprintf(stderr, "Benchmark setup failed: %m\n");
        rm_rf(work);
        return 1;
}

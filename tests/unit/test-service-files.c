/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of files in the tree against the model:
 *   test-service-files man PAGE.scd   every key of ks_service_keys[] is documented in
 *                                      kservice.toml(5) and every documented key is accepted
 *   test-service-files examples DIR   every DIR/NAME.toml loads without a diagnostic
 * In the man page source a key is documented by an entry line "*KEY* = ..." (KEY the full
 * dotted path) and a table by a heading "## [TABLE]" or "## [[TABLE]]".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "test.h"

static bool key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Returns the documented key on this line (in buf), or NULL. Underscores may be written
 * escaped ("\_") in the scdoc source. */
static const char *documented_key(const char *line, char *buf, size_t size) {
        const char *p, *end;
        size_t n = 0;

        if (strncmp(line, "## [[", 5) == 0) {
                p = line + 5;
                end = "]]";
        } else if (strncmp(line, "## [", 4) == 0) {
                p = line + 4;
                end = "]";
        } else if (line[0] == '*') {
                p = line + 1;
                end = "* = ";
        } else
                return NULL;

        for (; *p && n + 1 < size; p++) {
                if (p[0] == '\\' && p[1] == '_')
                        continue;
                if (!key_char(*p))
                        break;
                buf[n++] = *p;
        }
        buf[n] = '\0';
        if (n == 0 || strncmp(p, end, strlen(end)) != 0)
                return NULL;
        if (end[0] == ']' && p[strlen(end)] != '\0' && p[strlen(end)] != '\n')
                return NULL;
        return buf;
}

/* The paragraph of the man page that lists preset p ("\t*"strict"*, ..." up to a blank line)
 * must name exactly the options ks_sandbox_settings[] gives that preset, as *Directive=value*. */
static void check_preset(const char *page, FILE *f, ks_sandbox_preset p) {
        char line[4096], start[64], text[8192] = "";
        bool inside = false, found = false;

        snprintf(start, sizeof(start), "\t*\"%s\"*:", ks_sandbox_preset_to_string(p));
        rewind(f);
        while (fgets(line, sizeof(line), f)) {
                if (!inside && strncmp(line, start, strlen(start)) == 0)
                        inside = found = true;
                else if (inside && (line[0] == '\n' || line[0] == '\0'))
                        break;
                if (inside && strlen(text) + strlen(line) < sizeof(text))
                        strcat(text, line);
        }
        ks_test_checks++;
        if (!found) {
                TEST_FAILED("%s: no paragraph for sandbox preset \"%s\"", page, ks_sandbox_preset_to_string(p));
                return;
        }
        for (char *q = text; *q; q++)
                if (*q == '\n' || *q == '\t')
                        *q = ' ';

        /* Every option of the preset appears... */
        unsigned expected = 0;
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                const ks_sandbox_setting_info *info = &ks_sandbox_settings[i];
                char want[512];
                if (!info->preset[p])
                        continue;
                expected++;
                snprintf(want, sizeof(want), "*%s=%s*", info->directive, info->preset[p]);
                ks_test_checks++;
                if (!strstr(text, want))
                        TEST_FAILED("%s: preset \"%s\" sets %s=%s, the page does not say so", page,
                                    ks_sandbox_preset_to_string(p), info->directive, info->preset[p]);
        }
        /* ...and nothing else: count the *Word=...* items the paragraph names. */
        unsigned named = 0;
        for (const char *q = text; (q = strchr(q, '*')); q++) {
                const char *e = q + 1;
                while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z'))
                        e++;
                if (e > q + 1 && q[1] >= 'A' && q[1] <= 'Z' && *e == '=') {
                        named++;
                        q = strchr(e, '*');
                        if (!q)
                                break;
                }
        }
        ks_test_checks++;
        if (named != expected)
                TEST_FAILED("%s: preset \"%s\" sets %u options, the page names %u", page,
                            ks_sandbox_preset_to_string(p), expected, named);
}

static int check_man(const char *page) {
        FILE *f = fopen(page, "re");
        char line[4096], key[256];
        bool *seen = calloc(ks_service_n_keys, sizeof(bool));
        unsigned lineno = 0, documented = 0;

        if (!f || !seen) {
                fprintf(stderr, "%s: %s\n", page, strerror(errno));
                return 1;
        }
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                if (!documented_key(line, key, sizeof(key)))
                        continue;
                documented++;
                bool found = false;
                for (size_t i = 0; i < ks_service_n_keys; i++)
                        if (strcmp(ks_service_keys[i].path, key) == 0) {
                                seen[i] = found = true;
                                break;
                        }
                ks_test_checks++;
                if (!found)
                        TEST_FAILED("%s:%u: documents \"%s\", which the parser does not accept", page, lineno,
                                    key);
        }
        for (int p = 0; p < _KS_SANDBOX_PRESET_MAX; p++)
                check_preset(page, f, (ks_sandbox_preset) p);
        fclose(f);
        for (size_t i = 0; i < ks_service_n_keys; i++) {
                ks_test_checks++;
                if (!seen[i])
                        TEST_FAILED("%s: key \"%s\" is accepted but not documented", page, ks_service_keys[i].path);
        }
        free(seen);
        printf("%zu keys accepted, %u documentation entries, %u problems\n", ks_service_n_keys, documented,
               ks_test_failed);
        /* A page without entries, or a parse of it that finds none, must not pass. */
        ks_test_checks++;
        if (documented < ks_service_n_keys)
                TEST_FAILED("%s: %u documentation entries for %zu keys", page, documented, ks_service_n_keys);
        return ks_test_done();
}

static int check_examples(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned checked = 0;

        if (!d) {
                fprintf(stderr, "%s: %s\n", dir, strerror(errno));
                return 1;
        }
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char path[4096], name[256];

                if (len <= 5 || strcmp(de->d_name + len - 5, ".toml") != 0 || de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                snprintf(name, sizeof(name), "%.*s", (int) (len - 5), de->d_name);

                _cleanup_diag_list_ ks_diag_list diags = {};
                ks_service *s = NULL;
                int r = ks_service_load_files(name, path, NULL, 0, &s, &diags);
                checked++;
                ks_test_checks++;
                if (r < 0) {
                        TEST_FAILED("%s (%s)", path, strerror(-r));
                        for (size_t i = 0; i < diags.n; i++)
                                fprintf(stderr, "  %s\n", diags.items[i].text);
                } else
                        printf("ok: %s (%s, %zu health checks)\n", path, s->unit, s->health.n_checks);
                ks_service_free(s);
        }
        closedir(d);
        printf("%u examples checked, %u failed\n", checked, ks_test_failed);
        ks_test_checks++;
        if (checked < 2)
                TEST_FAILED("%s: %u examples, expected at least 2", dir, checked);
        return ks_test_done();
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "man") == 0)
                return check_man(argv[2]);
        if (argc == 3 && strcmp(argv[1], "examples") == 0)
                return check_examples(argv[2]);
        fprintf(stderr, "usage: %s man PAGE.scd | examples DIR\n", argv[0]);
        return 2;
}

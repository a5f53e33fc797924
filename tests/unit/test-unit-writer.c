/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests for lib/unit-writer.c. Besides fixed expectations, every escaped value is parsed back
 * with a small, independent model of how systemd reads a unit file line (word splitting,
 * quotes, C unescaping, specifiers, then $-expansion at exec time), and must come back equal;
 * randomized inputs over all ASCII bytes and some multi-byte characters cover the rest. The real
 * systemd does the same round trip in the integration suite.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "test.h"
#include "unit-writer.h"

/* ---- a model of systemd's reading side ------------------------------------------------------ */

/* Appends w (lib/basic's strv); out of memory ends the test. */
static void push(char ***l, char *w) {
        if (!w || strv_push(l, w) < 0)
                abort();
}

/* systemd's "UTF-8 clean" rule for a whole assignment line: valid UTF-8 without the
 * noncharacters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF. Decoded independently of the writer. */
static bool utf8_clean(const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        while (*s) {
                uint32_t cp;
                int n;

                if (*s < 0x80) {
                        s++;
                        continue;
                } else if ((*s >> 5) == 0x6)
                        n = 1, cp = *s & 0x1f;
                else if ((*s >> 4) == 0xe)
                        n = 2, cp = *s & 0x0f;
                else if ((*s >> 3) == 0x1e)
                        n = 3, cp = *s & 0x07;
                else
                        return false;
                for (int k = 1; k <= n; k++) {
                        if ((s[k] >> 6) != 0x2)
                                return false;
                        cp = (cp << 6) | (s[k] & 0x3f);
                }
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
                    (cp & 0xfffe) == 0xfffe)
                        return false;
                s += n + 1;
        }
        return true;
}

/* Unescapes one C escape at *p (after the backslash); the subset systemd's cunescape_one()
 * accepts that a writer would reasonably use. Anything else is an error (stricter than systemd). */
static int unescape_one(const char **p, char *out) {
        char c = **p;
        int a, b;

        (*p)++;
        switch (c) {
        case 'n': *out = '\n'; return 0;
        case 't': *out = '\t'; return 0;
        case 'r': *out = '\r'; return 0;
        case '\\': *out = '\\'; return 0;
        case '"': *out = '"'; return 0;
        case '\'': *out = '\''; return 0;
        case 'x':
                a = unhexchar((*p)[0]);
                b = a >= 0 ? unhexchar((*p)[1]) : -1;
                if (a < 0 || b < 0 || (a == 0 && b == 0))
                        return -EINVAL;
                *out = (char) (a * 16 + b);
                *p += 2;
                return 0;
        default:
                return -EINVAL;
        }
}

/* extract_first_word(p, &w, NULL, EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE): 1 with a word, 0 at end. */
static int extract_word(const char **p, char **ret) {
        char *buf = malloc(strlen(*p) + 1);
        size_t n = 0;
        char quote = 0;

        if (!buf)
                abort();
        *p += strspn(*p, " \t\n\r");
        if (!**p) {
                free(buf);
                return 0;
        }
        for (;;) {
                char c = **p;

                if (!c) {
                        if (quote) {
                                free(buf);
                                return -EINVAL;
                        }
                        break;
                }
                (*p)++;
                if (quote) {
                        if (c == quote)
                                quote = 0;
                        else if (c == '\\') {
                                if (unescape_one(p, &buf[n++]) < 0) {
                                        free(buf);
                                        return -EINVAL;
                                }
                        } else
                                buf[n++] = c;
                } else {
                        if (strchr(" \t\n\r", c))
                                break;
                        if (c == '"' || c == '\'')
                                quote = c;
                        else if (c == '\\') {
                                if (unescape_one(p, &buf[n++]) < 0) {
                                        free(buf);
                                        return -EINVAL;
                                }
                        } else
                                buf[n++] = c;
                }
        }
        buf[n] = 0;
        *ret = buf;
        return 1;
}

/* Specifier expansion where the only specifier the writer may produce is "%%". */
static int expand_specifiers(const char *s, char **ret) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                abort();
        for (; *s; s++) {
                if (*s == '%') {
                        if (s[1] != '%') {
                                free(out);
                                return -EINVAL;
                        }
                        s++;
                }
                *o++ = *s;
        }
        *o = 0;
        *ret = out;
        return 0;
}

/* What the manager does to each argv word when it runs the command: "$$" is '$', any other '$'
 * would start a variable (an error here: the writer must never leave one). A word that is
 * exactly "$NAME" is split, so it must not occur either. */
static int expand_dollars(const char *s, char **ret) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                abort();
        for (; *s; s++) {
                if (*s == '$') {
                        if (s[1] != '$') {
                                free(out);
                                return -EINVAL;
                        }
                        s++;
                }
                *o++ = *s;
        }
        *o = 0;
        *ret = out;
        return 0;
}

/* Parses an ExecStart= value into the executed path and argv. */
static int parse_exec(const char *line, char **ret_path, char ***ret_argv) {
        const char *p = line;
        char *first = NULL, *path = NULL, *w;
        char **raw = NULL, **argv = NULL;
        bool at = false;
        int r;

        if (strpbrk(line, "\n\r") || !utf8_clean(line))
                return -EINVAL;
        r = extract_word(&p, &first);
        if (r <= 0)
                return -EINVAL;
        if (streq(first, ";"))
                goto fail;
        const char *f = first;
        while (*f && strchr("-@:+!", *f)) {
                if (*f == '@')
                        at = true;
                else
                        goto fail;      /* the writer never emits other prefixes */
                f++;
        }
        if (expand_specifiers(f, &path) < 0 || !*path)
                goto fail;
        if (!at)
                push(&raw, strdup(path));
        for (;;) {
                p += strspn(p, " \t\n\r");
                if (p[0] == ';' && (!p[1] || strchr(" \t\n\r", p[1])))
                        goto fail;      /* a command separator */
                if (p[0] == '\\' && p[1] == ';' && (!p[2] || strchr(" \t\n\r", p[2]))) {
                        push(&raw, strdup(";"));
                        p += 2;
                        continue;
                }
                r = extract_word(&p, &w);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                char *e;
                r = expand_specifiers(w, &e);
                free(w);
                if (r < 0)
                        goto fail;
                push(&raw, e);
        }
        if (strv_length(raw) == 0)
                goto fail;
        for (size_t i = 0; raw[i]; i++) {
                char *e;

                if (raw[i][0] == '$' && raw[i][1] != '{' && raw[i][1] != '$' && raw[i][1])
                        goto fail;
                if (expand_dollars(raw[i], &e) < 0)
                        goto fail;
                push(&argv, e);
        }
        strv_free(raw);
        free(first);
        *ret_path = path;
        *ret_argv = argv;
        return 0;
fail:
        strv_free(raw);
        strv_free(argv);
        free(first);
        free(path);
        return -EINVAL;
}

/* Parses an Environment= value holding one assignment. */
static int parse_env(const char *line, char **ret) {
        const char *p = line;
        char *w, *e;
        int r;

        if (strpbrk(line, "\n\r") || !utf8_clean(line))
                return -EINVAL;
        r = extract_word(&p, &w);
        if (r <= 0)
                return -EINVAL;
        p += strspn(p, " \t\n\r");
        if (*p) {
                free(w);
                return -EINVAL;
        }
        r = expand_specifiers(w, &e);
        free(w);
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}

/* A plain value: systemd strips surrounding whitespace and expands specifiers. */
static int parse_value(const char *line, char **ret) {
        size_t len = strlen(line);

        if (strpbrk(line, "\n\r") || !utf8_clean(line) || (len > 0 && (strchr(" \t", line[0]) ||
                                                 strchr(" \t\\", line[len - 1]))))
                return -EINVAL;
        return expand_specifiers(line, ret);
}

/* ---- fixed cases ---------------------------------------------------------------------------- */

static void check_exec(const char *expected, size_t n, ...) {
        const char *argv[16];
        char *s = NULL, *path = NULL;
        char **back = NULL;
        va_list ap;
        int r;

        va_start(ap, n);
        for (size_t i = 0; i < n; i++)
                argv[i] = va_arg(ap, const char *);
        va_end(ap);

        r = ks_unit_escape_exec(argv, n, &s, NULL, NULL);
        EXPECT_TRUE(r == 0);
        if (r < 0)
                return;
        if (!streq(s, expected))
                fprintf(stderr, "exec: got   >%s<\n      want  >%s<\n", s, expected);
        EXPECT_TRUE(streq(s, expected));
        EXPECT_TRUE(parse_exec(s, &path, &back) == 0);
        EXPECT_TRUE(strv_length(back) == n);
        for (size_t i = 0; i < n && i < strv_length(back); i++)
                EXPECT_TRUE(streq(back[i], argv[i]));
        EXPECT_TRUE(path && streq(path, argv[0]));
        back = strv_free(back);
        free(path);
        free(s);
}

static void check_exec_refused(size_t bad_index, size_t n, ...) {
        const char *argv[16];
        const char *why = NULL;
        size_t idx = 99;
        char *s = NULL;
        va_list ap;

        va_start(ap, n);
        for (size_t i = 0; i < n; i++)
                argv[i] = va_arg(ap, const char *);
        va_end(ap);
        EXPECT_TRUE(ks_unit_escape_exec(argv, n, &s, &idx, &why) == -EINVAL);
        EXPECT_TRUE(idx == bad_index);
        EXPECT_TRUE(why && *why);
        EXPECT_TRUE(s == NULL);
}

TEST(exec_fixed) {
        check_exec("/usr/bin/python3 -m http.server 8080", 4, "/usr/bin/python3", "-m", "http.server", "8080");
        check_exec("/bin/echo \"hello world\"", 2, "/bin/echo", "hello world");
        check_exec("/bin/echo \"\"", 2, "/bin/echo", "");
        check_exec("/bin/echo \"\" \"\"", 3, "/bin/echo", "", "");
        check_exec("/bin/echo \";\"", 2, "/bin/echo", ";");
        check_exec("/bin/echo \"\\\\;\"", 2, "/bin/echo", "\\;");
        check_exec("/bin/echo \"a\\nb\"", 2, "/bin/echo", "a\nb");
        check_exec("/bin/echo \"a\\rb\\tc\"", 2, "/bin/echo", "a\rb\tc");
        check_exec("/bin/echo \"\\x01\\x1b\\x7f\"", 2, "/bin/echo", "\x01\x1b\x7f");
        check_exec("/bin/echo \"\\\"quoted\\\"\"", 2, "/bin/echo", "\"quoted\"");
        check_exec("/bin/echo \"it's\"", 2, "/bin/echo", "it's");
        check_exec("/bin/echo 100%% %%n", 3, "/bin/echo", "100%", "%n");
        check_exec("/bin/echo $$HOME \"$${HOME}\" $$$$", 4, "/bin/echo", "$HOME", "${HOME}", "$$");
        check_exec("/bin/echo \"$$HOME is %%h\"", 2, "/bin/echo", "$HOME is %h");
        check_exec("/bin/echo -n --flag=1 @x :y +z \"!w\"", 7, "/bin/echo", "-n", "--flag=1", "@x", ":y", "+z", "!w");
        check_exec("/bin/echo \"caf\xc3\xa9\" \"\xe2\x82\xac\"", 3, "/bin/echo", "caf\xc3\xa9", "\xe2\x82\xac");
        check_exec("/bin/echo \"a\\\\b\" \"c\\\\\"", 3, "/bin/echo", "a\\b", "c\\");
        check_exec("/bin/echo \"#not a comment\"", 2, "/bin/echo", "#not a comment");
        check_exec("/bin/echo \"[Service]\"", 2, "/bin/echo", "[Service]");
        check_exec("true", 1, "true");
        check_exec("/opt/my%%20app/run", 1, "/opt/my%20app/run");
        check_exec("\"/opt/my app/run\" x", 2, "/opt/my app/run", "x");
        check_exec("@/opt/$x/run /opt/$$x/run a", 2, "/opt/$x/run", "a");

        check_exec_refused(0, 1, "");
        check_exec_refused(0, 2, "-/bin/true", "x");
        check_exec_refused(0, 1, "@/bin/true");
        check_exec_refused(0, 1, ":true");
        check_exec_refused(0, 1, "+true");
        check_exec_refused(0, 1, "!true");
        check_exec_refused(0, 1, "|true");
        check_exec_refused(0, 1, "/bin/tr\"ue");
        check_exec_refused(0, 1, "/bin/tr'ue");
        check_exec_refused(0, 1, "/bin/tr\\ue");
        check_exec_refused(0, 1, "/bin/tr\nue");
        check_exec_refused(0, 1, "/bin/");
        check_exec_refused(0, 1, "bin/true");
        check_exec_refused(0, 1, "..");
        check_exec_refused(0, 2, ";", "x");
        check_exec_refused(2, 3, "/bin/true", "ok", "bad\xff");
        check_exec_refused(1, 2, "/bin/true", "\xed\xa0\x80"); /* a surrogate */
        check_exec_refused(1, 2, "/bin/true", "a\xef\xbf\xbe"); /* U+FFFE */
        check_exec_refused(2, 3, "/bin/true", "ok", "\xef\xb7\x90"); /* U+FDD0 */
        check_exec_refused(0, 1, "/opt/\xf4\x8f\xbf\xbf"); /* U+10FFFF */
        check_exec_refused(0, 0, "");
}

TEST(env_fixed) {
        static const struct {
                const char *name, *value, *expected;
        } cases[] = {
                { "A", "b", "\"A=b\"" },
                { "PATH", "/usr/bin:/bin", "\"PATH=/usr/bin:/bin\"" },
                { "X", "", "\"X=\"" },
                { "X", "a b  c", "\"X=a b  c\"" },
                { "X", "$HOME %h", "\"X=$HOME %%h\"" },
                { "X", "line1\nline2", "\"X=line1\\nline2\"" },
                { "X", "q\"q'\\", "\"X=q\\\"q'\\\\\"" },
                { "_under9", "\t", "\"_under9=\\t\"" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *s = NULL, *back = NULL, *want = NULL;

                EXPECT_TRUE(ks_unit_escape_env(cases[i].name, cases[i].value, &s, NULL) == 0);
                if (!s)
                        continue;
                if (!streq(s, cases[i].expected))
                        fprintf(stderr, "env: got >%s< want >%s<\n", s, cases[i].expected);
                EXPECT_TRUE(streq(s, cases[i].expected));
                EXPECT_TRUE(parse_env(s, &back) == 0);
                EXPECT_TRUE(asprintf(&want, "%s=%s", cases[i].name, cases[i].value) > 0);
                EXPECT_TRUE(back && streq(back, want));
                free(s);
                free(back);
                free(want);
        }

        const char *why = NULL;
        char *s = NULL;
        EXPECT_TRUE(ks_unit_escape_env("1X", "v", &s, &why) == -EINVAL && why);
        EXPECT_TRUE(ks_unit_escape_env("", "v", &s, &why) == -EINVAL);
        EXPECT_TRUE(ks_unit_escape_env("A-B", "v", &s, &why) == -EINVAL);
        EXPECT_TRUE(ks_unit_escape_env("A=B", "v", &s, &why) == -EINVAL);
        EXPECT_TRUE(ks_unit_escape_env("A", "\xc3", &s, &why) == -EINVAL);
        EXPECT_TRUE(ks_unit_escape_env("A", "x\xef\xbf\xbf", &s, &why) == -EINVAL && strstr(why, "noncharacter"));
        EXPECT_TRUE(s == NULL);
}

TEST(value_fixed) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "My web service", "My web service" },
                { "100% fine", "100%% fine" },
                { "a\\b", "a\\b" },
                { "\"quoted\" and $VAR", "\"quoted\" and $VAR" },
                { "", "" },
                { "caf\xc3\xa9", "caf\xc3\xa9" },
                { "# not a comment", "# not a comment" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                char *s = NULL, *back = NULL;

                EXPECT_TRUE(ks_unit_escape_value(ok[i].in, &s, NULL) == 0);
                EXPECT_TRUE(s && streq(s, ok[i].out));
                EXPECT_TRUE(s && parse_value(s, &back) == 0 && streq(back, ok[i].in));
                free(s);
                free(back);
        }
        static const char *const bad[] = {
                "a\nb", "a\rb", "tab\there", " lead", "trail ", "cont\\", "\x7f", "\xff", "\xef\xb7\xaf",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = NULL;
                char *s = NULL;

                EXPECT_TRUE(ks_unit_escape_value(bad[i], &s, &why) == -EINVAL);
                EXPECT_TRUE(why && *why);
                EXPECT_TRUE(s == NULL);
        }
}

TEST(paths) {
        static const char *const good[] = { "/", "/srv/web", "/opt/my app/x", "/a/b.c/..d", "/a/.b" };
        static const char *const bad[] = {
                "", "relative", "/a//b", "/a/./b", "/a/../b", "/a/", "/a/.", "/a/..", "//",
                "/a\nb", "/a ", "/a\\",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                EXPECT_TRUE(ks_unit_path_check(good[i], NULL) == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = NULL;
                EXPECT_TRUE(ks_unit_path_check(bad[i], &why) == -EINVAL);
                EXPECT_TRUE(why && *why);
        }

        ks_unit_text t = KS_UNIT_TEXT_INIT;
        EXPECT_TRUE(ks_unit_text_add_path(&t, "WorkingDirectory", NULL, "/srv/100%", NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_path(&t, "EnvironmentFile", "-", "/etc/default/web", NULL) == 0);
        EXPECT_TRUE(t.data && streq(t.data, "WorkingDirectory=/srv/100%%\nEnvironmentFile=-/etc/default/web\n"));
        ks_unit_text_done(&t);
}

static bool unit_ok(const char *name) {
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        const char *list[] = { name };
        int r = ks_unit_text_add_unit_list(&t, "After", list, 1, NULL);
        ks_unit_text_done(&t);
        return r == 0;
}

TEST(unit_names) {
        EXPECT_TRUE(unit_ok("network-online.target"));
        EXPECT_TRUE(unit_ok("konivrer@web.service"));
        EXPECT_TRUE(unit_ok("getty@tty1.service"));
        EXPECT_TRUE(unit_ok("dev-sda1.device"));
        EXPECT_TRUE(unit_ok("a\\x2db.mount"));
        EXPECT_TRUE(!unit_ok("konivrer@.service"));
        EXPECT_TRUE(!unit_ok("@web.service"));
        EXPECT_TRUE(!unit_ok("web"));
        EXPECT_TRUE(!unit_ok("web.nope"));
        EXPECT_TRUE(!unit_ok(".service"));
        EXPECT_TRUE(!unit_ok("a b.service"));
        EXPECT_TRUE(!unit_ok("a%i.service"));
        EXPECT_TRUE(!unit_ok("a\n.service"));
        char long_name[300];
        memset(long_name, 'a', sizeof long_name);
        strcpy(long_name + 250, ".service");
        EXPECT_TRUE(!unit_ok(long_name));
}

TEST(path_list) {
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        const char *why = NULL;
        const char *paths[] = { "/var/lib/web", "/srv/my data", "/srv/q\"uote", "/srv/back\\slash", "/srv/100%" };
        const char *bad[] = { "/ok", "relative" };

        EXPECT_TRUE(ks_unit_text_add_path_list(&t, "ReadWritePaths", paths, 5, NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_path_list(&t, "ReadOnlyPaths", paths, 0, NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_path_list(&t, "ReadOnlyPaths", bad, 2, &why) == -EINVAL && why);
        static const char expected[] =
                "ReadWritePaths=/var/lib/web \"/srv/my data\" \"/srv/q\\\"uote\" \"/srv/back\\\\slash\" /srv/100%%\n";
        if (!t.data || !streq(t.data, expected))
                fprintf(stderr, "path list: got >%s<\n", strna(t.data));
        EXPECT_TRUE(t.data && streq(t.data, expected));

        /* Read back as systemd does (unquote, C unescape, specifiers). */
        const char *p = t.data + strlen("ReadWritePaths=");
        char *line = strndup(p, strcspn(p, "\n"));
        const char *q = line;
        for (size_t i = 0; i < 5; i++) {
                char *w = NULL, *e = NULL;
                EXPECT_TRUE(extract_word(&q, &w) == 1);
                EXPECT_TRUE(w && expand_specifiers(w, &e) == 0 && streq(e, paths[i]));
                free(w);
                free(e);
        }
        free(line);
        ks_unit_text_done(&t);
}

TEST(text) {
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        const char *why = NULL;
        const char *argv[] = { "/bin/true" };

        EXPECT_TRUE(ks_unit_text_comment(&t, "Generated.\n\nDo not edit.", NULL) == 0);
        EXPECT_TRUE(ks_unit_text_section(&t, "Unit") == 0);
        EXPECT_TRUE(ks_unit_text_add_value(&t, "Description", "50% web", NULL) == 0);
        const char *units[] = { "a.service", "b.target" };
        EXPECT_TRUE(ks_unit_text_add_unit_list(&t, "After", units, 2, NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_unit_list(&t, "Wants", units, 0, NULL) == 0);
        EXPECT_TRUE(ks_unit_text_section(&t, "Service") == 0);
        EXPECT_TRUE(ks_unit_text_add_exec(&t, "ExecStart", argv, 1, NULL, NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_env(&t, "A", "1", NULL) == 0);
        EXPECT_TRUE(ks_unit_text_add_rawf(&t, "RestartSec", "%us", 5u) == 0);
        EXPECT_TRUE(ks_unit_text_add_raw(&t, "X", "a\nb") == -EINVAL);
        EXPECT_TRUE(ks_unit_text_comment(&t, "bad\x01", &why) == -EINVAL && why);
        const char *bad_units[] = { "a.service", "b c.target" };
        EXPECT_TRUE(ks_unit_text_add_unit_list(&t, "After", bad_units, 2, &why) == -EINVAL);

        size_t len = 0;
        char *s = ks_unit_text_steal(&t, &len);
        static const char expected[] =
                "# Generated.\n#\n# Do not edit.\n"
                "[Unit]\nDescription=50%% web\nAfter=a.service b.target\n"
                "\n[Service]\nExecStart=/bin/true\nEnvironment=\"A=1\"\nRestartSec=5s\n";
        if (!streq(s, expected))
                fprintf(stderr, "text: got\n%s\nwant\n%s\n", s, expected);
        EXPECT_TRUE(s && streq(s, expected));
        EXPECT_TRUE(len == strlen(expected));
        free(s);

        /* A line longer than systemd reads is refused, not truncated. */
        char *huge = malloc(KS_UNIT_LINE_MAX + 10);
        memset(huge, 'a', KS_UNIT_LINE_MAX + 9);
        huge[KS_UNIT_LINE_MAX + 9] = 0;
        const char *hargv[] = { "/bin/echo", huge };
        t = KS_UNIT_TEXT_INIT;
        size_t idx = 99;
        EXPECT_TRUE(ks_unit_text_add_exec(&t, "ExecStart", hargv, 2, &idx, &why) == -EINVAL);
        EXPECT_TRUE(ks_unit_text_add_value(&t, "Description", huge, &why) == -EINVAL);
        ks_unit_text_done(&t);
        free(huge);
}

/* ---- randomized round trips ----------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t) (rng_state >> 11);
}

static const char *const pieces[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xc2\x85", "\xef\xbb\xbf",
        "$$", "${X}", "$X", "%%", "%i", "\\;", ";", "\\n", "\"\"", "''", " ;", "\\",
        "\xef\xbf\xbe", "\xef\xb7\x90", "\xf4\x8f\xbf\xbf", "\xf0\x9f\xbf\xbf", "\xef\xb7\xb0",
};

static char *random_string(size_t maxlen) {
        size_t len = rnd() % (maxlen + 1);
        char *s = malloc(len * 4 + 1), *o = s;

        for (size_t i = 0; i < len; i++) {
                uint32_t k = rnd() % 160;
                if (k < 127)
                        *o++ = (char) (k + 1);          /* every ASCII byte but NUL */
                else {
                        const char *p = pieces[k % ELEMENTSOF(pieces)];
                        if ((size_t) (o - s) + strlen(p) > len * 4)
                                break;
                        o = stpcpy(o, p);
                }
        }
        *o = 0;
        return s;
}

/* The writer's rule for the executable, restated independently of its code. */
static bool executable_acceptable(const char *s) {
        if (!utf8_clean(s))
                return false;
        if (!*s || streq(s, ";") || strchr("-@:+!|", s[0]) || s[strlen(s) - 1] == '/')
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || strchr("\"'\\", *p))
                        return false;
        if (s[0] != '/' && (strchr(s, '/') || streq(s, ".") || streq(s, "..")))
                return false;
        return true;
}

TEST(random) {
        unsigned accepted = 0, refused = 0;

        for (unsigned iter = 0; iter < 20000; iter++) {
                const char *argv[6];
                char *owned[6];
                size_t n = 1 + rnd() % 5;
                char *s = NULL, *path = NULL;
                const char *why = NULL;
                size_t idx = 99;
                char **back = NULL;

                for (size_t i = 0; i < n; i++) {
                        owned[i] = random_string(i == 0 ? 12 : 24);
                        if (i == 0 && rnd() % 2) {
                                char *a = NULL;
                                if (asprintf(&a, "/%s", owned[0]) < 0)
                                        abort();
                                free(owned[0]);
                                owned[0] = a;
                        }
                        argv[i] = owned[i];
                }

                int r = ks_unit_escape_exec(argv, n, &s, &idx, &why);
                if (r == 0) {
                        accepted++;
                        EXPECT_TRUE(executable_acceptable(argv[0]));
                        EXPECT_TRUE(!strpbrk(s, "\n\r"));
                        r = parse_exec(s, &path, &back);
                        if (r < 0)
                                fprintf(stderr, "cannot parse back >%s<\n", s);
                        EXPECT_TRUE(r == 0);
                        if (r == 0) {
                                bool same = strv_length(back) == n && streq(path, argv[0]);
                                for (size_t i = 0; same && i < n; i++)
                                        same = streq(back[i], argv[i]);
                                if (!same)
                                        fprintf(stderr, "round trip differs for >%s<\n", s);
                                EXPECT_TRUE(same);
                        }
                        back = strv_free(back);
                        free(path);
                        free(s);
                } else {
                        refused++;
                        EXPECT_TRUE(r == -EINVAL);
                        /* Only the executable may be refused, or an argument holding a
                         * noncharacter: every other UTF-8 argument is representable. */
                        EXPECT_TRUE(idx < n);
                        if (idx == 0)
                                EXPECT_TRUE(!executable_acceptable(argv[0]));
                        else
                                EXPECT_TRUE(!utf8_clean(argv[idx]));
                }

                /* The environment: every UTF-8 value without a noncharacter round-trips. */
                char *e = NULL, *eback = NULL, *want = NULL;
                if (!utf8_clean(argv[n - 1]))
                        EXPECT_TRUE(ks_unit_escape_env("VAR", argv[n - 1], &e, NULL) == -EINVAL);
                else {
                        EXPECT_TRUE(ks_unit_escape_env("VAR", argv[n - 1], &e, NULL) == 0);
                        EXPECT_TRUE(e && !strpbrk(e, "\n\r"));
                        EXPECT_TRUE(e && parse_env(e, &eback) == 0);
                        if (asprintf(&want, "VAR=%s", argv[n - 1]) < 0)
                                abort();
                        EXPECT_TRUE(eback && streq(eback, want));
                }
                free(e);
                free(eback);
                free(want);

                /* Plain values: either refused, or read back exactly. */
                char *v = NULL, *vback = NULL;
                if (ks_unit_escape_value(argv[n - 1], &v, NULL) == 0) {
                        EXPECT_TRUE(parse_value(v, &vback) == 0);
                        EXPECT_TRUE(vback && streq(vback, argv[n - 1]));
                }
                free(v);
                free(vback);

                for (size_t i = 0; i < n; i++)
                        free(owned[i]);
        }
        EXPECT_TRUE(accepted > 1000);
        EXPECT_TRUE(refused > 1000);
}

TEST_MAIN()

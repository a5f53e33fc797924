/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit file text and the escaping rules described in unit-writer.h. Everything that is not
 * provably represented exactly is refused rather than approximated: a generator that silently
 * changed an argument would run a different command than the operator wrote.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env-name.h"
#include "unit-name.h"
#include "unit-writer.h"

void ks_unit_text_done(ks_unit_text *t) {
        free(t->data);
        *t = KS_UNIT_TEXT_INIT;
}

char *ks_unit_text_steal(ks_unit_text *t, size_t *ret_len) {
        char *s = t->data;
        size_t len = t->len;

        if (!s) {
                s = strdup("");
                if (!s)
                        return NULL;
                len = 0;
        }
        *t = KS_UNIT_TEXT_INIT;
        if (ret_len)
                *ret_len = len;
        return s;
}

static int text_reserve(ks_unit_text *t, size_t extra) {
        size_t need = t->len + extra + 1;

        if (need < t->len)
                return -ENOMEM;
        if (need <= t->allocated)
                return 0;

        size_t a = MAX(t->allocated * 2, MAX(need, (size_t) 512));
        char *p = realloc(t->data, a);
        if (!p)
                return -ENOMEM;
        t->data = p;
        t->allocated = a;
        return 0;
}

static int text_append(ks_unit_text *t, const char *s, size_t n) {
        int r = text_reserve(t, n);
        if (r < 0)
                return r;
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = 0;
        return 0;
}

static int text_append_str(ks_unit_text *t, const char *s) {
        return text_append(t, s, strlen(s));
}

static int text_putc(ks_unit_text *t, char c) {
        return text_append(t, &c, 1);
}

/* Appends "KEY=" + value + "\n", refusing lines systemd would not read whole. */
static int text_line(ks_unit_text *t, const char *key, const char *value, size_t value_len,
                     const char **reterr) {
        size_t klen = strlen(key);
        int r;

        if (klen + 1 + value_len + 1 > KS_UNIT_LINE_MAX) {
                if (reterr)
                        *reterr = "is too long for a unit file line (systemd reads at most 1 MiB per line)";
                return -EINVAL;
        }
        r = text_reserve(t, klen + value_len + 2);
        if (r < 0)
                return r;
        (void) text_append(t, key, klen);
        (void) text_putc(t, '=');
        (void) text_append(t, value, value_len);
        return text_putc(t, '\n');
}

int ks_unit_text_section(ks_unit_text *t, const char *name) {
        int r;

        if (t->in_section) {
                r = text_putc(t, '\n');
                if (r < 0)
                        return r;
        }
        t->in_section = true;
        r = text_putc(t, '[');
        if (r < 0)
                return r;
        r = text_append_str(t, name);
        if (r < 0)
                return r;
        return text_append_str(t, "]\n");
}

/* Unicode-aware check on top of plain bytes: C0 controls and DEL are what systemd's
 * string_has_cc() and its line reader care about. */
static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

int ks_unit_text_comment(ks_unit_text *t, const char *text, const char **reterr) {
        const char *p = text;
        int r;

        for (const char *q = text; *q; q++)
                if (is_control((unsigned char) *q) && *q != '\n') {
                        if (reterr)
                                *reterr = "contains a control character, which cannot be written into a comment";
                        return -EINVAL;
                }

        for (;;) {
                size_t n = strcspn(p, "\n");

                r = text_append_str(t, n > 0 ? "# " : "#");
                if (r < 0)
                        return r;
                r = text_append(t, p, n);
                if (r < 0)
                        return r;
                r = text_putc(t, '\n');
                if (r < 0)
                        return r;
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}

int ks_unit_text_add_raw(ks_unit_text *t, const char *key, const char *value) {
        if (strpbrk(value, "\n\r"))
                return -EINVAL;
        return text_line(t, key, value, strlen(value), NULL);
}

int ks_unit_text_add_rawf(ks_unit_text *t, const char *key, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return ks_unit_text_add_raw(t, key, s);
}

bool ks_utf8_is_valid(const char *str, size_t len) {
        const unsigned char *s = (const unsigned char *) str;
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t n;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return false;
                if (len - i - 1 < n)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

/* systemd refuses a whole assignment ("String is not UTF-8 clean") when it holds one of the
 * Unicode noncharacters U+FDD0..U+FDEF or U+xxFFFE/U+xxFFFF, which TOML allows. s must be valid
 * UTF-8. */
static bool has_noncharacter(const char *str) {
        for (const unsigned char *p = (const unsigned char *) str; *p; p++) {
                uint32_t cp;

                if (*p == 0xef && p[1] == 0xb7 && p[2] >= 0x90 && p[2] <= 0xaf)
                        return true;            /* U+FDD0..U+FDEF */
                if ((*p & 0xf0) == 0xe0 && p[1] && p[2])
                        cp = ((uint32_t) (*p & 0x0f) << 12) | ((uint32_t) (p[1] & 0x3f) << 6) | (p[2] & 0x3f);
                else if ((*p & 0xf8) == 0xf0 && p[1] && p[2] && p[3])
                        cp = ((uint32_t) (*p & 0x07) << 18) | ((uint32_t) (p[1] & 0x3f) << 12) |
                                ((uint32_t) (p[2] & 0x3f) << 6) | (p[3] & 0x3f);
                else
                        continue;
                if ((cp & 0xfffe) == 0xfffe)
                        return true;
        }
        return false;
}

#define NONCHARACTER_REASON \
        "contains a Unicode noncharacter (U+FDD0..U+FDEF or one ending in FFFE/FFFF), which systemd refuses in unit files"

/* Checks shared by all values written raw (not quoted): nothing systemd's line reader or its
 * whitespace stripping would change. */
static int check_raw_value(const char *value, const char **reterr) {
        size_t len = strlen(value);

        for (size_t i = 0; i < len; i++) {
                unsigned char c = value[i];

                if (c == '\n' || c == '\r') {
                        if (reterr)
                                *reterr = "contains a line break, which cannot be represented in this unit setting";
                        return -EINVAL;
                }
                if (is_control(c)) {
                        if (reterr)
                                *reterr = "contains a control character, which cannot be represented in this unit setting";
                        return -EINVAL;
                }
        }
        if (!ks_utf8_is_valid(value, len)) {
                if (reterr)
                        *reterr = "is not valid UTF-8";
                return -EINVAL;
        }
        if (has_noncharacter(value)) {
                if (reterr)
                        *reterr = NONCHARACTER_REASON;
                return -EINVAL;
        }
        if (len > 0 && (value[0] == ' ' || value[len - 1] == ' ')) {
                if (reterr)
                        *reterr = "has leading or trailing whitespace, which systemd would strip";
                return -EINVAL;
        }
        if (len > 0 && value[len - 1] == '\\') {
                if (reterr)
                        *reterr = "ends with a backslash, which systemd would read as a line continuation";
                return -EINVAL;
        }
        return 0;
}

/* Appends s with '%' doubled (and '$' doubled when dollar is set). */
static int append_doubling(ks_unit_text *t, const char *s, bool dollar) {
        for (const char *p = s; *p; p++) {
                int r;

                if (*p == '%' || (dollar && *p == '$')) {
                        r = text_putc(t, *p);
                        if (r < 0)
                                return r;
                }
                r = text_putc(t, *p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int escape_value_into(ks_unit_text *out, const char *value, const char **reterr) {
        int r = check_raw_value(value, reterr);
        if (r < 0)
                return r;
        return append_doubling(out, value, false);
}

int ks_unit_escape_value(const char *value, char **ret, const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = escape_value_into(&b, value, reterr);
        if (r < 0) {
                ks_unit_text_done(&b);
                return r;
        }
        char *s = ks_unit_text_steal(&b, NULL);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ks_unit_text_add_value(ks_unit_text *t, const char *key, const char *value, const char **reterr) {
        _cleanup_free_ char *e = NULL;
        int r;

        r = ks_unit_escape_value(value, &e, reterr);
        if (r < 0)
                return r;
        return text_line(t, key, e, strlen(e), reterr);
}

int ks_unit_path_check(const char *path, const char **reterr) {
        int r;

        if (path[0] != '/') {
                if (reterr)
                        *reterr = "is not an absolute path";
                return -EINVAL;
        }
        r = check_raw_value(path, reterr);
        if (r < 0)
                return r;
        if (strlen(path) >= 4096) {
                if (reterr)
                        *reterr = "is too long for a path (4095 bytes at most)";
                return -EINVAL;
        }
        if (path[1] == 0)
                return 0;       /* "/" */

        /* Every component between slashes must be non-empty and neither "." nor "..": what
         * systemd's path_simplify() would rewrite or path_is_normalized() would refuse. */
        for (const char *p = path + 1;;) {
                size_t n = strcspn(p, "/");

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        if (reterr)
                                *reterr = "is not a normalized path (empty, \".\" or \"..\" components, or a trailing slash)";
                        return -EINVAL;
                }
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}

int ks_unit_text_add_path(ks_unit_text *t, const char *key, const char *prefix, const char *path,
                          const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = ks_unit_path_check(path, reterr);
        if (r < 0)
                return r;
        r = text_append_str(&b, prefix ?: "");
        if (r >= 0)
                r = append_doubling(&b, path, false);
        if (r >= 0)
                r = text_line(t, key, b.data, b.len, reterr);
        ks_unit_text_done(&b);
        return r;
}

/* Bytes that may stand in an argument without quotes: nothing systemd's word splitter, its
 * unescaper or its semicolon handling treats specially. '%' and '$' are doubled, not quoted. */
static bool is_bare_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("/_.,:=+@-%$", c);
}

/* One word of a command line or an environment assignment: bare if possible (and allowed),
 * else in double quotes with C escapes. */
static int append_word(ks_unit_text *t, const char *s, bool dollar, bool allow_bare) {
        bool bare = allow_bare && *s;
        int r;

        for (const char *p = s; bare && *p; p++)
                if (!is_bare_char((unsigned char) *p))
                        bare = false;
        if (bare)
                return append_doubling(t, s, dollar);

        r = text_putc(t, '"');
        if (r < 0)
                return r;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                char buf[5];
                const char *e;

                switch (*p) {
                case '\\':
                        e = "\\\\";
                        break;
                case '"':
                        e = "\\\"";
                        break;
                case '\n':
                        e = "\\n";
                        break;
                case '\t':
                        e = "\\t";
                        break;
                case '\r':
                        e = "\\r";
                        break;
                case '%':
                        e = "%%";
                        break;
                case '$':
                        e = dollar ? "$$" : "$";
                        break;
                default:
                        if (is_control(*p)) {
                                snprintf(buf, sizeof buf, "\\x%02x", *p);
                                e = buf;
                        } else {
                                buf[0] = (char) *p;
                                buf[1] = 0;
                                e = buf;
                        }
                }
                r = text_append_str(t, e);
                if (r < 0)
                        return r;
        }
        return text_putc(t, '"');
}

static int check_utf8(const char *s, const char **reterr) {
        if (!ks_utf8_is_valid(s, strlen(s))) {
                if (reterr)
                        *reterr = "is not valid UTF-8";
                return -EINVAL;
        }
        if (has_noncharacter(s)) {
                if (reterr)
                        *reterr = NONCHARACTER_REASON;
                return -EINVAL;
        }
        return 0;
}

static int check_executable(const char *exe, const char **reterr) {
        if (!*exe) {
                if (reterr)
                        *reterr = "is empty; the first element must name the program";
                return -EINVAL;
        }
        if (streq(exe, ";")) {
                if (reterr)
                        *reterr = "is \";\", which systemd reads as a command separator";
                return -EINVAL;
        }
        if (strchr("-@:+!|", exe[0])) {
                if (reterr)
                        *reterr = "starts with one of - @ : + ! |, which systemd would read as an ExecStart= prefix";
                return -EINVAL;
        }
        for (const char *p = exe; *p; p++)
                if (is_control((unsigned char) *p) || strchr("\"'\\", *p)) {
                        if (reterr)
                                *reterr = "contains a quote, a backslash or a control character, which systemd refuses in an executable path";
                        return -EINVAL;
                }
        if (exe[strlen(exe) - 1] == '/') {
                if (reterr)
                        *reterr = "ends with a slash (a directory, not a program)";
                return -EINVAL;
        }
        if (strlen(exe) >= 4096) {
                if (reterr)
                        *reterr = "is too long for a path (4095 bytes at most)";
                return -EINVAL;
        }
        if (exe[0] != '/' && (strchr(exe, '/') || streq(exe, ".") || streq(exe, ".."))) {
                if (reterr)
                        *reterr = "is neither an absolute path nor a plain program name";
                return -EINVAL;
        }
        if (exe[0] != '/' && strlen(exe) > 255) {
                if (reterr)
                        *reterr = "is too long for a program name (255 bytes at most)";
                return -EINVAL;
        }
        return check_utf8(exe, reterr);
}

static int escape_exec_into(ks_unit_text *t, const char *const *argv, size_t n,
                            size_t *reterr_index, const char **reterr) {
        int r;

        if (n == 0) {
                if (reterr_index)
                        *reterr_index = 0;
                if (reterr)
                        *reterr = "is an empty command line";
                return -EINVAL;
        }

        r = check_executable(argv[0], reterr);
        for (size_t i = 1; r >= 0 && i < n; i++) {
                r = check_utf8(argv[i], reterr);
                if (r < 0) {
                        if (reterr_index)
                                *reterr_index = i;
                        return r;
                }
        }
        if (r < 0) {
                if (reterr_index)
                        *reterr_index = 0;
                return r;
        }

        if (strchr(argv[0], '$')) {
                /* systemd runs the path as written but expands variables in argv[0], its copy:
                 * give argv[0] separately, escaped for expansion. */
                r = text_putc(t, '@');
                if (r >= 0)
                        r = append_word(t, argv[0], false, true);
                if (r >= 0)
                        r = text_putc(t, ' ');
                if (r >= 0)
                        r = append_word(t, argv[0], true, true);
        } else
                r = append_word(t, argv[0], false, true);
        for (size_t i = 1; r >= 0 && i < n; i++) {
                r = text_putc(t, ' ');
                if (r >= 0)
                        r = append_word(t, argv[i], true, true);
        }
        return r;
}

int ks_unit_escape_exec(const char *const *argv, size_t n, char **ret, size_t *reterr_index,
                        const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = escape_exec_into(&b, argv, n, reterr_index, reterr);
        if (r < 0) {
                ks_unit_text_done(&b);
                return r;
        }
        char *s = ks_unit_text_steal(&b, NULL);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ks_unit_text_add_exec(ks_unit_text *t, const char *key, const char *const *argv, size_t n,
                          size_t *reterr_index, const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = escape_exec_into(&b, argv, n, reterr_index, reterr);
        if (r >= 0) {
                r = text_line(t, key, b.data, b.len, reterr);
                if (r == -EINVAL && reterr_index)
                        *reterr_index = 0;
        }
        ks_unit_text_done(&b);
        return r;
}

static int escape_env_into(ks_unit_text *t, const char *name, const char *value, const char **reterr) {
        _cleanup_free_ char *a = NULL;
        int r;

        if (!env_name_is_valid(name)) {
                if (reterr)
                        *reterr = "is not a valid environment variable name (letters, digits and '_', not starting with a digit)";
                return -EINVAL;
        }
        r = check_utf8(value, reterr);
        if (r < 0)
                return r;
        if (asprintf(&a, "%s=%s", name, value) < 0)
                return -ENOMEM;
        return append_word(t, a, false, false);
}

int ks_unit_escape_env(const char *name, const char *value, char **ret, const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = escape_env_into(&b, name, value, reterr);
        if (r < 0) {
                ks_unit_text_done(&b);
                return r;
        }
        char *s = ks_unit_text_steal(&b, NULL);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ks_unit_text_add_env(ks_unit_text *t, const char *name, const char *value, const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r;

        r = escape_env_into(&b, name, value, reterr);
        if (r >= 0)
                r = text_line(t, "Environment", b.data, b.len, reterr);
        ks_unit_text_done(&b);
        return r;
}

int ks_unit_text_add_unit_list(ks_unit_text *t, const char *key, const char *const *units, size_t n,
                               const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r = 0;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                /* The model checks names too; this is the last line of defence against writing
                 * a list systemd would split differently. A template cannot be a dependency. */
                if (!unit_name_is_valid(units[i], KS_UNIT_NAME_PLAIN | KS_UNIT_NAME_INSTANCE)) {
                        if (reterr)
                                *reterr = "is not a valid unit name";
                        ks_unit_text_done(&b);
                        return -EINVAL;
                }
                if (i > 0)
                        r = text_putc(&b, ' ');
                if (r >= 0)
                        r = text_append_str(&b, units[i]);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = text_line(t, key, b.data, b.len, reterr);
        ks_unit_text_done(&b);
        return r;
}

int ks_unit_text_add_path_list(ks_unit_text *t, const char *key, const char *const *paths, size_t n,
                               const char **reterr) {
        ks_unit_text b = KS_UNIT_TEXT_INIT;
        int r = 0;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = ks_unit_path_check(paths[i], reterr);
                if (r < 0)
                        break;
                if (i > 0)
                        r = text_putc(&b, ' ');
                /* Paths hold no control characters (checked), so the quoted form only ever
                 * uses \\ and \", which mean the same with or without C unescaping. */
                if (r >= 0)
                        r = append_word(&b, paths[i], false, true);
        }
        if (r >= 0)
                r = text_line(t, key, b.data, b.len, reterr);
        ks_unit_text_done(&b);
        return r;
}

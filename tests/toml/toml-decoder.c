/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * toml-test decoder (test only): reads TOML on stdin, prints the tagged JSON of toml-test's
 * interface on stdout. Invalid TOML: the error on stderr as "<stdin>:LINE:COL: message", exit 1.
 */
#include <inttypes.h>
#include <math.h>

#include "toml.h"

static void print_string(FILE *f, const char *s, size_t len) {
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = s[i];
                switch (c) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\t': fputs("\\t", f); break;
                case '\r': fputs("\\r", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        if (c < 0x20 || c == 0x7F)
                                fprintf(f, "\\u%04x", c);
                        else
                                fputc(c, f);
                }
        }
        fputc('"', f);
}

static void print_datetime(FILE *f, const ks_toml_value *v) {
        const ks_toml_datetime *d = &v->datetime;

        fputs("\"", f);
        if (v->type != KS_TOML_TIME_LOCAL)
                fprintf(f, "%04d-%02d-%02d", d->year, d->month, d->day);
        if (v->type == KS_TOML_DATE_LOCAL) {
                fputs("\"", f);
                return;
        }
        if (v->type != KS_TOML_TIME_LOCAL)
                fputc('T', f);
        fprintf(f, "%02d:%02d:%02d", d->hour, d->minute, d->second);
        if (d->nanosecond) {
                char frac[16];
                int n = snprintf(frac, sizeof frac, "%09" PRIu32, d->nanosecond);
                while (n > 1 && frac[n - 1] == '0')
                        frac[--n] = 0;
                fprintf(f, ".%s", frac);
        }
        if (v->type == KS_TOML_DATETIME) {
                int o = d->offset_minutes;
                if (o == 0)
                        fputc('Z', f);
                else
                        fprintf(f, "%c%02d:%02d", o < 0 ? '-' : '+', abs(o) / 60, abs(o) % 60);
        }
        fputs("\"", f);
}

static void print_value(FILE *f, const ks_toml_value *v) {
        static const char *const tags[_KS_TOML_TYPE_MAX] = {
                [KS_TOML_STRING] = "string",
                [KS_TOML_INTEGER] = "integer",
                [KS_TOML_FLOAT] = "float",
                [KS_TOML_BOOL] = "bool",
                [KS_TOML_DATETIME] = "datetime",
                [KS_TOML_DATETIME_LOCAL] = "datetime-local",
                [KS_TOML_DATE_LOCAL] = "date-local",
                [KS_TOML_TIME_LOCAL] = "time-local",
        };

        switch (v->type) {
        case KS_TOML_TABLE:
                fputc('{', f);
                for (size_t i = 0; i < v->table.n; i++) {
                        if (i)
                                fputc(',', f);
                        print_string(f, v->table.items[i].key, v->table.items[i].key_len);
                        fputc(':', f);
                        print_value(f, v->table.items[i].value);
                }
                fputc('}', f);
                return;
        case KS_TOML_ARRAY:
                fputc('[', f);
                for (size_t i = 0; i < v->array.n; i++) {
                        if (i)
                                fputc(',', f);
                        print_value(f, v->array.items[i]);
                }
                fputc(']', f);
                return;
        default:
                break;
        }
        fprintf(f, "{\"type\":\"%s\",\"value\":", tags[v->type]);
        switch (v->type) {
        case KS_TOML_STRING:
                print_string(f, v->string.str, v->string.len);
                break;
        case KS_TOML_INTEGER:
                fprintf(f, "\"%" PRId64 "\"", v->integer);
                break;
        case KS_TOML_FLOAT:
                if (isnan(v->fp))
                        fputs("\"nan\"", f);
                else if (isinf(v->fp))
                        fputs(v->fp < 0 ? "\"-inf\"" : "\"inf\"", f);
                else
                        fprintf(f, "\"%.17g\"", v->fp);
                break;
        case KS_TOML_BOOL:
                fputs(v->boolean ? "\"true\"" : "\"false\"", f);
                break;
        default:
                print_datetime(f, v);
        }
        fputc('}', f);
}

int main(int argc, char *argv[]) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        ks_toml_error err = {};
        int r;

        for (;;) {
                size_t n;
                if (len == cap) {
                        char *nb;
                        cap = cap ? cap * 2 : 65536;
                        nb = realloc(buf, cap);
                        if (!nb)
                                return 2;
                        buf = nb;
                }
                n = fread(buf + len, 1, cap - len, stdin);
                if (n == 0)
                        break;
                len += n;
        }
        if (ferror(stdin)) {
                fprintf(stderr, "Failed to read stdin\n");
                return 2;
        }
        r = ks_toml_parse(buf, len, &doc, &err);
        if (r < 0) {
                fprintf(stderr, "<stdin>:%u:%u: %s\n", err.line, err.column, err.message);
                return 1;
        }
        print_value(stdout, ks_toml_root(doc));
        fputc('\n', stdout);
        return fflush(stdout) == 0 ? 0 : 2;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Diagnostics list and the "did you mean" suggestion, see diag.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "escape.h"

int ks_diag_addv(ks_diag_list *l, const char *file, unsigned line, unsigned column, const char *fmt,
                 va_list ap) {
        _cleanup_free_ char *raw = NULL, *message = NULL, *text = NULL, *f = NULL;

        if (vasprintf(&raw, fmt, ap) < 0) {
                raw = NULL;
                return -ENOMEM;
        }
        /* Messages quote keys and values from the input, which may hold any character. Escaping
         * control characters keeps every diagnostic on one line, so a crafted definition cannot
         * forge log lines (or terminal escapes) when the caller logs it. */
        message = escape_controls(raw, KS_ESCAPE_SHORT);
        if (!message)
                return -ENOMEM;
        if (file) {
                f = strdup(file);
                if (!f)
                        return -ENOMEM;
        }

        _cleanup_free_ char *efile = file ? escape_controls(file, KS_ESCAPE_SHORT) : NULL;
        if (file && !efile)
                return -ENOMEM;

        int k;
        if (file && line > 0)
                k = asprintf(&text, "%s:%u:%u: %s", efile, line, column, message);
        else if (file)
                k = asprintf(&text, "%s: %s", efile, message);
        else
                k = asprintf(&text, "%s", message);
        if (k < 0) {
                text = NULL;
                return -ENOMEM;
        }

        if (l->n >= l->allocated) {
                size_t a = MAX(l->allocated * 2, (size_t) 8);
                ks_diag *items = reallocarray(l->items, a, sizeof(ks_diag));
                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->allocated = a;
        }
        l->items[l->n++] = (ks_diag) {
                .file = TAKE_PTR(f),
                .line = line,
                .column = column,
                .message = TAKE_PTR(message),
                .text = TAKE_PTR(text),
        };
        return 0;
}

int ks_diag_add(ks_diag_list *l, const char *file, unsigned line, unsigned column, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = ks_diag_addv(l, file, line, column, fmt, ap);
        va_end(ap);
        return r;
}

void ks_diag_list_clear(ks_diag_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].file);
                free(l->items[i].message);
                free(l->items[i].text);
        }
        free(l->items);
        *l = (ks_diag_list) {};
}

size_t ks_edit_distance(const char *a, const char *b) {
        size_t n = strlen(a), m = strlen(b);

        /* Keys are short; anything long is not a typo of a key, and bounding the size keeps the
         * three rows on the stack. */
        if (n > 64 || m > 64)
                return n > m ? n : m;

        size_t prev2[65], prev[65], cur[65];
        for (size_t j = 0; j <= m; j++)
                prev[j] = j;
        for (size_t i = 1; i <= n; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= m; j++) {
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        size_t d = MIN(prev[j] + 1, cur[j - 1] + 1);
                        d = MIN(d, prev[j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                d = MIN(d, prev2[j - 2] + 1);
                        cur[j] = d;
                }
                memcpy(prev2, prev, sizeof(size_t) * (m + 1));
                memcpy(prev, cur, sizeof(size_t) * (m + 1));
        }
        return prev[m];
}

const char *ks_closest_word(const char *word, const char *const *candidates, size_t n) {
        size_t len = strlen(word), limit = len <= 4 ? 1 : MAX(len / 3, (size_t) 2);
        const char *best = NULL;
        size_t best_d = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                size_t d = ks_edit_distance(word, candidates[i]);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        return best_d > 0 && best_d <= limit ? best : NULL;
}

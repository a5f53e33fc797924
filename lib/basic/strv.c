/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String vectors (see strv.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(p, l)
                free(*p);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **a = reallocarray(*l, n + 2, sizeof(char *));

        if (!a)
                return -ENOMEM;
        a[n] = s;
        a[n + 1] = NULL;
        *l = a;
        return 0;
}

int strv_consume(char ***l, char *s) {
        int r = strv_push(l, s);

        if (r < 0)
                free(s);
        return r;
}

int strv_extend(char ***l, const char *s) {
        char *c = strdup(s);

        if (!c)
                return -ENOMEM;
        return strv_consume(l, c);
}

int strv_copy(char *const *l, char ***ret) {
        _cleanup_strv_free_ char **c = NULL;
        size_t n = strv_length(l);

        if (n > 0) {
                c = calloc(n + 1, sizeof(char *));
                if (!c)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        c[i] = strdup(l[i]);
                        if (!c[i])
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

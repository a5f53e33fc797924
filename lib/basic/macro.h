/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers every kservice module uses: cleanup attributes, ownership hand-off,
 * array sizes. Modelled on the idioms of systemd's macro-fundamental.h.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hands ownership of *p out and leaves NULL behind, so a cleanup attribute does not free it. */
#define TAKE_PTR(p)                                \
        ({                                         \
                __typeof__(p) *_pp_ = &(p);        \
                __typeof__(p) _taken_ = *_pp_;     \
                *_pp_ = NULL;                      \
                _taken_;                           \
        })

#define TAKE_FD(fd)                                \
        ({                                         \
                int *_pfd_ = &(fd);                \
                int _taken_ = *_pfd_;              \
                *_pfd_ = -EBADF;                   \
                _taken_;                           \
        })

/* Defines fooh(type **p) calling func(*p) for use with _cleanup_(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)    \
        static inline void func##p(type *p) {      \
                if (*p)                            \
                        func(*p);                  \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Closes fd if it is open; returns -EBADF to assign back: fd = safe_close(fd). */
static inline int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline int streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline int strcaseeq(const char *a, const char *b) {
        return strcasecmp(a, b) == 0;
}

/* The value of one hex digit, or -1. */
static inline int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
